package settlement

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/money"
)

// Writer writes one report: the header at NewWriter, one line per Write,
// and "<END>" at Close.
type Writer struct {
	kind Kind
	cw   *csv.Writer
	rec  []string
}

// NewWriter starts a report of kind k on w by writing its header.
func NewWriter(w io.Writer, k Kind) (*Writer, error) {
	cols := Columns(k)
	if cols == nil {
		return nil, fmt.Errorf("unknown report kind %q", k)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(cols); err != nil {
		return nil, err
	}
	return &Writer{kind: k, cw: cw, rec: make([]string, 0, len(cols))}, nil
}

func amountFields(a money.Signed) (string, string) {
	if a.Currency() == "" {
		return "", ""
	}
	return a.Major(), a.Currency()
}

func timeField(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(Zone).Format(TimeLayout)
}

// Write writes a transaction or settlement details line.
func (w *Writer) Write(l *Line) error {
	if w.kind == SettlementSummary {
		return fmt.Errorf("Write on a settlement summary report; use WriteSummary")
	}
	r := w.rec[:0]
	if w.kind == SettlementDetails {
		r = append(r, l.SettlementBatchID)
	}
	r = append(r, l.CustomerID, l.Acquirer, l.AcquirerReferenceNo, l.ReferenceMerchantID, l.ReferenceStoreID,
		l.TransactionID, l.OriginalTransactionID, l.TransactionRequestID, l.ReferenceTransactionID,
		l.PaymentMethodType, string(l.TransactionType), timeField(l.TransactionTime))
	tv, tc := amountFields(l.TransactionAmount)
	sv, sc := amountFields(l.SettlementAmount)
	fv, fc := amountFields(l.Fee)
	r = append(r, tv, tc, sv, sc, l.QuoteCurrencyPair, l.QuotePrice, fv, fc)
	w.rec = r
	return w.cw.Write(r)
}

// WriteSummary writes a settlement summary line.
func (w *Writer) WriteSummary(s *SummaryLine) error {
	if w.kind != SettlementSummary {
		return fmt.Errorf("WriteSummary on a %s report; use Write", w.kind)
	}
	r := append(w.rec[:0], s.SettlementBatchID, s.CustomerID, s.Acquirer, s.SummaryType,
		timeField(s.SettlementTime), strconv.FormatInt(s.Count, 10))
	for _, a := range []money.Signed{s.SettlementAmount, s.Fee, s.TaxFee, s.ProcessingFee} {
		v, c := amountFields(a)
		r = append(r, v, c)
	}
	w.rec = r
	return w.cw.Write(r)
}

// Close writes the "<END>" line and flushes. The underlying writer is not
// closed.
func (w *Writer) Close() error {
	if err := w.cw.Write([]string{EndMarker}); err != nil {
		return err
	}
	w.cw.Flush()
	return w.cw.Error()
}
