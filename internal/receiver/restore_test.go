package receiver_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/receiver"
)

// TestRestoreRequests: a verified notification for an object not in the
// cluster asks for a restore (one PaymentRestore per merchant and object,
// whatever the re-sends) and makes the gateway re-send while the manager
// decides, but only when the merchant has an archive; once decided without
// the object coming back it is acknowledged and counted as unknown.
func TestRestoreRequests(t *testing.T) {
	ops := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "recv-ops-"}}
	must(t, k8s.Create(t.Context(), ops))
	f := newFixture(t, func(o *receiver.Options) { o.RestoreNamespace = ops.Name })
	ghost := mustJSON(t, gateway.NotifyPayment{NotifyType: gateway.NotifyTypePaymentResult, Result: gateway.NewResult(gateway.CodeSuccess),
		PaymentRequestID: "pay-ghost", PaymentID: "2026010511000000000077"})
	toGhost := notification{path: paymentPath(f.ns, "ghost"), key: gatewayKey, body: ghost}
	restores := func() []v1.PaymentRestore {
		var list v1.PaymentRestoreList
		must(t, k8s.List(f.ctx, &list, client.InNamespace(ops.Name)))
		return list.Items
	}

	// No archive: nothing to restore from; acknowledged as before.
	if status, body := f.send(toGhost); status != http.StatusOK || body != gateway.NotificationAck {
		t.Fatalf("no archive: %d %s, want the acknowledgement", status, body)
	}
	if n := len(restores()); n != 0 {
		t.Fatalf("no archive: %d PaymentRestores, want none", n)
	}

	f.retentionOn() // the payment may be archived

	for i := 0; i < 2; i++ { // the first send and a re-send
		status, body := f.send(toGhost)
		if status != http.StatusServiceUnavailable || !strings.Contains(body, `"resultStatus":"F"`) || !strings.Contains(body, "restored from the archive") {
			t.Fatalf("send %d while the restore is pending: %d %s, want 503 and a failure body", i+1, status, body)
		}
	}
	list := restores()
	if len(list) != 1 {
		t.Fatalf("%d PaymentRestores after a send and a re-send, want 1", len(list))
	}
	pr := list[0]
	want := v1.PaymentRestoreSpec{ClientID: f.clientID, Notification: gateway.KindNotifyPayment,
		Object:    &v1.RestoreObjectReference{Kind: v1.RestoreKindPayment, Namespace: f.ns, Name: "ghost"},
		PaymentID: "2026010511000000000077", PaymentRequestID: "pay-ghost"}
	if s := pr.Spec; s.ClientID != want.ClientID || s.Notification != want.Notification || s.Object == nil || *s.Object != *want.Object ||
		s.PaymentID != want.PaymentID || s.PaymentRequestID != want.PaymentRequestID || pr.Name != v1.PaymentRestoreName(&want) {
		t.Fatalf("PaymentRestore %s %+v, want %s %+v", pr.Name, pr.Spec, v1.PaymentRestoreName(&want), want)
	}

	// A refund route and the default route ask for their own objects.
	refund := mustJSON(t, gateway.NotifyRefund{NotifyType: gateway.NotifyTypeRefundResult, Result: gateway.NewResult(gateway.CodeSuccess),
		RefundStatus: gateway.RefundStatusSuccess, RefundRequestID: "refghost"})
	dispute := mustJSON(t, gateway.NotifyDispute{PaymentID: "2026010511000000000076", DisputeID: "D7", DisputeNotificationType: gateway.DisputeCreated})
	for _, n := range []notification{{path: refundPath(f.ns, "ghost"), key: gatewayKey, body: refund}, {path: ids.RouteBase, key: gatewayKey, body: dispute}} {
		if status, body := f.send(n); status != http.StatusServiceUnavailable {
			t.Fatalf("%s: %d %s, want 503", n.path, status, body)
		}
	}
	if n := len(restores()); n != 3 {
		t.Fatalf("%d PaymentRestores, want 3 (payment route, refund route, default route)", n)
	}

	// The manager decided: not archived. The re-send is acknowledged and
	// counted; the request is not written again.
	decided := f.decide(&pr, v1.PaymentRestoreNotArchived)
	if status, body := f.send(toGhost); status != http.StatusOK || body != gateway.NotificationAck {
		t.Fatalf("re-send after NotArchived: %d %s, want the acknowledgement", status, body)
	}
	var after v1.PaymentRestore
	must(t, k8s.Get(f.ctx, client.ObjectKeyFromObject(&pr), &after))
	if after.ResourceVersion != decided.ResourceVersion {
		t.Fatal("the receiver wrote the decided PaymentRestore")
	}
	if u := f.metric("cashier_receiver_unknown_object_total", nil); u != 2 {
		t.Fatalf("unknown_object_total = %v, want 2 (without archive, and after NotArchived)", u)
	}
	if n := f.metric("cashier_receiver_notifications_total", map[string]string{"outcome": receiver.OutcomeRestoreRequested}); n != 4 {
		t.Fatalf("notifications answered restore_requested = %v, want 4", n)
	}
}

// retentionOn gives the fixture's GatewayConfig an archive and waits until
// the receiver's cache has seen it.
func (f *fixture) retentionOn() {
	f.t.Helper()
	var gwc v1.GatewayConfig
	must(f.t, k8s.Get(f.ctx, client.ObjectKey{Name: f.gwc}, &gwc))
	gwc.Spec.Retention = &v1.Retention{RetainFor: metav1.Duration{Duration: time.Hour},
		Archive: v1.ArchiveConnection{SecretRef: v1.NamespacedSecretReference{Namespace: f.ns, Name: "archive"}}}
	must(f.t, k8s.Update(f.ctx, &gwc))
	f.eventually("the cache to see the retention", func() bool {
		var cached v1.GatewayConfig
		return mgr.GetClient().Get(f.ctx, client.ObjectKey{Name: f.gwc}, &cached) == nil && cached.Spec.Retention != nil
	})
}

// decide writes a PaymentRestore's outcome as the manager does and
// returns it as written.
func (f *fixture) decide(pr *v1.PaymentRestore, phase v1.PaymentRestorePhase) *v1.PaymentRestore {
	f.t.Helper()
	var cur v1.PaymentRestore
	must(f.t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(f.ctx, client.ObjectKeyFromObject(pr), &cur); err != nil {
			return err
		}
		now := metav1.Now()
		cur.Status = v1.PaymentRestoreStatus{Phase: phase, CompletionTime: &now}
		return k8s.Status().Update(f.ctx, &cur)
	}))
	return &cur
}
