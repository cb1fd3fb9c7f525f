package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MerchantRegistrationSpec is what a secondary merchant (a shop a platform
// sells for) is registered with at the gateway. Changing any of it
// registers again: a new registration request, whose id is derived from the
// manifest and the new details, and the previous result is kept in status.
// +kubebuilder:validation:XValidation:rule="!self.productCodes.exists(p, p == 'IN_STORE_PAYMENT') || has(self.store)",message="spec.store is required with the IN_STORE_PAYMENT product"
type MerchantRegistrationSpec struct {
	// GatewayRef names the GatewayConfig (the platform's merchant
	// connection) to register through.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.gatewayRef is immutable"
	// +required
	GatewayRef GatewayReference `json:"gatewayRef"`

	// ReferenceMerchantID is the secondary merchant's id, assigned by the
	// platform: the id a Payment's pay call names the merchant by.
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_.-]{1,64}$`
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.referenceMerchantId is immutable: it is the merchant's identity at the gateway"
	// +required
	ReferenceMerchantID string `json:"referenceMerchantId"`

	// DisplayName is the merchant's name as shoppers see it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +required
	DisplayName string `json:"displayName"`

	// MCC is the ISO 18245 merchant category code.
	// +kubebuilder:validation:Pattern=`^[0-9]{4}$`
	// +kubebuilder:validation:MaxLength=4
	// +required
	MCC string `json:"mcc"`

	// Address is where the merchant does business.
	// +required
	Address RegistrationAddress `json:"address"`

	// Websites are the merchant's shop sites (at least one for online
	// payments).
	// +kubebuilder:validation:MaxItems=10
	// +listType=atomic
	// +optional
	Websites []MerchantWebsite `json:"websites,omitempty"`

	// Logo is the merchant's logo.
	// +optional
	Logo *MerchantLogo `json:"logo,omitempty"`

	// Legal is the merchant's legal registration.
	// +required
	Legal LegalRegistration `json:"legal"`

	// Store is the store registered with the merchant; required with the
	// IN_STORE_PAYMENT product.
	// +optional
	Store *RegistrationStore `json:"store,omitempty"`

	// ProductCodes are the products the merchant is registered for.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=3
	// +listType=set
	// +required
	ProductCodes []ProductCode `json:"productCodes"`
}

// ProductCode is a gateway product a merchant is registered for.
// +kubebuilder:validation:Enum=CASHIER_PAYMENT;AGREEMENT_PAYMENT;IN_STORE_PAYMENT
type ProductCode string

// RegistrationAddress is a postal address.
type RegistrationAddress struct {
	// Region (ISO 3166 alpha-2).
	// +kubebuilder:validation:Pattern=`^[A-Z]{2}$`
	// +kubebuilder:validation:MaxLength=2
	// +required
	Region string `json:"region"`

	// State or province.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	State string `json:"state,omitempty"`

	// City of the address.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	City string `json:"city,omitempty"`

	// Address1 is the street address.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Address1 string `json:"address1,omitempty"`

	// Address2 continues the street address.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Address2 string `json:"address2,omitempty"`

	// ZipCode is the postal code.
	// +kubebuilder:validation:MaxLength=32
	// +optional
	ZipCode string `json:"zipCode,omitempty"`
}

// MerchantWebsite is one of the merchant's sites.
type MerchantWebsite struct {
	// URL of the site.
	// +kubebuilder:validation:Pattern=`^https?://\S+$`
	// +kubebuilder:validation:MaxLength=2048
	// +required
	URL string `json:"url"`

	// Name of the site.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Name string `json:"name,omitempty"`

	// Description of the site.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Description string `json:"description,omitempty"`
}

// MerchantLogo is the merchant's logo.
type MerchantLogo struct {
	// Name of the logo.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Name string `json:"name,omitempty"`

	// URL of the logo image.
	// +kubebuilder:validation:Pattern=`^https?://\S+$`
	// +kubebuilder:validation:MaxLength=2048
	// +required
	URL string `json:"url"`
}

