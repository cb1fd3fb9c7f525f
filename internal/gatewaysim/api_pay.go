package gatewaysim

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// Magic values (documented in docs/simulator.md).
const (
	// Magic3DSCode passes the checkout page's 3-D Secure challenge.
	Magic3DSCode = "123456"
	// max3DSFailures wrong codes fail the payment.
	max3DSFailures = 3
)

// MagicCardOutcomes maps the last four digits of a card number to what
// happens. Declines answer F (2D) or fail at checkout.
var MagicCardOutcomes = map[string]string{
	"0002": gateway.CodeUserBalanceNotEnough,
	"0069": gateway.CodeUserStatusAbnormal,
	"0119": gateway.CodeRiskReject,
	"3220": "3DS_REQUIRED",     // challenge even when is3DSAuthentication is false
	"0259": "PROCESSING",       // 2D answers U PAYMENT_IN_PROCESS, finished at checkout
	"0341": "CAPTURE_DECLINED", // authorizes, every capture fails USER_BALANCE_NOT_ENOUGH
}

// MagicAmountOutcomes maps the last four digits of a paymentAmount.value
// (minor units) to the outcome at completion (checkout Pay button,
// AutoComplete, 2D cards). Simulator.Complete always succeeds.
var MagicAmountOutcomes = map[string]string{
	"9951": gateway.CodeUserBalanceNotEnough,
	"9952": gateway.CodeRiskReject,
	"9953": gateway.CodeUserStatusAbnormal,
	"9954": "NEVER",   // AutoComplete leaves it alone: it expires
	"9955": "PENDING", // goes PENDING first, then SUCCESS
}

func magicAmount(minor int64) string {
	s := strconv.FormatInt(minor, 10)
	if len(s) < 4 {
		return ""
	}
	return MagicAmountOutcomes[s[len(s)-4:]]
}

func magicCard(c *card) string {
	if c == nil || c.number == "" {
		return ""
	}
	return MagicCardOutcomes[c.last4()]
}

func isDeclineCode(o string) bool {
	_, known := gateway.Codes[o]
	return known
}

// completionOutcome decides how a payment ends when the user "pays": a
// decline code, "PENDING", or "" for success.
func (p *payment) completionOutcome() string {
	if o := magicCard(p.card); isDeclineCode(o) {
		return o
	}
	o := magicAmount(p.amount.minor)
	if isDeclineCode(o) || o == "PENDING" && !p.pendingDone {
		return o
	}
	return ""
}

func validURL(field, v string) string {
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("%s %q is not an absolute http(s) URL", field, v)
	}
	if len(v) > 2048 {
		return field + " is longer than 2048 characters"
	}
	return ""
}

func checkEnv(field string, env *gateway.Env, required bool) string {
	if env == nil || env.TerminalType == "" {
		if required {
			return field + ".terminalType is required"
		}
		return ""
	}
	switch env.TerminalType {
	case "WEB":
	case "WAP", "APP", "MINI_APP":
		switch env.OsType {
		case "IOS", "ANDROID":
		case "":
			return field + ".osType is required when terminalType is " + env.TerminalType
		default:
			return fmt.Sprintf("%s.osType %q: want IOS or ANDROID", field, env.OsType)
		}
	default:
		return fmt.Sprintf("%s.terminalType %q: want WEB, WAP, APP or MINI_APP", field, env.TerminalType)
	}
	return ""
}

func metaString(meta map[string]any, key string) string {
	v, ok := meta[key]
	if !ok || v == nil {
		return ""
	}
	switch t := v.(type) {
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	}
	return fmt.Sprint(v)
}

// metaBool reads a boolean sent as true or "true"; nil when absent.
func metaBool(meta map[string]any, key string) (*bool, string) {
	v, ok := meta[key]
	if !ok || v == nil {
		return nil, ""
	}
	switch t := v.(type) {
	case bool:
		return &t, ""
	case string:
		switch t {
		case "true":
			b := true
			return &b, ""
		case "false":
			b := false
			return &b, ""
		}
	}
	return nil, fmt.Sprintf("paymentMethod.paymentMethodMetaData.%s must be true or false", key)
}

