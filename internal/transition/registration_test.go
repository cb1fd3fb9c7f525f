package transition

import (
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

func psp(name, status, why string) gateway.PSPRegistrationResult {
	return gateway.PSPRegistrationResult{PSPName: name, RegistrationResult: gateway.RegistrationResult{RegistrationStatus: status, RejectReasons: why}}
}

// TestApplyRegistration: a request moves Submitting → Pending → one final
// result; per-method results are recorded and only move forward; facts
// after the final result change nothing.
func TestApplyRegistration(t *testing.T) {
	P, A, R := gateway.RegistrationPending, gateway.RegistrationApproved, gateway.RegistrationRejected
	for _, tc := range []struct {
		name    string
		facts   []RegistrationFacts
		phase   string
		methods map[string]string
		ready   bool
		reason  string
	}{
		{"accepted", []RegistrationFacts{{Status: P, PSPs: []gateway.PSPRegistrationResult{psp("GCASH", P, ""), psp("ALIPAY_CN", P, "")}}},
			v1.RegistrationPending, map[string]string{"GCASH": v1.MethodPending, "ALIPAY_CN": v1.MethodPending}, false, v1.ReasonUnderReview},
		{"approved", []RegistrationFacts{{Status: P}, {Status: A, PSPs: []gateway.PSPRegistrationResult{psp("GCASH", A, ""), psp("ALIPAY_CN", A, "")}}},
			v1.RegistrationApproved, map[string]string{"GCASH": v1.MethodApproved, "ALIPAY_CN": v1.MethodApproved}, true, v1.ReasonRegistrationApproved},
		{"partially", []RegistrationFacts{{Status: A, PSPs: []gateway.PSPRegistrationResult{psp("GCASH", R, "bad licence"), psp("ALIPAY_CN", A, "")}}},
			v1.RegistrationPartiallyApproved, map[string]string{"GCASH": v1.MethodRejected, "ALIPAY_CN": v1.MethodApproved}, true, v1.ReasonPartiallyApproved},
		{"rejected", []RegistrationFacts{{Status: R, RejectReasons: "unknown merchant", PSPs: []gateway.PSPRegistrationResult{psp("GCASH", R, "x")}}},
			v1.RegistrationRejected, map[string]string{"GCASH": v1.MethodRejected}, false, v1.ReasonRegistrationRejected},
		{"derived from methods", []RegistrationFacts{{PSPs: []gateway.PSPRegistrationResult{psp("GCASH", A, ""), psp("KAKAOPAY", P, "")}}},
			v1.RegistrationPending, map[string]string{"GCASH": v1.MethodApproved, "KAKAOPAY": v1.MethodPending}, false, v1.ReasonUnderReview},
		{"final never changes", []RegistrationFacts{
			{Status: A, PSPs: []gateway.PSPRegistrationResult{psp("GCASH", A, "")}},
			{Status: R, PSPs: []gateway.PSPRegistrationResult{psp("GCASH", R, "late")}}},
			v1.RegistrationApproved, map[string]string{"GCASH": v1.MethodApproved}, true, v1.ReasonRegistrationApproved},
		{"method result forward only", []RegistrationFacts{
			{Status: P, PSPs: []gateway.PSPRegistrationResult{psp("GCASH", A, ""), psp("KAKAOPAY", P, "")}},
			{Status: P, PSPs: []gateway.PSPRegistrationResult{psp("GCASH", P, ""), psp("KAKAOPAY", P, "")}}},
			v1.RegistrationPending, map[string]string{"GCASH": v1.MethodApproved, "KAKAOPAY": v1.MethodPending}, false, v1.ReasonUnderReview},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &v1.MerchantRegistration{}
			m.Spec.ReferenceMerchantID = "shop-1"
			BeginRegistration(m, "reg1", "d1")
			now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
			for _, f := range tc.facts {
				f.Source, f.RequestID = SourceInquiry, "reg1"
				if _, err := ApplyRegistration(m, f, now); err != nil {
					t.Fatal(err)
				}
			}
			if m.Status.Phase != tc.phase {
				t.Fatalf("phase %q, want %q", m.Status.Phase, tc.phase)
			}
			got := map[string]string{}
			for _, mr := range m.Status.PaymentMethods {
				got[mr.PaymentMethod] = mr.Status
			}
			if len(got) != len(tc.methods) {
				t.Fatalf("methods %v, want %v", got, tc.methods)
			}
			for k, v := range tc.methods {
				if got[k] != v {
					t.Fatalf("methods %v, want %v", got, tc.methods)
				}
			}
			SetRegistrationConditions(m)
			c := meta.FindStatusCondition(m.Status.Conditions, v1.ConditionReady)
			if c == nil || (c.Status == "True") != tc.ready || c.Reason != tc.reason {
				t.Fatalf("Ready %+v, want ready=%v reason %s", c, tc.ready, tc.reason)
			}
			if RegistrationFinal(m.Status.Phase) && m.Status.ReviewedAt == nil {
				t.Fatal("final without reviewedAt")
			}
		})
	}
}

