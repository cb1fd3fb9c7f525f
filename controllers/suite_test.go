package controllers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
)

var (
	sys *testenv.System
	k8s client.Client // direct, uncached
)

const timeout = 20 * time.Second

func TestMain(m *testing.M) {
	env, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sys, err = testenv.StartSystem(env, testenv.SystemOptions{Sim: gatewaysim.Options{Seed: 1}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = env.Stop()
		os.Exit(1)
	}
	k8s = env.Client
	code := m.Run()
	sys.Stop()
	_ = env.Stop()
	os.Exit(code)
}

var nsSeq atomic.Int64

// setup makes a fresh namespace and merchant (GatewayConfig) for one test.
func setup(t *testing.T) (ctx context.Context, ns string, m *testenv.Merchant) {
	t.Helper()
	ctx = context.Background()
	ns = fmt.Sprintf("t%d", nsSeq.Add(1))
	m, err := sys.AddTenant(ctx, ns, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, ns, m
}

func walletPayment(ns, name, gwc, currency, value, method string) *v1.Payment {
	return &v1.Payment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1.PaymentSpec{GatewayRef: v1.GatewayReference{Name: gwc}, Amount: v1.Money{Currency: currency, Value: value},
			PaymentMethod: v1.PaymentMethod{Type: method}, Env: v1.TerminalEnv{TerminalType: "WEB"},
			RedirectURL: "https://shop.example.com/done"}}
}

func cardPayment(ctx context.Context, t *testing.T, ns, name, gwc, cardNo string, mode v1.CaptureMode) *v1.Payment {
	t.Helper()
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-card", Namespace: ns}, StringData: map[string]string{
		v1.CardSecretKeyNumber: cardNo, v1.CardSecretKeyCVV: "123", v1.CardSecretKeyExpiryMonth: "12",
		v1.CardSecretKeyExpiryYear: "2031", v1.CardSecretKeyHolderName: "Ada Lovelace"}}
	if err := k8s.Create(ctx, sec); err != nil {
		t.Fatal(err)
	}
	p := walletPayment(ns, name, gwc, "USD", "25.00", "CARD")
	p.Spec.PaymentMethod.CardSecretRef = &v1.SecretReference{Name: sec.Name}
	p.Spec.Authorization = true
	p.Spec.CaptureMode = mode
	return p
}

func get[T client.Object](ctx context.Context, t *testing.T, obj T) T {
	t.Helper()
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// waitPhase waits until the payment reaches phase and returns it.
func waitPhase(ctx context.Context, t *testing.T, p *v1.Payment, phase v1.PaymentPhase) *v1.Payment {
	t.Helper()
	testenv.Eventually(t, timeout, fmt.Sprintf("payment %s to be %s", p.Name, phase), func() (bool, string) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(p.Status.Conditions, v1.ConditionSynced)
		msg := fmt.Sprintf("phase=%s", p.Status.Phase)
		if c != nil {
			msg += fmt.Sprintf(" synced=%s %s: %s", c.Status, c.Reason, c.Message)
		}
		return p.Status.Phase == phase, msg
	})
	return p
}

func condition(conds []metav1.Condition, typ string) metav1.Condition {
	if c := meta.FindStatusCondition(conds, typ); c != nil {
		return *c
	}
	return metav1.Condition{}
}

// checkout opens the payment's checkout page over HTTP and presses button
// ("pay" or "decline"), as a person in a browser would.
func checkout(t *testing.T, pageURL, button string) {
	t.Helper()
	resp, err := http.Get(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `id="`+button+`"`) {
		t.Fatalf("checkout page %s: status %d, no %q button:\n%s", pageURL, resp.StatusCode, button, page)
	}
	u, _ := url.Parse(pageURL)
	u.Path += "/" + button
	// Like a browser, but the merchant's redirect URL is only checked, never
	// followed: nothing leaves this machine.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.PostForm(u.String(), url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		t.Fatalf("POST %s: %d", u, resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && !strings.HasPrefix(loc, "https://shop.example.com/done") && !strings.HasPrefix(loc, "/") {
		t.Fatalf("checkout redirected to %q, want the payment's redirectURL", loc)
	}
}

// operations counts the gateway operations the simulator created for a
// request id (exactly-once proofs).
func operations(t *testing.T, requestID string) int {
	t.Helper()
	n := 0
	for _, r := range sys.Sim.Ledger().Requests {
		if r.RequestID == requestID {
			n += r.Operations
		}
	}
	return n
}

func key(o client.Object) types.NamespacedName { return client.ObjectKeyFromObject(o) }
