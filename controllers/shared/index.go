package shared

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/fieldindex"
)

// Field indexes in the manager's cache (defined in internal/fieldindex,
// which the notification-receiver registers from too).
const (
	// IndexPaymentRef indexes Captures, Refunds and CustomsDeclarations by spec.paymentRef.name.
	IndexPaymentRef = fieldindex.PaymentRef
	// IndexDisputeRef indexes DisputeResponses by spec.disputeRef.name.
	IndexDisputeRef = fieldindex.DisputeRef
	// IndexMerchantRef indexes Payments by spec.merchantRef.name.
	IndexMerchantRef = fieldindex.MerchantRef
)

// RegisterIndexes adds the field indexes the controllers list by. (Payments
// by gateway paymentId are the receiver's index: the manager never lists by
// it, so its cache does not keep it.)
func RegisterIndexes(ctx context.Context, mgr ctrl.Manager) error {
	idx := mgr.GetFieldIndexer()
	for _, obj := range []client.Object{&v1.Capture{}, &v1.Refund{}, &v1.CustomsDeclaration{}} {
		if err := idx.IndexField(ctx, obj, IndexPaymentRef, fieldindex.PaymentRefValues); err != nil {
			return fmt.Errorf("index %T by payment: %w", obj, err)
		}
	}
	if err := idx.IndexField(ctx, &v1.DisputeResponse{}, IndexDisputeRef, fieldindex.DisputeRefValues); err != nil {
		return fmt.Errorf("index DisputeResponses by dispute: %w", err)
	}
	if err := idx.IndexField(ctx, &v1.Payment{}, IndexMerchantRef, fieldindex.MerchantRefValues); err != nil {
		return fmt.Errorf("index Payments by merchant registration: %w", err)
	}
	return nil
}
