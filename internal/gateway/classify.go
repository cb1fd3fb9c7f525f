package gateway

import (
	"errors"
	"fmt"
	"strconv"
)

// Outcome is what a caller may conclude from a gateway call.
type Outcome int

const (
	// Unknown: the operation may or may not have happened at the gateway.
	// Re-send the identical request (same idempotency id), call the matching
	// inquiry API, or wait for the notification. Never treat Unknown as a
	// failure and never mint a new idempotency id while the state is Unknown.
	Unknown Outcome = iota
	// Succeeded: the gateway answered result status S.
	Succeeded
	// Failed: the gateway answered result status F; final for that request id.
	Failed
)

// String returns "Succeeded", "Failed" or "Unknown".
func (o Outcome) String() string {
	switch o {
	case Succeeded:
		return "Succeeded"
	case Failed:
		return "Failed"
	default:
		return "Unknown"
	}
}

// Classify maps a result envelope to an Outcome: S → Succeeded, F → Failed,
// U → Unknown. Anything malformed is Unknown: an empty code, a status other
// than exactly S, F or U, or a code that the Codes table knows under a
// different status (e.g. SUCCESS with F).
func Classify(r Result) Outcome {
	o, _ := classify(r)
	return o
}

// classify also reports whether the result was malformed.
func classify(r Result) (o Outcome, malformed bool) {
	if r.ResultCode == "" {
		return Unknown, true
	}
	if info, known := Codes[r.ResultCode]; known && info.Status != r.ResultStatus {
		return Unknown, true
	}
	switch r.ResultStatus {
	case StatusSuccess:
		return Succeeded, false
	case StatusFail:
		return Failed, false
	case StatusUnknown:
		return Unknown, false
	default:
		return Unknown, true
	}
}

// clientRetryable lists the U codes the client re-sends by itself (same
// body, same idempotency id). The *_IN_PROCESS codes are deliberately absent:
// they describe a state the caller must act on (redirect the user, poll the
// inquiry API, wait for the notification), so they are returned at once.
var clientRetryable = map[string]bool{
	CodeUnknownException:     true,
	CodeRequestTrafficExceed: true,
}

// inProcessCodes are the U codes that mean "accepted, still being processed".
var inProcessCodes = map[string]bool{
	CodePaymentInProcess: true,
	CodeCaptureInProcess: true,
	CodeRefundInProcess:  true,
}

// ResultError is returned when the gateway answered with a verified response
// whose result is not S. The typed client methods return it together with the
// decoded response body, so the caller still sees e.g. the normalUrl of a
// PAYMENT_IN_PROCESS answer.
type ResultError struct {
	API     API
	Code    string // resultCode
	Status  string // resultStatus: F, U, or whatever malformed value was sent
	Message string // resultMessage
	// Terminal is true for F results whose code is not retryable in the
	// Codes table: the request with this idempotency id has definitively
	// failed and re-sending it cannot change that. For the inquiry APIs it
	// means the *query* failed (e.g. ORDER_NOT_EXIST), not the payment.
	Terminal bool
}

func newResultError(api API, r Result) *ResultError {
	e := &ResultError{API: api, Code: r.ResultCode, Status: r.ResultStatus, Message: scrubCredentials(r.ResultMessage)}
	if Classify(r) == Failed {
		e.Terminal = !Codes[r.ResultCode].Retryable
	}
	return e
}

