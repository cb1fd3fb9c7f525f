package chaos

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// TestFullRefundRecordedOnPayment: refunding a payment in full must show
// on the Payment (status.amounts.refunded = the amount).
//
// Found by the suite's full profile. transition.recomputeRefundable
// (internal/transition/payment.go) writes status.amounts.refundable as
// Money "0.00" once everything paid was refunded, and the Money type's
// CEL rule "value must be greater than zero" makes the apiserver refuse
// every status write of that Payment ("status.amounts.refundable: Invalid
// value: value must be greater than zero"): the manager retries for ever
// with backoff, refunded stays at its last partial value, and the
// receiver would answer 503 to any later notification about the payment.
//
// Known bug, so skipped unless CHAOS_KNOWN_BUGS=1.
func TestFullRefundRecordedOnPayment(t *testing.T) {
	if os.Getenv("CHAOS_KNOWN_BUGS") == "" {
		t.Skip("known bug: a fully refunded Payment's status cannot be written (refundable 0.00); CHAOS_KNOWN_BUGS=1 runs this reproduction")
	}
	if testing.Short() {
		t.Skip("runs the whole system")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ls, _ := startSystem(ctx, t, 1)
	pay := paidWallet(ctx, t, ls, "refunded-in-full", 2000)
	plan := &paymentPlan{Name: pay.Name, Kind: kindWallet, Method: "ALIPAY_HK", Currency: "HKD", Amount: 2000}
	r := plan.refund(ns, opPlan{Name: "refunded-in-full-ref1", Amount: 2000})
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
		return refunded == 2000, fmt.Sprintf("%s refundable=%s", describePayment(pay), moneyStr((*v1.Money)(pay.Status.Amounts.Refundable)))
	})
}