// LegalRegistration is the merchant's company or individual registration.
type LegalRegistration struct {
	// LegalName is the registered legal name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +required
	LegalName string `json:"legalName"`

	// BusinessType is ENTERPRISE or INDIVIDUAL.
	// +kubebuilder:validation:Enum=ENTERPRISE;INDIVIDUAL
	// +required
	BusinessType string `json:"businessType"`

	// RegistrationType is the kind of registration number, e.g.
	// ENTERPRISE_REGISTRATION_NO or PASSPORT.
	// +kubebuilder:validation:Pattern=`^[A-Z][A-Z0-9_]{1,63}$`
	// +kubebuilder:validation:MaxLength=64
	// +required
	RegistrationType string `json:"registrationType"`

	// RegistrationNo is the registration number.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +required
	RegistrationNo string `json:"registrationNo"`

	// RegistrationRegion (ISO 3166 alpha-2) is where the merchant is
	// registered.
	// +kubebuilder:validation:Pattern=`^[A-Z]{2}$`
	// +kubebuilder:validation:MaxLength=2
	// +required
	RegistrationRegion string `json:"registrationRegion"`

	// Contacts are how the gateway reaches the merchant.
	// +kubebuilder:validation:MaxItems=5
	// +listType=atomic
	// +optional
	Contacts []MerchantContact `json:"contacts,omitempty"`
}

// MerchantContact is one way to reach the merchant.
type MerchantContact struct {
	// Type is EMAIL, MOBILE_PHONE or TELEPHONE.
	// +kubebuilder:validation:Enum=EMAIL;MOBILE_PHONE;TELEPHONE
	// +required
	Type string `json:"type"`

	// Value is the address or number.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +required
	Value string `json:"value"`
}

