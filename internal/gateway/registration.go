package gateway

import (
	"context"
	"errors"
	"fmt"
)

// Merchant registration: in some countries and regions a secondary merchant
// (a shop a platform sells for) must be registered with the gateway before
// payments are processed for it. registration submits the merchant's
// details; the gateway reviews them asynchronously, per payment method (PSP),
// and reports the result with notifyRegistrationStatus and the two inquiries.
// registrationRequestId is the idempotency id: the same id answers with the
// first request's result. Field names follow the Antom reference and the
// official Java SDK's merchant request and response types.

// Registration API paths, relative to the prefix.
const (
	PathRegistration              = "/v1/merchants/registration"
	PathInquiryRegistrationStatus = "/v1/merchants/inquiryRegistrationStatus"
	PathInquiryRegistrationInfo   = "/v1/merchants/inquiryRegistrationInfo"
)

// Registration result codes.
const (
	// CodeRepeatRegistration: the referenceMerchantId is already registered
	// by another registrationRequestId that is still under review.
	CodeRepeatRegistration = "REPEAT_REGISTRATION"
	// CodeRegistrationNotExist: an inquiry names no known registration
	// (inferred: the docs give no code for it).
	CodeRegistrationNotExist = "REGISTRATION_NOT_EXIST"
)

func init() {
	Codes[CodeRepeatRegistration] = CodeInfo{StatusFail, "The merchant is already being registered by another registration request.", false}
	Codes[CodeRegistrationNotExist] = CodeInfo{StatusFail, "The registration does not exist.", false}
}

// Product codes a merchant is registered for.
const (
	ProductCashierPayment   = "CASHIER_PAYMENT"
	ProductAgreementPayment = "AGREEMENT_PAYMENT"
	ProductInStorePayment   = "IN_STORE_PAYMENT"
)

// Registration statuses, of the registration as a whole and per PSP.
const (
	RegistrationPending  = "PENDING"
	RegistrationApproved = "APPROVED"
	RegistrationRejected = "REJECTED"
)

// Registrations is the three merchant registration APIs.
type Registrations interface {
	Registration(ctx context.Context, req *RegistrationRequest) (*RegistrationResponse, error)
	InquiryRegistrationStatus(ctx context.Context, req *InquiryRegistrationStatusRequest) (*InquiryRegistrationStatusResponse, error)
	InquiryRegistrationInfo(ctx context.Context, req *InquiryRegistrationInfoRequest) (*InquiryRegistrationInfoResponse, error)
}

// RegistrationRequest is the registration body.
type RegistrationRequest struct {
	// RegistrationRequestID is the idempotency id (at most 64 characters).
	RegistrationRequestID string `json:"registrationRequestId"`
	// RegistrationNotifyURL receives notifyRegistrationStatus.
	RegistrationNotifyURL string                    `json:"registrationNotifyURL,omitempty"`
	PassThroughInfo       string                    `json:"passThroughInfo,omitempty"`
	MerchantInfo          *MerchantRegistrationInfo `json:"merchantInfo"`
	ProductCodes          []string                  `json:"productCodes"`
	// StoreInfo is required when ProductCodes holds IN_STORE_PAYMENT.
	StoreInfo *StoreRegistrationInfo `json:"storeInfo,omitempty"`
}

// MerchantRegistrationInfo is what is registered of the secondary merchant.
type MerchantRegistrationInfo struct {
	ReferenceMerchantID string              `json:"referenceMerchantId"`
	MerchantDisplayName string              `json:"merchantDisplayName,omitempty"`
	MerchantMCC         string              `json:"merchantMCC,omitempty"`
	Logo                *Logo               `json:"logo,omitempty"`
	Websites            []WebSite           `json:"websites,omitempty"`
	MerchantAddress     *Address            `json:"merchantAddress,omitempty"`
	RegistrationDetail  *RegistrationDetail `json:"registrationDetail,omitempty"`
}

