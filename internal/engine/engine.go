// Package engine is the one generic reconciler behind every kind. A kind
// plugs in as a thin adapter (Kind) that knows how to reach the gateway for
// one object (Connect) and, once connected, how to observe it (inquiry),
// create it (pay, capture, refund, declare) and, where allowed, cancel it.
// The model is Crossplane's managed reconciler and its ExternalClient
// (Observe / Create / Update / Delete), changed where money demands it:
//
//   - Every create carries an idempotency id derived from the manifest
//     (package ids), and the gateway is asked first whether it knows that id:
//     a crash between the gateway call and the status write, or the same
//     manifest re-applied after a delete or a restore, can never move money
//     twice. What the gateway already did is adopted. Where the create call
//     is itself such a question (idempotent at the gateway, answering a
//     repeat with what it holds: a wallet Payment's pay), a new object skips
//     the inquiry (CreateObserver).
//   - An Unknown outcome (U result, timeout, transport error, unverifiable
//     response) is never a failure: the engine backs off with jitter and tries
//     again with the same id. One Backoff counts an object's consecutive
//     failures, for the engine's own retries and for the controller's
//     workqueue alike (Reconciler.RateLimiter).
//   - Status moves only through package transition, never backwards, and is
//     written only when it changed, so a polling cycle that learns nothing
//     costs no apiserver write.
//   - Deleting never moves money unless the object asks for it (a Payment's
//     deletionPolicy Cancel); only then is a finalizer added.
package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/events"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// ForceForgetAnnotation set to "true" on an object being deleted releases
// its finalizer without acting at the gateway: the escape hatch when the
// gateway or its credentials are gone for good. Nothing is cancelled.
const ForceForgetAnnotation = "payments.cashier-operator.io/force-forget"

// Finalizer is added only to objects whose deletion must do something at
// the gateway (a Payment with deletionPolicy Cancel).
const Finalizer = "payments.cashier-operator.io/gateway"

// Result is what one gateway step concluded.
type Result struct {
	// Change is the transition the step applied (for events).
	Change transition.Change
	// RequeueAfter says when to look again; 0 means never (final, or waiting
	// for a watch event).
	RequeueAfter time.Duration
	// Adopted is set by the engine when the step adopted what the gateway
	// already held (the Adopted event's message).
	Adopted string
}

// Observation is what Observe learned: Crossplane's ExternalObservation,
// with the money rule that the gateway, not the cluster, says whether an
// object exists.
type Observation struct {
	// Exists says the gateway knows the object's identity (its request id).
	// When false the engine sends the create call. From CreateObserve it
	// says the gateway held the identity before the create call (its answer
	// was a replay), and the engine adopts.
	Exists bool
	// NeedsUpdate says the object exists but still needs a call that changes
	// it (a Payment's automatic capture); the engine calls Update. It is
	// Crossplane's ResourceUpToDate, inverted so that the zero value is "up to
	// date".
	NeedsUpdate bool
	// Adopted describes, for the Adopted condition and event, what the
	// gateway already held (e.g. "paymentRequestId pay… is SUCCESS"), when the
	// object had never sent its create call.
	Adopted string
	// Result is what applying the observation concluded.
	Result
}

// External acts on one object at the gateway. Implementations apply what
// they learn to the object's status through package transition. They never
// call each other: the engine decides, in one place, whether to create,
// observe, adopt, update or cancel.
type External[T client.Object] interface {
	// Observe asks the gateway where the object stands (inquiry) and applies
	// it. An identity the gateway holds with other parameters than the spec
	// is a *TerminalError with reason IdentityConflict, applied to nothing.
	Observe(ctx context.Context, obj T) (Observation, error)
	// Create sends the create call (pay, capture, refund, declare) with the
	// object's idempotency id; only after Observe found nothing (see
	// CreateObserver for the create call that needs no Observe first).
	Create(ctx context.Context, obj T) (Result, error)
	// Update makes the call an existing object still needs (see NeedsUpdate).
	Update(ctx context.Context, obj T) (Result, error)
	// Cancel cancels the object at the gateway, where the kind allows it.
	Cancel(ctx context.Context, obj T) (Result, error)
}

