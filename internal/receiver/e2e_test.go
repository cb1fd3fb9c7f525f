package receiver_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/receiver"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

func condition(conds []metav1.Condition, typ string) metav1.Condition {
	if c := meta.FindStatusCondition(conds, typ); c != nil {
		return *c
	}
	return metav1.Condition{}
}

// lastNotification returns the simulator's latest notification of a kind.
func (f *fixture) lastNotification(kind string) gatewaysim.Notification {
	f.t.Helper()
	ns := f.sim.Notifications()
	for i := len(ns) - 1; i >= 0; i-- {
		if ns[i].Kind == kind {
			return ns[i]
		}
	}
	f.t.Fatalf("the simulator sent no %s", kind)
	return gatewaysim.Notification{}
}

// TestPaymentFromNotificationAlone: Processing → Succeeded (and → Failed)
// from the gateway's notifyPayment, with nothing else writing status.
func TestPaymentFromNotificationAlone(t *testing.T) {
	f := newFixture(t)
	p := f.walletPayment("pay-ok", "10.50")
	f.create(p)
	p = f.pay(p)
	if p.Status.Phase != v1.PaymentProcessing || p.Status.UserAction == nil {
		t.Fatalf("after pay: phase %s, userAction %v", p.Status.Phase, p.Status.UserAction)
	}

	start := time.Now()
	must(t, f.sim.Complete(p.Status.PaymentRequestID))
	f.quiesce()
	// No waiting: the gateway got the acknowledgement only after the status
	// write was persisted, so the status is there as soon as it was acked.
	p = f.payment("pay-ok")
	t.Logf("notifyPayment applied and acknowledged in %v", time.Since(start))
	if p.Status.Phase != v1.PaymentSucceeded {
		t.Fatalf("phase = %s, want Succeeded", p.Status.Phase)
	}
	n := f.lastNotification(gatewaysim.KindNotifyPayment)
	if n.State != gatewaysim.NotificationDelivered || len(n.Attempts) != 1 || !n.Attempts[0].Acked {
		t.Fatalf("notification %s: state %s, attempts %+v", n.ID, n.State, n.Attempts)
	}
	if !strings.HasSuffix(n.URL, paymentPath(f.ns, "pay-ok")) {
		t.Fatalf("notification went to %s", n.URL)
	}
	ready := condition(p.Status.Conditions, v1.ConditionReady)
	if ready.Status != metav1.ConditionTrue || ready.Reason != v1.ReasonSucceeded {
		t.Fatalf("Ready = %+v", ready)
	}
	// Reconciling is abnormal-true (kstatus): absent once the payment is done.
	if c := meta.FindStatusCondition(p.Status.Conditions, v1.ConditionReconciling); c != nil {
		t.Fatalf("Reconciling = %+v, want it absent", c)
	}
	if p.Status.UserAction != nil || p.Status.PaymentTime == nil || p.Status.GatewayStatus != gateway.PaymentStatusSuccess {
		t.Fatalf("status = %+v", p.Status)
	}
	if a := p.Status.Amounts; a.Captured == nil || a.Captured.Value != "10.50" || a.Refundable == nil || a.Refundable.Value != "10.50" {
		t.Fatalf("amounts = %+v", a)
	}
	if f.outcomes(gateway.KindNotifyPayment, receiver.OutcomeApplied) != 1 {
		t.Fatalf("applied = %v", f.outcomes(gateway.KindNotifyPayment, receiver.OutcomeApplied))
	}
	if f.metric("cashier_receiver_apply_duration_seconds", map[string]string{"kind": gateway.KindNotifyPayment}) != 1 {
		t.Fatal("apply duration not observed")
	}
	if note := f.waitEvent("pay-ok", string(v1.PaymentSucceeded)); !strings.Contains(note, "Processing → Succeeded") {
		t.Fatalf("event note %q", note)
	}

	// A declined payment fails from its notification alone.
	d := f.walletPayment("pay-declined", "11.00")
	f.create(d)
	d = f.pay(d)
	must(t, f.sim.Decline(d.Status.PaymentRequestID, gateway.CodeUserBalanceNotEnough))
	f.quiesce()
	d = f.payment("pay-declined")
	if d.Status.Phase != v1.PaymentFailed {
		t.Fatalf("declined: phase = %s", d.Status.Phase)
	}
	if s := condition(d.Status.Conditions, v1.ConditionStalled); s.Status != metav1.ConditionTrue || !strings.Contains(s.Message, gateway.CodeUserBalanceNotEnough) {
		t.Fatalf("Stalled = %+v", s)
	}
	f.waitEvent("pay-declined", string(v1.PaymentFailed))
}

// TestDuplicateChangesNothing: the same signed bytes again, and the
// simulator's duplicate-delivery fault, change nothing and are acked.
func TestDuplicateChangesNothing(t *testing.T) {
	f := newFixture(t)
	p := f.paidWallet("dup", "12.30")
	rv := p.ResourceVersion

	orig := f.lastSeen(p.Status.PaymentRequestID)
	for i := 0; i < 3; i++ {
		status, body := f.resend(orig)
		if status != http.StatusOK || body != gateway.NotificationAck {
			t.Fatalf("re-POST %d: %d %s", i, status, body)
		}
	}
	if got := f.payment("dup").ResourceVersion; got != rv {
		t.Fatalf("resourceVersion moved %s → %s on duplicates", rv, got)
	}
	if d := f.outcomes(gateway.KindNotifyPayment, receiver.OutcomeDuplicate); d != 3 {
		t.Fatalf("duplicates counted = %v", d)
	}

	// The gateway delivering every notification twice.
	must(t, f.sim.SetFaults(gatewaysim.FaultProfile{NotifyDuplicate: 1}))
	q := f.walletPayment("dup-sim", "12.40")
	f.create(q)
	q = f.pay(q)
	must(t, f.sim.Complete(q.Status.PaymentRequestID))
	f.quiesce()
	q = f.payment("dup-sim")
	if q.Status.Phase != v1.PaymentSucceeded {
		t.Fatalf("phase = %s", q.Status.Phase)
	}
	n := f.lastNotification(gatewaysim.KindNotifyPayment)
	if len(n.Attempts) != 2 || !n.Attempts[0].Acked || !n.Attempts[1].Acked || n.Attempts[1].Fault != "duplicate" {
		t.Fatalf("attempts = %+v", n.Attempts)
	}
	if d := f.outcomes(gateway.KindNotifyPayment, receiver.OutcomeDuplicate); d != 4 {
		t.Fatalf("duplicates counted = %v", d)
	}
	if a := f.outcomes(gateway.KindNotifyPayment, receiver.OutcomeApplied); a != 2 {
		t.Fatalf("applied = %v", a)
	}
}

