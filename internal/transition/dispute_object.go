package transition

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/money"
)

// allowedDispute lists where each Dispute phase may go: Open to Defended or
// any end; Defended to a judgement or a cancellation (or accepted by the
// gateway's staff); the ends nowhere.
var allowedDispute = map[v1.DisputePhase][]v1.DisputePhase{
	"": {v1.DisputePhaseOpen, v1.DisputePhaseDefended, v1.DisputePhaseAccepted, v1.DisputePhaseWon, v1.DisputePhaseLost,
		v1.DisputePhaseCancelled, v1.DisputePhaseExpired},
	v1.DisputePhaseOpen: {v1.DisputePhaseDefended, v1.DisputePhaseAccepted, v1.DisputePhaseWon, v1.DisputePhaseLost,
		v1.DisputePhaseCancelled, v1.DisputePhaseExpired},
	v1.DisputePhaseDefended: {v1.DisputePhaseAccepted, v1.DisputePhaseWon, v1.DisputePhaseLost, v1.DisputePhaseCancelled},
}

// DisputePhaseOf maps a notifyDispute to the phase it announces; ok is
// false for types that announce none (DEFENSE_DUE_ALERT, RDR_RESOLVED).
func DisputePhaseOf(n *gateway.NotifyDispute) (v1.DisputePhase, bool) {
	switch n.DisputeNotificationType {
	case gateway.DisputeCreated:
		return v1.DisputePhaseOpen, true
	case gateway.DisputeDefenseSupplied:
		return v1.DisputePhaseDefended, true
	case gateway.DisputeCancelled:
		return v1.DisputePhaseCancelled, true
	case gateway.DisputeAccepted:
		if n.DisputeAcceptReason == gateway.AcceptReasonTimeout {
			return v1.DisputePhaseExpired, true
		}
		return v1.DisputePhaseAccepted, true
	case gateway.DisputeJudged:
		switch n.DisputeJudgedResult {
		case gateway.JudgedAcceptByCustomer:
			return v1.DisputePhaseWon, true
		case gateway.JudgedAcceptByMerchant:
			return v1.DisputePhaseLost, true
		}
	}
	return "", false
}

// moveDispute moves d to phase if the edge exists, recording the charge-back
// once; it reports the change (Ignored set when the move is refused).
func moveDispute(d *v1.Dispute, to v1.DisputePhase, why string) Change {
	from := d.Status.Phase
	ch := Change{From: string(from), To: string(from)}
	if !canMove(allowedDispute, from, to) {
		ch.Ignored = fmt.Sprintf("%s arrived after %s", why, from)
		return ch
	}
	d.Status.Phase = to
	if to.ChargesBack() && d.Status.ChargedBack == nil {
		switch {
		case d.Status.JudgedAmount != nil && to == v1.DisputePhaseLost:
			d.Status.ChargedBack = d.Status.JudgedAmount.DeepCopy()
		case d.Status.Amount != nil:
			d.Status.ChargedBack = d.Status.Amount.DeepCopy()
		}
	}
	ch.To = string(to)
	return ch
}

// ApplyDisputeNotification applies a notifyDispute to a Dispute object. The
// phase moves forward only; facts fill in once and are never overwritten.
func ApplyDisputeNotification(d *v1.Dispute, n *gateway.NotifyDispute, currency string, now time.Time) (Change, error) {
	from := string(d.Status.Phase)
	same := Change{From: from, To: from}
	if n.DisputeID != d.Spec.DisputeID {
		return same, fmt.Errorf("%w: disputeId %s, object is dispute %s", ErrMismatch, n.DisputeID, d.Spec.DisputeID)
	}
	if d.Status.PaymentID != "" && n.PaymentID != d.Status.PaymentID {
		return same, fmt.Errorf("%w: paymentId %s, dispute is on %s", ErrMismatch, n.PaymentID, d.Status.PaymentID)
	}
	amount, err := disputeMoney(n.DisputeAmount, currency)
	if err != nil {
		return same, err
	}
	judged, err := disputeMoney(n.DisputeJudgedAmount, currency)
	if err != nil {
		return same, err
	}
	before := d.Status.DeepCopy()
	st := &d.Status
	setStr(&st.PaymentID, n.PaymentID)
	setStr(&st.Type, n.DisputeType)
	setStr(&st.ReasonCode, n.DisputeReasonCode)
	setStr(&st.ReasonMessage, n.DisputeReasonMsg)
	setStr(&st.Source, n.DisputeSource)
	if st.Defendable == nil && n.Defendable != nil {
		b := bool(*n.Defendable)
		st.Defendable = &b
	}
	if st.Amount == nil {
		st.Amount = amount
	}
	setTime(&st.OpenedTime, n.DisputeTime)
	setTime(&st.DefenseDueTime, n.DefenseDueTime)
	ch := same
	phase, moves := DisputePhaseOf(n)
	switch {
	case moves:
		ch = moveDispute(d, phase, n.DisputeNotificationType)
	case st.Phase == "":
		ch = moveDispute(d, v1.DisputePhaseOpen, n.DisputeNotificationType)
	}
	if ch.Ignored == "" {
		if n.DisputeNotificationType == gateway.DisputeDefenseDueAlert && st.DefenseDueAlertTime == nil {
			st.DefenseDueAlertTime = &metav1.Time{Time: now}
		}
		setStr(&st.AcceptReason, n.DisputeAcceptReason)
		setTime(&st.AcceptTime, n.DisputeAcceptTime)
		setStr(&st.JudgedResult, n.DisputeJudgedResult)
		setTime(&st.JudgedTime, n.DisputeJudgedTime)
		if st.JudgedAmount == nil {
			st.JudgedAmount = judged
		}
		st.LastNotification = n.DisputeNotificationType
	}
	if st.OpenedTime == nil {
		st.OpenedTime = &metav1.Time{Time: now}
	}
	ch.Changed = !equalStatus(before, st)
	return ch, nil
}

