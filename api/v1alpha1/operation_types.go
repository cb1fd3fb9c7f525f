package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// OperationPhase is where a one-shot operation (Capture, Refund,
// CustomsDeclaration) stands. Like a Job, an operation runs once and ends in
// Succeeded or Failed; it never moves backwards.
// +kubebuilder:validation:Enum=Pending;Processing;Succeeded;Failed
type OperationPhase string

const (
	// OperationPending: not yet sent (waiting on its payment, a dispute, or an unknown outcome).
	OperationPending OperationPhase = "Pending"
	// OperationProcessing: the gateway accepted it and has not finished.
	OperationProcessing OperationPhase = "Processing"
	// OperationSucceeded: done; final.
	OperationSucceeded OperationPhase = "Succeeded"
	// OperationFailed: refused or failed at the gateway, or impossible; final.
	OperationFailed OperationPhase = "Failed"
)

// IsFinal reports whether the operation has ended.
func (p OperationPhase) IsFinal() bool { return p == OperationSucceeded || p == OperationFailed }

// OperationStatus is the status shared by the one-shot operations.
type OperationStatus struct {
	// ObservedGeneration is the generation last acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Phase: Pending, Processing, Succeeded or Failed. It never moves backwards.
	// +optional
	Phase OperationPhase `json:"phase,omitempty"`

	// RequestID is the idempotency key sent to the gateway
	// (captureRequestId, refundRequestId or declarationRequestId): the spec's,
	// or one derived from the GatewayConfig's identityScope and the object's
	// kind, namespace and name. Once recorded it never changes.
	// +optional
	RequestID string `json:"requestId,omitempty"`

	// PaymentID is the gateway payment the operation applies to.
	// +optional
	PaymentID string `json:"paymentId,omitempty"`

	// GatewayID is the gateway's id for the operation (captureId, refundId,
	// customsPaymentId).
	// +optional
	GatewayID string `json:"gatewayId,omitempty"`

	// SubmitTime is when the operation was first sent to the gateway.
	// +optional
	SubmitTime *metav1.Time `json:"submitTime,omitempty"`

	// CompletionTime is when the gateway reported the final state.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`

	// LastCheckTime is when the operator last inquired.
	// +optional
	LastCheckTime *metav1.Time `json:"lastCheckTime,omitempty"`

	// LastResult is the last result the gateway returned.
	// +optional
	LastResult *GatewayResult `json:"lastResult,omitempty"`

	// Audit is who asked for the operation and who approved it, recorded
	// before it is first sent when a MoneyPolicy governs it.
	// +optional
	Audit *Audit `json:"audit,omitempty"`

	// Conditions: Ready and Synced; Reconciling and Stalled (kstatus) only
	// while True, their absence meaning False; Blocked.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// CaptureSpec captures (part of) an authorized card payment. Immutable.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a Capture is immutable: create another Capture instead"
type CaptureSpec struct {
	// PaymentRef names the authorized Payment (captureMode Manual) in this namespace.
	// +required
	PaymentRef LocalObjectReference `json:"paymentRef"`

	// Amount to capture, in the payment's currency. All captures of a payment
	// together may not exceed the authorized amount.
	// +required
	Amount Money `json:"amount"`

	// IsLastCapture tells the gateway no further capture follows, releasing
	// the rest of the authorization.
	// +optional
	IsLastCapture bool `json:"isLastCapture,omitempty"`

	// CaptureRequestID is the idempotency key for the capture call (1-64
	// letters, digits, '_' or '-'), for merchants whose order system owns the
	// ids. Leave it out and the operator derives one from the GatewayConfig's
	// identityScope and this Capture's namespace and name, so the same
	// manifest applied again (a GitOps re-sync, a restore) never captures twice.
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_-]{1,64}$`
	// +kubebuilder:validation:MaxLength=64
	// +optional
	CaptureRequestID string `json:"captureRequestId,omitempty"`
}

// Capture takes (part of) the money a card authorization holds.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=cap,categories=cashier
// +kubebuilder:printcolumn:name="Payment",type=string,JSONPath=`.spec.paymentRef.name`
// +kubebuilder:printcolumn:name="Amount",type=string,JSONPath=`.spec.amount.value`
// +kubebuilder:printcolumn:name="Currency",type=string,priority=1,JSONPath=`.spec.amount.currency`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Reason",type=string,priority=1,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Capture struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the capture to make.
	// +required
	Spec CaptureSpec `json:"spec"`

	// Status is what the gateway says.
	// +optional
	Status OperationStatus `json:"status,omitempty"`
}

// CaptureList is a list of Captures.
// +kubebuilder:object:root=true
type CaptureList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Capture `json:"items"`
}

// RefundSpec refunds (part of) a succeeded payment. Immutable.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a Refund is immutable: create another Refund instead"
type RefundSpec struct {
	// PaymentRef names the Payment in this namespace to refund.
	// +required
	PaymentRef LocalObjectReference `json:"paymentRef"`

	// Amount to refund, in the payment's currency. All refunds of a payment
	// together may not exceed what was paid (captured, for cards).
	// +required
	Amount Money `json:"amount"`

	// Reason is shown to the user.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Reason string `json:"reason,omitempty"`

	// CaptureRef names the Capture to refund against when a card payment was
	// captured several times.
	// +optional
	CaptureRef *LocalObjectReference `json:"captureRef,omitempty"`

	// RefundRequestID is the idempotency key for the refund call (1-64
	// letters, digits, '_' or '-'), for merchants whose order system owns the
	// ids. Leave it out and the operator derives one from the GatewayConfig's
	// identityScope and this Refund's namespace and name, so the same manifest
	// applied again (a GitOps re-sync, a restore) never refunds twice.
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_-]{1,64}$`
	// +kubebuilder:validation:MaxLength=64
	// +optional
	RefundRequestID string `json:"refundRequestId,omitempty"`
}

