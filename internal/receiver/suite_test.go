package receiver_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/connection"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/receiver"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// The suite runs against a real kube-apiserver and etcd (envtest), a
// controller-runtime manager for the receiver's cache, client and event
// recorder (exactly as cmd/notification-receiver wires them), and the
// gateway simulator over HTTP, which sends real signed notifications to an
// httptest server running the receiver.

var (
	env *testenv.Env
	k8s client.Client // direct, uncached
	mgr manager.Manager

	merchantKey *rsa.PrivateKey // the merchant's key (requests to the sim)
	gatewayKey  *rsa.PrivateKey // the simulated gateway's key (signs notifications)
	otherKey    *rsa.PrivateKey // a key nobody trusts
)

const (
	pollEvery = 20 * time.Millisecond
	waitFor   = 10 * time.Second
)

func TestMain(m *testing.M) { os.Exit(runSuite(m)) }

func runSuite(m *testing.M) int {
	ctrl.SetLogger(logr.Discard())
	var err error
	env, err = testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	k8s = env.Client
	for _, k := range []**rsa.PrivateKey{&merchantKey, &gatewayKey, &otherKey} {
		if *k, err = gateway.GenerateKey(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	mgr, err = ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:  env.Scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Client:  client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := receiver.SetupIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	sctx, scancel := context.WithTimeout(ctx, time.Minute)
	defer scancel()
	if !mgr.GetCache().WaitForCacheSync(sctx) {
		fmt.Fprintln(os.Stderr, "manager cache did not sync")
		return 1
	}
	code := m.Run()
	cancel()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
	}
	return code
}

// fixture is one merchant: a namespace, a simulator with the merchant
// registered, its credentials Secret and GatewayConfig, and a receiver
// served over HTTP.
type fixture struct {
	t        *testing.T
	ctx      context.Context
	ns       string
	sim      *gatewaysim.Simulator
	clientID string
	gwc      string
	reg      *connection.Registry
	recv     *receiver.Receiver
	metrics  *prometheus.Registry
	url      string // the receiver's base URL
	conn     *connection.Connection

	mu   sync.Mutex
	seen []seenRequest
}

// seenRequest is a request the receiver got, byte for byte.
type seenRequest struct {
	path   string
	header http.Header
	body   []byte
	status int
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newFixture sets a merchant up. mutate may adjust the receiver options
// (e.g. wrap the client).
func newFixture(t *testing.T, mutate ...func(*receiver.Options)) *fixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f := &fixture{t: t, ctx: ctx}

	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "recv-"}}
	must(t, k8s.Create(ctx, nsObj))
	f.ns = nsObj.Name

	sim, err := gatewaysim.New(gatewaysim.Options{GatewayKey: gatewayKey, Start: time.Now().UTC().Truncate(time.Millisecond), Seed: 7})
	must(t, err)
	f.sim = sim
	t.Cleanup(func() { _ = sim.Close() })
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(simSrv.Close)

	f.reg = connection.NewRegistry(mgr.GetClient(), mgr.GetAPIReader(), connection.Options{})
	f.metrics = prometheus.NewRegistry()
	opts := receiver.Options{
		Client:     mgr.GetClient(),
		APIReader:  mgr.GetAPIReader(),
		Registry:   f.reg,
		Recorder:   mgr.GetEventRecorder("notification-receiver"),
		Logger:     testr.NewWithOptions(t, testr.Options{Verbosity: 1}),
		Registerer: f.metrics,
		Now:        sim.Now,
		// Tests create GatewayConfigs as they go: no refresh rate limit.
		RefreshInterval: time.Nanosecond,
	}
	for _, m := range mutate {
		m(&opts)
	}
	f.recv, err = receiver.New(opts)
	must(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		f.recv.ServeHTTP(rec, r)
		f.mu.Lock()
		f.seen = append(f.seen, seenRequest{path: r.URL.EscapedPath(), header: r.Header.Clone(), body: body, status: rec.status})
		f.mu.Unlock()
	}))
	t.Cleanup(srv.Close) // runs before sim.Close: in-flight notifications finish first
	f.url = srv.URL

	f.clientID = "SANDBOX_RCV" + strings.ToUpper(randHex(6))
	must(t, sim.AddMerchant(f.clientID, &merchantKey.PublicKey, "1", f.url+ids.RouteBase))
	f.gwc = f.createGateway(f.clientID, simSrv.URL, sim.GatewayPublicKeyString())
	f.conn = f.connection(f.gwc)
	return f
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

