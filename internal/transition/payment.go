package transition

import (
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/money"
)

// ErrMismatch means the facts name another gateway object or another amount
// than the Kubernetes object records: they are refused and nothing changes.
var ErrMismatch = errors.New("facts do not match the object")

// Source says where facts come from (for events and diagnostics).
type Source string

const (
	SourcePay          Source = "pay"
	SourceInquiry      Source = "inquiry"
	SourceNotification Source = "notification"
	SourceCancel       Source = "cancel"
	SourceCapture      Source = "capture"
	SourceRefund       Source = "refund"
	SourceDeclare      Source = "declare"
	SourceRegistration Source = "registration"
	SourceController   Source = "controller"
)

// PaymentFacts is what one gateway answer says about a payment. Zero fields
// say nothing.
type PaymentFacts struct {
	Source Source
	// GatewayStatus is the gateway's paymentStatus: PROCESSING, PENDING,
	// SUCCESS, FAIL or CANCELLED; "" when the answer carries none (e.g. a
	// pay response with PAYMENT_IN_PROCESS still means PROCESSING).
	GatewayStatus string
	// Result is the result envelope that came with the answer, if any.
	Result *gateway.Result
	// PaymentRequestID and PaymentID identify the gateway payment.
	PaymentRequestID string
	PaymentID        string
	// Amount is the payment amount the gateway reports (wire form).
	Amount *gateway.Amount
	// Captured is the total of succeeded captures the gateway reports (wire
	// form), for card authorizations.
	Captured *gateway.Amount
	// Refunded is the total of succeeded refunds (wire form).
	Refunded *gateway.Amount
	// Declared is the customs declaration amount (wire form).
	Declared *gateway.Amount

	CreateTime     string
	PaymentTime    string
	AuthExpiryTime string
	CancelTime     string
	// ExpiryTime is the pay request's paymentExpiryTime (set by the controller).
	ExpiryTime *time.Time

	UserAction *v1.UserAction
	Card       *v1.CardSummary

	// AuthLapsed says the authorization's authExpiryTime has passed on the
	// gateway's clock (or the gateway refused a capture with AUTH_EXPIRED):
	// an Authorized payment ends Succeeded when something of it was
	// captured (the rest is released), else Expired.
	AuthLapsed bool
}

// Change reports what Apply did.
type Change struct {
	// Changed is true when the status differs from before.
	Changed bool
	// From and To are the phases before and after; equal when the phase did not move.
	From, To string
	// Ignored explains why facts were not applied (stale or out of order); "" when applied.
	Ignored string
}

// Transitioned reports whether the phase moved.
func (c Change) Transitioned() bool { return c.From != c.To }

// allowedPayment lists the phases each phase may move to. A payment moves
// forward only; Succeeded → Cancelled is the gateway's cancel-after-success
// (full refund); Authorized ends Succeeded (captured), Cancelled (voided) or
// Expired (lapsed uncaptured).
var allowedPayment = map[v1.PaymentPhase][]v1.PaymentPhase{
	"":                   {v1.PaymentPending, v1.PaymentProcessing, v1.PaymentAuthorized, v1.PaymentSucceeded, v1.PaymentFailed, v1.PaymentCancelled, v1.PaymentExpired},
	v1.PaymentPending:    {v1.PaymentProcessing, v1.PaymentAuthorized, v1.PaymentSucceeded, v1.PaymentFailed, v1.PaymentCancelled, v1.PaymentExpired},
	v1.PaymentProcessing: {v1.PaymentAuthorized, v1.PaymentSucceeded, v1.PaymentFailed, v1.PaymentCancelled, v1.PaymentExpired},
	v1.PaymentAuthorized: {v1.PaymentSucceeded, v1.PaymentCancelled, v1.PaymentExpired},
	v1.PaymentSucceeded:  {v1.PaymentCancelled},
}

// PaymentCanMove reports whether a payment may move from one phase to another.
func PaymentCanMove(from, to v1.PaymentPhase) bool { return canMove(allowedPayment, from, to) }

