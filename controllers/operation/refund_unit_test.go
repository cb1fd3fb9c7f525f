package operation

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared/sharedtest"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/gateway/gatewayfake"
	"github.com/cashier-operator/cashier-operator/internal/ids"
)

// refundAt is the reconcile of r (against refundCall's paid HKD 10.00
// payment shop/p1, gateway id P1) with the real Refund adapter talking to gw.
func refundAt(t *testing.T, r *v1.Refund, gw *gatewayfake.Client) *opExternal[*v1.Refund] {
	t.Helper()
	e := refundCall(t, refundSpec(), r)
	e.c.conn.Client = gw
	return e
}

// inquiryRefundSays answers inquiryRefund: the gateway holds the refund,
// RF1, with status and amount (minor units, HKD).
func inquiryRefundSays(status, value string) func(context.Context, *gateway.InquiryRefundRequest) (*gateway.InquiryRefundResponse, error) {
	return func(_ context.Context, req *gateway.InquiryRefundRequest) (*gateway.InquiryRefundResponse, error) {
		return &gateway.InquiryRefundResponse{Result: sharedtest.OKResult, RefundRequestID: req.RefundRequestID, RefundID: "RF1",
			RefundStatus: status, RefundAmount: &gateway.Amount{Currency: "HKD", Value: value}}, nil
	}
}

// paymentLists answers inquiryPayment with payment P1 (HKD 10.00, SUCCESS:
// paid, or authorized) and its transactions.
func paymentLists(txs ...gateway.Transaction) func(context.Context, *gateway.InquiryPaymentRequest) (*gateway.InquiryPaymentResponse, error) {
	return func(context.Context, *gateway.InquiryPaymentRequest) (*gateway.InquiryPaymentResponse, error) {
		return &gateway.InquiryPaymentResponse{Result: sharedtest.OKResult, PaymentStatus: gateway.PaymentStatusSuccess, PaymentID: "P1",
			PaymentAmount: &gateway.Amount{Currency: "HKD", Value: "1000"}, Transactions: txs}, nil
	}
}

