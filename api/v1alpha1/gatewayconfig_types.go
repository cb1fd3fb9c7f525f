package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Keys read from the credentials Secret of a GatewayConfig.
const (
	// SecretKeyClientID holds the merchant's Client-Id, e.g. SANDBOX_5YBX2V2ZAE0A06188.
	SecretKeyClientID = "clientId"
	// SecretKeyMerchantPrivateKey holds the merchant's RSA private key: base64
	// PKCS#8 DER as the gateway's dashboard issues it, or PEM. A Secret holds
	// exactly one of merchantPrivateKey and apiKey.
	SecretKeyMerchantPrivateKey = "merchantPrivateKey"
	// SecretKeyAPIKey holds the merchant's API key instead of a private key:
	// isak_ (Standard) or irak_ (Restricted), then TEST_ or PROD_ and the
	// rest as the dashboard shows it. Requests then carry it as a Bearer
	// credential and are not signed; gatewayPublicKey is still required
	// (notifications stay RSA-signed).
	SecretKeyAPIKey = "apiKey"
	// SecretKeyGatewayPublicKey holds the gateway's RSA public key: base64
	// X.509 SubjectPublicKeyInfo DER as the dashboard shows it, or PEM.
	SecretKeyGatewayPublicKey = "gatewayPublicKey"
	// SecretKeyKeyVersion optionally holds the key version sent in the
	// Signature header (default "1"; not used with an apiKey).
	SecretKeyKeyVersion = "keyVersion"
)

