package events

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kevents "k8s.io/client-go/tools/events"

	"github.com/cashier-operator/cashier-operator/internal/transition"
)

func TestTransitionNoteAndType(t *testing.T) {
	for _, tc := range []struct {
		name          string
		kind, via     string
		ch            transition.Change
		wantNote, typ string
	}{
		{"first phase", "Payment", "", transition.Change{To: "Pending"}, "Payment new → Pending", corev1.EventTypeNormal},
		{"success", "Refund", "", transition.Change{From: "Processing", To: "Succeeded"}, "Refund Processing → Succeeded", corev1.EventTypeNormal},
		{"failed by a notification", "Capture", "notifyCapture", transition.Change{From: "Pending", To: "Failed"},
			"Capture Pending → Failed (notifyCapture)", corev1.EventTypeWarning},
		{"expired", "Payment", "", transition.Change{From: "Pending", To: "Expired"}, "Payment Pending → Expired", corev1.EventTypeWarning},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := TransitionNote(tc.kind, tc.ch, tc.via); got != tc.wantNote {
				t.Errorf("TransitionNote = %q, want %q", got, tc.wantNote)
			}
			if got := TransitionType(tc.ch.To); got != tc.typ {
				t.Errorf("TransitionType(%q) = %q, want %q", tc.ch.To, got, tc.typ)
			}
		})
	}
}

func TestTransitionRecords(t *testing.T) {
	obj := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}}
	for _, tc := range []struct {
		name string
		ch   transition.Change
		want []string
	}{
		{"no move, no event", transition.Change{Changed: true, From: "Pending", To: "Pending"}, nil},
		{"a move", transition.Change{From: "Pending", To: "Failed"}, []string{"Warning Failed Payment Pending → Failed (notifyPayment)"}},
		{"a move into flight: no event", transition.Change{From: "Pending", To: "Processing"}, nil},
		{"created Pending: no event", transition.Change{To: "Pending"}, nil},
		{"authorized: an event", transition.Change{From: "Processing", To: "Authorized"}, []string{"Normal Authorized Payment Processing → Authorized (notifyPayment)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := kevents.NewFakeRecorder(4)
			Transition(rec, obj, "Notification", "Payment", tc.ch, "notifyPayment")
			close(rec.Events)
			var got []string
			for e := range rec.Events {
				got = append(got, e)
			}
			if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
				t.Errorf("events = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEmitNilRecorder(t *testing.T) {
	Emit(nil, &corev1.ConfigMap{}, corev1.EventTypeNormal, "R", "A", "note %d", 1) // must not panic
}