func cardBrand(n string) string {
	pre := func(p ...string) bool {
		for _, x := range p {
			if strings.HasPrefix(n, x) {
				return true
			}
		}
		return false
	}
	switch {
	case pre("34", "37"):
		return "AMEX"
	case pre("4"):
		return "VISA"
	case pre("51", "52", "53", "54", "55", "22", "23", "24", "25", "26", "27"):
		return "MASTERCARD"
	case pre("62"):
		return "UNIONPAY"
	case pre("35"):
		return "JCB"
	case pre("300", "301", "302", "303", "304", "305", "36", "38"):
		return "DINERS"
	case pre("6011", "65", "64"):
		return "DISCOVER"
	}
	return "UNKNOWN"
}

// checkCardNumber validates a card number; "" when fine.
func checkCardNumber(field, n string, opt PaymentOptionConfig) (string, string) {
	if len(n) < 12 || len(n) > 19 {
		return "", field + " must have 12 to 19 digits"
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return "", field + " must contain digits only"
		}
	}
	if !gateway.Luhn(n) {
		return "", field + " fails the Luhn check"
	}
	brand := cardBrand(n)
	if len(opt.CardBrands) > 0 {
		found := false
		for _, b := range opt.CardBrands {
			found = found || b == brand
		}
		if !found {
			return brand, fmt.Sprintf("card brand %s is not supported by this merchant", brand)
		}
	}
	return brand, ""
}

// payTerms is what a valid pay request asks for, read and checked before
// anything is recorded.
type payTerms struct {
	amount      amt
	method      string
	opt         PaymentOptionConfig
	expiry      time.Time
	isAuth      bool
	captureMode string
	card        *card // nil when no card data came (not CARD, or collected at checkout)
	is3DS       *bool // paymentMethodMetaData.is3DSAuthentication, nil when absent
	cardFull    bool  // number, expiry and CVV all sent: a 2D payment can end at once
}

func (s *Simulator) apiPay(c *call) answer {
	var req gateway.PayRequest
	if msg := decode(c.body, &req); msg != "" {
		return fail(gateway.CodeParamIllegal, msg)
	}
	c.requestID = req.PaymentRequestID
	t, no := s.checkPay(c, &req)
	if no != nil {
		return no.answer()
	}

	m := c.m
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count("payment", req.PaymentRequestID)
	if p := m.payments[req.PaymentRequestID]; p != nil {
		return s.payReplay(p, t.amount, req.PaymentMethod)
	}
	if no := s.checkMerchantQualified(m, &req, t.method); no != nil {
		return no.answer() // nothing recorded: the same id may pay once qualified
	}
	p := s.recordPayment(c, &req, t)
	if t.method == "CARD" && s.payCardAtOnce(c, p, t) {
		return s.payFinalAnswer(p)
	}
	s.sched.at(t.expiry, "expire", func(at time.Time) { s.expire(p, at) })
	if ac := s.Behavior().AutoComplete; ac.After > 0 && autoApplies(ac, t.method) {
		s.sched.at(c.now.Add(time.Duration(ac.After)), "auto-complete", func(at time.Time) { s.autoComplete(p, at) })
	}
	return s.payInProcessAnswer(c, p)
}

// checkPay validates a pay request in the gateway's order (the first fault
// found is the one answered) and reads its terms.
func (s *Simulator) checkPay(c *call, req *gateway.PayRequest) (payTerms, *refusal) {
	var t payTerms
	var no *refusal
	if t.amount, t.method, no = checkPayOrder(req); no != nil {
		return t, no
	}
	if t.expiry, no = s.payExpiry(c.now, req.PaymentExpiryTime); no != nil {
		return t, no
	}
	if no = checkPayExtras(req); no != nil {
		return t, no
	}
	if t.opt, no = checkPayOption(c.m, t.method, t.amount); no != nil {
		return t, no
	}
	if t.isAuth, t.captureMode, no = s.payCaptureTerms(req, t.method); no != nil {
		return t, no
	}
	if t.method == "CARD" {
		no = s.readPayCard(c, req, &t)
	}
	return t, no
}

