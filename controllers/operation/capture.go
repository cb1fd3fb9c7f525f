package operation

import (
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/money"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// captureSpec is the Capture part of the operation adapter: captures of a
// manual-capture card authorization, together at most the authorized amount.
func captureSpec() opSpec[*v1.Capture] {
	return opSpec[*v1.Capture]{
		kind: "Capture", what: "capture", plural: "captures", done: "captured", moneyKind: v1.MoneyKindCapture,
		newObj:    func() *v1.Capture { return &v1.Capture{} },
		newList:   func() client.ObjectList { return &v1.CaptureList{} },
		requestID: ids.Capture,
		recorded:  func(p *v1.Payment) *v1.Money { return p.Status.Amounts.Captured },
		eligible:  captureEligible,
		prepare:   lastCaptureWaits,
		budget: func(_ context.Context, c *opCall[*v1.Capture]) (money.Amount, string, error) {
			auth := c.payment.Spec.Amount
			if a := c.payment.Status.Amounts.Authorized; a != nil {
				auth = *a
			}
			b, err := auth.Amount()
			return b, "was authorized", err
		},
		create: func(ctx context.Context, c *opCall[*v1.Capture]) (transition.OperationFacts, error) {
			req := &gateway.CaptureRequest{CaptureRequestID: c.id, PaymentID: c.payment.Status.PaymentID, CaptureAmount: c.wire}
			if c.obj.Spec.IsLastCapture {
				req.IsLastCapture = gateway.BoolPtr(true)
			}
			resp, err := c.conn.Client.Capture(ctx, req)
			if resp == nil {
				return transition.OperationFacts{}, err
			}
			return transition.FromCaptureResponse(resp), err
		},
		// A capture is one of the payment's transactions[].
		observe: func(ctx context.Context, c *opCall[*v1.Capture]) (transition.OperationFacts, bool, error) {
			resp, err := c.conn.Client.InquiryPayment(ctx, &gateway.InquiryPaymentRequest{PaymentID: c.payment.Status.PaymentID})
			if nf, err := notFound(err); nf || err != nil {
				return transition.OperationFacts{}, false, err
			}
			for _, t := range resp.Transactions {
				if t.TransactionType == gateway.TransactionCapture && t.TransactionRequestID == c.id {
					return transition.FromCaptureTransaction(resp.PaymentID, t), true, nil
				}
			}
			return transition.OperationFacts{}, false, nil
		},
	}
}

// captureEligible: captures need a live manual-capture authorization.
func captureEligible(c *opCall[*v1.Capture], now time.Time) error {
	p := c.payment
	switch {
	case !p.Spec.Authorization:
		return &engine.TerminalError{Reason: v1.ReasonPaymentIneligible, Message: fmt.Sprintf(
			"payment %s is not a card authorization (spec.authorization): there is nothing to capture", c.paymentName())}
	case p.Spec.CaptureMode != v1.CaptureManual:
		return &engine.TerminalError{Reason: v1.ReasonPaymentIneligible, Message: fmt.Sprintf(
			"payment %s is captured by the operator (captureMode Automatic); Capture objects need captureMode Manual", c.paymentName())}
	}
	switch p.Status.Phase {
	case v1.PaymentAuthorized:
		if exp := p.Status.AuthExpiryTime; exp != nil && !shared.GatewayNow(p, now).Before(exp.Time) {
			return &engine.TerminalError{Reason: v1.ReasonAuthorizationExpired, Message: fmt.Sprintf(
				"the authorization of payment %s expired at %s", c.paymentName(), exp.UTC().Format(time.RFC3339))}
		}
		return nil
	case v1.PaymentSucceeded:
		return &engine.TerminalError{Reason: v1.ReasonPaymentIneligible, Message: fmt.Sprintf(
			"payment %s is Succeeded: its authorization is fully captured", c.paymentName())}
	case v1.PaymentFailed, v1.PaymentCancelled, v1.PaymentExpired:
		return paymentRefuses(c, p, "captured")
	}
	return paymentWaits(c, p, "Authorized")
}

// lastCaptureWaits holds a capture marked isLastCapture while any other
// capture of the same payment (not itself marked last) is still unfinished.
func lastCaptureWaits(ctx context.Context, c *opCall[*v1.Capture]) error {
	if !c.obj.Spec.IsLastCapture {
		return nil
	}
	siblings, err := shared.ListObjects[*v1.Capture](ctx, c.deps.APIReader, &v1.CaptureList{}, c.obj.Namespace)
	if err != nil {
		return fmt.Errorf("list captures: %w", err)
	}
	var open []string
	for _, s := range siblings {
		if s.UID == c.obj.UID || s.Spec.PaymentRef.Name != c.obj.Spec.PaymentRef.Name || s.Spec.IsLastCapture || s.Status.Phase.IsFinal() {
			continue
		}
		open = append(open, s.Name)
	}
	if len(open) == 0 {
		return nil
	}
	return &engine.WaitError{Reason: v1.ReasonWaitingForCaptures, RequeueAfter: 2 * time.Second, Message: fmt.Sprintf(
		"isLastCapture closes the authorization of payment %s, so this capture waits for %v to finish", c.paymentName(), open)}
}
