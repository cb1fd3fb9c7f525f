package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Annotations recorded at admission (config/admission): the apiserver's own
// userInfo of the request that created the object. Nobody sets or changes
// them by hand: a value other than the creator's own name is refused, and
// an update that changes or removes them is refused.
const (
	// RequesterAnnotation is the user name that created a Refund, Capture or
	// Payment.
	RequesterAnnotation = "payments.cashier-operator.io/requester"
	// CancelRequesterAnnotation is the user name that set a Payment's
	// spec.cancel to true (recorded by the update that set it).
	CancelRequesterAnnotation = "payments.cashier-operator.io/cancel-requester"
)

// MoneyPolicyName is the name of a namespace's MoneyPolicy: a namespace has
// at most one, so that every rule that applies to an object is in one place.
const MoneyPolicyName = "default"

// MoneyKind is what a rule governs.
// +kubebuilder:validation:Enum=Refund;Capture;Cancel
type MoneyKind string

const (
	// MoneyKindRefund governs Refunds: money back to the buyer.
	MoneyKindRefund MoneyKind = "Refund"
	// MoneyKindCapture governs Captures: money taken from an authorization.
	MoneyKindCapture MoneyKind = "Capture"
	// MoneyKindCancel governs spec.cancel of a Payment that may have been
	// paid: the gateway refunds a paid payment in full when it is cancelled,
	// so without a Cancel rule the Refund rule of the currency governs it.
	// Cancelling a payment nobody can have paid (not yet at the gateway, or
	// only authorized) moves no money and is not governed.
	MoneyKindCancel MoneyKind = "Cancel"
)

// BudgetWindow is the period a budget covers.
// +kubebuilder:validation:Enum=CalendarDay;Rolling24h
type BudgetWindow string

const (
	// BudgetCalendarDay: the UTC calendar day of the operator's clock; the
	// budget is whole again at 00:00 UTC.
	BudgetCalendarDay BudgetWindow = "CalendarDay"
	// BudgetRolling24h: the 24 hours before the operator's clock.
	BudgetRolling24h BudgetWindow = "Rolling24h"
)

// MoneyRule limits one kind of operation in one currency. Amounts are
// decimal strings in major units ("100.00"); one with more decimal places
// than the currency has makes the policy invalid, and an invalid policy
// blocks every operation it would govern (reason PolicyInvalid).
type MoneyRule struct {
	// Kind is the operation governed: Refund, Capture or Cancel (a paid
	// Payment's spec.cancel, which refunds it in full; the Refund rule
	// governs cancels where no Cancel rule is given).
	// +required
	Kind MoneyKind `json:"kind"`

	// Currency is the ISO 4217 code of the operations governed, e.g. "HKD".
	// Operations in a currency no rule names are not limited.
	// +kubebuilder:validation:Pattern=`^[A-Z]{3}$`
	// +required
	Currency string `json:"currency"`

	// MaxAmount is the largest single operation allowed; a larger one waits
	// (Blocked, LimitExceeded) and makes no gateway call.
	// +kubebuilder:validation:Pattern=`^[0-9]+(\.[0-9]+)?$`
	// +kubebuilder:validation:MaxLength=32
	// +optional
	MaxAmount string `json:"maxAmount,omitempty"`

	// ApprovalAbove is the amount above which a second person, one of
	// spec.approvers, must approve the operation (an Approval object) before
	// it is sent. "0" requires an approval for every operation.
	// +kubebuilder:validation:Pattern=`^[0-9]+(\.[0-9]+)?$`
	// +kubebuilder:validation:MaxLength=32
	// +optional
	ApprovalAbove string `json:"approvalAbove,omitempty"`

	// NamespaceBudget is the most all operations of the kind and currency
	// in the namespace may move in one budget window. Operations already
	// sent count (failed ones do not), including those retention archived;
	// of those not yet sent, the earlier (creationTimestamp, then name) gets
	// the budget first. One that does not fit waits (Blocked,
	// BudgetExhausted) until the window moves on.
	// +kubebuilder:validation:Pattern=`^[0-9]+(\.[0-9]+)?$`
	// +kubebuilder:validation:MaxLength=32
	// +optional
	NamespaceBudget string `json:"namespaceBudget,omitempty"`

	// RequesterBudget is like NamespaceBudget, per requester (the user name
	// recorded at admission).
	// +kubebuilder:validation:Pattern=`^[0-9]+(\.[0-9]+)?$`
	// +kubebuilder:validation:MaxLength=32
	// +optional
	RequesterBudget string `json:"requesterBudget,omitempty"`
}

// Subjects names users and groups, as the apiserver authenticates them
// (e.g. "alice", "system:serviceaccount:argocd:argocd-application-controller",
// group "payments-leads").
type Subjects struct {
	// Users are user names.
	// +listType=set
	// +optional
	Users []string `json:"users,omitempty"`

	// Groups are group names; a member of any of them matches.
	// +listType=set
	// +optional
	Groups []string `json:"groups,omitempty"`
}

// TrustedAppliers are identities, typically a GitOps controller's
// ServiceAccount, whose objects come from a reviewed repository.
type TrustedAppliers struct {
	// Users are the appliers' user names.
	// +listType=set
	// +optional
	Users []string `json:"users,omitempty"`

	// CountsAsApproval, when true, makes an operation a trusted applier
	// created need no Approval: the review of the change in git was the
	// second person. Limits and budgets still apply. When false, a trusted
	// applier's operations above the threshold need an Approval like
	// anyone's.
	// +optional
	CountsAsApproval bool `json:"countsAsApproval,omitempty"`
}

