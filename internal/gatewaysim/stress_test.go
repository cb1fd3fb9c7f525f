package gatewaysim

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// Many concurrent payments, completions, refunds, inquiries and clock
// advances: the ledger must add up and every notification must be delivered.
func TestConcurrentLoad(t *testing.T) {
	n := 200
	if testing.Short() {
		n = 40
	}
	e := newEnv(t)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id := fmt.Sprintf("load-%d", i)
			resp, err := e.client.Pay(e.ctx, walletPay(id, hkd("1000"), "ALIPAY_HK"))
			if !gateway.IsInProcess(err) {
				errs <- fmt.Errorf("pay %s: %v", id, err)
				return
			}
			if err := e.sim.Complete(resp.PaymentID); err != nil {
				errs <- err
				return
			}
			if _, err := e.client.Refund(e.ctx, &gateway.RefundRequest{RefundRequestID: id + "-r", PaymentID: resp.PaymentID, RefundAmount: hkd("400")}); err != nil {
				errs <- fmt.Errorf("refund %s: %v", id, err)
				return
			}
			if _, err := e.client.InquiryPayment(e.ctx, &gateway.InquiryPaymentRequest{PaymentID: resp.PaymentID}); err != nil {
				errs <- err
			}
			if i%50 == 0 {
				e.sim.Advance(time.Second)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	e.quiesce()
	l := e.sim.Ledger()
	if len(l.Payments) != n {
		t.Fatalf("%d payments", len(l.Payments))
	}
	for _, p := range l.Payments {
		if p.Paid != 1000 || p.Refunded != 400 {
			t.Fatalf("payment %+v", p)
		}
	}
	for _, r := range l.Requests {
		if r.Operations != 1 || r.Calls != 1 {
			t.Fatalf("request %+v", r)
		}
	}
	for _, nt := range e.sim.Notifications() {
		if nt.State != NotificationDelivered {
			t.Fatalf("notification %s %s", nt.ID, nt.State)
		}
	}
	if got := len(e.rcv.all()); got != 2*n {
		t.Fatalf("receiver got %d, want %d", got, 2*n)
	}
}
