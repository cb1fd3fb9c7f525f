package testenv

import (
	"context"
	"crypto/rsa"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/connection"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
)

// Merchant is a merchant registered at the simulator with a GatewayConfig.
type Merchant struct {
	ClientID string
	Key      *rsa.PrivateKey
	// GatewayConfig is the name of its GatewayConfig.
	GatewayConfig string
}

// System is the whole operator against the simulator: a real apiserver, the
// simulator serving real signed HTTP, and a manager running the controllers.
type System struct {
	Env      *Env
	Sim      *gatewaysim.Simulator
	SimURL   string
	Manager  ctrl.Manager
	Registry *connection.Registry
	Client   client.Client

	cancel context.CancelFunc
	done   chan error
	srv    *httptest.Server
	opts   SystemOptions
}

// SystemOptions tune StartSystem.
type SystemOptions struct {
	// Sim configures the simulator (its zero value: manual clock, no faults).
	Sim gatewaysim.Options
	// Controllers configures the controllers (tests pass a fast Cadence).
	Controllers controllers.Options
	// Now is the operator's clock (default time.Now): a test moves it to
	// reach the next budget window without sleeping.
	Now func() time.Time
}

// FastCadence polls quickly so tests that rely on inquiry finish fast.
var FastCadence = shared.Cadence{
	ProcessingMin: 100 * time.Millisecond, ProcessingMax: 500 * time.Millisecond,
	OperationPoll: 200 * time.Millisecond, AuthorizedMax: time.Second,
}

// StartSystem starts the simulator and the manager against env. Stop it with Stop.
func StartSystem(env *Env, opts SystemOptions) (*System, error) {
	sim, err := gatewaysim.New(opts.Sim)
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	s := &System{Env: env, Sim: sim, srv: httptest.NewServer(sim.Handler()), opts: opts}
	s.SimURL = s.srv.URL
	if err := s.startManager(); err != nil {
		s.srv.Close()
		return nil, err
	}
	return s, nil
}

// startManager starts a fresh manager (new caches, new registry, nothing
// carried over in memory), as a restarted pod would.
func (s *System) startManager() error {
	skip := true
	mgr, err := ctrl.NewManager(s.Env.Config, ctrl.Options{
		Scheme:                 s.Env.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: &skip},
	})
	if err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	reg := connection.NewRegistry(mgr.GetClient(), mgr.GetAPIReader(), connection.Options{
		Retry: gateway.RetryPolicy{MaxAttempts: 2, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond},
	})
	copts := s.opts.Controllers
	if copts.Cadence == nil {
		c := FastCadence
		copts.Cadence = &c
	}
	if copts.Engine.MinBackoff == 0 {
		copts.Engine.MinBackoff, copts.Engine.MaxBackoff = 50*time.Millisecond, 2*time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := controllers.Setup(ctx, mgr, &shared.Deps{Registry: reg, Now: s.opts.Now}, copts); err != nil {
		cancel()
		return err
	}
	s.Manager, s.Registry, s.Client, s.cancel, s.done = mgr, reg, mgr.GetClient(), cancel, make(chan error, 1)
	go func() { s.done <- mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		cancel()
		return fmt.Errorf("cache did not sync")
	}
	return nil
}

// RestartManager stops the manager, wherever it is in its work, and starts
// a new one with nothing carried over in memory.
func (s *System) RestartManager() error {
	s.cancel()
	<-s.done
	return s.startManager()
}

// Stop stops the manager and the simulator.
func (s *System) Stop() {
	s.cancel()
	<-s.done
	s.srv.Close()
	_ = s.Sim.Close()
}

// AddTenant creates namespace ns and, in it, merchant "m-<ns>" (AddMerchant):
// one test's own room in a shared suite.
func (s *System) AddTenant(ctx context.Context, ns, notifyBase string, mutate func(*v1.GatewayConfigSpec)) (*Merchant, error) {
	if err := s.Env.CreateNamespace(ctx, ns); err != nil {
		return nil, fmt.Errorf("namespace %s: %w", ns, err)
	}
	return s.AddMerchant(ctx, "m-"+ns, ns, notifyBase, mutate)
}

// AddMerchant registers a merchant at the simulator and creates its
// credentials Secret (in namespace ns) and a GatewayConfig named name.
// notifyBase is the GatewayConfig's notificationBaseURL ("" for none).
func (s *System) AddMerchant(ctx context.Context, name, ns, notifyBase string, mutate func(*v1.GatewayConfigSpec)) (*Merchant, error) {
	key, err := gateway.GenerateKey()
	if err != nil {
		return nil, err
	}
	clientID := "SIM_" + name
	if err := s.Sim.AddMerchant(clientID, &key.PublicKey, "1", ""); err != nil {
		return nil, err
	}
	priv, err := gateway.EncodePrivateKey(key)
	if err != nil {
		return nil, err
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-credentials", Namespace: ns},
		Data: map[string][]byte{
			v1.SecretKeyClientID:           []byte(clientID),
			v1.SecretKeyMerchantPrivateKey: []byte(priv),
			v1.SecretKeyGatewayPublicKey:   []byte(s.Sim.GatewayPublicKeyString()),
		}}
	if err := s.Env.Client.Create(ctx, secret); err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	gwc := &v1.GatewayConfig{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1.GatewayConfigSpec{Endpoint: s.SimURL, NotificationBaseURL: notifyBase,
			CredentialsSecretRef: v1.NamespacedSecretReference{Name: secret.Name, Namespace: ns}}}
	if mutate != nil {
		mutate(&gwc.Spec)
	}
	if err := s.Env.Client.Create(ctx, gwc); err != nil {
		return nil, fmt.Errorf("gatewayconfig: %w", err)
	}
	return &Merchant{ClientID: clientID, Key: key, GatewayConfig: name}, nil
}

// Eventually polls cond every 20ms until it returns true, or fails t after
// timeout with the last message cond gave. No sleeps as synchronisation:
// the condition is re-read from the apiserver each time.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; last: %s", timeout, what, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// CreateNamespace creates a namespace.
func (e *Env) CreateNamespace(ctx context.Context, name string) error {
	return e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
}
