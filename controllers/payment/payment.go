package payment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/connection"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/money"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// paymentKind is the Payment adapter for the engine.
type paymentKind struct {
	deps *shared.Deps
}

var _ engine.Kind[*v1.Payment] = paymentKind{}
var _ engine.Deriver[*v1.Payment] = paymentKind{}
var _ engine.CreateObserver[*v1.Payment] = (*paymentExternal)(nil)

func (paymentKind) Name() string                                 { return "Payment" }
func (paymentKind) New() *v1.Payment                             { return &v1.Payment{} }
func (paymentKind) Status(p *v1.Payment) any                     { return &p.Status }
func (paymentKind) Conditions(p *v1.Payment) *[]metav1.Condition { return &p.Status.Conditions }
func (paymentKind) Final(p *v1.Payment) bool                     { return p.Status.Phase.IsFinal() }
func (paymentKind) Wait(*v1.Payment, *engine.WaitError)          {}

func observeOnly(p *v1.Payment) bool { return p.Spec.ManagementPolicy == v1.ManagementObserve }

// Submitted: a pay call was sent (its request id is recorded before the
// call; its outcome may be unknown), or the gateway has answered one; for
// Observe there is nothing to create.
func (paymentKind) Submitted(p *v1.Payment) bool {
	return paymentSubmitted(p)
}

func paymentSubmitted(p *v1.Payment) bool {
	return observeOnly(p) || p.Status.PaymentRequestID != "" || p.Status.PaymentID != "" ||
		(p.Status.Phase != "" && p.Status.Phase != v1.PaymentPending)
}

// WantsCancel: spec.cancel is set, the payment can still be cancelled, and
// the gateway has not already refused this cancel.
func (paymentKind) WantsCancel(p *v1.Payment) bool {
	if !p.Spec.Cancel || observeOnly(p) {
		return false
	}
	switch p.Status.Phase {
	case v1.PaymentCancelled, v1.PaymentFailed, v1.PaymentExpired:
		return false
	}
	return !cancelRefused(p)
}

func cancelRefused(p *v1.Payment) bool {
	r := p.Status.LastResult
	return r != nil && r.API == string(transition.SourceCancel) && r.Status == gateway.StatusFail
}

func (paymentKind) NeedsFinalizer(p *v1.Payment) bool {
	return p.Spec.DeletionPolicy == v1.DeletionCancel && !observeOnly(p)
}

func (k paymentKind) Fail(p *v1.Payment, reason, message string) error {
	res := gateway.Result{ResultCode: reason, ResultStatus: gateway.StatusFail, ResultMessage: message}
	_, err := transition.ApplyPayment(p, transition.PaymentFacts{Source: transition.SourceController,
		GatewayStatus: gateway.PaymentStatusFail, Result: &res}, k.deps.Time())
	return err
}

func (paymentKind) SetConditions(p *v1.Payment, err error) {
	p.Status.ObservedGeneration = p.Generation
	transition.SetPaymentConditions(p)
	var wait *engine.WaitError
	if errors.As(err, &wait) && (p.Status.Phase == "" || p.Status.Phase == v1.PaymentPending) {
		transition.SetWaiting(&p.Status.Conditions, p.Generation, wait.Reason, wait.Message)
	}
	if wait != nil && wait.Blocked {
		transition.SetPaymentBlocked(p, true, wait.Reason, wait.Message)
	} else {
		transition.SetPaymentBlocked(p, false, "", "")
	}
	reason := shared.ReasonOf(err)
	if err == nil && cancelRefused(p) && p.Spec.Cancel {
		r := p.Status.LastResult
		err, reason = fmt.Errorf("the gateway refused the cancel: %s %s", r.Code, r.Message), v1.ReasonCancelRefused
	}
	transition.SetSynced(&p.Status.Conditions, p.Generation, err, reason)
}

