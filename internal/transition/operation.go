package transition

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/money"
)

// OperationFacts is what one gateway answer says about a capture, refund or
// declaration.
type OperationFacts struct {
	Source Source
	// Phase the facts imply: Processing, Succeeded or Failed; "" for none.
	Phase v1.OperationPhase
	// Result is the result envelope, if any.
	Result *gateway.Result
	// RequestID is the idempotency key the facts are about.
	RequestID string
	// PaymentID and GatewayID (captureId, refundId, customsPaymentId).
	PaymentID string
	GatewayID string
	// Amount the gateway reports for the operation (wire form).
	Amount *gateway.Amount
	// CompletionTime is the gateway's time of the final state.
	CompletionTime string
}

var allowedOperation = map[v1.OperationPhase][]v1.OperationPhase{
	"":                     {v1.OperationPending, v1.OperationProcessing, v1.OperationSucceeded, v1.OperationFailed},
	v1.OperationPending:    {v1.OperationProcessing, v1.OperationSucceeded, v1.OperationFailed},
	v1.OperationProcessing: {v1.OperationSucceeded, v1.OperationFailed},
}

// OperationCanMove reports whether an operation may move between phases.
func OperationCanMove(from, to v1.OperationPhase) bool { return canMove(allowedOperation, from, to) }

// ApplyOperation applies facts to an operation's status. spec is the
// operation's requested amount.
func ApplyOperation(st *v1.OperationStatus, spec v1.Money, f OperationFacts, now time.Time) (Change, error) {
	before := st.DeepCopy()
	ch := Change{From: string(st.Phase), To: string(st.Phase)}
	if f.RequestID != "" && st.RequestID != "" && f.RequestID != st.RequestID {
		return ch, fmt.Errorf("%w: request id %s, object has %s", ErrMismatch, f.RequestID, st.RequestID)
	}
	if f.GatewayID != "" && st.GatewayID != "" && f.GatewayID != st.GatewayID {
		return ch, fmt.Errorf("%w: gateway id %s, object has %s", ErrMismatch, f.GatewayID, st.GatewayID)
	}
	if f.PaymentID != "" && st.PaymentID != "" && f.PaymentID != st.PaymentID {
		return ch, fmt.Errorf("%w: paymentId %s, object has %s", ErrMismatch, f.PaymentID, st.PaymentID)
	}
	if f.Amount != nil {
		if err := sameAmount(spec, *f.Amount); err != nil {
			return ch, fmt.Errorf("%w: %v", ErrMismatch, err)
		}
	}
	ok := f.Phase != ""
	if ok && !OperationCanMove(st.Phase, f.Phase) {
		ch.Ignored = fmt.Sprintf("%s says %s but the operation is already %s", f.Source, f.Phase, st.Phase)
		ok = false
	}
	setStr(&st.RequestID, f.RequestID)
	setStr(&st.PaymentID, f.PaymentID)
	setStr(&st.GatewayID, f.GatewayID)
	if ok {
		st.Phase = f.Phase
		if f.Phase.IsFinal() && st.CompletionTime == nil {
			setTime(&st.CompletionTime, f.CompletionTime)
			if st.CompletionTime == nil {
				st.CompletionTime = &metav1.Time{Time: now}
			}
		}
	}
	if f.Result != nil && (f.Source != SourceNotification || (ok && v1.OperationPhase(ch.From) != f.Phase)) {
		setResult(&st.LastResult, *f.Result, f.Source, now)
	}
	ch.To = string(st.Phase)
	ch.Changed = !equalStatus(before, st)
	return ch, nil
}

// MoneyFromWire converts a wire amount to an API amount.
func MoneyFromWire(a gateway.Amount) (v1.Money, error) {
	m, err := money.ParseMinor(a.Currency, a.Value)
	if err != nil {
		return v1.Money{}, err
	}
	return v1.Money{Currency: m.Currency(), Value: m.Major()}, nil
}

// WireFromMoney converts an API amount to the wire form, checking the
// currency's precision; the error says what is wrong in words a person can act on.
func WireFromMoney(m v1.Money) (gateway.Amount, error) {
	a, err := m.Amount()
	if err != nil {
		return gateway.Amount{}, err
	}
	return gateway.Amount{Currency: a.Currency(), Value: a.MinorString()}, nil
}