func disputeMoney(a *gateway.Amount, currency string) (*v1.Money, error) {
	if a == nil {
		return nil, nil
	}
	m, err := money.ParseMinor(a.Currency, a.Value)
	if err != nil {
		return nil, fmt.Errorf("%w: dispute amount: %v", ErrMismatch, err)
	}
	if currency != "" && a.Currency != currency {
		return nil, fmt.Errorf("%w: dispute currency %s, payment is in %s", ErrMismatch, a.Currency, currency)
	}
	return &v1.Money{Currency: m.Currency(), Value: m.Major()}, nil
}

// ApplyDisputeAnswer records that the gateway took the merchant's answer
// (acceptDispute or supplyDefenseDocument answered S): the same facts the
// DISPUTE_ACCEPTED / DEFENSE_SUPPLIED notification will bring.
func ApplyDisputeAnswer(d *v1.Dispute, action v1.DisputeAction, response string, at time.Time) Change {
	before := d.Status.DeepCopy()
	st := &d.Status
	setStr(&st.Response, response)
	if st.ResolutionTime == nil && !at.IsZero() {
		st.ResolutionTime = &metav1.Time{Time: at}
	}
	to, why := v1.DisputePhaseDefended, "supplyDefenseDocument"
	if action == v1.DisputeAccept {
		to, why = v1.DisputePhaseAccepted, "acceptDispute"
		setStr(&st.AcceptReason, gateway.AcceptReasonMerchant)
		if st.AcceptTime == nil && !at.IsZero() {
			st.AcceptTime = &metav1.Time{Time: at}
		}
	}
	ch := moveDispute(d, to, why)
	ch.Changed = !equalStatus(before, st)
	return ch
}

// SetDisputeConditions derives Ready from the phase. Ready is True once the
// dispute has ended; DefenseDue is set by the dispute controller.
func SetDisputeConditions(d *v1.Dispute) {
	st := &d.Status
	gen := d.Generation
	c := &st.Conditions
	switch {
	case st.Phase.IsFinal():
		condSet(c, gen, true, false, false, v1.ReasonDisputeResolved, fmt.Sprintf("the dispute ended %s", st.Phase))
	case st.Phase == v1.DisputePhaseDefended:
		condSet(c, gen, false, true, false, v1.ReasonDisputeDefended, "defended: waiting for the judgement")
	default:
		condSet(c, gen, false, true, false, v1.ReasonAwaitingAnswer,
			"unanswered: create a DisputeResponse (Accept, or Defend with evidence) before status.defenseDueTime")
	}
}

// MoveDisputeResponse moves a DisputeResponse's phase: Pending to Succeeded
// or Failed, never back. It reports the change.
func MoveDisputeResponse(st *v1.DisputeResponseStatus, to v1.OperationPhase) Change {
	ch := Change{From: string(st.Phase), To: string(st.Phase)}
	switch {
	case st.Phase == to:
		return ch
	case st.Phase.IsFinal():
		ch.Ignored = fmt.Sprintf("%s after %s", to, st.Phase)
		return ch
	}
	st.Phase = to
	ch.To, ch.Changed = string(to), true
	return ch
}

// SetDisputeResponseConditions derives Ready, Reconciling and Stalled from
// the phase; reason and message say why it failed or waits.
func SetDisputeResponseConditions(r *v1.DisputeResponse, reason, message string) {
	st := &r.Status
	gen := r.Generation
	c := &st.Conditions
	switch st.Phase {
	case v1.OperationSucceeded:
		condSet(c, gen, true, false, false, v1.ReasonResponseTaken,
			fmt.Sprintf("the gateway took the answer (%s) to dispute %s", r.Spec.Action, st.DisputeID))
	case v1.OperationFailed:
		condSet(c, gen, false, false, true, reason, message)
	default:
		if reason == "" {
			reason, message = v1.ReasonCreating, "the answer is being sent to the gateway"
		}
		condSet(c, gen, false, true, false, reason, message)
	}
}