// TestOlderNotificationChangesNothing: a notification older than what the
// object records is acknowledged and changes nothing, whether hand-made or
// reordered by the simulator.
func TestOlderNotificationChangesNothing(t *testing.T) {
	f := newFixture(t)
	p := f.paidWallet("old", "13.00")
	rv := p.ResourceVersion
	pending := mustJSON(t, gateway.NotifyPayment{
		NotifyType: gateway.NotifyTypePaymentPending, Result: gateway.NewResult(gateway.CodeSuccess),
		PaymentRequestID: p.Status.PaymentRequestID, PaymentID: p.Status.PaymentID,
		PaymentAmount: &gateway.Amount{Currency: "HKD", Value: "1300"},
	})
	status, body := f.send(notification{path: paymentPath(f.ns, "old"), key: gatewayKey, body: pending})
	if status != http.StatusOK || body != gateway.NotificationAck {
		t.Fatalf("stale PAYMENT_PENDING: %d %s", status, body)
	}
	if got := f.payment("old"); got.ResourceVersion != rv || got.Status.Phase != v1.PaymentSucceeded {
		t.Fatalf("stale notification changed the payment: rv %s → %s, phase %s", rv, got.ResourceVersion, got.Status.Phase)
	}
	if s := f.outcomes(gateway.KindNotifyPayment, receiver.OutcomeStale); s != 1 {
		t.Fatalf("stale counted = %v", s)
	}

	// The simulator holds PAYMENT_PENDING back until PAYMENT_RESULT went out.
	q := f.walletPayment("reordered", "13.10")
	f.create(q)
	q = f.pay(q)
	must(t, f.sim.SetFaults(gatewaysim.FaultProfile{NotifyReorder: 1}))
	must(t, f.sim.SetPending(q.Status.PaymentRequestID))
	must(t, f.sim.SetFaults(gatewaysim.FaultProfile{}))
	must(t, f.sim.Complete(q.Status.PaymentRequestID))
	f.quiesce()
	q = f.payment("reordered")
	if q.Status.Phase != v1.PaymentSucceeded {
		t.Fatalf("reordered: phase = %s", q.Status.Phase)
	}
	var pendingN gatewaysim.Notification
	for _, n := range f.sim.Notifications() {
		if n.Kind == gatewaysim.KindNotifyPayment && strings.Contains(string(n.Body), gateway.NotifyTypePaymentPending) &&
			strings.Contains(string(n.Body), q.Status.PaymentRequestID) {
			pendingN = n
		}
	}
	if pendingN.State != gatewaysim.NotificationDelivered || len(pendingN.Attempts) == 0 || pendingN.Attempts[0].Fault != "reordered" {
		t.Fatalf("PAYMENT_PENDING notification = %+v", pendingN)
	}
	if s := f.outcomes(gateway.KindNotifyPayment, receiver.OutcomeStale); s != 2 {
		t.Fatalf("stale counted = %v", s)
	}
}

