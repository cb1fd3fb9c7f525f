package money_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/cashier-operator/cashier-operator/internal/money"
)

func mustMajor(t testing.TB, currency, value string) money.Amount {
	t.Helper()
	a, err := money.ParseMajor(currency, value)
	if err != nil {
		t.Fatalf("ParseMajor(%q, %q): %v", currency, value, err)
	}
	return a
}

func mustMinor(t testing.TB, currency, value string) money.Amount {
	t.Helper()
	a, err := money.ParseMinor(currency, value)
	if err != nil {
		t.Fatalf("ParseMinor(%q, %q): %v", currency, value, err)
	}
	return a
}

// checkErr fails unless err wraps want (nil means no error expected).
func checkErr(t *testing.T, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want one wrapping %q", err, want)
	}
	if err.Error() == "" {
		t.Fatalf("empty error message")
	}
}

func TestExponent(t *testing.T) {
	tests := []struct {
		code string
		want int
		err  error
	}{
		{"JPY", 0, nil}, {"KRW", 0, nil}, {"VND", 0, nil}, {"CLP", 0, nil},
		{"ISK", 0, nil}, {"XOF", 0, nil}, {"UYI", 0, nil},
		{"HKD", 2, nil}, {"USD", 2, nil}, {"IDR", 2, nil}, {"EUR", 2, nil},
		{"TWD", 2, nil}, {"HUF", 2, nil}, {"XCG", 2, nil}, {"ZWG", 2, nil},
		{"BHD", 3, nil}, {"KWD", 3, nil}, {"JOD", 3, nil}, {"TND", 3, nil},
		{"CLF", 4, nil}, {"UYW", 4, nil},
		{"hkd", 0, money.ErrUnknownCurrency},
		{"Hkd", 0, money.ErrUnknownCurrency},
		{"", 0, money.ErrUnknownCurrency},
		{"HK", 0, money.ErrUnknownCurrency},
		{"HKDD", 0, money.ErrUnknownCurrency},
		{" HKD", 0, money.ErrUnknownCurrency},
		{"ZZZ", 0, money.ErrUnknownCurrency},
		{"HRK", 0, money.ErrUnknownCurrency}, // withdrawn 2023
		{"XAU", 0, money.ErrUnknownCurrency}, // metals and units: no minor unit
		{"XAG", 0, money.ErrUnknownCurrency},
		{"XPT", 0, money.ErrUnknownCurrency},
		{"XPD", 0, money.ErrUnknownCurrency},
		{"XDR", 0, money.ErrUnknownCurrency},
		{"XBA", 0, money.ErrUnknownCurrency},
		{"XBD", 0, money.ErrUnknownCurrency},
		{"XSU", 0, money.ErrUnknownCurrency},
		{"XUA", 0, money.ErrUnknownCurrency},
		{"XTS", 0, money.ErrUnknownCurrency},
		{"XXX", 0, money.ErrUnknownCurrency},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			got, err := money.Exponent(tt.code)
			checkErr(t, err, tt.err)
			if got != tt.want {
				t.Errorf("Exponent(%q) = %d, want %d", tt.code, got, tt.want)
			}
		})
	}
}

func TestLookupCurrencyMessages(t *testing.T) {
	tests := map[string]string{
		"hkd": `unknown currency "hkd": currency codes are upper-case (did you mean "HKD"?)`,
		"XAU": `unknown currency "XAU": not an active ISO 4217 currency with a minor unit`,
		"H1D": `unknown currency "H1D": a currency code is three upper-case letters, e.g. "HKD"`,
	}
	for code, want := range tests {
		_, err := money.LookupCurrency(code)
		if err == nil || err.Error() != want {
			t.Errorf("LookupCurrency(%q) error = %v, want %q", code, err, want)
		}
	}
	c, err := money.LookupCurrency("KWD")
	if err != nil || c != (money.Currency{Code: "KWD", Exponent: 3}) {
		t.Errorf("LookupCurrency(KWD) = %v, %v", c, err)
	}
}

