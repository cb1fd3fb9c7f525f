// Command manager runs the cashier-operator controllers: Payment, Capture,
// Refund, CustomsDeclaration and GatewayConfig.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers"
	"github.com/cashier-operator/cashier-operator/controllers/dispute"
	"github.com/cashier-operator/cashier-operator/controllers/retention"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/connection"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/events"
	"github.com/cashier-operator/cashier-operator/internal/metrics"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		os.Exit(1)
	}
}

// flags are the manager's command line (zap's logging flags aside).
type flags struct {
	metricsAddr, probeAddr, watchNamespaces, concurrency, leaderNS, restoreNS, events string
	leaderElect, metricsSecure                                                        bool
	resync, disputeWindow                                                             time.Duration
	lease                                                                             leaseTimes
	zap                                                                               zap.Options
}

func parseFlags() *flags {
	var f flags
	flag.StringVar(&f.metricsAddr, "metrics-bind-address", ":8080", "Address of the Prometheus metrics endpoint (\"0\" disables it).")
	flag.BoolVar(&f.metricsSecure, "metrics-secure", true, "Serve /metrics over HTTPS to bearer tokens allowed GET /metrics (TokenReview + SubjectAccessReview); false: plain HTTP.")
	flag.StringVar(&f.probeAddr, "health-probe-bind-address", ":8081", "Address of /healthz and /readyz.")
	flag.BoolVar(&f.leaderElect, "leader-elect", false, "Elect a leader so that only one replica reconciles (enable with more than one replica).")
	flag.StringVar(&f.leaderNS, "leader-election-namespace", "", "Namespace of the leader-election Lease (default: the pod's namespace).")
	flag.DurationVar(&f.lease.duration, "leader-elect-lease-duration", defaultLease.duration,
		"How long a standby waits, after it last saw the leader renew the Lease, before it takes over (a SIGKILLed leader is replaced within about this).")
	flag.DurationVar(&f.lease.renewDeadline, "leader-elect-renew-deadline", defaultLease.renewDeadline,
		"How long the leader keeps trying to renew before it gives up leading and exits; must be shorter than the lease duration, so that it has stopped before anyone else may lead.")
	flag.DurationVar(&f.lease.retryPeriod, "leader-elect-retry-period", defaultLease.retryPeriod,
		"How often the leader renews and a standby tries to acquire (each try is one Lease read, a renewal one write).")
	flag.StringVar(&f.watchNamespaces, "watch-namespace", "", "Comma-separated namespaces to watch for Payments and operations (default: all).")
	flag.StringVar(&f.restoreNS, "restore-namespace", os.Getenv("POD_NAMESPACE"),
		"Namespace where the notification-receiver asks for restores from the archive (PaymentRestores); watched besides --watch-namespace (default: $POD_NAMESPACE).")
	flag.StringVar(&f.concurrency, "max-concurrent-reconciles", "Payment=8,Capture=2,Refund=2,CustomsDeclaration=2,Retention=16",
		"Workers per kind, as Kind=N pairs; a bare N applies to every kind. Retention: payments archived in parallel (each waits mostly on the archive and the apiserver).")
	flag.DurationVar(&f.resync, "gateway-config-resync", 5*time.Minute, "How often GatewayConfig Secrets are re-read (key rotation).")
	flag.DurationVar(&f.disputeWindow, "dispute-alert-window", dispute.DefaultAlertWindow,
		"How long before its defense deadline an unanswered Dispute raises the DefenseDue condition, event and metric.")
	flag.StringVar(&f.events, "events", string(events.All), events.FlagUsage)
	f.zap.BindFlags(flag.CommandLine)
	flag.Parse()
	return &f
}

