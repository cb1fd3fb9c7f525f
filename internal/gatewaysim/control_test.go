package gatewaysim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

func (e *env) control(method, path, body string, out any) int {
	e.t.Helper()
	status, b := e.controlRaw(method, path, body)
	if out != nil && status == 200 {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return status
}

// controlRaw calls the control API and returns the status and the body.
func (e *env) controlRaw(method, path, body string) (int, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestControlLoopbackOnly(t *testing.T) {
	e := newEnv(t)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/_sim/ledger", nil) // RemoteAddr 192.0.2.1
	e.sim.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Fatalf("remote control call: HTTP %d, want 403", rec.Code)
	}
	req = httptest.NewRequest(http.MethodGet, "/_sim/ledger", nil)
	req.RemoteAddr = "[::1]:5555"
	rec = httptest.NewRecorder()
	e.sim.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("loopback control call: HTTP %d", rec.Code)
	}
	// The APIs and the checkout page are not restricted.
	req = httptest.NewRequest(http.MethodGet, "/checkout/none", nil)
	rec = httptest.NewRecorder()
	e.sim.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("remote checkout: HTTP %d", rec.Code)
	}
	open := newEnv(t, func(o *Options) { o.AllowRemoteControl = true })
	rec = httptest.NewRecorder()
	open.sim.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/_sim/health", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("AllowRemoteControl: HTTP %d", rec.Code)
	}
}

func TestControlAPI(t *testing.T) {
	e := newEnv(t)
	resp, _ := e.pay(walletPay("ctl-1", hkd("1000"), "ALIPAY_HK"))
	e.pay(walletPay("ctl-2", hkd("1000"), "ALIPAY_HK"))
	e.pay(walletPay("ctl-3", hkd("1000"), "ALIPAY_HK"))
	steps := []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/_sim/payments/ctl-1/complete", "", 200},
		{"POST", "/_sim/payments/ctl-1/complete", "", 409},
		{"POST", "/_sim/payments/" + testClientID + "/ctl-2/decline", `{"resultCode":"RISK_REJECT"}`, 200},
		{"POST", "/_sim/payments/ctl-3/decline", `{"resultCode":"SUCCESS"}`, 400},
		{"POST", "/_sim/payments/ctl-3/pending", "", 200},
		{"POST", "/_sim/payments/nope/complete", "", 404},
		{"POST", "/_sim/payments/ctl-3/bogus", "", 404},
		{"PUT", "/_sim/faults", `flaky`, 200},
		{"PUT", "/_sim/faults", `{"notifyDuplicate":1}`, 200},
		{"PUT", "/_sim/faults", `{"unknownException":7}`, 400},
		{"PUT", "/_sim/faults", `none`, 200},
		{"PUT", "/_sim/behavior", `{"refundAsync":true,"refundDelay":"1m"}`, 200},
		{"PUT", "/_sim/behavior", `{"bogus":true}`, 400},
		{"POST", "/_sim/clock/advance", `{"duration":"1m"}`, 200},
		{"POST", "/_sim/quiesce", ``, 200},
		{"GET", "/_sim/health", ``, 200},
	}
	for _, s := range steps {
		if got := e.control(s.method, s.path, s.body, nil); got != s.status {
			t.Errorf("%s %s %s: HTTP %d, want %d", s.method, s.path, s.body, got, s.status)
		}
	}
	if e.status("ctl-1") != gateway.PaymentStatusSuccess || e.inquiry("ctl-2").PaymentResultCode != gateway.CodeRiskReject ||
		e.status("ctl-3") != gateway.PaymentStatusPending {
		t.Fatal("control actions had no effect")
	}
	var b Behavior
	e.control("GET", "/_sim/behavior", "", &b)
	if !b.RefundAsync || time.Duration(b.RefundDelay) != time.Minute {
		t.Fatalf("behavior %+v", b)
	}
	var clock struct{ Now time.Time }
	e.control("GET", "/_sim/clock", "", &clock)
	if !clock.Now.Equal(DefaultStart.Add(time.Minute)) {
		t.Fatalf("clock %v", clock.Now)
	}
	controlDisputes(t, e, resp.PaymentID)
	controlRecords(t, e)
	controlMerchants(t, e)
}