// checkPayOrder checks the product, the request id, the amount, the method and
// the environment.
func checkPayOrder(req *gateway.PayRequest) (amt, string, *refusal) {
	switch {
	case req.ProductCode == "":
		return amt{}, "", refuse(gateway.CodeParamIllegal, "productCode is required")
	case req.ProductCode != gateway.ProductCodeCashierPayment:
		return amt{}, "", refuse(gateway.CodeInvalidContract, fmt.Sprintf("productCode %q is not in the contract (only CASHIER_PAYMENT)", req.ProductCode))
	}
	if msg := checkID("paymentRequestId", req.PaymentRequestID, 64, true); msg != "" {
		return amt{}, "", refuse(gateway.CodeParamIllegal, msg)
	}
	a, err := parseAmount("paymentAmount", req.PaymentAmount)
	if err != nil {
		return amt{}, "", refuse(gateway.CodeParamIllegal, err.Error())
	}
	method := req.PaymentMethod.PaymentMethodType
	if method == "" {
		return amt{}, "", refuse(gateway.CodeParamIllegal, "paymentMethod.paymentMethodType is required")
	}
	env, envField := req.Env, "env"
	if env == nil && req.Order != nil && req.Order.Env != nil {
		env, envField = req.Order.Env, "order.env"
	}
	if msg := checkEnv(envField, env, true); msg != "" {
		return amt{}, "", refuse(gateway.CodeParamIllegal, msg)
	}
	return a, method, nil
}

// payExpiry is when an unpaid payment closes: paymentExpiryTime when sent,
// else the simulator's default from now.
func (s *Simulator) payExpiry(now time.Time, sent string) (time.Time, *refusal) {
	if sent == "" {
		return now.Add(s.opts.DefaultPaymentExpiry), nil
	}
	t, err := gateway.ParseTime(sent)
	if err != nil {
		return time.Time{}, refuse(gateway.CodeParamIllegal, "paymentExpiryTime: "+err.Error())
	}
	if !t.After(now) {
		return time.Time{}, refuse(gateway.CodeParamIllegal, "paymentExpiryTime "+sent+" is not in the future")
	}
	return t, nil
}

// checkPayExtras checks the notify and redirect URLs and the instalment plan.
func checkPayExtras(req *gateway.PayRequest) *refusal {
	for _, u := range [][2]string{{"paymentNotifyUrl", req.PaymentNotifyURL}, {"paymentRedirectUrl", req.PaymentRedirectURL}} {
		if msg := validURL(u[0], u[1]); msg != "" {
			return refuse(gateway.CodeParamIllegal, msg)
		}
	}
	if cp := req.CreditPayPlan; cp != nil {
		if cp.InstallmentNum < 2 || cp.InstallmentNum > 12 {
			return refuse(gateway.CodeParamIllegal, "creditPayPlan.installmentNum must be 2 to 12")
		}
		if cp.FeePercentage != nil && (*cp.FeePercentage < 0 || *cp.FeePercentage > 100) {
			return refuse(gateway.CodeParamIllegal, "creditPayPlan.feePercentage must be 0 to 100")
		}
	}
	return nil
}

// checkPayOption finds the merchant's payment option for method and checks
// that it takes the amount.
func checkPayOption(m *merchant, method string, a amt) (PaymentOptionConfig, *refusal) {
	opt, found := m.option(method)
	if !found || opt.Disabled {
		return opt, refuse(gateway.CodeNoPayOption, fmt.Sprintf("payment method %s is not available to this merchant", method))
	}
	if !opt.supports(a.currency) {
		return opt, refuse(gateway.CodeCurrencyNotSupport, fmt.Sprintf("payment method %s does not support %s", method, a.currency))
	}
	switch kind, msg := checkMethodRules(method, a); kind {
	case ruleBelowMinimum:
		return opt, refuse(gateway.CodePaymentAmountExceedLimit, "paymentAmount: "+msg)
	case ruleNotMultiple:
		return opt, refuse(gateway.CodeParamIllegal, "paymentAmount: "+msg)
	}
	return opt, nil
}

