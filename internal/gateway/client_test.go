package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
)

// ---------------------------------------------------------------------------
// Shared fixtures: keys, a fake clock and a signing fake gateway over real HTTP.
// ---------------------------------------------------------------------------

var (
	keysOnce                             sync.Once
	merchantKey, gatewayKey, strangerKey *rsa.PrivateKey
	keysErr                              error
)

// testKeys returns three distinct RSA-2048 keys, generated once per test binary.
func testKeys(t *testing.T) (merchant, gw, other *rsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		for _, k := range []**rsa.PrivateKey{&merchantKey, &gatewayKey, &strangerKey} {
			if *k, keysErr = GenerateKey(); keysErr != nil {
				return
			}
		}
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return merchantKey, gatewayKey, strangerKey
}

type fakeClock struct {
	mu      sync.Mutex
	t       time.Time
	sleeps  []time.Duration
	onSleep func()
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Sleep records d and advances the clock instantly.
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.t = c.t.Add(d)
	hook := c.onSleep
	c.mu.Unlock()
	if hook != nil {
		hook()
	}
	return ctx.Err()
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

type recorded struct {
	Path   string
	Header http.Header
	Body   []byte
}

// reply is what the fake gateway answers. By default: HTTP 200, body signed
// with the gateway key over exactly what is sent.
type reply struct {
	status int
	body   string
	noSig  bool
	key    *rsa.PrivateKey // signing key override
	// overrides of what is signed (default: what is sent)
	signBody   *string
	signPath   string
	signTime   string
	signClient string
	// overrides of what is sent
	clientID   string
	corruptSig bool
	drop       bool // hijack and close the connection without answering
	block      bool // hold the request until the client gives up
	onReceive  func()
}

type fakeGateway struct {
	t          *testing.T
	srv        *httptest.Server
	clientID   string
	wantPrefix string
	merchant   *rsa.PublicKey
	gwKey      *rsa.PrivateKey
	handle     func(n int, path string, body []byte) reply

	mu   sync.Mutex
	reqs []recorded
}

func newFakeGateway(t *testing.T, clientID, wantPrefix string, handle func(n int, path string, body []byte) reply) *fakeGateway {
	t.Helper()
	m, g, _ := testKeys(t)
	f := &fakeGateway{t: t, clientID: clientID, wantPrefix: wantPrefix, merchant: &m.PublicKey, gwKey: g, handle: handle}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGateway) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func (f *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("fake gateway: read body: %v", err)
		return
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	n := len(f.reqs)
	f.mu.Unlock()

	// What every request must look like.
	if r.Method != http.MethodPost {
		f.t.Errorf("fake gateway: method %s, want POST", r.Method)
	}
	if !strings.HasPrefix(r.URL.Path, f.wantPrefix+"/v1/") {
		f.t.Errorf("fake gateway: path %q does not start with %q", r.URL.Path, f.wantPrefix+"/v1/")
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=UTF-8" {
		f.t.Errorf("fake gateway: Content-Type %q", ct)
	}
	if cid := r.Header.Get("Client-Id"); cid != f.clientID {
		f.t.Errorf("fake gateway: Client-Id %q, want %q", cid, f.clientID)
	}
	rt := r.Header.Get("Request-Time")
	if _, err := ParseRequestTime(rt); err != nil {
		f.t.Errorf("fake gateway: Request-Time: %v", err)
	}
	if _, err := Verify(f.merchant, r.Header.Get("Signature"), http.MethodPost, r.URL.Path, r.Header.Get("Client-Id"), rt, body); err != nil {
		f.t.Errorf("fake gateway: request signature: %v", err)
	}
	if !json.Valid(body) {
		f.t.Errorf("fake gateway: body is not JSON: %q", body)
	}

	rep := f.handle(n, r.URL.Path, body)
	if rep.onReceive != nil {
		rep.onReceive()
	}
	if rep.block {
		<-r.Context().Done()
		return
	}
	if rep.drop {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			f.t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
		return
	}
	f.writeSigned(w, r.URL.Path, rep)
}

func (f *fakeGateway) writeSigned(w http.ResponseWriter, path string, rep reply) {
	status := rep.status
	if status == 0 {
		status = http.StatusOK
	}
	respTime := FormatRequestTime(time.Now())
	cid := f.clientID
	if rep.clientID != "" {
		cid = rep.clientID
	}
	if !rep.noSig {
		key, sp, st, sc, sb := f.gwKey, path, respTime, cid, rep.body
		if rep.key != nil {
			key = rep.key
		}
		if rep.signPath != "" {
			sp = rep.signPath
		}
		if rep.signTime != "" {
			st = rep.signTime
		}
		if rep.signClient != "" {
			sc = rep.signClient
		}
		if rep.signBody != nil {
			sb = *rep.signBody
		}
		sig, err := Sign(key, "1", http.MethodPost, sp, sc, st, []byte(sb))
		if err != nil {
			f.t.Errorf("sign response: %v", err)
		}
		if rep.corruptSig {
			h, _ := ParseSignatureHeader(sig)
			h.Signature[10] ^= 0xff
			sig = h.String()
		}
		w.Header().Set("Signature", sig)
	}
	w.Header().Set("Client-Id", cid)
	w.Header().Set("Response-Time", respTime)
	w.Header().Set("Content-Type", ContentTypeJSON)
	w.WriteHeader(status)
	io.WriteString(w, rep.body)
}

// newTestClient builds a client for f with a fake clock and deterministic
// jitter (the full ceiling).
func newTestClient(t *testing.T, f *fakeGateway, clk *fakeClock, mods ...func(*Config)) *Client {
	t.Helper()
	m, g, _ := testKeys(t)
	cfg := Config{
		Endpoint:         f.srv.URL,
		ClientID:         f.clientID,
		PrivateKey:       m,
		GatewayPublicKey: &g.PublicKey,
		Now:              clk.Now,
		Sleep:            clk.Sleep,
		Retry:            RetryPolicy{Jitter: func(d time.Duration) time.Duration { return d }},
	}
	for _, mod := range mods {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func resultJSON(code string, extra string) string {
	r := NewResult(code)
	b, _ := json.Marshal(r)
	if extra == "" {
		return `{"result":` + string(b) + `}`
	}
	return `{"result":` + string(b) + `,` + extra + `}`
}

func samplePay() *PayRequest {
	return &PayRequest{
		PaymentRequestID: "pay-0001",
		PaymentAmount:    Amount{Currency: "HKD", Value: "100"},
		PaymentMethod:    PaymentMethod{PaymentMethodType: "ALIPAY_HK"},
		PaymentNotifyURL: "https://merchant.example.com/notify?a=1&b=2",
		Env:              &Env{TerminalType: "WEB"},
	}
}

func assertIdenticalBodies(t *testing.T, reqs []recorded) {
	t.Helper()
	for i := 1; i < len(reqs); i++ {
		if !bytes.Equal(reqs[0].Body, reqs[i].Body) {
			t.Errorf("attempt %d body differs from attempt 1:\n%s\n%s", i+1, reqs[0].Body, reqs[i].Body)
		}
	}
}

// ---------------------------------------------------------------------------
// Config
// ---------------------------------------------------------------------------

func TestNewValidatesConfig(t *testing.T) {
	m, g, _ := testKeys(t)
	good := func() Config {
		return Config{Endpoint: "https://open-sea-global.alipay.com", ClientID: "2188120000000000", PrivateKey: m, GatewayPublicKey: &g.PublicKey}
	}
	tests := []struct {
		name    string
		mod     func(*Config)
		wantErr string // substring; "" = valid
	}{
		{"valid", func(*Config) {}, ""},
		{"valid with port and trailing slash", func(c *Config) { c.Endpoint = "http://127.0.0.1:8080/" }, ""},
		{"no endpoint", func(c *Config) { c.Endpoint = "" }, "Endpoint is required"},
		{"bad scheme", func(c *Config) { c.Endpoint = "ftp://x" }, "scheme must be http or https"},
		{"no host", func(c *Config) { c.Endpoint = "https://" }, "has no host"},
		{"endpoint with path", func(c *Config) { c.Endpoint = "https://h/ams/api" }, "PathPrefix"},
		{"endpoint with query", func(c *Config) { c.Endpoint = "https://h?x=1" }, "scheme://host"},
		{"bad prefix", func(c *Config) { c.PathPrefix = "ams/api/" }, "PathPrefix"},
		{"no client id", func(c *Config) { c.ClientID = "" }, "ClientID is required"},
		{"client id with space", func(c *Config) { c.ClientID = "a b" }, "ClientID"},
		{"no private key", func(c *Config) { c.PrivateKey = nil }, "PrivateKey"},
		{"no gateway key", func(c *Config) { c.GatewayPublicKey = nil }, "GatewayPublicKey"},
		{"bad key version", func(c *Config) { c.KeyVersion = "1,2" }, "KeyVersion"},
		{"negative qps", func(c *Config) { c.RateLimit.QPS = -1 }, "QPS"},
		{"burst without qps", func(c *Config) { c.RateLimit.Burst = 3 }, "Burst"},
		{"unknown timeout api", func(c *Config) { c.Timeouts = map[API]time.Duration{"nope": time.Second} }, `unknown API "nope"`},
		{"negative timeout", func(c *Config) { c.Timeouts = map[API]time.Duration{APIPay: -1} }, "Timeouts[pay]"},
		{"negative attempts", func(c *Config) { c.Retry.MaxAttempts = -1 }, "MaxAttempts"},
		{"base over max", func(c *Config) { c.Retry.BaseBackoff = time.Minute; c.Retry.MaxBackoff = time.Second }, "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good()
			tt.mod(&cfg)
			c, err := New(cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if c == nil {
					t.Fatal("nil client")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}

	t.Run("several problems reported together", func(t *testing.T) {
		_, err := New(Config{})
		for _, want := range []string{"Endpoint", "ClientID", "PrivateKey", "GatewayPublicKey"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v does not mention %s", err, want)
			}
		}
	})

	t.Run("defaults", func(t *testing.T) {
		c, err := New(good())
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Path(APIPay); got != "/ams/api/v1/payments/pay" {
			t.Errorf("Path = %q", got)
		}
		if c.timeouts[APIPay] != 8*time.Second || c.timeouts[APIInquiryPayment] != 5*time.Second ||
			c.timeouts[APIDeclare] != 5*time.Second || c.timeouts[APIConsult] != 5*time.Second {
			t.Errorf("timeouts = %v", c.timeouts)
		}
		if c.retry.MaxAttempts != 3 || c.keyVersion != "1" || c.maxBody != 1<<20 {
			t.Errorf("defaults: %+v keyVersion=%q maxBody=%d", c.retry, c.keyVersion, c.maxBody)
		}
	})

	t.Run("small key", func(t *testing.T) {
		small, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			t.Skip("cannot make a 1024-bit key:", err)
		}
		cfg := good()
		cfg.PrivateKey = small
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "2048") {
			t.Errorf("New with 1024-bit key: %v", err)
		}
	})
}

// ---------------------------------------------------------------------------
// The nine APIs over HTTP, with the sandbox prefix rewrite.
// ---------------------------------------------------------------------------

func TestAllAPIs(t *testing.T) {
	type apiCase struct {
		api      API
		respBody string
		call     func(context.Context, *Client) (any, error)
		checkReq func(t *testing.T, m map[string]any)
		check    func(t *testing.T, resp any)
	}
	declareReq := &DeclareRequest{}
	if err := json.Unmarshal(mustRead(t, "testdata/declare_request.json"), declareReq); err != nil {
		t.Fatal(err)
	}
	cases := []apiCase{
		{
			api:      APIConsult,
			respBody: resultJSON(CodeSuccess, `"paymentOptions":[{"paymentMethodType":"CARD","enabled":true},{"paymentMethodType":"ALIPAY_HK","enabled":"false"}]`),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Consult(ctx, &ConsultRequest{PaymentAmount: Amount{"HKD", "100"}, Env: &Env{TerminalType: "WEB"}, AllowedPaymentMethodRegions: []string{"HK"}})
			},
			checkReq: func(t *testing.T, m map[string]any) {
				wantField(t, m, "productCode", "CASHIER_PAYMENT")
				wantField(t, m, "paymentAmount.value", "100")
				wantField(t, m, "env.terminalType", "WEB")
			},
			check: func(t *testing.T, resp any) {
				r := resp.(*ConsultResponse)
				if len(r.PaymentOptions) != 2 || !bool(r.PaymentOptions[0].Enabled) || bool(r.PaymentOptions[1].Enabled) {
					t.Errorf("paymentOptions = %+v", r.PaymentOptions)
				}
			},
		},
		{
			api:      APIPay,
			respBody: resultJSON(CodeSuccess, `"paymentRequestId":"pay-0001","paymentId":"P1","paymentTime":"2024-05-01T20:00:00+08:00"`),
			call:     func(ctx context.Context, c *Client) (any, error) { return c.Pay(ctx, samplePay()) },
			checkReq: func(t *testing.T, m map[string]any) {
				wantField(t, m, "productCode", "CASHIER_PAYMENT")
				wantField(t, m, "paymentRequestId", "pay-0001")
				wantField(t, m, "paymentAmount.currency", "HKD")
				wantField(t, m, "paymentMethod.paymentMethodType", "ALIPAY_HK")
				wantField(t, m, "paymentNotifyUrl", "https://merchant.example.com/notify?a=1&b=2")
			},
			check: func(t *testing.T, resp any) {
				if r := resp.(*PayResponse); r.PaymentID != "P1" || r.Result.ResultCode != CodeSuccess {
					t.Errorf("resp = %+v", r)
				}
			},
		},
		{
			api:      APICapture,
			respBody: resultJSON(CodeSuccess, `"captureRequestId":"cap-1","captureId":"C1","paymentId":"P1"`),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Capture(ctx, &CaptureRequest{CaptureRequestID: "cap-1", PaymentID: "P1", CaptureAmount: Amount{"USD", "500"}, IsLastCapture: BoolPtr(true)})
			},
			checkReq: func(t *testing.T, m map[string]any) {
				wantField(t, m, "captureRequestId", "cap-1")
				wantField(t, m, "paymentId", "P1")
				wantField(t, m, "captureAmount.value", "500")
				wantField(t, m, "isLastCapture", true)
			},
			check: func(t *testing.T, resp any) {
				if r := resp.(*CaptureResponse); r.CaptureID != "C1" {
					t.Errorf("resp = %+v", r)
				}
			},
		},
		{
			api:      APIInquiryPayment,
			respBody: resultJSON(CodeSuccess, `"paymentStatus":"PROCESSING","paymentId":"P1","transactions":[{"transactionType":"CAPTURE","transactionStatus":"SUCCESS","transactionRequestId":"cap-1"}]`),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.InquiryPayment(ctx, &InquiryPaymentRequest{PaymentRequestID: "pay-0001"})
			},
			checkReq: func(t *testing.T, m map[string]any) {
				wantField(t, m, "paymentRequestId", "pay-0001")
				wantAbsent(t, m, "paymentId")
			},
			check: func(t *testing.T, resp any) {
				r := resp.(*InquiryPaymentResponse)
				if r.PaymentStatus != PaymentStatusProcessing || len(r.Transactions) != 1 {
					t.Errorf("resp = %+v", r)
				}
			},
		},
		{
			api:      APICancel,
			respBody: resultJSON(CodeSuccess, `"paymentId":"P1","cancelTime":"2024-05-01T20:00:00+08:00"`),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Cancel(ctx, &CancelRequest{PaymentID: "P1"})
			},
			checkReq: func(t *testing.T, m map[string]any) { wantField(t, m, "paymentId", "P1") },
			check: func(t *testing.T, resp any) {
				if r := resp.(*CancelResponse); r.CancelTime == "" {
					t.Errorf("resp = %+v", r)
				}
			},
		},
		{
			api:      APIRefund,
			respBody: resultJSON(CodeSuccess, `"refundRequestId":"ref-1","refundId":"R1","paymentId":"P1","refundAmount":{"currency":"HKD","value":"50"}`),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Refund(ctx, &RefundRequest{RefundRequestID: "ref-1", PaymentID: "P1", RefundAmount: Amount{"HKD", "50"}, RefundReason: "changed mind"})
			},
			checkReq: func(t *testing.T, m map[string]any) {
				wantField(t, m, "refundRequestId", "ref-1")
				wantField(t, m, "refundAmount.value", "50")
				wantField(t, m, "refundReason", "changed mind")
			},
			check: func(t *testing.T, resp any) {
				if r := resp.(*RefundResponse); r.RefundID != "R1" || r.RefundAmount == nil {
					t.Errorf("resp = %+v", r)
				}
			},
		},
		{
			api:      APIInquiryRefund,
			respBody: resultJSON(CodeSuccess, `"refundId":"R1","refundStatus":"SUCCESS"`),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.InquiryRefund(ctx, &InquiryRefundRequest{RefundRequestID: "ref-1"})
			},
			checkReq: func(t *testing.T, m map[string]any) { wantField(t, m, "refundRequestId", "ref-1") },
			check: func(t *testing.T, resp any) {
				if r := resp.(*InquiryRefundResponse); r.RefundStatus != RefundStatusSuccess {
					t.Errorf("resp = %+v", r)
				}
			},
		},
		{
			api:      APIDeclare,
			respBody: resultJSON(CodeSuccess, `"customsPaymentId":"CP1","identityCheckResult":"CHECK_PASSED"`),
			call:     func(ctx context.Context, c *Client) (any, error) { return c.Declare(ctx, declareReq) },
			checkReq: func(t *testing.T, m map[string]any) {
				wantField(t, m, "declarationRequestId", "decl-0001")
				wantField(t, m, "customs.customsCode", "ZHENGZHOU")
				wantField(t, m, "splitOrder", false)
				wantField(t, m, "buyerCertificate.certificateNo", "11010119900307451X")
			},
			check: func(t *testing.T, resp any) {
				if r := resp.(*DeclareResponse); r.CustomsPaymentID != "CP1" {
					t.Errorf("resp = %+v", r)
				}
			},
		},
		{
			api:      APIInquiryDeclarationRequests,
			respBody: resultJSON(CodeSuccess, `"declarationRequestsNotFound":["d2"],"declarationRecords":[{"declarationRequestId":"d1","declarationRequestStatus":"WAITING_FOR_PROCESSING","splitOrder":"false"}]`),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.InquiryDeclarationRequests(ctx, &InquiryDeclarationRequestsRequest{DeclarationRequestIDs: []string{"d1", "d2"}})
			},
			checkReq: func(t *testing.T, m map[string]any) {
				ids, _ := m["declarationRequestIds"].([]any)
				if len(ids) != 2 || ids[0] != "d1" || ids[1] != "d2" {
					t.Errorf("declarationRequestIds = %v", m["declarationRequestIds"])
				}
			},
			check: func(t *testing.T, resp any) {
				r := resp.(*InquiryDeclarationRequestsResponse)
				if len(r.DeclarationRecords) != 1 || r.DeclarationRecords[0].DeclarationRequestStatus != DeclarationWaiting || len(r.DeclarationRequestsNotFound) != 1 {
					t.Errorf("resp = %+v", r)
				}
			},
		},
		{
			api:      APIAcceptDispute,
			respBody: resultJSON(CodeSuccess, `"disputeId":"D1","disputeResolutionTime":"2024-05-02T10:00:00+08:00"`),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.AcceptDispute(ctx, &AcceptDisputeRequest{DisputeID: "D1"})
			},
			checkReq: func(t *testing.T, m map[string]any) { wantField(t, m, "disputeId", "D1") },
			check: func(t *testing.T, resp any) {
				if r := resp.(*AcceptDisputeResponse); r.DisputeID != "D1" || r.DisputeResolutionTime == "" {
					t.Errorf("resp = %+v", r)
				}
			},
		},
		{
			api:      APISupplyDefenseDocument,
			respBody: resultJSON(CodeSuccess, `"disputeId":"D1","disputeResolutionTime":"2024-05-02T10:00:00+08:00"`),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.SupplyDefenseDocument(ctx, &SupplyDefenseDocumentRequest{DisputeID: "D1", DisputeEvidence: "JVBERi0xLjQK"})
			},
			checkReq: func(t *testing.T, m map[string]any) {
				wantField(t, m, "disputeId", "D1")
				wantField(t, m, "disputeEvidence", "JVBERi0xLjQK")
			},
			check: func(t *testing.T, resp any) {
				if r := resp.(*SupplyDefenseDocumentResponse); r.DisputeID != "D1" {
					t.Errorf("resp = %+v", r)
				}
			},
		},
		{
			api:      APIDownloadDisputeEvidence,
			respBody: resultJSON(CodeSuccess, `"disputeEvidence":"JVBERi0xLjQK","disputeEvidenceFormat":"PDF"`),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.DownloadDisputeEvidence(ctx, &DownloadDisputeEvidenceRequest{DisputeID: "D1", DisputeEvidenceType: EvidenceTemplate})
			},
			checkReq: func(t *testing.T, m map[string]any) {
				wantField(t, m, "disputeId", "D1")
				wantField(t, m, "disputeEvidenceType", "DISPUTE_EVIDENCE_TEMPLATE")
			},
			check: func(t *testing.T, resp any) {
				if r := resp.(*DownloadDisputeEvidenceResponse); r.DisputeEvidence != "JVBERi0xLjQK" || r.DisputeEvidenceFormat != EvidenceFormatPDF {
					t.Errorf("resp = %+v", r)
				}
			},
		},
		{
			api:      APIRegistration,
			respBody: resultJSON(CodeSuccess, `"passThroughInfo":"x"`),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Registration(ctx, &RegistrationRequest{RegistrationRequestID: "R1", ProductCodes: []string{ProductCashierPayment},
					MerchantInfo: &MerchantRegistrationInfo{ReferenceMerchantID: "M1", MerchantMCC: "5812"}})
			},
			checkReq: func(t *testing.T, m map[string]any) {
				wantField(t, m, "registrationRequestId", "R1")
				if mi, _ := m["merchantInfo"].(map[string]any); mi["referenceMerchantId"] != "M1" || mi["merchantMCC"] != "5812" {
					t.Errorf("merchantInfo = %v", m["merchantInfo"])
				}
			},
			check: func(t *testing.T, resp any) {
				if r := resp.(*RegistrationResponse); r.PassThroughInfo != "x" {
					t.Errorf("resp = %+v", r)
				}
			},
		},
		{
			api: APIInquiryRegistrationStatus,
			respBody: resultJSON(CodeSuccess, `"registrationResult":{"registrationStatus":"PENDING"},`+
				`"pspRegistrationResultList":[{"pspName":"ALIPAY_HK","registrationResult":{"registrationStatus":"REJECTED","rejectReasons":"bad MCC"}}]`),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.InquiryRegistrationStatus(ctx, &InquiryRegistrationStatusRequest{RegistrationRequestID: "R1"})
			},
			checkReq: func(t *testing.T, m map[string]any) { wantField(t, m, "registrationRequestId", "R1") },
			check: func(t *testing.T, resp any) {
				r := resp.(*InquiryRegistrationStatusResponse)
				if r.RegistrationResult == nil || r.RegistrationResult.RegistrationStatus != RegistrationPending || len(r.PSPRegistrationResultList) != 1 ||
					r.PSPRegistrationResultList[0].RegistrationResult.RejectReasons != "bad MCC" {
					t.Errorf("resp = %+v", r)
				}
			},
		},
		{
			api:      APIInquiryRegistrationInfo,
			respBody: resultJSON(CodeSuccess, `"merchantInfo":{"referenceMerchantId":"M1","merchantDisplayName":"Shop"},"productCodes":["CASHIER_PAYMENT"]`),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.InquiryRegistrationInfo(ctx, &InquiryRegistrationInfoRequest{ReferenceMerchantID: "M1"})
			},
			checkReq: func(t *testing.T, m map[string]any) { wantField(t, m, "referenceMerchantId", "M1") },
			check: func(t *testing.T, resp any) {
				if r := resp.(*InquiryRegistrationInfoResponse); r.MerchantInfo == nil || r.MerchantInfo.MerchantDisplayName != "Shop" || len(r.ProductCodes) != 1 {
					t.Errorf("resp = %+v", r)
				}
			},
		},
	}
	if len(cases) != len(AllAPIs) {
		t.Fatalf("%d cases for %d APIs", len(cases), len(AllAPIs))
	}

	variants := []struct {
		name, clientID, prefix, wantPrefix string
	}{
		{"production", "2188120000000000", "", PrefixProduction},
		{"sandbox client rewrites prefix", "SANDBOX_5YBZ1Z2ZAG0S07036", "", PrefixSandbox},
		{"sandbox client, explicit production prefix", "SANDBOX_5YBZ1Z2ZAG0S07036", PrefixProduction, PrefixSandbox},
		{"sandbox client keeps alipay+ prefix", "SANDBOX_5YBZ1Z2ZAG0S07036", PrefixAlipayPlus, PrefixAlipayPlus},
		{"explicit sandbox prefix", "2188120000000000", PrefixSandbox, PrefixSandbox},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			var respBody string
			f := newFakeGateway(t, v.clientID, v.wantPrefix, func(int, string, []byte) reply { return reply{body: respBody} })
			c := newTestClient(t, f, newFakeClock(), func(cfg *Config) { cfg.PathPrefix = v.prefix })
			for i, tc := range cases {
				t.Run(string(tc.api), func(t *testing.T) {
					respBody = tc.respBody
					resp, err := tc.call(context.Background(), c)
					if err != nil {
						t.Fatalf("%s: %v", tc.api, err)
					}
					reqs := f.requests()
					if len(reqs) != i+1 {
						t.Fatalf("gateway saw %d requests, want %d", len(reqs), i+1)
					}
					got := reqs[i]
					if want := v.wantPrefix + tc.api.Path(); got.Path != want {
						t.Errorf("path = %q, want %q", got.Path, want)
					}
					if h := got.Header.Get("Signature"); !strings.HasPrefix(h, "algorithm=RSA256,keyVersion=1,signature=") {
						t.Errorf("Signature header = %q", h)
					}
					var m map[string]any
					if err := json.Unmarshal(got.Body, &m); err != nil {
						t.Fatal(err)
					}
					tc.checkReq(t, m)
					tc.check(t, resp)
				})
			}
		})
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func lookup(m map[string]any, dotted string) (any, bool) {
	var cur any = m
	for _, k := range strings.Split(dotted, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = mm[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func wantField(t *testing.T, m map[string]any, dotted string, want any) {
	t.Helper()
	got, ok := lookup(m, dotted)
	if !ok || got != want {
		t.Errorf("request field %s = %v (present %v), want %v", dotted, got, ok, want)
	}
}

func wantAbsent(t *testing.T, m map[string]any, dotted string) {
	t.Helper()
	if got, ok := lookup(m, dotted); ok {
		t.Errorf("request field %s = %v, want absent", dotted, got)
	}
}

// ---------------------------------------------------------------------------
// Client-side refusals: nothing is sent.
// ---------------------------------------------------------------------------

func TestInvalidRequestsAreNotSent(t *testing.T) {
	f := newFakeGateway(t, "2188120000000000", PrefixProduction, func(int, string, []byte) reply {
		return reply{body: resultJSON(CodeSuccess, "")}
	})
	c := newTestClient(t, f, newFakeClock())
	ctx := context.Background()
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = fmt.Sprintf("d%d", i)
	}
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"11 declaration ids", func() error {
			_, err := c.InquiryDeclarationRequests(ctx, &InquiryDeclarationRequestsRequest{DeclarationRequestIDs: eleven})
			return err
		}, "at most 10"},
		{"no declaration ids", func() error {
			_, err := c.InquiryDeclarationRequests(ctx, &InquiryDeclarationRequestsRequest{})
			return err
		}, "at least one"},
		{"pay without id", func() error { _, err := c.Pay(ctx, &PayRequest{}); return err }, "paymentRequestId is required"},
		{"pay id too long", func() error {
			_, err := c.Pay(ctx, &PayRequest{PaymentRequestID: strings.Repeat("x", 65)})
			return err
		}, "at most 64"},
		{"declare id too long", func() error {
			_, err := c.Declare(ctx, &DeclareRequest{DeclarationRequestID: strings.Repeat("x", 33), PaymentID: "P"})
			return err
		}, "at most 32"},
		{"refund without payment", func() error {
			_, err := c.Refund(ctx, &RefundRequest{RefundRequestID: "r"})
			return err
		}, "paymentId is required"},
		{"capture without payment", func() error {
			_, err := c.Capture(ctx, &CaptureRequest{CaptureRequestID: "c"})
			return err
		}, "paymentId is required"},
		{"inquiry without ids", func() error { _, err := c.InquiryPayment(ctx, &InquiryPaymentRequest{}); return err }, "required"},
		{"cancel without ids", func() error { _, err := c.Cancel(ctx, &CancelRequest{}); return err }, "required"},
		{"inquiryRefund without ids", func() error { _, err := c.InquiryRefund(ctx, &InquiryRefundRequest{}); return err }, "required"},
		{"nil request", func() error { _, err := c.Pay(ctx, nil); return err }, "nil request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrInvalidRequest mentioning %q", err, tt.want)
			}
			if !IsTerminal(err) || IsUnknown(err) || OutcomeOf(err) != Failed {
				t.Errorf("IsTerminal=%v IsUnknown=%v OutcomeOf=%v", IsTerminal(err), IsUnknown(err), OutcomeOf(err))
			}
		})
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("gateway saw %d requests, want 0", n)
	}
}

