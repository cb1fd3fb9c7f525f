package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// paymentTree is a payment and everything hanging off it.
type paymentTree struct {
	Payment      v1.Payment
	Captures     []v1.Capture
	Refunds      []v1.Refund
	Declarations []v1.CustomsDeclaration
	// Events of all of them, oldest first, at most the last N.
	Events []corev1.Event
}

func newStatusCommand(connect func() (*session, error)) *cobra.Command {
	events := 10
	cmd := &cobra.Command{
		Use:   "status PAYMENT",
		Short: "Show a payment with its captures, refunds, declarations, dispute and events",
		Long: `Show one payment as a tree: its phase and amounts (authorized, captured,
refunded, refundable), its dispute, the Captures, Refunds and
CustomsDeclarations that name it, every condition that is not fine with its
message, and the last events of all of them.`,
		Example: `  kubectl cashier status order-1001 -n shop
  kubectl cashier status order-1001 -n shop --events 30`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := connect()
			if err != nil {
				return err
			}
			tree, err := gatherTree(cmd.Context(), s.client, s.namespace, args[0], events)
			if err != nil {
				return err
			}
			return renderStatus(s.out, tree, s.now)
		},
	}
	cmd.Flags().IntVar(&events, "events", events, "how many of the latest events to show (0: none)")
	return cmd
}

// gatherTree reads the payment, the operations naming it and their events.
func gatherTree(ctx context.Context, c client.Client, ns, name string, events int) (*paymentTree, error) {
	t := &paymentTree{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &t.Payment); err != nil {
		return nil, fmt.Errorf("payment %s/%s: %w", ns, name, err)
	}
	var caps v1.CaptureList
	var refs v1.RefundList
	var decls v1.CustomsDeclarationList
	for _, l := range []client.ObjectList{&caps, &refs, &decls} {
		if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
			return nil, fmt.Errorf("listing operations in %s: %w", ns, err)
		}
	}
	uids := map[types.UID]bool{t.Payment.UID: true}
	for _, o := range caps.Items {
		if o.Spec.PaymentRef.Name == name {
			t.Captures = append(t.Captures, o)
			uids[o.UID] = true
		}
	}
	for _, o := range refs.Items {
		if o.Spec.PaymentRef.Name == name {
			t.Refunds = append(t.Refunds, o)
			uids[o.UID] = true
		}
	}
	for _, o := range decls.Items {
		if o.Spec.PaymentRef.Name == name {
			t.Declarations = append(t.Declarations, o)
			uids[o.UID] = true
		}
	}
	if events > 0 {
		evs, err := eventsOf(ctx, c, ns, uids)
		if err != nil {
			return nil, err
		}
		if len(evs) > events {
			evs = evs[len(evs)-events:]
		}
		t.Events = evs
	}
	return t, nil
}

// eventsOf lists the namespace's events about the given objects, oldest first.
func eventsOf(ctx context.Context, c client.Client, ns string, uids map[types.UID]bool) ([]corev1.Event, error) {
	var list corev1.EventList
	if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("listing events in %s: %w", ns, err)
	}
	var out []corev1.Event
	for _, e := range list.Items {
		if uids[e.InvolvedObject.UID] {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return eventTime(out[i]).Before(eventTime(out[j])) })
	return out, nil
}