// payCaptureTerms reads whether the payment is an authorization and how it is
// captured: CARD payments must authorize, others must not; a card's capture
// mode defaults to the simulator's.
func (s *Simulator) payCaptureTerms(req *gateway.PayRequest, method string) (isAuth bool, captureMode string, no *refusal) {
	isAuth = req.IsAuthorization != nil && bool(*req.IsAuthorization)
	if pf := req.PaymentFactor; pf != nil {
		if pf.IsAuthorization != nil && bool(*pf.IsAuthorization) {
			isAuth = true
		}
		captureMode = pf.CaptureMode
	}
	switch captureMode {
	case "", captureAutomatic, captureManual:
	default:
		return false, "", refuse(gateway.CodeParamIllegal, fmt.Sprintf("paymentFactor.captureMode %q: want AUTOMATIC or MANUAL", captureMode))
	}
	isCard := method == "CARD"
	if isCard && !isAuth {
		return false, "", refuse(gateway.CodeParamIllegal, "paymentFactor.isAuthorization must be true for CARD payments")
	}
	if !isCard && isAuth {
		return false, "", refuse(gateway.CodeParamIllegal, "isAuthorization is only supported for CARD payments")
	}
	if isCard && captureMode == "" {
		captureMode = s.opts.DefaultCaptureMode
	}
	return isAuth, captureMode, nil
}

// readPayCard reads a CARD payment's card: a stored token, or the number,
// expiry and CVV the merchant collected (checked), or nothing (the checkout
// page collects it).
func (s *Simulator) readPayCard(c *call, req *gateway.PayRequest, t *payTerms) *refusal {
	meta := req.PaymentMethod.PaymentMethodMetaData
	var msg string
	if t.is3DS, msg = metaBool(meta, gateway.CardMetaIs3DS); msg != "" {
		return refuse(gateway.CodeParamIllegal, msg)
	}
	if token := req.PaymentMethod.PaymentMethodID; token != "" {
		t.card = c.m.tokenCard(token)
		return nil
	}
	no := strings.ReplaceAll(metaString(meta, gateway.CardMetaNumber), " ", "")
	if no == "" {
		return nil
	}
	brand, msg := checkCardNumber("paymentMethod.paymentMethodMetaData.cardNo", no, t.opt)
	if msg != "" {
		if brand != "" {
			return refuse(gateway.CodeNoPayOption, msg)
		}
		return refuse(gateway.CodeParamIllegal, msg)
	}
	t.card = &card{number: no, brand: brand}
	y, mo := metaString(meta, gateway.CardMetaExpiryYear), metaString(meta, gateway.CardMetaExpiryMonth)
	if y != "" || mo != "" {
		if msg := checkExpiry(y, mo, c.now); msg != "" {
			return refuse(gateway.CodeParamIllegal, msg)
		}
	}
	t.cardFull = y != "" && mo != "" && metaString(meta, gateway.CardMetaCVV) != ""
	return nil
}

// tokenCard is the card behind a paymentMethodId: a copy of the tokenised
// card (its 3-D Secure pass not carried over), or a test VISA for a token the
// simulator never issued.
func (m *merchant) tokenCard(token string) *card {
	m.mu.Lock()
	known := m.tokens[token]
	m.mu.Unlock()
	if known == nil {
		return &card{number: "4111111111111111", brand: "VISA", token: token}
	}
	cp := *known
	cp.threeDS = false
	return &cp
}

// recordPayment stores a new PROCESSING payment in the merchant's books and
// the simulator's index, and its card under its token; m.mu must be held.
func (s *Simulator) recordPayment(c *call, req *gateway.PayRequest, t payTerms) *payment {
	m := c.m
	p := &payment{
		m: m, id: s.newID(idPayment), requestID: req.PaymentRequestID, amount: t.amount, method: t.method,
		methodID: req.PaymentMethod.PaymentMethodID, card: t.card, isAuth: t.isAuth, captureMode: t.captureMode,
		createTime: c.now, expiryTime: t.expiry, status: gateway.PaymentStatusProcessing,
		notifyURL: req.PaymentNotifyURL, redirectURL: req.PaymentRedirectURL,
	}
	if ss := req.SettlementStrategy; ss != nil {
		p.settleCur = ss.SettlementCurrency
	}
	if cd := t.card; cd != nil {
		if cd.token == "" {
			cd.token = "SIMTOKEN" + p.id
		}
		m.tokens[cd.token] = cd
	}
	m.payments[p.requestID] = p
	m.byID[p.id] = p
	s.idxMu.Lock()
	s.payments[p.id] = p
	s.idxMu.Unlock()
	return p
}

