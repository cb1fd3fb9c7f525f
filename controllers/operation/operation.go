package operation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/connection"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/money"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// admissionSettle is how long after its creation an operation waits before
// it is first sent. creationTimestamp has a resolution of one second, so
// once a second (plus a margin for apiserver latency and clock skew) has
// passed, every sibling that sorts before it in (creationTimestamp, name)
// order exists and an uncached list sees it: who gets the last of the money
// is then decided by that order, never by which reconcile ran first.
const admissionSettle = 2 * time.Second

// paymentWait is how long an operation waits before looking at its payment
// again (the Payment watch usually wakes it earlier).
const paymentWait = 5 * time.Second

// opSpec is what differs between Capture, Refund and CustomsDeclaration;
// everything else (payment, connection, budget, ordering, crash recovery,
// status and conditions) is opKind's.
type opSpec[T v1.PaymentOperation] struct {
	// kind is the Kubernetes kind; what names one in messages ("refund");
	// plural and done phrase the limit ("refunds" ... "refunded").
	kind, what, plural, done string
	// moneyKind is what a MoneyPolicy rule names the kind ("" for kinds no
	// policy governs).
	moneyKind v1.MoneyKind

	newObj  func() T
	newList func() client.ObjectList
	// fullStatus (optional) is the object's whole status when it holds more
	// than the OperationStatus (a declaration's customs fields).
	fullStatus func(T) any
	// requestID is the operation's idempotency id under the merchant's
	// identity scope (package ids: status, spec, then derived from the manifest).
	requestID func(o T, scope string) string
	// recorded is what the payment's status says the gateway has taken of
	// the budget (its captured, refunded or declared total): it counts
	// operations whose objects were deleted, which no sibling shows.
	recorded func(p *v1.Payment) *v1.Money

	// eligible decides, for an operation the gateway has not accepted, from
	// its payment alone: nil (go), a *WaitError, or a *TerminalError (the
	// payment can never take it).
	eligible func(c *opCall[T], now time.Time) error
	// prepare (optional) resolves what the create call needs besides the
	// spec (refund: the captureId; declaration: the buyer certificate) into
	// c.prepared. Errors as for eligible.
	prepare func(ctx context.Context, c *opCall[T]) error
	// budget is the limit all operations of the kind on the payment share,
	// and how to say it ("was paid").
	budget func(ctx context.Context, c *opCall[T]) (money.Amount, string, error)
	// create sends the create call with c.id; facts come from the response
	// body when there is one, the error as the client returned it.
	create func(ctx context.Context, c *opCall[T]) (transition.OperationFacts, error)
	// observe asks the gateway about c.id; found=false when it has never
	// heard of it.
	observe func(ctx context.Context, c *opCall[T]) (f transition.OperationFacts, found bool, err error)
	// belongs (optional) confirms, before an object is adopted, that what
	// the gateway holds under c.id is an operation on c.payment when the
	// observation alone cannot say (an inquiryRefund names no payment).
	belongs func(ctx context.Context, c *opCall[T]) (bool, error)
	// refusedWait maps a gateway refusal that means "not now" to a wait (a
	// refund during a chargeback); nil for a real failure.
	refusedWait func(code string, c *opCall[T]) *engine.WaitError
}

// opCall is one reconcile's view of an operation.
type opCall[T v1.PaymentOperation] struct {
	deps    *shared.Deps
	conn    *connection.Connection
	payment *v1.Payment
	obj     T
	st      *v1.OperationStatus
	// id is the operation's idempotency id.
	id string
	// amount is the operation's amount, wire its gateway form.
	amount money.Amount
	wire   gateway.Amount
	// prepared is what spec.prepare resolved.
	prepared any
	// observed (optional), set by spec.observe, records what the answer says
	// beyond OperationFacts (a declaration's customs results); Observe runs
	// it only once the answer is known to be this operation's.
	observed func()
}

