package events

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kevents "k8s.io/client-go/tools/events"

	"github.com/cashier-operator/cashier-operator/internal/transition"
)

func TestParseMode(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Mode
		wantErr bool
	}{
		{"", All, false},
		{"all", All, false},
		{"warnings", Warnings, false},
		{"Warnings", "", true},
		{"none", "", true},
	} {
		got, err := ParseMode(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestFilter: in Warnings mode a success records nothing and a failure
// still records its Warning; All records both.
func TestFilter(t *testing.T) {
	obj := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}}
	moves := []transition.Change{{From: "Processing", To: "Succeeded"}, {From: "Pending", To: "Failed"}}
	for _, tc := range []struct {
		mode Mode
		want []string
	}{
		{All, []string{"Normal Succeeded Payment Processing → Succeeded", "Warning Failed Payment Pending → Failed"}},
		{Warnings, []string{"Warning Failed Payment Pending → Failed"}},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			fake := kevents.NewFakeRecorder(4)
			rec := Filter(fake, tc.mode)
			for _, ch := range moves {
				Transition(rec, obj, "Reconcile", "Payment", ch, "")
			}
			close(fake.Events)
			var got []string
			for e := range fake.Events {
				got = append(got, e)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("events = %q, want %q", got, tc.want)
			}
		})
	}
	if Filter(nil, Warnings) != nil {
		t.Error("Filter(nil) should stay nil (Emit records nothing)")
	}
}
