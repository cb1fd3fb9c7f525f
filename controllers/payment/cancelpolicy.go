package payment

import (
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/archive"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/policy"
)

// The MoneyPolicy governs a cancel that can move money: the gateway refunds
// a paid payment in full when it is cancelled, so such a cancel is decided
// as a Refund of the whole amount (the policy's Cancel rule, or else its
// Refund rule), requested by whoever set spec.cancel (recorded at
// admission). While the policy holds it, no cancel call is made.
//
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=moneypolicies;approvals,verbs=get;list;watch

// cancelMayRefund reports whether cancelling p can move money: the payment
// may have been paid (it reached the gateway and is not just an
// authorization, which a cancel only voids).
func cancelMayRefund(p *v1.Payment) bool {
	if !p.Spec.Cancel {
		return false // a deletion's cancel (deletionPolicy Cancel) never reaches a paid payment
	}
	switch p.Status.Phase {
	case v1.PaymentSucceeded, v1.PaymentProcessing:
		return true
	}
	return false
}

// holdCancel decides the namespace's MoneyPolicy for p's cancel: nil when it
// may be sent, with p.Status.CancelAudit recorded.
func (e *paymentExternal) holdCancel(ctx context.Context, p *v1.Payment) error {
	if !cancelMayRefund(p) {
		return nil
	}
	requester := p.Annotations[v1.CancelRequesterAnnotation]
	mp, err := shared.MoneyPolicyOf(ctx, e.deps, p.Namespace)
	if err != nil {
		return err
	}
	if mp == nil {
		if requester != "" {
			p.Status.CancelAudit = &v1.Audit{Requester: requester}
		}
		return nil
	}
	pol, err := policy.Parse(mp)
	if err != nil {
		return e.heldCancel(v1.ReasonPolicyInvalid, err.Error(), time.Time{})
	}
	in, err := e.cancelInput(ctx, p, requester, pol)
	if err != nil {
		return err
	}
	d := pol.Decide(in)
	if d.Held() {
		return e.heldCancel(d.Reason, d.Message, d.Recheck)
	}
	p.Status.CancelAudit = &d.Audit
	return nil
}

// cancelInput is what the decision reads: the cancel as an operation, the
// namespace's Refunds (a cancel takes from the refund budget) and what
// retention archived of them, and the Approvals.
func (e *paymentExternal) cancelInput(ctx context.Context, p *v1.Payment, requester string, pol *policy.Policy) (policy.Input, error) {
	in := policy.Input{Op: policy.Operation{Kind: v1.MoneyKindCancel, Name: p.Name, Created: p.CreationTimestamp.Time,
		Requester: requester, Payment: p.Name, Amount: e.amount}, Now: e.deps.Time()}
	var refunds v1.RefundList
	if err := e.deps.APIReader.List(ctx, &refunds, client.InNamespace(p.Namespace)); err != nil {
		return in, fmt.Errorf("list refunds in %s: %w", p.Namespace, err)
	}
	for i := range refunds.Items {
		if o, ok := policy.OperationOf(v1.MoneyKindRefund, &refunds.Items[i]); ok {
			in.Siblings = append(in.Siblings, o)
		}
	}
	var approvals v1.ApprovalList
	if err := e.deps.Client.List(ctx, &approvals, client.InNamespace(p.Namespace)); err != nil {
		return in, fmt.Errorf("list approvals in %s: %w", p.Namespace, err)
	}
	in.Approvals = approvals.Items
	if pol.Budgeted(v1.MoneyKindCancel, e.amount.Currency()) {
		from, to := pol.Window(in.Now)
		sp := archive.Spend{Namespace: p.Namespace, Kind: archive.KindRefund, Currency: e.amount.Currency(), From: from, To: to}
		archived, err := shared.ArchivedSpend(ctx, e.deps, sp)
		if err != nil {
			return in, e.heldCancel(v1.ReasonArchiveUnavailable, fmt.Sprintf(
				"MoneyPolicy %s has a budget and what its namespace spent in archived refunds cannot be read (retrying): %v",
				pol.Name, err), time.Time{})
		}
		in.Archived = archived
	}
	return in, nil
}

// heldCancel is the Blocked wait of a held cancel.
func (e *paymentExternal) heldCancel(reason, msg string, recheck time.Time) *engine.WaitError {
	return shared.PolicyHold(e.deps, reason, "cancel: "+msg, recheck)
}