// MoneyPolicySpec says who may move how much money in the namespace.
type MoneyPolicySpec struct {
	// Rules limit operations per kind and currency.
	// +kubebuilder:validation:MaxItems=64
	// +listType=atomic
	// +optional
	Rules []MoneyRule `json:"rules,omitempty"`

	// BudgetWindow is the period the budgets cover: CalendarDay (UTC, the
	// default) or Rolling24h.
	// +kubebuilder:default=CalendarDay
	// +optional
	BudgetWindow BudgetWindow `json:"budgetWindow,omitempty"`

	// Approvers may approve operations above a rule's approvalAbove. Nobody
	// approves their own request.
	// +optional
	Approvers Subjects `json:"approvers,omitempty"`

	// TrustedAppliers are the GitOps identities and whether their objects
	// count as approved.
	// +optional
	TrustedAppliers TrustedAppliers `json:"trustedAppliers,omitempty"`
}

// MoneyPolicy says who may move money in its namespace, and how much: per
// kind and currency a maximum single amount, budgets per namespace and per
// requester, and an approval threshold above which one of its approvers,
// never the requester, must approve (an Approval object). A namespace
// without one moves money as RBAC allows. It is read before any gateway
// call: an operation it holds back makes none.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=mp,categories=cashier
// +kubebuilder:validation:XValidation:rule="self.metadata.name == 'default'",message="a namespace has one MoneyPolicy, named default"
// +kubebuilder:printcolumn:name="Rules",type=integer,JSONPath=`.spec.rules.length()`,priority=1
// +kubebuilder:printcolumn:name="Window",type=string,JSONPath=`.spec.budgetWindow`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type MoneyPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the policy.
	// +required
	Spec MoneyPolicySpec `json:"spec"`
}

// MoneyPolicyList is a list of MoneyPolicies.
// +kubebuilder:object:root=true
type MoneyPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MoneyPolicy `json:"items"`
}

// ApprovalTarget names the operation approved.
type ApprovalTarget struct {
	// Kind is Refund, Capture or Cancel (the cancel of the Payment Name).
	// +required
	Kind MoneyKind `json:"kind"`

	// Name is the operation's name in this namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
}

// ApprovalSpec is one person's approval of one operation. Immutable.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="an Approval is immutable: delete it and approve again"
type ApprovalSpec struct {
	// TargetRef names the operation approved.
	// +required
	TargetRef ApprovalTarget `json:"targetRef"`

	// Amount is the amount approved: the approval counts only for an
	// operation of exactly this amount, so a re-created object with another
	// amount under the same name is not approved by it.
	// +required
	Amount Money `json:"amount"`

	// PaymentRef names the payment the approved operation applies to; the
	// approval counts only for an operation on that payment.
	// +required
	PaymentRef LocalObjectReference `json:"paymentRef"`

	// Requester is whose request is approved: the operation's requester as
	// recorded at admission (`kubectl cashier approve` fills it in). It must
	// match the operation's, and nobody approves their own request.
	// +kubebuilder:validation:MinLength=1
	// +required
	Requester string `json:"requester"`

	// Approver is who approves: recorded at admission from the apiserver's
	// userInfo; any other value is refused.
	// +optional
	Approver string `json:"approver,omitempty"`

	// ApproverGroups are the approver's groups at admission, recorded with
	// the approver.
	// +listType=atomic
	// +optional
	ApproverGroups []string `json:"approverGroups,omitempty"`

	// Comment says why, for the audit trail.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Comment string `json:"comment,omitempty"`
}

// Approval is one approver's consent to one Refund or Capture that its
// namespace's MoneyPolicy holds for approval. Admission records who approved
// (the apiserver's userInfo) and refuses an approval by anyone who is not an
// approver of the policy, of one's own request, or a change to an approval.
// Its creationTimestamp is the time of approval. It outlives the operation:
// the same manifest deleted and applied again from git stays approved.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=appr,categories=cashier
// +kubebuilder:printcolumn:name="Kind",type=string,JSONPath=`.spec.targetRef.kind`
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=`.spec.targetRef.name`
// +kubebuilder:printcolumn:name="Amount",type=string,JSONPath=`.spec.amount.value`
// +kubebuilder:printcolumn:name="Requester",type=string,JSONPath=`.spec.requester`
// +kubebuilder:printcolumn:name="Approver",type=string,JSONPath=`.spec.approver`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Approval struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the approval.
	// +required
	Spec ApprovalSpec `json:"spec"`
}

// ApprovalList is a list of Approvals.
// +kubebuilder:object:root=true
type ApprovalList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Approval `json:"items"`
}

// Audit says who asked for an operation, under which policy, and who
// approved it: the audit trail kept with the object and its archive rows.
type Audit struct {
	// Requester is the user name that created the object, recorded at
	// admission.
	// +optional
	Requester string `json:"requester,omitempty"`

	// Policy is the MoneyPolicy that governed the operation ("" when none
	// did).
	// +optional
	Policy string `json:"policy,omitempty"`

	// Approver is who approved it: an approver's user name, or the trusted
	// applier's when the policy counts its objects as approved.
	// +optional
	Approver string `json:"approver,omitempty"`

	// ApprovedAt is when it was approved (the Approval's creation).
	// +optional
	ApprovedAt *metav1.Time `json:"approvedAt,omitempty"`

	// Approval names the Approval object; empty for a trusted applier's.
	// +optional
	Approval string `json:"approval,omitempty"`
}

func init() {
	SchemeBuilder.Register(&MoneyPolicy{}, &MoneyPolicyList{}, &Approval{}, &ApprovalList{})
}
