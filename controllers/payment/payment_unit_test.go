package payment

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/controllers/shared/sharedtest"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/gateway/gatewayfake"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/money"
)

// unitPayment is an HKD 10.00 ALIPAY_HK wallet payment shop/p1 on
// GatewayConfig gw, created a minute ago, never reconciled.
func unitPayment() *v1.Payment {
	return &v1.Payment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "p1", CreationTimestamp: sharedtest.Created},
		Spec: v1.PaymentSpec{GatewayRef: v1.GatewayReference{Name: "gw"}, Amount: v1.Money{Currency: "HKD", Value: "10.00"},
			PaymentMethod: v1.PaymentMethod{Type: "ALIPAY_HK"}, Env: v1.TerminalEnv{TerminalType: "WEB"},
			RedirectURL: "https://shop.example.com/done"}}
}

// paymentAt is the Payment adapter for p talking to gw; cluster holds the
// objects it reads (the GatewayConfig's consult results).
func paymentAt(t *testing.T, p *v1.Payment, gw *gatewayfake.Client, cluster ...client.Object) *paymentExternal {
	t.Helper()
	cl, err := sharedtest.Objects(cluster...)
	if err != nil {
		t.Fatal(err)
	}
	amount, err := money.ParseMajor(p.Spec.Amount.Currency, p.Spec.Amount.Value)
	if err != nil {
		t.Fatal(err)
	}
	return &paymentExternal{deps: &shared.Deps{Client: cl, APIReader: cl, Cadence: shared.DefaultCadence}, conn: sharedtest.ConnTo(gw), amount: amount}
}

// gatewayHolds answers inquiryPayment: the gateway holds payment P9 under
// the asked paymentRequestId with status, result code, amount (minor
// units, HKD) and method.
func gatewayHolds(status, code, value, method string) func(context.Context, *gateway.InquiryPaymentRequest) (*gateway.InquiryPaymentResponse, error) {
	return func(_ context.Context, req *gateway.InquiryPaymentRequest) (*gateway.InquiryPaymentResponse, error) {
		return &gateway.InquiryPaymentResponse{Result: sharedtest.OKResult, PaymentStatus: status, PaymentResultCode: code,
			PaymentRequestID: req.PaymentRequestID, PaymentID: "P9", PaymentAmount: &gateway.Amount{Currency: "HKD", Value: value},
			PaymentMethodType: method}, nil
	}
}

// paymentCase is one gateway answer and what the adapter must make of it.
type paymentCase struct {
	name string
	// edit changes unitPayment before the step.
	edit func(*v1.Payment)
	gw   *gatewayfake.Client
	// cluster is what the fake client holds besides nothing.
	cluster []client.Object
	calls   []string
	// outcome as outcome() names it; msg is in the error, the Adopted
	// description or status.lastResult.message.
	outcome, msg string
	// unchanged: status equals the initial one (but for what Create
	// reserves, the paymentRequestId); else phase and lastResult code.
	unchanged bool
	phase     v1.PaymentPhase
	code      string
}

// check compares what the step did with the case.
func (tc paymentCase) check(t *testing.T, before, p *v1.Payment, said string, err error) {
	t.Helper()
	if got := sharedtest.Outcome(err); got != tc.outcome {
		t.Fatalf("outcome %q (%v), want %q", got, err, tc.outcome)
	}
	if diff := cmp.Diff(tc.calls, sharedtest.Sent(tc.gw)); diff != "" {
		t.Errorf("gateway calls (-want +got):\n%s", diff)
	}
	if err != nil {
		said = err.Error()
	}
	if r := p.Status.LastResult; r != nil {
		said += " | " + r.Message
	}
	if !strings.Contains(said, tc.msg) {
		t.Errorf("said %q, want it to contain %q", said, tc.msg)
	}
	if tc.unchanged {
		if diff := cmp.Diff(before.Status, p.Status); diff != "" {
			t.Errorf("status changed (-before +after):\n%s", diff)
		}
		return
	}
	code := ""
	if r := p.Status.LastResult; r != nil {
		code = r.Code
	}
	if p.Status.Phase != tc.phase || code != tc.code {
		t.Errorf("phase %s, last result %q; want %s, %q (status %+v)", p.Status.Phase, code, tc.phase, tc.code, p.Status)
	}
}

