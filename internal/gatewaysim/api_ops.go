package gatewaysim

import (
	"fmt"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// ---- capture ------------------------------------------------------------------

// newCapture records a capture; m.mu must be held. Synchronous captures are
// final at once; asynchronous ones finish after Behavior.CaptureDelay.
func (s *Simulator) newCapture(p *payment, requestID string, a amt, auto, isLast bool, at time.Time, async bool) *capture {
	cp := &capture{p: p, id: s.newID(idCapture), requestID: requestID, amount: a, createTime: at, isLast: isLast, auto: auto,
		status: gateway.PaymentStatusProcessing}
	if auto {
		cp.requestID = p.requestID
	}
	p.captures = append(p.captures, cp)
	if isLast {
		p.authClosed = true
	}
	if async {
		s.sched.at(at.Add(s.Behavior().captureDelay()), "capture", func(at time.Time) {
			p.m.mu.Lock()
			defer p.m.mu.Unlock()
			s.settleCapture(cp, at)
		})
		return cp
	}
	s.settleCapture(cp, at)
	return cp
}

func (s *Simulator) settleCapture(cp *capture, at time.Time) {
	if cp.status != gateway.PaymentStatusProcessing {
		return
	}
	p := cp.p
	cp.time = at
	if magicCard(p.card) == "CAPTURE_DECLINED" {
		cp.status = gateway.PaymentStatusFail
		cp.resultCode = gateway.CodeUserBalanceNotEnough
	} else {
		cp.status = gateway.PaymentStatusSuccess
	}
	body := gateway.NotifyCapture{
		NotifyType: gateway.NotifyTypeCaptureResult, Result: cp.result(), CaptureRequestID: cp.requestID,
		PaymentID: p.id, CaptureID: cp.id, CaptureAmount: cp.amount.wire(), CaptureTime: fmtTime(cp.time),
	}
	s.nt.enqueue(p.m, KindNotifyCapture, p.notifyTarget(), p.id, cp.requestID, body)
}

func (s *Simulator) apiCapture(c *call) answer {
	var req gateway.CaptureRequest
	if msg := decode(c.body, &req); msg != "" {
		return fail(gateway.CodeParamIllegal, msg)
	}
	c.requestID = req.CaptureRequestID
	if msg := checkID("captureRequestId", req.CaptureRequestID, 64, true); msg != "" {
		return fail(gateway.CodeParamIllegal, msg)
	}
	if req.PaymentID == "" {
		return fail(gateway.CodeParamIllegal, "paymentId is required")
	}
	a, err := parseAmount("captureAmount", req.CaptureAmount)
	if err != nil {
		return fail(gateway.CodeParamIllegal, err.Error())
	}
	isLast := req.IsLastCapture != nil && bool(*req.IsLastCapture)
	m := c.m
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count("capture", req.CaptureRequestID)
	if cp := m.captures[req.CaptureRequestID]; cp != nil {
		if cp.p.id != req.PaymentID || cp.amount != a {
			return fail(gateway.CodeRepeatReqInconsistent, fmt.Sprintf(
				"captureRequestId %s was used with a different paymentId or captureAmount", req.CaptureRequestID))
		}
		r := cp.response()
		return ok(r.Result, r)
	}
	p := m.byID[req.PaymentID]
	switch {
	case p == nil:
		return fail(gateway.CodeAuthNotFound, fmt.Sprintf("no authorization with paymentId %s", req.PaymentID))
	case !p.isAuth:
		return fail(gateway.CodeAuthNotFound, fmt.Sprintf("payment %s is not an authorization", req.PaymentID))
	case p.status == gateway.PaymentStatusCancelled:
		return fail(gateway.CodeAuthCancelled, fmt.Sprintf("the authorization %s was cancelled", p.id))
	case p.status != gateway.PaymentStatusSuccess:
		return fail(gateway.CodeOrderStatusInvalid, fmt.Sprintf("payment %s is %s, not authorized", p.id, p.status))
	case !c.now.Before(p.authExpiry):
		return fail(gateway.CodeAuthExpired, fmt.Sprintf("the authorization expired at %s", fmtTime(p.authExpiry)))
	case a.currency != p.amount.currency:
		return fail(gateway.CodeCurrencyNotSupport, fmt.Sprintf("captureAmount.currency %s differs from the authorization's %s", a.currency, p.amount.currency))
	case p.authClosed:
		return fail(gateway.CodeOrderStatusInvalid, "the authorization was closed by a capture with isLastCapture=true")
	}
	if p.capturingTotal()+a.minor > p.amount.minor {
		return fail(gateway.CodeCaptureAmountExceedAuth, fmt.Sprintf("captures would total %s %s, more than the authorized %s %s",
			a.currency, formatMajor(p.capturingTotal()+a.minor, a.exp), a.currency, p.amount.major()))
	}
	cp := s.newCapture(p, req.CaptureRequestID, a, false, isLast, c.now, s.Behavior().CaptureAsync)
	m.captures[req.CaptureRequestID] = cp
	r := cp.response()
	return ok(r.Result, r)
}

// ---- cancel -------------------------------------------------------------------

// cancelDeadline is 00:15 GMT+8 on the day after creation (GMT+8 date).
func cancelDeadline(created time.Time) time.Time {
	t := created.In(gmt8)
	return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 15, 0, 0, gmt8)
}

