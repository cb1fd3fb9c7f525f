package gateway

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// Reasons VerifyNotification refuses a notification. Every returned error
// wraps exactly one of them (check with errors.Is, or map with
// NotificationRejectReason).
var (
	ErrNotificationMethod        = errors.New("notification method is not POST")
	ErrNotificationContentType   = errors.New("notification content type is not application/json")
	ErrNotificationMissingHeader = errors.New("notification header missing")
	ErrNotificationBadTime       = errors.New("notification Request-Time unparsable")
	ErrNotificationStale         = errors.New("notification Request-Time too old")
	ErrNotificationFuture        = errors.New("notification Request-Time too far in the future")
	ErrNotificationSignature     = errors.New("notification signature invalid")
)

// NotificationRequest is what the receiver got on the wire.
type NotificationRequest struct {
	Method string
	// Path is the request path as received, domain excluded (e.g.
	// "/notify/payment"); add "?query" if the registered notify URL had one.
	// The gateway signs the path of the notify URL, so a receiver behind a
	// path-rewriting proxy must pass the external path.
	Path   string
	Header http.Header
	// Body is the exact raw body; never a re-serialisation.
	Body []byte
}

// NotificationRequestFromHTTP reads r's body (at most maxBody bytes; 0 means
// 1 MiB) and returns the NotificationRequest to verify.
func NotificationRequestFromHTTP(r *http.Request, maxBody int64) (NotificationRequest, error) {
	if maxBody <= 0 {
		maxBody = defaultMaxResponseBytes
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return NotificationRequest{}, fmt.Errorf("read notification body: %w", err)
	}
	if int64(len(body)) > maxBody {
		return NotificationRequest{}, fmt.Errorf("notification body larger than %d bytes", maxBody)
	}
	path := r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	return NotificationRequest{Method: r.Method, Path: path, Header: r.Header, Body: body}, nil
}

// VerifyNotification authenticates a notification sent by the gateway and
// returns its Client-Id. Checks, in order: method POST; Content-Type
// application/json (a charset parameter, if any, must be UTF-8); Client-Id,
// Request-Time and Signature headers present; Request-Time parsable
// (ParseRequestTime); the signature verifies with pub over
// "POST <Path>\n<Client-Id>.<Request-Time>.<raw body>"; and, only for an
// authentic message and when window > 0, Request-Time within ±window of now.
// The caller should also check that the returned client id is its own.
func VerifyNotification(pub *rsa.PublicKey, r NotificationRequest, now time.Time, window time.Duration) (clientID string, err error) {
	if r.Method != http.MethodPost {
		return "", fmt.Errorf("%w: %q", ErrNotificationMethod, r.Method)
	}
	ct := r.Header.Get(HeaderContentType)
	mt, params, perr := mime.ParseMediaType(ct)
	if perr != nil || mt != "application/json" {
		return "", fmt.Errorf("%w: %q", ErrNotificationContentType, ct)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return "", fmt.Errorf("%w: charset %q", ErrNotificationContentType, cs)
	}
	clientID = r.Header.Get(HeaderClientID)
	reqTime := r.Header.Get(HeaderRequestTime)
	sig := r.Header.Get(HeaderSignature)
	var missing []string
	for _, h := range []struct{ name, v string }{{HeaderClientID, clientID}, {HeaderRequestTime, reqTime}, {HeaderSignature, sig}} {
		if h.v == "" {
			missing = append(missing, h.name)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("%w: %s", ErrNotificationMissingHeader, strings.Join(missing, ", "))
	}
	t, terr := ParseRequestTime(reqTime)
	if terr != nil {
		return "", fmt.Errorf("%w: %v", ErrNotificationBadTime, terr)
	}
	if _, verr := Verify(pub, sig, http.MethodPost, r.Path, clientID, reqTime, r.Body); verr != nil {
		return "", fmt.Errorf("%w: %w", ErrNotificationSignature, verr)
	}
	if window > 0 {
		switch skew := now.Sub(t); {
		case skew > window:
			return "", fmt.Errorf("%w: sent %v before now, window %v", ErrNotificationStale, skew, window)
		case -skew > window:
			return "", fmt.Errorf("%w: sent %v after now, window %v", ErrNotificationFuture, -skew, window)
		}
	}
	return clientID, nil
}

// NotificationRejectReason maps a VerifyNotification error to a short metrics
// label: "method", "content_type", "missing_header", "bad_time", "stale",
// "future", "signature"; "" for nil and "other" for anything else.
func NotificationRejectReason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrNotificationMethod):
		return "method"
	case errors.Is(err, ErrNotificationContentType):
		return "content_type"
	case errors.Is(err, ErrNotificationMissingHeader):
		return "missing_header"
	case errors.Is(err, ErrNotificationBadTime):
		return "bad_time"
	case errors.Is(err, ErrNotificationStale):
		return "stale"
	case errors.Is(err, ErrNotificationFuture):
		return "future"
	case errors.Is(err, ErrNotificationSignature):
		return "signature"
	default:
		return "other"
	}
}

