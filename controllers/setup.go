// Package controllers wires the operator's controllers into a manager.
// Each controller domain lives in a package of its own, and Setup lists
// them all:
//
//	gatewayconfig  a merchant's connection: credentials, endpoint, consult profiles
//	payment        the Payment adapter: pay, inquire, adopt, auto-capture, cancel
//	operation      Capture, Refund (with its dispute hold) and CustomsDeclaration,
//	               one generic adapter, and who gets the last of a payment's money
//	dispute        chargebacks (Dispute) and their answers (DisputeResponse)
//	settlement     settlement reports reconciled against the cluster
//	retention      archiving finished payments, restoring them, PaymentRestores
//	merchant       secondary merchants registered with the gateway (MerchantRegistration)
//	shared         what they all use: Deps, Cadence, the Secret reader, the
//	               GatewayNotReady wait, field indexes, ordering and watches
//
// Condition reasons live in api/v1alpha1; status moves only through
// internal/transition; gateway ids come from internal/ids; transition events
// are written by internal/events (through the engine).
package controllers

import (
	"context"
	"time"

	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/cashier-operator/cashier-operator/controllers/dispute"
	"github.com/cashier-operator/cashier-operator/controllers/gatewayconfig"
	"github.com/cashier-operator/cashier-operator/controllers/merchant"
	"github.com/cashier-operator/cashier-operator/controllers/operation"
	"github.com/cashier-operator/cashier-operator/controllers/payment"
	"github.com/cashier-operator/cashier-operator/controllers/retention"
	"github.com/cashier-operator/cashier-operator/controllers/settlement"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/events"
)

// RBAC of the manager (config/rbac/role.yaml, ClusterRole manager-role): only
// the verbs the controllers use. Payments are updated to add and release the
// finalizer (the other kinds have none); every status write is an Update.
// Secrets are read through the separate secret-reader ClusterRole
// (internal/connection), bound cluster-wide or per watched namespace; the
// leader-election Lease through a Role in the manager's namespace.
//
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=payments,verbs=get;list;watch;update
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=captures;refunds;customsdeclarations;gatewayconfigs,verbs=get;list;watch
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=payments/status;captures/status;refunds/status;customsdeclarations/status;gatewayconfigs/status,verbs=update
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=payments/finalizers,verbs=update
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Options configure the controllers.
type Options struct {
	// MaxConcurrentReconciles per kind (default 4).
	MaxConcurrentReconciles map[string]int
	// Cadence is the polling policy (default shared.DefaultCadence).
	Cadence *shared.Cadence
	// GatewayConfigResync is how often GatewayConfig Secrets are re-read (default 5m).
	GatewayConfigResync time.Duration
	// Engine tunes retries.
	Engine engine.Options
	// DisputeAlertWindow is how long before its defense deadline an
	// unanswered Dispute raises DefenseDue (default dispute.DefaultAlertWindow).
	DisputeAlertWindow time.Duration
	// Retention tunes retention and restore (enabled per GatewayConfig).
	Retention retention.Options
	// Events is which Events the controllers record (default events.All).
	Events events.Mode
}

// Setup registers every controller with mgr: the field indexes, then each
// domain in turn.
func Setup(ctx context.Context, mgr ctrl.Manager, deps *shared.Deps, opts Options) error {
	w := wiring(mgr, deps, opts)
	domains := []struct {
		name  string
		setup func() error
	}{
		{"indexes", func() error { return shared.RegisterIndexes(ctx, mgr) }},
		{"archives", func() error { return mgr.Add(closeOnStop(deps.Archives)) }},
		{"gatewayconfig", func() error { return gatewayconfig.Setup(ctx, w, opts.GatewayConfigResync) }},
		{"payment", func() error { return payment.Setup(ctx, w) }},
		{"operation", func() error { return operation.Setup(ctx, w) }},
		{"dispute", func() error { return dispute.Setup(ctx, w, opts.DisputeAlertWindow) }},
		{"settlement", func() error { return settlement.Setup(ctx, w) }},
		{"retention", func() error { return retention.Setup(ctx, w, opts.Retention) }},
		{"merchant", func() error { return merchant.Setup(ctx, w) }},
	}
	for _, d := range domains {
		if err := d.setup(); err != nil {
			return err
		}
	}
	return nil
}

// wiring fills deps' defaults from mgr and opts and returns what every
// domain registers its controllers with.
func wiring(mgr ctrl.Manager, deps *shared.Deps, opts Options) shared.Wiring {
	if deps.Client == nil {
		deps.Client = mgr.GetClient()
	}
	if deps.APIReader == nil {
		deps.APIReader = mgr.GetAPIReader()
	}
	if opts.Cadence != nil {
		deps.Cadence = *opts.Cadence
	} else if deps.Cadence == (shared.Cadence{}) {
		deps.Cadence = shared.DefaultCadence
	}
	if deps.Archives == nil {
		deps.Archives = shared.NewArchives(deps.APIReader, deps.Time)
	}
	return shared.Wiring{
		Mgr:      mgr,
		Deps:     deps,
		Recorder: events.Filter(mgr.GetEventRecorder("cashier-operator"), opts.Events),
		Engine:   opts.Engine,
		Workers: func(kind string) int {
			if n := opts.MaxConcurrentReconciles[kind]; n > 0 {
				return n
			}
			return 4
		},
		// Per-object exponential backoff with jitter (the engine's Backoff,
		// the one used everywhere) and no global token bucket, which would
		// throttle thousands of payments to 10 reconciles a second. The
		// gateway is protected by the per-GatewayConfig rate limiter instead.
		Limiter: func() workqueue.TypedRateLimiter[reconcile.Request] {
			return engine.NewBackoff(500*time.Millisecond, 5*time.Minute)
		},
	}
}

// closeOnStop closes the open archives when the manager stops.
func closeOnStop(a *shared.Archives) manager.Runnable {
	return manager.RunnableFunc(func(ctx context.Context) error {
		<-ctx.Done()
		a.Close()
		return nil
	})
}
