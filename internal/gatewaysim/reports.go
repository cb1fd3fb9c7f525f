package gatewaysim

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/money"
	"github.com/cashier-operator/cashier-operator/internal/settlement"
)

// Reconciliation reports. For every settlement day (00:00-23:59:59 at
// UTC+8) of the simulated clock the simulator publishes, for each merchant,
// from its own ledger:
//
//   - transactionItems_<day>_000.csv (transaction details) in the day's
//     directory, from the start of the next day;
//   - settlementItems_<cur>_<batch>_000.csv and
//     settlementSummary_<cur>_<batch>_000.csv (settlement details and
//     summary), one batch per settlement currency, in the directory of the
//     settlement day (transaction day + SettlementDelayDays), from the start
//     of that day.
//
// Fees come from a seeded fee schedule (FeeBasisPoints) and settlement in
// another currency from a fixed quote table (quotePerUSD). The rules are
// listed in docs/simulator.md ("Reconciliation reports").

// ReportOptions configure the reports and their SFTP server.
type ReportOptions struct {
	// SettlementDelayDays is N of the T+N settlement period (default 1).
	SettlementDelayDays int
	// Retention is how long a report stays on the server (default 7 days).
	Retention time.Duration
	// SFTPAddr, when set, starts the SFTP server on it with the simulator
	// ("127.0.0.1:0" for any free port); see StartSFTP.
	SFTPAddr string
	// Acquirer is the acquirer column ("Alipay_SG").
	Acquirer string
}

// Report faults injected with SetReportFault.
const (
	// ReportLate withholds the report until the fault is cleared.
	ReportLate = "late"
	// ReportDuplicate publishes an identical second copy (sequence _001).
	ReportDuplicate = "duplicate"
	// ReportTruncated publishes the report cut short, without <END>.
	ReportTruncated = "truncated"
)

// ReportFault selects one report of one merchant's day.
type ReportFault struct {
	ClientID string          `json:"clientId"`
	Day      settlement.Day  `json:"day"`
	Kind     settlement.Kind `json:"kind"`
	Fault    string          `json:"fault"`
}

// TransactionOverride changes how one transaction appears in every report:
// Omit drops it, Amount (major units) replaces its transactionAmountValue,
// Currency its transactionCurrency (same digits), Type its transactionType
// (e.g. CANCEL for a payment the cluster has as paid).
type TransactionOverride struct {
	Omit     bool   `json:"omit,omitempty"`
	Amount   string `json:"amount,omitempty"`
	Currency string `json:"currency,omitempty"`
	Type     string `json:"type,omitempty"`
}

type faultKey struct {
	clientID string
	day      settlement.Day
	kind     settlement.Kind
}

type reports struct {
	s     *Simulator
	since settlement.Day

	mu        sync.Mutex
	faults    map[faultKey]string
	overrides map[string]TransactionOverride
	users     map[string]sftpUser // by username
	srv       *sftpServer
}

func newReports(s *Simulator) *reports {
	o := &s.opts.Reports
	if o.SettlementDelayDays <= 0 {
		o.SettlementDelayDays = 1
	}
	if o.Retention <= 0 {
		o.Retention = 7 * 24 * time.Hour
	}
	if o.Acquirer == "" {
		o.Acquirer = "Alipay_SG"
	}
	return &reports{s: s, since: settlement.DayOf(s.clock.Now()), faults: map[faultKey]string{},
		overrides: map[string]TransactionOverride{}, users: map[string]sftpUser{}}
}

