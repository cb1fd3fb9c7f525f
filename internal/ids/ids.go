// Package ids derives the gateway idempotency ids of every object and builds
// the notify URLs that route gateway notifications back to the object. Both
// sides (the controllers that send requests and the notification-receiver
// that matches notifications) use these functions, so the conventions live
// in one place.
//
// # Identity comes from the manifest
//
// A GitOps tool, a Velero restore or a disaster-recovery re-apply re-creates
// objects with new UIDs. The ids sent to the gateway therefore never depend
// on anything the cluster assigns: they are derived from what lives in git,
//
//	prefix + lowercase base32( SHA-256( "cashier-operator/id/v1" NUL scope NUL kind NUL namespace NUL name ) )[:26]
//
// where scope is the GatewayConfig's spec.identityScope (default empty). The
// same manifest applied again yields the same ids, so the gateway answers
// with what it already did (adoption) instead of moving money twice. The 26
// base32 characters keep 130 bits of the hash: a collision between two
// objects is as likely as guessing a 130-bit key. With the 3- or 4-letter
// prefix an id is 29 or 30 characters of [a-z0-9], within every request
// id's documented limit (declarationRequestId: 32) and free of the special
// characters the gateway does not support.
//
// # The derivation is frozen
//
// Changing any byte of it (the version tag, the separators, the prefixes,
// the hash, the length) changes the id of every object not yet sent and of
// every object re-created from git after the change: each would be paid,
// captured, refunded or declared a second time. The table tests in
// ids_test.go pin the exact ids; a change that breaks them must not ship.
//
// # Precedence
//
// An id recorded in the object's status always wins (an object in flight
// keeps the id it was sent with, across operator upgrades; objects created
// by releases that derived ids from UIDs keep theirs), then an explicit id in
// the spec (for merchants whose order system owns the ids), then the derived
// one.
package ids

import (
	"crypto/sha256"
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
	prefixPayment      = "pay"
	prefixCapture      = "cap"
	prefixAutoCapture  = "acap"
	prefixRefund       = "ref"
	prefixDeclaration  = "dcl"
	prefixRegistration = "reg"
)

// Kinds named in the derivation. They are part of the frozen input.
const (
	KindNamePayment      = "Payment"
	KindNameCapture      = "Capture"
	KindNameRefund       = "Refund"
	KindNameDeclaration  = "CustomsDeclaration"
	KindNameRegistration = "MerchantRegistration"
)

// versionTag is the first input of every derived id: the derivation's version.
const versionTag = "cashier-operator/id/v1"

// hashChars is how many base32 characters of the hash an id keeps (130 bits).
const hashChars = 26

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Identity is what an object's ids are derived from: all of it is in git.
type Identity struct {
	// Scope is the GatewayConfig's spec.identityScope ("" by default).
	Scope string
	// Namespace and Name are the object's.
	Namespace, Name string
}

// hashed renders prefix + the first 26 base32 characters of SHA-256 over the
// NUL-separated parts (no part can contain NUL: Kubernetes names,
// namespaces and the identity scope are restricted to [a-z0-9.-]).
func hashed(prefix string, parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(append([]string{versionTag}, parts...), "\x00")))
	return prefix + strings.ToLower(b32.EncodeToString(sum[:]))[:hashChars]
}

func derive(prefix, kind string, id Identity) string {
	return hashed(prefix, id.Scope, kind, id.Namespace, id.Name)
}

// pick returns the first non-empty id: recorded (status), explicit (spec), derived.
func pick(recorded, explicit string, derived func() string) string {
	switch {
	case recorded != "":
		return recorded
	case explicit != "":
		return explicit
	}
	return derived()
}

// PaymentRequestID is a Payment's paymentRequestId: recorded in status,
// else spec.paymentRequestId, else derived from its identity.
func PaymentRequestID(recorded, explicit string, id Identity) string {
	return pick(recorded, explicit, func() string { return derive(prefixPayment, KindNamePayment, id) })
}

// CaptureRequestID is a Capture's captureRequestId.
func CaptureRequestID(recorded, explicit string, id Identity) string {
	return pick(recorded, explicit, func() string { return derive(prefixCapture, KindNameCapture, id) })
}

// RefundRequestID is a Refund's refundRequestId.
func RefundRequestID(recorded, explicit string, id Identity) string {
	return pick(recorded, explicit, func() string { return derive(prefixRefund, KindNameRefund, id) })
}

// DeclarationRequestID is a CustomsDeclaration's declarationRequestId (30
// characters derived; the gateway allows 32).
func DeclarationRequestID(recorded, explicit string, id Identity) string {
	return pick(recorded, explicit, func() string { return derive(prefixDeclaration, KindNameDeclaration, id) })
}

// RegistrationRequestID is a MerchantRegistration's registrationRequestId
// for the registered details whose digest is digest (RegistrationDigest):
// the same manifest gives the same id, and a change to the details a new
// one (a new registration request, as the gateway requires).
func RegistrationRequestID(id Identity, digest string) string {
	return hashed(prefixRegistration, id.Scope, KindNameRegistration, id.Namespace, id.Name, digest)
}

// AutoCaptureRequestID is the captureRequestId the Payment controller uses
// to capture an authorization in captureMode Automatic. It follows the
// payment's own paymentRequestId, so it is as stable as the payment: the
// same manifest, or the same spec.paymentRequestId, gives the same capture
// id. A payment paid with a UID-derived id (before ids came from the
// manifest) keeps the UID-derived capture id it may already have sent.
func AutoCaptureRequestID(paymentRequestID string, uid types.UID) string {
	if legacy, err := LegacyPaymentRequestID(uid); err == nil && legacy == paymentRequestID {
		id, _ := fromUID(prefixAutoCapture, uid)
		return id
	}
	return hashed(prefixAutoCapture, "AutoCapture", paymentRequestID)
}

// LegacyPaymentRequestID is the paymentRequestId that releases before
// manifest identity derived from the object's UID. It is only used to
// recognise such payments; nothing new is ever sent with it.
func LegacyPaymentRequestID(uid types.UID) (string, error) { return fromUID(prefixPayment, uid) }

// fromUID renders a UID's 16 bytes as 26 base32 letters and digits (the
// legacy scheme).
func fromUID(prefix string, uid types.UID) (string, error) {
	u, err := uuid.Parse(string(uid))
	if err != nil {
		return "", fmt.Errorf("object UID %q is not a UUID: %w", uid, err)
	}
	return prefix + strings.ToLower(b32.EncodeToString(u[:])), nil
}

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
	// KindRegistration routes notifyRegistrationStatus (the registration
	// request's registrationNotifyURL) to a MerchantRegistration.
	KindRegistration = "registration"
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
	case KindPayment, KindRefund, KindRegistration:
	default:
		return "", key, fmt.Errorf("%w: unknown kind %q", ErrNoRoute, parts[0])
	}
	return parts[0], types.NamespacedName{Namespace: ns, Name: name}, nil
}

// Derived is the id derived for an object of the named kind (KindName*)
// under scope, ignoring any recorded or explicit id: for tools and tests
// that know an object only by its name. "" for an unknown kind.
func Derived(kind, scope, namespace, name string) string {
	id := Identity{Scope: scope, Namespace: namespace, Name: name}
	switch kind {
	case KindNamePayment:
		return derive(prefixPayment, kind, id)
	case KindNameCapture:
		return derive(prefixCapture, kind, id)
	case KindNameRefund:
		return derive(prefixRefund, kind, id)
	case KindNameDeclaration:
		return derive(prefixDeclaration, kind, id)
	}
	return ""
}
