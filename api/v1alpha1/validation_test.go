package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
)

var k8s client.Client

func TestMain(m *testing.M) {
	env, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	k8s = env.Client
	code := m.Run()
	_ = env.Stop()
	os.Exit(code)
}

const ns = "default"

func walletPayment(name string) *v1.Payment {
	return &v1.Payment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1.PaymentSpec{
			GatewayRef:    v1.GatewayReference{Name: "sim"},
			Amount:        v1.Money{Currency: "HKD", Value: "10.50"},
			PaymentMethod: v1.PaymentMethod{Type: "ALIPAY_HK"},
			Env:           v1.TerminalEnv{TerminalType: "WEB"},
		},
	}
}

// TestCreateValidation applies manifests to the real apiserver and checks
// that good ones are accepted and bad ones rejected with a message that says
// what to fix.
func TestCreateValidation(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		mutate  func(p *v1.Payment)
		wantErr string // substring of the rejection; empty = accepted
	}{
		{"wallet HKD 2 decimals", func(p *v1.Payment) {}, ""},
		{"trailing zeros allowed", func(p *v1.Payment) { p.Spec.Amount.Value = "10.500" }, ""},
		{"KWD 3 decimals", func(p *v1.Payment) { p.Spec.Amount = v1.Money{Currency: "KWD", Value: "1.250"} }, ""},
		{"JPY whole", func(p *v1.Payment) { p.Spec.Amount = v1.Money{Currency: "JPY", Value: "1000"} }, ""},
		{"HKD 3 decimals", func(p *v1.Payment) { p.Spec.Amount.Value = "10.505" }, "value 10.505 has more decimal places than HKD allows (2)"},
		{"unknown currency", func(p *v1.Payment) { p.Spec.Amount = v1.Money{Currency: "XYZ", Value: "1.00"} }, "unknown currency XYZ"},
		{"JPY decimals", func(p *v1.Payment) { p.Spec.Amount = v1.Money{Currency: "JPY", Value: "10.5"} }, "has more decimal places than JPY allows (0)"},
		{"KWD 4 decimals", func(p *v1.Payment) { p.Spec.Amount = v1.Money{Currency: "KWD", Value: "1.2345"} }, "KWD allows (3)"},
		{"negative", func(p *v1.Payment) { p.Spec.Amount.Value = "-10.50" }, "value must be a plain positive decimal number"},
		{"zero", func(p *v1.Payment) { p.Spec.Amount.Value = "0.00" }, "value must be greater than zero"},
		{"exponent", func(p *v1.Payment) { p.Spec.Amount.Value = "1e3" }, "value must be a plain positive decimal number"},
		{"lower-case currency", func(p *v1.Payment) { p.Spec.Amount.Currency = "hkd" }, "spec.amount.currency"},
		{"unknown terminal type", func(p *v1.Payment) { p.Spec.Env.TerminalType = "TV" }, `spec.env.terminalType: Unsupported value: "TV"`},
		{"APP without osType", func(p *v1.Payment) { p.Spec.Env.TerminalType = "APP" }, "spec.env.osType (IOS or ANDROID) is required"},
		{"APP with osType", func(p *v1.Payment) { p.Spec.Env = v1.TerminalEnv{TerminalType: "APP", OSType: "IOS"} }, ""},
		{"installments 13", func(p *v1.Payment) { p.Spec.CreditPayPlan = &v1.CreditPayPlan{Installments: 13} }, "spec.creditPayPlan.installments"},
		{"installments 1", func(p *v1.Payment) { p.Spec.CreditPayPlan = &v1.CreditPayPlan{Installments: 1} }, "spec.creditPayPlan.installments"},
		{"fee 101", func(p *v1.Payment) {
			fee := int32(101)
			p.Spec.CreditPayPlan = &v1.CreditPayPlan{Installments: 6, FeePercentage: &fee}
		}, "spec.creditPayPlan.feePercentage"},
		{"authorization on a wallet", func(p *v1.Payment) { p.Spec.Authorization = true }, "spec.authorization is only possible with paymentMethod.type CARD"},
		{"card authorization manual", func(p *v1.Payment) {
			p.Spec.PaymentMethod = v1.PaymentMethod{Type: "CARD", CardSecretRef: &v1.SecretReference{Name: "card"}}
			p.Spec.Authorization, p.Spec.CaptureMode = true, v1.CaptureManual
		}, ""},
		{"captureMode without authorization", func(p *v1.Payment) {
			p.Spec.PaymentMethod.Type = "CARD"
			p.Spec.CaptureMode = v1.CaptureManual
		}, "spec.captureMode needs spec.authorization: true"},
		{"card secret on a wallet", func(p *v1.Payment) { p.Spec.PaymentMethod.CardSecretRef = &v1.SecretReference{Name: "card"} }, "cardSecretRef is only for type CARD"},
		{"observe without paymentId", func(p *v1.Payment) { p.Spec.ManagementPolicy = v1.ManagementObserve }, "spec.paymentId is required when managementPolicy is Observe"},
		{"paymentId without observe", func(p *v1.Payment) { p.Spec.PaymentID = "2024X" }, "spec.paymentId is only for managementPolicy Observe"},
		{"request id with special chars", func(p *v1.Payment) { p.Spec.PaymentRequestID = "order#1" }, "spec.paymentRequestId"},
		{"unknown deletion policy", func(p *v1.Payment) { p.Spec.DeletionPolicy = "Delete" }, `spec.deletionPolicy: Unsupported value: "Delete"`},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := walletPayment(fmt.Sprintf("create-%d", i))
			tc.mutate(p)
			err := k8s.Create(ctx, p)
			checkAdmission(t, err, tc.wantErr)
		})
	}
}