// CreateObserver is implemented by an External whose create call is itself
// a safe question: idempotent at the gateway on the object's id, and
// answering a repeated id with what the gateway already holds under it (a
// replay) instead of acting twice. For an object that never sent its create
// call (Kind.Submitted false) and for which CreateObserves says so, the
// engine calls CreateObserve instead of Observe then Create: one gateway
// call for a new object instead of two. An object that did send it (its
// outcome may be unknown) is observed first as always.
type CreateObserver[T client.Object] interface {
	// CreateObserves reports whether obj's create call may be sent without
	// observing first.
	CreateObserves(obj T) bool
	// CreateObserve sends the create call and reports what its answer
	// showed: Exists false when the call created the object (Result is what
	// it applied), Exists true when the gateway already held it (Adopted
	// says what; the engine adopts, and calls Update if NeedsUpdate). An
	// identity the gateway holds with other parameters is a *TerminalError
	// IdentityConflict, applied to nothing, as from Observe.
	CreateObserve(ctx context.Context, obj T) (Observation, error)
}

// Kind is the per-kind adapter.
type Kind[T client.Object] interface {
	// Name is the kind's name, for logs and events.
	Name() string
	// New returns an empty object.
	New() T
	// Connect resolves what the object needs (gateway connection, parent
	// payment, limits). Errors of type *WaitError and *TerminalError have
	// special meaning; others are retried with backoff.
	Connect(ctx context.Context, obj T) (External[T], error)
	// Submitted reports whether the create call has been sent before (its
	// outcome may be unknown); an object that has not, but that the gateway
	// knows, is adopted.
	Submitted(obj T) bool
	// Final reports whether nothing further will happen at the gateway.
	Final(obj T) bool
	// WantsCancel reports whether the spec asks for a cancel that has not happened.
	WantsCancel(obj T) bool
	// NeedsFinalizer reports whether deleting the object must act at the gateway.
	NeedsFinalizer(obj T) bool
	// Fail marks the object failed without a gateway call (bad input,
	// impossible operation); reason and message say why. An error means
	// the status could not take the failure (it is retried).
	Fail(obj T, reason, message string) error
	// Wait records that the object waits (e.g. Blocked DisputeOpen).
	Wait(obj T, w *WaitError)
	// SetConditions derives Ready/Reconciling/Stalled and Synced from status
	// and the step's error.
	SetConditions(obj T, err error)
	// Status returns a pointer to the object's status (for change detection).
	Status(obj T) any
	// Conditions returns a pointer to the object's status conditions.
	Conditions(obj T) *[]metav1.Condition
}

// Deriver is implemented by kinds whose status also follows other
// Kubernetes objects (a Payment's refunded total follows its Refunds). Derive
// runs on every reconcile, before the gateway step, final or not, and makes
// no gateway call.
type Deriver[T client.Object] interface {
	Derive(ctx context.Context, obj T) error
}

// WaitError says the object must wait for something outside it (its
// payment to be authorized, a dispute to be judged, the GatewayConfig to be
// ready). The engine records it and looks again after RequeueAfter.
type WaitError struct {
	Reason       string
	Message      string
	RequeueAfter time.Duration
	// Blocked marks the wait as Blocked (operations) rather than a sync error.
	Blocked bool
	// Announce, for a Blocked wait, says a person must act (approve, raise a
	// limit): the engine writes a Warning Event and tells Options.OnHold
	// when the object becomes blocked for this reason.
	Announce bool
	// Cause is the error behind the wait, if any (errors.Is/As reach it).
	Cause error
}

// Unwrap returns the cause.
func (e *WaitError) Unwrap() error { return e.Cause }

func (e *WaitError) Error() string { return e.Reason + ": " + e.Message }

// ConditionMessage is the message without the reason, for conditions.
func (e *WaitError) ConditionMessage() string { return e.Message }

// TerminalError says the object can never succeed as specified (bad amount,
// a limit the operation exceeds). The engine marks it failed; no gateway call
// is made.
type TerminalError struct {
	Reason  string
	Message string
	// Cause is the error behind the refusal, if any (errors.Is/As reach it).
	Cause error
}

// Unwrap returns the cause.
func (e *TerminalError) Unwrap() error { return e.Cause }

func (e *TerminalError) Error() string { return e.Reason + ": " + e.Message }

// ConditionMessage is the message without the reason, for conditions.
func (e *TerminalError) ConditionMessage() string { return e.Message }

