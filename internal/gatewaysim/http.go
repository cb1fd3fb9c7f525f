package gatewaysim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// apiDef is one of the fifteen APIs (nine for payments and customs, three
// for disputes, three for merchant registration).
type apiDef struct {
	name   string
	path   string
	handle func(s *Simulator, c *call) answer
}

var apiDefs = []*apiDef{
	{"consult", gateway.PathConsult, (*Simulator).apiConsult},
	{"pay", gateway.PathPay, (*Simulator).apiPay},
	{"capture", gateway.PathCapture, (*Simulator).apiCapture},
	{"inquiryPayment", gateway.PathInquiryPayment, (*Simulator).apiInquiryPayment},
	{"cancel", gateway.PathCancel, (*Simulator).apiCancel},
	{"refund", gateway.PathRefund, (*Simulator).apiRefund},
	{"inquiryRefund", gateway.PathInquiryRefund, (*Simulator).apiInquiryRefund},
	{"declare", gateway.PathDeclare, (*Simulator).apiDeclare},
	{"inquiryDeclarationRequests", gateway.PathInquiryDeclarationRequests, (*Simulator).apiInquiryDeclarations},
	{"acceptDispute", gateway.PathAcceptDispute, (*Simulator).apiAcceptDispute},
	{"supplyDefenseDocument", gateway.PathSupplyDefenseDocument, (*Simulator).apiSupplyDefenseDocument},
	{"downloadDisputeEvidence", gateway.PathDownloadDisputeEvidence, (*Simulator).apiDownloadDisputeEvidence},
	{"registration", gateway.PathRegistration, (*Simulator).apiRegistration},
	{"inquiryRegistrationStatus", gateway.PathInquiryRegistrationStatus, (*Simulator).apiInquiryRegistrationStatus},
	{"inquiryRegistrationInfo", gateway.PathInquiryRegistrationInfo, (*Simulator).apiInquiryRegistrationInfo},
}

var (
	apiByPath = map[string]*apiDef{}
	apiByName = map[string]*apiDef{}
)

func init() {
	for _, a := range apiDefs {
		apiByPath[a.path] = a
		apiByName[a.name] = a
	}
}

// Prefixes lists the path prefixes the simulator serves the APIs under.
var Prefixes = []string{gateway.PrefixProduction, gateway.PrefixSandbox, gateway.PrefixAlipayPlus}

// call is one API request being served.
type call struct {
	m         *merchant
	api       string
	clientID  string
	body      []byte
	now       time.Time
	baseURL   string
	requestID string // idempotency id or payment id, for the log
}

// answer is what an API handler produces.
type answer struct {
	result gateway.Result
	body   any    // marshalled when raw is nil
	raw    []byte // an earlier answer replayed as is
	status int    // HTTP status when not 200 (a refused API key: 401)
}

type errorBody struct {
	Result gateway.Result `json:"result"`
}

func fail(code, msg string) answer {
	r := resultMsg(code, msg)
	return answer{result: r, body: errorBody{Result: r}}
}

// refusal is a request check's verdict when it refuses: the result code and
// message the gateway answers with. A check returns nil to let the request on.
type refusal struct{ code, msg string }

func refuse(code, msg string) *refusal { return &refusal{code: code, msg: msg} }

func (r *refusal) answer() answer { return fail(r.code, r.msg) }

func ok(r gateway.Result, body any) answer { return answer{result: r, body: body} }

// Handler serves the APIs under every prefix in Prefixes, the checkout
// pages under /checkout/ and the control API under /_sim/.
func (s *Simulator) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Simulator) serveHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/_sim/") || p == "/_sim":
		s.serveControl(w, r)
		return
	case strings.HasPrefix(p, "/checkout/"):
		s.serveCheckout(w, r)
		return
	}
	for _, pre := range Prefixes {
		if strings.HasPrefix(p, pre+"/") {
			rest := p[len(pre):]
			for strings.Contains(rest, "//") {
				rest = strings.ReplaceAll(rest, "//", "/")
			}
			s.serveAPI(w, r, apiByPath[rest])
			return
		}
	}
	if p == "/" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "alipay-sim: Antom/Alipay AMS gateway simulator\nAPIs under %s\ncontrol API under /_sim/ (see docs/simulator.md)\n",
			strings.Join(Prefixes, ", "))
		return
	}
	http.NotFound(w, r)
}

func isJSONContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// apiOutcome is what serveAPI did with a call, for its log line.
type apiOutcome struct {
	ans    answer
	fault  string // the fault injected, if any
	status int    // HTTP status; 0 when the connection was dropped
}

