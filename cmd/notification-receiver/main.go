// Command notification-receiver serves the gateway's signed notifications
// (notifyPayment, notifyCapture, notifyRefund, notifyDispute) and applies
// them to Payments, Captures and Refunds within milliseconds. It is the
// second Deployment of cashier-operator; it is stateless and runs with
// several replicas (no leader election). See package internal/receiver for
// what it accepts and how it answers.
//
// Ports (defaults):
//
//	--listen :8443                      notifications (POST /notify, /notify/payment/<ns>/<name>,
//	                                    /notify/refund/<ns>/<name>); HTTPS with --tls-cert-file and
//	                                    --tls-key-file, plain HTTP otherwise (e.g. behind an ingress
//	                                    that terminates TLS)
//	--health-probe-bind-address :8081   /healthz, /readyz (ready once the cache has synced and the
//	                                    listener is open)
//	--metrics-bind-address :8080        /metrics ("0" disables): HTTPS, a bearer token
//	                                    authorized for GET /metrics (--metrics-secure=false: plain HTTP)
//
// --max-connections caps the open connections of the notification listener.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/net/netutil"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/connection"
	"github.com/cashier-operator/cashier-operator/internal/events"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	opmetrics "github.com/cashier-operator/cashier-operator/internal/metrics"
	"github.com/cashier-operator/cashier-operator/internal/receiver"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// maxVerbosity caps -v (see parseFlags).
const maxVerbosity = 5

type config struct {
	listen          string
	tlsCert         string
	tlsKey          string
	probeAddr       string
	metricsAddr     string
	metricsSecure   bool
	maxConns        int
	timeWindow      time.Duration
	maxBody         int64
	watchNamespace  string
	restoreNS       string
	pathPrefix      string
	shutdownTimeout time.Duration
	verbosity       int
	kubeconfig      string
	events          events.Mode
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("notification-receiver", flag.ContinueOnError)
	fs.StringVar(&c.listen, "listen", ":8443", "address to serve notifications on")
	fs.StringVar(&c.tlsCert, "tls-cert-file", "", "TLS certificate (PEM); with --tls-key-file serves HTTPS")
	fs.StringVar(&c.tlsKey, "tls-key-file", "", "TLS private key (PEM)")
	fs.StringVar(&c.probeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz")
	fs.StringVar(&c.metricsAddr, "metrics-bind-address", ":8080", `address of /metrics ("0" disables)`)
	fs.BoolVar(&c.metricsSecure, "metrics-secure", true, "serve /metrics over HTTPS to bearer tokens allowed GET /metrics (TokenReview + SubjectAccessReview)")
	fs.IntVar(&c.maxConns, "max-connections", 1000, "most simultaneous connections the notification listener accepts (more wait in the kernel backlog)")
	fs.DurationVar(&c.timeWindow, "time-window", receiver.DefaultTimeWindow, "how far a notification's Request-Time may be from now, either way")
	fs.Int64Var(&c.maxBody, "max-body-bytes", receiver.DefaultMaxBodyBytes, "largest notification body accepted")
	fs.StringVar(&c.watchNamespace, "watch-namespace", "", "serve only these namespaces (comma-separated); empty serves all")
	fs.StringVar(&c.restoreNS, "restore-namespace", os.Getenv("POD_NAMESPACE"),
		`namespace (the operator's) where a notification for an object not in the cluster asks the manager for a restore from the archive (PaymentRestore); "" never asks (default: $POD_NAMESPACE)`)
	fs.StringVar(&c.pathPrefix, "external-path-prefix", "", "path prefix a reverse proxy strips before /notify (the gateway signs the external path)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long in-flight notifications may take to finish on shutdown")
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster, or $KUBECONFIG)")
	eventMode := fs.String("events", string(events.All), events.FlagUsage)
	fs.IntVar(&c.verbosity, "v", 0, "log verbosity (1 logs every acknowledged notification)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var err error
	if c.events, err = events.ParseMode(*eventMode); err != nil {
		return c, err
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return c, errors.New("--tls-cert-file and --tls-key-file go together")
	}
	if c.verbosity < 0 || c.verbosity > maxVerbosity {
		// client-go logs request headers from 7 and bodies (Secrets: the
		// merchant keys) from 8; the chart's schema has the same maximum.
		return c, fmt.Errorf("-v %d: the maximum is %d (from 7 on client-go writes API request headers and bodies, Secrets included, to the log)", c.verbosity, maxVerbosity)
	}
	if c.timeWindow <= 0 || c.maxBody <= 0 || c.maxConns <= 0 {
		return c, errors.New("--time-window, --max-body-bytes and --max-connections must be positive")
	}
	return c, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	log := logr.FromSlogHandler(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.Level(-cfg.verbosity)}))
	ctrl.SetLogger(log)
	if err := run(ctrl.SetupSignalHandler(), cfg, log); err != nil {
		log.Error(err, "notification-receiver stopped")
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config, log logr.Logger) error {
	var restCfg *rest.Config
	var err error
	if cfg.kubeconfig != "" {
		restCfg, err = clientcmd.BuildConfigFromFlags("", cfg.kubeconfig)
	} else {
		restCfg, err = ctrl.GetConfig()
	}
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	if restCfg.QPS == 0 {
		// As ctrl.GetConfig does: no client-side rate limit (the apiserver's
		// priority and fairness governs). client-go's default of 5 writes a
		// second held every notification ~200ms.
		restCfg.QPS = -1
	}
	mgr, _, err := setup(ctx, cfg, restCfg, log)
	if err != nil {
		return err
	}
	log.Info("starting", "listen", cfg.listen, "tls", cfg.tlsCert != "", "watchNamespace", cfg.watchNamespace,
		"timeWindow", cfg.timeWindow.String(), "maxBodyBytes", cfg.maxBody)
	return mgr.Start(ctx)
}