// Options tune the engine.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MinBackoff and MaxBackoff bound the retry delay after an Unknown
	// outcome or an apiserver error (defaults 1s and 5m); the delay doubles
	// per consecutive failure, with jitter (see Backoff).
	MinBackoff, MaxBackoff time.Duration
	// OnTransition, if set, is told of every phase transition (metrics).
	OnTransition func(kind string, obj client.Object, ch transition.Change, now time.Time)
	// OnStepError, if set, is told of every step that did not complete and
	// is retried with backoff (metrics); err is the step's error.
	OnStepError func(kind string, err error)
	// OnHold, if set, is told when an announced Blocked wait starts holding
	// an object (metrics).
	OnHold func(kind, reason string)
}

// Reconciler is the generic reconciler for one kind.
type Reconciler[T client.Object] struct {
	client   client.Client
	kind     Kind[T]
	recorder recorder.EventRecorder
	opts     Options
	backoff  *Backoff
	// written maps an object's key to the resourceVersion it had before this
	// reconciler last wrote its status: a cached copy still at that version
	// has not seen the write yet (see staleCacheWait).
	written sync.Map
}

// staleCacheWait is how long a reconcile that reads an object the cache has
// not yet updated with this reconciler's own last write waits before
// looking again. Acting on such a copy would repeat the last step (a second
// pay call, or a false adoption of what this object just created).
const staleCacheWait = 200 * time.Millisecond

// New makes a reconciler for kind.
func New[T client.Object](c client.Client, kind Kind[T], rec recorder.EventRecorder, opts Options) *Reconciler[T] {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MinBackoff == 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	return &Reconciler[T]{client: c, kind: kind, recorder: rec, opts: opts, backoff: NewBackoff(opts.MinBackoff, opts.MaxBackoff)}
}

// RateLimiter is the rate limiter for the controller that runs r: it
// counts on r's Backoff, so that an object has one count of consecutive
// failures whether a reconcile failed at the apiserver (an error, which the
// workqueue delays) or at the gateway (a RequeueAfter the engine computes).
// Give it to exactly one controller.
func (r *Reconciler[T]) RateLimiter() workqueue.TypedRateLimiter[reconcile.Request] {
	return queueLimiter{b: r.backoff}
}

// Reconcile implements reconcile.Reconciler. An error is an apiserver
// failure: controller-runtime logs it and the workqueue retries it after
// the object's Backoff delay. A gateway step that did not complete is no
// error (its outcome is unknown, not failed): the engine logs it, counts it
// on the same Backoff and requeues itself. A reconcile that completes
// resets the count.
func (r *Reconciler[T]) Reconcile(ctx context.Context, req reconcile.Request) (ctrl.Result, error) {
	key := req.NamespacedName.String()
	obj := r.kind.New()
	if err := r.client.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			r.backoff.Forget(req)
			r.written.Delete(key)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get %s: %w", r.kind.Name(), err)
	}
	if rv, ok := r.written.Load(key); ok {
		if rv == obj.GetResourceVersion() {
			return ctrl.Result{RequeueAfter: staleCacheWait}, nil
		}
		r.written.Delete(key)
	}

	if !obj.GetDeletionTimestamp().IsZero() {
		return r.finalize(ctx, req, obj)
	}
	if r.kind.NeedsFinalizer(obj) && !controllerutil.ContainsFinalizer(obj, Finalizer) {
		controllerutil.AddFinalizer(obj, Finalizer)
		if err := r.client.Update(ctx, obj); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer: %w", err)
		}
	}

	before := obj.DeepCopyObject().(T)
	if d, ok := r.kind.(Deriver[T]); ok {
		if err := d.Derive(ctx, obj); err != nil {
			return ctrl.Result{}, fmt.Errorf("derive %s status: %w", r.kind.Name(), err)
		}
	}
	res, stepErr := r.step(ctx, obj)
	r.kind.SetConditions(obj, stepErr)
	conflict, err := r.writeStatus(ctx, key, before, obj)
	if err != nil {
		return ctrl.Result{}, err
	}
	if conflict {
		// Someone (the receiver, another step) wrote first: look again
		// shortly, once the cache has the fresh object; nothing is lost,
		// the gateway call was idempotent. Nothing is announced either: the
		// step is repeated on the fresh copy.
		return ctrl.Result{RequeueAfter: staleCacheWait}, nil
	}
	return r.conclude(ctx, req, obj, res, stepErr), nil
}