// renderStatus prints the tree.
func renderStatus(w io.Writer, t *paymentTree, now time.Time) error {
	p := &t.Payment
	gw := ""
	if p.Status.GatewayStatus != "" {
		gw = " (gateway " + p.Status.GatewayStatus + ")"
	}
	fmt.Fprintf(w, "Payment %s/%s: %s%s\n", p.Namespace, p.Name, orDash(string(p.Status.Phase)), gw)
	bad := troubled(p.Status.Conditions)
	rows := paymentRows(p)
	if len(bad) == 0 {
		rows = append(rows, [2]string{"Conditions", "fine"})
	} else {
		rows = append(rows, [2]string{"Conditions", fmt.Sprintf("%d not fine", len(bad))})
	}
	tw := newTable(w)
	for _, row := range rows {
		fmt.Fprintf(tw, "  %s:\t%s\n", row[0], row[1])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range bad {
		fmt.Fprintf(w, "    %s\n", conditionLine(c))
	}
	renderOperations(w, t)
	renderEvents(w, t.Events, now)
	return nil
}

// paymentRows are the label/value lines under the payment's heading.
func paymentRows(p *v1.Payment) [][2]string {
	a := p.Status.Amounts
	method := p.Spec.PaymentMethod.Type
	if p.Spec.Authorization {
		mode := p.Spec.CaptureMode
		if mode == "" {
			mode = v1.CaptureAutomatic
		}
		method += ", authorization with " + strings.ToLower(string(mode)) + " capture"
	}
	rows := [][2]string{
		{"Amount", fmt.Sprintf("%s by %s", p.Spec.Amount.String(), method)},
		{"Gateway", fmt.Sprintf("%s, request %s, payment %s", p.Spec.GatewayRef.Name, orDash(p.Status.PaymentRequestID), orDash(p.Status.PaymentID))},
		{"Authorized", showMoney(a.Authorized)},
		{"Captured", showMoney(a.Captured)},
		{"Refunded", showMoney(a.Refunded)},
		{"Refundable", total(a.Refundable)},
	}
	if a.Declared != nil {
		rows = append(rows, [2]string{"Declared", showMoney(a.Declared)})
	}
	rows = append(rows, [2]string{"Created", stamp(p.Status.CreateTime)})
	if p.Status.PaymentTime != nil {
		label := "Ended"
		if p.Status.Phase == v1.PaymentSucceeded || p.Status.Phase == v1.PaymentAuthorized {
			label = "Paid"
		}
		rows = append(rows, [2]string{label, stamp(p.Status.PaymentTime)})
	}
	switch p.Status.Phase {
	case "", v1.PaymentPending, v1.PaymentProcessing:
		rows = append(rows, [2]string{"Expires", expires(p)})
	case v1.PaymentAuthorized:
		rows = append(rows, [2]string{"Auth expires", stamp(p.Status.AuthExpiryTime)})
	}
	if c := p.Status.Card; c != nil {
		rows = append(rows, [2]string{"Card", strings.Join(nonEmpty(c.Brand, c.MaskedNumber, c.Funding, c.IssuingCountry), " ")})
	}
	rows = append(rows, [2]string{"Dispute", disputeLine(p.Status.Dispute)})
	if r := p.Status.LastResult; r != nil {
		rows = append(rows, [2]string{"Last result", strings.Join(nonEmpty(r.API, r.Code, r.Status, oneLine(r.Message)), " ")})
	}
	return rows
}

// expires is when the gateway closes the unpaid payment; "(default)" when
// it is the contract's 14 minutes rather than status.expiryTime.
func expires(p *v1.Payment) string {
	at := p.ExpiresAt().UTC().Format(time.RFC3339)
	if p.Status.ExpiryTime == nil {
		at += " (default " + v1.DefaultExpiresAfter.String() + ")"
	}
	return at
}

func disputeLine(d *v1.PaymentDispute) string {
	if d == nil {
		return "none"
	}
	parts := []string{d.ID, string(d.State)}
	parts = append(parts, nonEmpty(d.Type, moneyIf(d.Amount))...)
	if d.ReasonCode != "" || d.ReasonMessage != "" {
		parts = append(parts, "reason "+strings.Join(nonEmpty(d.ReasonCode, d.ReasonMessage), " "))
	}
	if d.State.Blocks() {
		parts = append(parts, "(refunds wait)")
		if d.DefenseDueTime != nil {
			parts = append(parts, "defence due "+stamp(d.DefenseDueTime))
		}
	}
	if d.JudgedResult != "" {
		parts = append(parts, "judged "+strings.Join(nonEmpty(d.JudgedResult, moneyIf(d.JudgedAmount)), " "))
	}
	return strings.Join(parts, " ")
}

func moneyIf(m *v1.Money) string {
	if m == nil {
		return ""
	}
	return m.String()
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// operation is one child row of the tree.
type operation struct {
	kind, name, phase, amount, detail string
	conds                             []metav1.Condition
	audit                             *v1.Audit
}

func operationsOf(t *paymentTree) []operation {
	var ops []operation
	for _, o := range t.Captures {
		d := ""
		if o.Spec.IsLastCapture {
			d = "last capture"
		}
		ops = append(ops, operation{"Capture", o.Name, string(o.Status.Phase), o.Spec.Amount.String(), d, o.Status.Conditions, o.Status.Audit})
	}
	for _, o := range t.Refunds {
		ops = append(ops, operation{"Refund", o.Name, string(o.Status.Phase), o.Spec.Amount.String(), quoted(o.Spec.Reason), o.Status.Conditions, o.Status.Audit})
	}
	for _, o := range t.Declarations {
		d := strings.Join(nonEmpty(o.Spec.Customs.Code, o.Status.DeclarationStatus, o.Status.IdentityCheckResult), " ")
		ops = append(ops, operation{"CustomsDeclaration", o.Name, string(o.Status.Phase), o.Spec.Amount.String(), d, o.Status.Conditions, nil})
	}
	return ops
}

func quoted(s string) string {
	if s == "" {
		return ""
	}
	return fmt.Sprintf("%q", s)
}

// renderOperations prints the captures, refunds and declarations as
// branches, in aligned columns, each followed by its troubled conditions.
func renderOperations(w io.Writer, t *paymentTree) {
	ops := operationsOf(t)
	if len(ops) == 0 {
		fmt.Fprintln(w, "No captures, refunds or customs declarations.")
		return
	}
	var wName, wPhase, wAmount int
	for _, op := range ops {
		wName = max(wName, len(op.kind)+1+len(op.name))
		wPhase = max(wPhase, len(orDash(op.phase)))
		wAmount = max(wAmount, len(op.amount))
	}
	for i, op := range ops {
		branch, stem := "├── ", "│   "
		if i == len(ops)-1 {
			branch, stem = "└── ", "    "
		}
		line := fmt.Sprintf("%-*s  %-*s  %-*s  %s", wName, op.kind+" "+op.name, wPhase, orDash(op.phase), wAmount, op.amount, op.detail)
		fmt.Fprintln(w, strings.TrimRight(branch+line, " "))
		if a := auditLine(op.audit); a != "" {
			fmt.Fprintln(w, stem+"  "+a)
		}
		for _, c := range troubled(op.conds) {
			fmt.Fprintln(w, stem+"  "+conditionLine(c))
		}
	}
}

// renderEvents prints the events as a table, oldest first.
func renderEvents(w io.Writer, evs []corev1.Event, now time.Time) {
	if len(evs) == 0 {
		return
	}
	fmt.Fprintf(w, "\nEvents (last %d):\n", len(evs))
	tw := newTable(w)
	fmt.Fprintln(tw, "  AGE\tTYPE\tREASON\tOBJECT\tMESSAGE")
	for _, e := range evs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s/%s\t%s\n", age(now, eventTime(e)), e.Type, e.Reason,
			e.InvolvedObject.Kind, e.InvolvedObject.Name, gateway.RedactText(oneLine(e.Message)))
	}
	_ = tw.Flush()
}

// auditLine says who asked for an operation and who approved it ("" when
// nothing was recorded).
func auditLine(a *v1.Audit) string {
	if a == nil || a.Requester == "" {
		return ""
	}
	line := "requested by " + a.Requester
	if a.Policy != "" {
		line += " under MoneyPolicy " + a.Policy
	}
	switch {
	case a.Approver != "" && a.Approval != "":
		line += fmt.Sprintf("; approved by %s at %s (Approval %s)", a.Approver, stamp(a.ApprovedAt), a.Approval)
	case a.Approver != "":
		line += "; approved as a trusted applier"
	}
	return line
}
