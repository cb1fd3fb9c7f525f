package gateway

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-logr/logr"
)

// API names one gateway operation. The value is the last path element, which
// is also the label used in logs and in Attempt.API.
type API string

// The Cashier Payment APIs the client drives: nine for payments and
// customs, three for disputes, three for merchant registration.
const (
	APIConsult                    API = "consult"
	APIPay                        API = "pay"
	APICapture                    API = "capture"
	APIInquiryPayment             API = "inquiryPayment"
	APICancel                     API = "cancel"
	APIRefund                     API = "refund"
	APIInquiryRefund              API = "inquiryRefund"
	APIDeclare                    API = "declare"
	APIInquiryDeclarationRequests API = "inquiryDeclarationRequests"
	APIAcceptDispute              API = "acceptDispute"
	APISupplyDefenseDocument      API = "supplyDefenseDocument"
	APIDownloadDisputeEvidence    API = "downloadDisputeEvidence"
	APIRegistration               API = "registration"
	APIInquiryRegistrationStatus  API = "inquiryRegistrationStatus"
	APIInquiryRegistrationInfo    API = "inquiryRegistrationInfo"
)

// AllAPIs lists every API in a stable order.
var AllAPIs = []API{
	APIConsult, APIPay, APICapture, APIInquiryPayment, APICancel,
	APIRefund, APIInquiryRefund, APIDeclare, APIInquiryDeclarationRequests,
	APIAcceptDispute, APISupplyDefenseDocument, APIDownloadDisputeEvidence,
	APIRegistration, APIInquiryRegistrationStatus, APIInquiryRegistrationInfo,
}

var apiPaths = map[API]string{
	APIConsult:                    PathConsult,
	APIPay:                        PathPay,
	APICapture:                    PathCapture,
	APIInquiryPayment:             PathInquiryPayment,
	APICancel:                     PathCancel,
	APIRefund:                     PathRefund,
	APIInquiryRefund:              PathInquiryRefund,
	APIDeclare:                    PathDeclare,
	APIInquiryDeclarationRequests: PathInquiryDeclarationRequests,
	APIAcceptDispute:              PathAcceptDispute,
	APISupplyDefenseDocument:      PathSupplyDefenseDocument,
	APIDownloadDisputeEvidence:    PathDownloadDisputeEvidence,
	APIRegistration:               PathRegistration,
	APIInquiryRegistrationStatus:  PathInquiryRegistrationStatus,
	APIInquiryRegistrationInfo:    PathInquiryRegistrationInfo,
}

// Path returns the API's path relative to the prefix, e.g. "/v1/payments/pay".
func (a API) Path() string { return apiPaths[a] }

// DefaultTimeout is the per-attempt timeout used when Config.Timeouts has no
// entry for api: 8s for pay, refund, cancel and capture; 5s for consult and
// the inquiry and customs APIs (the Alipay+ guidance: time out, then re-send
// with identical parameters).
func DefaultTimeout(api API) time.Duration {
	switch api {
	case APIPay, APIRefund, APICancel, APICapture, APIAcceptDispute, APISupplyDefenseDocument:
		return 8 * time.Second
	default:
		return 5 * time.Second
	}
}

// RetryPolicy controls how often and how late the client re-sends a request.
type RetryPolicy struct {
	// MaxAttempts is the total number of HTTP attempts per call, first one
	// included (default 3; 1 disables retries).
	MaxAttempts int
	// BaseBackoff is the backoff ceiling before the 2nd attempt (default
	// 200ms); it doubles per attempt up to MaxBackoff (default 5s). The actual
	// wait is drawn uniformly from [0, ceiling] ("full jitter").
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// Jitter draws the actual wait for a ceiling; default uniform [0, ceiling].
	// Tests inject a deterministic one.
	Jitter func(ceiling time.Duration) time.Duration
}

const (
	defaultMaxAttempts      = 3
	defaultBaseBackoff      = 200 * time.Millisecond
	defaultMaxBackoff       = 5 * time.Second
	defaultMaxResponseBytes = 1 << 20
	defaultKeyVersion       = "1"
	userAgent               = "cashier-operator-gateway/1"
)

// Attempt describes one HTTP attempt, for metrics (see Observer).
type Attempt struct {
	API     API
	Attempt int // 1-based
	// Code is the gateway resultCode of a verified response, "" otherwise.
	Code string
	// Class is one of the Class* constants when there is no verified result
	// (Code == ""), "" otherwise.
	Class string
	// HTTPStatus is the response status, 0 if no response arrived.
	HTTPStatus int
	Duration   time.Duration
	// Err is the attempt's error (nil on S).
	Err error
}

