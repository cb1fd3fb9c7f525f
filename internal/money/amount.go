package money

import (
	"fmt"
	"strconv"

	"github.com/shopspring/decimal"
)

// MaxDigits is the most digits an amount may have in minor units: the
// gateway's wire value is at most 16 characters long.
const MaxDigits = 16

// MaxMinor is the largest amount, in minor units, that this package
// represents: 9999999999999999 (MaxDigits nines). Keeping every Amount at or
// below it means the sum of two amounts cannot overflow an int64.
const MaxMinor int64 = 9999999999999999

// Amount is an exact amount of money: a whole number of minor units of one
// currency (HKD 10.50 is 1050 minor units of HKD).
//
// An Amount made by this package is always between zero and MaxMinor minor
// units of a currency in the table. The parsing functions accept only
// positive amounts, because the gateway only takes positive amounts; zero
// exists for ledger totals (see Zero, Sub) and negative amounts never exist.
//
// Amounts are comparable values: == is true exactly when the currency and
// the number of minor units are the same. The zero value Amount{} has no
// currency; it is not usable with Add, Sub or Cmp.
type Amount struct {
	currency string
	minor    int64
	exp      int8 // the currency's exponent, cached to avoid a lookup
}

// ParseMajor parses an amount in major units, the form used in our
// Kubernetes API: "10.50", "10.5", "10" or "0.1" for HKD.
//
// The value must be a plain positive decimal number: ASCII digits, with an
// optional "." followed by at least one digit. These are rejected with
// ErrInvalidFormat: the empty string, any sign ("+5"; but "-5" gives
// ErrNotPositive), exponents ("1e3"), spaces anywhere, a leading or trailing
// point (".5", "5."), grouping separators ("1,000"), leading zeros ("01.5";
// "0.5" is fine) and any other non-digit.
//
// Trailing zeros beyond the currency's decimal places are accepted, since
// they do not change the value: "10.500" HKD is 1050 minor units. A nonzero
// digit beyond them is ErrTooPrecise ("1.234" HKD, "1.5" JPY); the value is
// never rounded. Zero ("0", "0.00") and negatives give ErrNotPositive;
// amounts needing more than MaxDigits digits in minor units give
// ErrTooLarge; an unknown currency gives ErrUnknownCurrency.
func ParseMajor(currency, value string) (Amount, error) {
	c, err := LookupCurrency(currency)
	if err != nil {
		return Amount{}, err
	}
	exp := c.Exponent
	intPart, frac, negative, err := splitMajor(value)
	if err != nil {
		return Amount{}, err
	}
	if negative {
		return Amount{}, newError(ErrNotPositive, fmt.Sprintf(
			"amount %s must be greater than zero", quote(value)))
	}

	// Decimal places that carry value, i.e. ignoring trailing zeros.
	places := len(frac)
	for places > 0 && frac[places-1] == '0' {
		places--
	}
	if places > exp {
		return Amount{}, tooPreciseError(value, places, c)
	}

	// intPart has no leading zeros, so unless it is "0" the minor amount
	// has exactly len(intPart)+exp digits.
	if intPart != "0" && len(intPart)+exp > MaxDigits {
		return Amount{}, tooLargeError(value, c)
	}
	minor := minorUnits(intPart, frac[:places], exp)
	if minor == 0 {
		return Amount{}, newError(ErrNotPositive, fmt.Sprintf(
			"amount %s must be greater than zero", quote(value)))
	}
	return Amount{currency: c.Code, minor: minor, exp: int8(exp)}, nil
}

// splitMajor checks the syntax of a major-unit decimal string and splits it
// into its integer digits, its fractional digits ("" without a point) and
// whether it had a leading minus; any other fault is ErrInvalidFormat.
func splitMajor(value string) (intPart, frac string, negative bool, err error) {
	if value == "" {
		return "", "", false, newError(ErrInvalidFormat, "amount is empty")
	}
	s := value
	negative = s[0] == '-'
	if negative {
		s = s[1:]
	}

	// Integer part.
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intPart = s[:i]
	if intPart == "" {
		return "", "", false, formatError(value, s, i)
	}
	if len(intPart) > 1 && intPart[0] == '0' {
		return "", "", false, newError(ErrInvalidFormat, fmt.Sprintf(
			"amount %s must not have leading zeros", quote(value)))
	}
	if i == len(s) {
		return intPart, "", negative, nil
	}

	// Fractional part.
	if s[i] != '.' {
		return "", "", false, formatError(value, s, i)
	}
	frac = s[i+1:]
	if frac == "" {
		return "", "", false, newError(ErrInvalidFormat, fmt.Sprintf(
			"amount %s must have a digit after the decimal point", quote(value)))
	}
	for j := 0; j < len(frac); j++ {
		if !isDigit(frac[j]) {
			return "", "", false, formatError(value, s, i+1+j)
		}
	}
	return intPart, frac, negative, nil
}

