package gateway

import "context"

// The seams callers depend on instead of *Client, so that adapters can be
// tested without HTTP (package gatewayfake answers with function fields).
// *Client is the one real implementation: it signs, sends, retries and
// classifies; everything behind these interfaces speaks in the typed
// requests and responses of wire.go and the errors of classify.go.

// Payments is the nine Cashier Payment and customs APIs.
type Payments interface {
	Consult(ctx context.Context, req *ConsultRequest) (*ConsultResponse, error)
	Pay(ctx context.Context, req *PayRequest) (*PayResponse, error)
	Capture(ctx context.Context, req *CaptureRequest) (*CaptureResponse, error)
	InquiryPayment(ctx context.Context, req *InquiryPaymentRequest) (*InquiryPaymentResponse, error)
	Cancel(ctx context.Context, req *CancelRequest) (*CancelResponse, error)
	Refund(ctx context.Context, req *RefundRequest) (*RefundResponse, error)
	InquiryRefund(ctx context.Context, req *InquiryRefundRequest) (*InquiryRefundResponse, error)
	Declare(ctx context.Context, req *DeclareRequest) (*DeclareResponse, error)
	InquiryDeclarationRequests(ctx context.Context, req *InquiryDeclarationRequestsRequest) (*InquiryDeclarationRequestsResponse, error)
}

// Disputes is the three APIs a merchant answers a chargeback with.
type Disputes interface {
	AcceptDispute(ctx context.Context, req *AcceptDisputeRequest) (*AcceptDisputeResponse, error)
	SupplyDefenseDocument(ctx context.Context, req *SupplyDefenseDocumentRequest) (*SupplyDefenseDocumentResponse, error)
	DownloadDisputeEvidence(ctx context.Context, req *DownloadDisputeEvidenceRequest) (*DownloadDisputeEvidenceResponse, error)
}

// Interface is everything a merchant connection calls: what
// connection.Connection holds.
type Interface interface {
	Payments
	Disputes
	Registrations
}

var _ Interface = (*Client)(nil)

// NewResultError is the error the typed methods return for a verified
// result that is not S (Terminal set from the Codes table), for
// implementations other than *Client that answer as the gateway would.
func NewResultError(api API, r Result) *ResultError { return newResultError(api, r) }
