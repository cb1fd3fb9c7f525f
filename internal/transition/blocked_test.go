package transition

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// TestSetPaymentBlocked: a held cancel shows Blocked on a paid or
// processing payment, and the condition goes once nothing holds it or the
// payment is cancelled.
func TestSetPaymentBlocked(t *testing.T) {
	for _, tc := range []struct {
		name    string
		phase   v1.PaymentPhase
		blocked bool
		want    bool
	}{
		{"paid, held", v1.PaymentSucceeded, true, true},
		{"processing, held", v1.PaymentProcessing, true, true},
		{"paid, released", v1.PaymentSucceeded, false, false},
		{"cancelled", v1.PaymentCancelled, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &v1.Payment{}
			p.Status.Phase = tc.phase
			SetPaymentBlocked(p, true, v1.ReasonApprovalRequired, "before")
			SetPaymentBlocked(p, tc.blocked, v1.ReasonApprovalRequired, "cancel: waiting")
			c := meta.FindStatusCondition(p.Status.Conditions, v1.ConditionBlocked)
			if (c != nil) != tc.want || (c != nil && c.Message != "cancel: waiting") {
				t.Fatalf("Blocked %+v, want present=%v", c, tc.want)
			}
		})
	}
}
