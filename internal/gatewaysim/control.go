package gatewaysim

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// Complete finishes an in-process payment as paid (any 3-D Secure challenge
// passed), regardless of magic values. ref is a paymentId, a
// paymentRequestId, or "clientId/paymentRequestId".
func (s *Simulator) Complete(ref string) error {
	return s.settle(ref, "")
}

// Decline fails an in-process payment with the result code (default
// USER_BALANCE_NOT_ENOUGH).
func (s *Simulator) Decline(ref, resultCode string) error {
	if resultCode == "" {
		resultCode = gateway.CodeUserBalanceNotEnough
	}
	if info, ok := gateway.Codes[resultCode]; !ok || info.Status != gateway.StatusFail {
		return fmt.Errorf("%w: %q is not a known F result code", ErrInvalidInput, resultCode)
	}
	return s.settle(ref, resultCode)
}

// SetPending moves a PROCESSING payment to PENDING (notifyPayment
// PAYMENT_PENDING); Complete or Decline ends it.
func (s *Simulator) SetPending(ref string) error {
	p, err := s.findPayment(ref)
	if err != nil {
		return err
	}
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	if p.status != gateway.PaymentStatusProcessing {
		return fmt.Errorf("%w: payment %s is %s", ErrInvalidState, p.id, p.status)
	}
	s.finish(p, s.clock.Now(), "PENDING", "")
	return nil
}

func (s *Simulator) settle(ref, code string) error {
	p, err := s.findPayment(ref)
	if err != nil {
		return err
	}
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	return s.settleLocked(p, code, true)
}

// settleLocked completes (code "") or declines a payment; m.mu held.
func (s *Simulator) settleLocked(p *payment, code string, passed3DS bool) error {
	if p.status != gateway.PaymentStatusProcessing && p.status != gateway.PaymentStatusPending {
		return fmt.Errorf("%w: payment %s is %s", ErrInvalidState, p.id, p.status)
	}
	if code == "" && p.needs3DS && passed3DS && p.card != nil {
		p.card.threeDS = true
	}
	if p.needsCard && code == "" {
		p.card = &card{number: "4111111111111111", brand: "VISA", token: "SIMTOKEN" + p.id}
		p.m.tokens[p.card.token] = p.card
		p.needsCard = false
	}
	s.finish(p, s.clock.Now(), code, "")
	return nil
}

// DisputeSpec describes a chargeback to open. Zero values take defaults:
// the whole paid (captured) amount, reason "4853" (not as described),
// type CHARGEBACK, defence due in 7 days.
type DisputeSpec struct {
	AmountMinor int64    `json:"amount,omitempty"` // minor units of the payment currency
	ReasonCode  string   `json:"reasonCode,omitempty"`
	ReasonMsg   string   `json:"reasonMsg,omitempty"`
	Type        string   `json:"type,omitempty"`
	DefenseDue  Duration `json:"defenseDue,omitempty"`
}

// OpenDispute opens a chargeback on a successful payment: notifyDispute
// DISPUTE_CREATED goes to the merchant's default notify URL (or the
// payment's), and refunds are refused until it is judged or cancelled.
func (s *Simulator) OpenDispute(ref string, spec DisputeSpec) (string, error) {
	p, err := s.findPayment(ref)
	if err != nil {
		return "", err
	}
	m := p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if p.status != gateway.PaymentStatusSuccess {
		return "", fmt.Errorf("%w: payment %s is %s", ErrInvalidState, p.id, p.status)
	}
	if d := p.openDispute(); d != nil {
		return "", fmt.Errorf("%w: dispute %s is already open", ErrInvalidState, d.id)
	}
	base := p.amount.minor
	if p.isAuth {
		if c := p.capturedTotal(); c > 0 {
			base = c
		}
	}
	amount := spec.AmountMinor
	if amount == 0 {
		amount = base
	}
	if amount < 0 || amount > base {
		return "", fmt.Errorf("%w: dispute amount %d is not in 1..%d", ErrInvalidInput, amount, base)
	}
	if spec.ReasonCode == "" {
		spec.ReasonCode = "4853"
	}
	if spec.ReasonMsg == "" {
		spec.ReasonMsg = "Cardholder dispute: not as described"
	}
	if spec.Type == "" {
		spec.Type = "CHARGEBACK"
	}
	due := time.Duration(spec.DefenseDue)
	if due <= 0 {
		due = 7 * 24 * time.Hour
	}
	now := s.clock.Now()
	d := &dispute{p: p, id: s.newID(idDispute), typ: spec.Type, amount: amt{p.amount.currency, amount, p.amount.exp}, status: disputeOpen,
		reasonCode: spec.ReasonCode, reasonMsg: spec.ReasonMsg, source: p.disputeSource(), createTime: now, defenseDue: now.Add(due)}
	p.disputes = append(p.disputes, d)
	s.idxMu.Lock()
	s.disputes[d.id] = d
	s.idxMu.Unlock()
	body := d.notifyBody(gateway.DisputeCreated, spec.Type)
	s.nt.enqueue(m, KindNotifyDispute, d.target(), p.id, d.id, body)
	s.scheduleDeadline(d, now)
	return d.id, nil
}

