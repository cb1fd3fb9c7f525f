package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Keys read from a card Secret (spec.paymentMethod.cardSecretRef). Card data
// is only ever referenced: inline it would sit in etcd and in every backup.
const (
	CardSecretKeyNumber      = "cardNo"
	CardSecretKeyCVV         = "cvv"
	CardSecretKeyExpiryMonth = "expiryMonth"
	CardSecretKeyExpiryYear  = "expiryYear"
	CardSecretKeyHolderName  = "cardholderName"
	// CardSecretKeyToken holds a saved-card token (paymentMethodId) instead of card data.
	CardSecretKeyToken = "token"
)

// CaptureMode says who captures an authorized card payment.
// +kubebuilder:validation:Enum=Automatic;Manual
type CaptureMode string

const (
	// CaptureAutomatic: the operator captures the full authorized amount as
	// soon as the authorization succeeds.
	CaptureAutomatic CaptureMode = "Automatic"
	// CaptureManual: captures are made by Capture objects.
	CaptureManual CaptureMode = "Manual"
)

// PaymentPhase is where a payment stands.
// +kubebuilder:validation:Enum=Pending;Processing;Authorized;Succeeded;Failed;Cancelled;Expired
type PaymentPhase string

const (
	// PaymentPending: accepted by the cluster, not yet sent to the gateway (or outcome unknown).
	PaymentPending PaymentPhase = "Pending"
	// PaymentProcessing: the gateway has the payment; the user may be paying.
	PaymentProcessing PaymentPhase = "Processing"
	// PaymentAuthorized: a card authorization holds funds until status.authExpiryTime.
	PaymentAuthorized PaymentPhase = "Authorized"
	// PaymentSucceeded: the money was taken (for cards: captured).
	PaymentSucceeded PaymentPhase = "Succeeded"
	// PaymentFailed: the payment failed or was declined; final.
	PaymentFailed PaymentPhase = "Failed"
	// PaymentCancelled: cancelled (an unpaid payment closed, a paid one fully
	// refunded, an authorization voided); final.
	PaymentCancelled PaymentPhase = "Cancelled"
	// PaymentExpired: the user did not pay in time, or an authorization
	// lapsed without capture; final.
	PaymentExpired PaymentPhase = "Expired"
)

// IsFinal reports whether no further gateway state change is expected for
// the payment itself (refunds and disputes may still follow a success).
func (p PaymentPhase) IsFinal() bool {
	switch p {
	case PaymentSucceeded, PaymentFailed, PaymentCancelled, PaymentExpired:
		return true
	}
	return false
}

