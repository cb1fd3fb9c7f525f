package operation

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared/sharedtest"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/gateway/gatewayfake"
	"github.com/cashier-operator/cashier-operator/internal/ids"
)

// paidCN is a succeeded ALIPAY_CN payment of CNY 100.00, shop/p1 on
// GatewayConfig gw, gateway payment P1.
func paidCN() *v1.Payment {
	paid := v1.Money{Currency: "CNY", Value: "100.00"}
	return &v1.Payment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "p1"},
		Spec:   v1.PaymentSpec{GatewayRef: v1.GatewayReference{Name: "gw"}, Amount: paid, PaymentMethod: v1.PaymentMethod{Type: "ALIPAY_CN"}},
		Status: v1.PaymentStatus{Phase: v1.PaymentSucceeded, PaymentID: "P1", Amounts: v1.PaymentAmounts{Captured: &paid}}}
}

func testDeclaration(name, uid string, cert string, st v1.CustomsDeclarationStatus) *v1.CustomsDeclaration {
	d := &v1.CustomsDeclaration{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, UID: types.UID(uid), CreationTimestamp: sharedtest.Created},
		Spec: v1.CustomsDeclarationSpec{PaymentRef: v1.LocalObjectReference{Name: "p1"}, Amount: v1.Money{Currency: "CNY", Value: "40.00"},
			Customs: v1.CustomsOffice{Code: "ZONGSHU"}, MerchantCustomsCode: "MC1", MerchantCustomsName: "Shop"},
		Status: st}
	if cert != "" {
		d.Spec.BuyerCertificateSecretRef = &v1.SecretReference{Name: cert}
	}
	return d
}

// declarationAt is the reconcile of d by the real CustomsDeclaration
// adapter (its own batcher) talking to gw; the cluster holds objs too.
func declarationAt(t *testing.T, d *v1.CustomsDeclaration, gw *gatewayfake.Client, objs ...client.Object) *opExternal[*v1.CustomsDeclaration] {
	t.Helper()
	var e *opExternal[*v1.CustomsDeclaration]
	b := newDeclarationBatcher(func() time.Duration { return time.Second }, time.Now)
	// The spec closes over deps; build once to get them, then again with them.
	e = opAt(t, declarationSpec(nil, b), d, paidCN(), gw, objs...)
	e.k.spec = declarationSpec(e.k.deps, b)
	return e
}

// TestDeclarationObserve: declarations are inquired in batches (with the
// other declarations awaiting customs); one this object never sent is
// adopted only with the spec's amount.
func TestDeclarationObserve(t *testing.T) {
	d1 := testDeclaration("d1", uidA, "", v1.CustomsDeclarationStatus{})
	id := ids.Declaration(d1, "")
	waiting := testDeclaration("d0", uidR0, "", v1.CustomsDeclarationStatus{
		OperationStatus: v1.OperationStatus{Phase: v1.OperationProcessing, RequestID: "decl0", PaymentID: "P1"}})
	record := func(status, value string) gateway.DeclarationRecord {
		return gateway.DeclarationRecord{DeclarationRequestID: id, CustomsPaymentID: "CP1", CustomsOrderID: "CO1",
			DeclarationAmount: &gateway.Amount{Currency: "CNY", Value: value}, DeclarationRequestStatus: status}
	}
	answer := func(resp *gateway.InquiryDeclarationRequestsResponse, err error) *gatewayfake.Client {
		return &gatewayfake.Client{FakeInquiryDeclarationRequests: func(context.Context, *gateway.InquiryDeclarationRequestsRequest) (*gateway.InquiryDeclarationRequestsResponse, error) {
			return resp, err
		}}
	}
	records := func(rs ...gateway.DeclarationRecord) *gatewayfake.Client {
		return answer(&gateway.InquiryDeclarationRequestsResponse{Result: sharedtest.OKResult, DeclarationRecords: rs,
			DeclarationRequestsNotFound: []string{"decl0"}}, nil)
	}
	cases := []struct {
		name         string
		gw           *gatewayfake.Client
		outcome, msg string
		phase        v1.OperationPhase
	}{
		{name: "not found: it does not exist", gw: answer(&gateway.InquiryDeclarationRequestsResponse{Result: sharedtest.OKResult,
			DeclarationRequestsNotFound: []string{id, "decl0"}}, nil)},
		{name: "same amount: adopted, customs' answer recorded", gw: records(record(gateway.DeclarationSuccess, "4000")),
			msg: "customs declaration " + id + " is gateway customs declaration CP1, Succeeded", phase: v1.OperationSucceeded},
		{name: "another amount: identity conflict, nothing applied", gw: records(record(gateway.DeclarationSuccess, "5000")),
			outcome: "terminal " + v1.ReasonIdentityConflict, msg: "amount 5000 CNY (minor units) where the spec asks 4000 CNY"},
		{name: "the answer says nothing about it: retried", gw: records(), outcome: "retry", msg: "answered nothing about " + id},
		{name: "U answer: retried, nothing applied", outcome: "retry", msg: gateway.CodeUnknownException,
			gw: answer(nil, gatewayfake.Refuse(gateway.APIInquiryDeclarationRequests, gateway.CodeUnknownException))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := d1.DeepCopy()
			obs, err := declarationAt(t, d, tc.gw, waiting).Observe(context.Background(), d)
			if got := sharedtest.Outcome(err); got != tc.outcome {
				t.Fatalf("outcome %q (%v), want %q", got, err, tc.outcome)
			}
			if diff := cmp.Diff([]string{"inquiryDeclarationRequests " + id + ",decl0"}, sharedtest.Sent(tc.gw)); diff != "" {
				t.Errorf("gateway calls (-want +got):\n%s", diff)
			}
			said := obs.Adopted
			if err != nil {
				said = err.Error()
			}
			if !strings.Contains(said, tc.msg) {
				t.Errorf("said %q, want it to contain %q", said, tc.msg)
			}
			if tc.phase == "" {
				if diff := cmp.Diff(d1.Status, d.Status); diff != "" {
					t.Errorf("status changed (-before +after):\n%s", diff)
				}
				return
			}
			if st := d.Status; st.Phase != tc.phase || st.GatewayID != "CP1" || st.CustomsOrderID != "CO1" || st.DeclarationStatus != gateway.DeclarationSuccess {
				t.Errorf("status %+v, want phase %s, gateway id CP1, customs order CO1, SUCCESS", st, tc.phase)
			}
		})
	}
}

