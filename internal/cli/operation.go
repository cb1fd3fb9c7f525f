package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/money"
)

// operationFlags are shared by refund and capture.
type operationFlags struct {
	amount, name, output string
	apply                bool
}

func (f *operationFlags) bind(cmd *cobra.Command, kind string) {
	cmd.Flags().StringVar(&f.amount, "amount", "", "amount in major units of the payment's currency, e.g. 12.50 (required)")
	cmd.Flags().StringVar(&f.name, "name", "", "name of the "+kind+" (default: PAYMENT-"+kind+"-N, N one more than the payment's "+kind+"s so far)")
	cmd.Flags().StringVarP(&f.output, "output", "o", "yaml", "manifest format: yaml or json")
	cmd.Flags().BoolVar(&f.apply, "apply", false, "create the "+kind+" in the cluster instead of printing it")
	_ = cmd.MarkFlagRequired("amount")
}

func newRefundCommand(connect func() (*session, error)) *cobra.Command {
	var f operationFlags
	var reason string
	cmd := &cobra.Command{
		Use:   "refund PAYMENT --amount AMOUNT [--reason TEXT]",
		Short: "Write a Refund manifest, checked against what the payment can still refund",
		Long: `Write a Refund for a payment. Before anything is printed or created, the amount
is checked: it must be valid for the payment's currency (HKD 2 decimals, JPY
none, KWD 3), and fit in what is still refundable: status.amounts.refundable
minus the Refunds of the payment that are not final yet.

By default the manifest is printed, to commit to git; --apply creates it.
The name is fixed in the manifest, so running --apply twice cannot refund
twice: the second create fails with AlreadyExists.`,
		Example: `  kubectl cashier refund order-1001 -n shop --amount 12.50 --reason "One item returned" > refund.yaml
  kubectl cashier refund order-1001 -n shop --amount 12.50 --apply`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := connect()
			if err != nil {
				return err
			}
			r, err := buildRefund(cmd.Context(), s.client, s.namespace, args[0], f, reason)
			if err != nil {
				return err
			}
			return emit(cmd.Context(), s, r, f)
		},
	}
	f.bind(cmd, "refund")
	cmd.Flags().StringVar(&reason, "reason", "", "reason shown to the user")
	return cmd
}

func newCaptureCommand(connect func() (*session, error)) *cobra.Command {
	var f operationFlags
	var last bool
	cmd := &cobra.Command{
		Use:   "capture PAYMENT --amount AMOUNT [--last]",
		Short: "Write a Capture manifest, checked against what the authorization still holds",
		Long: `Write a Capture for an authorized card payment with captureMode Manual. Before
anything is printed or created, the amount is checked: it must be valid for
the payment's currency, and fit in what is still capturable: the authorized
amount minus what was captured and minus the Captures of the payment that are
not final yet. --last tells the gateway no capture follows, releasing the
rest of the authorization.

By default the manifest is printed, to commit to git; --apply creates it.`,
		Example: `  kubectl cashier capture card-auth -n shop --amount 70.00 > capture.yaml
  kubectl cashier capture card-auth -n shop --amount 50.00 --last --apply`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := connect()
			if err != nil {
				return err
			}
			c, err := buildCapture(cmd.Context(), s.client, s.namespace, args[0], f, last)
			if err != nil {
				return err
			}
			return emit(cmd.Context(), s, c, f)
		},
	}
	f.bind(cmd, "capture")
	cmd.Flags().BoolVar(&last, "last", false, "this is the last capture: release the rest of the authorization")
	return cmd
}

// buildRefund checks the amount against the payment and returns the Refund.
func buildRefund(ctx context.Context, c client.Client, ns, payment string, f operationFlags, reason string) (*v1.Refund, error) {
	tree, err := gatherTree(ctx, c, ns, payment, 0)
	if err != nil {
		return nil, err
	}
	p := &tree.Payment
	if p.Status.Phase != v1.PaymentSucceeded {
		return nil, fmt.Errorf("payment %s/%s is %s: only a Succeeded payment can be refunded", ns, payment, orDash(string(p.Status.Phase)))
	}
	var refundable *v1.Money
	if r := p.Status.Amounts.Refundable; r != nil {
		refundable = &v1.Money{Currency: r.Currency, Value: r.Value}
	}
	var inFlight []v1.Money
	for _, r := range tree.Refunds {
		if !r.Status.Phase.IsFinal() {
			inFlight = append(inFlight, r.Spec.Amount)
		}
	}
	amount, err := checkAmount(p, f.amount, "refundable", refundable, inFlight)
	if err != nil {
		return nil, err
	}
	name := f.name
	if name == "" {
		name = fmt.Sprintf("%s-refund-%d", payment, len(tree.Refunds)+1)
	}
	return &v1.Refund{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1.GroupVersion.String(), Kind: "Refund"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       v1.RefundSpec{PaymentRef: v1.LocalObjectReference{Name: payment}, Amount: amount, Reason: reason},
	}, nil
}

