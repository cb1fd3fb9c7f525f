package gatewaysim

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

func TestFaultsNotCommitted(t *testing.T) {
	tests := []struct {
		name  string
		fault FaultProfile
		code  string
	}{
		{"unknown exception", FaultProfile{UnknownException: 1}, gateway.CodeUnknownException},
		{"server error", FaultProfile{ServerError: 1}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.fault.APIs = []string{"pay"}
			if err := e.sim.SetFaults(tc.fault); err != nil {
				t.Fatal(err)
			}
			_, err := e.client.Pay(e.ctx, walletPay("f1", hkd("1000"), "ALIPAY_HK"))
			if !gateway.IsUnknown(err) || gateway.Code(err) != tc.code {
				t.Fatalf("pay under fault: %v (code %q)", err, gateway.Code(err))
			}
			if _, err := e.client.InquiryPayment(e.ctx, &gateway.InquiryPaymentRequest{PaymentRequestID: "f1"}); gateway.Code(err) != gateway.CodeOrderNotExist {
				t.Fatalf("the faulted pay was committed: %v", err)
			}
			if r := e.sim.Ledger().Request("payment", "f1"); r.Operations != 0 {
				t.Fatalf("ledger %+v", r)
			}
			_ = e.sim.SetFaults(FaultProfile{})
			if _, c := e.pay(walletPay("f1", hkd("1000"), "ALIPAY_HK")); c != gateway.CodePaymentInProcess {
				t.Fatalf("retry: %s", c)
			}
		})
	}
}

func TestFaultResponseLost(t *testing.T) {
	for _, mode := range []string{"drop", "502"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t)
			_ = e.sim.SetFaults(FaultProfile{ResponseLost: 1, ResponseLostMode: mode, APIs: []string{"pay", "refund"}})
			_, err := e.client.Pay(e.ctx, walletPay("lost", hkd("1000"), "ALIPAY_HK"))
			if err == nil || !gateway.IsUnknown(err) || gateway.Code(err) != "" {
				t.Fatalf("pay with lost response: %v", err)
			}
			// Committed: the payment exists.
			e.wantStatus("lost", gateway.PaymentStatusProcessing)
			_ = e.sim.SetFaults(FaultProfile{})
			resp, c := e.pay(walletPay("lost", hkd("1000"), "ALIPAY_HK"))
			if c != gateway.CodePaymentInProcess || resp.PaymentID != e.inquiry("lost").PaymentID {
				t.Fatalf("retry: %s", c)
			}
			if r := e.sim.Ledger().Request("payment", "lost"); r.Operations != 1 || r.Calls != 2 {
				t.Fatalf("ledger %+v", r)
			}
		})
	}
}

// A client with retries meets lost responses: money moves exactly once.
func TestFaultExactlyOnceWithClientRetries(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Seed = 3 })
	client := e.newClient(testClientID, merchantKey, 10)
	pid := e.paidWallet("eo", hkd("100000"), "ALIPAY_HK")
	_ = e.sim.SetFaults(FaultProfile{ResponseLost: 0.5, UnknownException: 0.2, APIs: []string{"refund"}})
	for i := 0; i < 5; i++ {
		id := "eo-r" + string(rune('0'+i))
		if _, err := client.Refund(e.ctx, &gateway.RefundRequest{RefundRequestID: id, PaymentID: pid, RefundAmount: hkd("1000")}); err != nil {
			t.Fatalf("refund %s: %v", id, err)
		}
	}
	l := e.sim.Ledger()
	calls := 0
	for i := 0; i < 5; i++ {
		r := l.Request("refund", "eo-r"+string(rune('0'+i)))
		if r.Operations != 1 {
			t.Fatalf("refund %s: %d operations", r.RequestID, r.Operations)
		}
		calls += r.Calls
	}
	if p, _ := l.Payment(pid); p.Refunded != 5000 || p.Refunds != 5 {
		t.Fatalf("ledger %+v", p)
	}
	if calls <= 5 {
		t.Fatalf("faults never hit (calls %d); pick another seed", calls)
	}
}

func TestFaultRateLimit(t *testing.T) {
	e := newEnv(t)
	_ = e.sim.SetFaults(FaultProfile{RateLimitQPS: 1, RateLimitBurst: 2})
	inq := func() string {
		_, err := e.client.InquiryPayment(e.ctx, &gateway.InquiryPaymentRequest{PaymentRequestID: "x"})
		return gateway.Code(err)
	}
	got := []string{inq(), inq(), inq()}
	if want := []string{gateway.CodeOrderNotExist, gateway.CodeOrderNotExist, gateway.CodeRequestTrafficExceed}; !reflect.DeepEqual(got, want) {
		t.Fatalf("burst of 3: %v", got)
	}
	e.sim.Advance(time.Second)
	if c := inq(); c != gateway.CodeOrderNotExist {
		t.Fatalf("after a simulated second: %s", c)
	}
	if c := inq(); c != gateway.CodeRequestTrafficExceed {
		t.Fatalf("bucket should be empty again: %s", c)
	}
}

func TestFaultLatency(t *testing.T) {
	e := newEnv(t)
	_ = e.sim.SetFaults(FaultProfile{Latency: Duration(time.Millisecond), LatencyJitter: Duration(time.Millisecond)})
	if _, c := e.pay(walletPay("lat", hkd("1000"), "ALIPAY_HK")); c != gateway.CodePaymentInProcess {
		t.Fatalf("pay with latency: %s", c)
	}
}

