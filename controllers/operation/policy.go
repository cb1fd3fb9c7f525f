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
	"github.com/cashier-operator/cashier-operator/internal/archive"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/policy"
)

// The MoneyPolicy, before any gateway call: an operation not yet sent that
// its namespace's policy holds back (over its limit, waiting for an
// approval, over a budget) waits Blocked and makes no call at all; one it
// lets go records its audit trail (requester, policy, approver) in status
// before it is sent.
//
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=moneypolicies;approvals,verbs=get;list;watch

// holdRecheck bounds how long a held operation waits before the policy is
// decided again (an Approval or a policy change wakes it at once).
func holdRecheck(c shared.Cadence) time.Duration { return 4 * c.OperationPoll }

// hold decides the policy for c's operation: nil when it may be sent.
func (k opKind[T]) hold(ctx context.Context, c *opCall[T]) error {
	requester := c.obj.GetAnnotations()[v1.RequesterAnnotation]
	if k.spec.moneyKind == "" {
		return nil
	}
	var mp v1.MoneyPolicy
	key := types.NamespacedName{Namespace: c.obj.GetNamespace(), Name: v1.MoneyPolicyName}
	if err := k.deps.Client.Get(ctx, key, &mp); err != nil {
		if apierrors.IsNotFound(err) {
			if requester != "" {
				c.st.Audit = &v1.Audit{Requester: requester}
			}
			return nil
		}
		return fmt.Errorf("get MoneyPolicy %s: %w", key, err)
	}
	p, err := policy.Parse(&mp)
	if err != nil {
		return k.held(v1.ReasonPolicyInvalid, err.Error(), time.Time{})
	}
	in, err := k.policyInput(ctx, c, requester)
	if err != nil {
		return err
	}
	if p.Budgeted(k.spec.moneyKind, c.amount.Currency()) {
		from, to := p.Window(in.Now)
		if in.Archived, err = k.archivedSpend(ctx, c, from, to); err != nil {
			return k.held(v1.ReasonArchiveUnavailable, fmt.Sprintf(
				"MoneyPolicy %s has a budget and what its namespace spent in archived %s cannot be read (retrying): %v",
				p.Name, k.spec.plural, err), time.Time{})
		}
	}
	d := p.Decide(in)
	if d.Held() {
		return k.held(d.Reason, d.Message, d.Recheck)
	}
	c.st.Audit = &d.Audit
	return nil
}

// held is the Blocked wait of a held operation.
func (k opKind[T]) held(reason, msg string, recheck time.Time) *engine.WaitError {
	after := holdRecheck(k.deps.Cadence)
	if !recheck.IsZero() {
		if d := recheck.Sub(k.deps.Time()); d > 0 && d < after {
			after = d
		}
	}
	return &engine.WaitError{Reason: reason, Message: msg, Blocked: true, Announce: true, RequeueAfter: after}
}

// policyInput gathers what the decision reads: the operation, its siblings
// of the kind in the namespace (uncached, as for the payment's budget, so
// that every operation decides on the same facts) and the Approvals.
func (k opKind[T]) policyInput(ctx context.Context, c *opCall[T], requester string) (policy.Input, error) {
	ns := c.obj.GetNamespace()
	siblings, err := shared.ListObjects[T](ctx, k.deps.APIReader, k.spec.newList(), ns)
	if err != nil {
		return policy.Input{}, fmt.Errorf("list %s in %s: %w", k.spec.plural, ns, err)
	}
	var approvals v1.ApprovalList
	if err := k.deps.Client.List(ctx, &approvals, client.InNamespace(ns)); err != nil {
		return policy.Input{}, fmt.Errorf("list approvals in %s: %w", ns, err)
	}
	in := policy.Input{Op: policy.Operation{Kind: k.spec.moneyKind, Name: c.obj.GetName(), Created: c.obj.GetCreationTimestamp().Time,
		Requester: requester, Payment: c.obj.GetPaymentRef(), Amount: c.amount, RequestID: c.id},
		Approvals: approvals.Items, Now: k.deps.Time()}
	for _, s := range siblings {
		if s.GetUID() == c.obj.GetUID() {
			continue
		}
		if o, ok := k.policyOperation(s); ok {
			in.Siblings = append(in.Siblings, o)
		}
	}
	return in, nil
}

// policyOperation is a sibling as the policy sees it; false for one whose
// amount cannot be read (it will fail, and takes nothing).
func (k opKind[T]) policyOperation(o T) (policy.Operation, bool) {
	m := o.GetAmount()
	a, err := m.Amount()
	if err != nil {
		return policy.Operation{}, false
	}
	st := o.GetOperationStatus()
	op := policy.Operation{Kind: k.spec.moneyKind, Name: o.GetName(), Created: o.GetCreationTimestamp().Time,
		Requester: o.GetAnnotations()[v1.RequesterAnnotation], Payment: o.GetPaymentRef(), Amount: a,
		RequestID: st.RequestID, Sent: submitted(st), Failed: st.Phase == v1.OperationFailed}
	if st.SubmitTime != nil {
		op.SentAt = st.SubmitTime.Time
	} else if op.Sent {
		op.SentAt = o.GetCreationTimestamp().Time
	}
	return op, true
}

// archivedSpend is what retention archived of the kind in the namespace and
// currency, sent in [from, to): the budget counts it as if it were still in
// the cluster. Every archive must answer: one that cannot be read might
// hold the spend that exhausts the budget.
func (k opKind[T]) archivedSpend(ctx context.Context, c *opCall[T], from, to time.Time) ([]policy.Operation, error) {
	sp := archive.Spend{Namespace: c.obj.GetNamespace(), Kind: string(k.spec.moneyKind), Currency: c.amount.Currency(), From: from, To: to}
	recs, err := k.deps.Archives.SearchAll(ctx, k.deps.Client, func(ctx context.Context, a *archive.Archive) ([]archive.Record, error) {
		return a.Spent(ctx, sp)
	})
	if err != nil {
		return nil, err
	}
	out := make([]policy.Operation, 0, len(recs))
	for _, r := range recs {
		amt, err := v1.Money{Currency: r.Currency, Value: r.Amount}.Amount()
		if err != nil || r.SubmittedAt == nil {
			continue // never sent, or an amount no gateway took: it took nothing
		}
		out = append(out, policy.Operation{Kind: k.spec.moneyKind, Name: r.Name, Created: r.CreatedAt, Requester: r.Audit.Requester,
			Payment: r.PaymentName, Amount: amt, RequestID: r.RequestID, Sent: true, SentAt: *r.SubmittedAt})
	}
	return out, nil
}
