package reconciliation

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/money"
	"github.com/cashier-operator/cashier-operator/internal/settlement"
)

// MaxListed is how many discrepancies a file, and a run, list in detail;
// beyond it they are only counted.
const MaxListed = 5000

type seenKey struct {
	ref string
	typ settlement.TransactionType
}

// totals are one settlement currency's sums.
type totals struct {
	gross, refunds, fees money.Signed
}

func (t *totals) add(dst *money.Signed, a money.Signed) error {
	if dst.Currency() == "" {
		*dst = a
		return nil
	}
	s, err := dst.Add(a)
	*dst = s
	return err
}

// FileResult is what one report file gave. It is merged into its day only
// if its content was not counted already.
type FileResult struct {
	Name   string
	Kind   settlement.Kind
	SHA256 string
	Lines  int
	// Matched counts the lines that matched an object with no difference.
	Matched int
	// Counts are the discrepancies by class (exact); Discrepancies lists
	// the first MaxListed of them, so that a report of a million
	// unmatched lines costs bounded memory.
	Counts        map[string]int
	Discrepancies []v1.Discrepancy

	seen          map[seenKey]bool
	totals        map[string]*totals
	batches       map[string]bool
	batchSums     map[string]money.Signed
	summaryTotals map[string]money.Signed
	summaryLines  map[string]int
}

func newFileResult(name string, k settlement.Kind) *FileResult {
	return &FileResult{Name: name, Kind: k, Counts: map[string]int{}, seen: map[seenKey]bool{}, totals: map[string]*totals{},
		batches: map[string]bool{}, batchSums: map[string]money.Signed{}, summaryTotals: map[string]money.Signed{},
		summaryLines: map[string]int{}}
}

// ReadFile streams one report of day date from r, hashing its bytes and
// matching every line. An error (a truncated or malformed file) means the
// file must not be counted; it is retried on a later run.
func (ix *Index) ReadFile(r io.Reader, name string, k settlement.Kind, date settlement.Day) (*FileResult, error) {
	h := sha256.New()
	fr := newFileResult(name, k)
	rd, err := settlement.NewReader(io.TeeReader(r, h), k)
	if err != nil {
		return nil, err
	}
	for {
		if k == settlement.SettlementSummary {
			s, err := rd.ReadSummary()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			fr.Lines++
			fr.batches[s.SettlementBatchID] = true
			fr.summaryLines[s.SettlementBatchID]++
			if s.SummaryType == settlement.SummaryTotal {
				fr.summaryTotals[s.SettlementBatchID] = s.SettlementAmount
			}
			continue
		}
		l, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := ix.line(&l, v1.ReportKind(k), date, fr); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", name, rd.Records()+1, err)
		}
	}
	fr.SHA256 = hex.EncodeToString(h.Sum(nil))
	return fr, nil
}

// line matches one details line.
func (ix *Index) line(l *settlement.Line, report v1.ReportKind, date settlement.Day, fr *FileResult) error {
	fr.Lines++
	if err := fr.addTotals(l); err != nil {
		return err
	}
	o, ours := ix.find(l)
	if !ours {
		return nil
	}
	d := v1.Discrepancy{Date: string(date), Report: report, TransactionType: string(l.TransactionType), TransactionID: l.TransactionID}
	if o == nil {
		d.Class = v1.DiscrepancyNotInCluster
		fr.report(d, func() string {
			return fmt.Sprintf("%s %s (transactionId %s, transactionRequestId %q) matches no Payment, Capture or Refund of this gateway in the namespace",
				l.TransactionType, l.TransactionAmount, l.TransactionID, l.TransactionRequestID)
		})
		return nil
	}
	fr.seen[seenKey{o.ref, l.TransactionType}] = true
	d.Object = o.ref
	ok := true
	got := l.TransactionAmount
	switch {
	case got.Currency() != o.amount.Currency():
		d.Class = v1.DiscrepancyCurrency
		ok = fr.report(d, func() string { return fmt.Sprintf("report has %s, %s has %s", got, o.ref, o.amount) })
	case amountCompared(l.TransactionType) && got.Minor() != o.amount.Minor():
		d.Class = v1.DiscrepancyAmount
		ok = fr.report(d, func() string { return fmt.Sprintf("report has %s, %s has %s", got, o.ref, o.amount) })
	}
	if !phaseAgrees(l.TransactionType, o) {
		d.Class = v1.DiscrepancyStatus
		ok = fr.report(d, func() string {
			return fmt.Sprintf("report has %s %s done, %s is %s", l.TransactionType, l.TransactionID, o.ref, phaseOr(o.phase))
		})
	}
	if ok {
		fr.Matched++
	}
	return nil
}

// report counts a discrepancy and, while under MaxListed, lists it with
// its message (only then formatted); it returns false so that callers can
// write ok = fr.report(...).
func (fr *FileResult) report(d v1.Discrepancy, msg func() string) bool {
	fr.Counts[d.Class]++
	if len(fr.Discrepancies) < MaxListed {
		d.Message = msg()
		fr.Discrepancies = append(fr.Discrepancies, d)
	}
	return false
}

func phaseOr(p string) string {
	if p == "" {
		return "not yet reconciled by the operator (no phase)"
	}
	return p
}

// amountCompared: a cancellation refunds what was left and a chargeback may
// be partial, so only their currency is compared.
func amountCompared(t settlement.TransactionType) bool {
	return t != settlement.TypeCancel && t != settlement.TypeDispute
}

func phaseAgrees(t settlement.TransactionType, o *object) bool {
	switch t {
	case settlement.TypePayment:
		return o.phase == string(v1.PaymentSucceeded) || o.phase == string(v1.PaymentCancelled)
	case settlement.TypeAuthorization:
		return o.phase == string(v1.PaymentAuthorized) || o.phase == string(v1.PaymentSucceeded) || o.phase == string(v1.PaymentCancelled)
	case settlement.TypeCapture:
		if o.auth { // an automatic capture, compared with its Payment
			return o.phase == string(v1.PaymentSucceeded) || o.phase == string(v1.PaymentCancelled)
		}
		return o.phase == string(v1.OperationSucceeded)
	case settlement.TypeRefund:
		return o.phase == string(v1.OperationSucceeded)
	case settlement.TypeCancel:
		return o.phase == string(v1.PaymentCancelled)
	}
	return true
}

func (fr *FileResult) addTotals(l *settlement.Line) error {
	s := l.SettlementAmount
	if s.Currency() == "" {
		return nil
	}
	t := fr.totals[s.Currency()]
	if t == nil {
		t = &totals{}
		fr.totals[s.Currency()] = t
	}
	var err error
	if s.Minor() >= 0 {
		err = t.add(&t.gross, s)
	} else {
		err = t.add(&t.refunds, s)
	}
	if err == nil && l.Fee.Currency() != "" {
		err = t.add(&t.fees, l.Fee)
	}
	if err != nil {
		return err
	}
	if b := l.SettlementBatchID; b != "" {
		fr.batches[b] = true
		sum := fr.batchSums[b]
		if sum.Currency() == "" {
			fr.batchSums[b] = s
		} else if fr.batchSums[b], err = sum.Add(s); err != nil {
			return err
		}
	}
	return nil
}
