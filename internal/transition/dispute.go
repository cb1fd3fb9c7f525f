package transition

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/money"
)

// disputeRank orders dispute states: a notification never moves a dispute
// to a lower rank (an older DISPUTE_CREATED arriving after DISPUTE_JUDGED
// changes nothing).
var disputeRank = map[v1.DisputeState]int{
	v1.DisputeOpen:            1,
	v1.DisputeDefenseSupplied: 2,
	v1.DisputeJudged:          3,
	v1.DisputeCancelled:       3,
	v1.DisputeAccepted:        3,
}

// disputeStates maps the disputeNotificationTypes that change a dispute's
// state to that state (DEFENSE_DUE_ALERT and RDR_RESOLVED do not).
var disputeStates = map[string]v1.DisputeState{
	gateway.DisputeCreated:         v1.DisputeOpen,
	gateway.DisputeDefenseSupplied: v1.DisputeDefenseSupplied,
	gateway.DisputeJudged:          v1.DisputeJudged,
	gateway.DisputeCancelled:       v1.DisputeCancelled,
	gateway.DisputeAccepted:        v1.DisputeAccepted,
}

// disputeState maps a disputeNotificationType to a state; ok=false for
// types that do not change the state.
func disputeState(t string) (v1.DisputeState, bool) {
	s, ok := disputeStates[t]
	return s, ok
}

// NoteFromPaymentDispute restates a Payment's status.dispute as the
// notifyDispute it came from (for Disputes derived from a Payment's status).
func NoteFromPaymentDispute(p *v1.Payment) *gateway.NotifyDispute {
	pd := p.Status.Dispute
	n := &gateway.NotifyDispute{PaymentID: p.Status.PaymentID, DisputeID: pd.ID, DisputeType: pd.Type,
		DisputeReasonCode: pd.ReasonCode, DisputeReasonMsg: pd.ReasonMessage, DisputeJudgedResult: pd.JudgedResult,
		DisputeAmount: wireMoney(pd.Amount), DisputeJudgedAmount: wireMoney(pd.JudgedAmount),
		DefenseDueTime: wireTime(pd.DefenseDueTime), DisputeTime: wireTime(pd.OpenedTime), DisputeJudgedTime: wireTime(pd.JudgedTime),
		DisputeNotificationType: gateway.DisputeCreated}
	for typ, s := range disputeStates {
		if s == pd.State {
			n.DisputeNotificationType = typ
		}
	}
	return n
}

func wireTime(t *metav1.Time) string {
	if t == nil {
		return ""
	}
	return gateway.FormatTime(t.Time)
}

func wireMoney(m *v1.Money) *gateway.Amount {
	if m == nil {
		return nil
	}
	a, err := m.Amount()
	if err != nil {
		return nil
	}
	return &gateway.Amount{Currency: a.Currency(), Value: a.MinorString()}
}

// ApplyDispute applies a notifyDispute to the payment's status.
func ApplyDispute(p *v1.Payment, n gateway.NotifyDispute, now time.Time) (Change, error) {
	st := &p.Status
	before := st.DeepCopy()
	ch := Change{}
	if st.Dispute != nil {
		ch.From = string(st.Dispute.State)
	}
	if n.PaymentID == "" || n.DisputeID == "" {
		return Change{From: ch.From, To: ch.From}, fmt.Errorf("%w: dispute notification without paymentId or disputeId", ErrMismatch)
	}
	if st.PaymentID != "" && n.PaymentID != st.PaymentID {
		return Change{From: ch.From, To: ch.From}, fmt.Errorf("%w: paymentId %s, object has %s", ErrMismatch, n.PaymentID, st.PaymentID)
	}
	for _, a := range []*gateway.Amount{n.DisputeAmount, n.DisputeJudgedAmount} {
		if a == nil {
			continue
		}
		if _, err := money.ParseMinor(a.Currency, a.Value); err != nil {
			return Change{From: ch.From, To: ch.From}, fmt.Errorf("%w: dispute amount: %v", ErrMismatch, err)
		}
		if a.Currency != p.Spec.Amount.Currency {
			return Change{From: ch.From, To: ch.From}, fmt.Errorf("%w: dispute currency %s, payment is in %s", ErrMismatch, a.Currency, p.Spec.Amount.Currency)
		}
	}

	d := st.Dispute
	if d == nil || d.ID != n.DisputeID {
		if d != nil && d.State.Blocks() {
			// A second dispute while one is open: keep the open one; the
			// new one is recorded when the first ends (the gateway re-sends).
			ch.To, ch.Ignored = ch.From, "another dispute is open"
			return ch, nil
		}
		d = &v1.PaymentDispute{ID: n.DisputeID}
		ch.From = ""
	}
	state, moves := disputeState(n.DisputeNotificationType)
	if moves && d.State != "" && disputeRank[state] < disputeRank[d.State] {
		ch.To, ch.Ignored = ch.From, fmt.Sprintf("%s arrived after %s", n.DisputeNotificationType, d.State)
		return ch, nil
	}
	if moves && d.State != "" && disputeRank[state] == disputeRank[d.State] && state != d.State {
		ch.To, ch.Ignored = ch.From, fmt.Sprintf("%s conflicts with final %s", n.DisputeNotificationType, d.State)
		return ch, nil
	}
	if moves {
		d.State = state
	} else if d.State == "" {
		d.State = v1.DisputeOpen
	}
	d.LastNotification = n.DisputeNotificationType
	setStr(&d.Type, n.DisputeType)
	setStr(&d.ReasonCode, n.DisputeReasonCode)
	setStr(&d.ReasonMessage, n.DisputeReasonMsg)
	setStr(&d.JudgedResult, n.DisputeJudgedResult)
	if n.DisputeAmount != nil && d.Amount == nil {
		a, _ := money.ParseMinor(n.DisputeAmount.Currency, n.DisputeAmount.Value)
		d.Amount = &v1.Money{Currency: a.Currency(), Value: a.Major()}
	}
	if n.DisputeJudgedAmount != nil && d.JudgedAmount == nil {
		a, _ := money.ParseMinor(n.DisputeJudgedAmount.Currency, n.DisputeJudgedAmount.Value)
		d.JudgedAmount = &v1.Money{Currency: a.Currency(), Value: a.Major()}
	}
	setTime(&d.DefenseDueTime, n.DefenseDueTime)
	setTime(&d.OpenedTime, n.DisputeTime)
	setTime(&d.JudgedTime, n.DisputeJudgedTime)
	if d.OpenedTime == nil {
		d.OpenedTime = &metav1.Time{Time: now}
	}
	st.Dispute = d
	ch.To = string(d.State)
	ch.Changed = !equalStatus(before, st)
	return ch, nil
}
