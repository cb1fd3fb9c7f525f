package v1alpha1

// GetPhase returns the phase as a string (for generic code and events).
func (p *Payment) GetPhase() string { return string(p.Status.Phase) }

// GetPhase returns the phase as a string.
func (c *Capture) GetPhase() string { return string(c.Status.Phase) }

// GetPhase returns the phase as a string.
func (r *Refund) GetPhase() string { return string(r.Status.Phase) }

// GetPhase returns the phase as a string.
func (d *CustomsDeclaration) GetPhase() string { return string(d.Status.Phase) }