// PaymentSpec is the desired payment. Everything that identifies the payment
// or moves money is immutable after create; cancel is one-way.
//
// +kubebuilder:validation:XValidation:rule="self.managementPolicy != 'Observe' || has(self.paymentId)",message="spec.paymentId is required when managementPolicy is Observe: it names the existing gateway payment to import"
// +kubebuilder:validation:XValidation:rule="self.managementPolicy == 'Observe' || !has(self.paymentId)",message="spec.paymentId is only for managementPolicy Observe; to create a payment leave it out"
// +kubebuilder:validation:XValidation:rule="!has(self.authorization) || !self.authorization || self.paymentMethod.type == 'CARD'",message="spec.authorization is only possible with paymentMethod.type CARD"
// +kubebuilder:validation:XValidation:rule="!has(self.captureMode) || (has(self.authorization) && self.authorization)",message="spec.captureMode needs spec.authorization: true"
// +kubebuilder:validation:XValidation:rule="self.env.terminalType == 'WEB' || has(self.env.osType)",message="spec.env.osType (IOS or ANDROID) is required when terminalType is WAP, APP or MINI_APP"
// +kubebuilder:validation:XValidation:rule="has(self.paymentRequestId) == has(oldSelf.paymentRequestId) && has(self.paymentId) == has(oldSelf.paymentId)",message="spec.paymentRequestId and spec.paymentId cannot be added or removed after create: they are the payment's identity at the gateway"
// +kubebuilder:validation:XValidation:rule="has(self.authorization) == has(oldSelf.authorization) && has(self.captureMode) == has(oldSelf.captureMode) && has(self.creditPayPlan) == has(oldSelf.creditPayPlan) && has(self.settlementCurrency) == has(oldSelf.settlementCurrency)",message="spec.authorization, spec.captureMode, spec.creditPayPlan and spec.settlementCurrency cannot be added or removed after create"
// +kubebuilder:validation:XValidation:rule="has(self.order) == has(oldSelf.order) && has(self.redirectURL) == has(oldSelf.redirectURL) && has(self.expiresAfter) == has(oldSelf.expiresAfter) && has(self.userRegion) == has(oldSelf.userRegion) && has(self.merchantRegion) == has(oldSelf.merchantRegion)",message="spec.order, spec.redirectURL, spec.expiresAfter, spec.userRegion and spec.merchantRegion are sent with the pay call and cannot be added or removed after create"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.cancel) || !oldSelf.cancel || (has(self.cancel) && self.cancel)",message="spec.cancel is one-way: once true it cannot be set back to false"
// +kubebuilder:validation:XValidation:rule="!has(self.merchantRef) || !has(self.order) || !has(self.order.merchant)",message="spec.merchantRef and spec.order.merchant name the secondary merchant twice: use one (merchantRef sends the registered details)"
// +kubebuilder:validation:XValidation:rule="has(self.merchantRef) == has(oldSelf.merchantRef)",message="spec.merchantRef cannot be added or removed after create: it is sent with the pay call"
type PaymentSpec struct {
	// GatewayRef names the GatewayConfig (merchant connection) to pay through.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.gatewayRef is immutable"
	// +required
	GatewayRef GatewayReference `json:"gatewayRef"`

	// PaymentRequestID is the merchant's idempotency key for the pay call
	// (1-64 letters, digits, '_' or '-'). Leave it out and the operator derives
	// one from the GatewayConfig's identityScope and this Payment's namespace
	// and name: a crash between the pay call and the status write, or the same
	// manifest applied again after the object was deleted (a GitOps re-sync, a
	// restore from git), can never create a second payment. A name is
	// therefore spent once used: to charge again, use a new name.
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_-]{1,64}$`
	// +kubebuilder:validation:MaxLength=64
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.paymentRequestId is immutable: it is the payment's identity at the gateway"
	PaymentRequestID string `json:"paymentRequestId,omitempty"`

	// PaymentID imports an existing gateway payment; only with
	// managementPolicy Observe.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.paymentId is immutable"
	PaymentID string `json:"paymentId,omitempty"`

	// Amount is what the user pays, in major units ("10.50").
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.amount is immutable: create a new Payment (or a Refund) instead"
	// +required
	Amount Money `json:"amount"`

	// PaymentMethod is how the user pays.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.paymentMethod is immutable after create"
	// +required
	PaymentMethod PaymentMethod `json:"paymentMethod"`

	// Env is where the order is placed: terminal type and OS.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.env is immutable after create"
	// +required
	Env TerminalEnv `json:"env"`

	// MerchantRef names the MerchantRegistration, in this namespace, of the
	// secondary merchant that sells. The pay call carries that merchant's
	// registered details (id, name, MCC, address), and the Payment waits,
	// Blocked with reason MerchantNotRegistered and without a gateway call,
	// until the registration is approved for spec.paymentMethod.type. Not
	// together with spec.order.merchant.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.merchantRef is immutable: it is sent with the pay call"
	MerchantRef *LocalObjectReference `json:"merchantRef,omitempty"`

	// Order describes what is bought; the gateway uses it for risk control and
	// to show the user, never to move money.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.order is sent with the pay call and is immutable after create"
	Order *Order `json:"order,omitempty"`

	// RedirectURL is the merchant page the user returns to after paying.
	// +kubebuilder:validation:Pattern=`^https?://\S+$`
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.redirectURL is sent with the pay call and is immutable after create"
	RedirectURL string `json:"redirectURL,omitempty"`

	// ExpiresAfter is how long, from the pay call, the user has to pay before
	// the gateway closes the payment. Default: the contract's (14 minutes for
	// cashier payments).
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.expiresAfter is immutable after create"
	ExpiresAfter *metav1.Duration `json:"expiresAfter,omitempty"`

	// SettlementCurrency is the ISO 4217 currency the merchant settles in.
	// +kubebuilder:validation:Pattern=`^[A-Z]{3}$`
	// +kubebuilder:validation:MaxLength=3
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.settlementCurrency is immutable after create"
	SettlementCurrency string `json:"settlementCurrency,omitempty"`

	// UserRegion (ISO 3166 alpha-2) of the buyer, if known.
	// +kubebuilder:validation:Pattern=`^[A-Z]{2}$`
	// +kubebuilder:validation:MaxLength=2
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.userRegion is immutable after create"
	UserRegion string `json:"userRegion,omitempty"`

	// MerchantRegion (ISO 3166 alpha-2), e.g. SG or HK for local card acquiring.
	// +kubebuilder:validation:Pattern=`^[A-Z]{2}$`
	// +kubebuilder:validation:MaxLength=2
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.merchantRegion is immutable after create"
	MerchantRegion string `json:"merchantRegion,omitempty"`

	// Authorization makes a card payment an authorization that holds the
	// funds for 7 days until captured (cards only).
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.authorization is immutable after create"
	Authorization bool `json:"authorization,omitempty"`

	// CaptureMode for an authorization: Automatic (default; the operator
	// captures the full amount at once) or Manual (Capture objects do).
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.captureMode is immutable after create"
	CaptureMode CaptureMode `json:"captureMode,omitempty"`

	// CreditPayPlan pays in installments.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.creditPayPlan is immutable after create"
	CreditPayPlan *CreditPayPlan `json:"creditPayPlan,omitempty"`

	// Cancel, once true, cancels the payment at the gateway: an unpaid payment
	// is closed, an authorization voided, a paid payment fully refunded (only
	// within the gateway's cancel window). One-way.
	// +optional
	Cancel bool `json:"cancel,omitempty"`

	// DeletionPolicy: Orphan (default) leaves the gateway untouched when the
	// object is deleted; Cancel first cancels a payment that is not final.
	// +kubebuilder:default=Orphan
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// ManagementPolicy: Full (default) creates and manages the payment;
	// Observe imports spec.paymentId and only inquires.
	// +kubebuilder:default=Full
	// +optional
	ManagementPolicy ManagementPolicy `json:"managementPolicy,omitempty"`
}

