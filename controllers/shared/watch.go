package shared

import (
	"context"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// ToOwningPayment maps a Capture, Refund or CustomsDeclaration to the
// Payment it names.
var ToOwningPayment = handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
	op, ok := o.(v1.PaymentOperation)
	if !ok {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: op.GetPaymentRef()}}}
})

// PhaseChanged passes only the updates that change an object's phase.
var PhaseChanged = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc:  func(e event.UpdateEvent) bool { return PhaseOf(e.ObjectOld) != PhaseOf(e.ObjectNew) },
}

// PhaseOf is the object's phase; "" for an object without one.
func PhaseOf(o client.Object) string {
	if p, ok := o.(v1.Phased); ok {
		return p.GetPhase()
	}
	return ""
}

// ToApproved maps an Approval to the object of kind it names (for Cancel:
// the Payment).
func ToApproved(kind v1.MoneyKind) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		a, ok := o.(*v1.Approval)
		if !ok || a.Spec.TargetRef.Kind != kind {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: a.Namespace, Name: a.Spec.TargetRef.Name}}}
	})
}
