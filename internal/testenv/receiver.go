package testenv

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/cashier-operator/cashier-operator/internal/connection"
	"github.com/cashier-operator/cashier-operator/internal/receiver"
)

// Receiver is a notification-receiver running as cmd/notification-receiver
// runs it: on a manager of its own (its own cache and indexes, Secrets
// uncached), served over HTTP.
type Receiver struct {
	// URL is the receiver's base URL (notifications go to URL + /notify/...).
	URL  string
	stop func()
}

// StartReceiver starts a notification-receiver against env. opts supplies
// what the test tunes (Now, Registerer, RestoreNamespace, ...); the clients,
// registry and recorder come from the receiver's own manager. wrap, when
// not nil, puts a handler in front of it (a switch, a recorder).
func StartReceiver(env *Env, opts receiver.Options, wrap func(http.Handler) http.Handler) (*Receiver, error) {
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{Scheme: env.Scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		Client: client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}}})
	if err != nil {
		return nil, fmt.Errorf("receiver manager: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := receiver.SetupIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		cancel()
		return nil, err
	}
	opts.Client, opts.APIReader = mgr.GetClient(), mgr.GetAPIReader()
	opts.Registry = connection.NewRegistry(mgr.GetClient(), mgr.GetAPIReader(), connection.Options{})
	opts.Recorder = mgr.GetEventRecorder("notification-receiver")
	r, err := receiver.New(opts)
	if err != nil {
		cancel()
		return nil, err
	}
	var h http.Handler = r
	if wrap != nil {
		h = wrap(r)
	}
	srv := httptest.NewServer(h)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		srv.Close()
		cancel()
		<-done
		return nil, fmt.Errorf("receiver cache did not sync")
	}
	return &Receiver{URL: srv.URL, stop: func() { srv.Close(); cancel(); <-done }}, nil
}

// Stop stops the HTTP server, then the receiver's manager.
func (r *Receiver) Stop() { r.stop() }
