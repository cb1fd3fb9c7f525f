package transition

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
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

// TestAutoCaptured: only a successful answer moves the payment on.
func TestAutoCaptured(t *testing.T) {
	amt := &gateway.Amount{Currency: "HKD", Value: "1000"}
	ok := &gateway.Result{ResultStatus: gateway.StatusSuccess, ResultCode: "SUCCESS"}
	fail := &gateway.Result{ResultStatus: gateway.StatusFail, ResultCode: "AUTH_EXPIRED"}
	for _, tc := range []struct {
		name   string
		result *gateway.Result
		want   PaymentFacts
	}{
		{"success", ok, PaymentFacts{Source: SourceNotification, PaymentID: "2026", GatewayStatus: gateway.PaymentStatusSuccess, Captured: amt, Result: ok}},
		{"failure says nothing of the payment", fail, PaymentFacts{Source: SourceNotification, PaymentID: "2026"}},
		{"no result", nil, PaymentFacts{Source: SourceNotification, PaymentID: "2026"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := AutoCaptured(SourceNotification, "2026", tc.result, amt); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
