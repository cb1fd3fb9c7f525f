package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// newTable is a tabwriter laid out like kubectl's tables.
func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// age is how long ago t was, as kubectl prints it ("5m", "3d"); "-" for none.
func age(now time.Time, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return duration.HumanDuration(now.Sub(t))
}

// stamp prints a time in UTC, or "-".
func stamp(t *metav1.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func showMoney(m *v1.Money) string {
	if m == nil || m.Value == "" {
		return "-"
	}
	return m.String()
}

func total(t *v1.Total) string {
	if t == nil || t.Value == "" {
		return "-"
	}
	return t.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// troubled returns the conditions that are not fine, in the order the object
// lists them: Ready or Synced not True, Stalled or Blocked True. Reconciling
// only says work is under way and is never trouble by itself.
func troubled(conds []metav1.Condition) []metav1.Condition {
	var out []metav1.Condition
	for _, c := range conds {
		switch c.Type {
		case v1.ConditionReady, v1.ConditionSynced:
			if c.Status != metav1.ConditionTrue {
				out = append(out, c)
			}
		case v1.ConditionStalled, v1.ConditionBlocked:
			if c.Status == metav1.ConditionTrue {
				out = append(out, c)
			}
		}
	}
	return out
}

// conditionLine is "Type=Status Reason: message", card numbers masked.
func conditionLine(c metav1.Condition) string {
	s := fmt.Sprintf("%s=%s %s", c.Type, c.Status, c.Reason)
	if c.Message != "" {
		s += ": " + gateway.RedactText(oneLine(c.Message))
	}
	return s
}

// oneLine folds a message onto one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// eventTime is when an event last happened, whichever API wrote it.
func eventTime(e corev1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.FirstTimestamp.IsZero():
		return e.FirstTimestamp.Time
	}
	return e.CreationTimestamp.Time
}