func TestCurrencyTable(t *testing.T) {
	all := money.Currencies()
	if n := len(all); n < 155 || n > 180 {
		t.Fatalf("table has %d currencies, want 155..180", n)
	}
	// Every code that is not 2 decimals, exactly.
	wantOdd := map[string]int{
		"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
		"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
		"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
		"CLF": 4, "UYW": 4,
	}
	seen := map[string]bool{}
	for i, c := range all {
		if i > 0 && all[i-1].Code >= c.Code {
			t.Errorf("not sorted/unique at %s", c.Code)
		}
		seen[c.Code] = true
		if want, ok := wantOdd[c.Code]; ok {
			if c.Exponent != want {
				t.Errorf("%s exponent %d, want %d", c.Code, c.Exponent, want)
			}
		} else if c.Exponent != 2 {
			t.Errorf("%s exponent %d, want 2", c.Code, c.Exponent)
		}
		if e, err := money.Exponent(c.Code); err != nil || e != c.Exponent {
			t.Errorf("Exponent(%s) = %d, %v", c.Code, e, err)
		}
	}
	for code := range wantOdd {
		if !seen[code] {
			t.Errorf("%s missing from the table", code)
		}
	}
	for _, code := range []string{"USD", "EUR", "GBP", "CNY", "HKD", "SGD", "THB", "MYR", "PHP",
		"IDR", "BDT", "PKR", "TWD", "AUD", "CAD", "BRL", "MXN", "NZD", "PEN", "PLN", "CHF"} {
		if !seen[code] {
			t.Errorf("%s missing from the table", code)
		}
	}
	// Currencies returns a copy.
	all[0].Exponent = 9
	if money.Currencies()[0].Exponent == 9 {
		t.Error("Currencies() exposes the table")
	}
}

