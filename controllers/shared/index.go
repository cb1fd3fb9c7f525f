package shared

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// Field indexes in the manager's cache.
const (
	// IndexPaymentRef indexes Captures, Refunds and CustomsDeclarations by spec.paymentRef.name.
	IndexPaymentRef = "spec.paymentRef.name"
	// IndexPaymentID indexes Payments by status.paymentId (the receiver
	// resolves dashboard-routed notifications with it).
	IndexPaymentID = "status.paymentId"
	// IndexDisputeRef indexes DisputeResponses by spec.disputeRef.name.
	IndexDisputeRef = "spec.disputeRef.name"
)

// RegisterIndexes adds the field indexes the controllers list by.
func RegisterIndexes(ctx context.Context, mgr ctrl.Manager) error {
	idx := mgr.GetFieldIndexer()
	ref := func(o client.Object) []string {
		if op, ok := o.(v1.PaymentOperation); ok {
			return []string{op.GetPaymentRef()}
		}
		return nil
	}
	for _, obj := range []client.Object{&v1.Capture{}, &v1.Refund{}, &v1.CustomsDeclaration{}} {
		if err := idx.IndexField(ctx, obj, IndexPaymentRef, ref); err != nil {
			return fmt.Errorf("index %T by payment: %w", obj, err)
		}
	}
	if err := idx.IndexField(ctx, &v1.DisputeResponse{}, IndexDisputeRef, func(obj client.Object) []string {
		return []string{obj.(*v1.DisputeResponse).Spec.DisputeRef.Name}
	}); err != nil {
		return fmt.Errorf("index DisputeResponses by dispute: %w", err)
	}
	return idx.IndexField(ctx, &v1.Payment{}, IndexPaymentID, func(o client.Object) []string {
		if id := o.(*v1.Payment).Status.PaymentID; id != "" {
			return []string{id}
		}
		return nil
	})
}
