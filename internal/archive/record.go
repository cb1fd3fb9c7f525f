package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// Kinds archived.
const (
	KindPayment     = "Payment"
	KindCapture     = "Capture"
	KindRefund      = "Refund"
	KindDeclaration = "CustomsDeclaration"
)

// Record is one archived object.
type Record struct {
	MerchantClientID string
	Kind             string
	// Identity is the object's request id at the gateway, or uid:<UID>
	// for an object that never had one.
	Identity    string
	Namespace   string
	Name        string
	UID         string
	PaymentName string
	RequestID   string
	PaymentID   string
	GatewayID   string
	Currency    string
	// Amount, Captured and Refunded are decimal strings in major units
	// (Captured and Refunded only for payments; "" is NULL).
	Amount, Captured, Refunded string
	Phase                      string
	CreatedAt                  time.Time
	FinalAt                    *time.Time
	// ArchivedAt is set by the database when the row was (last) written.
	ArchivedAt time.Time
	// Revision orders states of one identity: the resourceVersion when it
	// is numeric (etcd's revision), else 0.
	Revision int64
	// Audit is the operation's audit trail (requester, approver, policy);
	// zero for payments and ungoverned operations.
	Audit Audit
	// SubmittedAt is when an operation was first sent to the gateway.
	SubmittedAt *time.Time
	// Object is the whole object as JSON (apiVersion, kind, metadata
	// without managedFields, spec, status).
	Object json.RawMessage
}

func (r *Record) validate() error {
	switch {
	case r.MerchantClientID == "":
		return errors.New("archive: record without merchant client id")
	case r.Kind == "" || r.Namespace == "" || r.Name == "" || r.Identity == "":
		return fmt.Errorf("archive: record %s %s/%s lacks kind, name or identity", r.Kind, r.Namespace, r.Name)
	case r.Currency == "" || r.Amount == "":
		return fmt.Errorf("archive: record %s %s/%s lacks its amount", r.Kind, r.Namespace, r.Name)
	case len(r.Object) == 0:
		return fmt.Errorf("archive: record %s %s/%s lacks the object", r.Kind, r.Namespace, r.Name)
	}
	return nil
}

// Decode unmarshals the archived object into obj.
func (r *Record) Decode(obj client.Object) error {
	if err := json.Unmarshal(r.Object, obj); err != nil {
		return fmt.Errorf("archive: decode %s %s/%s: %w", r.Kind, r.Namespace, r.Name, err)
	}
	return nil
}

// objectJSON renders an object for the archive: managedFields are dropped
// (bookkeeping of the cluster, most of a stored object's bytes).
func objectJSON(obj client.Object, kind string) (json.RawMessage, error) {
	c := obj.DeepCopyObject().(client.Object)
	c.SetManagedFields(nil)
	c.GetObjectKind().SetGroupVersionKind(v1.GroupVersion.WithKind(kind))
	return json.Marshal(c)
}

func revision(obj client.Object) int64 {
	n, err := strconv.ParseInt(obj.GetResourceVersion(), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

func identity(requestID string, obj client.Object) string {
	if requestID != "" {
		return requestID
	}
	return "uid:" + string(obj.GetUID())
}

func timePtr(t *metav1.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Audit is who asked for an operation and who approved it.
type Audit struct {
	// Requester is the user that created it (recorded at admission).
	Requester string
	// Approver approved it (an approver, or a trusted applier) at ApprovedAt.
	Approver   string
	ApprovedAt *time.Time
	// Policy is the MoneyPolicy (namespace/name) that governed it.
	Policy string
}

// auditOf is the archived audit of an operation's status, falling back to
// the admission-recorded requester when no policy decided it yet.
func auditOf(obj client.Object, st *v1.OperationStatus) Audit {
	a := Audit{Requester: obj.GetAnnotations()[v1.RequesterAnnotation]}
	if au := st.Audit; au != nil {
		if au.Requester != "" {
			a.Requester = au.Requester
		}
		a.Approver, a.ApprovedAt, a.Policy = au.Approver, timePtr(au.ApprovedAt), au.Policy
	}
	return a
}

// FromPayment is the record of a payment of merchant clientID.
func FromPayment(p *v1.Payment, clientID string) (Record, error) {
	obj, err := objectJSON(p, KindPayment)
	if err != nil {
		return Record{}, err
	}
	st := p.Status
	r := Record{MerchantClientID: clientID, Kind: KindPayment, Identity: identity(st.PaymentRequestID, p),
		Namespace: p.Namespace, Name: p.Name, UID: string(p.UID), PaymentName: p.Name,
		RequestID: st.PaymentRequestID, PaymentID: st.PaymentID, GatewayID: st.PaymentID,
		Currency: p.Spec.Amount.Currency, Amount: p.Spec.Amount.Value, Phase: string(st.Phase),
		CreatedAt: p.CreationTimestamp.UTC(), FinalAt: timePtr(st.PaymentTime), Revision: revision(p), Object: obj}
	if r.FinalAt == nil {
		r.FinalAt = timePtr(st.CancelTime)
	}
	if a := st.Amounts.Captured; a != nil {
		r.Captured = a.Value
	}
	if a := st.Amounts.Refunded; a != nil {
		r.Refunded = a.Value
	}
	return r, nil
}

// FromOperation is the record of a Capture, Refund or CustomsDeclaration.
func FromOperation(obj client.Object, clientID string) (Record, error) {
	var kind, payment string
	var amount v1.Money
	var st *v1.OperationStatus
	switch o := obj.(type) {
	case *v1.Capture:
		kind, payment, amount, st = KindCapture, o.Spec.PaymentRef.Name, o.Spec.Amount, &o.Status
	case *v1.Refund:
		kind, payment, amount, st = KindRefund, o.Spec.PaymentRef.Name, o.Spec.Amount, &o.Status
	case *v1.CustomsDeclaration:
		kind, payment, amount, st = KindDeclaration, o.Spec.PaymentRef.Name, o.Spec.Amount, &o.Status.OperationStatus
	default:
		return Record{}, fmt.Errorf("archive: %T is not an operation", obj)
	}
	js, err := objectJSON(obj, kind)
	if err != nil {
		return Record{}, err
	}
	return Record{MerchantClientID: clientID, Kind: kind, Identity: identity(st.RequestID, obj),
		Namespace: obj.GetNamespace(), Name: obj.GetName(), UID: string(obj.GetUID()), PaymentName: payment,
		RequestID: st.RequestID, PaymentID: st.PaymentID, GatewayID: st.GatewayID,
		Currency: amount.Currency, Amount: amount.Value, Phase: string(st.Phase),
		CreatedAt: obj.GetCreationTimestamp().UTC(), FinalAt: timePtr(st.CompletionTime), Revision: revision(obj), Object: js,
		Audit: auditOf(obj, st), SubmittedAt: timePtr(st.SubmitTime)}, nil
}