func (c *opCall[T]) paymentName() string { return c.obj.GetNamespace() + "/" + c.payment.Name }

// opKind is the engine adapter shared by the three operation kinds.
type opKind[T v1.PaymentOperation] struct {
	deps *shared.Deps
	spec opSpec[T]
}

func (k opKind[T]) Name() string                       { return k.spec.kind }
func (k opKind[T]) New() T                             { return k.spec.newObj() }
func (k opKind[T]) Conditions(o T) *[]metav1.Condition { return &o.GetOperationStatus().Conditions }
func (k opKind[T]) Final(o T) bool                     { return o.GetOperationStatus().Phase.IsFinal() }
func (k opKind[T]) WantsCancel(T) bool                 { return false }
func (k opKind[T]) NeedsFinalizer(T) bool              { return false }
func (k opKind[T]) Submitted(o T) bool                 { return submitted(o.GetOperationStatus()) }
func (k opKind[T]) paymentKey(o T) types.NamespacedName {
	return types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetPaymentRef()}
}

// Status is what the engine writes: the whole status of the object.
func (k opKind[T]) Status(o T) any {
	if k.spec.fullStatus != nil {
		return k.spec.fullStatus(o)
	}
	return o.GetOperationStatus()
}

// submitted: a create call has been made (its outcome may be unknown) or the
// gateway accepted the operation. Such an operation has its share of the
// budget, whatever its age, and is only ever re-sent with the same id.
func submitted(st *v1.OperationStatus) bool {
	return st.RequestID != "" || accepted(st)
}

// accepted: the gateway answered the create call (or reported the operation).
func accepted(st *v1.OperationStatus) bool {
	return st.Phase == v1.OperationProcessing || st.Phase.IsFinal()
}

// Fail marks the operation failed without a gateway call.
func (k opKind[T]) Fail(o T, reason, message string) error {
	res := gateway.Result{ResultCode: reason, ResultStatus: gateway.StatusFail, ResultMessage: message}
	_, err := transition.ApplyOperation(o.GetOperationStatus(), o.GetAmount(), transition.OperationFacts{
		Source: transition.SourceController, Phase: v1.OperationFailed, Result: &res}, k.deps.Time())
	return err
}

// Wait records a Blocked wait (a refund during a chargeback).
func (k opKind[T]) Wait(o T, w *engine.WaitError) {
	if w.Blocked {
		transition.SetBlocked(o.GetOperationStatus(), o.GetGeneration(), w.Reason, w.Message)
	}
}

func (k opKind[T]) SetConditions(o T, err error) {
	st := o.GetOperationStatus()
	gen := o.GetGeneration()
	st.ObservedGeneration = gen
	var wait *engine.WaitError
	if !errors.As(err, &wait) || !wait.Blocked {
		transition.ClearBlocked(st)
	}
	if st.Phase == "" {
		// Facts naming no id or amount are not refused; should that ever
		// change, Synced says so.
		if _, aerr := transition.ApplyOperation(st, o.GetAmount(), transition.OperationFacts{
			Source: transition.SourceController, Phase: v1.OperationPending}, k.deps.Time()); aerr != nil {
			err = errors.Join(err, fmt.Errorf("record Pending: %w", aerr))
		}
	}
	transition.SetOperationConditions(st, gen, k.spec.what)
	if wait != nil && !wait.Blocked && st.Phase == v1.OperationPending {
		transition.SetWaiting(&st.Conditions, gen, wait.Reason, wait.Message)
	}
	transition.SetSynced(&st.Conditions, gen, err, shared.ReasonOf(err))
}

