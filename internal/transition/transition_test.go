package transition

import (
	"errors"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func payment(phase v1.PaymentPhase, auth bool) *v1.Payment {
	p := &v1.Payment{Spec: v1.PaymentSpec{Amount: v1.Money{Currency: "HKD", Value: "10.50"}, Authorization: auth}}
	p.Status.Phase = phase
	if phase != "" {
		p.Status.PaymentID = "P1"
		p.Status.PaymentRequestID = "R1"
	}
	return p
}

func res(code string) *gateway.Result { r := gateway.NewResult(code); return &r }
func amt(v string) *gateway.Amount    { return &gateway.Amount{Currency: "HKD", Value: v} }

func TestApplyPaymentPhases(t *testing.T) {
	cases := []struct {
		name    string
		from    v1.PaymentPhase
		auth    bool
		facts   PaymentFacts
		want    v1.PaymentPhase
		changed bool
		ignored bool
		err     error
	}{
		{"pay in process", "", false, PaymentFacts{Source: SourcePay, Result: res(gateway.CodePaymentInProcess), PaymentID: "P1", PaymentRequestID: "R1",
			UserAction: &v1.UserAction{Type: "Redirect", URL: "http://x"}}, v1.PaymentProcessing, true, false, nil},
		{"inquiry success", v1.PaymentProcessing, false, PaymentFacts{Source: SourceInquiry, GatewayStatus: "SUCCESS", Amount: amt("1050")}, v1.PaymentSucceeded, true, false, nil},
		{"notify fail", v1.PaymentProcessing, false, PaymentFacts{Source: SourceNotification, GatewayStatus: "FAIL", Result: res(gateway.CodeUserBalanceNotEnough)}, v1.PaymentFailed, true, false, nil},
		{"closed is expired", v1.PaymentProcessing, false, PaymentFacts{Source: SourceInquiry, GatewayStatus: "FAIL", Result: res(gateway.CodeOrderIsClosed)}, v1.PaymentExpired, true, false, nil},
		{"auth success is authorized", v1.PaymentProcessing, true, PaymentFacts{Source: SourceInquiry, GatewayStatus: "SUCCESS"}, v1.PaymentAuthorized, true, false, nil},
		{"auth fully captured", v1.PaymentAuthorized, true, PaymentFacts{Source: SourceInquiry, GatewayStatus: "SUCCESS", Captured: amt("1050")}, v1.PaymentSucceeded, true, false, nil},
		{"auth partly captured stays authorized", v1.PaymentAuthorized, true, PaymentFacts{Source: SourceInquiry, GatewayStatus: "SUCCESS", Captured: amt("500")}, v1.PaymentAuthorized, true, false, nil},
		{"authorized then FAIL is expired", v1.PaymentAuthorized, true, PaymentFacts{Source: SourceInquiry, GatewayStatus: "FAIL"}, v1.PaymentExpired, true, false, nil},
		{"authorization lapsed uncaptured is expired", v1.PaymentAuthorized, true, PaymentFacts{Source: SourceController, AuthLapsed: true, Result: res(gateway.CodeAuthExpired)}, v1.PaymentExpired, true, false, nil},
		{"authorization lapsed after a partial capture is succeeded", v1.PaymentAuthorized, true, PaymentFacts{Source: SourceController, AuthLapsed: true, Captured: amt("500")}, v1.PaymentSucceeded, true, false, nil},
		{"lapse says nothing to a payment that is not authorized", v1.PaymentSucceeded, false, PaymentFacts{Source: SourceController, AuthLapsed: true}, v1.PaymentSucceeded, false, false, nil},
		{"succeeded never back to processing", v1.PaymentSucceeded, false, PaymentFacts{Source: SourceNotification, GatewayStatus: "PROCESSING"}, v1.PaymentSucceeded, false, true, nil},
		{"failed never to succeeded", v1.PaymentFailed, false, PaymentFacts{Source: SourceNotification, GatewayStatus: "SUCCESS"}, v1.PaymentFailed, false, true, nil},
		{"succeeded to cancelled", v1.PaymentSucceeded, false, PaymentFacts{Source: SourceCancel, GatewayStatus: "CANCELLED"}, v1.PaymentCancelled, true, false, nil},
		{"duplicate success changes nothing", v1.PaymentSucceeded, false, PaymentFacts{Source: SourceNotification, GatewayStatus: "SUCCESS"}, v1.PaymentSucceeded, false, false, nil},
		{"late notification after an inquiry costs no write", v1.PaymentSucceeded, false, PaymentFacts{Source: SourceNotification, GatewayStatus: "SUCCESS", Result: res(gateway.CodeSuccess)}, v1.PaymentSucceeded, false, false, nil},
		{"other payment id refused", v1.PaymentProcessing, false, PaymentFacts{Source: SourceNotification, GatewayStatus: "SUCCESS", PaymentID: "P2"}, v1.PaymentProcessing, false, false, ErrMismatch},
		{"other amount refused", v1.PaymentProcessing, false, PaymentFacts{Source: SourceNotification, GatewayStatus: "SUCCESS", Amount: amt("1051")}, v1.PaymentProcessing, false, false, ErrMismatch},
		{"other currency refused", v1.PaymentProcessing, false, PaymentFacts{Source: SourceNotification, GatewayStatus: "SUCCESS", Amount: &gateway.Amount{Currency: "USD", Value: "1050"}}, v1.PaymentProcessing, false, false, ErrMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := payment(tc.from, tc.auth)
			if tc.from == v1.PaymentSucceeded {
				p.Status.Amounts.Captured = &v1.Money{Currency: "HKD", Value: "10.50"}
				p.Status.Amounts.Refundable = &v1.Total{Currency: "HKD", Value: "10.50"}
				p.Status.GatewayStatus = "SUCCESS"
			}
			before := p.DeepCopy()
			ch, err := ApplyPayment(p, tc.facts, now)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil && !equalStatus(before.Status, p.Status) {
				t.Fatalf("a refused fact changed the status")
			}
			if p.Status.Phase != tc.want {
				t.Fatalf("phase = %s, want %s", p.Status.Phase, tc.want)
			}
			if ch.Changed != tc.changed {
				t.Fatalf("changed = %v, want %v", ch.Changed, tc.changed)
			}
			if (ch.Ignored != "") != tc.ignored {
				t.Fatalf("ignored = %q, want ignored=%v", ch.Ignored, tc.ignored)
			}
		})
	}
}

