package transition

import (
	"errors"
	"testing"
	"time"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

func disputeNote(typ string, mod ...func(*gateway.NotifyDispute)) *gateway.NotifyDispute {
	n := &gateway.NotifyDispute{PaymentID: "P1", DisputeID: "D1", DisputeNotificationType: typ,
		DisputeAmount: &gateway.Amount{Currency: "USD", Value: "2500"}, DisputeReasonCode: "4853",
		DefenseDueTime: "2026-01-12T10:00:00+08:00", DisputeTime: "2026-01-05T10:00:00+08:00"}
	for _, m := range mod {
		m(n)
	}
	return n
}

func judged(result string) func(*gateway.NotifyDispute) {
	return func(n *gateway.NotifyDispute) {
		n.DisputeJudgedResult = result
		n.DisputeJudgedAmount = &gateway.Amount{Currency: "USD", Value: "2500"}
		n.DisputeJudgedTime = "2026-01-20T10:00:00+08:00"
	}
}

func acceptedBy(reason string) func(*gateway.NotifyDispute) {
	return func(n *gateway.NotifyDispute) { n.DisputeAcceptReason = reason }
}

func TestApplyDisputeNotification(t *testing.T) {
	now := time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC)
	cases := []struct {
		name        string
		notes       []*gateway.NotifyDispute
		phase       v1.DisputePhase
		chargedBack string // "" when none
		ignoredLast bool
	}{
		{"created", []*gateway.NotifyDispute{disputeNote(gateway.DisputeCreated)}, v1.DisputePhaseOpen, "", false},
		{"alert first still opens", []*gateway.NotifyDispute{disputeNote(gateway.DisputeDefenseDueAlert)}, v1.DisputePhaseOpen, "", false},
		{"defended then won", []*gateway.NotifyDispute{disputeNote(gateway.DisputeCreated), disputeNote(gateway.DisputeDefenseSupplied),
			disputeNote(gateway.DisputeJudged, judged(gateway.JudgedAcceptByCustomer))}, v1.DisputePhaseWon, "", false},
		{"defended then lost", []*gateway.NotifyDispute{disputeNote(gateway.DisputeCreated), disputeNote(gateway.DisputeDefenseSupplied),
			disputeNote(gateway.DisputeJudged, judged(gateway.JudgedAcceptByMerchant))}, v1.DisputePhaseLost, "25.00", false},
		{"accepted by the merchant", []*gateway.NotifyDispute{disputeNote(gateway.DisputeCreated),
			disputeNote(gateway.DisputeAccepted, acceptedBy(gateway.AcceptReasonMerchant))}, v1.DisputePhaseAccepted, "25.00", false},
		{"accepted by timeout is Expired", []*gateway.NotifyDispute{disputeNote(gateway.DisputeCreated),
			disputeNote(gateway.DisputeAccepted, acceptedBy(gateway.AcceptReasonTimeout))}, v1.DisputePhaseExpired, "25.00", false},
		{"late CREATED after the judgement changes nothing", []*gateway.NotifyDispute{disputeNote(gateway.DisputeCreated),
			disputeNote(gateway.DisputeJudged, judged(gateway.JudgedAcceptByCustomer)), disputeNote(gateway.DisputeCreated)}, v1.DisputePhaseWon, "", true},
		{"a second end is refused", []*gateway.NotifyDispute{disputeNote(gateway.DisputeCreated), disputeNote(gateway.DisputeCancelled),
			disputeNote(gateway.DisputeJudged, judged(gateway.JudgedAcceptByMerchant))}, v1.DisputePhaseCancelled, "", true},
		{"defense after acceptance is refused", []*gateway.NotifyDispute{disputeNote(gateway.DisputeCreated),
			disputeNote(gateway.DisputeAccepted, acceptedBy(gateway.AcceptReasonMerchant)), disputeNote(gateway.DisputeDefenseSupplied)},
			v1.DisputePhaseAccepted, "25.00", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &v1.Dispute{Spec: v1.DisputeSpec{DisputeID: "D1"}}
			var ch Change
			for i, n := range tc.notes {
				var err error
				ch, err = ApplyDisputeNotification(d, n, "USD", now)
				if err != nil {
					t.Fatalf("note %d: %v", i, err)
				}
			}
			if d.Status.Phase != tc.phase || (ch.Ignored != "") != tc.ignoredLast {
				t.Fatalf("phase %s (ignored %q), want %s (ignored %v)", d.Status.Phase, ch.Ignored, tc.phase, tc.ignoredLast)
			}
			got := ""
			if d.Status.ChargedBack != nil {
				got = d.Status.ChargedBack.Value
			}
			if got != tc.chargedBack {
				t.Fatalf("chargedBack %q, want %q", got, tc.chargedBack)
			}
			if d.Status.Amount == nil || d.Status.Amount.Value != "25.00" || d.Status.DefenseDueTime == nil || d.Status.PaymentID != "P1" {
				t.Fatalf("facts = %+v", d.Status)
			}
			// The same notification again changes nothing.
			before := d.Status.DeepCopy()
			if ch, _ := ApplyDisputeNotification(d, tc.notes[len(tc.notes)-1], "USD", now.Add(time.Hour)); ch.Changed || !equalStatus(before, &d.Status) {
				t.Fatalf("replay changed the status: %+v", ch)
			}
		})
	}
}