// TestDefaults checks the server-side defaults.
func TestDefaults(t *testing.T) {
	ctx := context.Background()
	p := walletPayment("defaults")
	if err := k8s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	if p.Spec.DeletionPolicy != v1.DeletionOrphan || p.Spec.ManagementPolicy != v1.ManagementFull {
		t.Fatalf("defaults: deletionPolicy=%q managementPolicy=%q, want Orphan/Full", p.Spec.DeletionPolicy, p.Spec.ManagementPolicy)
	}
}

// TestUpdateValidation checks immutability and one-way cancel on the real apiserver.
func TestUpdateValidation(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		initial func(p *v1.Payment)
		update  func(p *v1.Payment)
		wantErr string
	}{
		{"cancel set", nil, func(p *v1.Payment) { p.Spec.Cancel = true }, ""},
		{"cancel flipped back", func(p *v1.Payment) { p.Spec.Cancel = true }, func(p *v1.Payment) { p.Spec.Cancel = false }, "spec.cancel is one-way"},
		{"amount changed", nil, func(p *v1.Payment) { p.Spec.Amount.Value = "11.00" }, "spec.amount is immutable"},
		{"currency changed", nil, func(p *v1.Payment) { p.Spec.Amount.Currency = "USD" }, "spec.amount is immutable"},
		{"method changed", nil, func(p *v1.Payment) { p.Spec.PaymentMethod.Type = "GCASH" }, "spec.paymentMethod is immutable"},
		{"gateway changed", nil, func(p *v1.Payment) { p.Spec.GatewayRef.Name = "other" }, "spec.gatewayRef is immutable"},
		{"request id added", nil, func(p *v1.Payment) { p.Spec.PaymentRequestID = "abc" }, "spec.paymentRequestId and spec.paymentId cannot be added or removed"},
		{"request id changed", func(p *v1.Payment) { p.Spec.PaymentRequestID = "abc" }, func(p *v1.Payment) { p.Spec.PaymentRequestID = "abd" }, "spec.paymentRequestId is immutable"},
		{"order added", nil, func(p *v1.Payment) { p.Spec.Order = &v1.Order{Description: "x"} }, "spec.order, spec.redirectURL, spec.expiresAfter, spec.userRegion and spec.merchantRegion are sent with the pay call and cannot be added or removed"},
		{"order changed", func(p *v1.Payment) { p.Spec.Order = &v1.Order{Description: "x"} }, func(p *v1.Payment) { p.Spec.Order.Description = "y" }, "spec.order is sent with the pay call and is immutable"},
		{"deletion policy changed", nil, func(p *v1.Payment) { p.Spec.DeletionPolicy = v1.DeletionCancel }, ""},
		{"labels changed", nil, func(p *v1.Payment) { p.Labels = map[string]string{"team": "a"} }, ""},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := walletPayment(fmt.Sprintf("update-%d", i))
			if tc.initial != nil {
				tc.initial(p)
			}
			if err := k8s.Create(ctx, p); err != nil {
				t.Fatalf("create: %v", err)
			}
			tc.update(p)
			checkAdmission(t, k8s.Update(ctx, p), tc.wantErr)
		})
	}
}

