package dispute

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
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

// Setup registers the Dispute, DisputeResponse and Payment→Dispute
// controllers. window is how long before its defense deadline an
// unanswered Dispute raises DefenseDue (DefaultAlertWindow when 0).
func Setup(_ context.Context, o shared.Wiring, window time.Duration) error {
	mgr, deps := o.Mgr, o.Deps
	if window <= 0 {
		window = DefaultAlertWindow
	}
	toDispute := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		r := obj.(*v1.DisputeResponse)
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: r.Namespace, Name: r.Spec.DisputeRef.Name}}}
	})
	if err := ctrl.NewControllerManagedBy(mgr).For(&v1.Dispute{}).Named("dispute").
		Watches(&v1.DisputeResponse{}, toDispute).
		WithOptions(controller.Options{MaxConcurrentReconciles: o.Workers("Dispute"), RateLimiter: o.Limiter()}).
		Complete(&disputeReconciler{deps: deps, rec: o.Recorder, window: window}); err != nil {
		return fmt.Errorf("dispute controller: %w", err)
	}

	cache := mgr.GetClient()
	toResponses := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, d client.Object) []reconcile.Request {
		var list v1.DisputeResponseList
		if err := cache.List(ctx, &list, client.InNamespace(d.GetNamespace()), client.MatchingFields{shared.IndexDisputeRef: d.GetName()}); err != nil {
			return nil
		}
		out := make([]reconcile.Request, 0, len(list.Items))
		for _, r := range list.Items {
			if !r.Status.Phase.IsFinal() {
				out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&r)})
			}
		}
		return out
	})
	responses := engine.New[*v1.DisputeResponse](mgr.GetClient(), disputeResponseKind{deps: deps}, o.Recorder, o.Engine)
	if err := ctrl.NewControllerManagedBy(mgr).For(&v1.DisputeResponse{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("disputeresponse").Watches(&v1.Dispute{}, toResponses).
		WithOptions(controller.Options{MaxConcurrentReconciles: o.Workers("DisputeResponse"), RateLimiter: responses.RateLimiter()}).
		Complete(responses); err != nil {
		return fmt.Errorf("disputeresponse controller: %w", err)
	}

	disputeShown := predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return e.Object.(*v1.Payment).Status.Dispute != nil },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			n := e.ObjectNew.(*v1.Payment).Status.Dispute
			return n != nil && !equality.Semantic.DeepEqual(e.ObjectOld.(*v1.Payment).Status.Dispute, n)
		},
	}
	if err := ctrl.NewControllerManagedBy(mgr).For(&v1.Payment{}, builder.WithPredicates(disputeShown)).Named("paymentdispute").
		WithOptions(controller.Options{MaxConcurrentReconciles: 2, RateLimiter: o.Limiter()}).
		Complete(&paymentDisputeReconciler{deps: deps}); err != nil {
		return fmt.Errorf("paymentdispute controller: %w", err)
	}
	return nil
}