// ---------------------------------------------------------------------------
// Retries and classification through the client.
// ---------------------------------------------------------------------------

func TestClientRetriesAndOutcomes(t *testing.T) {
	inProcess := resultJSON(CodePaymentInProcess, `"paymentRequestId":"pay-0001","paymentId":"P1","normalUrl":"https://pay.example.com/checkout/P1"`)
	success := resultJSON(CodeSuccess, `"paymentRequestId":"pay-0001","paymentId":"P1"`)
	seq := func(replies ...reply) func(int, string, []byte) reply {
		return func(n int, _ string, _ []byte) reply {
			if n > len(replies) {
				return replies[len(replies)-1]
			}
			return replies[n-1]
		}
	}
	tests := []struct {
		name         string
		handle       func(int, string, []byte) reply
		timeout      time.Duration
		wantAttempts int
		wantOutcome  Outcome
		wantCode     string
		wantClass    string // TransportError class of the final error
		wantSleeps   []time.Duration
		check        func(t *testing.T, resp *PayResponse, err error)
	}{
		{
			name:         "S at once",
			handle:       seq(reply{body: success}),
			wantAttempts: 1, wantOutcome: Succeeded, wantCode: "",
		},
		{
			name:         "UNKNOWN_EXCEPTION twice then S",
			handle:       seq(reply{body: resultJSON(CodeUnknownException, "")}, reply{body: resultJSON(CodeUnknownException, "")}, reply{body: success}),
			wantAttempts: 3, wantOutcome: Succeeded,
			wantSleeps: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond},
		},
		{
			name:         "UNKNOWN_EXCEPTION on every attempt",
			handle:       seq(reply{body: resultJSON(CodeUnknownException, "")}),
			wantAttempts: 3, wantOutcome: Unknown, wantCode: CodeUnknownException,
			check: func(t *testing.T, resp *PayResponse, err error) {
				if !strings.HasPrefix(err.Error(), "pay paymentRequestId=pay-0001 after 3 attempts: ") {
					t.Errorf("error text %q", err)
				}
				if resp == nil || resp.Result.ResultCode != CodeUnknownException {
					t.Errorf("resp = %+v", resp)
				}
			},
		},
		{
			name:         "unsigned 503 then S",
			handle:       seq(reply{status: 503, body: "upstream down", noSig: true}, reply{body: success}),
			wantAttempts: 2, wantOutcome: Succeeded,
		},
		{
			name:         "unsigned 502 on every attempt",
			handle:       seq(reply{status: 502, body: "<html>bad gateway</html>", noSig: true}),
			wantAttempts: 3, wantOutcome: Unknown, wantClass: ClassHTTPStatus,
		},
		{
			name:         "unsigned 404 is Unknown but not retried",
			handle:       seq(reply{status: 404, body: "not found", noSig: true}),
			wantAttempts: 1, wantOutcome: Unknown, wantClass: ClassHTTPStatus,
		},
		{
			name:         "signed 500 with F result uses the result",
			handle:       seq(reply{status: 500, body: resultJSON(CodeProcessFail, "")}),
			wantAttempts: 1, wantOutcome: Failed, wantCode: CodeProcessFail,
		},
		{
			name:         "dropped connection then S",
			handle:       seq(reply{drop: true}, reply{body: success}),
			wantAttempts: 2, wantOutcome: Succeeded,
		},
		{
			name:         "dropped connection on every attempt",
			handle:       seq(reply{drop: true}),
			wantAttempts: 3, wantOutcome: Unknown, wantClass: ClassTransport,
		},
		{
			name:         "attempt timeout then S",
			handle:       seq(reply{block: true}, reply{body: success}),
			timeout:      200 * time.Millisecond,
			wantAttempts: 2, wantOutcome: Succeeded,
		},
		{
			name:         "unsigned 200 then S",
			handle:       seq(reply{body: success, noSig: true}, reply{body: success}),
			wantAttempts: 2, wantOutcome: Succeeded,
		},
		{
			name:         "signed garbage is retried",
			handle:       seq(reply{body: "{not json"}),
			wantAttempts: 3, wantOutcome: Unknown, wantClass: ClassMalformed,
		},
		{
			name:         "signed body without result is retried",
			handle:       seq(reply{body: `{"paymentId":"P1"}`}, reply{body: success}),
			wantAttempts: 2, wantOutcome: Succeeded,
		},
		{
			name:         "malformed result status is Unknown, not retried",
			handle:       seq(reply{body: `{"result":{"resultCode":"SUCCESS","resultStatus":"X"}}`}),
			wantAttempts: 1, wantOutcome: Unknown, wantCode: CodeSuccess,
		},
		{
			name:         "PAYMENT_IN_PROCESS is returned, not retried",
			handle:       seq(reply{body: inProcess}),
			wantAttempts: 1, wantOutcome: Unknown, wantCode: CodePaymentInProcess,
			check: func(t *testing.T, resp *PayResponse, err error) {
				if !IsInProcess(err) || !IsUnknown(err) || IsTerminal(err) {
					t.Errorf("IsInProcess=%v IsUnknown=%v IsTerminal=%v", IsInProcess(err), IsUnknown(err), IsTerminal(err))
				}
				if resp == nil || resp.NormalURL != "https://pay.example.com/checkout/P1" || resp.PaymentID != "P1" {
					t.Errorf("resp = %+v, want the normalUrl", resp)
				}
			},
		},
		{
			name:         "F is terminal, not retried",
			handle:       seq(reply{body: resultJSON(CodeOrderIsClosed, `"paymentRequestId":"pay-0001"`)}),
			wantAttempts: 1, wantOutcome: Failed, wantCode: CodeOrderIsClosed,
			check: func(t *testing.T, resp *PayResponse, err error) {
				var re *ResultError
				if !errors.As(err, &re) || !re.Terminal || re.API != APIPay || re.Message == "" {
					t.Errorf("ResultError = %+v", re)
				}
				if resp == nil || resp.PaymentRequestID != "pay-0001" {
					t.Errorf("resp = %+v", resp)
				}
			},
		},
		{
			name:         "unknown U code is returned, not retried",
			handle:       seq(reply{body: `{"result":{"resultCode":"SOMETHING_NEW","resultStatus":"U"}}`}),
			wantAttempts: 1, wantOutcome: Unknown, wantCode: "SOMETHING_NEW",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGateway(t, "2188120000000000", PrefixProduction, tt.handle)
			clk := newFakeClock()
			var (
				mu       sync.Mutex
				observed []Attempt
			)
			c := newTestClient(t, f, clk, func(cfg *Config) {
				if tt.timeout > 0 {
					cfg.Timeouts = map[API]time.Duration{APIPay: tt.timeout}
				}
				cfg.Observer = ObserverFunc(func(a Attempt) {
					mu.Lock()
					observed = append(observed, a)
					mu.Unlock()
				})
			})
			resp, err := c.Pay(context.Background(), samplePay())
			reqs := f.requests()
			if len(reqs) != tt.wantAttempts {
				t.Fatalf("gateway saw %d attempts, want %d (err %v)", len(reqs), tt.wantAttempts, err)
			}
			assertIdenticalBodies(t, reqs)
			if got := OutcomeOf(err); got != tt.wantOutcome {
				t.Errorf("OutcomeOf(%v) = %v, want %v", err, got, tt.wantOutcome)
			}
			if tt.wantOutcome == Unknown && !IsUnknown(err) {
				t.Errorf("IsUnknown(%v) = false", err)
			}
			if tt.wantOutcome == Failed && !IsTerminal(err) {
				t.Errorf("IsTerminal(%v) = false", err)
			}
			if tt.wantOutcome == Succeeded && (resp == nil || resp.PaymentID != "P1") {
				t.Errorf("resp = %+v", resp)
			}
			if got := Code(err); got != tt.wantCode {
				t.Errorf("Code = %q, want %q", got, tt.wantCode)
			}
			if tt.wantClass != "" {
				var te *TransportError
				if !errors.As(err, &te) || te.Class != tt.wantClass {
					t.Errorf("err = %v, want TransportError class %s", err, tt.wantClass)
				}
			}
			if tt.wantSleeps != nil {
				if got := clk.Sleeps(); fmt.Sprint(got) != fmt.Sprint(tt.wantSleeps) {
					t.Errorf("sleeps = %v, want %v", got, tt.wantSleeps)
				}
			}
			mu.Lock()
			if len(observed) != tt.wantAttempts {
				t.Errorf("observer called %d times, want %d", len(observed), tt.wantAttempts)
			}
			for i, a := range observed {
				if a.API != APIPay || a.Attempt != i+1 || a.Label() == "" {
					t.Errorf("observed[%d] = %+v", i, a)
				}
			}
			mu.Unlock()
			if tt.check != nil {
				tt.check(t, resp, err)
			}
		})
	}
}

