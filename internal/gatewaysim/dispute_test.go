package gatewaysim

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

var (
	evidencePDF   = base64.StdEncoding.EncodeToString(EvidencePDF("Proof of delivery"))
	otherEvidence = base64.StdEncoding.EncodeToString(EvidencePDF("Another document"))
)

func (e *env) accept(id string) string {
	e.t.Helper()
	resp, err := e.client.AcceptDispute(e.ctx, &gateway.AcceptDisputeRequest{DisputeID: id})
	return code(e.t, resp, err)
}

func (e *env) defend(id, evidence string) string {
	e.t.Helper()
	resp, err := e.client.SupplyDefenseDocument(e.ctx, &gateway.SupplyDefenseDocumentRequest{DisputeID: id, DisputeEvidence: evidence})
	return code(e.t, resp, err)
}

func (e *env) download(id, typ string) (*gateway.DownloadDisputeEvidenceResponse, string) {
	e.t.Helper()
	resp, err := e.client.DownloadDisputeEvidence(e.ctx, &gateway.DownloadDisputeEvidenceRequest{DisputeID: id, DisputeEvidenceType: typ})
	return resp, code(e.t, resp, err)
}

func (e *env) wantCode(what, got, want string) {
	e.t.Helper()
	if got != want {
		e.t.Fatalf("%s: %s, want %s", what, got, want)
	}
}

// disputeTypes lists the disputeNotificationTypes delivered for a dispute.
func (e *env) disputeTypes(id string) []string {
	e.t.Helper()
	var out []string
	for _, r := range e.rcv.ofKind(gateway.KindNotifyDispute) {
		if n := r.Value.(*gateway.NotifyDispute); n.DisputeID == id {
			out = append(out, n.DisputeNotificationType)
		}
	}
	return out
}

