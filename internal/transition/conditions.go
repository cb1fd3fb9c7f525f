package transition

import (
	"errors"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// FieldManager is the field manager (metadata.managedFields) of every write
// the manager and the notification-receiver make. One name for both: their
// status writes own one managedFields entry instead of two, which are about
// a fifth of a finished Payment's stored bytes. Which component applied the
// last change is in status.lastResult.api and in the Events' reporter.
const FieldManager = "cashier-operator"

// Conditions are derived from the phase, here and nowhere else, so the
// controllers and the receiver always agree on them.

// condSet sets Ready, Reconciling and Stalled together. Reconciling and
// Stalled are kstatus's abnormal-true conditions: present only while True,
// their absence means False. Every condition costs bytes on every stored
// object and in its managedFields, and a finished object is neither
// reconciling nor stalled.
func condSet(conds *[]metav1.Condition, gen int64, ready bool, reconciling bool, stalled bool, reason, msg string) {
	status := metav1.ConditionFalse
	if ready {
		status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(conds, metav1.Condition{Type: v1.ConditionReady, Status: status, Reason: reason, Message: msg, ObservedGeneration: gen})
	setAbnormal(conds, v1.ConditionReconciling, reconciling, gen, reason, msg)
	setAbnormal(conds, v1.ConditionStalled, stalled, gen, reason, msg)
}

// setAbnormal sets an abnormal-true condition when on, and removes it when off.
func setAbnormal(conds *[]metav1.Condition, typ string, on bool, gen int64, reason, msg string) {
	if !on {
		meta.RemoveStatusCondition(conds, typ)
		return
	}
	meta.SetStatusCondition(conds, metav1.Condition{Type: typ, Status: metav1.ConditionTrue, Reason: reason, Message: msg, ObservedGeneration: gen})
}

func resultMsg(r *v1.GatewayResult, fallback string) string {
	if r == nil || r.Code == "" || r.Status == "S" {
		return fallback
	}
	if r.API == string(SourceController) {
		// Decided by the operator, not answered by the gateway.
		return fallback + ": " + r.Message
	}
	msg := fallback + ": gateway " + r.API + " answered " + r.Code
	if r.Message != "" {
		msg += " (" + r.Message + ")"
	}
	return msg
}

// SetPaymentConditions derives Ready / Reconciling / Stalled from the phase.
// Ready is True when the payment reached what its spec asks for: Succeeded;
// Authorized with manual capture; Cancelled when spec.cancel asked for it.
func SetPaymentConditions(p *v1.Payment) {
	st := &p.Status
	gen := p.Generation
	c := &st.Conditions
	switch st.Phase {
	case "", v1.PaymentPending:
		condSet(c, gen, false, true, false, v1.ReasonCreating, "the payment is being created at the gateway")
	case v1.PaymentProcessing:
		if st.UserAction != nil {
			condSet(c, gen, false, true, false, v1.ReasonAwaitingUser, "waiting for the user to pay: status.userAction says where")
		} else {
			condSet(c, gen, false, true, false, v1.ReasonProcessing, "the gateway is processing the payment")
		}
	case v1.PaymentAuthorized:
		if p.Spec.CaptureMode == v1.CaptureManual {
			condSet(c, gen, true, false, false, v1.ReasonAuthorized, "authorized: create Capture objects before status.authExpiryTime")
		} else {
			condSet(c, gen, false, true, false, v1.ReasonAuthorized, "authorized; capturing the full amount")
		}
	case v1.PaymentSucceeded:
		condSet(c, gen, true, false, false, v1.ReasonSucceeded, "the payment succeeded")
	case v1.PaymentCancelled:
		if p.Spec.Cancel {
			condSet(c, gen, true, false, false, v1.ReasonCancelled, "the payment was cancelled as spec.cancel asked")
		} else {
			condSet(c, gen, false, false, true, v1.ReasonCancelled, resultMsg(st.LastResult, "the payment was cancelled at the gateway"))
		}
	case v1.PaymentFailed:
		reason := v1.ReasonFailed
		if r := st.LastResult; r != nil && r.API == string(SourceController) {
			// Decided by the operator (InvalidAmount, IdentityConflict, ...):
			// the reason says which.
			reason = r.Code
		}
		condSet(c, gen, false, false, true, reason, resultMsg(st.LastResult, "the payment failed"))
	case v1.PaymentExpired:
		condSet(c, gen, false, false, true, v1.ReasonExpired, resultMsg(st.LastResult, "the payment expired before it was paid or captured"))
	}
}

// SetOperationConditions derives Ready / Reconciling / Stalled for a Capture,
// Refund or CustomsDeclaration from its phase.
func SetOperationConditions(st *v1.OperationStatus, gen int64, what string) {
	c := &st.Conditions
	switch st.Phase {
	case "", v1.OperationPending:
		if b := meta.FindStatusCondition(*c, v1.ConditionBlocked); b != nil && b.Status == metav1.ConditionTrue {
			condSet(c, gen, false, true, false, b.Reason, b.Message)
			return
		}
		condSet(c, gen, false, true, false, v1.ReasonCreating, "the "+what+" is being sent to the gateway")
	case v1.OperationProcessing:
		condSet(c, gen, false, true, false, v1.ReasonProcessing, "the gateway is processing the "+what)
	case v1.OperationSucceeded:
		condSet(c, gen, true, false, false, v1.ReasonSucceeded, "the "+what+" succeeded")
	case v1.OperationFailed:
		reason := v1.ReasonFailed
		if r := st.LastResult; r != nil && r.API == string(SourceController) {
			reason = r.Code
		}
		condSet(c, gen, false, false, true, reason, resultMsg(st.LastResult, "the "+what+" failed"))
	}
	if st.Phase != "" && st.Phase != v1.OperationPending {
		meta.RemoveStatusCondition(c, v1.ConditionBlocked)
	}
}

// SetBlocked marks an operation as waiting on something outside it.
func SetBlocked(st *v1.OperationStatus, gen int64, reason, msg string) {
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1.ConditionBlocked, Status: metav1.ConditionTrue,
		Reason: reason, Message: msg, ObservedGeneration: gen})
}