// Error renders e.g. `gateway answered F/ORDER_IS_CLOSED: The order is closed.`
func (e *ResultError) Error() string {
	status := e.Status
	if status != StatusSuccess && status != StatusFail && status != StatusUnknown {
		status = strconv.Quote(status) // malformed: make it visible
	}
	code := e.Code
	if code == "" {
		code = "(no resultCode)"
	}
	s := "gateway answered " + status + "/" + code
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Outcome is Classify of the result the error carries.
func (e *ResultError) Outcome() Outcome {
	return Classify(Result{ResultCode: e.Code, ResultStatus: e.Status})
}

// InProcess reports whether the result is one of the *_IN_PROCESS U codes.
func (e *ResultError) InProcess() bool {
	return e.Status == StatusUnknown && inProcessCodes[e.Code]
}

// Error classes for failures that carry no verified result. They appear in
// TransportError.Class and in Attempt.Class.
const (
	ClassTransport  = "transport"   // connection refused/reset/dropped, EOF, TLS...
	ClassTimeout    = "timeout"     // the per-attempt timeout expired
	ClassCanceled   = "canceled"    // the caller's context ended during the attempt
	ClassHTTPStatus = "http_status" // non-2xx status without a verified, parsable result
	ClassUnverified = "unverified"  // 2xx response whose signature is missing/wrong, or Client-Id differs
	ClassMalformed  = "malformed"   // verified response that is not valid JSON for the API, or too large
)

// ErrResponseUnverified means the response could not be authenticated: the
// Signature header was missing or did not verify with the gateway public key,
// or the response Client-Id was not ours. The request may nevertheless have
// been processed, so the outcome is Unknown.
var ErrResponseUnverified = errors.New("gateway response not verified")

// ErrInvalidRequest means the client refused the request before sending it
// (e.g. a missing idempotency id or more than 10 declaration ids). Nothing was
// sent; IsTerminal reports true because the same input always fails.
var ErrInvalidRequest = errors.New("invalid gateway request")

// ErrNotSent means the call ended (context cancelled or deadline exceeded
// while waiting for the rate limiter) before any attempt reached the wire.
// The gateway has certainly not processed it; IsUnknown reports false.
var ErrNotSent = errors.New("gateway request not sent")

// TransportError is an attempt that produced no verified result: the outcome
// is Unknown because the gateway may have processed the request.
type TransportError struct {
	Class      string // one of the Class* constants
	StatusCode int    // HTTP status, 0 if no response was received
	Err        error
}

func (e *TransportError) Error() string {
	if e.StatusCode != 0 && e.Class == ClassHTTPStatus {
		return fmt.Sprintf("%s (HTTP %d): %v", e.Class, e.StatusCode, e.Err)
	}
	return e.Class + ": " + e.Err.Error()
}

func (e *TransportError) Unwrap() error { return e.Err }

// IsUnknown reports whether err leaves the operation's outcome unknown (it
// may have committed at the gateway): U results (including *_IN_PROCESS),
// malformed results, transport errors, timeouts, non-2xx responses without a
// verified result, unverifiable responses, and a context that ended after a
// request was sent. It is false for nil, F results, ErrInvalidRequest and
// ErrNotSent.
func IsUnknown(err error) bool {
	if err == nil {
		return false
	}
	var re *ResultError
	if errors.As(err, &re) {
		return re.Outcome() == Unknown
	}
	var te *TransportError
	return errors.As(err, &te)
}

// IsTerminal reports whether err is a definitive failure that re-sending the
// same request cannot change: an F result with a non-retryable code, or a
// request the client refused to send (ErrInvalidRequest).
func IsTerminal(err error) bool {
	if err == nil {
		return false
	}
	var re *ResultError
	if errors.As(err, &re) {
		return re.Terminal
	}
	return errors.Is(err, ErrInvalidRequest)
}

// IsInProcess reports whether err is a PAYMENT_IN_PROCESS, CAPTURE_IN_PROCESS
// or REFUND_IN_PROCESS result: the gateway accepted the request and it is
// being processed. Not a failure; the typed method also returned the
// response body (e.g. Pay's normalUrl/redirectActionForm to send the user to).
func IsInProcess(err error) bool {
	var re *ResultError
	return errors.As(err, &re) && re.InProcess()
}

// Code returns the gateway resultCode carried by err, or "" if err carries
// no verified result.
func Code(err error) string {
	var re *ResultError
	if errors.As(err, &re) {
		return re.Code
	}
	return ""
}

// credentialCodes are the F answers that refuse the request's credentials
// (the connection's Client-Id, signature, key version or API key) rather
// than the operation: nothing was processed, and the same request succeeds
// once the credentials are fixed.
var credentialCodes = map[string]bool{
	CodeClientInvalid: true, CodeSignatureInvalid: true, CodeKeyNotFound: true, CodeOAuthFail: true,
}

// CredentialsRejected reports whether err is the gateway refusing the
// connection's credentials (CLIENT_INVALID, SIGNATURE_INVALID,
// KEY_NOT_FOUND, OAUTH_FAIL): a revoked or wrong key, not a business
// failure of the request.
func CredentialsRejected(err error) bool {
	var re *ResultError
	return errors.As(err, &re) && re.Status == StatusFail && credentialCodes[re.Code]
}

// OutcomeOf maps a typed method's error to an Outcome: nil → Succeeded; a
// ResultError → its result's outcome (F → Failed); ErrInvalidRequest →
// Failed; everything else (transport, unverified, cancelled, not sent) →
// Unknown.
func OutcomeOf(err error) Outcome {
	if err == nil {
		return Succeeded
	}
	var re *ResultError
	if errors.As(err, &re) {
		return re.Outcome()
	}
	if errors.Is(err, ErrInvalidRequest) {
		return Failed
	}
	return Unknown
}
