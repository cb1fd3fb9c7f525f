package settlement

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/money"
)

// ErrTruncated is returned when a report ends without its "<END>" line.
var ErrTruncated = errors.New("report is truncated: it ends without the <END> line")

// Reader reads one report, one record at a time.
type Reader struct {
	kind Kind
	cr   *csv.Reader
	col  map[string]int
	rec  []string
	n    int // records read, header excluded
	done bool
}

// NewReader reads the header of a report of kind k from r and checks that
// every mandatory column is there.
func NewReader(r io.Reader, k Kind) (*Reader, error) {
	if Columns(k) == nil {
		return nil, fmt.Errorf("unknown report kind %q", k)
	}
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s report: %w (the file is empty)", k, ErrTruncated)
	}
	if err != nil {
		return nil, fmt.Errorf("%s report header: %w", k, err)
	}
	if len(head) == 1 && head[0] == EndMarker {
		return nil, fmt.Errorf("%s report has no header line", k)
	}
	rd := &Reader{kind: k, cr: cr, col: make(map[string]int, len(head))}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if _, dup := rd.col[h]; dup {
			return nil, fmt.Errorf("%s report header: column %q appears twice", k, h)
		}
		rd.col[h] = i
	}
	var missing []string
	for _, c := range mandatory(k) {
		if _, ok := rd.col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s report header lacks mandatory column(s) %s", k, strings.Join(missing, ", "))
	}
	return rd, nil
}

// Records is the number of records read so far (the header and "<END>"
// excluded).
func (r *Reader) Records() int { return r.n }

// next returns the next record's fields, io.EOF after "<END>", or
// ErrTruncated when the file ends without it.
func (r *Reader) next() ([]string, error) {
	if r.done {
		return nil, io.EOF
	}
	rec, err := r.cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s report after %d records: %w", r.kind, r.n, ErrTruncated)
	}
	if err != nil {
		return nil, fmt.Errorf("%s report: %w", r.kind, err)
	}
	if len(rec) == 1 && strings.TrimSpace(rec[0]) == EndMarker {
		r.done = true
		// Nothing but blank lines may follow.
		if extra, err := r.cr.Read(); err != io.EOF {
			if err == nil {
				return nil, fmt.Errorf("%s report: a record (%q) follows the <END> line", r.kind, strings.Join(extra, ","))
			}
			return nil, fmt.Errorf("%s report after <END>: %w", r.kind, err)
		}
		return nil, io.EOF
	}
	if len(rec) != len(r.col) {
		line, _ := r.cr.FieldPos(0)
		n := len(rec)
		if _, err := r.cr.Read(); err == io.EOF {
			// A short last line with nothing after it: the file was cut.
			return nil, fmt.Errorf("%s report line %d (%d of %d fields): %w", r.kind, line, n, len(r.col), ErrTruncated)
		}
		return nil, fmt.Errorf("%s report line %d has %d fields, the header has %d", r.kind, line, n, len(r.col))
	}
	r.n++
	r.rec = rec
	return rec, nil
}

// field returns column name of the current record ("" if the report has no
// such column).
func (r *Reader) field(name string) string {
	if i, ok := r.col[name]; ok {
		return r.rec[i]
	}
	return ""
}

// fail wraps a field error with where it is.
func (r *Reader) fail(name string, err error) error {
	line, _ := r.cr.FieldPos(0)
	return fmt.Errorf("%s report line %d, %s: %w", r.kind, line, name, err)
}

// amount parses a signed major-unit amount and its currency column.
func (r *Reader) amount(valueCol, currencyCol string) (money.Signed, error) {
	v, c := r.field(valueCol), r.field(currencyCol)
	if v == "" && c == "" {
		return money.Signed{}, nil
	}
	if c == "" {
		return money.Signed{}, r.fail(valueCol, fmt.Errorf("%s %q has no currency (%s is empty)", valueCol, v, currencyCol))
	}
	s, err := money.ParseSignedMajor(c, v)
	if err != nil {
		return money.Signed{}, r.fail(valueCol, err)
	}
	return s, nil
}

