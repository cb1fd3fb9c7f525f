package money

import (
	"errors"
	"testing"
)

func TestParseSignedMajor(t *testing.T) {
	for _, tc := range []struct {
		cur, in string
		minor   int64
		major   string
		err     error
	}{
		{"HKD", "10.50", 1050, "10.50", nil},
		{"HKD", "-10.5", -1050, "-10.50", nil},
		{"HKD", "0", 0, "0.00", nil},
		{"HKD", "-0.00", 0, "0.00", nil},
		{"JPY", "-1000", -1000, "-1000", nil},
		{"KWD", "-0.001", -1, "-0.001", nil},
		{"HKD", "0.05", 5, "0.05", nil},
		{"HKD", "1.234", 0, "", ErrTooPrecise},
		{"JPY", "-1.5", 0, "", ErrTooPrecise},
		{"HKD", "--1", 0, "", ErrInvalidFormat},
		{"HKD", "+1", 0, "", ErrInvalidFormat},
		{"HKD", "", 0, "", ErrInvalidFormat},
		{"HKD", "-", 0, "", ErrInvalidFormat},
		{"HKD", "1e3", 0, "", ErrInvalidFormat},
		{"XXX", "1", 0, "", ErrUnknownCurrency},
		{"HKD", "-99999999999999999", 0, "", ErrTooLarge},
	} {
		s, err := ParseSignedMajor(tc.cur, tc.in)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%s %q: err %v, want %v", tc.cur, tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: %v", tc.cur, tc.in, err)
			continue
		}
		if s.Minor() != tc.minor || s.Major() != tc.major || s.Currency() != tc.cur {
			t.Errorf("%s %q: got %s (%d), want %s (%d)", tc.cur, tc.in, s, s.Minor(), tc.major, tc.minor)
		}
	}
}

func TestSignedAdd(t *testing.T) {
	a, _ := ParseSignedMajor("USD", "14.50")
	b, _ := ParseSignedMajor("USD", "-7.25")
	c, err := a.Add(b)
	if err != nil || c.Major() != "7.25" {
		t.Fatalf("14.50 + -7.25 = %v, %v", c, err)
	}
	j, _ := ParseSignedMajor("JPY", "1")
	if _, err := a.Add(j); !errors.Is(err, ErrCurrencyMismatch) {
		t.Fatalf("USD + JPY: %v", err)
	}
	big, _ := SignedMinor("USD", MaxMinor)
	if _, err := big.Add(big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("overflow: %v", err)
	}
	if n := b.Neg(); n.Major() != "7.25" || b.Abs().Major() != "7.25" {
		t.Fatalf("neg/abs: %s %s", n, b.Abs())
	}
}
