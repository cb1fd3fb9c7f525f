package controllers_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

func TestOverRefundRefusedWithoutGatewayCall(t *testing.T) {
	ctx, ns, m := setup(t)
	paidWallet(ctx, t, ns, "p1", m.GatewayConfig, "HKD", "10.50", "ALIPAY_HK")
	r1 := newRefund(ns, "first", "p1", "HKD", "8.00")
	create(ctx, t, r1)
	waitOp(ctx, t, r1, v1.OperationSucceeded)

	r2 := newRefund(ns, "second", "p1", "HKD", "4.00")
	create(ctx, t, r2)
	r2 = waitOp(ctx, t, r2, v1.OperationFailed)
	want := fmt.Sprintf("refunds of payment %s/p1 would total HKD 12.00 but only HKD 10.50 was paid (HKD 8.00 already refunded or in flight)", ns)
	expectRefused(t, r2, v1.ReasonLimitExceeded, want)
}

// Two refunds racing for the last of the money: exactly one succeeds, and
// it is the earlier in (creationTimestamp, name) order, whichever reconcile
// happens to run first.
func TestRacingRefundsEarliestWins(t *testing.T) {
	ctx, ns, m := setup(t)
	p := paidWallet(ctx, t, ns, "p", m.GatewayConfig, "HKD", "10.00", "ALIPAY_HK")
	r0 := newRefund(ns, "r0", "p", "HKD", "6.00")
	create(ctx, t, r0)
	waitOp(ctx, t, r0, v1.OperationSucceeded)

	a, b := newRefund(ns, "race-a", "p", "HKD", "3.00"), newRefund(ns, "race-b", "p", "HKD", "3.00")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, r := range []*v1.Refund{b, a} { // race-b is sent first: the name must still decide a tie
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = k8s.Create(ctx, r) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, timeout, "both racing refunds final", func() (bool, string) {
		a, b = get(ctx, t, a), get(ctx, t, b)
		return a.Status.Phase.IsFinal() && b.Status.Phase.IsFinal(), describeOp(a) + " / " + describeOp(b)
	})
	winner, loser := a, b
	if b.CreationTimestamp.Before(&a.CreationTimestamp) {
		winner, loser = b, a
	}
	t.Logf("created race-a %s, race-b %s: %s should win", a.CreationTimestamp.Format(time.RFC3339), b.CreationTimestamp.Format(time.RFC3339), winner.Name)
	if winner.Status.Phase != v1.OperationSucceeded || loser.Status.Phase != v1.OperationFailed {
		t.Fatalf("winner %s is %s, loser %s is %s; want the earlier (creationTimestamp, name) to win", winner.Name, winner.Status.Phase, loser.Name, loser.Status.Phase)
	}
	want := fmt.Sprintf("refunds of payment %s/p would total HKD 12.00 but only HKD 10.00 was paid (HKD 9.00 already refunded or in flight)", ns)
	expectRefused(t, loser, v1.ReasonLimitExceeded, want)
	if n := operations(t, winner.Status.RequestID); n != 1 {
		t.Fatalf("gateway operations of the winner = %d, want 1", n)
	}
	if view, _ := sys.Sim.Payment(p.Status.PaymentID); view.Ledger.Refunded != 900 {
		t.Fatalf("simulator refunded %d, want 900", view.Ledger.Refunded)
	}
}

func TestRefundOfFailedPaymentFails(t *testing.T) {
	ctx, ns, m := setup(t)
	p := cardPayment(ctx, t, ns, "declined", m.GatewayConfig, "4000000000000002", v1.CaptureManual)
	create(ctx, t, p)
	waitPhase(ctx, t, p, v1.PaymentFailed)

	r := newRefund(ns, "r", "declined", "USD", "1.00")
	create(ctx, t, r)
	r = waitOp(ctx, t, r, v1.OperationFailed)
	want := fmt.Sprintf("payment %s/declined is Failed: it can never be refunded", ns)
	expectRefused(t, r, v1.ReasonPaymentIneligible, want)
}

// applyDispute writes a dispute notification into the payment's status,
// exactly as the notification receiver does.
func applyDispute(n gateway.NotifyDispute) func(*v1.Payment) error {
	return func(p *v1.Payment) error {
		n.PaymentID = p.Status.PaymentID
		_, err := transition.ApplyDispute(p, n, time.Now())
		return err
	}
}

