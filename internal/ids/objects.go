package ids

import (
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