func (tc paymentCase) payment() *v1.Payment {
	p := unitPayment()
	if tc.edit != nil {
		tc.edit(p)
	}
	return p
}

// TestPaymentObserve: what Observe makes of each inquiry answer. A payment
// the object never paid is adopted only when the gateway holds the same
// amount and method under its paymentRequestId.
func TestPaymentObserve(t *testing.T) {
	id := ids.Payment(unitPayment(), "")
	byRequestID, byPaymentID := "inquiryPayment paymentRequestId="+id, "inquiryPayment paymentId=P9"
	const spent = "a name is spent once used: to charge again, create a Payment with a new name"
	conflict := "the gateway already holds payment P9 under paymentRequestId " + id + " with "
	cases := []paymentCase{
		{name: "the gateway has never heard of it: it does not exist",
			gw:    &gatewayfake.Client{FakeInquiryPayment: sharedtest.InquiryFails(gatewayfake.Refuse(gateway.APIInquiryPayment, gateway.CodeOrderNotExist))},
			calls: []string{byRequestID}, unchanged: true},
		{name: "an imported payment the gateway does not have",
			edit:  func(p *v1.Payment) { p.Spec.ManagementPolicy, p.Spec.PaymentID = v1.ManagementObserve, "P-IMPORT" },
			gw:    &gatewayfake.Client{FakeInquiryPayment: sharedtest.InquiryFails(gatewayfake.Refuse(gateway.APIInquiryPayment, gateway.CodeOrderNotExist))},
			calls: []string{"inquiryPayment paymentId=P-IMPORT"}, outcome: "terminal " + v1.ReasonPaymentNotFound, unchanged: true,
			msg: "the gateway has no payment P-IMPORT to observe"},
		{name: "same amount and method: adopted",
			gw:    &gatewayfake.Client{FakeInquiryPayment: gatewayHolds(gateway.PaymentStatusSuccess, "", "1000", "ALIPAY_HK")},
			calls: []string{byRequestID}, msg: "paymentRequestId " + id + " is gateway payment P9, SUCCESS", phase: v1.PaymentSucceeded},
		{name: "adopted failed: final, and the name is spent",
			gw:    &gatewayfake.Client{FakeInquiryPayment: gatewayHolds(gateway.PaymentStatusFail, gateway.CodeProcessFail, "1000", "ALIPAY_HK")},
			calls: []string{byRequestID}, msg: "is gateway payment P9, FAIL; " + spent, phase: v1.PaymentFailed, code: gateway.CodeProcessFail},
		{name: "adopted closed (expired unpaid): final, and the name is spent",
			gw:    &gatewayfake.Client{FakeInquiryPayment: gatewayHolds(gateway.PaymentStatusFail, gateway.CodeOrderIsClosed, "1000", "")},
			calls: []string{byRequestID}, msg: spent, phase: v1.PaymentExpired, code: gateway.CodeOrderIsClosed},
		{name: "adopted cancelled: final, and the name is spent",
			gw:    &gatewayfake.Client{FakeInquiryPayment: gatewayHolds(gateway.PaymentStatusCancelled, "", "1000", "ALIPAY_HK")},
			calls: []string{byRequestID}, msg: "P9, CANCELLED; " + spent, phase: v1.PaymentCancelled},
		{name: "another amount: identity conflict, nothing applied",
			gw:    &gatewayfake.Client{FakeInquiryPayment: gatewayHolds(gateway.PaymentStatusSuccess, "", "2000", "ALIPAY_HK")},
			calls: []string{byRequestID}, outcome: "terminal " + v1.ReasonIdentityConflict, unchanged: true,
			msg: conflict + "amount 2000 HKD (minor units) where the spec asks 1000 HKD: this name was used before for another payment; nothing was charged; to charge, create a Payment with a new name"},
		{name: "another method: identity conflict, nothing applied",
			gw:    &gatewayfake.Client{FakeInquiryPayment: gatewayHolds(gateway.PaymentStatusSuccess, "", "1000", "ALIPAY_CN")},
			calls: []string{byRequestID}, outcome: "terminal " + v1.ReasonIdentityConflict, unchanged: true,
			msg: conflict + "payment method ALIPAY_CN where the spec asks ALIPAY_HK:"},
		{name: "another amount and method: both named",
			gw:    &gatewayfake.Client{FakeInquiryPayment: gatewayHolds(gateway.PaymentStatusFail, gateway.CodeProcessFail, "999", "ALIPAY_CN")},
			calls: []string{byRequestID}, outcome: "terminal " + v1.ReasonIdentityConflict, unchanged: true,
			msg: "amount 999 HKD (minor units) where the spec asks 1000 HKD and payment method ALIPAY_CN where the spec asks ALIPAY_HK"},
		{name: "U answer: retried, nothing applied",
			gw:    &gatewayfake.Client{FakeInquiryPayment: sharedtest.InquiryFails(gatewayfake.Refuse(gateway.APIInquiryPayment, gateway.CodeUnknownException))},
			calls: []string{byRequestID}, outcome: "retry", unchanged: true, msg: gateway.CodeUnknownException},
		{name: "timeout: retried, nothing applied",
			gw:    &gatewayfake.Client{FakeInquiryPayment: sharedtest.InquiryFails(sharedtest.ErrTimeout)},
			calls: []string{byRequestID}, outcome: "retry", unchanged: true, msg: "timeout"},
		{name: "a payment this object paid is inquired by paymentId and applied without a check",
			edit: func(p *v1.Payment) {
				p.Status = v1.PaymentStatus{Phase: v1.PaymentProcessing, PaymentRequestID: id, PaymentID: "P9"}
			},
			gw:    &gatewayfake.Client{FakeInquiryPayment: gatewayHolds(gateway.PaymentStatusSuccess, "", "1000", "ALIPAY_CN")},
			calls: []string{byPaymentID}, phase: v1.PaymentSucceeded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.payment()
			before := p.DeepCopy()
			obs, err := paymentAt(t, p, tc.gw, tc.cluster...).Observe(context.Background(), p)
			tc.check(t, before, p, obs.Adopted, err)
			if wantExists := err == nil && !tc.unchanged; obs.Exists != wantExists {
				t.Errorf("exists = %v, want %v", obs.Exists, wantExists)
			}
			if submitted := paymentSubmitted(before); submitted && obs.Adopted != "" {
				t.Errorf("a paid payment was adopted: %q", obs.Adopted)
			}
		})
	}
}

