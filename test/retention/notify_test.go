package retention_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/retention"
	"github.com/cashier-operator/cashier-operator/internal/archive"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
	"github.com/cashier-operator/cashier-operator/internal/receiver"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
)

// The notification-receiver of this suite, as cmd/notification-receiver
// runs it (a manager of its own, no archive access), behind a switch.
var (
	recvURL     string
	recvDown    atomic.Bool
	recvMetrics = prometheus.NewRegistry()
)

// operatorNS is the operator's namespace: where the receiver asks for restores.
const operatorNS = "cashier-system"

// restoreTTL is how long decided PaymentRestores stay in these tests.
const restoreTTL = 20 * time.Second

func startReceiver(ctx context.Context, env *testenv.Env) (func(), error) {
	if err := env.CreateNamespace(ctx, operatorNS); err != nil {
		return nil, err
	}
	r, err := testenv.StartReceiver(env, receiver.Options{Registerer: recvMetrics, Now: sys.Sim.Now,
		RefreshInterval: time.Nanosecond, RestoreNamespace: operatorNS},
		func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				if recvDown.Load() {
					http.Error(w, "receiver down", http.StatusServiceUnavailable)
					return
				}
				h.ServeHTTP(w, req)
			})
		})
	if err != nil {
		return nil, err
	}
	recvURL = r.URL
	return r.Stop, nil
}

// notified is a fixture whose merchant's payments carry the receiver's
// notification URL, so the simulator notifies (and re-sends) to it.
func notified(t *testing.T, retainFor time.Duration) *fixture {
	t.Helper()
	f := setup(t, retainFor)
	g := f.gatewayConfig(t)
	g.Spec.NotificationBaseURL = recvURL
	if err := k8s.Update(f.ctx, g); err != nil {
		t.Fatal(err)
	}
	return f
}

// quiesce waits until the simulator has attempted every due notification.
func quiesce(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := sys.Sim.Quiesce(ctx); err != nil {
		t.Fatal(err)
	}
}

// resend moves the simulator's clock to the next re-send of its
// unacknowledged notifications (the schedule's next interval) and waits
// until they were attempted.
func resend(t *testing.T, after time.Duration) {
	t.Helper()
	sys.Sim.Advance(after)
	quiesce(t)
}

// notification is the simulator's newest notification of a kind about ref
// (a payment id, or the request or dispute id).
func notification(t *testing.T, kind, ref string) gatewaysim.Notification {
	t.Helper()
	var found *gatewaysim.Notification
	for _, n := range sys.Sim.Notifications() {
		if n.Kind == kind && (n.PaymentID == ref || n.RequestID == ref) {
			found = &n
		}
	}
	if found == nil {
		t.Fatalf("the simulator sent no %s about %s", kind, ref)
	}
	return *found
}

// statuses are the HTTP answers a notification got, attempt by attempt.
func statuses(n gatewaysim.Notification) string {
	var out []string
	for _, a := range n.Attempts {
		out = append(out, fmt.Sprint(a.StatusCode))
	}
	return strings.Join(out, " ")
}

// restoreFor waits for the PaymentRestore the receiver asked for about
// object (kind Payment or Refund, in the fixture's namespace) to be decided.
func (f *fixture) restoreFor(t *testing.T, kind, name string) *v1.PaymentRestore {
	t.Helper()
	spec := v1.PaymentRestoreSpec{ClientID: f.gatewayConfig(t).Status.ClientID,
		Object: &v1.RestoreObjectReference{Kind: kind, Namespace: f.ns, Name: name}}
	pr := &v1.PaymentRestore{ObjectMeta: metav1.ObjectMeta{Namespace: operatorNS, Name: v1.PaymentRestoreName(&spec)}}
	waitFor(t, pr, "decided", func() bool { return pr.Status.Phase.IsFinal() })
	return pr
}

// restoresOf counts the PaymentRestores of the fixture's merchant.
func (f *fixture) restoresOf(t *testing.T) int {
	t.Helper()
	var list v1.PaymentRestoreList
	if err := k8s.List(f.ctx, &list, client.InNamespace(operatorNS)); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, pr := range list.Items {
		if pr.Spec.ClientID == f.gatewayConfig(t).Status.ClientID {
			n++
		}
	}
	return n
}

// recvMetric reads a metric of the receiver.
func recvMetric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	return gathered(t, recvMetrics, name, labels)
}

// attempts checks the HTTP answers a notification got, attempt by
// attempt ("503 200"), and whether it ended delivered.
func attempts(t *testing.T, kind, ref, want string, delivered bool) {
	t.Helper()
	n := notification(t, kind, ref)
	if got := statuses(n); got != want || (n.State == gatewaysim.NotificationDelivered) != delivered {
		t.Fatalf("%s about %s: attempts %q (%s), want %q (delivered: %v)", kind, ref, got, n.State, want, delivered)
	}
}

