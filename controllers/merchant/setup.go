package merchant

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/ids"
)

// The manager reads MerchantRegistrations and writes their status; it never
// changes their spec or deletes them.
//
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=merchantregistrations,verbs=get;list;watch
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=merchantregistrations/status,verbs=update

// Setup registers the MerchantRegistration controller: the registration
// adapter on the engine, woken by spec changes (a new request) and its own
// polling while a review lasts; the receiver's notification writes need no
// reconcile.
func Setup(_ context.Context, w shared.Wiring) error {
	r := engine.New[*v1.MerchantRegistration](w.Mgr.GetClient(), registrationKind{deps: w.Deps}, w.Recorder, w.Engine)
	if err := ctrl.NewControllerManagedBy(w.Mgr).
		For(&v1.MerchantRegistration{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("merchantregistration").
		WithOptions(controller.Options{MaxConcurrentReconciles: w.Workers(ids.KindNameRegistration), RateLimiter: r.RateLimiter()}).
		Complete(r); err != nil {
		return fmt.Errorf("merchantregistration controller: %w", err)
	}
	return nil
}