// paySays answers pay with resp and err.
func paySays(resp *gateway.PayResponse, err error) func(context.Context, *gateway.PayRequest) (*gateway.PayResponse, error) {
	return func(context.Context, *gateway.PayRequest) (*gateway.PayResponse, error) { return resp, err }
}

// payRefuses answers pay for paymentRequestId id with result code (F or U).
func payRefuses(id, code string) func(context.Context, *gateway.PayRequest) (*gateway.PayResponse, error) {
	return paySays(&gateway.PayResponse{Result: gateway.NewResult(code), PaymentRequestID: id}, gatewayfake.Refuse(gateway.APIPay, code))
}

// offersOnlyCN is GatewayConfig gw whose consult for WEB HKD payments
// offers ALIPAY_CN and not ALIPAY_HK.
func offersOnlyCN() *v1.GatewayConfig {
	return &v1.GatewayConfig{ObjectMeta: metav1.ObjectMeta{Name: "gw"},
		Spec: v1.GatewayConfigSpec{ConsultProfiles: []v1.ConsultProfile{{Name: "web-hkd", TerminalType: "WEB", Amount: v1.Money{Currency: "HKD", Value: "10.00"}}}},
		Status: v1.GatewayConfigStatus{PaymentMethods: []v1.ProfilePaymentMethods{{Profile: "web-hkd", ConsultTime: &sharedtest.Created,
			Methods: []v1.OfferedPaymentMethod{{Type: "ALIPAY_CN", Enabled: true}, {Type: "ALIPAY_HK", Enabled: false}}}}}}
}

