package v1alpha1

import "github.com/cashier-operator/cashier-operator/internal/money"

// Amount is m as a typed amount: the one place an API amount is parsed.
// A value the currency cannot hold is an error (internal/money's, which
// names the value and the currency), never a zero.
func (m Money) Amount() (money.Amount, error) { return money.ParseMajor(m.Currency, m.Value) }
