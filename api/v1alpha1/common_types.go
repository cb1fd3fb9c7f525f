package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Money is an exact amount: an ISO 4217 currency and a decimal value in major
// units. It is never a floating-point number.
//
// The value may not carry more decimal places than the currency has (JPY 0,
// HKD 2, KWD 3, ...); trailing zeros beyond that are accepted ("10.500" HKD is
// 10.50). The per-currency rule below mirrors the exponent table in
// internal/money, which a unit test keeps in step.
//
// +kubebuilder:validation:XValidation:rule="self.value.matches('^[0-9]+(\\\\.[0-9]+)?$')",message="value must be a plain positive decimal number in major units, such as \"10.50\": no sign, exponent, spaces, or leading/trailing dot"
// +kubebuilder:validation:XValidation:rule="!self.value.matches('^[0-9]+(\\\\.[0-9]+)?$') || !self.value.matches('^0*(\\\\.0*)?$')",message="value must be greater than zero"
// +kubebuilder:validation:XValidation:rule="!self.value.matches('^[0-9]+(\\\\.[0-9]+)?$') || (self.currency in ['BIF','CLP','DJF','GNF','ISK','JPY','KMF','KRW','PYG','RWF','UGX','UYI','VND','VUV','XAF','XOF','XPF'] ? self.value.matches('^[0-9]+(\\\\.0*)?$') : self.currency in ['BHD','IQD','JOD','KWD','LYD','OMR','TND'] ? self.value.matches('^[0-9]+(\\\\.[0-9]{0,3}0*)?$') : self.currency in ['CLF','UYW'] ? self.value.matches('^[0-9]+(\\\\.[0-9]{0,4}0*)?$') : self.value.matches('^[0-9]+(\\\\.[0-9]{0,2}0*)?$'))",messageExpression="'value ' + self.value + ' has more decimal places than ' + self.currency + ' allows (' + (self.currency in ['BIF','CLP','DJF','GNF','ISK','JPY','KMF','KRW','PYG','RWF','UGX','UYI','VND','VUV','XAF','XOF','XPF'] ? '0' : self.currency in ['BHD','IQD','JOD','KWD','LYD','OMR','TND'] ? '3' : self.currency in ['CLF','UYW'] ? '4' : '2') + ')'"
type Money struct {
	// Currency is the ISO 4217 alphabetic code, upper case, e.g. "HKD". The
	// list below is internal/money's currency table (a unit test keeps them
	// equal): a code outside it is refused at admission, not later.
	// +kubebuilder:validation:Pattern=`^[A-Z]{3}$`
	// +kubebuilder:validation:MaxLength=3
	// +kubebuilder:validation:XValidation:rule="self in ['AED','AFN','ALL','AMD','ANG','AOA','ARS','AUD','AWG','AZN','BAM','BBD','BDT','BGN','BHD','BIF','BMD','BND','BOB','BOV','BRL','BSD','BTN','BWP','BYN','BZD','CAD','CDF','CHE','CHF','CHW','CLF','CLP','CNY','COP','COU','CRC','CUC','CUP','CVE','CZK','DJF','DKK','DOP','DZD','EGP','ERN','ETB','EUR','FJD','FKP','GBP','GEL','GHS','GIP','GMD','GNF','GTQ','GYD','HKD','HNL','HTG','HUF','IDR','ILS','INR','IQD','IRR','ISK','JMD','JOD','JPY','KES','KGS','KHR','KMF','KPW','KRW','KWD','KYD','KZT','LAK','LBP','LKR','LRD','LSL','LYD','MAD','MDL','MGA','MKD','MMK','MNT','MOP','MRU','MUR','MVR','MWK','MXN','MXV','MYR','MZN','NAD','NGN','NIO','NOK','NPR','NZD','OMR','PAB','PEN','PGK','PHP','PKR','PLN','PYG','QAR','RON','RSD','RUB','RWF','SAR','SBD','SCR','SDG','SEK','SGD','SHP','SLE','SOS','SRD','SSP','STN','SVC','SYP','SZL','THB','TJS','TMT','TND','TOP','TRY','TTD','TWD','TZS','UAH','UGX','USD','USN','UYI','UYU','UYW','UZS','VED','VES','VND','VUV','WST','XAF','XCD','XCG','XOF','XPF','YER','ZAR','ZMW','ZWG']",messageExpression="'unknown currency ' + self + ': not an ISO 4217 currency with a minor unit'"
	// +required
	Currency string `json:"currency"`

	// Value is the amount in major units as a decimal string, e.g. "10.50"
	// (ten dollars fifty). At most 16 digits in minor units.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	// +required
	Value string `json:"value"`
}