// RegistrationStore is a store of the merchant.
type RegistrationStore struct {
	// ReferenceStoreID is the store's id, assigned by the platform.
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_.-]{1,32}$`
	// +kubebuilder:validation:MaxLength=32
	// +required
	ReferenceStoreID string `json:"referenceStoreId"`

	// Name of the store.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Name string `json:"name,omitempty"`

	// MCC of the store, if it differs from the merchant's.
	// +kubebuilder:validation:Pattern=`^[0-9]{4}$`
	// +kubebuilder:validation:MaxLength=4
	// +optional
	MCC string `json:"mcc,omitempty"`

	// Address of the store.
	// +optional
	Address *RegistrationAddress `json:"address,omitempty"`
}

// Registration phases: of the current registration request as a whole.
const (
	// RegistrationSubmitting: the request is not yet accepted by the gateway.
	RegistrationSubmitting = "Submitting"
	// RegistrationPending: accepted, under review for at least one payment method.
	RegistrationPending = "Pending"
	// RegistrationApproved: every payment method reviewed and approved.
	RegistrationApproved = "Approved"
	// RegistrationPartiallyApproved: reviewed; approved for some payment
	// methods and rejected for others.
	RegistrationPartiallyApproved = "PartiallyApproved"
	// RegistrationRejected: reviewed and rejected for every payment method,
	// or refused when submitted (see the Ready condition's message).
	RegistrationRejected = "Rejected"
)

// Per-payment-method review results.
const (
	MethodPending  = "Pending"
	MethodApproved = "Approved"
	MethodRejected = "Rejected"
)

// MethodRegistration is the review result for one payment method.
type MethodRegistration struct {
	// PaymentMethod is the payment method (the gateway's pspName), e.g.
	// ALIPAY_HK.
	PaymentMethod string `json:"paymentMethod"`

	// Status is Pending, Approved or Rejected.
	Status string `json:"status"`

	// RejectReasons is the gateway's reason for a rejection.
	// +optional
	RejectReasons string `json:"rejectReasons,omitempty"`
}

// RegistrationRecord is one registration request and its result.
type RegistrationRecord struct {
	// RegistrationRequestID is the request's idempotency id.
	RegistrationRequestID string `json:"registrationRequestId"`

	// Phase is the request's overall result (see MerchantRegistrationStatus.phase).
	// +optional
	Phase string `json:"phase,omitempty"`

	// PaymentMethods are the per-payment-method results.
	// +listType=map
	// +listMapKey=paymentMethod
	// +optional
	PaymentMethods []MethodRegistration `json:"paymentMethods,omitempty"`

	// ObservedGeneration is the spec generation the request registered.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// SubmittedAt is when the gateway accepted the request.
	// +optional
	SubmittedAt *metav1.Time `json:"submittedAt,omitempty"`

	// ReviewedAt is when the review finished (the phase left Pending).
	// +optional
	ReviewedAt *metav1.Time `json:"reviewedAt,omitempty"`

	// RejectReasons is the gateway's reason for rejecting the request as a
	// whole (each payment method's reasons are in paymentMethods).
	// +optional
	RejectReasons string `json:"rejectReasons,omitempty"`

	// LastResult is the last result the gateway answered for the request
	// (registration or inquiryRegistrationStatus), or the operator's reason
	// for refusing it before any call (API "controller").
	// +optional
	LastResult *GatewayResult `json:"lastResult,omitempty"`
}

// MerchantRegistrationStatus is what the gateway says of the registration.
type MerchantRegistrationStatus struct {
	// RegistrationRecord is the current request: the one for the spec's
	// latest generation.
	RegistrationRecord `json:",inline"`

	// Previous is the last request before the current one and its result,
	// kept when the spec changed and the merchant was registered again.
	// +optional
	Previous *RegistrationRecord `json:"previous,omitempty"`

	// Digest is the hash of the registered details the current request was
	// derived from (sha256, hex).
	// +optional
	Digest string `json:"digest,omitempty"`

	// Approved counts the payment methods the current request is approved
	// for, of those the gateway reviews, e.g. "10/11".
	// +optional
	Approved string `json:"approved,omitempty"`

	// ApprovedMethods lists, comma-separated, the payment methods the
	// current request is approved for.
	// +optional
	ApprovedMethods string `json:"approvedMethods,omitempty"`

	// RejectedMethods lists, comma-separated, the payment methods the
	// current request was rejected for (paymentMethods says why).
	// +optional
	RejectedMethods string `json:"rejectedMethods,omitempty"`

	// Conditions: Ready (the current request is approved for at least one
	// payment method), Synced (the last reconcile reached the gateway).
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=mreg,categories=cashier
// +kubebuilder:printcolumn:name="Merchant",type=string,JSONPath=`.spec.referenceMerchantId`
// +kubebuilder:printcolumn:name="Gateway",type=string,JSONPath=`.spec.gatewayRef.name`,priority=1
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Approved",type=string,JSONPath=`.status.approved`
// +kubebuilder:printcolumn:name="Rejected",type=string,JSONPath=`.status.rejectedMethods`
// +kubebuilder:printcolumn:name="Approved Methods",type=string,JSONPath=`.status.approvedMethods`,priority=1
// +kubebuilder:printcolumn:name="Request",type=string,JSONPath=`.status.registrationRequestId`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// MerchantRegistration registers a secondary merchant with the gateway and
// follows its review per payment method. Payments name it with
// spec.merchantRef and wait until it is approved for their method.
// Deleting it never unregisters anything at the gateway.
type MerchantRegistration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the merchant as registered.
	Spec MerchantRegistrationSpec `json:"spec"`
	// Status is what the gateway says of it.
	Status MerchantRegistrationStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// MerchantRegistrationList is a list of MerchantRegistrations.
type MerchantRegistrationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MerchantRegistration `json:"items"`
}

func init() {
	SchemeBuilder.Register(&MerchantRegistration{}, &MerchantRegistrationList{})
}

// GetPhase returns the current request's phase (for events).
func (m *MerchantRegistration) GetPhase() string { return m.Status.Phase }

// MethodStatus is the current request's result for the payment method, or
// "" when the request did not list it.
func (m *MerchantRegistration) MethodStatus(method string) (MethodRegistration, bool) {
	for _, r := range m.Status.PaymentMethods {
		if r.PaymentMethod == method {
			return r, true
		}
	}
	return MethodRegistration{}, false
}
