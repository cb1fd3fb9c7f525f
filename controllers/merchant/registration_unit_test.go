package merchant

import (
	"context"
	"errors"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/controllers/shared/sharedtest"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/gateway/gatewayfake"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

func newRegistration() *v1.MerchantRegistration {
	m := &v1.MerchantRegistration{}
	m.Namespace, m.Name, m.Generation = "shop", "acme", 1
	m.Spec = v1.MerchantRegistrationSpec{GatewayRef: v1.GatewayReference{Name: "gw"}, ReferenceMerchantID: "acme-1", DisplayName: "Acme",
		MCC: "5732", Address: v1.RegistrationAddress{Region: "SG", City: "Singapore"},
		Legal:        v1.LegalRegistration{LegalName: "Acme Pte Ltd", BusinessType: "ENTERPRISE", RegistrationType: "ENTERPRISE_REGISTRATION_NO", RegistrationNo: "201912345K", RegistrationRegion: "SG"},
		ProductCodes: []v1.ProductCode{gateway.ProductCashierPayment}}
	return m
}

// connected is m with the current request begun, and its adapter on gw.
func connected(m *v1.MerchantRegistration, gw gateway.Interface) *registrationExternal {
	transition.BeginRegistration(m, ids.Registration(m, ""), ids.RegistrationDigest(&m.Spec))
	return &registrationExternal{deps: &shared.Deps{Cadence: shared.Cadence{OperationPoll: time.Second}}, conn: sharedtest.ConnTo(gw)}
}

// TestCreate: how each answer to the registration call lands.
func TestCreate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer error
		phase  string
		wait   string // a WaitError's reason
		term   string // a TerminalError's reason
		retry  bool   // an error the engine retries with the same id
	}{
		{"accepted", nil, v1.RegistrationPending, "", "", false},
		{"another under review", gatewayfake.Refuse(gateway.APIRegistration, gateway.CodeRepeatRegistration), v1.RegistrationSubmitting, v1.ReasonRegistrationInProgress, "", false},
		{"refused details", gatewayfake.Refuse(gateway.APIRegistration, gateway.CodeParamIllegal), v1.RegistrationRejected, "", "", false},
		{"id used for other details", gatewayfake.Refuse(gateway.APIRegistration, gateway.CodeRepeatReqInconsistent), v1.RegistrationSubmitting, "", v1.ReasonIdentityConflict, false},
		{"unknown outcome", sharedtest.ErrTimeout, v1.RegistrationSubmitting, "", "", true},
		{"credentials refused", gatewayfake.Refuse(gateway.APIRegistration, gateway.CodeAccessDenied), v1.RegistrationSubmitting, v1.ReasonCredentialsRejected, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sent *gateway.RegistrationRequest
			gw := &gatewayfake.Client{FakeRegistration: func(_ context.Context, r *gateway.RegistrationRequest) (*gateway.RegistrationResponse, error) {
				sent = r
				if tc.answer != nil {
					return nil, tc.answer
				}
				return &gateway.RegistrationResponse{Result: sharedtest.OKResult}, nil
			}}
			m := newRegistration()
			e := connected(m, gw)
			_, err := e.Create(context.Background(), m)
			var wait *engine.WaitError
			var term *engine.TerminalError
			switch {
			case tc.wait != "" && (!errors.As(err, &wait) || wait.Reason != tc.wait):
				t.Fatalf("err %v, want wait %s", err, tc.wait)
			case tc.term != "" && (!errors.As(err, &term) || term.Reason != tc.term):
				t.Fatalf("err %v, want terminal %s", err, tc.term)
			case tc.retry && (err == nil || errors.As(err, &wait) || errors.As(err, &term)):
				t.Fatalf("err %v, want a retried error", err)
			case tc.wait == "" && tc.term == "" && !tc.retry && err != nil:
				t.Fatalf("err %v", err)
			}
			if m.Status.Phase != tc.phase {
				t.Fatalf("phase %s, want %s", m.Status.Phase, tc.phase)
			}
			if sent == nil || sent.RegistrationRequestID != m.Status.RegistrationRequestID || sent.MerchantInfo.ReferenceMerchantID != "acme-1" ||
				sent.MerchantInfo.RegistrationDetail.RegistrationNo != "201912345K" || sent.MerchantInfo.MerchantAddress.City != "Singapore" {
				t.Fatalf("sent %+v", sent)
			}
		})
	}
}

