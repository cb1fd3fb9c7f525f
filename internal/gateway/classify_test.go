package gateway

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		code, status string
		want         Outcome
	}{
		{CodeSuccess, StatusSuccess, Succeeded},
		{"SOME_NEW_S_CODE", StatusSuccess, Succeeded},
		{CodeOrderIsClosed, StatusFail, Failed},
		{CodeRepeatReqInconsistent, StatusFail, Failed},
		{CodeRiskReject, StatusFail, Failed},
		{CodeRefundAmountExceed, StatusFail, Failed},
		{"SOME_NEW_F_CODE", StatusFail, Failed},
		{CodePaymentInProcess, StatusUnknown, Unknown},
		{CodeCaptureInProcess, StatusUnknown, Unknown},
		{CodeRefundInProcess, StatusUnknown, Unknown},
		{CodeUnknownException, StatusUnknown, Unknown},
		{CodeRequestTrafficExceed, StatusUnknown, Unknown},
		// malformed → Unknown
		{"", StatusSuccess, Unknown},
		{"", "", Unknown},
		{CodeSuccess, "", Unknown},
		{CodeSuccess, "s", Unknown},
		{CodeSuccess, "SUCCESS", Unknown},
		{"X", "X", Unknown},
		{CodeSuccess, StatusFail, Unknown},          // contradicts the code table
		{CodeOrderIsClosed, StatusSuccess, Unknown}, // contradicts the code table
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", tt.code, tt.status), func(t *testing.T) {
			if got := Classify(Result{ResultCode: tt.code, ResultStatus: tt.status}); got != tt.want {
				t.Errorf("Classify = %v, want %v", got, tt.want)
			}
		})
	}
	// Every entry of the shared code table classifies per its own status.
	for code, info := range Codes {
		want := map[string]Outcome{StatusSuccess: Succeeded, StatusFail: Failed, StatusUnknown: Unknown}[info.Status]
		if got := Classify(NewResult(code)); got != want {
			t.Errorf("Classify(NewResult(%s)) = %v, want %v", code, got, want)
		}
	}
}

func TestErrorHelpers(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("pay paymentRequestId=x: %w", err) }
	tests := []struct {
		name                         string
		err                          error
		unknown, terminal, inProcess bool
		code                         string
		outcome                      Outcome
	}{
		{"nil", nil, false, false, false, "", Succeeded},
		{"F", wrap(newResultError(APIPay, NewResult(CodeOrderIsClosed))), false, true, false, CodeOrderIsClosed, Failed},
		{"F unknown code", wrap(newResultError(APIPay, Result{ResultCode: "NEW", ResultStatus: "F"})), false, true, false, "NEW", Failed},
		{"PAYMENT_IN_PROCESS", wrap(newResultError(APIPay, NewResult(CodePaymentInProcess))), true, false, true, CodePaymentInProcess, Unknown},
		{"CAPTURE_IN_PROCESS", wrap(newResultError(APICapture, NewResult(CodeCaptureInProcess))), true, false, true, CodeCaptureInProcess, Unknown},
		{"REFUND_IN_PROCESS", wrap(newResultError(APIRefund, NewResult(CodeRefundInProcess))), true, false, true, CodeRefundInProcess, Unknown},
		{"UNKNOWN_EXCEPTION", wrap(newResultError(APIPay, NewResult(CodeUnknownException))), true, false, false, CodeUnknownException, Unknown},
		{"malformed result", wrap(newResultError(APIPay, Result{ResultCode: "SUCCESS", ResultStatus: "?"})), true, false, false, "SUCCESS", Unknown},
		{"transport", wrap(&TransportError{Class: ClassTransport, Err: errors.New("EOF")}), true, false, false, "", Unknown},
		{"timeout", wrap(&TransportError{Class: ClassTimeout, Err: context.DeadlineExceeded}), true, false, false, "", Unknown},
		{"5xx", wrap(&TransportError{Class: ClassHTTPStatus, StatusCode: 503, Err: errors.New("x")}), true, false, false, "", Unknown},
		{"unverified", wrap(&TransportError{Class: ClassUnverified, Err: fmt.Errorf("%w: x", ErrResponseUnverified)}), true, false, false, "", Unknown},
		{"invalid request", wrap(fmt.Errorf("%w: too many ids", ErrInvalidRequest)), false, true, false, "", Failed},
		{"not sent", wrap(fmt.Errorf("%w: %w", ErrNotSent, context.Canceled)), false, false, false, "", Unknown},
		{"cancelled after a U attempt", wrap(fmt.Errorf("%w (last attempt: %w)", context.Canceled, newResultError(APIPay, NewResult(CodeUnknownException)))), true, false, false, CodeUnknownException, Unknown},
		{"plain error", errors.New("boom"), false, false, false, "", Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsUnknown(tt.err); got != tt.unknown {
				t.Errorf("IsUnknown = %v, want %v", got, tt.unknown)
			}
			if got := IsTerminal(tt.err); got != tt.terminal {
				t.Errorf("IsTerminal = %v, want %v", got, tt.terminal)
			}
			if got := IsInProcess(tt.err); got != tt.inProcess {
				t.Errorf("IsInProcess = %v, want %v", got, tt.inProcess)
			}
			if got := Code(tt.err); got != tt.code {
				t.Errorf("Code = %q, want %q", got, tt.code)
			}
			if got := OutcomeOf(tt.err); got != tt.outcome {
				t.Errorf("OutcomeOf = %v, want %v", got, tt.outcome)
			}
		})
	}
}

func TestResultErrorText(t *testing.T) {
	for _, tt := range []struct {
		r    Result
		want string
	}{
		{NewResult(CodeOrderIsClosed), "gateway answered F/ORDER_IS_CLOSED: The order is closed."},
		{Result{ResultCode: "X", ResultStatus: "weird"}, `gateway answered "weird"/X`},
		{Result{ResultStatus: "U"}, "gateway answered U/(no resultCode)"},
	} {
		if got := newResultError(APIPay, tt.r).Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
