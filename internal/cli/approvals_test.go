package cli_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// The approval desk: a refund its MoneyPolicy holds for approval, one it
// does not, and the administrator (an approver through system:masters)
// approving the one that waits. The objects are removed afterwards, so
// that the other commands' all-namespace outputs stay as they are.
func TestApprovals(t *testing.T) {
	ctx := context.Background()
	objs := approvalDesk(t, ctx)
	t.Cleanup(func() {
		for _, o := range append(objs, &v1.Approval{ObjectMeta: metav1.ObjectMeta{Namespace: "desk", Name: "refund-big"}}) {
			_ = env.Client.Delete(ctx, o)
		}
	})
	for _, tt := range []struct {
		name, golden, wantErr string
		args                  []string
	}{
		{name: "what waits", args: []string{"approvals", "-n", "desk"}, golden: "approvals"},
		{name: "nothing waits here", args: []string{"approvals", "-n", "outlet"}, golden: "approvals-none"},
		{name: "not waiting", args: []string{"approve", "small", "-n", "desk"},
			wantErr: "Refund desk/small is not waiting for an approval (phase Succeeded)"},
		{name: "approve", args: []string{"approve", "big", "-n", "desk", "--comment", "checked with the buyer"}, golden: "approve-big"},
		{name: "approved once", args: []string{"approve", "big", "-n", "desk"}, wantErr: "already exists"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := run(t, now, tt.args...)
			checkResult(t, out, err, tt.golden, tt.wantErr)
		})
	}
	out, _, err := run(t, now, "status", "order-7", "-n", "desk")
	if want := "requested by alice under MoneyPolicy desk/default; approved by bob at 2026-11-23T11:30:00Z (Approval refund-small)"; err != nil || !strings.Contains(out, want) {
		t.Fatalf("status lacks the audit trail %q (%v):\n%s", want, err, out)
	}
	var a v1.Approval
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "desk", Name: "refund-big"}, &a); err != nil {
		t.Fatal(err)
	}
	if a.Spec.Requester != "alice" || a.Spec.Approver != "admin" || a.Spec.Amount.String() != "250.00 HKD" ||
		a.Spec.PaymentRef.Name != "order-7" || a.Spec.Comment != "checked with the buyer" {
		t.Fatalf("approval %+v", a.Spec)
	}
}

// approvalDesk creates namespace desk with its MoneyPolicy, a paid payment
// and two refunds requested by alice (the administrator may record another
// requester), one of them held for approval.
func approvalDesk(t *testing.T, ctx context.Context) []client.Object {
	t.Helper()
	c := env.Client
	held := cond(v1.ConditionBlocked, metav1.ConditionTrue, v1.ReasonApprovalRequired,
		"Refund big (250.00 HKD, requested by alice) is above the approvalAbove 100.00 HKD of MoneyPolicy desk/default")
	refund := func(name, value string) *v1.Refund {
		return &v1.Refund{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "desk", Annotations: map[string]string{v1.RequesterAnnotation: "alice"}},
			Spec: v1.RefundSpec{PaymentRef: v1.LocalObjectReference{Name: "order-7"}, Amount: v1.Money{Currency: "HKD", Value: value}}}
	}
	big, small := refund("big", "250.00"), refund("small", "20.00")
	policy := &v1.MoneyPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "desk", Name: v1.MoneyPolicyName}, Spec: v1.MoneyPolicySpec{
		Rules:     []v1.MoneyRule{{Kind: v1.MoneyKindRefund, Currency: "HKD", ApprovalAbove: "100.00"}},
		Approvers: v1.Subjects{Groups: []string{"system:masters"}}}}
	p := payment("desk", "order-7", "ALIPAY_HK", "HKD", "300.00", nil)
	objs := []client.Object{policy, p, big, small}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "desk"}}); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	big.Status = v1.OperationStatus{Phase: v1.OperationPending, Conditions: []metav1.Condition{held}}
	big.Status.Conditions[0].LastTransitionTime = metav1.NewTime(now.Add(-90 * time.Minute))
	small.Status = v1.OperationStatus{Phase: v1.OperationSucceeded, Audit: &v1.Audit{Requester: "alice", Policy: "desk/default",
		Approver: "bob", ApprovedAt: at(-30 * time.Minute), Approval: "refund-small"}}
	for _, o := range []client.Object{big, small} {
		if err := c.Status().Update(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	return objs
}
