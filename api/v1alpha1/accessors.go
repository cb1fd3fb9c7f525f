package v1alpha1

import "time"

// GetPhase returns the phase as a string (for generic code and events).
func (p *Payment) GetPhase() string { return string(p.Status.Phase) }

// GetPhase returns the phase as a string.
func (c *Capture) GetPhase() string { return string(c.Status.Phase) }

// GetPhase returns the phase as a string.
func (r *Refund) GetPhase() string { return string(r.Status.Phase) }

// GetPhase returns the phase as a string.
func (d *CustomsDeclaration) GetPhase() string { return string(d.Status.Phase) }

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