// ApplyPayment applies facts to p's status at time now.
func ApplyPayment(p *v1.Payment, f PaymentFacts, now time.Time) (Change, error) {
	st := &p.Status
	before := st.DeepCopy()
	ch := Change{From: string(st.Phase)}

	// Identity and amount checks first: refuse before touching anything.
	if err := samePayment(p, f); err != nil {
		return Change{From: ch.From, To: ch.From}, err
	}
	next, ok, err := paymentPhase(p, f, now)
	if err != nil {
		return Change{From: ch.From, To: ch.From}, err
	}
	if ok && !PaymentCanMove(st.Phase, next) {
		ch.Ignored = fmt.Sprintf("%s says %s but the payment is already %s", f.Source, next, st.Phase)
		ok = false
	}

	// Facts that only add information are applied whatever the phase.
	setStr(&st.PaymentID, f.PaymentID)
	setStr(&st.PaymentRequestID, f.PaymentRequestID)
	setTime(&st.CreateTime, f.CreateTime)
	setTime(&st.AuthExpiryTime, f.AuthExpiryTime)
	if f.ExpiryTime != nil && st.ExpiryTime == nil {
		t := metav1.NewTime(*f.ExpiryTime)
		st.ExpiryTime = &t
	}
	if f.Card != nil {
		st.Card = f.Card
	}
	if err := growTotals(p, f); err != nil {
		return Change{From: ch.From, To: ch.From}, err
	}

	if ok {
		if next != st.Phase {
			st.Phase = next
		}
		if f.GatewayStatus != "" {
			st.GatewayStatus = f.GatewayStatus
		}
		setTime(&st.PaymentTime, f.PaymentTime)
		setTime(&st.CancelTime, f.CancelTime)
		if next == v1.PaymentProcessing {
			if f.UserAction != nil {
				st.UserAction = f.UserAction
			}
		} else {
			// The user has nothing left to do once the payment moved on.
			st.UserAction = nil
		}
		// An authorization seen first as Succeeded (adopted by a re-created
		// object) was authorized for its amount all the same.
		if (next == v1.PaymentAuthorized || (next == v1.PaymentSucceeded && p.Spec.Authorization)) && st.Amounts.Authorized == nil {
			a := p.Spec.Amount
			st.Amounts.Authorized = &a
		}
		if next == v1.PaymentSucceeded && !p.Spec.Authorization && st.Amounts.Captured == nil {
			a := p.Spec.Amount
			st.Amounts.Captured = &a
		}
	}
	// A notification's result is recorded only when it moved the phase: a
	// late duplicate of what an inquiry already found costs no write.
	if f.Result != nil && (f.Source != SourceNotification || (ok && v1.PaymentPhase(ch.From) != next)) {
		setResult(&st.LastResult, *f.Result, f.Source, now)
	}
	if err := recomputeRefundable(p); err != nil {
		return Change{From: ch.From, To: ch.From}, err
	}
	ch.To = string(st.Phase)
	ch.Changed = !equalStatus(before, st)
	return ch, nil
}

// samePayment refuses facts about another payment than p's (its ids or its
// amount differ).
func samePayment(p *v1.Payment, f PaymentFacts) error {
	st := &p.Status
	if f.PaymentID != "" && st.PaymentID != "" && f.PaymentID != st.PaymentID {
		return fmt.Errorf("%w: paymentId %s, object has %s", ErrMismatch, f.PaymentID, st.PaymentID)
	}
	if f.PaymentRequestID != "" && st.PaymentRequestID != "" && f.PaymentRequestID != st.PaymentRequestID {
		return fmt.Errorf("%w: paymentRequestId %s, object has %s", ErrMismatch, f.PaymentRequestID, st.PaymentRequestID)
	}
	if f.Amount != nil {
		if err := sameAmount(p.Spec.Amount, *f.Amount); err != nil {
			return fmt.Errorf("%w: payment amount: %v", ErrMismatch, err)
		}
	}
	return nil
}