// Derive raises the payment's totals to what its Capture, Refund and
// CustomsDeclaration objects report as succeeded. No gateway call.
func (k paymentKind) Derive(ctx context.Context, p *v1.Payment) error {
	if p.Status.PaymentID == "" {
		return nil
	}
	f := transition.PaymentFacts{Source: transition.SourceController}
	var caps v1.CaptureList
	if err := k.deps.Client.List(ctx, &caps, client.InNamespace(p.Namespace), client.MatchingFields{shared.IndexPaymentRef: p.Name}); err != nil {
		return fmt.Errorf("list captures: %w", err)
	}
	var refs v1.RefundList
	if err := k.deps.Client.List(ctx, &refs, client.InNamespace(p.Namespace), client.MatchingFields{shared.IndexPaymentRef: p.Name}); err != nil {
		return fmt.Errorf("list refunds: %w", err)
	}
	var decls v1.CustomsDeclarationList
	if err := k.deps.Client.List(ctx, &decls, client.InNamespace(p.Namespace), client.MatchingFields{shared.IndexPaymentRef: p.Name}); err != nil {
		return fmt.Errorf("list declarations: %w", err)
	}
	var capAmts, refAmts, declAmts []v1.Money
	for _, c := range caps.Items {
		if c.Status.Phase == v1.OperationSucceeded && c.Status.PaymentID == p.Status.PaymentID {
			capAmts = append(capAmts, c.Spec.Amount)
		}
		if r := c.Status.LastResult; r != nil && (r.Code == gateway.CodeAuthExpired || r.Code == v1.ReasonAuthorizationExpired) &&
			c.Status.PaymentID == p.Status.PaymentID {
			// The gateway refused a capture: its authorization lapsed.
			f.AuthLapsed = true
			f.Result = &gateway.Result{ResultCode: r.Code, ResultStatus: gateway.StatusFail,
				ResultMessage: "capture " + c.Name + " was refused: " + r.Message}
		}
	}
	for _, r := range refs.Items {
		if r.Status.Phase == v1.OperationSucceeded && r.Status.PaymentID == p.Status.PaymentID {
			refAmts = append(refAmts, r.Spec.Amount)
		}
	}
	for _, d := range decls.Items {
		if d.Status.Phase == v1.OperationSucceeded && d.Status.PaymentID == p.Status.PaymentID {
			declAmts = append(declAmts, d.Spec.Amount)
		}
	}
	var err error
	if f.Captured, err = wireSum(capAmts); err != nil {
		return err
	}
	if f.Refunded, err = wireSum(refAmts); err != nil {
		return err
	}
	if f.Declared, err = wireSum(declAmts); err != nil {
		return err
	}
	if f.Captured == nil && f.Refunded == nil && f.Declared == nil && !f.AuthLapsed {
		return nil
	}
	if p.Status.Phase == v1.PaymentAuthorized && f.Captured != nil {
		// Captures only succeed on a live authorization; let the transition
		// decide whether the authorization is now fully captured.
		f.GatewayStatus = gateway.PaymentStatusSuccess
	}
	if _, err := transition.ApplyPayment(p, f, k.deps.Time()); err != nil {
		return fmt.Errorf("apply totals: %w", err)
	}
	return nil
}

// wireSum totals amounts into a wire amount; nil for none.
func wireSum(ms []v1.Money) (*gateway.Amount, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	total, err := money.Zero(ms[0].Currency)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		a, err := m.Amount()
		if err != nil {
			return nil, err
		}
		if total, err = total.Add(a); err != nil {
			return nil, err
		}
	}
	return &gateway.Amount{Currency: total.Currency(), Value: total.MinorString()}, nil
}

// Connect resolves the merchant connection and parses the amount.
func (k paymentKind) Connect(ctx context.Context, p *v1.Payment) (engine.External[*v1.Payment], error) {
	conn, err := shared.GatewayConnection(ctx, k.deps, p.Spec.GatewayRef.Name)
	if err != nil {
		return nil, err
	}
	amount, err := p.Spec.Amount.Amount()
	if err != nil {
		return nil, &engine.TerminalError{Reason: v1.ReasonInvalidAmount, Message: "spec.amount: " + err.Error(), Cause: err}
	}
	return &paymentExternal{deps: k.deps, conn: conn, amount: amount}, nil
}

// checkNew checks a payment about to be created against what only the
// operator can check (per-method minimums, methods the GatewayConfig's
// consult profiles offer). It runs after the gateway said it does not know
// the payment, or, for a payment paid without asking first, asks it when
// the check fails (unpayable): one it already has is adopted, never failed
// for these.
func (e *paymentExternal) checkNew(ctx context.Context, p *v1.Payment) error {
	if err := money.CheckMethodRules(p.Spec.PaymentMethod.Type, e.amount); err != nil {
		return &engine.TerminalError{Reason: v1.ReasonInvalidAmount, Message: "spec.amount: " + err.Error()}
	}
	var gwc v1.GatewayConfig
	if err := e.deps.Client.Get(ctx, types.NamespacedName{Name: p.Spec.GatewayRef.Name}, &gwc); err == nil {
		if msg := notOffered(&gwc, p); msg != "" {
			return &engine.TerminalError{Reason: v1.ReasonMethodNotOffered, Message: msg}
		}
	}
	return nil
}

