package v1alpha1

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DisputePhase is where a chargeback stands. It only moves forward: Open,
// then Defended or one of the final phases.
// +kubebuilder:validation:Enum=Open;Defended;Accepted;Won;Lost;Cancelled;Expired
type DisputePhase string

const (
	// DisputePhaseOpen: the chargeback is unanswered; funds are frozen and
	// refunds wait.
	DisputePhaseOpen DisputePhase = "Open"
	// DisputePhaseDefended: a defense document was supplied; waiting for the judgement.
	DisputePhaseDefended DisputePhase = "Defended"
	// DisputePhaseAccepted: the merchant accepted the chargeback; the amount
	// was charged back. Final.
	DisputePhaseAccepted DisputePhase = "Accepted"
	// DisputePhaseWon: judged ACCEPT_BY_CUSTOMER; the funds were released. Final.
	DisputePhaseWon DisputePhase = "Won"
	// DisputePhaseLost: judged ACCEPT_BY_MERCHANT; the amount was charged back. Final.
	DisputePhaseLost DisputePhase = "Lost"
	// DisputePhaseCancelled: the buyer withdrew the chargeback. Final.
	DisputePhaseCancelled DisputePhase = "Cancelled"
	// DisputePhaseExpired: the defense deadline passed with no answer; the
	// gateway accepted the chargeback by timeout and charged the amount back. Final.
	DisputePhaseExpired DisputePhase = "Expired"
)

// IsFinal reports whether the dispute has ended.
func (p DisputePhase) IsFinal() bool {
	return p != "" && p != DisputePhaseOpen && p != DisputePhaseDefended
}

// Blocks reports whether refunds of the payment must wait (unjudged).
func (p DisputePhase) Blocks() bool { return p == DisputePhaseOpen || p == DisputePhaseDefended }

// ChargesBack reports whether the phase means the merchant lost the amount.
func (p DisputePhase) ChargesBack() bool {
	return p == DisputePhaseAccepted || p == DisputePhaseLost || p == DisputePhaseExpired
}

// DisputeSpec names the chargeback. The operator fills it when it learns of
// the chargeback; it never changes.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a Dispute's spec is immutable"
type DisputeSpec struct {
	// PaymentRef names the disputed Payment in this namespace (also the
	// Dispute's owner).
	// +required
	PaymentRef LocalObjectReference `json:"paymentRef"`

	// DisputeID is the gateway's dispute id: the key of every answer to it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +required
	DisputeID string `json:"disputeId"`
}

