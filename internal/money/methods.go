package money

import "fmt"

// Per-payment-method amount rules of the gateway, from the Cashier Payment
// pay API documentation (amount usage rules). They are shared by the
// simulator, which enforces them, and by the controller, which fails fast
// instead of sending a request the gateway would refuse.
//
// Method names are the gateway's paymentMethodType values, matched exactly
// (upper-case). A rule applies only to amounts in the currency it names: an
// amount in another currency is not checked against it, since there is no
// exchange rate here.

// methodMinimums holds the smallest amount each method accepts, in major
// units; the same minimum applies to payments and to refunds.
var methodMinimums = map[string]Amount{
	"TRUEMONEY": mustParseMajor("THB", "1"),
	"ALIPAY_HK": mustParseMajor("HKD", "0.1"),
	"TNG":       mustParseMajor("MYR", "0.1"),
	"GCASH":     mustParseMajor("PHP", "1"),
	"DANA":      mustParseMajor("IDR", "300"),
	"BKASH":     mustParseMajor("BDT", "0.01"),
	"EASYPAISA": mustParseMajor("PKR", "100"),
	"KAKAOPAY":  mustParseMajor("KRW", "50"),
}

// methodSteps holds, for a method and currency, the number of minor units
// every amount must be a multiple of.
var methodSteps = map[string]struct {
	currency string
	step     int64
}{
	// JKOPay takes no fractional TWD: the wire value must end in "00", so
	// TWD 1.00 ("100") is fine and TWD 1.10 ("110") is not.
	"JKOPAY": {"TWD", 100},
	// Octopus takes HKD in multiples of 10 cents: the wire value must end
	// in "0".
	"OCTOPUS": {"HKD", 10},
}

func mustParseMajor(currency, value string) Amount {
	a, err := ParseMajor(currency, value)
	if err != nil {
		panic("money: bad built-in amount: " + err.Error())
	}
	return a
}

// MinimumFor returns the smallest payment or refund amount that the payment
// method accepts in the currency, e.g. HKD 0.10 for ALIPAY_HK. The boolean
// is false when the method has no minimum of its own in that currency.
func MinimumFor(paymentMethodType, currency string) (Amount, bool) {
	m, ok := methodMinimums[paymentMethodType]
	if !ok || m.currency != currency {
		return Amount{}, false
	}
	return m, true
}

// CheckMethodRules checks a payment or refund amount against the payment
// method's own rules. It returns an error wrapping ErrBelowMinimum if the
// amount is below the method's minimum (see MinimumFor), or ErrNotMultiple
// if the method requires amounts in steps (JKOPAY: whole TWD; OCTOPUS: HKD in
// multiples of 0.10). Methods without rules, and amounts in a currency a
// rule does not name, pass.
func CheckMethodRules(paymentMethodType string, a Amount) error {
	if m, ok := MinimumFor(paymentMethodType, a.currency); ok && a.minor < m.minor {
		return newError(ErrBelowMinimum, fmt.Sprintf(
			"%s is below the minimum of %s for payment method %s", a, m, paymentMethodType))
	}
	if r, ok := methodSteps[paymentMethodType]; ok && r.currency == a.currency && a.minor%r.step != 0 {
		step := Amount{currency: a.currency, minor: r.step, exp: a.exp}
		return newError(ErrNotMultiple, fmt.Sprintf(
			"%s is not a multiple of %s, as payment method %s requires", a, step, paymentMethodType))
	}
	return nil
}
