package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const testAPIKey = "isak_TEST_U0FOREJPWF9BUElLRVk_5f2c9a0d1b7e4c3a8f6e2d1c0b9a8f7e"

func TestParseAPIKey(t *testing.T) {
	tests := []struct {
		in        string
		ok        bool
		kind, env string
		prefix    string
	}{
		{testAPIKey, true, APIKeyStandard, APIKeyEnvTest, PrefixSandbox},
		{"irak_PROD_QUJD_secret-with_underscores", true, APIKeyRestricted, APIKeyEnvLive, PrefixProduction},
		{"isak_LIVE_QUJD_secret", false, "", "", ""},
		{"sk_TEST_QUJD_secret", false, "", "", ""},
		{"isak_TEST__secret", false, "", "", ""},
		{"isak_TEST_QUJD_", false, "", "", ""},
		{"isak_TEST_QUJD_sec ret", false, "", "", ""},
		{"", false, "", "", ""},
	}
	for _, tt := range tests {
		k, err := ParseAPIKey(tt.in)
		if (err == nil) != tt.ok || k.Kind != tt.kind || k.Env != tt.env || (tt.ok && k.Prefix() != tt.prefix) {
			t.Errorf("ParseAPIKey(%q) = %+v, %v", tt.in, k, err)
		}
		if err != nil && tt.in != "" && strings.Contains(err.Error(), tt.in) {
			t.Errorf("the error names the input: %v", err)
		}
	}
}

// TestAPIKeyNeverPrinted: the key, the configuration holding it and the
// client never print the secret, whatever the verb.
func TestAPIKeyNeverPrinted(t *testing.T) {
	k, err := ParseAPIKey(testAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Endpoint: "http://127.0.0.1:1", ClientID: "SANDBOX_APIKEY", APIKey: k}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	secret := testAPIKey[strings.LastIndex(testAPIKey, "_")+1:]
	for _, v := range []any{k, &k, cfg, &cfg, c} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, secret) {
				t.Errorf("%s of %T shows the secret: %s", verb, v, out)
			}
		}
	}
	if h := APIKeyHint(testAPIKey); h != "isak_TEST_…8f7e" {
		t.Errorf("hint %q", h)
	}
}

func TestAPIKeyConfig(t *testing.T) {
	k, _ := ParseAPIKey(testAPIKey)
	key, _, _ := testKeys(t)
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
		path    string
	}{
		{"TEST key: the sandbox prefix", Config{APIKey: k}, "", "/ams/sandbox/api/v1/payments/pay"},
		{"defaulted production prefix follows the key", Config{APIKey: k, PathPrefix: PrefixProduction}, "", "/ams/sandbox/api/v1/payments/pay"},
		{"Alipay+ takes no API key", Config{APIKey: k, PathPrefix: PrefixAlipayPlus}, "API keys authenticate the Antom APIs", ""},
		{"both credentials", Config{APIKey: k, PrivateKey: key}, "exactly one of them", ""},
		{"neither credential", Config{}, "PrivateKey (merchant RSA key) is required", ""},
		{"unparsed key", Config{APIKey: APIKey{value: "nonsense"}}, "not an API key", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Endpoint, tt.cfg.ClientID = "http://127.0.0.1:1", "SANDBOX_APIKEY"
			c, err := New(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || c.Path(APIPay) != tt.path || !c.UsesAPIKey() {
				t.Fatalf("%v: path %s", err, c.Path(APIPay))
			}
		})
	}
}

// TestAPIKeyRequest: an API-key request carries the Bearer header and no
// signature headers; an unsigned answer is accepted, and a 401 refusal
// with a result is a terminal ResultError whose text hides the key.
func TestAPIKeyRequest(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.Header().Set("Content-Type", ContentTypeJSON)
		if r.URL.Path != "/ams/sandbox/api/v1/payments/inquiryPayment" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"result":{"resultCode":"OAUTH_FAIL","resultStatus":"F","resultMessage":"key %s refused"}}`, testAPIKey)
			return
		}
		fmt.Fprint(w, `{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"paymentStatus":"PROCESSING"}`)
	}))
	defer srv.Close()
	k, _ := ParseAPIKey(testAPIKey)
	c, err := New(Config{Endpoint: srv.URL, ClientID: "SANDBOX_APIKEY", APIKey: k, Retry: RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.InquiryPayment(context.Background(), &InquiryPaymentRequest{PaymentRequestID: "p1"})
	if err != nil || resp.PaymentStatus != PaymentStatusProcessing {
		t.Fatalf("%+v %v", resp, err)
	}
	if got.Get("Authorization") != "Bearer "+testAPIKey {
		t.Errorf("Authorization %q", got.Get("Authorization"))
	}
	for _, h := range []string{HeaderSignature, HeaderRequestTime, HeaderClientID, "Key-Version"} {
		if got.Get(h) != "" {
			t.Errorf("API-key request carries %s", h)
		}
	}
	_, err = c.Refund(context.Background(), &RefundRequest{RefundRequestID: "r1", PaymentID: "x", RefundAmount: Amount{Currency: "USD", Value: "1"}})
	if !CredentialsRejected(err) || !IsTerminal(err) || strings.Contains(err.Error(), "5f2c9a0d") {
		t.Fatalf("refusal: %v", err)
	}
}