func TestDisputeLifecycle(t *testing.T) {
	const week = 7 * 24 * time.Hour
	cases := []struct {
		name  string
		run   func(e *env, id string)
		want  DisputeEntry // Status, Result, AcceptReason, ChargedBack, Released, Frozen, Actions, calls
		types []string
	}{
		{"accepted once, replay answers the same, defense refused", func(e *env, id string) {
			e.wantCode("accept", e.accept(id), gateway.CodeSuccess)
			first := e.sim.Notifications()
			e.sim.Advance(time.Hour)
			e.wantCode("accept again", e.accept(id), gateway.CodeSuccess)
			e.wantCode("defend after accept", e.defend(id, evidencePDF), gateway.CodeRepeatRequest)
			e.sim.Advance(2 * week) // no alert, no timeout: it is answered
			e.quiesce()
			if got := len(e.sim.Notifications()); got != len(first) {
				t.Fatalf("%d notifications after the replay, want %d", got, len(first))
			}
		}, DisputeEntry{Status: disputeAccepted, AcceptReason: gateway.AcceptReasonMerchant, ChargedBack: 8000, Actions: 1, AcceptCalls: 2, DefenseCalls: 1},
			[]string{gateway.DisputeCreated, gateway.DisputeAccepted}},
		{"defended then won; evidence immutable", func(e *env, id string) {
			e.wantCode("defend", e.defend(id, evidencePDF), gateway.CodeSuccess)
			e.wantCode("defend again, same document", e.defend(id, evidencePDF), gateway.CodeSuccess)
			e.wantCode("defend with another document", e.defend(id, otherEvidence), gateway.CodeRepeatRequest)
			e.wantCode("accept after defense", e.accept(id), gateway.CodeRepeatRequest)
			resp, c := e.download(id, gateway.EvidenceFile)
			e.wantCode("download file", c, gateway.CodeSuccess)
			if resp.DisputeEvidence != evidencePDF || resp.DisputeEvidenceFormat != gateway.EvidenceFormatPDF {
				t.Fatalf("supplied file read back as %s (%d chars)", resp.DisputeEvidenceFormat, len(resp.DisputeEvidence))
			}
			e.sim.Advance(2 * week) // defended: the deadline passing changes nothing
			if err := e.sim.JudgeDispute(id, gateway.JudgedAcceptByCustomer); err != nil {
				t.Fatal(err)
			}
		}, DisputeEntry{Status: disputeJudged, Result: gateway.JudgedAcceptByCustomer, Released: 8000, Actions: 1, AcceptCalls: 1, DefenseCalls: 3},
			[]string{gateway.DisputeCreated, gateway.DisputeDefenseSupplied, gateway.DisputeJudged}},
		{"defended then lost", func(e *env, id string) {
			e.wantCode("defend", e.defend(id, evidencePDF), gateway.CodeSuccess)
			if err := e.sim.JudgeDispute(id, gateway.JudgedAcceptByMerchant); err != nil {
				t.Fatal(err)
			}
			e.wantCode("defend after judgement (same document)", e.defend(id, evidencePDF), gateway.CodeSuccess)
			e.wantCode("accept after judgement", e.accept(id), gateway.CodeNotAllowedInCurrentStatus)
		}, DisputeEntry{Status: disputeJudged, Result: gateway.JudgedAcceptByMerchant, ChargedBack: 8000, Actions: 1, AcceptCalls: 1, DefenseCalls: 2},
			[]string{gateway.DisputeCreated, gateway.DisputeDefenseSupplied, gateway.DisputeJudged}},
		{"no answer: alert a day before, then accepted by timeout", func(e *env, id string) {
			e.sim.Advance(week - defenseAlertLead - time.Second)
			e.quiesce()
			if got := e.disputeTypes(id); len(got) != 1 {
				t.Fatalf("before the alert: %v", got)
			}
			e.sim.Advance(time.Second)
			e.quiesce()
			if got := e.disputeTypes(id); len(got) != 2 || got[1] != gateway.DisputeDefenseDueAlert {
				t.Fatalf("at the alert: %v", got)
			}
			e.sim.Advance(defenseAlertLead)
			e.wantCode("accept after the deadline", e.accept(id), gateway.CodeTimeExceedsLimit)
			e.wantCode("defend after the deadline", e.defend(id, evidencePDF), gateway.CodeTimeExceedsLimit)
		}, DisputeEntry{Status: disputeAccepted, AcceptReason: gateway.AcceptReasonTimeout, ChargedBack: 8000, AcceptCalls: 1, DefenseCalls: 1},
			[]string{gateway.DisputeCreated, gateway.DisputeDefenseDueAlert, gateway.DisputeAccepted}},
		{"cancelled by the buyer", func(e *env, id string) {
			if err := e.sim.CancelDispute(id); err != nil {
				t.Fatal(err)
			}
			e.wantCode("accept a cancelled dispute", e.accept(id), gateway.CodeNotAllowedInCurrentStatus)
			e.wantCode("defend a cancelled dispute", e.defend(id, evidencePDF), gateway.CodeNotAllowedInCurrentStatus)
		}, DisputeEntry{Status: disputeCancelled, Released: 8000, AcceptCalls: 1, DefenseCalls: 1},
			[]string{gateway.DisputeCreated, gateway.DisputeCancelled}},
		{"refused requests change nothing", func(e *env, id string) {
			e.wantCode("unknown dispute", e.accept("1600000000000000000000"), gateway.CodeParamIllegal)
			e.wantCode("not base64", e.defend(id, "%%%"), gateway.CodeParamIllegal)
			e.wantCode("not a document", e.defend(id, base64.StdEncoding.EncodeToString([]byte("hello"))), gateway.CodeParamIllegal)
			_, c := e.download(id, gateway.EvidenceFile)
			e.wantCode("file before any was supplied", c, gateway.CodeParamIllegal)
			other, err := gateway.GenerateKey()
			if err != nil {
				t.Fatal(err)
			}
			if err := e.sim.AddMerchant("SANDBOX_OTHER", &other.PublicKey, "1", ""); err != nil {
				t.Fatal(err)
			}
			oc := e.newClient("SANDBOX_OTHER", other, 1)
			resp, err := oc.AcceptDispute(e.ctx, &gateway.AcceptDisputeRequest{DisputeID: id})
			e.wantCode("another merchant's dispute", code(t, resp, err), gateway.CodeParamIllegal)
		}, DisputeEntry{Status: disputeOpen, Frozen: 8000, DefenseCalls: 0},
			[]string{gateway.DisputeCreated}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			pid := e.paidWallet("disputed", hkd("8000"), "ALIPAY_HK")
			id, err := e.sim.OpenDispute(pid, DisputeSpec{})
			if err != nil {
				t.Fatal(err)
			}
			tc.run(e, id)
			e.quiesce()
			got, err := e.sim.Dispute(id)
			if err != nil {
				t.Fatal(err)
			}
			w := tc.want
			if got.Status != w.Status || got.Result != w.Result || got.AcceptReason != w.AcceptReason || got.ChargedBack != w.ChargedBack ||
				got.Released != w.Released || got.Frozen != w.Frozen || got.Actions != w.Actions ||
				got.AcceptCalls != w.AcceptCalls || got.DefenseCalls != w.DefenseCalls {
				t.Fatalf("ledger = %+v\nwant     %+v", got, w)
			}
			if pe, _ := e.sim.Ledger().Payment(pid); pe.ChargedBack != w.ChargedBack {
				t.Fatalf("payment chargedBack = %d, want %d", pe.ChargedBack, w.ChargedBack)
			}
			if got := e.disputeTypes(id); strings.Join(got, ",") != strings.Join(tc.types, ",") {
				t.Fatalf("notifications %v, want %v", got, tc.types)
			}
		})
	}
}

