// Package retention_test checks retention, the archive and restore end to
// end: a real kube-apiserver + etcd (envtest), alipay-sim over signed HTTP,
// the manager's controllers, and a real PostgreSQL started from the
// machine's binaries, with faults injected into the database.
package retention_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers"
	"github.com/cashier-operator/cashier-operator/controllers/retention"
	"github.com/cashier-operator/cashier-operator/internal/archive"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
	"github.com/cashier-operator/cashier-operator/internal/pgtest"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
)

var (
	sys *testenv.System
	k8s client.Client
	pg  *pgtest.Server
)

// timeout is generous: the machine running the tests may be shared.
const timeout = 60 * time.Second

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	if pg, err = pgtest.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = pg.Stop() }()
	env, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	sys, err = testenv.StartSystem(env, testenv.SystemOptions{Sim: gatewaysim.Options{Seed: 1},
		Controllers: controllers.Options{Retention: retention.Options{RetryInterval: 200 * time.Millisecond, RestoreTTL: restoreTTL}}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer sys.Stop()
	k8s = env.Client
	stop, err := startReceiver(ctx, env)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	return m.Run()
}

var seq atomic.Int64

// fixture is one test's namespace, archive database and merchant with
// retention on.
type fixture struct {
	ctx     context.Context
	ns      string
	gwc     string
	archive *archive.Archive
}

// setup makes a namespace, a database with its Secret, and a merchant
// whose GatewayConfig retains finished payments for retainFor.
func setup(t *testing.T, retainFor time.Duration) *fixture {
	t.Helper()
	ctx := context.Background()
	n := seq.Add(1)
	f := &fixture{ctx: ctx, ns: fmt.Sprintf("r%d", n)}
	if err := sys.Env.CreateNamespace(ctx, f.ns); err != nil {
		t.Fatal(err)
	}
	db := fmt.Sprintf("retention_%d", n)
	if err := pg.CreateDatabase(ctx, db); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("postgres://%s@%s:%d/%s", pgtest.User, pg.Host, pg.Port, db)
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "archive"}, StringData: map[string]string{
		v1.ArchiveSecretKeyURL: url, v1.ArchiveSecretKeyPassword: pgtest.Password,
	}}
	if err := k8s.Create(ctx, sec); err != nil {
		t.Fatal(err)
	}
	m, err := sys.AddMerchant(ctx, "m-"+f.ns, f.ns, "", func(s *v1.GatewayConfigSpec) {
		s.Retention = &v1.Retention{RetainFor: metav1.Duration{Duration: retainFor},
			Archive: v1.ArchiveConnection{SecretRef: v1.NamespacedSecretReference{Namespace: f.ns, Name: sec.Name}, SSLMode: v1.ArchiveSSLDisable}}
	})
	if err != nil {
		t.Fatal(err)
	}
	f.gwc = m.GatewayConfig
	cfg, err := archive.ConfigFromSecret(&corev1.Secret{Data: map[string][]byte{
		v1.ArchiveSecretKeyURL: []byte(url), v1.ArchiveSecretKeyPassword: []byte(pgtest.Password)}}, v1.ArchiveSSLDisable)
	if err != nil {
		t.Fatal(err)
	}
	if f.archive, err = archive.Open(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.archive.Close)
	return f
}

func (f *fixture) payment(name, value string) *v1.Payment {
	return &v1.Payment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: v1.PaymentSpec{GatewayRef: v1.GatewayReference{Name: f.gwc}, Amount: v1.Money{Currency: "HKD", Value: value},
			PaymentMethod: v1.PaymentMethod{Type: "ALIPAY_HK"}, Env: v1.TerminalEnv{TerminalType: "WEB"},
			RedirectURL: "https://shop.example.com/done"}}
}

func (f *fixture) refund(name, payment, value string) *v1.Refund {
	return &v1.Refund{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: v1.RefundSpec{PaymentRef: v1.LocalObjectReference{Name: payment}, Amount: v1.Money{Currency: "HKD", Value: value}}}
}

