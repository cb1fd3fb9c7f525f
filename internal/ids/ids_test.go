package ids

import (
	"regexp"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

func TestDerivedIDs(t *testing.T) {
	uid := types.UID("3f1c2a9e-8b7d-4c6e-9f01-23456789abcd")
	plain := regexp.MustCompile(`^[a-z0-9]+$`)
	seen := map[string]bool{}
	for name, f := range map[string]func(types.UID) (string, error){
		"capture": CaptureRequestID, "auto": AutoCaptureRequestID, "refund": RefundRequestID, "declaration": DeclarationRequestID,
		"payment": func(u types.UID) (string, error) { return PaymentRequestID("", u) },
	} {
		id, err := f(uid)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := f(uid)
		if id != again {
			t.Errorf("%s: not deterministic: %s vs %s", name, id, again)
		}
		if !plain.MatchString(id) || len(id) > 32 {
			t.Errorf("%s: id %q has special characters or is over 32 chars", name, id)
		}
		if seen[id] {
			t.Errorf("%s: id %q collides with another kind", name, id)
		}
		seen[id] = true
	}
	if id, _ := PaymentRequestID("order-42", uid); id != "order-42" {
		t.Errorf("spec id not used: %s", id)
	}
	if _, err := RefundRequestID("not-a-uuid"); err == nil {
		t.Error("bad UID accepted")
	}
}

func TestRoutes(t *testing.T) {
	u := NotifyURL("https://hooks.example.com/pay/", KindRefund, "shop", "r-1")
	if u != "https://hooks.example.com/pay/notify/refund/shop/r-1" {
		t.Fatalf("url = %s", u)
	}
	kind, key, err := ParseRoute("/pay/notify/refund/shop/r-1")
	if err != nil || kind != KindRefund || key.Namespace != "shop" || key.Name != "r-1" {
		t.Fatalf("parse = %s %v %v", kind, key, err)
	}
	kind, key, err = ParseRoute("/notify/payment/notify/notify")
	if err != nil || kind != KindPayment || key.Namespace != "notify" || key.Name != "notify" {
		t.Fatalf("namespace and name \"notify\": parse = %s %v %v", kind, key, err)
	}
	for _, bad := range []string{"/notify", "/notify/payment/x", "/notify/dispute/a/b", "/notify/payment/a/b/c", "/notify/payment/a/b/", "notify/payment/a/b", "/other"} {
		if _, _, err := ParseRoute(bad); err == nil {
			t.Errorf("%s: parsed", bad)
		}
	}
	if NotifyURL("", KindPayment, "a", "b") != "" {
		t.Error("empty base must give no URL")
	}
}
