package operation

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
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

// Setup registers the Capture, Refund and CustomsDeclaration controllers:
// one generic adapter (opKind) on the engine each.
func Setup(_ context.Context, w shared.Wiring) error {
	batcher := newDeclarationBatcher(func() time.Duration { return w.Deps.Cadence.OperationPoll / 2 }, w.Deps.Time)
	for _, setup := range []func(shared.Wiring) error{
		func(w shared.Wiring) error { return setupOperation(w, captureSpec()) },
		func(w shared.Wiring) error { return setupOperation(w, refundSpec()) },
		func(w shared.Wiring) error { return setupOperation(w, declarationSpec(w.Deps, batcher)) },
	} {
		if err := setup(w); err != nil {
			return err
		}
	}
	return nil
}

// setupOperation registers one operation kind. Its objects are reconciled
// when created (their spec is immutable; polling is driven by the engine's
// requeues, so a status write does not trigger an extra inquiry) and when
// their payment moves: its phase, totals or dispute decide whether they
// wait, go, or can never happen.
func setupOperation[T v1.PaymentOperation](w shared.Wiring, spec opSpec[T]) error {
	r := engine.New[T](w.Mgr.GetClient(), opKind[T]{deps: w.Deps, spec: spec}, w.Recorder, w.Engine)
	cache := w.Mgr.GetClient()
	toOperations := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, p client.Object) []reconcile.Request {
		list := spec.newList()
		if err := cache.List(ctx, list, client.InNamespace(p.GetNamespace()), client.MatchingFields{shared.IndexPaymentRef: p.GetName()}); err != nil {
			return nil
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil
		}
		reqs := make([]reconcile.Request, 0, len(items))
		for _, it := range items {
			if obj, ok := it.(client.Object); ok {
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(obj)})
			}
		}
		return reqs
	})
	b := ctrl.NewControllerManagedBy(w.Mgr).
		For(spec.newObj(), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named(strings.ToLower(spec.kind)).
		Watches(&v1.Payment{}, toOperations, builder.WithPredicates(paymentMoved))
	if spec.moneyKind != "" {
		b = b.Watches(&v1.Approval{}, shared.ToApproved(spec.moneyKind)).
			Watches(&v1.MoneyPolicy{}, toHeld(cache, spec), builder.WithPredicates(predicate.GenerationChangedPredicate{}))
	}
	if err := b.WithOptions(controller.Options{MaxConcurrentReconciles: w.Workers(spec.kind), RateLimiter: r.RateLimiter()}).
		Complete(r); err != nil {
		return fmt.Errorf("%s controller: %w", strings.ToLower(spec.kind), err)
	}
	return nil
}

// paymentMoved passes payment events that can change what its operations
// do: its creation, and changes of its phase, gateway id, totals or dispute.
var paymentMoved = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return true },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*v1.Payment)
		n, ok2 := e.ObjectNew.(*v1.Payment)
		if !ok1 || !ok2 {
			return false
		}
		return o.Status.Phase != n.Status.Phase || o.Status.PaymentID != n.Status.PaymentID ||
			!equality.Semantic.DeepEqual(o.Status.Amounts, n.Status.Amounts) ||
			!equality.Semantic.DeepEqual(o.Status.Dispute, n.Status.Dispute)
	},
}

// toHeld maps a MoneyPolicy to the operations of its namespace not yet
// sent: a changed policy decides them again at once.
func toHeld[T v1.PaymentOperation](cache client.Reader, spec opSpec[T]) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, p client.Object) []reconcile.Request {
		ops, err := shared.ListObjects[T](ctx, cache, spec.newList(), p.GetNamespace())
		if err != nil {
			return nil
		}
		var reqs []reconcile.Request
		for _, o := range ops {
			if !submitted(o.GetOperationStatus()) {
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o)})
			}
		}
		return reqs
	})
}