// PaymentMethod is how the user pays.
// +kubebuilder:validation:XValidation:rule="!has(self.cardSecretRef) || self.type == 'CARD'",message="cardSecretRef is only for type CARD"
type PaymentMethod struct {
	// Type is the gateway's paymentMethodType: a wallet such as ALIPAY_HK,
	// ALIPAY_CN, GCASH, DANA, TRUEMONEY, TNG, KAKAOPAY, BKASH, EASYPAISA, or CARD.
	// +kubebuilder:validation:Pattern=`^[A-Z][A-Z0-9_]{1,63}$`
	// +kubebuilder:validation:MaxLength=64
	// +required
	Type string `json:"type"`

	// CardSecretRef names a Secret in the payment's namespace holding card
	// data (cardNo, cvv, expiryMonth, expiryYear, cardholderName) or a saved
	// card token (token). Without it, the user enters the card on the
	// gateway's page.
	// +optional
	CardSecretRef *SecretReference `json:"cardSecretRef,omitempty"`

	// ThreeDS asks for 3-D Secure verification (cards); the gateway may still
	// decide otherwise by its risk rules. Unset lets the gateway decide.
	// +optional
	ThreeDS *bool `json:"threeDS,omitempty"`
}

// TerminalEnv is where the order is placed.
type TerminalEnv struct {
	// TerminalType: WEB (desktop site), WAP (mobile site), APP, or MINI_APP.
	// +kubebuilder:validation:Enum=WEB;WAP;APP;MINI_APP
	// +required
	TerminalType string `json:"terminalType"`

	// OSType: IOS or ANDROID; required unless terminalType is WEB.
	// +kubebuilder:validation:Enum=IOS;ANDROID
	// +optional
	OSType string `json:"osType,omitempty"`

	// ClientIP is the buyer's IP address, for risk control.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	ClientIP string `json:"clientIP,omitempty"`

	// UserAgent is the buyer's browser user agent, for risk control.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	UserAgent string `json:"userAgent,omitempty"`
}

