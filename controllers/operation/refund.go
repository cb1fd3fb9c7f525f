package operation

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/money"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// refundSpec is the Refund part of the operation adapter: refunds of a paid
// payment (of what was captured, for cards), together at most what was paid.
// A refund waits, Blocked DisputeOpen, while a chargeback is unjudged.
func refundSpec() opSpec[*v1.Refund] {
	return opSpec[*v1.Refund]{
		kind: "Refund", what: "refund", plural: "refunds", done: "refunded", moneyKind: v1.MoneyKindRefund,
		newObj:    func() *v1.Refund { return &v1.Refund{} },
		newList:   func() client.ObjectList { return &v1.RefundList{} },
		requestID: ids.Refund,
		recorded:  func(p *v1.Payment) *v1.Money { return p.Status.Amounts.Refunded },
		eligible:  refundEligible,
		prepare:   refundPrepare,
		budget:    refundBudget,
		create: func(ctx context.Context, c *opCall[*v1.Refund]) (transition.OperationFacts, error) {
			captureID, _ := c.prepared.(string)
			resp, err := c.conn.Client.Refund(ctx, &gateway.RefundRequest{RefundRequestID: c.id, PaymentID: c.payment.Status.PaymentID,
				RefundAmount: c.wire, RefundReason: c.obj.Spec.Reason, CaptureID: captureID,
				RefundNotifyURL: ids.NotifyURL(c.conn.Config.Spec.NotificationBaseURL, ids.KindRefund, c.obj.Namespace, c.obj.Name)})
			if resp == nil {
				return transition.OperationFacts{}, err
			}
			return transition.FromRefundResponse(resp), err
		},
		observe: func(ctx context.Context, c *opCall[*v1.Refund]) (transition.OperationFacts, bool, error) {
			resp, err := c.conn.Client.InquiryRefund(ctx, &gateway.InquiryRefundRequest{RefundRequestID: c.id})
			if nf, err := notFound(err); nf || err != nil {
				return transition.OperationFacts{}, false, err
			}
			return transition.FromInquiryRefund(resp), true, nil
		},
		// inquiryRefund names no payment: before adopting, the payment's
		// transactions must list the refund.
		belongs: func(ctx context.Context, c *opCall[*v1.Refund]) (bool, error) {
			resp, err := c.conn.Client.InquiryPayment(ctx, &gateway.InquiryPaymentRequest{PaymentID: c.payment.Status.PaymentID})
			if err != nil {
				return false, err
			}
			for _, t := range resp.Transactions {
				if t.TransactionType == gateway.TransactionRefund && t.TransactionRequestID == c.id {
					return true, nil
				}
			}
			return false, nil
		},
		// The gateway refuses refunds while a chargeback is unjudged (the
		// dispute notification may not have reached the payment yet): wait.
		refusedWait: func(code string, c *opCall[*v1.Refund]) *engine.WaitError {
			if code != gateway.CodeRefundNotAllowedDispute {
				return nil
			}
			return disputeWait(c, "the gateway refuses refunds of payment "+c.paymentName()+" while a chargeback on it is unjudged")
		},
	}
}

func disputeWait(c *opCall[*v1.Refund], msg string) *engine.WaitError {
	return &engine.WaitError{Reason: v1.ReasonDisputeOpen, Message: msg, Blocked: true,
		RequeueAfter: 10 * c.deps.Cadence.OperationPoll}
}

// refundEligible: refunds need a succeeded payment, or an authorization of
// which something was captured, and no unjudged chargeback.
func refundEligible(c *opCall[*v1.Refund], _ time.Time) error {
	p := c.payment
	switch p.Status.Phase {
	case v1.PaymentSucceeded:
	case v1.PaymentAuthorized:
		var captured []v1.Money
		if a := p.Status.Amounts.Captured; a != nil {
			captured = append(captured, *a)
		}
		total, err := shared.SumMoney(p.Spec.Amount.Currency, captured)
		if err != nil {
			return fmt.Errorf("payment %s status.amounts.captured: %w", c.paymentName(), err)
		}
		if total.IsZero() {
			return &engine.WaitError{Reason: v1.ReasonPaymentNotReady, RequeueAfter: paymentWait, Message: fmt.Sprintf(
				"payment %s is Authorized and nothing of it is captured yet; waiting for a capture", c.paymentName())}
		}
	case v1.PaymentFailed, v1.PaymentCancelled, v1.PaymentExpired:
		return paymentRefuses(c, p, "refunded")
	default:
		return paymentWaits(c, p, "Succeeded")
	}
	if d := p.Status.Dispute; d != nil && d.State.Blocks() {
		return disputeWait(c, fmt.Sprintf("payment %s has an unjudged chargeback (dispute %s is %s); the refund waits for the judgement",
			c.paymentName(), d.ID, d.State))
	}
	return nil
}