// notOffered checks the payment method against the consult results of every
// profile that matches the payment (terminal type and currency); "" when offered
// or when no profile matches.
func notOffered(gwc *v1.GatewayConfig, p *v1.Payment) string {
	for _, prof := range gwc.Spec.ConsultProfiles {
		if prof.TerminalType != p.Spec.Env.TerminalType || prof.Amount.Currency != p.Spec.Amount.Currency {
			continue
		}
		for _, res := range gwc.Status.PaymentMethods {
			if res.Profile != prof.Name || res.Error != "" || res.ConsultTime == nil {
				continue
			}
			var offered []string
			for _, m := range res.Methods {
				if m.Enabled {
					offered = append(offered, m.Type)
				}
				if m.Type == p.Spec.PaymentMethod.Type && m.Enabled {
					return ""
				}
			}
			return fmt.Sprintf("payment method %s is not offered to this merchant for %s %s payments (consult profile %q offers: %s)",
				p.Spec.PaymentMethod.Type, prof.TerminalType, prof.Amount.Currency, prof.Name, strings.Join(offered, ", "))
		}
	}
	return ""
}

// paymentExternal acts on one payment at the gateway.
type paymentExternal struct {
	deps   *shared.Deps
	conn   *connection.Connection
	amount money.Amount
}

// requestID is the payment's paymentRequestId (package ids: status, spec,
// then derived from the manifest).
func (e *paymentExternal) requestID(p *v1.Payment) string {
	return ids.Payment(p, e.conn.Config.Spec.IdentityScope)
}

// Observe inquires and applies what the gateway knows. A payment the
// gateway does not know does not exist (the engine pays); one this object
// never paid is adopted, unless the gateway holds another amount or method
// under its identity.
func (e *paymentExternal) Observe(ctx context.Context, p *v1.Payment) (engine.Observation, error) {
	if p.Status.Phase == v1.PaymentAuthorized && wantsAutoCapture(p) {
		// The status shows the live authorization: capturing it is the update.
		return engine.Observation{Exists: true, NeedsUpdate: true}, nil
	}
	obs, err := e.lookup(ctx, p, !paymentSubmitted(p))
	if err == nil && !obs.Exists && observeOnly(p) {
		return engine.Observation{}, &engine.TerminalError{Reason: v1.ReasonPaymentNotFound,
			Message: fmt.Sprintf("the gateway has no payment %s to observe", p.Spec.PaymentID)}
	}
	return obs, err
}

// lookup inquires and applies the payment the gateway holds under p's
// identity; Exists is false when it holds none (ORDER_NOT_EXIST). adopting
// says p never paid it: the payment is checked to be p's (else an
// IdentityConflict) and described for the Adopted condition.
func (e *paymentExternal) lookup(ctx context.Context, p *v1.Payment, adopting bool) (engine.Observation, error) {
	resp, err := e.inquiry(ctx, p)
	if gateway.Code(err) == gateway.CodeOrderNotExist {
		return engine.Observation{}, nil
	}
	if err != nil {
		return engine.Observation{}, err
	}
	var adopted string
	if adopting {
		if msg := paymentConflict(p, e.amount, resp); msg != "" {
			return engine.Observation{}, &engine.TerminalError{Reason: v1.ReasonIdentityConflict, Message: msg}
		}
		adopted = adoptedPayment(resp)
	}
	p.Status.LastCheckTime = shared.MetaTime(e.deps.Time())
	res, err := e.apply(p, transition.FromInquiryPayment(resp))
	if err == nil {
		res, err = e.lapse(p, res)
	}
	if err != nil {
		return engine.Observation{}, err
	}
	return engine.Observation{Exists: true, Adopted: adopted, Result: res,
		NeedsUpdate: p.Status.Phase == v1.PaymentAuthorized && wantsAutoCapture(p)}, nil
}

// inquiry asks the gateway about the payment: by paymentId once known,
// else by the imported spec.paymentId, else by paymentRequestId.
func (e *paymentExternal) inquiry(ctx context.Context, p *v1.Payment) (*gateway.InquiryPaymentResponse, error) {
	req := &gateway.InquiryPaymentRequest{PaymentID: p.Status.PaymentID}
	switch {
	case req.PaymentID != "":
	case observeOnly(p):
		req.PaymentID = p.Spec.PaymentID
	default:
		req.PaymentRequestID = e.requestID(p)
	}
	return e.conn.Client.InquiryPayment(ctx, req)
}