func create(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := k8s.Create(context.Background(), o); err != nil {
			t.Fatalf("create %s: %v", o.GetName(), err)
		}
	}
}

// paid creates a wallet payment and has the simulator complete it. With a
// retention period of a second, retention may archive and delete the payment
// before the test reads it Succeeded (managedFields times are whole seconds,
// so the window can be near zero): then p is read back from the archive.
// A test that adds an operation to the payment afterwards uses held.
func (f *fixture) paid(t *testing.T, p *v1.Payment) *v1.Payment {
	t.Helper()
	create(t, p)
	waitFor(t, p, "Processing", func() bool { return p.Status.Phase == v1.PaymentProcessing })
	if err := sys.Sim.Complete(p.Status.PaymentID); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, p.Name+" Succeeded (in the cluster or the archive)", func() (bool, string) {
		err := k8s.Get(context.Background(), client.ObjectKeyFromObject(p), p)
		if apierrors.IsNotFound(err) {
			return f.readArchived(p)
		}
		if err != nil {
			return false, err.Error()
		}
		return p.Status.Phase == v1.PaymentSucceeded, "phase=" + phase(p)
	})
	return p
}

// readArchived decodes the archived row of a payment gone from the cluster
// into p and reports whether it ended Succeeded.
func (f *fixture) readArchived(p *v1.Payment) (bool, string) {
	recs, err := f.archive.Find(f.ctx, archive.KindPayment, p.Namespace, p.Name)
	if err != nil || len(recs) == 0 {
		return false, fmt.Sprintf("not in the cluster; archive: %d rows, %v", len(recs), err)
	}
	if err := recs[0].Decode(p); err != nil {
		return false, err.Error()
	}
	return p.Status.Phase == v1.PaymentSucceeded, "archived with phase=" + phase(p)
}

// held is paid for a payment annotated Keep, so that retention leaves it
// while the test adds operations; release lets retention have it.
func (f *fixture) held(t *testing.T, p *v1.Payment) *v1.Payment {
	t.Helper()
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	p.Annotations[v1.RetainForAnnotation] = v1.RetainKeep
	return f.paid(t, p)
}

// release removes the Keep annotation held added.
func (f *fixture) release(t *testing.T, p *v1.Payment) {
	t.Helper()
	patch := client.MergeFrom(p.DeepCopy())
	delete(p.Annotations, v1.RetainForAnnotation)
	if err := k8s.Patch(f.ctx, p, patch); err != nil {
		t.Fatalf("release %s: %v", p.Name, err)
	}
}

func phase(o client.Object) string {
	switch t := o.(type) {
	case *v1.Payment:
		return string(t.Status.Phase)
	case *v1.Refund:
		return string(t.Status.Phase)
	}
	return ""
}

// waitFor re-reads o until cond holds.
func waitFor(t *testing.T, o client.Object, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, timeout, o.GetName()+" "+what, func() (bool, string) {
		if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(o), o); err != nil {
			return false, err.Error()
		}
		return cond(), "phase=" + phase(o)
	})
}

// waitGone waits until every object is deleted from the cluster.
func waitGone(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		testenv.Eventually(t, timeout, o.GetName()+" deleted", func() (bool, string) {
			cur := o.DeepCopyObject().(client.Object)
			err := k8s.Get(context.Background(), client.ObjectKeyFromObject(o), cur)
			if err != nil {
				return apierrors.IsNotFound(err), fmt.Sprintf("get: %v", err)
			}
			last := cur.GetCreationTimestamp().Time
			for _, mf := range cur.GetManagedFields() {
				if mf.Time != nil && mf.Time.After(last) {
					last = mf.Time.Time
				}
			}
			return false, fmt.Sprintf("still there: phase %s, last written %s ago", phase(cur), time.Since(last).Round(time.Second))
		})
	}
}

