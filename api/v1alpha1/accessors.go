package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Phased is an object with a phase: a Payment or an operation on one.
//
// +kubebuilder:object:generate=false
type Phased interface {
	// GetPhase returns status.phase as a string.
	GetPhase() string
}

// PaymentOperation is what Capture, Refund and CustomsDeclaration share: an
// amount moved on the Payment they name, with an OperationStatus. Generic
// code (the operation controllers, the indexes and watches, the
// notification-receiver) reads them through it instead of per kind.
//
// +kubebuilder:object:generate=false
type PaymentOperation interface {
	metav1.Object
	runtime.Object
	Phased
	// GetOperationStatus returns the operation status to read or change in place.
	GetOperationStatus() *OperationStatus
	// GetAmount returns spec.amount.
	GetAmount() Money
	// GetPaymentRef returns spec.paymentRef.name.
	GetPaymentRef() string
}

var (
	_ PaymentOperation = &Capture{}
	_ PaymentOperation = &Refund{}
	_ PaymentOperation = &CustomsDeclaration{}
	_ Phased           = &Payment{}
)

// GetPhase returns the phase as a string (for generic code and events).
func (p *Payment) GetPhase() string { return string(p.Status.Phase) }

// GetPhase returns the phase as a string.
func (c *Capture) GetPhase() string { return string(c.Status.Phase) }

// GetOperationStatus returns the capture's status.
func (c *Capture) GetOperationStatus() *OperationStatus { return &c.Status }

// GetAmount returns spec.amount.
func (c *Capture) GetAmount() Money { return c.Spec.Amount }

// GetPaymentRef returns the name of the captured Payment.
func (c *Capture) GetPaymentRef() string { return c.Spec.PaymentRef.Name }

// GetPhase returns the phase as a string.
func (r *Refund) GetPhase() string { return string(r.Status.Phase) }

// GetOperationStatus returns the refund's status.
func (r *Refund) GetOperationStatus() *OperationStatus { return &r.Status }

// GetAmount returns spec.amount.
func (r *Refund) GetAmount() Money { return r.Spec.Amount }

// GetPaymentRef returns the name of the refunded Payment.
func (r *Refund) GetPaymentRef() string { return r.Spec.PaymentRef.Name }

// GetPhase returns the phase as a string.
func (d *CustomsDeclaration) GetPhase() string { return string(d.Status.Phase) }

// GetOperationStatus returns the operation part of the declaration's
// status (the customs fields are beside it).
func (d *CustomsDeclaration) GetOperationStatus() *OperationStatus { return &d.Status.OperationStatus }

// GetAmount returns spec.amount.
func (d *CustomsDeclaration) GetAmount() Money { return d.Spec.Amount }

// GetPaymentRef returns the name of the declared Payment.
func (d *CustomsDeclaration) GetPaymentRef() string { return d.Spec.PaymentRef.Name }

// DefaultExpiresAfter is how long the gateway keeps an unpaid cashier
// payment open when the pay call names no paymentExpiryTime (the contract's
// 14 minutes).
const DefaultExpiresAfter = 14 * time.Minute

// ExpiresAt is when the gateway closes the payment if it is not paid:
// status.expiryTime when the operator sent one, else the gateway's create
// time (before the pay call: the object's) plus DefaultExpiresAfter.
func (p *Payment) ExpiresAt() time.Time {
	if t := p.Status.ExpiryTime; t != nil {
		return t.Time
	}
	if t := p.Status.CreateTime; t != nil {
		return t.Add(DefaultExpiresAfter)
	}
	return p.CreationTimestamp.Add(DefaultExpiresAfter)
}
