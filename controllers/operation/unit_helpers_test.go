package operation

import (
	"testing"
	"time"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/controllers/shared/sharedtest"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/money"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// opAt is the reconcile of o, an operation on payment p, by spec's adapter
// talking to gw (nil when the spec's gateway calls are stubbed); the fake
// client holds p, o and siblings. Operations poll every second.
func opAt[T v1.PaymentOperation](t *testing.T, spec opSpec[T], o T, p *v1.Payment, gw gateway.Interface, siblings ...client.Object) *opExternal[T] {
	t.Helper()
	cl, err := sharedtest.Objects(append(siblings, p, o)...)
	if err != nil {
		t.Fatal(err)
	}
	m := o.GetAmount()
	amount, err := money.ParseMajor(m.Currency, m.Value)
	if err != nil {
		t.Fatal(err)
	}
	deps := &shared.Deps{Client: cl, APIReader: cl, Cadence: shared.Cadence{OperationPoll: time.Second}}
	c := &opCall[T]{deps: deps, conn: sharedtest.ConnTo(gw), payment: p, obj: o, st: o.GetOperationStatus(), id: spec.requestID(o, ""),
		amount: amount, wire: gateway.Amount{Currency: amount.Currency(), Value: amount.MinorString()}}
	return &opExternal[T]{k: opKind[T]{deps: deps, spec: spec}, c: c}
}