func (d *dispute) target() string {
	if u := d.p.m.defaultNotifyURL(); u != "" {
		return u
	}
	return d.p.notifyURL
}

func (d *dispute) notifyBody(kind, typ string) gateway.NotifyDispute {
	if typ == "" {
		typ = "CHARGEBACK"
	}
	defendable := gateway.Bool(true)
	n := gateway.NotifyDispute{
		PaymentRequestID: d.p.requestID, PaymentID: d.p.id, DisputeID: d.id, DisputeTime: fmtTime(d.createTime),
		DisputeAmount: d.amount.wire(), DisputeNotificationType: kind, DisputeReasonCode: d.reasonCode,
		DisputeReasonMsg: d.reasonMsg, DefenseDueTime: fmtTime(d.defenseDue), DisputeType: typ, Defendable: &defendable,
		DisputeSource: d.source,
	}
	if kind == gateway.DisputeAccepted {
		n.DisputeAcceptReason = d.acceptReason
		n.DisputeAcceptTime = fmtTime(d.acceptTime)
	}
	if kind == gateway.DisputeJudged {
		n.DisputeJudgedTime = fmtTime(d.judgedTime)
		n.DisputeJudgedResult = d.result
		n.DisputeJudgedAmount = d.amount.wire()
	}
	return n
}

func (s *Simulator) dispute(id string) (*dispute, error) {
	s.idxMu.RLock()
	d := s.disputes[id]
	s.idxMu.RUnlock()
	if d == nil {
		return nil, fmt.Errorf("dispute %q: %w", id, ErrNotFound)
	}
	return d, nil
}

// JudgeDispute judges an open dispute: ACCEPT_BY_CUSTOMER (the buyer is
// liable; funds unfrozen) or ACCEPT_BY_MERCHANT (the merchant is liable; the
// amount is charged back and no longer refundable). Refunds are allowed again.
func (s *Simulator) JudgeDispute(disputeID, result string) error {
	if result != gateway.JudgedAcceptByCustomer && result != gateway.JudgedAcceptByMerchant {
		return fmt.Errorf("%w: judgement %q: want ACCEPT_BY_CUSTOMER or ACCEPT_BY_MERCHANT", ErrInvalidInput, result)
	}
	d, err := s.dispute(disputeID)
	if err != nil {
		return err
	}
	m := d.p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if !d.blocks() {
		return fmt.Errorf("%w: dispute %s is %s", ErrInvalidState, d.id, d.status)
	}
	d.status = disputeJudged
	d.result = result
	d.judgedTime = s.clock.Now()
	if result == gateway.JudgedAcceptByMerchant {
		d.p.chargedBack += d.amount.minor
	}
	s.nt.enqueue(m, KindNotifyDispute, d.target(), d.p.id, d.id, d.notifyBody(gateway.DisputeJudged, d.typ))
	return nil
}

// CancelDispute withdraws an open dispute (DISPUTE_CANCELLED).
func (s *Simulator) CancelDispute(disputeID string) error {
	d, err := s.dispute(disputeID)
	if err != nil {
		return err
	}
	m := d.p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if !d.blocks() {
		return fmt.Errorf("%w: dispute %s is %s", ErrInvalidState, d.id, d.status)
	}
	d.status = disputeCancelled
	d.judgedTime = s.clock.Now()
	s.nt.enqueue(m, KindNotifyDispute, d.target(), d.p.id, d.id, d.notifyBody(gateway.DisputeCancelled, d.typ))
	return nil
}

// ---- ledger --------------------------------------------------------------------

// Ledger is the simulator's book of what money moved, for exactly-once proofs.
type Ledger struct {
	Requests []RequestEntry `json:"requests"`
	Payments []PaymentEntry `json:"payments"`
	Disputes []DisputeEntry `json:"disputes"`
}

// RequestEntry counts, for one idempotency id, the API calls that carried it
// (after authentication) and the gateway operations created for it (0 or 1:
// retries with the same id never create another).
type RequestEntry struct {
	ClientID   string `json:"clientId"`
	Kind       string `json:"kind"` // payment, capture, refund, declaration
	RequestID  string `json:"requestId"`
	PaymentID  string `json:"paymentId,omitempty"`
	Calls      int    `json:"calls"`
	Operations int    `json:"operations"`
}

// PaymentEntry holds a payment's totals in minor units of Currency.
type PaymentEntry struct {
	ClientID         string `json:"clientId"`
	PaymentID        string `json:"paymentId"`
	PaymentRequestID string `json:"paymentRequestId"`
	Method           string `json:"paymentMethodType"`
	Status           string `json:"status"`
	Currency         string `json:"currency"`
	Amount           int64  `json:"amount"`
	Paid             int64  `json:"paid"`       // received: amount of a successful payment, or captured
	Authorized       int64  `json:"authorized"` // card authorizations
	Captured         int64  `json:"captured"`
	Refunded         int64  `json:"refunded"`         // SUCCESS refunds, including a cancellation's
	RefundProcessing int64  `json:"refundProcessing"` // refunds still PROCESSING
	ChargedBack      int64  `json:"chargedBack"`
	Declared         int64  `json:"declared"` // CNY fen
	Captures         int    `json:"captures"`
	Refunds          int    `json:"refunds"`
	Declarations     int    `json:"declarations"`
}

