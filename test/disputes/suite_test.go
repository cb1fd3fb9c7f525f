package disputes

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/metrics"
	"github.com/cashier-operator/cashier-operator/internal/receiver"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
)

const (
	timeout = 20 * time.Second
	// alertWindow is the operator's DefenseDue window in these tests.
	alertWindow = 48 * time.Hour
)

var (
	sys  *testenv.System
	k8s  client.Client
	recv *testenv.Switch
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctrl.SetLogger(logr.Discard())
	env, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	k8s = env.Client
	// The simulator runs with the wall clock (the operator's), and tests
	// jump it forward past deadlines with Advance.
	sys, err = testenv.StartSystem(env, testenv.SystemOptions{
		Sim:         gatewaysim.Options{Clock: gatewaysim.NewScaledClock(time.Now().UTC().Truncate(time.Second), 1), Seed: 13},
		Controllers: controllers.Options{DisputeAlertWindow: alertWindow},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer sys.Stop()
	stop, err := startReceiver(env)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	return m.Run()
}

// startReceiver runs the notification-receiver on a manager of its own,
// as cmd/notification-receiver does, behind recv.
func startReceiver(env *testenv.Env) (func(), error) {
	r, err := testenv.StartReceiver(env, receiver.Options{Now: sys.Sim.Now, RefreshInterval: time.Nanosecond},
		func(h http.Handler) http.Handler { recv = testenv.NewSwitch(h); return recv })
	if err != nil {
		return nil, err
	}
	recvURL = r.URL
	return r.Stop, nil
}

var (
	recvURL string
	nsSeq   atomic.Int64
)

// merchant is one test's namespace and merchant.
type merchant struct {
	ctx context.Context
	ns  string
	m   *testenv.Merchant
}

func setup(t *testing.T) *merchant {
	t.Helper()
	ctx := context.Background()
	ns := fmt.Sprintf("d%d", nsSeq.Add(1))
	m, err := sys.AddTenant(ctx, ns, recvURL, nil)
	must(t, err)
	// The dashboard's notification URL: disputes go there.
	must(t, sys.Sim.SetNotifyURL(m.ClientID, recvURL+ids.RouteBase))
	return &merchant{ctx: ctx, ns: ns, m: m}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *merchant) quiesce(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, timeout)
	defer cancel()
	must(t, sys.Sim.Quiesce(ctx))
}

// paid creates a wallet Payment, pays it at the simulator and waits for Succeeded.
func (f *merchant) paid(t *testing.T, name, value string) *v1.Payment {
	t.Helper()
	p := &v1.Payment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: v1.PaymentSpec{GatewayRef: v1.GatewayReference{Name: f.m.GatewayConfig}, Amount: v1.Money{Currency: "HKD", Value: value},
			PaymentMethod: v1.PaymentMethod{Type: "ALIPAY_HK"}, Env: v1.TerminalEnv{TerminalType: "WEB"},
			RedirectURL: "https://shop.example.com/done"}}
	must(t, k8s.Create(f.ctx, p))
	waitFor(t, f, p, "payment "+name+" at the gateway", func() bool { return p.Status.PaymentID != "" })
	must(t, sys.Sim.Complete(p.Status.PaymentID))
	waitFor(t, f, p, "payment "+name+" Succeeded", func() bool { return p.Status.Phase == v1.PaymentSucceeded })
	return p
}

// waitFor re-reads obj until cond holds.
func waitFor[T client.Object](t *testing.T, f *merchant, obj T, what string, cond func() bool) T {
	t.Helper()
	return testenv.WaitFor(t, k8s, timeout, obj, what, cond, statusOf)
}

func statusOf(obj client.Object) any {
	switch o := obj.(type) {
	case *v1.Dispute:
		return o.Status
	case *v1.DisputeResponse:
		return o.Status
	case *v1.Payment:
		return o.Status.Phase
	case *v1.Refund:
		return o.Status
	}
	return obj
}

