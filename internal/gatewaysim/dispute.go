package gatewaysim

import (
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// disputeSource names who handles a payment's disputes: the card scheme,
// or the wallet.
func (p *payment) disputeSource() string {
	if p.card != nil && p.card.brand != "" {
		return p.card.brand
	}
	return p.method
}

// DisputeEntry is one dispute in the ledger: what it did to the money
// (minor units of the payment currency) and how often the merchant called.
type DisputeEntry struct {
	ClientID  string `json:"clientId"`
	DisputeID string `json:"disputeId"`
	PaymentID string `json:"paymentId"`
	// Status: OPEN, DEFENDED, ACCEPTED, JUDGED or CANCELLED.
	Status       string `json:"status"`
	Result       string `json:"result,omitempty"`       // judgement
	AcceptReason string `json:"acceptReason,omitempty"` // MERCHANT_ACCEPTED or TIMEOUT
	Amount       int64  `json:"amount"`
	// Frozen is the amount held while the dispute is unjudged.
	Frozen int64 `json:"frozen"`
	// ChargedBack is what the merchant lost (accepted, timed out, or judged
	// ACCEPT_BY_MERCHANT); Released what came back (ACCEPT_BY_CUSTOMER,
	// cancelled). At most one of them is non-zero.
	ChargedBack int64 `json:"chargedBack"`
	Released    int64 `json:"released"`
	// AcceptCalls and DefenseCalls count authenticated acceptDispute and
	// supplyDefenseDocument calls (replays included); Actions counts the
	// answers that took effect (0 or 1: the exactly-once proof).
	AcceptCalls  int `json:"acceptCalls"`
	DefenseCalls int `json:"defenseCalls"`
	Actions      int `json:"actions"`
	// EvidenceFormat is the format of the supplied document, if any.
	EvidenceFormat string    `json:"evidenceFormat,omitempty"`
	DefenseDue     time.Time `json:"defenseDue"`
}

// entry is the dispute's ledger line; m.mu must be held.
func (d *dispute) entry() DisputeEntry {
	e := DisputeEntry{ClientID: d.p.m.clientID, DisputeID: d.id, PaymentID: d.p.id, Status: d.status, Result: d.result,
		AcceptReason: d.acceptReason, Amount: d.amount.minor, AcceptCalls: d.acceptCalls, DefenseCalls: d.defenseCalls,
		EvidenceFormat: d.evidenceFormat, DefenseDue: d.defenseDue}
	switch {
	case d.blocks():
		e.Frozen = d.amount.minor
	case d.status == disputeAccepted, d.result == gateway.JudgedAcceptByMerchant:
		e.ChargedBack = d.amount.minor
	default:
		e.Released = d.amount.minor
	}
	if d.acceptReason == gateway.AcceptReasonMerchant || d.evidence != nil {
		e.Actions = 1
	}
	return e
}

// Dispute returns a dispute's ledger entry.
func (s *Simulator) Dispute(id string) (DisputeEntry, error) {
	d, err := s.dispute(id)
	if err != nil {
		return DisputeEntry{}, err
	}
	d.p.m.mu.Lock()
	defer d.p.m.mu.Unlock()
	return d.entry(), nil
}