// WebSite is one of the merchant's websites.
type WebSite struct {
	Name string `json:"name,omitempty"`
	URL  string `json:"url"`
	Desc string `json:"desc,omitempty"`
	Type string `json:"type,omitempty"`
}

// RegistrationDetail is the merchant's legal registration.
type RegistrationDetail struct {
	LegalName           string        `json:"legalName,omitempty"`
	Attachments         []Attachment  `json:"attachments,omitempty"`
	ContactInfo         []ContactInfo `json:"contactInfo,omitempty"`
	RegistrationType    string        `json:"registrationType,omitempty"`
	RegistrationNo      string        `json:"registrationNo,omitempty"`
	RegistrationAddress *Address      `json:"registrationAddress,omitempty"`
	BusinessType        string        `json:"businessType,omitempty"`
	// RegistrationEffectiveDate and RegistrationExpireDate are ISO 8601.
	RegistrationEffectiveDate string `json:"registrationEffectiveDate,omitempty"`
	RegistrationExpireDate    string `json:"registrationExpireDate,omitempty"`
}

// Attachment is a document of the registration (articles of association,
// a licence), Base64 in File or uploaded earlier under FileKey.
type Attachment struct {
	AttachmentType string `json:"attachmentType"`
	File           string `json:"file,omitempty"`
	AttachmentName string `json:"attachmentName,omitempty"`
	FileKey        string `json:"fileKey,omitempty"`
}

// ContactInfo is one way to reach the merchant.
type ContactInfo struct {
	ContactNo   string `json:"contactNo"`
	ContactType string `json:"contactType"`
}

// StoreRegistrationInfo is the store registered with the merchant.
type StoreRegistrationInfo struct {
	ReferenceStoreID string   `json:"referenceStoreId"`
	StoreName        string   `json:"storeName,omitempty"`
	StoreMCC         string   `json:"storeMCC,omitempty"`
	StoreAddress     *Address `json:"storeAddress,omitempty"`
}

// RegistrationResponse is the registration answer: S means accepted for
// review, not approved.
type RegistrationResponse struct {
	Result          Result `json:"result"`
	PassThroughInfo string `json:"passThroughInfo,omitempty"`
}

// RegistrationResult is a registration's status, overall or for one PSP.
type RegistrationResult struct {
	RegistrationStatus string `json:"registrationStatus"`
	RejectReasons      string `json:"rejectReasons,omitempty"`
}

// PSPRegistrationResult is the review result of one payment method.
type PSPRegistrationResult struct {
	PSPName            string             `json:"pspName"`
	RegistrationResult RegistrationResult `json:"registrationResult"`
}

// InquiryRegistrationStatusRequest asks for a registration's status by its
// request id or by the merchant (and store).
type InquiryRegistrationStatusRequest struct {
	RegistrationRequestID string `json:"registrationRequestId,omitempty"`
	ReferenceMerchantID   string `json:"referenceMerchantId,omitempty"`
	ReferenceStoreID      string `json:"referenceStoreId,omitempty"`
}

// InquiryRegistrationStatusResponse is the status answer.
type InquiryRegistrationStatusResponse struct {
	Result                    Result                  `json:"result"`
	RegistrationResult        *RegistrationResult     `json:"registrationResult,omitempty"`
	PSPRegistrationResultList []PSPRegistrationResult `json:"pspRegistrationResultList,omitempty"`
}

// InquiryRegistrationInfoRequest asks for what is registered of a merchant.
type InquiryRegistrationInfoRequest struct {
	ReferenceMerchantID string `json:"referenceMerchantId"`
	ReferenceStoreID    string `json:"referenceStoreId,omitempty"`
}

// InquiryRegistrationInfoResponse is the latest successfully registered
// information (only the result when nothing was approved yet).
type InquiryRegistrationInfoResponse struct {
	Result       Result                    `json:"result"`
	MerchantInfo *MerchantRegistrationInfo `json:"merchantInfo,omitempty"`
	StoreInfo    *StoreRegistrationInfo    `json:"storeInfo,omitempty"`
	ProductCodes []string                  `json:"productCodes,omitempty"`
}

