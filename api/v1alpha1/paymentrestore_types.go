package v1alpha1

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PaymentRestorePhase is where a restore request stands: "" (Pending) until
// the manager has looked in the archives, then one of the final phases.
// +kubebuilder:validation:Enum=Restored;NotArchived;Failed
type PaymentRestorePhase string

const (
	// PaymentRestoreRestored: the payment is in the cluster again (restored
	// from the archive, or it already was); a re-sent notification applies.
	PaymentRestoreRestored PaymentRestorePhase = "Restored"
	// PaymentRestoreNotArchived: no archive of any GatewayConfig holds the
	// object for this merchant: it was deleted, or never managed here.
	PaymentRestoreNotArchived PaymentRestorePhase = "NotArchived"
	// PaymentRestoreFailed: the archive holds the payment but it cannot be
	// restored (e.g. it never reached the gateway, so there is nothing to
	// observe).
	PaymentRestoreFailed PaymentRestorePhase = "Failed"
)

// IsFinal reports whether the manager has decided.
func (p PaymentRestorePhase) IsFinal() bool { return p != "" }

// Restore object kinds: what a notification's route named.
const (
	RestoreKindPayment = "Payment"
	RestoreKindRefund  = "Refund"
)

// RestoreObjectReference names the object a notification was about.
type RestoreObjectReference struct {
	// Kind is Payment (notifyPayment, notifyCapture, notifyDispute) or
	// Refund (notifyRefund).
	// +kubebuilder:validation:Enum=Payment;Refund
	// +required
	Kind string `json:"kind"`

	// Namespace of the object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +required
	Namespace string `json:"namespace"`

	// Name of the object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
}

// PaymentRestoreSpec says which archived payment a verified notification
// needs. It never changes.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a PaymentRestore's spec is immutable"
// +kubebuilder:validation:XValidation:rule="has(self.object) || has(self.paymentId) || has(self.paymentRequestId) || has(self.refundRequestId)",message="name the object or at least one gateway id"
type PaymentRestoreSpec struct {
	// ClientID is the merchant Client-Id whose gateway key signed the
	// notification. Only archived objects of this merchant are restored.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +required
	ClientID string `json:"clientId"`

	// Notification is the kind of notification that named the object:
	// notifyPayment, notifyCapture, notifyRefund or notifyDispute.
	// +kubebuilder:validation:Enum=notifyPayment;notifyCapture;notifyRefund;notifyDispute
	// +required
	Notification string `json:"notification"`

	// Object is the Payment or Refund the notification's route named
	// (/notify/payment/<ns>/<name>, /notify/refund/<ns>/<name>); absent for
	// the dashboard route, which names objects only by gateway ids.
	// +optional
	Object *RestoreObjectReference `json:"object,omitempty"`

	// PaymentID is the gateway payment id the notification carried.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	PaymentID string `json:"paymentId,omitempty"`

	// PaymentRequestID is the paymentRequestId the notification carried.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	PaymentRequestID string `json:"paymentRequestId,omitempty"`

	// RefundRequestID is the refundRequestId of a notifyRefund.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	RefundRequestID string `json:"refundRequestId,omitempty"`

	// Reason says why the restore was asked, for people reading it.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Reason string `json:"reason,omitempty"`
}

// PaymentRestoreStatus is what the manager found.
type PaymentRestoreStatus struct {
	// Phase: empty while pending, then Restored, NotArchived or Failed.
	// +optional
	Phase PaymentRestorePhase `json:"phase,omitempty"`

	// Payment is the restored payment, "<namespace>/<name>".
	// +optional
	Payment string `json:"payment,omitempty"`

	// PaymentID is the gateway id of the restored payment.
	// +optional
	PaymentID string `json:"paymentId,omitempty"`

	// CompletionTime is when the phase became final; the manager deletes
	// the request its restore TTL after it (re-sent notifications read the
	// outcome until then, and retention keeps a restored payment meanwhile).
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`

	// Conditions: Ready (True once restored; False with reason NotArchived,
	// RestoreFailed, or ArchiveUnavailable while the archive cannot be
	// searched and the manager retries).
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// PaymentRestore asks the manager to bring an archived payment back into
// the cluster. The notification-receiver creates one in the operator's
// namespace when a verified notification names a payment or refund that is
// not in the cluster while an archive is configured: it holds no archive
// credentials itself. The manager searches the archives, restores the
// payment (an Observe import, its status re-observed by an inquiry; money
// never moves), records the outcome here, and deletes the request after
// its TTL. The name derives from the merchant and the ids, so re-sent
// notifications find the same request.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=prst,categories=cashier
// +kubebuilder:printcolumn:name="Notification",type=string,JSONPath=`.spec.notification`
// +kubebuilder:printcolumn:name="Object",type=string,JSONPath=`.spec.object.name`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Payment",type=string,JSONPath=`.status.payment`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type PaymentRestore struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec names the object the notification was about.
	// +required
	Spec PaymentRestoreSpec `json:"spec"`

	// Status is the outcome.
	// +optional
	Status PaymentRestoreStatus `json:"status,omitempty"`
}

// PaymentRestoreList is a list of PaymentRestores.
// +kubebuilder:object:root=true
type PaymentRestoreList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PaymentRestore `json:"items"`
}

// GetPhase returns the phase as a string.
func (r *PaymentRestore) GetPhase() string { return string(r.Status.Phase) }

// PaymentRestoreName is the name of the restore request for a spec: a
// digest of the merchant and of the object (or, without one, the gateway
// ids) it names, so every re-send of a notification, and every
// notification about the same object, asks once.
func PaymentRestoreName(s *PaymentRestoreSpec) string {
	key := []string{s.ClientID}
	if o := s.Object; o != nil {
		key = append(key, o.Kind, o.Namespace, o.Name)
	} else {
		key = append(key, "ids", s.PaymentID, s.PaymentRequestID, s.RefundRequestID)
	}
	sum := sha256.Sum256([]byte(strings.Join(key, "\x00")))
	return "restore-" + hex.EncodeToString(sum[:12])
}

func init() {
	SchemeBuilder.Register(&PaymentRestore{}, &PaymentRestoreList{})
}
