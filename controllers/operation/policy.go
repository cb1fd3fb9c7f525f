package operation

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

// The MoneyPolicy, before any gateway call: an operation not yet sent that
// its namespace's policy holds back (over its limit, waiting for an
// approval, over a budget) waits Blocked and makes no call at all; one it
// lets go records its audit trail (requester, policy, approver) in status
// before it is sent.
//
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=moneypolicies;approvals,verbs=get;list;watch

// hold decides the policy for c's operation: nil when it may be sent.
func (k opKind[T]) hold(ctx context.Context, c *opCall[T]) error {
	requester := c.obj.GetAnnotations()[v1.RequesterAnnotation]
	if k.spec.moneyKind == "" {
		return nil
	}
	mp, err := shared.MoneyPolicyOf(ctx, k.deps, c.obj.GetNamespace())
	if err != nil {
		return err
	}
	if mp == nil {
		if requester != "" {
			c.st.Audit = &v1.Audit{Requester: requester}
		}
		return nil
	}
	p, err := policy.Parse(mp)
	if err != nil {
		return k.held(v1.ReasonPolicyInvalid, err.Error(), time.Time{})
	}
	in, err := k.policyInput(ctx, c, requester)
	if err != nil {
		return err
	}
	if p.Budgeted(k.spec.moneyKind, c.amount.Currency()) {
		from, to := p.Window(in.Now)
		sp := archive.Spend{Namespace: c.obj.GetNamespace(), Kind: string(k.spec.moneyKind), Currency: c.amount.Currency(), From: from, To: to}
		if in.Archived, err = shared.ArchivedSpend(ctx, k.deps, sp); err != nil {
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
	return shared.PolicyHold(k.deps, reason, msg, recheck)
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
		if o, ok := policy.OperationOf(k.spec.moneyKind, s); ok {
			in.Siblings = append(in.Siblings, o)
		}
	}
	return in, nil
}
