package gateway

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRedactJSON(t *testing.T) {
	tests := []struct {
		name      string
		in        []byte
		forbidden []string // must not appear in the output
		want      []string // must appear in the output
	}{
		{
			name: "card pay request",
			in:   mustRead(t, "testdata/pay_card_request.json"),
			forbidden: []string{
				"4111111111111111", "4111 1111 1111 1111", "5500005555555559", "378282246310005",
				`"cvv"`, "987", `"expiryYear"`, `"expiryMonth"`, `"cardholderName"`, "Jane", "Doe",
			},
			want: []string{`"cardNo":"****1111"`, "****5559", "****0005", "pay-req-card-0001", `"zipCode":"94105"`, `"value":"1999"`},
		},
		{
			name:      "declare request",
			in:        mustRead(t, "testdata/declare_request.json"),
			forbidden: []string{"11010119900307451X", "Zhang", `"holderName"`},
			want:      []string{`"certificateNo":"****451X"`, `"certificateType":"ID_CARD"`, "decl-0001"},
		},
		{
			name:      "response with masked card",
			in:        []byte(`{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"cardInfo":{"cardNo":"411111******1111","cardBrand":"VISA"}}`),
			forbidden: []string{"411111"},
			want:      []string{`"cardNo":"****1111"`, "VISA", "SUCCESS"},
		},
		{
			name:      "keys matched case-insensitively, numbers and odd shapes",
			in:        []byte(`{"CardNo":4012888888881881,"CVV":123,"CertificateNo":{"x":"y"},"nested":[{"cvc":"321","pan":"6011111111111117"}]}`),
			forbidden: []string{"4012888888881881", "123", "321", "6011111111111117", `"x"`},
			want:      []string{"****1881", "[redacted]", "****1117"},
		},
		{
			name:      "card token masked like the card number",
			in:        []byte(`{"paymentMethod":{"paymentMethodType":"CARD","paymentMethodMetaData":{"cardToken":"ALIPAYtkn0a1b2c3d4e5f6g7h8i9"}},"CardToken":"tok_live_abcdefgh1234"}`),
			forbidden: []string{"ALIPAYtkn0a1b2c3d4e5f6g7h8", "tok_live_abcdefgh"},
			want:      []string{`"cardToken":"****h8i9"`, `"CardToken":"****1234"`, `"paymentMethodType":"CARD"`},
		},
		{
			name:      "short values fully masked",
			in:        []byte(`{"certificateNo":"1234567"}`),
			forbidden: []string{"1234567", "4567"},
			want:      []string{`"****"`},
		},
		{
			name: "non-card long numbers survive",
			in:   []byte(`{"paymentId":"20240101123456789012","requestTime":"1685599933871"}`),
			want: []string{"20240101123456789012", "1685599933871"},
		},
		{
			name:      "not JSON is never echoed",
			in:        []byte(`cardNo=4111111111111111&cvv=987`),
			forbidden: []string{"4111", "987", "cvv"},
			want:      []string{"not a JSON document"},
		},
		{
			name: "credentials removed, API keys in strings lose their secret",
			in: []byte(`{"apiKey":"isak_TEST_U0FOREJPWA_0123456789abcdef","Authorization":"Bearer isak_TEST_U0FOREJPWA_0123456789abcdef",` +
				`"merchantPrivateKey":"MIIEvQIBADANBg","note":"key irak_PROD_QUJD_feedfacecafe0001 was revoked","clientId":"SANDBOX_X"}`),
			forbidden: []string{"0123456789abcdef", "feedfacecafe0001", "MIIEvQIBADANBg", `"apiKey"`},
			want:      []string{"irak_PROD_[redacted]", `"clientId":"SANDBOX_X"`, `"Authorization":"Bearer [redacted]"`},
		},
		{
			// spec.authorization of a Payment is a boolean, not a credential.
			name: "a payment's authorization flag stays",
			in:   []byte(`{"spec":{"authorization":true,"captureMode":"Manual"}}`),
			want: []string{`"authorization":true`},
		},
		{
			name:      "two JSON documents are not JSON",
			in:        []byte(`{"a":1} {"cardNo":"4111111111111111"}`),
			forbidden: []string{"4111"},
			want:      []string{"not a JSON document"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := string(RedactJSON(tt.in))
			for _, s := range tt.forbidden {
				if strings.Contains(out, s) {
					t.Errorf("output contains %q:\n%s", s, out)
				}
			}
			for _, s := range tt.want {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
			if !json.Valid([]byte(out)) {
				t.Errorf("output is not JSON: %s", out)
			}
		})
	}
	if got := RedactJSON(nil); len(got) != 0 {
		t.Errorf("RedactJSON(nil) = %q", got)
	}
}

func TestScrubPANs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"card 4111111111111111 used", "card ****1111 used"},
		{"card 4111-1111-1111-1111.", "card ****1111."},
		{"4111 1111 1111 1111", "****1111"},
		{"order 12345", "order 12345"},
		{"4111111111111112", "4111111111111112"}, // fails Luhn
		{"id 123456789012345678901234", "id 123456789012345678901234"},
		// Digits glued to letters are a token (a UID, a hex id), not a card.
		{"uid 41111111-1111-1111-1abc-0123456789ab", "uid 41111111-1111-1111-1abc-0123456789ab"},
		{"ref x4111111111111111", "ref x4111111111111111"},
		{"cardNo=4111111111111111;", "cardNo=****1111;"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := scrubPANs(tt.in); got != tt.want {
			t.Errorf("scrubPANs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactTextCredentials(t *testing.T) {
	const key = "isak_TEST_U0FOREJPWA_0123456789abcdef0123"
	tests := []struct{ in, want string }{
		{"gateway answered F/OAUTH_FAIL: key " + key + " revoked", "gateway answered F/OAUTH_FAIL: key isak_TEST_[redacted] revoked"},
		{"Authorization: Bearer " + key, "Authorization: Bearer [redacted]"},
		{"authorization: bearer abc.def.ghi", "authorization: Bearer [redacted]"},
		{`{"k":"` + key + `"}`, `{"k":"isak_TEST_[redacted]"}`},
		{"card 4111111111111111 with irak_PROD_QUJD_x", "card ****1111 with irak_PROD_[redacted]"},
		{"the isak_TEST_ prefix alone", "the isak_TEST_ prefix alone"},
		{"a bear in the woods", "a bear in the woods"},
	}
	for _, tt := range tests {
		if got := RedactText(tt.in); got != tt.want {
			t.Errorf("RedactText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