// String renders the amount as "10.50 HKD".
func (m Money) String() string { return m.Value + " " + m.Currency }

// Total is a running total in status: an exact amount like Money, in major
// units, that may be zero (a fully refunded payment has nothing refundable).
type Total struct {
	// Currency is the ISO 4217 alphabetic code.
	// +kubebuilder:validation:Pattern=`^[A-Z]{3}$`
	// +kubebuilder:validation:MaxLength=3
	Currency string `json:"currency"`

	// Value is the amount in major units, e.g. "0.00" or "10.50".
	// +kubebuilder:validation:Pattern=`^[0-9]+(\.[0-9]+)?$`
	// +kubebuilder:validation:MaxLength=32
	Value string `json:"value"`
}

// String renders the total as "10.50 HKD".
func (t Total) String() string { return t.Value + " " + t.Currency }

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	// Name of the object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
}

// GatewayReference names the GatewayConfig (cluster-scoped) that holds the
// merchant connection to use.
type GatewayReference struct {
	// Name of the GatewayConfig.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
}

// SecretReference names a Secret in the same namespace as the referring object.
type SecretReference struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
}

// NamespacedSecretReference names a Secret in a given namespace.
type NamespacedSecretReference struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// Namespace of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +required
	Namespace string `json:"namespace"`
}

// GatewayResult is the last result the gateway returned for this object.
type GatewayResult struct {
	// Code is the gateway's result code, e.g. SUCCESS, PAYMENT_IN_PROCESS, REFUND_AMOUNT_EXCEED.
	// +optional
	Code string `json:"code,omitempty"`

	// Status is S (succeeded), F (failed) or U (unknown / in process).
	// +optional
	Status string `json:"status,omitempty"`

	// Message is the gateway's message for the code.
	// +optional
	Message string `json:"message,omitempty"`

	// API is the gateway API that returned the result, e.g. pay or inquiryPayment.
	// +optional
	API string `json:"api,omitempty"`

	// Time is when the result was received.
	// +optional
	Time *metav1.Time `json:"time,omitempty"`
}

// ManagementPolicy says what the operator may do at the gateway.
// +kubebuilder:validation:Enum=Full;Observe
type ManagementPolicy string

const (
	// ManagementFull lets the operator create the gateway object and act on it.
	ManagementFull ManagementPolicy = "Full"
	// ManagementObserve only inquires: it imports an existing gateway object
	// and never moves money.
	ManagementObserve ManagementPolicy = "Observe"
)

// DeletionPolicy says what deleting the Kubernetes object does at the gateway.
// +kubebuilder:validation:Enum=Orphan;Cancel
type DeletionPolicy string

const (
	// DeletionOrphan (the default) leaves the gateway untouched: deleting never moves money.
	DeletionOrphan DeletionPolicy = "Orphan"
	// DeletionCancel cancels a payment that is not yet final before the object goes away.
	DeletionCancel DeletionPolicy = "Cancel"
)

// Condition types used by every kind. Ready and Synced follow Crossplane;
// Reconciling and Stalled follow kstatus, so `kubectl wait --for=condition=Ready`,
// Flux and Argo CD health checks work unmodified.
const (
	// ConditionReady is True when the object reached its expected final state
	// at the gateway (a payment succeeded or is authorized, a refund succeeded, ...).
	ConditionReady = "Ready"
	// ConditionSynced is True when the last reconcile talked to the gateway
	// (or had no need to) without error.
	ConditionSynced = "Synced"
	// ConditionReconciling (kstatus) is True while the object is still moving
	// towards a final state.
	ConditionReconciling = "Reconciling"
	// ConditionStalled (kstatus) is True when the object cannot progress
	// without a change from a person: a terminal gateway failure or bad input.
	ConditionStalled = "Stalled"
	// ConditionBlocked is True while an operation waits on something outside
	// it, e.g. a refund held while a chargeback is unjudged.
	ConditionBlocked = "Blocked"
	// ConditionAdopted is True on an object whose identity the gateway
	// already knew when the operator first looked (the same manifest applied
	// again after a delete, a restore from git): its status was rebuilt from
	// the gateway and no call that moves money was sent.
	ConditionAdopted = "Adopted"
	// ConditionDiscrepancies (SettlementReconciliation) is True when the
	// reports and the cluster differ; the message has the count and the
	// first few.
	ConditionDiscrepancies = "Discrepancies"
	// ConditionDefenseDue is True on a Dispute whose defense deadline is
	// within the operator's alert window while no DisputeResponse exists.
	ConditionDefenseDue = "DefenseDue"
	// ConditionArchiveReady (GatewayConfig, with retention) is True when the
	// archive was last written, False while retention is paused.
	ConditionArchiveReady = "ArchiveReady"
)

