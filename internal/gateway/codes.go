package gateway

// Result codes. One table serves the simulator (which answers with them) and
// the client (which classifies them). Source: the pay API's code table and the
// contract notes; codes marked inferred are not confirmed by a source.
const (
	CodeSuccess                  = "SUCCESS"
	CodeAccessDenied             = "ACCESS_DENIED"
	CodeAPIInvalid               = "API_INVALID"
	CodeClientInvalid            = "CLIENT_INVALID"
	CodeSignatureInvalid         = "SIGNATURE_INVALID"
	CodeKeyNotFound              = "KEY_NOT_FOUND"
	CodeOAuthFail                = "OAUTH_FAIL" // an API key refused (unknown, revoked, malformed, wrong environment)
	CodeMethodNotSupported       = "METHOD_NOT_SUPPORTED"
	CodeMediaTypeNotAcceptable   = "MEDIA_TYPE_NOT_ACCEPTABLE"
	CodeParamIllegal             = "PARAM_ILLEGAL"
	CodeInvalidContract          = "INVALID_CONTRACT"
	CodeProcessFail              = "PROCESS_FAIL"
	CodeRepeatReqInconsistent    = "REPEAT_REQ_INCONSISTENT"
	CodeRiskReject               = "RISK_REJECT"
	CodeRequestTrafficExceed     = "REQUEST_TRAFFIC_EXCEED_LIMIT"
	CodeUnknownException         = "UNKNOWN_EXCEPTION"
	CodePaymentInProcess         = "PAYMENT_IN_PROCESS"
	CodeCurrencyNotSupport       = "CURRENCY_NOT_SUPPORT"
	CodeUserBalanceNotEnough     = "USER_BALANCE_NOT_ENOUGH"
	CodeUserStatusAbnormal       = "USER_STATUS_ABNORMAL"
	CodeNoPayOption              = "NO_PAY_OPTION"
	CodeOrderIsCanceled          = "ORDER_IS_CANCELED"
	CodePaymentAmountExceedLimit = "PAYMENT_AMOUNT_EXCEED_LIMIT"
	CodePaymentCountExceedLimit  = "PAYMENT_COUNT_EXCEED_LIMIT"
	CodeUserAmountExceedLimit    = "USER_AMOUNT_EXCEED_LIMIT"
	CodePaymentNotQualified      = "PAYMENT_NOT_QUALIFIED"
	CodeOrderNotExist            = "ORDER_NOT_EXIST"
	CodeOrderIsClosed            = "ORDER_IS_CLOSED"
	CodeUserNotExist             = "USER_NOT_EXIST"
	// capture (from the sibling capture API; inferred for AMS)
	CodeCaptureInProcess         = "CAPTURE_IN_PROCESS"
	CodeAuthNotFound             = "AUTH_NOT_FOUND"
	CodeAuthExpired              = "AUTH_EXPIRED"
	CodeAuthCancelled            = "AUTH_CANCELLED"
	CodeCaptureAmountExceedAuth  = "CAPTURE_AMOUNT_EXCEED_AUTH_LIMIT"
	CodeMultiCaptureNotSupported = "MULTI_CAPTURE_NOT_SUPPORTED"
	CodeOrderStatusInvalid       = "ORDER_STATUS_INVALID"
	// cancel (inferred)
	CodeCancelWindowExceed = "CANCEL_WINDOW_EXCEED"
	// refund
	CodeRefundAmountExceed = "REFUND_AMOUNT_EXCEED"
	CodeRefundWindowExceed = "REFUND_WINDOW_EXCEED"
	CodeRefundInProcess    = "REFUND_IN_PROCESS"
	// DisputeOpen is our name for a refund refused while a chargeback is
	// unjudged; the gateway's own code for it is not documented (inferred).
	CodeRefundNotAllowedDispute = "REFUND_NOT_ALLOWED_DISPUTE_UNJUDGED"
	// declare (inferred)
	CodeDeclarationAmountExceed = "DECLARATION_AMOUNT_EXCEED"
)

// CodeInfo describes one result code.
type CodeInfo struct {
	// Status is the result status the gateway sends with the code (S, F or U).
	Status string
	// Message is the gateway's standard message.
	Message string
	// Retryable is true when the same request, with the same idempotency id,
	// may be sent again (U codes and transient F codes).
	Retryable bool
}

