package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// The engine's unit tests run Reconcile against controller-runtime's fake
// client, with apiserver failures injected through interceptor.Funcs, and
// the fake kind and gateway of decide_test.go. The end-to-end suites run
// the same engine against a real apiserver and alipay-sim.

const (
	testMinBackoff = time.Second
	testMaxBackoff = time.Minute
)

var (
	errAPI     = apierrors.NewInternalError(errors.New("etcd is down"))
	errTimeout = errors.New("inquiry timed out")
	errDerive  = errors.New("list refunds: cache not synced")
	since      = metav1.NewTime(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	deleted    = metav1.NewTime(time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC))
)

// refund is the object under test, changed by opts.
func refund(opts ...func(*v1.Refund)) *v1.Refund {
	r := &v1.Refund{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "r1", Generation: 1}}
	for _, o := range opts {
		o(r)
	}
	return r
}

func withStatus(st v1.OperationStatus) func(*v1.Refund) {
	return func(r *v1.Refund) { r.Status = st }
}

func withFinalizers(f ...string) func(*v1.Refund) {
	return func(r *v1.Refund) { r.Finalizers = f }
}

func beingDeleted(r *v1.Refund) { r.DeletionTimestamp = &deleted }

func forceForget(r *v1.Refund) {
	r.Annotations = map[string]string{ForceForgetAnnotation: "true"}
}

// synced is the Synced condition fakeKind.SetConditions writes.
func synced(err error) metav1.Condition {
	c := metav1.Condition{Type: v1.ConditionSynced, Status: metav1.ConditionTrue, Reason: v1.ReasonReconcileSuccess, LastTransitionTime: since}
	if err != nil {
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, v1.ReasonReconcileError, err.Error()
	}
	return c
}

func answer(res Result, err error) func() (Result, error) {
	return func() (Result, error) { return res, err }
}

func observed(obs Observation, err error) func() (Observation, error) {
	return func() (Observation, error) { return obs, err }
}

// calls counts the writes the engine sent to the apiserver.
type calls struct{ updates, statusWrites int }

// failWith makes the named apiserver call fail with its error (a write
// is counted first) while *on.
type failWith struct {
	get, update, statusWrite error
}

func (f failWith) funcs(n *calls, on *bool) interceptor.Funcs {
	return interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, o client.Object, opts ...client.GetOption) error {
			if f.get != nil && *on {
				return f.get
			}
			return c.Get(ctx, key, o, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.UpdateOption) error {
			n.updates++
			if f.update != nil && *on {
				return f.update
			}
			return c.Update(ctx, o, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, o client.Object, opts ...client.SubResourceUpdateOption) error {
			n.statusWrites++
			if f.statusWrite != nil && *on {
				return f.statusWrite
			}
			return c.SubResource(sub).Update(ctx, o, opts...)
		},
	}
}

// want is what one Reconcile of TestReconcile must leave.
type want struct {
	result ctrl.Result
	// err is matched with errors.Is; errContext must open its message.
	err        error
	errContext string
	// gateway is the calls made at the gateway.
	gateway []string
	calls   calls
	// status is the stored status afterwards; gone says the object is
	// deleted (its finalizer released).
	status     v1.OperationStatus
	gone       bool
	finalizers []string
	// events are "type reason".
	events []string
	// stepErrors is how many times Options.OnStepError was told.
	stepErrors int
	// failures is the object's count on the Backoff afterwards.
	failures int
}