// minorUnits is intPart.frac in minor units of a currency with exp decimal
// places; frac has at most exp digits, and the caller has checked that the
// result fits in MaxDigits digits.
func minorUnits(intPart, frac string, exp int) int64 {
	var minor int64
	for j := 0; j < len(intPart); j++ {
		minor = minor*10 + int64(intPart[j]-'0')
	}
	for j := 0; j < exp; j++ {
		minor *= 10
		if j < len(frac) {
			minor += int64(frac[j] - '0')
		}
	}
	return minor
}

// ParseMinor parses an amount in minor units, the gateway's wire form:
// "100" for HKD is HKD 1.00.
//
// The value must be a canonical positive integer: ASCII digits only, no
// sign, no leading zeros ("0100" is ErrInvalidFormat), at most MaxDigits
// digits (more is ErrTooLarge). "0" and negatives give ErrNotPositive; an
// unknown currency gives ErrUnknownCurrency.
func ParseMinor(currency, value string) (Amount, error) {
	c, err := LookupCurrency(currency)
	if err != nil {
		return Amount{}, err
	}
	if value == "" {
		return Amount{}, newError(ErrInvalidFormat, "minor-unit amount is empty")
	}
	s := value
	negative := s[0] == '-'
	if negative {
		s = s[1:]
	}
	if s == "" {
		return Amount{}, minorFormatError(value)
	}
	for j := 0; j < len(s); j++ {
		if !isDigit(s[j]) {
			return Amount{}, minorFormatError(value)
		}
	}
	if negative || s == "0" {
		return Amount{}, newError(ErrNotPositive, fmt.Sprintf(
			"minor-unit amount %s must be greater than zero", quote(value)))
	}
	if s[0] == '0' {
		return Amount{}, newError(ErrInvalidFormat, fmt.Sprintf(
			"minor-unit amount %s must not have leading zeros", quote(value)))
	}
	if len(s) > MaxDigits {
		return Amount{}, newError(ErrTooLarge, fmt.Sprintf(
			"minor-unit amount %s is too large: at most %d digits are allowed", quote(value), MaxDigits))
	}
	var minor int64
	for j := 0; j < len(s); j++ {
		minor = minor*10 + int64(s[j]-'0')
	}
	return Amount{currency: c.Code, minor: minor, exp: int8(c.Exponent)}, nil
}

// Validate reports whether value is an acceptable major-unit amount of the
// currency, exactly as ParseMajor decides. It is meant for admission checks
// and status conditions: the error's message explains the problem.
func Validate(currency, value string) error {
	_, err := ParseMajor(currency, value)
	return err
}

// Zero returns a zero amount of the currency, the starting point for ledger
// totals. Only an unknown currency gives an error (ErrUnknownCurrency).
func Zero(currency string) (Amount, error) {
	c, err := LookupCurrency(currency)
	if err != nil {
		return Amount{}, err
	}
	return Amount{currency: c.Code, exp: int8(c.Exponent)}, nil
}

// Currency returns the amount's ISO 4217 code, e.g. "HKD".
func (a Amount) Currency() string { return a.currency }

// Minor returns the amount in minor units: 1050 for HKD 10.50.
func (a Amount) Minor() int64 { return a.minor }

// Exponent returns the number of decimal places of the amount's currency.
func (a Amount) Exponent() int { return int(a.exp) }

// IsZero reports whether the amount is zero.
func (a Amount) IsZero() bool { return a.minor == 0 }

// Major returns the canonical major-unit string, with exactly as many
// decimals as the currency has: "10.50" (HKD), "1000" (JPY), "1.250" (KWD),
// "0.00" (zero HKD). ParseMajor accepts it and gives back the same Amount.
func (a Amount) Major() string {
	var buf [MaxDigits + 8]byte
	return string(a.appendMajor(buf[:0]))
}

// appendMajor appends the canonical major-unit string to b.
func (a Amount) appendMajor(b []byte) []byte {
	exp := int(a.exp)
	if exp == 0 {
		return strconv.AppendInt(b, a.minor, 10)
	}
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], a.minor, 10)
	if len(d) <= exp {
		// Less than one major unit: "0." then zeros, e.g. 5 minor HKD is "0.05".
		b = append(b, '0', '.')
		for k := len(d); k < exp; k++ {
			b = append(b, '0')
		}
		return append(b, d...)
	}
	n := len(d) - exp
	b = append(b, d[:n]...)
	b = append(b, '.')
	return append(b, d[n:]...)
}

// MinorString returns the amount in minor units as a decimal string, the
// gateway's wire value: "1050" for HKD 10.50. The gateway only accepts
// positive values; the string of a zero amount is "0".
func (a Amount) MinorString() string {
	return strconv.FormatInt(a.minor, 10)
}

// String returns the currency and the major-unit value, e.g. "HKD 10.50",
// for logs and messages.
func (a Amount) String() string {
	var buf [MaxDigits + 12]byte
	b := append(buf[:0], a.currency...)
	b = append(b, ' ')
	return string(a.appendMajor(b))
}

// Decimal returns the amount in major units as an exact decimal, for callers
// that need to compute with it (it is never rounded).
func (a Amount) Decimal() decimal.Decimal {
	return decimal.New(a.minor, -int32(a.exp))
}