func (s *Simulator) apiCancel(c *call) answer {
	var req gateway.CancelRequest
	if msg := decode(c.body, &req); msg != "" {
		return fail(gateway.CodeParamIllegal, msg)
	}
	return c.withPayment(req.PaymentID, req.PaymentRequestID, func(p *payment) answer { return s.cancel(c, p) })
}

// cancel cancels p (m.mu held).
func (s *Simulator) cancel(c *call, p *payment) answer {
	m := c.m
	resp := func() answer {
		r := gateway.CancelResponse{Result: gateway.NewResult(gateway.CodeSuccess), PaymentID: p.id,
			PaymentRequestID: p.requestID, CancelTime: fmtTime(p.cancelTime)}
		return ok(r.Result, r)
	}
	if p.status == gateway.PaymentStatusCancelled {
		return resp()
	}
	if c.now.After(cancelDeadline(p.createTime)) {
		return fail(gateway.CodeCancelWindowExceed, fmt.Sprintf("payments created at %s can be cancelled until %s",
			fmtTime(p.createTime), fmtTime(cancelDeadline(p.createTime))))
	}
	switch p.status {
	case gateway.PaymentStatusFail:
		return fail(gateway.CodeOrderStatusInvalid, fmt.Sprintf("payment %s already failed (%s)", p.id, p.resultCode))
	case gateway.PaymentStatusSuccess:
		if p.openDispute() != nil {
			return fail(gateway.CodeRefundNotAllowedDispute, "the payment has a chargeback that is not judged; a cancellation would refund it")
		}
		for _, cp := range p.captures {
			if cp.status == gateway.PaymentStatusProcessing {
				return fail(gateway.CodeOrderStatusInvalid, "a capture of this payment is still in process")
			}
		}
		// Cancelling after completion refunds what is left (captured, for
		// an authorization) and releases the rest of an authorization.
		if left := p.paidTotal() - p.refundingTotal() - p.chargedBack; left > 0 {
			r := &refund{p: p, id: s.newID(idRefund), amount: amt{p.amount.currency, left, p.amount.exp},
				status: gateway.RefundStatusSuccess, createTime: c.now, refundTime: c.now, byCancel: true}
			p.refunds = append(p.refunds, r)
			m.refundsByID[r.id] = r
		}
	}
	p.status = gateway.PaymentStatusCancelled
	p.cancelTime = c.now
	return resp()
}

// ---- refund -------------------------------------------------------------------

func (s *Simulator) apiRefund(c *call) answer {
	var req gateway.RefundRequest
	if msg := decode(c.body, &req); msg != "" {
		return fail(gateway.CodeParamIllegal, msg)
	}
	c.requestID = req.RefundRequestID
	a, no := checkRefundRequest(&req)
	if no != nil {
		return no.answer()
	}
	m := c.m
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count("refund", req.RefundRequestID)
	if r := m.refunds[req.RefundRequestID]; r != nil {
		if r.p.id != req.PaymentID || r.amount != a || r.captureID != req.CaptureID {
			return fail(gateway.CodeRepeatReqInconsistent, fmt.Sprintf(
				"refundRequestId %s was used with a different paymentId, refundAmount or captureId", req.RefundRequestID))
		}
		resp := r.response()
		return ok(resp.Result, resp)
	}
	p := m.byID[req.PaymentID]
	if p == nil {
		return fail(gateway.CodeOrderNotExist, fmt.Sprintf("no payment with paymentId %s", req.PaymentID))
	}
	if no := s.checkRefundable(c.now, p, a, req.CaptureID); no != nil {
		return no.answer()
	}
	r := s.recordRefund(c, &req, p, a)
	resp := r.response()
	return ok(resp.Result, resp)
}

// checkRefundRequest checks a refund's fields on their own, before the
// payment is looked up.
func checkRefundRequest(req *gateway.RefundRequest) (amt, *refusal) {
	if msg := checkID("refundRequestId", req.RefundRequestID, 64, true); msg != "" {
		return amt{}, refuse(gateway.CodeParamIllegal, msg)
	}
	if req.PaymentID == "" {
		return amt{}, refuse(gateway.CodeParamIllegal, "paymentId is required")
	}
	a, err := parseAmount("refundAmount", req.RefundAmount)
	if err != nil {
		return amt{}, refuse(gateway.CodeParamIllegal, err.Error())
	}
	if msg := validURL("refundNotifyUrl", req.RefundNotifyURL); msg != "" {
		return amt{}, refuse(gateway.CodeParamIllegal, msg)
	}
	if len(req.RefundReason) > 256 {
		return amt{}, refuse(gateway.CodeParamIllegal, "refundReason is longer than 256 characters")
	}
	return a, nil
}