// payCardAtOnce notes what a CARD payment still needs at checkout (3-D
// Secure, the card itself) and, for a 2D payment whose card data the
// merchant sent in full, ends it now and reports true: the answer is final.
// m.mu must be held.
func (s *Simulator) payCardAtOnce(c *call, p *payment, t payTerms) bool {
	mc := magicCard(t.card)
	tokenised := p.methodID != ""
	p.needs3DS = (t.is3DS != nil && *t.is3DS) || mc == "3DS_REQUIRED"
	p.needsCard = t.card == nil
	if tokenised || !t.cardFull || p.needs3DS || mc == "PROCESSING" {
		return false
	}
	if code := p.completionOutcome(); code != "" && code != "PENDING" {
		s.finish(p, c.now, code, "")
	} else {
		s.finish(p, c.now, "", "")
	}
	return true
}

// payInProcessAnswer is the first answer to a payment the user still has to
// complete: PAYMENT_IN_PROCESS with the checkout URL (and, for wallets, a
// redirect form). It is kept so a retried pay replays it byte for byte.
func (s *Simulator) payInProcessAnswer(c *call, p *payment) answer {
	base := s.opts.PublicURL
	if base == "" {
		base = c.baseURL
	}
	normal := strings.TrimRight(base, "/") + "/checkout/" + p.id
	resp := gateway.PayResponse{
		Result: gateway.NewResult(gateway.CodePaymentInProcess), PaymentRequestID: p.requestID, PaymentID: p.id,
		PaymentAmount: p.amount.wire(), PaymentCreateTime: fmtTime(p.createTime), NormalURL: normal,
	}
	if p.method != "CARD" {
		resp.RedirectActionForm = &gateway.RedirectActionForm{Method: "GET", RedirectURL: normal}
	}
	raw, _ := json.Marshal(resp)
	p.firstResp = raw
	return answer{result: resp.Result, raw: raw}
}

func checkExpiry(y, mo string, now time.Time) string {
	yi, err1 := strconv.Atoi(y)
	mi, err2 := strconv.Atoi(mo)
	if err1 != nil || err2 != nil || mi < 1 || mi > 12 {
		return "paymentMethod.paymentMethodMetaData.expiryYear/expiryMonth are not a valid card expiry"
	}
	if yi < 100 {
		yi += 2000
	}
	// Valid through the end of the expiry month.
	end := time.Date(yi, time.Month(mi)+1, 1, 0, 0, 0, 0, time.UTC)
	if !now.Before(end) {
		return fmt.Sprintf("the card expired (%02d/%d)", mi, yi)
	}
	return ""
}

func autoApplies(ac AutoComplete, method string) bool {
	if len(ac.Methods) == 0 {
		return true
	}
	for _, m := range ac.Methods {
		if m == method {
			return true
		}
	}
	return false
}

// payReplay answers a pay whose paymentRequestId is known (m.mu held).
func (s *Simulator) payReplay(p *payment, a amt, pm gateway.PaymentMethod) answer {
	if p.amount != a || p.method != pm.PaymentMethodType || p.methodID != pm.PaymentMethodID {
		return fail(gateway.CodeRepeatReqInconsistent, fmt.Sprintf(
			"paymentRequestId %s was used with a different paymentAmount or paymentMethod", p.requestID))
	}
	switch p.status {
	case gateway.PaymentStatusFail, gateway.PaymentStatusCancelled:
		return fail(gateway.CodeProcessFail, fmt.Sprintf("payment %s is %s", p.requestID, p.status))
	case gateway.PaymentStatusSuccess:
		return s.payFinalAnswer(p)
	}
	if p.firstResp != nil {
		return answer{result: gateway.NewResult(gateway.CodePaymentInProcess), raw: p.firstResp}
	}
	return s.payFinalAnswer(p)
}