func TestParseMajor(t *testing.T) {
	tests := []struct {
		cur, in string
		minor   int64
		major   string // canonical form; "" when an error is expected
		err     error
	}{
		// HKD, 2 decimals.
		{"HKD", "10.50", 1050, "10.50", nil},
		{"HKD", "10.5", 1050, "10.50", nil},
		{"HKD", "10", 1000, "10.00", nil},
		{"HKD", "0.1", 10, "0.10", nil},
		{"HKD", "0.01", 1, "0.01", nil},
		{"HKD", "1", 100, "1.00", nil},
		{"HKD", "10.500", 1050, "10.50", nil},                 // trailing zeros beyond the exponent are allowed
		{"HKD", "10.5000000000000000000", 1050, "10.50", nil}, // however many
		{"HKD", "0.010", 1, "0.01", nil},
		{"USD", "1234.56", 123456, "1234.56", nil},
		{"IDR", "300", 30000, "300.00", nil},
		{"IDR", "0.01", 1, "0.01", nil},
		// 0 decimals.
		{"JPY", "1000", 1000, "1000", nil},
		{"JPY", "1000.0", 1000, "1000", nil},
		{"JPY", "1", 1, "1", nil},
		{"KRW", "50", 50, "50", nil},
		// 3 decimals.
		{"KWD", "1.25", 1250, "1.250", nil},
		{"KWD", "1.250", 1250, "1.250", nil},
		{"BHD", "0.001", 1, "0.001", nil},
		{"BHD", "12.345", 12345, "12.345", nil},
		// 4 decimals.
		{"CLF", "0.0001", 1, "0.0001", nil},
		{"CLF", "2.5", 25000, "2.5000", nil},
		// Size limit: 16 digits in minor units.
		{"HKD", "99999999999999.99", money.MaxMinor, "99999999999999.99", nil},
		{"HKD", "99999999999999.990", money.MaxMinor, "99999999999999.99", nil},
		{"HKD", "100000000000000", 0, "", money.ErrTooLarge},
		{"HKD", "100000000000000.00", 0, "", money.ErrTooLarge},
		{"JPY", "9999999999999999", money.MaxMinor, "9999999999999999", nil},
		{"JPY", "10000000000000000", 0, "", money.ErrTooLarge},
		{"KWD", "9999999999999.999", money.MaxMinor, "9999999999999.999", nil},
		{"KWD", "10000000000000", 0, "", money.ErrTooLarge},
		{"CLF", "999999999999.9999", money.MaxMinor, "999999999999.9999", nil},
		{"CLF", "1000000000000", 0, "", money.ErrTooLarge},
		{"JPY", "99999999999999999999999999999999", 0, "", money.ErrTooLarge},
		// Too precise.
		{"HKD", "1.234", 0, "", money.ErrTooPrecise},
		{"HKD", "1.2340", 0, "", money.ErrTooPrecise},
		{"HKD", "0.001", 0, "", money.ErrTooPrecise},
		{"JPY", "1.5", 0, "", money.ErrTooPrecise},
		{"KRW", "50.01", 0, "", money.ErrTooPrecise},
		{"KWD", "1.2345", 0, "", money.ErrTooPrecise},
		{"CLF", "1.00001", 0, "", money.ErrTooPrecise},
		// Not positive.
		{"HKD", "0", 0, "", money.ErrNotPositive},
		{"HKD", "0.00", 0, "", money.ErrNotPositive},
		{"HKD", "0.000", 0, "", money.ErrNotPositive},
		{"JPY", "0", 0, "", money.ErrNotPositive},
		{"HKD", "-5", 0, "", money.ErrNotPositive},
		{"HKD", "-0.01", 0, "", money.ErrNotPositive},
		{"HKD", "-0", 0, "", money.ErrNotPositive},
		// Invalid format.
		{"HKD", "", 0, "", money.ErrInvalidFormat},
		{"HKD", "+5", 0, "", money.ErrInvalidFormat},
		{"HKD", "--5", 0, "", money.ErrInvalidFormat},
		{"HKD", "-", 0, "", money.ErrInvalidFormat},
		{"HKD", "-x", 0, "", money.ErrInvalidFormat},
		{"HKD", "1e3", 0, "", money.ErrInvalidFormat},
		{"HKD", "1E3", 0, "", money.ErrInvalidFormat},
		{"HKD", "1.5e1", 0, "", money.ErrInvalidFormat},
		{"HKD", " 10", 0, "", money.ErrInvalidFormat},
		{"HKD", "10 ", 0, "", money.ErrInvalidFormat},
		{"HKD", "10\n", 0, "", money.ErrInvalidFormat},
		{"HKD", "1 000", 0, "", money.ErrInvalidFormat},
		{"HKD", ".5", 0, "", money.ErrInvalidFormat},
		{"HKD", "5.", 0, "", money.ErrInvalidFormat},
		{"HKD", ".", 0, "", money.ErrInvalidFormat},
		{"HKD", "1.2.3", 0, "", money.ErrInvalidFormat},
		{"HKD", "1,000", 0, "", money.ErrInvalidFormat},
		{"HKD", "1_000", 0, "", money.ErrInvalidFormat},
		{"HKD", "1,5", 0, "", money.ErrInvalidFormat},
		{"HKD", "abc", 0, "", money.ErrInvalidFormat},
		{"HKD", "10a", 0, "", money.ErrInvalidFormat},
		{"HKD", "0x10", 0, "", money.ErrInvalidFormat},
		{"HKD", "010", 0, "", money.ErrInvalidFormat},
		{"HKD", "00.5", 0, "", money.ErrInvalidFormat},
		{"HKD", "NaN", 0, "", money.ErrInvalidFormat},
		{"HKD", "Inf", 0, "", money.ErrInvalidFormat},
		{"HKD", "١٠", 0, "", money.ErrInvalidFormat}, // Arabic-Indic digits
		{"HKD", "１０", 0, "", money.ErrInvalidFormat}, // full-width digits
		// Unknown currency is checked first.
		{"hkd", "10", 0, "", money.ErrUnknownCurrency},
		{"XAU", "10", 0, "", money.ErrUnknownCurrency},
		{"", "10", 0, "", money.ErrUnknownCurrency},
	}
	for _, tt := range tests {
		t.Run(tt.cur+"/"+tt.in, func(t *testing.T) {
			a, err := money.ParseMajor(tt.cur, tt.in)
			checkErr(t, err, tt.err)
			if vErr := money.Validate(tt.cur, tt.in); (vErr == nil) != (err == nil) || (err != nil && vErr.Error() != err.Error()) {
				t.Errorf("Validate = %v, ParseMajor error = %v", vErr, err)
			}
			if tt.err != nil {
				if a != (money.Amount{}) {
					t.Errorf("got %v with an error", a)
				}
				return
			}
			if a.Currency() != tt.cur || a.Minor() != tt.minor {
				t.Errorf("got %s %d, want %s %d", a.Currency(), a.Minor(), tt.cur, tt.minor)
			}
			if got := a.Major(); got != tt.major {
				t.Errorf("Major() = %q, want %q", got, tt.major)
			}
		})
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		cur, in, want string
	}{
		{"HKD", "1.234", `amount "1.234" has 3 decimal places but HKD allows at most 2`},
		{"HKD", "1.2340", `amount "1.2340" has 3 decimal places but HKD allows at most 2`},
		{"JPY", "1.5", `amount "1.5" has 1 decimal place but JPY allows none`},
		{"HKD", "100000000000000", `amount "100000000000000" is too large: HKD amounts are at most 99999999999999.99`},
		{"HKD", "0.00", `amount "0.00" must be greater than zero`},
		{"HKD", "-1", `amount "-1" must be greater than zero`},
		{"HKD", "", `amount is empty`},
		{"HKD", "1e3", `amount "1e3" is not a plain decimal number like "10.50": it must not use exponent notation`},
		{"HKD", " 1", `amount " 1" is not a plain decimal number like "10.50": it must not contain spaces`},
		{"HKD", ".5", `amount ".5" is not a plain decimal number like "10.50": it must have a digit before the decimal point`},
		{"HKD", "5.", `amount "5." must have a digit after the decimal point`},
		{"HKD", "+5", `amount "+5" is not a plain decimal number like "10.50": it must not have a sign`},
		{"HKD", "010", `amount "010" must not have leading zeros`},
		{"HKD", "1$", `amount "1$" is not a plain decimal number like "10.50": it contains the unexpected character '$'`},
	}
	for _, tt := range tests {
		err := money.Validate(tt.cur, tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Validate(%q, %q) = %v, want %q", tt.cur, tt.in, err, tt.want)
		}
	}
	// A huge input is not echoed in full.
	long := strings.Repeat("9", 10000)
	if err := money.Validate("HKD", long); err == nil || len(err.Error()) > 200 {
		t.Errorf("long input: error %d bytes: %.200v", len(err.Error()), err)
	}
}