// paymentConflict says how the payment the gateway holds under p's identity
// differs from p's spec; "" when it is the same payment.
func paymentConflict(p *v1.Payment, amount money.Amount, r *gateway.InquiryPaymentResponse) string {
	var diffs []string
	if a := r.PaymentAmount; a != nil && (a.Currency != amount.Currency() || a.Value != amount.MinorString()) {
		diffs = append(diffs, fmt.Sprintf("amount %s %s (minor units) where the spec asks %s %s", a.Value, a.Currency, amount.MinorString(), amount.Currency()))
	}
	if m := r.PaymentMethodType; m != "" && m != p.Spec.PaymentMethod.Type {
		diffs = append(diffs, fmt.Sprintf("payment method %s where the spec asks %s", m, p.Spec.PaymentMethod.Type))
	}
	if len(diffs) == 0 {
		return ""
	}
	return fmt.Sprintf("the gateway already holds payment %s under paymentRequestId %s with %s: this name was used before for another payment; nothing was charged; to charge, create a Payment with a new name",
		r.PaymentID, r.PaymentRequestID, strings.Join(diffs, " and "))
}

// adoptedPayment describes an adopted payment for its Adopted condition.
func adoptedPayment(r *gateway.InquiryPaymentResponse) string {
	msg := fmt.Sprintf("paymentRequestId %s is gateway payment %s, %s", r.PaymentRequestID, r.PaymentID, r.PaymentStatus)
	switch r.PaymentStatus {
	case gateway.PaymentStatusFail, gateway.PaymentStatusCancelled:
		msg += "; a name is spent once used: to charge again, create a Payment with a new name"
	}
	return msg
}

// lapse ends an authorization whose authExpiryTime has passed on the
// gateway's clock: the gateway's inquiry still says SUCCESS, but nothing can
// be captured any more.
func (e *paymentExternal) lapse(p *v1.Payment, res engine.Result) (engine.Result, error) {
	exp := p.Status.AuthExpiryTime
	if p.Status.Phase != v1.PaymentAuthorized || exp == nil || shared.GatewayNow(p, e.deps.Time()).Before(exp.Time) {
		return res, nil
	}
	r := gateway.Result{ResultCode: gateway.CodeAuthExpired, ResultStatus: gateway.StatusFail,
		ResultMessage: "the authorization expired at " + exp.UTC().Format(time.RFC3339) + "; what was not captured is released"}
	return e.apply(p, transition.PaymentFacts{Source: transition.SourceController, AuthLapsed: true, Result: &r})
}

func wantsAutoCapture(p *v1.Payment) bool {
	return p.Spec.CaptureMode != v1.CaptureManual && !observeOnly(p) && !autoCaptureRefused(p)
}

func autoCaptureRefused(p *v1.Payment) bool {
	r := p.Status.LastResult
	return r != nil && r.API == string(transition.SourceCapture) && r.Status == gateway.StatusFail
}

// Create sends pay with the payment's idempotency id, recorded in status
// first so that the id never changes once a call may have reached the gateway.
func (e *paymentExternal) Create(ctx context.Context, p *v1.Payment) (engine.Result, error) {
	req, expiry, err := e.newPay(ctx, p)
	if err != nil {
		return engine.Result{}, err
	}
	p.Status.PaymentRequestID = req.PaymentRequestID
	resp, err := e.conn.Client.Pay(ctx, req)
	return e.payAnswered(ctx, p, req, expiry, resp, err)
}

// CreateObserves: a wallet payment that never paid is paid without asking
// the gateway first (CreateObserve). Pay is idempotent on paymentRequestId
// and answers a repeat with what the gateway holds (gateway contract, pay,
// Idempotency), and a new wallet payment is always answered
// PAYMENT_IN_PROCESS (its user has yet to pay), so an answer showing more
// is a replay. A card payment keeps observe-first: its first pay may end it
// at once (2D, card data sent in full), so a SUCCESS could not tell a
// replay from a new payment, and the gateway's clock cannot be compared with
// the cluster's to tell either.
func (e *paymentExternal) CreateObserves(p *v1.Payment) bool {
	return p.Spec.PaymentMethod.Type != methodCard
}

// methodCard is the paymentMethodType of card payments.
const methodCard = "CARD"

// CreateObserve pays a wallet payment that never paid, without inquiring
// first. An answer only a payment the gateway already held gets (see
// heldBefore) is adopted through an inquiry, as observe-first adopts: it
// rebuilds the totals, checks that the payment is this one, and for one
// that ended says to charge again under a new name. PAYMENT_IN_PROCESS is a
// new payment's answer, or the replay of an unpaid one's, which is the same
// answer: either way the payment is Processing with the same checkout link.
func (e *paymentExternal) CreateObserve(ctx context.Context, p *v1.Payment) (engine.Observation, error) {
	req, expiry, err := e.newPay(ctx, p)
	if err != nil {
		return e.unpayable(ctx, p, err)
	}
	p.Status.PaymentRequestID = req.PaymentRequestID
	resp, err := e.conn.Client.Pay(ctx, req)
	if !heldBefore(resp, err) {
		res, err := e.payAnswered(ctx, p, req, expiry, resp, err)
		return engine.Observation{Result: res}, err
	}
	obs, ierr := e.lookup(ctx, p, true)
	if ierr == nil && !obs.Exists {
		// The gateway contradicts itself for now: the next reconcile
		// (which observes first: the pay was sent) asks again.
		ierr = fmt.Errorf("inquiryPayment does not find paymentRequestId %s", req.PaymentRequestID)
	}
	if ierr != nil {
		return engine.Observation{}, fmt.Errorf("pay answered for a payment the gateway already held (%s): %w", answerCode(resp, err), ierr)
	}
	return obs, nil
}

