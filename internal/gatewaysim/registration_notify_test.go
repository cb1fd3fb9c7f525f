package gatewaysim

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// TestRegistrationNotification: notifyRegistrationStatus goes to the
// request's registrationNotifyURL once the overall status is final (not on
// each PSP's result), signed, parsed by gateway.ParseNotification, and is
// re-sent on the retry schedule until acknowledged.
func TestRegistrationNotification(t *testing.T) {
	e := regEnv(t)
	req := regReq("N1", "M1")
	req.RegistrationNotifyURL = e.rcv.url("/registration")
	e.register(req)
	e.rcv.failFirst(2)
	if _, err := e.sim.ReviewRegistration("N1", RegistrationReview{PSPName: "GCASH", Status: "REJECTED", RejectReasons: "bad MCC"}); err != nil {
		t.Fatal(err)
	}
	e.quiesce()
	if got := e.rcv.ofKind(gateway.KindNotifyRegistrationStatus); len(got) != 0 {
		t.Fatalf("notified before the overall status was final: %d", len(got))
	}
	if _, err := e.sim.ReviewRegistration("N1", RegistrationReview{PSPName: "ALIPAY_HK", Status: "APPROVED"}); err != nil {
		t.Fatal(err)
	}
	e.quiesce()
	steps := []struct {
		advance  time.Duration
		attempts int
		state    string
	}{
		{0, 1, NotificationPending},
		{2 * time.Minute, 2, NotificationPending},
		{10 * time.Minute, 3, NotificationDelivered},
		{24 * time.Hour, 3, NotificationDelivered},
	}
	for i, s := range steps {
		e.sim.Advance(s.advance)
		n := notificationFor(t, e.sim, "N1", KindNotifyRegistrationStatus)
		if len(n.Attempts) != s.attempts || n.State != s.state {
			t.Fatalf("step %d: %d attempts, %s; want %d, %s", i, len(n.Attempts), n.State, s.attempts, s.state)
		}
	}
	got := e.rcv.ofKind(gateway.KindNotifyRegistrationStatus)
	if len(got) != 3 || got[2].Path != "/registration" {
		t.Fatalf("receiver saw %d deliveries", len(got))
	}
	n := got[2].Value.(*gateway.NotifyRegistrationStatus)
	if n.RegistrationRequestID != "N1" || n.ReferenceMerchantID != "M1" || n.RegistrationResult.RegistrationStatus != gateway.RegistrationApproved ||
		!equalMaps(pspStatuses(n.PSPRegistrationResultList), map[string]string{"ALIPAY_HK": "APPROVED", "GCASH": "REJECTED"}) {
		t.Fatalf("notification %+v", n)
	}
	if n.PSPRegistrationResultList[1].RegistrationResult.RejectReasons != "bad MCC" {
		t.Fatalf("GCASH reason %+v", n.PSPRegistrationResultList[1])
	}
}

func TestRegistrationNotificationNoURL(t *testing.T) {
	e := regEnv(t)
	e.register(regReq("N2", "M1"))
	if _, err := e.sim.ReviewRegistration("N2", RegistrationReview{Status: "REJECTED"}); err != nil {
		t.Fatal(err)
	}
	e.quiesce()
	if n := notificationFor(t, e.sim, "N2", KindNotifyRegistrationStatus); n.State != NotificationNoURL || len(n.Attempts) != 0 {
		t.Fatalf("notification %+v", n)
	}
	if got := e.rcv.ofKind(gateway.KindNotifyRegistrationStatus); len(got) != 0 {
		t.Fatalf("sent %d without a URL (the merchant default is not used)", len(got))
	}
}

func subMerchantPay(id string, a gateway.Amount, method, merchantID string) *gateway.PayRequest {
	r := walletPay(id, a, method)
	r.Order.Merchant = &gateway.Merchant{ReferenceMerchantID: merchantID}
	return r
}