func run() error {
	f := parseFlags()
	if err := checkLogLevel(f.zap.Level); err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&f.zap)))
	log := ctrl.Log.WithName("manager")

	workers, err := parseConcurrency(f.concurrency)
	if err != nil {
		return err
	}
	if err := f.lease.check(); err != nil {
		return err
	}
	eventMode, err := events.ParseMode(f.events)
	if err != nil {
		return err
	}
	mgr, err := newManager(f)
	if err != nil {
		return err
	}
	m, err := metrics.New(crmetrics.Registry, mgr.GetClient())
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	reg := connection.NewRegistry(mgr.GetClient(), mgr.GetAPIReader(),
		connection.Options{Logger: ctrl.Log.WithName("gateway"), Observer: m})
	ctx := ctrl.SetupSignalHandler()
	if err := controllers.Setup(ctx, mgr, &shared.Deps{Registry: reg}, controllers.Options{
		MaxConcurrentReconciles: workers,
		GatewayConfigResync:     f.resync,
		Engine:                  engine.Options{OnTransition: m.OnTransition, OnStepError: m.OnStepError, OnHold: m.OnHold},
		DisputeAlertWindow:      f.disputeWindow,
		Retention:               retention.Options{Workers: workers["Retention"]},
		Events:                  eventMode,
	}); err != nil {
		return err
	}
	if err := addProbes(mgr); err != nil {
		return err
	}
	log.Info("starting", "watchNamespaces", f.watchNamespaces, "leaderElection", f.leaderElect, "workers", workers)
	return mgr.Start(ctx)
}

// newManager connects to the cluster with the scheme of our kinds, a cache
// of the watched namespaces, the metrics endpoint and leader election.
func newManager(f *flags) (ctrl.Manager, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := v1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Cache:                   cacheOptions(f.watchNamespaces, f.restoreNS),
		Client:                  client.Options{FieldOwner: transition.FieldManager},
		Metrics:                 metrics.ServerOptions(f.metricsAddr, f.metricsSecure),
		HealthProbeBindAddress:  f.probeAddr,
		LeaderElection:          f.leaderElect,
		LeaderElectionID:        "cashier-operator.payments.cashier-operator.io",
		LeaderElectionNamespace: f.leaderNS,
		LeaseDuration:           &f.lease.duration,
		RenewDeadline:           &f.lease.renewDeadline,
		RetryPeriod:             &f.lease.retryPeriod,
		// The manager may stop mid-step: idempotency ids make that safe, so
		// a new leader may take over at once.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return nil, fmt.Errorf("new manager: %w", err)
	}
	return mgr, nil
}

// cacheOptions caches the comma-separated namespaces (all when empty),
// without managedFields: they are never read, and dropping them saves
// memory at 10,000 objects. With namespaces, PaymentRestores are cached in
// restoreNS (the operator's namespace, where the receiver creates them).
func cacheOptions(watchNamespaces, restoreNS string) cache.Options {
	opts := cache.Options{DefaultTransform: cache.TransformStripManagedFields()}
	if watchNamespaces != "" {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range strings.Split(watchNamespaces, ",") {
			if ns = strings.TrimSpace(ns); ns != "" {
				opts.DefaultNamespaces[ns] = cache.Config{}
			}
		}
		if restoreNS != "" {
			opts.ByObject = map[client.Object]cache.ByObject{
				&v1.PaymentRestore{}: {Namespaces: map[string]cache.Config{restoreNS: {}}}}
		}
	}
	return opts
}

// addProbes serves /healthz (alive) and /readyz (the cache has synced).
func addProbes(mgr ctrl.Manager) error {
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	return mgr.AddReadyzCheck("readyz", func(req *http.Request) error {
		if !mgr.GetCache().WaitForCacheSync(req.Context()) {
			return fmt.Errorf("cache not synced")
		}
		return nil
	})
}

// parseConcurrency reads "Payment=8,Refund=2" or "4".
func parseConcurrency(s string) (map[string]int, error) {
	out := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			n, err := strconv.Atoi(part)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("--max-concurrent-reconciles: %q is not a positive number", part)
			}
			for _, kind := range []string{"Payment", "Capture", "Refund", "CustomsDeclaration"} {
				out[kind] = n
			}
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--max-concurrent-reconciles: %q: %q is not a positive number", k, v)
		}
		switch k {
		case "Payment", "Capture", "Refund", "CustomsDeclaration", "Retention":
			out[k] = n
		default:
			return nil, fmt.Errorf("--max-concurrent-reconciles: unknown kind %q (Payment, Capture, Refund, CustomsDeclaration, Retention)", k)
		}
	}
	return out, nil
}

// The metrics endpoint authenticates scrapers with TokenReviews and
// authorizes them with SubjectAccessReviews (controller-runtime's
// filters.WithAuthenticationAndAuthorization).
//
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create
