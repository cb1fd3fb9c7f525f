package controllers

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/engine"
)

// Field indexes in the manager's cache.
const (
	// IndexPaymentRef indexes Captures, Refunds and CustomsDeclarations by spec.paymentRef.name.
	IndexPaymentRef = "spec.paymentRef.name"
	// IndexPaymentID indexes Payments by status.paymentId (the receiver
	// resolves dashboard-routed notifications with it).
	IndexPaymentID = "status.paymentId"
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
	// Cadence is the polling policy (default DefaultCadence).
	Cadence *Cadence
	// GatewayConfigResync is how often GatewayConfig Secrets are re-read (default 5m).
	GatewayConfigResync time.Duration
	// Engine tunes retries.
	Engine engine.Options
	// DisputeAlertWindow is how long before its defense deadline an
	// unanswered Dispute raises DefenseDue (default DefaultDisputeAlertWindow).
	DisputeAlertWindow time.Duration
	// Retention tunes retention and restore (enabled per GatewayConfig).
	Retention RetentionOptions
}

// RegisterIndexes adds the field indexes the controllers and the receiver use.
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
	return idx.IndexField(ctx, &v1.Payment{}, IndexPaymentID, func(o client.Object) []string {
		if id := o.(*v1.Payment).Status.PaymentID; id != "" {
			return []string{id}
		}
		return nil
	})
}

// Setup registers every controller with mgr.
func Setup(ctx context.Context, mgr ctrl.Manager, deps *Deps, opts Options) error {
	if deps.Client == nil {
		deps.Client = mgr.GetClient()
	}
	if deps.APIReader == nil {
		deps.APIReader = mgr.GetAPIReader()
	}
	if opts.Cadence != nil {
		deps.Cadence = *opts.Cadence
	} else if deps.Cadence == (Cadence{}) {
		deps.Cadence = DefaultCadence
	}
	if opts.GatewayConfigResync == 0 {
		opts.GatewayConfigResync = 5 * time.Minute
	}
	if err := RegisterIndexes(ctx, mgr); err != nil {
		return err
	}
	workers := func(kind string) int {
		if n := opts.MaxConcurrentReconciles[kind]; n > 0 {
			return n
		}
		return 4
	}
	// Per-object exponential backoff with jitter (the engine's Backoff, the
	// one used everywhere) and no global token bucket, which
	// would throttle thousands of payments to 10 reconciles a second. The
	// gateway is protected by the per-GatewayConfig rate limiter instead.
	limiter := func() workqueue.TypedRateLimiter[reconcile.Request] {
		return engine.NewBackoff(500*time.Millisecond, 5*time.Minute)
	}
	rec := mgr.GetEventRecorder("cashier-operator")

	gwc := &gatewayConfigReconciler{deps: deps, resync: opts.GatewayConfigResync}
	if err := ctrl.NewControllerManagedBy(mgr).For(&v1.GatewayConfig{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("gatewayconfig").WithOptions(controller.Options{MaxConcurrentReconciles: 2, RateLimiter: limiter()}).
		Complete(gwc); err != nil {
		return fmt.Errorf("gatewayconfig controller: %w", err)
	}

	payments := engine.New[*v1.Payment](mgr.GetClient(), paymentKind{deps: deps}, rec, opts.Engine)
	// A Payment reacts to its spec, its deletion and its annotations — not
	// to its own status writes (the receiver's or its own), which would
	// cost a needless inquiry each time.
	specOrDeletion := predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{},
		predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
			return !e.ObjectOld.GetDeletionTimestamp().Equal(e.ObjectNew.GetDeletionTimestamp())
		}})
	if err := ctrl.NewControllerManagedBy(mgr).For(&v1.Payment{}, builder.WithPredicates(specOrDeletion)).Named("payment").
		Watches(&v1.Capture{}, toOwningPayment, builder.WithPredicates(phaseChanged)).
		Watches(&v1.Refund{}, toOwningPayment, builder.WithPredicates(phaseChanged)).
		Watches(&v1.CustomsDeclaration{}, toOwningPayment, builder.WithPredicates(phaseChanged)).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers("Payment"), RateLimiter: payments.RateLimiter()}).
		Complete(payments); err != nil {
		return fmt.Errorf("payment controller: %w", err)
	}
	if err := setupSettlementReconciliation(mgr, deps, rec, limiter); err != nil {
		return fmt.Errorf("settlementreconciliation controller: %w", err)
	}
	if err := setupRetention(mgr, deps, opts.Retention, rec); err != nil {
		return err
	}
	return setupOperations(mgr, deps, opts, rec, workers, limiter)
}

// toOwningPayment maps a Capture, Refund or CustomsDeclaration to the
// Payment it names.
var toOwningPayment = handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
	op, ok := o.(v1.PaymentOperation)
	if !ok {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: op.GetPaymentRef()}}}
})

// phaseChanged passes only the updates that change an object's phase.
var phaseChanged = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc:  func(e event.UpdateEvent) bool { return phaseOf(e.ObjectOld) != phaseOf(e.ObjectNew) },
}

// phaseOf is the object's phase; "" for an object without one.
func phaseOf(o client.Object) string {
	if p, ok := o.(v1.Phased); ok {
		return p.GetPhase()
	}
	return ""
}
