package ids

import (
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

// TestDerivationIsFrozen pins the exact ids derived from manifests. If this
// test fails, the derivation changed: every object not yet sent, and every
// object re-created from git after the change (a GitOps re-sync, a restore),
// would be sent under a new id and charged, captured, refunded or declared
// a second time. Do not "fix" the expected values: revert the change.
func TestDerivationIsFrozen(t *testing.T) {
	shop := Identity{Namespace: "shop", Name: "order-1001"}
	prod := Identity{Scope: "prod", Namespace: "shop", Name: "order-1001"}
	cases := []struct {
		name string
		got  string
		want string
	}{
		{"payment", PaymentRequestID("", "", shop), "pay" + frozen["payment"]},
		{"payment, scoped", PaymentRequestID("", "", prod), "pay" + frozen["payment/prod"]},
		{"capture", CaptureRequestID("", "", shop), "cap" + frozen["capture"]},
		{"refund", RefundRequestID("", "", shop), "ref" + frozen["refund"]},
		{"declaration", DeclarationRequestID("", "", shop), "dcl" + frozen["declaration"]},
		{"registration", RegistrationRequestID(Identity{Namespace: "shop", Name: "acme"}, strings.Repeat("0", 64)), "reg" + frozen["registration"]},
		{"auto-capture of a derived payment id", AutoCaptureRequestID(PaymentRequestID("", "", shop), "3f1c2a9e-8b7d-4c6e-9f01-23456789abcd"), "acap" + frozen["autocapture"]},
		{"auto-capture of an explicit payment id", AutoCaptureRequestID("order-1001", ""), "acap" + frozen["autocapture/explicit"]},
		{"legacy payment (UID) keeps its auto-capture id", AutoCaptureRequestID("payh4ocvhulpvgg5hybencwpcnlzu", "3f1c2a9e-8b7d-4c6e-9f01-23456789abcd"), "acaph4ocvhulpvgg5hybencwpcnlzu"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("derived %q, pinned %q: the id derivation changed; re-applied manifests would move money again", tc.got, tc.want)
			}
		})
	}
}

// frozen holds the hash part of each pinned id (see TestDerivationIsFrozen),
// computed independently of this package (Python's hashlib and base64 over
// the documented input) when the derivation was introduced.
var frozen = map[string]string{
	"payment":              "yt44vc6du7jm3qaknx3ottm4if",
	"payment/prod":         "pshmd6smtbwqturobrmwtvr5jf",
	"capture":              "hv3lhtdz63663c6nn5iyqxr3di",
	"refund":               "nb4dfq5hbngeni2at25hh7keq4",
	"declaration":          "7hom7ol4mggolhtfhxet7beqtq",
	"autocapture":          "xno5aomdna6w4zddl5fszanfwe",
	"autocapture/explicit": "dwwlo2mmkrrxqn3c2pau3hto7h",
	"registration":         "3jviqhiv7hhbowakdb4ytheioh",
}

func TestDerivedIDs(t *testing.T) {
	plain := regexp.MustCompile(`^[a-z0-9]+$`)
	id := Identity{Scope: "dr-east", Namespace: "shop", Name: "order-1001"}
	seen := map[string]string{}
	for name, got := range map[string]string{
		"payment": PaymentRequestID("", "", id), "capture": CaptureRequestID("", "", id), "refund": RefundRequestID("", "", id),
		"declaration": DeclarationRequestID("", "", id), "auto": AutoCaptureRequestID(PaymentRequestID("", "", id), ""),
	} {
		if !plain.MatchString(got) || len(got) > 32 {
			t.Errorf("%s: id %q has special characters or is over 32 chars (declarationRequestId allows 32)", name, got)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("%s: id %q collides with %s", name, got, other)
		}
		seen[got] = name
	}
}

// TestIdentityInputs: every part of the identity changes the id; the same
// parts always give the same id (determinism is what makes a re-created
// object adopt instead of paying again).
func TestIdentityInputs(t *testing.T) {
	base := Identity{Scope: "", Namespace: "shop", Name: "order-1"}
	cases := []struct {
		name  string
		other Identity
		same  bool
	}{
		{"same manifest", Identity{Namespace: "shop", Name: "order-1"}, true},
		{"another name", Identity{Namespace: "shop", Name: "order-2"}, false},
		{"another namespace", Identity{Namespace: "shop2", Name: "order-1"}, false},
		{"another scope", Identity{Scope: "staging", Namespace: "shop", Name: "order-1"}, false},
		{"parts do not run together", Identity{Namespace: "sho", Name: "porder-1"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := RefundRequestID("", "", base), RefundRequestID("", "", tc.other)
			if (a == b) != tc.same {
				t.Fatalf("%q vs %q: same=%v, want %v", a, b, a == b, tc.same)
			}
		})
	}
	if CaptureRequestID("", "", base)[3:] == RefundRequestID("", "", base)[3:] {
		t.Error("the kind is not part of the hash")
	}
}

// TestPrecedence: a recorded id beats an explicit one, which beats the
// derived one.
func TestPrecedence(t *testing.T) {
	id := Identity{Namespace: "shop", Name: "r1"}
	derived := RefundRequestID("", "", id)
	cases := []struct {
		name, recorded, explicit, want string
	}{
		{"derived", "", "", derived},
		{"explicit", "", "merchant-77", "merchant-77"},
		{"recorded wins over explicit", "refoldschemeid", "merchant-77", "refoldschemeid"},
		{"recorded wins over derived", "refoldschemeid", "", "refoldschemeid"},
	}
	for _, tc := range cases {
		if got := RefundRequestID(tc.recorded, tc.explicit, id); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	if Derived(KindNameRefund, "", "shop", "r1") != derived || Derived("Nope", "", "a", "b") != "" {
		t.Error("Derived disagrees with the kind functions")
	}
}

func TestLegacy(t *testing.T) {
	uid := types.UID("3f1c2a9e-8b7d-4c6e-9f01-23456789abcd")
	if id, err := LegacyPaymentRequestID(uid); err != nil || id != "payh4ocvhulpvgg5hybencwpcnlzu" {
		t.Fatalf("legacy id %q %v", id, err)
	}
	if _, err := LegacyPaymentRequestID("not-a-uuid"); err == nil {
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
	if kind, key, err := ParseRoute("/notify/registration/shops/acme"); err != nil || kind != KindRegistration || key.Name != "acme" {
		t.Errorf("registration route: parse = %s %v %v", kind, key, err)
	}
	if NotifyURL("", KindPayment, "a", "b") != "" {
		t.Error("empty base must give no URL")
	}
}