// Label is Code if set, otherwise Class: a single metrics label value.
func (a Attempt) Label() string {
	if a.Code != "" {
		return a.Code
	}
	return a.Class
}

// Observer is called synchronously, once per HTTP attempt, after the attempt
// finished. Implementations must be fast and safe for concurrent use.
type Observer interface {
	ObserveAttempt(Attempt)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Attempt)

// ObserveAttempt calls f(a).
func (f ObserverFunc) ObserveAttempt(a Attempt) { f(a) }

// Config configures a Client. Zero values get the documented defaults.
type Config struct {
	// Endpoint is the base URL, scheme and host only, e.g.
	// "https://open-sea-global.alipay.com" or "http://127.0.0.1:8080".
	Endpoint string
	// PathPrefix is "/ams/api" (default), "/ams/sandbox/api" or "/aps/api".
	// When ClientID starts with "SANDBOX_" and the prefix is "/ams/api", the
	// client uses "/ams/sandbox/api" instead (and signs that path), as the
	// official SDK does.
	PathPrefix string
	ClientID   string
	// KeyVersion goes into the Signature header (default "1").
	KeyVersion string
	// PrivateKey is the merchant key that signs requests (RSA, >= 2048 bits).
	// Exactly one of PrivateKey and APIKey is set.
	PrivateKey *rsa.PrivateKey
	// APIKey, instead of PrivateKey, authenticates requests with
	// "Authorization: Bearer <key>": requests are not signed and responses
	// not verified, and the path prefix follows the key (TEST: the sandbox,
	// PROD: production). See apikey.go.
	APIKey APIKey
	// GatewayPublicKey verifies response signatures (RSA mode; optional
	// with an APIKey, whose responses carry none).
	GatewayPublicKey *rsa.PublicKey
	// HTTPClient defaults to a client with dial/TLS/header timeouts that does
	// not follow redirects.
	HTTPClient *http.Client
	// Timeouts overrides DefaultTimeout per API; each HTTP attempt gets its own timeout.
	Timeouts map[API]time.Duration
	// RateLimit is the per-Client token bucket; zero means unlimited.
	RateLimit RateLimit
	// Retry is the retry policy.
	Retry RetryPolicy
	// MaxResponseBytes caps the response body read (default 1 MiB).
	MaxResponseBytes int64
	// Logger receives one V(1) line per attempt and, at V(4), redacted bodies.
	Logger logr.Logger
	// Observer, if set, is called once per HTTP attempt.
	Observer Observer
	// Now is the clock for Request-Time, the rate limiter and durations (default time.Now).
	Now func() time.Time
	// Sleep waits for backoffs and the rate limiter; it must return ctx.Err()
	// early when ctx ends (default: a timer).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client calls the Cashier Payment API of one merchant. It is safe for
// concurrent use.
type Client struct {
	baseURL    string // scheme://host
	prefix     string
	clientID   string
	keyVersion string
	key        *rsa.PrivateKey
	apiKey     APIKey // set in API-key mode (key is nil then)
	gwPub      *rsa.PublicKey
	hc         *http.Client
	timeouts   map[API]time.Duration
	retry      RetryPolicy
	maxBody    int64
	limiter    *limiter
	log        logr.Logger
	obs        Observer
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
}

// New validates cfg and builds a Client. All configuration problems are
// reported together.
func New(cfg Config) (*Client, error) {
	v := &configCheck{}
	base := v.endpoint(cfg.Endpoint)
	prefix := v.pathPrefix(cfg.PathPrefix, cfg.ClientID)
	keyVersion := v.identity(cfg)
	if cfg.APIKey.IsZero() {
		v.keys(cfg)
	} else {
		prefix = v.apiKey(cfg)
	}
	timeouts := v.timeouts(cfg.Timeouts)
	if err := cfg.RateLimit.validate(); err != nil {
		v.errs = append(v.errs, err)
	}
	rp := v.retry(cfg.Retry)
	if cfg.MaxResponseBytes < 0 {
		v.add("MaxResponseBytes %d must be >= 0", cfg.MaxResponseBytes)
	}
	if err := joinErrs(v.errs); err != nil {
		return nil, fmt.Errorf("gateway client config: %w", err)
	}

	c := &Client{
		baseURL:    base,
		prefix:     prefix,
		clientID:   cfg.ClientID,
		keyVersion: keyVersion,
		key:        cfg.PrivateKey,
		apiKey:     cfg.APIKey,
		gwPub:      cfg.GatewayPublicKey,
		hc:         cfg.HTTPClient,
		timeouts:   timeouts,
		retry:      rp,
		maxBody:    cfg.MaxResponseBytes,
		log:        cfg.Logger.WithName("gateway"),
		obs:        cfg.Observer,
		now:        cfg.Now,
		sleep:      cfg.Sleep,
	}
	if c.hc == nil {
		c.hc = defaultHTTPClient()
	}
	if c.maxBody == 0 {
		c.maxBody = defaultMaxResponseBytes
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	c.limiter = newLimiter(cfg.RateLimit, c.now, c.sleep)
	return c, nil
}

// configCheck collects every problem of a Config, so that New reports
// them all at once.
type configCheck struct{ errs []error }

func (v *configCheck) add(format string, a ...any) { v.errs = append(v.errs, fmt.Errorf(format, a...)) }

// endpoint checks Endpoint and returns scheme://host[:port].
func (v *configCheck) endpoint(endpoint string) string {
	if endpoint == "" {
		v.add("Endpoint is required")
		return ""
	}
	u, err := url.Parse(endpoint)
	switch {
	case err != nil:
		v.add("Endpoint %q is not a URL: %v", endpoint, err)
	case u.Scheme != "http" && u.Scheme != "https":
		v.add("Endpoint %q: scheme must be http or https", endpoint)
	case u.Host == "":
		v.add("Endpoint %q has no host", endpoint)
	case u.User != nil:
		v.add("Endpoint %q must not contain user info", endpoint)
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "":
		v.add("Endpoint %q must be scheme://host[:port] only; put the API prefix in PathPrefix", endpoint)
	default:
		return u.Scheme + "://" + u.Host
	}
	return ""
}

// pathPrefix checks PathPrefix (default production) and rewrites the
// production prefix to the sandbox one for a SANDBOX_ client id, as the
// official SDK does.
func (v *configCheck) pathPrefix(prefix, clientID string) string {
	if prefix == "" {
		prefix = PrefixProduction
	}
	if !strings.HasPrefix(prefix, "/") || strings.HasSuffix(prefix, "/") || strings.ContainsAny(prefix, "?# \t\r\n") {
		v.add("PathPrefix %q must start with '/', not end with '/', and hold no query, fragment or spaces (e.g. %q, %q, %q)",
			prefix, PrefixProduction, PrefixSandbox, PrefixAlipayPlus)
	}
	if strings.HasPrefix(clientID, "SANDBOX_") && prefix == PrefixProduction {
		prefix = PrefixSandbox
	}
	return prefix
}

// identity checks ClientID and KeyVersion and returns the key version.
func (v *configCheck) identity(cfg Config) string {
	if cfg.ClientID == "" {
		v.add("ClientID is required")
	} else if !validHeaderToken(cfg.ClientID) {
		v.add("ClientID %q must be printable ASCII without spaces", cfg.ClientID)
	}
	keyVersion := cfg.KeyVersion
	if keyVersion == "" {
		keyVersion = defaultKeyVersion
	}
	if !validHeaderToken(keyVersion) || strings.Contains(keyVersion, ",") {
		v.add("KeyVersion %q must be a plain token", keyVersion)
	}
	return keyVersion
}

// keys checks the merchant's private key and the gateway's public key.
func (v *configCheck) keys(cfg Config) {
	if cfg.PrivateKey == nil {
		v.add("PrivateKey (merchant RSA key) is required")
	} else if err := cfg.PrivateKey.Validate(); err != nil {
		v.add("PrivateKey is not a valid RSA key: %v", err)
	} else if n := cfg.PrivateKey.N.BitLen(); n < 2048 {
		v.add("PrivateKey has %d bits; the gateway requires at least 2048", n)
	}
	if cfg.GatewayPublicKey == nil || cfg.GatewayPublicKey.N == nil {
		v.add("GatewayPublicKey is required to verify response signatures")
	} else if n := cfg.GatewayPublicKey.N.BitLen(); n < 2048 {
		v.add("GatewayPublicKey has %d bits; the gateway uses at least 2048", n)
	}
}

// timeouts returns the per-API timeouts: the defaults, overridden by set.
func (v *configCheck) timeouts(set map[API]time.Duration) map[API]time.Duration {
	timeouts := make(map[API]time.Duration, len(AllAPIs))
	for _, a := range AllAPIs {
		timeouts[a] = DefaultTimeout(a)
	}
	for a, d := range set {
		if _, ok := apiPaths[a]; !ok {
			v.add("Timeouts: unknown API %q", a)
			continue
		}
		if d < 0 {
			v.add("Timeouts[%s] %v must be >= 0", a, d)
			continue
		}
		if d > 0 {
			timeouts[a] = d
		}
	}
	return timeouts
}

// retry checks the retry policy and fills in its defaults.
func (v *configCheck) retry(rp RetryPolicy) RetryPolicy {
	if rp.MaxAttempts < 0 {
		v.add("Retry.MaxAttempts %d must be >= 0 (0 = default %d)", rp.MaxAttempts, defaultMaxAttempts)
	}
	if rp.MaxAttempts == 0 {
		rp.MaxAttempts = defaultMaxAttempts
	}
	if rp.BaseBackoff < 0 || rp.MaxBackoff < 0 {
		v.add("Retry backoffs must be >= 0")
	}
	if rp.BaseBackoff == 0 {
		rp.BaseBackoff = defaultBaseBackoff
	}
	if rp.MaxBackoff == 0 {
		rp.MaxBackoff = max(defaultMaxBackoff, rp.BaseBackoff)
	}
	if rp.BaseBackoff > rp.MaxBackoff {
		v.add("Retry.BaseBackoff %v exceeds Retry.MaxBackoff %v", rp.BaseBackoff, rp.MaxBackoff)
	}
	if rp.Jitter == nil {
		rp.Jitter = fullJitter
	}
	return rp
}

// Path returns the full signed path of api, prefix included
// (e.g. "/ams/sandbox/api/v1/payments/pay" for a SANDBOX_ client).
func (c *Client) Path(api API) string { return c.prefix + api.Path() }

// ClientID returns the merchant client id the Client sends.
func (c *Client) ClientID() string { return c.clientID }

func defaultHTTPClient() *http.Client {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 15 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: t,
		Timeout:   30 * time.Second, // backstop; per-attempt context timeouts are shorter
		// A redirect would change the signed path; surface it as a non-2xx status instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func validHeaderToken(s string) bool {
	for _, r := range s {
		if r <= ' ' || r > 0x7e {
			return false
		}
	}
	return s != ""
}

func fullJitter(ceiling time.Duration) time.Duration {
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func joinErrs(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(errs...)
}

// ---------------------------------------------------------------------------
// Typed API methods.
//
// Every method returns:
//   - (resp, nil) when the gateway answered result status S. For the inquiry
//     APIs S only means the query worked; the business state is in the body
//     (paymentStatus, refundStatus, declarationRecords).
//   - (resp, *ResultError) when the gateway answered F or U (or a malformed
//     result): the decoded body is returned too. Use IsTerminal, IsUnknown,
//     IsInProcess and Code on the error.
//   - (nil, error) when no verified result was obtained: IsUnknown is true
//     (transport error, timeout, 5xx, unverifiable response, context ended
//     after sending), except for ErrInvalidRequest (nothing sent, terminal)
//     and ErrNotSent (context ended before anything was sent).
//
// Errors are wrapped with the API and idempotency id, e.g.
// "pay paymentRequestId=X after 3 attempts: ...".
// ---------------------------------------------------------------------------

// Consult asks which payment methods are available. Read-only.
func (c *Client) Consult(ctx context.Context, req *ConsultRequest) (*ConsultResponse, error) {
	if req == nil {
		return nil, invalid(APIConsult, "", "nil request")
	}
	r := *req
	if r.ProductCode == "" {
		r.ProductCode = ProductCodeCashierPayment
	}
	return call[ConsultResponse](ctx, c, APIConsult, callID{}, &r)
}

// Pay creates (or, with the same paymentRequestId, re-sends) a payment.
//
// PAYMENT_IN_PROCESS is the normal answer for redirect, 3DS and wallet flows:
// Pay then returns the response (with normalUrl / redirectActionForm /
// orderCodeForm / challengeActionForm) AND a *ResultError for which
// IsInProcess(err) and IsUnknown(err) are true and IsTerminal(err) is false.
// It is not a failure: send the user to the returned URL, then learn the
// final state from notifyPayment or InquiryPayment. The client never retries
// PAYMENT_IN_PROCESS itself.
//
// An empty ProductCode is sent as CASHIER_PAYMENT.
func (c *Client) Pay(ctx context.Context, req *PayRequest) (*PayResponse, error) {
	if req == nil {
		return nil, invalid(APIPay, "", "nil request")
	}
	id := callID{"paymentRequestId", req.PaymentRequestID}
	if err := checkID(APIPay, id, 64); err != nil {
		return nil, err
	}
	r := *req
	if r.ProductCode == "" {
		r.ProductCode = ProductCodeCashierPayment
	}
	return call[PayResponse](ctx, c, APIPay, id, &r)
}

// Capture captures (part of) an authorized card payment. CAPTURE_IN_PROCESS
// is returned like PAYMENT_IN_PROCESS in Pay (IsInProcess).
func (c *Client) Capture(ctx context.Context, req *CaptureRequest) (*CaptureResponse, error) {
	if req == nil {
		return nil, invalid(APICapture, "", "nil request")
	}
	id := callID{"captureRequestId", req.CaptureRequestID}
	if err := checkID(APICapture, id, 64); err != nil {
		return nil, err
	}
	if req.PaymentID == "" {
		return nil, invalid(APICapture, id.String(), "paymentId is required")
	}
	return call[CaptureResponse](ctx, c, APICapture, id, req)
}

// InquiryPayment queries a payment by paymentId or paymentRequestId.
// Result S = the query worked; read PaymentStatus. An F result such as
// ORDER_NOT_EXIST is a *ResultError with Terminal=true about the query only.
func (c *Client) InquiryPayment(ctx context.Context, req *InquiryPaymentRequest) (*InquiryPaymentResponse, error) {
	if req == nil {
		return nil, invalid(APIInquiryPayment, "", "nil request")
	}
	id := firstID(callID{"paymentId", req.PaymentID}, callID{"paymentRequestId", req.PaymentRequestID})
	if id.value == "" {
		return nil, invalid(APIInquiryPayment, "", "paymentId or paymentRequestId is required")
	}
	return call[InquiryPaymentResponse](ctx, c, APIInquiryPayment, id, req)
}

// Cancel cancels (or voids the authorization of) a payment by paymentId or
// paymentRequestId.
func (c *Client) Cancel(ctx context.Context, req *CancelRequest) (*CancelResponse, error) {
	if req == nil {
		return nil, invalid(APICancel, "", "nil request")
	}
	id := firstID(callID{"paymentId", req.PaymentID}, callID{"paymentRequestId", req.PaymentRequestID})
	if id.value == "" {
		return nil, invalid(APICancel, "", "paymentId or paymentRequestId is required")
	}
	return call[CancelResponse](ctx, c, APICancel, id, req)
}

// Refund refunds (part of) a payment. REFUND_IN_PROCESS is returned like
// PAYMENT_IN_PROCESS in Pay (IsInProcess).
func (c *Client) Refund(ctx context.Context, req *RefundRequest) (*RefundResponse, error) {
	if req == nil {
		return nil, invalid(APIRefund, "", "nil request")
	}
	id := callID{"refundRequestId", req.RefundRequestID}
	if err := checkID(APIRefund, id, 64); err != nil {
		return nil, err
	}
	if req.PaymentID == "" {
		return nil, invalid(APIRefund, id.String(), "paymentId is required")
	}
	return call[RefundResponse](ctx, c, APIRefund, id, req)
}

// InquiryRefund queries a refund by refundId or refundRequestId. Result S =
// the query worked; read RefundStatus.
func (c *Client) InquiryRefund(ctx context.Context, req *InquiryRefundRequest) (*InquiryRefundResponse, error) {
	if req == nil {
		return nil, invalid(APIInquiryRefund, "", "nil request")
	}
	id := firstID(callID{"refundId", req.RefundID}, callID{"refundRequestId", req.RefundRequestID})
	if id.value == "" {
		return nil, invalid(APIInquiryRefund, "", "refundId or refundRequestId is required")
	}
	return call[InquiryRefundResponse](ctx, c, APIInquiryRefund, id, req)
}

// Declare submits a customs declaration. Result S means the call was
// accepted; the declaration's progress comes from InquiryDeclarationRequests.
func (c *Client) Declare(ctx context.Context, req *DeclareRequest) (*DeclareResponse, error) {
	if req == nil {
		return nil, invalid(APIDeclare, "", "nil request")
	}
	id := callID{"declarationRequestId", req.DeclarationRequestID}
	if err := checkID(APIDeclare, id, 32); err != nil {
		return nil, err
	}
	if req.PaymentID == "" {
		return nil, invalid(APIDeclare, id.String(), "paymentId is required")
	}
	return call[DeclareResponse](ctx, c, APIDeclare, id, req)
}

// InquiryDeclarationRequests queries 1 to 10 declarations. More than
// MaxDeclarationIDsPerInquiry ids is refused before sending (ErrInvalidRequest).
func (c *Client) InquiryDeclarationRequests(ctx context.Context, req *InquiryDeclarationRequestsRequest) (*InquiryDeclarationRequestsResponse, error) {
	if req == nil {
		return nil, invalid(APIInquiryDeclarationRequests, "", "nil request")
	}
	id := callID{"declarationRequestIds", "[" + strings.Join(req.DeclarationRequestIDs, ",") + "]"}
	switch n := len(req.DeclarationRequestIDs); {
	case n == 0:
		return nil, invalid(APIInquiryDeclarationRequests, "", "at least one declarationRequestId is required")
	case n > MaxDeclarationIDsPerInquiry:
		return nil, invalid(APIInquiryDeclarationRequests, "",
			fmt.Sprintf("%d declarationRequestIds given; the gateway accepts at most %d per call", n, MaxDeclarationIDsPerInquiry))
	}
	for i, s := range req.DeclarationRequestIDs {
		if s == "" {
			return nil, invalid(APIInquiryDeclarationRequests, id.String(), fmt.Sprintf("declarationRequestIds[%d] is empty", i))
		}
	}
	return call[InquiryDeclarationRequestsResponse](ctx, c, APIInquiryDeclarationRequests, id, req)
}

// callID is the idempotency (or lookup) id of a call, for errors and logs.
type callID struct{ key, value string }

func (id callID) String() string {
	if id.key == "" {
		return ""
	}
	return id.key + "=" + id.value
}

func firstID(ids ...callID) callID {
	for _, id := range ids {
		if id.value != "" {
			return id
		}
	}
	return callID{}
}

func checkID(api API, id callID, maxLen int) error {
	switch {
	case id.value == "":
		return invalid(api, "", id.key+" is required")
	case len(id.value) > maxLen:
		return invalid(api, "", fmt.Sprintf("%s is %d characters; at most %d allowed", id.key, len(id.value), maxLen))
	}
	return nil
}

func invalid(api API, id, msg string) error {
	return fmt.Errorf("%s: %w: %s", joinNonEmpty(string(api), id), ErrInvalidRequest, msg)
}

func joinNonEmpty(a, b string) string {
	if b == "" {
		return a
	}
	return a + " " + b
}

// call marshals req once and runs the attempts; the decoded response of the
// final attempt is returned when it carried a verified result.
func call[T any](ctx context.Context, c *Client, api API, id callID, req any) (*T, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, invalid(api, id.String(), "cannot encode request: "+err.Error())
	}
	v, err := c.execute(ctx, api, id, body, func(raw []byte) (any, error) {
		out := new(T)
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, err
		}
		return out, nil
	})
	out, _ := v.(*T)
	return out, err
}

// attemptResult is the outcome of one HTTP attempt.
type attemptResult struct {
	resp     any // decoded body when the response was verified and parsed
	raw      []byte
	err      error // nil on S
	retry    bool  // the client may re-send the same body
	throttle bool  // REQUEST_TRAFFIC_EXCEED_LIMIT
	code     string
	class    string
	status   int
}

// execute runs up to MaxAttempts attempts of the same body. The body bytes
// never change between attempts; only Request-Time and the signature do.
func (c *Client) execute(ctx context.Context, api API, id callID, body []byte, decode func([]byte) (any, error)) (any, error) {
	path := c.prefix + api.Path()
	var last attemptResult
	sent := 0
	for n := 1; n <= c.retry.MaxAttempts; n++ {
		if n > 1 {
			if err := c.sleep(ctx, c.backoff(n-1)); err != nil {
				return nil, c.wrap(api, id, sent, ctxEnded(err, last.err))
			}
		}
		if err := c.limiter.wait(ctx); err != nil {
			return nil, c.wrap(api, id, sent, ctxEnded(err, last.err))
		}
		last = c.attempt(ctx, api, path, id, n, body, decode)
		sent = n
		if last.err == nil {
			return last.resp, nil
		}
		if last.throttle {
			c.limiter.throttle(c.now())
		}
		if !last.retry || ctx.Err() != nil {
			break
		}
	}
	return last.resp, c.wrap(api, id, sent, last.err)
}

// ctxEnded builds the error for a context that ended between attempts.
func ctxEnded(ctxErr, lastErr error) error {
	if lastErr == nil {
		return fmt.Errorf("%w: %w", ErrNotSent, ctxErr)
	}
	return fmt.Errorf("%w (last attempt: %w)", ctxErr, lastErr)
}

func (c *Client) wrap(api API, id callID, attempts int, err error) error {
	prefix := joinNonEmpty(string(api), id.String())
	if attempts > 1 {
		prefix += fmt.Sprintf(" after %d attempts", attempts)
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// backoff returns the jittered wait before attempt retryNo+1.
func (c *Client) backoff(retryNo int) time.Duration {
	ceiling := c.retry.BaseBackoff
	for i := 1; i < retryNo && ceiling < c.retry.MaxBackoff; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, c.retry.MaxBackoff)
	d := c.retry.Jitter(ceiling)
	return max(0, min(d, ceiling))
}

func (c *Client) attempt(ctx context.Context, api API, path string, id callID, n int, body []byte, decode func([]byte) (any, error)) (res attemptResult) {
	start := c.now()
	defer func() {
		dur := c.now().Sub(start)
		c.report(api, path, id, n, res, dur, body)
	}()

	actx, cancel := context.WithTimeout(ctx, c.timeouts[api])
	defer cancel()
	r, failed := c.send(ctx, actx, path, start, body)
	if failed != nil {
		return *failed
	}
	return c.interpret(api, path, r, decode)
}

// sent is what came back for one attempt: the HTTP status, the response
// headers and the raw body (read up to maxBody+1 bytes).
type sent struct {
	status int
	header http.Header
	raw    []byte
}

// send authenticates body (signs it, or puts the API key in) and posts it;
// a non-nil attemptResult means nothing usable came back (a transport
// failure, or nothing was sent).
func (c *Client) send(ctx, actx context.Context, path string, start time.Time, body []byte) (sent, *attemptResult) {
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.baseURL+path, bytes.NewReader(body))
	if err == nil {
		err = c.authorize(req.Header, path, start, body)
	}
	if err != nil {
		// Not retryable and nothing was sent; keep it out of the Unknown class.
		return sent{}, &attemptResult{err: fmt.Errorf("%w: %w", ErrNotSent, err), class: ClassTransport}
	}
	req.Header.Set(HeaderContentType, ContentTypeJSON)
	req.Header.Set("User-Agent", userAgent)

	resp, err := c.hc.Do(req)
	if err != nil {
		f := transportFailure(ctx, actx, 0, err)
		return sent{}, &f
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		f := transportFailure(ctx, actx, resp.StatusCode, fmt.Errorf("read response: %w", err))
		return sent{}, &f
	}
	return sent{status: resp.StatusCode, header: resp.Header, raw: raw}, nil
}

// interpret turns what came back into an attempt result: only a verified,
// well-formed body with a result object is an answer; anything else is a
// transport failure, retried when the outcome may have been lost.
func (c *Client) interpret(api API, path string, r sent, decode func([]byte) (any, error)) attemptResult {
	status, raw := r.status, r.raw
	ok2xx := status >= 200 && status <= 299
	statusFailure := func(cause error) attemptResult {
		return attemptResult{
			err:    &TransportError{Class: ClassHTTPStatus, StatusCode: status, Err: cause},
			retry:  status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout,
			class:  ClassHTTPStatus,
			status: status,
		}
	}
	broken := func(class string, cause error) attemptResult {
		return attemptResult{err: &TransportError{Class: class, StatusCode: status, Err: cause}, retry: true, class: class, status: status}
	}
	if int64(len(raw)) > c.maxBody {
		if !ok2xx {
			return statusFailure(fmt.Errorf("%s; body larger than %d bytes", http.StatusText(status), c.maxBody))
		}
		return broken(ClassMalformed, fmt.Errorf("response body larger than %d bytes", c.maxBody))
	}
	if verr := c.verifyResponse(r.header, path, raw); verr != nil {
		if !ok2xx {
			return statusFailure(fmt.Errorf("%s; response not verified: %w", http.StatusText(status), verr))
		}
		return broken(ClassUnverified, fmt.Errorf("%w: %w", ErrResponseUnverified, verr))
	}
	var env struct {
		Result *Result `json:"result"`
	}
	decoded, derr := decode(raw)
	if derr == nil {
		derr = json.Unmarshal(raw, &env)
	}
	if derr == nil && env.Result == nil {
		derr = errors.New("no result object")
	}
	if derr != nil {
		if !ok2xx {
			return statusFailure(fmt.Errorf("%s; signed body unusable: %w", http.StatusText(status), derr))
		}
		return broken(ClassMalformed, fmt.Errorf("verified response is not a valid %s body: %w", api, derr))
	}
	result := *env.Result
	outcome, malformed := classify(result)
	if malformed && !ok2xx {
		return statusFailure(fmt.Errorf("%s; signed body has malformed result %+v", http.StatusText(status), result))
	}
	res := attemptResult{resp: decoded, raw: raw, code: result.ResultCode, status: status}
	if outcome == Succeeded {
		return res
	}
	res.err = newResultError(api, result)
	if outcome == Unknown && !malformed && clientRetryable[result.ResultCode] {
		res.retry = true
		res.throttle = result.ResultCode == CodeRequestTrafficExceed
	}
	return res
}

// verifyResponse authenticates a response: Signature present and valid over
// "POST <path>\n<Client-Id>.<Response-Time>.<raw body>" with the gateway key,
// and the response Client-Id equal to ours. Under an API key responses are
// not signed and there is nothing to verify.
func (c *Client) verifyResponse(h http.Header, path string, raw []byte) error {
	if !c.apiKey.IsZero() {
		return nil
	}
	sig := h.Get(HeaderSignature)
	if sig == "" {
		return ErrSignatureMissing
	}
	cid, rt := h.Get(HeaderClientID), h.Get(HeaderResponseTime)
	if rt == "" {
		return errors.New("Response-Time header missing")
	}
	if _, err := Verify(c.gwPub, sig, http.MethodPost, path, cid, rt, raw); err != nil {
		return err
	}
	if cid != c.clientID {
		return fmt.Errorf("response Client-Id %q is not ours (%q)", cid, c.clientID)
	}
	return nil
}

func transportFailure(ctx, actx context.Context, status int, err error) attemptResult {
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		return attemptResult{err: &TransportError{Class: ClassCanceled, StatusCode: status, Err: err}, class: ClassCanceled, status: status}
	case errors.Is(actx.Err(), context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return attemptResult{err: &TransportError{Class: ClassTimeout, StatusCode: status, Err: err}, retry: true, class: ClassTimeout, status: status}
	default:
		return attemptResult{err: &TransportError{Class: ClassTransport, StatusCode: status, Err: err}, retry: true, class: ClassTransport, status: status}
	}
}

// report logs the attempt and calls the Observer. It never logs keys,
// signatures or raw bodies; bodies appear only redacted and only at V(4).
func (c *Client) report(api API, path string, id callID, n int, res attemptResult, dur time.Duration, reqBody []byte) {
	if c.obs != nil {
		c.obs.ObserveAttempt(Attempt{
			API: api, Attempt: n, Code: res.code, Class: res.class,
			HTTPStatus: res.status, Duration: dur, Err: res.err,
		})
	}
	if log := c.log.V(1); log.Enabled() {
		kv := []any{"api", string(api), "path", path, "attempt", n, "durationMs", dur.Milliseconds()}
		if id.key != "" {
			kv = append(kv, id.key, id.value)
		}
		if res.code != "" {
			kv = append(kv, "resultCode", res.code)
		}
		if res.class != "" {
			kv = append(kv, "errorClass", res.class)
		}
		if res.status != 0 {
			kv = append(kv, "httpStatus", res.status)
		}
		if res.err != nil {
			kv = append(kv, "retry", res.retry)
		}
		log.Info("gateway attempt", kv...)
	}
	if log := c.log.V(4); log.Enabled() {
		kv := []any{"api", string(api), "attempt", n, "request", string(RedactJSON(reqBody))}
		if res.raw != nil {
			kv = append(kv, "response", string(RedactJSON(res.raw)))
		}
		log.Info("gateway attempt bodies (redacted)", kv...)
	}
}