// TestForgedNotificationsAreRefused: every forgery is refused with the
// documented status, counted by reason, and changes nothing.
func TestForgedNotificationsAreRefused(t *testing.T) {
	f := newFixture(t)
	victim := f.walletPayment("victim", "10.50")
	f.create(victim)
	victim = f.pay(victim)
	other := f.walletPayment("other", "10.50")
	f.create(other)
	other = f.pay(other)

	// A second merchant at the same gateway, with its own GatewayConfig.
	otherClient := "SANDBOX_OTHER" + strings.ToUpper(randHex(4))
	must(t, f.sim.AddMerchant(otherClient, &merchantKey.PublicKey, "1", ""))
	otherGW := f.createGateway(otherClient, f.conn.Config.Spec.Endpoint, f.sim.GatewayPublicKeyString())
	f.connection(otherGW)

	success := func(p *v1.Payment, value string) []byte {
		return mustJSON(t, gateway.NotifyPayment{
			NotifyType: gateway.NotifyTypePaymentResult, Result: gateway.NewResult(gateway.CodeSuccess),
			PaymentRequestID: p.Status.PaymentRequestID, PaymentID: p.Status.PaymentID,
			PaymentAmount: &gateway.Amount{Currency: "HKD", Value: value}, PaymentTime: gateway.FormatTime(f.sim.Now()),
		})
	}
	good := success(victim, "1050")
	path := paymentPath(f.ns, "victim")
	rnd := make([]byte, 256)
	_, _ = rand.Read(rnd)
	tampered := []byte(strings.Replace(string(good), `"1050"`, `"0001"`, 1))
	otherReq := mustJSON(t, gateway.NotifyPayment{
		NotifyType: gateway.NotifyTypePaymentResult, Result: gateway.NewResult(gateway.CodeSuccess),
		PaymentRequestID: "someone-elses-request", PaymentID: victim.Status.PaymentID,
	})
	refundBody := mustJSON(t, gateway.NotifyRefund{NotifyType: gateway.NotifyTypeRefundResult, Result: gateway.NewResult(gateway.CodeSuccess),
		RefundStatus: gateway.RefundStatusSuccess, RefundRequestID: "ref123"})

	cases := []struct {
		name   string
		n      notification
		status int
		reason string
	}{
		{"garbage signature", notification{path: path, key: gatewayKey, body: good, header: map[string]string{
			gateway.HeaderSignature: "algorithm=RSA256,keyVersion=1,signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(rnd))}},
			http.StatusUnauthorized, receiver.ReasonSignature},
		{"malformed signature header", notification{path: path, key: gatewayKey, body: good, header: map[string]string{
			gateway.HeaderSignature: "nonsense"}}, http.StatusUnauthorized, receiver.ReasonSignature},
		{"signed with another key", notification{path: path, key: otherKey, body: good}, http.StatusUnauthorized, receiver.ReasonSignature},
		{"signed with the merchant's own key", notification{path: path, key: merchantKey, body: good}, http.StatusUnauthorized, receiver.ReasonSignature},
		{"tampered body", notification{path: path, key: gatewayKey, body: tampered, header: map[string]string{
			gateway.HeaderSignature: sign(t, path, f.clientID, f.sim.Now(), good)}}, http.StatusUnauthorized, receiver.ReasonSignature},
		{"signature for another path", notification{path: paymentPath(f.ns, "other"), signedPath: path, key: gatewayKey, body: success(other, "1050")},
			http.StatusUnauthorized, receiver.ReasonSignature},
		{"changed amount", notification{path: path, key: gatewayKey, body: success(victim, "99900")}, http.StatusUnprocessableEntity, receiver.ReasonMismatch},
		{"another payment request id", notification{path: path, key: gatewayKey, body: otherReq}, http.StatusUnprocessableEntity, receiver.ReasonMismatch},
		{"stale Request-Time", notification{path: path, key: gatewayKey, body: good, at: f.sim.Now().Add(-6 * time.Minute)}, http.StatusUnauthorized, receiver.ReasonStale},
		{"future Request-Time", notification{path: path, key: gatewayKey, body: good, at: f.sim.Now().Add(6 * time.Minute)}, http.StatusUnauthorized, receiver.ReasonFuture},
		{"unparsable Request-Time", notification{path: path, key: gatewayKey, body: good, header: map[string]string{
			gateway.HeaderRequestTime: "yesterday"}}, http.StatusBadRequest, receiver.ReasonBadTime},
		{"GET", notification{method: http.MethodGet, path: path, key: gatewayKey}, http.StatusMethodNotAllowed, receiver.ReasonMethod},
		{"PUT", notification{method: http.MethodPut, path: path, key: gatewayKey, body: good}, http.StatusMethodNotAllowed, receiver.ReasonMethod},
		{"text/plain", notification{path: path, key: gatewayKey, body: good, contentType: "text/plain"}, http.StatusUnsupportedMediaType, receiver.ReasonContentType},
		{"latin-1 JSON", notification{path: path, key: gatewayKey, body: good, contentType: "application/json; charset=ISO-8859-1"},
			http.StatusUnsupportedMediaType, receiver.ReasonContentType},
		{"oversize body", notification{path: path, key: gatewayKey, body: append(append([]byte{}, good[:len(good)-1]...), []byte(`,"pad":"`+strings.Repeat("x", 70<<10)+`"}`)...)},
			http.StatusRequestEntityTooLarge, receiver.ReasonBodyTooLarge},
		{"unsigned", notification{path: path, body: good}, http.StatusUnauthorized, receiver.ReasonMissingHeader},
		{"no Client-Id", notification{path: path, key: gatewayKey, body: good, header: map[string]string{gateway.HeaderClientID: ""}},
			http.StatusUnauthorized, receiver.ReasonMissingHeader},
		{"unknown Client-Id", notification{path: path, clientID: "SANDBOX_NOBODY", key: gatewayKey, body: good}, http.StatusUnauthorized, receiver.ReasonUnknownClient},
		{"another merchant's Client-Id", notification{path: path, clientID: otherClient, key: gatewayKey, body: good}, http.StatusUnauthorized, receiver.ReasonGatewayMismatch},
		{"not JSON", notification{path: path, key: gatewayKey, body: []byte(`{"notifyType":`)}, http.StatusBadRequest, receiver.ReasonMalformed},
		{"unknown notification type", notification{path: path, key: gatewayKey, body: []byte(`{"notifyType":"VAULTING_RESULT"}`)}, http.StatusBadRequest, receiver.ReasonUnknownType},
		{"refund on the payment route", notification{path: path, key: gatewayKey, body: refundBody}, http.StatusBadRequest, receiver.ReasonRouteKind},
		{"not a route", notification{path: "/notify/capture/" + f.ns + "/victim", key: gatewayKey, body: good}, http.StatusNotFound, receiver.ReasonRoute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := f.metric("cashier_receiver_rejected_total", map[string]string{"reason": tc.reason})
			status, body := f.send(tc.n)
			if status != tc.status {
				t.Fatalf("status = %d (%s), want %d", status, body, tc.status)
			}
			if body == gateway.NotificationAck || !strings.Contains(body, `"resultStatus":"F"`) {
				t.Fatalf("body = %s", body)
			}
			if got := f.metric("cashier_receiver_rejected_total", map[string]string{"reason": tc.reason}); got != before+1 {
				t.Fatalf("rejected_total{reason=%q} = %v, want %v", tc.reason, got, before+1)
			}
			for _, p := range []*v1.Payment{victim, other} {
				if got := f.payment(p.Name); got.ResourceVersion != p.ResourceVersion {
					t.Fatalf("%s changed: phase %s", p.Name, got.Status.Phase)
				}
			}
		})
	}
	if note := f.waitEvent("victim", "NotificationRefused"); !strings.Contains(note, "amount") {
		t.Fatalf("NotificationRefused note = %q", note)
	}

	// The genuine notification still goes through.
	must(t, f.sim.Complete(victim.Status.PaymentRequestID))
	f.quiesce()
	if p := f.payment("victim"); p.Status.Phase != v1.PaymentSucceeded {
		t.Fatalf("genuine notification: phase = %s", p.Status.Phase)
	}
}

func sign(t *testing.T, path, clientID string, at time.Time, body []byte) string {
	t.Helper()
	sig, err := gateway.Sign(gatewayKey, "1", http.MethodPost, path, clientID, gateway.FormatTime(at), body)
	must(t, err)
	return sig
}

// TestCaptureNotification: an asynchronous capture of a manual
// authorization finishes from notifyCapture alone.
func TestCaptureNotification(t *testing.T) {
	f := newFixture(t)
	p := f.cardPayment("card", "100.00", v1.CaptureManual)
	f.create(p)
	p = f.pay(p)
	must(t, f.sim.Complete(p.Status.PaymentRequestID))
	f.quiesce()
	p = f.payment("card")
	if p.Status.Phase != v1.PaymentAuthorized || condition(p.Status.Conditions, v1.ConditionReady).Status != metav1.ConditionTrue {
		t.Fatalf("after authorization: phase %s, conditions %+v", p.Status.Phase, p.Status.Conditions)
	}
	if p.Status.Amounts.Authorized == nil || p.Status.Amounts.Authorized.Value != "100.00" || p.Status.AuthExpiryTime == nil {
		t.Fatalf("authorized amounts = %+v, authExpiry %v", p.Status.Amounts, p.Status.AuthExpiryTime)
	}

	c := &v1.Capture{ObjectMeta: metav1.ObjectMeta{Name: "cap-1", Namespace: f.ns},
		Spec: v1.CaptureSpec{PaymentRef: v1.LocalObjectReference{Name: "card"}, Amount: v1.Money{Currency: "HKD", Value: "40.00"}}}
	f.create(c)
	f.sim.SetBehavior(gatewaysim.Behavior{CaptureAsync: true})
	capID := ids.Capture(c, "")
	resp, err := f.conn.Client.Capture(f.ctx, &gateway.CaptureRequest{CaptureRequestID: capID, PaymentID: p.Status.PaymentID,
		CaptureAmount: gateway.Amount{Currency: "HKD", Value: "4000"}})
	if !gateway.IsInProcess(err) {
		t.Fatalf("async capture: %v", err)
	}
	c = writeStatus(f, c, func(c *v1.Capture) error {
		if _, err := transition.ApplyOperation(&c.Status, c.Spec.Amount, transition.FromCaptureResponse(resp), time.Now()); err != nil {
			return err
		}
		transition.SetOperationConditions(&c.Status, c.Generation, "capture")
		return nil
	})
	if c.Status.Phase != v1.OperationProcessing {
		t.Fatalf("capture phase = %s", c.Status.Phase)
	}

	f.sim.Advance(30 * time.Second) // the capture settles; notifyCapture goes out
	f.quiesce()
	c = f.capture("cap-1")
	if c.Status.Phase != v1.OperationSucceeded || c.Status.GatewayID == "" || c.Status.CompletionTime == nil {
		t.Fatalf("capture status = %+v", c.Status)
	}
	if r := condition(c.Status.Conditions, v1.ConditionReady); r.Status != metav1.ConditionTrue || r.Reason != v1.ReasonSucceeded {
		t.Fatalf("capture Ready = %+v", r)
	}
	if n := f.lastNotification(gatewaysim.KindNotifyCapture); n.State != gatewaysim.NotificationDelivered || !strings.HasSuffix(n.URL, paymentPath(f.ns, "card")) {
		t.Fatalf("notifyCapture = %+v", n)
	}
	f.waitEvent("cap-1", string(v1.OperationSucceeded))
	if a := f.outcomes(gateway.KindNotifyCapture, receiver.OutcomeApplied); a != 1 {
		t.Fatalf("applied captures = %v", a)
	}
	// The payment itself is not the capture's to change.
	if got := f.payment("card"); got.Status.Phase != v1.PaymentAuthorized {
		t.Fatalf("payment phase = %s", got.Status.Phase)
	}
}

// TestAutomaticCapture: the capture that completes an automatic-capture
// authorization lands on the Payment: the operator's own capture
// (ids.AutoCapture) and the gateway's automatic capture.
func TestAutomaticCapture(t *testing.T) {
	f := newFixture(t)
	p := f.cardPayment("auto", "25.00", v1.CaptureAutomatic)
	f.create(p)
	p = f.pay(p)
	must(t, f.sim.Complete(p.Status.PaymentRequestID))
	f.quiesce()
	p = f.payment("auto")
	if p.Status.Phase != v1.PaymentAuthorized || condition(p.Status.Conditions, v1.ConditionReady).Status != metav1.ConditionFalse {
		t.Fatalf("authorized (automatic): phase %s conditions %+v", p.Status.Phase, p.Status.Conditions)
	}
	autoID := ids.AutoCapture(p, "")
	if _, err := f.conn.Client.Capture(f.ctx, &gateway.CaptureRequest{CaptureRequestID: autoID, PaymentID: p.Status.PaymentID,
		CaptureAmount: gateway.Amount{Currency: "HKD", Value: "2500"}}); err != nil {
		t.Fatal(err)
	}
	f.quiesce()
	p = f.payment("auto")
	if p.Status.Phase != v1.PaymentSucceeded || p.Status.Amounts.Captured == nil || p.Status.Amounts.Captured.Value != "25.00" {
		t.Fatalf("after the automatic capture: phase %s amounts %+v", p.Status.Phase, p.Status.Amounts)
	}
	if r := condition(p.Status.Conditions, v1.ConditionReady); r.Status != metav1.ConditionTrue {
		t.Fatalf("Ready = %+v", r)
	}

	// The gateway capturing by itself (paymentFactor.captureMode AUTOMATIC):
	// its capture carries the payment's own request id.
	g := f.cardPayment("gw-auto", "30.00", v1.CaptureAutomatic)
	f.create(g)
	reqID := ids.Payment(g, "")
	g = f.payWith(g, &gateway.PayRequest{PaymentRequestID: reqID, PaymentAmount: gateway.Amount{Currency: "HKD", Value: "3000"},
		PaymentMethod:    gateway.PaymentMethod{PaymentMethodType: "CARD"},
		PaymentNotifyURL: ids.NotifyURL(f.url, ids.KindPayment, f.ns, "gw-auto"), Env: &gateway.Env{TerminalType: "WEB"},
		PaymentFactor: &gateway.PaymentFactor{IsAuthorization: gateway.BoolPtr(true), CaptureMode: "AUTOMATIC"}})
	must(t, f.sim.Complete(reqID))
	f.quiesce()
	g = f.payment("gw-auto")
	if g.Status.Phase != v1.PaymentSucceeded || g.Status.Amounts.Captured == nil || g.Status.Amounts.Captured.Value != "30.00" {
		t.Fatalf("gateway automatic capture: phase %s amounts %+v", g.Status.Phase, g.Status.Amounts)
	}
}

// TestRefundNotification: a refund finishes from notifyRefund alone, on
// its own route and on the default route.
func TestRefundNotification(t *testing.T) {
	f := newFixture(t)
	p := f.paidWallet("refund-me", "50.00")

	rf := &v1.Refund{ObjectMeta: metav1.ObjectMeta{Name: "rf-1", Namespace: f.ns},
		Spec: v1.RefundSpec{PaymentRef: v1.LocalObjectReference{Name: "refund-me"}, Amount: v1.Money{Currency: "HKD", Value: "20.00"}}}
	f.create(rf)
	rid := ids.Refund(rf, "")
	resp, err := f.conn.Client.Refund(f.ctx, &gateway.RefundRequest{RefundRequestID: rid, PaymentID: p.Status.PaymentID,
		RefundAmount: gateway.Amount{Currency: "HKD", Value: "2000"}, IsAsyncRefund: gateway.BoolPtr(true),
		RefundNotifyURL: ids.NotifyURL(f.url, ids.KindRefund, f.ns, "rf-1")})
	if !gateway.IsInProcess(err) {
		t.Fatalf("async refund: %v", err)
	}
	rf = writeStatus(f, rf, func(r *v1.Refund) error {
		if _, err := transition.ApplyOperation(&r.Status, r.Spec.Amount, transition.FromRefundResponse(resp), time.Now()); err != nil {
			return err
		}
		transition.SetOperationConditions(&r.Status, r.Generation, "refund")
		return nil
	})
	if rf.Status.Phase != v1.OperationProcessing {
		t.Fatalf("refund phase = %s", rf.Status.Phase)
	}
	f.sim.Advance(2 * time.Minute)
	f.quiesce()
	rf = f.refund("rf-1")
	if rf.Status.Phase != v1.OperationSucceeded || rf.Status.CompletionTime == nil || condition(rf.Status.Conditions, v1.ConditionReady).Status != metav1.ConditionTrue {
		t.Fatalf("refund status = %+v", rf.Status)
	}
	if n := f.lastNotification(gatewaysim.KindNotifyRefund); !strings.HasSuffix(n.URL, refundPath(f.ns, "rf-1")) || n.State != gatewaysim.NotificationDelivered {
		t.Fatalf("notifyRefund = %+v", n)
	}
	f.waitEvent("rf-1", string(v1.OperationSucceeded))

	// Without refundNotifyUrl the gateway uses the dashboard URL (/notify);
	// the receiver finds the Refund by its refundRequestId.
	rf2 := &v1.Refund{ObjectMeta: metav1.ObjectMeta{Name: "rf-2", Namespace: f.ns},
		Spec: v1.RefundSpec{PaymentRef: v1.LocalObjectReference{Name: "refund-me"}, Amount: v1.Money{Currency: "HKD", Value: "5.00"}}}
	f.create(rf2)
	rid2 := ids.Refund(rf2, "")
	if _, err := f.conn.Client.Refund(f.ctx, &gateway.RefundRequest{RefundRequestID: rid2, PaymentID: p.Status.PaymentID,
		RefundAmount: gateway.Amount{Currency: "HKD", Value: "500"}}); err != nil {
		t.Fatal(err)
	}
	f.quiesce()
	if n := f.lastNotification(gatewaysim.KindNotifyRefund); n.URL != f.url+ids.RouteBase || n.State != gatewaysim.NotificationDelivered {
		t.Fatalf("default-route notifyRefund = %+v", n)
	}
	if got := f.refund("rf-2"); got.Status.Phase != v1.OperationSucceeded || got.Status.RequestID != rid2 {
		t.Fatalf("rf-2 status = %+v", got.Status)
	}

	// A refund notification that claims another amount is refused.
	rv := f.refund("rf-1").ResourceVersion
	status, _ := f.send(notification{path: refundPath(f.ns, "rf-1"), key: gatewayKey, body: mustJSON(t, gateway.NotifyRefund{
		NotifyType: gateway.NotifyTypeRefundResult, Result: gateway.NewResult(gateway.CodeSuccess), RefundStatus: gateway.RefundStatusSuccess,
		RefundRequestID: rid, RefundAmount: &gateway.Amount{Currency: "HKD", Value: "4000"}})})
	if status != http.StatusUnprocessableEntity || f.refund("rf-1").ResourceVersion != rv {
		t.Fatalf("refund with another amount: %d", status)
	}
	f.waitEvent("rf-1", "NotificationRefused")
}

// TestDispute: a chargeback opened, defended and judged lands in
// status.dispute with the right states (refunds wait while it blocks);
// another is opened and cancelled.
func TestDispute(t *testing.T) {
	f := newFixture(t)
	p := f.paidWallet("disputed", "80.00")
	id, err := f.sim.OpenDispute(p.Status.PaymentID, gatewaysim.DisputeSpec{})
	must(t, err)
	f.quiesce()
	if n := f.lastNotification(gatewaysim.KindNotifyDispute); n.URL != f.url+ids.RouteBase || n.State != gatewaysim.NotificationDelivered {
		t.Fatalf("notifyDispute = %+v", n)
	}
	p = f.payment("disputed")
	d := p.Status.Dispute
	if d == nil || d.ID != id || d.State != v1.DisputeOpen || !d.State.Blocks() || d.Amount == nil || d.Amount.Value != "80.00" ||
		d.Type != "CHARGEBACK" || d.ReasonCode == "" || d.DefenseDueTime == nil || d.OpenedTime == nil {
		t.Fatalf("dispute = %+v", d)
	}
	if p.Status.Phase != v1.PaymentSucceeded {
		t.Fatalf("phase = %s", p.Status.Phase)
	}
	f.waitEvent("disputed", "DisputeOpened")
	created := f.lastSeen(id)

	// The simulator has no API for these two; they are made here and signed
	// with the gateway key, exactly as the gateway would send them.
	for _, typ := range []string{gateway.DisputeDefenseSupplied, gateway.DisputeDefenseDueAlert} {
		body := mustJSON(t, gateway.NotifyDispute{PaymentRequestID: p.Status.PaymentRequestID, PaymentID: p.Status.PaymentID,
			DisputeID: id, DisputeNotificationType: typ, DisputeAmount: &gateway.Amount{Currency: "HKD", Value: "8000"}})
		if status, resp := f.send(notification{path: ids.RouteBase, key: gatewayKey, body: body}); status != http.StatusOK {
			t.Fatalf("%s: %d %s", typ, status, resp)
		}
	}
	p = f.payment("disputed")
	if d := p.Status.Dispute; d.State != v1.DisputeDefenseSupplied || !d.State.Blocks() || d.LastNotification != gateway.DisputeDefenseDueAlert {
		t.Fatalf("after defence: %+v", d)
	}
	f.waitEvent("disputed", "DisputeDefenseSupplied")
	f.waitEvent("disputed", "DisputeDefenseDue")

	must(t, f.sim.JudgeDispute(id, gateway.JudgedAcceptByCustomer))
	f.quiesce()
	p = f.payment("disputed")
	if d := p.Status.Dispute; d.State != v1.DisputeJudged || d.State.Blocks() || d.JudgedResult != gateway.JudgedAcceptByCustomer ||
		d.JudgedTime == nil || d.JudgedAmount == nil {
		t.Fatalf("after judgement: %+v", d)
	}
	if note := f.waitEvent("disputed", "DisputeJudged"); !strings.Contains(note, gateway.JudgedAcceptByCustomer) {
		t.Fatalf("DisputeJudged note = %q", note)
	}
	// The chargeback is also an object of its own, owned by the payment.
	var obj v1.Dispute
	must(t, k8s.Get(f.ctx, client.ObjectKey{Namespace: f.ns, Name: v1.DisputeName("disputed", id)}, &obj))
	if obj.Spec.DisputeID != id || obj.Spec.PaymentRef.Name != "disputed" || obj.Status.Phase != v1.DisputePhaseWon ||
		obj.Status.DefenseDueAlertTime == nil || obj.Status.Amount == nil || obj.Status.Amount.Value != "80.00" ||
		len(obj.OwnerReferences) != 1 || obj.OwnerReferences[0].UID != p.UID || obj.Labels[v1.LabelDisputeID] != id {
		t.Fatalf("Dispute object = %+v", obj)
	}

	// DISPUTE_CREATED again (a late re-send) changes nothing.
	rv := p.ResourceVersion
	if status, body := f.resend(created); status != http.StatusOK || body != gateway.NotificationAck {
		t.Fatalf("late DISPUTE_CREATED: %d %s", status, body)
	}
	if got := f.payment("disputed"); got.ResourceVersion != rv || got.Status.Dispute.State != v1.DisputeJudged {
		t.Fatalf("late DISPUTE_CREATED changed the payment: %+v", got.Status.Dispute)
	}
}

// TestDisputeCancelled: a dispute opened for part of a payment, then
// cancelled by the gateway, ends Cancelled, unblocks the payment, and its
// Dispute object charges nothing back.
func TestDisputeCancelled(t *testing.T) {
	f := newFixture(t)
	var obj v1.Dispute
	q := f.paidWallet("disputed-2", "12.00")
	id2, err := f.sim.OpenDispute(q.Status.PaymentID, gatewaysim.DisputeSpec{AmountMinor: 600})
	must(t, err)
	f.quiesce()
	if d := f.payment("disputed-2").Status.Dispute; d == nil || d.State != v1.DisputeOpen || d.Amount.Value != "6.00" {
		t.Fatalf("second dispute = %+v", d)
	}
	must(t, f.sim.CancelDispute(id2))
	f.quiesce()
	if d := f.payment("disputed-2").Status.Dispute; d.State != v1.DisputeCancelled || d.State.Blocks() {
		t.Fatalf("cancelled dispute = %+v", d)
	}
	f.waitEvent("disputed-2", "DisputeCancelled")
	must(t, k8s.Get(f.ctx, client.ObjectKey{Namespace: f.ns, Name: v1.DisputeName("disputed-2", id2)}, &obj))
	if obj.Status.Phase != v1.DisputePhaseCancelled || obj.Status.ChargedBack != nil {
		t.Fatalf("cancelled Dispute object = %+v", obj.Status)
	}
}

// TestUnknownObject: a verified notification for an object that does not
// exist is acknowledged (re-sends cannot help) and counted.
func TestUnknownObject(t *testing.T) {
	f := newFixture(t)
	ghost := mustJSON(t, gateway.NotifyPayment{NotifyType: gateway.NotifyTypePaymentResult, Result: gateway.NewResult(gateway.CodeSuccess),
		PaymentRequestID: "pay-ghost", PaymentID: "2026010511000000000099"})
	if status, body := f.send(notification{path: paymentPath(f.ns, "ghost"), key: gatewayKey, body: ghost}); status != http.StatusOK || body != gateway.NotificationAck {
		t.Fatalf("ghost payment: %d %s", status, body)
	}
	if status, _ := f.send(notification{path: ids.RouteBase, key: gatewayKey, body: ghost}); status != http.StatusOK {
		t.Fatalf("ghost payment on the default route: %d", status)
	}
	refund := mustJSON(t, gateway.NotifyRefund{NotifyType: gateway.NotifyTypeRefundResult, Result: gateway.NewResult(gateway.CodeSuccess),
		RefundStatus: gateway.RefundStatusSuccess, RefundRequestID: "refghost"})
	if status, _ := f.send(notification{path: refundPath(f.ns, "ghost"), key: gatewayKey, body: refund}); status != http.StatusOK {
		t.Fatalf("ghost refund: %d", status)
	}
	dispute := mustJSON(t, gateway.NotifyDispute{PaymentID: "2026010511000000000098", DisputeID: "D1", DisputeNotificationType: gateway.DisputeCreated})
	if status, _ := f.send(notification{path: ids.RouteBase, key: gatewayKey, body: dispute}); status != http.StatusOK {
		t.Fatalf("dispute on an unknown payment: %d", status)
	}

	// A payment deleted after its pay call (deletionPolicy Orphan): its
	// notification is acknowledged so the gateway stops re-sending.
	p := f.walletPayment("deleted", "10.00")
	f.create(p)
	p = f.pay(p)
	must(t, k8s.Delete(f.ctx, p))
	f.eventually("the cache to forget the deleted payment", func() bool {
		return apierrors.IsNotFound(mgr.GetClient().Get(f.ctx, client.ObjectKeyFromObject(p), &v1.Payment{}))
	})
	must(t, f.sim.Complete(p.Status.PaymentRequestID))
	f.quiesce()
	if n := f.lastNotification(gatewaysim.KindNotifyPayment); n.State != gatewaysim.NotificationDelivered {
		t.Fatalf("notification for a deleted payment: %+v", n)
	}
	if u := f.metric("cashier_receiver_unknown_object_total", nil); u != 5 {
		t.Fatalf("unknown_object_total = %v, want 5", u)
	}
}

// TestNotificationRacesStatusWriter: a notification arrives while another
// writer (a controller) keeps updating the same status; both writes
// survive and the payment ends Succeeded.
func TestNotificationRacesStatusWriter(t *testing.T) {
	f := newFixture(t)
	p := f.walletPayment("race", "10.70")
	f.create(p)
	p = f.pay(p)
	base := time.Now().UTC().Truncate(time.Second)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	var written atomic.Int64 // seconds after base of the last successful write
	var writes, conflicts atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := int64(1); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var cur v1.Payment
			if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(p), &cur); err != nil {
				continue
			}
			lc := metav1.NewTime(base.Add(time.Duration(i) * time.Second))
			cur.Status.LastCheckTime = &lc
			if err := k8s.Status().Update(context.Background(), &cur); err != nil {
				conflicts.Add(1)
				continue
			}
			writes.Add(1)
			written.Store(i)
		}
	}()
	f.eventually("the status writer to get going", func() bool { return writes.Load() > 3 })
	must(t, f.sim.Complete(p.Status.PaymentRequestID))
	f.quiesce()
	f.eventually("a few more writes after the notification", func() bool { return writes.Load() > 10 })
	close(stop)
	wg.Wait()

	got := f.payment("race")
	if got.Status.Phase != v1.PaymentSucceeded || condition(got.Status.Conditions, v1.ConditionReady).Status != metav1.ConditionTrue {
		t.Fatalf("phase %s conditions %+v", got.Status.Phase, got.Status.Conditions)
	}
	if want := base.Add(time.Duration(written.Load()) * time.Second); got.Status.LastCheckTime == nil || !got.Status.LastCheckTime.Time.Equal(want) {
		t.Fatalf("lastCheckTime = %v, want the writer's last %v", got.Status.LastCheckTime, want)
	}
	t.Logf("status writer: %d writes, %d conflicts", writes.Load(), conflicts.Load())
}