// heldBefore reports whether pay's answer to a wallet payment that never
// paid shows a payment the gateway held before the call: a final SUCCESS (a
// new wallet payment waits for its user first), or a refusal that only a
// payment which already ended gets (PROCESS_FAIL: it is FAIL or CANCELLED;
// ORDER_IS_CLOSED, ORDER_IS_CANCELED).
func heldBefore(resp *gateway.PayResponse, err error) bool {
	var rerr *gateway.ResultError
	switch {
	case err == nil:
		return resp != nil && resp.Result.ResultStatus == gateway.StatusSuccess
	case errors.As(err, &rerr) && rerr.Status == gateway.StatusFail:
		switch rerr.Code {
		case gateway.CodeProcessFail, gateway.CodeOrderIsClosed, gateway.CodeOrderIsCanceled:
			return true
		}
	}
	return false
}

// answerCode names pay's answer for messages.
func answerCode(resp *gateway.PayResponse, err error) string {
	if c := gateway.Code(err); c != "" {
		return c
	}
	if resp != nil {
		return resp.Result.ResultCode
	}
	return ""
}

// unpayable concludes a payment the operator will not pay as specified (a
// check only it makes refused the spec): the gateway may still hold what an
// earlier object of this name paid, which is adopted, never failed, as
// observe-first does; otherwise the refusal stands.
func (e *paymentExternal) unpayable(ctx context.Context, p *v1.Payment, refused error) (engine.Observation, error) {
	var term *engine.TerminalError
	if !errors.As(refused, &term) {
		return engine.Observation{}, refused
	}
	obs, err := e.lookup(ctx, p, true)
	if err == nil && !obs.Exists {
		return obs, refused
	}
	return obs, err
}

// newPay checks a payment about to be paid (checkNew) and builds its pay request.
func (e *paymentExternal) newPay(ctx context.Context, p *v1.Payment) (*gateway.PayRequest, *time.Time, error) {
	if err := e.checkNew(ctx, p); err != nil {
		return nil, nil, err
	}
	return e.payRequest(ctx, p)
}

// payAnswered applies pay's answer: S or PAYMENT_IN_PROCESS as the
// payment's state, an F through payRefused, a request the client would not
// send as InvalidSpec; anything else is Unknown and retried with the same id.
func (e *paymentExternal) payAnswered(ctx context.Context, p *v1.Payment, req *gateway.PayRequest, expiry *time.Time,
	resp *gateway.PayResponse, err error) (engine.Result, error) {
	var rerr *gateway.ResultError
	switch {
	case err == nil || gateway.IsInProcess(err):
		f := transition.FromPayResponse(resp)
		f.ExpiryTime = expiry
		if f.PaymentRequestID == "" {
			f.PaymentRequestID = req.PaymentRequestID
		}
		return e.apply(p, f)
	case errors.As(err, &rerr) && rerr.Status == gateway.StatusFail:
		return e.payRefused(ctx, p, req, resp, rerr)
	case errors.Is(err, gateway.ErrInvalidRequest):
		return engine.Result{}, &engine.TerminalError{Reason: v1.ReasonInvalidSpec, Message: err.Error()}
	default:
		// Unknown: the engine retries with the same paymentRequestId.
		return engine.Result{}, err
	}
}

