package gatewaysim

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// This file is the simulator's only contact with amount rules: currency
// exponents, minor-unit parsing and the per-wallet rules. It is written so
// that it can be switched to package internal/money without touching the
// rest of the simulator.

// amt is an exact amount in minor units. Money is never a float here.
type amt struct {
	currency string
	minor    int64
	exp      int
}

func (a amt) wire() *gateway.Amount {
	return &gateway.Amount{Currency: a.currency, Value: strconv.FormatInt(a.minor, 10)}
}

func minorWire(currency string, minor int64) *gateway.Amount {
	return &gateway.Amount{Currency: currency, Value: strconv.FormatInt(minor, 10)}
}

// major renders the amount in major units, e.g. "10.50" for 1050 HKD.
func (a amt) major() string { return formatMajor(a.minor, a.exp) }

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

// maxMinorDigits is the gateway's limit on the wire value (≤16 characters).
const maxMinorDigits = 16

// exponents lists every currency whose exponent is not 2; isoCodes lists the
// 2-decimal ones. Together they are the accepted currencies (ISO 4217; IDR is
// 2 as the gateway's contract says).
var exponents = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	"CLF": 4, "UYW": 4,
}

var twoDecimal = strings.Fields(`AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL
BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD
FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR
LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK
PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP
TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG`)

func init() {
	for _, c := range twoDecimal {
		exponents[c] = 2
	}
}

// currencyExponent returns the number of decimals of a currency.
func currencyExponent(code string) (int, bool) {
	e, ok := exponents[code]
	return e, ok
}

// parseAmount validates a wire amount of the field named field (e.g.
// "paymentAmount") and returns it in minor units. The error message names the
// field and is sent as the PARAM_ILLEGAL result message.
func parseAmount(field string, a gateway.Amount) (amt, error) {
	if a.Currency == "" {
		return amt{}, fmt.Errorf("%s.currency is required", field)
	}
	if a.Value == "" {
		return amt{}, fmt.Errorf("%s.value is required", field)
	}
	exp, ok := currencyExponent(a.Currency)
	if !ok {
		return amt{}, fmt.Errorf("%s.currency %q is not an ISO 4217 currency code", field, a.Currency)
	}
	v := a.Value
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return amt{}, fmt.Errorf("%s.value %q must be a positive integer in minor units (e.g. \"100\" for %s %s)",
				field, v, a.Currency, formatMajor(100, exp))
		}
	}
	if len(v) > 1 && v[0] == '0' {
		return amt{}, fmt.Errorf("%s.value %q must not have leading zeros", field, v)
	}
	if len(v) > maxMinorDigits {
		return amt{}, fmt.Errorf("%s.value %q is longer than %d digits", field, v, maxMinorDigits)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return amt{}, fmt.Errorf("%s.value %q must be greater than zero", field, v)
	}
	return amt{currency: a.Currency, minor: n, exp: exp}, nil
}

// methodMinimum is a wallet's smallest payment and refund amount (pay API
// documentation), in minor units of its own currency.
type methodMinimum struct {
	currency string
	minor    int64
}

var methodMinimums = map[string]methodMinimum{
	"TRUEMONEY": {"THB", 100},   // THB 1
	"ALIPAY_HK": {"HKD", 10},    // HKD 0.1
	"TNG":       {"MYR", 10},    // MYR 0.1
	"GCASH":     {"PHP", 100},   // PHP 1
	"DANA":      {"IDR", 30000}, // IDR 300
	"BKASH":     {"BDT", 1},     // BDT 0.01
	"EASYPAISA": {"PKR", 10000}, // PKR 100
	"KAKAOPAY":  {"KRW", 50},    // KRW 50
}

var methodSteps = map[string]methodMinimum{
	"JKOPAY":  {"TWD", 100}, // whole TWD only
	"OCTOPUS": {"HKD", 10},  // multiples of HKD 0.10
}

// Kinds of method-rule violations.
const (
	ruleBelowMinimum = "below-minimum"
	ruleNotMultiple  = "not-multiple"
)

// checkMethodRules checks an amount against the wallet's minimum and step
// rules. It returns the kind of violation and a message, or "" when fine.
func checkMethodRules(method string, a amt) (kind, msg string) {
	if m, ok := methodMinimums[method]; ok && m.currency == a.currency && a.minor < m.minor {
		return ruleBelowMinimum, fmt.Sprintf("%s %s is below the minimum of %s %s for payment method %s",
			a.currency, a.major(), a.currency, formatMajor(m.minor, a.exp), method)
	}
	if s, ok := methodSteps[method]; ok && s.currency == a.currency && a.minor%s.minor != 0 {
		return ruleNotMultiple, fmt.Sprintf("%s %s is not a multiple of %s %s, as payment method %s requires",
			a.currency, a.major(), a.currency, formatMajor(s.minor, a.exp), method)
	}
	return "", ""
}