// SetReportFault injects a fault into one report; Fault "" clears it.
func (s *Simulator) SetReportFault(f ReportFault) error {
	if _, err := settlement.ParseDay(string(f.Day)); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidInput, err)
	}
	if settlement.Columns(f.Kind) == nil {
		return fmt.Errorf("%w: report kind %q: want TransactionDetails, SettlementDetails or SettlementSummary", ErrInvalidInput, f.Kind)
	}
	switch f.Fault {
	case "", ReportLate, ReportDuplicate, ReportTruncated:
	default:
		return fmt.Errorf("%w: fault %q: want late, duplicate, truncated or empty", ErrInvalidInput, f.Fault)
	}
	r := s.rep
	r.mu.Lock()
	defer r.mu.Unlock()
	k := faultKey{f.ClientID, f.Day, f.Kind}
	if f.Fault == "" {
		delete(r.faults, k)
	} else {
		r.faults[k] = f.Fault
	}
	return nil
}

// SetTransactionOverride makes transactionID missing from the reports or
// reported with another amount; a zero override clears it.
func (s *Simulator) SetTransactionOverride(transactionID string, o TransactionOverride) error {
	if transactionID == "" {
		return fmt.Errorf("%w: transaction id is required", ErrInvalidInput)
	}
	r := s.rep
	r.mu.Lock()
	defer r.mu.Unlock()
	if o == (TransactionOverride{}) {
		delete(r.overrides, transactionID)
	} else {
		r.overrides[transactionID] = o
	}
	return nil
}

func (r *reports) fault(cid string, d settlement.Day, k settlement.Kind) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.faults[faultKey{cid, d, k}]
}

func (r *reports) override(id string) TransactionOverride {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.overrides[id]
}

// ---- the ledger as report lines -------------------------------------------

// txn is one money movement of the ledger.
type txn struct {
	typ       settlement.TransactionType
	id, reqID string
	origID    string
	method    string
	at        time.Time
	amount    amt
	settleCur string
	sign      int64 // +1 money to the merchant, -1 from the merchant, 0 none
}

// ledgerTxns lists a merchant's transactions in time order.
func (s *Simulator) ledgerTxns(m *merchant) []txn {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []txn
	for _, p := range m.byID {
		out = append(out, paymentTxns(p)...)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].at.Equal(out[j].at) {
			return out[i].at.Before(out[j].at)
		}
		return out[i].id < out[j].id
	})
	return out
}

func paymentTxns(p *payment) []txn {
	base := txn{origID: p.id, method: p.method, settleCur: p.settleCur}
	if base.settleCur == "" {
		base.settleCur = p.amount.currency
	}
	var out []txn
	add := func(typ settlement.TransactionType, id, req, orig string, at time.Time, a amt, sign int64) {
		t := base
		t.typ, t.id, t.reqID, t.origID, t.at, t.amount, t.sign = typ, id, req, orig, at, a, sign
		out = append(out, t)
	}
	if !p.paymentTime.IsZero() && p.status != gateway.PaymentStatusFail {
		if p.isAuth {
			add(settlement.TypeAuthorization, p.id, p.requestID, "", p.paymentTime, p.amount, 0)
		} else {
			add(settlement.TypePayment, p.id, p.requestID, "", p.paymentTime, p.amount, 1)
		}
	}
	for _, c := range p.captures {
		if c.status == gateway.PaymentStatusSuccess {
			add(settlement.TypeCapture, c.id, c.requestID, p.id, c.time, c.amount, 1)
		}
	}
	for _, r := range p.refunds {
		if r.status != gateway.RefundStatusSuccess {
			continue
		}
		if r.byCancel {
			add(settlement.TypeCancel, p.id, p.requestID, p.id, r.refundTime, r.amount, -1)
		} else {
			add(settlement.TypeRefund, r.id, r.requestID, p.id, r.refundTime, r.amount, -1)
		}
	}
	for _, d := range p.disputes {
		if d.status == disputeJudged && d.result == "ACCEPT_BY_MERCHANT" {
			add(settlement.TypeDispute, d.id, "", p.id, d.judgedTime, d.amount, -1)
		}
	}
	return out
}

