package transition

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// RegistrationFacts is what one gateway answer (inquiryRegistrationStatus,
// notifyRegistrationStatus) says about a registration request. Zero fields
// say nothing.
type RegistrationFacts struct {
	Source Source
	// RequestID is the registrationRequestId the facts are about.
	RequestID string
	// Status is the overall registrationStatus: PENDING, APPROVED or
	// REJECTED; "" when the answer carries none.
	Status string
	// RejectReasons is the overall reject reason.
	RejectReasons string
	// PSPs are the per-payment-method results.
	PSPs []gateway.PSPRegistrationResult
	// Result is the result envelope of the answer, if any.
	Result *gateway.Result
}

// FromInquiryRegistrationStatus is what an inquiry by request id answered.
func FromInquiryRegistrationStatus(id string, r *gateway.InquiryRegistrationStatusResponse) RegistrationFacts {
	f := RegistrationFacts{Source: SourceInquiry, RequestID: id, PSPs: r.PSPRegistrationResultList, Result: &r.Result}
	if rr := r.RegistrationResult; rr != nil {
		f.Status, f.RejectReasons = rr.RegistrationStatus, rr.RejectReasons
	}
	return f
}

// FromNotifyRegistrationStatus is what a notifyRegistrationStatus says.
func FromNotifyRegistrationStatus(n *gateway.NotifyRegistrationStatus) RegistrationFacts {
	f := RegistrationFacts{Source: SourceNotification, RequestID: n.RegistrationRequestID, PSPs: n.PSPRegistrationResultList}
	if rr := n.RegistrationResult; rr != nil {
		f.Status, f.RejectReasons = rr.RegistrationStatus, rr.RejectReasons
	}
	return f
}

// allowedRegistration lists the phases a registration request may move to:
// Submitting (the request id is recorded, the call may be unanswered) →
// Pending (accepted for review) → one final result, never changed again.
var allowedRegistration = map[string][]string{
	"":                        {v1.RegistrationSubmitting, v1.RegistrationPending, v1.RegistrationApproved, v1.RegistrationPartiallyApproved, v1.RegistrationRejected},
	v1.RegistrationSubmitting: {v1.RegistrationPending, v1.RegistrationApproved, v1.RegistrationPartiallyApproved, v1.RegistrationRejected},
	v1.RegistrationPending:    {v1.RegistrationApproved, v1.RegistrationPartiallyApproved, v1.RegistrationRejected},
}

// RegistrationFinal reports whether a registration phase is a final result.
func RegistrationFinal(phase string) bool {
	return phase == v1.RegistrationApproved || phase == v1.RegistrationPartiallyApproved || phase == v1.RegistrationRejected
}

// BeginRegistration makes id (derived from the registered details whose
// digest is digest) the current request, before its registration call is
// sent. A current request with another id becomes status.previous, with its
// result as it stands. Beginning the current request again changes nothing.
func BeginRegistration(m *v1.MerchantRegistration, id, digest string) Change {
	st := &m.Status
	from := st.Phase
	if st.RegistrationRequestID == id {
		return Change{From: from, To: from}
	}
	if st.RegistrationRequestID != "" {
		prev := st.RegistrationRecord
		st.Previous = &prev
	}
	st.RegistrationRecord = v1.RegistrationRecord{RegistrationRequestID: id, Phase: v1.RegistrationSubmitting,
		ObservedGeneration: m.Generation}
	st.Digest = digest
	summarize(st)
	return Change{Changed: true, From: from, To: v1.RegistrationSubmitting}
}

// summarize lists the current request's approved and rejected payment
// methods for kubectl get.
func summarize(st *v1.MerchantRegistrationStatus) {
	st.ApprovedMethods = methodsWith(st, v1.MethodApproved, "")
	st.RejectedMethods = methodsWith(st, v1.MethodRejected, "")
	st.Approved = ""
	if n := len(st.PaymentMethods); n > 0 {
		st.Approved = fmt.Sprintf("%d/%d", len(strings.FieldsFunc(st.ApprovedMethods, func(r rune) bool { return r == ',' })), n)
	}
}

// AcceptRegistration records the gateway accepting the current request for
// review (the registration call answered S, or an inquiry found it).
func AcceptRegistration(m *v1.MerchantRegistration, r gateway.Result, src Source, now time.Time) (Change, error) {
	return ApplyRegistration(m, RegistrationFacts{Source: src, RequestID: m.Status.RegistrationRequestID,
		Status: gateway.RegistrationPending, Result: &r}, now)
}