// CreditPayPlan is an installment plan.
type CreditPayPlan struct {
	// Installments is the number of installments, 2 to 12.
	// +kubebuilder:validation:Minimum=2
	// +kubebuilder:validation:Maximum=12
	// +required
	Installments int32 `json:"installments"`

	// FeePercentage is the share of the installment fee the merchant pays, 0 to 100.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	FeePercentage *int32 `json:"feePercentage,omitempty"`
}

// Order describes what is bought.
type Order struct {
	// ReferenceOrderID is the merchant's order number.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	ReferenceOrderID string `json:"referenceOrderId,omitempty"`

	// Description is shown to the user.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Description string `json:"description,omitempty"`

	// Amount is the order amount shown to the user, if it differs from the
	// payment amount (it is not checked against it).
	// +optional
	Amount *Money `json:"amount,omitempty"`

	// Goods are the order lines.
	// +kubebuilder:validation:MaxItems=100
	// +listType=atomic
	// +optional
	Goods []Goods `json:"goods,omitempty"`

	// Buyer is who pays.
	// +optional
	Buyer *Buyer `json:"buyer,omitempty"`

	// Merchant is the secondary merchant that sells.
	// +optional
	Merchant *Merchant `json:"merchant,omitempty"`

	// Shipping is where the goods go.
	// +optional
	Shipping *Shipping `json:"shipping,omitempty"`
}

// Goods is one order line.
type Goods struct {
	// ID is the merchant's goods id.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	ID string `json:"id,omitempty"`

	// Name of the goods.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Name string `json:"name,omitempty"`

	// Category of the goods.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Category string `json:"category,omitempty"`

	// Brand of the goods.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Brand string `json:"brand,omitempty"`

	// UnitAmount is the price of one unit.
	// +optional
	UnitAmount *Money `json:"unitAmount,omitempty"`

	// Quantity of units.
	// +kubebuilder:validation:Minimum=1
	// +optional
	Quantity int32 `json:"quantity,omitempty"`

	// URL of the goods page.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	URL string `json:"url,omitempty"`
}

// Buyer is who pays.
type Buyer struct {
	// ID is the merchant's buyer id.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	ID string `json:"id,omitempty"`

	// Name of the buyer.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Name string `json:"name,omitempty"`

	// Email of the buyer.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Email string `json:"email,omitempty"`

	// Phone number of the buyer.
	// +kubebuilder:validation:MaxLength=24
	// +optional
	Phone string `json:"phone,omitempty"`
}

// Merchant is the secondary merchant.
type Merchant struct {
	// ID is the secondary merchant's id.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	ID string `json:"id,omitempty"`

	// Name of the merchant.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Name string `json:"name,omitempty"`

	// MCC is the ISO 18245 merchant category code.
	// +kubebuilder:validation:Pattern=`^[0-9]{4}$`
	// +kubebuilder:validation:MaxLength=4
	// +optional
	MCC string `json:"mcc,omitempty"`

	// Region (ISO 3166 alpha-2) of the merchant.
	// +kubebuilder:validation:Pattern=`^[A-Z]{2}$`
	// +kubebuilder:validation:MaxLength=2
	// +optional
	Region string `json:"region,omitempty"`
}

// Shipping is where the goods go.
type Shipping struct {
	// Name of the recipient.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Name string `json:"name,omitempty"`

	// Region (ISO 3166 alpha-2).
	// +kubebuilder:validation:Pattern=`^[A-Z]{2}$`
	// +kubebuilder:validation:MaxLength=2
	// +optional
	Region string `json:"region,omitempty"`

	// City.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	City string `json:"city,omitempty"`

	// Address line.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Address string `json:"address,omitempty"`

	// ZipCode.
	// +kubebuilder:validation:MaxLength=32
	// +optional
	ZipCode string `json:"zipCode,omitempty"`

	// Carrier delivering the goods.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Carrier string `json:"carrier,omitempty"`
}

