package payment

import (
	"context"
	"errors"
	"fmt"
	"time"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

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
		return e.apply(p, transition.AutoCaptured(transition.SourceCapture, "", &resp.Result, &wire))
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
	case gateway.CredentialsRejected(err):
		// The credentials, not the cancel, were refused: wait for the
		// Secret and ask again, never record it as a refused cancel.
		return engine.Result{}, shared.CredentialsError(e.conn, err)
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
