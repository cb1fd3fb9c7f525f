package controllers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
)

// The tests in this file apply a manifest, let it settle, delete the object
// and apply the same manifest again, as a GitOps tool's self-heal or a
// restore from git does: the re-created object has a new UID, and must
// adopt what the gateway already did, moving no money again.

// manifest is what git holds of an object: its name, namespace and spec.
func manifest[T client.Object](o T) T {
	m := o.DeepCopyObject().(T)
	m.SetUID("")
	m.SetResourceVersion("")
	m.SetCreationTimestamp(metav1.Time{})
	m.SetGeneration(0)
	m.SetManagedFields(nil)
	m.SetFinalizers(nil)
	m.SetDeletionTimestamp(nil)
	switch x := any(m).(type) {
	case *v1.Payment:
		x.Status = v1.PaymentStatus{}
	case *v1.Capture:
		x.Status = v1.OperationStatus{}
	case *v1.Refund:
		x.Status = v1.OperationStatus{}
	case *v1.CustomsDeclaration:
		x.Status = v1.CustomsDeclarationStatus{}
	}
	return m
}

// deleteAndWait deletes the objects and waits until they are gone.
func deleteAndWait(ctx context.Context, t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := k8s.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
			t.Fatalf("delete %s: %v", o.GetName(), err)
		}
	}
	for _, o := range objs {
		fresh := o.DeepCopyObject().(client.Object)
		testenv.Eventually(t, timeout, o.GetName()+" to be deleted", func() (bool, string) {
			err := k8s.Get(ctx, client.ObjectKeyFromObject(o), fresh)
			return apierrors.IsNotFound(err), fmt.Sprint(err)
		})
	}
}

// reapply deletes each object and applies its manifest again; it returns
// the re-created objects in the same order.
func reapply[T client.Object](ctx context.Context, t *testing.T, objs ...T) []T {
	t.Helper()
	manifests := make([]T, len(objs))
	gone := make([]client.Object, len(objs))
	for i, o := range objs {
		manifests[i], gone[i] = manifest(o), o
	}
	deleteAndWait(ctx, t, gone...)
	for _, m := range manifests {
		create(ctx, t, m)
	}
	return manifests
}