func (s *Simulator) serveAPI(w http.ResponseWriter, r *http.Request, api *apiDef) {
	start := time.Now()
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	c := &call{clientID: r.Header.Get(gateway.HeaderClientID), now: s.clock.Now(), baseURL: scheme + "://" + r.Host}
	apiName := "unknown"
	if api != nil {
		apiName = api.name
		c.api = api.name
	}
	path := r.URL.EscapedPath()
	if r.Header.Get(gateway.HeaderAuthorization) != "" {
		w = unsignedWriter{w} // an API-key call: its answer is not signed
	}
	out := apiOutcome{status: http.StatusOK}
	defer func() {
		s.log.Info("api call", "api", apiName, "clientId", c.clientID, "requestId", c.requestID,
			"resultCode", out.ans.result.ResultCode, "resultStatus", out.ans.result.ResultStatus,
			"httpStatus", out.status, "fault", out.fault, "duration", time.Since(start))
	}()

	body, err := io.ReadAll(io.LimitReader(r.Body, 2<<20))
	if err != nil {
		out.ans = fail(gateway.CodeParamIllegal, "cannot read request body: "+err.Error())
		s.writeSigned(w, r.Method, path, c.clientID, out.ans)
		return
	}
	c.body = body
	if out.ans = s.admit(r, c, api, path); out.ans.result.ResultCode != "" {
		out.status = max(out.status, out.ans.status)
		s.writeSigned(w, r.Method, path, c.clientID, out.ans)
		return
	}
	f := s.Faults()
	faulty := f.appliesTo(api.name)
	if faulty && s.faultBefore(w, r, c, f, &out) {
		return
	}
	out.ans = api.handle(s, c)
	if faulty && f.ResponseLost > 0 && s.chance(f.ResponseLost) {
		out.fault = "responseLost"
		out.status = loseResponse(w, f.ResponseLostMode)
		return
	}
	s.writeSigned(w, r.Method, path, c.clientID, out.ans)
}

// admit checks what every API call needs before its handler runs: a known
// API, POST, a JSON body and the merchant's signature. It returns an answer
// with a result only on refusal.
func (s *Simulator) admit(r *http.Request, c *call, api *apiDef, path string) answer {
	switch {
	case api == nil:
		return fail(gateway.CodeAPIInvalid, fmt.Sprintf("no API at %s", r.URL.Path))
	case r.Method != http.MethodPost:
		return fail(gateway.CodeMethodNotSupported, fmt.Sprintf("method %s is not supported; use POST", r.Method))
	case !isJSONContentType(r.Header.Get(gateway.HeaderContentType)):
		return fail(gateway.CodeMediaTypeNotAcceptable,
			fmt.Sprintf("Content-Type %q is not acceptable; use %s", r.Header.Get(gateway.HeaderContentType), gateway.ContentTypeJSON))
	}
	return s.authenticate(r, c, path)
}

// faultBefore applies the fault profile's faults that strike before the
// handler runs (rate limit, latency, a 503, UNKNOWN_EXCEPTION); it reports
// true when it answered the call itself.
func (s *Simulator) faultBefore(w http.ResponseWriter, r *http.Request, c *call, f FaultProfile, out *apiOutcome) bool {
	path := r.URL.EscapedPath()
	if f.RateLimitQPS > 0 && !c.m.allow(c.now, f) {
		out.fault = "rateLimit"
		out.ans = fail(gateway.CodeRequestTrafficExceed, "")
		s.sleepLatency(f)
		s.writeSigned(w, r.Method, path, c.clientID, out.ans)
		return true
	}
	s.sleepLatency(f)
	if f.ServerError > 0 && s.chance(f.ServerError) {
		out.fault = "serverError"
		out.status = http.StatusServiceUnavailable
		http.Error(w, "503 Service Unavailable (simulated fault)", out.status)
		return true
	}
	if f.UnknownException > 0 && s.chance(f.UnknownException) {
		out.fault = "unknownException"
		out.ans = fail(gateway.CodeUnknownException, "")
		s.writeSigned(w, r.Method, path, c.clientID, out.ans)
		return true
	}
	return false
}

// loseResponse drops an answer the handler already acted on: the connection
// is closed without a byte (status 0), or a bare 502 when mode is "502" or
// the connection cannot be taken over.
func loseResponse(w http.ResponseWriter, mode string) int {
	if mode != "502" {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return 0
			}
		}
	}
	w.WriteHeader(http.StatusBadGateway)
	return http.StatusBadGateway
}

func (s *Simulator) sleepLatency(f FaultProfile) {
	d := time.Duration(f.Latency) + s.randDuration(time.Duration(f.LatencyJitter))
	if d > 0 {
		time.Sleep(d)
	}
}

