package policy

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/money"
)

var day = time.Date(2026, 12, 5, 15, 0, 0, 0, time.UTC)

func hkd(t *testing.T, v string) money.Amount {
	t.Helper()
	a, err := money.ParseMajor("HKD", v)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func testPolicy(window v1.BudgetWindow, trusted bool) *v1.MoneyPolicy {
	return &v1.MoneyPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "default"}, Spec: v1.MoneyPolicySpec{
		Rules: []v1.MoneyRule{{Kind: v1.MoneyKindRefund, Currency: "HKD", MaxAmount: "1000.00", ApprovalAbove: "100.00",
			NamespaceBudget: "500.00", RequesterBudget: "300.00"}},
		BudgetWindow:    window,
		Approvers:       v1.Subjects{Users: []string{"bob"}, Groups: []string{"leads"}},
		TrustedAppliers: v1.TrustedAppliers{Users: []string{"system:serviceaccount:argocd:argocd"}, CountsAsApproval: trusted},
	}}
}

func refund(t *testing.T, name, value, requester string, created time.Time) Operation {
	return Operation{Kind: v1.MoneyKindRefund, Name: name, Created: created, Requester: requester, Payment: "p",
		Amount: hkd(t, value), RequestID: "id-" + name}
}

func sent(o Operation, at time.Time) Operation { o.Sent, o.SentAt = true, at; return o }

func approval(name, target, value, requester, approver string, groups ...string) v1.Approval {
	return v1.Approval{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, CreationTimestamp: metav1.NewTime(day)},
		Spec: v1.ApprovalSpec{TargetRef: v1.ApprovalTarget{Kind: v1.MoneyKindRefund, Name: target},
			Amount: v1.Money{Currency: "HKD", Value: value}, PaymentRef: v1.LocalObjectReference{Name: "p"},
			Requester: requester, Approver: approver, ApproverGroups: groups}}
}