// TestOperationValidation covers Capture, Refund and CustomsDeclaration.
func TestOperationValidation(t *testing.T) {
	ctx := context.Background()
	hkd := v1.Money{Currency: "HKD", Value: "5.00"}
	t.Run("refund immutable", func(t *testing.T) {
		r := &v1.Refund{ObjectMeta: metav1.ObjectMeta{Name: "r1", Namespace: ns},
			Spec: v1.RefundSpec{PaymentRef: v1.LocalObjectReference{Name: "p"}, Amount: hkd, Reason: "damaged"}}
		if err := k8s.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		r.Spec.Amount.Value = "6.00"
		checkAdmission(t, k8s.Update(ctx, r), "a Refund is immutable")
	})
	t.Run("refund negative", func(t *testing.T) {
		r := &v1.Refund{ObjectMeta: metav1.ObjectMeta{Name: "r2", Namespace: ns},
			Spec: v1.RefundSpec{PaymentRef: v1.LocalObjectReference{Name: "p"}, Amount: v1.Money{Currency: "HKD", Value: "-1"}}}
		checkAdmission(t, k8s.Create(ctx, r), "value must be a plain positive decimal number")
	})
	t.Run("capture immutable", func(t *testing.T) {
		c := &v1.Capture{ObjectMeta: metav1.ObjectMeta{Name: "c1", Namespace: ns},
			Spec: v1.CaptureSpec{PaymentRef: v1.LocalObjectReference{Name: "p"}, Amount: hkd}}
		if err := k8s.Create(ctx, c); err != nil {
			t.Fatal(err)
		}
		c.Spec.IsLastCapture = true
		checkAdmission(t, k8s.Update(ctx, c), "a Capture is immutable")
	})
	decl := func(name string, m v1.Money) *v1.CustomsDeclaration {
		return &v1.CustomsDeclaration{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: v1.CustomsDeclarationSpec{PaymentRef: v1.LocalObjectReference{Name: "p"}, Amount: m,
				Customs: v1.CustomsOffice{Code: "ZONGSHU"}, MerchantCustomsCode: "1234", MerchantCustomsName: "Shop"}}
	}
	t.Run("declaration CNY", func(t *testing.T) {
		d := decl("d1", v1.Money{Currency: "CNY", Value: "100.00"})
		checkAdmission(t, k8s.Create(ctx, d), "")
		if d.Spec.Customs.Region != "CN" {
			t.Fatalf("customs.region default = %q, want CN", d.Spec.Customs.Region)
		}
	})
	t.Run("declaration not CNY", func(t *testing.T) {
		checkAdmission(t, k8s.Create(ctx, decl("d2", hkd)), "customs declarations are in CNY")
	})
	t.Run("declaration sub-order without split", func(t *testing.T) {
		d := decl("d3", v1.Money{Currency: "CNY", Value: "1"})
		d.Spec.SubOrderID = "s1"
		checkAdmission(t, k8s.Create(ctx, d), "subOrderId is only used when splitOrder is true")
	})
	t.Run("gateway config", func(t *testing.T) {
		g := &v1.GatewayConfig{ObjectMeta: metav1.ObjectMeta{Name: "g1"},
			Spec: v1.GatewayConfigSpec{Endpoint: "http://127.0.0.1:8080",
				CredentialsSecretRef: v1.NamespacedSecretReference{Name: "s", Namespace: "default"}}}
		checkAdmission(t, k8s.Create(ctx, g), "")
		if g.Spec.PathPrefix != "/ams/api" {
			t.Fatalf("pathPrefix default = %q, want /ams/api", g.Spec.PathPrefix)
		}
		bad := g.DeepCopy()
		bad.ObjectMeta = metav1.ObjectMeta{Name: "g2"}
		bad.Spec.Endpoint = "ftp://x/y"
		checkAdmission(t, k8s.Create(ctx, bad), "spec.endpoint")
		bad.Spec.Endpoint = "http://127.0.0.1:8080"
		bad.Spec.ConsultProfiles = []v1.ConsultProfile{{Name: "p", Amount: hkd, TerminalType: "WAP"}}
		checkAdmission(t, k8s.Create(ctx, bad), "osType (IOS or ANDROID) is required")
	})
}

