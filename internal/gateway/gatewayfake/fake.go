// Package gatewayfake is a gateway.Interface for unit tests. Each API is a
// function field: a test sets the ones it expects to be called, and a field
// left nil answers with an error wrapping ErrNotImplemented that names the
// API and the field, so an unexpected call fails loudly instead of looking
// like a gateway answer. Every call, answered or not, is recorded in order
// (Calls, APIs), so a test can assert exactly what was sent.
//
// The real client classifies answers into errors (see package gateway's
// classify.go); a fake answers with the same values: Refuse builds the
// *gateway.ResultError the client returns for a non-S result, and a
// *gateway.TransportError stands for a call whose outcome is unknown.
package gatewayfake

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// ErrNotImplemented is wrapped by the answer of an API whose field is nil.
var ErrNotImplemented = errors.New("not implemented")

// Call is one recorded call: the API and the request as the caller passed it.
type Call struct {
	API     gateway.API
	Request any
}

// Client answers each gateway API with its Fake field. It is safe for
// concurrent use as long as the fields are set before the first call.
type Client struct {
	FakeConsult                    func(context.Context, *gateway.ConsultRequest) (*gateway.ConsultResponse, error)
	FakePay                        func(context.Context, *gateway.PayRequest) (*gateway.PayResponse, error)
	FakeCapture                    func(context.Context, *gateway.CaptureRequest) (*gateway.CaptureResponse, error)
	FakeInquiryPayment             func(context.Context, *gateway.InquiryPaymentRequest) (*gateway.InquiryPaymentResponse, error)
	FakeCancel                     func(context.Context, *gateway.CancelRequest) (*gateway.CancelResponse, error)
	FakeRefund                     func(context.Context, *gateway.RefundRequest) (*gateway.RefundResponse, error)
	FakeInquiryRefund              func(context.Context, *gateway.InquiryRefundRequest) (*gateway.InquiryRefundResponse, error)
	FakeDeclare                    func(context.Context, *gateway.DeclareRequest) (*gateway.DeclareResponse, error)
	FakeInquiryDeclarationRequests func(context.Context, *gateway.InquiryDeclarationRequestsRequest) (*gateway.InquiryDeclarationRequestsResponse, error)
	FakeAcceptDispute              func(context.Context, *gateway.AcceptDisputeRequest) (*gateway.AcceptDisputeResponse, error)
	FakeSupplyDefenseDocument      func(context.Context, *gateway.SupplyDefenseDocumentRequest) (*gateway.SupplyDefenseDocumentResponse, error)
	FakeDownloadDisputeEvidence    func(context.Context, *gateway.DownloadDisputeEvidenceRequest) (*gateway.DownloadDisputeEvidenceResponse, error)
	FakeRegistration               func(context.Context, *gateway.RegistrationRequest) (*gateway.RegistrationResponse, error)
	FakeInquiryRegistrationStatus  func(context.Context, *gateway.InquiryRegistrationStatusRequest) (*gateway.InquiryRegistrationStatusResponse, error)
	FakeInquiryRegistrationInfo    func(context.Context, *gateway.InquiryRegistrationInfoRequest) (*gateway.InquiryRegistrationInfoResponse, error)

	mu    sync.Mutex
	calls []Call
}

var _ gateway.Interface = (*Client)(nil)

// Calls returns the calls made so far, in order.
func (c *Client) Calls() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Call(nil), c.calls...)
}

// APIs returns the APIs called so far, in order (nil for none).
func (c *Client) APIs() []gateway.API {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []gateway.API
	for _, call := range c.calls {
		out = append(out, call.API)
	}
	return out
}

// Refuse is the error the real client returns when the gateway answers api
// with code: a *gateway.ResultError with the code's status and message from
// gateway.Codes (F for a code it does not list), Terminal as the client sets it.
func Refuse(api gateway.API, code string) *gateway.ResultError {
	return gateway.NewResultError(api, gateway.NewResult(code))
}

// answer records the call and delegates to fn, or reports the missing field.
func answer[Req, Resp any](ctx context.Context, c *Client, api gateway.API, fn func(context.Context, *Req) (*Resp, error), req *Req) (*Resp, error) {
	c.mu.Lock()
	c.calls = append(c.calls, Call{API: api, Request: req})
	c.mu.Unlock()
	if fn == nil {
		field := "Fake" + strings.ToUpper(string(api[:1])) + string(api[1:])
		return nil, fmt.Errorf("gatewayfake: %s %w (set Client.%s)", api, ErrNotImplemented, field)
	}
	return fn(ctx, req)
}