// controlDisputes opens a chargeback on the paid paymentID (refunds are
// refused meanwhile), judges it, and cancels what cannot be cancelled.
func controlDisputes(t *testing.T, e *env, paymentID string) {
	var d struct{ DisputeID string }
	if st := e.control("POST", "/_sim/payments/"+paymentID+"/disputes", `{"amount":500,"reasonCode":"10.4"}`, &d); st != 200 || d.DisputeID == "" {
		t.Fatalf("open dispute: %d %+v", st, d)
	}
	if _, c := e.refund("ctl-r", paymentID, hkd("100")); c != gateway.CodeRefundNotAllowedDispute {
		t.Fatalf("refund during dispute: %s", c)
	}
	if st := e.control("POST", "/_sim/disputes/"+d.DisputeID+"/judge", `{"result":"NOPE"}`, nil); st != 400 {
		t.Fatalf("bad judgement: %d", st)
	}
	if st := e.control("POST", "/_sim/disputes/"+d.DisputeID+"/judge", `{"result":"ACCEPT_BY_CUSTOMER"}`, nil); st != 200 {
		t.Fatalf("judge: %d", st)
	}
	if st := e.control("POST", "/_sim/disputes/"+d.DisputeID+"/cancel", ``, nil); st != 409 {
		t.Fatalf("cancel judged dispute: %d", st)
	}
	if st := e.control("POST", "/_sim/disputes/none/cancel", ``, nil); st != 404 {
		t.Fatalf("cancel unknown dispute: %d", st)
	}
}

// controlRecords reads the ledger, a payment's view and the notifications
// (two for the dispute opened and judged) over the control API.
func controlRecords(t *testing.T, e *env) {
	var l Ledger
	e.control("GET", "/_sim/ledger?clientId="+testClientID, "", &l)
	if p, ok := l.Payment("ctl-1"); !ok || p.Paid != 1000 {
		t.Fatalf("ledger %+v", l)
	}
	var pv PaymentView
	if st := e.control("GET", "/_sim/payments/ctl-1", "", &pv); st != 200 || pv.Inquiry.PaymentStatus != gateway.PaymentStatusSuccess {
		t.Fatalf("payment view %d %+v", st, pv)
	}
	var notes []Notification
	e.control("GET", "/_sim/notifications?kind=notifyDispute", "", &notes)
	if len(notes) != 2 || notes[0].Kind != KindNotifyDispute {
		t.Fatalf("dispute notifications %+v", notes)
	}
}

// controlMerchants registers a merchant over the control API and calls as
// it; a merchant order id then names payments of two merchants.
func controlMerchants(t *testing.T, e *env) {
	pub, _ := gateway.EncodePublicKey(&otherKey.PublicKey)
	body, _ := json.Marshal(map[string]string{"clientId": "SANDBOX_OTHER", "publicKey": pub, "keyVersion": "1"})
	var reg map[string]string
	if st := e.control("POST", "/_sim/merchants", string(body), &reg); st != 200 || reg["gatewayPublicKey"] != e.sim.GatewayPublicKeyString() {
		t.Fatalf("register merchant: %d %+v", st, reg)
	}
	other := e.newClient("SANDBOX_OTHER", otherKey, 1)
	if _, err := other.Pay(e.ctx, walletPay("ctl-1", hkd("1000"), "ALIPAY_HK")); !gateway.IsInProcess(err) {
		t.Fatalf("pay as the new merchant: %v", err)
	}
	// ctl-1 now names payments of two merchants.
	if err := e.sim.Complete("ctl-1"); err == nil || !strings.Contains(err.Error(), "several") {
		t.Fatalf("ambiguous reference: %v", err)
	}
	if err := e.sim.Complete("SANDBOX_OTHER/ctl-1"); err != nil {
		t.Fatal(err)
	}
}

// Clock: ManualClock.Advance on the simulator's clock runs timers too.
func TestManualClockAdvance(t *testing.T) {
	e := newEnv(t)
	e.pay(walletPay("mc", hkd("1000"), "ALIPAY_HK"))
	e.sim.Clock().(*ManualClock).Advance(14 * time.Minute)
	e.wantStatus("mc", gateway.PaymentStatusFail)
}

// A scaled clock runs on wall time; Advance skips ahead.
func TestScaledClock(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Clock = NewScaledClock(DefaultStart, 1) })
	e.pay(walletPay("sc", hkd("1000"), "ALIPAY_HK"))
	e.sim.Advance(15 * time.Minute)
	e.quiesce()
	e.wantStatus("sc", gateway.PaymentStatusFail)
	if e.sim.Now().Before(DefaultStart.Add(15 * time.Minute)) {
		t.Fatalf("clock %v", e.sim.Now())
	}
}
