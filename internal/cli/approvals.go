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
		Use:   "approve NAME [--kind refund|capture|cancel] [--comment TEXT]",
		Short: "Approve a Refund, Capture or Payment cancel that waits for an approval (four eyes)",
		Long: `Approve an operation that its namespace's MoneyPolicy holds with reason
ApprovalRequired. The Approval names the operation, its amount, its payment and
its requester exactly as they are now; the apiserver records you as the
approver, and refuses the approval when you asked for the operation yourself or
are not one of the policy's approvers. The operation is sent once approved.`,
		Example: `  kubectl cashier approve big-refund -n shop
  kubectl cashier approve order-1001-capture-2 -n shop --kind capture --comment "checked with the buyer"
  kubectl cashier approve order-1001 -n shop --kind cancel`,
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
	cmd.Flags().StringVar(&kind, "kind", "refund", "what NAME is: refund, capture, or cancel (a Payment whose spec.cancel waits)")
	cmd.Flags().StringVar(&comment, "comment", "", "why, for the audit trail")
	return cmd
}

// target is what an Approval names: an operation, or a Payment's cancel.
type target struct {
	kind      v1.MoneyKind
	requester string
	phase     string
	conds     []metav1.Condition
	amount    v1.Money
	payment   string
}

// readTarget reads the Refund, Capture or Payment (its cancel) to approve.
func readTarget(ctx context.Context, s *session, kind, name string) (target, error) {
	key := client.ObjectKey{Namespace: s.namespace, Name: name}
	var op v1.PaymentOperation
	switch strings.ToLower(kind) {
	case "refund":
		op = &v1.Refund{}
	case "capture":
		op = &v1.Capture{}
	case "cancel":
		var p v1.Payment
		if err := s.client.Get(ctx, key, &p); err != nil {
			return target{}, fmt.Errorf("payment %s/%s: %w", s.namespace, name, err)
		}
		return target{kind: v1.MoneyKindCancel, requester: p.Annotations[v1.CancelRequesterAnnotation], phase: string(p.Status.Phase),
			conds: p.Status.Conditions, amount: p.Spec.Amount, payment: p.Name}, nil
	default:
		return target{}, fmt.Errorf("--kind %s: refund, capture or cancel", kind)
	}
	mk := v1.MoneyKindRefund
	if _, ok := op.(*v1.Capture); ok {
		mk = v1.MoneyKindCapture
	}
	if err := s.client.Get(ctx, key, op); err != nil {
		return target{}, fmt.Errorf("%s %s/%s: %w", mk, s.namespace, name, err)
	}
	st := op.GetOperationStatus()
	return target{kind: mk, requester: op.GetAnnotations()[v1.RequesterAnnotation], phase: string(st.Phase),
		conds: st.Conditions, amount: op.GetAmount(), payment: op.GetPaymentRef()}, nil
}

// approvalFor reads the operation and writes its Approval; an operation that
// is not waiting for an approval is an error saying where it stands.
func approvalFor(ctx context.Context, s *session, kind, name, comment string) (*v1.Approval, error) {
	t, err := readTarget(ctx, s, kind, name)
	if err != nil {
		return nil, err
	}
	if t.requester == "" {
		return nil, fmt.Errorf("%s %s/%s has no requester recorded at admission: there is nothing to approve",
			t.kind, s.namespace, name)
	}
	if b := meta.FindStatusCondition(t.conds, v1.ConditionBlocked); b == nil || b.Status != metav1.ConditionTrue ||
		b.Reason != v1.ReasonApprovalRequired {
		return nil, fmt.Errorf("%s %s/%s is not waiting for an approval (phase %s%s)", t.kind, s.namespace, name,
			orDash(t.phase), blockedNote(b))
	}
	return &v1.Approval{ObjectMeta: metav1.ObjectMeta{Namespace: s.namespace, Name: strings.ToLower(string(t.kind)) + "-" + name},
		Spec: v1.ApprovalSpec{TargetRef: v1.ApprovalTarget{Kind: t.kind, Name: name}, Amount: t.amount,
			PaymentRef: v1.LocalObjectReference{Name: t.payment}, Requester: t.requester, Comment: comment}}, nil
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
		Short: "List the Refunds, Captures and Payment cancels that wait for an approval, longest first",
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
	out, err := waitingCancels(ctx, c, ns)
	if err != nil {
		return nil, err
	}
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

// waitingCancels are the Payments of ns whose cancel waits for an approval.
func waitingCancels(ctx context.Context, c client.Client, ns string) ([]waiting, error) {
	var payments v1.PaymentList
	if err := c.List(ctx, &payments, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	var out []waiting
	for i := range payments.Items {
		p := &payments.Items[i]
		b := meta.FindStatusCondition(p.Status.Conditions, v1.ConditionBlocked)
		if b == nil || b.Status != metav1.ConditionTrue || b.Reason != v1.ReasonApprovalRequired {
			continue
		}
		out = append(out, waiting{ns: p.Namespace, kind: string(v1.MoneyKindCancel), name: p.Name, amount: p.Spec.Amount.String(),
			payment: p.Name, requester: p.Annotations[v1.CancelRequesterAnnotation], policy: p.Namespace + "/" + v1.MoneyPolicyName,
			since: b.LastTransitionTime.Time})
	}
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
