package policy

import (
	"fmt"
	"slices"
	"strings"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/money"
)

// approval returns the earliest Approval that approves op, or nil and why
// the Approvals naming op do not count (", Approval x does not count: ...").
// Admission already refuses most bad approvals; this is checked again
// here, on what the Approval recorded, so that money never moves on one the
// admission policies did not see.
func (p *Policy) approval(op Operation, approvals []v1.Approval) (*v1.Approval, string) {
	var best *v1.Approval
	var why []string
	for i := range approvals {
		a := &approvals[i]
		if a.Spec.TargetRef.Kind != op.Kind || a.Spec.TargetRef.Name != op.Name {
			continue
		}
		if reason := p.refuses(op, a); reason != "" {
			why = append(why, fmt.Sprintf("Approval %s does not count: %s", a.Name, reason))
			continue
		}
		if best == nil || a.CreationTimestamp.Before(&best.CreationTimestamp) {
			best = a
		}
	}
	if best != nil || len(why) == 0 {
		return best, ""
	}
	return nil, "; " + strings.Join(why, "; ")
}

// refuses says why a naming op does not approve it ("" when it does).
func (p *Policy) refuses(op Operation, a *v1.Approval) string {
	s := a.Spec
	amount, err := s.Amount.Amount()
	switch {
	case err != nil:
		return "spec.amount: " + err.Error()
	case !equal(amount, op.Amount):
		return fmt.Sprintf("it approves %s, not %s", show(amount), show(op.Amount))
	case s.PaymentRef.Name != op.Payment:
		return fmt.Sprintf("it approves an operation on payment %s, not %s", s.PaymentRef.Name, op.Payment)
	case s.Requester != op.Requester:
		return fmt.Sprintf("it approves a request by %s, but %s asked", s.Requester, op.Requester)
	case s.Approver == "" || s.Approver == op.Requester:
		return "nobody approves their own request"
	case !p.isApprover(s.Approver, s.ApproverGroups):
		return fmt.Sprintf("%s is not an approver of MoneyPolicy %s", s.Approver, p.Name)
	}
	return ""
}

// isApprover reports whether user (in groups) is one of the approvers.
func (p *Policy) isApprover(user string, groups []string) bool {
	a := p.src.Spec.Approvers
	if slices.Contains(a.Users, user) {
		return true
	}
	for _, g := range groups {
		if slices.Contains(a.Groups, g) {
			return true
		}
	}
	return false
}

// equal reports a == b, of one currency.
func equal(a, b money.Amount) bool {
	c, err := a.Cmp(b)
	return err == nil && c == 0
}
