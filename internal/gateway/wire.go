package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// This file holds the wire types of the Cashier Payment API: every request,
// response and notification body, field names exactly as the gateway spells
// them. The client (this package), the simulator (internal/gatewaysim) and the
// notification receiver share them. Times stay strings (ISO 8601 with offset)
// so that nothing is lost in a round trip; amounts stay minor-unit strings
// (see internal/money for conversion).

// API paths, relative to the configured prefix (e.g. "/ams/api").
const (
	PathConsult                    = "/v1/payments/consult"
	PathPay                        = "/v1/payments/pay"
	PathCapture                    = "/v1/payments/capture"
	PathInquiryPayment             = "/v1/payments/inquiryPayment"
	PathCancel                     = "/v1/payments/cancel"
	PathRefund                     = "/v1/payments/refund"
	PathInquiryRefund              = "/v1/payments/inquiryRefund"
	PathDeclare                    = "/v1/customs/declare"
	PathInquiryDeclarationRequests = "/v1/customs/inquiryDeclarationRequests"
)

// Path prefixes the gateway is known to serve.
const (
	PrefixProduction = "/ams/api"
	PrefixSandbox    = "/ams/sandbox/api"
	PrefixAlipayPlus = "/aps/api"
)

// ProductCodeCashierPayment is the only product this project drives.
const ProductCodeCashierPayment = "CASHIER_PAYMENT"

// Result status values.
const (
	StatusSuccess = "S"
	StatusFail    = "F"
	StatusUnknown = "U"
)

// Result is the envelope present in every response and notification.
type Result struct {
	ResultCode    string `json:"resultCode"`
	ResultStatus  string `json:"resultStatus"`
	ResultMessage string `json:"resultMessage,omitempty"`
}

// Amount is a wire amount: value is a positive integer string in the
// currency's smallest unit.
type Amount struct {
	Currency string `json:"currency"`
	Value    string `json:"value"`
}

// Bool is a boolean that the gateway documents as a JSON string ("true") but
// the official SDK sends as a native JSON bool. It decodes both and encodes a
// native bool.
type Bool bool

// UnmarshalJSON accepts true, false, "true" and "false".
func (b *Bool) UnmarshalJSON(data []byte) error {
	s := string(bytes.TrimSpace(data))
	switch s {
	case "true", `"true"`:
		*b = true
	case "false", `"false"`:
		*b = false
	default:
		return fmt.Errorf("boolean field: %s is neither true nor false", s)
	}
	return nil
}

// BoolPtr returns a pointer to a Bool, for optional fields.
func BoolPtr(v bool) *Bool { b := Bool(v); return &b }

// Int is an integer the gateway documents as a JSON string ("6") but the SDK
// sends as a number. It decodes both and encodes a number.
type Int int64

// UnmarshalJSON accepts 6 and "6".
func (i *Int) UnmarshalJSON(data []byte) error {
	s := string(bytes.TrimSpace(data))
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("integer field: %q is not an integer", s)
	}
	*i = Int(n)
	return nil
}

// Decimal is a decimal number (an exchange rate) that the official SDK types
// as a JSON number while some documentation shows a string. It decodes both,
// keeps the exact decimal text (never a float) and encodes a JSON number.
type Decimal string