func TestUnverifiedResponses(t *testing.T) {
	_, _, other := testKeys(t)
	ok := resultJSON(CodeSuccess, `"paymentId":"P1"`)
	tampered := strings.Replace(ok, "P1", "P2", 1)
	tests := []struct {
		name string
		rep  reply
	}{
		{"no Signature header", reply{body: ok, noSig: true}},
		{"signed with another key", reply{body: ok, key: other}},
		{"tampered body", reply{body: tampered, signBody: &ok}},
		{"signed for another path", reply{body: ok, signPath: "/ams/api/v1/payments/refund"}},
		{"tampered Response-Time", reply{body: ok, signTime: "1700000000000"}},
		{"tampered Client-Id header", reply{body: ok, signClient: "2188120000000000", clientID: "2188999999999999"}},
		{"validly signed for another client", reply{body: ok, signClient: "2188999999999999", clientID: "2188999999999999"}},
		{"corrupted signature", reply{body: ok, corruptSig: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGateway(t, "2188120000000000", PrefixProduction, func(int, string, []byte) reply { return tt.rep })
			c := newTestClient(t, f, newFakeClock(), func(cfg *Config) { cfg.Retry.MaxAttempts = 2 })
			resp, err := c.Pay(context.Background(), samplePay())
			if !errors.Is(err, ErrResponseUnverified) {
				t.Fatalf("err = %v, want ErrResponseUnverified", err)
			}
			if !IsUnknown(err) || IsTerminal(err) || resp != nil {
				t.Errorf("IsUnknown=%v IsTerminal=%v resp=%v", IsUnknown(err), IsTerminal(err), resp)
			}
			reqs := f.requests()
			if len(reqs) != 2 {
				t.Errorf("attempts = %d, want 2 (unverified responses are retried)", len(reqs))
			}
			assertIdenticalBodies(t, reqs)
		})
	}
}

