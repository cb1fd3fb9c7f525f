package disputes

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/dispute"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
)

const week = 7 * 24 * time.Hour

// TestDefendedThenWon: the Dispute appears from notifyDispute, its evidence
// template is downloaded next to it, a Defend response from git supplies the
// document once, the document reads back, and the judgement for the buyer
// releases the money.
func TestDefendedThenWon(t *testing.T) {
	f := setup(t)
	p := f.paid(t, "won", "25.00")
	id, d := f.openDispute(t, p, gatewaysim.DisputeSpec{ReasonCode: "13.1", ReasonMsg: "Merchandise not received"})
	if d.Spec.DisputeID != id || d.Spec.PaymentRef.Name != "won" || d.Status.Amount == nil || d.Status.Amount.Value != "25.00" ||
		d.Status.ReasonCode != "13.1" || d.Status.DefenseDueTime == nil || len(d.OwnerReferences) != 1 || d.OwnerReferences[0].UID != p.UID {
		t.Fatalf("Dispute = %+v", d)
	}
	d = waitFor(t, f, d, "evidence template", func() bool { return d.Status.EvidenceTemplate != "" })
	var tpl corev1.ConfigMap
	must(t, k8s.Get(f.ctx, client.ObjectKey{Namespace: f.ns, Name: d.Status.EvidenceTemplate}, &tpl))
	if doc := tpl.BinaryData[dispute.EvidenceTemplateKey]; !bytes.HasPrefix(doc, []byte("%PDF-")) || !bytes.Contains(doc, []byte(id)) {
		t.Fatalf("template ConfigMap holds %d bytes without the dispute id", len(doc))
	}

	doc := gatewaysim.EvidencePDF("Delivered 2026-01-03, signed by the buyer")
	r := f.respond(t, "defend-won", d, v1.DisputeDefend, f.evidence(t, "won-evidence", doc))
	r = f.waitResponse(t, r, v1.OperationSucceeded, v1.ReasonResponseTaken)
	if r.Status.DisputeID != id || r.Status.ResolutionTime == nil || r.Status.EvidenceSHA256 == "" {
		t.Fatalf("response status = %+v", r.Status)
	}
	d = f.waitDispute(t, d, v1.DisputePhaseDefended)
	d = waitFor(t, f, d, "supplied evidence read back", func() bool { return d.Status.SuppliedEvidence != "" })
	var back corev1.ConfigMap
	must(t, k8s.Get(f.ctx, client.ObjectKey{Namespace: f.ns, Name: d.Status.SuppliedEvidence}, &back))
	if !bytes.Equal(back.BinaryData["evidence.pdf"], doc) {
		t.Fatalf("supplied evidence reads back as %d bytes, want the %d sent", len(back.BinaryData["evidence.pdf"]), len(doc))
	}

	must(t, sys.Sim.JudgeDispute(id, gateway.JudgedAcceptByCustomer))
	d = f.waitDispute(t, d, v1.DisputePhaseWon)
	if d.Status.ChargedBack != nil || d.Status.Response != "defend-won" || !meta.IsStatusConditionTrue(d.Status.Conditions, v1.ConditionReady) {
		t.Fatalf("won dispute = %+v", d.Status)
	}
	if e := ledger(t, id); e.Actions != 1 || e.DefenseCalls != 1 || e.AcceptCalls != 0 || e.Released != 2500 || e.ChargedBack != 0 {
		t.Fatalf("ledger = %+v", e)
	}
}

// TestDefendedThenLost: the judgement against the merchant charges back once.
func TestDefendedThenLost(t *testing.T) {
	f := setup(t)
	p := f.paid(t, "lost", "40.00")
	id, d := f.openDispute(t, p, gatewaysim.DisputeSpec{})
	r := f.respond(t, "defend-lost", d, v1.DisputeDefend, f.evidence(t, "lost-evidence", gatewaysim.EvidencePDF("Terms accepted")))
	f.waitResponse(t, r, v1.OperationSucceeded, v1.ReasonResponseTaken)
	f.waitDispute(t, d, v1.DisputePhaseDefended)
	must(t, sys.Sim.JudgeDispute(id, gateway.JudgedAcceptByMerchant))
	d = f.waitDispute(t, d, v1.DisputePhaseLost)
	if d.Status.ChargedBack == nil || d.Status.ChargedBack.Value != "40.00" || d.Status.JudgedResult != gateway.JudgedAcceptByMerchant {
		t.Fatalf("lost dispute = %+v", d.Status)
	}
	if e := ledger(t, id); e.Actions != 1 || e.DefenseCalls != 1 || e.ChargedBack != 4000 {
		t.Fatalf("ledger = %+v", e)
	}
	if pe, _ := sys.Sim.Ledger().Payment(p.Status.PaymentID); pe.ChargedBack != 4000 {
		t.Fatalf("payment charged back %d, want 4000 once", pe.ChargedBack)
	}
}