// UserAction is what the user must do to finish paying.
type UserAction struct {
	// Type: Redirect (send the user to url), OrderCode (show codes),
	// Challenge (e.g. SMS OTP).
	// +kubebuilder:validation:Enum=Redirect;OrderCode;Challenge
	Type string `json:"type"`

	// URL is the checkout page (normalUrl or the redirect form's URL).
	// +optional
	URL string `json:"url,omitempty"`

	// Method is the HTTP method for a redirect form: GET, POST or SCAN.
	// +optional
	Method string `json:"method,omitempty"`

	// Parameters are the redirect form's parameters (POST).
	// +optional
	Parameters string `json:"parameters,omitempty"`

	// SchemeURL opens the wallet app directly.
	// +optional
	SchemeURL string `json:"schemeURL,omitempty"`

	// ApplinkURL opens the wallet app or falls back to the web.
	// +optional
	ApplinkURL string `json:"applinkURL,omitempty"`

	// OrderCodes to show the user (QR or bar code values).
	// +listType=atomic
	// +optional
	OrderCodes []string `json:"orderCodes,omitempty"`

	// ChallengeType, e.g. SMS_OTP.
	// +optional
	ChallengeType string `json:"challengeType,omitempty"`
}

// CardSummary is the masked card the payment used.
type CardSummary struct {
	// MaskedNumber, e.g. ************1111.
	// +optional
	MaskedNumber string `json:"maskedNumber,omitempty"`
	// Brand, e.g. VISA.
	// +optional
	Brand string `json:"brand,omitempty"`
	// Funding: CREDIT or DEBIT.
	// +optional
	Funding string `json:"funding,omitempty"`
	// IssuingCountry (ISO 3166 alpha-2).
	// +optional
	IssuingCountry string `json:"issuingCountry,omitempty"`
}

// DisputeState is where a chargeback stands.
// +kubebuilder:validation:Enum=Open;DefenseSupplied;Judged;Cancelled;Accepted
type DisputeState string

const (
	DisputeOpen            DisputeState = "Open"
	DisputeDefenseSupplied DisputeState = "DefenseSupplied"
	DisputeJudged          DisputeState = "Judged"
	DisputeCancelled       DisputeState = "Cancelled"
	DisputeAccepted        DisputeState = "Accepted"
)

// Blocks reports whether refunds must wait (the chargeback is unjudged).
func (s DisputeState) Blocks() bool { return s == DisputeOpen || s == DisputeDefenseSupplied }

// PaymentDispute is the latest chargeback on the payment, from notifyDispute
// (each chargeback is also a Dispute object of its own).
type PaymentDispute struct {
	// ID is the gateway's dispute id.
	ID string `json:"id"`
	// State: Open, DefenseSupplied, Judged, Cancelled or Accepted. Refunds
	// wait while Open or DefenseSupplied.
	State DisputeState `json:"state"`
	// Type: CHARGEBACK, RETRIEVAL_REQUEST or COMPLIANCE_REQUEST.
	// +optional
	Type string `json:"type,omitempty"`
	// Amount in dispute.
	// +optional
	Amount *Money `json:"amount,omitempty"`
	// ReasonCode from the card scheme.
	// +optional
	ReasonCode string `json:"reasonCode,omitempty"`
	// ReasonMessage from the card scheme.
	// +optional
	ReasonMessage string `json:"reasonMessage,omitempty"`
	// DefenseDueTime is the deadline for the merchant's defence.
	// +optional
	DefenseDueTime *metav1.Time `json:"defenseDueTime,omitempty"`
	// JudgedResult: ACCEPT_BY_CUSTOMER (buyer liable, funds released) or
	// ACCEPT_BY_MERCHANT (merchant liable, amount deducted).
	// +optional
	JudgedResult string `json:"judgedResult,omitempty"`
	// JudgedAmount deducted or released.
	// +optional
	JudgedAmount *Money `json:"judgedAmount,omitempty"`
	// OpenedTime is when the dispute was created.
	// +optional
	OpenedTime *metav1.Time `json:"openedTime,omitempty"`
	// JudgedTime is when it was judged.
	// +optional
	JudgedTime *metav1.Time `json:"judgedTime,omitempty"`
	// LastNotification is the last disputeNotificationType applied.
	// +optional
	LastNotification string `json:"lastNotification,omitempty"`
}

