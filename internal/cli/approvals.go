package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// newApproveCommand is `kubectl cashier approve NAME`: the Approval of an
// operation its MoneyPolicy holds for approval.
func newApproveCommand(connect func() (*session, error)) *cobra.Command {
	var kind, comment string
	cmd := &cobra.Command{
		Use:   "approve NAME [--kind refund|capture] [--comment TEXT]",
		Short: "Approve a Refund or Capture that waits for an approval (four eyes)",
		Long: `Approve an operation that its namespace's MoneyPolicy holds with reason
ApprovalRequired. The Approval names the operation, its amount, its payment and
its requester exactly as they are now; the apiserver records you as the
approver, and refuses the approval when you asked for the operation yourself or
are not one of the policy's approvers. The operation is sent once approved.`,
		Example: `  kubectl cashier approve big-refund -n shop
  kubectl cashier approve order-1001-capture-2 -n shop --kind capture --comment "checked with the buyer"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := connect()
			if err != nil {
				return err
			}
			a, err := approvalFor(cmd.Context(), s, kind, args[0], comment)
			if err != nil {
				return err
			}
			if err := s.client.Create(cmd.Context(), a); err != nil {
				return fmt.Errorf("approve %s %s/%s: %w", a.Spec.TargetRef.Kind, s.namespace, args[0], err)
			}
			fmt.Fprintf(s.out, "approved %s %s/%s: %s of payment %s, requested by %s (Approval %s, approver %s)\n",
				a.Spec.TargetRef.Kind, s.namespace, args[0], a.Spec.Amount, a.Spec.PaymentRef.Name, a.Spec.Requester, a.Name, a.Spec.Approver)
			return nil
		},
	}
	cmd.Flags().StringVar(&kind, "kind", "refund", "what NAME is: refund or capture")
	cmd.Flags().StringVar(&comment, "comment", "", "why, for the audit trail")
	return cmd
}

// approvalFor reads the operation and writes its Approval; an operation that
// is not waiting for an approval is an error saying where it stands.
func approvalFor(ctx context.Context, s *session, kind, name, comment string) (*v1.Approval, error) {
	var op v1.PaymentOperation
	var mk v1.MoneyKind
	switch strings.ToLower(kind) {
	case "refund":
		op, mk = &v1.Refund{}, v1.MoneyKindRefund
	case "capture":
		op, mk = &v1.Capture{}, v1.MoneyKindCapture
	default:
		return nil, fmt.Errorf("--kind %s: refund or capture", kind)
	}
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: name}, op); err != nil {
		return nil, fmt.Errorf("%s %s/%s: %w", mk, s.namespace, name, err)
	}
	requester := op.GetAnnotations()[v1.RequesterAnnotation]
	if requester == "" {
		return nil, fmt.Errorf("%s %s/%s has no requester recorded at admission (annotation %s): there is nothing to approve",
			mk, s.namespace, name, v1.RequesterAnnotation)
	}
	st := op.GetOperationStatus()
	if b := meta.FindStatusCondition(st.Conditions, v1.ConditionBlocked); b == nil || b.Status != metav1.ConditionTrue ||
		b.Reason != v1.ReasonApprovalRequired {
		return nil, fmt.Errorf("%s %s/%s is not waiting for an approval (phase %s%s)", mk, s.namespace, name,
			orDash(string(st.Phase)), blockedNote(b))
	}
	return &v1.Approval{ObjectMeta: metav1.ObjectMeta{Namespace: s.namespace, Name: strings.ToLower(string(mk)) + "-" + name},
		Spec: v1.ApprovalSpec{TargetRef: v1.ApprovalTarget{Kind: mk, Name: name}, Amount: op.GetAmount(),
			PaymentRef: v1.LocalObjectReference{Name: op.GetPaymentRef()}, Requester: requester, Comment: comment}}, nil
}

func blockedNote(b *metav1.Condition) string {
	if b == nil || b.Status != metav1.ConditionTrue {
		return ""
	}
	return ", Blocked " + b.Reason
}

// newApprovalsCommand is `kubectl cashier approvals`: what waits for an
// approval, for how long, for whom.
func newApprovalsCommand(connect func() (*session, error)) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "approvals [-A]",
		Short: "List the Refunds and Captures that wait for an approval, longest first",
		Long: `List the operations a MoneyPolicy holds with reason ApprovalRequired: their
amount and payment, who asked, how long they have waited, and the policy. An
approver approves one with kubectl cashier approve NAME.`,
		Example: `  kubectl cashier approvals -n shop
  kubectl cashier approvals -A`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := connect()
			if err != nil {
				return err
			}
			ns := s.namespace
			if all {
				ns = ""
			}
			waiting, err := waitingForApproval(cmd.Context(), s.client, ns)
			if err != nil {
				return err
			}
			return renderApprovals(s.out, waiting, s.now)
		},
	}
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "list the operations of every namespace")
	return cmd
}

// waiting is one operation held for approval.
type waiting struct {
	ns, kind, name, amount, payment, requester, policy string
	since                                              time.Time
}

// waitingForApproval lists the Refunds and Captures of ns ("" for all)
// Blocked with reason ApprovalRequired, longest waiting first.
func waitingForApproval(ctx context.Context, c client.Client, ns string) ([]waiting, error) {
	var refunds v1.RefundList
	var captures v1.CaptureList
	for _, l := range []client.ObjectList{&refunds, &captures} {
		if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
			return nil, fmt.Errorf("list: %w", err)
		}
	}
	type kinded struct {
		kind string
		v1.PaymentOperation
	}
	var ops []kinded
	for i := range refunds.Items {
		ops = append(ops, kinded{"Refund", &refunds.Items[i]})
	}
	for i := range captures.Items {
		ops = append(ops, kinded{"Capture", &captures.Items[i]})
	}
	var out []waiting
	for _, o := range ops {
		b := meta.FindStatusCondition(o.GetOperationStatus().Conditions, v1.ConditionBlocked)
		if b == nil || b.Status != metav1.ConditionTrue || b.Reason != v1.ReasonApprovalRequired {
			continue
		}
		out = append(out, waiting{ns: o.GetNamespace(), kind: o.kind, name: o.GetName(),
			amount: o.GetAmount().String(), payment: o.GetPaymentRef(), requester: o.GetAnnotations()[v1.RequesterAnnotation],
			policy: o.GetNamespace() + "/" + v1.MoneyPolicyName, since: b.LastTransitionTime.Time})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].since.Before(out[j].since) })
	return out, nil
}

func renderApprovals(w io.Writer, ws []waiting, now time.Time) error {
	if len(ws) == 0 {
		_, err := fmt.Fprintln(w, "Nothing waits for an approval.")
		return err
	}
	t := newTable(w)
	fmt.Fprintln(t, "NAMESPACE\tKIND\tNAME\tAMOUNT\tPAYMENT\tREQUESTER\tWAITING\tPOLICY")
	for _, x := range ws {
		fmt.Fprintf(t, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.ns, x.kind, x.name, x.amount, x.payment, orDash(x.requester),
			age(now, x.since), x.policy)
	}
	return t.Flush()
}