func TestReconcile(t *testing.T) {
	processing := v1.OperationStatus{Phase: v1.OperationProcessing, Conditions: []metav1.Condition{synced(nil)}}
	created := func(o *v1.Refund) { o.Status.Phase = v1.OperationProcessing }
	toProcessing := answer(Result{Change: transition.Change{To: string(v1.OperationProcessing)}, RequeueAfter: 30 * time.Second}, nil)
	cancelled := answer(Result{Change: transition.Change{From: "Processing", To: "Cancelled"}}, nil)
	conflict := apierrors.NewConflict(schema.GroupResource{Group: v1.GroupVersion.Group, Resource: "refunds"}, "r1", errors.New("modified"))
	deleting := []func(*v1.Refund){beingDeleted, withFinalizers(Finalizer), withStatus(processing)}

	cases := []struct {
		name string
		// obj is stored before the reconcile; nil stores nothing.
		obj  *v1.Refund
		kind fakeKind
		gw   fakeGateway
		fail failWith
		// priorFailures are counted on the object's Backoff beforehand.
		priorFailures int
		want          want
	}{
		{name: "object gone: nothing to do, its count forgotten", priorFailures: 2,
			want: want{}},
		{name: "get fails: the error goes to the workqueue",
			obj: refund(), fail: failWith{get: errAPI},
			want: want{err: errAPI, errContext: "get Fake:"}},
		{name: "first create: status written once, count forgotten, no event (in flight)",
			obj: refund(), gw: fakeGateway{onCreate: created, create: toProcessing}, priorFailures: 2,
			want: want{result: ctrl.Result{RequeueAfter: 30 * time.Second}, gateway: []string{"observe", "create"},
				calls: calls{statusWrites: 1}, status: processing}},
		{name: "create observes a new object: one gateway call, written once",
			obj: refund(), gw: fakeGateway{probes: true, onCreate: created, createObserve: observed(Observation{
				Result: Result{Change: transition.Change{To: string(v1.OperationProcessing)}, RequeueAfter: 30 * time.Second}}, nil)},
			want: want{result: ctrl.Result{RequeueAfter: 30 * time.Second}, gateway: []string{"create"},
				calls: calls{statusWrites: 1}, status: processing}},
		{name: "create observes what the gateway held: Adopted condition and event, no observe",
			obj: refund(), gw: fakeGateway{probes: true, onCreate: func(o *v1.Refund) { o.Status.Phase = v1.OperationSucceeded }, createObserve: observed(Observation{Exists: true,
				Adopted: "ref1 is SUCCESS", Result: Result{Change: transition.Change{To: string(v1.OperationSucceeded)}}}, nil)},
			want: want{gateway: []string{"create"}, calls: calls{statusWrites: 1},
				status: v1.OperationStatus{Phase: v1.OperationSucceeded, Conditions: []metav1.Condition{
					{Type: v1.ConditionAdopted, Status: metav1.ConditionTrue, Reason: v1.ReasonAdopted, ObservedGeneration: 1,
						Message: "the gateway already had this object's identity (ref1 is SUCCESS); status was rebuilt from the gateway and nothing was done again"},
					synced(nil),
				}},
				events: []string{"Normal Adopted", "Normal Succeeded"}}},
		{name: "nothing changed: no status write",
			obj: refund(withStatus(processing)), kind: fakeKind{submitted: true},
			gw:   fakeGateway{observe: observed(Observation{Exists: true, Result: Result{RequeueAfter: 30 * time.Second}}, nil)},
			want: want{result: ctrl.Result{RequeueAfter: 30 * time.Second}, gateway: []string{"observe"}, status: processing}},
		{name: "conflict on the status write: short requeue, no error, no event",
			obj: refund(), gw: fakeGateway{onCreate: created, create: toProcessing}, fail: failWith{statusWrite: conflict},
			want: want{result: ctrl.Result{RequeueAfter: staleCacheWait}, gateway: []string{"observe", "create"},
				calls: calls{statusWrites: 1}}},
		{name: "status write fails: the error goes to the workqueue, no event",
			obj: refund(), gw: fakeGateway{onCreate: created, create: toProcessing}, fail: failWith{statusWrite: errAPI},
			want: want{err: errAPI, errContext: "write Fake status:", gateway: []string{"observe", "create"},
				calls: calls{statusWrites: 1}}},
		{name: "finalizer added before the gateway step",
			obj: refund(), kind: fakeKind{needsFinalizer: true}, gw: fakeGateway{onCreate: created, create: toProcessing},
			want: want{result: ctrl.Result{RequeueAfter: 30 * time.Second}, gateway: []string{"observe", "create"},
				calls: calls{updates: 1, statusWrites: 1}, status: processing, finalizers: []string{Finalizer}}},
		{name: "finalizer add fails: no gateway call",
			obj: refund(), kind: fakeKind{needsFinalizer: true}, fail: failWith{update: errAPI},
			want: want{err: errAPI, errContext: "add finalizer:", calls: calls{updates: 1}}},
		{name: "Derive fails: wrapped, no gateway call, no write",
			obj: refund(), kind: fakeKind{derive: func(*v1.Refund) error { return errDerive }},
			want: want{err: errDerive, errContext: "derive Fake status:"}},
		{name: "Derive's change is written with the step's",
			obj: refund(withStatus(processing)), kind: fakeKind{submitted: true, derive: func(o *v1.Refund) error {
				o.Status.PaymentID = "pay-1"
				return nil
			}}, gw: fakeGateway{observe: observed(Observation{Exists: true}, nil)},
			want: want{gateway: []string{"observe"}, calls: calls{statusWrites: 1},
				status: v1.OperationStatus{Phase: v1.OperationProcessing, PaymentID: "pay-1", Conditions: []metav1.Condition{synced(nil)}}}},
		{name: "gateway step did not complete: backoff, GatewayError event, metric",
			obj: refund(withStatus(processing)), kind: fakeKind{submitted: true}, priorFailures: 2,
			gw: fakeGateway{observe: observed(Observation{}, errTimeout)},
			want: want{result: ctrl.Result{RequeueAfter: 4 * testMinBackoff}, gateway: []string{"observe"},
				calls:  calls{statusWrites: 1},
				status: v1.OperationStatus{Phase: v1.OperationProcessing, Conditions: []metav1.Condition{synced(errTimeout)}},
				events: []string{"Warning GatewayError"}, stepErrors: 1, failures: 3}},
		{name: "backoff caps at MaxBackoff",
			obj: refund(), gw: fakeGateway{observe: observed(Observation{}, errTimeout)}, priorFailures: 20,
			want: want{result: ctrl.Result{RequeueAfter: testMaxBackoff}, gateway: []string{"observe"},
				calls: calls{statusWrites: 1}, status: v1.OperationStatus{Conditions: []metav1.Condition{synced(errTimeout)}},
				events: []string{"Warning GatewayError"}, stepErrors: 1, failures: 21}},
		{name: "Blocked wait: recorded via Kind.Wait, its RequeueAfter, no failure counted",
			obj: refund(), priorFailures: 2,
			kind: fakeKind{connectErr: &WaitError{Reason: v1.ReasonDisputeOpen, Message: "dispute d1 is open",
				Blocked: true, RequeueAfter: 45 * time.Second}},
			want: want{result: ctrl.Result{RequeueAfter: 45 * time.Second}, calls: calls{statusWrites: 1},
				status: v1.OperationStatus{Conditions: []metav1.Condition{
					{Type: v1.ConditionBlocked, Status: metav1.ConditionTrue, Reason: v1.ReasonDisputeOpen, Message: "dispute d1 is open", LastTransitionTime: since},
					synced(errors.New("DisputeOpen: dispute d1 is open")),
				}}}},
		{name: "terminal refusal: marked Failed, announced, nothing retried",
			obj: refund(), priorFailures: 1,
			gw: fakeGateway{observe: observed(Observation{}, &TerminalError{Reason: v1.ReasonIdentityConflict, Message: "held with another amount"})},
			want: want{gateway: []string{"observe"}, calls: calls{statusWrites: 1},
				status: v1.OperationStatus{Phase: v1.OperationFailed, Conditions: []metav1.Condition{
					{Type: v1.ConditionReady, Status: metav1.ConditionFalse, Reason: v1.ReasonIdentityConflict, Message: "held with another amount", LastTransitionTime: since},
					synced(nil),
				}},
				events: []string{"Warning Failed"}}},
		{name: "terminal refusal the status cannot take: retried with backoff",
			obj: refund(), kind: fakeKind{failErr: errors.New("phase cannot move")},
			gw: fakeGateway{observe: observed(Observation{}, &TerminalError{Reason: v1.ReasonIdentityConflict})},
			want: want{result: ctrl.Result{RequeueAfter: testMinBackoff}, gateway: []string{"observe"}, calls: calls{statusWrites: 1},
				status: v1.OperationStatus{Conditions: []metav1.Condition{
					synced(errors.New("record Fake failure IdentityConflict: phase cannot move"))}},
				events: []string{"Warning GatewayError"}, stepErrors: 1, failures: 1}},
		{name: "final: no gateway call",
			obj: refund(withStatus(processing)), kind: fakeKind{final: true},
			want: want{status: processing}},
		{name: "spec asks to cancel: cancel only",
			obj: refund(withStatus(processing)), kind: fakeKind{wantCancel: true, final: true}, gw: fakeGateway{cancel: cancelled},
			want: want{gateway: []string{"cancel"}, status: processing, events: []string{"Normal Cancelled"}}},

		{name: "deleted: cancelled at the gateway, finalizer released",
			obj: refund(deleting...), kind: fakeKind{needsFinalizer: true}, gw: fakeGateway{cancel: cancelled}, priorFailures: 1,
			want: want{gateway: []string{"cancel"}, calls: calls{updates: 1}, gone: true, events: []string{"Normal Cancelled"}}},
		{name: "deleted: cancel did not complete: finalizer kept, retried with backoff",
			obj: refund(deleting...), kind: fakeKind{needsFinalizer: true}, gw: fakeGateway{cancel: answer(Result{}, errTimeout)}, priorFailures: 1,
			want: want{result: ctrl.Result{RequeueAfter: 2 * testMinBackoff}, gateway: []string{"cancel"}, status: processing,
				finalizers: []string{Finalizer}, events: []string{"Warning CancelOnDeleteFailed"}, stepErrors: 1, failures: 2}},
		{name: "deleted: terminal error while cancelling: finalizer released, nothing retried",
			obj: refund(deleting...), kind: fakeKind{needsFinalizer: true},
			gw:   fakeGateway{cancel: answer(Result{}, &TerminalError{Reason: v1.ReasonPaymentIneligible, Message: "already captured"})},
			want: want{gateway: []string{"cancel"}, calls: calls{updates: 1}, gone: true}},
		{name: "deleted: terminal error connecting: finalizer released, no call",
			obj: refund(deleting...), kind: fakeKind{needsFinalizer: true, connectErr: &TerminalError{Reason: v1.ReasonInvalidAmount}},
			want: want{calls: calls{updates: 1}, gone: true}},
		{name: "deleted: finalizer remove fails: the error goes to the workqueue",
			obj: refund(deleting...), kind: fakeKind{needsFinalizer: true}, gw: fakeGateway{cancel: cancelled}, fail: failWith{update: errAPI},
			want: want{err: errAPI, errContext: "remove finalizer:", gateway: []string{"cancel"}, calls: calls{updates: 1},
				status: processing, finalizers: []string{Finalizer}, events: []string{"Normal Cancelled"}}},
		{name: "deleted with force-forget: finalizer released without a cancel",
			obj: refund(append(deleting, forceForget)...), kind: fakeKind{needsFinalizer: true},
			want: want{calls: calls{updates: 1}, gone: true, events: []string{"Warning ForceForgotten"}}},
		{name: "deleted when final: nothing to cancel, finalizer released",
			obj: refund(deleting...), kind: fakeKind{needsFinalizer: true, final: true},
			want: want{calls: calls{updates: 1}, gone: true}},
		{name: "deleted without this engine's finalizer: nothing",
			obj: refund(beingDeleted, withFinalizers("example.com/other"), withStatus(processing)), kind: fakeKind{needsFinalizer: true},
			want: want{status: processing, finalizers: []string{"example.com/other"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var n calls
			failing := true
			b := fake.NewClientBuilder().WithScheme(testScheme(t)).WithStatusSubresource(&v1.Refund{}).
				WithInterceptorFuncs(tc.fail.funcs(&n, &failing))
			if tc.obj != nil {
				b = b.WithObjects(tc.obj)
			}
			cl := b.Build()
			gw := tc.gw
			k := tc.kind
			k.gw = &gw
			rec := events.NewFakeRecorder(10)
			var stepErrors int
			r := New[*v1.Refund](cl, &k, rec, Options{MinBackoff: testMinBackoff, MaxBackoff: testMaxBackoff,
				OnStepError: func(kind string, err error) {
					if kind != "Fake" || err == nil {
						t.Errorf("OnStepError(%q, %v)", kind, err)
					}
					stepErrors++
				}})
			r.backoff.randN = drawHighest
			req := request("r1")
			for range tc.priorFailures {
				r.backoff.When(req)
			}

			result, err := r.Reconcile(context.Background(), req)
			failing = false

			got := want{result: result, err: err, gateway: gw.calls, calls: n, events: drain(rec),
				stepErrors: stepErrors, failures: r.backoff.NumRequeues(req)}
			if err != nil && !strings.HasPrefix(err.Error(), tc.want.errContext) {
				t.Errorf("error %q does not open with %q", err, tc.want.errContext)
			}
			got.errContext = tc.want.errContext
			if tc.obj != nil {
				stored := &v1.Refund{}
				switch err := cl.Get(context.Background(), req.NamespacedName, stored); {
				case apierrors.IsNotFound(err):
					got.gone = true
				case err != nil:
					t.Fatal(err)
				}
				got.status, got.finalizers = stored.Status, stored.Finalizers
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{}, calls{}), cmpopts.EquateErrors(), cmpopts.EquateEmpty(),
				cmpopts.IgnoreFields(metav1.Condition{}, "LastTransitionTime")); diff != "" {
				t.Errorf("Reconcile: -want +got:\n%s", diff)
			}
		})
	}
}

