package v1alpha1_test

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/cashier-operator/cashier-operator/internal/money"
)

// TestMoneyRuleMatchesExponentTable keeps the per-currency precision rule in
// the Money CEL validation in step with internal/money's exponent table, the
// single source of truth.
func TestMoneyRuleMatchesExponentTable(t *testing.T) {
	src, err := os.ReadFile("common_types.go")
	if err != nil {
		t.Fatal(err)
	}
	// The rule lists the 0-, 3- and 4-decimal currencies; everything else is 2.
	rule := regexp.MustCompile(`self\.currency in \[([^\]]*)\] \? self\.value\.matches\('\^\[0-9\]\+\(\\\\\\\\\.(\[0-9\]\{0,(\d)\}0\*|0\*)\)\?\$'\)`)
	got := map[string][]string{}
	for _, m := range rule.FindAllStringSubmatch(string(src), -1) {
		exp := m[3]
		if exp == "" {
			exp = "0"
		}
		got[exp] = parseList(m[1])
	}
	want := map[string][]string{}
	for _, c := range money.Currencies() {
		if c.Exponent != 2 {
			e := string(rune('0' + c.Exponent))
			want[e] = append(want[e], c.Code)
		}
	}
	for e := range want {
		sort.Strings(want[e])
	}
	if len(got) != len(want) {
		t.Fatalf("rule has exponent groups %v, table has %v", keys(got), keys(want))
	}
	for e, codes := range want {
		if strings.Join(got[e], ",") != strings.Join(codes, ",") {
			t.Errorf("exponent %s: CEL rule lists %v, money table has %v", e, got[e], codes)
		}
	}
}

// TestCurrencyRuleMatchesTable keeps the list of currencies admission
// accepts equal to internal/money's table.
func TestCurrencyRuleMatchesTable(t *testing.T) {
	src, err := os.ReadFile("common_types.go")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`rule="self in \[([^\]]*)\]",messageExpression="'unknown currency '`).FindStringSubmatch(string(src))
	if m == nil {
		t.Fatal("no currency rule on Money.currency")
	}
	var want []string
	for _, c := range money.Currencies() {
		want = append(want, c.Code)
	}
	sort.Strings(want)
	if got := parseList(m[1]); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("CEL rule lists %d currencies, money table %d:\n%v\n%v", len(got), len(want), got, want)
	}
}

func parseList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		out = append(out, strings.Trim(strings.TrimSpace(f), "'"))
	}
	sort.Strings(out)
	return out
}

func keys(m map[string][]string) []string {
	var k []string
	for e := range m {
		k = append(k, e)
	}
	sort.Strings(k)
	return k
}