// RefuseRegistration records that the current request can never be
// registered (PARAM_ILLEGAL, or the operator's own check): Rejected with
// the reason and message, without a review.
func RefuseRegistration(m *v1.MerchantRegistration, reason, message string, now time.Time) (Change, error) {
	r := gateway.Result{ResultCode: reason, ResultStatus: gateway.StatusFail, ResultMessage: message}
	return ApplyRegistration(m, RegistrationFacts{Source: SourceController, RequestID: m.Status.RegistrationRequestID,
		Status: gateway.RegistrationRejected, RejectReasons: message, Result: &r}, now)
}

// ApplyRegistration applies facts to the request they name: the current
// one, or status.previous (a late notification of an earlier request).
// Facts naming neither are refused (ErrMismatch) and change nothing. A
// request only moves forward: a payment method's final result and the
// request's final phase are never changed, and facts arriving after them
// (a replayed notification, a stale inquiry) are ignored.
func ApplyRegistration(m *v1.MerchantRegistration, f RegistrationFacts, now time.Time) (Change, error) {
	st := &m.Status
	rec := &st.RegistrationRecord
	if f.RequestID == "" || (f.RequestID != rec.RegistrationRequestID) {
		if st.Previous == nil || f.RequestID != st.Previous.RegistrationRequestID {
			return Change{}, fmt.Errorf("%w: registrationRequestId %q is not the current request %q",
				ErrMismatch, f.RequestID, rec.RegistrationRequestID)
		}
		rec = st.Previous
	}
	before := rec.DeepCopy()
	from := rec.Phase
	if RegistrationFinal(from) {
		return Change{From: from, To: from, Ignored: "the registration request is already " + from}, nil
	}
	for _, p := range f.PSPs {
		applyMethod(rec, p)
	}
	to := registrationPhase(f, rec)
	if to != "" && canMove(allowedRegistration, from, to) {
		rec.Phase = to
	}
	if rec.Phase != v1.RegistrationSubmitting && rec.SubmittedAt == nil {
		rec.SubmittedAt = ptrTime(now)
	}
	if RegistrationFinal(rec.Phase) {
		rec.ReviewedAt = ptrTime(now)
		rec.RejectReasons = f.RejectReasons
	}
	if f.Result != nil {
		setResult(&rec.LastResult, *f.Result, f.Source, now)
	}
	summarize(st)
	return Change{Changed: !equalStatus(before, rec), From: from, To: rec.Phase}, nil
}

// applyMethod records one payment method's result, forward only.
func applyMethod(rec *v1.RegistrationRecord, p gateway.PSPRegistrationResult) {
	status := methodStatus(p.RegistrationResult.RegistrationStatus)
	if p.PSPName == "" || status == "" {
		return
	}
	for i := range rec.PaymentMethods {
		mr := &rec.PaymentMethods[i]
		if mr.PaymentMethod != p.PSPName {
			continue
		}
		if mr.Status == v1.MethodPending && status != v1.MethodPending {
			mr.Status, mr.RejectReasons = status, p.RegistrationResult.RejectReasons
		}
		return
	}
	rec.PaymentMethods = append(rec.PaymentMethods, v1.MethodRegistration{PaymentMethod: p.PSPName, Status: status,
		RejectReasons: p.RegistrationResult.RejectReasons})
	sort.Slice(rec.PaymentMethods, func(i, j int) bool { return rec.PaymentMethods[i].PaymentMethod < rec.PaymentMethods[j].PaymentMethod })
}

func methodStatus(s string) string {
	switch s {
	case gateway.RegistrationPending:
		return v1.MethodPending
	case gateway.RegistrationApproved:
		return v1.MethodApproved
	case gateway.RegistrationRejected:
		return v1.MethodRejected
	}
	return ""
}