// Codes maps every known result code to its status and message.
var Codes = map[string]CodeInfo{
	CodeSuccess:                  {StatusSuccess, "Success", false},
	CodeAccessDenied:             {StatusFail, "Access denied", false},
	CodeAPIInvalid:               {StatusFail, "API is invalid or not active.", false},
	CodeClientInvalid:            {StatusFail, "The client is invalid.", false},
	CodeSignatureInvalid:         {StatusFail, "The signature is invalid.", false},
	CodeKeyNotFound:              {StatusFail, "The key is not found.", false},
	CodeOAuthFail:                {StatusFail, "The API key is not accepted.", false},
	CodeMethodNotSupported:       {StatusFail, "The server does not implement the requested HTTP method.", false},
	CodeMediaTypeNotAcceptable:   {StatusFail, "The server does not implement the media type that is acceptable to the client.", false},
	CodeParamIllegal:             {StatusFail, "Illegal parameters exist.", false},
	CodeInvalidContract:          {StatusFail, "The contract is invalid.", false},
	CodeProcessFail:              {StatusFail, "A general business failure occurred. Do not retry.", false},
	CodeRepeatReqInconsistent:    {StatusFail, "Repeated requests are inconsistent.", false},
	CodeRiskReject:               {StatusFail, "The request is rejected because of the risk control.", false},
	CodeRequestTrafficExceed:     {StatusUnknown, "The request traffic exceeds the limit.", true},
	CodeUnknownException:         {StatusUnknown, "An API calling is failed, which is caused by unknown reasons.", true},
	CodePaymentInProcess:         {StatusUnknown, "The payment is being processed.", true},
	CodeCurrencyNotSupport:       {StatusFail, "The currency is not supported.", false},
	CodeUserBalanceNotEnough:     {StatusFail, "The user balance is not enough for the payment.", false},
	CodeUserStatusAbnormal:       {StatusFail, "The user status is abnormal.", false},
	CodeNoPayOption:              {StatusFail, "This is not a valid payment option.", false},
	CodeOrderIsCanceled:          {StatusFail, "The order is canceled.", false},
	CodePaymentAmountExceedLimit: {StatusFail, "The payment amount exceeds the limit.", false},
	CodePaymentCountExceedLimit:  {StatusFail, "The number of payments exceeds the limit.", false},
	CodeUserAmountExceedLimit:    {StatusFail, "The payment amount exceeds the user payment limit.", false},
	CodePaymentNotQualified:      {StatusFail, "The merchant is not qualified to pay.", false},
	CodeOrderNotExist:            {StatusFail, "The order does not exist.", false},
	CodeOrderIsClosed:            {StatusFail, "The order is closed.", false},
	CodeUserNotExist:             {StatusFail, "The user does not exist.", false},
	CodeCaptureInProcess:         {StatusUnknown, "The capture is being processed.", true},
	CodeAuthNotFound:             {StatusFail, "The authorization is not found.", false},
	CodeAuthExpired:              {StatusFail, "The authorization has expired.", false},
	CodeAuthCancelled:            {StatusFail, "The authorization has been cancelled.", false},
	CodeCaptureAmountExceedAuth:  {StatusFail, "The capture amount exceeds the authorized amount.", false},
	CodeMultiCaptureNotSupported: {StatusFail, "Multiple captures are not supported.", false},
	CodeOrderStatusInvalid:       {StatusFail, "The order status is invalid for this operation.", false},
	CodeCancelWindowExceed:       {StatusFail, "The cancellation window has passed.", false},
	CodeRefundAmountExceed:       {StatusFail, "The total refund amount exceeds the payment amount.", false},
	CodeRefundWindowExceed:       {StatusFail, "The refund window has passed.", false},
	CodeRefundInProcess:          {StatusUnknown, "The refund is being processed.", true},
	CodeRefundNotAllowedDispute:  {StatusFail, "A refund is not allowed while a chargeback is not judged.", false},
	CodeDeclarationAmountExceed:  {StatusFail, "The cumulative declaration amount exceeds the payment amount.", false},
}

// NewResult builds the result envelope for a known code. An unknown code
// gets status F and an empty message.
func NewResult(code string) Result {
	info, ok := Codes[code]
	if !ok {
		return Result{ResultCode: code, ResultStatus: StatusFail}
	}
	return Result{ResultCode: code, ResultStatus: info.Status, ResultMessage: info.Message}
}
