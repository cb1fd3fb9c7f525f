// Package controllers holds the per-kind adapters that plug Payment,
// Capture, Refund and CustomsDeclaration into the generic engine, the
// GatewayConfig controller, and their wiring into a manager.
//
// Where each concern lives:
//
//	deps.go                 what every adapter needs (clients, registry, clock)
//	references.go           what an object names outside itself: the one Secret reader
//	                        (card data, buyer certificates, SFTP credentials) and the
//	                        one GatewayNotReady wait
//	cadence.go              how often a non-final object is inquired
//	payment.go              the Payment adapter: pay, inquire, adopt, auto-capture, cancel
//	operation.go            the adapter shared by Capture, Refund and CustomsDeclaration
//	                        (read through v1alpha1.PaymentOperation's accessors)
//	operation_budget.go     who gets the last of a payment's money (limits)
//	operation_setup.go      the operation controllers' watches
//	capture.go, refund.go,
//	declaration.go          what differs per operation kind
//	dispute*.go             chargebacks (Dispute) and their answers (DisputeResponse)
//	retention.go, restore.go, archives.go  archiving finished payments, restoring them
//	paymentrestore.go       restores the notification-receiver asks for (PaymentRestore)
//	gatewayconfig.go        credentials and consult profiles
//	settlementreconciliation*.go  settlement reports against the cluster
//	setup.go                the manager wiring, the operation→Payment watch and phase predicate
//	*_unit_test.go          the adapters against a fake gateway (package
//	                        gatewayfake) and a fake client: every answer's outcome
//
// Condition reasons live in api/v1alpha1; status moves only through
// internal/transition; gateway ids come from internal/ids; transition events
// are written by internal/events (through the engine).
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