// payRefused concludes an F answer to pay. A repeated id whose payment
// already ended (PROCESS_FAIL, ORDER_IS_CLOSED, ORDER_IS_CANCELED) shows the
// real final phase; one held with other parameters is an identity conflict.
func (e *paymentExternal) payRefused(ctx context.Context, p *v1.Payment, req *gateway.PayRequest, resp *gateway.PayResponse, rerr *gateway.ResultError) (engine.Result, error) {
	switch rerr.Code {
	case gateway.CodeRepeatReqInconsistent:
		return engine.Result{}, &engine.TerminalError{Reason: v1.ReasonIdentityConflict, Message: e.repeatConflict(ctx, p, req, rerr)}
	case gateway.CodeProcessFail, gateway.CodeOrderIsClosed, gateway.CodeOrderIsCanceled:
		if ir, ierr := e.inquiry(ctx, p); ierr == nil {
			f := transition.FromInquiryPayment(ir)
			if f.Result == nil {
				// The inquiry names no result (a cancelled payment): the
				// refusal says why nothing was charged.
				f.Result = &gateway.Result{ResultCode: rerr.Code, ResultStatus: rerr.Status, ResultMessage: rerr.Message}
			}
			res, err := e.apply(p, f)
			if err != nil || p.Status.Phase.IsFinal() {
				if r := p.Status.LastResult; err == nil && r != nil {
					r.Message = strings.TrimSpace(r.Message + " (paymentRequestId " + req.PaymentRequestID +
						" is spent: to charge again, create a Payment with a new name)")
				}
				return res, err
			}
		}
	}
	f := transition.PaymentFacts{Source: transition.SourcePay, GatewayStatus: gateway.PaymentStatusFail,
		PaymentRequestID: req.PaymentRequestID, Result: &gateway.Result{ResultCode: rerr.Code, ResultStatus: rerr.Status, ResultMessage: rerr.Message}}
	if resp != nil {
		f.PaymentID = resp.PaymentID
	}
	return e.apply(p, f)
}

// repeatConflict says why pay refused paymentRequestId as used before with
// other parameters: what differs, when an inquiry shows it (only the
// message depends on it; nothing is applied), else the gateway's words.
func (e *paymentExternal) repeatConflict(ctx context.Context, p *v1.Payment, req *gateway.PayRequest, rerr *gateway.ResultError) string {
	if ir, err := e.inquiry(ctx, p); err == nil {
		if msg := paymentConflict(p, e.amount, ir); msg != "" {
			return msg
		}
	}
	return fmt.Sprintf("paymentRequestId %s was used before with another amount or payment method (the gateway: %s); nothing was charged; to charge, create a Payment with a new name",
		req.PaymentRequestID, rerr.Message)
}

// Update captures the full authorized amount (captureMode Automatic) with
// an id that follows the payment's own, so a re-created payment re-sends
// the same capture instead of a second one.
func (e *paymentExternal) Update(ctx context.Context, p *v1.Payment) (engine.Result, error) {
	id := ids.AutoCapture(p, e.conn.Config.Spec.IdentityScope)
	wire := gateway.Amount{Currency: e.amount.Currency(), Value: e.amount.MinorString()}
	resp, err := e.conn.Client.Capture(ctx, &gateway.CaptureRequest{CaptureRequestID: id, PaymentID: p.Status.PaymentID,
		CaptureAmount: wire, IsLastCapture: gateway.BoolPtr(true)})
	var rerr *gateway.ResultError
	switch {
	case err == nil:
		return e.apply(p, transition.PaymentFacts{Source: transition.SourceCapture, GatewayStatus: gateway.PaymentStatusSuccess,
			Captured: &wire, Result: &resp.Result})
	case gateway.IsInProcess(err):
		return engine.Result{RequeueAfter: engine.Jittered(10 * time.Second)}, nil
	case errors.As(err, &rerr) && rerr.Status == gateway.StatusFail:
		// Recorded; the next reconcile inquires (an expired or voided
		// authorization shows there) instead of capturing again.
		res := gateway.Result{ResultCode: rerr.Code, ResultStatus: rerr.Status, ResultMessage: rerr.Message}
		if _, err := transition.ApplyPayment(p, transition.PaymentFacts{Source: transition.SourceCapture, Result: &res}, e.deps.Time()); err != nil {
			return engine.Result{}, fmt.Errorf("record the refused automatic capture: %w", err)
		}
		return engine.Result{RequeueAfter: time.Second}, nil
	default:
		return engine.Result{}, err
	}
}