var decimalText = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// UnmarshalJSON accepts 1.0873 and "1.0873".
func (d *Decimal) UnmarshalJSON(data []byte) error {
	s := string(bytes.TrimSpace(data))
	if s == "null" {
		*d = ""
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	if !decimalText.MatchString(s) {
		return fmt.Errorf("decimal field: %q is not a number", s)
	}
	*d = Decimal(s)
	return nil
}

// MarshalJSON writes the number as the SDK expects it.
func (d Decimal) MarshalJSON() ([]byte, error) {
	if !decimalText.MatchString(string(d)) {
		return nil, fmt.Errorf("decimal field: %q is not a number", string(d))
	}
	return []byte(d), nil
}

// Env describes where the order is placed.
type Env struct {
	TerminalType    string `json:"terminalType,omitempty"` // WEB, WAP, APP, MINI_APP
	OsType          string `json:"osType,omitempty"`       // IOS, ANDROID; required unless WEB
	UserAgent       string `json:"userAgent,omitempty"`
	DeviceTokenID   string `json:"deviceTokenId,omitempty"`
	ClientIP        string `json:"clientIp,omitempty"`
	CookieID        string `json:"cookieId,omitempty"`
	BrowserInfo     any    `json:"browserInfo,omitempty"`
	StoreTerminalID string `json:"storeTerminalId,omitempty"`
}

// Address is a postal address.
type Address struct {
	Region   string `json:"region,omitempty"` // ISO 3166 alpha-2
	State    string `json:"state,omitempty"`
	City     string `json:"city,omitempty"`
	Address1 string `json:"address1,omitempty"`
	Address2 string `json:"address2,omitempty"`
	ZipCode  string `json:"zipCode,omitempty"`
}

// UserName is a person's name.
type UserName struct {
	FirstName  string `json:"firstName,omitempty"`
	MiddleName string `json:"middleName,omitempty"`
	LastName   string `json:"lastName,omitempty"`
	FullName   string `json:"fullName,omitempty"`
}

// Buyer is the buyer of an order.
type Buyer struct {
	ReferenceBuyerID string    `json:"referenceBuyerId,omitempty"`
	BuyerName        *UserName `json:"buyerName,omitempty"`
	BuyerPhoneNo     string    `json:"buyerPhoneNo,omitempty"`
	BuyerEmail       string    `json:"buyerEmail,omitempty"`
}

// Goods is one line of an order.
type Goods struct {
	ReferenceGoodsID string  `json:"referenceGoodsId,omitempty"`
	GoodsName        string  `json:"goodsName,omitempty"`
	GoodsCategory    string  `json:"goodsCategory,omitempty"`
	GoodsBrand       string  `json:"goodsBrand,omitempty"`
	GoodsUnitAmount  *Amount `json:"goodsUnitAmount,omitempty"`
	GoodsQuantity    string  `json:"goodsQuantity,omitempty"`
	GoodsURL         string  `json:"goodsUrl,omitempty"`
}

// Merchant describes the secondary merchant.
type Merchant struct {
	ReferenceMerchantID  string   `json:"referenceMerchantId,omitempty"`
	MerchantMCC          string   `json:"merchantMCC,omitempty"`
	MerchantName         string   `json:"merchantName,omitempty"`
	MerchantDisplayName  string   `json:"merchantDisplayName,omitempty"`
	MerchantAddress      *Address `json:"merchantAddress,omitempty"`
	MerchantRegisterDate string   `json:"merchantRegisterDate,omitempty"`
}

// Shipping is where the goods go.
type Shipping struct {
	ShippingName    *UserName `json:"shippingName,omitempty"`
	ShippingAddress *Address  `json:"shippingAddress,omitempty"`
	ShippingCarrier string    `json:"shippingCarrier,omitempty"`
	ShippingPhoneNo string    `json:"shippingPhoneNo,omitempty"`
}

// Order is the order information; used for risk control and display only
// (its amount is not checked against the payment amount).
type Order struct {
	ReferenceOrderID string    `json:"referenceOrderId,omitempty"`
	OrderDescription string    `json:"orderDescription,omitempty"`
	OrderAmount      *Amount   `json:"orderAmount,omitempty"`
	Merchant         *Merchant `json:"merchant,omitempty"`
	Goods            []Goods   `json:"goods,omitempty"`
	Shipping         *Shipping `json:"shipping,omitempty"`
	Buyer            *Buyer    `json:"buyer,omitempty"`
	Env              *Env      `json:"env,omitempty"`
}

// PaymentMethod selects how the user pays.
type PaymentMethod struct {
	PaymentMethodType     string         `json:"paymentMethodType"`
	PaymentMethodID       string         `json:"paymentMethodId,omitempty"`
	PaymentMethodMetaData map[string]any `json:"paymentMethodMetaData,omitempty"`
	CustomerID            string         `json:"customerId,omitempty"`
}

// Card metadata keys inside PaymentMethod.PaymentMethodMetaData.
const (
	CardMetaNumber         = "cardNo"
	CardMetaCVV            = "cvv"
	CardMetaExpiryYear     = "expiryYear"
	CardMetaExpiryMonth    = "expiryMonth"
	CardMetaHolderName     = "cardholderName"
	CardMetaIs3DS          = "is3DSAuthentication"
	CardMetaBillingAddress = "billingAddress"
)

// PaymentFactor carries authorization and presentment flags.
type PaymentFactor struct {
	IsAuthorization *Bool  `json:"isAuthorization,omitempty"`
	CaptureMode     string `json:"captureMode,omitempty"` // AUTOMATIC, MANUAL
	PresentmentMode string `json:"presentmentMode,omitempty"`
}

// SettlementStrategy selects the settlement currency.
type SettlementStrategy struct {
	SettlementCurrency string `json:"settlementCurrency,omitempty"`
}

// CreditPayPlan is an installment plan.
type CreditPayPlan struct {
	InstallmentNum   Int    `json:"installmentNum"`
	CreditPayFeeType string `json:"creditPayFeeType,omitempty"` // PERCENTAGE
	FeePercentage    *Int   `json:"feePercentage,omitempty"`
}

// PayRequest is the body of pay.
type PayRequest struct {
	ProductCode        string              `json:"productCode"`
	PaymentRequestID   string              `json:"paymentRequestId"`
	Order              *Order              `json:"order,omitempty"`
	PaymentAmount      Amount              `json:"paymentAmount"`
	PaymentMethod      PaymentMethod       `json:"paymentMethod"`
	PaymentExpiryTime  string              `json:"paymentExpiryTime,omitempty"`
	PaymentRedirectURL string              `json:"paymentRedirectUrl,omitempty"`
	PaymentNotifyURL   string              `json:"paymentNotifyUrl,omitempty"`
	PaymentFactor      *PaymentFactor      `json:"paymentFactor,omitempty"`
	SettlementStrategy *SettlementStrategy `json:"settlementStrategy,omitempty"`
	CreditPayPlan      *CreditPayPlan      `json:"creditPayPlan,omitempty"`
	Env                *Env                `json:"env,omitempty"`
	MerchantRegion     string              `json:"merchantRegion,omitempty"`
	// IsAuthorization at top level is what the official Go SDK sends; the
	// documentation uses PaymentFactor.IsAuthorization. Accepted by the simulator.
	IsAuthorization *Bool  `json:"isAuthorization,omitempty"`
	UserRegion      string `json:"userRegion,omitempty"`
}

// RedirectActionForm tells the merchant where to send the user.
type RedirectActionForm struct {
	Method      string `json:"method"` // POST, GET, SCAN
	Parameters  string `json:"parameters,omitempty"`
	RedirectURL string `json:"redirectUrl"`
}

// OrderCodeForm carries codes to show the user.
type OrderCodeForm struct {
	PaymentMethodType string       `json:"paymentMethodType,omitempty"`
	ExpireTime        string       `json:"expireTime,omitempty"`
	CodeDetails       []CodeDetail `json:"codeDetails,omitempty"`
	ExtendInfo        string       `json:"extendInfo,omitempty"`
}

// CodeDetail is one code in an OrderCodeForm.
type CodeDetail struct {
	CodeValue     string `json:"codeValue"`
	DisplayType   string `json:"displayType,omitempty"`   // TEXT, MIDDLEIMAGE, SMALLIMAGE, BIGIMAGE
	CodeValueType string `json:"codeValueType,omitempty"` // BARCODE, QRCODE
}

// ChallengeActionForm asks for a challenge (e.g. SMS OTP).
type ChallengeActionForm struct {
	ChallengeType        string `json:"challengeType"` // SMS_OTP, PLAINTEXT_CARD_NO, CARD_EXPIRE_DATE
	ChallengeRenderValue string `json:"challengeRenderValue,omitempty"`
	ExtendInfo           string `json:"extendInfo,omitempty"`
}

// PSPCustomerInfo identifies the user at the wallet.
type PSPCustomerInfo struct {
	PSPName       string `json:"pspName,omitempty"`
	PSPCustomerID string `json:"pspCustomerId,omitempty"`
}

// Quote is an exchange rate quote.
type Quote struct {
	QuoteID           string  `json:"quoteId,omitempty"`
	QuoteCurrencyPair string  `json:"quoteCurrencyPair,omitempty"`
	QuotePrice        Decimal `json:"quotePrice,omitempty"`
	QuoteStartTime    string  `json:"quoteStartTime,omitempty"`
	QuoteExpiryTime   string  `json:"quoteExpiryTime,omitempty"`
}

// CardInfo is the masked card a payment used.
type CardInfo struct {
	CardNo              string `json:"cardNo,omitempty"` // masked
	CardBrand           string `json:"cardBrand,omitempty"`
	CardToken           string `json:"cardToken,omitempty"`
	IssuingCountry      string `json:"issuingCountry,omitempty"`
	Funding             string `json:"funding,omitempty"`
	PaymentMethodRegion string `json:"paymentMethodRegion,omitempty"`
	ThreeDSResult       any    `json:"threeDSResult,omitempty"`
}

// PayResponse is the response of pay.
type PayResponse struct {
	Result                Result               `json:"result"`
	PaymentRequestID      string               `json:"paymentRequestId,omitempty"`
	PaymentID             string               `json:"paymentId,omitempty"`
	PaymentAmount         *Amount              `json:"paymentAmount,omitempty"`
	PaymentCreateTime     string               `json:"paymentCreateTime,omitempty"`
	PaymentTime           string               `json:"paymentTime,omitempty"`
	AuthExpiryTime        string               `json:"authExpiryTime,omitempty"`
	RedirectActionForm    *RedirectActionForm  `json:"redirectActionForm,omitempty"`
	NormalURL             string               `json:"normalUrl,omitempty"`
	SchemeURL             string               `json:"schemeUrl,omitempty"`
	ApplinkURL            string               `json:"applinkUrl,omitempty"`
	ChallengeActionForm   *ChallengeActionForm `json:"challengeActionForm,omitempty"`
	OrderCodeForm         *OrderCodeForm       `json:"orderCodeForm,omitempty"`
	PSPCustomerInfo       *PSPCustomerInfo     `json:"pspCustomerInfo,omitempty"`
	GrossSettlementAmount *Amount              `json:"grossSettlementAmount,omitempty"`
	SettlementQuote       *Quote               `json:"settlementQuote,omitempty"`
	PaymentResultInfo     *CardInfo            `json:"paymentResultInfo,omitempty"`
}

// ConsultRequest is the body of consult.
type ConsultRequest struct {
	ProductCode                 string              `json:"productCode"`
	PaymentAmount               Amount              `json:"paymentAmount"`
	Env                         *Env                `json:"env"`
	UserRegion                  string              `json:"userRegion,omitempty"`
	MerchantRegion              string              `json:"merchantRegion,omitempty"`
	AllowedPaymentMethodRegions []string            `json:"allowedPaymentMethodRegions,omitempty"`
	SettlementStrategy          *SettlementStrategy `json:"settlementStrategy,omitempty"`
	PaymentFactor               *PaymentFactor      `json:"paymentFactor,omitempty"`
	Buyer                       *Buyer              `json:"buyer,omitempty"`
	MerchantAccountID           string              `json:"merchantAccountId,omitempty"`
}

// Logo is a payment method logo.
type Logo struct {
	LogoName string `json:"logoName,omitempty"`
	LogoURL  string `json:"logoUrl,omitempty"`
}

// CardBrand is a supported card brand.
type CardBrand struct {
	CardBrand string `json:"cardBrand"`
	Logo      *Logo  `json:"logo,omitempty"`
}

// PaymentOptionDetail adds card details to a payment option.
type PaymentOptionDetail struct {
	SupportCardBrands []CardBrand `json:"supportCardBrands,omitempty"`
	Funding           []string    `json:"funding,omitempty"` // CREDIT, DEBIT
}

// PaymentOption is one payment method offered by consult.
type PaymentOption struct {
	PaymentMethodType     string               `json:"paymentMethodType"`
	PaymentMethodCategory string               `json:"paymentMethodCategory,omitempty"`
	PaymentMethodRegion   []string             `json:"paymentMethodRegion,omitempty"`
	Enabled               Bool                 `json:"enabled"`
	Preferred             *Bool                `json:"preferred,omitempty"`
	DisableReason         string               `json:"disableReason,omitempty"`
	SupportedCurrencies   []string             `json:"supportedCurrencies,omitempty"`
	Logo                  *Logo                `json:"logo,omitempty"`
	PaymentOptionDetail   *PaymentOptionDetail `json:"paymentOptionDetail,omitempty"`
}

// ConsultResponse is the response of consult.
type ConsultResponse struct {
	Result         Result          `json:"result"`
	PaymentOptions []PaymentOption `json:"paymentOptions,omitempty"`
}

// CaptureRequest is the body of capture.
type CaptureRequest struct {
	CaptureRequestID string `json:"captureRequestId"`
	PaymentID        string `json:"paymentId"`
	CaptureAmount    Amount `json:"captureAmount"`
	IsLastCapture    *Bool  `json:"isLastCapture,omitempty"`
}

// CaptureResponse is the response of capture.
type CaptureResponse struct {
	Result              Result  `json:"result"`
	CaptureRequestID    string  `json:"captureRequestId,omitempty"`
	CaptureID           string  `json:"captureId,omitempty"`
	PaymentID           string  `json:"paymentId,omitempty"`
	CaptureAmount       *Amount `json:"captureAmount,omitempty"`
	CaptureTime         string  `json:"captureTime,omitempty"`
	AcquirerReferenceNo string  `json:"acquirerReferenceNo,omitempty"`
}

// InquiryPaymentRequest is the body of inquiryPayment; one id is required,
// PaymentID wins when both are given.
type InquiryPaymentRequest struct {
	PaymentRequestID  string `json:"paymentRequestId,omitempty"`
	PaymentID         string `json:"paymentId,omitempty"`
	MerchantAccountID string `json:"merchantAccountId,omitempty"`
}

// Payment and transaction status values (inquiryPayment, transactions[]).
const (
	PaymentStatusSuccess    = "SUCCESS"
	PaymentStatusFail       = "FAIL"
	PaymentStatusProcessing = "PROCESSING"
	PaymentStatusCancelled  = "CANCELLED"
	PaymentStatusPending    = "PENDING"
)

// Transaction types in inquiryPayment transactions[].
const (
	TransactionPayment       = "PAYMENT"
	TransactionRefund        = "REFUND"
	TransactionCapture       = "CAPTURE"
	TransactionCancel        = "CANCEL"
	TransactionAuthorization = "AUTHORIZATION"
	TransactionVoid          = "VOID"
)

// Transaction is one operation on a payment.
type Transaction struct {
	TransactionType      string  `json:"transactionType"`
	TransactionStatus    string  `json:"transactionStatus"`
	TransactionRequestID string  `json:"transactionRequestId,omitempty"`
	TransactionID        string  `json:"transactionId,omitempty"`
	TransactionAmount    *Amount `json:"transactionAmount,omitempty"`
	TransactionTime      string  `json:"transactionTime,omitempty"`
	TransactionResult    *Result `json:"transactionResult,omitempty"`
}

// InquiryPaymentResponse is the response of inquiryPayment. Result says
// whether the query worked; the payment's state is PaymentStatus.
type InquiryPaymentResponse struct {
	Result                   Result           `json:"result"`
	PaymentStatus            string           `json:"paymentStatus,omitempty"`
	PaymentResultCode        string           `json:"paymentResultCode,omitempty"`
	PaymentResultMessage     string           `json:"paymentResultMessage,omitempty"`
	PaymentRequestID         string           `json:"paymentRequestId,omitempty"`
	PaymentID                string           `json:"paymentId,omitempty"`
	PaymentAmount            *Amount          `json:"paymentAmount,omitempty"`
	PaymentCreateTime        string           `json:"paymentCreateTime,omitempty"`
	PaymentTime              string           `json:"paymentTime,omitempty"`
	AuthExpiryTime           string           `json:"authExpiryTime,omitempty"`
	AuthPaymentID            string           `json:"authPaymentId,omitempty"`
	CardInfo                 *CardInfo        `json:"cardInfo,omitempty"`
	AcquirerReferenceNo      string           `json:"acquirerReferenceNo,omitempty"`
	CustomsDeclarationAmount *Amount          `json:"customsDeclarationAmount,omitempty"`
	PaymentMethodType        string           `json:"paymentMethodType,omitempty"`
	PSPCustomerInfo          *PSPCustomerInfo `json:"pspCustomerInfo,omitempty"`
	Transactions             []Transaction    `json:"transactions,omitempty"`
}

// CancelRequest is the body of cancel; PaymentID wins when both are given.
type CancelRequest struct {
	PaymentID         string `json:"paymentId,omitempty"`
	PaymentRequestID  string `json:"paymentRequestId,omitempty"`
	MerchantAccountID string `json:"merchantAccountId,omitempty"`
}

// CancelResponse is the response of cancel.
type CancelResponse struct {
	Result           Result `json:"result"`
	PaymentID        string `json:"paymentId,omitempty"`
	PaymentRequestID string `json:"paymentRequestId,omitempty"`
	CancelTime       string `json:"cancelTime,omitempty"`
}

// RefundRequest is the body of refund.
type RefundRequest struct {
	RefundRequestID   string `json:"refundRequestId"`
	PaymentID         string `json:"paymentId"`
	ReferenceRefundID string `json:"referenceRefundId,omitempty"`
	RefundAmount      Amount `json:"refundAmount"`
	RefundReason      string `json:"refundReason,omitempty"`
	RefundNotifyURL   string `json:"refundNotifyUrl,omitempty"`
	CaptureID         string `json:"captureId,omitempty"`
	IsAsyncRefund     *Bool  `json:"isAsyncRefund,omitempty"`
	Metadata          string `json:"metadata,omitempty"`
}

// RefundResponse is the response of refund.
type RefundResponse struct {
	Result                Result  `json:"result"`
	RefundRequestID       string  `json:"refundRequestId,omitempty"`
	RefundID              string  `json:"refundId,omitempty"`
	PaymentID             string  `json:"paymentId,omitempty"`
	RefundAmount          *Amount `json:"refundAmount,omitempty"`
	RefundTime            string  `json:"refundTime,omitempty"`
	GrossSettlementAmount *Amount `json:"grossSettlementAmount,omitempty"`
	SettlementQuote       *Quote  `json:"settlementQuote,omitempty"`
	AcquirerReferenceNo   string  `json:"acquirerReferenceNo,omitempty"`
}

// Refund status values (inquiryRefund, notifyRefund).
const (
	RefundStatusSuccess    = "SUCCESS"
	RefundStatusProcessing = "PROCESSING"
	RefundStatusFail       = "FAIL"
)

// InquiryRefundRequest is the body of inquiryRefund; RefundID wins when both are given.
type InquiryRefundRequest struct {
	RefundRequestID   string `json:"refundRequestId,omitempty"`
	RefundID          string `json:"refundId,omitempty"`
	MerchantAccountID string `json:"merchantAccountId,omitempty"`
}

// InquiryRefundResponse is the response of inquiryRefund.
type InquiryRefundResponse struct {
	Result                Result  `json:"result"`
	RefundID              string  `json:"refundId,omitempty"`
	RefundRequestID       string  `json:"refundRequestId,omitempty"`
	RefundAmount          *Amount `json:"refundAmount,omitempty"`
	RefundStatus          string  `json:"refundStatus,omitempty"`
	RefundTime            string  `json:"refundTime,omitempty"`
	GrossSettlementAmount *Amount `json:"grossSettlementAmount,omitempty"`
	SettlementQuote       *Quote  `json:"settlementQuote,omitempty"`
	ActualRefundAmount    *Amount `json:"actualRefundAmount,omitempty"`
	ARN                   string  `json:"arn,omitempty"`
	RRN                   string  `json:"rrn,omitempty"`
}

// Customs names the customs office.
type Customs struct {
	CustomsCode string `json:"customsCode"`
	Region      string `json:"region"` // CN
}

// MerchantCustomsInfo is the merchant's registration at customs.
type MerchantCustomsInfo struct {
	MerchantCustomsCode string `json:"merchantCustomsCode"`
	MerchantCustomsName string `json:"merchantCustomsName"`
}

// Certificate identifies the buyer to customs.
type Certificate struct {
	CertificateType string    `json:"certificateType"` // e.g. ID_CARD
	CertificateNo   string    `json:"certificateNo"`
	HolderName      *UserName `json:"holderName,omitempty"`
}

// DeclareRequest is the body of declare. The documentation spells the
// sub-order key "suborderId" and the SDK "subOrderId"; we send the documented
// spelling and the simulator accepts both.
type DeclareRequest struct {
	DeclarationRequestID string              `json:"declarationRequestId"`
	PaymentID            string              `json:"paymentId"`
	DeclarationAmount    Amount              `json:"declarationAmount"`
	Customs              Customs             `json:"customs"`
	MerchantCustomsInfo  MerchantCustomsInfo `json:"merchantCustomsInfo"`
	SplitOrder           Bool                `json:"splitOrder"`
	SubOrderID           string              `json:"suborderId,omitempty"`
	BuyerCertificate     *Certificate        `json:"buyerCertificate,omitempty"`
}

// UnmarshalJSON accepts the SDK's "subOrderId" spelling too.
func (r *DeclareRequest) UnmarshalJSON(data []byte) error {
	type plain DeclareRequest
	var aux struct {
		plain
		SDKSubOrderID string `json:"subOrderId,omitempty"`
	}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	*r = DeclareRequest(aux.plain)
	if r.SubOrderID == "" {
		r.SubOrderID = aux.SDKSubOrderID
	}
	return nil
}

// DeclareResponse is the response of declare; Result is the call outcome only.
type DeclareResponse struct {
	Result                        Result `json:"result"`
	CustomsPaymentID              string `json:"customsPaymentId,omitempty"`
	CustomsOrderID                string `json:"customsOrderId,omitempty"`
	IdentityCheckResult           string `json:"identityCheckResult,omitempty"` // CHECK_PASSED, CHECK_NOT_PASSED
	ClearingChannel               string `json:"clearingChannel,omitempty"`     // CUP, NUCC, OTHER
	ClearingTransactionID         string `json:"clearingTransactionId,omitempty"`
	CustomsProviderRegistrationID string `json:"customsProviderRegistrationId,omitempty"`
}

// MaxDeclarationIDsPerInquiry is the gateway's limit on declarationRequestIds.
const MaxDeclarationIDsPerInquiry = 10

// Declaration status values. Only WAITING_FOR_PROCESSING is confirmed by a
// source; the rest are inferred (see the simulator's behaviour table).
const (
	DeclarationWaiting    = "WAITING_FOR_PROCESSING"
	DeclarationProcessing = "PROCESSING"
	DeclarationSuccess    = "SUCCESS"
	DeclarationFail       = "FAIL"
)

// InquiryDeclarationRequestsRequest is the body of inquiryDeclarationRequests.
type InquiryDeclarationRequestsRequest struct {
	DeclarationRequestIDs []string `json:"declarationRequestIds"`
}

// DeclarationRecord is one declaration's state.
type DeclarationRecord struct {
	DeclarationRequestID         string               `json:"declarationRequestId"`
	CustomsPaymentID             string               `json:"customsPaymentId,omitempty"`
	CustomsOrderID               string               `json:"customsOrderId,omitempty"`
	Customs                      *Customs             `json:"customs,omitempty"`
	MerchantCustomsInfo          *MerchantCustomsInfo `json:"merchantCustomsInfo,omitempty"`
	DeclarationAmount            *Amount              `json:"declarationAmount,omitempty"`
	SplitOrder                   *Bool                `json:"splitOrder,omitempty"`
	DeclarationRequestStatus     string               `json:"declarationRequestStatus"`
	LastModifiedTime             string               `json:"lastModifiedTime,omitempty"`
	CustomsDeclarationResultCode string               `json:"customsDeclarationResultCode,omitempty"`
	CustomsDeclarationResultDesc string               `json:"customsDeclarationResultDesc,omitempty"`
	CustomsDeclarationReturnTime string               `json:"customsDeclarationReturnTime,omitempty"`
}

// InquiryDeclarationRequestsResponse is the response of inquiryDeclarationRequests.
type InquiryDeclarationRequestsResponse struct {
	Result                      Result              `json:"result"`
	DeclarationRequestsNotFound []string            `json:"declarationRequestsNotFound,omitempty"`
	DeclarationRecords          []DeclarationRecord `json:"declarationRecords,omitempty"`
}

// Notification types (notifyType field).
const (
	NotifyTypePaymentResult  = "PAYMENT_RESULT"
	NotifyTypePaymentPending = "PAYMENT_PENDING"
	NotifyTypeCaptureResult  = "CAPTURE_RESULT"
	NotifyTypeRefundResult   = "REFUND_RESULT"
)

// NotifyPayment is the notifyPayment body (also the PAYMENT_PENDING variant).
type NotifyPayment struct {
	NotifyType               string           `json:"notifyType"`
	Result                   Result           `json:"result"`
	PaymentRequestID         string           `json:"paymentRequestId"`
	PaymentID                string           `json:"paymentId"`
	PaymentAmount            *Amount          `json:"paymentAmount,omitempty"`
	PaymentCreateTime        string           `json:"paymentCreateTime,omitempty"`
	PaymentTime              string           `json:"paymentTime,omitempty"`
	CustomsDeclarationAmount *Amount          `json:"customsDeclarationAmount,omitempty"`
	GrossSettlementAmount    *Amount          `json:"grossSettlementAmount,omitempty"`
	SettlementQuote          *Quote           `json:"settlementQuote,omitempty"`
	PSPCustomerInfo          *PSPCustomerInfo `json:"pspCustomerInfo,omitempty"`
	AcquirerReferenceNo      string           `json:"acquirerReferenceNo,omitempty"`
	PaymentResultInfo        *CardInfo        `json:"paymentResultInfo,omitempty"`
	AuthExpiryTime           string           `json:"authExpiryTime,omitempty"`
	PaymentMethodType        string           `json:"paymentMethodType,omitempty"`
	Metadata                 string           `json:"metadata,omitempty"`
}

// NotifyCapture is the notifyCapture body.
type NotifyCapture struct {
	NotifyType          string  `json:"notifyType"`
	Result              Result  `json:"result"`
	CaptureRequestID    string  `json:"captureRequestId"`
	PaymentID           string  `json:"paymentId"`
	CaptureID           string  `json:"captureId,omitempty"`
	CaptureAmount       *Amount `json:"captureAmount,omitempty"`
	CaptureTime         string  `json:"captureTime,omitempty"`
	AcquirerReferenceNo string  `json:"acquirerReferenceNo,omitempty"`
}

// NotifyRefund is the notifyRefund body. It carries no paymentId.
type NotifyRefund struct {
	NotifyType            string  `json:"notifyType"`
	Result                Result  `json:"result"`
	RefundStatus          string  `json:"refundStatus"`
	RefundRequestID       string  `json:"refundRequestId"`
	RefundID              string  `json:"refundId,omitempty"`
	RefundAmount          *Amount `json:"refundAmount,omitempty"`
	RefundTime            string  `json:"refundTime,omitempty"`
	GrossSettlementAmount *Amount `json:"grossSettlementAmount,omitempty"`
	SettlementQuote       *Quote  `json:"settlementQuote,omitempty"`
	ARN                   string  `json:"arn,omitempty"`
	ActualRefundAmount    *Amount `json:"actualRefundAmount,omitempty"`
	Metadata              string  `json:"metadata,omitempty"`
}

// Dispute notification types.
const (
	DisputeCreated         = "DISPUTE_CREATED"
	DisputeJudged          = "DISPUTE_JUDGED"
	DisputeCancelled       = "DISPUTE_CANCELLED"
	DisputeDefenseSupplied = "DEFENSE_SUPPLIED"
	DisputeDefenseDueAlert = "DEFENSE_DUE_ALERT"
	DisputeAccepted        = "DISPUTE_ACCEPTED"
	DisputeRDRResolved     = "RDR_RESOLVED"
)

// Dispute judgement results.
const (
	JudgedAcceptByCustomer = "ACCEPT_BY_CUSTOMER" // buyer liable; funds unfrozen
	JudgedAcceptByMerchant = "ACCEPT_BY_MERCHANT" // merchant liable; amount deducted
)

// NotifyDispute is the notifyDispute body. It has no notifyType.
type NotifyDispute struct {
	PaymentRequestID        string  `json:"paymentRequestId,omitempty"`
	PaymentID               string  `json:"paymentId"`
	DisputeID               string  `json:"disputeId"`
	DisputeTime             string  `json:"disputeTime,omitempty"`
	DisputeAmount           *Amount `json:"disputeAmount,omitempty"`
	DisputeNotificationType string  `json:"disputeNotificationType"`
	DisputeReasonCode       string  `json:"disputeReasonCode,omitempty"`
	DisputeReasonMsg        string  `json:"disputeReasonMsg,omitempty"`
	DefenseDueTime          string  `json:"defenseDueTime,omitempty"`
	DisputeJudgedTime       string  `json:"disputeJudgedTime,omitempty"`
	DisputeJudgedAmount     *Amount `json:"disputeJudgedAmount,omitempty"`
	DisputeJudgedResult     string  `json:"disputeJudgedResult,omitempty"`
	DisputeType             string  `json:"disputeType,omitempty"` // CHARGEBACK, RETRIEVAL_REQUEST, COMPLIANCE_REQUEST
	Defendable              *Bool   `json:"defendable,omitempty"`
	CaptureID               string  `json:"captureId,omitempty"`
	DisputeAcceptReason     string  `json:"disputeAcceptReason,omitempty"`
	DisputeAcceptTime       string  `json:"disputeAcceptTime,omitempty"`
	DisputeSource           string  `json:"disputeSource,omitempty"`
	ARN                     string  `json:"arn,omitempty"`
}

// NotificationAck is the exact body a merchant returns to acknowledge a
// notification. Anything else makes the gateway re-send.
const NotificationAck = `{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}`

// NotificationRetrySchedule is the documented delivery schedule: the delay
// before each of the 8 sends, counted from the previous one, until a send is
// acknowledged with NotificationAck.
var NotificationRetrySchedule = []time.Duration{
	0, 2 * time.Minute, 10 * time.Minute, 10 * time.Minute,
	time.Hour, 2 * time.Hour, 6 * time.Hour, 15 * time.Hour,
}