// Notification kinds returned by ParseNotification.
const (
	KindNotifyPayment = "notifyPayment"
	KindNotifyCapture = "notifyCapture"
	KindNotifyRefund  = "notifyRefund"
	KindNotifyDispute = "notifyDispute"
)

// NotifyTypeOfflinePaymentCode is a legacy notifyPayment notifyType.
const NotifyTypeOfflinePaymentCode = "OFFLINE_PAYMENT_CODE"

// ErrNotificationUnknown means the body is JSON but no known notification;
// ErrNotificationMalformed means it is not JSON or lacks the identifying ids.
var (
	ErrNotificationUnknown   = errors.New("unknown notification type")
	ErrNotificationMalformed = errors.New("malformed notification body")
)

// ParseNotification tells the five notifications apart and decodes the body:
//
//	notifyType PAYMENT_RESULT, PAYMENT_PENDING, OFFLINE_PAYMENT_CODE → "notifyPayment", *NotifyPayment
//	notifyType CAPTURE_RESULT                                        → "notifyCapture", *NotifyCapture
//	notifyType REFUND_RESULT                                         → "notifyRefund",  *NotifyRefund
//	no notifyType, disputeNotificationType present                    → "notifyDispute", *NotifyDispute
//	no notifyType, registrationRequestId present                      → "notifyRegistrationStatus", *NotifyRegistrationStatus
//
// It checks the ids a receiver needs to route the notification
// (paymentRequestId or paymentId; captureRequestId; refundRequestId;
// disputeId) and, for the non-dispute kinds, that result.resultStatus is S or
// F (the gateway never notifies U). Verify the signature first.
func ParseNotification(body []byte) (kind string, v any, err error) {
	var probe struct {
		NotifyType              *string `json:"notifyType"`
		DisputeNotificationType string  `json:"disputeNotificationType"`
		RegistrationRequestID   string  `json:"registrationRequestId"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return "", nil, fmt.Errorf("%w: %v", ErrNotificationMalformed, err)
	}
	nt := ""
	if probe.NotifyType != nil {
		nt = *probe.NotifyType
	}
	switch {
	case nt == NotifyTypePaymentResult || nt == NotifyTypePaymentPending || nt == NotifyTypeOfflinePaymentCode:
		n := new(NotifyPayment)
		return decodeNotification(body, KindNotifyPayment, n, &n.Result, func() bool { return n.PaymentRequestID != "" || n.PaymentID != "" },
			"notifyPayment without paymentRequestId and paymentId")
	case nt == NotifyTypeCaptureResult:
		n := new(NotifyCapture)
		return decodeNotification(body, KindNotifyCapture, n, &n.Result, func() bool { return n.CaptureRequestID != "" },
			"notifyCapture without captureRequestId")
	case nt == NotifyTypeRefundResult:
		n := new(NotifyRefund)
		return decodeNotification(body, KindNotifyRefund, n, &n.Result, func() bool { return n.RefundRequestID != "" },
			"notifyRefund without refundRequestId")
	case nt == "" && probe.DisputeNotificationType != "":
		n := new(NotifyDispute)
		return decodeNotification(body, KindNotifyDispute, n, nil, func() bool { return n.DisputeID != "" },
			"notifyDispute without disputeId")
	case nt == "" && probe.RegistrationRequestID != "":
		n := new(NotifyRegistrationStatus)
		return decodeNotification(body, KindNotifyRegistrationStatus, n, nil, func() bool { return true }, "")
	case nt != "":
		return "", nil, fmt.Errorf("%w: notifyType %q", ErrNotificationUnknown, nt)
	default:
		return "", nil, fmt.Errorf("%w: neither notifyType, disputeNotificationType nor registrationRequestId", ErrNotificationUnknown)
	}
}

// decodeNotification decodes body into dst, then checks that the routing id
// is present (routed) and, when result is given, that result.resultStatus is
// S or F.
func decodeNotification(body []byte, kind string, dst any, result *Result, routed func() bool, missing string) (string, any, error) {
	if err := json.Unmarshal(body, dst); err != nil {
		return "", nil, fmt.Errorf("%w: %v", ErrNotificationMalformed, err)
	}
	if !routed() {
		return "", nil, fmt.Errorf("%w: %s", ErrNotificationMalformed, missing)
	}
	if result != nil && result.ResultStatus != StatusSuccess && result.ResultStatus != StatusFail {
		return "", nil, fmt.Errorf("%w: result.resultStatus %q, want S or F", ErrNotificationMalformed, result.ResultStatus)
	}
	return kind, dst, nil
}
