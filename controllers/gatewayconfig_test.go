package controllers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
)

// TestGatewayConfigSecretValidation: a Secret whose keys do not parse makes
// the GatewayConfig Ready=False with a reason and a message naming the key.
func TestGatewayConfigSecretValidation(t *testing.T) {
	ctx := context.Background()
	ns := fmt.Sprintf("t%d", nsSeq.Add(1))
	if err := sys.Env.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "broken", Namespace: ns}, StringData: map[string]string{
		v1.SecretKeyClientID: "SIM_X", v1.SecretKeyMerchantPrivateKey: "not a key", v1.SecretKeyGatewayPublicKey: sys.Sim.GatewayPublicKeyString()}}
	if err := k8s.Create(ctx, sec); err != nil {
		t.Fatal(err)
	}
	gwc := &v1.GatewayConfig{ObjectMeta: metav1.ObjectMeta{Name: "broken-" + ns}, Spec: v1.GatewayConfigSpec{Endpoint: sys.SimURL,
		CredentialsSecretRef: v1.NamespacedSecretReference{Name: "broken", Namespace: ns}}}
	if err := k8s.Create(ctx, gwc); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, "Ready=False SecretInvalid naming merchantPrivateKey", func() (bool, string) {
		gwc = get(ctx, t, gwc)
		c := condition(gwc.Status.Conditions, v1.ConditionReady)
		return c.Status == metav1.ConditionFalse && c.Reason == v1.ReasonSecretInvalid &&
			strings.Contains(c.Message, v1.SecretKeyMerchantPrivateKey), c.Reason + ": " + c.Message
	})
}

// TestConsultedMethodsFailFast: the GatewayConfig consults its profiles and
// publishes the offered methods; a Payment whose method a matching profile
// does not offer fails at once, with no gateway call.
func TestConsultedMethodsFailFast(t *testing.T) {
	ctx := context.Background()
	ns := fmt.Sprintf("t%d", nsSeq.Add(1))
	if err := sys.Env.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	m, err := sys.AddMerchant(ctx, "m-"+ns, ns, "", func(g *v1.GatewayConfigSpec) {
		// This merchant's contract offers cards and Alipay HK only.
		if err := sys.Sim.SetPaymentOptions("SIM_m-"+ns, []gatewaysim.PaymentOptionConfig{
			{PaymentMethodType: "CARD", PaymentMethodCategory: "CARD", Regions: []string{"GLOBAL"}, CardBrands: []string{"VISA"}},
			{PaymentMethodType: "ALIPAY_HK", PaymentMethodCategory: "WALLET", Regions: []string{"HK"}, Currencies: []string{"HKD"}},
		}); err != nil {
			t.Fatal(err)
		}
		g.ConsultProfiles = []v1.ConsultProfile{{Name: "hk-web", TerminalType: "WEB", UserRegion: "HK",
			Amount: v1.Money{Currency: "HKD", Value: "100.00"}}}
	})
	if err != nil {
		t.Fatal(err)
	}
	gwc := &v1.GatewayConfig{ObjectMeta: metav1.ObjectMeta{Name: m.GatewayConfig}}
	testenv.Eventually(t, timeout, "consulted payment methods in status", func() (bool, string) {
		gwc = get(ctx, t, gwc)
		for _, r := range gwc.Status.PaymentMethods {
			if r.Profile == "hk-web" && len(r.Methods) > 0 {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", gwc.Status.PaymentMethods)
	})

	offered := walletPayment(ns, "offered", m.GatewayConfig, "HKD", "10.00", "ALIPAY_HK")
	notOffered := walletPayment(ns, "not-offered", m.GatewayConfig, "HKD", "10.00", "OCTOPUS")
	for _, p := range []*v1.Payment{offered, notOffered} {
		if err := k8s.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	waitPhase(ctx, t, offered, v1.PaymentProcessing)
	notOffered = waitPhase(ctx, t, notOffered, v1.PaymentFailed)
	c := condition(notOffered.Status.Conditions, v1.ConditionReady)
	if r := notOffered.Status.LastResult; r == nil || r.Code != v1.ReasonMethodNotOffered || !strings.Contains(c.Message, "OCTOPUS") {
		t.Fatalf("lastResult %+v, Ready %+v", r, c)
	}
	reqID := ids.Payment(notOffered, "")
	if n := operations(t, reqID); n != 0 {
		t.Fatalf("a method that is not offered reached the gateway: %d operations", n)
	}
}

// TestEditedConsultProfileIsConsultedAtOnce: editing a consult profile
// without renaming it consults it again now, not a consult interval later.
func TestEditedConsultProfileIsConsultedAtOnce(t *testing.T) {
	ctx := context.Background()
	ns := fmt.Sprintf("t%d", nsSeq.Add(1))
	if err := sys.Env.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	clientID := "SIM_m-" + ns
	options := func(methods ...string) {
		var cfg []gatewaysim.PaymentOptionConfig
		for _, m := range methods {
			cfg = append(cfg, gatewaysim.PaymentOptionConfig{PaymentMethodType: m, PaymentMethodCategory: "WALLET",
				Regions: []string{"HK"}, Currencies: []string{"HKD"}})
		}
		if err := sys.Sim.SetPaymentOptions(clientID, cfg); err != nil {
			t.Fatal(err)
		}
	}
	m, err := sys.AddMerchant(ctx, "m-"+ns, ns, "", func(g *v1.GatewayConfigSpec) {
		options("ALIPAY_HK")
		g.ConsultProfiles = []v1.ConsultProfile{{Name: "hk-web", TerminalType: "WEB", UserRegion: "HK",
			Amount: v1.Money{Currency: "HKD", Value: "100.00"}}}
	})
	if err != nil {
		t.Fatal(err)
	}
	gwc := &v1.GatewayConfig{ObjectMeta: metav1.ObjectMeta{Name: m.GatewayConfig}}
	offers := func(method string) func() (bool, string) {
		return func() (bool, string) {
			gwc = get(ctx, t, gwc)
			for _, r := range gwc.Status.PaymentMethods {
				for _, om := range r.Methods {
					if r.Profile == "hk-web" && om.Type == method && om.Enabled {
						return true, ""
					}
				}
			}
			return false, fmt.Sprintf("%+v", gwc.Status.PaymentMethods)
		}
	}
	testenv.Eventually(t, timeout, "ALIPAY_HK consulted", offers("ALIPAY_HK"))
	// The merchant's contract gains Octopus; the profile is edited (same
	// name, another amount): the consult runs again at once.
	options("ALIPAY_HK", "OCTOPUS")
	gwc.Spec.ConsultProfiles[0].Amount.Value = "200.00"
	if err := k8s.Update(ctx, gwc); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, "the edited profile consulted again (OCTOPUS offered)", offers("OCTOPUS"))
}