// NotifyRegistrationStatus is the notifyRegistrationStatus body. It has no
// notifyType: ParseNotification tells it apart by registrationRequestId.
type NotifyRegistrationStatus struct {
	ReferenceMerchantID       string                  `json:"referenceMerchantId,omitempty"`
	RegistrationRequestID     string                  `json:"registrationRequestId"`
	ReferenceStoreID          string                  `json:"referenceStoreId,omitempty"`
	RegistrationResult        *RegistrationResult     `json:"registrationResult,omitempty"`
	PSPRegistrationResultList []PSPRegistrationResult `json:"pspRegistrationResultList,omitempty"`
}

// KindNotifyRegistrationStatus is ParseNotification's kind for it.
const KindNotifyRegistrationStatus = "notifyRegistrationStatus"

// Registration submits a secondary merchant for review.
func (c *Client) Registration(ctx context.Context, req *RegistrationRequest) (*RegistrationResponse, error) {
	if req == nil {
		return nil, invalid(APIRegistration, "", "nil request")
	}
	id := callID{"registrationRequestId", req.RegistrationRequestID}
	if err := checkID(APIRegistration, id, 64); err != nil {
		return nil, err
	}
	if err := checkRegistration(req); err != nil {
		return nil, invalid(APIRegistration, id.String(), err.Error())
	}
	return call[RegistrationResponse](ctx, c, APIRegistration, id, req)
}

// checkRegistration is what the gateway answers PARAM_ILLEGAL to, checked
// before anything is sent.
func checkRegistration(req *RegistrationRequest) error {
	m := req.MerchantInfo
	switch {
	case m == nil:
		return errors.New("merchantInfo is required")
	case m.ReferenceMerchantID == "":
		return errors.New("merchantInfo.referenceMerchantId is required")
	case len(m.ReferenceMerchantID) > 64:
		return fmt.Errorf("merchantInfo.referenceMerchantId is %d characters; at most 64 allowed", len(m.ReferenceMerchantID))
	case len(req.ProductCodes) == 0:
		return errors.New("productCodes is required")
	}
	for _, p := range req.ProductCodes {
		switch p {
		case ProductCashierPayment, ProductAgreementPayment:
		case ProductInStorePayment:
			if req.StoreInfo == nil || req.StoreInfo.ReferenceStoreID == "" {
				return errors.New("storeInfo.referenceStoreId is required with IN_STORE_PAYMENT")
			}
		default:
			return fmt.Errorf("productCodes: unknown product code %q", p)
		}
	}
	return nil
}

// InquiryRegistrationStatus asks for a registration's overall and per-PSP
// review status.
func (c *Client) InquiryRegistrationStatus(ctx context.Context, req *InquiryRegistrationStatusRequest) (*InquiryRegistrationStatusResponse, error) {
	if req == nil {
		return nil, invalid(APIInquiryRegistrationStatus, "", "nil request")
	}
	id := callID{"registrationRequestId", req.RegistrationRequestID}
	if id.value == "" {
		id = callID{"referenceMerchantId", req.ReferenceMerchantID}
	}
	if err := checkID(APIInquiryRegistrationStatus, id, 64); err != nil {
		return nil, err
	}
	return call[InquiryRegistrationStatusResponse](ctx, c, APIInquiryRegistrationStatus, id, req)
}

// InquiryRegistrationInfo asks for the latest approved details of a merchant.
func (c *Client) InquiryRegistrationInfo(ctx context.Context, req *InquiryRegistrationInfoRequest) (*InquiryRegistrationInfoResponse, error) {
	if req == nil {
		return nil, invalid(APIInquiryRegistrationInfo, "", "nil request")
	}
	id := callID{"referenceMerchantId", req.ReferenceMerchantID}
	if err := checkID(APIInquiryRegistrationInfo, id, 64); err != nil {
		return nil, err
	}
	return call[InquiryRegistrationInfoResponse](ctx, c, APIInquiryRegistrationInfo, id, req)
}