func (r *Reader) time(col string) (time.Time, error) {
	v := r.field(col)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(TimeLayout, v)
	if err != nil {
		return time.Time{}, r.fail(col, fmt.Errorf("%q is not an ISO 8601 time with offset", v))
	}
	return t, nil
}

// Read returns the next line of a transaction or settlement details
// report, io.EOF after the "<END>" line, or an error wrapping ErrTruncated.
func (r *Reader) Read() (Line, error) {
	if r.kind == SettlementSummary {
		return Line{}, fmt.Errorf("Read on a settlement summary report; use ReadSummary")
	}
	if _, err := r.next(); err != nil {
		return Line{}, err
	}
	l := Line{
		SettlementBatchID: r.field("settlementBatchId"), CustomerID: r.field("customerId"), Acquirer: r.field("acquirer"),
		AcquirerReferenceNo: r.field("acquirerReferenceNo"), ReferenceMerchantID: r.field("referenceMerchantId"),
		ReferenceStoreID: r.field("referenceStoreId"), TransactionID: r.field("transactionId"),
		OriginalTransactionID: r.field("originalTransactionId"), TransactionRequestID: r.field("transactionRequestId"),
		ReferenceTransactionID: r.field("referenceTransactionId"), PaymentMethodType: r.field("paymentMethodType"),
		TransactionType: TransactionType(r.field("transactionType")), QuoteCurrencyPair: r.field("quoteCurrencyPair"),
		QuotePrice: r.field("quotePrice"),
	}
	if l.TransactionID == "" {
		return Line{}, r.fail("transactionId", errors.New("is empty"))
	}
	var err error
	if l.TransactionTime, err = r.time("transactionTime"); err != nil {
		return Line{}, err
	}
	if l.TransactionAmount, err = r.amount("transactionAmountValue", "transactionCurrency"); err != nil {
		return Line{}, err
	}
	if l.SettlementAmount, err = r.amount("settlementAmountValue", "settlementCurrency"); err != nil {
		return Line{}, err
	}
	if l.Fee, err = r.amount("feeAmountValue", "feeCurrency"); err != nil {
		return Line{}, err
	}
	return l, nil
}

// ReadSummary returns the next line of a settlement summary report, io.EOF
// after "<END>", or an error wrapping ErrTruncated.
func (r *Reader) ReadSummary() (SummaryLine, error) {
	if r.kind != SettlementSummary {
		return SummaryLine{}, fmt.Errorf("ReadSummary on a %s report; use Read", r.kind)
	}
	if _, err := r.next(); err != nil {
		return SummaryLine{}, err
	}
	s := SummaryLine{SettlementBatchID: r.field("settlementBatchId"), CustomerID: r.field("customerId"),
		Acquirer: r.field("acquirer"), SummaryType: r.field("summaryType")}
	n, err := strconv.ParseInt(r.field("count"), 10, 64)
	if err != nil || n < 0 {
		return SummaryLine{}, r.fail("count", fmt.Errorf("%q is not a count", r.field("count")))
	}
	s.Count = n
	if s.SettlementTime, err = r.time("settlementTime"); err != nil {
		return SummaryLine{}, err
	}
	for _, a := range []struct {
		dst        *money.Signed
		value, cur string
	}{
		{&s.SettlementAmount, "settlementAmountValue", "settlementCurrency"},
		{&s.Fee, "feeAmountValue", "feeCurrency"},
		{&s.TaxFee, "taxFeeAmountValue", "taxFeeCurrency"},
		{&s.ProcessingFee, "processingFeeAmountValue", "processingFeeCurrency"},
	} {
		if *a.dst, err = r.amount(a.value, a.cur); err != nil {
			return SummaryLine{}, err
		}
	}
	return s, nil
}