// ---------------------------------------------------------------------------
// Context cancellation.
// ---------------------------------------------------------------------------

func TestContextCancellation(t *testing.T) {
	unknown := func(int, string, []byte) reply { return reply{body: resultJSON(CodeUnknownException, "")} }

	t.Run("cancelled during backoff stops retries", func(t *testing.T) {
		f := newFakeGateway(t, "2188120000000000", PrefixProduction, unknown)
		clk := newFakeClock()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		clk.onSleep = cancel
		c := newTestClient(t, f, clk, func(cfg *Config) { cfg.Retry.MaxAttempts = 5 })
		_, err := c.Pay(ctx, samplePay())
		if n := len(f.requests()); n != 1 {
			t.Errorf("attempts = %d, want 1", n)
		}
		if !errors.Is(err, context.Canceled) || !IsUnknown(err) || Code(err) != CodeUnknownException {
			t.Errorf("err = %v (IsUnknown %v, Code %q)", err, IsUnknown(err), Code(err))
		}
	})

	t.Run("cancelled before sending", func(t *testing.T) {
		f := newFakeGateway(t, "2188120000000000", PrefixProduction, unknown)
		c := newTestClient(t, f, newFakeClock())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.Pay(ctx, samplePay())
		if !errors.Is(err, ErrNotSent) || !errors.Is(err, context.Canceled) || IsUnknown(err) || IsTerminal(err) {
			t.Errorf("err = %v (IsUnknown %v)", err, IsUnknown(err))
		}
		if n := len(f.requests()); n != 0 {
			t.Errorf("attempts = %d, want 0", n)
		}
	})

	t.Run("cancelled while the request is in flight", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		f := newFakeGateway(t, "2188120000000000", PrefixProduction, func(int, string, []byte) reply {
			return reply{block: true, onReceive: cancel}
		})
		c := newTestClient(t, f, newFakeClock())
		_, err := c.Pay(ctx, samplePay())
		var te *TransportError
		if !errors.As(err, &te) || te.Class != ClassCanceled || !IsUnknown(err) || !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want Unknown canceled transport error", err)
		}
		if n := len(f.requests()); n != 1 {
			t.Errorf("attempts = %d, want 1", n)
		}
	})
}