// TestRefundObserve: what Observe makes of each inquiry answer for a refund
// this object never sent (adoption) or did send, and what it costs.
func TestRefundObserve(t *testing.T) {
	late := testRefund("late", uidA, "4.00", sharedtest.Created, v1.OperationStatus{})
	id := ids.Refund(late, "")
	refundTx := gateway.Transaction{TransactionType: gateway.TransactionRefund, TransactionStatus: gateway.PaymentStatusSuccess,
		TransactionRequestID: id, TransactionID: "RF1", TransactionAmount: &gateway.Amount{Currency: "HKD", Value: "400"}}
	captureTx := refundTx
	captureTx.TransactionType = gateway.TransactionCapture
	sentOnce := v1.OperationStatus{Phase: v1.OperationPending, RequestID: id, PaymentID: "P1"}
	inquiry, listed := "inquiryRefund "+id, "inquiryPayment paymentId=P1"

	cases := []struct {
		name   string
		status v1.OperationStatus
		gw     *gatewayfake.Client
		calls  []string
		// outcome as outcome() names it; msg is in the error or, for an
		// adoption, in Observation.Adopted.
		outcome, msg string
		// exists and phase/gatewayID are what Observe concluded; when
		// unchanged, status must equal the initial one.
		exists           bool
		phase            v1.OperationPhase
		unchanged        bool
		wantGatewayID    string
		wantAdoptedEmpty bool
	}{
		{name: "the gateway has never heard of it: it does not exist",
			gw:    &gatewayfake.Client{FakeInquiryRefund: refuseInquiryRefund(gateway.CodeOrderNotExist)},
			calls: []string{inquiry}, unchanged: true},
		{name: "same amount and among the payment's refunds: adopted",
			gw:    &gatewayfake.Client{FakeInquiryRefund: inquiryRefundSays(gateway.RefundStatusSuccess, "400"), FakeInquiryPayment: paymentLists(refundTx)},
			calls: []string{inquiry, listed}, msg: "refund " + id + " is gateway refund RF1, Succeeded",
			exists: true, phase: v1.OperationSucceeded, wantGatewayID: "RF1"},
		{name: "adopted while the gateway still processes it",
			gw:    &gatewayfake.Client{FakeInquiryRefund: inquiryRefundSays(gateway.RefundStatusProcessing, "400"), FakeInquiryPayment: paymentLists(refundTx)},
			calls: []string{inquiry, listed}, msg: "is gateway refund RF1, Processing",
			exists: true, phase: v1.OperationProcessing, wantGatewayID: "RF1"},
		{name: "another amount: identity conflict, the payment is not asked",
			gw:    &gatewayfake.Client{FakeInquiryRefund: inquiryRefundSays(gateway.RefundStatusSuccess, "500")},
			calls: []string{inquiry}, outcome: "terminal " + v1.ReasonIdentityConflict, unchanged: true,
			msg: "the gateway already holds refund " + id + " with amount 500 HKD (minor units) where the spec asks 400 HKD"},
		{name: "not among the payment's transactions: identity conflict",
			gw:    &gatewayfake.Client{FakeInquiryRefund: inquiryRefundSays(gateway.RefundStatusSuccess, "400"), FakeInquiryPayment: paymentLists()},
			calls: []string{inquiry, listed}, outcome: "terminal " + v1.ReasonIdentityConflict, unchanged: true,
			msg: "with another payment than shop/p1: this name was used before for another refund; nothing moved; create the Refund under a new name"},
		{name: "the payment lists the id as a capture, not a refund: identity conflict",
			gw:    &gatewayfake.Client{FakeInquiryRefund: inquiryRefundSays(gateway.RefundStatusSuccess, "400"), FakeInquiryPayment: paymentLists(captureTx)},
			calls: []string{inquiry, listed}, outcome: "terminal " + v1.ReasonIdentityConflict, unchanged: true, msg: "another payment than shop/p1"},
		{name: "inquiryRefund answers U: retried, nothing applied",
			gw:    &gatewayfake.Client{FakeInquiryRefund: refuseInquiryRefund(gateway.CodeUnknownException)},
			calls: []string{inquiry}, outcome: "retry", unchanged: true, msg: gateway.CodeUnknownException},
		{name: "inquiryRefund times out: retried, nothing applied",
			gw: &gatewayfake.Client{FakeInquiryRefund: func(context.Context, *gateway.InquiryRefundRequest) (*gateway.InquiryRefundResponse, error) {
				return nil, sharedtest.ErrTimeout
			}},
			calls: []string{inquiry}, outcome: "retry", unchanged: true, msg: "timeout"},
		{name: "the payment cannot be asked: retried, nothing applied",
			gw: &gatewayfake.Client{FakeInquiryRefund: inquiryRefundSays(gateway.RefundStatusSuccess, "400"),
				FakeInquiryPayment: func(context.Context, *gateway.InquiryPaymentRequest) (*gateway.InquiryPaymentResponse, error) {
					return nil, sharedtest.ErrTimeout
				}},
			calls: []string{inquiry, listed}, outcome: "retry", unchanged: true, msg: "timeout"},
		{name: "a refund this object sent is applied without an adoption check",
			status: sentOnce,
			gw:     &gatewayfake.Client{FakeInquiryRefund: inquiryRefundSays(gateway.RefundStatusFail, "400")},
			calls:  []string{inquiry}, exists: true, phase: v1.OperationFailed, wantGatewayID: "RF1", wantAdoptedEmpty: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := late.DeepCopy()
			r.Status = *tc.status.DeepCopy()
			e := refundAt(t, r, tc.gw)
			obs, err := e.Observe(context.Background(), r)
			if got := sharedtest.Outcome(err); got != tc.outcome {
				t.Fatalf("outcome %q (%v), want %q", got, err, tc.outcome)
			}
			if diff := cmp.Diff(tc.calls, sharedtest.Sent(tc.gw)); diff != "" {
				t.Errorf("gateway calls (-want +got):\n%s", diff)
			}
			said := obs.Adopted
			if err != nil {
				said = err.Error()
			}
			if !strings.Contains(said, tc.msg) || (tc.wantAdoptedEmpty && obs.Adopted != "") {
				t.Errorf("said %q, want it to contain %q", said, tc.msg)
			}
			if obs.Exists != tc.exists {
				t.Errorf("exists = %v, want %v", obs.Exists, tc.exists)
			}
			if tc.unchanged {
				if diff := cmp.Diff(tc.status, r.Status); diff != "" {
					t.Errorf("status changed (-before +after):\n%s", diff)
				}
				return
			}
			st := r.Status
			if st.Phase != tc.phase || st.GatewayID != tc.wantGatewayID || st.RequestID != id || st.PaymentID != "P1" || st.LastCheckTime == nil {
				t.Errorf("status %+v, want phase %s, gateway id %s, request id %s, payment P1, a check time", st, tc.phase, tc.wantGatewayID, id)
			}
		})
	}
}