// GatewayConfigSpec is one merchant's connection to the gateway.
// +kubebuilder:validation:XValidation:rule="has(self.identityScope) == has(oldSelf.identityScope)",message="spec.identityScope cannot be added or removed after create: it would give every re-created object new gateway ids"
type GatewayConfigSpec struct {
	// Endpoint is the gateway's base URL without path, e.g.
	// https://open-sea-global.alipay.com, or http://127.0.0.1:8080 for alipay-sim.
	// It must be https:// unless the host is loopback (127.0.0.0/8, ::1,
	// localhost) or an in-cluster Service (<service>.<namespace>.svc or
	// .svc.cluster.local): requests carry card data and signed payment orders.
	// +kubebuilder:validation:Pattern=`^https?://[^/?#\s]+$`
	// +kubebuilder:validation:XValidation:rule="self.startsWith('https://') || self.matches('^http://(localhost|127\\\\.[0-9]{1,3}\\\\.[0-9]{1,3}\\\\.[0-9]{1,3}|\\\\[::1\\\\]|[a-z0-9]([-a-z0-9]*[a-z0-9])?\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?\\\\.svc(\\\\.cluster\\\\.local)?)(:[0-9]{1,5})?$')",message="spec.endpoint must use https://: requests carry card data and signed payment orders; plain http:// is only allowed to a loopback host (127.0.0.0/8, [::1], localhost) or an in-cluster Service (<service>.<namespace>.svc or .svc.cluster.local)"
	// +kubebuilder:validation:MaxLength=256
	// +required
	Endpoint string `json:"endpoint"`

	// PathPrefix is put before every API path: /ams/api (production, the
	// default), /ams/sandbox/api (Antom sandbox) or /aps/api (Alipay+).
	// +kubebuilder:validation:Enum=/ams/api;/ams/sandbox/api;/aps/api
	// +kubebuilder:default=/ams/api
	// +optional
	PathPrefix string `json:"pathPrefix,omitempty"`

	// CredentialsSecretRef names the Secret that holds clientId,
	// gatewayPublicKey, and either merchantPrivateKey (optionally with
	// keyVersion) or apiKey (docs/security.md, "Gateway credentials").
	// +required
	CredentialsSecretRef NamespacedSecretReference `json:"credentialsSecretRef"`

	// Timeouts bound each gateway call.
	// +optional
	Timeouts *GatewayTimeouts `json:"timeouts,omitempty"`

	// RateLimit bounds the calls this operator makes for this merchant, shared
	// by all kinds. The gateway answers REQUEST_TRAFFIC_EXCEED_LIMIT above its
	// own limit; the operator then slows down further by itself.
	// +optional
	RateLimit *RateLimit `json:"rateLimit,omitempty"`

	// NotificationBaseURL is where the gateway can reach the
	// notification-receiver, e.g. https://pay-notify.example.com. The operator
	// puts <base>/notify/<kind>/<namespace>/<name> into each pay and refund
	// request. Empty means no notify URL is sent and the operator relies on
	// polling and the dashboard-configured URL.
	// +kubebuilder:validation:Pattern=`^https?://[^?#\s]+$`
	// +kubebuilder:validation:MaxLength=512
	// +optional
	NotificationBaseURL string `json:"notificationBaseURL,omitempty"`

	// ConsultProfiles are the checkout situations for which the operator
	// periodically asks the gateway which payment methods are offered (the
	// consult API). Results appear in status.paymentMethods; a Payment whose
	// method is not offered for a matching profile fails fast.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	// +optional
	ConsultProfiles []ConsultProfile `json:"consultProfiles,omitempty"`

	// IdentityScope is mixed into every id the operator derives for this
	// merchant's objects (paymentRequestId, captureRequestId, refundRequestId,
	// declarationRequestId). Ids are derived from the manifest (kind,
	// namespace, name), never from the cluster, so a cluster restored from git
	// adopts what the gateway already did instead of paying again: keep the
	// default (empty) for that. Set it only when two clusters share one
	// merchant and must not share identities (e.g. "staging" and "prod" both
	// holding a payment shop/order-1). Immutable: changing it would make every
	// re-created object a new payment.
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$`
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.identityScope is immutable: changing it would give every re-created object new gateway ids, so re-applying a manifest would move money again"
	// +optional
	IdentityScope string `json:"identityScope,omitempty"`

	// ConsultInterval is how often the consult profiles are refreshed.
	// Default 1h.
	// +optional
	ConsultInterval *metav1.Duration `json:"consultInterval,omitempty"`

	// Retention archives finished payments of this merchant, with their
	// captures, refunds and declarations, to a PostgreSQL-compatible
	// database and then deletes them from the cluster, so that etcd stays
	// bounded. Unset (the default): everything stays in the cluster.
	// +optional
	Retention *Retention `json:"retention,omitempty"`
}

// Keys read from the archive Secret (spec.retention.archive.secretRef).
const (
	// ArchiveSecretKeyURL holds a PostgreSQL connection URL, e.g.
	// postgres://cashier@db.example.com:5432/payments.
	ArchiveSecretKeyURL = "url"
	// ArchiveSecretKeyPassword optionally holds the password (better than in the URL).
	ArchiveSecretKeyPassword = "password"
	// ArchiveSecretKeyCA optionally holds the PEM CA bundle that signs the server's certificate.
	ArchiveSecretKeyCA = "ca.crt"
	// ArchiveSecretKeyCert and ArchiveSecretKeyKey optionally hold a PEM
	// client certificate and key.
	ArchiveSecretKeyCert = "tls.crt"
	ArchiveSecretKeyKey  = "tls.key"
)

// Archive TLS modes (libpq's sslmode).
const (
	ArchiveSSLDisable    = "disable"
	ArchiveSSLRequire    = "require"
	ArchiveSSLVerifyCA   = "verify-ca"
	ArchiveSSLVerifyFull = "verify-full"
)

// Annotations of retention.
const (
	// RetainForAnnotation on a Payment overrides spec.retention.retainFor of
	// its GatewayConfig for the payment and its operations: a duration such
	// as "720h", or "Keep" to never archive nor delete them.
	RetainForAnnotation = "payments.cashier-operator.io/retain-for"
	// RetainKeep is the RetainForAnnotation value that keeps an object.
	RetainKeep = "Keep"
	// RestoredAnnotation marks a Payment the operator restored from the
	// archive (a Refund named it); its value is when.
	RestoredAnnotation = "payments.cashier-operator.io/restored-from-archive"
)

// Retention is when finished payments leave the cluster, and where they go.
type Retention struct {
	// RetainFor is how long a payment stays in the cluster after the last
	// change to it or any of its operations, once it and all of them are
	// final and no dispute on it is open, e.g. 72h. Then it and its
	// operations are archived and, only once the archive has them, deleted.
	// A Payment may override it with the annotation
	// payments.cashier-operator.io/retain-for (a duration, or Keep).
	// +required
	RetainFor metav1.Duration `json:"retainFor"`

	// Archive is the PostgreSQL-compatible database that keeps them.
	// +required
	Archive ArchiveConnection `json:"archive"`
}

// ArchiveConnection reaches the archive database.
type ArchiveConnection struct {
	// SecretRef names the Secret that holds url (postgres://user@host:5432/db)
	// and optionally password, ca.crt, tls.crt and tls.key.
	// +required
	SecretRef NamespacedSecretReference `json:"secretRef"`

	// SSLMode is disable, require (encrypt, do not verify), verify-ca
	// (verify the chain against ca.crt) or verify-full (also the host name;
	// the default).
	// +kubebuilder:validation:Enum=disable;require;verify-ca;verify-full
	// +kubebuilder:default=verify-full
	// +optional
	SSLMode string `json:"sslMode,omitempty"`
}

// GatewayTimeouts bound gateway calls. Defaults follow the gateway's guidance:
// 8s for calls that move money, 5s for inquiries.
type GatewayTimeouts struct {
	// Payment bounds pay, capture, cancel and refund calls. Default 8s.
	// +optional
	Payment *metav1.Duration `json:"payment,omitempty"`

	// Inquiry bounds inquiry, consult and customs calls. Default 5s.
	// +optional
	Inquiry *metav1.Duration `json:"inquiry,omitempty"`
}

// RateLimit is a token bucket.
type RateLimit struct {
	// QPS is the sustained number of calls per second.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	// +required
	QPS int32 `json:"qps"`

	// Burst is how many calls may be made at once above the sustained rate.
	// Default: equal to qps.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	// +optional
	Burst int32 `json:"burst,omitempty"`
}

// ConsultProfile is one checkout situation to consult payment methods for.
// +kubebuilder:validation:XValidation:rule="self.terminalType == 'WEB' || has(self.osType)",message="osType (IOS or ANDROID) is required when terminalType is WAP, APP or MINI_APP"
type ConsultProfile struct {
	// Name identifies the profile, e.g. "hk-web".
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:MaxLength=63
	// +required
	Name string `json:"name"`

	// Amount is a representative payment amount (methods have limits).
	// +required
	Amount Money `json:"amount"`

	// TerminalType is where the user pays: WEB, WAP, APP or MINI_APP.
	// +kubebuilder:validation:Enum=WEB;WAP;APP;MINI_APP
	// +required
	TerminalType string `json:"terminalType"`

	// OSType is IOS or ANDROID; required unless terminalType is WEB.
	// +kubebuilder:validation:Enum=IOS;ANDROID
	// +optional
	OSType string `json:"osType,omitempty"`

	// UserRegion (ISO 3166 alpha-2) sorts methods popular in that region first.
	// +kubebuilder:validation:Pattern=`^[A-Z]{2}$`
	// +kubebuilder:validation:MaxLength=2
	// +optional
	UserRegion string `json:"userRegion,omitempty"`

	// SettlementCurrency is the ISO 4217 currency the merchant settles in.
	// +kubebuilder:validation:Pattern=`^[A-Z]{3}$`
	// +kubebuilder:validation:MaxLength=3
	// +optional
	SettlementCurrency string `json:"settlementCurrency,omitempty"`
}

// GatewayConfigStatus is what the operator found out about the connection.
type GatewayConfigStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// ClientID is the merchant Client-Id read from the Secret.
	// +optional
	ClientID string `json:"clientId,omitempty"`

	// KeyVersion is the key version in use (RSA credentials only).
	// +optional
	KeyVersion string `json:"keyVersion,omitempty"`

	// Credentials is how the operator authenticates to the gateway:
	// PrivateKey (requests signed with the merchant RSA key) or APIKey (a
	// Bearer API key). The key itself never appears in status.
	// +kubebuilder:validation:Enum=PrivateKey;APIKey
	// +optional
	Credentials CredentialType `json:"credentials,omitempty"`

	// PaymentMethods are the methods each consult profile is offered.
	// +listType=map
	// +listMapKey=profile
	// +optional
	PaymentMethods []ProfilePaymentMethods `json:"paymentMethods,omitempty"`

	// Archives are the archive databases this GatewayConfig's payments were
	// ever archived to. Restoring (for a Refund or a notification that names
	// an archived payment) searches them as well as spec.retention.archive,
	// so turning retention off or pointing it at another database never
	// makes archived payments unreachable.
	// +listType=atomic
	// +optional
	Archives []ArchiveConnection `json:"archives,omitempty"`

	// Conditions: Ready (the Secret parses and the endpoint is valid; False
	// with reason CredentialsRejected while the gateway refuses them),
	// Synced, and with retention ArchiveReady (False, reason
	// ArchiveUnavailable, while retention is paused because the archive
	// cannot be written).
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// CredentialType is how a connection authenticates to the gateway.
type CredentialType string

// The credential types of a GatewayConfig's Secret.
const (
	// CredentialPrivateKey: the Secret holds merchantPrivateKey.
	CredentialPrivateKey CredentialType = "PrivateKey"
	// CredentialAPIKey: the Secret holds apiKey.
	CredentialAPIKey CredentialType = "APIKey"
)

// ProfilePaymentMethods is the consult result for one profile.
type ProfilePaymentMethods struct {
	// Profile is the consult profile name.
	Profile string `json:"profile"`

	// Methods are the offered payment methods, in the gateway's order.
	// +listType=atomic
	// +optional
	Methods []OfferedPaymentMethod `json:"methods,omitempty"`

	// ConsultTime is when the gateway was asked.
	// +optional
	ConsultTime *metav1.Time `json:"consultTime,omitempty"`

	// Error is the gateway's answer when the consult failed.
	// +optional
	Error string `json:"error,omitempty"`
}

// OfferedPaymentMethod is one method consult offered.
type OfferedPaymentMethod struct {
	// Type is the paymentMethodType, e.g. ALIPAY_HK or CARD.
	Type string `json:"type"`

	// Category is the gateway's category, e.g. WALLET or CARD.
	// +optional
	Category string `json:"category,omitempty"`

	// Enabled is false when the gateway lists the method but it cannot be used now.
	Enabled bool `json:"enabled"`

	// DisableReason says why a method is not enabled.
	// +optional
	DisableReason string `json:"disableReason,omitempty"`

	// Currencies the method accepts.
	// +listType=atomic
	// +optional
	Currencies []string `json:"currencies,omitempty"`

	// CardBrands for CARD, e.g. VISA, MASTERCARD.
	// +listType=atomic
	// +optional
	CardBrands []string `json:"cardBrands,omitempty"`
}

// GatewayConfig holds one merchant's connection to the Alipay / Antom gateway:
// endpoint, client id and keys (in a Secret), timeouts and rate limit.
// Payments in any namespace name it in spec.gatewayRef.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=gwc,categories=cashier
// +kubebuilder:printcolumn:name="Endpoint",type=string,JSONPath=`.spec.endpoint`
// +kubebuilder:printcolumn:name="Client-Id",type=string,JSONPath=`.status.clientId`
// +kubebuilder:printcolumn:name="Credentials",type=string,JSONPath=`.status.credentials`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type GatewayConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired connection.
	// +required
	Spec GatewayConfigSpec `json:"spec"`

	// Status is what the operator found.
	// +optional
	Status GatewayConfigStatus `json:"status,omitempty"`
}

// GatewayConfigList is a list of GatewayConfigs.
// +kubebuilder:object:root=true
type GatewayConfigList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GatewayConfig `json:"items"`
}

func init() {
	SchemeBuilder.Register(&GatewayConfig{}, &GatewayConfigList{})
}