func TestApplyDisputeNotificationMismatch(t *testing.T) {
	cases := map[string]*gateway.NotifyDispute{
		"other dispute":  disputeNote(gateway.DisputeCreated, func(n *gateway.NotifyDispute) { n.DisputeID = "D2" }),
		"other currency": disputeNote(gateway.DisputeCreated, func(n *gateway.NotifyDispute) { n.DisputeAmount.Currency = "EUR" }),
		"bad amount":     disputeNote(gateway.DisputeCreated, func(n *gateway.NotifyDispute) { n.DisputeAmount.Value = "1.5" }),
	}
	for name, n := range cases {
		t.Run(name, func(t *testing.T) {
			d := &v1.Dispute{Spec: v1.DisputeSpec{DisputeID: "D1"}}
			if _, err := ApplyDisputeNotification(d, n, "USD", time.Now()); !errors.Is(err, ErrMismatch) || d.Status.Phase != "" {
				t.Fatalf("err = %v, phase %s", err, d.Status.Phase)
			}
		})
	}
	d := &v1.Dispute{Spec: v1.DisputeSpec{DisputeID: "D1"}, Status: v1.DisputeStatus{PaymentID: "P9"}}
	if _, err := ApplyDisputeNotification(d, disputeNote(gateway.DisputeCreated), "USD", time.Now()); !errors.Is(err, ErrMismatch) {
		t.Fatalf("other payment: %v", err)
	}
}

func TestApplyDisputeAnswer(t *testing.T) {
	at := time.Date(2026, 1, 6, 2, 0, 0, 0, time.UTC)
	open := func() *v1.Dispute {
		return &v1.Dispute{Spec: v1.DisputeSpec{DisputeID: "D1"}, Status: v1.DisputeStatus{Phase: v1.DisputePhaseOpen,
			Amount: &v1.Money{Currency: "USD", Value: "25.00"}}}
	}
	d := open()
	if ch := ApplyDisputeAnswer(d, v1.DisputeAccept, "accept-it", at); ch.To != string(v1.DisputePhaseAccepted) ||
		d.Status.ChargedBack == nil || d.Status.Response != "accept-it" || d.Status.AcceptReason != gateway.AcceptReasonMerchant {
		t.Fatalf("accept: %+v %+v", ch, d.Status)
	}
	if ch := ApplyDisputeAnswer(d, v1.DisputeDefend, "defend-it", at); ch.Ignored == "" || d.Status.Phase != v1.DisputePhaseAccepted || d.Status.Response != "accept-it" {
		t.Fatalf("defend after accept: %+v %+v", ch, d.Status)
	}
	d = open()
	if ch := ApplyDisputeAnswer(d, v1.DisputeDefend, "defend-it", at); ch.To != string(v1.DisputePhaseDefended) || d.Status.ChargedBack != nil {
		t.Fatalf("defend: %+v %+v", ch, d.Status)
	}
}

func TestNoteFromPaymentDispute(t *testing.T) {
	for state, typ := range map[v1.DisputeState]string{v1.DisputeOpen: gateway.DisputeCreated, v1.DisputeDefenseSupplied: gateway.DisputeDefenseSupplied,
		v1.DisputeJudged: gateway.DisputeJudged, v1.DisputeCancelled: gateway.DisputeCancelled, v1.DisputeAccepted: gateway.DisputeAccepted} {
		p := &v1.Payment{Status: v1.PaymentStatus{PaymentID: "P1", Dispute: &v1.PaymentDispute{ID: "D1", State: state,
			Amount: &v1.Money{Currency: "USD", Value: "25.00"}}}}
		n := NoteFromPaymentDispute(p)
		if n.DisputeNotificationType != typ || n.DisputeAmount == nil || n.DisputeAmount.Value != "2500" || n.PaymentID != "P1" {
			t.Errorf("%s: %+v", state, n)
		}
	}
}
