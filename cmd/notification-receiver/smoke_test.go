package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	var err error
	env, err = testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = env.Stop()
	os.Exit(code)
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// smokeMerchant creates a namespace, a merchant's credentials and
// GatewayConfig, and a Payment p on it; it returns the namespace, the
// gateway's signing key and the payment.
func smokeMerchant(ctx context.Context, t *testing.T, clientID string) (string, *rsa.PrivateKey, *v1.Payment) {
	t.Helper()
	k8s := env.Client
	gwKey, err := gateway.GenerateKey()
	must(t, err)
	merchantKey, err := gateway.GenerateKey()
	must(t, err)
	priv, err := gateway.EncodePrivateKey(merchantKey)
	must(t, err)
	pub, err := gateway.EncodePublicKey(&gwKey.PublicKey)
	must(t, err)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "smoke-"}}
	must(t, k8s.Create(ctx, ns))
	must(t, k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: ns.Name}, StringData: map[string]string{
		v1.SecretKeyClientID: clientID, v1.SecretKeyMerchantPrivateKey: priv, v1.SecretKeyGatewayPublicKey: pub}}))
	must(t, k8s.Create(ctx, &v1.GatewayConfig{ObjectMeta: metav1.ObjectMeta{Name: "smoke"}, Spec: v1.GatewayConfigSpec{
		Endpoint: "http://127.0.0.1:1", CredentialsSecretRef: v1.NamespacedSecretReference{Name: "creds", Namespace: ns.Name}}}))
	p := &v1.Payment{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns.Name}, Spec: v1.PaymentSpec{
		GatewayRef: v1.GatewayReference{Name: "smoke"}, Amount: v1.Money{Currency: "HKD", Value: "10.50"},
		PaymentMethod: v1.PaymentMethod{Type: "ALIPAY_HK"}, Env: v1.TerminalEnv{TerminalType: "WEB"}}}
	must(t, k8s.Create(ctx, p))
	return ns.Name, gwKey, p
}

// postSigned sends body to addr+path signed by the gateway's key, as the
// gateway does, and returns the status code and the body of the answer.
func postSigned(t *testing.T, key *rsa.PrivateKey, clientID, addr, path string, body []byte) (int, string) {
	t.Helper()
	rt := gateway.FormatTime(time.Now())
	sig, err := gateway.Sign(key, "1", http.MethodPost, path, clientID, rt, body)
	must(t, err)
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+path, bytes.NewReader(body))
	must(t, err)
	req.Header.Set("Content-Type", gateway.ContentTypeJSON)
	req.Header.Set(gateway.HeaderClientID, clientID)
	req.Header.Set(gateway.HeaderRequestTime, rt)
	req.Header.Set(gateway.HeaderSignature, sig)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp.StatusCode, string(got)
}

// startBinary runs the command's manager as main does and waits for /readyz;
// it returns the notification address, the metrics address and the
// manager's outcome.
func startBinary(ctx context.Context, t *testing.T, ns string) (string, string, <-chan error) {
	t.Helper()
	probe, metricsAddr := freePort(t), freePort(t)
	cfg, err := parseFlags([]string{"--listen=127.0.0.1:0", "--metrics-bind-address=" + metricsAddr, "--health-probe-bind-address=" + probe,
		"--watch-namespace=" + ns})
	must(t, err)
	mgr, srv, err := setup(ctx, cfg, env.Config, logr.Discard())
	must(t, err)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	eventually(t, "/readyz", func() bool {
		resp, err := http.Get("http://" + probe + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return srv.addr.Load().(net.Addr).String(), metricsAddr, done
}

// TestBinaryWiring runs the command's manager, exactly as main does, against
// a real API server: it becomes ready, and a signed notification moves a
// Payment and is acknowledged.
func TestBinaryWiring(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const clientID = "SANDBOX_SMOKE"
	ns, gwKey, p := smokeMerchant(ctx, t, clientID)
	addr, metricsAddr, done := startBinary(ctx, t, ns)

	body := []byte(`{"notifyType":"PAYMENT_RESULT","result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},` +
		`"paymentRequestId":"` + ids.Payment(p, "") + `","paymentId":"2026112211000000000001","paymentAmount":{"currency":"HKD","value":"1050"}}`)
	path := ids.NotifyURL("http://"+addr, ids.KindPayment, ns, "p")[len("http://"+addr):]
	if code, got := postSigned(t, gwKey, clientID, addr, path, body); code != http.StatusOK || got != gateway.NotificationAck {
		t.Fatalf("notification: %d %s", code, got)
	}
	var after v1.Payment
	must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(p), &after))
	if after.Status.Phase != v1.PaymentSucceeded || after.Status.PaymentID != "2026112211000000000001" {
		t.Fatalf("payment status = %+v", after.Status)
	}

	// A namespace outside --watch-namespace is not served.
	other := ids.NotifyURL("http://"+addr, ids.KindPayment, "elsewhere", "p")[len("http://"+addr):]
	if code, _ := postSigned(t, gwKey, clientID, addr, other, body); code != http.StatusNotFound {
		t.Fatalf("unserved namespace: %d", code)
	}

	mfs, err := metrics.Registry.Gather()
	must(t, err)
	found := false
	for _, mf := range mfs {
		if mf.GetName() == "cashier_receiver_notifications_total" {
			found = true
		}
	}
	if !found {
		t.Fatal("receiver metrics are not on the controller-runtime registry")
	}
	checkSecureMetrics(ctx, t, metricsAddr)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("manager: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("manager did not stop")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
