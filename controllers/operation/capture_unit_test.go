package operation

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared/sharedtest"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/gateway/gatewayfake"
	"github.com/cashier-operator/cashier-operator/internal/ids"
)

// authorized is a manual-capture card authorization of HKD 10.00, shop/p1,
// gateway payment P1.
func authorized() *v1.Payment {
	auth := v1.Money{Currency: "HKD", Value: "10.00"}
	return &v1.Payment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "p1"},
		Spec:   v1.PaymentSpec{Amount: auth, PaymentMethod: v1.PaymentMethod{Type: "CARD"}, Authorization: true, CaptureMode: v1.CaptureManual},
		Status: v1.PaymentStatus{Phase: v1.PaymentAuthorized, PaymentID: "P1", Amounts: v1.PaymentAmounts{Authorized: &auth}}}
}

func testCapture(name, uid, value string, last bool, st v1.OperationStatus) *v1.Capture {
	return &v1.Capture{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, UID: types.UID(uid), CreationTimestamp: sharedtest.Created},
		Spec:   v1.CaptureSpec{PaymentRef: v1.LocalObjectReference{Name: "p1"}, Amount: v1.Money{Currency: "HKD", Value: value}, IsLastCapture: last},
		Status: st}
}

// TestCaptureObserve: a capture is one of its payment's transactions; one
// this object never sent is adopted only with the spec's amount.
func TestCaptureObserve(t *testing.T) {
	c1 := testCapture("c1", uidA, "4.00", false, v1.OperationStatus{})
	id := ids.Capture(c1, "")
	tx := func(status, value string) gateway.Transaction {
		return gateway.Transaction{TransactionType: gateway.TransactionCapture, TransactionStatus: status, TransactionRequestID: id,
			TransactionID: "CP1", TransactionAmount: &gateway.Amount{Currency: "HKD", Value: value}}
	}
	other := tx(gateway.PaymentStatusSuccess, "400")
	other.TransactionRequestID = "another-capture"
	refundTx := tx(gateway.PaymentStatusSuccess, "400")
	refundTx.TransactionType = gateway.TransactionRefund
	cases := []struct {
		name         string
		inquiry      func(context.Context, *gateway.InquiryPaymentRequest) (*gateway.InquiryPaymentResponse, error)
		outcome, msg string
		exists       bool
		phase        v1.OperationPhase
	}{
		{name: "not among the transactions: it does not exist", inquiry: paymentLists(other, refundTx)},
		{name: "the payment is unknown: it does not exist",
			inquiry: sharedtest.InquiryFails(gatewayfake.Refuse(gateway.APIInquiryPayment, gateway.CodeOrderNotExist))},
		{name: "same amount: adopted", inquiry: paymentLists(other, tx(gateway.PaymentStatusSuccess, "400")),
			msg: "capture " + id + " is gateway capture CP1, Succeeded", exists: true, phase: v1.OperationSucceeded},
		{name: "adopted as refused", inquiry: paymentLists(tx(gateway.PaymentStatusFail, "400")),
			msg: "is gateway capture CP1, Failed", exists: true, phase: v1.OperationFailed},
		{name: "another amount: identity conflict, nothing applied", inquiry: paymentLists(tx(gateway.PaymentStatusSuccess, "1000")),
			outcome: "terminal " + v1.ReasonIdentityConflict, msg: "amount 1000 HKD (minor units) where the spec asks 400 HKD"},
		{name: "U answer: retried, nothing applied", outcome: "retry", msg: gateway.CodeUnknownException,
			inquiry: sharedtest.InquiryFails(gatewayfake.Refuse(gateway.APIInquiryPayment, gateway.CodeUnknownException))},
		{name: "timeout: retried, nothing applied", inquiry: sharedtest.InquiryFails(sharedtest.ErrTimeout), outcome: "retry", msg: "timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gw := &gatewayfake.Client{FakeInquiryPayment: tc.inquiry}
			c := c1.DeepCopy()
			e := opAt(t, captureSpec(), c, authorized(), gw)
			obs, err := e.Observe(context.Background(), c)
			if got := sharedtest.Outcome(err); got != tc.outcome {
				t.Fatalf("outcome %q (%v), want %q", got, err, tc.outcome)
			}
			if diff := cmp.Diff([]string{"inquiryPayment paymentId=P1"}, sharedtest.Sent(gw)); diff != "" {
				t.Errorf("gateway calls (-want +got):\n%s", diff)
			}
			said := obs.Adopted
			if err != nil {
				said = err.Error()
			}
			if !strings.Contains(said, tc.msg) || obs.Exists != tc.exists {
				t.Errorf("said %q, exists %v; want %q, %v", said, obs.Exists, tc.msg, tc.exists)
			}
			if !tc.exists {
				if diff := cmp.Diff(c1.Status, c.Status); diff != "" {
					t.Errorf("status changed (-before +after):\n%s", diff)
				}
				return
			}
			if st := c.Status; st.Phase != tc.phase || st.GatewayID != "CP1" || st.RequestID != id || st.PaymentID != "P1" {
				t.Errorf("status %+v, want phase %s, gateway id CP1, request id %s, payment P1", st, tc.phase, id)
			}
		})
	}
}

