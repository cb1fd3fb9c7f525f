package engine

import (
	"context"
	"errors"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// fakeGateway is an External whose answers are function fields (nil: an
// empty answer); it records which calls the engine made.
type fakeGateway struct {
	calls   []string
	observe func() (Observation, error)
	create  func() (Result, error)
	update  func() (Result, error)
	cancel  func() (Result, error)
	// onCreate, if set, changes the object as a create's answer would.
	onCreate func(o *v1.Refund)
	// probes is CreateObserves' answer: the create call may be sent
	// without observing first; createObserve is then CreateObserve's
	// answer (nil: an empty one, a new object).
	probes        bool
	createObserve func() (Observation, error)
}

var _ CreateObserver[*v1.Refund] = (*fakeGateway)(nil)

// answer records the call and returns what fn says.
func (f *fakeGateway) answer(call string, fn func() (Result, error)) (Result, error) {
	f.calls = append(f.calls, call)
	if fn == nil {
		return Result{}, nil
	}
	return fn()
}

func (f *fakeGateway) Observe(context.Context, *v1.Refund) (Observation, error) {
	f.calls = append(f.calls, "observe")
	if f.observe == nil {
		return Observation{}, nil
	}
	return f.observe()
}

func (f *fakeGateway) Create(_ context.Context, o *v1.Refund) (Result, error) {
	if f.onCreate != nil {
		f.onCreate(o)
	}
	return f.answer("create", f.create)
}

func (f *fakeGateway) CreateObserves(*v1.Refund) bool { return f.probes }

// CreateObserve is the create call too: it is recorded as "create".
func (f *fakeGateway) CreateObserve(_ context.Context, o *v1.Refund) (Observation, error) {
	if f.onCreate != nil {
		f.onCreate(o)
	}
	f.calls = append(f.calls, "create")
	if f.createObserve == nil {
		return Observation{}, nil
	}
	return f.createObserve()
}

func (f *fakeGateway) Update(context.Context, *v1.Refund) (Result, error) {
	return f.answer("update", f.update)
}

func (f *fakeGateway) Cancel(context.Context, *v1.Refund) (Result, error) {
	return f.answer("cancel", f.cancel)
}

// fakeKind is a Kind over Refund objects whose answers are fields. Fail,
// Wait and SetConditions write the status as an adapter would: Fail the
// phase and Ready, Wait a Blocked condition, SetConditions Synced.
type fakeKind struct {
	gw             *fakeGateway
	connectErr     error
	submitted      bool
	wantCancel     bool
	final          bool
	needsFinalizer bool
	// failErr, if set, is Fail's answer (the status cannot take it).
	failErr error
	// derive, if set, is Derive's answer.
	derive func(o *v1.Refund) error
}

var (
	_ Kind[*v1.Refund]    = (*fakeKind)(nil)
	_ Deriver[*v1.Refund] = (*fakeKind)(nil)
)

func (k *fakeKind) Name() string    { return "Fake" }
func (k *fakeKind) New() *v1.Refund { return &v1.Refund{} }
func (k *fakeKind) Status(o *v1.Refund) any {
	return &o.Status
}
func (k *fakeKind) Conditions(o *v1.Refund) *[]metav1.Condition { return &o.Status.Conditions }
func (k *fakeKind) Connect(context.Context, *v1.Refund) (External[*v1.Refund], error) {
	if k.connectErr != nil {
		return nil, k.connectErr
	}
	return k.gw, nil
}
func (k *fakeKind) Submitted(*v1.Refund) bool      { return k.submitted }
func (k *fakeKind) Final(*v1.Refund) bool          { return k.final }
func (k *fakeKind) WantsCancel(*v1.Refund) bool    { return k.wantCancel }
func (k *fakeKind) NeedsFinalizer(*v1.Refund) bool { return k.needsFinalizer }

func (k *fakeKind) Derive(_ context.Context, o *v1.Refund) error {
	if k.derive == nil {
		return nil
	}
	return k.derive(o)
}

func (k *fakeKind) Fail(o *v1.Refund, reason, message string) error {
	if k.failErr != nil {
		return k.failErr
	}
	o.Status.Phase = v1.OperationFailed
	meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{Type: v1.ConditionReady,
		Status: metav1.ConditionFalse, Reason: reason, Message: message})
	return nil
}

