package gatewaysim

import (
	"strings"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

type payment struct {
	m           *merchant
	id          string
	requestID   string
	amount      amt
	method      string
	methodID    string
	card        *card
	isAuth      bool
	captureMode string
	settleCur   string // settlementStrategy.settlementCurrency, "" for the payment's own

	createTime, expiryTime, paymentTime, authExpiry, cancelTime time.Time

	status        string
	resultCode    string
	resultMessage string

	notifyURL   string
	redirectURL string
	firstResp   []byte // the U answer, replayed to idempotent retries while unpaid

	needs3DS       bool
	needsCard      bool // the checkout page collects the card number
	challengeFails int
	pendingDone    bool // PENDING step of magic amount done

	captures     []*capture
	refunds      []*refund
	declarations []*declaration
	disputes     []*dispute
	authClosed   bool  // a capture with isLastCapture released the rest
	chargedBack  int64 // ACCEPT_BY_MERCHANT judgements
	customsCNY   int64 // customsDeclarationAmount in CNY fen, 0 if none
}

type card struct {
	number  string // full number; never logged or returned
	brand   string
	token   string
	threeDS bool // a challenge was passed
}

func (c *card) last4() string {
	if len(c.number) < 4 {
		return c.number
	}
	return c.number[len(c.number)-4:]
}

func (c *card) masked() string {
	n := c.number
	if len(n) < 10 {
		return strings.Repeat("*", len(n))
	}
	return n[:6] + strings.Repeat("*", len(n)-10) + n[len(n)-4:]
}

type capture struct {
	p          *payment
	id         string
	requestID  string
	amount     amt
	status     string
	resultCode string
	createTime time.Time
	time       time.Time
	isLast     bool
	auto       bool
	resp       []byte // the U answer for an asynchronous capture still in process
}

type refund struct {
	p          *payment
	id         string
	requestID  string
	amount     amt
	status     string
	resultCode string
	createTime time.Time
	refundTime time.Time
	notifyURL  string
	captureID  string
	byCancel   bool
	async      bool
}

type declaration struct {
	p                *payment
	requestID        string
	customsPaymentID string
	customsOrderID   string
	clearingID       string
	amount           amt
	customs          gateway.Customs
	info             gateway.MerchantCustomsInfo
	splitOrder       bool
	subOrderID       string
	certNo           string
	createTime       time.Time
	step             time.Duration
	fail             bool
}

type dispute struct {
	p          *payment
	id         string
	typ        string // CHARGEBACK, RETRIEVAL_REQUEST, COMPLIANCE_REQUEST
	amount     amt
	status     string // OPEN, DEFENDED, ACCEPTED, JUDGED, CANCELLED
	result     string
	reasonCode string
	reasonMsg  string
	source     string // the card scheme or wallet handling it
	createTime time.Time
	judgedTime time.Time
	defenseDue time.Time
	alerted    bool // DEFENSE_DUE_ALERT sent

	// The merchant's answer: accepted (acceptReason, acceptTime) or
	// defended (evidence); resolutionTime is when it was given.
	acceptReason   string
	acceptTime     time.Time
	resolutionTime time.Time
	evidence       []byte
	evidenceFormat string
	acceptCalls    int
	defenseCalls   int
}

const (
	disputeOpen      = "OPEN"
	disputeJudged    = "JUDGED"
	disputeCancelled = "CANCELLED"
)

// openDispute returns the payment's unjudged dispute (open or defended), if any.
func (p *payment) openDispute() *dispute {
	for _, d := range p.disputes {
		if d.blocks() {
			return d
		}
	}
	return nil
}

// sumMinor totals the minor-unit amounts of the items keep accepts.
func sumMinor[T any](items []T, minor func(T) int64, keep func(T) bool) int64 {
	var t int64
	for _, it := range items {
		if keep(it) {
			t += minor(it)
		}
	}
	return t
}

func captureMinor(c *capture) int64 { return c.amount.minor }
func refundMinor(r *refund) int64   { return r.amount.minor }

// capturedTotal is the sum of successful captures; capturingTotal adds those
// still in process (they count against the authorization).
func (p *payment) capturedTotal() int64 {
	return sumMinor(p.captures, captureMinor, func(c *capture) bool { return c.status == gateway.PaymentStatusSuccess })
}

func (p *payment) capturingTotal() int64 {
	return sumMinor(p.captures, captureMinor, func(c *capture) bool { return c.status != gateway.PaymentStatusFail })
}

// paidTotal is what the merchant received: the amount of a successful
// payment, or what was captured of an authorization.
func (p *payment) paidTotal() int64 {
	if p.isAuth {
		return p.capturedTotal()
	}
	if p.status == gateway.PaymentStatusSuccess || (p.status == gateway.PaymentStatusCancelled && !p.paymentTime.IsZero()) {
		return p.amount.minor
	}
	return 0
}

// refundingTotal is the sum of refunds that are not FAIL.
func (p *payment) refundingTotal() int64 {
	return sumMinor(p.refunds, refundMinor, func(r *refund) bool { return r.status != gateway.RefundStatusFail })
}

func (p *payment) refundedTotal() int64 {
	return sumMinor(p.refunds, refundMinor, func(r *refund) bool { return r.status == gateway.RefundStatusSuccess })
}

func (p *payment) declaredTotal() int64 {
	var t int64
	for _, d := range p.declarations {
		t += d.amount.minor
	}
	return t
}

func (p *payment) notifyTarget() string {
	if p.notifyURL != "" {
		return p.notifyURL
	}
	return p.m.defaultNotifyURL()
}

// ---- wire views --------------------------------------------------------------

func (p *payment) cardInfo() *gateway.CardInfo {
	if p.card == nil || p.card.number == "" {
		return nil
	}
	ci := &gateway.CardInfo{
		CardNo: p.card.masked(), CardBrand: p.card.brand, CardToken: p.card.token,
		Funding: "CREDIT", IssuingCountry: "US", PaymentMethodRegion: "GLOBAL",
	}
	if p.card.threeDS {
		ci.ThreeDSResult = map[string]string{"eci": "05", "threeDSVersion": "2.2.0"}
	}
	return ci
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return gateway.FormatTime(t)
}

func (p *payment) customsAmount() *gateway.Amount {
	if p.customsCNY <= 0 {
		return nil
	}
	return minorWire("CNY", p.customsCNY)
}

func (p *payment) resultFor() gateway.Result {
	switch p.status {
	case gateway.PaymentStatusSuccess:
		return gateway.NewResult(gateway.CodeSuccess)
	case gateway.PaymentStatusFail:
		return resultMsg(p.resultCode, p.resultMessage)
	case gateway.PaymentStatusCancelled:
		return gateway.NewResult(gateway.CodeOrderIsCanceled)
	default:
		return gateway.NewResult(gateway.CodePaymentInProcess)
	}
}

func resultMsg(code, msg string) gateway.Result {
	r := gateway.NewResult(code)
	if msg != "" {
		r.ResultMessage = msg
	}
	return r
}

func (p *payment) notifyPaymentBody(notifyType string) gateway.NotifyPayment {
	res := p.resultFor()
	if notifyType == gateway.NotifyTypePaymentPending {
		res = gateway.Result{ResultCode: gateway.CodeSuccess, ResultStatus: gateway.StatusSuccess, ResultMessage: "The payment is pending."}
	}
	n := gateway.NotifyPayment{
		NotifyType: notifyType, Result: res,
		PaymentRequestID: p.requestID, PaymentID: p.id, PaymentAmount: p.amount.wire(),
		PaymentCreateTime: fmtTime(p.createTime), PaymentTime: fmtTime(p.paymentTime),
		CustomsDeclarationAmount: p.customsAmount(), PaymentResultInfo: p.cardInfo(),
		PaymentMethodType: p.method,
	}
	if p.isAuth && p.status == gateway.PaymentStatusSuccess {
		n.AuthExpiryTime = fmtTime(p.authExpiry)
	}
	return n
}

func (c *capture) result() gateway.Result {
	switch c.status {
	case gateway.PaymentStatusSuccess:
		return gateway.NewResult(gateway.CodeSuccess)
	case gateway.PaymentStatusFail:
		return gateway.NewResult(c.resultCode)
	default:
		return gateway.NewResult(gateway.CodeCaptureInProcess)
	}
}

func (c *capture) response() gateway.CaptureResponse {
	return gateway.CaptureResponse{
		Result: c.result(), CaptureRequestID: c.requestID, CaptureID: c.id, PaymentID: c.p.id,
		CaptureAmount: c.amount.wire(), CaptureTime: fmtTime(c.time),
	}
}

func (r *refund) result() gateway.Result {
	switch r.status {
	case gateway.RefundStatusSuccess:
		return gateway.NewResult(gateway.CodeSuccess)
	case gateway.RefundStatusFail:
		return gateway.NewResult(r.resultCode)
	default:
		return gateway.NewResult(gateway.CodeRefundInProcess)
	}
}

func (r *refund) response() gateway.RefundResponse {
	return gateway.RefundResponse{
		Result: r.result(), RefundRequestID: r.requestID, RefundID: r.id, PaymentID: r.p.id,
		RefundAmount: r.amount.wire(), RefundTime: fmtTime(r.refundTime),
	}
}

func (d *declaration) status(now time.Time) (string, time.Time) {
	switch {
	case now.Before(d.createTime.Add(d.step)):
		return gateway.DeclarationWaiting, d.createTime
	case now.Before(d.createTime.Add(2 * d.step)):
		return gateway.DeclarationProcessing, d.createTime.Add(d.step)
	case d.fail:
		return gateway.DeclarationFail, d.createTime.Add(2 * d.step)
	default:
		return gateway.DeclarationSuccess, d.createTime.Add(2 * d.step)
	}
}

func (d *declaration) record(now time.Time) gateway.DeclarationRecord {
	st, mod := d.status(now)
	split := gateway.Bool(d.splitOrder)
	cu, info := d.customs, d.info
	r := gateway.DeclarationRecord{
		DeclarationRequestID: d.requestID, CustomsPaymentID: d.customsPaymentID, CustomsOrderID: d.customsOrderID,
		Customs: &cu, MerchantCustomsInfo: &info, DeclarationAmount: d.amount.wire(), SplitOrder: &split,
		DeclarationRequestStatus: st, LastModifiedTime: fmtTime(mod),
	}
	switch st {
	case gateway.DeclarationSuccess:
		r.CustomsDeclarationResultCode = "SUCCESS"
		r.CustomsDeclarationResultDesc = "The declaration was accepted by customs."
		r.CustomsDeclarationReturnTime = fmtTime(mod)
	case gateway.DeclarationFail:
		r.CustomsDeclarationResultCode = "CUSTOMS_REJECTED"
		r.CustomsDeclarationResultDesc = "The declaration was rejected by customs."
		r.CustomsDeclarationReturnTime = fmtTime(mod)
	}
	return r
}