// exists reports whether the object is in the cluster.
func exists(t *testing.T, o client.Object) bool {
	t.Helper()
	err := k8s.Get(context.Background(), client.ObjectKeyFromObject(o), o.DeepCopyObject().(client.Object))
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

// story is the archived story of a payment as "Kind/name:phase" strings.
func (f *fixture) story(t *testing.T, payment string) []string {
	t.Helper()
	recs, err := f.archive.Story(f.ctx, f.ns, payment)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.Kind+"/"+r.Name+":"+r.Phase)
	}
	return out
}

func (f *fixture) gatewayConfig(t *testing.T) *v1.GatewayConfig {
	t.Helper()
	var g v1.GatewayConfig
	if err := k8s.Get(f.ctx, client.ObjectKey{Name: f.gwc}, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

// archiveReady waits for the GatewayConfig's ArchiveReady condition.
func (f *fixture) archiveReady(t *testing.T, status metav1.ConditionStatus, reason string) {
	t.Helper()
	testenv.Eventually(t, timeout, fmt.Sprintf("GatewayConfig %s ArchiveReady=%s %s", f.gwc, status, reason), func() (bool, string) {
		c := meta.FindStatusCondition(f.gatewayConfig(t).Status.Conditions, v1.ConditionArchiveReady)
		if c == nil {
			return false, "no ArchiveReady condition"
		}
		return c.Status == status && c.Reason == reason, fmt.Sprintf("%s %s: %s", c.Status, c.Reason, c.Message)
	})
}

// event waits for an event with reason about the object named regarding.
func event(t *testing.T, ns, regarding, reason string) eventsv1.Event {
	t.Helper()
	var found eventsv1.Event
	testenv.Eventually(t, timeout, fmt.Sprintf("event %s about %s", reason, regarding), func() (bool, string) {
		var list eventsv1.EventList
		if err := k8s.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			return false, err.Error()
		}
		for _, e := range list.Items {
			if e.Reason == reason && e.Regarding.Name == regarding {
				found = e
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events, none %s", len(list.Items), reason)
	})
	return found
}

// metric reads a manager metric from controller-runtime's registry.
func metric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	return gathered(t, crmetrics.Registry, name, labels)
}

// gathered sums the series of a counter or gauge in g whose labels match.
func gathered(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					continue next
				}
			}
			if g := m.GetGauge(); g != nil {
				total += g.GetValue()
			} else {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

// gatewayOperations counts what the simulator did for a request id.
func gatewayOperations(requestID string) int {
	n := 0
	for _, r := range sys.Sim.Ledger().Requests {
		if r.RequestID == requestID {
			n += r.Operations
		}
	}
	return n
}

// TestRetentionArchivesThenDeletes: a finished payment and its refund go to
// the archive, then leave the cluster; a payment still in progress, one
// annotated Keep, and one with an operation in flight stay.
func TestRetentionArchivesThenDeletes(t *testing.T) {
	f := setup(t, time.Second)
	p := f.held(t, f.payment("order-1", "88.00"))
	r := f.refund("order-1-pair", "order-1", "44.00")
	create(t, r)
	// The controllers have seen the refund before retention may look again.
	waitFor(t, r, "observed", func() bool { return r.Status.Phase != "" })
	f.release(t, p)
	waitGone(t, r, p)
	if got, want := strings.Join(f.story(t, "order-1"), " "), "Payment/order-1:Succeeded Refund/order-1-pair:Succeeded"; got != want {
		t.Fatalf("archived story %q, want %q", got, want)
	}
	recs, err := f.archive.Find(f.ctx, archive.KindPayment, f.ns, "order-1")
	if err != nil || len(recs) != 1 {
		t.Fatalf("find: %v %v", recs, err)
	}
	if rec := recs[0]; rec.Captured != "88.00" || rec.Refunded != "44.00" || rec.PaymentID != p.Status.PaymentID ||
		rec.RequestID != p.Status.PaymentRequestID || rec.MerchantClientID != f.gatewayConfig(t).Status.ClientID {
		t.Fatalf("archived payment row: %+v", rec)
	}
	f.archiveReady(t, metav1.ConditionTrue, v1.ReasonAvailable)

	pending := f.payment("order-2", "10.00")
	kept := f.payment("order-3", "10.00")
	kept.Annotations = map[string]string{v1.RetainForAnnotation: v1.RetainKeep}
	create(t, pending)
	f.paid(t, kept)
	waitFor(t, pending, "Processing", func() bool { return pending.Status.Phase == v1.PaymentProcessing })
	// A later finished payment is archived: by then retention has looked at
	// the earlier ones and left them.
	later := f.paid(t, f.payment("order-4", "10.00"))
	waitGone(t, later)
	if !exists(t, pending) || !exists(t, kept) {
		t.Fatalf("pending payment kept: %v; payment annotated Keep kept: %v; want both", exists(t, pending), exists(t, kept))
	}
	if n, _ := f.archive.Count(f.ctx, archive.KindPayment); n != 2 {
		t.Fatalf("archived payments = %d, want 2 (order-1, order-4)", n)
	}
}

// TestArchiveDownPausesRetention: with the database down nothing is deleted,
// retention says so (condition, event, metric), and it resumes on its own.
func TestArchiveDownPausesRetention(t *testing.T) {
	f := setup(t, time.Second)
	// Open the archive once so the outage hits a live pool, not only new connections.
	warm := f.paid(t, f.payment("warm", "1.00"))
	waitGone(t, warm)
	if err := pg.Pause(f.ctx); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = pg.Resume(f.ctx)
		}
	}()
	p := f.paid(t, f.payment("order-1", "20.00"))
	r := f.refund("order-1-all", "order-1", "20.00")
	create(t, r)
	waitFor(t, r, "Succeeded", func() bool { return r.Status.Phase == v1.OperationSucceeded })
	f.archiveReady(t, metav1.ConditionFalse, v1.ReasonArchiveUnavailable)
	ev := event(t, "default", f.gwc, retention.EventRetentionPaused)
	if !strings.Contains(ev.Note, "nothing is deleted") {
		t.Fatalf("RetentionPaused event says %q", ev.Note)
	}
	if v := metric(t, "cashier_retention_paused", map[string]string{"gatewayconfig": f.gwc}); v != 1 {
		t.Fatalf("cashier_retention_paused = %v, want 1", v)
	}
	if !exists(t, p) || !exists(t, r) {
		t.Fatal("retention deleted objects while the archive was down")
	}
	if err := pg.Resume(f.ctx); err != nil {
		t.Fatal(err)
	}
	resumed = true
	waitGone(t, r, p)
	f.archiveReady(t, metav1.ConditionTrue, v1.ReasonAvailable)
	event(t, "default", f.gwc, retention.EventRetentionResumed)
	if got := f.story(t, "order-1"); len(got) != 2 {
		t.Fatalf("archived after the outage: %v, want the payment and its refund", got)
	}
	if v := metric(t, "cashier_retention_paused", map[string]string{"gatewayconfig": f.gwc}); v != 0 {
		t.Fatalf("cashier_retention_paused = %v after resuming, want 0", v)
	}
}