// Refund returns money of a succeeded payment to the user. It waits (Blocked,
// reason DisputeOpen) while a chargeback on the payment is unjudged.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=rf,categories=cashier
// +kubebuilder:printcolumn:name="Payment",type=string,JSONPath=`.spec.paymentRef.name`
// +kubebuilder:printcolumn:name="Amount",type=string,JSONPath=`.spec.amount.value`
// +kubebuilder:printcolumn:name="Currency",type=string,priority=1,JSONPath=`.spec.amount.currency`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Reason",type=string,priority=1,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Refund struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the refund to make.
	// +required
	Spec RefundSpec `json:"spec"`

	// Status is what the gateway says.
	// +optional
	Status OperationStatus `json:"status,omitempty"`
}

// RefundList is a list of Refunds.
// +kubebuilder:object:root=true
type RefundList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Refund `json:"items"`
}

// Keys read from a buyer certificate Secret (spec.buyerCertificateSecretRef).
const (
	CertificateSecretKeyType   = "certificateType"
	CertificateSecretKeyNumber = "certificateNo"
	CertificateSecretKeyName   = "holderName"
)

// CustomsDeclarationSpec declares a paid order to Chinese customs. Immutable.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a CustomsDeclaration is immutable: create another one instead"
// +kubebuilder:validation:XValidation:rule="!has(self.subOrderId) || self.splitOrder",message="subOrderId is only used when splitOrder is true"
type CustomsDeclarationSpec struct {
	// PaymentRef names the succeeded Payment (ALIPAY_CN) in this namespace.
	// +required
	PaymentRef LocalObjectReference `json:"paymentRef"`

	// Amount to declare, in CNY. Declarations of a payment together may not
	// exceed what was paid.
	// +kubebuilder:validation:XValidation:rule="self.currency == 'CNY'",message="customs declarations are in CNY"
	// +required
	Amount Money `json:"amount"`

	// Customs is the customs office.
	// +required
	Customs CustomsOffice `json:"customs"`

	// MerchantCustomsCode is the merchant's registration code at that customs office.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +required
	MerchantCustomsCode string `json:"merchantCustomsCode"`

	// MerchantCustomsName is the merchant's registered name at that customs office.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +required
	MerchantCustomsName string `json:"merchantCustomsName"`

	// SplitOrder is true when the payment is declared in several sub-orders.
	// +optional
	SplitOrder bool `json:"splitOrder,omitempty"`

	// SubOrderID identifies the sub-order when splitOrder is true.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	SubOrderID string `json:"subOrderId,omitempty"`

	// BuyerCertificateSecretRef names a Secret in this namespace holding the
	// buyer's certificate (certificateType, certificateNo, holderName) for the
	// identity check. Certificate numbers never go in the spec.
	// +optional
	BuyerCertificateSecretRef *SecretReference `json:"buyerCertificateSecretRef,omitempty"`

	// DeclarationRequestID is the idempotency key for the declare call (1-32
	// letters, digits, '_' or '-'), for merchants whose order system owns the
	// ids. Leave it out and the operator derives one from the GatewayConfig's
	// identityScope and this declaration's namespace and name, so the same
	// manifest applied again (a GitOps re-sync, a restore) never declares twice.
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_-]{1,32}$`
	// +kubebuilder:validation:MaxLength=32
	// +optional
	DeclarationRequestID string `json:"declarationRequestId,omitempty"`
}

// CustomsOffice names a customs office.
type CustomsOffice struct {
	// Code of the customs office, e.g. ZONGSHU, ZHENGZHOU, NINGBO, SHANGHAI_CBT.
	// +kubebuilder:validation:Pattern=`^[A-Z0-9_]{1,32}$`
	// +kubebuilder:validation:MaxLength=32
	// +required
	Code string `json:"code"`

	// Region of the customs office; CN.
	// +kubebuilder:validation:Enum=CN
	// +kubebuilder:default=CN
	// +optional
	Region string `json:"region,omitempty"`
}

// CustomsDeclarationStatus adds the customs results to OperationStatus.
type CustomsDeclarationStatus struct {
	OperationStatus `json:",inline"`

	// DeclarationStatus is the gateway's declarationRequestStatus
	// (WAITING_FOR_PROCESSING, PROCESSING, SUCCESS, FAIL).
	// +optional
	DeclarationStatus string `json:"declarationStatus,omitempty"`

	// CustomsOrderID is the customs order id.
	// +optional
	CustomsOrderID string `json:"customsOrderId,omitempty"`

	// IdentityCheckResult: CHECK_PASSED or CHECK_NOT_PASSED.
	// +optional
	IdentityCheckResult string `json:"identityCheckResult,omitempty"`

	// ClearingChannel: CUP, NUCC or OTHER.
	// +optional
	ClearingChannel string `json:"clearingChannel,omitempty"`

	// CustomsResultCode is the customs office's result code.
	// +optional
	CustomsResultCode string `json:"customsResultCode,omitempty"`

	// CustomsResultDescription is the customs office's result text.
	// +optional
	CustomsResultDescription string `json:"customsResultDescription,omitempty"`
}

// CustomsDeclaration declares a paid ALIPAY_CN order to Chinese customs.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=cdecl,categories=cashier
// +kubebuilder:printcolumn:name="Payment",type=string,JSONPath=`.spec.paymentRef.name`
// +kubebuilder:printcolumn:name="Amount",type=string,JSONPath=`.spec.amount.value`
// +kubebuilder:printcolumn:name="Customs",type=string,priority=1,JSONPath=`.spec.customs.code`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Reason",type=string,priority=1,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type CustomsDeclaration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the declaration to make.
	// +required
	Spec CustomsDeclarationSpec `json:"spec"`

	// Status is what the gateway says.
	// +optional
	Status CustomsDeclarationStatus `json:"status,omitempty"`
}

// CustomsDeclarationList is a list of CustomsDeclarations.
// +kubebuilder:object:root=true
type CustomsDeclarationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []CustomsDeclaration `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Capture{}, &CaptureList{}, &Refund{}, &RefundList{},
		&CustomsDeclaration{}, &CustomsDeclarationList{})
}