// SetPaymentBlocked shows what holds a payment's cancel (a MoneyPolicy):
// Blocked=True with reason and msg while blocked, no Blocked condition
// otherwise (and never on a payment the cancel has finished with).
func SetPaymentBlocked(p *v1.Payment, blocked bool, reason, msg string) {
	if !blocked || (p.Status.Phase.IsFinal() && p.Status.Phase != v1.PaymentSucceeded) {
		meta.RemoveStatusCondition(&p.Status.Conditions, v1.ConditionBlocked)
		return
	}
	meta.SetStatusCondition(&p.Status.Conditions, metav1.Condition{Type: v1.ConditionBlocked, Status: metav1.ConditionTrue,
		Reason: reason, Message: msg, ObservedGeneration: p.Generation})
}

// ClearBlocked removes the Blocked condition.
func ClearBlocked(st *v1.OperationStatus) {
	meta.RemoveStatusCondition(&st.Conditions, v1.ConditionBlocked)
}

// SetWaiting shows, on an object not yet sent, what it waits for (its
// payment, the GatewayConfig, a Secret) as its Ready reason instead of
// "Creating".
func SetWaiting(conds *[]metav1.Condition, gen int64, reason, msg string) {
	condSet(conds, gen, false, true, false, reason, msg)
}

// conditionMessage is implemented by errors that carry their reason apart
// from their message (the engine's WaitError and TerminalError), so that a
// condition does not repeat its reason in its message.
type conditionMessage interface{ ConditionMessage() string }

// SetSynced records whether the last reconcile talked to the gateway without error.
func SetSynced(conds *[]metav1.Condition, gen int64, err error, reason string) {
	if err == nil {
		meta.SetStatusCondition(conds, metav1.Condition{Type: v1.ConditionSynced, Status: metav1.ConditionTrue,
			Reason: v1.ReasonReconcileSuccess, Message: "", ObservedGeneration: gen})
		return
	}
	if reason == "" {
		reason = v1.ReasonReconcileError
	}
	msg := err.Error()
	var cm conditionMessage
	if errors.As(err, &cm) {
		msg = cm.ConditionMessage()
	}
	meta.SetStatusCondition(conds, metav1.Condition{Type: v1.ConditionSynced, Status: metav1.ConditionFalse,
		Reason: reason, Message: truncate(msg, 1024), ObservedGeneration: gen})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// SetReady records Ready for an object whose readiness is decided outside a
// phase machine (a GatewayConfig's connection, a PaymentRestore's outcome,
// a SettlementReconciliation run). It reports whether anything changed.
func SetReady(conds *[]metav1.Condition, gen int64, ready bool, reason, msg string) bool {
	status := metav1.ConditionFalse
	if ready {
		status = metav1.ConditionTrue
	}
	return meta.SetStatusCondition(conds, metav1.Condition{Type: v1.ConditionReady, Status: status,
		Reason: reason, Message: msg, ObservedGeneration: gen})
}

// SetArchiveReady records whether a GatewayConfig's archive can be written
// (retention pauses while it cannot). It reports whether anything changed.
func SetArchiveReady(conds *[]metav1.Condition, gen int64, status metav1.ConditionStatus, reason, msg string) bool {
	return meta.SetStatusCondition(conds, metav1.Condition{Type: v1.ConditionArchiveReady, Status: status,
		Reason: reason, Message: msg, ObservedGeneration: gen})
}

// SetAdopted records that the gateway already had what the object never
// sent, and that its status was rebuilt from the gateway.
func SetAdopted(conds *[]metav1.Condition, gen int64, msg string) {
	meta.SetStatusCondition(conds, metav1.Condition{Type: v1.ConditionAdopted, Status: metav1.ConditionTrue,
		Reason: v1.ReasonAdopted, Message: msg, ObservedGeneration: gen})
}

// SetDefenseDue records a Dispute's DefenseDue condition as the dispute
// controller derived it from the deadline and the alert window.
func SetDefenseDue(d *v1.Dispute, due metav1.Condition) {
	due.Type = v1.ConditionDefenseDue
	meta.SetStatusCondition(&d.Status.Conditions, due)
}

// SetReconciliationResult records a reconciliation run: Ready (the run and
// its refused files) and Discrepancies (what it found).
func SetReconciliationResult(st *v1.SettlementReconciliationStatus, ready, discrepancies metav1.Condition) {
	meta.SetStatusCondition(&st.Conditions, ready)
	meta.SetStatusCondition(&st.Conditions, discrepancies)
}