// moneyLedger is the simulator's record of what moved, without call counts
// (a re-created object may inquire, or repeat its create call, which the
// gateway answers without creating anything): per request id the
// operations created, per payment the totals.
func moneyLedger(clientID string) string {
	l := sys.Sim.Ledger(clientID)
	var lines []string
	for _, r := range l.Requests {
		lines = append(lines, fmt.Sprintf("%s %s ops=%d", r.Kind, r.RequestID, r.Operations))
	}
	for _, p := range l.Payments {
		lines = append(lines, fmt.Sprintf("payment %s %s %s amount=%d paid=%d auth=%d captured=%d refunded=%d declared=%d chargedBack=%d",
			p.PaymentRequestID, p.Status, p.Currency, p.Amount, p.Paid, p.Authorized, p.Captured, p.Refunded, p.Declared, p.ChargedBack))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func expectAdopted(t *testing.T, o client.Object, conds []metav1.Condition) {
	t.Helper()
	if c := condition(conds, v1.ConditionAdopted); c.Status != metav1.ConditionTrue || c.Reason != v1.ReasonAdopted {
		t.Fatalf("%s: Adopted condition %+v", o.GetName(), c)
	}
}

func TestReappliedRefundAdopts(t *testing.T) {
	ctx, ns, m := setup(t)
	p := paidWallet(ctx, t, ns, "p", m.GatewayConfig, "HKD", "88.00", "ALIPAY_HK")
	r := newRefund(ns, "one-pair", "p", "HKD", "20.00")
	create(ctx, t, r)
	r = waitOp(ctx, t, r, v1.OperationSucceeded)
	id, before := r.Status.RequestID, moneyLedger(m.ClientID)
	if want := ids.Derived(ids.KindNameRefund, "", ns, "one-pair"); id != want {
		t.Fatalf("refundRequestId %s, want %s (derived from the manifest)", id, want)
	}

	r = reapply(ctx, t, r)[0]
	r = waitOp(ctx, t, r, v1.OperationSucceeded)
	expectAdopted(t, r, r.Status.Conditions)
	if r.Status.RequestID != id || r.Status.GatewayID == "" {
		t.Fatalf("re-created refund status %+v", r.Status)
	}
	if after := moneyLedger(m.ClientID); after != before {
		t.Fatalf("money moved again:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	p = waitPayment(ctx, t, p, "refunded 20.00", func(p *v1.Payment) bool { return moneyIs(p.Status.Amounts.Refunded, "20.00") })
	if !moneyIs((*v1.Money)(p.Status.Amounts.Refundable), "68.00") {
		t.Fatalf("amounts %s", amountsString(p.Status.Amounts))
	}
	if sys.Sim.Ledger(m.ClientID).Request("refund", id).Calls != 1 {
		t.Fatalf("the refund was sent again: %+v", sys.Sim.Ledger(m.ClientID).Request("refund", id))
	}
}

func TestReappliedCaptureAndDeclarationAdopt(t *testing.T) {
	ctx, ns, m := setup(t)
	authorized(ctx, t, ns, "card", m.GatewayConfig)
	c := newCapture(ns, "first", "card", "10.00")
	cn := paidWallet(ctx, t, ns, "cn", m.GatewayConfig, "CNY", "50.00", "ALIPAY_CN")
	d := newDeclaration(ns, "customs", "cn", "50.00", "ZONGSHU")
	create(ctx, t, c, d)
	c = waitOp(ctx, t, c, v1.OperationSucceeded)
	d = waitOp(ctx, t, d, v1.OperationProcessing)
	before := moneyLedger(m.ClientID)

	c = reapply(ctx, t, c)[0]
	d = reapply(ctx, t, d)[0]
	c = waitOp(ctx, t, c, v1.OperationSucceeded)
	d = waitOp(ctx, t, d, v1.OperationProcessing)
	expectAdopted(t, c, c.Status.Conditions)
	expectAdopted(t, d, d.Status.Conditions)
	if after := moneyLedger(m.ClientID); after != before {
		t.Fatalf("money moved again:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if d.Status.GatewayID == "" || c.Status.GatewayID == "" {
		t.Fatalf("gateway ids not rebuilt: capture %+v declaration %+v", c.Status, d.Status.OperationStatus)
	}
	_ = cn
}

func TestReappliedPaymentsAdopt(t *testing.T) {
	ctx, ns, m := setup(t)
	wallet := paidWallet(ctx, t, ns, "wallet", m.GatewayConfig, "HKD", "12.00", "ALIPAY_HK")
	auto := cardPayment(ctx, t, ns, "auto", m.GatewayConfig, "4111111111111111", v1.CaptureAutomatic)
	create(ctx, t, auto)
	auto = waitPhase(ctx, t, auto, v1.PaymentSucceeded)
	before := moneyLedger(m.ClientID)

	for _, p := range reapply(ctx, t, wallet, auto) {
		p = waitPhase(ctx, t, p, v1.PaymentSucceeded)
		expectAdopted(t, p, p.Status.Conditions)
		if want := ids.Derived(ids.KindNamePayment, "", ns, p.Name); p.Status.PaymentRequestID != want || p.Status.PaymentID == "" {
			t.Fatalf("%s: status ids %s %s, want request id %s", p.Name, p.Status.PaymentRequestID, p.Status.PaymentID, want)
		}
		if !moneyIs(p.Status.Amounts.Captured, p.Spec.Amount.Value) {
			t.Fatalf("%s: amounts %s", p.Name, amountsString(p.Status.Amounts))
		}
	}
	if after := moneyLedger(m.ClientID); after != before {
		t.Fatalf("money moved again:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestReappliedCardWithCapturesAndRefunds deletes a manually captured card
// payment with all its operations, as a restore from git does, and applies
// them again: totals and phases are rebuilt, nothing moves.
func TestReappliedCardWithCapturesAndRefunds(t *testing.T) {
	ctx, ns, m := setup(t)
	p := authorized(ctx, t, ns, "card", m.GatewayConfig)
	c1, c2 := newCapture(ns, "c1", "card", "15.00"), newCapture(ns, "c2", "card", "10.00")
	c2.Spec.IsLastCapture = true
	create(ctx, t, c1, c2)
	waitOp(ctx, t, c1, v1.OperationSucceeded)
	waitOp(ctx, t, c2, v1.OperationSucceeded)
	r := newRefund(ns, "r1", "card", "USD", "5.00")
	create(ctx, t, r)
	waitOp(ctx, t, r, v1.OperationSucceeded)
	p = waitPayment(ctx, t, p, "captured 25, refunded 5", func(p *v1.Payment) bool {
		return p.Status.Phase == v1.PaymentSucceeded && moneyIs(p.Status.Amounts.Refunded, "5.00")
	})
	want, before := amountsString(p.Status.Amounts), moneyLedger(m.ClientID)

	// The refund object is lost for good (deleted, not in git any more):
	// the payment's totals still count it.
	deleteAndWait(ctx, t, r)
	objs := reapply[client.Object](ctx, t, p, c1, c2)
	p = objs[0].(*v1.Payment)
	p = waitPayment(ctx, t, p, "amounts "+want, func(p *v1.Payment) bool {
		return p.Status.Phase == v1.PaymentSucceeded && amountsString(p.Status.Amounts) == want
	})
	for _, o := range objs[1:] {
		c := waitOp(ctx, t, o.(*v1.Capture), v1.OperationSucceeded)
		expectAdopted(t, c, c.Status.Conditions)
	}
	if after := moneyLedger(m.ClientID); after != before {
		t.Fatalf("money moved again:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// A new refund within what is left still goes; one over it is refused
	// by the operator, counting the refund whose object is gone.
	over := newRefund(ns, "r2", "card", "USD", "20.01")
	ok := newRefund(ns, "r3", "card", "USD", "20.00")
	create(ctx, t, over)
	expectRefused(t, waitOp(ctx, t, over, v1.OperationFailed), v1.ReasonLimitExceeded, "")
	create(ctx, t, ok)
	waitOp(ctx, t, ok, v1.OperationSucceeded)
}

// TestReappliedAfterDeletionPolicyCancel: a payment deleted with
// deletionPolicy Cancel is cancelled; applied again it shows the
// cancellation, says how to charge again, and pays nothing.
func TestReappliedAfterDeletionPolicyCancel(t *testing.T) {
	ctx, ns, m := setup(t)
	p := walletPayment(ns, "abandoned", m.GatewayConfig, "HKD", "30.00", "ALIPAY_HK")
	p.Spec.DeletionPolicy = v1.DeletionCancel
	create(ctx, t, p)
	p = waitPhase(ctx, t, p, v1.PaymentProcessing)
	id := p.Status.PaymentRequestID
	p = reapply(ctx, t, p)[0]
	p = waitPhase(ctx, t, p, v1.PaymentCancelled)
	expectAdopted(t, p, p.Status.Conditions)
	if c := condition(p.Status.Conditions, v1.ConditionAdopted); !strings.Contains(c.Message, "new name") {
		t.Fatalf("Adopted condition does not say how to charge again: %q", c.Message)
	}
	// Two pay calls, one payment: the re-created object's pay was answered
	// PROCESS_FAIL (the payment is CANCELLED) and created nothing.
	if e := sys.Sim.Ledger(m.ClientID).Request("payment", id); e.Operations != 1 || e.Calls != 2 {
		t.Fatalf("ledger for %s: %+v", id, e)
	}
	if l, _ := sys.Sim.Ledger(m.ClientID).Payment(id); l.Status != gateway.PaymentStatusCancelled || l.Paid != 0 {
		t.Fatalf("gateway payment %+v", l)
	}
}

// TestNameReusedWithAnotherSpec: a name is spent once used. The same name
// applied with another amount is an IdentityConflict, and nothing moves.
func TestNameReusedWithAnotherSpec(t *testing.T) {
	ctx, ns, m := setup(t)
	p := paidWallet(ctx, t, ns, "order", m.GatewayConfig, "HKD", "10.00", "ALIPAY_HK")
	r := newRefund(ns, "back", "order", "HKD", "3.00")
	create(ctx, t, r)
	r = waitOp(ctx, t, r, v1.OperationSucceeded)
	before := moneyLedger(m.ClientID)

	deleteAndWait(ctx, t, r, p)
	conflicting(ctx, t, walletPayment(ns, "order", m.GatewayConfig, "HKD", "12.00", "ALIPAY_HK"), "amount 1000 HKD")

	// The refund's name reused with another amount on a payment that
	// exists (under a new name): conflict too.
	q := paidWallet(ctx, t, ns, "order-2", m.GatewayConfig, "HKD", "10.00", "ALIPAY_HK")
	before = moneyLedger(m.ClientID)
	r2 := newRefund(ns, "back", "order-2", "HKD", "4.00")
	create(ctx, t, r2)
	r2 = waitOp(ctx, t, r2, v1.OperationFailed)
	if c := condition(r2.Status.Conditions, v1.ConditionReady); c.Reason != v1.ReasonIdentityConflict {
		t.Fatalf("refund Ready %+v", c)
	}
	if after := moneyLedger(m.ClientID); after != before {
		t.Fatalf("money moved:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if q = get(ctx, t, q); q.Status.Amounts.Refunded != nil {
		t.Fatalf("payment order-2 refunded %+v", q.Status.Amounts.Refunded)
	}
}

// conflicting creates p, whose name the gateway holds with other
// parameters, and waits for it to fail with IdentityConflict, its message
// naming what the gateway holds (held) and telling to use a new name.
func conflicting(ctx context.Context, t *testing.T, p *v1.Payment, held string) *v1.Payment {
	t.Helper()
	create(ctx, t, p)
	p = waitPhase(ctx, t, p, v1.PaymentFailed)
	ready := condition(p.Status.Conditions, v1.ConditionReady)
	if ready.Reason != v1.ReasonIdentityConflict || !strings.Contains(ready.Message, held) || !strings.Contains(ready.Message, "new name") {
		t.Fatalf("Ready %+v", ready)
	}
	return p
}

// TestLegacyIDKept: an object whose status records an id of the previous
// (UID-derived) scheme keeps it after the upgrade.
func TestLegacyIDKept(t *testing.T) {
	ctx := context.Background()
	ns := fmt.Sprintf("t%d", nsSeq.Add(1))
	if err := sys.Env.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	gwc := "m-" + ns
	// The payment exists before its GatewayConfig: the operator waits and
	// sends nothing, as an operator that was down would.
	p := walletPayment(ns, "old", gwc, "HKD", "5.00", "ALIPAY_HK")
	create(ctx, t, p)
	testenv.Eventually(t, timeout, "GatewayNotReady", func() (bool, string) {
		p = get(ctx, t, p)
		c := condition(p.Status.Conditions, v1.ConditionSynced)
		return c.Reason == v1.ReasonGatewayNotReady, c.Reason
	})
	legacy, err := ids.LegacyPaymentRequestID(p.UID)
	if err != nil {
		t.Fatal(err)
	}
	// What the previous release recorded before its pay call.
	updatePaymentStatus(ctx, t, p, func(p *v1.Payment) error { p.Status.PaymentRequestID = legacy; return nil })
	m, err := sys.AddMerchant(ctx, gwc, ns, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Wake the payment now rather than at its next GatewayNotReady retry.
	p = get(ctx, t, p)
	p.Annotations = map[string]string{"test.cashier-operator.io/poke": "1"}
	if err := k8s.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	p = waitPhase(ctx, t, p, v1.PaymentProcessing)
	if p.Status.PaymentRequestID != legacy {
		t.Fatalf("paymentRequestId %s, want the recorded %s", p.Status.PaymentRequestID, legacy)
	}
	l := sys.Sim.Ledger(m.ClientID)
	if l.Request("payment", legacy).Operations != 1 || l.Request("payment", ids.Derived(ids.KindNamePayment, "", ns, "old")).Calls != 0 {
		t.Fatalf("ledger %+v", l.Requests)
	}
}

// TestIdentityScopeSeparatesClusters: two GatewayConfigs of one merchant
// with different identity scopes derive different ids for the same
// manifest, so two clusters sharing a merchant never adopt each other's
// payments.
func TestIdentityScopeSeparatesClusters(t *testing.T) {
	ctx, ns, m := setup(t)
	staging, err := sys.AddMerchant(ctx, "stg-"+ns, ns, "", func(s *v1.GatewayConfigSpec) { s.IdentityScope = "staging" })
	if err != nil {
		t.Fatal(err)
	}
	a := walletPayment(ns, "same", m.GatewayConfig, "HKD", "1.00", "ALIPAY_HK")
	create(ctx, t, a)
	a = waitPhase(ctx, t, a, v1.PaymentProcessing)
	deleteAndWait(ctx, t, a)
	b := walletPayment(ns, "same", staging.GatewayConfig, "HKD", "1.00", "ALIPAY_HK")
	create(ctx, t, b)
	b = waitPhase(ctx, t, b, v1.PaymentProcessing)
	if want := ids.Derived(ids.KindNamePayment, "staging", ns, "same"); b.Status.PaymentRequestID != want || b.Status.PaymentRequestID == a.Status.PaymentRequestID {
		t.Fatalf("scoped id %s (unscoped %s), want %s", b.Status.PaymentRequestID, a.Status.PaymentRequestID, want)
	}
	if c := condition(b.Status.Conditions, v1.ConditionAdopted); c.Status == metav1.ConditionTrue {
		t.Fatalf("adopted across scopes: %+v", c)
	}
}

// TestRestoreFromGit: a mixed set settles; every object is deleted and the
// same manifests applied again, as a restore of a cluster from git does.
// Nothing moves at the gateway, and every phase and amount comes back.
func TestRestoreFromGit(t *testing.T) {
	ctx, ns, m := setup(t)
	wallet := paidWallet(ctx, t, ns, "wallet", m.GatewayConfig, "HKD", "50.00", "ALIPAY_HK")
	card := authorized(ctx, t, ns, "card", m.GatewayConfig)
	cn := paidWallet(ctx, t, ns, "cn", m.GatewayConfig, "CNY", "80.00", "ALIPAY_CN")
	failed := walletPayment(ns, "declined", m.GatewayConfig, "PHP", "150.00", "GCASH")
	cancelled := walletPayment(ns, "cancelled", m.GatewayConfig, "HKD", "9.00", "ALIPAY_HK")
	disputed := paidWallet(ctx, t, ns, "disputed", m.GatewayConfig, "HKD", "20.00", "ALIPAY_HK")
	create(ctx, t, failed, cancelled)
	failed = waitPhase(ctx, t, failed, v1.PaymentProcessing)
	if err := sys.Sim.Decline(failed.Status.PaymentID, ""); err != nil {
		t.Fatal(err)
	}
	cancelled = waitPhase(ctx, t, cancelled, v1.PaymentProcessing)
	cancelled.Spec.Cancel = true
	if err := k8s.Update(ctx, cancelled); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Sim.OpenDispute(disputed.Status.PaymentID, gatewaysim.DisputeSpec{}); err != nil {
		t.Fatal(err)
	}
	ops := []client.Object{
		newCapture(ns, "card-c1", "card", "20.00"), newRefund(ns, "card-r1", "card", "USD", "5.00"),
		newRefund(ns, "wallet-r1", "wallet", "HKD", "10.00"), newDeclaration(ns, "cn-d1", "cn", "80.00", "ZONGSHU"),
		newRefund(ns, "disputed-r1", "disputed", "HKD", "2.00"),
	}
	create(ctx, t, ops...)
	all := []client.Object{wallet, card, cn, failed, cancelled, disputed}
	all = append(all, ops...)
	want := settled(ctx, t, all)
	before := moneyLedger(m.ClientID)
	t.Logf("settled:\n%s", strings.Join(want, "\n"))

	restored := reapply(ctx, t, all...)
	got := settled(ctx, t, restored)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("restored state differs:\nbefore:\n%s\nafter:\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
	if after := moneyLedger(m.ClientID); after != before {
		t.Fatalf("the restore moved money:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// settled waits until every object is where the restore test expects it
// (final, or Processing for the declaration, or Blocked for the refund of
// the disputed payment) and describes each: kind, name, phase, amounts.
func settled(ctx context.Context, t *testing.T, objs []client.Object) []string {
	t.Helper()
	var out []string
	for _, o := range objs {
		var line string
		testenv.Eventually(t, timeout, o.GetName()+" to settle", func() (bool, string) {
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
				return false, err.Error()
			}
			switch x := o.(type) {
			case *v1.Payment:
				line = fmt.Sprintf("Payment %s %s %s", x.Name, x.Status.Phase, amountsString(x.Status.Amounts))
				want := map[string]v1.PaymentPhase{"declined": v1.PaymentFailed, "cancelled": v1.PaymentCancelled, "card": v1.PaymentAuthorized}[x.Name]
				if want == "" {
					want = v1.PaymentSucceeded
				}
				return x.Status.Phase == want && (x.Name != "card" || moneyIs(x.Status.Amounts.Refunded, "5.00")) &&
					(x.Name != "wallet" || moneyIs(x.Status.Amounts.Refunded, "10.00")), line
			case *v1.CustomsDeclaration:
				line = fmt.Sprintf("CustomsDeclaration %s %s", x.Name, x.Status.Phase)
				return x.Status.Phase == v1.OperationProcessing, line
			default:
				st := opStatus(o)
				blocked := condition(st.Conditions, v1.ConditionBlocked)
				line = fmt.Sprintf("%T %s %s blocked=%s", o, o.GetName(), st.Phase, blocked.Reason)
				if o.GetName() == "disputed-r1" {
					return blocked.Reason == v1.ReasonDisputeOpen, line
				}
				return st.Phase == v1.OperationSucceeded, line
			}
		})
		out = append(out, line)
	}
	return out
}

// gatewayLog is a reverse proxy in front of the simulator that records,
// for every API call through it, the API (the path's last element) and the
// payment ids its body carried: which calls the operator made, in order.
type gatewayLog struct {
	mu    sync.Mutex
	calls []loggedCall
	url   string
}

type loggedCall struct{ api, paymentRequestID, paymentID string }

// logGateway starts a gatewayLog in front of sys.SimURL for the test.
func logGateway(t *testing.T) *gatewayLog {
	t.Helper()
	target, err := url.Parse(sys.SimURL)
	if err != nil {
		t.Fatal(err)
	}
	g := &gatewayLog{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var ids struct {
			PaymentRequestID string `json:"paymentRequestId"`
			PaymentID        string `json:"paymentId"`
		}
		_ = json.Unmarshal(body, &ids)
		g.mu.Lock()
		g.calls = append(g.calls, loggedCall{api: path.Base(r.URL.Path), paymentRequestID: ids.PaymentRequestID, paymentID: ids.PaymentID})
		g.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	g.url = srv.URL
	return g
}

// mark is the position of the next call, for since.
func (g *gatewayLog) mark() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.calls)
}

// since lists the APIs called for payment p (by its request id or payment
// id) from position from on, in order.
func (g *gatewayLog) since(from int, p *v1.Payment) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var apis []string
	for _, c := range g.calls[from:] {
		if (c.paymentRequestID != "" && c.paymentRequestID == p.Status.PaymentRequestID) ||
			(c.paymentID != "" && c.paymentID == p.Status.PaymentID) {
			apis = append(apis, c.api)
		}
	}
	return apis
}

// expectPaidFirst fails unless the first of calls is a pay and there is
// exactly one: no inquiry before the pay, no second pay.
func expectPaidFirst(t *testing.T, name string, calls []string) {
	t.Helper()
	if len(calls) == 0 || calls[0] != "pay" || slices.Index(calls[1:], "pay") >= 0 {
		t.Fatalf("%s: gateway calls %v, want one pay, first", name, calls)
	}
}

// TestReappliedWalletsPayWithoutAsking: a wallet payment's pay call is its
// own question to the gateway (pay is idempotent on paymentRequestId and
// answers a repeat with what it holds), so no payment, new or re-created,
// inquires before it pays. A new one pays once; a re-created one whose
// original succeeded or was cancelled adopts that, and one re-created with
// another amount is an IdentityConflict; nothing moves again.
func TestReappliedWalletsPayWithoutAsking(t *testing.T) {
	ctx, ns, _ := setup(t)
	gw := logGateway(t)
	m, err := sys.AddMerchant(ctx, "logged-"+ns, ns, "", func(s *v1.GatewayConfigSpec) { s.Endpoint = gw.url })
	if err != nil {
		t.Fatal(err)
	}
	paid := walletPayment(ns, "paid", m.GatewayConfig, "HKD", "12.00", "ALIPAY_HK")
	cancelled := walletPayment(ns, "cancelled", m.GatewayConfig, "HKD", "9.00", "ALIPAY_HK")
	cancelled.Spec.DeletionPolicy = v1.DeletionCancel
	create(ctx, t, paid, cancelled)
	for _, p := range []*v1.Payment{paid, cancelled} {
		p = waitPhase(ctx, t, p, v1.PaymentProcessing)
		expectPaidFirst(t, "new "+p.Name, gw.since(0, p))
	}
	if err := sys.Sim.Complete(paid.Status.PaymentID); err != nil {
		t.Fatal(err)
	}
	paid = waitPhase(ctx, t, paid, v1.PaymentSucceeded)
	// Deleted, the unpaid one is cancelled at the gateway (deletionPolicy
	// Cancel); then git applies both manifests again.
	again := []*v1.Payment{manifest(paid), manifest(cancelled)}
	deleteAndWait(ctx, t, paid, cancelled)
	if l, _ := sys.Sim.Ledger(m.ClientID).Payment(cancelled.Status.PaymentID); l.Status != gateway.PaymentStatusCancelled {
		t.Fatalf("gateway payment %+v, want CANCELLED", l)
	}
	before, from := moneyLedger(m.ClientID), gw.mark()
	create(ctx, t, again[0], again[1])
	paid = waitPhase(ctx, t, again[0], v1.PaymentSucceeded)
	cancelled = waitPhase(ctx, t, again[1], v1.PaymentCancelled)
	for _, p := range again {
		expectAdopted(t, p, p.Status.Conditions)
		expectPaidFirst(t, "re-created "+p.Name, gw.since(from, p))
	}
	if c := condition(cancelled.Status.Conditions, v1.ConditionAdopted); !strings.Contains(c.Message, "new name") {
		t.Fatalf("Adopted condition does not say how to charge again: %q", c.Message)
	}

	deleteAndWait(ctx, t, paid)
	from = gw.mark()
	other := conflicting(ctx, t, walletPayment(ns, "paid", m.GatewayConfig, "HKD", "13.00", "ALIPAY_HK"), "amount 1200 HKD")
	expectPaidFirst(t, "re-created with another amount", gw.since(from, other))
	if other.Status.PaymentID != "" || other.Status.Amounts.Captured != nil {
		t.Fatalf("the conflicting payment took the other's status: %+v", other.Status)
	}
	if after := moneyLedger(m.ClientID); after != before {
		t.Fatalf("money moved again:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