// TestDeclarationCreate: the buyer certificate goes into the signed declare
// body only; declare submits, customs decides later.
func TestDeclarationCreate(t *testing.T) {
	cert := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "buyer"}, Data: map[string][]byte{
		v1.CertificateSecretKeyType: []byte("ID_CARD"), v1.CertificateSecretKeyNumber: []byte("110101199003070000"),
		v1.CertificateSecretKeyName: []byte("Li Lei")}}
	noNumber := cert.DeepCopy()
	noNumber.Name = "no-number"
	delete(noNumber.Data, v1.CertificateSecretKeyNumber)
	answer := func(resp *gateway.DeclareResponse, err error) *gatewayfake.Client {
		return &gatewayfake.Client{FakeDeclare: func(context.Context, *gateway.DeclareRequest) (*gateway.DeclareResponse, error) { return resp, err }}
	}
	cases := []struct {
		name, secret string
		gw           *gatewayfake.Client
		outcome      string
		called       bool
		phase        v1.OperationPhase
	}{
		{name: "submitted with the certificate", secret: "buyer", called: true, phase: v1.OperationProcessing,
			gw: answer(&gateway.DeclareResponse{Result: sharedtest.OKResult, CustomsPaymentID: "CP1", CustomsOrderID: "CO1"}, nil)},
		{name: "refused for good", secret: "buyer", called: true, phase: v1.OperationFailed,
			gw: answer(&gateway.DeclareResponse{Result: gateway.NewResult(gateway.CodeDeclarationAmountExceed)},
				gatewayfake.Refuse(gateway.APIDeclare, gateway.CodeDeclarationAmountExceed))},
		{name: "timeout: retried with the same id", secret: "buyer", called: true, phase: v1.OperationPending, outcome: "retry",
			gw: answer(nil, sharedtest.ErrTimeout)},
		{name: "the certificate secret is missing: waits, no call", secret: "nowhere", gw: &gatewayfake.Client{},
			outcome: "wait " + v1.ReasonCertificateSecretMissing},
		{name: "the certificate secret lacks the number: refused, no call", secret: "no-number", gw: &gatewayfake.Client{},
			outcome: "terminal " + v1.ReasonCertificateSecretInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := testDeclaration("d1", uidA, tc.secret, v1.CustomsDeclarationStatus{})
			id := ids.Declaration(d, "")
			_, err := declarationAt(t, d, tc.gw, cert, noNumber).Create(context.Background(), d)
			if got := sharedtest.Outcome(err); got != tc.outcome {
				t.Fatalf("outcome %q (%v), want %q", got, err, tc.outcome)
			}
			var want []string
			if tc.called {
				want = []string{"declare " + id + " of P1 4000 CNY"}
			}
			if diff := cmp.Diff(want, sharedtest.Sent(tc.gw)); diff != "" {
				t.Fatalf("gateway calls (-want +got):\n%s", diff)
			}
			if d.Status.Phase != tc.phase || (tc.called && d.Status.RequestID != id) ||
				(tc.phase == v1.OperationProcessing && (d.Status.GatewayID != "CP1" || d.Status.CustomsOrderID != "CO1")) {
				t.Errorf("status %+v, want phase %q, the request id reserved and, once submitted, gateway id CP1 and customs order CO1", d.Status, tc.phase)
			}
			if !tc.called {
				return
			}
			req := tc.gw.Calls()[0].Request.(*gateway.DeclareRequest)
			if c := req.BuyerCertificate; c == nil || c.CertificateType != "ID_CARD" || c.CertificateNo != "110101199003070000" ||
				c.HolderName == nil || c.HolderName.FullName != "Li Lei" || req.Customs.Region != "CN" || bool(req.SplitOrder) {
				t.Errorf("declare request %+v (certificate %+v)", req, req.BuyerCertificate)
			}
			if st, _ := json.Marshal(d.Status); strings.Contains(string(st), "110101199003070000") || strings.Contains(string(st), "Li Lei") {
				t.Errorf("the certificate reached the status: %s", st)
			}
		})
	}
}