// DisputeStatus is what the gateway said about the chargeback.
type DisputeStatus struct {
	// Phase: Open, Defended, Accepted, Won, Lost, Cancelled or Expired. It
	// never moves backwards.
	// +optional
	Phase DisputePhase `json:"phase,omitempty"`

	// PaymentID is the gateway's id of the disputed payment.
	// +optional
	PaymentID string `json:"paymentId,omitempty"`

	// Type: CHARGEBACK, RETRIEVAL_REQUEST or COMPLIANCE_REQUEST.
	// +optional
	Type string `json:"type,omitempty"`

	// Amount in dispute (frozen while the dispute is unjudged).
	// +optional
	Amount *Money `json:"amount,omitempty"`

	// ReasonCode is the card scheme's or wallet's reason code.
	// +optional
	ReasonCode string `json:"reasonCode,omitempty"`

	// ReasonMessage explains the reason code.
	// +optional
	ReasonMessage string `json:"reasonMessage,omitempty"`

	// Source is who handles the dispute (card scheme or wallet).
	// +optional
	Source string `json:"source,omitempty"`

	// Defendable is false when the gateway says the dispute cannot be defended.
	// +optional
	Defendable *bool `json:"defendable,omitempty"`

	// OpenedTime is when the buyer opened the dispute.
	// +optional
	OpenedTime *metav1.Time `json:"openedTime,omitempty"`

	// DefenseDueTime is the deadline for an answer (accept or defend). After
	// it the gateway accepts the chargeback by timeout.
	// +optional
	DefenseDueTime *metav1.Time `json:"defenseDueTime,omitempty"`

	// DefenseDueAlertTime is when the gateway warned that the deadline is near
	// (DEFENSE_DUE_ALERT).
	// +optional
	DefenseDueAlertTime *metav1.Time `json:"defenseDueAlertTime,omitempty"`

	// Response names the DisputeResponse that answered (or is answering) the
	// dispute. Only one ever does.
	// +optional
	Response string `json:"response,omitempty"`

	// ResolutionTime is when the merchant's answer was taken by the gateway.
	// +optional
	ResolutionTime *metav1.Time `json:"resolutionTime,omitempty"`

	// AcceptReason is why the chargeback was accepted: MERCHANT_ACCEPTED,
	// TIMEOUT or MANUAL_PROCESSING_ACCEPTED.
	// +optional
	AcceptReason string `json:"acceptReason,omitempty"`

	// AcceptTime is when it was accepted.
	// +optional
	AcceptTime *metav1.Time `json:"acceptTime,omitempty"`

	// JudgedResult: ACCEPT_BY_CUSTOMER (won: funds released) or
	// ACCEPT_BY_MERCHANT (lost: amount charged back).
	// +optional
	JudgedResult string `json:"judgedResult,omitempty"`

	// JudgedAmount is the amount the judgement concerns.
	// +optional
	JudgedAmount *Money `json:"judgedAmount,omitempty"`

	// JudgedTime is when the dispute was judged.
	// +optional
	JudgedTime *metav1.Time `json:"judgedTime,omitempty"`

	// ChargedBack is what the dispute took from the merchant (Accepted, Lost
	// or Expired); set once.
	// +optional
	ChargedBack *Money `json:"chargedBack,omitempty"`

	// EvidenceTemplate names the ConfigMap (in this namespace) holding the
	// gateway's prefilled defense template (key template.pdf, binaryData).
	// +optional
	EvidenceTemplate string `json:"evidenceTemplate,omitempty"`

	// SuppliedEvidence names the ConfigMap holding the defense document as the
	// gateway has it, read back after the defense (key evidence.<format>).
	// +optional
	SuppliedEvidence string `json:"suppliedEvidence,omitempty"`

	// LastNotification is the last disputeNotificationType applied.
	// +optional
	LastNotification string `json:"lastNotification,omitempty"`

	// Conditions: Ready (final), DefenseDue (an answer is due within the
	// operator's alert window and none exists).
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Dispute is a chargeback on a Payment. The operator creates it when it
// learns of the chargeback (notifyDispute, or the Payment's status) and keeps
// its status in step with the gateway; people answer it with a
// DisputeResponse before status.defenseDueTime.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=dsp,categories=cashier
// +kubebuilder:printcolumn:name="Payment",type=string,JSONPath=`.spec.paymentRef.name`
// +kubebuilder:printcolumn:name="Amount",type=string,JSONPath=`.status.amount.value`
// +kubebuilder:printcolumn:name="Currency",type=string,JSONPath=`.status.amount.currency`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.reasonCode`
// +kubebuilder:printcolumn:name="Defense Due",type=string,JSONPath=`.status.defenseDueTime`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Reason Message",type=string,priority=1,JSONPath=`.status.reasonMessage`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Dispute struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec names the chargeback.
	// +required
	Spec DisputeSpec `json:"spec"`

	// Status is what the gateway says.
	// +optional
	Status DisputeStatus `json:"status,omitempty"`
}

// DisputeList is a list of Disputes.
// +kubebuilder:object:root=true
type DisputeList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Dispute `json:"items"`
}

// GetPhase returns the phase as a string.
func (d *Dispute) GetPhase() string { return string(d.Status.Phase) }

// Labels on Disputes, for selection.
const (
	// LabelPayment holds the disputed Payment's name.
	LabelPayment = "payments.cashier-operator.io/payment"
	// LabelDisputeID holds the gateway's dispute id.
	LabelDisputeID = "payments.cashier-operator.io/dispute-id"
)

// DisputeName is the name of the Dispute for a payment and a gateway
// dispute id: "<payment>-dispute-<id>", the payment part shortened and a
// digest added when the whole would exceed 253 characters. Everyone who
// creates Disputes (receiver, controllers) names them with it, so a
// chargeback is one object however it was learnt.
func DisputeName(payment, disputeID string) string {
	id := strings.ToLower(disputeID)
	name := payment + "-dispute-" + id
	if len(name) <= 253 {
		return name
	}
	sum := sha256.Sum256([]byte(payment))
	keep := 253 - len("-dispute-"+id) - 9
	return strings.TrimRight(payment[:keep], "-.") + "-" + hex.EncodeToString(sum[:4]) + "-dispute-" + id
}

// DisputeAction is how a DisputeResponse answers.
// +kubebuilder:validation:Enum=Accept;Defend
type DisputeAction string

const (
	// DisputeAccept accepts the chargeback: the amount is charged back.
	DisputeAccept DisputeAction = "Accept"
	// DisputeDefend supplies a defense document.
	DisputeDefend DisputeAction = "Defend"
)