// TestOneCountPerObject drives reconciles as controller-runtime does (an
// error: the workqueue's limiter; RequeueAfter: the queue forgets, then
// waits) and checks that apiserver and gateway failures add up on one
// count, which only a completed reconcile resets.
func TestOneCountPerObject(t *testing.T) {
	var statusFails int
	cl := fake.NewClientBuilder().WithScheme(testScheme(t)).WithStatusSubresource(&v1.Refund{}).WithObjects(refund()).
		WithInterceptorFuncs(interceptor.Funcs{SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, o client.Object, opts ...client.SubResourceUpdateOption) error {
			if statusFails > 0 {
				statusFails--
				return errAPI
			}
			return c.SubResource(sub).Update(ctx, o, opts...)
		}}).Build()
	var observeErr error
	gw := &fakeGateway{observe: func() (Observation, error) { return Observation{}, observeErr }, onCreate: func(o *v1.Refund) {
		o.Status.Phase = v1.OperationProcessing
	}, create: answer(Result{RequeueAfter: time.Hour}, nil)}
	r := New[*v1.Refund](cl, &fakeKind{gw: gw, submitted: true}, nil, Options{MinBackoff: testMinBackoff, MaxBackoff: testMaxBackoff})
	r.backoff.randN = drawHighest
	queue := r.RateLimiter()
	req := request("r1")
	// run makes one reconcile and returns the delay before the next,
	// as controller-runtime's reconcileHandler computes it.
	run := func() time.Duration {
		res, err := r.Reconcile(context.Background(), req)
		if err != nil {
			return queue.When(req)
		}
		queue.Forget(req)
		return res.RequeueAfter
	}
	steps := []struct {
		name       string
		statusFail bool
		observeErr error
		want       time.Duration
	}{
		{name: "gateway timeout", observeErr: errTimeout, want: testMinBackoff},
		{name: "created, but the apiserver refuses the status write", statusFail: true, want: 2 * testMinBackoff},
		{name: "gateway timeout again", observeErr: errTimeout, want: 4 * testMinBackoff},
		{name: "created: the count is reset", want: time.Hour},
		{name: "a later apiserver failure starts over", statusFail: true, observeErr: errTimeout, want: testMinBackoff},
	}
	for _, s := range steps {
		if s.statusFail {
			statusFails = 1
		}
		observeErr = s.observeErr
		if got := run(); got != s.want {
			t.Fatalf("%s: next try in %s, want %s", s.name, got, s.want)
		}
	}
}

func testScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := v1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// drain returns the recorded events as "type reason".
func drain(rec *events.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-rec.Events:
			f := strings.Fields(e)
			out = append(out, strings.Join(f[:min(2, len(f))], " "))
		default:
			return out
		}
	}
}