// createGateway creates a credentials Secret and a GatewayConfig for clientID.
func (f *fixture) createGateway(clientID, endpoint, gatewayPub string) string {
	f.t.Helper()
	priv, err := gateway.EncodePrivateKey(merchantKey)
	must(f.t, err)
	name := "gw-" + strings.ToLower(randHex(4))
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns}, StringData: map[string]string{
		v1.SecretKeyClientID: clientID, v1.SecretKeyMerchantPrivateKey: priv, v1.SecretKeyGatewayPublicKey: gatewayPub,
	}}
	must(f.t, k8s.Create(f.ctx, sec))
	gwc := &v1.GatewayConfig{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1.GatewayConfigSpec{
		Endpoint: endpoint, CredentialsSecretRef: v1.NamespacedSecretReference{Name: name, Namespace: f.ns},
		NotificationBaseURL: f.url,
	}}
	must(f.t, k8s.Create(f.ctx, gwc))
	f.t.Cleanup(func() { _ = k8s.Delete(context.Background(), gwc) })
	return name
}

// connection waits until the registry can build the GatewayConfig's
// connection (the manager cache has seen it).
func (f *fixture) connection(name string) *connection.Connection {
	f.t.Helper()
	var c *connection.Connection
	f.eventually("connection for GatewayConfig "+name, func() bool {
		var err error
		c, err = f.reg.Get(f.ctx, name)
		return err == nil
	})
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond every 20ms for up to 10s.
func (f *fixture) eventually(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out after %v waiting for %s", waitFor, what)
		}
		time.Sleep(pollEvery)
	}
}

// quiesce waits until the simulator has attempted every due notification.
func (f *fixture) quiesce() {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, waitFor)
	defer cancel()
	must(f.t, f.sim.Quiesce(ctx))
}

// ---- objects -------------------------------------------------------------------

func (f *fixture) walletPayment(name, value string) *v1.Payment {
	return &v1.Payment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: v1.PaymentSpec{
			GatewayRef:    v1.GatewayReference{Name: f.gwc},
			Amount:        v1.Money{Currency: "HKD", Value: value},
			PaymentMethod: v1.PaymentMethod{Type: "ALIPAY_HK"},
			Env:           v1.TerminalEnv{TerminalType: "WEB"},
		},
	}
}

func (f *fixture) cardPayment(name, value string, mode v1.CaptureMode) *v1.Payment {
	p := f.walletPayment(name, value)
	p.Spec.PaymentMethod = v1.PaymentMethod{Type: "CARD"}
	p.Spec.Authorization = true
	p.Spec.CaptureMode = mode
	return p
}

func (f *fixture) create(obj client.Object) {
	f.t.Helper()
	must(f.t, k8s.Create(f.ctx, obj))
}

func (f *fixture) payment(name string) *v1.Payment {
	f.t.Helper()
	var p v1.Payment
	must(f.t, k8s.Get(f.ctx, client.ObjectKey{Namespace: f.ns, Name: name}, &p))
	return &p
}

func (f *fixture) capture(name string) *v1.Capture {
	f.t.Helper()
	var c v1.Capture
	must(f.t, k8s.Get(f.ctx, client.ObjectKey{Namespace: f.ns, Name: name}, &c))
	return &c
}

func (f *fixture) refund(name string) *v1.Refund {
	f.t.Helper()
	var r v1.Refund
	must(f.t, k8s.Get(f.ctx, client.ObjectKey{Namespace: f.ns, Name: name}, &r))
	return &r
}

func (f *fixture) waitPayment(name, what string, cond func(*v1.Payment) bool) *v1.Payment {
	f.t.Helper()
	var p *v1.Payment
	f.eventually("Payment "+name+" "+what, func() bool { p = f.payment(name); return cond(p) })
	return p
}

func (f *fixture) waitPhase(name string, phase v1.PaymentPhase) *v1.Payment {
	f.t.Helper()
	return f.waitPayment(name, "phase "+string(phase), func(p *v1.Payment) bool { return p.Status.Phase == phase })
}

// writeStatus does what a controller does after a gateway answer: apply
// the facts and the conditions, write, retry conflicts.
func writeStatus[T client.Object](f *fixture, obj T, apply func(T) error) T {
	f.t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(f.ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		if err := apply(obj); err != nil {
			return err
		}
		return k8s.Status().Update(f.ctx, obj)
	})
	must(f.t, err)
	return obj
}

// pay calls pay at the simulator as the Payment controller does and writes
// the resulting status (Processing, awaiting the user).
func (f *fixture) pay(p *v1.Payment) *v1.Payment {
	f.t.Helper()
	reqID := ids.Payment(p, "")
	amt, err := transition.WireFromMoney(p.Spec.Amount)
	must(f.t, err)
	req := &gateway.PayRequest{
		PaymentRequestID: reqID, PaymentAmount: amt,
		PaymentMethod:    gateway.PaymentMethod{PaymentMethodType: p.Spec.PaymentMethod.Type},
		PaymentNotifyURL: ids.NotifyURL(f.url, ids.KindPayment, p.Namespace, p.Name),
		Env:              &gateway.Env{TerminalType: p.Spec.Env.TerminalType},
	}
	if p.Spec.Authorization {
		// The operator captures itself (Capture objects, or the Payment
		// controller in captureMode Automatic), so the gateway is told MANUAL.
		req.PaymentFactor = &gateway.PaymentFactor{IsAuthorization: gateway.BoolPtr(true), CaptureMode: "MANUAL"}
	}
	return f.payWith(p, req)
}