// raceClient performs a real concurrent status write on the API server just
// before the receiver's first status write, so that write conflicts.
type raceClient struct {
	client.Client
	before    func(ctx context.Context, obj client.Object)
	once      sync.Once
	updates   atomic.Int64
	conflicts atomic.Int64
}

func (c *raceClient) Status() client.SubResourceWriter {
	return raceStatus{SubResourceWriter: c.Client.Status(), c: c}
}

type raceStatus struct {
	client.SubResourceWriter
	c *raceClient
}

func (s raceStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	s.c.once.Do(func() { s.c.before(ctx, obj) })
	s.c.updates.Add(1)
	err := s.SubResourceWriter.Update(ctx, obj, opts...)
	if apierrors.IsConflict(err) {
		s.c.conflicts.Add(1)
	}
	return err
}

// TestConflictRetry: the controller writes the same outcome (from an
// inquiry) between the receiver's read and its write; the receiver's
// write conflicts, it re-reads and re-applies, and the payment ends in one
// correct state with the controller's write intact.
func TestConflictRetry(t *testing.T) {
	var fx *fixture
	rc := &raceClient{}
	rc.before = func(ctx context.Context, obj client.Object) {
		inq, err := fx.conn.Client.InquiryPayment(ctx, &gateway.InquiryPaymentRequest{PaymentID: obj.(*v1.Payment).Status.PaymentID})
		if err != nil {
			t.Errorf("inquiry: %v", err)
			return
		}
		writeStatus(fx, &v1.Payment{ObjectMeta: metav1.ObjectMeta{Name: obj.GetName(), Namespace: obj.GetNamespace()}}, func(p *v1.Payment) error {
			if _, err := transition.ApplyPayment(p, transition.FromInquiryPayment(inq), time.Now()); err != nil {
				return err
			}
			lc := metav1.NewTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
			p.Status.LastCheckTime = &lc
			transition.SetPaymentConditions(p)
			return nil
		})
	}
	fx = newFixture(t, func(o *receiver.Options) { rc.Client = o.Client; o.Client = rc })
	f := fx
	p := f.walletPayment("conflict", "10.80")
	f.create(p)
	p = f.pay(p)
	must(t, f.sim.Complete(p.Status.PaymentRequestID))
	f.quiesce()

	got := f.payment("conflict")
	if got.Status.Phase != v1.PaymentSucceeded || got.Status.LastCheckTime == nil || got.Status.LastCheckTime.Year() != 2030 {
		t.Fatalf("status = phase %s lastCheckTime %v", got.Status.Phase, got.Status.LastCheckTime)
	}
	if r := condition(got.Status.Conditions, v1.ConditionReady); r.Status != metav1.ConditionTrue {
		t.Fatalf("Ready = %+v", r)
	}
	if n := rc.conflicts.Load(); n != 1 {
		t.Fatalf("the receiver's write conflicted %d times, want exactly once (then re-read and re-applied)", n)
	}
	t.Logf("receiver status writes: %d (1 conflicted)", rc.updates.Load())
	if n := f.lastNotification(gatewaysim.KindNotifyPayment); n.State != gatewaysim.NotificationDelivered || len(n.Attempts) != 1 {
		t.Fatalf("notification = %+v", n)
	}
}

