// Package controllers holds the per-kind adapters that plug Payment,
// Capture, Refund and CustomsDeclaration into the generic engine, the
// GatewayConfig controller, and their wiring into a manager.
package controllers

import (
	"errors"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/connection"
	"github.com/cashier-operator/cashier-operator/internal/engine"
)

// Deps are what every adapter needs.
type Deps struct {
	// Client is the manager's cached client.
	Client client.Client
	// APIReader reads uncached (Secrets, and sibling operations when
	// deciding who gets the last of the money).
	APIReader client.Reader
	// Registry holds one gateway client per GatewayConfig.
	Registry *connection.Registry
	// Cadence decides how often non-final objects are inquired.
	Cadence Cadence
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (d *Deps) now() time.Time {
	if d.Now == nil {
		return time.Now()
	}
	return d.Now()
}

func nowTime(t time.Time) *metav1.Time { mt := metav1.NewTime(t); return &mt }

// reasonOf picks a condition reason for a step error.
func reasonOf(err error) string {
	var wait *engine.WaitError
	var term *engine.TerminalError
	switch {
	case err == nil:
		return v1.ReasonReconcileSuccess
	case errors.As(err, &wait):
		return wait.Reason
	case errors.As(err, &term):
		return term.Reason
	default:
		return v1.ReasonGatewayError
	}
}

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
		return clampMin(d, time.Second)
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
		return engine.Jittered(clampMin(d, time.Second))
	default:
		return c.ProcessingMin
	}
}

func clampMin(d, min time.Duration) time.Duration {
	if d < min {
		return min
	}
	return d
}