// writeStatus writes obj's status if the reconcile changed it from
// before's. conflict reports that the apiserver held a newer object.
func (r *Reconciler[T]) writeStatus(ctx context.Context, key string, before, obj T) (conflict bool, err error) {
	if equality.Semantic.DeepEqual(r.kind.Status(before), r.kind.Status(obj)) {
		return false, nil
	}
	rv := obj.GetResourceVersion()
	if err := r.client.Status().Update(ctx, obj); err != nil {
		if apierrors.IsConflict(err) {
			return true, nil
		}
		return false, fmt.Errorf("write %s status: %w", r.kind.Name(), err)
	}
	if obj.GetResourceVersion() != rv {
		// A write the apiserver found identical leaves the version as it
		// was: then there is nothing for the cache to catch up on.
		r.written.Store(key, rv)
	}
	return false, nil
}

// conclude announces what was written and says when to look again: the
// step's own cadence, a wait's, or, after a step that did not complete,
// the object's next Backoff delay.
func (r *Reconciler[T]) conclude(ctx context.Context, req reconcile.Request, obj T, res Result, stepErr error) ctrl.Result {
	if res.Adopted != "" {
		r.event(obj, corev1.EventTypeNormal, v1.ReasonAdopted, "Adopt", res.Adopted)
	}
	r.emit(obj, res.Change)

	var wait *WaitError
	switch {
	case stepErr == nil:
		r.backoff.Forget(req)
		return ctrl.Result{RequeueAfter: res.RequeueAfter}
	case errors.As(stepErr, &wait):
		// Waiting is not failing: the count restarts.
		r.backoff.Forget(req)
		return ctrl.Result{RequeueAfter: wait.RequeueAfter}
	}
	d := r.retry(req, stepErr)
	logr.FromContextOrDiscard(ctx).Info("gateway step did not complete; retrying with the same request id",
		"kind", r.kind.Name(), "retryIn", d.Round(time.Millisecond).String(), "error", stepErr.Error())
	r.event(obj, corev1.EventTypeWarning, "GatewayError", "Sync", stepErr.Error())
	return ctrl.Result{RequeueAfter: d}
}

// retry counts a step that did not complete and returns the delay before
// the next try.
func (r *Reconciler[T]) retry(req reconcile.Request, err error) time.Duration {
	if r.opts.OnStepError != nil {
		r.opts.OnStepError(r.kind.Name(), err)
	}
	return r.backoff.When(req)
}

// step makes at most one gateway step for obj.
func (r *Reconciler[T]) step(ctx context.Context, obj T) (Result, error) {
	if r.kind.Final(obj) && !r.kind.WantsCancel(obj) {
		return Result{}, nil
	}
	res, err := r.act(ctx, obj)
	var term *TerminalError
	var wait *WaitError
	switch {
	case errors.As(err, &term):
		from := r.phase(obj)
		if ferr := r.kind.Fail(obj, term.Reason, term.Message); ferr != nil {
			return Result{}, fmt.Errorf("record %s failure %s: %w", r.kind.Name(), term.Reason, ferr)
		}
		return Result{Change: transition.Change{From: from, To: r.phase(obj)}}, nil
	case errors.As(err, &wait):
		held := wait.Blocked && wait.Announce && !blockedBy(*r.kind.Conditions(obj), wait.Reason)
		r.kind.Wait(obj, wait)
		if held {
			r.event(obj, corev1.EventTypeWarning, wait.Reason, "Hold", wait.Message)
			if r.opts.OnHold != nil {
				r.opts.OnHold(r.kind.Name(), wait.Reason)
			}
		}
	}
	return res, err
}

// blockedBy reports whether conds hold Blocked=True with reason.
func blockedBy(conds []metav1.Condition, reason string) bool {
	c := meta.FindStatusCondition(conds, v1.ConditionBlocked)
	return c != nil && c.Status == metav1.ConditionTrue && c.Reason == reason
}

