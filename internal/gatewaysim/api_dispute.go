package gatewaysim

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// The dispute APIs (acceptDispute, supplyDefenseDocument,
// downloadDisputeEvidence) and the dispute's own clock: a DEFENSE_DUE_ALERT
// a day before the defense deadline and, when the deadline passes with no
// answer, acceptance by timeout (the merchant is liable, the amount is
// charged back).

// defenseAlertLead is how long before the deadline DEFENSE_DUE_ALERT goes out.
const defenseAlertLead = 24 * time.Hour

// Dispute statuses beyond those of control.go.
const (
	disputeDefended = "DEFENDED"
	disputeAccepted = "ACCEPTED"
)

// blocks reports whether the dispute is unjudged (funds frozen, refunds refused).
func (d *dispute) blocks() bool { return d.status == disputeOpen || d.status == disputeDefended }

// scheduleDeadline arms the alert and the timeout of a new dispute; m.mu held.
func (s *Simulator) scheduleDeadline(d *dispute, now time.Time) {
	alert := d.defenseDue.Add(-defenseAlertLead)
	if alert.Before(now) {
		alert = now
	}
	m := d.p.m
	s.sched.at(alert, "dispute-alert", func(time.Time) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if d.status == disputeOpen && !d.alerted {
			d.alerted = true
			s.nt.enqueue(m, KindNotifyDispute, d.target(), d.p.id, d.id, d.notifyBody(gateway.DisputeDefenseDueAlert, d.typ))
		}
	})
	s.sched.at(d.defenseDue, "dispute-timeout", func(at time.Time) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if d.status == disputeOpen {
			s.acceptDispute(d, gateway.AcceptReasonTimeout, at)
		}
	})
}

// acceptDispute makes the merchant liable; m.mu must be held.
func (s *Simulator) acceptDispute(d *dispute, reason string, at time.Time) {
	d.status = disputeAccepted
	d.acceptReason = reason
	d.acceptTime = at
	d.resolutionTime = at
	d.p.chargedBack += d.amount.minor
	s.nt.enqueue(d.p.m, KindNotifyDispute, d.target(), d.p.id, d.id, d.notifyBody(gateway.DisputeAccepted, d.typ))
}

// disputeRequest decodes a dispute API request and finds its dispute; on
// failure the dispute is nil and the answer says why.
func disputeRequest[T any](s *Simulator, c *call, id func(*T) string) (*T, *dispute, answer) {
	req := new(T)
	if msg := decode(c.body, req); msg != "" {
		return nil, nil, fail(gateway.CodeParamIllegal, msg)
	}
	d, refused := s.disputeOf(c, id(req))
	return req, d, refused
}

// disputeOf finds a dispute of the calling merchant; another merchant's
// dispute is as unknown as one that does not exist.
func (s *Simulator) disputeOf(c *call, id string) (*dispute, answer) {
	c.requestID = id
	if msg := checkID("disputeId", id, 64, true); msg != "" {
		return nil, fail(gateway.CodeParamIllegal, msg)
	}
	s.idxMu.RLock()
	d := s.disputes[id]
	s.idxMu.RUnlock()
	if d == nil || d.p.m != c.m {
		return nil, fail(gateway.CodeParamIllegal, fmt.Sprintf("disputeId %s: no such dispute for client %s", id, c.clientID))
	}
	return d, answer{}
}

// refuseAnswer checks whether a dispute in its current state can take an
// answer at c.now; m.mu must be held. It returns an empty answer when it can.
func refuseAnswer(d *dispute, now time.Time) answer {
	switch {
	case d.status == disputeAccepted && d.acceptReason == gateway.AcceptReasonTimeout,
		d.status == disputeOpen && !now.Before(d.defenseDue):
		return fail(gateway.CodeTimeExceedsLimit, fmt.Sprintf("the defense of dispute %s was due at %s", d.id, fmtTime(d.defenseDue)))
	case d.status == disputeJudged || d.status == disputeCancelled:
		return fail(gateway.CodeNotAllowedInCurrentStatus, fmt.Sprintf("dispute %s is %s", d.id, d.status))
	}
	return answer{}
}

// resolution and defenseAnswer are the answers to an accepted or a defended
// dispute, the same each time they are asked again.
func (d *dispute) resolution() (gateway.Result, any) {
	r := gateway.NewResult(gateway.CodeSuccess)
	return r, gateway.AcceptDisputeResponse{Result: r, DisputeID: d.id, DisputeResolutionTime: fmtTime(d.resolutionTime)}
}

func (d *dispute) defenseAnswer() (gateway.Result, any) {
	r := gateway.NewResult(gateway.CodeSuccess)
	return r, gateway.SupplyDefenseDocumentResponse{Result: r, DisputeID: d.id, DisputeResolutionTime: fmtTime(d.resolutionTime)}
}

func (s *Simulator) apiAcceptDispute(c *call) answer {
	_, d, refused := disputeRequest(s, c, func(r *gateway.AcceptDisputeRequest) string { return r.DisputeID })
	if d == nil {
		return refused
	}
	m := c.m
	m.mu.Lock()
	defer m.mu.Unlock()
	d.acceptCalls++
	if d.status == disputeAccepted && d.acceptReason == gateway.AcceptReasonMerchant {
		return ok(d.resolution()) // the same call again: the first answer
	}
	if a := refuseAnswer(d, c.now); a.result.ResultCode != "" {
		return a
	}
	if d.status == disputeDefended {
		return fail(gateway.CodeRepeatRequest, fmt.Sprintf("dispute %s was defended at %s; it cannot also be accepted", d.id, fmtTime(d.resolutionTime)))
	}
	s.acceptDispute(d, gateway.AcceptReasonMerchant, c.now)
	return ok(d.resolution())
}

