package settlement

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/money"
)

// Kind is one of the reports.
type Kind string

// The reports modelled here.
const (
	TransactionDetails Kind = "TransactionDetails"
	SettlementDetails  Kind = "SettlementDetails"
	SettlementSummary  Kind = "SettlementSummary"
)

// Kinds lists every report kind.
var Kinds = []Kind{TransactionDetails, SettlementDetails, SettlementSummary}

// TransactionType is the transactionType column.
type TransactionType string

// Transaction types the operator reconciles. Others (VOID,
// PAYMENT_REVERSAL, ...) are read and counted but match no object.
const (
	TypePayment       TransactionType = "PAYMENT"
	TypeAuthorization TransactionType = "AUTHORIZATION"
	TypeCapture       TransactionType = "CAPTURE"
	TypeRefund        TransactionType = "REFUND"
	TypeCancel        TransactionType = "CANCEL"
	TypeDispute       TransactionType = "DISPUTE"
)

// EndMarker is the last line of every complete report.
const EndMarker = "<END>"

// Zone is the gateway's settlement time zone: a day runs from 00:00 to
// 23:59:59 at UTC+8.
var Zone = time.FixedZone("UTC+8", 8*3600)

// TimeLayout is the time format of report columns.
const TimeLayout = time.RFC3339

// detailColumns are the columns of a transaction details line, in order;
// a settlement details line has settlementBatchId first.
var detailColumns = []string{
	"customerId", "acquirer", "acquirerReferenceNo", "referenceMerchantId", "referenceStoreId",
	"transactionId", "originalTransactionId", "transactionRequestId", "referenceTransactionId",
	"paymentMethodType", "transactionType", "transactionTime",
	"transactionAmountValue", "transactionCurrency",
	"settlementAmountValue", "settlementCurrency", "quoteCurrencyPair", "quotePrice",
	"feeAmountValue", "feeCurrency",
}

// summaryColumns are the columns of a settlement summary line, in order.
var summaryColumns = []string{
	"settlementBatchId", "customerId", "acquirer", "summaryType", "settlementTime", "count",
	"settlementAmountValue", "settlementCurrency", "feeAmountValue", "feeCurrency",
	"taxFeeAmountValue", "taxFeeCurrency", "processingFeeAmountValue", "processingFeeCurrency",
}

// Columns returns the header of a report kind, in the gateway's order.
func Columns(k Kind) []string {
	switch k {
	case TransactionDetails:
		return append([]string(nil), detailColumns...)
	case SettlementDetails:
		return append([]string{"settlementBatchId"}, detailColumns...)
	case SettlementSummary:
		return append([]string(nil), summaryColumns...)
	}
	return nil
}

// mandatory are the columns a report must have for the operator to use it.
func mandatory(k Kind) []string {
	switch k {
	case TransactionDetails:
		return []string{"transactionId", "transactionType", "transactionTime", "transactionAmountValue", "transactionCurrency"}
	case SettlementDetails:
		return []string{"settlementBatchId", "transactionId", "transactionType", "transactionAmountValue", "transactionCurrency",
			"settlementAmountValue", "settlementCurrency"}
	case SettlementSummary:
		return []string{"settlementBatchId", "summaryType", "count", "settlementAmountValue", "settlementCurrency"}
	}
	return nil
}

// Line is one record of a transaction details or settlement details report.
// Amounts with an empty column are the zero Signed (no currency).
type Line struct {
	// SettlementBatchID is set in settlement details only.
	SettlementBatchID      string
	CustomerID             string
	Acquirer               string
	AcquirerReferenceNo    string
	ReferenceMerchantID    string
	ReferenceStoreID       string
	TransactionID          string
	OriginalTransactionID  string
	TransactionRequestID   string
	ReferenceTransactionID string
	PaymentMethodType      string
	TransactionType        TransactionType
	TransactionTime        time.Time
	// TransactionAmount is the amount of the transaction in its currency,
	// positive (the transaction type says which way the money went).
	TransactionAmount money.Signed
	// SettlementAmount is the gross amount in the settlement currency,
	// signed from the merchant's side (refunds negative).
	SettlementAmount money.Signed
	// QuoteCurrencyPair ("USD/HKD") and QuotePrice (an exact decimal string)
	// are set when the settlement currency differs from the transaction's.
	QuoteCurrencyPair string
	QuotePrice        string
	// Fee is the gateway's fee in the settlement currency, negative when
	// charged, positive when returned (a refunded payment's fee).
	Fee money.Signed
}

