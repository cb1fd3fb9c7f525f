// Package policy decides whether a MoneyPolicy lets an operation (a Refund
// or a Capture) move money now: its rule's maximum single amount, its
// approval threshold, and its namespace and requester budgets. It is pure:
// the caller gathers the policy, the operation, its siblings, the archived
// spend and the approvals, and applies the Decision before any gateway call.
//
// Budgets are decided deterministically, as racing operations are decided
// elsewhere: what was already sent in the window counts, and of the
// operations not yet sent the earlier (creationTimestamp, then name) gets
// the budget first, if the policy lets it go.
package policy

import (
	"fmt"
	"slices"
	"time"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/money"
)

// Policy is a MoneyPolicy with its amounts parsed once.
type Policy struct {
	// Name is "<namespace>/<name>", for messages and the audit trail.
	Name   string
	src    *v1.MoneyPolicy
	rules  []rule
	window v1.BudgetWindow
}

// rule is a MoneyRule with typed amounts (nil: not limited).
type rule struct {
	kind                                            v1.MoneyKind
	currency                                        string
	max, approvalAbove, namespaceBudget, requesterB *money.Amount
}

// Parse reads p's amounts in their rules' currencies. An amount the
// currency cannot hold is an error naming the field: an invalid policy holds
// back everything it would govern.
func Parse(p *v1.MoneyPolicy) (*Policy, error) {
	out := &Policy{Name: p.Namespace + "/" + p.Name, src: p, window: p.Spec.BudgetWindow}
	if out.window == "" {
		out.window = v1.BudgetCalendarDay
	}
	for i, r := range p.Spec.Rules {
		pr := rule{kind: r.Kind, currency: r.Currency}
		for _, f := range []struct {
			name, value string
			into        **money.Amount
		}{
			{"maxAmount", r.MaxAmount, &pr.max}, {"approvalAbove", r.ApprovalAbove, &pr.approvalAbove},
			{"namespaceBudget", r.NamespaceBudget, &pr.namespaceBudget}, {"requesterBudget", r.RequesterBudget, &pr.requesterB},
		} {
			if f.value == "" {
				continue
			}
			a, err := v1.Money{Currency: r.Currency, Value: f.value}.Amount()
			if err != nil {
				return nil, fmt.Errorf("MoneyPolicy %s spec.rules[%d].%s: %w", out.Name, i, f.name, err)
			}
			*f.into = &a
		}
		out.rules = append(out.rules, pr)
	}
	return out, nil
}

// Operation is one Refund or Capture as the policy sees it.
type Operation struct {
	Kind      v1.MoneyKind
	Name      string
	Created   time.Time
	Requester string
	Payment   string
	Amount    money.Amount
	// RequestID is its gateway idempotency id (for de-duplicating the
	// archived spend against the cluster).
	RequestID string
	// Sent says the create call was made (its outcome may be unknown);
	// SentAt is when. Failed says the gateway refused it: it takes nothing.
	Sent   bool
	SentAt time.Time
	Failed bool
}

// before orders operations by (creation, name).
func before(a, b Operation) bool {
	if !a.Created.Equal(b.Created) {
		return a.Created.Before(b.Created)
	}
	return a.Name < b.Name
}

// Decision is what the policy says of an operation.
type Decision struct {
	// Reason is "" when the operation may go; else the Blocked reason
	// (ApprovalRequired, LimitExceeded, BudgetExhausted, RequesterUnknown).
	Reason string
	// Message names the policy, the limit and what is used.
	Message string
	// Audit is what to record in the operation's status once it may go.
	Audit v1.Audit
	// Recheck is when the decision may change by the clock alone (a budget
	// window moving on); 0 when only a change to the cluster changes it.
	Recheck time.Time
}

// Held reports whether the operation must wait.
func (d Decision) Held() bool { return d.Reason != "" }

// Input is everything a decision reads.
type Input struct {
	// Op is the operation decided on (not yet sent).
	Op Operation
	// Siblings are the namespace's other operations of the same kind, sent
	// or not (failed ones may be included: they take nothing).
	Siblings []Operation
	// Archived are operations of the kind retention archived (no longer in
	// the cluster) sent in the current window.
	Archived []Operation
	// Approvals are the namespace's Approvals.
	Approvals []v1.Approval
	// Now is the operator's clock.
	Now time.Time
}

// rule returns the rule governing kind in currency, if any.
func (p *Policy) rule(kind v1.MoneyKind, currency string) (rule, bool) {
	for _, r := range p.rules {
		if r.kind == kind && r.currency == currency {
			return r, true
		}
	}
	if kind == v1.MoneyKindCancel {
		// A cancel of a paid payment refunds it in full.
		return p.rule(v1.MoneyKindRefund, currency)
	}
	return rule{}, false
}

// Budgeted reports whether kind in currency has a budget, and so whether
// the operations archived in the window must be read.
func (p *Policy) Budgeted(kind v1.MoneyKind, currency string) bool {
	r, ok := p.rule(kind, currency)
	return ok && (r.namespaceBudget != nil || r.requesterB != nil)
}