// openDispute opens a chargeback at the gateway and waits for its Dispute.
func (f *merchant) openDispute(t *testing.T, p *v1.Payment, spec gatewaysim.DisputeSpec) (string, *v1.Dispute) {
	t.Helper()
	id, err := sys.Sim.OpenDispute(p.Status.PaymentID, spec)
	must(t, err)
	d := &v1.Dispute{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: v1.DisputeName(p.Name, id)}}
	return id, waitFor(t, f, d, "Dispute "+d.Name+" Open", func() bool { return d.Status.Phase == v1.DisputePhaseOpen })
}

// evidence stores a PDF in a ConfigMap and returns the source for a response.
func (f *merchant) evidence(t *testing.T, name string, doc []byte) *v1.EvidenceSource {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns}, BinaryData: map[string][]byte{"defense.pdf": doc}}
	must(t, k8s.Create(f.ctx, cm))
	return &v1.EvidenceSource{ConfigMapRef: &v1.LocalObjectReference{Name: name}, Key: "defense.pdf"}
}

func (f *merchant) respond(t *testing.T, name string, d *v1.Dispute, action v1.DisputeAction, ev *v1.EvidenceSource) *v1.DisputeResponse {
	t.Helper()
	r := &v1.DisputeResponse{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: v1.DisputeResponseSpec{DisputeRef: v1.LocalObjectReference{Name: d.Name}, Action: action, Evidence: ev}}
	must(t, k8s.Create(f.ctx, r))
	return r
}

// waitResponse waits for a response's final phase and its Ready reason.
func (f *merchant) waitResponse(t *testing.T, r *v1.DisputeResponse, phase v1.OperationPhase, reason string) *v1.DisputeResponse {
	t.Helper()
	return waitFor(t, f, r, fmt.Sprintf("DisputeResponse %s %s (%s)", r.Name, phase, reason), func() bool {
		c := meta.FindStatusCondition(r.Status.Conditions, v1.ConditionReady)
		return r.Status.Phase == phase && c != nil && c.Reason == reason
	})
}

func (f *merchant) waitDispute(t *testing.T, d *v1.Dispute, phase v1.DisputePhase) *v1.Dispute {
	t.Helper()
	return waitFor(t, f, d, "Dispute "+d.Name+" "+string(phase), func() bool { return d.Status.Phase == phase })
}

func ledger(t *testing.T, id string) gatewaysim.DisputeEntry {
	t.Helper()
	e, err := sys.Sim.Dispute(id)
	must(t, err)
	return e
}

// post sends a request to the receiver as recorded (a replay), or with
// another body under the same headers (a forgery).

// waitEvent waits for an event with reason on the named object.
func waitEvent(t *testing.T, f *merchant, name, reason string) {
	t.Helper()
	testenv.Eventually(t, timeout, "event "+reason+" on "+name, func() (bool, string) {
		var list eventsv1.EventList
		if err := k8s.List(f.ctx, &list, client.InNamespace(f.ns)); err != nil {
			return false, err.Error()
		}
		for _, e := range list.Items {
			if e.Regarding.Name == name && e.Reason == reason {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events", len(list.Items))
	})
}

// defenseDueMetric scrapes cashier_dispute_defense_due for a namespace from
// a registry holding the operator's collector over the apiserver.
func defenseDueMetric(t *testing.T, ns string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	must(t, reg.Register(metrics.NewDefenseDueCollector(k8s)))
	mfs, err := reg.Gather()
	must(t, err)
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "cashier_dispute_defense_due" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "namespace" && l.GetValue() == ns {
					total += m.GetGauge().GetValue()
				}
			}
		}
	}
	return total
}

// sent is the last notification the receiver was sent whose body contains
// all of subs.
func sent(t *testing.T, subs ...string) testenv.Seen {
	t.Helper()
	s, ok := recv.Sent(subs...)
	if !ok {
		t.Fatalf("the receiver was sent nothing containing %q", subs)
	}
	return s
}