// ---------------------------------------------------------------------------
// Logging never leaks card data or keys.
// ---------------------------------------------------------------------------

func TestLoggingIsRedacted(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := funcr.New(func(prefix, args string) {
		mu.Lock()
		buf.WriteString(prefix + " " + args + "\n")
		mu.Unlock()
	}, funcr.Options{Verbosity: 4})

	respBody := resultJSON(CodePaymentInProcess, `"paymentId":"P1","normalUrl":"https://pay.example.com/x","paymentResultInfo":{"cardNo":"411111******1111","cardBrand":"VISA"}`)
	f := newFakeGateway(t, "2188120000000000", PrefixProduction, func(int, string, []byte) reply { return reply{body: respBody} })
	c := newTestClient(t, f, newFakeClock(), func(cfg *Config) { cfg.Logger = logger })

	req := &PayRequest{}
	if err := json.Unmarshal(mustRead(t, "testdata/pay_card_request.json"), req); err != nil {
		t.Fatal(err)
	}
	_, err := c.Pay(context.Background(), req)
	if !IsInProcess(err) {
		t.Fatalf("err = %v", err)
	}
	out := buf.String()
	sig := f.requests()[0].Header.Get("Signature")
	for _, secret := range []string{"4111111111111111", "4111 1111 1111 1111", "411111******1111", `"cvv"`, "987", "expiryYear", "Jane", sig} {
		if strings.Contains(out, secret) {
			t.Errorf("log output contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{`"api"="pay"`, `"resultCode"="PAYMENT_IN_PROCESS"`, `"paymentRequestId"="pay-req-card-0001"`, "****1111"} {
		if !strings.Contains(out, want) {
			t.Errorf("log output lacks %s:\n%s", want, out)
		}
	}
}

// ---------------------------------------------------------------------------
// Cross-check with the openssl CLI.
// ---------------------------------------------------------------------------

func writePEMKeys(t *testing.T, dir, name string, k *rsa.PrivateKey) (privPath, pubPath string) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	privPath = filepath.Join(dir, name+".pem")
	pubPath = filepath.Join(dir, name+".pub.pem")
	if err := os.WriteFile(privPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return privPath, pubPath
}

// opensslSign signs msg with the PEM key at keyPath via the openssl CLI.
func opensslSign(t *testing.T, dir, keyPath string, msg []byte) []byte {
	t.Helper()
	in, err := os.CreateTemp(dir, "msg-*.bin")
	if err != nil {
		t.Fatal(err)
	}
	in.Write(msg)
	in.Close()
	sigPath := in.Name() + ".sig"
	if out, err := exec.Command("openssl", "dgst", "-sha256", "-sign", keyPath, "-out", sigPath, in.Name()).CombinedOutput(); err != nil {
		t.Fatalf("openssl sign: %v: %s", err, out)
	}
	sig, err := os.ReadFile(sigPath)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// opensslVerify reports whether openssl accepts sig over msg with the PEM public key.
func opensslVerify(t *testing.T, dir, pubPath string, msg, sig []byte) bool {
	t.Helper()
	in, err := os.CreateTemp(dir, "msg-*.bin")
	if err != nil {
		t.Fatal(err)
	}
	in.Write(msg)
	in.Close()
	sigPath := in.Name() + ".sig"
	if err := os.WriteFile(sigPath, sig, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("openssl", "dgst", "-sha256", "-verify", pubPath, "-signature", sigPath, in.Name()).CombinedOutput()
	return err == nil && strings.Contains(string(out), "Verified OK")
}

func TestOpenSSLCrossCheck(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not on PATH")
	}
	m, g, _ := testKeys(t)
	dir := t.TempDir()
	mPriv, mPub := writePEMKeys(t, dir, "merchant", m)
	gPriv, _ := writePEMKeys(t, dir, "gateway", g)

	const path, cid, rt = "/ams/api/v1/payments/pay", "SANDBOX_5YBZ1Z2ZAG0S07036", "1685599933871"
	body := []byte(`{"paymentRequestId":"p-1","paymentAmount":{"currency":"HKD","value":"100"}}`)
	msg := StringToSign("POST", path, cid, rt, body)

	t.Run("openssl signs, Verify accepts", func(t *testing.T) {
		sig := opensslSign(t, dir, mPriv, msg)
		hdr := SignatureHeader{Algorithm: SignatureAlgorithm, KeyVersion: "1", Signature: sig}.String()
		if _, err := Verify(&m.PublicKey, hdr, "POST", path, cid, rt, body); err != nil {
			t.Fatalf("Verify rejected openssl's signature: %v", err)
		}
		tampered := append([]byte(nil), body...)
		tampered[5] ^= 1
		if _, err := Verify(&m.PublicKey, hdr, "POST", path, cid, rt, tampered); !errors.Is(err, ErrSignatureInvalid) {
			t.Fatalf("Verify accepted a tampered body: %v", err)
		}
	})

	t.Run("Sign signs, openssl accepts", func(t *testing.T) {
		hdr, err := Sign(m, "1", "POST", path, cid, rt, body)
		if err != nil {
			t.Fatal(err)
		}
		h, err := ParseSignatureHeader(hdr)
		if err != nil {
			t.Fatal(err)
		}
		if !opensslVerify(t, dir, mPub, msg, h.Signature) {
			t.Fatal("openssl rejected our signature")
		}
		if opensslVerify(t, dir, mPub, StringToSign("POST", path, cid, "1685599933872", body), h.Signature) {
			t.Fatal("openssl accepted our signature over a different Request-Time")
		}
	})

	t.Run("client against a gateway that signs and verifies with openssl", func(t *testing.T) {
		respBody := []byte(resultJSON(CodeSuccess, `"paymentRequestId":"pay-0001","paymentId":"P1"`))
		var mu sync.Mutex
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			reqBody, _ := io.ReadAll(r.Body)
			h, err := ParseSignatureHeader(r.Header.Get("Signature"))
			if err != nil {
				t.Errorf("request Signature: %v", err)
			}
			reqMsg := StringToSign(r.Method, r.URL.Path, r.Header.Get("Client-Id"), r.Header.Get("Request-Time"), reqBody)
			if !opensslVerify(t, dir, mPub, reqMsg, h.Signature) {
				t.Errorf("openssl rejected the client's request signature")
			}
			respTime := "2024-05-01T12:00:00Z"
			sig := opensslSign(t, dir, gPriv, StringToSign("POST", r.URL.Path, cid, respTime, respBody))
			w.Header().Set("Signature", SignatureHeader{Algorithm: SignatureAlgorithm, KeyVersion: "1", Signature: sig}.String())
			w.Header().Set("Client-Id", cid)
			w.Header().Set("Response-Time", respTime)
			w.Write(respBody)
		}))
		defer srv.Close()
		c, err := New(Config{Endpoint: srv.URL, ClientID: cid, PrivateKey: m, GatewayPublicKey: &g.PublicKey})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Pay(context.Background(), samplePay())
		if err != nil || resp.PaymentID != "P1" {
			t.Fatalf("Pay = %+v, %v", resp, err)
		}
	})
}