// flakyClient makes the receiver's first status writes fail as an
// unavailable API server would, in front of the real one.
type flakyClient struct {
	client.Client
	failures atomic.Int64 // writes still to fail
}

func (c *flakyClient) Status() client.SubResourceWriter {
	return flakyStatus{SubResourceWriter: c.Client.Status(), c: c}
}

type flakyStatus struct {
	client.SubResourceWriter
	c *flakyClient
}

func (s flakyStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	if s.c.failures.Add(-1) >= 0 {
		return apierrors.NewServiceUnavailable("etcd is having a bad day")
	}
	return s.SubResourceWriter.Update(ctx, obj, opts...)
}

// TestAPIServerErrorMeansResend: when the status cannot be written the
// receiver answers 503 (not the ack), the gateway re-sends on its schedule,
// and the re-send is applied.
func TestAPIServerErrorMeansResend(t *testing.T) {
	fc := &flakyClient{}
	fc.failures.Store(1)
	f := newFixture(t, func(o *receiver.Options) { fc.Client = o.Client; o.Client = fc })
	p := f.walletPayment("flaky", "10.90")
	f.create(p)
	p = f.pay(p)
	must(t, f.sim.Complete(p.Status.PaymentRequestID))
	f.quiesce()
	n := f.lastNotification(gatewaysim.KindNotifyPayment)
	if n.State != gatewaysim.NotificationPending || len(n.Attempts) != 1 || n.Attempts[0].StatusCode != http.StatusServiceUnavailable ||
		n.Attempts[0].Acked || !strings.Contains(n.Attempts[0].Response, `"resultStatus":"F"`) {
		t.Fatalf("first attempt = %+v (state %s)", n.Attempts, n.State)
	}
	if got := f.payment("flaky"); got.Status.Phase != v1.PaymentProcessing {
		t.Fatalf("phase after a failed write = %s", got.Status.Phase)
	}
	if e := f.outcomes(gateway.KindNotifyPayment, receiver.OutcomeError); e != 1 {
		t.Fatalf("errors counted = %v", e)
	}

	f.sim.Advance(gateway.NotificationRetrySchedule[1]) // the gateway's first re-send, 2 minutes later
	f.quiesce()
	n = f.lastNotification(gatewaysim.KindNotifyPayment)
	if n.State != gatewaysim.NotificationDelivered || len(n.Attempts) != 2 || !n.Attempts[1].Acked {
		t.Fatalf("re-send = %+v (state %s)", n.Attempts, n.State)
	}
	if got := f.payment("flaky"); got.Status.Phase != v1.PaymentSucceeded {
		t.Fatalf("phase after the re-send = %s", got.Status.Phase)
	}
}

