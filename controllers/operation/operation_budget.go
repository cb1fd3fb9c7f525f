package operation

import (
	"context"
	"fmt"
	"sort"
	"time"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/money"
)

// The budget: who gets the last of a payment's money when several
// operations of one kind race for it, decided by (creationTimestamp, name)
// order on facts every operation reads the same way.

// checkLimit decides whether the operation fits in the budget its siblings
// (same kind, same payment) share, read uncached so that every operation
// decides on the same facts:
//
//   - every sibling already submitted counts, whatever its age;
//   - an unsubmitted sibling counts when it comes before this one in
//     (creationTimestamp, name) order and itself fits in what its own
//     predecessors left (it will be sent; one that cannot fit will fail and
//     takes nothing);
//   - failed siblings count nothing.
//
// It returns a LimitExceeded refusal when the operation does not fit.
func (e *opExternal[T]) checkLimit(ctx context.Context) (*engine.TerminalError, error) {
	c, spec := e.c, e.k.spec
	key := e.k.paymentKey(c.obj)
	var p v1.Payment
	if err := c.deps.APIReader.Get(ctx, key, &p); err != nil {
		return nil, fmt.Errorf("get payment %s: %w", key, err)
	}
	c.payment = &p
	budget, phrase, err := spec.budget(ctx, c)
	if err != nil {
		return nil, err
	}
	siblings, err := shared.ListObjects[T](ctx, c.deps.APIReader, spec.newList(), c.obj.GetNamespace())
	if err != nil {
		return nil, fmt.Errorf("list %s of payment %s: %w", spec.plural, key, err)
	}
	succeeded, err := money.Zero(budget.Currency())
	if err != nil {
		return nil, err
	}
	inflight := succeeded
	var earlier []T
	for _, s := range siblings {
		st := s.GetOperationStatus()
		if s.GetUID() == c.obj.GetUID() || s.GetPaymentRef() != key.Name || st.Phase == v1.OperationFailed ||
			(st.PaymentID != "" && p.Status.PaymentID != "" && st.PaymentID != p.Status.PaymentID) {
			continue
		}
		a, ok := e.amountIn(s, budget.Currency())
		switch {
		case !ok:
		case st.Phase == v1.OperationSucceeded:
			succeeded = addOrKeep(succeeded, a)
		case submitted(st):
			inflight = addOrKeep(inflight, a)
		case shared.Before(s, c.obj):
			earlier = append(earlier, s)
		}
	}
	succeeded, ahead := e.recordedOr(&p, succeeded)
	used := addOrKeep(succeeded, inflight)
	sort.Slice(earlier, func(i, j int) bool { return shared.Before(earlier[i], earlier[j]) })
	for _, s := range earlier {
		a, ok := e.amountIn(s, budget.Currency())
		if !ok {
			continue
		}
		if sum, err := used.Add(a); err == nil {
			if fits, _ := sum.LessOrEqual(budget); fits {
				used = sum
			}
		}
	}
	total, err := used.Add(c.amount)
	if err != nil {
		return nil, err
	}
	if fits, _ := total.LessOrEqual(budget); fits {
		return nil, nil
	}
	if ahead && !inflight.IsZero() {
		// The payment's total is ahead of the objects' phases while siblings
		// are in flight: it may already hold them (a notification recorded
		// the payment's total before the sibling's own status), so counting
		// both could refuse an operation that fits. Wait, sending nothing,
		// until the siblings settle; then the sum is exact.
		return nil, &engine.WaitError{Reason: v1.ReasonSiblingsSettling, RequeueAfter: 2 * time.Second, Message: fmt.Sprintf(
			"%s of payment %s: the payment's total is ahead of its %s in flight (%s); waiting for them to settle before deciding whether %s fits",
			spec.plural, key, spec.plural, inflight, c.amount)}
	}
	return &engine.TerminalError{Reason: v1.ReasonLimitExceeded, Message: fmt.Sprintf(
		"%s of payment %s would total %s but only %s %s (%s already %s or in flight)",
		spec.plural, key, total, budget, phrase, used, spec.done)}, nil
}

// recordedOr is what the gateway reports as taken (the payment's total),
// which counts even when its objects were deleted, or succeeded when the
// payment's total lags the objects; ahead reports the first case.
func (e *opExternal[T]) recordedOr(p *v1.Payment, succeeded money.Amount) (_ money.Amount, ahead bool) {
	if r := e.k.spec.recorded(p); r != nil {
		if rec, ok := e.moneyIn(*r, succeeded.Currency()); ok {
			if more, _ := rec.Cmp(succeeded); more > 0 {
				return rec, true
			}
		}
	}
	return succeeded, false
}

// amountIn parses a sibling's amount; false when it is not a valid amount
// in the payment's currency (such a sibling fails and takes nothing).
func (e *opExternal[T]) amountIn(o T, currency string) (money.Amount, bool) {
	return e.moneyIn(o.GetAmount(), currency)
}

func (e *opExternal[T]) moneyIn(m v1.Money, currency string) (money.Amount, bool) {
	a, err := m.Amount()
	return a, err == nil && a.Currency() == currency
}

// addOrKeep adds b to a; a when the sum is impossible (another currency).
func addOrKeep(a, b money.Amount) money.Amount {
	if s, err := a.Add(b); err == nil {
		return s
	}
	return a
}
