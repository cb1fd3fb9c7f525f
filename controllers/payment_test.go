package controllers_test

import (
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
)

func TestWalletPaymentSucceedsViaCheckout(t *testing.T) {
	ctx, ns, m := setup(t)
	p := walletPayment(ns, "wallet", m.GatewayConfig, "HKD", "10.50", "ALIPAY_HK")
	if err := k8s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	p = waitPhase(ctx, t, p, v1.PaymentProcessing)
	if p.Status.UserAction == nil || p.Status.UserAction.URL == "" {
		t.Fatalf("no checkout link in status.userAction: %+v", p.Status)
	}
	if c := condition(p.Status.Conditions, v1.ConditionReady); c.Status != metav1.ConditionFalse || c.Reason != v1.ReasonAwaitingUser {
		t.Fatalf("Ready while awaiting the user = %+v", c)
	}
	checkout(t, p.Status.UserAction.URL, "pay")
	p = waitPhase(ctx, t, p, v1.PaymentSucceeded)
	if c := condition(p.Status.Conditions, v1.ConditionReady); c.Status != metav1.ConditionTrue || c.ObservedGeneration != p.Generation {
		t.Fatalf("Ready = %+v", c)
	}
	if p.Status.UserAction != nil {
		t.Fatalf("userAction kept after success: %+v", p.Status.UserAction)
	}
	if p.Status.Amounts.Captured == nil || p.Status.Amounts.Captured.Value != "10.50" || p.Status.Amounts.Refundable.Value != "10.50" {
		t.Fatalf("amounts = %+v", p.Status.Amounts)
	}
	if n := operations(t, p.Status.PaymentRequestID); n != 1 {
		t.Fatalf("gateway operations for %s = %d, want exactly 1", p.Status.PaymentRequestID, n)
	}
}

func TestWalletPaymentDeclined(t *testing.T) {
	ctx, ns, m := setup(t)
	p := walletPayment(ns, "declined", m.GatewayConfig, "PHP", "150.00", "GCASH")
	if err := k8s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	p = waitPhase(ctx, t, p, v1.PaymentProcessing)
	checkout(t, p.Status.UserAction.URL, "decline")
	p = waitPhase(ctx, t, p, v1.PaymentFailed)
	stalled := condition(p.Status.Conditions, v1.ConditionStalled)
	if stalled.Status != metav1.ConditionTrue || stalled.Reason != v1.ReasonFailed {
		t.Fatalf("Stalled = %+v", stalled)
	}
	if p.Status.LastResult == nil || p.Status.LastResult.Code != "USER_BALANCE_NOT_ENOUGH" {
		t.Fatalf("lastResult = %+v", p.Status.LastResult)
	}
}

func TestWalletPaymentExpires(t *testing.T) {
	ctx, ns, m := setup(t)
	p := walletPayment(ns, "expires", m.GatewayConfig, "HKD", "3.00", "ALIPAY_HK")
	if err := k8s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	p = waitPhase(ctx, t, p, v1.PaymentProcessing)
	sys.Sim.Advance(15 * time.Minute) // past the 14-minute default expiry, on the simulator's clock
	p = waitPhase(ctx, t, p, v1.PaymentExpired)
	if c := condition(p.Status.Conditions, v1.ConditionReady); c.Reason != v1.ReasonExpired {
		t.Fatalf("Ready = %+v", c)
	}
}

func TestCardAuthorizationAutomaticCapture(t *testing.T) {
	ctx, ns, m := setup(t)
	p := cardPayment(ctx, t, ns, "card-auto", m.GatewayConfig, "4111111111111111", "")
	if err := k8s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	p = waitPhase(ctx, t, p, v1.PaymentSucceeded)
	a := p.Status.Amounts
	if a.Authorized == nil || a.Authorized.Value != "25.00" || a.Captured == nil || a.Captured.Value != "25.00" {
		t.Fatalf("amounts = %+v", a)
	}
	if p.Status.AuthExpiryTime == nil || p.Status.Card == nil || p.Status.Card.MaskedNumber == "4111111111111111" {
		t.Fatalf("auth expiry / masked card missing or unmasked: %+v %+v", p.Status.AuthExpiryTime, p.Status.Card)
	}
	view, err := sys.Sim.Payment(p.Status.PaymentID)
	if err != nil {
		t.Fatal(err)
	}
	if view.Ledger.Captured != 2500 || view.Ledger.Authorized != 2500 {
		t.Fatalf("simulator ledger: %+v", view.Ledger)
	}
	if n := operations(t, p.Status.PaymentRequestID); n != 1 {
		t.Fatalf("pay operations = %d, want 1", n)
	}
}

