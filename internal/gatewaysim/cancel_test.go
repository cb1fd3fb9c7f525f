package gatewaysim

import (
	"testing"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

func (e *env) cancel(paymentID string) (*gateway.CancelResponse, string) {
	e.t.Helper()
	resp, err := e.client.Cancel(e.ctx, &gateway.CancelRequest{PaymentID: paymentID})
	return resp, code(e.t, resp, err)
}

func TestCancel(t *testing.T) {
	// Start 10:00 GMT+8 on 2026-01-05: the window ends 2026-01-06 00:15 GMT+8.
	e := newEnv(t)
	unpaid, _ := e.pay(walletPay("c-unpaid", hkd("1000"), "ALIPAY_HK"))
	cr, c := e.cancel(unpaid.PaymentID)
	if c != gateway.CodeSuccess || cr.CancelTime == "" || cr.PaymentRequestID != "c-unpaid" {
		t.Fatalf("cancel unpaid: %s %+v", c, cr)
	}
	e.wantStatus("c-unpaid", gateway.PaymentStatusCancelled)
	if err := e.sim.Complete("c-unpaid"); err == nil {
		t.Fatal("a cancelled payment was completed")
	}
	again, c := e.cancel(unpaid.PaymentID)
	if c != gateway.CodeSuccess || again.CancelTime != cr.CancelTime {
		t.Fatalf("repeat cancel: %s %+v", c, again)
	}
	// By paymentRequestId too.
	if resp, err := e.client.Cancel(e.ctx, &gateway.CancelRequest{PaymentRequestID: "c-unpaid"}); err != nil || resp.PaymentID != unpaid.PaymentID {
		t.Fatalf("cancel by request id: %v", err)
	}
	if _, c := e.cancel("nope"); c != gateway.CodeOrderNotExist {
		t.Fatalf("cancel unknown: %s", c)
	}

	// After success: CANCELLED plus a full refund, minus what was refunded.
	pid := e.paidWallet("c-paid", hkd("1000"), "ALIPAY_HK")
	if _, c := e.refund("c-paid-r", pid, hkd("300")); c != gateway.CodeSuccess {
		t.Fatal(c)
	}
	if _, c := e.cancel(pid); c != gateway.CodeSuccess {
		t.Fatalf("cancel paid: %s", c)
	}
	inq := e.inquiry("c-paid")
	var kinds string
	for _, tx := range inq.Transactions {
		kinds += tx.TransactionType + ":" + tx.TransactionAmount.Value + " "
	}
	if inq.PaymentStatus != gateway.PaymentStatusCancelled || kinds != "PAYMENT:1000 REFUND:300 REFUND:700 CANCEL:1000 " {
		t.Fatalf("after cancelling a paid payment: %s %s", inq.PaymentStatus, kinds)
	}
	if p, _ := e.sim.Ledger().Payment(pid); p.Refunded != 1000 || p.Status != gateway.PaymentStatusCancelled {
		t.Fatalf("ledger %+v", p)
	}

	// Failed payments cannot be cancelled.
	fp, _ := e.pay(walletPay("c-failed", hkd("1000"), "ALIPAY_HK"))
	_ = e.sim.Decline("c-failed", "")
	if _, c := e.cancel(fp.PaymentID); c != gateway.CodeOrderStatusInvalid {
		t.Fatalf("cancel failed payment: %s", c)
	}

	// The window: until 00:15 GMT+8 the next day.
	late, _ := e.pay(walletPay("c-late", hkd("1000"), "ALIPAY_HK"))
	late2, _ := e.pay(walletPay("c-late2", hkd("1000"), "ALIPAY_HK"))
	_ = e.sim.Complete("c-late")
	_ = e.sim.Complete("c-late2")
	e.sim.Advance(14*time.Hour + 15*time.Minute) // 2026-01-06 00:15 GMT+8
	if _, c := e.cancel(late.PaymentID); c != gateway.CodeSuccess {
		t.Fatalf("cancel at 00:15: %s", c)
	}
	e.sim.Advance(time.Second)
	if _, c := e.cancel(late2.PaymentID); c != gateway.CodeCancelWindowExceed {
		t.Fatalf("cancel after 00:15: %s", c)
	}
}

func TestCancelDuringDispute(t *testing.T) {
	e := newEnv(t)
	pid := e.paidWallet("cd", hkd("1000"), "ALIPAY_HK")
	if _, err := e.sim.OpenDispute(pid, DisputeSpec{}); err != nil {
		t.Fatal(err)
	}
	if _, c := e.cancel(pid); c != gateway.CodeRefundNotAllowedDispute {
		t.Fatalf("cancel during dispute: %s", c)
	}
}
