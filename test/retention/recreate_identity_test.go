package retention_test

import (
	"testing"
	"time"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// TestRecreatedManifestMovesNoMoney: the same manifest applied again after
// the payment was archived derives the same gateway identity, adopts the
// payment the gateway already has (its pay call is answered with that
// payment and creates nothing), and is kept.
func TestRecreatedManifestMovesNoMoney(t *testing.T) {
	f := setup(t, time.Second)
	p := f.paid(t, f.payment("order-1", "12.00"))
	payID, payReq := p.Status.PaymentID, p.Status.PaymentRequestID
	waitGone(t, p)
	calls := len(sys.Sim.Ledger().Requests)
	again := f.payment("order-1", "12.00")
	create(t, again)
	waitFor(t, again, "Succeeded (adopted)", func() bool { return again.Status.Phase == v1.PaymentSucceeded })
	if again.Status.PaymentID != payID || again.Status.PaymentRequestID != payReq {
		t.Fatalf("re-created payment has paymentId %s request %s, want the archived %s %s", again.Status.PaymentID,
			again.Status.PaymentRequestID, payID, payReq)
	}
	if n := gatewayOperations(payReq); n != 1 {
		t.Fatalf("gateway operations for %s = %d, want 1", payReq, n)
	}
	if got := len(sys.Sim.Ledger().Requests); got != calls {
		t.Fatalf("the simulator saw %d new request ids, want 0", got-calls)
	}
	f.keptAfterArchive(t, again)
}
