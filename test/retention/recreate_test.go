package retention_test

import (
	"testing"
	"time"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/retention"
	"github.com/cashier-operator/cashier-operator/internal/archive"
)

// keptAfterArchive checks that retention keeps a payment created again
// after it was archived: a KeptAfterArchive event, and the payment still
// there after a later payment (created after it, finished after it) went.
func (f *fixture) keptAfterArchive(t *testing.T, again *v1.Payment) {
	t.Helper()
	ev := event(t, f.ns, again.Name, retention.EventKeptAfterArchive)
	t.Logf("event: %s", ev.Note)
	later := f.paid(t, f.payment(again.Name+"-later", "1.00"))
	waitGone(t, later)
	if !exists(t, again) {
		t.Fatalf("payment %s was deleted again after it was re-created", again.Name)
	}
	if n, err := f.archive.Count(f.ctx, archive.KindPayment); err != nil || n != 2 {
		t.Fatalf("archived payments = %d (%v), want 2: the first life of %s and %s", n, err, again.Name, later.Name)
	}
}

// TestRecreatedImportIsKept: a GitOps tool re-creates an archived payment
// (here as the import of the same gateway payment, which can never pay):
// retention keeps it instead of deleting it in a loop.
func TestRecreatedImportIsKept(t *testing.T) {
	f := setup(t, time.Second)
	p := f.paid(t, f.payment("order-1", "12.00"))
	payID := p.Status.PaymentID
	waitGone(t, p)
	again := f.payment("order-1", "12.00")
	again.Spec.ManagementPolicy, again.Spec.PaymentID = v1.ManagementObserve, payID
	create(t, again)
	waitFor(t, again, "Succeeded", func() bool { return again.Status.Phase == v1.PaymentSucceeded })
	f.keptAfterArchive(t, again)
	if n := gatewayOperations(p.Status.PaymentRequestID); n != 1 {
		t.Fatalf("gateway operations for %s = %d, want 1", p.Status.PaymentRequestID, n)
	}
}
