// Package sharedtest holds the helpers of the controller domains' unit
// tests: the adapters talk to a gatewayfake.Client and read objects from a
// fake client; no apiserver, no HTTP. What the gateway and the engine do
// with the adapters end to end is tested against envtest and alipay-sim
// (the suites in controllers/).
package sharedtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/connection"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/gateway/gatewayfake"
)

// ErrTimeout is a call whose outcome is unknown: the request may have
// reached the gateway.
var ErrTimeout = &gateway.TransportError{Class: gateway.ClassTimeout, Err: context.DeadlineExceeded}

// OKResult is an S answer.
var OKResult = gateway.Result{ResultCode: "SUCCESS", ResultStatus: gateway.StatusSuccess, ResultMessage: "success"}

// Objects is a client holding objs (scheme: the API types and core/v1).
func Objects(objs ...client.Object) (client.Client, error) {
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

// ConnTo is a connection whose gateway is gw, with no notification URL
// and the default identity scope.
func ConnTo(gw gateway.Interface) *connection.Connection {
	return &connection.Connection{Config: &v1.GatewayConfig{}, Client: gw, ClientID: "SANDBOX_TEST"}
}

// Sent renders the calls gw received as "api id [amount]", so that a case
// asserts both which APIs were called and what for.
func Sent(gw *gatewayfake.Client) []string {
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

// Outcome names what a step error makes the engine do: "" (nothing went
// wrong), "retry" (back off and ask again, nothing concluded), "terminal
// <Reason>", "wait <Reason>" or "blocked <Reason>".
func Outcome(err error) string {
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

// Created is a creation time a minute ago, to the second.
var Created = metav1.NewTime(time.Now().Add(-time.Minute).Truncate(time.Second))

// InquiryFails is an inquiryPayment that fails with err.
func InquiryFails(err error) func(context.Context, *gateway.InquiryPaymentRequest) (*gateway.InquiryPaymentResponse, error) {
	return func(context.Context, *gateway.InquiryPaymentRequest) (*gateway.InquiryPaymentResponse, error) {
		return nil, err
	}
}
