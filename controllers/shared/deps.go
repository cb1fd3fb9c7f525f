// Package shared holds what every controller domain under controllers/
// needs and none of them owns: the dependencies an adapter is given (Deps:
// clients, the connection registry, the clock, the polling Cadence), the
// Wiring a domain registers its controllers with, the one reader of
// referenced Secrets and the one GatewayNotReady wait (references.go), the
// field indexes the controllers and the notification-receiver list by
// (index.go), and the ordering and watch helpers several domains use the
// same way (order.go, watch.go).
//
// The domains (payment, operation, dispute, retention, settlement,
// gatewayconfig) import this package and never each other; what one domain
// needs of another's objects it reads from the cluster through the names
// here.
package shared

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
	// Archives are the open archive databases (retention writes and
	// restores from them; budgets count what they hold).
	Archives *Archives
}

// Time is the clock's time.
func (d *Deps) Time() time.Time {
	if d.Now == nil {
		return time.Now()
	}
	return d.Now()
}

// MetaTime is t as an API time.
func MetaTime(t time.Time) *metav1.Time { mt := metav1.NewTime(t); return &mt }

// ReasonOf picks a condition reason for a step error.
func ReasonOf(err error) string {
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