// TestExternalPathPrefix: behind a proxy that strips a path prefix, the
// signature over the external path verifies.
func TestExternalPathPrefix(t *testing.T) {
	f := newFixture(t)
	proxied, err := receiver.New(receiver.Options{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Registry: f.reg,
		Now: f.sim.Now, PathPrefix: "/hooks"})
	must(t, err)
	proxy := httptest.NewServer(http.StripPrefix("/hooks", proxied))
	t.Cleanup(proxy.Close)

	p := f.walletPayment("behind-proxy", "10.10")
	f.create(p)
	p = f.pay(p)
	body := mustJSON(t, gateway.NotifyPayment{NotifyType: gateway.NotifyTypePaymentResult, Result: gateway.NewResult(gateway.CodeSuccess),
		PaymentRequestID: p.Status.PaymentRequestID, PaymentID: p.Status.PaymentID, PaymentAmount: &gateway.Amount{Currency: "HKD", Value: "1010"}})
	post := func(signedPath string) int {
		rt := gateway.FormatTime(f.sim.Now())
		sig, err := gateway.Sign(gatewayKey, "1", http.MethodPost, signedPath, f.clientID, rt, body)
		must(t, err)
		req, _ := http.NewRequest(http.MethodPost, proxy.URL+"/hooks"+paymentPath(f.ns, "behind-proxy"), bytes.NewReader(body))
		req.Header.Set(gateway.HeaderContentType, gateway.ContentTypeJSON)
		req.Header.Set(gateway.HeaderClientID, f.clientID)
		req.Header.Set(gateway.HeaderRequestTime, rt)
		req.Header.Set(gateway.HeaderSignature, sig)
		status, _ := f.do(req)
		return status
	}
	if status := post(paymentPath(f.ns, "behind-proxy")); status != http.StatusUnauthorized {
		t.Fatalf("signed over the internal path: %d", status)
	}
	if status := post("/hooks" + paymentPath(f.ns, "behind-proxy")); status != http.StatusOK {
		t.Fatalf("signed over the external path: %d", status)
	}
	if got := f.payment("behind-proxy"); got.Status.Phase != v1.PaymentSucceeded {
		t.Fatalf("phase = %s", got.Status.Phase)
	}
}

