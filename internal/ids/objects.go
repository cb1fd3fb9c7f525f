package ids

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// The functions below apply the precedence (status, spec, derived) to the
// API objects, for the controllers and the receiver alike. scope is the
// spec.identityScope of the object's GatewayConfig.

// Payment is p's paymentRequestId; "" for an imported payment
// (managementPolicy Observe), whose id is not the operator's.
func Payment(p *v1.Payment, scope string) string {
	if p.Spec.ManagementPolicy == v1.ManagementObserve {
		return p.Status.PaymentRequestID
	}
	return PaymentRequestID(p.Status.PaymentRequestID, p.Spec.PaymentRequestID, Identity{scope, p.Namespace, p.Name})
}

// AutoCapture is the captureRequestId of p's automatic capture.
func AutoCapture(p *v1.Payment, scope string) string {
	return AutoCaptureRequestID(Payment(p, scope), p.UID)
}

// Capture is c's captureRequestId.
func Capture(c *v1.Capture, scope string) string {
	return CaptureRequestID(c.Status.RequestID, c.Spec.CaptureRequestID, Identity{scope, c.Namespace, c.Name})
}

// Refund is r's refundRequestId.
func Refund(r *v1.Refund, scope string) string {
	return RefundRequestID(r.Status.RequestID, r.Spec.RefundRequestID, Identity{scope, r.Namespace, r.Name})
}

// Declaration is d's declarationRequestId.
func Declaration(d *v1.CustomsDeclaration, scope string) string {
	return DeclarationRequestID(d.Status.RequestID, d.Spec.DeclarationRequestID, Identity{scope, d.Namespace, d.Name})
}

// Registration is m's registrationRequestId: the one recorded in status
// while the registered details are those it was sent for, else the one
// derived from the manifest and the details (a changed spec registers again).
func Registration(m *v1.MerchantRegistration, scope string) string {
	d := RegistrationDigest(&m.Spec)
	if m.Status.RegistrationRequestID != "" && m.Status.Digest == d {
		return m.Status.RegistrationRequestID
	}
	return RegistrationRequestID(Identity{scope, m.Namespace, m.Name}, d)
}

// RegistrationDigest is the hex SHA-256 of the registered details: the spec
// without gatewayRef, as JSON (field order is the struct's, and empty
// optional fields are left out, so a release that adds an optional field
// changes no digest of a manifest that does not set it).
func RegistrationDigest(spec *v1.MerchantRegistrationSpec) string {
	s := *spec
	s.GatewayRef = v1.GatewayReference{}
	b, err := json.Marshal(s)
	if err != nil {
		// A spec of strings and slices always encodes.
		panic("ids: encode MerchantRegistration spec: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
