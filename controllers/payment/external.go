package payment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/connection"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/money"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// paymentExternal acts on one payment at the gateway.
type paymentExternal struct {
	deps   *shared.Deps
	conn   *connection.Connection
	amount money.Amount
	// merchant is the secondary merchant's registration (spec.merchantRef),
	// nil for none.
	merchant *v1.MerchantRegistration
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
		return engine.Observation{}, shared.CredentialsError(e.conn, err)
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
	case gateway.CredentialsRejected(err):
		// Not the payment's failure: nothing was processed.
		return engine.Result{}, shared.CredentialsError(e.conn, err)
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