func refuseInquiryRefund(code string) func(context.Context, *gateway.InquiryRefundRequest) (*gateway.InquiryRefundResponse, error) {
	return func(context.Context, *gateway.InquiryRefundRequest) (*gateway.InquiryRefundResponse, error) {
		return &gateway.InquiryRefundResponse{Result: gateway.NewResult(code)}, gatewayfake.Refuse(gateway.APIInquiryRefund, code)
	}
}

// TestRefundCreate: how the refund call's answer concludes a refund that
// may be sent. Whatever the answer, the request id was reserved in status
// before the call, so a retry re-sends the same id.
func TestRefundCreate(t *testing.T) {
	fresh := testRefund("fresh", uidB, "4.00", sharedtest.Created, v1.OperationStatus{})
	id := ids.Refund(fresh, "")
	answer := func(resp *gateway.RefundResponse, err error) *gatewayfake.Client {
		return &gatewayfake.Client{FakeRefund: func(context.Context, *gateway.RefundRequest) (*gateway.RefundResponse, error) { return resp, err }}
	}
	refused := func(code string) *gatewayfake.Client {
		return answer(&gateway.RefundResponse{Result: gateway.NewResult(code), RefundRequestID: id}, gatewayfake.Refuse(gateway.APIRefund, code))
	}
	cases := []struct {
		name      string
		gw        *gatewayfake.Client
		outcome   string
		phase     v1.OperationPhase
		gatewayID string
		code      string // status.lastResult.code
	}{
		{name: "refunded", gw: answer(&gateway.RefundResponse{Result: sharedtest.OKResult, RefundRequestID: id, RefundID: "RF1", PaymentID: "P1",
			RefundAmount: &gateway.Amount{Currency: "HKD", Value: "400"}}, nil),
			phase: v1.OperationSucceeded, gatewayID: "RF1", code: "SUCCESS"},
		{name: "in process", gw: refused(gateway.CodeRefundInProcess), phase: v1.OperationProcessing, code: gateway.CodeRefundInProcess},
		{name: "refused for good", gw: refused(gateway.CodeRefundAmountExceed), phase: v1.OperationFailed, code: gateway.CodeRefundAmountExceed},
		{name: "the id was used with other parameters", gw: refused(gateway.CodeRepeatReqInconsistent),
			outcome: "terminal " + v1.ReasonIdentityConflict, phase: v1.OperationPending},
		{name: "a chargeback is unjudged: blocked, not failed", gw: refused(gateway.CodeRefundNotAllowedDispute),
			outcome: "blocked " + v1.ReasonDisputeOpen, phase: v1.OperationPending},
		{name: "the credentials are refused: retried, not failed", gw: refused(gateway.CodeAccessDenied),
			outcome: "retry", phase: v1.OperationPending},
		{name: "a revoked API key: waits for the Secret, not failed", gw: refused(gateway.CodeOAuthFail),
			outcome: "wait " + v1.ReasonCredentialsRejected, phase: v1.OperationPending},
		{name: "U answer: retried with the same id", gw: refused(gateway.CodeUnknownException), outcome: "retry", phase: v1.OperationPending},
		{name: "timeout: retried with the same id", gw: answer(nil, sharedtest.ErrTimeout), outcome: "retry", phase: v1.OperationPending},
		{name: "refused by the client before sending", gw: answer(nil, fmt.Errorf("refund: %w: reason too long", gateway.ErrInvalidRequest)),
			outcome: "terminal " + v1.ReasonInvalidSpec, phase: v1.OperationPending},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := fresh.DeepCopy()
			e := refundAt(t, r, tc.gw)
			_, err := e.Create(context.Background(), r)
			if got := sharedtest.Outcome(err); got != tc.outcome {
				t.Fatalf("outcome %q (%v), want %q", got, err, tc.outcome)
			}
			if diff := cmp.Diff([]string{"refund " + id + " of P1 400 HKD"}, sharedtest.Sent(tc.gw)); diff != "" {
				t.Errorf("gateway calls (-want +got):\n%s", diff)
			}
			st := r.Status
			code := ""
			if st.LastResult != nil {
				code = st.LastResult.Code
			}
			if st.Phase != tc.phase || st.RequestID != id || st.PaymentID != "P1" || st.GatewayID != tc.gatewayID || code != tc.code || st.SubmitTime == nil {
				t.Errorf("status %+v (last result %q), want phase %s, request id %s, payment P1, gateway id %q, last result %q, a submit time",
					st, code, tc.phase, id, tc.gatewayID, tc.code)
			}
		})
	}
}