// archived decodes the newest archived object of a kind and name.
func (f *fixture) archived(t *testing.T, kind, name string, obj client.Object) archive.Record {
	t.Helper()
	recs, err := f.archive.Find(f.ctx, kind, f.ns, name)
	if err != nil || len(recs) == 0 {
		t.Fatalf("archived %s %s: %v (%d rows)", kind, name, err, len(recs))
	}
	if err := recs[0].Decode(obj); err != nil {
		t.Fatal(err)
	}
	return recs[0]
}

// TestRefundRestoresArchivedPayment: a Refund naming an archived payment
// brings it back (an import of the same gateway payment, status re-observed
// by inquiry), refunds up to what is left, and the limit counts the archived
// refund: nothing is paid again and no refund exceeds the payment.
func TestRefundRestoresArchivedPayment(t *testing.T) {
	f := setup(t, time.Second)
	p := f.held(t, f.payment("order-1", "10.00"))
	payID, payReq := p.Status.PaymentID, p.Status.PaymentRequestID
	first := f.refund("order-1-first", "order-1", "6.00")
	create(t, first)
	// The controllers have seen the refund before retention may look again.
	waitFor(t, first, "observed", func() bool { return first.Status.Phase != "" })
	f.release(t, p)
	waitGone(t, first, p)
	restored := metric(t, "cashier_archive_restored_total", nil)

	second := f.refund("order-1-second", "order-1", "4.00")
	create(t, second)
	event(t, f.ns, second.Name, retention.EventRestored)
	// Once final, the refund and the restored payment are archived again:
	// the archive tells how they ended, whenever the test looks.
	waitGone(t, second)
	var sr v1.Refund
	if rec := f.archived(t, archive.KindRefund, second.Name, &sr); rec.Phase != string(v1.OperationSucceeded) || sr.Status.PaymentID != payID {
		t.Fatalf("refund of the restored payment: phase %s paymentId %s, want Succeeded on %s", rec.Phase, sr.Status.PaymentID, payID)
	}

	third := f.refund("order-1-third", "order-1", "0.01")
	create(t, third)
	waitGone(t, third)
	var tr v1.Refund
	f.archived(t, archive.KindRefund, third.Name, &tr)
	ready := meta.FindStatusCondition(tr.Status.Conditions, v1.ConditionReady)
	want := fmt.Sprintf("refunds of payment %s/order-1 would total HKD 10.01 but only HKD 10.00 was paid (HKD 10.00 already refunded or in flight)", f.ns)
	if tr.Status.Phase != v1.OperationFailed || ready == nil || ready.Reason != v1.ReasonLimitExceeded || !strings.HasSuffix(ready.Message, want) {
		t.Fatalf("refund beyond the payment: phase %s, Ready %+v; want Failed LimitExceeded %q", tr.Status.Phase, ready, want)
	}

	var rp v1.Payment
	f.archived(t, archive.KindPayment, "order-1", &rp)
	if rp.Annotations[v1.RestoredAnnotation] == "" || rp.Spec.ManagementPolicy != v1.ManagementObserve || rp.Spec.PaymentID != payID ||
		rp.Status.Phase != v1.PaymentSucceeded || rp.Status.Amounts.Refunded == nil || rp.Status.Amounts.Refunded.Value != "10.00" {
		t.Fatalf("restored payment: annotations %v policy %s paymentId %s phase %s refunded %v",
			rp.Annotations, rp.Spec.ManagementPolicy, rp.Spec.PaymentID, rp.Status.Phase, rp.Status.Amounts.Refunded)
	}
	if n := metric(t, "cashier_archive_restored_total", nil) - restored; n != 2 {
		t.Fatalf("payments restored = %v, want 2 (one per refund that named it)", n)
	}
	if n := gatewayOperations(payReq); n != 1 {
		t.Fatalf("gateway operations for the pay request %s = %d, want 1: restoring must never pay again", payReq, n)
	}
	if n := gatewayOperations(sr.Status.RequestID); n != 1 {
		t.Fatalf("gateway operations for the second refund = %d, want 1", n)
	}
	if view, _ := sys.Sim.Payment(payID); view.Ledger.Refunded != 1000 {
		t.Fatalf("simulator refunded %d minor units, want 1000", view.Ledger.Refunded)
	}
}