// countingClient counts GatewayConfig lists on the real client.
type countingClient struct {
	client.Client
	lists atomic.Int64
}

func (c *countingClient) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if _, ok := list.(*v1.GatewayConfigList); ok {
		c.lists.Add(1)
	}
	return c.Client.List(ctx, list, opts...)
}

// TestUnknownClientRefreshIsRateLimited: unauthenticated requests with
// made-up Client-Ids cannot make the receiver rebuild its connections (API
// server reads) more than once per RefreshInterval.
func TestUnknownClientRefreshIsRateLimited(t *testing.T) {
	cc := &countingClient{}
	f := newFixture(t, func(o *receiver.Options) {
		cc.Client = o.Client
		o.Client = cc
		o.RefreshInterval = time.Hour
	})
	for i := 0; i < 5; i++ {
		status, _ := f.send(notification{path: ids.RouteBase, clientID: "SANDBOX_MADEUP" + randHex(3), key: otherKey, body: []byte(`{}`)})
		if status != http.StatusUnauthorized {
			t.Fatalf("made-up Client-Id: %d", status)
		}
	}
	if n := cc.lists.Load(); n != 1 {
		t.Fatalf("GatewayConfigs listed %d times, want 1", n)
	}
	// The known merchant is unaffected.
	p := f.paidWallet("still-works", "10.20")
	if p.Status.Phase != v1.PaymentSucceeded {
		t.Fatalf("phase = %s", p.Status.Phase)
	}
}