// ---------------------------------------------------------------------------
// Concurrent use of one Client (run with -race).
// ---------------------------------------------------------------------------

func TestConcurrentCalls(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	f := newFakeGateway(t, "2188120000000000", PrefixProduction, func(_ int, _ string, body []byte) reply {
		var req PayRequest
		json.Unmarshal(body, &req)
		mu.Lock()
		seen[req.PaymentRequestID]++
		first := seen[req.PaymentRequestID] == 1
		mu.Unlock()
		if first && strings.HasSuffix(req.PaymentRequestID, "0") {
			return reply{body: resultJSON(CodeUnknownException, "")} // retried by the client
		}
		return reply{body: resultJSON(CodeSuccess, `"paymentRequestId":"`+req.PaymentRequestID+`","paymentId":"P-`+req.PaymentRequestID+`"`)}
	})
	c := newTestClient(t, f, newFakeClock(), func(cfg *Config) {
		cfg.RateLimit = RateLimit{QPS: 1000, Burst: 5}
		cfg.Retry.MaxAttempts = 5
	})
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			req := samplePay()
			req.PaymentRequestID = fmt.Sprintf("pay-%02d", i)
			resp, err := c.Pay(context.Background(), req)
			if err != nil {
				t.Errorf("%s: %v", req.PaymentRequestID, err)
				return
			}
			if resp.PaymentID != "P-"+req.PaymentRequestID {
				t.Errorf("%s: got response for %s", req.PaymentRequestID, resp.PaymentID)
			}
		}(i)
	}
	wg.Wait()
}

