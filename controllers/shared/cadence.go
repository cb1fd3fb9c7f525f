package shared

import (
	"time"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/engine"
)

// Cadence is the polling policy: state-driven, with a floor and a ceiling,
// and none at all once final. Notifications make most polls unnecessary, so
// the first inquiry comes late when a notify URL is configured.
type Cadence struct {
	// Processing polls of a payment the user may be paying: the interval
	// grows with the payment's age (age/4) between Min and Max.
	ProcessingMin, ProcessingMax time.Duration
	// WithNotifications is the first-poll floor when notifications are
	// configured (they usually arrive first).
	WithNotifications time.Duration
	// OperationPoll is how often a processing operation is inquired.
	OperationPoll time.Duration
	// AuthorizedMax bounds how long an authorization waits between checks.
	AuthorizedMax time.Duration
}

// ConflictRetry is how soon a reconcile that lost a write race (someone
// changed the object first) looks again: long enough for the cache to
// catch up, short enough that nobody waits for it.
const ConflictRetry = 200 * time.Millisecond

// DefaultCadence is the production polling policy.
var DefaultCadence = Cadence{
	ProcessingMin:     3 * time.Second,
	ProcessingMax:     2 * time.Minute,
	WithNotifications: 60 * time.Second,
	OperationPoll:     15 * time.Second,
	AuthorizedMax:     6 * time.Hour,
}

// Payment returns when to look at p again; 0 means only on events.
func (c Cadence) Payment(p *v1.Payment, notified bool, now time.Time) time.Duration {
	switch p.Status.Phase {
	case v1.PaymentSucceeded, v1.PaymentFailed, v1.PaymentCancelled, v1.PaymentExpired:
		return 0
	case v1.PaymentAuthorized:
		if p.Spec.CaptureMode != v1.CaptureManual {
			return time.Second
		}
		d := c.AuthorizedMax
		if t := p.Status.AuthExpiryTime; t != nil {
			if until := t.Sub(now) + 5*time.Second; until < d {
				d = until
			}
		}
		return ClampMin(d, time.Second)
	case v1.PaymentProcessing:
		start := p.CreationTimestamp.Time
		if p.Status.CreateTime != nil {
			start = p.Status.CreateTime.Time
		}
		d := now.Sub(start) / 4
		floor := c.ProcessingMin
		if notified && c.WithNotifications > floor {
			floor = c.WithNotifications
		}
		if d < floor {
			d = floor
		}
		if d > c.ProcessingMax {
			d = c.ProcessingMax
		}
		if t := p.Status.ExpiryTime; t != nil {
			// Look right after the payment expires at the gateway.
			if until := t.Sub(now) + 2*time.Second; until < d {
				d = until
			}
		}
		return engine.Jittered(ClampMin(d, time.Second))
	default:
		return c.ProcessingMin
	}
}

// ClampMin is d, or min when d is shorter.
func ClampMin(d, min time.Duration) time.Duration {
	if d < min {
		return min
	}
	return d
}