// checkRefundable decides whether payment p can refund a now (of the capture
// captureID when set): its state, currency, method rules, disputes, the
// refund window and what is left to refund. m.mu must be held.
func (s *Simulator) checkRefundable(now time.Time, p *payment, a amt, captureID string) *refusal {
	switch p.status {
	case gateway.PaymentStatusSuccess:
	case gateway.PaymentStatusCancelled:
		return refuse(gateway.CodeOrderIsCanceled, fmt.Sprintf("payment %s was cancelled", p.id))
	default:
		return refuse(gateway.CodeOrderStatusInvalid, fmt.Sprintf("payment %s is %s; only successful payments can be refunded", p.id, p.status))
	}
	if a.currency != p.amount.currency {
		return refuse(gateway.CodeParamIllegal, fmt.Sprintf("refundAmount.currency %s differs from the payment's %s", a.currency, p.amount.currency))
	}
	if kind, msg := checkMethodRules(p.method, a); kind != "" {
		return refuse(gateway.CodeParamIllegal, "refundAmount: "+msg)
	}
	if d := p.openDispute(); d != nil {
		return refuse(gateway.CodeRefundNotAllowedDispute, fmt.Sprintf("dispute %s on payment %s is not judged", d.id, p.id))
	}
	if now.After(p.paymentTime.Add(s.opts.RefundWindow)) {
		return refuse(gateway.CodeRefundWindowExceed, fmt.Sprintf("refunds were accepted until %s", fmtTime(p.paymentTime.Add(s.opts.RefundWindow))))
	}
	base := p.paidTotal() - p.chargedBack
	if p.isAuth && base <= 0 {
		return refuse(gateway.CodeOrderStatusInvalid, "nothing of this authorization has been captured; cancel it instead")
	}
	if captureID != "" {
		if no := checkCaptureRefundable(p, captureID, a); no != nil {
			return no
		}
	}
	if total := p.refundingTotal() + a.minor; total > base {
		return refuse(gateway.CodeRefundAmountExceed, fmt.Sprintf("refunds would total %s %s, more than the refundable %s %s",
			a.currency, formatMajor(total, a.exp), a.currency, formatMajor(base, a.exp)))
	}
	return nil
}

// checkCaptureRefundable checks a refund of one capture: it must be a
// successful capture of p, and its refunds must stay within its amount.
func checkCaptureRefundable(p *payment, captureID string, a amt) *refusal {
	var cp *capture
	for _, x := range p.captures {
		if x.id == captureID {
			cp = x
		}
	}
	if cp == nil || cp.status != gateway.PaymentStatusSuccess {
		return refuse(gateway.CodeParamIllegal, fmt.Sprintf("captureId %s is not a successful capture of payment %s", captureID, p.id))
	}
	var onCapture int64
	for _, r := range p.refunds {
		if r.captureID == cp.id && r.status != gateway.RefundStatusFail {
			onCapture += r.amount.minor
		}
	}
	if onCapture+a.minor > cp.amount.minor {
		return refuse(gateway.CodeRefundAmountExceed, fmt.Sprintf("refunds of capture %s would exceed its amount", cp.id))
	}
	return nil
}

// recordRefund books an accepted refund and settles it: at once, or after
// Behavior.RefundDelay when refunds are asynchronous (by behaviour or by the
// request's isAsyncRefund). m.mu must be held.
func (s *Simulator) recordRefund(c *call, req *gateway.RefundRequest, p *payment, a amt) *refund {
	m := c.m
	async := s.Behavior().RefundAsync || (req.IsAsyncRefund != nil && bool(*req.IsAsyncRefund))
	r := &refund{p: p, id: s.newID(idRefund), requestID: req.RefundRequestID, amount: a, status: gateway.RefundStatusProcessing,
		createTime: c.now, notifyURL: req.RefundNotifyURL, captureID: req.CaptureID, async: async}
	p.refunds = append(p.refunds, r)
	m.refunds[r.requestID] = r
	m.refundsByID[r.id] = r
	if !async {
		s.settleRefund(r, c.now)
		return r
	}
	s.sched.at(c.now.Add(s.Behavior().refundDelay()), "refund", func(at time.Time) {
		m.mu.Lock()
		defer m.mu.Unlock()
		s.settleRefund(r, at)
	})
	return r
}

// settleRefund makes a refund final and notifies; m.mu must be held.
func (s *Simulator) settleRefund(r *refund, at time.Time) {
	if r.status != gateway.RefundStatusProcessing {
		return
	}
	if code := magicAmount(r.amount.minor); isDeclineCode(code) {
		r.status = gateway.RefundStatusFail
		r.resultCode = gateway.CodeProcessFail
	} else {
		r.status = gateway.RefundStatusSuccess
		r.refundTime = at
	}
	target := r.notifyURL
	if target == "" {
		target = r.p.m.defaultNotifyURL()
	}
	body := gateway.NotifyRefund{
		NotifyType: gateway.NotifyTypeRefundResult, Result: r.result(), RefundStatus: r.status,
		RefundRequestID: r.requestID, RefundID: r.id, RefundAmount: r.amount.wire(), RefundTime: fmtTime(r.refundTime),
	}
	s.nt.enqueue(r.p.m, KindNotifyRefund, target, r.p.id, r.requestID, body)
}