// TestDefaultRouteOnlyTouchesTheSigningMerchant: gateway ids are unique per
// gateway, not across merchants or environments. A Payment of another
// merchant that carries the same gateway paymentId is not the object of a
// notification on the default route: it is left alone, without refusal.
func TestDefaultRouteOnlyTouchesTheSigningMerchant(t *testing.T) {
	f := newFixture(t)
	p := f.paidWallet("mine", "40.00")

	otherClient := "SANDBOX_PROD" + strings.ToUpper(randHex(4))
	otherGW := f.createGateway(otherClient, f.conn.Config.Spec.Endpoint, f.sim.GatewayPublicKeyString())
	theirs := f.walletPayment("theirs", "40.00")
	theirs.Spec.GatewayRef.Name = otherGW
	f.create(theirs)
	theirs = writeStatus(f, theirs, func(q *v1.Payment) error {
		q.Status.Phase = v1.PaymentSucceeded
		q.Status.PaymentID = p.Status.PaymentID // same gateway id, other gateway
		transition.SetPaymentConditions(q)
		return nil
	})
	f.eventually("the cache to index the other payment", func() bool {
		var list v1.PaymentList
		err := mgr.GetClient().List(f.ctx, &list, client.MatchingFields{receiver.IndexPaymentID: p.Status.PaymentID})
		return err == nil && len(list.Items) >= 2
	})

	id, err := f.sim.OpenDispute(p.Status.PaymentID, gatewaysim.DisputeSpec{})
	must(t, err)
	f.quiesce()
	if n := f.lastNotification(gatewaysim.KindNotifyDispute); n.State != gatewaysim.NotificationDelivered {
		t.Fatalf("notifyDispute = %+v", n)
	}
	if d := f.payment("mine").Status.Dispute; d == nil || d.ID != id || d.State != v1.DisputeOpen {
		t.Fatalf("my dispute = %+v", d)
	}
	if got := f.payment("theirs"); got.ResourceVersion != theirs.ResourceVersion || got.Status.Dispute != nil {
		t.Fatalf("the other merchant's payment changed: %+v", got.Status.Dispute)
	}
	if r := f.metric("cashier_receiver_rejected_total", nil); r != 0 {
		t.Fatalf("rejected_total = %v", r)
	}
}