// TestBeginRegistrationKeepsPrevious: a new request keeps the old one's
// result in status.previous; facts of the previous request still land
// there (a late notification), facts of neither are refused; beginning the
// same request again changes nothing.
func TestBeginRegistrationKeepsPrevious(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	m := &v1.MerchantRegistration{}
	BeginRegistration(m, "reg1", "d1")
	if _, err := ApplyRegistration(m, RegistrationFacts{Source: SourceInquiry, RequestID: "reg1", Status: gateway.RegistrationPending,
		PSPs: []gateway.PSPRegistrationResult{psp("GCASH", gateway.RegistrationPending, "")}}, now); err != nil {
		t.Fatal(err)
	}
	if c := BeginRegistration(m, "reg1", "d1"); c.Changed {
		t.Fatal("beginning the current request again changed the status")
	}
	m.Generation = 2
	BeginRegistration(m, "reg2", "d2")
	if m.Status.Previous == nil || m.Status.Previous.RegistrationRequestID != "reg1" || m.Status.RegistrationRequestID != "reg2" ||
		m.Status.Phase != v1.RegistrationSubmitting || m.Status.Digest != "d2" || m.Status.ObservedGeneration != 2 {
		t.Fatalf("status after re-registration: %+v", m.Status)
	}
	if _, err := ApplyRegistration(m, RegistrationFacts{Source: SourceNotification, RequestID: "reg1", Status: gateway.RegistrationRejected,
		PSPs: []gateway.PSPRegistrationResult{psp("GCASH", gateway.RegistrationRejected, "blurred licence")}}, now); err != nil {
		t.Fatal(err)
	}
	if m.Status.Previous.Phase != v1.RegistrationRejected || m.Status.Phase != v1.RegistrationSubmitting {
		t.Fatalf("late notification of the previous request: previous %s, current %s", m.Status.Previous.Phase, m.Status.Phase)
	}
	before := m.Status.DeepCopy()
	_, err := ApplyRegistration(m, RegistrationFacts{Source: SourceNotification, RequestID: "forged", Status: gateway.RegistrationApproved}, now)
	if !errors.Is(err, ErrMismatch) {
		t.Fatalf("facts of an unknown request: %v, want ErrMismatch", err)
	}
	if !equalStatus(before, &m.Status) {
		t.Fatal("refused facts changed the status")
	}
}

// TestRegistrationApproves: a method with a review of its own follows it;
// a method without one (CARD) follows the request's overall result.
func TestRegistrationApproves(t *testing.T) {
	m := &v1.MerchantRegistration{}
	m.Namespace, m.Name, m.Spec.ReferenceMerchantID = "shop", "acme", "acme-1"
	BeginRegistration(m, "reg1", "d1")
	now := time.Now()
	for _, tc := range []struct {
		name   string
		facts  *RegistrationFacts
		method string
		ok     bool
		msg    string
	}{
		{"not yet sent", nil, "GCASH", false, "not registered yet (phase Submitting)"},
		{"under review", &RegistrationFacts{Status: gateway.RegistrationPending, PSPs: []gateway.PSPRegistrationResult{
			psp("GCASH", gateway.RegistrationPending, ""), psp("ALIPAY_CN", gateway.RegistrationPending, "")}}, "GCASH", false, "under review for GCASH"},
		{"card waits for the whole", nil, "CARD", false, "under review for CARD"},
		{"reviewed", &RegistrationFacts{Status: gateway.RegistrationApproved, PSPs: []gateway.PSPRegistrationResult{
			psp("GCASH", gateway.RegistrationRejected, "no licence"), psp("ALIPAY_CN", gateway.RegistrationApproved, "")}}, "ALIPAY_CN", true, ""},
		{"rejected method", nil, "GCASH", false, "rejected for GCASH: no licence"},
		{"card with the whole", nil, "CARD", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.facts != nil {
				tc.facts.Source, tc.facts.RequestID = SourceInquiry, "reg1"
				if _, err := ApplyRegistration(m, *tc.facts, now); err != nil {
					t.Fatal(err)
				}
			}
			ok, msg := RegistrationApproves(m, tc.method)
			if ok != tc.ok || !strings.Contains(msg, tc.msg) {
				t.Fatalf("RegistrationApproves(%s) = %v %q, want %v %q", tc.method, ok, msg, tc.ok, tc.msg)
			}
		})
	}
}

// TestRefuseRegistration: a request the gateway can never take is Rejected
// with the refusal's reason, stalled, and says why.
func TestRefuseRegistration(t *testing.T) {
	m := &v1.MerchantRegistration{}
	BeginRegistration(m, "reg1", "d1")
	if _, err := RefuseRegistration(m, v1.ReasonIdentityConflict, "registrationRequestId reg1 holds other details", time.Now()); err != nil {
		t.Fatal(err)
	}
	SetRegistrationConditions(m)
	c := meta.FindStatusCondition(m.Status.Conditions, v1.ConditionReady)
	if m.Status.Phase != v1.RegistrationRejected || c.Reason != v1.ReasonIdentityConflict || !strings.Contains(c.Message, "holds other details") ||
		!meta.IsStatusConditionTrue(m.Status.Conditions, v1.ConditionStalled) {
		t.Fatalf("refused: phase %s, Ready %+v", m.Status.Phase, c)
	}
}