// act decides, in this one place, what the object needs at the gateway:
// a cancel the spec asks for; else what the gateway knows (Observe, or the
// create call's own answer: CreateObserver) decides between create (it
// knows nothing), adopt (it knows what this object never sent: a
// re-created object), update, or nothing.
func (r *Reconciler[T]) act(ctx context.Context, obj T) (Result, error) {
	ext, err := r.kind.Connect(ctx, obj)
	if err != nil {
		return Result{}, err
	}
	if r.kind.WantsCancel(obj) {
		return ext.Cancel(ctx, obj)
	}
	sent := r.kind.Submitted(obj)
	var obs Observation
	if co, ok := ext.(CreateObserver[T]); ok && !sent && co.CreateObserves(obj) {
		obs, err = co.CreateObserve(ctx, obj)
		if err == nil && !obs.Exists {
			return obs.Result, nil
		}
	} else {
		obs, err = ext.Observe(ctx, obj)
		if err == nil && !obs.Exists {
			return ext.Create(ctx, obj)
		}
	}
	if err != nil {
		return Result{}, err
	}
	var adopted string
	if !sent {
		adopted = r.adopt(obj, obs.Adopted)
	}
	res := obs.Result
	if obs.NeedsUpdate {
		res, err = ext.Update(ctx, obj)
	}
	res.Adopted = adopted
	return res, err
}

// adopt records that the gateway already had what obj never sent, and
// returns the message for the Adopted event.
func (r *Reconciler[T]) adopt(obj T, what string) string {
	msg := "the gateway already had this object's identity"
	if what != "" {
		msg += " (" + what + ")"
	}
	msg += "; status was rebuilt from the gateway and nothing was done again"
	transition.SetAdopted(r.kind.Conditions(obj), obj.GetGeneration(), msg)
	return msg
}

// phase reads the object's phase for events.
func (r *Reconciler[T]) phase(obj T) string {
	if p, ok := any(obj).(interface{ GetPhase() string }); ok {
		return p.GetPhase()
	}
	return ""
}

// finalize runs the deletion policy and releases the finalizer. A cancel
// that did not complete keeps the finalizer and is retried after the
// object's Backoff delay; a cancel the gateway refuses for good (a
// TerminalError) releases it: retrying could never succeed.
func (r *Reconciler[T]) finalize(ctx context.Context, req reconcile.Request, obj T) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(obj, Finalizer) {
		return ctrl.Result{}, nil
	}
	forget := obj.GetAnnotations()[ForceForgetAnnotation] == "true"
	if forget {
		r.event(obj, corev1.EventTypeWarning, "ForceForgotten", "Delete", "finalizer released by "+ForceForgetAnnotation+" without acting at the gateway")
	}
	if r.kind.NeedsFinalizer(obj) && !r.kind.Final(obj) && !forget {
		// Cancel even when no answer to the create call was recorded: the
		// call may have reached the gateway; the adapter inquires first.
		ext, err := r.kind.Connect(ctx, obj)
		if err == nil {
			var res Result
			res, err = ext.Cancel(ctx, obj)
			r.emit(obj, res.Change)
		}
		var term *TerminalError
		if err != nil && !errors.As(err, &term) {
			r.event(obj, corev1.EventTypeWarning, "CancelOnDeleteFailed", "Delete", err.Error())
			return ctrl.Result{RequeueAfter: r.retry(req, err)}, nil
		}
	}
	controllerutil.RemoveFinalizer(obj, Finalizer)
	if err := r.client.Update(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("remove finalizer: %w", err)
	}
	r.backoff.Forget(req)
	return ctrl.Result{}, nil
}

func (r *Reconciler[T]) emit(obj T, ch transition.Change) {
	if !ch.Transitioned() {
		return
	}
	if r.opts.OnTransition != nil {
		r.opts.OnTransition(r.kind.Name(), obj, ch, r.opts.Now())
	}
	events.Transition(r.recorder, obj, "Transition", r.kind.Name(), ch, "")
}

func (r *Reconciler[T]) event(obj T, typ, reason, action, note string) {
	events.Emit(r.recorder, obj, typ, reason, action, "%s", note)
}

// IsRetryable reports whether a gateway error leaves the outcome unknown
// (retry with the same id) rather than final.
func IsRetryable(err error) bool { return gateway.IsUnknown(err) }

// Jittered spreads a poll interval by ±10% so that many objects created
// together do not poll together.
func Jittered(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	spread := d / 10
	if spread <= 0 {
		return d
	}
	return d - spread + time.Duration(rand.Int64N(int64(2*spread)+1))
}
