package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/skip2/go-qrcode"
	"github.com/spf13/cobra"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

func newCheckoutCommand(connect func() (*session, error)) *cobra.Command {
	noQR := false
	cmd := &cobra.Command{
		Use:   "checkout PAYMENT",
		Short: "Show what the user must do to pay: the checkout URL, form or order code, as a QR code",
		Long: `Show the user action of a Processing payment (status.userAction): the checkout
URL, the redirect form (method and parameters), the wallet app links, or the
order codes, and a QR code in the terminal to scan with the wallet app or a
phone camera. The QR code holds the order code when there is one, else the
app link, else the checkout URL.`,
		Example: `  kubectl cashier checkout order-1001 -n shop
  kubectl cashier checkout order-1001 -n shop --no-qr`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := connect()
			if err != nil {
				return err
			}
			p, err := s.getPayment(cmd, args[0])
			if err != nil {
				return err
			}
			return renderCheckout(s.out, p, !noQR)
		},
	}
	cmd.Flags().BoolVar(&noQR, "no-qr", false, "leave out the QR code")
	return cmd
}

// renderCheckout prints the payment's user action and, if qr, a QR code of
// what the user should scan.
func renderCheckout(w io.Writer, p *v1.Payment, qr bool) error {
	ua := p.Status.UserAction
	if ua == nil || p.Status.Phase != v1.PaymentProcessing {
		switch {
		case p.Status.Phase.IsFinal():
			return fmt.Errorf("payment %s/%s is %s: the user has nothing left to do", p.Namespace, p.Name, p.Status.Phase)
		default:
			return fmt.Errorf("payment %s/%s is %s and has no user action yet: the gateway has not answered the pay call (see kubectl cashier status %s)",
				p.Namespace, p.Name, orDash(string(p.Status.Phase)), p.Name)
		}
	}
	fmt.Fprintf(w, "Payment %s/%s: %s by %s, expires %s\n", p.Namespace, p.Name, p.Spec.Amount.String(), p.Spec.PaymentMethod.Type, expires(p))
	tw := newTable(w)
	for _, row := range [][2]string{{"Action", ua.Type}, {"URL", ua.URL}, {"Method", ua.Method}, {"Parameters", ua.Parameters},
		{"App link", ua.ApplinkURL}, {"Scheme URL", ua.SchemeURL}, {"Order codes", strings.Join(ua.OrderCodes, ", ")}, {"Challenge", ua.ChallengeType}} {
		if row[1] != "" {
			fmt.Fprintf(tw, "  %s:\t%s\n", row[0], row[1])
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	content, what := scanContent(ua)
	if !qr || content == "" {
		return nil
	}
	code, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return fmt.Errorf("QR code of the %s: %w", what, err)
	}
	fmt.Fprintf(w, "\nScan the %s:\n%s", what, code.ToSmallString(false))
	return nil
}

// scanContent is what the QR code holds: the order code, else the app link,
// else the checkout URL, else the scheme URL.
func scanContent(ua *v1.UserAction) (content, what string) {
	switch {
	case len(ua.OrderCodes) > 0:
		return ua.OrderCodes[0], "order code"
	case ua.ApplinkURL != "":
		return ua.ApplinkURL, "app link"
	case ua.URL != "":
		return ua.URL, "checkout URL"
	case ua.SchemeURL != "":
		return ua.SchemeURL, "scheme URL"
	}
	return "", ""
}