// TestGatewayConfigEndpoint: plain http:// only to loopback or an in-cluster
// Service; anything else must be https://, and the rejection says why.
func TestGatewayConfigEndpoint(t *testing.T) {
	ctx := context.Background()
	const why = "spec.endpoint must use https://"
	for i, tc := range []struct {
		endpoint, wantErr string
	}{
		{"https://open-sea-global.alipay.com", ""},
		{"https://gateway.example.com:8443", ""},
		{"https://10.0.0.7", ""},
		{"http://127.0.0.1:8080", ""},
		{"http://127.12.0.9", ""},
		{"http://localhost:9000", ""},
		{"http://[::1]:8080", ""},
		{"http://alipay-sim.payments.svc:8080", ""},
		{"http://alipay-sim.payments.svc.cluster.local", ""},
		{"http://open-sea-global.alipay.com", why},
		{"http://10.0.0.7:8080", why},
		{"http://128.0.0.1", why},
		{"http://127.0.0.1.evil.example", why},
		{"http://localhost.evil.example", why},
		{"http://evil.example/x.svc", "spec.endpoint"},
		{"http://svc", why},
		{"http://alipay-sim.svc.example.com", why},
		{"http://[::2]:8080", why},
	} {
		t.Run(tc.endpoint, func(t *testing.T) {
			g := &v1.GatewayConfig{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("endpoint-%d", i)},
				Spec: v1.GatewayConfigSpec{Endpoint: tc.endpoint,
					CredentialsSecretRef: v1.NamespacedSecretReference{Name: "s", Namespace: "default"}}}
			checkAdmission(t, k8s.Create(ctx, g), tc.wantErr)
			if tc.wantErr == why && !strings.Contains(k8s.Create(ctx, g).Error(), "loopback") {
				t.Error("the rejection does not say which http:// endpoints are allowed")
			}
		})
	}
}

func checkAdmission(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("want accepted, got: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("want rejection containing %q, got accepted", want)
	}
	if !apierrors.IsInvalid(err) {
		t.Fatalf("want an Invalid (422) rejection, got: %v", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("rejection does not say %q:\n%v", want, err)
	}
}

// TestIdentityValidation: the identity fields are checked at admission.
func TestIdentityValidation(t *testing.T) {
	ctx := context.Background()
	hkd := v1.Money{Currency: "HKD", Value: "5.00"}
	decl := func(name string, m v1.Money) *v1.CustomsDeclaration {
		return &v1.CustomsDeclaration{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: v1.CustomsDeclarationSpec{PaymentRef: v1.LocalObjectReference{Name: "p"}, Amount: m,
				Customs: v1.CustomsOffice{Code: "ZONGSHU"}, MerchantCustomsCode: "1234", MerchantCustomsName: "Shop"}}
	}
	t.Run("explicit operation ids", func(t *testing.T) {
		r := &v1.Refund{ObjectMeta: metav1.ObjectMeta{Name: "r-id", Namespace: ns},
			Spec: v1.RefundSpec{PaymentRef: v1.LocalObjectReference{Name: "p"}, Amount: hkd, RefundRequestID: "order 7/refund"}}
		checkAdmission(t, k8s.Create(ctx, r), "spec.refundRequestId")
		r.Spec.RefundRequestID = "order-7_refund-1"
		checkAdmission(t, k8s.Create(ctx, r), "")
		d := decl("d-id", v1.Money{Currency: "CNY", Value: "1"})
		d.Spec.DeclarationRequestID = strings.Repeat("d", 33)
		checkAdmission(t, k8s.Create(ctx, d), "spec.declarationRequestId")
	})
	t.Run("identity scope", func(t *testing.T) {
		g := &v1.GatewayConfig{ObjectMeta: metav1.ObjectMeta{Name: "g-scope"},
			Spec: v1.GatewayConfigSpec{Endpoint: "http://127.0.0.1:8080", IdentityScope: "Prod East",
				CredentialsSecretRef: v1.NamespacedSecretReference{Name: "s", Namespace: "default"}}}
		checkAdmission(t, k8s.Create(ctx, g), "spec.identityScope")
		g.Spec.IdentityScope = "prod-east"
		checkAdmission(t, k8s.Create(ctx, g), "")
		g.Spec.IdentityScope = "prod-west"
		checkAdmission(t, k8s.Update(ctx, g), "spec.identityScope is immutable")
		g = get(ctx, t, g)
		g.Spec.IdentityScope = ""
		checkAdmission(t, k8s.Update(ctx, g), "spec.identityScope cannot be added or removed")
		u := &v1.GatewayConfig{ObjectMeta: metav1.ObjectMeta{Name: "g-unscoped"},
			Spec: v1.GatewayConfigSpec{Endpoint: "http://127.0.0.1:8080",
				CredentialsSecretRef: v1.NamespacedSecretReference{Name: "s", Namespace: "default"}}}
		checkAdmission(t, k8s.Create(ctx, u), "")
		u.Spec.IdentityScope = "late"
		checkAdmission(t, k8s.Update(ctx, u), "spec.identityScope cannot be added or removed")
	})
}

func get[T client.Object](ctx context.Context, t *testing.T, o T) T {
	t.Helper()
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
		t.Fatal(err)
	}
	return o
}