// Cancel cancels the payment (spec.cancel, or deletion with deletionPolicy Cancel).
func (e *paymentExternal) Cancel(ctx context.Context, p *v1.Payment) (engine.Result, error) {
	if err := e.holdCancel(ctx, p); err != nil {
		return engine.Result{}, err
	}
	now := e.deps.Time()
	id := e.requestID(p)
	if p.Status.PaymentID == "" && (p.Status.Phase == "" || p.Status.Phase == v1.PaymentPending) {
		// Nothing was paid; make sure nothing will be: inquire by request
		// id first in case a pay call we lost did reach the gateway.
		if _, err := e.conn.Client.InquiryPayment(ctx, &gateway.InquiryPaymentRequest{PaymentRequestID: id}); gateway.Code(err) == gateway.CodeOrderNotExist {
			f := transition.PaymentFacts{Source: transition.SourceCancel, GatewayStatus: gateway.PaymentStatusCancelled, PaymentRequestID: id}
			return e.apply(p, f)
		} else if err != nil {
			return engine.Result{}, err
		}
	}
	req := &gateway.CancelRequest{PaymentID: p.Status.PaymentID}
	if req.PaymentID == "" {
		req.PaymentRequestID = id
	}
	resp, err := e.conn.Client.Cancel(ctx, req)
	var rerr *gateway.ResultError
	switch {
	case err == nil:
		return e.apply(p, transition.PaymentFacts{Source: transition.SourceCancel, GatewayStatus: gateway.PaymentStatusCancelled,
			PaymentID: resp.PaymentID, CancelTime: resp.CancelTime, Result: &resp.Result})
	case errors.As(err, &rerr) && rerr.Status == gateway.StatusFail:
		res := gateway.Result{ResultCode: rerr.Code, ResultStatus: rerr.Status, ResultMessage: rerr.Message}
		ch, aerr := transition.ApplyPayment(p, transition.PaymentFacts{Source: transition.SourceCancel, Result: &res}, now)
		if aerr != nil {
			return engine.Result{}, aerr
		}
		// Recorded in status.lastResult; SetConditions turns it into
		// Synced=False CancelRefused, and WantsCancel stops asking.
		return engine.Result{Change: ch, RequeueAfter: time.Second}, nil
	default:
		return engine.Result{}, err
	}
}

func (e *paymentExternal) apply(p *v1.Payment, f transition.PaymentFacts) (engine.Result, error) {
	ch, err := transition.ApplyPayment(p, f, e.deps.Time())
	if err != nil {
		return engine.Result{}, err
	}
	return engine.Result{Change: ch, RequeueAfter: e.deps.Cadence.Payment(p, e.conn.Config.Spec.NotificationBaseURL != "", e.deps.Time())}, nil
}

// payRequest builds the pay request. The expiry time is derived from the
// object's creation time, so a re-sent pay is byte-for-byte the same request.
func (e *paymentExternal) payRequest(ctx context.Context, p *v1.Payment) (*gateway.PayRequest, *time.Time, error) {
	id := e.requestID(p)
	s := p.Spec
	req := &gateway.PayRequest{
		ProductCode:        gateway.ProductCodeCashierPayment,
		PaymentRequestID:   id,
		PaymentAmount:      gateway.Amount{Currency: e.amount.Currency(), Value: e.amount.MinorString()},
		PaymentMethod:      gateway.PaymentMethod{PaymentMethodType: s.PaymentMethod.Type},
		PaymentRedirectURL: s.RedirectURL,
		PaymentNotifyURL:   ids.NotifyURL(e.conn.Config.Spec.NotificationBaseURL, ids.KindPayment, p.Namespace, p.Name),
		Env: &gateway.Env{TerminalType: s.Env.TerminalType, OsType: s.Env.OSType, ClientIP: s.Env.ClientIP,
			UserAgent: s.Env.UserAgent},
		UserRegion:     s.UserRegion,
		MerchantRegion: s.MerchantRegion,
	}
	var expiry *time.Time
	if s.ExpiresAfter != nil && s.ExpiresAfter.Duration > 0 {
		t := p.CreationTimestamp.Add(s.ExpiresAfter.Duration)
		expiry = &t
		req.PaymentExpiryTime = gateway.FormatTime(t)
	}
	if s.SettlementCurrency != "" {
		req.SettlementStrategy = &gateway.SettlementStrategy{SettlementCurrency: s.SettlementCurrency}
	}
	if s.Authorization {
		// The operator captures itself in captureMode Automatic (with its
		// own idempotency id), so the gateway is always told MANUAL.
		req.PaymentFactor = &gateway.PaymentFactor{IsAuthorization: gateway.BoolPtr(true), CaptureMode: "MANUAL"}
	}
	if c := s.CreditPayPlan; c != nil {
		req.CreditPayPlan = &gateway.CreditPayPlan{InstallmentNum: gateway.Int(c.Installments)}
		if c.FeePercentage != nil {
			fee := gateway.Int(*c.FeePercentage)
			req.CreditPayPlan.CreditPayFeeType = "PERCENTAGE"
			req.CreditPayPlan.FeePercentage = &fee
		}
	}
	if o := s.Order; o != nil {
		order, err := orderToWire(o)
		if err != nil {
			return nil, nil, &engine.TerminalError{Reason: v1.ReasonInvalidAmount, Message: err.Error(), Cause: err}
		}
		req.Order = order
	}
	if ref := s.PaymentMethod.CardSecretRef; ref != nil {
		meta, token, err := e.cardData(ctx, p.Namespace, ref.Name)
		if err != nil {
			return nil, nil, err
		}
		req.PaymentMethod.PaymentMethodMetaData = meta
		req.PaymentMethod.PaymentMethodID = token
	}
	if s.PaymentMethod.ThreeDS != nil {
		if req.PaymentMethod.PaymentMethodMetaData == nil {
			req.PaymentMethod.PaymentMethodMetaData = map[string]any{}
		}
		req.PaymentMethod.PaymentMethodMetaData[gateway.CardMetaIs3DS] = *s.PaymentMethod.ThreeDS
	}
	return req, expiry, nil
}

