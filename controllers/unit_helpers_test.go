package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/connection"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/gateway/gatewayfake"
	"github.com/cashier-operator/cashier-operator/internal/money"
)

// Helpers for the adapter unit tests (*_unit_test.go): the adapters talk to
// a gatewayfake.Client and read objects from a fake client; no apiserver,
// no HTTP. What the gateway and the engine do with the adapters end to end
// is tested against envtest and alipay-sim (the other _test.go files).

// errTimeout is a call whose outcome is unknown: the request may have
// reached the gateway.
var errTimeout = &gateway.TransportError{Class: gateway.ClassTimeout, Err: context.DeadlineExceeded}

// okResult is an S answer.
var okResult = gateway.Result{ResultCode: "SUCCESS", ResultStatus: gateway.StatusSuccess, ResultMessage: "success"}

// objects is a client holding objs (scheme: the API types and core/v1).
func objects(objs ...client.Object) (client.Client, error) {
	s := runtime.NewScheme()
	if err := v1.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := corev1.AddToScheme(s); err != nil {
		return nil, err
	}
	return fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).
		WithStatusSubresource(&v1.Dispute{}, &v1.DisputeResponse{}).Build(), nil
}

// connTo is a connection whose gateway is gw, with no notification URL
// and the default identity scope.
func connTo(gw gateway.Interface) *connection.Connection {
	return &connection.Connection{Config: &v1.GatewayConfig{}, Client: gw, ClientID: "SANDBOX_TEST"}
}

// opAt is the reconcile of o, an operation on payment p, by spec's adapter
// talking to gw (nil when the spec's gateway calls are stubbed); the fake
// client holds p, o and siblings. Operations poll every second.
func opAt[T v1.PaymentOperation](t *testing.T, spec opSpec[T], o T, p *v1.Payment, gw gateway.Interface, siblings ...client.Object) *opExternal[T] {
	t.Helper()
	cl, err := objects(append(siblings, p, o)...)
	if err != nil {
		t.Fatal(err)
	}
	m := o.GetAmount()
	amount, err := money.ParseMajor(m.Currency, m.Value)
	if err != nil {
		t.Fatal(err)
	}
	deps := &Deps{Client: cl, APIReader: cl, Cadence: Cadence{OperationPoll: time.Second}}
	c := &opCall[T]{deps: deps, conn: connTo(gw), payment: p, obj: o, st: o.GetOperationStatus(), id: spec.requestID(o, ""),
		amount: amount, wire: gateway.Amount{Currency: amount.Currency(), Value: amount.MinorString()}}
	return &opExternal[T]{k: opKind[T]{deps: deps, spec: spec}, c: c}
}

// sent renders the calls gw received as "api id [amount]", so that a case
// asserts both which APIs were called and what for.
func sent(gw *gatewayfake.Client) []string {
	var out []string
	for _, c := range gw.Calls() {
		var what string
		switch r := c.Request.(type) {
		case *gateway.PayRequest:
			what = r.PaymentRequestID + " " + wireString(&r.PaymentAmount)
		case *gateway.InquiryPaymentRequest:
			what = "paymentId=" + r.PaymentID
			if r.PaymentID == "" {
				what = "paymentRequestId=" + r.PaymentRequestID
			}
		case *gateway.CaptureRequest:
			what = r.CaptureRequestID + " of " + r.PaymentID + " " + wireString(&r.CaptureAmount)
		case *gateway.CancelRequest:
			what = r.PaymentID + r.PaymentRequestID
		case *gateway.RefundRequest:
			what = r.RefundRequestID + " of " + r.PaymentID + " " + wireString(&r.RefundAmount)
		case *gateway.InquiryRefundRequest:
			what = r.RefundRequestID
		case *gateway.DeclareRequest:
			what = r.DeclarationRequestID + " of " + r.PaymentID + " " + wireString(&r.DeclarationAmount)
		case *gateway.InquiryDeclarationRequestsRequest:
			what = strings.Join(r.DeclarationRequestIDs, ",")
		case *gateway.AcceptDisputeRequest:
			what = r.DisputeID
		case *gateway.SupplyDefenseDocumentRequest:
			what = r.DisputeID
		default:
			what = fmt.Sprintf("%T", r)
		}
		out = append(out, string(c.API)+" "+what)
	}
	return out
}

func wireString(a *gateway.Amount) string { return a.Value + " " + a.Currency }

// outcome names what a step error makes the engine do: "" (nothing went
// wrong), "retry" (back off and ask again, nothing concluded), "terminal
// <Reason>", "wait <Reason>" or "blocked <Reason>".
func outcome(err error) string {
	var term *engine.TerminalError
	var wait *engine.WaitError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &term):
		return "terminal " + term.Reason
	case errors.As(err, &wait) && wait.Blocked:
		return "blocked " + wait.Reason
	case errors.As(err, &wait):
		return "wait " + wait.Reason
	default:
		return "retry"
	}
}