// TestCaptureCreate: how the capture call's answer concludes a capture, and
// a last capture that waits for the others without a call.
func TestCaptureCreate(t *testing.T) {
	answer := func(resp *gateway.CaptureResponse, err error) func(context.Context, *gateway.CaptureRequest) (*gateway.CaptureResponse, error) {
		return func(context.Context, *gateway.CaptureRequest) (*gateway.CaptureResponse, error) { return resp, err }
	}
	refused := func(code string) func(context.Context, *gateway.CaptureRequest) (*gateway.CaptureResponse, error) {
		return answer(&gateway.CaptureResponse{Result: gateway.NewResult(code)}, gatewayfake.Refuse(gateway.APICapture, code))
	}
	open := testCapture("c0", uidR0, "1.00", false, v1.OperationStatus{Phase: v1.OperationProcessing, RequestID: "cap0", PaymentID: "P1"})
	cases := []struct {
		name     string
		last     bool
		siblings []client.Object
		capture  func(context.Context, *gateway.CaptureRequest) (*gateway.CaptureResponse, error)
		outcome  string
		called   bool
		phase    v1.OperationPhase
		code     string
	}{
		{name: "captured", called: true, capture: answer(&gateway.CaptureResponse{Result: sharedtest.OKResult, CaptureID: "CP1", PaymentID: "P1",
			CaptureAmount: &gateway.Amount{Currency: "HKD", Value: "400"}}, nil), phase: v1.OperationSucceeded, code: "SUCCESS"},
		{name: "in process", called: true, capture: refused(gateway.CodeCaptureInProcess), phase: v1.OperationProcessing,
			code: gateway.CodeCaptureInProcess},
		{name: "the authorization expired: failed with the code Payment.Derive reads", called: true, capture: refused(gateway.CodeAuthExpired),
			phase: v1.OperationFailed, code: gateway.CodeAuthExpired},
		{name: "timeout: retried with the same id", called: true, capture: answer(nil, sharedtest.ErrTimeout), outcome: "retry", phase: v1.OperationPending},
		{name: "a last capture waits for the open ones, without a call", last: true, siblings: []client.Object{open},
			outcome: "wait " + v1.ReasonWaitingForCaptures},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gw := &gatewayfake.Client{FakeCapture: tc.capture}
			c := testCapture("c1", uidA, "4.00", tc.last, v1.OperationStatus{})
			id := ids.Capture(c, "")
			_, err := opAt(t, captureSpec(), c, authorized(), gw, tc.siblings...).Create(context.Background(), c)
			if got := sharedtest.Outcome(err); got != tc.outcome {
				t.Fatalf("outcome %q (%v), want %q", got, err, tc.outcome)
			}
			var want []string
			if tc.called {
				want = []string{"capture " + id + " of P1 400 HKD"}
			}
			if diff := cmp.Diff(want, sharedtest.Sent(gw)); diff != "" {
				t.Errorf("gateway calls (-want +got):\n%s", diff)
			}
			code := ""
			if r := c.Status.LastResult; r != nil {
				code = r.Code
			}
			if c.Status.Phase != tc.phase || code != tc.code || (tc.called && c.Status.RequestID != id) {
				t.Errorf("status %+v (last result %q), want phase %q, last result %q, request id reserved", c.Status, code, tc.phase, tc.code)
			}
		})
	}
}