// TestPaymentNeverMovesBackwards checks every pair of phases: whatever
// order facts arrive in, the phase only moves along allowed edges.
func TestPaymentNeverMovesBackwards(t *testing.T) {
	statuses := []string{"PROCESSING", "PENDING", "SUCCESS", "FAIL", "CANCELLED"}
	phases := []v1.PaymentPhase{v1.PaymentPending, v1.PaymentProcessing, v1.PaymentAuthorized, v1.PaymentSucceeded, v1.PaymentFailed, v1.PaymentCancelled, v1.PaymentExpired}
	for _, from := range phases {
		for _, s := range statuses {
			for _, auth := range []bool{false, true} {
				p := payment(from, auth)
				if _, err := ApplyPayment(p, PaymentFacts{Source: SourceNotification, GatewayStatus: s}, now); err != nil {
					t.Fatal(err)
				}
				if !PaymentCanMove(from, p.Status.Phase) {
					t.Errorf("%s + %s (auth=%v) moved to %s", from, s, auth, p.Status.Phase)
				}
			}
		}
	}
}

func TestTotalsOnlyGrow(t *testing.T) {
	p := payment(v1.PaymentAuthorized, true)
	if _, err := ApplyPayment(p, PaymentFacts{Source: SourceInquiry, GatewayStatus: "SUCCESS", Captured: amt("800"), Refunded: amt("300")}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := ApplyPayment(p, PaymentFacts{Source: SourceNotification, GatewayStatus: "SUCCESS", Captured: amt("500"), Refunded: amt("100")}, now); err != nil {
		t.Fatal(err)
	}
	a := p.Status.Amounts
	if a.Captured.Value != "8.00" || a.Refunded.Value != "3.00" || a.Refundable.Value != "5.00" {
		t.Fatalf("amounts = captured %v refunded %v refundable %v", a.Captured, a.Refunded, a.Refundable)
	}
}

func TestApplyDispute(t *testing.T) {
	n := func(typ string) gateway.NotifyDispute {
		return gateway.NotifyDispute{PaymentID: "P1", DisputeID: "D1", DisputeNotificationType: typ,
			DisputeAmount: amt("1050"), DisputeType: "CHARGEBACK"}
	}
	p := payment(v1.PaymentSucceeded, false)
	steps := []struct {
		typ    string
		want   v1.DisputeState
		blocks bool
	}{
		{gateway.DisputeCreated, v1.DisputeOpen, true},
		{gateway.DisputeDefenseDueAlert, v1.DisputeOpen, true},
		{gateway.DisputeDefenseSupplied, v1.DisputeDefenseSupplied, true},
		{gateway.DisputeCreated, v1.DisputeDefenseSupplied, true}, // older, ignored
		{gateway.DisputeJudged, v1.DisputeJudged, false},
		{gateway.DisputeCreated, v1.DisputeJudged, false},   // reordered, ignored
		{gateway.DisputeCancelled, v1.DisputeJudged, false}, // conflicting final, ignored
	}
	for i, s := range steps {
		if _, err := ApplyDispute(p, n(s.typ), now); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if p.Status.Dispute.State != s.want || p.Status.Dispute.State.Blocks() != s.blocks {
			t.Fatalf("step %d (%s): state %s, want %s", i, s.typ, p.Status.Dispute.State, s.want)
		}
	}
	bad := n(gateway.DisputeCreated)
	bad.PaymentID = "P9"
	if _, err := ApplyDispute(p, bad, now); !errors.Is(err, ErrMismatch) {
		t.Fatalf("dispute for another payment: err = %v", err)
	}
}

func TestApplyOperation(t *testing.T) {
	spec := v1.Money{Currency: "HKD", Value: "5.00"}
	cases := []struct {
		name  string
		from  v1.OperationPhase
		facts OperationFacts
		want  v1.OperationPhase
		err   error
	}{
		{"accepted", "", OperationFacts{Source: SourceRefund, Phase: v1.OperationProcessing, RequestID: "Q", Amount: amt("500")}, v1.OperationProcessing, nil},
		{"succeeded", v1.OperationProcessing, OperationFacts{Source: SourceNotification, Phase: v1.OperationSucceeded}, v1.OperationSucceeded, nil},
		{"no way back", v1.OperationSucceeded, OperationFacts{Source: SourceInquiry, Phase: v1.OperationProcessing}, v1.OperationSucceeded, nil},
		{"failed stays failed", v1.OperationFailed, OperationFacts{Source: SourceNotification, Phase: v1.OperationSucceeded}, v1.OperationFailed, nil},
		{"amount mismatch", v1.OperationProcessing, OperationFacts{Source: SourceNotification, Phase: v1.OperationSucceeded, Amount: amt("501")}, v1.OperationProcessing, ErrMismatch},
		{"other request", v1.OperationProcessing, OperationFacts{Source: SourceNotification, Phase: v1.OperationSucceeded, RequestID: "Z"}, v1.OperationProcessing, ErrMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := &v1.OperationStatus{Phase: tc.from}
			if tc.from != "" {
				st.RequestID = "Q"
			}
			_, err := ApplyOperation(st, spec, tc.facts, now)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if st.Phase != tc.want {
				t.Fatalf("phase = %s, want %s", st.Phase, tc.want)
			}
		})
	}
}