func (k *fakeKind) Wait(o *v1.Refund, w *WaitError) {
	if w.Blocked {
		meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{Type: v1.ConditionBlocked,
			Status: metav1.ConditionTrue, Reason: w.Reason, Message: w.Message})
	}
}

func (k *fakeKind) SetConditions(o *v1.Refund, err error) {
	c := metav1.Condition{Type: v1.ConditionSynced, Status: metav1.ConditionTrue, Reason: v1.ReasonReconcileSuccess}
	if err != nil {
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, v1.ReasonReconcileError, err.Error()
	}
	meta.SetStatusCondition(&o.Status.Conditions, c)
}

// TestDecision: the engine alone decides, from what the gateway knows,
// whether to create, adopt, update, cancel or do nothing; an adapter never
// calls another.
func TestDecision(t *testing.T) {
	exists := func(o Observation) func() (Observation, error) {
		return func() (Observation, error) { return o, nil }
	}
	timeout := errors.New("inquiry timed out")
	cases := []struct {
		name    string
		kind    fakeKind
		observe func() (Observation, error)
		// probes and createObserve make the gateway a CreateObserver.
		probes        bool
		createObserve func() (Observation, error)
		wantCalls     []string
		wantErr       error
		wantAdopt     bool
	}{
		{name: "unknown to the gateway: create", wantCalls: []string{"observe", "create"}},
		{name: "sent before, outcome unknown, gateway lost it: create again (same id)", kind: fakeKind{submitted: true},
			wantCalls: []string{"observe", "create"}},
		{name: "known and sent by this object: observe only", kind: fakeKind{submitted: true},
			observe: exists(Observation{Exists: true}), wantCalls: []string{"observe"}},
		{name: "known but never sent by this object: adopt, no create", observe: exists(Observation{Exists: true, Adopted: "ref1 is SUCCESS"}),
			wantCalls: []string{"observe"}, wantAdopt: true},
		{name: "known and needs an update", kind: fakeKind{submitted: true},
			observe: exists(Observation{Exists: true, NeedsUpdate: true}), wantCalls: []string{"observe", "update"}},
		{name: "adopted and needs an update", observe: exists(Observation{Exists: true, NeedsUpdate: true}),
			wantCalls: []string{"observe", "update"}, wantAdopt: true},
		{name: "inquiry fails: nothing is created", observe: func() (Observation, error) { return Observation{}, timeout },
			wantCalls: []string{"observe"}, wantErr: timeout},
		{name: "identity conflict: nothing is created", observe: func() (Observation, error) {
			return Observation{}, &TerminalError{Reason: v1.ReasonIdentityConflict}
		}, wantCalls: []string{"observe"}, wantErr: &TerminalError{}},
		{name: "spec asks to cancel", kind: fakeKind{wantCancel: true}, wantCalls: []string{"cancel"}},
		{name: "cannot connect: no call", kind: fakeKind{connectErr: &WaitError{Reason: "GatewayNotReady"}}, wantErr: &WaitError{}},

		{name: "create observes, new object: the create call alone", probes: true, wantCalls: []string{"create"}},
		{name: "create observes, answered with what the gateway held: adopt, no observe", probes: true,
			createObserve: exists(Observation{Exists: true, Adopted: "pay1 is SUCCESS"}), wantCalls: []string{"create"}, wantAdopt: true},
		{name: "create observes, held and needs an update: adopt, update", probes: true,
			createObserve: exists(Observation{Exists: true, NeedsUpdate: true}), wantCalls: []string{"create", "update"}, wantAdopt: true},
		{name: "create observes, held with other parameters: identity conflict, nothing adopted", probes: true,
			createObserve: func() (Observation, error) { return Observation{}, &TerminalError{Reason: v1.ReasonIdentityConflict} },
			wantCalls:     []string{"create"}, wantErr: &TerminalError{}},
		{name: "create observes, outcome unknown: no adoption, retried", probes: true,
			createObserve: func() (Observation, error) { return Observation{Exists: true}, timeout },
			wantCalls:     []string{"create"}, wantErr: timeout},
		{name: "create observes, but sent before with an unknown outcome: observe first", probes: true, kind: fakeKind{submitted: true},
			wantCalls: []string{"observe", "create"}},
		{name: "create observes, sent before and known: observe only", probes: true, kind: fakeKind{submitted: true},
			observe: exists(Observation{Exists: true}), wantCalls: []string{"observe"}},
		{name: "create observes, spec asks to cancel: cancel only", probes: true, kind: fakeKind{wantCancel: true},
			wantCalls: []string{"cancel"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gw := &fakeGateway{observe: tc.observe, probes: tc.probes, createObserve: tc.createObserve}
			k := tc.kind
			k.gw = gw
			r := New[*v1.Refund](nil, &k, nil, Options{})
			obj := &v1.Refund{}
			_, err := r.act(context.Background(), obj)
			switch want := tc.wantErr.(type) {
			case nil:
				if err != nil {
					t.Fatalf("err = %v", err)
				}
			case *TerminalError:
				var term *TerminalError
				if !errors.As(err, &term) {
					t.Fatalf("err = %v, want a TerminalError", err)
				}
			case *WaitError:
				var wait *WaitError
				if !errors.As(err, &wait) {
					t.Fatalf("err = %v, want a WaitError", err)
				}
			default:
				if !errors.Is(err, want) {
					t.Fatalf("err = %v, want %v", err, want)
				}
			}
			if got := gw.calls; len(got) != len(tc.wantCalls) || !slices.Equal(got, tc.wantCalls) {
				t.Fatalf("calls %v, want %v", got, tc.wantCalls)
			}
			adopted := meta.IsStatusConditionTrue(obj.Status.Conditions, v1.ConditionAdopted)
			if adopted != tc.wantAdopt {
				t.Fatalf("Adopted condition %v, want %v: %+v", adopted, tc.wantAdopt, obj.Status.Conditions)
			}
		})
	}
}

