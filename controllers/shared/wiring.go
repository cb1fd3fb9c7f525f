package shared

import (
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/cashier-operator/cashier-operator/internal/engine"
)

// Wiring is what a domain's Setup registers its controllers with.
type Wiring struct {
	// Mgr is the manager the controllers join.
	Mgr ctrl.Manager
	// Deps are the adapters' dependencies.
	Deps *Deps
	// Recorder writes Events.
	Recorder recorder.EventRecorder
	// Engine tunes the engine's retries.
	Engine engine.Options
	// Workers is the number of concurrent reconciles for a kind.
	Workers func(kind string) int
	// Limiter is a new workqueue rate limiter (per-object backoff).
	Limiter func() workqueue.TypedRateLimiter[reconcile.Request]
}