// payFinalAnswer is the pay answer of a payment in a final state: no action forms.
func (s *Simulator) payFinalAnswer(p *payment) answer {
	resp := gateway.PayResponse{
		Result: p.resultFor(), PaymentRequestID: p.requestID, PaymentID: p.id, PaymentAmount: p.amount.wire(),
		PaymentCreateTime: fmtTime(p.createTime), PaymentTime: fmtTime(p.paymentTime),
		PaymentResultInfo: p.cardInfo(),
	}
	if p.isAuth && p.status == gateway.PaymentStatusSuccess {
		resp.AuthExpiryTime = fmtTime(p.authExpiry)
	}
	return ok(resp.Result, resp)
}

// ---- completion ------------------------------------------------------------------

// finish moves a payment to SUCCESS (code ""), PENDING (code "PENDING") or
// FAIL (a result code), and notifies. m.mu must be held.
func (s *Simulator) finish(p *payment, at time.Time, code, msg string) {
	switch code {
	case "":
		p.status = gateway.PaymentStatusSuccess
		p.paymentTime = at
		if p.isAuth {
			p.authExpiry = at.Add(s.opts.AuthValidity)
		}
		if p.method == "ALIPAY_CN" {
			p.customsCNY = toCNY(p.amount)
		}
		s.nt.enqueue(p.m, KindNotifyPayment, p.notifyTarget(), p.id, p.requestID, p.notifyPaymentBody(gateway.NotifyTypePaymentResult))
		if p.isAuth && p.captureMode == captureAutomatic {
			s.newCapture(p, "", p.amount, true, false, at, false)
		}
	case "PENDING":
		p.status = gateway.PaymentStatusPending
		p.pendingDone = true
		s.nt.enqueue(p.m, KindNotifyPayment, p.notifyTarget(), p.id, p.requestID, p.notifyPaymentBody(gateway.NotifyTypePaymentPending))
	default:
		p.status = gateway.PaymentStatusFail
		p.resultCode = code
		p.resultMessage = msg
		p.paymentTime = at
		s.nt.enqueue(p.m, KindNotifyPayment, p.notifyTarget(), p.id, p.requestID, p.notifyPaymentBody(gateway.NotifyTypePaymentResult))
	}
}

func (s *Simulator) expire(p *payment, at time.Time) {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	if p.status == gateway.PaymentStatusProcessing {
		s.finish(p, at, gateway.CodeOrderIsClosed, "The payment expired at "+fmtTime(p.expiryTime)+" without being paid.")
	}
}

func (s *Simulator) autoComplete(p *payment, at time.Time) {
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	if p.status != gateway.PaymentStatusProcessing && p.status != gateway.PaymentStatusPending {
		return
	}
	if magicAmount(p.amount.minor) == "NEVER" && p.status == gateway.PaymentStatusProcessing {
		return
	}
	ac := s.Behavior().AutoComplete
	code := p.completionOutcome()
	if code == "" && p.status == gateway.PaymentStatusProcessing && ac.DeclineRate > 0 && s.chance(ac.DeclineRate) {
		code = gateway.CodeUserBalanceNotEnough
	}
	if p.needs3DS && p.card != nil && code == "" {
		p.card.threeDS = true
	}
	if p.needsCard {
		p.card = &card{number: "4111111111111111", brand: "VISA", token: "SIMTOKEN" + p.id}
		p.m.tokens[p.card.token] = p.card
		p.needsCard = false
	}
	s.finish(p, at, code, "")
	if code == "PENDING" && ac.After > 0 {
		s.sched.at(at.Add(time.Duration(ac.After)), "auto-complete", func(at time.Time) { s.autoComplete(p, at) })
	}
}