func TestDisputeRequestsCheckedBeforeSending(t *testing.T) {
	f := newFakeGateway(t, "2188120000000000", PrefixProduction, func(int, string, []byte) reply { return reply{body: resultJSON(CodeSuccess, "")} })
	c := newTestClient(t, f, newFakeClock())
	ctx := context.Background()
	cases := []struct {
		name string
		call func() error
	}{
		{"accept without id", func() error { _, err := c.AcceptDispute(ctx, &AcceptDisputeRequest{}); return err }},
		{"accept nil", func() error { _, err := c.AcceptDispute(ctx, nil); return err }},
		{"defend without evidence", func() error {
			_, err := c.SupplyDefenseDocument(ctx, &SupplyDefenseDocumentRequest{DisputeID: "D1"})
			return err
		}},
		{"defend with too much evidence", func() error {
			_, err := c.SupplyDefenseDocument(ctx, &SupplyDefenseDocumentRequest{DisputeID: "D1", DisputeEvidence: strings.Repeat("A", MaxDisputeEvidenceChars+1)})
			return err
		}},
		{"download of unknown type", func() error {
			_, err := c.DownloadDisputeEvidence(ctx, &DownloadDisputeEvidenceRequest{DisputeID: "D1", DisputeEvidenceType: "OTHER"})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("err = %v, want ErrInvalidRequest", err)
			}
		})
	}
	if n := len(f.requests()); n != 0 {
		t.Fatalf("%d requests reached the gateway", n)
	}
}