func TestDecide(t *testing.T) {
	early := day.Add(-time.Hour)
	for _, tc := range []struct {
		name    string
		window  v1.BudgetWindow
		trusted bool
		in      Input
		reason  string
		msg     string // a part of the message
		check   func(*testing.T, Decision)
	}{
		{name: "under the threshold: goes, requester audited", in: Input{Op: refund(t, "r", "50.00", "alice", day)},
			check: func(t *testing.T, d Decision) {
				if d.Audit.Requester != "alice" || d.Audit.Policy != "shop/default" || d.Audit.Approver != "" {
					t.Errorf("audit %+v", d.Audit)
				}
			}},
		{name: "a currency without a rule is not limited", in: Input{Op: Operation{Kind: v1.MoneyKindRefund, Name: "u",
			Requester: "alice", Amount: func() money.Amount { a, _ := money.ParseMajor("USD", "5000.00"); return a }()}}},
		{name: "a capture has no rule", in: Input{Op: Operation{Kind: v1.MoneyKindCapture, Name: "c", Requester: "alice", Amount: hkd(t, "5000")}}},
		{name: "no requester", in: Input{Op: refund(t, "r", "50.00", "", day)}, reason: v1.ReasonRequesterUnknown,
			msg: "carries no requester"},
		{name: "over the maximum", in: Input{Op: refund(t, "r", "1000.01", "alice", day)}, reason: v1.ReasonLimitExceeded,
			msg: "Refund r (1000.01 HKD, requested by alice) is above the maxAmount 1000.00 HKD of MoneyPolicy shop/default"},
		{name: "above the threshold without an approval", in: Input{Op: refund(t, "r", "250.00", "alice", day)},
			reason: v1.ReasonApprovalRequired, msg: "approvers (users [bob], groups [leads])"},
		{name: "approved by an approver", in: Input{Op: refund(t, "r", "250.00", "alice", day),
			Approvals: []v1.Approval{approval("a", "r", "250.00", "alice", "bob")}},
			check: func(t *testing.T, d Decision) {
				if d.Audit.Approver != "bob" || d.Audit.Approval != "a" || !d.Audit.ApprovedAt.Equal(&metav1.Time{Time: day}) {
					t.Errorf("audit %+v", d.Audit)
				}
			}},
		{name: "approved by a group member", in: Input{Op: refund(t, "r", "250.00", "alice", day),
			Approvals: []v1.Approval{approval("a", "r", "250.00", "alice", "carol", "leads")}}},
		{name: "an approval of another amount does not count", in: Input{Op: refund(t, "r", "250.00", "alice", day),
			Approvals: []v1.Approval{approval("a", "r", "200.00", "alice", "bob")}},
			reason: v1.ReasonApprovalRequired, msg: "Approval a does not count: it approves 200.00 HKD, not 250.00 HKD"},
		{name: "self-approval does not count", in: Input{Op: refund(t, "r", "250.00", "bob", day),
			Approvals: []v1.Approval{approval("a", "r", "250.00", "bob", "bob")}},
			reason: v1.ReasonApprovalRequired, msg: "nobody approves their own request"},
		{name: "an approval naming another requester does not count", in: Input{Op: refund(t, "r", "250.00", "alice", day),
			Approvals: []v1.Approval{approval("a", "r", "250.00", "mallory", "bob")}},
			reason: v1.ReasonApprovalRequired, msg: "it approves a request by mallory, but alice asked"},
		{name: "an outsider's approval does not count", in: Input{Op: refund(t, "r", "250.00", "alice", day),
			Approvals: []v1.Approval{approval("a", "r", "250.00", "alice", "eve")}},
			reason: v1.ReasonApprovalRequired, msg: "eve is not an approver"},
		{name: "a trusted applier counts as approved", trusted: true,
			in: Input{Op: refund(t, "r", "250.00", "system:serviceaccount:argocd:argocd", day)},
			check: func(t *testing.T, d Decision) {
				if d.Audit.Approver != "system:serviceaccount:argocd:argocd" || d.Audit.Approval != "" {
					t.Errorf("audit %+v", d.Audit)
				}
			}},
		{name: "a trusted applier that does not count as approval waits", trusted: false,
			in: Input{Op: refund(t, "r", "250.00", "system:serviceaccount:argocd:argocd", day)}, reason: v1.ReasonApprovalRequired},
		{name: "the namespace budget: sent today counts, yesterday's does not", in: Input{Op: refund(t, "r", "90.00", "alice", day),
			Siblings: []Operation{sent(refund(t, "s1", "80.00", "dan", early), early), sent(refund(t, "s2", "90.00", "erin", early), early),
				sent(refund(t, "s3", "90.00", "fay", early), early), sent(refund(t, "s4", "170.00", "gus", early), early),
				sent(refund(t, "old", "400.00", "hal", early), day.Add(-24*time.Hour))}},
			reason: v1.ReasonBudgetExhausted,
			msg:    "does not fit in the namespace budget 500.00 HKD per CalendarDay of MoneyPolicy shop/default: 430.00 HKD used since 2026-12-05T00:00:00Z; it waits until 2026-12-06T00:00:00Z"},
		{name: "failed siblings take nothing", in: Input{Op: refund(t, "r", "90.00", "alice", day),
			Siblings: []Operation{func() Operation { o := sent(refund(t, "f", "450.00", "dan", early), early); o.Failed = true; return o }()}}},
		{name: "archived refunds count, once", in: Input{Op: refund(t, "r", "60.00", "alice", day),
			Siblings: []Operation{sent(refund(t, "s1", "90.00", "dan", early), early)},
			Archived: []Operation{sent(refund(t, "s1", "90.00", "dan", early), early), sent(refund(t, "a1", "90.00", "erin", early), early),
				sent(refund(t, "a2", "90.00", "fay", early), early), sent(refund(t, "a3", "90.00", "gus", early), early),
				sent(refund(t, "a4", "90.00", "hal", early), early)}},
			reason: v1.ReasonBudgetExhausted, msg: "450.00 HKD used"},
		{name: "the requester budget", in: Input{Op: refund(t, "r", "90.00", "alice", day),
			Siblings: []Operation{sent(refund(t, "s1", "90.00", "alice", early), early), sent(refund(t, "s2", "90.00", "alice", early), early),
				sent(refund(t, "s3", "90.00", "alice", early), early)}},
			reason: v1.ReasonBudgetExhausted, msg: "budget of requester alice 300.00 HKD"},
		{name: "an earlier unsent refund has the budget first", in: Input{Op: refund(t, "b", "60.00", "alice", day),
			Siblings: []Operation{sent(refund(t, "s1", "90.00", "dan", early), early), sent(refund(t, "s2", "90.00", "erin", early), early),
				sent(refund(t, "s3", "90.00", "fay", early), early), sent(refund(t, "s4", "120.00", "gus", early), early),
				refund(t, "a", "60.00", "hal", day)}},
			reason: v1.ReasonBudgetExhausted, msg: "450.00 HKD used"},
		{name: "an earlier one waiting for approval takes nothing", in: Input{Op: refund(t, "b", "60.00", "alice", day),
			Siblings: []Operation{sent(refund(t, "s1", "90.00", "dan", early), early), sent(refund(t, "s2", "90.00", "erin", early), early),
				sent(refund(t, "s3", "90.00", "fay", early), early), sent(refund(t, "s4", "120.00", "gus", early), early),
				refund(t, "a", "150.00", "hal", day)}}},
		{name: "a rolling window frees the oldest send first", window: v1.BudgetRolling24h, in: Input{Op: refund(t, "r", "90.00", "alice", day),
			Siblings: []Operation{sent(refund(t, "s1", "80.00", "dan", early), day.Add(-23*time.Hour)), sent(refund(t, "s2", "90.00", "erin", early), early),
				sent(refund(t, "s3", "90.00", "fay", early), early), sent(refund(t, "s4", "90.00", "gus", early), early),
				sent(refund(t, "s5", "90.00", "hal", early), early)}},
			reason: v1.ReasonBudgetExhausted, msg: "it waits until 2026-12-05T16:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(testPolicy(tc.window, tc.trusted))
			if err != nil {
				t.Fatal(err)
			}
			tc.in.Now = day
			d := p.Decide(tc.in)
			if d.Reason != tc.reason || !strings.Contains(d.Message, tc.msg) {
				t.Fatalf("got %q %q; want %q containing %q", d.Reason, d.Message, tc.reason, tc.msg)
			}
			if tc.check != nil {
				tc.check(t, d)
			}
		})
	}
}

func TestParseRefusesAnAmountTheCurrencyCannotHold(t *testing.T) {
	p := testPolicy("", false)
	p.Spec.Rules[0].MaxAmount = "10.001"
	_, err := Parse(p)
	if err == nil || !strings.Contains(err.Error(), "MoneyPolicy shop/default spec.rules[0].maxAmount") {
		t.Fatalf("got %v", err)
	}
}
