package gatewaysim

import (
	"fmt"
	"sort"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

func (s *Simulator) apiInquiryPayment(c *call) answer {
	var req gateway.InquiryPaymentRequest
	if msg := decode(c.body, &req); msg != "" {
		return fail(gateway.CodeParamIllegal, msg)
	}
	return c.withPayment(req.PaymentID, req.PaymentRequestID, func(p *payment) answer {
		resp := p.inquiry()
		return ok(resp.Result, resp)
	})
}

// withPayment runs f, under the merchant's lock, on the payment a request
// names by paymentId or paymentRequestId (one is required; unknown:
// ORDER_NOT_EXIST).
func (c *call) withPayment(paymentID, paymentRequestID string, f func(p *payment) answer) answer {
	if paymentID == "" && paymentRequestID == "" {
		return fail(gateway.CodeParamIllegal, "paymentId or paymentRequestId is required")
	}
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	p := c.paymentByEither(paymentID, paymentRequestID)
	if p == nil {
		return fail(gateway.CodeOrderNotExist, "the payment does not exist")
	}
	return f(p)
}

// inquiry builds the inquiryPayment answer; m.mu must be held.
func (p *payment) inquiry() gateway.InquiryPaymentResponse {
	pr := p.resultFor()
	resp := gateway.InquiryPaymentResponse{
		Result: gateway.NewResult(gateway.CodeSuccess), PaymentStatus: p.status,
		PaymentResultCode: pr.ResultCode, PaymentResultMessage: pr.ResultMessage,
		PaymentRequestID: p.requestID, PaymentID: p.id, PaymentAmount: p.amount.wire(),
		PaymentCreateTime: fmtTime(p.createTime), PaymentTime: fmtTime(p.paymentTime),
		CardInfo: p.cardInfo(), CustomsDeclarationAmount: p.customsAmount(), PaymentMethodType: p.method,
		Transactions: p.transactions(),
	}
	if p.isAuth && !p.authExpiry.IsZero() {
		resp.AuthExpiryTime = fmtTime(p.authExpiry)
		resp.AuthPaymentID = p.id
	}
	return resp
}

type txAt struct {
	t   time.Time
	seq int
	tx  gateway.Transaction
}

// transactions lists the payment and every capture, refund and cancellation.
func (p *payment) transactions() []gateway.Transaction {
	var list []txAt
	add := func(t time.Time, tx gateway.Transaction) {
		list = append(list, txAt{t, len(list), tx})
	}
	payTime := p.paymentTime
	if payTime.IsZero() {
		payTime = p.createTime
	}
	pr := p.resultFor()
	payStatus := p.status
	if payStatus == gateway.PaymentStatusCancelled {
		if p.paymentTime.IsZero() {
			payStatus = gateway.PaymentStatusFail
		} else {
			payStatus = gateway.PaymentStatusSuccess
		}
		pr = gateway.NewResult(map[bool]string{true: gateway.CodeSuccess, false: gateway.CodeOrderIsCanceled}[payStatus == gateway.PaymentStatusSuccess])
	}
	add(p.createTime, gateway.Transaction{TransactionType: gateway.TransactionPayment, TransactionStatus: payStatus,
		TransactionRequestID: p.requestID, TransactionID: p.id, TransactionAmount: p.amount.wire(),
		TransactionTime: fmtTime(payTime), TransactionResult: &pr})
	for _, cp := range p.captures {
		r := cp.result()
		t := cp.time
		if t.IsZero() {
			t = cp.createTime
		}
		add(cp.createTime, gateway.Transaction{TransactionType: gateway.TransactionCapture, TransactionStatus: cp.status,
			TransactionRequestID: cp.requestID, TransactionID: cp.id, TransactionAmount: cp.amount.wire(),
			TransactionTime: fmtTime(t), TransactionResult: &r})
	}
	for _, rf := range p.refunds {
		r := rf.result()
		t := rf.refundTime
		if t.IsZero() {
			t = rf.createTime
		}
		add(rf.createTime, gateway.Transaction{TransactionType: gateway.TransactionRefund, TransactionStatus: rf.status,
			TransactionRequestID: rf.requestID, TransactionID: rf.id, TransactionAmount: rf.amount.wire(),
			TransactionTime: fmtTime(t), TransactionResult: &r})
	}
	if p.status == gateway.PaymentStatusCancelled {
		r := gateway.NewResult(gateway.CodeSuccess)
		add(p.cancelTime, gateway.Transaction{TransactionType: gateway.TransactionCancel, TransactionStatus: gateway.PaymentStatusSuccess,
			TransactionID: p.id, TransactionAmount: p.amount.wire(), TransactionTime: fmtTime(p.cancelTime), TransactionResult: &r})
	}
	sort.SliceStable(list, func(i, j int) bool {
		if !list[i].t.Equal(list[j].t) {
			return list[i].t.Before(list[j].t)
		}
		return list[i].seq < list[j].seq
	})
	out := make([]gateway.Transaction, len(list))
	for i, x := range list {
		out[i] = x.tx
	}
	return out
}

func (s *Simulator) apiInquiryRefund(c *call) answer {
	var req gateway.InquiryRefundRequest
	if msg := decode(c.body, &req); msg != "" {
		return fail(gateway.CodeParamIllegal, msg)
	}
	if req.RefundID == "" && req.RefundRequestID == "" {
		return fail(gateway.CodeParamIllegal, "refundId or refundRequestId is required")
	}
	m := c.m
	m.mu.Lock()
	defer m.mu.Unlock()
	var r *refund
	if req.RefundID != "" {
		c.requestID = req.RefundID
		r = m.refundsByID[req.RefundID]
	} else {
		c.requestID = req.RefundRequestID
		r = m.refunds[req.RefundRequestID]
	}
	if r == nil {
		return fail(gateway.CodeOrderNotExist, "the refund does not exist")
	}
	resp := gateway.InquiryRefundResponse{
		Result: gateway.NewResult(gateway.CodeSuccess), RefundID: r.id, RefundRequestID: r.requestID,
		RefundAmount: r.amount.wire(), RefundStatus: r.status, RefundTime: fmtTime(r.refundTime),
	}
	if r.status == gateway.RefundStatusSuccess {
		resp.ActualRefundAmount = r.amount.wire()
	}
	return ok(resp.Result, resp)
}

// ---- customs ---------------------------------------------------------------------

func (s *Simulator) apiDeclare(c *call) answer {
	var req gateway.DeclareRequest
	if msg := decode(c.body, &req); msg != "" {
		return fail(gateway.CodeParamIllegal, msg)
	}
	c.requestID = req.DeclarationRequestID
	if msg := checkID("declarationRequestId", req.DeclarationRequestID, 32, true); msg != "" {
		return fail(gateway.CodeParamIllegal, msg)
	}
	switch {
	case req.PaymentID == "":
		return fail(gateway.CodeParamIllegal, "paymentId is required")
	case req.Customs.CustomsCode == "":
		return fail(gateway.CodeParamIllegal, "customs.customsCode is required")
	case req.Customs.Region == "":
		return fail(gateway.CodeParamIllegal, "customs.region is required")
	case req.Customs.Region != "CN":
		return fail(gateway.CodeParamIllegal, fmt.Sprintf("customs.region %q: only CN is supported", req.Customs.Region))
	case req.MerchantCustomsInfo.MerchantCustomsCode == "":
		return fail(gateway.CodeParamIllegal, "merchantCustomsInfo.merchantCustomsCode is required")
	case req.MerchantCustomsInfo.MerchantCustomsName == "":
		return fail(gateway.CodeParamIllegal, "merchantCustomsInfo.merchantCustomsName is required")
	case bool(req.SplitOrder) && req.SubOrderID == "":
		return fail(gateway.CodeParamIllegal, "suborderId is required when splitOrder is true")
	}
	a, err := parseAmount("declarationAmount", req.DeclarationAmount)
	if err != nil {
		return fail(gateway.CodeParamIllegal, err.Error())
	}
	if a.currency != "CNY" {
		return fail(gateway.CodeParamIllegal, fmt.Sprintf("declarationAmount.currency %s: declarations are in CNY only", a.currency))
	}
	if bc := req.BuyerCertificate; bc != nil && (bc.CertificateType == "" || bc.CertificateNo == "") {
		return fail(gateway.CodeParamIllegal, "buyerCertificate.certificateType and certificateNo are required")
	}
	m := c.m
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count("declaration", req.DeclarationRequestID)
	certNo := ""
	if req.BuyerCertificate != nil {
		certNo = req.BuyerCertificate.CertificateNo
	}
	if d := m.declarations[req.DeclarationRequestID]; d != nil {
		if d.p.id != req.PaymentID || d.amount != a || d.customs != req.Customs || d.info != req.MerchantCustomsInfo ||
			d.splitOrder != bool(req.SplitOrder) || d.subOrderID != req.SubOrderID || d.certNo != certNo {
			return fail(gateway.CodeRepeatReqInconsistent, fmt.Sprintf(
				"declarationRequestId %s was used with different parameters", req.DeclarationRequestID))
		}
		return declareAnswer(d)
	}
	p := m.byID[req.PaymentID]
	switch {
	case p == nil:
		return fail(gateway.CodeOrderNotExist, fmt.Sprintf("no payment with paymentId %s", req.PaymentID))
	case p.method != "ALIPAY_CN":
		return fail(gateway.CodeParamIllegal, fmt.Sprintf("payment %s was paid with %s; only ALIPAY_CN payments are declared", p.id, p.method))
	case p.status != gateway.PaymentStatusSuccess:
		return fail(gateway.CodeOrderStatusInvalid, fmt.Sprintf("payment %s is %s, not SUCCESS", p.id, p.status))
	case p.customsCNY <= 0:
		return fail(gateway.CodeParamIllegal, fmt.Sprintf("payment %s has no customs declaration amount (currency %s)", p.id, p.amount.currency))
	}
	if total := p.declaredTotal() + a.minor; total > p.customsCNY {
		return fail(gateway.CodeDeclarationAmountExceed, fmt.Sprintf("declarations would total CNY %s, more than the payment's CNY %s",
			formatMajor(total, 2), formatMajor(p.customsCNY, 2)))
	}
	d := &declaration{p: p, requestID: req.DeclarationRequestID, customsPaymentID: s.newID(idCustomsPay),
		customsOrderID: s.newID(idCustomsOrd), clearingID: s.newID(idClearing), amount: a, customs: req.Customs,
		info: req.MerchantCustomsInfo, splitOrder: bool(req.SplitOrder), subOrderID: req.SubOrderID, certNo: certNo,
		createTime: c.now, step: s.Behavior().declarationStep(), fail: req.Customs.CustomsCode == MagicCustomsReject}
	p.declarations = append(p.declarations, d)
	m.declarations[d.requestID] = d
	return declareAnswer(d)
}

// MagicCustomsReject as customs.customsCode makes the declaration end FAIL.
const MagicCustomsReject = "SIM_REJECT"

func declareAnswer(d *declaration) answer {
	resp := gateway.DeclareResponse{
		Result: gateway.NewResult(gateway.CodeSuccess), CustomsPaymentID: d.customsPaymentID, CustomsOrderID: d.customsOrderID,
		ClearingChannel: "NUCC", ClearingTransactionID: d.clearingID,
	}
	if d.certNo != "" {
		resp.IdentityCheckResult = "CHECK_PASSED"
	}
	return ok(resp.Result, resp)
}

func (s *Simulator) apiInquiryDeclarations(c *call) answer {
	var req gateway.InquiryDeclarationRequestsRequest
	if msg := decode(c.body, &req); msg != "" {
		return fail(gateway.CodeParamIllegal, msg)
	}
	switch n := len(req.DeclarationRequestIDs); {
	case n == 0:
		return fail(gateway.CodeParamIllegal, "declarationRequestIds is required")
	case n > gateway.MaxDeclarationIDsPerInquiry:
		return fail(gateway.CodeParamIllegal, fmt.Sprintf("declarationRequestIds has %d ids; at most %d are allowed", n, gateway.MaxDeclarationIDsPerInquiry))
	}
	m := c.m
	m.mu.Lock()
	defer m.mu.Unlock()
	resp := gateway.InquiryDeclarationRequestsResponse{Result: gateway.NewResult(gateway.CodeSuccess)}
	for _, id := range req.DeclarationRequestIDs {
		if d := m.declarations[id]; d != nil {
			resp.DeclarationRecords = append(resp.DeclarationRecords, d.record(c.now))
		} else {
			resp.DeclarationRequestsNotFound = append(resp.DeclarationRequestsNotFound, id)
		}
	}
	return ok(resp.Result, resp)
}

// paymentByEither finds a payment by paymentId, which wins when both are
// given, or by paymentRequestId (inquiryPayment and cancel), and records the
// id used for the call's log line. The merchant's lock must be held.
func (c *call) paymentByEither(paymentID, paymentRequestID string) *payment {
	if paymentID != "" {
		c.requestID = paymentID
		return c.m.byID[paymentID]
	}
	c.requestID = paymentRequestID
	return c.m.payments[paymentRequestID]
}