// buildCapture checks the amount against the authorization and returns the Capture.
func buildCapture(ctx context.Context, c client.Client, ns, payment string, f operationFlags, last bool) (*v1.Capture, error) {
	tree, err := gatherTree(ctx, c, ns, payment, 0)
	if err != nil {
		return nil, err
	}
	p := &tree.Payment
	if !p.Spec.Authorization || p.Spec.CaptureMode != v1.CaptureManual {
		return nil, fmt.Errorf("payment %s/%s is not an authorization with captureMode Manual: the operator captures it, not Capture objects", ns, payment)
	}
	if p.Status.Phase != v1.PaymentAuthorized {
		return nil, fmt.Errorf("payment %s/%s is %s: only an Authorized payment can be captured", ns, payment, orDash(string(p.Status.Phase)))
	}
	capturable, err := capturableOf(p)
	if err != nil {
		return nil, err
	}
	var inFlight []v1.Money
	for _, o := range tree.Captures {
		if !o.Status.Phase.IsFinal() {
			inFlight = append(inFlight, o.Spec.Amount)
		}
	}
	amount, err := checkAmount(p, f.amount, "capturable", capturable, inFlight)
	if err != nil {
		return nil, err
	}
	name := f.name
	if name == "" {
		name = fmt.Sprintf("%s-capture-%d", payment, len(tree.Captures)+1)
	}
	return &v1.Capture{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1.GroupVersion.String(), Kind: "Capture"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       v1.CaptureSpec{PaymentRef: v1.LocalObjectReference{Name: payment}, Amount: amount, IsLastCapture: last},
	}, nil
}

// capturableOf is authorized minus captured.
func capturableOf(p *v1.Payment) (*v1.Money, error) {
	cur := p.Spec.Amount.Currency
	authorized := p.Status.Amounts.Authorized
	if authorized == nil {
		authorized = &p.Spec.Amount
	}
	a, err := statusAmount(cur, authorized)
	if err != nil {
		return nil, err
	}
	captured, err := statusAmount(cur, p.Status.Amounts.Captured)
	if err != nil {
		return nil, err
	}
	rest, err := a.Sub(captured)
	if err != nil {
		return nil, err
	}
	return &v1.Money{Currency: cur, Value: rest.Major()}, nil
}

// checkAmount parses value in the payment's currency and checks that it fits
// in limit minus the amounts of operations still in flight. It returns the
// amount as the API writes it.
func checkAmount(p *v1.Payment, value, limitName string, limit *v1.Money, inFlight []v1.Money) (v1.Money, error) {
	cur := p.Spec.Amount.Currency
	want, err := v1.Money{Currency: cur, Value: value}.Amount()
	if err != nil {
		return v1.Money{}, fmt.Errorf("--amount: %w", err)
	}
	left, err := statusAmount(cur, limit)
	if err != nil {
		return v1.Money{}, err
	}
	pending, _ := money.Zero(cur)
	for _, m := range inFlight {
		a, err := m.Amount()
		if err != nil {
			return v1.Money{}, err
		}
		if pending, err = pending.Add(a); err != nil {
			return v1.Money{}, err
		}
	}
	avail, err := left.Sub(pending)
	if err != nil {
		avail, _ = money.Zero(cur)
	}
	if ok, err := want.LessOrEqual(avail); err != nil || !ok {
		msg := fmt.Sprintf("--amount %s is more than payment %s can take: %s %s", majorText(want), p.Name, majorText(left), limitName)
		if !pending.IsZero() {
			msg += fmt.Sprintf(", minus %s in operations not final yet, leaves %s", majorText(pending), majorText(avail))
		}
		return v1.Money{}, fmt.Errorf("%s", msg)
	}
	return v1.Money{Currency: cur, Value: want.Major()}, nil
}

// emit prints the object as a manifest, or creates it with --apply.
func emit(ctx context.Context, s *session, obj client.Object, f operationFlags) error {
	if f.apply {
		kind := obj.GetObjectKind().GroupVersionKind().Kind
		if err := s.client.Create(ctx, obj); err != nil {
			return fmt.Errorf("creating %s %s/%s: %w", kind, obj.GetNamespace(), obj.GetName(), err)
		}
		fmt.Fprintf(s.out, "%s %s/%s created\n", kind, obj.GetNamespace(), obj.GetName())
		return nil
	}
	return printManifest(s.out, obj, f.output)
}

// printManifest prints obj without the fields only the cluster fills in
// (status, creationTimestamp).
func printManifest(w io.Writer, obj any, format string) error {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	var out []byte
	switch format {
	case "yaml":
		out, err = yaml.Marshal(m)
	case "json":
		out, err = json.MarshalIndent(m, "", "  ")
		out = append(out, '\n')
	default:
		return fmt.Errorf("-o %s: the formats are yaml and json", format)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// majorText prints an amount as the API does: "12.50 HKD".
func majorText(a money.Amount) string { return a.Major() + " " + a.Currency() }