func TestCardDeclined2D(t *testing.T) {
	ctx, ns, m := setup(t)
	p := cardPayment(ctx, t, ns, "card-declined", m.GatewayConfig, "4000000000000002", v1.CaptureManual)
	if err := k8s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	p = waitPhase(ctx, t, p, v1.PaymentFailed)
	if p.Status.LastResult == nil || p.Status.LastResult.Code != "USER_BALANCE_NOT_ENOUGH" {
		t.Fatalf("lastResult = %+v", p.Status.LastResult)
	}
}

func TestCancelAuthorization(t *testing.T) {
	ctx, ns, m := setup(t)
	p := cardPayment(ctx, t, ns, "card-cancel", m.GatewayConfig, "4111111111111111", v1.CaptureManual)
	if err := k8s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	p = waitPhase(ctx, t, p, v1.PaymentAuthorized)
	if c := condition(p.Status.Conditions, v1.ConditionReady); c.Status != metav1.ConditionTrue || c.Reason != v1.ReasonAuthorized {
		t.Fatalf("manual-capture authorization should be Ready: %+v", c)
	}
	patch := client.MergeFrom(p.DeepCopy())
	p.Spec.Cancel = true
	if err := k8s.Patch(ctx, p, patch); err != nil { // as kubectl patch does: no stale resourceVersion
		t.Fatal(err)
	}
	p = waitPhase(ctx, t, p, v1.PaymentCancelled)
	if c := condition(p.Status.Conditions, v1.ConditionReady); c.Status != metav1.ConditionTrue {
		t.Fatalf("a cancel the spec asked for is Ready: %+v", c)
	}
	view, _ := sys.Sim.Payment(p.Status.PaymentID)
	if view.Inquiry.PaymentStatus != "CANCELLED" {
		t.Fatalf("gateway status = %s", view.Inquiry.PaymentStatus)
	}
}

func TestObserveImportsExistingPayment(t *testing.T) {
	ctx, ns, m := setup(t)
	src := walletPayment(ns, "source", m.GatewayConfig, "HKD", "7.00", "ALIPAY_HK")
	if err := k8s.Create(ctx, src); err != nil {
		t.Fatal(err)
	}
	src = waitPhase(ctx, t, src, v1.PaymentProcessing)
	if err := sys.Sim.Complete(src.Status.PaymentID); err != nil {
		t.Fatal(err)
	}
	obs := walletPayment(ns, "imported", m.GatewayConfig, "HKD", "7.00", "ALIPAY_HK")
	obs.Spec.ManagementPolicy = v1.ManagementObserve
	obs.Spec.PaymentID = src.Status.PaymentID
	if err := k8s.Create(ctx, obs); err != nil {
		t.Fatal(err)
	}
	obs = waitPhase(ctx, t, obs, v1.PaymentSucceeded)
	if obs.Status.PaymentRequestID != src.Status.PaymentRequestID {
		t.Fatalf("imported request id %s, want %s", obs.Status.PaymentRequestID, src.Status.PaymentRequestID)
	}
	if n := operations(t, src.Status.PaymentRequestID); n != 1 {
		t.Fatalf("observe created a gateway operation: %d", n)
	}
}

func TestDeletionPolicies(t *testing.T) {
	ctx, ns, m := setup(t)
	orphan := walletPayment(ns, "orphan", m.GatewayConfig, "HKD", "4.00", "ALIPAY_HK")
	cancel := walletPayment(ns, "cancel", m.GatewayConfig, "HKD", "5.00", "ALIPAY_HK")
	cancel.Spec.DeletionPolicy = v1.DeletionCancel
	for _, p := range []*v1.Payment{orphan, cancel} {
		if err := k8s.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	orphan = waitPhase(ctx, t, orphan, v1.PaymentProcessing)
	cancel = waitPhase(ctx, t, cancel, v1.PaymentProcessing)
	if len(orphan.Finalizers) != 0 || len(cancel.Finalizers) != 1 {
		t.Fatalf("finalizers: orphan %v, cancel %v", orphan.Finalizers, cancel.Finalizers)
	}
	for _, p := range []*v1.Payment{orphan, cancel} {
		if err := k8s.Delete(ctx, p); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, timeout, p.Name+" to be gone", func() (bool, string) {
			err := k8s.Get(ctx, key(p), &v1.Payment{})
			return apierrors.IsNotFound(err), "still there"
		})
	}
	if v, _ := sys.Sim.Payment(orphan.Status.PaymentID); v.Inquiry.PaymentStatus != "PROCESSING" {
		t.Fatalf("deleting an Orphan payment moved money: gateway status %s", v.Inquiry.PaymentStatus)
	}
	if v, _ := sys.Sim.Payment(cancel.Status.PaymentID); v.Inquiry.PaymentStatus != "CANCELLED" {
		t.Fatalf("deletionPolicy Cancel did not cancel: gateway status %s", v.Inquiry.PaymentStatus)
	}
}

