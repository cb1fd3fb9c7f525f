package gatewaysim

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

const testClientID = "SANDBOX_TEST0001"

var (
	keysOnce    sync.Once
	merchantKey *rsa.PrivateKey
	gatewayKey  *rsa.PrivateKey
	otherKey    *rsa.PrivateKey
)

func keys(t testing.TB) {
	keysOnce.Do(func() {
		var err error
		if merchantKey, err = gateway.GenerateKey(); err != nil {
			panic(err)
		}
		if gatewayKey, err = gateway.GenerateKey(); err != nil {
			panic(err)
		}
		if otherKey, err = gateway.GenerateKey(); err != nil {
			panic(err)
		}
	})
}

// receiver is a merchant notification endpoint.
type receiver struct {
	t   testing.TB
	srv *httptest.Server
	pub *rsa.PublicKey

	mu       sync.Mutex
	got      []received
	failNext int    // answer this many deliveries with a wrong ack
	badAck   string // the wrong ack body
}

type received struct {
	Kind    string
	Path    string
	Body    []byte
	Value   any
	Err     error // verification or parse error
	Request string
}

func newReceiver(t testing.TB, pub *rsa.PublicKey) *receiver {
	rc := &receiver{t: t, pub: pub, badAck: `{"result":{"resultCode":"FAIL","resultStatus":"F"}}`}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nr, err := gateway.NotificationRequestFromHTTP(r, 0)
		rec := received{Path: nr.Path, Body: nr.Body, Err: err}
		if err == nil {
			var cid string
			cid, err = gateway.VerifyNotification(rc.pub, nr, time.Time{}, 0)
			if err == nil && cid == "" {
				err = io.ErrUnexpectedEOF
			}
			rec.Err = err
			if err == nil {
				rec.Kind, rec.Value, rec.Err = gateway.ParseNotification(nr.Body)
			}
		}
		rc.mu.Lock()
		rc.got = append(rc.got, rec)
		fail := rc.failNext > 0
		if fail {
			rc.failNext--
		}
		bad := rc.badAck
		rc.mu.Unlock()
		if fail {
			_, _ = io.WriteString(w, bad)
			return
		}
		_, _ = io.WriteString(w, gateway.NotificationAck)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) url(path string) string { return rc.srv.URL + path }

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (rc *receiver) failFirst(n int) {
	rc.mu.Lock()
	rc.failNext = n
	rc.mu.Unlock()
}