// Window returns the budget window containing now: [from, to).
func (p *Policy) Window(now time.Time) (from, to time.Time) {
	now = now.UTC()
	if p.window == v1.BudgetRolling24h {
		return now.Add(-24 * time.Hour), now.Add(time.Nanosecond)
	}
	from = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return from, from.Add(24 * time.Hour)
}

// Decide says whether in.Op may be sent now.
func (p *Policy) Decide(in Input) Decision {
	op := in.Op
	r, ok := p.rule(op.Kind, op.Amount.Currency())
	if !ok {
		return Decision{Audit: v1.Audit{Requester: op.Requester}}
	}
	d := p.decideAlone(r, op, in.Approvals)
	if d.Held() {
		return d
	}
	if r.namespaceBudget == nil && r.requesterB == nil {
		return d
	}
	return p.decideBudget(r, in, d)
}

// decideAlone applies what needs no sibling: the requester, the maximum
// single amount and the approval threshold.
func (p *Policy) decideAlone(r rule, op Operation, approvals []v1.Approval) Decision {
	d := Decision{Audit: v1.Audit{Requester: op.Requester, Policy: p.Name}}
	what := fmt.Sprintf("%s %s (%s", op.Kind, op.Name, show(op.Amount))
	if op.Requester == "" {
		d.Reason, d.Message = v1.ReasonRequesterUnknown, fmt.Sprintf("%s) carries no requester recorded at admission "+
			"(annotation %s), so MoneyPolicy %s cannot tell who asked: re-create it with the admission policies installed",
			what, v1.RequesterAnnotation, p.Name)
		return d
	}
	what += ", requested by " + op.Requester + ")"
	if r.max != nil && above(op.Amount, *r.max) {
		d.Reason, d.Message = v1.ReasonLimitExceeded, fmt.Sprintf("%s is above the maxAmount %s of MoneyPolicy %s",
			what, show(*r.max), p.Name)
		return d
	}
	if r.approvalAbove == nil || !above(op.Amount, *r.approvalAbove) {
		return d
	}
	if p.trustedApproves(op.Requester) {
		d.Audit.Approver = op.Requester
		return d
	}
	a, why := p.approval(op, approvals)
	if a == nil {
		d.Reason, d.Message = v1.ReasonApprovalRequired, fmt.Sprintf("%s is above the approvalAbove %s of MoneyPolicy %s: "+
			"waiting for an Approval by one of its approvers (%s)%s", what, show(*r.approvalAbove), p.Name, p.approvers(), why)
		return d
	}
	at := a.CreationTimestamp
	d.Audit.Approver, d.Audit.ApprovedAt, d.Audit.Approval = a.Spec.Approver, &at, a.Name
	return d
}

// trustedApproves reports whether user is a trusted applier whose objects
// count as approved.
func (p *Policy) trustedApproves(user string) bool {
	t := p.src.Spec.TrustedAppliers
	return t.CountsAsApproval && slices.Contains(t.Users, user)
}

// approvers renders who may approve, for messages.
func (p *Policy) approvers() string {
	a := p.src.Spec.Approvers
	switch {
	case len(a.Users) == 0 && len(a.Groups) == 0:
		return "none listed"
	case len(a.Groups) == 0:
		return fmt.Sprintf("users %v", a.Users)
	case len(a.Users) == 0:
		return fmt.Sprintf("groups %v", a.Groups)
	}
	return fmt.Sprintf("users %v, groups %v", a.Users, a.Groups)
}

// above reports a > b. The policy compares amounts of one currency (a rule
// is chosen by the operation's currency); should they ever differ, the
// amount counts as above: the operation waits rather than moves.
func above(a, b money.Amount) bool {
	c, err := a.Cmp(b)
	return err != nil || c > 0
}

// show renders an amount as the API does ("10.50 HKD").
func show(a money.Amount) string { return a.Major() + " " + a.Currency() }

// OperationOf is a Capture or Refund as the policy sees it; false for one
// whose amount cannot be read (it will fail, and takes nothing).
func OperationOf(kind v1.MoneyKind, o v1.PaymentOperation) (Operation, bool) {
	a, err := o.GetAmount().Amount()
	if err != nil {
		return Operation{}, false
	}
	st := o.GetOperationStatus()
	op := Operation{Kind: kind, Name: o.GetName(), Created: o.GetCreationTimestamp().Time,
		Requester: o.GetAnnotations()[v1.RequesterAnnotation], Payment: o.GetPaymentRef(), Amount: a,
		RequestID: st.RequestID, Sent: st.RequestID != "" || st.Phase == v1.OperationProcessing || st.Phase.IsFinal(),
		Failed: st.Phase == v1.OperationFailed}
	if st.SubmitTime != nil {
		op.SentAt = st.SubmitTime.Time
	} else if op.Sent {
		op.SentAt = o.GetCreationTimestamp().Time
	}
	return op, true
}
