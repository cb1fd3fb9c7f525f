package gatewaysim

import (
	"testing"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

func (e *env) refund(id, paymentID string, a gateway.Amount) (*gateway.RefundResponse, string) {
	e.t.Helper()
	resp, err := e.client.Refund(e.ctx, &gateway.RefundRequest{RefundRequestID: id, PaymentID: paymentID, RefundAmount: a})
	return resp, code(e.t, resp, err)
}

func TestRefunds(t *testing.T) {
	e := newEnv(t)
	pid := e.paidWallet("rf", hkd("10000"), "ALIPAY_HK")
	steps := []struct {
		id, value, code string
	}{
		{"rf-1", "3000", gateway.CodeSuccess},
		{"rf-1", "3000", gateway.CodeSuccess},               // replay
		{"rf-1", "2000", gateway.CodeRepeatReqInconsistent}, // same id, other amount
		{"rf-2", "7001", gateway.CodeRefundAmountExceed},
		{"rf-3", "5", gateway.CodeParamIllegal}, // below ALIPAY_HK's HKD 0.10 minimum
		{"rf-4", "7000", gateway.CodeSuccess},
		{"rf-5", "10", gateway.CodeRefundAmountExceed},
	}
	for _, s := range steps {
		if _, c := e.refund(s.id, pid, hkd(s.value)); c != s.code {
			t.Fatalf("refund %s %s: %s, want %s", s.id, s.value, c, s.code)
		}
	}
	if _, c := e.refund("rf-x", "nope", hkd("100")); c != gateway.CodeOrderNotExist {
		t.Fatalf("refund of unknown payment: %s", c)
	}
	l := e.sim.Ledger()
	if p, _ := l.Payment(pid); p.Refunded != 10000 || p.Refunds != 2 {
		t.Fatalf("ledger %+v", p)
	}
	if r := l.Request("refund", "rf-1"); r.Operations != 1 || r.Calls != 3 {
		t.Fatalf("ledger rf-1 %+v", r)
	}
	ir, err := e.client.InquiryRefund(e.ctx, &gateway.InquiryRefundRequest{RefundRequestID: "rf-4"})
	if err != nil || ir.RefundStatus != gateway.RefundStatusSuccess || ir.RefundTime == "" {
		t.Fatalf("inquiryRefund: %v %+v", err, ir)
	}
	if _, err := e.client.InquiryRefund(e.ctx, &gateway.InquiryRefundRequest{RefundRequestID: "none"}); gateway.Code(err) != gateway.CodeOrderNotExist {
		t.Fatalf("inquiryRefund unknown: %v", err)
	}
	e.quiesce()
	if n := len(e.rcv.ofKind(gateway.KindNotifyRefund)); n != 2 {
		t.Fatalf("%d notifyRefund, want 2", n)
	}

	// Unpaid payments cannot be refunded.
	up, _ := e.pay(walletPay("rf-unpaid", hkd("1000"), "ALIPAY_HK"))
	if _, c := e.refund("rf-u", up.PaymentID, hkd("100")); c != gateway.CodeOrderStatusInvalid {
		t.Fatalf("refund of unpaid: %s", c)
	}
}

func TestRefundCardCapturedOnly(t *testing.T) {
	e := newEnv(t)
	resp, _ := e.pay(cardPay("rc", usd("10000"), visa, false, captureManual))
	if _, c := e.refund("rc-0", resp.PaymentID, usd("100")); c != gateway.CodeOrderStatusInvalid {
		t.Fatalf("refund before capture: %s", c)
	}
	cr, _ := e.capture("rc-cap", resp.PaymentID, usd("4000"))
	if _, c := e.refund("rc-1", resp.PaymentID, usd("4001")); c != gateway.CodeRefundAmountExceed {
		t.Fatalf("refund above captured: %s", c)
	}
	r, err := e.client.Refund(e.ctx, &gateway.RefundRequest{RefundRequestID: "rc-2", PaymentID: resp.PaymentID, RefundAmount: usd("4000"), CaptureID: cr.CaptureID})
	if err != nil || r.RefundID == "" {
		t.Fatalf("refund of capture: %v", err)
	}
}

func TestRefundDisputeBlock(t *testing.T) {
	e := newEnv(t)
	pid := e.paidWallet("dsp", hkd("10000"), "ALIPAY_HK")
	id, err := e.sim.OpenDispute("dsp", DisputeSpec{AmountMinor: 4000})
	if err != nil {
		t.Fatal(err)
	}
	if _, c := e.refund("dsp-1", pid, hkd("100")); c != gateway.CodeRefundNotAllowedDispute {
		t.Fatalf("refund during dispute: %s", c)
	}
	if _, err := e.sim.OpenDispute("dsp", DisputeSpec{}); err == nil {
		t.Fatal("second open dispute accepted")
	}
	if err := e.sim.JudgeDispute(id, gateway.JudgedAcceptByMerchant); err != nil {
		t.Fatal(err)
	}
	// 4000 were charged back: 6000 remain refundable.
	if _, c := e.refund("dsp-2", pid, hkd("6001")); c != gateway.CodeRefundAmountExceed {
		t.Fatalf("refund above what is left after chargeback: %s", c)
	}
	if _, c := e.refund("dsp-3", pid, hkd("6000")); c != gateway.CodeSuccess {
		t.Fatalf("refund after judgement: %s", c)
	}
	id2, _ := e.sim.OpenDispute("dsp", DisputeSpec{})
	if err := e.sim.CancelDispute(id2); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.JudgeDispute(id2, gateway.JudgedAcceptByCustomer); err == nil {
		t.Fatal("judged a cancelled dispute")
	}
	e.quiesce()
	var types []string
	for _, n := range e.rcv.ofKind(gateway.KindNotifyDispute) {
		d := n.Value.(*gateway.NotifyDispute)
		types = append(types, d.DisputeNotificationType+"/"+d.DisputeJudgedResult)
	}
	want := "DISPUTE_CREATED/,DISPUTE_JUDGED/ACCEPT_BY_MERCHANT,DISPUTE_CREATED/,DISPUTE_CANCELLED/"
	if got := joinS(types); got != want {
		t.Fatalf("dispute notifications %s, want %s", got, want)
	}
	if p, _ := e.sim.Ledger().Payment(pid); p.ChargedBack != 4000 || p.Refunded != 6000 {
		t.Fatalf("ledger %+v", p)
	}
}

func joinS(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

func TestRefundWindowAndAsync(t *testing.T) {
	e := newEnv(t)
	pid := e.paidWallet("rw", hkd("10000"), "ALIPAY_HK")
	paidAt := e.sim.Now()
	// isAsyncRefund: U REFUND_IN_PROCESS, PROCESSING, then SUCCESS on the clock.
	resp, err := e.client.Refund(e.ctx, &gateway.RefundRequest{RefundRequestID: "rw-a", PaymentID: pid, RefundAmount: hkd("1000"),
		IsAsyncRefund: gateway.BoolPtr(true), RefundNotifyURL: e.rcv.url("/notify/refund")})
	if gateway.Code(err) != gateway.CodeRefundInProcess || resp.RefundID == "" {
		t.Fatalf("async refund: %v %+v", err, resp)
	}
	ir, _ := e.client.InquiryRefund(e.ctx, &gateway.InquiryRefundRequest{RefundID: resp.RefundID})
	if ir.RefundStatus != gateway.RefundStatusProcessing {
		t.Fatalf("async refund status %s", ir.RefundStatus)
	}
	// A refund in process counts against the refundable amount.
	if _, c := e.refund("rw-b", pid, hkd("9001")); c != gateway.CodeRefundAmountExceed {
		t.Fatalf("refund over a processing one: %s", c)
	}
	e.sim.Advance(2 * time.Minute)
	ir, _ = e.client.InquiryRefund(e.ctx, &gateway.InquiryRefundRequest{RefundID: resp.RefundID})
	if ir.RefundStatus != gateway.RefundStatusSuccess {
		t.Fatalf("async refund after delay: %s", ir.RefundStatus)
	}
	nr := e.rcv.ofKind(gateway.KindNotifyRefund)
	if len(nr) != 1 || nr[0].Path != "/notify/refund" || nr[0].Value.(*gateway.NotifyRefund).RefundStatus != gateway.RefundStatusSuccess {
		t.Fatalf("notifyRefund %+v", nr)
	}
	// Behaviour RefundAsync; a magic refund amount ending 9951 ends FAIL
	// and no longer counts against the refundable amount.
	e.sim.SetBehavior(Behavior{RefundAsync: true, RefundDelay: Duration(time.Minute)})
	mid := e.paidWallet("rw-m", hkd("20000"), "ALIPAY_HK")
	if _, c := e.refund("rw-f", mid, hkd("9951")); c != gateway.CodeRefundInProcess {
		t.Fatalf("async refund by behaviour: %s", c)
	}
	e.sim.Advance(time.Minute)
	if ir, _ := e.client.InquiryRefund(e.ctx, &gateway.InquiryRefundRequest{RefundRequestID: "rw-f"}); ir.RefundStatus != gateway.RefundStatusFail {
		t.Fatalf("magic refund status %s", ir.RefundStatus)
	}
	if _, c := e.refund("rw-f", mid, hkd("9951")); c != gateway.CodeProcessFail {
		t.Fatalf("replay of failed refund: %s", c)
	}
	e.sim.SetBehavior(Behavior{})
	if _, c := e.refund("rw-full", mid, hkd("20000")); c != gateway.CodeSuccess {
		t.Fatalf("full refund after a failed one: %s", c)
	}
	// Refund window: 365 days after payment.
	e.sim.Advance(paidAt.Add(365 * 24 * time.Hour).Sub(e.sim.Now()))
	if _, c := e.refund("rw-1", pid, hkd("100")); c != gateway.CodeSuccess {
		t.Fatalf("refund on the last day: %s", c)
	}
	e.sim.Advance(time.Second)
	if _, c := e.refund("rw-2", pid, hkd("100")); c != gateway.CodeRefundWindowExceed {
		t.Fatalf("refund after the window: %s", c)
	}
}