// Connect resolves the payment and its gateway connection and checks the
// amount; for an operation the gateway has not accepted it also decides
// whether the payment can take it now, later, or never.
func (k opKind[T]) Connect(ctx context.Context, o T) (engine.External[T], error) {
	key := k.paymentKey(o)
	var p v1.Payment
	if err := k.deps.Client.Get(ctx, key, &p); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &engine.WaitError{Reason: v1.ReasonPaymentNotReady,
				Message: fmt.Sprintf("payment %s not found", key), RequeueAfter: paymentWait}
		}
		return nil, fmt.Errorf("get payment %s: %w", key, err)
	}
	conn, err := shared.GatewayConnection(ctx, k.deps, p.Spec.GatewayRef.Name)
	if err != nil {
		return nil, err
	}
	m := o.GetAmount()
	amount, err := m.Amount()
	if err != nil {
		return nil, &engine.TerminalError{Reason: v1.ReasonInvalidAmount, Message: "spec.amount: " + err.Error()}
	}
	if amount.Currency() != p.Spec.Amount.Currency {
		return nil, &engine.TerminalError{Reason: v1.ReasonInvalidAmount, Message: fmt.Sprintf(
			"spec.amount is in %s but payment %s is in %s", amount.Currency(), key, p.Spec.Amount.Currency)}
	}
	st := o.GetOperationStatus()
	c := &opCall[T]{deps: k.deps, conn: conn, payment: &p, obj: o, st: st, id: k.spec.requestID(o, conn.Config.Spec.IdentityScope),
		amount: amount, wire: gateway.Amount{Currency: amount.Currency(), Value: amount.MinorString()}}
	e := &opExternal[T]{k: k, c: c}
	if accepted(st) {
		return e, nil
	}
	if !submitted(st) {
		// Before any gateway call, the observing inquiry included.
		if err := k.hold(ctx, c); err != nil {
			return nil, err
		}
	}
	if err := k.spec.eligible(c, k.deps.Time()); err != nil {
		var term *engine.TerminalError
		var wait *engine.WaitError
		switch {
		case errors.As(err, &term):
			// Never fail without asking the gateway first: the engine
			// observes, and Create refuses only what the gateway lacks.
			e.refusal = term
		case errors.As(err, &wait) && wait.Blocked:
			// Blocked (a chargeback): the operation may already exist at
			// the gateway (a re-created object), so observe before waiting.
			e.wait = wait
		default:
			// The payment is not yet where the operation can exist at the
			// gateway: nothing to observe.
			return nil, err
		}
	}
	return e, nil
}

// opExternal acts on one operation at the gateway.
type opExternal[T v1.PaymentOperation] struct {
	k opKind[T]
	c *opCall[T]
	// refusal is why the payment can never take the operation; confirmed
	// against the gateway (Observe found nothing) before the operation is failed.
	refusal *engine.TerminalError
	// wait is a Blocked wait, likewise returned only after Observe.
	wait *engine.WaitError
}

func (e *opExternal[T]) Update(context.Context, T) (engine.Result, error) {
	return engine.Result{}, nil // operations are immutable: nothing to update
}

func (e *opExternal[T]) Cancel(context.Context, T) (engine.Result, error) {
	return engine.Result{}, nil // operations are never cancelled
}

// Create sends the operation once it may be sent: the payment can take it,
// its siblings created before it have had their turn, and it fits in what
// is left of the budget.
func (e *opExternal[T]) Create(ctx context.Context, o T) (engine.Result, error) {
	c, spec := e.c, e.k.spec
	from := c.st.Phase
	// Nothing is concluded while settling: Observe has not asked the
	// gateway yet.
	if d := e.settling(o); d > 0 {
		return engine.Result{RequeueAfter: d}, nil
	}
	switch {
	case e.refusal != nil:
		return engine.Result{}, e.refusal
	case e.wait != nil:
		return engine.Result{}, e.wait
	}
	if spec.prepare != nil {
		if err := spec.prepare(ctx, c); err != nil {
			return engine.Result{}, err
		}
	}
	if c.st.RequestID == "" {
		term, err := e.checkLimit(ctx)
		if err != nil {
			return engine.Result{}, err
		}
		if term != nil {
			return engine.Result{}, term
		}
	}
	// Reserve: the request id goes into status before the call, so that a
	// call whose outcome is unknown keeps its share of the budget and is
	// only ever re-sent with this id.
	now := e.k.deps.Time()
	if _, err := transition.ApplyOperation(c.st, o.GetAmount(), transition.OperationFacts{Source: transition.SourceController,
		Phase: v1.OperationPending, RequestID: c.id, PaymentID: c.payment.Status.PaymentID}, now); err != nil {
		return engine.Result{}, err
	}
	if c.st.SubmitTime == nil {
		c.st.SubmitTime = shared.MetaTime(now)
	}
	f, err := spec.create(ctx, c)
	return e.conclude(ctx, from, f, err)
}