func TestFaultNotifications(t *testing.T) {
	t.Run("drop", func(t *testing.T) {
		e := newEnv(t)
		_ = e.sim.SetFaults(FaultProfile{NotifyDrop: 1})
		e.paidWallet("nd", hkd("1000"), "ALIPAY_HK")
		e.quiesce()
		if n := notificationFor(t, e.sim, "nd", KindNotifyPayment); len(n.Attempts) != 1 || n.Attempts[0].Fault != "dropped" || len(e.rcv.all()) != 0 {
			t.Fatalf("dropped: %+v", n)
		}
		_ = e.sim.SetFaults(FaultProfile{})
		e.sim.Advance(2 * time.Minute)
		if n := notificationFor(t, e.sim, "nd", KindNotifyPayment); n.State != NotificationDelivered || len(e.rcv.all()) != 1 {
			t.Fatalf("after retry: %+v", n)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		e := newEnv(t)
		_ = e.sim.SetFaults(FaultProfile{NotifyDuplicate: 1})
		e.paidWallet("ndup", hkd("1000"), "ALIPAY_HK")
		e.quiesce()
		if got := e.rcv.ofKind(gateway.KindNotifyPayment); len(got) != 2 || string(got[0].Body) != string(got[1].Body) {
			t.Fatalf("duplicate: %d deliveries", len(got))
		}
	})
	t.Run("reorder", func(t *testing.T) {
		e := newEnv(t)
		e.pay(walletPay("first", hkd("1000"), "ALIPAY_HK"))
		e.pay(walletPay("second", hkd("1000"), "ALIPAY_HK"))
		_ = e.sim.SetFaults(FaultProfile{NotifyReorder: 1})
		_ = e.sim.Complete("first")
		_ = e.sim.SetFaults(FaultProfile{})
		e.quiesce()
		if n := len(e.rcv.all()); n != 0 {
			t.Fatalf("held notification delivered early (%d)", n)
		}
		_ = e.sim.Complete("second")
		e.quiesce()
		var order []string
		for _, r := range e.rcv.ofKind(gateway.KindNotifyPayment) {
			order = append(order, r.Value.(*gateway.NotifyPayment).PaymentRequestID)
		}
		if !reflect.DeepEqual(order, []string{"second", "first"}) {
			t.Fatalf("order %v, want [second first]", order)
		}
	})
	t.Run("reorder released by hold time", func(t *testing.T) {
		e := newEnv(t)
		_ = e.sim.SetFaults(FaultProfile{NotifyReorder: 1, NotifyReorderHold: Duration(30 * time.Second)})
		e.paidWallet("alone", hkd("1000"), "ALIPAY_HK")
		e.sim.Advance(30 * time.Second)
		if n := len(e.rcv.all()); n != 1 {
			t.Fatalf("%d deliveries after the hold", n)
		}
	})
	t.Run("delay", func(t *testing.T) {
		e := newEnv(t)
		_ = e.sim.SetFaults(FaultProfile{NotifyDelayRate: 1, NotifyDelay: Duration(5 * time.Minute)})
		e.paidWallet("nde", hkd("1000"), "ALIPAY_HK")
		e.quiesce()
		e.sim.Advance(5*time.Minute - time.Second)
		if n := len(e.rcv.all()); n != 0 {
			t.Fatalf("delayed notification arrived early")
		}
		e.sim.Advance(time.Second)
		if n := notificationFor(t, e.sim, "nde", KindNotifyPayment); n.State != NotificationDelivered || n.Attempts[0].Fault != "delayed" {
			t.Fatalf("delayed: %+v", n)
		}
	})
}

// The same seed and request sequence give the same faults.
func TestFaultsDeterministic(t *testing.T) {
	run := func() []string {
		e := newEnv(t, func(o *Options) { o.Seed = 11 })
		p, _ := ParseFaultProfile("flaky")
		p.UnknownException, p.ServerError = 0.3, 0.2
		_ = e.sim.SetFaults(p)
		var out []string
		for i := 0; i < 20; i++ {
			_, err := e.client.InquiryPayment(e.ctx, &gateway.InquiryPaymentRequest{PaymentRequestID: "x"})
			var te *gateway.TransportError
			switch {
			case errors.As(err, &te):
				out = append(out, te.Class)
			default:
				out = append(out, gateway.Code(err))
			}
		}
		return out
	}
	a, b := run(), run()
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("faults differ between runs with one seed:\n%v\n%v", a, b)
	}
}

func TestParseFaultProfile(t *testing.T) {
	for _, s := range []string{"none", "flaky", "chaos", "slow", "lossy-notify", "lost-responses", "throttled",
		`{"unknownException":0.5,"latency":"10ms"}`, `{"name":"chaos"}`} {
		if _, err := ParseFaultProfile(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	for _, s := range []string{"nope", `{"unknownException":2}`, `{"bogus":1}`, `{"apis":["payy"]}`, `{"responseLostMode":"x"}`} {
		if _, err := ParseFaultProfile(s); err == nil {
			t.Errorf("%s accepted", s)
		}
	}
}