// TestPayRequiresMerchantRegistration: with requireMerchantRegistration a
// secondary merchant's pay is refused, recording nothing, until its latest
// registration approves the payment method (the overall status for CARD).
func TestPayRequiresMerchantRegistration(t *testing.T) {
	e := regEnv(t)
	if st, raw := e.controlRaw(http.MethodPut, "/_sim/behavior", `{"requireMerchantRegistration":true}`); st != http.StatusOK {
		t.Fatalf("PUT behavior: %d %s", st, raw)
	}
	php := gateway.Amount{Currency: "PHP", Value: "10000"}
	card := cardPay("sub-card", usd("1000"), visa, false, captureManual)
	card.Order.Merchant = &gateway.Merchant{ReferenceMerchantID: "M1"}
	steps := []struct {
		name   string
		before func()
		pay    *gateway.PayRequest
		code   string
	}{
		{"no secondary merchant", nil, walletPay("plain", hkd("1000"), "ALIPAY_HK"), gateway.CodePaymentInProcess},
		{"never registered", nil, subMerchantPay("sub-hk", hkd("1000"), "ALIPAY_HK", "M1"), gateway.CodePaymentNotQualified},
		{"pending", func() { e.register(regReq("P1", "M1")) }, subMerchantPay("sub-hk", hkd("1000"), "ALIPAY_HK", "M1"), gateway.CodePaymentNotQualified},
		{"its PSP approved: the same id now pays", func() { e.review(t, "P1", "ALIPAY_HK", "APPROVED") },
			subMerchantPay("sub-hk", hkd("1000"), "ALIPAY_HK", "M1"), gateway.CodePaymentInProcess},
		{"card while the overall status is pending", nil, card, gateway.CodePaymentNotQualified},
		{"card once approved overall", func() { e.review(t, "P1", "GCASH", "REJECTED") }, card, gateway.CodeSuccess},
		{"a rejected PSP", nil, subMerchantPay("sub-gc", php, "GCASH", "M1"), gateway.CodePaymentNotQualified},
		{"a pending re-registration is the latest", func() { e.register(regReq("P2", "M1")) },
			subMerchantPay("sub-hk2", hkd("1000"), "ALIPAY_HK", "M1"), gateway.CodePaymentNotQualified},
		{"a known payment replays", nil, subMerchantPay("sub-hk", hkd("1000"), "ALIPAY_HK", "M1"), gateway.CodePaymentInProcess},
		{"switched off", func() { e.sim.SetBehavior(Behavior{}) }, subMerchantPay("sub-gc", php, "GCASH", "M1"), gateway.CodePaymentInProcess},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		if _, c := e.pay(s.pay); c != s.code {
			t.Fatalf("%s: %s, want %s", s.name, c, s.code)
		}
		if s.code == gateway.CodePaymentNotQualified {
			if ops := e.sim.Ledger().Request("payment", s.pay.PaymentRequestID).Operations; ops != 0 {
				t.Fatalf("%s: a refused pay created %d payments", s.name, ops)
			}
		}
	}
}

func (e *env) review(t *testing.T, id, psp, status string) {
	t.Helper()
	if _, err := e.sim.ReviewRegistration(id, RegistrationReview{PSPName: psp, Status: status}); err != nil {
		t.Fatal(err)
	}
}

// TestRegistrationAPIKey: the registration APIs take an API key like the
// others.
func TestRegistrationAPIKey(t *testing.T) {
	e := regEnv(t)
	_, key, err := e.sim.IssueAPIKey(testClientID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(regReq("K1", "M1"))
	st, res, hdr := e.bearerCall(gateway.PrefixSandbox+gateway.PathRegistration, "Bearer "+key, "", string(body))
	if st != http.StatusOK || res.ResultCode != gateway.CodeSuccess || hdr.Get("Signature") != "" {
		t.Fatalf("registration: HTTP %d %+v", st, res)
	}
	st, res, _ = e.bearerCall(gateway.PrefixSandbox+gateway.PathInquiryRegistrationStatus, "Bearer "+key, "", `{"registrationRequestId":"K1"}`)
	if st != http.StatusOK || res.ResultCode != gateway.CodeSuccess {
		t.Fatalf("inquiry: HTTP %d %+v", st, res)
	}
	st, res, _ = e.bearerCall(gateway.PrefixSandbox+gateway.PathInquiryRegistrationInfo, "Bearer x", "", `{"referenceMerchantId":"M1"}`)
	if st != http.StatusUnauthorized || res.ResultCode != gateway.CodeOAuthFail {
		t.Fatalf("bad key: HTTP %d %+v", st, res)
	}
}