// EvidenceSource is a document in a Secret or a ConfigMap of the namespace.
// +kubebuilder:validation:XValidation:rule="has(self.secretRef) != has(self.configMapRef)",message="set exactly one of secretRef and configMapRef"
type EvidenceSource struct {
	// SecretRef names a Secret holding the document.
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`

	// ConfigMapRef names a ConfigMap holding the document (binaryData or data).
	// +optional
	ConfigMapRef *LocalObjectReference `json:"configMapRef,omitempty"`

	// Key of the document in the Secret or ConfigMap. The document must be a
	// PDF, Word, ZIP or JPG file of at most 750,000 bytes (the gateway takes
	// 1,000,000 Base64 characters).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Key string `json:"key"`
}

// DisputeResponseSpec is the answer to a chargeback. Immutable.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a DisputeResponse is immutable"
// +kubebuilder:validation:XValidation:rule="self.action == 'Defend' ? has(self.evidence) : !has(self.evidence)",message="evidence is required to Defend and not allowed to Accept"
type DisputeResponseSpec struct {
	// DisputeRef names the Dispute in this namespace.
	// +required
	DisputeRef LocalObjectReference `json:"disputeRef"`

	// Action: Accept (the merchant takes the liability: the amount is charged
	// back) or Defend (with evidence).
	// +required
	Action DisputeAction `json:"action"`

	// Evidence is the defense document (Defend only). It is sent once; the
	// gateway does not take another.
	// +optional
	Evidence *EvidenceSource `json:"evidence,omitempty"`
}

// DisputeResponseStatus is what happened to the answer.
type DisputeResponseStatus struct {
	// Phase: Pending (not yet taken), Succeeded (the gateway took it) or
	// Failed (refused: deadline passed, dispute already answered or closed,
	// bad evidence). It never moves backwards.
	// +optional
	Phase OperationPhase `json:"phase,omitempty"`

	// DisputeID is the gateway dispute answered.
	// +optional
	DisputeID string `json:"disputeId,omitempty"`

	// SubmitTime is when the answer was first sent.
	// +optional
	SubmitTime *metav1.Time `json:"submitTime,omitempty"`

	// ResolutionTime is when the gateway took the answer (disputeResolutionTime).
	// +optional
	ResolutionTime *metav1.Time `json:"resolutionTime,omitempty"`

	// EvidenceSHA256 is the digest of the document sent (Defend).
	// +optional
	EvidenceSHA256 string `json:"evidenceSHA256,omitempty"`

	// LastResult is the gateway's last answer.
	// +optional
	LastResult *GatewayResult `json:"lastResult,omitempty"`

	// Conditions: Ready and Synced; Reconciling and Stalled (kstatus) only
	// while True, their absence meaning False.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// DisputeResponse answers a Dispute from git: accept it, or defend it with
// a document from a Secret or ConfigMap. The operator sends it to the
// gateway exactly once, refuses it after the defense deadline, and never lets
// a second response answer a dispute already answered.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=dspr,categories=cashier
// +kubebuilder:printcolumn:name="Dispute",type=string,JSONPath=`.spec.disputeRef.name`
// +kubebuilder:printcolumn:name="Action",type=string,JSONPath=`.spec.action`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type DisputeResponse struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the answer.
	// +required
	Spec DisputeResponseSpec `json:"spec"`

	// Status is what the gateway did with it.
	// +optional
	Status DisputeResponseStatus `json:"status,omitempty"`
}

// DisputeResponseList is a list of DisputeResponses.
// +kubebuilder:object:root=true
type DisputeResponseList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DisputeResponse `json:"items"`
}

// GetPhase returns the phase as a string.
func (r *DisputeResponse) GetPhase() string { return string(r.Status.Phase) }

func init() {
	SchemeBuilder.Register(&Dispute{}, &DisputeList{}, &DisputeResponse{}, &DisputeResponseList{})
}

// NewDisputeFor is the Dispute object for a chargeback on p: named with
// DisputeName, labelled, and owned by p (deleting the Payment deletes it).
func NewDisputeFor(p *Payment, disputeID string) *Dispute {
	yes := true
	return &Dispute{
		ObjectMeta: metav1.ObjectMeta{
			Name: DisputeName(p.Name, disputeID), Namespace: p.Namespace,
			Labels: map[string]string{LabelPayment: labelValue(p.Name), LabelDisputeID: labelValue(disputeID)},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: GroupVersion.String(), Kind: "Payment",
				Name: p.Name, UID: p.UID, Controller: &yes}},
		},
		Spec: DisputeSpec{PaymentRef: LocalObjectReference{Name: p.Name}, DisputeID: disputeID},
	}
}

// labelValue fits a name into a label value (63 characters): longer names
// are cut and given a digest, so selection by label stays exact enough to
// be confirmed against spec.paymentRef.
func labelValue(s string) string {
	if len(s) <= 63 {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return strings.TrimRight(s[:54], "-_.") + "-" + hex.EncodeToString(sum[:4])
}

// PaymentLabelValue is the LabelPayment value of a payment's Disputes.
func PaymentLabelValue(payment string) string { return labelValue(payment) }