func (f *fixture) payWith(p *v1.Payment, req *gateway.PayRequest) *v1.Payment {
	f.t.Helper()
	resp, err := f.conn.Client.Pay(f.ctx, req)
	if err != nil && !gateway.IsInProcess(err) {
		f.t.Fatalf("pay: %v", err)
	}
	return writeStatus(f, p, func(p *v1.Payment) error {
		if _, err := transition.ApplyPayment(p, transition.FromPayResponse(resp), time.Now()); err != nil {
			return err
		}
		transition.SetPaymentConditions(p)
		return nil
	})
}

// paidWallet creates a wallet payment and pays it through the simulator;
// the receiver moves it to Succeeded.
func (f *fixture) paidWallet(name, value string) *v1.Payment {
	f.t.Helper()
	p := f.walletPayment(name, value)
	f.create(p)
	p = f.pay(p)
	must(f.t, f.sim.Complete(p.Status.PaymentRequestID))
	f.quiesce()
	return f.waitPhase(name, v1.PaymentSucceeded)
}

// ---- hand-made notifications ------------------------------------------------------

// notification is a request to send to the receiver.
type notification struct {
	method      string
	path        string // the path it is sent to
	signedPath  string // the path signed ("" = path)
	contentType string
	clientID    string
	key         *rsa.PrivateKey // nil = unsigned
	at          time.Time       // Request-Time (zero = the sim's now)
	body        []byte
	header      map[string]string // overrides
}

// send posts n and returns the status and body.
func (f *fixture) send(n notification) (int, string) {
	f.t.Helper()
	if n.method == "" {
		n.method = http.MethodPost
	}
	if n.contentType == "" {
		n.contentType = gateway.ContentTypeJSON
	}
	if n.clientID == "" {
		n.clientID = f.clientID
	}
	if n.at.IsZero() {
		n.at = f.sim.Now()
	}
	signed := n.signedPath
	if signed == "" {
		signed = n.path
	}
	req, err := http.NewRequestWithContext(f.ctx, n.method, f.url+n.path, bytes.NewReader(n.body))
	must(f.t, err)
	rt := gateway.FormatTime(n.at)
	req.Header.Set(gateway.HeaderContentType, n.contentType)
	req.Header.Set(gateway.HeaderClientID, n.clientID)
	req.Header.Set(gateway.HeaderRequestTime, rt)
	if n.key != nil {
		sig, err := gateway.Sign(n.key, "1", http.MethodPost, signed, n.clientID, rt, n.body)
		must(f.t, err)
		req.Header.Set(gateway.HeaderSignature, sig)
	}
	for k, v := range n.header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return f.do(req)
}

func (f *fixture) do(req *http.Request) (int, string) {
	f.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	must(f.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// resend posts a request the receiver already got, byte for byte.
func (f *fixture) resend(s seenRequest) (int, string) {
	f.t.Helper()
	req, err := http.NewRequestWithContext(f.ctx, http.MethodPost, f.url+s.path, bytes.NewReader(s.body))
	must(f.t, err)
	req.Header = s.header.Clone()
	return f.do(req)
}

// lastSeen returns the last request the receiver got whose body contains substr.
func (f *fixture) lastSeen(substr string) seenRequest {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.seen) - 1; i >= 0; i-- {
		if bytes.Contains(f.seen[i].body, []byte(substr)) {
			return f.seen[i]
		}
	}
	f.t.Fatalf("the receiver got no request containing %q", substr)
	return seenRequest{}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	return b
}

func paymentPath(ns, name string) string { return "/notify/payment/" + ns + "/" + name }
func refundPath(ns, name string) string  { return "/notify/refund/" + ns + "/" + name }

// ---- metrics and events ---------------------------------------------------------------

// metric returns a counter's value (or a histogram's count) for the labels.
func (f *fixture) metric(name string, labels map[string]string) float64 {
	f.t.Helper()
	mfs, err := f.metrics.Gather()
	must(f.t, err)
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for k, v := range labels {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == k && lp.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			if m.GetCounter() != nil {
				total += m.GetCounter().GetValue()
			}
			if m.GetHistogram() != nil {
				total += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return total
}

func (f *fixture) outcomes(kind, outcome string) float64 {
	return f.metric("cashier_receiver_notifications_total", map[string]string{"kind": kind, "outcome": outcome})
}

// waitEvent waits for an event with reason on the named object and returns its note.
func (f *fixture) waitEvent(name, reason string) string {
	f.t.Helper()
	var note string
	f.eventually("event "+reason+" on "+name, func() bool {
		var list eventsv1.EventList
		if err := k8s.List(f.ctx, &list, client.InNamespace(f.ns)); err != nil {
			return false
		}
		for _, e := range list.Items {
			if e.Regarding.Name == name && e.Reason == reason {
				note = e.Note
				return true
			}
		}
		return false
	})
	return note
}