// authenticate checks Client-Id and the request signature. It returns an
// answer with a result only on failure.
func (s *Simulator) authenticate(r *http.Request, c *call, path string) answer {
	if r.Header.Get(gateway.HeaderAuthorization) != "" {
		return s.authenticateAPIKey(r, c)
	}
	if c.clientID == "" {
		return fail(gateway.CodeClientInvalid, "the Client-Id header is missing")
	}
	m := s.merchant(c.clientID)
	if m == nil {
		return fail(gateway.CodeClientInvalid, fmt.Sprintf("client %q is not registered", c.clientID))
	}
	c.m = m
	hdr := r.Header.Get(gateway.HeaderSignature)
	sh, err := gateway.ParseSignatureHeader(hdr)
	if err != nil {
		return fail(gateway.CodeSignatureInvalid, "Signature header: "+err.Error())
	}
	if sh.KeyVersion == "" {
		return fail(gateway.CodeSignatureInvalid, "Signature header has no keyVersion")
	}
	pub := m.key(sh.KeyVersion)
	if pub == nil {
		return fail(gateway.CodeKeyNotFound, fmt.Sprintf("keyVersion %q is not registered for client %q", sh.KeyVersion, c.clientID))
	}
	rt := r.Header.Get(gateway.HeaderRequestTime)
	if rt == "" {
		return fail(gateway.CodeSignatureInvalid, "the Request-Time header is missing")
	}
	if _, err := gateway.ParseRequestTime(rt); err != nil {
		return fail(gateway.CodeSignatureInvalid, "Request-Time: "+err.Error())
	}
	if _, err := gateway.Verify(pub, hdr, r.Method, path, c.clientID, rt, c.body); err != nil {
		if r.URL.RawQuery == "" {
			return fail(gateway.CodeSignatureInvalid, "the signature does not verify over \"POST "+path+"\\n<Client-Id>.<Request-Time>.<body>\"")
		}
		if _, err := gateway.Verify(pub, hdr, r.Method, r.URL.RequestURI(), c.clientID, rt, c.body); err != nil {
			return fail(gateway.CodeSignatureInvalid, "the signature does not verify")
		}
	}
	return answer{}
}

// writeSigned writes a signed answer, HTTP 200 unless ans.status says
// otherwise (unsignedWriter drops the signature of an API-key call).
func (s *Simulator) writeSigned(w http.ResponseWriter, method, path, clientID string, ans answer) {
	body := ans.raw
	if body == nil {
		var err error
		body, err = json.Marshal(ans.body)
		if err != nil {
			body, _ = json.Marshal(errorBody{Result: gateway.NewResult(gateway.CodeUnknownException)})
		}
	}
	rt := gateway.FormatTime(s.clock.Now())
	sig, err := gateway.Sign(s.gwKey, s.gwKeyVersion, method, path, clientID, rt, body)
	h := w.Header()
	h.Set(gateway.HeaderContentType, gateway.ContentTypeJSON)
	h.Set(gateway.HeaderClientID, clientID)
	h.Set(gateway.HeaderResponseTime, rt)
	if err == nil {
		h.Set(gateway.HeaderSignature, sig)
	}
	status := http.StatusOK
	if ans.status != 0 {
		status = ans.status
		h.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// decode unmarshals a request body; the error text names the field.
func decode(body []byte, v any) string {
	if len(strings.TrimSpace(string(body))) == 0 {
		return "the request body is empty"
	}
	err := json.Unmarshal(body, v)
	if err == nil {
		return ""
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("the request body is not valid JSON (offset %d): %v", se.Offset, err)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return fmt.Sprintf("%s: expected %s, got JSON %s", field, te.Type, te.Value)
	}
	return "the request body does not match the API: " + err.Error()
}

// checkID validates an idempotency or reference id.
func checkID(field, v string, max int, required bool) string {
	if v == "" {
		if required {
			return field + " is required"
		}
		return ""
	}
	if len(v) > max {
		return fmt.Sprintf("%s is longer than %d characters", field, max)
	}
	for i := 0; i < len(v); i++ {
		ch := v[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_' || ch == '-') {
			return fmt.Sprintf("%s contains the special character %q (only letters, digits, '_' and '-' are supported)", field, ch)
		}
	}
	return ""
}

// ---- rate limiting ---------------------------------------------------------------

type tokenBucket struct {
	tokens float64
	last   time.Time
}

// allow takes a token from the merchant's bucket (simulated clock).
func (m *merchant) allow(now time.Time, f FaultProfile) bool {
	burst := float64(f.RateLimitBurst)
	if burst <= 0 {
		burst = math.Max(1, math.Ceil(f.RateLimitQPS))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bucket == nil {
		m.bucket = &tokenBucket{tokens: burst, last: now}
	}
	b := m.bucket
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(burst, b.tokens+el.Seconds()*f.RateLimitQPS)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}