// conclude classifies the create call's answer.
func (e *opExternal[T]) conclude(ctx context.Context, from v1.OperationPhase, f transition.OperationFacts, err error) (engine.Result, error) {
	var rerr *gateway.ResultError
	switch {
	case err == nil || gateway.IsInProcess(err):
	case errors.As(err, &rerr) && rerr.Status == gateway.StatusFail && rerr.Terminal:
		if w := e.k.spec.refusedWait; w != nil {
			if wait := w(rerr.Code, e.c); wait != nil {
				return engine.Result{}, wait
			}
		}
		if shared.ProtocolRefusal(err) {
			return engine.Result{}, shared.CredentialsError(e.c.conn, err)
		}
		if rerr.Code == gateway.CodeRepeatReqInconsistent {
			return engine.Result{}, &engine.TerminalError{Reason: v1.ReasonIdentityConflict, Message: fmt.Sprintf(
				"%s was used before for another %s (the gateway: %s); nothing moved; create the %s under a new name",
				e.c.id, e.k.spec.what, rerr.Message, e.k.spec.kind)}
		}
		f.Phase = v1.OperationFailed
		if f.Result == nil || f.Result.ResultStatus != gateway.StatusFail {
			f.Result = &gateway.Result{ResultCode: rerr.Code, ResultStatus: rerr.Status, ResultMessage: rerr.Message}
		}
	case errors.Is(err, gateway.ErrInvalidRequest):
		return engine.Result{}, &engine.TerminalError{Reason: v1.ReasonInvalidSpec, Message: err.Error()}
	default:
		// Unknown: the engine backs off and the next reconcile inquires
		// (or re-sends) with the same id.
		return engine.Result{}, err
	}
	return e.apply(from, f)
}

// settling is how long a fresh operation still waits before it is first
// sent (see admissionSettle); 0 once it may go.
func (e *opExternal[T]) settling(o T) time.Duration {
	if submitted(e.c.st) {
		return 0
	}
	if d := o.GetCreationTimestamp().Add(admissionSettle).Sub(e.k.deps.Time()); d > 0 {
		return d
	}
	return 0
}

// Observe inquires and applies what the gateway knows. An operation this
// object never sent but the gateway has (a re-created object) is adopted,
// unless the gateway holds another amount or payment under its id.
func (e *opExternal[T]) Observe(ctx context.Context, o T) (engine.Observation, error) {
	c := e.c
	if c.payment.Status.PaymentID == "" || e.settling(o) > 0 {
		// Nothing can exist at the gateway before its payment does; a
		// fresh operation is looked up once it may be sent.
		return engine.Observation{}, nil
	}
	from := c.st.Phase
	f, found, err := e.k.spec.observe(ctx, c)
	if err != nil || !found {
		return engine.Observation{}, err
	}
	var adopted string
	if !submitted(c.st) {
		if adopted, err = e.adoptable(ctx, f); err != nil {
			return engine.Observation{}, err
		}
	}
	if c.observed != nil {
		c.observed()
	}
	now := e.k.deps.Time()
	if t := c.st.LastCheckTime; t == nil || now.Sub(t.Time) >= time.Minute {
		// Refreshed at most once a minute, so that a poll that learns
		// nothing costs no status write.
		c.st.LastCheckTime = shared.MetaTime(now)
	}
	res, err := e.apply(from, f)
	return engine.Observation{Exists: true, Adopted: adopted, Result: res}, err
}