// ofKind returns the verified notifications of a kind, failing on any
// unverifiable one.
func (rc *receiver) ofKind(kind string) []received {
	rc.t.Helper()
	var out []received
	for _, r := range rc.all() {
		if r.Err != nil {
			rc.t.Fatalf("notification to %s did not verify/parse: %v (body %s)", r.Path, r.Err, r.Body)
		}
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

// env is a simulator, a merchant, its client and its notification receiver.
type env struct {
	t      *testing.T
	sim    *Simulator
	srv    *httptest.Server
	client *gateway.Client
	rcv    *receiver
	ctx    context.Context
}

func newEnv(t *testing.T, mod ...func(*Options)) *env {
	t.Helper()
	keys(t)
	opts := Options{GatewayKey: gatewayKey, Seed: 42}
	for _, f := range mod {
		f(&opts)
	}
	sim, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	rcv := newReceiver(t, sim.GatewayPublicKey())
	if err := sim.AddMerchant(testClientID, &merchantKey.PublicKey, "1", rcv.url("/notify/default")); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, sim: sim, srv: srv, rcv: rcv, ctx: context.Background()}
	e.client = e.newClient(testClientID, merchantKey, 1)
	return e
}

func (e *env) newClient(clientID string, key *rsa.PrivateKey, attempts int) *gateway.Client {
	e.t.Helper()
	c, err := gateway.New(gateway.Config{
		Endpoint: e.srv.URL, ClientID: clientID, PrivateKey: key, GatewayPublicKey: e.sim.GatewayPublicKey(),
		Retry: gateway.RetryPolicy{MaxAttempts: attempts, Jitter: func(time.Duration) time.Duration { return 0 }},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) quiesce() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.sim.Quiesce(ctx); err != nil {
		e.t.Fatalf("quiesce: %v", err)
	}
}

func hkd(v string) gateway.Amount { return gateway.Amount{Currency: "HKD", Value: v} }

func walletPay(id string, a gateway.Amount, method string) *gateway.PayRequest {
	return &gateway.PayRequest{
		PaymentRequestID: id, PaymentAmount: a,
		PaymentMethod: gateway.PaymentMethod{PaymentMethodType: method},
		Env:           &gateway.Env{TerminalType: "WEB"},
		Order:         &gateway.Order{ReferenceOrderID: "order-" + id, OrderDescription: "test order"},
	}
}

func cardPay(id string, a gateway.Amount, cardNo string, threeDS bool, mode string) *gateway.PayRequest {
	r := walletPay(id, a, "CARD")
	r.PaymentMethod.PaymentMethodMetaData = map[string]any{
		"cardNo": cardNo, "cvv": "123", "expiryYear": "2030", "expiryMonth": "12", "cardholderName": "Test",
		"is3DSAuthentication": threeDS,
	}
	r.PaymentFactor = &gateway.PaymentFactor{IsAuthorization: gateway.BoolPtr(true), CaptureMode: mode}
	return r
}

// code returns the result code of an API call: the response's when it has
// one, else the error's.
func code(t testing.TB, resp any, err error) string {
	t.Helper()
	if c := gateway.Code(err); c != "" {
		return c
	}
	if err != nil {
		t.Fatalf("no result: %v", err)
	}
	b, _ := json.Marshal(resp)
	var env struct {
		Result gateway.Result `json:"result"`
	}
	_ = json.Unmarshal(b, &env)
	return env.Result.ResultCode
}

func (e *env) pay(req *gateway.PayRequest) (*gateway.PayResponse, string) {
	e.t.Helper()
	resp, err := e.client.Pay(e.ctx, req)
	return resp, code(e.t, resp, err)
}

// payOK creates a wallet payment and completes it.
func (e *env) paidWallet(id string, a gateway.Amount, method string) string {
	e.t.Helper()
	resp, c := e.pay(walletPay(id, a, method))
	if c != gateway.CodePaymentInProcess {
		e.t.Fatalf("pay %s: %s", id, c)
	}
	if err := e.sim.Complete(id); err != nil {
		e.t.Fatal(err)
	}
	return resp.PaymentID
}

func (e *env) inquiry(id string) *gateway.InquiryPaymentResponse {
	e.t.Helper()
	resp, err := e.client.InquiryPayment(e.ctx, &gateway.InquiryPaymentRequest{PaymentRequestID: id})
	if err != nil {
		e.t.Fatalf("inquiryPayment %s: %v", id, err)
	}
	return resp
}

func (e *env) status(id string) string { return e.inquiry(id).PaymentStatus }

func (e *env) wantStatus(id, want string) {
	e.t.Helper()
	if got := e.status(id); got != want {
		e.t.Fatalf("payment %s status %s, want %s", id, got, want)
	}
}

// browser is an HTTP client that does not follow redirects.
func browser() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func getPage(t testing.TB, u string) (int, string) {
	t.Helper()
	resp, err := browser().Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func postForm(t testing.TB, u string, form url.Values) *http.Response {
	t.Helper()
	resp, err := browser().PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// rawCall sends a hand-made request and returns the verified result.
type rawReq struct {
	method, path, clientID, keyVersion, contentType, requestTime string
	body                                                         string
	key                                                          *rsa.PrivateKey
	noSig, badSig                                                bool
}

func (e *env) raw(r rawReq) (int, gateway.Result, http.Header) {
	e.t.Helper()
	if r.method == "" {
		r.method = http.MethodPost
	}
	if r.contentType == "" {
		r.contentType = gateway.ContentTypeJSON
	}
	if r.requestTime == "" {
		r.requestTime = gateway.FormatRequestTime(time.Now())
	}
	if r.keyVersion == "" {
		r.keyVersion = "1"
	}
	if r.key == nil {
		r.key = merchantKey
	}
	req, _ := http.NewRequest(r.method, e.srv.URL+r.path, bytes.NewReader([]byte(r.body)))
	req.Header.Set("Content-Type", r.contentType)
	if r.clientID != "-" {
		req.Header.Set("Client-Id", r.clientID)
	}
	req.Header.Set("Request-Time", r.requestTime)
	if !r.noSig {
		sig, _ := gateway.Sign(r.key, r.keyVersion, r.method, r.path, r.clientID, r.requestTime, []byte(r.body))
		if r.badSig {
			sig, _ = gateway.Sign(r.key, r.keyVersion, r.method, r.path, r.clientID, r.requestTime, []byte(r.body+" "))
		}
		req.Header.Set("Signature", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	cid := resp.Header.Get("Client-Id")
	if _, err := gateway.Verify(e.sim.GatewayPublicKey(), resp.Header.Get("Signature"), r.method, r.path, cid,
		resp.Header.Get("Response-Time"), body); err != nil {
		e.t.Fatalf("response to %s %s not signed correctly: %v", r.method, r.path, err)
	}
	if cid != strings.TrimPrefix(r.clientID, "-") && r.clientID != "-" {
		e.t.Fatalf("response Client-Id %q, want %q", cid, r.clientID)
	}
	var env struct {
		Result gateway.Result `json:"result"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		e.t.Fatalf("response body %s: %v", body, err)
	}
	return resp.StatusCode, env.Result, resp.Header
}
