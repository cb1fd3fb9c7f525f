package transition

import (
	"testing"
	"time"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// A bad amount is an error, never "nothing captured" or "zero": the
// payment's status does not move on it.
func TestBadAmountsAreErrors(t *testing.T) {
	auth := func() *v1.Payment {
		return &v1.Payment{Spec: v1.PaymentSpec{Amount: v1.Money{Currency: "HKD", Value: "10.00"}, Authorization: true},
			Status: v1.PaymentStatus{Phase: v1.PaymentAuthorized, PaymentID: "P1"}}
	}
	for _, tc := range []struct {
		name string
		p    func() *v1.Payment
		f    PaymentFacts
	}{
		{name: "captured total the gateway sends is not an amount", p: auth,
			f: PaymentFacts{Source: SourceInquiry, PaymentID: "P1", GatewayStatus: gateway.PaymentStatusSuccess,
				Captured: &gateway.Amount{Currency: "HKD", Value: "1x0"}}},
		{name: "the status's captured total does not parse when the authorization lapses", p: func() *v1.Payment {
			p := auth()
			p.Status.Amounts.Captured = &v1.Money{Currency: "HKD", Value: "1.001"}
			return p
		}, f: PaymentFacts{Source: SourceInquiry, PaymentID: "P1", AuthLapsed: true}},
		{name: "the spec's amount does not parse", p: func() *v1.Payment {
			p := auth()
			p.Spec.Amount.Value = "10.001"
			return p
		}, f: PaymentFacts{Source: SourceInquiry, PaymentID: "P1", GatewayStatus: gateway.PaymentStatusSuccess,
			Captured: &gateway.Amount{Currency: "HKD", Value: "1000"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p()
			ch, err := ApplyPayment(p, tc.f, time.Now())
			if err == nil {
				t.Fatalf("no error; the payment moved to %s", p.Status.Phase)
			}
			if p.Status.Phase != v1.PaymentAuthorized || ch.To != string(v1.PaymentAuthorized) {
				t.Fatalf("phase %s (change %+v) after a bad amount", p.Status.Phase, ch)
			}
		})
	}
}