// Condition reasons.
const (
	ReasonCreating         = "Creating"
	ReasonAwaitingUser     = "AwaitingUser"
	ReasonProcessing       = "Processing"
	ReasonOutcomeUnknown   = "OutcomeUnknown"
	ReasonSucceeded        = "Succeeded"
	ReasonAuthorized       = "Authorized"
	ReasonFailed           = "Failed"
	ReasonCancelled        = "Cancelled"
	ReasonExpired          = "Expired"
	ReasonReconcileSuccess = "ReconcileSuccess"
	ReasonReconcileError   = "ReconcileError"
	ReasonGatewayError     = "GatewayError"
	ReasonInvalidSpec      = "InvalidSpec"
	ReasonInvalidAmount    = "InvalidAmount"
	ReasonLimitExceeded    = "LimitExceeded"
	ReasonMethodNotOffered = "PaymentMethodNotOffered"
	ReasonGatewayNotReady  = "GatewayNotReady"
	ReasonPaymentNotReady  = "PaymentNotReady"
	ReasonDisputeOpen      = "DisputeOpen"
	ReasonObserving        = "Observing"
	ReasonSecretInvalid    = "SecretInvalid"
	ReasonAvailable        = "Available"
	// ReasonCredentialsRejected: the gateway refused the GatewayConfig's
	// credentials (a revoked or wrong API key or key version: OAUTH_FAIL,
	// KEY_NOT_FOUND, SIGNATURE_INVALID, CLIENT_INVALID). Nothing was
	// processed; calls resume with the same ids once the Secret is fixed.
	ReasonCredentialsRejected = "CredentialsRejected"
	// ReasonAdopted: the gateway already had the object's identity; see ConditionAdopted.
	ReasonAdopted = "Adopted"
	// ReasonPaymentIneligible: the operation's payment is in a state in which
	// the operation can never happen (failed, cancelled, expired, not an
	// authorization, not an ALIPAY_CN payment, ...).
	ReasonPaymentIneligible = "PaymentIneligible"
	// ReasonAuthorizationExpired: the authorization lapsed before the capture was sent.
	ReasonAuthorizationExpired = "AuthorizationExpired"
	// ReasonCaptureNotReady: a refund's spec.captureRef has not succeeded yet.
	ReasonCaptureNotReady = "CaptureNotReady"
	// ReasonWaitingForCaptures: a capture with isLastCapture waits until the
	// payment's other captures are final (the gateway closes the
	// authorization with the last capture).
	ReasonWaitingForCaptures = "WaitingForOtherCaptures"
	// ReasonSiblingsSettling: a capture or refund that would exceed the
	// payment's budget only if the payment's recorded total and its in-flight
	// siblings were both counted waits, sending nothing, until those siblings
	// settle and the sum is exact.
	ReasonSiblingsSettling = "WaitingForSiblingsToSettle"
	// ReasonCertificateSecretMissing / Invalid: a declaration's buyer certificate Secret.
	ReasonCertificateSecretMissing = "CertificateSecretMissing"
	ReasonCertificateSecretInvalid = "CertificateSecretInvalid"
	// ReasonCardSecretMissing / Invalid: a payment's card Secret.
	ReasonCardSecretMissing = "CardSecretMissing"
	ReasonCardSecretInvalid = "CardSecretInvalid"
	// ReasonPaymentNotFound: the gateway has no payment to observe (managementPolicy Observe).
	ReasonPaymentNotFound = "PaymentNotFound"
	// ReasonCancelRefused: the gateway refused spec.cancel.
	ReasonCancelRefused = "CancelRefused"
	// ReasonIdentityConflict: the gateway holds something else under the
	// object's identity (the name was used before with another amount,
	// payment or method). Nothing moved; use a new name.
	ReasonIdentityConflict = "IdentityConflict"
	// SettlementReconciliation reasons.
	ReasonSFTPUnavailable    = "SFTPUnavailable"
	ReasonReportTruncated    = "ReportTruncated"
	ReasonReportInvalid      = "ReportInvalid"
	ReasonReconciled         = "Reconciled"
	ReasonDiscrepanciesFound = "DiscrepanciesFound"
	ReasonNoDiscrepancies    = "NoDiscrepancies"

	// Disputes and their responses.
	ReasonAwaitingAnswer    = "AwaitingAnswer"
	ReasonDisputeDefended   = "Defended"
	ReasonDisputeResolved   = "Resolved"
	ReasonDefenseDueSoon    = "DefenseDueSoon"
	ReasonAnswered          = "Answered"
	ReasonNotDue            = "NotDue"
	ReasonDeadlinePassed    = "DeadlinePassed"
	ReasonAlreadyAnswered   = "AlreadyAnswered"
	ReasonDisputeClosed     = "DisputeClosed"
	ReasonDisputeNotFound   = "DisputeNotFound"
	ReasonEvidenceInvalid   = "EvidenceInvalid"
	ReasonResponseTaken     = "ResponseTaken"
	ReasonWaitingForDispute = "WaitingForDispute"
	// ReasonArchiveUnavailable: retention is paused; the archive cannot be
	// reached or written (nothing is deleted meanwhile).
	ReasonArchiveUnavailable = "ArchiveUnavailable"
	// ReasonArchiveSecretInvalid: the archive Secret is missing or does not parse.
	ReasonArchiveSecretInvalid = "ArchiveSecretInvalid"
	// PaymentRestore reasons. ReasonRestored: the payment is back in the
	// cluster (or already was).
	ReasonRestored = "Restored"
	// ReasonNotArchived: no archive holds the object for that merchant.
	ReasonNotArchived = "NotArchived"
	// ReasonRestoreFailed: the archive holds the payment but it cannot be
	// restored (it never reached the gateway).
	ReasonRestoreFailed = "RestoreFailed"

	// Reasons of the MoneyPolicy (Blocked=True; the operation makes no
	// gateway call while it has one). ReasonLimitExceeded, above, is also
	// the reason of an operation over its rule's maxAmount.

	// ReasonApprovalRequired: the operation is above its rule's
	// approvalAbove and no valid Approval names it yet.
	ReasonApprovalRequired = "ApprovalRequired"
	// ReasonBudgetExhausted: the operation does not fit in what is left of
	// a namespace or requester budget in the current window.
	ReasonBudgetExhausted = "BudgetExhausted"
	// ReasonPolicyInvalid: the namespace's MoneyPolicy cannot be read (an
	// amount with more decimal places than its currency has): it holds
	// back every operation it would govern until it is fixed.
	ReasonPolicyInvalid = "PolicyInvalid"
	// ReasonRequesterUnknown: a MoneyPolicy governs the operation but it
	// carries no requester recorded at admission (the admission policies
	// are not installed, or it was created before they were).
	ReasonRequesterUnknown = "RequesterUnknown"

	// Reasons of merchant registration. ReasonMerchantNotRegistered is a
	// Payment's (Blocked=True, no gateway call): its spec.merchantRef names
	// a MerchantRegistration that is missing, of another GatewayConfig, or
	// not approved for the payment's method. The others are a
	// MerchantRegistration's Ready reasons.
	ReasonMerchantNotRegistered = "MerchantNotRegistered"
	// ReasonUnderReview: the gateway accepted the registration and reviews it.
	ReasonUnderReview = "UnderReview"
	// ReasonRegistrationApproved: approved for every payment method.
	ReasonRegistrationApproved = "Approved"
	// ReasonPartiallyApproved: approved for some payment methods, rejected
	// for the others (the message names them).
	ReasonPartiallyApproved = "PartiallyApproved"
	// ReasonRegistrationRejected: rejected for every payment method, or
	// refused when submitted (the message gives the gateway's code).
	ReasonRegistrationRejected = "Rejected"
	// ReasonRegistrationInProgress: the gateway still reviews another
	// registration request of the same merchant (REPEAT_REGISTRATION); this
	// one is submitted once that review ends.
	ReasonRegistrationInProgress = "AnotherRegistrationUnderReview"
)