// TestDisputeRestoresArchivedPayment: a chargeback opened on an archived
// payment: the receiver asks for a restore and has the gateway re-send;
// the manager restores the payment from the archive (nothing is paid
// again); the re-sent notifyDispute applies as usual (status.dispute, a
// Dispute object), and retention then keeps the disputed payment.
func TestDisputeRestoresArchivedPayment(t *testing.T) {
	f := notified(t, time.Second)
	p := f.paid(t, f.payment("order-1", "25.00"))
	payID, payReq := p.Status.PaymentID, p.Status.PaymentRequestID
	waitGone(t, p)
	quiesce(t) // the payment's own notification is done with

	disputeID, err := sys.Sim.OpenDispute(payID, gatewaysim.DisputeSpec{})
	if err != nil {
		t.Fatal(err)
	}
	quiesce(t)
	attempts(t, gatewaysim.KindNotifyDispute, disputeID, "503", false) // re-sent once restored
	pr := f.restoreFor(t, v1.RestoreKindPayment, "order-1")
	ready := meta.FindStatusCondition(pr.Status.Conditions, v1.ConditionReady)
	if pr.Status.Phase != v1.PaymentRestoreRestored || pr.Status.Payment != f.ns+"/order-1" || pr.Status.PaymentID != payID ||
		ready == nil || ready.Reason != v1.ReasonRestored || !strings.Contains(ready.Message, "restored payment") {
		t.Fatalf("PaymentRestore status %+v", pr.Status)
	}

	resend(t, 2*time.Minute)
	attempts(t, gatewaysim.KindNotifyDispute, disputeID, "503 200", true)
	restored := &v1.Payment{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "order-1"}}
	waitFor(t, restored, "disputed", func() bool { return restored.Status.Dispute != nil })
	if restored.Status.Dispute.ID != disputeID || restored.Spec.ManagementPolicy != v1.ManagementObserve ||
		restored.Annotations[v1.RestoredAnnotation] == "" {
		t.Fatalf("restored payment: dispute %+v, policy %s, annotations %v", restored.Status.Dispute, restored.Spec.ManagementPolicy, restored.Annotations)
	}
	var d v1.Dispute
	if err := k8s.Get(f.ctx, client.ObjectKey{Namespace: f.ns, Name: v1.DisputeName("order-1", disputeID)}, &d); err != nil {
		t.Fatalf("the Dispute of the restored payment: %v", err)
	}
	if n := gatewayOperations(payReq); n != 1 {
		t.Fatalf("gateway operations for the pay request = %d, want 1: restoring never pays again", n)
	}
	if n := f.restoresOf(t); n != 1 {
		t.Fatalf("%d PaymentRestores for two sends of one notification, want 1", n)
	}
	// Once the request expired, retention still keeps the payment: its dispute is open.
	waitGone(t, pr)
	if !exists(t, restored) {
		t.Fatal("retention archived a payment with an open dispute")
	}
}

// TestLateRefundNotificationRestoresPayment: a refund whose notification
// was never acknowledged (the receiver was down; polling finished the
// refund) is archived with its payment; the gateway's re-send brings the
// payment back with its refunded total re-observed. The Refund itself
// stays archived (final: the notification cannot change it), so the next
// re-send is acknowledged as an unknown object.
func TestLateRefundNotificationRestoresPayment(t *testing.T) {
	f := notified(t, time.Second)
	p := f.held(t, f.payment("order-1", "30.00"))
	quiesce(t)
	recvDown.Store(true)
	r := f.refund("order-1-part", "order-1", "10.00")
	create(t, r)
	waitFor(t, r, "Succeeded", func() bool { return r.Status.Phase == v1.OperationSucceeded })
	quiesce(t)
	recvDown.Store(false)
	f.release(t, p)
	waitGone(t, r, p)
	unknown := recvMetric(t, "cashier_receiver_unknown_object_total", map[string]string{"kind": "notifyRefund"})

	resend(t, 2*time.Minute)
	attempts(t, gatewaysim.KindNotifyRefund, r.Status.RequestID, "503 503", false) // receiver down, then restore asked
	pr := f.restoreFor(t, v1.RestoreKindRefund, "order-1-part")
	ready := meta.FindStatusCondition(pr.Status.Conditions, v1.ConditionReady)
	if pr.Status.Phase != v1.PaymentRestoreRestored || pr.Status.Payment != f.ns+"/order-1" || ready == nil ||
		!strings.Contains(ready.Message, "Refund "+f.ns+"/order-1-part itself stays archived") {
		t.Fatalf("PaymentRestore status %+v", pr.Status)
	}
	restored := &v1.Payment{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "order-1"}}
	waitFor(t, restored, "restored with its refunded total", func() bool {
		return restored.Status.Amounts.Refunded != nil && restored.Status.Amounts.Refunded.Value == "10.00"
	})

	resend(t, 10*time.Minute)
	attempts(t, gatewaysim.KindNotifyRefund, r.Status.RequestID, "503 503 200", true)
	if d := recvMetric(t, "cashier_receiver_unknown_object_total", map[string]string{"kind": "notifyRefund"}) - unknown; d != 1 {
		t.Fatalf("unknown objects counted for the refund = %v, want 1", d)
	}
	if n := f.restoresOf(t); n != 1 {
		t.Fatalf("%d PaymentRestores, want 1", n)
	}
	// The request expires, and retention archives the restored payment
	// again (the same gateway payment: its row now holds the restored state).
	waitGone(t, pr, restored)
	var again v1.Payment
	if rec := f.archived(t, archive.KindPayment, "order-1", &again); again.Annotations[v1.RestoredAnnotation] == "" || rec.Refunded != "10.00" {
		t.Fatalf("archived after the restore: annotations %v, refunded %q", again.Annotations, rec.Refunded)
	}
}