func TestPaymentConditions(t *testing.T) {
	cases := []struct {
		phase   v1.PaymentPhase
		manual  bool
		ready   bool
		stalled bool
	}{
		{v1.PaymentProcessing, false, false, false},
		{v1.PaymentAuthorized, true, true, false},
		{v1.PaymentAuthorized, false, false, false},
		{v1.PaymentSucceeded, false, true, false},
		{v1.PaymentFailed, false, false, true},
		{v1.PaymentExpired, false, false, true},
	}
	for _, tc := range cases {
		p := payment(tc.phase, tc.manual)
		p.Generation = 3
		if tc.manual {
			p.Spec.CaptureMode = v1.CaptureManual
		}
		SetPaymentConditions(p)
		r := meta.FindStatusCondition(p.Status.Conditions, v1.ConditionReady)
		// Stalled is abnormal-true: present only while True.
		s := meta.FindStatusCondition(p.Status.Conditions, v1.ConditionStalled)
		if s != nil && s.Status != metav1.ConditionTrue {
			t.Errorf("%s manual=%v: Stalled present with status %s; want it absent unless True", tc.phase, tc.manual, s.Status)
		}
		if (r.Status == "True") != tc.ready || (s != nil) != tc.stalled || r.ObservedGeneration != 3 {
			t.Errorf("%s manual=%v: ready=%s stalled=%v gen=%d", tc.phase, tc.manual, r.Status, s != nil, r.ObservedGeneration)
		}
	}
}