// cardData reads the card Secret. Its contents go only into the signed pay
// body, never into logs, events or status.
func (e *paymentExternal) cardData(ctx context.Context, ns, name string) (map[string]any, string, error) {
	key := types.NamespacedName{Namespace: ns, Name: name}
	wires := map[string]string{v1.CardSecretKeyNumber: gateway.CardMetaNumber, v1.CardSecretKeyCVV: gateway.CardMetaCVV,
		v1.CardSecretKeyExpiryMonth: gateway.CardMetaExpiryMonth, v1.CardSecretKeyExpiryYear: gateway.CardMetaExpiryYear}
	card := []string{v1.CardSecretKeyNumber, v1.CardSecretKeyCVV, v1.CardSecretKeyExpiryMonth, v1.CardSecretKeyExpiryYear}
	vals, err := shared.SecretKeys(ctx, e.deps.APIReader, "card secret", key, append(card, v1.CardSecretKeyToken, v1.CardSecretKeyHolderName)...)
	if err != nil {
		return nil, "", shared.SecretError(err, v1.ReasonCardSecretMissing, v1.ReasonCardSecretInvalid)
	}
	if tok := vals[v1.CardSecretKeyToken]; tok != "" {
		return nil, tok, nil
	}
	if err := shared.RequireKeys(vals, "card secret", key, card...); err != nil {
		return nil, "", shared.SecretError(fmt.Errorf("%w (or a %s)", err, v1.CardSecretKeyToken), v1.ReasonCardSecretMissing, v1.ReasonCardSecretInvalid)
	}
	meta := map[string]any{}
	for _, k := range card {
		meta[wires[k]] = strings.TrimSpace(vals[k])
	}
	if h := vals[v1.CardSecretKeyHolderName]; h != "" {
		meta[gateway.CardMetaHolderName] = map[string]string{"fullName": h}
	}
	return meta, "", nil
}

// orderToWire is spec.order as the pay call sends it; an amount that does
// not parse is an error naming the field, never left out.
func orderToWire(o *v1.Order) (*gateway.Order, error) {
	w := &gateway.Order{ReferenceOrderID: o.ReferenceOrderID, OrderDescription: o.Description}
	if o.Amount != nil {
		a, err := transition.WireFromMoney(*o.Amount)
		if err != nil {
			return nil, fmt.Errorf("spec.order.amount: %w", err)
		}
		w.OrderAmount = &a
	}
	for i, g := range o.Goods {
		wg := gateway.Goods{ReferenceGoodsID: g.ID, GoodsName: g.Name, GoodsCategory: g.Category, GoodsBrand: g.Brand, GoodsURL: g.URL}
		if g.Quantity > 0 {
			wg.GoodsQuantity = fmt.Sprint(g.Quantity)
		}
		if g.UnitAmount != nil {
			a, err := transition.WireFromMoney(*g.UnitAmount)
			if err != nil {
				return nil, fmt.Errorf("spec.order.goods[%d].unitAmount: %w", i, err)
			}
			wg.GoodsUnitAmount = &a
		}
		w.Goods = append(w.Goods, wg)
	}
	if b := o.Buyer; b != nil {
		w.Buyer = &gateway.Buyer{ReferenceBuyerID: b.ID, BuyerEmail: b.Email, BuyerPhoneNo: b.Phone}
		if b.Name != "" {
			w.Buyer.BuyerName = &gateway.UserName{FullName: b.Name}
		}
	}
	if m := o.Merchant; m != nil {
		w.Merchant = &gateway.Merchant{ReferenceMerchantID: m.ID, MerchantName: m.Name, MerchantMCC: m.MCC}
		if m.Region != "" {
			w.Merchant.MerchantAddress = &gateway.Address{Region: m.Region}
		}
	}
	if sh := o.Shipping; sh != nil {
		w.Shipping = &gateway.Shipping{ShippingCarrier: sh.Carrier,
			ShippingAddress: &gateway.Address{Region: sh.Region, City: sh.City, Address1: sh.Address, ZipCode: sh.ZipCode}}
		if sh.Name != "" {
			w.Shipping.ShippingName = &gateway.UserName{FullName: sh.Name}
		}
	}
	return w, nil
}