// paymentPhase maps facts to the phase they imply; ok=false when they
// imply none. An amount that does not parse is an error, never "nothing
// captured".
func paymentPhase(p *v1.Payment, f PaymentFacts, now time.Time) (v1.PaymentPhase, bool, error) {
	if f.AuthLapsed && p.Status.Phase == v1.PaymentAuthorized {
		some, err := capturedSome(p, f)
		if err != nil {
			return "", false, err
		}
		if some {
			return v1.PaymentSucceeded, true, nil
		}
		return v1.PaymentExpired, true, nil
	}
	if f.GatewayStatus == gateway.PaymentStatusSuccess && p.Spec.Authorization {
		all, err := capturedAll(p, f)
		if err != nil {
			return "", false, err
		}
		if all {
			return v1.PaymentSucceeded, true, nil
		}
		return v1.PaymentAuthorized, true, nil
	}
	next, ok := gatewayPhase(p, f, now)
	return next, ok, nil
}

// gatewayPhase maps the gateway's status (and result) to a phase.
func gatewayPhase(p *v1.Payment, f PaymentFacts, now time.Time) (v1.PaymentPhase, bool) {
	switch f.GatewayStatus {
	case gateway.PaymentStatusProcessing, gateway.PaymentStatusPending:
		return v1.PaymentProcessing, true
	case gateway.PaymentStatusSuccess:
		return v1.PaymentSucceeded, true
	case gateway.PaymentStatusFail:
		if f.Result != nil && (f.Result.ResultCode == gateway.CodeOrderIsClosed) {
			return v1.PaymentExpired, true
		}
		if p.Status.Phase == v1.PaymentAuthorized {
			// An authorization that ends in FAIL lapsed without capture.
			return v1.PaymentExpired, true
		}
		if p.Status.ExpiryTime != nil && !now.Before(p.Status.ExpiryTime.Time) && p.Status.Phase == v1.PaymentProcessing {
			return v1.PaymentExpired, true
		}
		return v1.PaymentFailed, true
	case gateway.PaymentStatusCancelled:
		return v1.PaymentCancelled, true
	case "":
		if f.Source == SourcePay && f.Result != nil && f.Result.ResultStatus == gateway.StatusUnknown &&
			f.Result.ResultCode == gateway.CodePaymentInProcess {
			return v1.PaymentProcessing, true
		}
	}
	return "", false
}

// capturedAll reports whether the facts' captured total covers the
// authorized amount.
func capturedAll(p *v1.Payment, f PaymentFacts) (bool, error) {
	if f.Captured == nil {
		return false, nil
	}
	c, err := money.ParseMinor(f.Captured.Currency, f.Captured.Value)
	if err != nil {
		return false, fmt.Errorf("%w: captured amount: %v", ErrMismatch, err)
	}
	auth, err := p.Spec.Amount.Amount()
	if err != nil {
		return false, fmt.Errorf("spec.amount: %w", err)
	}
	cmp, err := c.Cmp(auth)
	if err != nil {
		return false, fmt.Errorf("%w: captured amount: %v", ErrMismatch, err)
	}
	return cmp >= 0, nil
}

// capturedSome reports whether anything of a lapsed authorization was
// captured, by the status or by the facts.
func capturedSome(p *v1.Payment, f PaymentFacts) (bool, error) {
	if c := p.Status.Amounts.Captured; c != nil {
		zero, err := isZero(*c)
		if err != nil {
			return false, err
		}
		if !zero {
			return true, nil
		}
	}
	if f.Captured == nil {
		return false, nil
	}
	c, err := money.ParseMinor(f.Captured.Currency, f.Captured.Value)
	if err != nil {
		return false, fmt.Errorf("%w: captured amount: %v", ErrMismatch, err)
	}
	return !c.IsZero(), nil
}