// TestArchivedButNotDeleted: the state a crash between archive and delete
// leaves (rows written, objects still there), met by a fresh manager,
// ends with the objects deleted and each row written once; archiving the
// same objects again is harmless.
func TestArchivedButNotDeleted(t *testing.T) {
	f := setup(t, time.Second)
	p := f.payment("order-1", "30.00")
	p.Annotations = map[string]string{v1.RetainForAnnotation: v1.RetainKeep}
	p = f.paid(t, p)
	r := f.refund("order-1-part", "order-1", "5.00")
	create(t, r)
	waitFor(t, r, "Succeeded", func() bool { return r.Status.Phase == v1.OperationSucceeded })
	clientID := f.gatewayConfig(t).Status.ClientID
	pr, err := archive.FromPayment(p, clientID)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := archive.FromOperation(r, clientID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.archive.Put(f.ctx, []archive.Record{pr, rr}); err != nil {
		t.Fatal(err)
	}
	if err := sys.RestartManager(); err != nil {
		t.Fatal(err)
	}
	// Let retention go on: it archives again (the same identities) and deletes.
	patch := client.MergeFrom(p.DeepCopy())
	delete(p.Annotations, v1.RetainForAnnotation)
	if err := k8s.Patch(f.ctx, p, patch); err != nil {
		t.Fatal(err)
	}
	waitGone(t, r, p)
	if err := f.archive.Put(f.ctx, []archive.Record{pr, rr}); err != nil {
		t.Fatal(err)
	}
	for kind, want := range map[string]int64{archive.KindPayment: 1, archive.KindRefund: 1} {
		if n, err := f.archive.Count(f.ctx, kind); err != nil || n != want {
			t.Fatalf("%s rows = %d (%v), want %d", kind, n, err, want)
		}
	}
	var ap v1.Payment
	if rec := f.archived(t, archive.KindPayment, "order-1", &ap); rec.Refunded != "5.00" || ap.Annotations[v1.RetainForAnnotation] != "" {
		t.Fatalf("the payment row is not the last state: refunded %q annotations %v", rec.Refunded, ap.Annotations)
	}
}

// TestArchiveSecretMissing: retention pointing at a Secret that does not
// exist pauses with a reason that says so, and deletes nothing.
func TestArchiveSecretMissing(t *testing.T) {
	f := setup(t, time.Second)
	m, err := sys.AddMerchant(f.ctx, "nosecret-"+f.ns, f.ns, "", func(s *v1.GatewayConfigSpec) {
		s.Retention = &v1.Retention{RetainFor: metav1.Duration{Duration: time.Second},
			Archive: v1.ArchiveConnection{SecretRef: v1.NamespacedSecretReference{Namespace: f.ns, Name: "no-such-secret"}}}
	})
	if err != nil {
		t.Fatal(err)
	}
	f.gwc = m.GatewayConfig
	p := f.paid(t, f.payment("order-1", "5.00"))
	f.archiveReady(t, metav1.ConditionFalse, v1.ReasonArchiveSecretInvalid)
	c := meta.FindStatusCondition(f.gatewayConfig(t).Status.Conditions, v1.ConditionArchiveReady)
	if !strings.Contains(c.Message, "no-such-secret") || !strings.Contains(c.Message, "nothing is deleted") {
		t.Fatalf("ArchiveReady message %q does not name the Secret", c.Message)
	}
	if !exists(t, p) {
		t.Fatal("retention deleted a payment it could not archive")
	}
}

// TestRestoreWithAnotherArchiveBroken: another merchant's archive that
// cannot be read (its Secret is missing) does not stop a restore from the
// archive that holds the payment.
func TestRestoreWithAnotherArchiveBroken(t *testing.T) {
	f := setup(t, time.Second)
	if _, err := sys.AddMerchant(f.ctx, "broken-"+f.ns, f.ns, "", func(s *v1.GatewayConfigSpec) {
		s.Retention = &v1.Retention{RetainFor: metav1.Duration{Duration: time.Second},
			Archive: v1.ArchiveConnection{SecretRef: v1.NamespacedSecretReference{Namespace: f.ns, Name: "no-such-secret"}}}
	}); err != nil {
		t.Fatal(err)
	}
	p := f.paid(t, f.payment("order-1", "10.00"))
	waitGone(t, p)
	r := f.refund("order-1-late", "order-1", "4.00")
	create(t, r)
	if ev := event(t, f.ns, r.Name, retention.EventRestored); ev.Type != corev1.EventTypeNormal {
		t.Fatalf("restore event %s: %s", ev.Type, ev.Note)
	}
	waitGone(t, r)
	var ar v1.Refund
	if rec := f.archived(t, archive.KindRefund, r.Name, &ar); rec.Phase != string(v1.OperationSucceeded) {
		t.Fatalf("refund of the restored payment ended %s", rec.Phase)
	}
}
