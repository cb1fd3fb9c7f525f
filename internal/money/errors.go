package money

import (
	"errors"
	"strconv"
)

// Sentinel errors. Errors returned by this package wrap exactly one of them;
// test with errors.Is. The returned error's message does not repeat the
// sentinel's text: it is a complete sentence-like message for a human.
var (
	// ErrUnknownCurrency: the code is not an upper-case ISO 4217 code in
	// the currency table (this includes lower-case codes and codes such as
	// XAU or XDR that have no minor unit).
	ErrUnknownCurrency = errors.New("unknown currency")
	// ErrInvalidFormat: the string is not a plain decimal number (major
	// form) or a canonical positive integer (wire form).
	ErrInvalidFormat = errors.New("invalid amount format")
	// ErrNotPositive: the amount is zero or negative where a positive
	// amount is required.
	ErrNotPositive = errors.New("amount not positive")
	// ErrTooPrecise: the amount has a nonzero digit beyond the currency's
	// minor unit.
	ErrTooPrecise = errors.New("amount too precise for currency")
	// ErrTooLarge: the amount would need more than MaxDigits digits in minor
	// units.
	ErrTooLarge = errors.New("amount too large")
	// ErrCurrencyMismatch: two amounts in different currencies were
	// combined or compared.
	ErrCurrencyMismatch = errors.New("currency mismatch")
	// ErrNegative: a subtraction would produce a negative amount.
	ErrNegative = errors.New("amount would be negative")
	// ErrBelowMinimum: the amount is below a payment method's minimum.
	ErrBelowMinimum = errors.New("amount below payment method minimum")
	// ErrNotMultiple: the amount is not a multiple of the step a payment
	// method requires.
	ErrNotMultiple = errors.New("amount not a multiple required by payment method")
)

// moneyError carries a human message and wraps a sentinel.
type moneyError struct {
	kind error
	msg  string
}

func (e *moneyError) Error() string { return e.msg }
func (e *moneyError) Unwrap() error { return e.kind }

func newError(kind error, msg string) error {
	return &moneyError{kind: kind, msg: msg}
}

// maxQuoted bounds how much of a user-supplied string is echoed in an error
// message, so that a huge input cannot bloat a Kubernetes condition.
const maxQuoted = 40

// quote returns s quoted for an error message, truncated if it is long.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:maxQuoted]) + "..."
}