// PaymentAmounts are the running totals of a payment. All share the payment's currency.
type PaymentAmounts struct {
	// Authorized is the amount held by a card authorization.
	// +optional
	Authorized *Money `json:"authorized,omitempty"`
	// Captured is the amount captured (cards) or paid (wallets).
	// +optional
	Captured *Money `json:"captured,omitempty"`
	// Refunded is the amount of succeeded refunds.
	// +optional
	Refunded *Money `json:"refunded,omitempty"`
	// Refundable is captured minus refunded; zero once fully refunded.
	// +optional
	Refundable *Total `json:"refundable,omitempty"`
	// Declared is the cumulative customs declaration amount (CNY).
	// +optional
	Declared *Money `json:"declared,omitempty"`
}

// PaymentStatus is what the gateway says about the payment.
type PaymentStatus struct {
	// ObservedGeneration is the generation last acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Phase: Pending, Processing, Authorized, Succeeded, Failed, Cancelled or Expired.
	// It never moves backwards.
	// +optional
	Phase PaymentPhase `json:"phase,omitempty"`

	// PaymentRequestID is the idempotency key sent to the gateway.
	// +optional
	PaymentRequestID string `json:"paymentRequestId,omitempty"`

	// PaymentID is the gateway's payment id.
	// +optional
	PaymentID string `json:"paymentId,omitempty"`

	// GatewayStatus is the gateway's own paymentStatus (PROCESSING, SUCCESS, ...).
	// +optional
	GatewayStatus string `json:"gatewayStatus,omitempty"`

	// Amounts are the running totals.
	// +optional
	Amounts PaymentAmounts `json:"amounts,omitempty"`

	// UserAction is what the user must do to pay, while Processing.
	// +optional
	UserAction *UserAction `json:"userAction,omitempty"`

	// CreateTime is when the gateway created the payment.
	// +optional
	CreateTime *metav1.Time `json:"createTime,omitempty"`
	// PaymentTime is when the payment reached a final state at the gateway.
	// +optional
	PaymentTime *metav1.Time `json:"paymentTime,omitempty"`
	// ExpiryTime is when the gateway closes the payment if unpaid.
	// +optional
	ExpiryTime *metav1.Time `json:"expiryTime,omitempty"`
	// AuthExpiryTime is when an uncaptured authorization lapses.
	// +optional
	AuthExpiryTime *metav1.Time `json:"authExpiryTime,omitempty"`
	// CancelTime is when the gateway cancelled the payment.
	// +optional
	CancelTime *metav1.Time `json:"cancelTime,omitempty"`

	// CancelAudit is who asked for spec.cancel of a payment that may have
	// been paid (a cancel refunds it in full), the MoneyPolicy that governed
	// it and who approved it; recorded before the cancel is sent.
	// +optional
	CancelAudit *Audit `json:"cancelAudit,omitempty"`
	// LastCheckTime is when the operator last inquired.
	// +optional
	LastCheckTime *metav1.Time `json:"lastCheckTime,omitempty"`

	// Card is the masked card used.
	// +optional
	Card *CardSummary `json:"card,omitempty"`

	// Dispute is the latest chargeback on the payment.
	// +optional
	Dispute *PaymentDispute `json:"dispute,omitempty"`

	// LastResult is the last result the gateway returned.
	// +optional
	LastResult *GatewayResult `json:"lastResult,omitempty"`

	// Conditions: Ready and Synced; Reconciling and Stalled (kstatus) only
	// while True, their absence meaning False.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Payment is one Cashier Payment at the gateway: apply it and the operator
// makes the pay call, shows the checkout link in status.userAction, and
// follows the payment until it is final.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=pay;pays,categories=cashier
// +kubebuilder:printcolumn:name="Amount",type=string,JSONPath=`.spec.amount.value`
// +kubebuilder:printcolumn:name="Currency",type=string,JSONPath=`.spec.amount.currency`
// +kubebuilder:printcolumn:name="Method",type=string,JSONPath=`.spec.paymentMethod.type`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Payment-Id",type=string,JSONPath=`.status.paymentId`
// +kubebuilder:printcolumn:name="Reason",type=string,priority=1,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Payment struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired payment.
	// +required
	Spec PaymentSpec `json:"spec"`

	// Status is what the gateway says.
	// +optional
	Status PaymentStatus `json:"status,omitempty"`
}

// PaymentList is a list of Payments.
// +kubebuilder:object:root=true
type PaymentList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Payment `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Payment{}, &PaymentList{})
}