func (s *Simulator) apiSupplyDefenseDocument(c *call) answer {
	req, d, refused := disputeRequest(s, c, func(r *gateway.SupplyDefenseDocumentRequest) string { return r.DisputeID })
	if d == nil {
		return refused
	}
	doc, format, msg := decodeEvidence(req.DisputeEvidence)
	if msg != "" {
		return fail(gateway.CodeParamIllegal, msg)
	}
	m := c.m
	m.mu.Lock()
	defer m.mu.Unlock()
	d.defenseCalls++
	if d.evidence != nil { // defended before (and perhaps judged since)
		if bytes.Equal(doc, d.evidence) {
			return ok(d.defenseAnswer())
		}
		return fail(gateway.CodeRepeatRequest, fmt.Sprintf("a defense document was supplied for dispute %s at %s; it cannot be changed", d.id, fmtTime(d.resolutionTime)))
	}
	if a := refuseAnswer(d, c.now); a.result.ResultCode != "" {
		return a
	}
	if d.status == disputeAccepted {
		return fail(gateway.CodeRepeatRequest, fmt.Sprintf("dispute %s was accepted at %s; it cannot also be defended", d.id, fmtTime(d.acceptTime)))
	}
	d.status = disputeDefended
	d.evidence, d.evidenceFormat = doc, format
	d.resolutionTime = c.now
	s.nt.enqueue(m, KindNotifyDispute, d.target(), d.p.id, d.id, d.notifyBody(gateway.DisputeDefenseSupplied, d.typ))
	return ok(d.defenseAnswer())
}

// decodeEvidence checks a Base64 defense document and names its format.
func decodeEvidence(b64 string) (doc []byte, format, msg string) {
	switch {
	case b64 == "":
		return nil, "", "disputeEvidence is required"
	case len(b64) > gateway.MaxDisputeEvidenceChars:
		return nil, "", fmt.Sprintf("disputeEvidence is %d characters; at most %d allowed", len(b64), gateway.MaxDisputeEvidenceChars)
	}
	doc, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, "", "disputeEvidence is not Base64: " + err.Error()
	}
	format = evidenceFormat(doc)
	if format == "" {
		return nil, "", "disputeEvidence is not a PDF, Word, ZIP or JPG document"
	}
	return doc, format, ""
}

// evidenceFormat names a document's format from its first bytes.
func evidenceFormat(doc []byte) string {
	switch {
	case bytes.HasPrefix(doc, []byte("%PDF-")):
		return gateway.EvidenceFormatPDF
	case bytes.HasPrefix(doc, []byte{0xD0, 0xCF, 0x11, 0xE0}): // .doc
		return gateway.EvidenceFormatWord
	case bytes.HasPrefix(doc, []byte("PK\x03\x04")): // .zip, .docx
		return gateway.EvidenceFormatZIP
	case bytes.HasPrefix(doc, []byte{0xFF, 0xD8, 0xFF}):
		return gateway.EvidenceFormatJPG
	}
	return ""
}

func (s *Simulator) apiDownloadDisputeEvidence(c *call) answer {
	req, d, refused := disputeRequest(s, c, func(r *gateway.DownloadDisputeEvidenceRequest) string { return r.DisputeID })
	if d == nil {
		return refused
	}
	m := c.m
	m.mu.Lock()
	defer m.mu.Unlock()
	var doc []byte
	format := gateway.EvidenceFormatPDF
	switch req.DisputeEvidenceType {
	case gateway.EvidenceTemplate:
		doc = d.template()
	case gateway.EvidenceFile:
		if d.evidence == nil {
			return fail(gateway.CodeParamIllegal, fmt.Sprintf("no defense document has been supplied for dispute %s", d.id))
		}
		doc, format = d.evidence, d.evidenceFormat
	default:
		return fail(gateway.CodeParamIllegal, fmt.Sprintf("disputeEvidenceType %q: want %s or %s",
			req.DisputeEvidenceType, gateway.EvidenceTemplate, gateway.EvidenceFile))
	}
	r := gateway.NewResult(gateway.CodeSuccess)
	return ok(r, gateway.DownloadDisputeEvidenceResponse{Result: r,
		DisputeEvidence: base64.StdEncoding.EncodeToString(doc), DisputeEvidenceFormat: format})
}

// template is the prefilled defense template: a one-page PDF with the
// transaction and dispute facts.
func (d *dispute) template() []byte {
	p := d.p
	lines := []string{
		"Dispute defense template",
		"Dispute ID: " + d.id,
		"Dispute type: " + d.typ,
		"Reason: " + d.reasonCode + " " + d.reasonMsg,
		"Disputed amount: " + d.amount.currency + " " + d.amount.major(),
		"Defense due: " + fmtTime(d.defenseDue),
		"Payment ID: " + p.id,
		"Payment request ID: " + p.requestID,
		"Payment amount: " + p.amount.currency + " " + p.amount.major(),
		"Payment method: " + p.method,
		"Payment time: " + fmtTime(p.paymentTime),
		"Merchant: " + p.m.clientID,
		"Evidence to attach: proof of delivery, customer communication, refund policy.",
	}
	return EvidencePDF(lines...)
}

// EvidencePDF lays lines out on one A4 page in Helvetica: a valid PDF 1.4
// with a correct cross-reference table. The simulator's evidence template
// is one; tests and the demo use it to make defense documents.
func EvidencePDF(lines ...string) []byte {
	var text strings.Builder
	text.WriteString("BT /F1 11 Tf 56 780 Td 16 TL\n")
	for _, l := range lines {
		esc := strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(l)
		fmt.Fprintf(&text, "(%s) Tj T*\n", esc)
	}
	text.WriteString("ET")
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", text.Len(), text.String()),
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}