// Request returns the entry for a kind and id (zero entry if absent).
func (l Ledger) Request(kind, requestID string) RequestEntry {
	for _, r := range l.Requests {
		if r.Kind == kind && r.RequestID == requestID {
			return r
		}
	}
	return RequestEntry{Kind: kind, RequestID: requestID}
}

// Payment returns the entry for a paymentId or paymentRequestId.
func (l Ledger) Payment(ref string) (PaymentEntry, bool) {
	for _, p := range l.Payments {
		if p.PaymentID == ref || p.PaymentRequestID == ref {
			return p, true
		}
	}
	return PaymentEntry{}, false
}

// Ledger returns the ledger of every merchant (or only clientIDs given).
func (s *Simulator) Ledger(clientIDs ...string) Ledger {
	var l Ledger
	want := map[string]bool{}
	for _, c := range clientIDs {
		want[c] = true
	}
	for _, m := range s.allMerchants() {
		if len(want) > 0 && !want[m.clientID] {
			continue
		}
		m.mu.Lock()
		ops := map[ledgerKey]string{}
		for id, p := range m.payments {
			ops[ledgerKey{"payment", id}] = p.id
		}
		for id, c := range m.captures {
			ops[ledgerKey{"capture", id}] = c.p.id
		}
		for id, r := range m.refunds {
			ops[ledgerKey{"refund", id}] = r.p.id
		}
		for id, d := range m.declarations {
			ops[ledgerKey{"declaration", id}] = d.p.id
		}
		keys := map[ledgerKey]bool{}
		for k := range ops {
			keys[k] = true
		}
		for k := range m.calls {
			keys[k] = true
		}
		for k := range keys {
			pid, made := ops[k]
			e := RequestEntry{ClientID: m.clientID, Kind: k.kind, RequestID: k.id, PaymentID: pid, Calls: m.calls[k]}
			if made {
				e.Operations = 1
			}
			l.Requests = append(l.Requests, e)
		}
		for _, p := range m.byID {
			l.Payments = append(l.Payments, p.entry())
			for _, d := range p.disputes {
				l.Disputes = append(l.Disputes, d.entry())
			}
		}
		m.mu.Unlock()
	}
	sort.Slice(l.Requests, func(i, j int) bool {
		a, b := l.Requests[i], l.Requests[j]
		if a.ClientID != b.ClientID {
			return a.ClientID < b.ClientID
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.RequestID < b.RequestID
	})
	sort.Slice(l.Payments, func(i, j int) bool { return l.Payments[i].PaymentID < l.Payments[j].PaymentID })
	sort.Slice(l.Disputes, func(i, j int) bool { return l.Disputes[i].DisputeID < l.Disputes[j].DisputeID })
	return l
}

func (p *payment) entry() PaymentEntry {
	e := PaymentEntry{ClientID: p.m.clientID, PaymentID: p.id, PaymentRequestID: p.requestID, Method: p.method,
		Status: p.status, Currency: p.amount.currency, Amount: p.amount.minor, Paid: p.paidTotal(),
		Captured: p.capturedTotal(), Refunded: p.refundedTotal(), ChargedBack: p.chargedBack,
		Declared: p.declaredTotal(), Captures: len(p.captures), Declarations: len(p.declarations)}
	if p.isAuth && !p.paymentTime.IsZero() && p.resultCode == "" {
		e.Authorized = p.amount.minor
	}
	for _, r := range p.refunds {
		e.Refunds++
		if r.status == gateway.RefundStatusProcessing {
			e.RefundProcessing += r.amount.minor
		}
	}
	return e
}

// PaymentView is a snapshot of one payment as the gateway sees it: the
// inquiryPayment answer plus the simulator's ledger entry.
type PaymentView struct {
	Inquiry gateway.InquiryPaymentResponse `json:"inquiry"`
	Ledger  PaymentEntry                   `json:"ledger"`
	// ExpiryTime is when an unpaid payment closes.
	ExpiryTime time.Time `json:"expiryTime"`
	NormalURL  string    `json:"normalUrlPath"`
}

// Payment returns a snapshot of a payment (ref as for Complete).
func (s *Simulator) Payment(ref string) (PaymentView, error) {
	p, err := s.findPayment(ref)
	if err != nil {
		return PaymentView{}, err
	}
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	return PaymentView{Inquiry: p.inquiry(), Ledger: p.entry(), ExpiryTime: p.expiryTime, NormalURL: "/checkout/" + p.id}, nil
}

func errStatus(err error) int {
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrUnknownClient):
		return 404
	case errors.Is(err, ErrInvalidState), errors.Is(err, ErrAmbiguous):
		return 409
	default:
		return 400
	}
}