// TestStaleCacheIsNotActedOn: a reconcile that reads a copy older than this
// reconciler's own last status write (the cache has not caught up) waits
// instead of calling the gateway again.
func TestStaleCacheIsNotActedOn(t *testing.T) {
	s := runtime.NewScheme()
	if err := v1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	obj := &v1.Refund{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "r1"}}
	var stale *v1.Refund
	cl := fake.NewClientBuilder().WithScheme(s).WithObjects(obj).WithStatusSubresource(obj).
		WithInterceptorFuncs(interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, o client.Object, opts ...client.GetOption) error {
			if stale != nil {
				stale.DeepCopyInto(o.(*v1.Refund))
				return nil
			}
			return c.Get(ctx, key, o, opts...)
		}}).Build()
	gw := &fakeGateway{onCreate: func(o *v1.Refund) { o.Status.Phase = v1.OperationProcessing }}
	r := New[*v1.Refund](cl, &fakeKind{gw: gw}, nil, Options{})
	req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(obj)}
	before := &v1.Refund{}
	if err := cl.Get(context.Background(), req.NamespacedName, before); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gw.calls, []string{"observe", "create"}) {
		t.Fatalf("first reconcile: calls %v", gw.calls)
	}

	// The cache still holds the copy from before the write.
	stale = before
	res, err := r.Reconcile(context.Background(), req)
	if err != nil || res.RequeueAfter != staleCacheWait || len(gw.calls) != 2 {
		t.Fatalf("stale copy: result %+v, err %v, calls %v; want a short wait and no gateway call", res, err, gw.calls)
	}

	// The cache caught up: the next reconcile acts on the fresh copy.
	stale = nil
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if len(gw.calls) < 3 || gw.calls[2] != "observe" {
		t.Fatalf("fresh copy: calls %v", gw.calls)
	}
}
