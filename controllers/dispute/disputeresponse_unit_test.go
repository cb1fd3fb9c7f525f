package dispute

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/controllers/shared/sharedtest"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/gateway/gatewayfake"
)

// TestDisputeResponseCreate: a response claims its Dispute, sends one
// answer keyed by the dispute id, and ends by what the gateway said; a
// refusal another response could avoid (bad evidence) releases the claim.
func TestDisputeResponseCreate(t *testing.T) {
	const doc = "%PDF-1.7 receipt of delivery"
	evidence := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "evidence"}, Data: map[string][]byte{"receipt.pdf": []byte(doc)}}
	future, past := metav1.NewTime(time.Now().Add(72*time.Hour)), metav1.NewTime(time.Now().Add(-time.Hour))
	accept := func(resp *gateway.AcceptDisputeResponse, err error) *gatewayfake.Client {
		return &gatewayfake.Client{FakeAcceptDispute: func(context.Context, *gateway.AcceptDisputeRequest) (*gateway.AcceptDisputeResponse, error) {
			return resp, err
		}}
	}
	defend := func(resp *gateway.SupplyDefenseDocumentResponse, err error) *gatewayfake.Client {
		return &gatewayfake.Client{FakeSupplyDefenseDocument: func(context.Context, *gateway.SupplyDefenseDocumentRequest) (*gateway.SupplyDefenseDocumentResponse, error) {
			return resp, err
		}}
	}
	defendRefused := func(code string) *gatewayfake.Client {
		return defend(&gateway.SupplyDefenseDocumentResponse{Result: gateway.NewResult(code)}, gatewayfake.Refuse(gateway.APISupplyDefenseDocument, code))
	}
	cases := []struct {
		name   string
		action v1.DisputeAction
		// dispute edits the Open dispute D1 (defense due in three days).
		dispute func(*v1.DisputeStatus)
		noDoc   bool
		gw      *gatewayfake.Client
		call    string
		outcome string
		// phase is the response's; claim the Dispute's status.response
		// after the step, disputePhase its phase.
		phase        v1.OperationPhase
		claim        string
		disputePhase v1.DisputePhase
	}{
		{name: "accepted", action: v1.DisputeAccept, gw: accept(&gateway.AcceptDisputeResponse{Result: sharedtest.OKResult, DisputeID: "D1"}, nil),
			call: "acceptDispute D1", phase: v1.OperationSucceeded, claim: "r1", disputePhase: v1.DisputePhaseAccepted},
		{name: "defended", action: v1.DisputeDefend, gw: defend(&gateway.SupplyDefenseDocumentResponse{Result: sharedtest.OKResult, DisputeID: "D1"}, nil),
			call: "supplyDefenseDocument D1", phase: v1.OperationSucceeded, claim: "r1", disputePhase: v1.DisputePhaseDefended},
		{name: "past the deadline at the gateway: ended, the claim kept", action: v1.DisputeDefend,
			gw: defendRefused(gateway.CodeTimeExceedsLimit), call: "supplyDefenseDocument D1",
			outcome: "terminal " + v1.ReasonDeadlinePassed, claim: "r1", disputePhase: v1.DisputePhaseOpen},
		{name: "answered differently before: ended, the claim kept", action: v1.DisputeDefend,
			gw: defendRefused(gateway.CodeRepeatRequest), call: "supplyDefenseDocument D1",
			outcome: "terminal " + v1.ReasonAlreadyAnswered, claim: "r1", disputePhase: v1.DisputePhaseOpen},
		{name: "the document is refused: ended, the claim released for another response", action: v1.DisputeDefend,
			gw: defendRefused(gateway.CodeParamIllegal), call: "supplyDefenseDocument D1",
			outcome: "terminal " + v1.ReasonEvidenceInvalid, disputePhase: v1.DisputePhaseOpen},
		{name: "timeout: retried, the claim kept", action: v1.DisputeAccept, gw: accept(nil, sharedtest.ErrTimeout), call: "acceptDispute D1",
			outcome: "retry", claim: "r1", disputePhase: v1.DisputePhaseOpen},
		{name: "answered by another response: refused without a call", action: v1.DisputeAccept, gw: &gatewayfake.Client{},
			dispute: func(st *v1.DisputeStatus) { st.Response = "r0" },
			outcome: "terminal " + v1.ReasonAlreadyAnswered, claim: "r0", disputePhase: v1.DisputePhaseOpen},
		{name: "the deadline has passed: refused without a call", action: v1.DisputeDefend, gw: &gatewayfake.Client{},
			dispute: func(st *v1.DisputeStatus) { st.DefenseDueTime = &past },
			outcome: "terminal " + v1.ReasonDeadlinePassed, disputePhase: v1.DisputePhaseOpen},
		{name: "the evidence is missing: waits without a call or a claim", action: v1.DisputeDefend, noDoc: true, gw: &gatewayfake.Client{},
			outcome: "wait " + v1.ReasonEvidenceInvalid, disputePhase: v1.DisputePhaseOpen},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			d := &v1.Dispute{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "d1"},
				Spec:   v1.DisputeSpec{PaymentRef: v1.LocalObjectReference{Name: "p1"}, DisputeID: "D1"},
				Status: v1.DisputeStatus{Phase: v1.DisputePhaseOpen, PaymentID: "P9", DefenseDueTime: &future}}
			if tc.dispute != nil {
				tc.dispute(&d.Status)
			}
			r := &v1.DisputeResponse{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "r1"},
				Spec: v1.DisputeResponseSpec{DisputeRef: v1.LocalObjectReference{Name: "d1"}, Action: tc.action}}
			if tc.action == v1.DisputeDefend {
				r.Spec.Evidence = &v1.EvidenceSource{SecretRef: &v1.LocalObjectReference{Name: "evidence"}, Key: "receipt.pdf"}
			}
			if tc.noDoc {
				r.Spec.Evidence.SecretRef.Name = "nowhere"
			}
			cl, err := sharedtest.Objects(d, r, evidence)
			if err != nil {
				t.Fatal(err)
			}
			var cur v1.Dispute // as the reconcile reads it, with its resourceVersion
			if err := cl.Get(ctx, types.NamespacedName{Namespace: "shop", Name: "d1"}, &cur); err != nil {
				t.Fatal(err)
			}
			a := &disputeAnswer{deps: &shared.Deps{Client: cl, APIReader: cl}, dispute: &cur, conn: sharedtest.ConnTo(tc.gw)}
			_, err = a.Create(ctx, r)
			if got := sharedtest.Outcome(err); got != tc.outcome {
				t.Fatalf("outcome %q (%v), want %q", got, err, tc.outcome)
			}
			var want []string
			if tc.call != "" {
				want = []string{tc.call}
			}
			if diff := cmp.Diff(want, sharedtest.Sent(tc.gw)); diff != "" {
				t.Fatalf("gateway calls (-want +got):\n%s", diff)
			}
			if err := cl.Get(ctx, types.NamespacedName{Namespace: "shop", Name: "d1"}, &cur); err != nil {
				t.Fatal(err)
			}
			if r.Status.Phase != tc.phase || cur.Status.Response != tc.claim || cur.Status.Phase != tc.disputePhase {
				t.Errorf("response phase %q, dispute claimed by %q and %s; want %q, %q, %s", r.Status.Phase, cur.Status.Response,
					cur.Status.Phase, tc.phase, tc.claim, tc.disputePhase)
			}
			if tc.call == "" {
				return
			}
			if r.Status.DisputeID != "D1" || r.Status.SubmitTime == nil {
				t.Errorf("status %+v, want dispute id D1 and a submit time", r.Status)
			}
			if req, ok := tc.gw.Calls()[0].Request.(*gateway.SupplyDefenseDocumentRequest); ok {
				sum := sha256.Sum256([]byte(doc))
				if got, _ := base64.StdEncoding.DecodeString(req.DisputeEvidence); string(got) != doc ||
					r.Status.EvidenceSHA256 != hex.EncodeToString(sum[:]) {
					t.Errorf("sent evidence %q (sha256 %q), want the Secret's document", got, r.Status.EvidenceSHA256)
				}
			}
		})
	}
}
