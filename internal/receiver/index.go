package receiver

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/fieldindex"
	"github.com/cashier-operator/cashier-operator/internal/ids"
)

// Field indexes the receiver needs in the manager cache.
const (
	// IndexPaymentID indexes Payments by gateway paymentId: status.paymentId
	// and, for managementPolicy Observe, spec.paymentId.
	IndexPaymentID = fieldindex.PaymentID
	// IndexPaymentRequestID indexes Payments by the paymentRequestId they
	// are paid with: the recorded one, spec.paymentRequestId, or the one
	// derived from the manifest under the default identity scope, so a
	// payment is found before the controller wrote any status (a payment of
	// a scoped GatewayConfig is found by the uncached fallback until then).
	IndexPaymentRequestID = "paymentRequestId"
	// IndexCapturePayment indexes Captures by spec.paymentRef.name.
	IndexCapturePayment = fieldindex.PaymentRef
	// IndexRefundRequestID indexes Refunds by their recorded
	// refundRequestId and the one derived from the manifest under the
	// default identity scope (notifyRefund carries no paymentId).
	IndexRefundRequestID = "refundRequestId"
)

// SetupIndexes registers the receiver's field indexes; call it before the
// manager (cache) starts.
func SetupIndexes(ctx context.Context, indexer client.FieldIndexer) error {
	for _, ix := range []struct {
		obj   client.Object
		field string
		fn    client.IndexerFunc
	}{
		{&v1.Payment{}, IndexPaymentID, fieldindex.PaymentIDValues},
		{&v1.Payment{}, IndexPaymentRequestID, paymentRequestIDValues},
		{&v1.Capture{}, IndexCapturePayment, fieldindex.PaymentRefValues},
		{&v1.Refund{}, IndexRefundRequestID, func(o client.Object) []string {
			r, ok := o.(*v1.Refund)
			if !ok {
				return nil
			}
			// The index cannot read the GatewayConfig's identity scope:
			// it holds the recorded id and the id under the default scope;
			// findRefunds checks candidates under their real scope.
			return fieldindex.Uniq(r.Status.RequestID, ids.Refund(r, ""))
		}},
	} {
		if err := indexer.IndexField(ctx, ix.obj, ix.field, ix.fn); err != nil {
			return fmt.Errorf("index %T by %s: %w", ix.obj, ix.field, err)
		}
	}
	return nil
}

func paymentRequestIDValues(o client.Object) []string {
	p, ok := o.(*v1.Payment)
	if !ok {
		return nil
	}
	return paymentRequestIDs(p, "")
}

// paymentRequestIDs are the paymentRequestIds p is known by under scope:
// the recorded one and the one it is (or will be) paid with; none for an
// imported (Observe) payment, whose id is not ours.
func paymentRequestIDs(p *v1.Payment, scope string) []string {
	return fieldindex.Uniq(p.Status.PaymentRequestID, ids.Payment(p, scope))
}

// matchesPayment reports whether p is the payment with the given gateway
// paymentId or paymentRequestId under scope (the uncached fallback of the
// indexes).
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