// quotePerUSD is the fixed quote table: units of each currency per USD.
var quotePerUSD = map[string]string{
	"USD": "1", "HKD": "7.81", "CNY": "7.20", "PHP": "56.50", "JPY": "150", "EUR": "0.92", "GBP": "0.79",
	"SGD": "1.35", "KRW": "1350", "IDR": "16000", "MYR": "4.70", "THB": "36", "AUD": "1.52", "KWD": "0.307",
}

// quote is the price of one unit of settle in txn currency, to 8 places:
// quotePerUSD[txn] / quotePerUSD[settle]. ok is false if either is unknown.
func quote(settle, txnCur string) (decimal.Decimal, bool) {
	a, ok1 := quotePerUSD[txnCur]
	b, ok2 := quotePerUSD[settle]
	if !ok1 || !ok2 {
		return decimal.Decimal{}, false
	}
	return decimal.RequireFromString(a).DivRound(decimal.RequireFromString(b), 8), true
}

// FeeBasisPoints is the fee schedule: the fee of a payment method, in
// hundredths of a percent of the settled amount. Cards 300, ALIPAY_CN 180,
// every other method 220, each plus 0-40 chosen by the simulator's Seed.
func (s *Simulator) FeeBasisPoints(method string) int64 {
	base := int64(220)
	switch method {
	case "CARD":
		base = 300
	case "ALIPAY_CN":
		base = 180
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(strconv.FormatUint(s.opts.Seed, 10) + "/" + method))
	return base + int64(h.Sum64()%41)
}

// reportLine turns a transaction into a report line (without overrides).
func (s *Simulator) reportLine(cid string, t txn) (settlement.Line, error) {
	l := settlement.Line{CustomerID: cid, Acquirer: s.opts.Reports.Acquirer, TransactionID: t.id,
		TransactionRequestID: t.reqID, PaymentMethodType: t.method, TransactionType: t.typ, TransactionTime: t.at}
	if t.origID != t.id {
		l.OriginalTransactionID = t.origID
	}
	var err error
	if l.TransactionAmount, err = money.SignedMinor(t.amount.currency, t.amount.minor); err != nil {
		return l, err
	}
	settleCur := t.settleCur
	gross := t.amount.minor
	if settleCur != t.amount.currency {
		q, ok := quote(settleCur, t.amount.currency)
		exp, err := money.Exponent(settleCur)
		if !ok || err != nil {
			settleCur = t.amount.currency
		} else {
			major := decimal.New(t.amount.minor, -int32(t.amount.exp)).Div(q).Round(int32(exp))
			gross = major.Shift(int32(exp)).IntPart()
			l.QuoteCurrencyPair, l.QuotePrice = settleCur+"/"+t.amount.currency, q.String()
		}
	}
	fee := (gross*s.FeeBasisPoints(t.method) + 5000) / 10000
	switch {
	case t.sign == 0:
		gross, fee = 0, 0
	case t.typ == settlement.TypeDispute:
		gross, fee = -gross, 0
	case t.sign < 0:
		gross = -gross // the fee of the refunded part is returned
	default:
		fee = -fee
	}
	if l.SettlementAmount, err = money.SignedMinor(settleCur, gross); err != nil {
		return l, err
	}
	l.Fee, err = money.SignedMinor(settleCur, fee)
	return l, err
}

// applyOverride applies an injected discrepancy; false drops the line.
func (r *reports) applyOverride(l *settlement.Line) bool {
	o := r.override(l.TransactionID)
	if o.Omit {
		return false
	}
	if o.Amount != "" {
		if a, err := money.ParseSignedMajor(l.TransactionAmount.Currency(), o.Amount); err == nil {
			l.TransactionAmount = a
		}
	}
	if o.Currency != "" {
		if a, err := money.ParseSignedMajor(o.Currency, l.TransactionAmount.Major()); err == nil {
			l.TransactionAmount = a
		}
	}
	if o.Type != "" {
		l.TransactionType = settlement.TransactionType(o.Type)
	}
	return true
}

// ---- files ------------------------------------------------------------------

// reportFile is one published file.
type reportFile struct {
	name    string
	kind    settlement.Kind
	content []byte
	modTime time.Time
}

