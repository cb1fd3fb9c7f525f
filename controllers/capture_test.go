package controllers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
)

func TestManualCapturesThenPartialRefunds(t *testing.T) {
	ctx, ns, m := setup(t)
	p := authorized(ctx, t, ns, "auth", m.GatewayConfig)

	c1 := newCapture(ns, "c1", "auth", "10.00")
	create(ctx, t, c1)
	c1 = waitOp(ctx, t, c1, v1.OperationSucceeded)
	if c1.Status.PaymentID != p.Status.PaymentID || c1.Status.GatewayID == "" || c1.Status.RequestID == "" {
		t.Fatalf("capture status lacks ids: %+v", c1.Status)
	}
	if c := condition(c1.Status.Conditions, v1.ConditionReady); c.Status != metav1.ConditionTrue || c.ObservedGeneration != c1.Generation {
		t.Fatalf("Ready = %+v", c)
	}

	// Refund part of the first capture while the rest is still authorized.
	r1 := newRefund(ns, "r1", "auth", "USD", "5.00")
	r1.Spec.CaptureRef = &v1.LocalObjectReference{Name: "c1"}
	create(ctx, t, r1)
	r1 = waitOp(ctx, t, r1, v1.OperationSucceeded)

	c2 := newCapture(ns, "c2", "auth", "15.00")
	create(ctx, t, c2)
	c2 = waitOp(ctx, t, c2, v1.OperationSucceeded)
	p = waitPayment(ctx, t, p, "payment Succeeded with USD 25.00 captured", func(p *v1.Payment) bool {
		return p.Status.Phase == v1.PaymentSucceeded && moneyIs(p.Status.Amounts.Captured, "25.00")
	})

	r2 := newRefund(ns, "r2", "auth", "USD", "7.50")
	create(ctx, t, r2)
	r2 = waitOp(ctx, t, r2, v1.OperationSucceeded)
	waitPayment(ctx, t, p, "payment refunded USD 12.50", func(p *v1.Payment) bool {
		return moneyIs(p.Status.Amounts.Refunded, "12.50") && moneyIs((*v1.Money)(p.Status.Amounts.Refundable), "12.50")
	})

	for _, st := range []v1.OperationStatus{c1.Status, c2.Status, r1.Status, r2.Status} {
		if n := operations(t, st.RequestID); n != 1 {
			t.Fatalf("gateway operations for %s = %d, want exactly 1", st.RequestID, n)
		}
	}
	view, err := sys.Sim.Payment(p.Status.PaymentID)
	if err != nil {
		t.Fatal(err)
	}
	if l := view.Ledger; l.Captured != 2500 || l.Refunded != 1250 || l.Captures != 2 || l.Refunds != 2 {
		t.Fatalf("simulator ledger: %+v", l)
	}
}

func TestOverCaptureRefusedWithoutGatewayCall(t *testing.T) {
	ctx, ns, m := setup(t)
	authorized(ctx, t, ns, "auth", m.GatewayConfig)
	c1 := newCapture(ns, "first", "auth", "20.00")
	create(ctx, t, c1)
	waitOp(ctx, t, c1, v1.OperationSucceeded)

	c2 := newCapture(ns, "second", "auth", "10.00")
	create(ctx, t, c2)
	c2 = waitOp(ctx, t, c2, v1.OperationFailed)
	want := fmt.Sprintf("captures of payment %s/auth would total USD 30.00 but only USD 25.00 was authorized (USD 20.00 already captured or in flight)", ns)
	expectRefused(t, c2, v1.ReasonLimitExceeded, want)
}

func TestCaptureWaitsForItsAuthorization(t *testing.T) {
	ctx, ns, m := setup(t)
	c := newCapture(ns, "early", "later", "25.00")
	create(ctx, t, c)
	c = waitCondition(ctx, t, c, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonPaymentNotReady)
	// Ready says what it waits for, and Synced does not repeat its reason.
	ready, synced := condition(c.Status.Conditions, v1.ConditionReady), condition(c.Status.Conditions, v1.ConditionSynced)
	if ready.Reason != v1.ReasonPaymentNotReady || !strings.Contains(ready.Message, "not found") ||
		strings.HasPrefix(synced.Message, v1.ReasonPaymentNotReady) {
		t.Fatalf("Ready %+v, Synced %+v", ready, synced)
	}

	p := authorized(ctx, t, ns, "later", m.GatewayConfig)
	waitOp(ctx, t, c, v1.OperationSucceeded)
	waitPayment(ctx, t, p, "payment Succeeded", func(p *v1.Payment) bool { return p.Status.Phase == v1.PaymentSucceeded })
}

func TestCaptureOfWalletPaymentIsRefused(t *testing.T) {
	ctx, ns, m := setup(t)
	paidWallet(ctx, t, ns, "wallet", m.GatewayConfig, "HKD", "5.00", "ALIPAY_HK")
	c := newCapture(ns, "cap", "wallet", "5.00")
	c.Spec.Amount.Currency = "HKD"
	create(ctx, t, c)
	c = waitOp(ctx, t, c, v1.OperationFailed)
	expectRefused(t, c, v1.ReasonPaymentIneligible, fmt.Sprintf(
		"payment %s/wallet is not a card authorization (spec.authorization): there is nothing to capture", ns))
}

