package receiver

import (
	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/fieldindex"
	"github.com/cashier-operator/cashier-operator/internal/ids"
)

// paymentRequestIDs are the paymentRequestIds p is known by under scope:
// the recorded one and the one it is (or will be) paid with; none for an
// imported (Observe) payment, whose id is not ours.
func paymentRequestIDs(p *v1.Payment, scope string) []string {
	return fieldindex.Uniq(p.Status.PaymentRequestID, ids.Payment(p, scope))
}

// matchesPayment reports whether p is the payment with the given gateway
// paymentId or paymentRequestId under scope: what the default route checks
// of every candidate its selectors or its full list found.
func matchesPayment(p *v1.Payment, scope, paymentID, paymentRequestID string) bool {
	if paymentID != "" {
		for _, v := range fieldindex.PaymentIDValues(p) {
			if v == paymentID {
				return true
			}
		}
	}
	if paymentRequestID != "" {
		for _, v := range paymentRequestIDs(p, scope) {
			if v == paymentRequestID {
				return true
			}
		}
	}
	return false
}