// TestObserve: an unknown request is created; a known one is applied, and
// polled only while its review lasts.
func TestObserve(t *testing.T) {
	status := func(overall string, psps ...gateway.PSPRegistrationResult) func(context.Context, *gateway.InquiryRegistrationStatusRequest) (*gateway.InquiryRegistrationStatusResponse, error) {
		return func(context.Context, *gateway.InquiryRegistrationStatusRequest) (*gateway.InquiryRegistrationStatusResponse, error) {
			return &gateway.InquiryRegistrationStatusResponse{Result: sharedtest.OKResult,
				RegistrationResult: &gateway.RegistrationResult{RegistrationStatus: overall}, PSPRegistrationResultList: psps}, nil
		}
	}
	approved := gateway.PSPRegistrationResult{PSPName: "GCASH", RegistrationResult: gateway.RegistrationResult{RegistrationStatus: gateway.RegistrationApproved}}
	pending := gateway.PSPRegistrationResult{PSPName: "GCASH", RegistrationResult: gateway.RegistrationResult{RegistrationStatus: gateway.RegistrationPending}}
	notExist := func(context.Context, *gateway.InquiryRegistrationStatusRequest) (*gateway.InquiryRegistrationStatusResponse, error) {
		return nil, gatewayfake.Refuse(gateway.APIInquiryRegistrationStatus, gateway.CodeRegistrationNotExist)
	}
	for _, tc := range []struct {
		name    string
		inquiry func(context.Context, *gateway.InquiryRegistrationStatusRequest) (*gateway.InquiryRegistrationStatusResponse, error)
		exists  bool
		phase   string
		poll    bool
	}{
		{"unknown to the gateway", notExist, false, v1.RegistrationSubmitting, false},
		{"an answer without a result", status(""), false, v1.RegistrationSubmitting, false},
		{"another final refusal", func(context.Context, *gateway.InquiryRegistrationStatusRequest) (*gateway.InquiryRegistrationStatusResponse, error) {
			return nil, gatewayfake.Refuse(gateway.APIInquiryRegistrationStatus, gateway.CodeProcessFail)
		}, false, v1.RegistrationSubmitting, false},
		{"under review", status(gateway.RegistrationPending, pending), true, v1.RegistrationPending, true},
		{"approved", status(gateway.RegistrationApproved, approved), true, v1.RegistrationApproved, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newRegistration()
			e := connected(m, &gatewayfake.Client{FakeInquiryRegistrationStatus: tc.inquiry})
			obs, err := e.Observe(context.Background(), m)
			if err != nil {
				t.Fatal(err)
			}
			if obs.Exists != tc.exists || m.Status.Phase != tc.phase || (obs.RequeueAfter > 0) != tc.poll {
				t.Fatalf("exists %v phase %s requeue %v; want %v %s poll=%v", obs.Exists, m.Status.Phase, obs.RequeueAfter, tc.exists, tc.phase, tc.poll)
			}
			if tc.exists && obs.Adopted == "" {
				t.Fatal("a request the gateway had before this object sent it is not described as adopted")
			}
		})
	}
}

// TestKind: a changed spec is not final (it is registered again) and the
// refusal of a request is recorded on it with its reason.
func TestKind(t *testing.T) {
	k := registrationKind{deps: &shared.Deps{}}
	m := newRegistration()
	transition.BeginRegistration(m, ids.Registration(m, ""), ids.RegistrationDigest(&m.Spec))
	if err := k.Fail(m, v1.ReasonInvalidSpec, "merchantInfo.referenceMerchantId is required"); err != nil {
		t.Fatal(err)
	}
	k.SetConditions(m, nil)
	if !k.Final(m) || meta.FindStatusCondition(m.Status.Conditions, v1.ConditionReady).Reason != v1.ReasonInvalidSpec {
		t.Fatalf("refused: final %v, conditions %+v", k.Final(m), m.Status.Conditions)
	}
	m.Spec.DisplayName = "Acme Electronics"
	if k.Final(m) {
		t.Fatal("a changed spec is final")
	}
}