// adoptable checks that what the gateway holds under c.id is this
// operation (same payment, same amount) and describes it; otherwise an
// IdentityConflict.
func (e *opExternal[T]) adoptable(ctx context.Context, f transition.OperationFacts) (string, error) {
	c, spec := e.c, e.k.spec
	var diffs []string
	if a := f.Amount; a != nil && (a.Currency != c.wire.Currency || a.Value != c.wire.Value) {
		diffs = append(diffs, fmt.Sprintf("amount %s %s (minor units) where the spec asks %s %s", a.Value, a.Currency, c.wire.Value, c.wire.Currency))
	}
	if f.PaymentID != "" && f.PaymentID != c.payment.Status.PaymentID {
		diffs = append(diffs, fmt.Sprintf("payment %s where the spec's payment is %s", f.PaymentID, c.payment.Status.PaymentID))
	} else if spec.belongs != nil && len(diffs) == 0 {
		ok, err := spec.belongs(ctx, c)
		if err != nil {
			return "", err
		}
		if !ok {
			diffs = append(diffs, "another payment than "+c.paymentName())
		}
	}
	if len(diffs) > 0 {
		return "", &engine.TerminalError{Reason: v1.ReasonIdentityConflict, Message: fmt.Sprintf(
			"the gateway already holds %s %s with %s: this name was used before for another %s; nothing moved; create the %s under a new name",
			spec.what, c.id, strings.Join(diffs, " and "), spec.what, spec.kind)}
	}
	phase := f.Phase
	if phase == "" {
		phase = v1.OperationPending
	}
	return fmt.Sprintf("%s %s is gateway %s %s, %s", spec.what, c.id, spec.what, f.GatewayID, phase), nil
}

// apply moves status by what the gateway said.
func (e *opExternal[T]) apply(from v1.OperationPhase, f transition.OperationFacts) (engine.Result, error) {
	c := e.c
	if f.RequestID == "" {
		f.RequestID = c.id
	}
	if f.PaymentID == "" {
		f.PaymentID = c.payment.Status.PaymentID
	}
	if _, err := transition.ApplyOperation(c.st, c.obj.GetAmount(), f, e.k.deps.Time()); err != nil {
		return engine.Result{}, err
	}
	res := engine.Result{Change: transition.Change{From: string(from), To: string(c.st.Phase)}}
	if !c.st.Phase.IsFinal() {
		res.RequeueAfter = engine.Jittered(e.k.deps.Cadence.OperationPoll)
	}
	return res, nil
}

// paymentWaits says an operation waits for its payment to reach phase want.
func paymentWaits(c interface{ paymentName() string }, p *v1.Payment, want string) error {
	phase := p.Status.Phase
	if phase == "" {
		phase = v1.PaymentPending
	}
	return &engine.WaitError{Reason: v1.ReasonPaymentNotReady, RequeueAfter: paymentWait,
		Message: fmt.Sprintf("payment %s is %s; waiting for it to be %s", c.paymentName(), phase, want)}
}

// paymentRefuses says the payment's final phase rules the operation out.
func paymentRefuses(c interface{ paymentName() string }, p *v1.Payment, what string) error {
	return &engine.TerminalError{Reason: v1.ReasonPaymentIneligible,
		Message: fmt.Sprintf("payment %s is %s: it can never be %s", c.paymentName(), p.Status.Phase, what)}
}

// notFound reports whether an inquiry error means the gateway does not
// know the id (nil error: it does).
func notFound(err error) (bool, error) {
	if err == nil {
		return false, nil
	}
	if gateway.Code(err) == gateway.CodeOrderNotExist {
		return true, nil
	}
	return false, err
}