func TestCaptureDeclinedByIssuerFails(t *testing.T) {
	ctx, ns, m := setup(t)
	p := cardPayment(ctx, t, ns, "auth", m.GatewayConfig, "4000000000000341", v1.CaptureManual) // captures are declined
	create(ctx, t, p)
	waitPhase(ctx, t, p, v1.PaymentAuthorized)
	c := newCapture(ns, "declined", "auth", "25.00")
	create(ctx, t, c)
	c = waitOp(ctx, t, c, v1.OperationFailed)
	if r := c.Status.LastResult; r == nil || r.Code != gateway.CodeUserBalanceNotEnough || r.Message == "" {
		t.Fatalf("lastResult = %+v", r)
	}
	if s := condition(c.Status.Conditions, v1.ConditionStalled); s.Status != metav1.ConditionTrue || s.Reason != v1.ReasonFailed ||
		!strings.Contains(s.Message, gateway.CodeUserBalanceNotEnough) {
		t.Fatalf("Stalled = %+v", s)
	}
	if n := operations(t, c.Status.RequestID); n != 1 {
		t.Fatalf("gateway operations = %d, want 1", n)
	}
}

func TestAsyncCapturePolledToSuccess(t *testing.T) {
	prev := sys.Sim.Behavior()
	t.Cleanup(func() { sys.Sim.SetBehavior(prev) })
	b := prev
	b.CaptureAsync, b.CaptureDelay = true, gatewaysim.Duration(30*time.Second)
	sys.Sim.SetBehavior(b)

	ctx, ns, m := setup(t)
	p := authorized(ctx, t, ns, "auth", m.GatewayConfig)
	c := newCapture(ns, "slow", "auth", "25.00")
	create(ctx, t, c)
	c = waitOp(ctx, t, c, v1.OperationProcessing)
	if r := c.Status.LastResult; r == nil || r.Code != gateway.CodeCaptureInProcess {
		t.Fatalf("lastResult = %+v", r)
	}
	sys.Sim.Advance(30 * time.Second)
	c = waitOp(ctx, t, c, v1.OperationSucceeded)
	if c.Status.GatewayID == "" || c.Status.CompletionTime == nil {
		t.Fatalf("status: %+v", c.Status)
	}
	waitPayment(ctx, t, p, "payment Succeeded", func(p *v1.Payment) bool { return p.Status.Phase == v1.PaymentSucceeded })
}

// TestLastCaptureWaitsForItsSiblings: a capture marked isLastCapture closes
// the authorization at the gateway, so it is held until the payment's other
// captures are final, whatever order they are created or reconciled in.
func TestLastCaptureWaitsForItsSiblings(t *testing.T) {
	ctx, ns, m := setup(t)
	p := authorized(ctx, t, ns, "auth-last", m.GatewayConfig)
	last := newCapture(ns, "a-last", "auth-last", "15.00") // sorts first by name
	last.Spec.IsLastCapture = true
	create(ctx, t, last)
	first := newCapture(ns, "b-first", "auth-last", "10.00")
	create(ctx, t, first)
	for _, c := range []*v1.Capture{first, last} {
		waitOp(ctx, t, c, v1.OperationSucceeded)
	}
	waitPayment(ctx, t, p, "payment Succeeded with USD 25.00 captured", func(p *v1.Payment) bool {
		return p.Status.Phase == v1.PaymentSucceeded && moneyIs(p.Status.Amounts.Captured, "25.00")
	})
	// The gateway lists transactions in the order it received them.
	view, err := sys.Sim.Payment(p.Status.PaymentID)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, tx := range view.Inquiry.Transactions {
		if tx.TransactionType == gateway.TransactionCapture {
			order = append(order, tx.TransactionRequestID)
		}
	}
	if len(order) != 2 || order[0] != first.Status.RequestID || order[1] != last.Status.RequestID {
		t.Fatalf("captures reached the gateway as %v, want %s then the last capture %s", order, first.Status.RequestID, last.Status.RequestID)
	}
}

// TestLapsedAuthorizationExpires: an authorization nobody captured in time
// ends Expired once the gateway refuses a capture with AUTH_EXPIRED; it
// does not stay Authorized with Ready=True.
func TestLapsedAuthorizationExpires(t *testing.T) {
	ctx, ns, m := setup(t)
	p := authorized(ctx, t, ns, "lapsed", m.GatewayConfig)
	sys.Sim.Advance(8 * 24 * time.Hour) // past the 7-day authorization, on the gateway's clock
	c := newCapture(ns, "too-late", "lapsed", "25.00")
	create(ctx, t, c)
	c = waitOp(ctx, t, c, v1.OperationFailed)
	if r := c.Status.LastResult; r == nil || r.Code != gateway.CodeAuthExpired {
		t.Fatalf("capture lastResult %+v", c.Status.LastResult)
	}
	p = waitPhase(ctx, t, p, v1.PaymentExpired)
	if ready := condition(p.Status.Conditions, v1.ConditionReady); ready.Status != metav1.ConditionFalse || ready.Reason != v1.ReasonExpired ||
		!strings.Contains(ready.Message, "too-late") {
		t.Fatalf("Ready %+v", ready)
	}
}