// TestAccepted: a refund waits while the dispute is open; accepting charges
// back once; a second response (Defend) is refused without a gateway call;
// the refund then goes through for what is left.
func TestAccepted(t *testing.T) {
	f := setup(t)
	p := f.paid(t, "accepted", "25.00")
	id, d := f.openDispute(t, p, gatewaysim.DisputeSpec{AmountMinor: 1000})
	rf := &v1.Refund{ObjectMeta: metav1.ObjectMeta{Name: "accepted-refund", Namespace: f.ns},
		Spec: v1.RefundSpec{PaymentRef: v1.LocalObjectReference{Name: "accepted"}, Amount: v1.Money{Currency: "HKD", Value: "15.00"}}}
	must(t, k8s.Create(f.ctx, rf))
	waitFor(t, f, rf, "refund Blocked DisputeOpen", func() bool {
		c := meta.FindStatusCondition(rf.Status.Conditions, v1.ConditionBlocked)
		return c != nil && c.Status == metav1.ConditionTrue && c.Reason == v1.ReasonDisputeOpen
	})

	r := f.respond(t, "accept-it", d, v1.DisputeAccept, nil)
	f.waitResponse(t, r, v1.OperationSucceeded, v1.ReasonResponseTaken)
	d = f.waitDispute(t, d, v1.DisputePhaseAccepted)
	if d.Status.ChargedBack == nil || d.Status.ChargedBack.Value != "10.00" || d.Status.AcceptReason != gateway.AcceptReasonMerchant {
		t.Fatalf("accepted dispute = %+v", d.Status)
	}
	// GitOps re-creates the response (deleted by hand, restored from git):
	// it is adopted from the Dispute, and nothing is sent again.
	must(t, k8s.Delete(f.ctx, r))
	testenv.Eventually(t, timeout, "response deleted", func() (bool, string) {
		err := k8s.Get(f.ctx, client.ObjectKeyFromObject(r), &v1.DisputeResponse{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	again := f.respond(t, "accept-it", d, v1.DisputeAccept, nil)
	again = f.waitResponse(t, again, v1.OperationSucceeded, v1.ReasonResponseTaken)
	if !meta.IsStatusConditionTrue(again.Status.Conditions, v1.ConditionAdopted) {
		t.Fatalf("re-created response not adopted: %+v", again.Status.Conditions)
	}
	second := f.respond(t, "defend-too", d, v1.DisputeDefend, f.evidence(t, "late-evidence", gatewaysim.EvidencePDF("too late")))
	f.waitResponse(t, second, v1.OperationFailed, v1.ReasonAlreadyAnswered)

	waitFor(t, f, rf, "refund Succeeded", func() bool { return rf.Status.Phase == v1.OperationSucceeded })
	f.quiesce(t)
	if e := ledger(t, id); e.Actions != 1 || e.AcceptCalls != 1 || e.DefenseCalls != 0 || e.ChargedBack != 1000 {
		t.Fatalf("ledger = %+v (the operator never sends a second answer)", e)
	}
	if pe, _ := sys.Sim.Ledger().Payment(p.Status.PaymentID); pe.ChargedBack != 1000 || pe.Refunded != 1500 {
		t.Fatalf("payment ledger = %+v", pe)
	}
}

// TestDeadlinePassed: within the alert window an unanswered Dispute raises
// DefenseDue (condition, event, metric); when the deadline passes the
// gateway accepts it by timeout (Expired, charged back once) and a response
// written after that is refused with DeadlinePassed, without a gateway call.
func TestDeadlinePassed(t *testing.T) {
	f := setup(t)
	p := f.paid(t, "late", "30.00")
	id, d := f.openDispute(t, p, gatewaysim.DisputeSpec{DefenseDue: gatewaysim.Duration(alertWindow / 2)})
	d = waitFor(t, f, d, "DefenseDue True", func() bool {
		c := meta.FindStatusCondition(d.Status.Conditions, v1.ConditionDefenseDue)
		return c != nil && c.Status == metav1.ConditionTrue && c.Reason == v1.ReasonDefenseDueSoon
	})
	waitEvent(t, f, d.Name, "DefenseDue")
	if n := defenseDueMetric(t, f.ns); n != 1 {
		t.Fatalf("cashier_dispute_defense_due{namespace=%s} = %v, want 1", f.ns, n)
	}

	sys.Sim.Advance(alertWindow)
	f.quiesce(t)
	d = f.waitDispute(t, d, v1.DisputePhaseExpired)
	if d.Status.ChargedBack == nil || d.Status.ChargedBack.Value != "30.00" || d.Status.AcceptReason != gateway.AcceptReasonTimeout ||
		d.Status.DefenseDueAlertTime == nil {
		t.Fatalf("expired dispute = %+v", d.Status)
	}
	r := f.respond(t, "too-late", d, v1.DisputeAccept, nil)
	r = f.waitResponse(t, r, v1.OperationFailed, v1.ReasonDeadlinePassed)
	if c := meta.FindStatusCondition(r.Status.Conditions, v1.ConditionReady); !bytes.Contains([]byte(c.Message), []byte("was due at")) {
		t.Fatalf("refusal message = %q", c.Message)
	}
	if e := ledger(t, id); e.Actions != 0 || e.AcceptCalls != 0 || e.ChargedBack != 3000 || e.AcceptReason != gateway.AcceptReasonTimeout {
		t.Fatalf("ledger = %+v", e)
	}
}

// TestReceiverDownWhenDisputeOpens: the receiver is down when the chargeback
// is opened; the gateway's re-send (2 minutes later) creates the Dispute.
func TestReceiverDownWhenDisputeOpens(t *testing.T) {
	f := setup(t)
	p := f.paid(t, "resent", "12.00")
	recv.Down.Store(true)
	id, err := sys.Sim.OpenDispute(p.Status.PaymentID, gatewaysim.DisputeSpec{})
	must(t, err)
	f.quiesce(t)
	d := &v1.Dispute{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: v1.DisputeName("resent", id)}}
	if err := k8s.Get(f.ctx, client.ObjectKeyFromObject(d), d); err == nil {
		t.Fatal("a Dispute exists although the receiver was down")
	}
	recv.Down.Store(false)
	sys.Sim.Advance(2 * time.Minute)
	f.quiesce(t)
	f.waitDispute(t, d, v1.DisputePhaseOpen)
}

// TestReplayAndForgeryChangeNothing: a replayed DISPUTE_CREATED after the
// judgement, and a forged judgement, leave the Dispute as it is.
func TestReplayAndForgeryChangeNothing(t *testing.T) {
	f := setup(t)
	p := f.paid(t, "replayed", "18.00")
	id, d := f.openDispute(t, p, gatewaysim.DisputeSpec{})
	created := sent(t, id, gateway.DisputeCreated)
	must(t, sys.Sim.JudgeDispute(id, gateway.JudgedAcceptByCustomer))
	d = waitFor(t, f, d, "Dispute Won and settled", func() bool {
		c := meta.FindStatusCondition(d.Status.Conditions, v1.ConditionDefenseDue)
		return d.Status.Phase == v1.DisputePhaseWon && c != nil && c.Reason == v1.ReasonAnswered
	})
	f.quiesce(t)
	rv := d.ResourceVersion

	if status := testenv.Post(t, recvURL, created.Path, created.Header, created.Body); status != http.StatusOK {
		t.Fatalf("replayed DISPUTE_CREATED: HTTP %d", status)
	}
	forged := bytes.Replace(sent(t, id, gateway.DisputeJudged).Body, []byte(gateway.JudgedAcceptByCustomer), []byte(gateway.JudgedAcceptByMerchant), 1)
	judged := sent(t, id, gateway.DisputeJudged)
	if status := testenv.Post(t, recvURL, judged.Path, judged.Header, forged); status == http.StatusOK {
		t.Fatal("a forged judgement (body changed under the gateway's signature) was accepted")
	}
	must(t, k8s.Get(f.ctx, client.ObjectKeyFromObject(d), d))
	if d.ResourceVersion != rv || d.Status.Phase != v1.DisputePhaseWon || d.Status.ChargedBack != nil {
		t.Fatalf("the replay or the forgery changed the Dispute: %+v", d.Status)
	}
	if e := ledger(t, id); e.ChargedBack != 0 || e.Released != 1800 {
		t.Fatalf("ledger = %+v", e)
	}
}

// TestDisputeFromPaymentStatus: a Payment whose status shows a chargeback
// without a Dispute object (recorded before Dispute objects existed, or the
// object deleted by hand) gets one when the operator starts.
func TestDisputeFromPaymentStatus(t *testing.T) {
	f := setup(t)
	p := f.paid(t, "migrated", "20.00")
	id, d := f.openDispute(t, p, gatewaysim.DisputeSpec{ReasonCode: "4837"})
	waitFor(t, f, p, "payment status shows the dispute", func() bool { return p.Status.Dispute != nil && p.Status.Dispute.ID == id })
	must(t, k8s.Delete(f.ctx, d))
	testenv.Eventually(t, timeout, "Dispute deleted", func() (bool, string) {
		err := k8s.Get(f.ctx, client.ObjectKeyFromObject(d), &v1.Dispute{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	must(t, sys.RestartManager())
	d = &v1.Dispute{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: v1.DisputeName("migrated", id)}}
	d = f.waitDispute(t, d, v1.DisputePhaseOpen)
	if d.Spec.DisputeID != id || d.Status.ReasonCode != "4837" || d.Status.Amount == nil || d.Status.Amount.Value != "20.00" ||
		d.Status.DefenseDueTime == nil {
		t.Fatalf("Dispute from the payment's status = %+v", d.Status)
	}
}