// TestNotificationForPaymentNeverArchived: a payment deleted (never
// archived) gets its result notification: the receiver asks, the manager
// finds it in no archive (NotArchived, said so), the re-send is
// acknowledged and counted as unknown, nothing is restored, and the
// request is gone after its TTL.
func TestNotificationForPaymentNeverArchived(t *testing.T) {
	f := notified(t, time.Hour)
	p := f.payment("order-1", "5.00")
	create(t, p)
	waitFor(t, p, "Processing", func() bool { return p.Status.Phase == v1.PaymentProcessing })
	payID := p.Status.PaymentID
	if err := k8s.Delete(f.ctx, p); err != nil {
		t.Fatal(err)
	}
	waitGone(t, p)
	unknown := recvMetric(t, "cashier_receiver_unknown_object_total", map[string]string{"kind": "notifyPayment"})
	if err := sys.Sim.Complete(payID); err != nil {
		t.Fatal(err)
	}
	quiesce(t)
	pr := f.restoreFor(t, v1.RestoreKindPayment, "order-1")
	ready := meta.FindStatusCondition(pr.Status.Conditions, v1.ConditionReady)
	if pr.Status.Phase != v1.PaymentRestoreNotArchived || ready == nil || ready.Reason != v1.ReasonNotArchived ||
		!strings.Contains(ready.Message, "no archive holds Payment "+f.ns+"/order-1") {
		t.Fatalf("PaymentRestore status %+v", pr.Status)
	}

	resend(t, 2*time.Minute)
	attempts(t, gatewaysim.KindNotifyPayment, payID, "503 200", true)
	if d := recvMetric(t, "cashier_receiver_unknown_object_total", map[string]string{"kind": "notifyPayment"}) - unknown; d != 1 {
		t.Fatalf("unknown objects counted = %v, want 1", d)
	}
	if n := f.restoresOf(t); n != 1 {
		t.Fatalf("%d PaymentRestores for two sends, want 1", n)
	}
	waitGone(t, pr)
	if exists(t, p) {
		t.Fatal("a payment that was never archived came back")
	}
}

// TestRestoreAfterRetentionOff: a payment archived while retention was on
// stays reachable after retention is turned off: the GatewayConfig
// remembers its archive (status.archives), and a Refund naming the payment
// still restores it.
func TestRestoreAfterRetentionOff(t *testing.T) {
	f := setup(t, time.Second)
	p := f.paid(t, f.payment("order-1", "8.00"))
	waitGone(t, p)
	g := f.gatewayConfig(t)
	if len(g.Status.Archives) != 1 || g.Status.Archives[0] != g.Spec.Retention.Archive {
		t.Fatalf("status.archives = %+v, want the retention archive %+v", g.Status.Archives, g.Spec.Retention.Archive)
	}
	g.Spec.Retention = nil
	if err := k8s.Update(f.ctx, g); err != nil {
		t.Fatal(err)
	}
	r := f.refund("order-1-back", "order-1", "8.00")
	create(t, r)
	event(t, f.ns, r.Name, retention.EventRestored)
	waitFor(t, r, "Succeeded", func() bool { return r.Status.Phase == v1.OperationSucceeded })
	if n := gatewayOperations(p.Status.PaymentRequestID); n != 1 {
		t.Fatalf("gateway operations for the pay request = %d, want 1", n)
	}
	if g := f.gatewayConfig(t); len(g.Status.Archives) != 1 {
		t.Fatalf("status.archives after retention was turned off = %+v, want it kept", g.Status.Archives)
	}
}