// Net is the settlement amount after the fee (SettlementAmount + Fee).
func (l *Line) Net() (money.Signed, error) {
	if l.Fee.Currency() == "" {
		return l.SettlementAmount, nil
	}
	return l.SettlementAmount.Add(l.Fee)
}

// SummaryLine is one record of a settlement summary report.
type SummaryLine struct {
	SettlementBatchID string
	CustomerID        string
	Acquirer          string
	// SummaryType is PAYMENT, CAPTURE, REFUND, CANCEL, DISPUTE, ... or TOTAL.
	SummaryType    string
	SettlementTime time.Time
	Count          int64
	// SettlementAmount is the batch's gross for the summary type, signed.
	SettlementAmount money.Signed
	Fee              money.Signed
	TaxFee           money.Signed
	ProcessingFee    money.Signed
}

// SummaryTotal is the summary type of a batch's total line.
const SummaryTotal = "TOTAL"

// Day is a settlement-zone calendar day written YYYYMMDD.
type Day string

// DayOf returns the day (at UTC+8) that t falls on.
func DayOf(t time.Time) Day { return Day(t.In(Zone).Format("20060102")) }

// ParseDay checks a YYYYMMDD day.
func ParseDay(s string) (Day, error) {
	if _, err := time.ParseInLocation("20060102", s, Zone); err != nil || len(s) != 8 {
		return "", fmt.Errorf("day %q is not YYYYMMDD", s)
	}
	return Day(s), nil
}

// Start is the day's first instant.
func (d Day) Start() time.Time {
	t, _ := time.ParseInLocation("20060102", string(d), Zone)
	return t
}

// AddDays returns the day n days later (earlier if n < 0).
func (d Day) AddDays(n int) Day { return DayOf(d.Start().AddDate(0, 0, n)) }

// DefaultPathPattern is where the gateway puts a merchant's reports:
// {customerId} and {date} (YYYYMMDD, the transaction date for transaction
// details, the settlement date for settlement reports) are replaced.
const DefaultPathPattern = "/v1/settlements/{customerId}/{date}/"

// Dir expands a path pattern for a customer and day.
func Dir(pattern, customerID string, d Day) string {
	if pattern == "" {
		pattern = DefaultPathPattern
	}
	p := strings.ReplaceAll(pattern, "{customerId}", customerID)
	p = strings.ReplaceAll(p, "{date}", string(d))
	return path.Clean(p) + "/"
}

// Root is the directory holding a customer's day directories: the pattern
// up to {date}.
func Root(pattern, customerID string) string {
	if pattern == "" {
		pattern = DefaultPathPattern
	}
	p := strings.ReplaceAll(pattern, "{customerId}", customerID)
	if i := strings.Index(p, "{date}"); i >= 0 {
		p = p[:i]
	}
	return path.Clean(p) + "/"
}

// TransactionFileName is the transaction details report of day d.
func TransactionFileName(d Day, seq int) string {
	return fmt.Sprintf("transactionItems_%s_%03d.csv", d, seq)
}

// SettlementFileName is the settlement details (SettlementDetails) or
// summary (SettlementSummary) report of a batch.
func SettlementFileName(k Kind, currency, batchID string, seq int) string {
	prefix := "settlementItems"
	if k == SettlementSummary {
		prefix = "settlementSummary"
	}
	return fmt.Sprintf("%s_%s_%s_%03d.csv", prefix, currency, batchID, seq)
}

// KindOf tells a report's kind from its file name ("" if it is none of the
// three). Names may carry extra parts (a payment method, a PSP name)
// between the prefix and the sequence number.
func KindOf(name string) Kind {
	if !strings.HasSuffix(name, ".csv") {
		return ""
	}
	switch {
	case strings.HasPrefix(name, "transactionItems_"):
		return TransactionDetails
	case strings.HasPrefix(name, "settlementItems_"):
		return SettlementDetails
	case strings.HasPrefix(name, "settlementSummary_"):
		return SettlementSummary
	}
	return ""
}

// Before reports whether d is earlier than e.
func (d Day) Before(e Day) bool { return d < e }
