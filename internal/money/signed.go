package money

import (
	"errors"
	"fmt"
)

// Signed is an exact amount that may be negative or zero: the form of
// ledger lines and report columns (a refund settles as a negative amount, a
// fee is deducted as a negative amount). Like Amount it is a whole number of
// minor units of one currency and never a float; its magnitude is at most
// MaxMinor. Signed values are comparable: == is true exactly when the
// currency and the number of minor units are the same.
type Signed struct {
	currency string
	minor    int64
	exp      int8
}

// ParseSignedMajor parses a signed amount in major units as the gateway's
// reports write it: "10.50", "-10.50", "0", "0.00". The magnitude follows
// the rules of ParseMajor (no "+", no exponent, no grouping, no leading
// zeros, never rounded), except that zero is allowed; "-0" is zero.
func ParseSignedMajor(currency, value string) (Signed, error) {
	neg := len(value) > 0 && value[0] == '-'
	abs := value
	if neg {
		abs = value[1:]
		if len(abs) > 0 && abs[0] == '-' {
			return Signed{}, newError(ErrInvalidFormat, fmt.Sprintf("amount %s is not a decimal number", quote(value)))
		}
	}
	a, err := ParseMajor(currency, abs)
	if errors.Is(err, ErrNotPositive) {
		// The magnitude parsed and is zero (the sign was removed above).
		z, zerr := Zero(currency)
		if zerr != nil {
			return Signed{}, zerr
		}
		return z.Signed(), nil
	}
	if err != nil {
		if neg && errors.Is(err, ErrInvalidFormat) {
			return Signed{}, newError(ErrInvalidFormat, fmt.Sprintf("amount %s is not a decimal number", quote(value)))
		}
		return Signed{}, err
	}
	s := a.Signed()
	if neg {
		s.minor = -s.minor
	}
	return s, nil
}

// SignedMinor makes a signed amount of minor units of currency; its
// magnitude must be at most MaxMinor.
func SignedMinor(currency string, minor int64) (Signed, error) {
	c, err := LookupCurrency(currency)
	if err != nil {
		return Signed{}, err
	}
	if minor > MaxMinor || minor < -MaxMinor {
		return Signed{}, newError(ErrTooLarge, fmt.Sprintf("%d minor units of %s is too large", minor, currency))
	}
	return Signed{currency: c.Code, minor: minor, exp: int8(c.Exponent)}, nil
}

// Signed returns a as a (non-negative) Signed amount.
func (a Amount) Signed() Signed { return Signed{currency: a.currency, minor: a.minor, exp: a.exp} }

// Currency returns the ISO 4217 code.
func (s Signed) Currency() string { return s.currency }

// Minor returns the amount in minor units, negative for a debit.
func (s Signed) Minor() int64 { return s.minor }

// Exponent returns the number of decimal places of the currency.
func (s Signed) Exponent() int { return int(s.exp) }

// Neg returns -s.
func (s Signed) Neg() Signed { s.minor = -s.minor; return s }

// Abs returns the magnitude as an Amount (zero stays zero).
func (s Signed) Abs() Amount {
	m := s.minor
	if m < 0 {
		m = -m
	}
	return Amount{currency: s.currency, minor: m, exp: s.exp}
}

// Major returns the canonical major-unit string with the currency's number
// of decimals and a leading "-" when negative: "-10.50", "0.00", "1000".
func (s Signed) Major() string {
	var buf [MaxDigits + 9]byte
	b := buf[:0]
	if s.minor < 0 {
		b = append(b, '-')
	}
	return string(s.Abs().appendMajor(b))
}

// String returns the currency and the major-unit value, e.g. "HKD -10.50".
func (s Signed) String() string { return s.currency + " " + s.Major() }

// Add returns s + t. It fails with ErrCurrencyMismatch if the currencies
// differ and with ErrTooLarge if the magnitude would exceed MaxMinor.
func (s Signed) Add(t Signed) (Signed, error) {
	if s.currency != t.currency {
		return Signed{}, newError(ErrCurrencyMismatch, fmt.Sprintf(
			"cannot add %s and %s: different currencies", s, t))
	}
	r := s.minor + t.minor
	if r > MaxMinor || r < -MaxMinor {
		return Signed{}, newError(ErrTooLarge, fmt.Sprintf("%s + %s is too large", s, t))
	}
	return Signed{currency: s.currency, minor: r, exp: s.exp}, nil
}