// WireAmount is the gateway's JSON amount object: the currency and the
// value in minor units, e.g. {"currency":"HKD","value":"100"} for HKD 1.00.
type WireAmount struct {
	Currency string `json:"currency"`
	Value    string `json:"value"`
}

// Wire returns the amount in the gateway's wire form.
func (a Amount) Wire() WireAmount {
	return WireAmount{Currency: a.currency, Value: a.MinorString()}
}

// ParseWire parses the gateway's wire form; it is ParseMinor(w.Currency,
// w.Value).
func ParseWire(w WireAmount) (Amount, error) {
	return ParseMinor(w.Currency, w.Value)
}

// Add returns a + b. It fails with ErrCurrencyMismatch if the currencies
// differ and with ErrTooLarge if the sum exceeds MaxMinor.
func (a Amount) Add(b Amount) (Amount, error) {
	if err := sameCurrency("add", a, b); err != nil {
		return Amount{}, err
	}
	sum := a.minor + b.minor // cannot overflow: both are at most MaxMinor
	if sum > MaxMinor {
		return Amount{}, newError(ErrTooLarge, fmt.Sprintf(
			"%s + %s is too large: at most %d digits in minor units are allowed", a, b, MaxDigits))
	}
	return Amount{currency: a.currency, minor: sum, exp: a.exp}, nil
}

// Sub returns a - b, which may be zero (refundable = captured - refunded).
// It fails with ErrCurrencyMismatch if the currencies differ and with
// ErrNegative if b is greater than a.
func (a Amount) Sub(b Amount) (Amount, error) {
	if err := sameCurrency("subtract", a, b); err != nil {
		return Amount{}, err
	}
	if b.minor > a.minor {
		return Amount{}, newError(ErrNegative, fmt.Sprintf(
			"%s - %s would be negative", a, b))
	}
	return Amount{currency: a.currency, minor: a.minor - b.minor, exp: a.exp}, nil
}

// Cmp compares a and b: -1 if a < b, 0 if a == b, +1 if a > b. It fails
// with ErrCurrencyMismatch if the currencies differ.
func (a Amount) Cmp(b Amount) (int, error) {
	if err := sameCurrency("compare", a, b); err != nil {
		return 0, err
	}
	switch {
	case a.minor < b.minor:
		return -1, nil
	case a.minor > b.minor:
		return 1, nil
	}
	return 0, nil
}

// LessOrEqual reports whether a <= b, e.g. whether a refund fits in what is
// still refundable. It fails with ErrCurrencyMismatch if the currencies
// differ.
func (a Amount) LessOrEqual(b Amount) (bool, error) {
	c, err := a.Cmp(b)
	return c <= 0 && err == nil, err
}

// sameCurrency checks that a and b are of one known currency.
func sameCurrency(op string, a, b Amount) error {
	if a.currency == "" || b.currency == "" {
		return newError(ErrUnknownCurrency, fmt.Sprintf(
			"cannot %s amounts without a currency (zero Amount value)", op))
	}
	if a.currency != b.currency {
		return newError(ErrCurrencyMismatch, fmt.Sprintf(
			"cannot %s %s and %s: the currencies differ", op, a, b))
	}
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// formatError explains why value (whose unsigned part is s) is not a plain
// decimal number; pos is the offending index in s.
func formatError(value, s string, pos int) error {
	var why string
	switch {
	case pos >= len(s):
		why = "must have a digit"
	case s[pos] == '.' && pos == 0:
		why = "must have a digit before the decimal point"
	case s[pos] == '+' || s[pos] == '-':
		why = "must not have a sign"
	case s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r':
		why = "must not contain spaces"
	case s[pos] == 'e' || s[pos] == 'E':
		why = "must not use exponent notation"
	case s[pos] == ',' || s[pos] == '_':
		why = "must not contain digit separators"
	case s[pos] == '.':
		why = "must have at most one decimal point"
	default:
		why = fmt.Sprintf("contains the unexpected character %s", strconv.QuoteRune(rune(s[pos])))
		if s[pos] >= 0x80 {
			why = "contains a non-ASCII character"
		}
	}
	return newError(ErrInvalidFormat, fmt.Sprintf(
		"amount %s is not a plain decimal number like \"10.50\": it %s", quote(value), why))
}

func minorFormatError(value string) error {
	return newError(ErrInvalidFormat, fmt.Sprintf(
		"minor-unit amount %s must be a positive integer of ASCII digits", quote(value)))
}

func tooPreciseError(value string, places int, c Currency) error {
	allowed := fmt.Sprintf("at most %d", c.Exponent)
	if c.Exponent == 0 {
		allowed = "none"
	}
	unit := "places"
	if places == 1 {
		unit = "place"
	}
	return newError(ErrTooPrecise, fmt.Sprintf(
		"amount %s has %d decimal %s but %s allows %s", quote(value), places, unit, c.Code, allowed))
}

func tooLargeError(value string, c Currency) error {
	max := Amount{currency: c.Code, minor: MaxMinor, exp: int8(c.Exponent)}
	return newError(ErrTooLarge, fmt.Sprintf(
		"amount %s is too large: %s amounts are at most %s", quote(value), c.Code, max.Major()))
}
