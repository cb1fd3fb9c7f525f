package chaos

import (
	"context"
	"os"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// TestLocalsystemRestartAPIServer shows that localsystem.RestartAPIServer
// does not restart kube-apiserver in a way the system survives:
//
//  1. with the manager and the receiver connected, kube-apiserver does not
//     exit within envtest's StopTimeout (20s) after SIGTERM; envtest then
//     SIGKILLs it and returns "timeout waiting for process kube-apiserver
//     to stop", and RestartAPIServer returns that error without starting
//     it again: the apiserver stays down;
//  2. envtest's APIServer.Stop forgets its randomly allocated CertDir, so
//     the next Start makes a new serving CA and client CA: the admin
//     client, the manager and the receiver all fail TLS verification
//     ("x509: certificate signed by unknown authority") from then on.
//
// The chaos suite therefore crashes and re-executes kube-apiserver itself
// (apiserver_test.go). Known bug, so skipped unless CHAOS_KNOWN_BUGS=1.
func TestLocalsystemRestartAPIServer(t *testing.T) {
	if os.Getenv("CHAOS_KNOWN_BUGS") == "" {
		t.Skip("known bug in internal/localsystem RestartAPIServer; CHAOS_KNOWN_BUGS=1 runs this reproduction")
	}
	if testing.Short() {
		t.Skip("runs the whole system")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	ls, _ := startSystem(ctx, t, 1)
	answers := func(what string) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		var err error
		for time.Now().Before(deadline) {
			var l v1.PaymentList
			if err = ls.Client.List(ctx, &l, client.InNamespace(ns)); err == nil {
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
		t.Fatalf("%s: the apiserver does not answer the admin client: %v", what, err)
	}
	for i := 1; i <= 2; i++ {
		t0 := time.Now()
		if err := ls.RestartAPIServer(); err != nil {
			t.Errorf("RestartAPIServer #%d after %s: %v", i, time.Since(t0).Round(time.Second), err)
		}
		answers("after RestartAPIServer")
	}
	// The manager still works: a new payment reaches the gateway.
	p := (&paymentPlan{Name: "after-restart", Kind: kindWallet, Method: "ALIPAY_HK", Currency: "HKD", Amount: 1000}).payment(ns, gwcName)
	if err := ls.Client.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if err := ls.Client.Get(ctx, client.ObjectKeyFromObject(p), p); err == nil && p.Status.Phase == v1.PaymentProcessing {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("the manager did not process a payment after the restarts: %s", describePayment(p))
}