// cnyPerUnit is the simulator's fixed exchange rate to CNY, in CNY fen per
// 100 major units of the currency (HKD 100 = CNY 92.00), used only for
// customsDeclarationAmount of ALIPAY_CN payments in other currencies.
var cnyPerUnit = map[string]int64{
	"CNY": 10000, "HKD": 9200, "USD": 72000, "EUR": 78000, "GBP": 91000, "JPY": 480, "SGD": 53000,
	"AUD": 47000, "KRW": 53, "MYR": 15500, "THB": 2000, "TWD": 2200, "MOP": 8900, "CAD": 52000, "NZD": 43000,
}

func toCNY(a amt) int64 {
	rate, ok := cnyPerUnit[a.currency]
	if !ok {
		return 0
	}
	// fen = minor / 10^exp * rate / 100 (rounded down), in integers.
	num := a.minor * rate
	if a.minor != 0 && num/a.minor != rate {
		return 0 // overflow: no customs amount
	}
	den := int64(100)
	for i := 0; i < a.exp; i++ {
		den *= 10
	}
	return num / den
}

// ---- consult -------------------------------------------------------------------------

func (s *Simulator) apiConsult(c *call) answer {
	var req gateway.ConsultRequest
	if msg := decode(c.body, &req); msg != "" {
		return fail(gateway.CodeParamIllegal, msg)
	}
	switch {
	case req.ProductCode == "":
		return fail(gateway.CodeParamIllegal, "productCode is required")
	case req.ProductCode != gateway.ProductCodeCashierPayment:
		return fail(gateway.CodeInvalidContract, fmt.Sprintf("productCode %q is not in the contract (only CASHIER_PAYMENT)", req.ProductCode))
	}
	a, err := parseAmount("paymentAmount", req.PaymentAmount)
	if err != nil {
		return fail(gateway.CodeParamIllegal, err.Error())
	}
	if req.Env == nil {
		return fail(gateway.CodeParamIllegal, "env is required")
	}
	if msg := checkEnv("env", req.Env, true); msg != "" {
		return fail(gateway.CodeParamIllegal, msg)
	}
	allowed := map[string]bool{}
	for _, r := range req.AllowedPaymentMethodRegions {
		allowed[r] = true
	}
	var first, card, rest []gateway.PaymentOption
	for _, o := range c.m.optionList() {
		if !o.supports(a.currency) {
			continue
		}
		if len(allowed) > 0 {
			hit := false
			for _, r := range o.Regions {
				hit = hit || allowed[r]
			}
			if !hit {
				continue
			}
		}
		po := gateway.PaymentOption{
			PaymentMethodType: o.PaymentMethodType, PaymentMethodCategory: o.PaymentMethodCategory,
			PaymentMethodRegion: o.Regions, Enabled: gateway.Bool(!o.Disabled), SupportedCurrencies: o.Currencies,
			Logo: &gateway.Logo{LogoName: o.PaymentMethodType},
		}
		if o.Disabled {
			po.DisableReason = "PAYMENT_METHOD_DISABLED"
		} else if kind, _ := checkMethodRules(o.PaymentMethodType, a); kind == ruleBelowMinimum {
			po.Enabled = false
			po.DisableReason = gateway.CodePaymentAmountExceedLimit
		}
		if len(o.CardBrands) > 0 {
			d := &gateway.PaymentOptionDetail{Funding: []string{"CREDIT", "DEBIT"}}
			for _, b := range o.CardBrands {
				d.SupportCardBrands = append(d.SupportCardBrands, gateway.CardBrand{CardBrand: b, Logo: &gateway.Logo{LogoName: b}})
			}
			po.PaymentOptionDetail = d
		}
		regional := false
		for _, r := range o.Regions {
			regional = regional || (req.UserRegion != "" && r == req.UserRegion)
		}
		switch {
		case o.PaymentMethodCategory == "CARD" || o.PaymentMethodType == "CARD":
			card = append(card, po)
		case regional:
			first = append(first, po)
		default:
			rest = append(rest, po)
		}
	}
	for i := range first {
		first[i].Preferred = gateway.BoolPtr(true)
	}
	opts := append(append(card, first...), rest...)
	resp := gateway.ConsultResponse{Result: gateway.NewResult(gateway.CodeSuccess), PaymentOptions: opts}
	return ok(resp.Result, resp)
}