// registrationPhase is the phase the facts and the per-method results say:
// PENDING is Pending; APPROVED is Approved, or PartiallyApproved when a
// payment method was rejected; REJECTED is Rejected. Without an overall
// status it is derived from the methods; "" when nothing is said.
func registrationPhase(f RegistrationFacts, rec *v1.RegistrationRecord) string {
	status := f.Status
	if status == "" && len(f.PSPs) > 0 {
		status = gateway.RegistrationRejected
		for _, mr := range rec.PaymentMethods {
			switch mr.Status {
			case v1.MethodPending:
				return v1.RegistrationPending
			case v1.MethodApproved:
				status = gateway.RegistrationApproved
			}
		}
	}
	switch status {
	case gateway.RegistrationPending:
		return v1.RegistrationPending
	case gateway.RegistrationApproved:
		for _, mr := range rec.PaymentMethods {
			if mr.Status == v1.MethodRejected {
				return v1.RegistrationPartiallyApproved
			}
		}
		return v1.RegistrationApproved
	case gateway.RegistrationRejected:
		return v1.RegistrationRejected
	}
	return ""
}

// RegistrationApproves reports whether the current request lets payments
// with the payment method go to the gateway, and if not, why: the method's
// own result when the gateway reviewed it, else (a method without a review
// of its own, e.g. CARD) the request's overall result.
func RegistrationApproves(m *v1.MerchantRegistration, method string) (bool, string) {
	st := &m.Status
	name := m.Namespace + "/" + m.Name
	if mr, ok := m.MethodStatus(method); ok {
		switch mr.Status {
		case v1.MethodApproved:
			return true, ""
		case v1.MethodRejected:
			return false, fmt.Sprintf("merchant %s (MerchantRegistration %s) was rejected for %s: %s",
				m.Spec.ReferenceMerchantID, name, method, orNone(mr.RejectReasons))
		}
		return false, fmt.Sprintf("merchant %s (MerchantRegistration %s) is under review for %s",
			m.Spec.ReferenceMerchantID, name, method)
	}
	switch st.Phase {
	case v1.RegistrationApproved, v1.RegistrationPartiallyApproved:
		return true, ""
	case v1.RegistrationRejected:
		return false, fmt.Sprintf("merchant %s (MerchantRegistration %s) was rejected: %s",
			m.Spec.ReferenceMerchantID, name, orNone(st.RejectReasons))
	case v1.RegistrationPending:
		return false, fmt.Sprintf("merchant %s (MerchantRegistration %s) is under review for %s",
			m.Spec.ReferenceMerchantID, name, method)
	}
	return false, fmt.Sprintf("merchant %s (MerchantRegistration %s) is not registered yet (phase %s)",
		m.Spec.ReferenceMerchantID, name, orNone(st.Phase))
}

func orNone(s string) string {
	if s == "" {
		return "none given"
	}
	return s
}

// SetRegistrationConditions derives Ready / Reconciling / Stalled from the
// current request's phase. Ready is True once the merchant is approved for
// at least one payment method.
func SetRegistrationConditions(m *v1.MerchantRegistration) {
	st := &m.Status
	gen := m.Generation
	c := &st.Conditions
	switch st.Phase {
	case "", v1.RegistrationSubmitting:
		condSet(c, gen, false, true, false, v1.ReasonCreating, "the registration is being sent to the gateway")
	case v1.RegistrationPending:
		condSet(c, gen, false, true, false, v1.ReasonUnderReview, "the gateway is reviewing the registration")
	case v1.RegistrationApproved:
		condSet(c, gen, true, false, false, v1.ReasonRegistrationApproved, "approved for "+methodsWith(st, v1.MethodApproved, "every payment method"))
	case v1.RegistrationPartiallyApproved:
		condSet(c, gen, true, false, false, v1.ReasonPartiallyApproved, fmt.Sprintf("approved for %s; rejected for %s",
			methodsWith(st, v1.MethodApproved, "none"), methodsWith(st, v1.MethodRejected, "none")))
	case v1.RegistrationRejected:
		reason := v1.ReasonRegistrationRejected
		if r := st.LastResult; r != nil && r.API == string(SourceController) {
			reason = r.Code
		}
		msg := "the gateway rejected the registration: " + orNone(st.RejectReasons)
		if r := st.LastResult; r != nil && r.Status == gateway.StatusFail {
			msg = resultMsg(r, "the registration was refused")
		}
		condSet(c, gen, false, false, true, reason, msg)
	}
	meta.RemoveStatusCondition(c, v1.ConditionBlocked)
}

// methodsWith lists the payment methods with the status, or none.
func methodsWith(st *v1.MerchantRegistrationStatus, status, none string) string {
	var out []string
	for _, mr := range st.PaymentMethods {
		if mr.Status == status {
			out = append(out, mr.PaymentMethod)
		}
	}
	if len(out) == 0 {
		return none
	}
	return strings.Join(out, ",")
}
