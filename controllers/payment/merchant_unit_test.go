package payment

import (
	"context"
	"errors"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/controllers/shared/sharedtest"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/gateway/gatewayfake"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// registered is MerchantRegistration shop/acme of GatewayConfig gw with
// the review results given (PSP name → status).
func registered(overall string, psps map[string]string) *v1.MerchantRegistration {
	m := &v1.MerchantRegistration{}
	m.Namespace, m.Name = "shop", "acme"
	m.Spec = v1.MerchantRegistrationSpec{GatewayRef: v1.GatewayReference{Name: "gw"}, ReferenceMerchantID: "acme-1",
		DisplayName: "Acme", MCC: "5732", Address: v1.RegistrationAddress{Region: "HK", City: "Hong Kong"}}
	transition.BeginRegistration(m, "reg1", "d")
	f := transition.RegistrationFacts{Source: transition.SourceInquiry, RequestID: "reg1", Status: overall}
	for name, st := range psps {
		f.PSPs = append(f.PSPs, gateway.PSPRegistrationResult{PSPName: name, RegistrationResult: gateway.RegistrationResult{RegistrationStatus: st}})
	}
	if _, err := transition.ApplyRegistration(m, f, sharedtest.Created.Time); err != nil {
		panic(err)
	}
	return m
}

// TestSecondaryMerchant: a payment naming a secondary merchant waits,
// Blocked MerchantNotRegistered, until its registration is approved for
// the payment's method, and once it may pay carries the merchant's
// registered details as order.merchant.
func TestSecondaryMerchant(t *testing.T) {
	A, R, P := gateway.RegistrationApproved, gateway.RegistrationRejected, gateway.RegistrationPending
	other := registered(A, map[string]string{"ALIPAY_HK": A})
	other.Spec.GatewayRef.Name = "other"
	for _, tc := range []struct {
		name    string
		reg     *v1.MerchantRegistration
		sent    bool   // the payment already sent its pay
		blocked string // "" when it may pay
	}{
		{"missing", nil, false, "MerchantRegistration shop/acme does not exist"},
		{"another gateway", other, false, "with GatewayConfig other, not gw"},
		{"under review", registered(P, map[string]string{"ALIPAY_HK": P}), false, "under review for ALIPAY_HK"},
		{"rejected for the method", registered(A, map[string]string{"ALIPAY_HK": R, "GCASH": A}), false, "rejected for ALIPAY_HK"},
		{"approved", registered(A, map[string]string{"ALIPAY_HK": A, "GCASH": R}), false, ""},
		{"already sent", registered(R, map[string]string{"ALIPAY_HK": R}), true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := unitPayment()
			p.Spec.MerchantRef = &v1.LocalObjectReference{Name: "acme"}
			if tc.sent {
				p.Status.PaymentRequestID = "pay1"
			}
			var objs []client.Object
			if tc.reg != nil {
				objs = append(objs, tc.reg)
			}
			cl, err := sharedtest.Objects(objs...)
			if err != nil {
				t.Fatal(err)
			}
			k := paymentKind{deps: &shared.Deps{Client: cl, APIReader: cl}}
			m, err := k.secondaryMerchant(context.Background(), p)
			var wait *engine.WaitError
			if tc.blocked != "" {
				if !errors.As(err, &wait) || !wait.Blocked || wait.Reason != v1.ReasonMerchantNotRegistered || !strings.Contains(wait.Message, tc.blocked) {
					t.Fatalf("err %v, want Blocked MerchantNotRegistered %q", err, tc.blocked)
				}
				return
			}
			if err != nil || m == nil {
				t.Fatalf("merchant %v, err %v", m, err)
			}
			e := paymentAt(t, p, &gatewayfake.Client{})
			e.merchant = m
			req, _, err := e.payRequest(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			if got := req.Order.Merchant; got == nil || got.ReferenceMerchantID != "acme-1" || got.MerchantName != "Acme" || got.MerchantMCC != "5732" ||
				got.MerchantAddress == nil || got.MerchantAddress.City != "Hong Kong" {
				t.Fatalf("order.merchant %+v", got)
			}
		})
	}
}
