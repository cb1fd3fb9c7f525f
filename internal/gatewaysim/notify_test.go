package gatewaysim

import (
	"testing"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

func notificationFor(t *testing.T, s *Simulator, requestID, kind string) Notification {
	t.Helper()
	for _, n := range s.Notifications() {
		if n.RequestID == requestID && n.Kind == kind {
			return n
		}
	}
	t.Fatalf("no %s for %s", kind, requestID)
	return Notification{}
}

func TestNotificationRetrySchedule(t *testing.T) {
	e := newEnv(t)
	e.rcv.failFirst(3)
	e.pay(walletPay("retry", hkd("1000"), "ALIPAY_HK"))
	t0 := e.sim.Now()
	if err := e.sim.Complete("retry"); err != nil {
		t.Fatal(err)
	}
	e.quiesce()
	steps := []struct {
		advance  time.Duration
		attempts int
		state    string
	}{
		{0, 1, NotificationPending},
		{2*time.Minute - time.Second, 1, NotificationPending},
		{time.Second, 2, NotificationPending},
		{10 * time.Minute, 3, NotificationPending},
		{10 * time.Minute, 4, NotificationDelivered},
		{24 * time.Hour, 4, NotificationDelivered},
	}
	for i, s := range steps {
		e.sim.Advance(s.advance)
		n := notificationFor(t, e.sim, "retry", KindNotifyPayment)
		if len(n.Attempts) != s.attempts || n.State != s.state {
			t.Fatalf("step %d: %d attempts, state %s; want %d, %s", i, len(n.Attempts), n.State, s.attempts, s.state)
		}
	}
	n := notificationFor(t, e.sim, "retry", KindNotifyPayment)
	wantOffsets := []time.Duration{0, 2 * time.Minute, 12 * time.Minute, 22 * time.Minute}
	for i, a := range n.Attempts {
		if got := a.Time.Sub(t0); got != wantOffsets[i] || a.Acked != (i == 3) || a.N != i+1 {
			t.Errorf("attempt %d at +%v acked %v (n=%d), want +%v", i+1, got, a.Acked, a.N, wantOffsets[i])
		}
	}
	if got := len(e.rcv.ofKind(gateway.KindNotifyPayment)); got != 4 {
		t.Fatalf("receiver saw %d deliveries, want 4", got)
	}
}

func TestNotificationGiveUp(t *testing.T) {
	e := newEnv(t)
	e.rcv.failFirst(1000)
	e.pay(walletPay("giveup", hkd("1000"), "ALIPAY_HK"))
	t0 := e.sim.Now()
	_ = e.sim.Complete("giveup")
	e.sim.Advance(48 * time.Hour)
	n := notificationFor(t, e.sim, "giveup", KindNotifyPayment)
	if n.State != NotificationGaveUp || len(n.Attempts) != len(gateway.NotificationRetrySchedule) {
		t.Fatalf("state %s after %d attempts", n.State, len(n.Attempts))
	}
	var at time.Duration
	for i, a := range n.Attempts {
		at += gateway.NotificationRetrySchedule[i]
		if a.Time.Sub(t0) != at || a.Acked || a.StatusCode != 200 {
			t.Errorf("attempt %d: +%v status %d acked %v, want +%v", i+1, a.Time.Sub(t0), a.StatusCode, a.Acked, at)
		}
	}
}

func TestNotificationNoURL(t *testing.T) {
	e := newEnv(t)
	if err := e.sim.SetNotifyURL(testClientID, ""); err != nil {
		t.Fatal(err)
	}
	e.paidWallet("nourl", hkd("1000"), "ALIPAY_HK")
	e.quiesce()
	if n := notificationFor(t, e.sim, "nourl", KindNotifyPayment); n.State != NotificationNoURL {
		t.Fatalf("state %s", n.State)
	}
}

// Request notifications go to the request's URL, others to the merchant default.
func TestNotificationTargets(t *testing.T) {
	e := newEnv(t)
	req := cardPay("tgt", usd("1000"), visa, false, captureManual)
	req.PaymentNotifyURL = e.rcv.url("/pay-notify")
	resp, _ := e.pay(req)
	e.capture("tgt-cap", resp.PaymentID, usd("1000"))
	e.refund("tgt-ref", resp.PaymentID, usd("100"))
	if _, err := e.sim.OpenDispute("tgt", DisputeSpec{}); err != nil {
		t.Fatal(err)
	}
	e.quiesce()
	paths := map[string]string{}
	for _, r := range e.rcv.all() {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		paths[r.Kind] = r.Path
	}
	want := map[string]string{
		gateway.KindNotifyPayment: "/pay-notify", gateway.KindNotifyCapture: "/pay-notify",
		gateway.KindNotifyRefund: "/notify/default", gateway.KindNotifyDispute: "/notify/default",
	}
	for k, v := range want {
		if paths[k] != v {
			t.Errorf("%s went to %q, want %q", k, paths[k], v)
		}
	}
}