func TestDisputeBlocksRefundUntilJudged(t *testing.T) {
	ctx, ns, m := setup(t)
	p := paidWallet(ctx, t, ns, "p", m.GatewayConfig, "HKD", "10.00", "ALIPAY_HK")
	disputeID, err := sys.Sim.OpenDispute(p.Status.PaymentID, gatewaysim.DisputeSpec{AmountMinor: 300})
	if err != nil {
		t.Fatal(err)
	}
	updatePaymentStatus(ctx, t, p, applyDispute(gateway.NotifyDispute{DisputeID: disputeID,
		DisputeNotificationType: gateway.DisputeCreated, DisputeType: "CHARGEBACK"}))

	r := newRefund(ns, "held", "p", "HKD", "2.00")
	create(ctx, t, r)
	r = waitCondition(ctx, t, r, v1.ConditionBlocked, metav1.ConditionTrue, v1.ReasonDisputeOpen)
	if c := condition(r.Status.Conditions, v1.ConditionReady); c.Reason != v1.ReasonDisputeOpen || r.Status.Phase != v1.OperationPending {
		t.Fatalf("blocked refund: phase %s, Ready %+v", r.Status.Phase, c)
	}
	id := requestIDOf(t, r)
	if n := operations(t, id); n != 0 {
		t.Fatalf("a refund was sent during the dispute: %d", n)
	}

	if err := sys.Sim.JudgeDispute(disputeID, gateway.JudgedAcceptByCustomer); err != nil {
		t.Fatal(err)
	}
	updatePaymentStatus(ctx, t, p, applyDispute(gateway.NotifyDispute{DisputeID: disputeID,
		DisputeNotificationType: gateway.DisputeJudged, DisputeJudgedResult: gateway.JudgedAcceptByCustomer}))
	r = waitOp(ctx, t, r, v1.OperationSucceeded)
	if c := condition(r.Status.Conditions, v1.ConditionBlocked); c.Type != "" {
		t.Fatalf("Blocked kept after the judgement: %+v", c)
	}
	if n := operations(t, id); n != 1 {
		t.Fatalf("gateway operations = %d, want 1", n)
	}
}

// The dispute notification has not reached the payment: the gateway's own
// refusal makes the refund wait, and it goes through once judged.
func TestGatewayDisputeRefusalWaits(t *testing.T) {
	ctx, ns, m := setup(t)
	p := paidWallet(ctx, t, ns, "p", m.GatewayConfig, "HKD", "10.00", "ALIPAY_HK")
	disputeID, err := sys.Sim.OpenDispute(p.Status.PaymentID, gatewaysim.DisputeSpec{})
	if err != nil {
		t.Fatal(err)
	}
	r := newRefund(ns, "refused", "p", "HKD", "2.00")
	create(ctx, t, r)
	r = waitCondition(ctx, t, r, v1.ConditionBlocked, metav1.ConditionTrue, v1.ReasonDisputeOpen)
	if r.Status.Phase != v1.OperationPending || r.Status.RequestID == "" {
		t.Fatalf("refused refund: %+v", r.Status)
	}
	if err := sys.Sim.JudgeDispute(disputeID, gateway.JudgedAcceptByCustomer); err != nil {
		t.Fatal(err)
	}
	r = waitOp(ctx, t, r, v1.OperationSucceeded)
	if n := operations(t, r.Status.RequestID); n != 1 {
		t.Fatalf("gateway operations = %d, want 1", n)
	}
}

