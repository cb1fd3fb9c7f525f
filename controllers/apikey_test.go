package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
)

// credentialsWait bounds a wait that spans one CredentialsRejected retry
// (shared.CredentialsWait, 10s) on top of the usual timeout.
const credentialsWait = timeout + 15*time.Second

// TestAPIKeyCredentials, against the real apiserver and alipay-sim over
// HTTP: a GatewayConfig whose Secret holds an API key takes a Payment to
// Processing; rotating the key (issue a new one, revoke the old, edit the
// Secret) keeps payments flowing; a revoked key in use stops them with
// CredentialsRejected on the GatewayConfig and the Payment (never a failed
// payment), and the edited Secret resumes them with the same ids. No key
// appears in any status or Event.
func TestAPIKeyCredentials(t *testing.T) {
	ctx := context.Background()
	ns := fmt.Sprintf("t%d", nsSeq.Add(1))
	if err := sys.Env.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	m, firstKeyID, err := sys.AddAPIKeyMerchant(ctx, "m-"+ns, ns)
	if err != nil {
		t.Fatal(err)
	}
	gwc := &v1.GatewayConfig{ObjectMeta: metav1.ObjectMeta{Name: m.GatewayConfig}}
	waitGatewayReady(ctx, t, gwc, metav1.ConditionTrue, v1.ReasonAvailable, "")
	if gwc.Status.Credentials != v1.CredentialAPIKey || gwc.Status.ClientID != m.ClientID || gwc.Status.KeyVersion != "" {
		t.Fatalf("status %+v", gwc.Status)
	}
	keys := []string{secretAPIKey(ctx, t, ns, m)}

	first := walletPayment(ns, "first", m.GatewayConfig, "HKD", "10.00", "ALIPAY_HK")
	create(ctx, t, first)
	waitPhase(ctx, t, first, v1.PaymentProcessing)

	// Rotation: a second key, the first revoked, the Secret edited.
	_, second := issueKey(t, m.ClientID)
	keys = append(keys, second)
	if err := sys.Sim.RevokeAPIKey(m.ClientID, firstKeyID); err != nil {
		t.Fatal(err)
	}
	setSecretAPIKey(ctx, t, ns, m, second)
	rotated := walletPayment(ns, "after-rotation", m.GatewayConfig, "HKD", "11.00", "ALIPAY_HK")
	create(ctx, t, rotated)
	waitPhaseWithin(ctx, t, rotated, v1.PaymentProcessing, credentialsWait)

	// The key in use is revoked: payments stop, clearly, and nothing fails.
	secondID := keyIDOf(t, m.ClientID, 2)
	if err := sys.Sim.RevokeAPIKey(m.ClientID, secondID); err != nil {
		t.Fatal(err)
	}
	stopped := walletPayment(ns, "while-revoked", m.GatewayConfig, "HKD", "12.00", "ALIPAY_HK")
	create(ctx, t, stopped)
	testenv.Eventually(t, timeout, "the payment waiting with CredentialsRejected", func() (bool, string) {
		stopped = get(ctx, t, stopped)
		c := condition(stopped.Status.Conditions, v1.ConditionSynced)
		return c.Reason == v1.ReasonCredentialsRejected && strings.Contains(c.Message, "was revoked") &&
				strings.Contains(c.Message, "OAUTH_FAIL") && stopped.Status.Phase != v1.PaymentFailed,
			fmt.Sprintf("phase %s, Synced %s %s: %s", stopped.Status.Phase, c.Status, c.Reason, c.Message)
	})
	waitGatewayReady(ctx, t, gwc, metav1.ConditionFalse, v1.ReasonCredentialsRejected, "API key")

	// A new key in the Secret: the same payment goes on with the same id.
	_, third := issueKey(t, m.ClientID)
	keys = append(keys, third)
	setSecretAPIKey(ctx, t, ns, m, third)
	waitPhaseWithin(ctx, t, stopped, v1.PaymentProcessing, credentialsWait)
	waitGatewayReady(ctx, t, gwc, metav1.ConditionTrue, v1.ReasonAvailable, "")
	for _, p := range []*v1.Payment{first, rotated, stopped} {
		if n := operations(t, ids.Payment(p, "")); n != 1 {
			t.Errorf("payment %s: %d gateway operations, want exactly 1", p.Name, n)
		}
	}
	assertNoKeys(ctx, t, ns, keys, gwc, first, rotated, stopped)
}

