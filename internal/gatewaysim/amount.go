package gatewaysim

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/money"
)

// This file is the simulator's only contact with amount rules. Currency
// exponents, minor-unit parsing and the per-wallet rules all come from
// package money; money is never a float here.

// amt is an exact amount in minor units (a comparable value).
type amt struct {
	currency string
	minor    int64
	exp      int
}

func fromMoney(a money.Amount) amt {
	return amt{currency: a.Currency(), minor: a.Minor(), exp: a.Exponent()}
}

func (a amt) money() (money.Amount, error) {
	return money.ParseMinor(a.currency, strconv.FormatInt(a.minor, 10))
}

func (a amt) wire() *gateway.Amount {
	return &gateway.Amount{Currency: a.currency, Value: strconv.FormatInt(a.minor, 10)}
}

func minorWire(currency string, minor int64) *gateway.Amount {
	return &gateway.Amount{Currency: currency, Value: strconv.FormatInt(minor, 10)}
}

// major renders the amount in major units, e.g. "10.50" for 1050 HKD.
func (a amt) major() string { return formatMajor(a.minor, a.exp) }

// formatMajor renders minor units with exp decimals (totals may be zero,
// which money.Amount only represents via Zero; this keeps it simple).
func formatMajor(minor int64, exp int) string {
	s := strconv.FormatInt(minor, 10)
	if exp == 0 {
		return s
	}
	for len(s) <= exp {
		s = "0" + s
	}
	return s[:len(s)-exp] + "." + s[len(s)-exp:]
}

// parseAmount validates a wire amount of the field named field (e.g.
// "paymentAmount"). The error message names the field and is sent as the
// PARAM_ILLEGAL result message.
func parseAmount(field string, a gateway.Amount) (amt, error) {
	if a.Currency == "" {
		return amt{}, fmt.Errorf("%s.currency is required", field)
	}
	if a.Value == "" {
		return amt{}, fmt.Errorf("%s.value is required", field)
	}
	m, err := money.ParseMinor(a.Currency, a.Value)
	if err != nil {
		if errors.Is(err, money.ErrUnknownCurrency) {
			return amt{}, fmt.Errorf("%s.currency: %v", field, err)
		}
		return amt{}, fmt.Errorf("%s.value: %v", field, err)
	}
	return fromMoney(m), nil
}

// Kinds of method-rule violations.
const (
	ruleBelowMinimum = "below-minimum"
	ruleNotMultiple  = "not-multiple"
)

// checkMethodRules checks an amount against the wallet's minimum and step
// rules (money.CheckMethodRules). It returns the kind of violation and a
// message, or "" when fine.
func checkMethodRules(method string, a amt) (kind, msg string) {
	m, err := a.money()
	if err != nil {
		return "", ""
	}
	err = money.CheckMethodRules(method, m)
	switch {
	case err == nil:
		return "", ""
	case errors.Is(err, money.ErrBelowMinimum):
		return ruleBelowMinimum, err.Error()
	case errors.Is(err, money.ErrNotMultiple):
		return ruleNotMultiple, err.Error()
	}
	return ruleNotMultiple, err.Error()
}