func TestAsyncRefundPolledToSuccess(t *testing.T) {
	prev := sys.Sim.Behavior()
	t.Cleanup(func() { sys.Sim.SetBehavior(prev) })
	b := prev
	b.RefundAsync, b.RefundDelay = true, gatewaysim.Duration(time.Minute)
	sys.Sim.SetBehavior(b)

	ctx, ns, m := setup(t)
	paidWallet(ctx, t, ns, "p", m.GatewayConfig, "HKD", "10.00", "ALIPAY_HK")
	r := newRefund(ns, "slow", "p", "HKD", "3.00")
	create(ctx, t, r)
	r = waitOp(ctx, t, r, v1.OperationProcessing)
	if res := r.Status.LastResult; res == nil || res.Code != gateway.CodeRefundInProcess {
		t.Fatalf("lastResult = %+v", res)
	}
	if c := condition(r.Status.Conditions, v1.ConditionReady); c.Reason != v1.ReasonProcessing {
		t.Fatalf("Ready = %+v", c)
	}
	sys.Sim.Advance(time.Minute)
	r = waitOp(ctx, t, r, v1.OperationSucceeded)
	if r.Status.LastCheckTime == nil || r.Status.CompletionTime == nil || r.Status.GatewayID == "" {
		t.Fatalf("status after inquiry: %+v", r.Status)
	}
	if n := operations(t, r.Status.RequestID); n != 1 {
		t.Fatalf("gateway operations = %d, want 1", n)
	}
}

// A reconcile sent the refund and crashed before writing status; meanwhile
// the payment became one that can never be refunded. The operator must ask
// the gateway before failing it, and adopt what the gateway did.
func TestRefundSentBeforeCrashIsAdopted(t *testing.T) {
	ctx, ns, m := setup(t)
	p := paidWallet(ctx, t, ns, "p", m.GatewayConfig, "HKD", "10.00", "ALIPAY_HK")
	// Hold the refund back (its captureRef names a capture that does not
	// exist) so that the operator cannot send it...
	r := newRefund(ns, "crashed", "p", "HKD", "4.00")
	r.Spec.CaptureRef = &v1.LocalObjectReference{Name: "not-yet"}
	create(ctx, t, r)
	waitCondition(ctx, t, r, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonCaptureNotReady)
	// ...and send it ourselves, as the crashed reconcile did.
	conn, err := sys.Registry.Get(ctx, m.GatewayConfig)
	if err != nil {
		t.Fatal(err)
	}
	id := requestIDOf(t, r)
	if _, err := conn.Client.Refund(ctx, &gateway.RefundRequest{RefundRequestID: id, PaymentID: p.Status.PaymentID,
		RefundAmount: gateway.Amount{Currency: "HKD", Value: "400"}}); err != nil {
		t.Fatal(err)
	}
	// The payment is cancelled (the gateway refunds the other 6.00): no
	// refund can be sent for it any more.
	patch := client.MergeFrom(p.DeepCopy())
	p.Spec.Cancel = true
	if err := k8s.Patch(ctx, p, patch); err != nil {
		t.Fatal(err)
	}
	waitPhase(ctx, t, p, v1.PaymentCancelled)
	r = waitOp(ctx, t, r, v1.OperationSucceeded)
	if r.Status.RequestID != id || r.Status.GatewayID == "" || r.Status.PaymentID != p.Status.PaymentID {
		t.Fatalf("adopted status: %+v", r.Status)
	}
	if n := operations(t, id); n != 1 {
		t.Fatalf("gateway operations = %d, want 1", n)
	}
}

// TestFullRefundLeavesNothingRefundable: after a full refund the payment's
// refundable total is zero, which its status must still be able to say
// (Money is positive-only; status totals are not).
func TestFullRefundLeavesNothingRefundable(t *testing.T) {
	ctx, ns, m := setup(t)
	p := walletPayment(ns, "full", m.GatewayConfig, "HKD", "10.50", "ALIPAY_HK")
	if err := k8s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	p = waitPhase(ctx, t, p, v1.PaymentProcessing)
	if err := sys.Sim.Complete(p.Status.PaymentID); err != nil {
		t.Fatal(err)
	}
	p = waitPhase(ctx, t, p, v1.PaymentSucceeded)
	r := newRefund(ns, "all", "full", "HKD", "10.50")
	create(ctx, t, r)
	waitOp(ctx, t, r, v1.OperationSucceeded)
	waitPayment(ctx, t, p, "refunded 10.50, refundable 0.00, Synced", func(p *v1.Payment) bool {
		a := p.Status.Amounts
		synced := condition(p.Status.Conditions, v1.ConditionSynced)
		return moneyIs(a.Refunded, "10.50") && a.Refundable != nil && a.Refundable.Value == "0.00" && synced.Status == metav1.ConditionTrue
	})
}
