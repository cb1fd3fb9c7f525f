package gatewayconfig

import (
	"context"
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
)

// Setup registers the GatewayConfig controller. resync is how often a
// GatewayConfig's Secret is re-read (5m when 0).
func Setup(_ context.Context, w shared.Wiring, resync time.Duration) error {
	if resync == 0 {
		resync = 5 * time.Minute
	}
	gwc := &gatewayConfigReconciler{deps: w.Deps, resync: resync}
	if err := ctrl.NewControllerManagedBy(w.Mgr).For(&v1.GatewayConfig{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// The gateway began or stopped refusing a GatewayConfig's credentials.
		WatchesRawSource(source.Channel(w.Deps.Registry.Rejections(), &handler.EnqueueRequestForObject{})).
		Named("gatewayconfig").WithOptions(controller.Options{MaxConcurrentReconciles: 2, RateLimiter: w.Limiter()}).
		Complete(gwc); err != nil {
		return fmt.Errorf("gatewayconfig controller: %w", err)
	}
	return nil
}
