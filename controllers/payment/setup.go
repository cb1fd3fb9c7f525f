package payment

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/engine"
)

// Setup registers the Payment controller: the payment adapter on the
// engine, woken by its operations' phase changes.
func Setup(_ context.Context, w shared.Wiring) error {
	payments := engine.New[*v1.Payment](w.Mgr.GetClient(), paymentKind{deps: w.Deps}, w.Recorder, w.Engine)
	// A Payment reacts to its spec, its deletion and its annotations — not
	// to its own status writes (the receiver's or its own), which would
	// cost a needless inquiry each time.
	specOrDeletion := predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{},
		predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
			return !e.ObjectOld.GetDeletionTimestamp().Equal(e.ObjectNew.GetDeletionTimestamp())
		}})
	if err := ctrl.NewControllerManagedBy(w.Mgr).For(&v1.Payment{}, builder.WithPredicates(specOrDeletion)).Named("payment").
		Watches(&v1.Capture{}, shared.ToOwningPayment, builder.WithPredicates(shared.PhaseChanged)).
		Watches(&v1.Refund{}, shared.ToOwningPayment, builder.WithPredicates(shared.PhaseChanged)).
		Watches(&v1.CustomsDeclaration{}, shared.ToOwningPayment, builder.WithPredicates(shared.PhaseChanged)).
		Watches(&v1.Approval{}, shared.ToApproved(v1.MoneyKindCancel)).
		Watches(&v1.MerchantRegistration{}, toMerchantPayments(w.Mgr.GetClient()), builder.WithPredicates(registrationMoved)).
		Watches(&v1.MoneyPolicy{}, toCancelling(w.Mgr.GetClient()), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: w.Workers("Payment"), RateLimiter: payments.RateLimiter()}).
		Complete(payments); err != nil {
		return fmt.Errorf("payment controller: %w", err)
	}
	return nil
}

// toCancelling maps a MoneyPolicy to the payments of its namespace whose
// cancel it may hold: a changed policy decides them again at once.
func toCancelling(cache client.Reader) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, mp client.Object) []reconcile.Request {
		var list v1.PaymentList
		if err := cache.List(ctx, &list, client.InNamespace(mp.GetNamespace())); err != nil {
			return nil
		}
		var reqs []reconcile.Request
		for i := range list.Items {
			if p := &list.Items[i]; cancelMayRefund(p) {
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(p)})
			}
		}
		return reqs
	})
}

// toMerchantPayments maps a MerchantRegistration to the payments naming it
// that never paid: its review decides whether they may pay.
func toMerchantPayments(cache client.Reader) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, m client.Object) []reconcile.Request {
		var list v1.PaymentList
		if err := cache.List(ctx, &list, client.InNamespace(m.GetNamespace()), client.MatchingFields{shared.IndexMerchantRef: m.GetName()}); err != nil {
			return nil
		}
		var reqs []reconcile.Request
		for i := range list.Items {
			if p := &list.Items[i]; !paymentSubmitted(p) {
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(p)})
			}
		}
		return reqs
	})
}

// registrationMoved passes a MerchantRegistration's creation and the
// changes that can decide a payment: its review results and its gateway.
var registrationMoved = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return true },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*v1.MerchantRegistration)
		n, ok2 := e.ObjectNew.(*v1.MerchantRegistration)
		if !ok1 || !ok2 {
			return false
		}
		return o.Status.RegistrationRequestID != n.Status.RegistrationRequestID || o.Status.Phase != n.Status.Phase ||
			!equality.Semantic.DeepEqual(o.Status.PaymentMethods, n.Status.PaymentMethods) || o.Spec.GatewayRef != n.Spec.GatewayRef
	},
}