// dayFiles generates the files of one merchant's day directory, as
// published at the simulator's now (nil if none yet).
func (r *reports) dayFiles(m *merchant, d settlement.Day) ([]reportFile, error) {
	now := r.s.clock.Now()
	if now.Before(d.Start()) || now.Sub(d.Start()) > r.s.opts.Reports.Retention+24*time.Hour {
		return nil, nil
	}
	var out []reportFile
	txns := r.s.ledgerTxns(m)
	if d.Before(r.since) {
		return nil, nil
	}
	// Transaction details of d, published at d+1.
	if !now.Before(d.AddDays(1).Start()) {
		f, err := r.transactionFile(m.clientID, d, txns)
		if err != nil {
			return nil, err
		}
		out = append(out, r.withFaults(m.clientID, d, f)...)
	}
	// Settlement batches paid on d for the transactions of d-N.
	td := d.AddDays(-r.s.opts.Reports.SettlementDelayDays)
	if !td.Before(r.since) {
		fs, err := r.settlementFiles(m.clientID, d, td, txns)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			out = append(out, r.withFaults(m.clientID, d, f)...)
		}
	}
	return out, nil
}

func (r *reports) withFaults(cid string, d settlement.Day, f reportFile) []reportFile {
	switch r.fault(cid, d, f.kind) {
	case ReportLate:
		return nil
	case ReportDuplicate:
		dup := f
		dup.name = f.name[:len(f.name)-len("000.csv")] + "001.csv"
		return []reportFile{f, dup}
	case ReportTruncated:
		// Cut in the middle of the last record (or the header), no <END>.
		c := bytes.TrimSuffix(f.content, []byte(settlement.EndMarker+"\n"))
		f.content = c[:len(c)-min(len(c)/3, 12)]
		return []reportFile{f}
	}
	return []reportFile{f}
}

func (r *reports) transactionFile(cid string, d settlement.Day, txns []txn) (reportFile, error) {
	var buf bytes.Buffer
	w, err := settlement.NewWriter(&buf, settlement.TransactionDetails)
	if err != nil {
		return reportFile{}, err
	}
	for _, t := range txns {
		if settlement.DayOf(t.at) != d {
			continue
		}
		l, err := r.s.reportLine(cid, t)
		if err != nil {
			return reportFile{}, err
		}
		if r.applyOverride(&l) {
			if err := w.Write(&l); err != nil {
				return reportFile{}, err
			}
		}
	}
	if err := w.Close(); err != nil {
		return reportFile{}, err
	}
	return reportFile{name: settlement.TransactionFileName(d, 0), kind: settlement.TransactionDetails,
		content: buf.Bytes(), modTime: d.AddDays(1).Start()}, nil
}

// batchID is the settlement batch of a merchant's currency on day d:
// the day and 11 digits from the merchant and currency.
func batchID(cid, cur string, d settlement.Day) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(cid + "/" + cur))
	return fmt.Sprintf("%s%011d", d, h.Sum64()%100_000_000_000)
}

type summaryAcc struct {
	count     int64
	gross     money.Signed
	fee       money.Signed
	hasAmount bool
}

func (a *summaryAcc) add(l *settlement.Line) error {
	var err error
	if !a.hasAmount {
		a.gross, a.fee, a.hasAmount = l.SettlementAmount, l.Fee, true
	} else {
		if a.gross, err = a.gross.Add(l.SettlementAmount); err != nil {
			return err
		}
		if a.fee, err = a.fee.Add(l.Fee); err != nil {
			return err
		}
	}
	a.count++
	return nil
}

