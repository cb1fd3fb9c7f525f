package policy

import (
	"fmt"
	"sort"
	"time"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/money"
)

// usage is what a window has taken: the namespace's total and each
// requester's.
type usage struct {
	namespace money.Amount
	requester map[string]money.Amount
	// oldest is the earliest send counted (a rolling window frees it first).
	oldest time.Time
}

func newUsage(currency string) (*usage, error) {
	z, err := money.Zero(currency)
	if err != nil {
		return nil, err
	}
	return &usage{namespace: z, requester: map[string]money.Amount{}}, nil
}

// take adds op to the usage.
func (u *usage) take(op Operation) error {
	ns, err := u.namespace.Add(op.Amount)
	if err != nil {
		return err
	}
	prev, ok := u.requester[op.Requester]
	if !ok {
		prev, _ = money.Zero(op.Amount.Currency())
	}
	req, err := prev.Add(op.Amount)
	if err != nil {
		return err
	}
	u.namespace, u.requester[op.Requester] = ns, req
	if op.Sent && (u.oldest.IsZero() || op.SentAt.Before(u.oldest)) {
		u.oldest = op.SentAt
	}
	return nil
}

// overflow says which budget op does not fit in ("" when it fits both), the
// budget and what is used of it.
func (u *usage) overflow(r rule, op Operation) (which string, budget, used money.Amount) {
	if r.namespaceBudget != nil {
		if sum, err := u.namespace.Add(op.Amount); err != nil || above(sum, *r.namespaceBudget) {
			return "namespace budget", *r.namespaceBudget, u.namespace
		}
	}
	if r.requesterB != nil {
		used, ok := u.requester[op.Requester]
		if !ok {
			used, _ = money.Zero(op.Amount.Currency())
		}
		if sum, err := used.Add(op.Amount); err != nil || above(sum, *r.requesterB) {
			return "budget of requester " + op.Requester, *r.requesterB, used
		}
	}
	return "", money.Amount{}, money.Amount{}
}

// decideBudget checks op against the budgets of its rule in the current
// window; d is the decision so far (the operation may go on its own).
func (p *Policy) decideBudget(r rule, in Input, d Decision) Decision {
	op := in.Op
	from, to := p.Window(in.Now)
	u, err := p.spent(in, from, to)
	if err != nil {
		d.Reason, d.Message = v1.ReasonPolicyInvalid, fmt.Sprintf("MoneyPolicy %s: %v", p.Name, err)
		return d
	}
	for _, e := range p.earlier(in) {
		if de := p.decideAlone(r, e, in.Approvals); de.Held() {
			continue
		}
		if which, _, _ := u.overflow(r, e); which == "" {
			if err := u.take(e); err != nil {
				d.Reason, d.Message = v1.ReasonPolicyInvalid, fmt.Sprintf("MoneyPolicy %s: %v", p.Name, err)
				return d
			}
		}
	}
	which, budget, used := u.overflow(r, op)
	if which == "" {
		return d
	}
	d.Recheck = to
	if p.window == v1.BudgetRolling24h && !u.oldest.IsZero() {
		d.Recheck = u.oldest.Add(24 * time.Hour)
	}
	d.Reason, d.Message = v1.ReasonBudgetExhausted, fmt.Sprintf(
		"%s %s (%s, requested by %s) does not fit in the %s %s per %s of MoneyPolicy %s: %s used since %s; it waits until %s",
		op.Kind, op.Name, show(op.Amount), op.Requester, which, show(budget), p.window, p.Name, show(used),
		from.Format(time.RFC3339), d.Recheck.UTC().Format(time.RFC3339))
	return d
}

// spent is what operations sent in [from, to) took: the cluster's, and the
// archived ones the cluster no longer holds.
func (p *Policy) spent(in Input, from, to time.Time) (*usage, error) {
	u, err := newUsage(in.Op.Amount.Currency())
	if err != nil {
		return nil, err
	}
	inCluster := map[string]bool{}
	count := func(o Operation) error {
		if o.Failed || !o.Sent || o.SentAt.Before(from) || !o.SentAt.Before(to) ||
			o.Amount.Currency() != in.Op.Amount.Currency() {
			return nil
		}
		return u.take(o)
	}
	for _, s := range in.Siblings {
		inCluster[s.RequestID] = s.RequestID != ""
		if err := count(s); err != nil {
			return nil, err
		}
	}
	for _, a := range in.Archived {
		if inCluster[a.RequestID] {
			continue
		}
		if err := count(a); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// earlier are the siblings not yet sent that come before in.Op, in order,
// in its currency.
func (p *Policy) earlier(in Input) []Operation {
	var out []Operation
	for _, s := range in.Siblings {
		if !s.Sent && !s.Failed && s.Name != in.Op.Name && before(s, in.Op) &&
			s.Amount.Currency() == in.Op.Amount.Currency() {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return before(out[i], out[j]) })
	return out
}