// refundCapture resolves spec.captureRef to the capture's gateway id.
func refundCapture(ctx context.Context, c *opCall[*v1.Refund]) error {
	ref := c.obj.Spec.CaptureRef
	if ref == nil {
		return nil
	}
	key := types.NamespacedName{Namespace: c.obj.Namespace, Name: ref.Name}
	var cp v1.Capture
	if err := c.deps.Client.Get(ctx, key, &cp); err != nil {
		if apierrors.IsNotFound(err) {
			return &engine.WaitError{Reason: v1.ReasonCaptureNotReady, Message: fmt.Sprintf("capture %s not found", key), RequeueAfter: paymentWait}
		}
		return fmt.Errorf("get capture %s: %w", key, err)
	}
	switch {
	case cp.Spec.PaymentRef.Name != c.obj.Spec.PaymentRef.Name:
		return &engine.TerminalError{Reason: v1.ReasonInvalidSpec, Message: fmt.Sprintf(
			"spec.captureRef: capture %s captures payment %s, not %s", key, cp.Spec.PaymentRef.Name, c.obj.Spec.PaymentRef.Name)}
	case cp.Status.Phase == v1.OperationFailed:
		return &engine.TerminalError{Reason: v1.ReasonInvalidSpec, Message: fmt.Sprintf(
			"spec.captureRef: capture %s failed; there is nothing to refund against it", key)}
	case cp.Status.Phase != v1.OperationSucceeded || cp.Status.GatewayID == "":
		return &engine.WaitError{Reason: v1.ReasonCaptureNotReady, RequeueAfter: paymentWait,
			Message: fmt.Sprintf("capture %s has not succeeded yet", key)}
	}
	c.prepared = cp.Status.GatewayID
	return nil
}

// refundBudget is what was paid: for card authorizations what was captured
// (the payment's total or, if it lags, its succeeded Captures), less what a
// chargeback judged against the merchant took back.
func refundBudget(ctx context.Context, c *opCall[*v1.Refund]) (money.Amount, string, error) {
	p := c.payment
	cur := p.Spec.Amount.Currency
	var paid []v1.Money
	if a := p.Status.Amounts.Captured; a != nil {
		paid = append(paid, *a)
	}
	base, err := shared.SumMoney(cur, paid)
	if err != nil {
		return base, "", fmt.Errorf("payment %s status.amounts.captured: %w", c.paymentName(), err)
	}
	phrase := "was paid"
	if p.Spec.Authorization {
		phrase = "was captured"
		caps, err := shared.ListObjects[*v1.Capture](ctx, c.deps.APIReader, &v1.CaptureList{}, p.Namespace)
		if err != nil {
			return base, phrase, fmt.Errorf("list captures of payment %s: %w", c.paymentName(), err)
		}
		var ms []v1.Money
		for _, cp := range caps {
			if cp.Spec.PaymentRef.Name == p.Name && cp.Status.Phase == v1.OperationSucceeded && cp.Status.PaymentID == p.Status.PaymentID {
				ms = append(ms, cp.Spec.Amount)
			}
		}
		s, err := shared.SumMoney(cur, ms)
		if err != nil {
			return base, phrase, fmt.Errorf("captures of payment %s: %w", c.paymentName(), err)
		}
		if s.Minor() > base.Minor() {
			base = s
		}
	} else if base.IsZero() && p.Status.Phase == v1.PaymentSucceeded {
		if base, err = p.Spec.Amount.Amount(); err != nil {
			return base, phrase, fmt.Errorf("payment %s spec.amount: %w", c.paymentName(), err)
		}
	}
	if back, err := chargedBack(ctx, c); err != nil {
		return base, phrase, err
	} else if !back.IsZero() {
		phrase += " and not charged back"
		if left, err := base.Sub(back); err == nil {
			base = left
		} else {
			base, _ = money.Zero(cur)
		}
	}
	return base, phrase, nil
}

// refundPrepare holds a refund while any Dispute of its payment is
// unjudged (the payment's status.dispute only shows the latest), then
// resolves its capture.
func refundPrepare(ctx context.Context, c *opCall[*v1.Refund]) error {
	ds, err := shared.PaymentDisputes(ctx, c.deps.Client, c.payment)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if d.Status.Phase.Blocks() {
			return disputeWait(c, fmt.Sprintf("payment %s has an unjudged chargeback (Dispute %s is %s); the refund waits for the judgement",
				c.paymentName(), d.Name, d.Status.Phase))
		}
	}
	return refundCapture(ctx, c)
}

// chargedBack is what chargebacks took from the payment: the sum over its
// Dispute objects, or, when it has none (recorded before they existed),
// what its status.dispute says was judged against the merchant.
func chargedBack(ctx context.Context, c *opCall[*v1.Refund]) (money.Amount, error) {
	p := c.payment
	cur := p.Spec.Amount.Currency
	ds, err := shared.PaymentDisputes(ctx, c.deps.Client, p)
	if err != nil {
		return money.Amount{}, err
	}
	var back []v1.Money
	for _, d := range ds {
		if d.Status.ChargedBack != nil {
			back = append(back, *d.Status.ChargedBack)
		}
	}
	if len(ds) == 0 {
		if d := p.Status.Dispute; d != nil && d.JudgedResult == gateway.JudgedAcceptByMerchant && d.JudgedAmount != nil {
			back = append(back, *d.JudgedAmount)
		}
	}
	return shared.SumMoney(cur, back)
}
