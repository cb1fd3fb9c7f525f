package gatewaysim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// bearerCall posts body to path with an Authorization header and no
// signature, as the SDKs' API-key clients do, and returns the status,
// result and headers of the (unsigned) answer.
func (e *env) bearerCall(path, authorization, clientID, body string) (int, gateway.Result, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", gateway.ContentTypeJSON)
	req.Header.Set("Authorization", authorization)
	if clientID != "" {
		req.Header.Set("Client-Id", clientID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env struct {
		Result gateway.Result `json:"result"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		e.t.Fatalf("answer %s: %v", raw, err)
	}
	return resp.StatusCode, env.Result, resp.Header
}

// TestAPIKeyAuthentication: a merchant's API key in a Bearer header
// replaces the signature; wrong, revoked and wrong-environment keys are
// refused with HTTP 401 and F OAUTH_FAIL, and no answer names the key.
func TestAPIKeyAuthentication(t *testing.T) {
	e := newEnv(t)
	var issued struct{ KeyID, APIKey string }
	if st := e.control("POST", "/_sim/merchants/"+testClientID+"/api-keys", "", &issued); st != 200 {
		t.Fatalf("issue: HTTP %d", st)
	}
	var revoked struct{ KeyID, APIKey string }
	e.control("POST", "/_sim/merchants/"+testClientID+"/api-keys", "", &revoked)
	if st := e.control("DELETE", "/_sim/merchants/"+testClientID+"/api-keys/"+revoked.KeyID, "", nil); st != 200 {
		t.Fatalf("revoke: HTTP %d", st)
	}
	key := issued.APIKey
	sandbox := gateway.PrefixSandbox + gateway.PathInquiryPayment
	body := `{"paymentRequestId":"nope"}`
	tests := []struct {
		name, path, auth, clientID string
		status                     int
		code, msg                  string
	}{
		{"valid key, no signature", sandbox, "Bearer " + key, "", 200, gateway.CodeOrderNotExist, ""},
		{"scheme is case-insensitive", sandbox, "bearer " + key, "", 200, gateway.CodeOrderNotExist, ""},
		{"Client-Id of the key's merchant", sandbox, "Bearer " + key, testClientID, 200, gateway.CodeOrderNotExist, ""},
		{"Client-Id of another merchant", sandbox, "Bearer " + key, "SANDBOX_OTHER", 401, gateway.CodeOAuthFail, "not the API key's merchant"},
		{"production path", gateway.PrefixProduction + gateway.PathInquiryPayment, "Bearer " + key, "", 401, gateway.CodeOAuthFail, "valid under /ams/sandbox/api only"},
		{"live key", sandbox, "Bearer " + strings.Replace(key, "_TEST_", "_PROD_", 1), "", 401, gateway.CodeOAuthFail, "live (PROD) API key"},
		{"unknown key", sandbox, "Bearer " + key[:len(key)-4] + "0000", "", 401, gateway.CodeOAuthFail, "not known"},
		{"revoked key", sandbox, "Bearer " + revoked.APIKey, "", 401, gateway.CodeOAuthFail, "ak-2 (isak_TEST_…"},
		{"not an API key", sandbox, "Bearer secret123", "", 401, gateway.CodeOAuthFail, "not an API key"},
		{"not Bearer", sandbox, "Basic " + key, "", 401, gateway.CodeOAuthFail, `must be "Bearer <API key>"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, res, hdr := e.bearerCall(tc.path, tc.auth, tc.clientID, body)
			if status != tc.status || res.ResultCode != tc.code || !strings.Contains(res.ResultMessage, tc.msg) {
				t.Fatalf("HTTP %d %+v, want %d %s containing %q", status, res, tc.status, tc.code, tc.msg)
			}
			if res.ResultStatus != gateway.Codes[tc.code].Status {
				t.Errorf("resultStatus %s, want %s", res.ResultStatus, gateway.Codes[tc.code].Status)
			}
			if hdr.Get("Signature") != "" {
				t.Errorf("an API-key call was answered signed")
			}
			if strings.Contains(res.ResultMessage, key) || strings.Contains(res.ResultMessage, revoked.APIKey[10:]) {
				t.Errorf("the answer names the key: %s", res.ResultMessage)
			}
			if status == 401 && hdr.Get("WWW-Authenticate") == "" {
				t.Errorf("a 401 without WWW-Authenticate")
			}
		})
	}
}