func TestDisputeNotificationFields(t *testing.T) {
	e := newEnv(t)
	pid := e.paidWallet("fields", hkd("8000"), "ALIPAY_HK")
	id, err := e.sim.OpenDispute(pid, DisputeSpec{AmountMinor: 5000, ReasonCode: "10.4", ReasonMsg: "Fraud"})
	if err != nil {
		t.Fatal(err)
	}
	e.wantCode("accept", e.accept(id), gateway.CodeSuccess)
	e.quiesce()
	var accepted *gateway.NotifyDispute
	for _, r := range e.rcv.ofKind(gateway.KindNotifyDispute) {
		n := r.Value.(*gateway.NotifyDispute)
		if n.PaymentID != pid || n.DisputeID != id || n.PaymentRequestID != "fields" || n.DisputeAmount == nil ||
			n.DisputeAmount.Value != "5000" || n.DisputeReasonCode != "10.4" || n.DisputeReasonMsg != "Fraud" ||
			n.DefenseDueTime == "" || n.DisputeTime == "" || n.DisputeType != "CHARGEBACK" || n.DisputeSource != "ALIPAY_HK" {
			t.Fatalf("notification = %+v", n)
		}
		if n.DisputeNotificationType == gateway.DisputeAccepted {
			accepted = n
		}
	}
	if accepted == nil || accepted.DisputeAcceptReason != gateway.AcceptReasonMerchant || accepted.DisputeAcceptTime == "" {
		t.Fatalf("DISPUTE_ACCEPTED = %+v", accepted)
	}
	if pe, _ := e.sim.Ledger().Payment(pid); pe.ChargedBack != 5000 {
		t.Fatalf("chargedBack = %d", pe.ChargedBack)
	}
}

func TestDisputeEvidenceTemplate(t *testing.T) {
	e := newEnv(t)
	pid := e.paidWallet("template", hkd("8000"), "ALIPAY_HK")
	id, err := e.sim.OpenDispute(pid, DisputeSpec{})
	if err != nil {
		t.Fatal(err)
	}
	resp, c := e.download(id, gateway.EvidenceTemplate)
	e.wantCode("template", c, gateway.CodeSuccess)
	doc, err := base64.StdEncoding.DecodeString(resp.DisputeEvidence)
	if err != nil || resp.DisputeEvidenceFormat != gateway.EvidenceFormatPDF {
		t.Fatalf("template: %v, format %s", err, resp.DisputeEvidenceFormat)
	}
	for _, want := range []string{"%PDF-1.4", id, pid, "HKD 80.00", "%%EOF"} {
		if !bytes.Contains(doc, []byte(want)) {
			t.Errorf("template lacks %q", want)
		}
	}
	// The cross-reference table points at the objects.
	xref := bytes.Index(doc, []byte("xref\n"))
	if !bytes.Contains(doc, []byte("startxref\n"+strconv.Itoa(xref)+"\n")) {
		t.Errorf("startxref does not point at the xref table (%d)", xref)
	}
	if e.defend(id, resp.DisputeEvidence) != gateway.CodeSuccess {
		t.Fatal("the template itself is not accepted as evidence")
	}
}
