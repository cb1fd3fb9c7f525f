// Package ids derives the gateway idempotency ids from Kubernetes object UIDs
// and builds the notify URLs that route gateway notifications back to the
// object. Both sides (the controllers that send requests and the
// notification-receiver that routes notifications) use these functions, so
// the conventions live in one place.
package ids

import (
	"encoding/base32"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/uuid"
	"k8s.io/apimachinery/pkg/types"
)

// Prefixes of the derived ids; they tell the operation apart at a glance in
// gateway dashboards and keep ids of different kinds from colliding.
const (
	prefixPayment     = "pay"
	prefixCapture     = "cap"
	prefixAutoCapture = "acap"
	prefixRefund      = "ref"
	prefixDeclaration = "dcl"
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// fromUID renders a UID's 16 bytes as 26 base32 letters and digits: no
// special characters, which the gateway does not support in request ids.
func fromUID(prefix string, uid types.UID) (string, error) {
	u, err := uuid.Parse(string(uid))
	if err != nil {
		return "", fmt.Errorf("object UID %q is not a UUID: %w", uid, err)
	}
	return prefix + strings.ToLower(b32.EncodeToString(u[:])), nil
}

// PaymentRequestID is the pay idempotency id: the spec's, or one derived
// from the UID (29 characters).
func PaymentRequestID(specID string, uid types.UID) (string, error) {
	if specID != "" {
		return specID, nil
	}
	return fromUID(prefixPayment, uid)
}

// CaptureRequestID is the captureRequestId of a Capture object.
func CaptureRequestID(uid types.UID) (string, error) { return fromUID(prefixCapture, uid) }

// AutoCaptureRequestID is the captureRequestId the Payment controller uses
// to capture an authorization in captureMode Automatic.
func AutoCaptureRequestID(paymentUID types.UID) (string, error) {
	return fromUID(prefixAutoCapture, paymentUID)
}

// RefundRequestID is the refundRequestId of a Refund object.
func RefundRequestID(uid types.UID) (string, error) { return fromUID(prefixRefund, uid) }

// DeclarationRequestID is the declarationRequestId of a CustomsDeclaration
// (29 characters; the gateway allows 32).
func DeclarationRequestID(uid types.UID) (string, error) { return fromUID(prefixDeclaration, uid) }

// Notify routes. The gateway signs the path it posts to, so the object named
// in the path cannot be altered by anyone without the gateway's key.
const (
	// RouteBase is the path prefix the receiver serves.
	RouteBase = "/notify"
	// KindPayment routes notifyPayment and notifyCapture (both go to the
	// pay request's paymentNotifyUrl).
	KindPayment = "payment"
	// KindRefund routes notifyRefund (the refund request's refundNotifyUrl).
	KindRefund = "refund"
)

// NotifyURL builds <base>/notify/<kind>/<namespace>/<name>. An empty base
// gives "" (no notify URL: the operator then polls and the gateway falls
// back to the dashboard-configured URL).
func NotifyURL(base, kind, namespace, name string) string {
	if base == "" {
		return ""
	}
	return strings.TrimRight(base, "/") + RouteBase + "/" + kind + "/" + url.PathEscape(namespace) + "/" + url.PathEscape(name)
}

// ErrNoRoute means a path is not an object route (the default route, or garbage).
var ErrNoRoute = errors.New("not an object route")

// ParseRoute reads kind, namespace and name from a notify path that ends in
// /notify/<kind>/<namespace>/<name> (anything before /notify is the
// receiver's external prefix and is ignored).
func ParseRoute(path string) (kind string, key types.NamespacedName, err error) {
	// The route is the last four segments, so that a namespace or name
	// that is itself "notify" parses too.
	segs := strings.Split(path, "/")
	if len(segs) < 5 || "/"+segs[len(segs)-4] != RouteBase {
		return "", key, ErrNoRoute
	}
	parts := segs[len(segs)-3:]
	if parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", key, ErrNoRoute
	}
	ns, err1 := url.PathUnescape(parts[1])
	name, err2 := url.PathUnescape(parts[2])
	if err1 != nil || err2 != nil {
		return "", key, ErrNoRoute
	}
	switch parts[0] {
	case KindPayment, KindRefund:
	default:
		return "", key, fmt.Errorf("%w: unknown kind %q", ErrNoRoute, parts[0])
	}
	return parts[0], types.NamespacedName{Namespace: ns, Name: name}, nil
}