// TestPaymentCreate: how the pay call's answer concludes a payment. The
// paymentRequestId goes into status before the call, whatever comes back.
// A pay refused because the id's payment already ended shows that payment's
// real final phase and says the name is spent.
func TestPaymentCreate(t *testing.T) {
	id := ids.Payment(unitPayment(), "")
	pay, inquiry := "pay "+id+" 1000 HKD", "inquiryPayment paymentRequestId="+id
	const spent = "(paymentRequestId "
	answer, refused := paySays, func(code string) func(context.Context, *gateway.PayRequest) (*gateway.PayResponse, error) {
		return payRefuses(id, code)
	}
	cases := []paymentCase{
		{name: "paid", gw: &gatewayfake.Client{FakePay: answer(&gateway.PayResponse{Result: sharedtest.OKResult, PaymentRequestID: id, PaymentID: "P9",
			PaymentAmount: &gateway.Amount{Currency: "HKD", Value: "1000"}}, nil)},
			calls: []string{pay}, phase: v1.PaymentSucceeded, code: "SUCCESS"},
		{name: "in process: the user pays at the wallet", gw: &gatewayfake.Client{FakePay: answer(&gateway.PayResponse{
			Result: gateway.NewResult(gateway.CodePaymentInProcess), PaymentRequestID: id, PaymentID: "P9", NormalURL: "https://wallet.example/pay"},
			gatewayfake.Refuse(gateway.APIPay, gateway.CodePaymentInProcess))},
			calls: []string{pay}, phase: v1.PaymentProcessing, code: gateway.CodePaymentInProcess},
		{name: "PROCESS_FAIL for a payment that failed before: its phase, and the name is spent",
			gw: &gatewayfake.Client{FakePay: refused(gateway.CodeProcessFail),
				FakeInquiryPayment: gatewayHolds(gateway.PaymentStatusFail, gateway.CodeRiskReject, "1000", "ALIPAY_HK")},
			calls: []string{pay, inquiry}, phase: v1.PaymentFailed, code: gateway.CodeRiskReject,
			msg: spent + id + " is spent: to charge again, create a Payment with a new name)"},
		{name: "ORDER_IS_CLOSED for a payment that expired unpaid: its phase, and the name is spent",
			gw: &gatewayfake.Client{FakePay: refused(gateway.CodeOrderIsClosed),
				FakeInquiryPayment: gatewayHolds(gateway.PaymentStatusFail, gateway.CodeOrderIsClosed, "1000", "ALIPAY_HK")},
			calls: []string{pay, inquiry}, phase: v1.PaymentExpired, code: gateway.CodeOrderIsClosed, msg: spent + id + " is spent"},
		{name: "ORDER_IS_CANCELED for a payment that was cancelled: its phase, and the name is spent",
			gw: &gatewayfake.Client{FakePay: refused(gateway.CodeOrderIsCanceled),
				FakeInquiryPayment: gatewayHolds(gateway.PaymentStatusCancelled, gateway.CodeOrderIsCanceled, "1000", "ALIPAY_HK")},
			calls: []string{pay, inquiry}, phase: v1.PaymentCancelled, code: gateway.CodeOrderIsCanceled, msg: spent + id + " is spent"},
		{name: "PROCESS_FAIL and the inquiry times out: failed on the pay answer",
			gw:    &gatewayfake.Client{FakePay: refused(gateway.CodeProcessFail), FakeInquiryPayment: sharedtest.InquiryFails(sharedtest.ErrTimeout)},
			calls: []string{pay, inquiry}, phase: v1.PaymentFailed, code: gateway.CodeProcessFail},
		{name: "refused for good", gw: &gatewayfake.Client{FakePay: refused(gateway.CodeRiskReject)},
			calls: []string{pay}, phase: v1.PaymentFailed, code: gateway.CodeRiskReject},
		{name: "the id was used with another amount: identity conflict naming it, nothing applied",
			gw: &gatewayfake.Client{FakePay: refused(gateway.CodeRepeatReqInconsistent),
				FakeInquiryPayment: gatewayHolds(gateway.PaymentStatusSuccess, "", "2000", "ALIPAY_HK")},
			calls: []string{pay, inquiry}, outcome: "terminal " + v1.ReasonIdentityConflict, unchanged: true,
			msg: "with amount 2000 HKD (minor units) where the spec asks 1000 HKD: this name was used before for another payment"},
		{name: "the id was used with other parameters the inquiry does not show: identity conflict in the gateway's words",
			gw:    &gatewayfake.Client{FakePay: refused(gateway.CodeRepeatReqInconsistent), FakeInquiryPayment: sharedtest.InquiryFails(sharedtest.ErrTimeout)},
			calls: []string{pay, inquiry}, outcome: "terminal " + v1.ReasonIdentityConflict, unchanged: true,
			msg: "paymentRequestId " + id + " was used before with another amount or payment method"},
		{name: "U answer: retried with the same id", gw: &gatewayfake.Client{FakePay: refused(gateway.CodeUnknownException)},
			calls: []string{pay}, outcome: "retry", unchanged: true},
		{name: "timeout: retried with the same id", gw: &gatewayfake.Client{FakePay: answer(nil, sharedtest.ErrTimeout)},
			calls: []string{pay}, outcome: "retry", unchanged: true},
		{name: "refused by the client before sending",
			gw:    &gatewayfake.Client{FakePay: answer(nil, fmt.Errorf("pay: %w: paymentRedirectUrl is required", gateway.ErrInvalidRequest))},
			calls: []string{pay}, outcome: "terminal " + v1.ReasonInvalidSpec, unchanged: true, msg: "paymentRedirectUrl is required"},
		{name: "ORDER_IS_CANCELED and the inquiry names no result code: the name is still said to be spent",
			gw: &gatewayfake.Client{FakePay: refused(gateway.CodeOrderIsCanceled),
				FakeInquiryPayment: gatewayHolds(gateway.PaymentStatusCancelled, "", "1000", "ALIPAY_HK")},
			calls: []string{pay, inquiry}, phase: v1.PaymentCancelled, code: gateway.CodeOrderIsCanceled, msg: spent + id + " is spent"},
		{name: "a method the merchant's consult does not offer: refused without a call",
			gw: &gatewayfake.Client{}, cluster: []client.Object{offersOnlyCN()}, outcome: "terminal " + v1.ReasonMethodNotOffered, unchanged: true,
			msg: `payment method ALIPAY_HK is not offered to this merchant for WEB HKD payments (consult profile "web-hkd" offers: ALIPAY_CN)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.payment()
			before := p.DeepCopy()
			if len(tc.calls) > 0 {
				before.Status.PaymentRequestID = id // reserved before the call
			}
			_, err := paymentAt(t, p, tc.gw, tc.cluster...).Create(context.Background(), p)
			tc.check(t, before, p, "", err)
		})
	}
}

// TestPaymentCreateObserve: a wallet payment that never paid pays without
// inquiring first. An answer only a payment the gateway already held gets
// (SUCCESS, PROCESS_FAIL, ORDER_IS_CLOSED) is adopted through the inquiry,
// as Observe adopts; PAYMENT_IN_PROCESS is a new payment's. A spec the
// operator refuses is checked with the gateway before it fails.
func TestPaymentCreateObserve(t *testing.T) {
	id := ids.Payment(unitPayment(), "")
	pay, inquiry := "pay "+id+" 1000 HKD", "inquiryPayment paymentRequestId="+id
	const spent = "a name is spent once used: to charge again, create a Payment with a new name"
	notFound := sharedtest.InquiryFails(gatewayfake.Refuse(gateway.APIInquiryPayment, gateway.CodeOrderNotExist))
	paid := paySays(&gateway.PayResponse{Result: sharedtest.OKResult, PaymentRequestID: id, PaymentID: "P9",
		PaymentAmount: &gateway.Amount{Currency: "HKD", Value: "1000"}}, nil)
	cases := []struct {
		paymentCase
		// held: the answer showed a payment the gateway held before.
		held bool
	}{
		{paymentCase: paymentCase{name: "new: PAYMENT_IN_PROCESS, one call", gw: &gatewayfake.Client{FakePay: paySays(&gateway.PayResponse{
			Result: gateway.NewResult(gateway.CodePaymentInProcess), PaymentRequestID: id, PaymentID: "P9", NormalURL: "https://wallet.example/pay"},
			gatewayfake.Refuse(gateway.APIPay, gateway.CodePaymentInProcess))},
			calls: []string{pay}, phase: v1.PaymentProcessing, code: gateway.CodePaymentInProcess}},
		{paymentCase: paymentCase{name: "SUCCESS: paid before, adopted from the inquiry",
			gw:    &gatewayfake.Client{FakePay: paid, FakeInquiryPayment: gatewayHolds(gateway.PaymentStatusSuccess, "", "1000", "ALIPAY_HK")},
			calls: []string{pay, inquiry}, msg: "paymentRequestId " + id + " is gateway payment P9, SUCCESS", phase: v1.PaymentSucceeded}, held: true},
		{paymentCase: paymentCase{name: "PROCESS_FAIL, cancelled before: adopted, the name is spent",
			gw: &gatewayfake.Client{FakePay: payRefuses(id, gateway.CodeProcessFail),
				FakeInquiryPayment: gatewayHolds(gateway.PaymentStatusCancelled, "", "1000", "ALIPAY_HK")},
			calls: []string{pay, inquiry}, msg: "P9, CANCELLED; " + spent, phase: v1.PaymentCancelled}, held: true},
		{paymentCase: paymentCase{name: "PROCESS_FAIL, failed before: adopted with its code, the name is spent",
			gw: &gatewayfake.Client{FakePay: payRefuses(id, gateway.CodeProcessFail),
				FakeInquiryPayment: gatewayHolds(gateway.PaymentStatusFail, gateway.CodeRiskReject, "1000", "ALIPAY_HK")},
			calls: []string{pay, inquiry}, msg: "P9, FAIL; " + spent, phase: v1.PaymentFailed, code: gateway.CodeRiskReject}, held: true},
		{paymentCase: paymentCase{name: "ORDER_IS_CLOSED, expired unpaid before: adopted",
			gw: &gatewayfake.Client{FakePay: payRefuses(id, gateway.CodeOrderIsClosed),
				FakeInquiryPayment: gatewayHolds(gateway.PaymentStatusFail, gateway.CodeOrderIsClosed, "1000", "ALIPAY_HK")},
			calls: []string{pay, inquiry}, msg: spent, phase: v1.PaymentExpired, code: gateway.CodeOrderIsClosed}, held: true},
		{paymentCase: paymentCase{name: "SUCCESS, but the inquiry shows another amount: identity conflict, nothing applied",
			gw:    &gatewayfake.Client{FakePay: paid, FakeInquiryPayment: gatewayHolds(gateway.PaymentStatusSuccess, "", "2000", "ALIPAY_HK")},
			calls: []string{pay, inquiry}, outcome: "terminal " + v1.ReasonIdentityConflict, unchanged: true, msg: "amount 2000 HKD"}},
		{paymentCase: paymentCase{name: "REPEAT_REQ_INCONSISTENT: identity conflict naming what differs, nothing applied",
			gw: &gatewayfake.Client{FakePay: payRefuses(id, gateway.CodeRepeatReqInconsistent),
				FakeInquiryPayment: gatewayHolds(gateway.PaymentStatusSuccess, "", "1000", "ALIPAY_CN")},
			calls: []string{pay, inquiry}, outcome: "terminal " + v1.ReasonIdentityConflict, unchanged: true, msg: "payment method ALIPAY_CN where the spec asks ALIPAY_HK"}},
		{paymentCase: paymentCase{name: "SUCCESS, but the inquiry times out: retried, nothing applied",
			gw:    &gatewayfake.Client{FakePay: paid, FakeInquiryPayment: sharedtest.InquiryFails(sharedtest.ErrTimeout)},
			calls: []string{pay, inquiry}, outcome: "retry", unchanged: true, msg: "pay answered for a payment the gateway already held (SUCCESS)"}},
		{paymentCase: paymentCase{name: "PROCESS_FAIL, but the inquiry does not find it: retried, nothing applied",
			gw:    &gatewayfake.Client{FakePay: payRefuses(id, gateway.CodeProcessFail), FakeInquiryPayment: notFound},
			calls: []string{pay, inquiry}, outcome: "retry", unchanged: true, msg: "inquiryPayment does not find paymentRequestId " + id}},
		{paymentCase: paymentCase{name: "timeout: retried with the same id", gw: &gatewayfake.Client{FakePay: paySays(nil, sharedtest.ErrTimeout)},
			calls: []string{pay}, outcome: "retry", unchanged: true}},
		{paymentCase: paymentCase{name: "a method not offered, unknown to the gateway: refused after an inquiry, no pay",
			gw: &gatewayfake.Client{FakeInquiryPayment: notFound}, cluster: []client.Object{offersOnlyCN()}, calls: []string{inquiry},
			outcome: "terminal " + v1.ReasonMethodNotOffered, unchanged: true, msg: "payment method ALIPAY_HK is not offered"}},
		{paymentCase: paymentCase{name: "a method not offered, but the gateway holds it: adopted, never failed, no pay",
			gw:    &gatewayfake.Client{FakeInquiryPayment: gatewayHolds(gateway.PaymentStatusSuccess, "", "1000", "ALIPAY_HK")},
			calls: []string{inquiry}, cluster: []client.Object{offersOnlyCN()}, msg: "is gateway payment P9, SUCCESS", phase: v1.PaymentSucceeded}, held: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.payment()
			before := p.DeepCopy()
			if tc.calls[0] == pay {
				before.Status.PaymentRequestID = id // reserved before the call
			}
			e := paymentAt(t, p, tc.gw, tc.cluster...)
			if !e.CreateObserves(p) {
				t.Fatal("a wallet payment that never paid is not paid without asking first")
			}
			obs, err := e.CreateObserve(context.Background(), p)
			tc.check(t, before, p, obs.Adopted, err)
			if obs.Exists != tc.held || (obs.Adopted != "") != tc.held {
				t.Errorf("exists %v, adopted %q; want held %v", obs.Exists, obs.Adopted, tc.held)
			}
		})
	}
	card := unitPayment()
	card.Spec.PaymentMethod.Type, card.Spec.Authorization = "CARD", true
	if paymentAt(t, card, &gatewayfake.Client{}).CreateObserves(card) {
		t.Error("a card payment is paid without asking first: its SUCCESS cannot tell a replay")
	}
}

// TestPaymentAutoCapture: Update captures a live authorization in full
// (captureMode Automatic) with an id that follows the payment's own.
func TestPaymentAutoCapture(t *testing.T) {
	id := ids.Payment(unitPayment(), "")
	authorizedAuto := func(p *v1.Payment) {
		p.Spec.Authorization, p.Spec.CaptureMode, p.Spec.PaymentMethod.Type = true, v1.CaptureAutomatic, "CARD"
		p.Status = v1.PaymentStatus{Phase: v1.PaymentAuthorized, PaymentRequestID: id, PaymentID: "P9",
			Amounts: v1.PaymentAmounts{Authorized: &v1.Money{Currency: "HKD", Value: "10.00"}}}
	}
	p := unitPayment()
	authorizedAuto(p)
	capture := "capture " + ids.AutoCapture(p, "") + " of P9 1000 HKD"
	answer := func(resp *gateway.CaptureResponse, err error) *gatewayfake.Client {
		return &gatewayfake.Client{FakeCapture: func(context.Context, *gateway.CaptureRequest) (*gateway.CaptureResponse, error) { return resp, err }}
	}
	cases := []paymentCase{
		{name: "captured in full", gw: answer(&gateway.CaptureResponse{Result: sharedtest.OKResult, CaptureID: "CP1", PaymentID: "P9"}, nil),
			phase: v1.PaymentSucceeded, code: "SUCCESS"},
		{name: "in process: looked at again later, nothing applied",
			gw: answer(&gateway.CaptureResponse{Result: gateway.NewResult(gateway.CodeCaptureInProcess)},
				gatewayfake.Refuse(gateway.APICapture, gateway.CodeCaptureInProcess)), unchanged: true},
		{name: "refused: recorded and not sent again; the next inquiry shows why", gw: answer(&gateway.CaptureResponse{Result: gateway.NewResult(gateway.CodeAuthExpired)},
			gatewayfake.Refuse(gateway.APICapture, gateway.CodeAuthExpired)), phase: v1.PaymentAuthorized, code: gateway.CodeAuthExpired},
		{name: "timeout: retried, nothing applied", gw: answer(nil, sharedtest.ErrTimeout), outcome: "retry", unchanged: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.edit, tc.calls = authorizedAuto, []string{capture}
			p := tc.payment()
			before := p.DeepCopy()
			res, err := paymentAt(t, p, tc.gw).Update(context.Background(), p)
			tc.check(t, before, p, "", err)
			if err == nil && !p.Status.Phase.IsFinal() && res.RequeueAfter == 0 {
				t.Errorf("a live authorization is not looked at again: %+v", res)
			}
			if tc.code == gateway.CodeAuthExpired && wantsAutoCapture(p) {
				t.Errorf("a refused automatic capture is sent again: lastResult %+v", p.Status.LastResult)
			}
			if tc.code == "SUCCESS" && (p.Status.Amounts.Captured == nil || *p.Status.Amounts.Captured != p.Spec.Amount) {
				t.Errorf("captured %v, want %v", p.Status.Amounts.Captured, p.Spec.Amount)
			}
		})
	}
}

// TestPaymentCancel: Cancel first makes sure an unpaid payment's lost pay
// call did not reach the gateway; otherwise it cancels by the best id known.
func TestPaymentCancel(t *testing.T) {
	id := ids.Payment(unitPayment(), "")
	inquiry := "inquiryPayment paymentRequestId=" + id
	processing := func(p *v1.Payment) {
		p.Status = v1.PaymentStatus{Phase: v1.PaymentProcessing, PaymentRequestID: id, PaymentID: "P9"}
	}
	cancelSays := func(resp *gateway.CancelResponse, err error) func(context.Context, *gateway.CancelRequest) (*gateway.CancelResponse, error) {
		return func(context.Context, *gateway.CancelRequest) (*gateway.CancelResponse, error) { return resp, err }
	}
	cancelled := cancelSays(&gateway.CancelResponse{Result: sharedtest.OKResult, PaymentID: "P9"}, nil)
	cases := []paymentCase{
		{name: "never paid: cancelled without a cancel call",
			gw:    &gatewayfake.Client{FakeInquiryPayment: sharedtest.InquiryFails(gatewayfake.Refuse(gateway.APIInquiryPayment, gateway.CodeOrderNotExist))},
			calls: []string{inquiry}, phase: v1.PaymentCancelled},
		{name: "a lost pay call reached the gateway: cancelled by paymentRequestId",
			gw: &gatewayfake.Client{FakeInquiryPayment: gatewayHolds(gateway.PaymentStatusProcessing, "", "1000", "ALIPAY_HK"),
				FakeCancel: cancelled},
			calls: []string{inquiry, "cancel " + id}, phase: v1.PaymentCancelled, code: "SUCCESS"},
		{name: "whether a pay call arrived is unknown: retried, nothing cancelled",
			gw:    &gatewayfake.Client{FakeInquiryPayment: sharedtest.InquiryFails(sharedtest.ErrTimeout)},
			calls: []string{inquiry}, outcome: "retry", unchanged: true},
		{name: "a processing payment is cancelled by paymentId", edit: processing, gw: &gatewayfake.Client{FakeCancel: cancelled},
			calls: []string{"cancel P9"}, phase: v1.PaymentCancelled, code: "SUCCESS"},
		{name: "refused: recorded for the CancelRefused condition", edit: processing,
			gw: &gatewayfake.Client{FakeCancel: cancelSays(&gateway.CancelResponse{Result: gateway.NewResult(gateway.CodeCancelWindowExceed)},
				gatewayfake.Refuse(gateway.APICancel, gateway.CodeCancelWindowExceed))},
			calls: []string{"cancel P9"}, phase: v1.PaymentProcessing, code: gateway.CodeCancelWindowExceed, msg: "The cancellation window has passed."},
		{name: "the credentials are refused: waits for the Secret, not a refused cancel", edit: processing,
			gw:    &gatewayfake.Client{FakeCancel: cancelSays(nil, gatewayfake.Refuse(gateway.APICancel, gateway.CodeOAuthFail))},
			calls: []string{"cancel P9"}, outcome: "wait " + v1.ReasonCredentialsRejected, unchanged: true},
		{name: "timeout: retried, nothing applied", edit: processing, gw: &gatewayfake.Client{FakeCancel: cancelSays(nil, sharedtest.ErrTimeout)},
			calls: []string{"cancel P9"}, outcome: "retry", unchanged: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.payment()
			p.Spec.Cancel = true
			before := p.DeepCopy()
			_, err := paymentAt(t, p, tc.gw).Cancel(context.Background(), p)
			tc.check(t, before, p, "", err)
			if tc.code == gateway.CodeCancelWindowExceed && (!cancelRefused(p) || (paymentKind{}).WantsCancel(p)) {
				t.Errorf("a refused cancel is asked again: lastResult %+v", p.Status.LastResult)
			}
		})
	}
}