func TestParseMinor(t *testing.T) {
	tests := []struct {
		cur, in string
		major   string
		err     error
	}{
		{"HKD", "100", "1.00", nil},
		{"HKD", "1", "0.01", nil},
		{"HKD", "1050", "10.50", nil},
		{"JPY", "1000", "1000", nil},
		{"KWD", "1250", "1.250", nil},
		{"BHD", "5", "0.005", nil},
		{"CLF", "1", "0.0001", nil},
		{"IDR", "30000", "300.00", nil},
		{"HKD", "9999999999999999", "99999999999999.99", nil},
		{"HKD", "10000000000000000", "", money.ErrTooLarge},
		{"HKD", "99999999999999999999999", "", money.ErrTooLarge},
		{"HKD", "0", "", money.ErrNotPositive},
		{"HKD", "-1", "", money.ErrNotPositive},
		{"HKD", "-0", "", money.ErrNotPositive},
		{"HKD", "", "", money.ErrInvalidFormat},
		{"HKD", "-", "", money.ErrInvalidFormat},
		{"HKD", "+1", "", money.ErrInvalidFormat},
		{"HKD", "0100", "", money.ErrInvalidFormat},
		{"HKD", "00", "", money.ErrInvalidFormat},
		{"HKD", "1.0", "", money.ErrInvalidFormat},
		{"HKD", "1e2", "", money.ErrInvalidFormat},
		{"HKD", " 1", "", money.ErrInvalidFormat},
		{"HKD", "1 ", "", money.ErrInvalidFormat},
		{"HKD", "abc", "", money.ErrInvalidFormat},
		{"hkd", "100", "", money.ErrUnknownCurrency},
		{"XXX", "100", "", money.ErrUnknownCurrency},
	}
	for _, tt := range tests {
		t.Run(tt.cur+"/"+tt.in, func(t *testing.T) {
			a, err := money.ParseMinor(tt.cur, tt.in)
			checkErr(t, err, tt.err)
			if tt.err != nil {
				return
			}
			if got := a.Major(); got != tt.major {
				t.Errorf("Major() = %q, want %q", got, tt.major)
			}
			if got := a.MinorString(); got != tt.in {
				t.Errorf("MinorString() = %q, want %q", got, tt.in)
			}
			w := a.Wire()
			if w != (money.WireAmount{Currency: tt.cur, Value: tt.in}) {
				t.Errorf("Wire() = %+v", w)
			}
			if b, err := money.ParseWire(w); err != nil || b != a {
				t.Errorf("ParseWire(%+v) = %v, %v", w, b, err)
			}
		})
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct {
		a              money.Amount
		major, str, dc string
	}{
		{mustMinor(t, "HKD", "1050"), "10.50", "HKD 10.50", "10.5"},
		{mustMinor(t, "HKD", "5"), "0.05", "HKD 0.05", "0.05"},
		{mustMinor(t, "HKD", "100"), "1.00", "HKD 1.00", "1"},
		{mustMinor(t, "JPY", "1000"), "1000", "JPY 1000", "1000"},
		{mustMinor(t, "KWD", "1250"), "1.250", "KWD 1.250", "1.25"},
		{mustMinor(t, "KWD", "10"), "0.010", "KWD 0.010", "0.01"},
		{mustMinor(t, "CLF", "1"), "0.0001", "CLF 0.0001", "0.0001"},
		{mustMinor(t, "CLF", "12345"), "1.2345", "CLF 1.2345", "1.2345"},
	}
	for _, tt := range tests {
		if got := tt.a.Major(); got != tt.major {
			t.Errorf("Major() = %q, want %q", got, tt.major)
		}
		if got := tt.a.String(); got != tt.str {
			t.Errorf("String() = %q, want %q", got, tt.str)
		}
		if got := tt.a.Decimal(); !got.Equal(decimal.RequireFromString(tt.dc)) {
			t.Errorf("Decimal() = %s, want %s", got, tt.dc)
		}
	}
	for cur, want := range map[string]string{"HKD": "0.00", "JPY": "0", "KWD": "0.000", "CLF": "0.0000"} {
		z, err := money.Zero(cur)
		if err != nil {
			t.Fatal(err)
		}
		if !z.IsZero() || z.Major() != want || z.MinorString() != "0" || z.Currency() != cur {
			t.Errorf("Zero(%s) = %q / %q", cur, z.Major(), z.MinorString())
		}
		// The canonical form of zero is still not a valid positive amount.
		if _, err := money.ParseMajor(cur, z.Major()); !errors.Is(err, money.ErrNotPositive) {
			t.Errorf("ParseMajor(zero) error = %v", err)
		}
	}
	if _, err := money.Zero("usd"); !errors.Is(err, money.ErrUnknownCurrency) {
		t.Errorf("Zero(usd) error = %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	minors := []int64{1, 5, 9, 10, 99, 100, 101, 999, 1000, 1050, 12345, 100000, 123456789, 1000000000000000, money.MaxMinor - 1, money.MaxMinor}
	for _, c := range money.Currencies() {
		for _, m := range minors {
			s := strconv.FormatInt(m, 10)
			a := mustMinor(t, c.Code, s)
			if a.Exponent() != c.Exponent {
				t.Fatalf("%s exponent %d", c.Code, a.Exponent())
			}
			b, err := money.ParseMajor(c.Code, a.Major())
			if err != nil || b != a {
				t.Fatalf("%s %s: Major %q parsed back as %v, %v", c.Code, s, a.Major(), b, err)
			}
			if b.MinorString() != s {
				t.Fatalf("%s: MinorString %q, want %q", c.Code, b.MinorString(), s)
			}
			// Major→Minor→Major through the exact decimal representation.
			d := a.Decimal().Shift(int32(c.Exponent))
			if !d.IsInteger() || d.IntPart() != m {
				t.Fatalf("%s %s: Decimal() = %s", c.Code, s, a.Decimal())
			}
		}
	}
}

// arithAmounts are the amounts the arithmetic tests share: an HKD amount
// from a decimal string, HKD zero and the largest HKD amount, and JPY 100.
func arithAmounts(t *testing.T) (hkd func(string) money.Amount, zeroHKD, maxHKD, jpy money.Amount) {
	t.Helper()
	hkd = func(v string) money.Amount { return mustMajor(t, "HKD", v) }
	zeroHKD, _ = money.Zero("HKD")
	maxHKD = mustMinor(t, "HKD", "9999999999999999")
	jpy = mustMajor(t, "JPY", "100")
	return hkd, zeroHKD, maxHKD, jpy
}

// TestAdd: addition within one currency, up to MaxDigits.
func TestAdd(t *testing.T) {
	hkd, zeroHKD, maxHKD, jpy := arithAmounts(t)
	got, err := hkd("10.50").Add(hkd("0.75"))
	if err != nil || got != hkd("11.25") {
		t.Errorf("10.50 + 0.75 = %v, %v", got, err)
	}
	got, err = zeroHKD.Add(hkd("1"))
	if err != nil || got != hkd("1") {
		t.Errorf("0 + 1 = %v, %v", got, err)
	}
	got, err = maxHKD.Add(zeroHKD)
	if err != nil || got != maxHKD {
		t.Errorf("max + 0 = %v, %v", got, err)
	}
	_, err = maxHKD.Add(hkd("0.01"))
	checkErr(t, err, money.ErrTooLarge)
	_, err = maxHKD.Add(maxHKD)
	checkErr(t, err, money.ErrTooLarge)
	_, err = hkd("1").Add(jpy)
	checkErr(t, err, money.ErrCurrencyMismatch)
	if want := "cannot add HKD 1.00 and JPY 100: the currencies differ"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	_, err = money.Amount{}.Add(money.Amount{})
	checkErr(t, err, money.ErrUnknownCurrency)
}

// TestSub: subtraction never goes below zero.
func TestSub(t *testing.T) {
	hkd, zeroHKD, _, jpy := arithAmounts(t)
	captured, refunded := hkd("100"), hkd("40.25")
	got, err := captured.Sub(refunded)
	if err != nil || got != hkd("59.75") {
		t.Errorf("100 - 40.25 = %v, %v", got, err)
	}
	got, err = captured.Sub(captured)
	if err != nil || !got.IsZero() || got != zeroHKD {
		t.Errorf("100 - 100 = %v, %v", got, err)
	}
	_, err = refunded.Sub(captured)
	checkErr(t, err, money.ErrNegative)
	if want := "HKD 40.25 - HKD 100.00 would be negative"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	_, err = zeroHKD.Sub(hkd("0.01"))
	checkErr(t, err, money.ErrNegative)
	_, err = hkd("1").Sub(jpy)
	checkErr(t, err, money.ErrCurrencyMismatch)
	_, err = hkd("1").Sub(money.Amount{})
	checkErr(t, err, money.ErrUnknownCurrency)
}

// TestCmp: comparison, and LessOrEqual, within one currency.
func TestCmp(t *testing.T) {
	hkd, zeroHKD, _, jpy := arithAmounts(t)
	tests := []struct {
		a, b money.Amount
		cmp  int
	}{
		{hkd("1"), hkd("2"), -1},
		{hkd("2"), hkd("1"), 1},
		{hkd("1.5"), hkd("1.50"), 0},
		{zeroHKD, hkd("0.01"), -1},
		{zeroHKD, zeroHKD, 0},
	}
	for _, tt := range tests {
		got, err := tt.a.Cmp(tt.b)
		if err != nil || got != tt.cmp {
			t.Errorf("Cmp(%v, %v) = %d, %v; want %d", tt.a, tt.b, got, err, tt.cmp)
		}
		le, err := tt.a.LessOrEqual(tt.b)
		if err != nil || le != (tt.cmp <= 0) {
			t.Errorf("LessOrEqual(%v, %v) = %v, %v", tt.a, tt.b, le, err)
		}
	}
	_, err := hkd("1").Cmp(jpy)
	checkErr(t, err, money.ErrCurrencyMismatch)
	le, err := hkd("1").LessOrEqual(jpy)
	checkErr(t, err, money.ErrCurrencyMismatch)
	if le {
		t.Error("LessOrEqual reported true with an error")
	}
}

// TestLedgerSum: decimal fractions add up exactly, unlike floats.
func TestLedgerSum(t *testing.T) {
	hkd, zeroHKD, _, _ := arithAmounts(t)
	total := zeroHKD
	for _, v := range []string{"0.10", "0.20", "0.30", "0.40"} {
		var err error
		if total, err = total.Add(hkd(v)); err != nil {
			t.Fatal(err)
		}
	}
	if total != hkd("1") {
		t.Errorf("0.1+0.2+0.3+0.4 = %v, want HKD 1.00 exactly", total)
	}
}

func TestMethodRules(t *testing.T) {
	tests := []struct {
		method, cur, value string
		err                error
	}{
		{"TRUEMONEY", "THB", "1", nil},
		{"TRUEMONEY", "THB", "0.99", money.ErrBelowMinimum},
		{"ALIPAY_HK", "HKD", "0.1", nil},
		{"ALIPAY_HK", "HKD", "0.09", money.ErrBelowMinimum},
		{"TNG", "MYR", "0.10", nil},
		{"TNG", "MYR", "0.05", money.ErrBelowMinimum},
		{"GCASH", "PHP", "1.00", nil},
		{"GCASH", "PHP", "0.5", money.ErrBelowMinimum},
		{"DANA", "IDR", "300", nil},
		{"DANA", "IDR", "299.99", money.ErrBelowMinimum},
		{"BKASH", "BDT", "0.01", nil},
		{"EASYPAISA", "PKR", "100", nil},
		{"EASYPAISA", "PKR", "99.99", money.ErrBelowMinimum},
		{"KAKAOPAY", "KRW", "50", nil},
		{"KAKAOPAY", "KRW", "49", money.ErrBelowMinimum},
		{"JKOPAY", "TWD", "1", nil},
		{"JKOPAY", "TWD", "100.00", nil},
		{"JKOPAY", "TWD", "1.10", money.ErrNotMultiple},
		{"JKOPAY", "TWD", "1.01", money.ErrNotMultiple},
		{"OCTOPUS", "HKD", "1.10", nil},
		{"OCTOPUS", "HKD", "0.1", nil},
		{"OCTOPUS", "HKD", "1.15", money.ErrNotMultiple},
		// A rule only applies in the currency it names.
		{"TRUEMONEY", "USD", "0.01", nil},
		{"JKOPAY", "USD", "1.01", nil},
		// Methods without rules, and names not matched case-insensitively.
		{"CARD", "HKD", "0.01", nil},
		{"alipay_hk", "HKD", "0.01", nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+"/"+tt.value, func(t *testing.T) {
			checkErr(t, money.CheckMethodRules(tt.method, mustMajor(t, tt.cur, tt.value)), tt.err)
		})
	}

	err := money.CheckMethodRules("ALIPAY_HK", mustMajor(t, "HKD", "0.05"))
	if want := "HKD 0.05 is below the minimum of HKD 0.10 for payment method ALIPAY_HK"; err == nil || err.Error() != want {
		t.Errorf("message %v, want %q", err, want)
	}
	err = money.CheckMethodRules("JKOPAY", mustMajor(t, "TWD", "1.10"))
	if want := "TWD 1.10 is not a multiple of TWD 1.00, as payment method JKOPAY requires"; err == nil || err.Error() != want {
		t.Errorf("message %v, want %q", err, want)
	}

	minimums := []struct{ method, cur, major string }{
		{"TRUEMONEY", "THB", "1.00"}, {"ALIPAY_HK", "HKD", "0.10"}, {"TNG", "MYR", "0.10"},
		{"GCASH", "PHP", "1.00"}, {"DANA", "IDR", "300.00"}, {"BKASH", "BDT", "0.01"},
		{"EASYPAISA", "PKR", "100.00"}, {"KAKAOPAY", "KRW", "50"},
	}
	for _, m := range minimums {
		got, ok := money.MinimumFor(m.method, m.cur)
		if !ok || got.Currency() != m.cur || got.Major() != m.major {
			t.Errorf("MinimumFor(%s, %s) = %v, %v; want %s", m.method, m.cur, got, ok, m.major)
		}
	}
	if _, ok := money.MinimumFor("ALIPAY_HK", "USD"); ok {
		t.Error("MinimumFor(ALIPAY_HK, USD) reported a minimum")
	}
	if _, ok := money.MinimumFor("CARD", "HKD"); ok {
		t.Error("MinimumFor(CARD, HKD) reported a minimum")
	}
}

func TestParseMajorDoesNotAllocate(t *testing.T) {
	var sink money.Amount
	allocs := testing.AllocsPerRun(100, func() {
		sink, _ = money.ParseMajor("HKD", "12345.67")
	})
	if allocs != 0 {
		t.Errorf("ParseMajor allocates %.0f times per call", allocs)
	}
	_ = sink
}

// FuzzRoundTrip checks that, for any currency in the table and any amount
// in range, ParseMinor→Major→ParseMajor gives back the same Amount; and
// that ParseMajor and ParseMinor never panic on arbitrary strings and agree
// with an independent exact decimal parser whenever they accept one.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint(0), int64(1), "10.50")
	f.Add(uint(60), int64(1050), "1e3")
	f.Add(uint(7), int64(-1), "-0.00")
	f.Add(uint(100), money.MaxMinor, "99999999999999.99")
	f.Add(uint(3), int64(9223372036854775807), ".5")
	f.Add(uint(42), int64(-9223372036854775808), "0100")
	f.Add(uint(1), int64(0), "10.5000000")
	currencies := money.Currencies()

	f.Fuzz(func(t *testing.T, idx uint, minor int64, s string) {
		c := currencies[idx%uint(len(currencies))]

		// Map minor into [1, MaxMinor].
		m := minor % money.MaxMinor
		if m < 0 {
			m = -m
		}
		m++
		ms := strconv.FormatInt(m, 10)
		a, err := money.ParseMinor(c.Code, ms)
		if err != nil {
			t.Fatalf("ParseMinor(%s, %s): %v", c.Code, ms, err)
		}
		b, err := money.ParseMajor(c.Code, a.Major())
		if err != nil || b != a {
			t.Fatalf("ParseMajor(%s, %q) = %v, %v; want %v", c.Code, a.Major(), b, err, a)
		}
		if a.MinorString() != ms || a.Minor() != m {
			t.Fatalf("MinorString() = %q, want %q", a.MinorString(), ms)
		}

		// Arbitrary strings: no panic; anything accepted is exact and canonical.
		if p, err := money.ParseMajor(c.Code, s); err == nil {
			d, derr := decimal.NewFromString(s)
			if derr != nil || !d.Equal(p.Decimal()) || !d.IsPositive() {
				t.Fatalf("ParseMajor(%s, %q) = %v, but decimal says %v, %v", c.Code, s, p, d, derr)
			}
			if q, err := money.ParseMajor(c.Code, p.Major()); err != nil || q != p {
				t.Fatalf("canonical form %q of %q does not parse back: %v, %v", p.Major(), s, q, err)
			}
		} else if !errors.Is(err, money.ErrInvalidFormat) && !errors.Is(err, money.ErrNotPositive) &&
			!errors.Is(err, money.ErrTooPrecise) && !errors.Is(err, money.ErrTooLarge) {
			t.Fatalf("ParseMajor(%s, %q): unexpected error kind: %v", c.Code, s, err)
		}
		if p, err := money.ParseMinor(c.Code, s); err == nil && p.MinorString() != s {
			t.Fatalf("ParseMinor(%s, %q) accepted a non-canonical value: %v", c.Code, s, p)
		}
	})
}

func BenchmarkParseMajor(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := money.ParseMajor("HKD", "12345.67"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMajor(b *testing.B) {
	a := mustMajor(b, "HKD", "12345.67")
	b.ReportAllocs()
	for b.Loop() {
		_ = a.Major()
	}
}