// TestAPIKeySecretValidation: a Secret with both a private key and an API
// key, or neither, makes the GatewayConfig SecretInvalid with a message
// saying so (and never the key).
func TestAPIKeySecretValidation(t *testing.T) {
	ctx := context.Background()
	ns := fmt.Sprintf("t%d", nsSeq.Add(1))
	if err := sys.Env.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	const apiKey = "isak_TEST_U0lNX1g_00112233445566778899aabbccddeeff"
	cases := []struct {
		name string
		data map[string]string
		want string
	}{
		{"both", map[string]string{v1.SecretKeyMerchantPrivateKey: "TUlJRXZRSUJBREFO", v1.SecretKeyAPIKey: apiKey}, `"merchantPrivateKey" and "apiKey" are both set`},
		{"neither", map[string]string{}, `neither "merchantPrivateKey" nor "apiKey" is set`},
		{"malformed", map[string]string{v1.SecretKeyAPIKey: "sk_live_00112233445566778899"}, `key "apiKey": not an API key`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := map[string]string{v1.SecretKeyClientID: "SIM_X", v1.SecretKeyGatewayPublicKey: sys.Sim.GatewayPublicKeyString()}
			for k, v := range tc.data {
				data[k] = v
			}
			sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: tc.name, Namespace: ns}, StringData: data}
			create(ctx, t, sec)
			gwc := &v1.GatewayConfig{ObjectMeta: metav1.ObjectMeta{Name: tc.name + "-" + ns}, Spec: v1.GatewayConfigSpec{Endpoint: sys.SimURL,
				CredentialsSecretRef: v1.NamespacedSecretReference{Name: sec.Name, Namespace: ns}}}
			create(ctx, t, gwc)
			waitGatewayReady(ctx, t, gwc, metav1.ConditionFalse, v1.ReasonSecretInvalid, tc.want)
			if c := condition(gwc.Status.Conditions, v1.ConditionReady); strings.Contains(c.Message, "00112233445566") {
				t.Fatalf("the condition shows the key: %s", c.Message)
			}
		})
	}
}

// waitGatewayReady waits for the GatewayConfig's Ready condition.
func waitGatewayReady(ctx context.Context, t *testing.T, gwc *v1.GatewayConfig, status metav1.ConditionStatus, reason, msg string) {
	t.Helper()
	testenv.Eventually(t, credentialsWait, fmt.Sprintf("GatewayConfig Ready=%s %s", status, reason), func() (bool, string) {
		*gwc = *get(ctx, t, gwc)
		c := condition(gwc.Status.Conditions, v1.ConditionReady)
		return c.Status == status && c.Reason == reason && strings.Contains(c.Message, msg), c.Reason + ": " + c.Message
	})
}

func waitPhaseWithin(ctx context.Context, t *testing.T, p *v1.Payment, phase v1.PaymentPhase, within time.Duration) {
	t.Helper()
	testenv.Eventually(t, within, fmt.Sprintf("payment %s to be %s", p.Name, phase), func() (bool, string) {
		*p = *get(ctx, t, p)
		c := condition(p.Status.Conditions, v1.ConditionSynced)
		return p.Status.Phase == phase, fmt.Sprintf("phase=%s synced=%s %s: %s", p.Status.Phase, c.Status, c.Reason, c.Message)
	})
}

func issueKey(t *testing.T, clientID string) (string, string) {
	t.Helper()
	id, key, err := sys.Sim.IssueAPIKey(clientID)
	if err != nil {
		t.Fatal(err)
	}
	return id, key
}

// keyIDOf is the id of the merchant's n-th issued key (1-based).
func keyIDOf(t *testing.T, clientID string, n int) string {
	t.Helper()
	list, err := sys.Sim.APIKeys(clientID)
	if err != nil || len(list) < n {
		t.Fatalf("keys of %s: %v %v", clientID, list, err)
	}
	return list[n-1].KeyID
}

func credentialsSecret(ctx context.Context, t *testing.T, ns string, m *testenv.Merchant) *corev1.Secret {
	t.Helper()
	return get(ctx, t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: m.GatewayConfig + "-credentials", Namespace: ns}})
}

func secretAPIKey(ctx context.Context, t *testing.T, ns string, m *testenv.Merchant) string {
	t.Helper()
	return string(credentialsSecret(ctx, t, ns, m).Data[v1.SecretKeyAPIKey])
}

// setSecretAPIKey edits the credentials Secret to hold key, as the
// platform team rotating the key does.
func setSecretAPIKey(ctx context.Context, t *testing.T, ns string, m *testenv.Merchant, key string) {
	t.Helper()
	sec := credentialsSecret(ctx, t, ns, m)
	sec.Data[v1.SecretKeyAPIKey] = []byte(key)
	if err := k8s.Update(ctx, sec); err != nil {
		t.Fatal(err)
	}
}

// assertNoKeys fails when the secret part of any key appears in the
// objects' status or in the namespace's Events.
func assertNoKeys(ctx context.Context, t *testing.T, ns string, keys []string, objs ...client.Object) {
	t.Helper()
	var texts []string
	for _, o := range objs {
		b, _ := json.Marshal(get(ctx, t, o))
		texts = append(texts, string(b))
	}
	var events corev1.EventList
	if err := k8s.List(ctx, &events, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, e := range events.Items {
		texts = append(texts, e.Message)
	}
	for _, k := range keys {
		secret := k[strings.LastIndex(k, "_")+1:]
		for _, s := range texts {
			if strings.Contains(s, secret) {
				t.Errorf("an API key appears in %.200s", s)
			}
		}
	}
}
