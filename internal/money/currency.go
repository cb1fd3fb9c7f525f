package money

import (
	"fmt"
	"strings"
)

// Currency describes a currency the gateway accepts.
type Currency struct {
	// Code is the upper-case ISO 4217 alphabetic code, e.g. "HKD".
	Code string
	// Exponent is the number of decimal places of the minor unit: the wire
	// value is the major amount times 10^Exponent. It is 0, 2, 3 or 4.
	Exponent int
}

// currencyByCode indexes currencyTable. It is built once by init and never
// written afterwards, so concurrent reads are safe.
var currencyByCode = func() map[string]Currency {
	m := make(map[string]Currency, len(currencyTable))
	for i, c := range currencyTable {
		if !isCurrencyCode(c.Code) || c.Exponent < 0 || c.Exponent > 4 {
			panic(fmt.Sprintf("money: bad currency table entry %v", c))
		}
		if i > 0 && currencyTable[i-1].Code >= c.Code {
			panic(fmt.Sprintf("money: currency table not sorted or duplicate at %q", c.Code))
		}
		m[c.Code] = c
	}
	return m
}()

// isCurrencyCode reports whether s is three ASCII upper-case letters.
func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// LookupCurrency returns the currency with the given code. The code must be
// exactly as ISO 4217 writes it: three upper-case letters ("hkd" is an
// error, not silently upper-cased). Codes missing from the table, including
// ISO codes without a minor unit such as XAU or XDR, give an error wrapping
// ErrUnknownCurrency.
func LookupCurrency(code string) (Currency, error) {
	if c, ok := currencyByCode[code]; ok {
		return c, nil
	}
	if up := strings.ToUpper(code); up != code {
		if _, ok := currencyByCode[up]; ok {
			return Currency{}, newError(ErrUnknownCurrency, fmt.Sprintf(
				"unknown currency %s: currency codes are upper-case (did you mean %q?)", quote(code), up))
		}
	}
	if !isCurrencyCode(code) {
		return Currency{}, newError(ErrUnknownCurrency, fmt.Sprintf(
			"unknown currency %s: a currency code is three upper-case letters, e.g. \"HKD\"", quote(code)))
	}
	return Currency{}, newError(ErrUnknownCurrency, fmt.Sprintf(
		"unknown currency %s: not an active ISO 4217 currency with a minor unit", quote(code)))
}

// Exponent returns the number of decimal places of the currency's minor
// unit (JPY 0, HKD 2, KWD 3, CLF 4). Unknown or malformed codes give an error
// wrapping ErrUnknownCurrency; see LookupCurrency.
func Exponent(code string) (int, error) {
	c, err := LookupCurrency(code)
	if err != nil {
		return 0, err
	}
	return c.Exponent, nil
}

// Currencies returns every accepted currency, sorted by code. The returned
// slice is a fresh copy that the caller may modify.
func Currencies() []Currency {
	out := make([]Currency, len(currencyTable))
	copy(out, currencyTable[:])
	return out
}
