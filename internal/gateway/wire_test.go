package gateway

import (
	"encoding/json"
	"testing"
)

// TestQuotePriceDecodesNumberAndString: the official SDK types quotePrice
// as a number; some documentation shows a string. Both decode to the exact
// decimal text, and it is written back as a number.
func TestQuotePriceDecodesNumberAndString(t *testing.T) {
	cases := []struct {
		name, body, want string
		bad              bool
	}{
		{"number", `{"quotePrice":1.0873}`, "1.0873", false},
		{"string", `{"quotePrice":"1.0873"}`, "1.0873", false},
		{"many digits stay exact", `{"quotePrice":0.12345678901234567890}`, "0.12345678901234567890", false},
		{"exponent", `{"quotePrice":1.5e-3}`, "1.5e-3", false},
		{"null", `{"quotePrice":null}`, "", false},
		{"absent", `{}`, "", false},
		{"not a number", `{"quotePrice":"abc"}`, "", true},
		{"boolean", `{"quotePrice":true}`, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var q Quote
			err := json.Unmarshal([]byte(tc.body), &q)
			if tc.bad {
				if err == nil {
					t.Fatalf("decoded %q", q.QuotePrice)
				}
				return
			}
			if err != nil || string(q.QuotePrice) != tc.want {
				t.Fatalf("quotePrice %q, %v; want %q", q.QuotePrice, err, tc.want)
			}
		})
	}
	out, err := json.Marshal(Quote{QuoteID: "q1", QuotePrice: "7.8123"})
	if err != nil || string(out) != `{"quoteId":"q1","quotePrice":7.8123}` {
		t.Fatalf("encoded %s, %v", out, err)
	}
	if out, _ := json.Marshal(Quote{QuoteID: "q1"}); string(out) != `{"quoteId":"q1"}` {
		t.Fatalf("an empty price is written: %s", out)
	}
}