// TestAPIKeyControl walks issue, list and revoke over the control API, with
// the statuses of bad requests; the list never shows a secret.
func TestAPIKeyControl(t *testing.T) {
	e := newEnv(t)
	base := "/_sim/merchants/" + testClientID + "/api-keys"
	var first, second struct{ KeyID, APIKey, Hint string }
	steps := []struct {
		name, method, path string
		out                any
		status             int
	}{
		{"issue", "POST", base, &first, 200},
		{"issue another (rotation)", "POST", base, &second, 200},
		{"issue for an unknown merchant", "POST", "/_sim/merchants/SANDBOX_NOBODY/api-keys", nil, 404},
		{"revoke the first", "DELETE", base + "/ak-1", nil, 200},
		{"revoke it again", "DELETE", base + "/ak-1", nil, 409},
		{"revoke an unknown key", "DELETE", base + "/ak-9", nil, 404},
		{"revoke for an unknown merchant", "DELETE", "/_sim/merchants/SANDBOX_NOBODY/api-keys/ak-2", nil, 404},
	}
	for _, s := range steps {
		if got := e.control(s.method, s.path, "", s.out); got != s.status {
			t.Fatalf("%s: %s %s: HTTP %d, want %d", s.name, s.method, s.path, got, s.status)
		}
	}
	if _, err := gateway.ParseAPIKey(first.APIKey); err != nil || !strings.HasPrefix(first.APIKey, "isak_TEST_") || first.KeyID != "ak-1" {
		t.Fatalf("issued %q (%s): %v", first.Hint, first.KeyID, err)
	}
	var list struct{ APIKeys []APIKeyInfo }
	if st := e.control("GET", base, "", &list); st != 200 || len(list.APIKeys) != 2 {
		t.Fatalf("list: HTTP %d %+v", st, list)
	}
	if l := list.APIKeys; l[0].KeyID != "ak-1" || !l[0].Revoked || l[1].KeyID != "ak-2" || l[1].Revoked {
		t.Fatalf("list %+v", l)
	}
	raw, _ := json.Marshal(list)
	if strings.Contains(string(raw), first.APIKey[10:]) || strings.Contains(string(raw), second.APIKey[10:]) {
		t.Fatalf("the list shows a secret: %s", raw)
	}
}

// TestAPIKeyClient: the gateway client in API-key mode pays and inquires
// over HTTP; once the key is revoked its calls fail with a terminal
// OAUTH_FAIL that CredentialsRejected recognises, and a new key works.
func TestAPIKeyClient(t *testing.T) {
	e := newEnv(t)
	client := func() *gateway.Client {
		_, raw, err := e.sim.IssueAPIKey(testClientID)
		if err != nil {
			t.Fatal(err)
		}
		k, err := gateway.ParseAPIKey(raw)
		if err != nil {
			t.Fatal(err)
		}
		c, err := gateway.New(gateway.Config{Endpoint: e.srv.URL, ClientID: testClientID, APIKey: k,
			Retry: gateway.RetryPolicy{MaxAttempts: 1, Jitter: func(time.Duration) time.Duration { return 0 }}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := client()
	pay := walletPay("apikey-pay-1", gateway.Amount{Currency: "HKD", Value: "1000"}, "ALIPAY_HK")
	if _, err := c.Pay(e.ctx, pay); !gateway.IsInProcess(err) {
		t.Fatalf("pay under an API key: %v", err)
	}
	inq, err := c.InquiryPayment(e.ctx, &gateway.InquiryPaymentRequest{PaymentRequestID: "apikey-pay-1"})
	if err != nil || inq.PaymentStatus != gateway.PaymentStatusProcessing {
		t.Fatalf("inquiry: %+v %v", inq, err)
	}
	if err := e.sim.RevokeAPIKey(testClientID, "ak-1"); err != nil {
		t.Fatal(err)
	}
	_, err = c.InquiryPayment(e.ctx, &gateway.InquiryPaymentRequest{PaymentRequestID: "apikey-pay-1"})
	var re *gateway.ResultError
	if !errors.As(err, &re) || re.Code != gateway.CodeOAuthFail || !gateway.IsTerminal(err) || !gateway.CredentialsRejected(err) {
		t.Fatalf("revoked key: %v", err)
	}
	if _, err := client().InquiryPayment(e.ctx, &gateway.InquiryPaymentRequest{PaymentRequestID: "apikey-pay-1"}); err != nil {
		t.Fatalf("a new key: %v", err)
	}
}
