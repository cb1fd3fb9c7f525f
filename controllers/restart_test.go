package controllers_test

import (
	"fmt"
	"testing"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
)

// TestManagerRestartsMidFlowMoveMoneyOnce stops the manager and starts a new
// one (nothing carried over in memory) while payments, captures and refunds
// are in flight, with the simulator losing a third of its answers after
// committing the operation. Every object still ends in its right phase, and
// the simulator's ledger shows exactly one gateway operation per object.
func TestManagerRestartsMidFlowMoveMoneyOnce(t *testing.T) {
	ctx, ns, m := setup(t)
	if err := sys.Sim.SetFaults(gatewaysim.FaultProfile{ResponseLost: 0.35, UnknownException: 0.1}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Sim.SetFaults(gatewaysim.FaultProfile{}) })

	var wallets []*v1.Payment
	for i := 0; i < 6; i++ {
		p := walletPayment(ns, fmt.Sprintf("w%d", i), m.GatewayConfig, "HKD", "20.00", "ALIPAY_HK")
		if err := k8s.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		wallets = append(wallets, p)
	}
	card := authorized(ctx, t, ns, "card", m.GatewayConfig) // USD 25.00, captureMode Manual
	if err := sys.RestartManager(); err != nil {
		t.Fatal(err)
	}

	// Pay each wallet payment at the gateway as soon as it shows a checkout link.
	for _, p := range wallets {
		p = waitPhase(ctx, t, p, v1.PaymentProcessing)
		if err := sys.Sim.Complete(p.Status.PaymentID); err != nil {
			t.Fatal(err)
		}
	}
	c1, c2 := newCapture(ns, "c1", "card", "10.00"), newCapture(ns, "c2", "card", "15.00")
	create(ctx, t, c1)
	create(ctx, t, c2)
	var refunds []*v1.Refund
	for i, p := range wallets[:3] {
		r := newRefund(ns, fmt.Sprintf("r%d", i), p.Name, "HKD", "5.00")
		create(ctx, t, r)
		refunds = append(refunds, r)
	}
	if err := sys.RestartManager(); err != nil {
		t.Fatal(err)
	}

	for _, p := range wallets {
		waitPhase(ctx, t, p, v1.PaymentSucceeded)
	}
	if err := sys.RestartManager(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*v1.Capture{c1, c2} {
		waitOp(ctx, t, c, v1.OperationSucceeded)
	}
	for _, r := range refunds {
		waitOp(ctx, t, r, v1.OperationSucceeded)
	}
	waitPhase(ctx, t, card, v1.PaymentSucceeded)

	ids := []string{card.Status.PaymentRequestID, c1.Status.RequestID, c2.Status.RequestID}
	for _, p := range wallets {
		ids = append(ids, p.Status.PaymentRequestID)
	}
	for _, r := range refunds {
		ids = append(ids, r.Status.RequestID)
	}
	for _, id := range ids {
		if n := operations(t, id); n != 1 {
			t.Errorf("gateway operations for %s = %d, want exactly 1", id, n)
		}
	}
	view, err := sys.Sim.Payment(card.Status.PaymentID)
	if err != nil {
		t.Fatal(err)
	}
	if view.Ledger.Captured != 2500 || view.Ledger.Captures != 2 {
		t.Fatalf("card ledger: %+v", view.Ledger)
	}
	for _, p := range wallets[:3] {
		if v, _ := sys.Sim.Payment(p.Status.PaymentID); v.Ledger.Refunded != 500 {
			t.Fatalf("%s refunded %d at the gateway, want 500", p.Name, v.Ledger.Refunded)
		}
	}
}