func TestInvalidAmountFailsWithoutGatewayCall(t *testing.T) {
	ctx, ns, m := setup(t)
	p := walletPayment(ns, "too-small", m.GatewayConfig, "PHP", "0.50", "GCASH") // GCash minimum is 1 PHP
	if err := k8s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	p = waitPhase(ctx, t, p, v1.PaymentFailed)
	c := condition(p.Status.Conditions, v1.ConditionReady)
	if c.Reason != v1.ReasonInvalidAmount || p.Status.LastResult == nil || p.Status.LastResult.Code != v1.ReasonInvalidAmount {
		t.Fatalf("Ready = %+v lastResult = %+v", c, p.Status.LastResult)
	}
	reqID := ids.Payment(p, "")
	if p.Status.PaymentID != "" || operations(t, reqID) != 0 {
		t.Fatalf("a gateway payment was created: %s", p.Status.PaymentID)
	}
}

func TestMissingGatewayConfigWaits(t *testing.T) {
	ctx, ns, _ := setup(t)
	p := walletPayment(ns, "no-gateway", "does-not-exist", "HKD", "1.00", "ALIPAY_HK")
	if err := k8s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, "Synced=False GatewayNotReady", func() (bool, string) {
		p = get(ctx, t, p)
		c := condition(p.Status.Conditions, v1.ConditionSynced)
		return c.Status == metav1.ConditionFalse && c.Reason == v1.ReasonGatewayNotReady, c.Reason
	})
}

// TestForceForgetReleasesStuckDeletion: a payment with deletionPolicy Cancel
// whose gateway is gone cannot be cancelled, so its deletion waits; the
// force-forget annotation releases it without touching the gateway.
func TestForceForgetReleasesStuckDeletion(t *testing.T) {
	ctx, ns, m := setup(t)
	p := walletPayment(ns, "stuck", m.GatewayConfig, "HKD", "6.00", "ALIPAY_HK")
	p.Spec.DeletionPolicy = v1.DeletionCancel
	if err := k8s.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	p = waitPhase(ctx, t, p, v1.PaymentProcessing)
	if err := k8s.Delete(ctx, &v1.GatewayConfig{ObjectMeta: metav1.ObjectMeta{Name: m.GatewayConfig}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, "the GatewayConfig to be gone", func() (bool, string) {
		return apierrors.IsNotFound(k8s.Get(ctx, key(&v1.GatewayConfig{ObjectMeta: metav1.ObjectMeta{Name: m.GatewayConfig}}), &v1.GatewayConfig{})), ""
	})
	if err := k8s.Delete(ctx, p); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, "a CancelOnDeleteFailed event while the gateway is unreachable", func() (bool, string) {
		var evs eventsv1.EventList
		if err := k8s.List(ctx, &evs, client.InNamespace(ns)); err != nil {
			return false, err.Error()
		}
		for _, e := range evs.Items {
			if e.Regarding.Name == p.Name && e.Reason == "CancelOnDeleteFailed" {
				return true, ""
			}
		}
		return false, "no event yet"
	})
	if err := k8s.Get(ctx, key(p), p); err != nil {
		t.Fatalf("payment deleted although its cancel could not run: %v", err)
	}
	patch := client.MergeFrom(p.DeepCopy())
	p.Annotations = map[string]string{engine.ForceForgetAnnotation: "true"}
	if err := k8s.Patch(ctx, p, patch); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, "the payment to be gone", func() (bool, string) {
		return apierrors.IsNotFound(k8s.Get(ctx, key(p), &v1.Payment{})), "still there"
	})
	if v, _ := sys.Sim.Payment(p.Status.PaymentID); v.Inquiry.PaymentStatus != "PROCESSING" {
		t.Fatalf("force-forget moved money: %s", v.Inquiry.PaymentStatus)
	}
}
