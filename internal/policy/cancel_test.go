package policy

import (
	"testing"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// cancel is the cancel of payment p (a full refund of value).
func cancel(t *testing.T, value, requester string) Operation {
	return Operation{Kind: v1.MoneyKindCancel, Name: "p", Created: day, Requester: requester, Payment: "p", Amount: hkd(t, value)}
}

// TestDecideCancel: a paid payment's cancel is governed by the Refund rule
// when the policy has no Cancel rule, by its own Cancel rule when it has
// one, and only an Approval of kind Cancel approves it.
func TestDecideCancel(t *testing.T) {
	ownRule := testPolicy(v1.BudgetCalendarDay, false)
	ownRule.Spec.Rules = append(ownRule.Spec.Rules, v1.MoneyRule{Kind: v1.MoneyKindCancel, Currency: "HKD", MaxAmount: "40.00"})
	cancelApproval := approval("cancel-p", "p", "150.00", "alice", "bob")
	cancelApproval.Spec.TargetRef.Kind = v1.MoneyKindCancel
	for _, tc := range []struct {
		name   string
		mp     *v1.MoneyPolicy
		in     Input
		reason string
	}{
		{"under the Refund threshold: goes", testPolicy(v1.BudgetCalendarDay, false), Input{Op: cancel(t, "50.00", "alice"), Now: day}, ""},
		{"above it: waits for an approval", testPolicy(v1.BudgetCalendarDay, false), Input{Op: cancel(t, "150.00", "alice"), Now: day}, v1.ReasonApprovalRequired},
		{"a Refund approval of the same name does not count", testPolicy(v1.BudgetCalendarDay, false),
			Input{Op: cancel(t, "150.00", "alice"), Approvals: []v1.Approval{approval("refund-p", "p", "150.00", "alice", "bob")}, Now: day}, v1.ReasonApprovalRequired},
		{"a Cancel approval does", testPolicy(v1.BudgetCalendarDay, false),
			Input{Op: cancel(t, "150.00", "alice"), Approvals: []v1.Approval{cancelApproval}, Now: day}, ""},
		{"the refund budget counts the namespace's refunds", testPolicy(v1.BudgetCalendarDay, false),
			Input{Op: cancel(t, "90.00", "alice"), Siblings: []Operation{sent(refund(t, "r1", "90.00", "dan", day), day),
				sent(refund(t, "r2", "90.00", "erin", day), day), sent(refund(t, "r3", "90.00", "fay", day), day),
				sent(refund(t, "r4", "90.00", "gus", day), day), sent(refund(t, "r5", "90.00", "hal", day), day)}, Now: day}, v1.ReasonBudgetExhausted},
		{"its own Cancel rule wins", ownRule, Input{Op: cancel(t, "50.00", "alice"), Now: day}, v1.ReasonLimitExceeded},
		{"no requester recorded", testPolicy(v1.BudgetCalendarDay, false), Input{Op: cancel(t, "50.00", ""), Now: day}, v1.ReasonRequesterUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.mp)
			if err != nil {
				t.Fatal(err)
			}
			if d := p.Decide(tc.in); d.Reason != tc.reason {
				t.Fatalf("reason %q (%s), want %q", d.Reason, d.Message, tc.reason)
			}
		})
	}
}
