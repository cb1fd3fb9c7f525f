package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/money"
)

// Buckets of money in a summary, in the order they are printed.
const (
	bucketPaid     = "paid"     // captured (cards) or paid (wallets)
	bucketRefunded = "refunded" // returned by succeeded refunds
	bucketPending  = "pending"  // not final yet and not captured: Pending, Processing, Authorized
	bucketFailed   = "failed"   // never paid: Failed, Expired, or Cancelled before capture
)

var bucketOrder = []string{bucketPaid, bucketRefunded, bucketPending, bucketFailed}

// tally is a count of payments and their exact sum.
type tally struct {
	count int
	sum   money.Amount
}

// moneySummary is money by currency and bucket, today and over all time.
type moneySummary struct {
	Scope      string    // "namespace shop" or "all namespaces"
	Payments   int       // payments read
	TodayStart time.Time // the start of today in the clock's location
	Today, All map[string]map[string]*tally
}

func newSummaryCommand(connect func() (*session, error)) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "summary [-n NAMESPACE | -A]",
		Short: "Sum payments by currency: paid, refunded, pending, failed; today and all",
		Long: `Sum the payments in a namespace (or all namespaces) by currency:

  paid      captured (cards) or paid (wallets), whatever was refunded since
  refunded  returned to users by succeeded refunds
  pending   not final and not yet captured (Pending, Processing, Authorized)
  failed    never paid (Failed, Expired, or Cancelled before any capture)

for the payments created today (since local midnight) and for all of them.
Sums are exact decimals in each currency's precision; the count of payments
in each sum is in brackets.`,
		Example: `  kubectl cashier summary -n shop
  kubectl cashier summary -A`,
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
			sum, err := summarize(cmd.Context(), s.client, ns, s.now)
			if err != nil {
				return err
			}
			return renderSummary(s.out, sum)
		},
	}
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "sum the payments of every namespace")
	return cmd
}

// summarize reads the payments of ns ("" for all) and sums them.
func summarize(ctx context.Context, c client.Client, ns string, now time.Time) (*moneySummary, error) {
	var list v1.PaymentList
	if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("listing payments: %w", err)
	}
	y, m, d := now.Date()
	s := &moneySummary{Scope: "all namespaces", Payments: len(list.Items),
		TodayStart: time.Date(y, m, d, 0, 0, 0, 0, now.Location()),
		Today:      map[string]map[string]*tally{}, All: map[string]map[string]*tally{}}
	if ns != "" {
		s.Scope = "namespace " + ns
	}
	for i := range list.Items {
		p := &list.Items[i]
		shares, err := bucketsOf(p)
		if err != nil {
			return nil, fmt.Errorf("payment %s/%s: %w", p.Namespace, p.Name, err)
		}
		today := !p.CreationTimestamp.Time.Before(s.TodayStart)
		for bucket, a := range shares {
			if err := add(s.All, bucket, a); err != nil {
				return nil, err
			}
			if today {
				if err := add(s.Today, bucket, a); err != nil {
					return nil, err
				}
			}
		}
	}
	return s, nil
}

func add(m map[string]map[string]*tally, bucket string, a money.Amount) error {
	byBucket := m[a.Currency()]
	if byBucket == nil {
		byBucket = map[string]*tally{}
		m[a.Currency()] = byBucket
	}
	t := byBucket[bucket]
	if t == nil {
		byBucket[bucket] = &tally{count: 1, sum: a}
		return nil
	}
	sum, err := t.sum.Add(a)
	if err != nil {
		return fmt.Errorf("summing %s %s: %w", a.Currency(), bucket, err)
	}
	t.count, t.sum = t.count+1, sum
	return nil
}

// bucketsOf splits one payment's money into buckets; zero shares are left out.
func bucketsOf(p *v1.Payment) (map[string]money.Amount, error) {
	cur := p.Spec.Amount.Currency
	amount, err := p.Spec.Amount.Amount()
	if err != nil {
		return nil, err
	}
	captured, err := statusAmount(cur, p.Status.Amounts.Captured)
	if err != nil {
		return nil, err
	}
	if captured.IsZero() && p.Status.Phase == v1.PaymentSucceeded {
		captured = amount // a paid wallet payment that predates the captured total
	}
	refunded, err := statusAmount(cur, p.Status.Amounts.Refunded)
	if err != nil {
		return nil, err
	}
	rest, err := amount.Sub(captured)
	if err != nil { // captured more than the amount: nothing is left pending or failed
		rest, _ = money.Zero(cur)
	}
	out := map[string]money.Amount{bucketPaid: captured, bucketRefunded: refunded}
	switch p.Status.Phase {
	case v1.PaymentFailed, v1.PaymentExpired, v1.PaymentCancelled:
		out[bucketFailed] = rest
	case v1.PaymentSucceeded:
	default:
		out[bucketPending] = rest
	}
	for b, a := range out {
		if a.IsZero() {
			delete(out, b)
		}
	}
	return out, nil
}

// statusAmount parses a status total, which (unlike a spec amount) may be
// zero; nil is zero.
func statusAmount(currency string, m *v1.Money) (money.Amount, error) {
	if m == nil || strings.Trim(m.Value, "0.") == "" {
		return money.Zero(currency)
	}
	if m.Currency != currency {
		return money.Amount{}, fmt.Errorf("status amount %s is not in the payment's currency %s", m, currency)
	}
	return m.Amount()
}

// renderSummary prints one row per currency and bucket that holds money.
func renderSummary(w io.Writer, s *moneySummary) error {
	fmt.Fprintf(w, "%d payments in %s; today is since %s\n\n", s.Payments, s.Scope, s.TodayStart.Format(time.RFC3339))
	if len(s.All) == 0 {
		fmt.Fprintln(w, "No money to show.")
		return nil
	}
	currencies := make([]string, 0, len(s.All))
	for c := range s.All {
		currencies = append(currencies, c)
	}
	sort.Strings(currencies)
	tw := newTable(w)
	fmt.Fprintln(tw, "CURRENCY\tSTATE\tTODAY\tALL")
	for _, c := range currencies {
		for _, b := range bucketOrder {
			if t := s.All[c][b]; t != nil {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c, b, tallyCell(s.Today[c][b]), tallyCell(t))
			}
		}
	}
	return tw.Flush()
}

func tallyCell(t *tally) string {
	if t == nil {
		return "-"
	}
	return fmt.Sprintf("%s (%d)", t.sum.Major(), t.count)
}
