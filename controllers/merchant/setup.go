package merchant

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// The manager reads MerchantRegistrations and writes their status; it never
// changes their spec or deletes them.
//
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=merchantregistrations,verbs=get;list;watch
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=merchantregistrations/status,verbs=update

// Setup registers the MerchantRegistration controller: the registration
// adapter on the engine, woken by spec changes (a new request), by the end
// of the previous request's review (the receiver's write: a new request the
// gateway refused while it lasted is sent now) and by its own polling while
// a review lasts; the receiver's other writes need no reconcile.
func Setup(_ context.Context, w shared.Wiring) error {
	r := engine.New[*v1.MerchantRegistration](w.Mgr.GetClient(), registrationKind{deps: w.Deps}, w.Recorder, w.Engine)
	if err := ctrl.NewControllerManagedBy(w.Mgr).
		For(&v1.MerchantRegistration{}, builder.WithPredicates(predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, previousReviewed))).
		Named("merchantregistration").
		WithOptions(controller.Options{MaxConcurrentReconciles: w.Workers(ids.KindNameRegistration), RateLimiter: r.RateLimiter()}).
		Complete(r); err != nil {
		return fmt.Errorf("merchantregistration controller: %w", err)
	}
	return nil
}

// previousReviewed passes the update in which the previous request's review
// ended.
var previousReviewed = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*v1.MerchantRegistration)
		n, ok2 := e.ObjectNew.(*v1.MerchantRegistration)
		if !ok1 || !ok2 || o.Status.Previous == nil || n.Status.Previous == nil {
			return false
		}
		return !transition.RegistrationFinal(o.Status.Previous.Phase) && transition.RegistrationFinal(n.Status.Previous.Phase)
	},
}
