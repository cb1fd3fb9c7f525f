package gateway

import "context"

// The dispute APIs: a merchant answers a chargeback by accepting it or by
// supplying a defense document, and downloads the evidence template or the
// document it supplied. The dispute id, assigned by the gateway, is the only
// identifier of these calls; sending the same call again is safe (the
// gateway answers an identical repeat with its first answer).

// Dispute API paths, relative to the prefix.
const (
	PathAcceptDispute           = "/v1/payments/acceptDispute"
	PathSupplyDefenseDocument   = "/v1/payments/supplyDefenseDocument"
	PathDownloadDisputeEvidence = "/v1/payments/downloadDisputeEvidence"
)

// Dispute result codes (acceptDispute, supplyDefenseDocument).
const (
	// CodeRepeatRequest: the dispute was already answered differently
	// (accepted, or defended with another document).
	CodeRepeatRequest = "REPEAT_REQUEST"
	// CodeTimeExceedsLimit: the defense deadline has passed.
	CodeTimeExceedsLimit = "TIME_EXCEEDS_LIMIT"
	// CodeNotAllowedInCurrentStatus: the dispute is no longer open (judged,
	// cancelled).
	CodeNotAllowedInCurrentStatus = "NOT_ALLOW_IN_CURRENT_STATUS"
)

func init() {
	Codes[CodeRepeatRequest] = CodeInfo{StatusFail, "Repeated request.", false}
	Codes[CodeTimeExceedsLimit] = CodeInfo{StatusFail, "The defense has expired; the dispute can no longer be accepted or defended.", false}
	Codes[CodeNotAllowedInCurrentStatus] = CodeInfo{StatusFail, "The operation is not allowed in the dispute's current status.", false}
}

// Evidence types of downloadDisputeEvidence.
const (
	EvidenceTemplate = "DISPUTE_EVIDENCE_TEMPLATE" // the prefilled defense template
	EvidenceFile     = "DISPUTE_EVIDENCE_FILE"     // the document supplied with supplyDefenseDocument
)

// Evidence formats.
const (
	EvidenceFormatPDF  = "PDF"
	EvidenceFormatWord = "WORD"
	EvidenceFormatZIP  = "ZIP"
	EvidenceFormatJPG  = "JPG"
)

// Dispute accept reasons (disputeAcceptReason of DISPUTE_ACCEPTED).
const (
	AcceptReasonMerchant = "MERCHANT_ACCEPTED"
	AcceptReasonTimeout  = "TIMEOUT"
	AcceptReasonManual   = "MANUAL_PROCESSING_ACCEPTED"
)

// MaxDisputeEvidenceChars is the documented limit of a Base64 evidence
// document (supplyDefenseDocument and downloadDisputeEvidence).
const MaxDisputeEvidenceChars = 1000000

// AcceptDisputeRequest is the acceptDispute body.
type AcceptDisputeRequest struct {
	DisputeID string `json:"disputeId"`
}

// AcceptDisputeResponse is the acceptDispute answer.
type AcceptDisputeResponse struct {
	Result                Result `json:"result"`
	DisputeID             string `json:"disputeId,omitempty"`
	DisputeResolutionTime string `json:"disputeResolutionTime,omitempty"`
}

// SupplyDefenseDocumentRequest is the supplyDefenseDocument body.
type SupplyDefenseDocumentRequest struct {
	DisputeID string `json:"disputeId"`
	// DisputeEvidence is the defense document, Base64 (standard encoding).
	DisputeEvidence string `json:"disputeEvidence"`
}

// SupplyDefenseDocumentResponse is the supplyDefenseDocument answer.
type SupplyDefenseDocumentResponse struct {
	Result                Result `json:"result"`
	DisputeID             string `json:"disputeId,omitempty"`
	DisputeResolutionTime string `json:"disputeResolutionTime,omitempty"`
}

// DownloadDisputeEvidenceRequest is the downloadDisputeEvidence body.
type DownloadDisputeEvidenceRequest struct {
	DisputeID           string `json:"disputeId"`
	DisputeEvidenceType string `json:"disputeEvidenceType"`
}

// DownloadDisputeEvidenceResponse is the downloadDisputeEvidence answer.
type DownloadDisputeEvidenceResponse struct {
	Result Result `json:"result"`
	// DisputeEvidence is the document, Base64.
	DisputeEvidence       string `json:"disputeEvidence,omitempty"`
	DisputeEvidenceFormat string `json:"disputeEvidenceFormat,omitempty"`
}

// AcceptDispute accepts a dispute: the merchant takes the liability and the
// amount is charged back.
func (c *Client) AcceptDispute(ctx context.Context, req *AcceptDisputeRequest) (*AcceptDisputeResponse, error) {
	if req == nil {
		return nil, invalid(APIAcceptDispute, "", "nil request")
	}
	id := callID{"disputeId", req.DisputeID}
	if err := checkID(APIAcceptDispute, id, 64); err != nil {
		return nil, err
	}
	return call[AcceptDisputeResponse](ctx, c, APIAcceptDispute, id, req)
}

// SupplyDefenseDocument defends a dispute with a Base64 document.
func (c *Client) SupplyDefenseDocument(ctx context.Context, req *SupplyDefenseDocumentRequest) (*SupplyDefenseDocumentResponse, error) {
	if req == nil {
		return nil, invalid(APISupplyDefenseDocument, "", "nil request")
	}
	id := callID{"disputeId", req.DisputeID}
	if err := checkID(APISupplyDefenseDocument, id, 64); err != nil {
		return nil, err
	}
	switch n := len(req.DisputeEvidence); {
	case n == 0:
		return nil, invalid(APISupplyDefenseDocument, id.String(), "disputeEvidence is required")
	case n > MaxDisputeEvidenceChars:
		return nil, invalid(APISupplyDefenseDocument, id.String(), "disputeEvidence is longer than 1000000 characters")
	}
	return call[SupplyDefenseDocumentResponse](ctx, c, APISupplyDefenseDocument, id, req)
}

// DownloadDisputeEvidence fetches the evidence template or the supplied
// document of a dispute.
func (c *Client) DownloadDisputeEvidence(ctx context.Context, req *DownloadDisputeEvidenceRequest) (*DownloadDisputeEvidenceResponse, error) {
	if req == nil {
		return nil, invalid(APIDownloadDisputeEvidence, "", "nil request")
	}
	id := callID{"disputeId", req.DisputeID}
	if err := checkID(APIDownloadDisputeEvidence, id, 64); err != nil {
		return nil, err
	}
	if req.DisputeEvidenceType != EvidenceTemplate && req.DisputeEvidenceType != EvidenceFile {
		return nil, invalid(APIDownloadDisputeEvidence, id.String(), "disputeEvidenceType must be "+EvidenceTemplate+" or "+EvidenceFile)
	}
	return call[DownloadDisputeEvidenceResponse](ctx, c, APIDownloadDisputeEvidence, id, req)
}