// settlementFiles are the batches paid on d for the transactions of td.
func (r *reports) settlementFiles(cid string, d, td settlement.Day, txns []txn) ([]reportFile, error) {
	byCur := map[string][]settlement.Line{}
	for _, t := range txns {
		if t.sign == 0 || settlement.DayOf(t.at) != td {
			continue
		}
		l, err := r.s.reportLine(cid, t)
		if err != nil {
			return nil, err
		}
		if !r.applyOverride(&l) {
			continue
		}
		cur := l.SettlementAmount.Currency()
		l.SettlementBatchID = batchID(cid, cur, d)
		byCur[cur] = append(byCur[cur], l)
	}
	curs := make([]string, 0, len(byCur))
	for c := range byCur {
		curs = append(curs, c)
	}
	sort.Strings(curs)
	settled := d.Start().Add(10 * time.Hour)
	var out []reportFile
	for _, cur := range curs {
		lines, batch := byCur[cur], batchID(cid, cur, d)
		var det, sum bytes.Buffer
		dw, _ := settlement.NewWriter(&det, settlement.SettlementDetails)
		sw, _ := settlement.NewWriter(&sum, settlement.SettlementSummary)
		acc := map[string]*summaryAcc{}
		total := &summaryAcc{}
		var types []string
		for i := range lines {
			if err := dw.Write(&lines[i]); err != nil {
				return nil, err
			}
			typ := string(lines[i].TransactionType)
			if acc[typ] == nil {
				acc[typ] = &summaryAcc{}
				types = append(types, typ)
			}
			if err := acc[typ].add(&lines[i]); err != nil {
				return nil, err
			}
			if err := total.add(&lines[i]); err != nil {
				return nil, err
			}
		}
		sort.Strings(types)
		acc[settlement.SummaryTotal] = total
		for _, typ := range append(types, settlement.SummaryTotal) {
			a := acc[typ]
			sl := settlement.SummaryLine{SettlementBatchID: batch, CustomerID: cid, Acquirer: r.s.opts.Reports.Acquirer,
				SummaryType: typ, SettlementTime: settled, Count: a.count, SettlementAmount: a.gross, Fee: a.fee}
			if err := sw.WriteSummary(&sl); err != nil {
				return nil, err
			}
		}
		if err := dw.Close(); err != nil {
			return nil, err
		}
		if err := sw.Close(); err != nil {
			return nil, err
		}
		out = append(out,
			reportFile{name: settlement.SettlementFileName(settlement.SettlementDetails, cur, batch, 0),
				kind: settlement.SettlementDetails, content: det.Bytes(), modTime: settled},
			reportFile{name: settlement.SettlementFileName(settlement.SettlementSummary, cur, batch, 0),
				kind: settlement.SettlementSummary, content: sum.Bytes(), modTime: settled})
	}
	return out, nil
}

// days lists the day directories of a merchant published at now, oldest
// first, within the retention.
func (r *reports) days() []settlement.Day {
	now := r.s.clock.Now()
	var out []settlement.Day
	for d := r.since; !now.Before(d.AddDays(1).Start()); d = d.AddDays(1) {
		if now.Sub(d.Start()) <= r.s.opts.Reports.Retention+24*time.Hour {
			out = append(out, d)
		}
	}
	return out
}

// ReportFile returns the content of a published report (tests and the
// control API read it without SFTP).
func (s *Simulator) ReportFile(clientID string, d settlement.Day, name string) ([]byte, error) {
	m := s.merchant(clientID)
	if m == nil {
		return nil, fmt.Errorf("%w: client id %q", ErrUnknownClient, clientID)
	}
	files, err := s.rep.dayFiles(m, d)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if f.name == name {
			return f.content, nil
		}
	}
	return nil, fmt.Errorf("%w: no report %s in day %s of %s", ErrNotFound, name, d, clientID)
}

// ReportNames lists the published reports of a merchant's day.
func (s *Simulator) ReportNames(clientID string, d settlement.Day) ([]string, error) {
	m := s.merchant(clientID)
	if m == nil {
		return nil, fmt.Errorf("%w: client id %q", ErrUnknownClient, clientID)
	}
	files, err := s.rep.dayFiles(m, d)
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.name
	}
	return names, err
}
