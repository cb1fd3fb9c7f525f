package chaos

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/localsystem"
)

// notifiedRefundCountsInPayment: a refund that reaches Succeeded through
// notifyRefund before the refund controller wrote its status must still
// count in its Payment's status.amounts.refunded.
//
// The manager sends the refund and is killed before it writes the
// Refund's status (the crash window every idempotency id exists for); the
// gateway's notifyRefund reaches the receiver, which moves the Refund to
// Succeeded. notifyRefund carries no paymentId, and the Payment counts
// only operations of its own gateway payment; the restarted manager never
// looks at a final Refund again. Found by the suite (the notification
// also beats the controller's status write without any crash), fixed in
// the receiver by 07f6a3c; this is its deterministic regression check.
// It runs on the suite's system once the suite's own checks are done.
func notifiedRefundCountsInPayment(ctx context.Context, t *testing.T, ls *localsystem.System) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	pay := paidWallet(ctx, t, ls, "regress-paid", 5000)
	plan := &paymentPlan{Name: pay.Name, Kind: kindWallet, Method: "ALIPAY_HK", Currency: "HKD", Amount: 5000}
	poll := func(what string, cond func() (bool, string)) { t.Helper(); pollUntil(t, time.Minute, what, cond) }

	// The manager sends the refund and dies before writing status.
	manager := ls.Process("manager")
	manager.Kill()
	r := plan.refund(ns, opPlan{Name: "regress-paid-ref1", Amount: 1000})
	if err := ls.Client.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	gc := merchantClient(t, ls.Work, ls.SimURL)
	rid := ids.Refund(r, "")
	if _, err := gc.Refund(ctx, &gateway.RefundRequest{RefundRequestID: rid, PaymentID: pay.Status.PaymentID,
		RefundAmount: gateway.Amount{Currency: "HKD", Value: "1000"}, RefundReason: r.Spec.Reason,
		RefundNotifyURL: ids.NotifyURL(ls.ReceiverURL, ids.KindRefund, ns, r.Name)}); err != nil {
		t.Fatal(err)
	}
	poll("the receiver applied notifyRefund", func() (bool, string) {
		err := ls.Client.Get(ctx, client.ObjectKeyFromObject(r), r)
		return err == nil && r.Status.Phase == v1.OperationSucceeded, describeOp(r.Name, &r.Status)
	})
	if err := manager.Start(); err != nil {
		t.Fatal(err)
	}

	// The restarted manager must make the Payment count the refund.
	poll("the Payment counts the refund", func() (bool, string) {
		if err := ls.Client.Get(ctx, client.ObjectKeyFromObject(pay), pay); err != nil {
			return false, err.Error()
		}
		if err := ls.Client.Get(ctx, client.ObjectKeyFromObject(r), r); err != nil {
			return false, err.Error()
		}
		refunded, _ := minorOf(pay.Status.Amounts.Refunded)
		return refunded == 1000, fmt.Sprintf("payment %s refundable=%s; refund status.paymentId=%q (payment's %q)",
			describePayment(pay), moneyStr((*v1.Money)(pay.Status.Amounts.Refundable)), r.Status.PaymentID, pay.Status.PaymentID)
	})
}

// fullRefundRecorded: refunding a payment in full shows on the Payment
// (refunded = the amount, refundable 0.00). refundable used to be a Money,
// whose CEL rule wants a value above zero, so the apiserver refused every
// status write of a fully refunded payment; found by the suite's full
// profile, fixed by 8c4eb1e (status totals are Totals); this is its
// deterministic regression check.
func fullRefundRecorded(ctx context.Context, t *testing.T, ls *localsystem.System) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	pay := paidWallet(ctx, t, ls, "regress-refunded-in-full", 2000)
	plan := &paymentPlan{Name: pay.Name, Kind: kindWallet, Method: "ALIPAY_HK", Currency: "HKD", Amount: 2000}
	r := plan.refund(ns, opPlan{Name: "regress-refunded-in-full-ref1", Amount: 2000})
	if err := ls.Client.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, time.Minute, "the refund Succeeded", func() (bool, string) {
		err := ls.Client.Get(ctx, client.ObjectKeyFromObject(r), r)
		return err == nil && r.Status.Phase == v1.OperationSucceeded, describeOp(r.Name, &r.Status)
	})
	pollUntil(t, time.Minute, "the Payment shows the full refund", func() (bool, string) {
		if err := ls.Client.Get(ctx, client.ObjectKeyFromObject(pay), pay); err != nil {
			return false, err.Error()
		}
		refunded, _ := minorOf(pay.Status.Amounts.Refunded)
		refundable, err := minorOf((*v1.Money)(pay.Status.Amounts.Refundable))
		return refunded == 2000 && err == nil && pay.Status.Amounts.Refundable != nil && refundable == 0,
			fmt.Sprintf("%s refundable=%s", describePayment(pay), moneyStr((*v1.Money)(pay.Status.Amounts.Refundable)))
	})
}

// pollUntil re-checks cond until it holds or timeout passes.
func pollUntil(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, desc := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s: %s", what, timeout, desc)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// paidWallet creates an ALIPAY_HK payment of minor HKD cents, has the
// simulator complete it and waits until it is Succeeded.
func paidWallet(ctx context.Context, t *testing.T, ls *localsystem.System, name string, minor int64) *v1.Payment {
	t.Helper()
	sim := newSimClient(ls.SimURL)
	plan := &paymentPlan{Name: name, Kind: kindWallet, Method: "ALIPAY_HK", Currency: "HKD", Amount: minor}
	pay := plan.payment(ns, gwcName)
	if err := ls.Client.Create(ctx, pay); err != nil {
		t.Fatal(err)
	}
	ref := ids.Payment(pay, "")
	pollUntil(t, time.Minute, "payment "+name+" at the gateway", func() (bool, string) {
		_, err := sim.payment(ctx, ref)
		return err == nil, fmt.Sprint(err)
	})
	if err := sim.complete(ctx, ref); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, time.Minute, "payment "+name+" Succeeded", func() (bool, string) {
		err := ls.Client.Get(ctx, client.ObjectKeyFromObject(pay), pay)
		return err == nil && pay.Status.Phase == v1.PaymentSucceeded, describePayment(pay)
	})
	return pay
}

// merchantClient is a gateway client with the simulated merchant's key, as
// the manager has.
func merchantClient(t *testing.T, work, endpoint string) *gateway.Client {
	t.Helper()
	read := func(f string) string {
		b, err := os.ReadFile(filepath.Join(work, "sim-keys", f))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	priv, err := gateway.ParsePrivateKey(read("merchant_private_key.txt"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := gateway.ParsePublicKey(read("gateway_public_key.txt"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := gateway.New(gateway.Config{Endpoint: endpoint, ClientID: clientID, PrivateKey: priv, GatewayPublicKey: pub})
	if err != nil {
		t.Fatal(errors.Join(errors.New("gateway client"), err))
	}
	return c
}