// setup builds the manager (cache, client, health, metrics) with the
// receiver's indexes and the notification server as a Runnable.
func setup(ctx context.Context, cfg config, restCfg *rest.Config, log logr.Logger) (manager.Manager, *server, error) {
	var namespaces []string
	cacheOpts := cache.Options{DefaultTransform: cache.TransformStripManagedFields()}
	if cfg.watchNamespace != "" {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range strings.Split(cfg.watchNamespace, ",") {
			if ns = strings.TrimSpace(ns); ns != "" {
				namespaces = append(namespaces, ns)
				cacheOpts.DefaultNamespaces[ns] = cache.Config{}
			}
		}
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, nil, err
	}
	if err := v1.AddToScheme(scheme); err != nil {
		return nil, nil, err
	}
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                 scheme,
		Logger:                 log,
		LeaderElection:         false, // stateless; every replica serves
		HealthProbeBindAddress: cfg.probeAddr,
		Metrics:                opmetrics.ServerOptions(cfg.metricsAddr, cfg.metricsSecure),
		Cache:                  cacheOpts,
		// Secrets are read only when a connection is built, never watched.
		Client: client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}},
			FieldOwner: transition.FieldManager},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("manager: %w", err)
	}
	if err := receiver.SetupIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		return nil, nil, err
	}
	if _, err := mgr.GetCache().GetInformer(ctx, &v1.GatewayConfig{}, cache.BlockUntilSynced(false)); err != nil {
		return nil, nil, fmt.Errorf("GatewayConfig informer: %w", err)
	}
	reg := connection.NewRegistry(mgr.GetClient(), mgr.GetAPIReader(), connection.Options{Logger: log.WithName("gateway")})
	recv, err := receiver.New(receiver.Options{
		Client:           mgr.GetClient(),
		APIReader:        mgr.GetAPIReader(),
		Registry:         reg,
		Recorder:         events.Filter(mgr.GetEventRecorder("notification-receiver"), cfg.events),
		Logger:           log.WithName("receiver"),
		Registerer:       metrics.Registry,
		TimeWindow:       cfg.timeWindow,
		MaxBodyBytes:     cfg.maxBody,
		Namespaces:       namespaces,
		PathPrefix:       cfg.pathPrefix,
		RestoreNamespace: cfg.restoreNS,
	})
	if err != nil {
		return nil, nil, err
	}

	srv := &server{cfg: cfg, log: log.WithName("http"), handler: Handler(recv)}
	if err := mgr.Add(srv); err != nil {
		return nil, nil, err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, nil, err
	}
	if err := mgr.AddReadyzCheck("cache-and-listener", func(req *http.Request) error {
		if !srv.listening.Load() {
			return errors.New("the notification listener is not open yet")
		}
		sctx, cancel := context.WithTimeout(req.Context(), time.Second)
		defer cancel()
		if !mgr.GetCache().WaitForCacheSync(sctx) {
			return errors.New("the cache has not synced yet")
		}
		return nil
	}); err != nil {
		return nil, nil, err
	}
	return mgr, srv, nil
}

// Handler routes /notify and /notify/... to the receiver; everything else is 404.
func Handler(recv http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(ids.RouteBase, recv)
	mux.Handle(ids.RouteBase+"/", recv)
	return mux
}

// server runs the notification listener as a manager Runnable: it starts
// after the cache has synced and shuts down gracefully with the manager.
type server struct {
	cfg       config
	log       logr.Logger
	handler   http.Handler
	listening atomic.Bool
	addr      atomic.Value // net.Addr once listening
}

var _ manager.LeaderElectionRunnable = (*server)(nil)

// NeedLeaderElection is false: every replica serves notifications.
func (s *server) NeedLeaderElection() bool { return false }

// Start serves until ctx ends, then lets in-flight notifications finish.
func (s *server) Start(ctx context.Context) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logr.ToSlogHandler(s.log), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if s.cfg.tlsCert != "" {
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", s.cfg.listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.cfg.listen, err)
	}
	if s.cfg.maxConns > 0 {
		// Connections beyond the cap wait in the kernel's backlog: a flood
		// cannot exhaust file descriptors or memory.
		ln = netutil.LimitListener(ln, s.cfg.maxConns)
	}
	s.addr.Store(ln.Addr())
	s.listening.Store(true)
	s.log.Info("serving notifications", "address", ln.Addr().String(), "tls", s.cfg.tlsCert != "")

	errc := make(chan error, 1)
	go func() {
		if s.cfg.tlsCert != "" {
			errc <- srv.ServeTLS(ln, s.cfg.tlsCert, s.cfg.tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		s.listening.Store(false)
		return fmt.Errorf("notification server: %w", err)
	case <-ctx.Done():
	}
	s.listening.Store(false)
	s.log.Info("shutting down; finishing in-flight notifications", "timeout", s.cfg.shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("notification server shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// The metrics endpoint authenticates scrapers with TokenReviews and
// authorizes them with SubjectAccessReviews (controller-runtime's
// filters.WithAuthenticationAndAuthorization).
//
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create