// growTotals raises captured/refunded/declared to what the gateway reports;
// totals never shrink.
func growTotals(p *v1.Payment, f PaymentFacts) error {
	st := &p.Status.Amounts
	for _, t := range []struct {
		wire *gateway.Amount
		dst  **v1.Money
		name string
	}{{f.Captured, &st.Captured, "captured"}, {f.Refunded, &st.Refunded, "refunded"}, {f.Declared, &st.Declared, "declared"}} {
		if t.wire == nil {
			continue
		}
		a, err := money.ParseMinor(t.wire.Currency, t.wire.Value)
		if err != nil {
			if errors.Is(err, money.ErrNotPositive) {
				continue // the gateway reporting 0 says nothing new
			}
			return fmt.Errorf("%w: %s amount: %v", ErrMismatch, t.name, err)
		}
		if t.name != "declared" && a.Currency() != p.Spec.Amount.Currency {
			return fmt.Errorf("%w: %s currency %s, payment is in %s", ErrMismatch, t.name, a.Currency(), p.Spec.Amount.Currency)
		}
		if *t.dst != nil {
			cur, err := (*t.dst).Amount()
			if err == nil {
				if c, err := a.Cmp(cur); err == nil && c <= 0 {
					continue
				}
			}
		}
		m := v1.Money{Currency: a.Currency(), Value: a.Major()}
		*t.dst = &m
	}
	return nil
}

// recomputeRefundable sets refundable = captured − refunded (never negative).
func recomputeRefundable(p *v1.Payment) error {
	st := &p.Status.Amounts
	if st.Captured == nil {
		st.Refundable = nil
		return nil
	}
	c, err := st.Captured.Amount()
	if err != nil {
		return fmt.Errorf("captured amount: %w", err)
	}
	r := c
	if st.Refunded != nil {
		ref, err := st.Refunded.Amount()
		if err != nil {
			return fmt.Errorf("refunded amount: %w", err)
		}
		if r, err = c.Sub(ref); err != nil {
			zero, _ := money.Zero(c.Currency())
			r = zero
		}
	}
	st.Refundable = &v1.Total{Currency: r.Currency(), Value: r.Major()}
	return nil
}

// sameAmount checks a wire amount equals a spec amount exactly.
func sameAmount(spec v1.Money, wire gateway.Amount) error {
	want, err := spec.Amount()
	if err != nil {
		return fmt.Errorf("object amount: %w", err)
	}
	got, err := money.ParseMinor(wire.Currency, wire.Value)
	if err != nil {
		return fmt.Errorf("gateway amount: %w", err)
	}
	if got != want {
		return fmt.Errorf("gateway says %s, object says %s", got, want)
	}
	return nil
}

func setStr(dst *string, v string) {
	if v != "" && *dst == "" {
		*dst = v
	}
}

func setTime(dst **metav1.Time, v string) {
	if v == "" || *dst != nil {
		return
	}
	t, err := gateway.ParseTime(v)
	if err != nil {
		return
	}
	mt := metav1.NewTime(t)
	*dst = &mt
}

func ptrTime(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t)
	return &mt
}

// isZero reports whether an amount is zero; one that does not parse is an
// error.
func isZero(m v1.Money) (bool, error) {
	a, err := m.Amount()
	if err != nil {
		return false, fmt.Errorf("status amount: %w", err)
	}
	return a.IsZero(), nil
}

// AutoCaptured is what an answer about an automatic capture (the capture
// call's response, or its notifyCapture) says of the payment itself: on
// SUCCESS the payment Succeeded with captured taken; otherwise nothing
// beyond its paymentId (a refused capture shows at the next inquiry).
func AutoCaptured(src Source, paymentID string, result *gateway.Result, captured *gateway.Amount) PaymentFacts {
	f := PaymentFacts{Source: src, PaymentID: paymentID}
	if result != nil && result.ResultStatus == gateway.StatusSuccess {
		f.GatewayStatus, f.Captured, f.Result = gateway.PaymentStatusSuccess, captured, result
	}
	return f
}