// Consult answers with FakeConsult.
func (c *Client) Consult(ctx context.Context, req *gateway.ConsultRequest) (*gateway.ConsultResponse, error) {
	return answer(ctx, c, gateway.APIConsult, c.FakeConsult, req)
}

// Pay answers with FakePay.
func (c *Client) Pay(ctx context.Context, req *gateway.PayRequest) (*gateway.PayResponse, error) {
	return answer(ctx, c, gateway.APIPay, c.FakePay, req)
}

// Capture answers with FakeCapture.
func (c *Client) Capture(ctx context.Context, req *gateway.CaptureRequest) (*gateway.CaptureResponse, error) {
	return answer(ctx, c, gateway.APICapture, c.FakeCapture, req)
}

// InquiryPayment answers with FakeInquiryPayment.
func (c *Client) InquiryPayment(ctx context.Context, req *gateway.InquiryPaymentRequest) (*gateway.InquiryPaymentResponse, error) {
	return answer(ctx, c, gateway.APIInquiryPayment, c.FakeInquiryPayment, req)
}

// Cancel answers with FakeCancel.
func (c *Client) Cancel(ctx context.Context, req *gateway.CancelRequest) (*gateway.CancelResponse, error) {
	return answer(ctx, c, gateway.APICancel, c.FakeCancel, req)
}

// Refund answers with FakeRefund.
func (c *Client) Refund(ctx context.Context, req *gateway.RefundRequest) (*gateway.RefundResponse, error) {
	return answer(ctx, c, gateway.APIRefund, c.FakeRefund, req)
}

// InquiryRefund answers with FakeInquiryRefund.
func (c *Client) InquiryRefund(ctx context.Context, req *gateway.InquiryRefundRequest) (*gateway.InquiryRefundResponse, error) {
	return answer(ctx, c, gateway.APIInquiryRefund, c.FakeInquiryRefund, req)
}

// Declare answers with FakeDeclare.
func (c *Client) Declare(ctx context.Context, req *gateway.DeclareRequest) (*gateway.DeclareResponse, error) {
	return answer(ctx, c, gateway.APIDeclare, c.FakeDeclare, req)
}

// InquiryDeclarationRequests answers with FakeInquiryDeclarationRequests.
func (c *Client) InquiryDeclarationRequests(ctx context.Context, req *gateway.InquiryDeclarationRequestsRequest) (*gateway.InquiryDeclarationRequestsResponse, error) {
	return answer(ctx, c, gateway.APIInquiryDeclarationRequests, c.FakeInquiryDeclarationRequests, req)
}

// AcceptDispute answers with FakeAcceptDispute.
func (c *Client) AcceptDispute(ctx context.Context, req *gateway.AcceptDisputeRequest) (*gateway.AcceptDisputeResponse, error) {
	return answer(ctx, c, gateway.APIAcceptDispute, c.FakeAcceptDispute, req)
}

// SupplyDefenseDocument answers with FakeSupplyDefenseDocument.
func (c *Client) SupplyDefenseDocument(ctx context.Context, req *gateway.SupplyDefenseDocumentRequest) (*gateway.SupplyDefenseDocumentResponse, error) {
	return answer(ctx, c, gateway.APISupplyDefenseDocument, c.FakeSupplyDefenseDocument, req)
}

// DownloadDisputeEvidence answers with FakeDownloadDisputeEvidence.
func (c *Client) DownloadDisputeEvidence(ctx context.Context, req *gateway.DownloadDisputeEvidenceRequest) (*gateway.DownloadDisputeEvidenceResponse, error) {
	return answer(ctx, c, gateway.APIDownloadDisputeEvidence, c.FakeDownloadDisputeEvidence, req)
}

// Registration answers with FakeRegistration.
func (c *Client) Registration(ctx context.Context, req *gateway.RegistrationRequest) (*gateway.RegistrationResponse, error) {
	return answer(ctx, c, gateway.APIRegistration, c.FakeRegistration, req)
}

// InquiryRegistrationStatus answers with FakeInquiryRegistrationStatus.
func (c *Client) InquiryRegistrationStatus(ctx context.Context, req *gateway.InquiryRegistrationStatusRequest) (*gateway.InquiryRegistrationStatusResponse, error) {
	return answer(ctx, c, gateway.APIInquiryRegistrationStatus, c.FakeInquiryRegistrationStatus, req)
}

// InquiryRegistrationInfo answers with FakeInquiryRegistrationInfo.
func (c *Client) InquiryRegistrationInfo(ctx context.Context, req *gateway.InquiryRegistrationInfoRequest) (*gateway.InquiryRegistrationInfoResponse, error) {
	return answer(ctx, c, gateway.APIInquiryRegistrationInfo, c.FakeInquiryRegistrationInfo, req)
}
