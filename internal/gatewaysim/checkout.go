package gatewaysim

import (
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// The checkout page: what normalUrl opens. Server-rendered HTML with plain
// POST forms, so a person can pay in a browser and a test can pay over HTTP:
//
//	GET  /checkout/{paymentId}          the page (amount, method, countdown, Pay / Decline)
//	POST /checkout/{paymentId}/pay      pay (form field cardNo when the card is collected here)
//	GET  /checkout/{paymentId}/3ds      the 3-D Secure challenge
//	POST /checkout/{paymentId}/3ds      answer it (form field code; Magic3DSCode passes)
//	POST /checkout/{paymentId}/decline  decline (form field resultCode, default USER_BALANCE_NOT_ENOUGH)
//
// After a final result the browser is redirected (303) to paymentRedirectUrl
// when the pay request gave one, else shown a result page.

var checkoutTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>alipay-sim checkout</title>
<style>body{font-family:sans-serif;max-width:32em;margin:2em auto;padding:0 1em}
.amount{font-size:2em;margin:.3em 0}.box{border:1px solid #ccc;border-radius:6px;padding:1em;margin:1em 0}
button{font-size:1em;padding:.5em 1.2em;margin-right:.5em}.err{color:#b00}.muted{color:#666;font-size:.9em}</style></head>
<body><h1>alipay-sim checkout</h1>
<div class="box">
<div class="muted">Merchant {{.ClientID}} &middot; payment {{.PaymentID}}</div>
<div class="amount" id="amount">{{.Currency}} {{.Major}}</div>
<div>Method: <b id="method">{{.Method}}</b>{{if .CardNo}} &middot; card {{.CardNo}}{{end}}</div>
<div>Status: <b id="status">{{.Status}}</b></div>
{{if .Open}}<div>Expires at {{.Expiry}} (<span id="countdown" data-remaining-ms="{{.RemainingMS}}" data-scale="{{.Scale}}">{{.Remaining}}</span> left, simulated time)</div>{{end}}
</div>
{{if .Error}}<p class="err" id="error">{{.Error}}</p>{{end}}
{{if .Challenge}}
<form method="post" action="/checkout/{{.PaymentID}}/3ds" class="box">
<h2>3-D Secure</h2><p>Enter the code sent to your phone (the simulator's code is {{.MagicCode}}).</p>
<input name="code" autocomplete="one-time-code" autofocus> <button type="submit" id="submit-3ds">Submit</button></form>
{{else if .Open}}
<form method="post" action="/checkout/{{.PaymentID}}/pay" class="box">
{{if .NeedsCard}}<p>Card number: <input name="cardNo" value="4111111111111111" size="22"></p>{{end}}
<button type="submit" id="pay">Pay {{.Currency}} {{.Major}}</button></form>
<form method="post" action="/checkout/{{.PaymentID}}/decline" class="box">
<select name="resultCode">{{range .DeclineCodes}}<option>{{.}}</option>{{end}}</select>
<button type="submit" id="decline">Decline</button></form>
{{else if .RedirectURL}}<p><a href="{{.RedirectURL}}" id="back">Return to the merchant</a></p>{{end}}
<script>(function(){var e=document.getElementById("countdown");if(!e)return;var s=parseFloat(e.dataset.scale);
if(!(s>0))return;var end=Date.now()+parseInt(e.dataset.remainingMs,10)/s;setInterval(function(){
var ms=Math.max(0,(end-Date.now())*s),t=Math.floor(ms/1000);e.textContent=Math.floor(t/60)+"m "+(t%60)+"s";},500);})();</script>
</body></html>`))

type checkoutView struct {
	ClientID, PaymentID, Currency, Major, Method, CardNo, Status string
	Open, Challenge, NeedsCard                                   bool
	Expiry, Remaining, Error, RedirectURL, MagicCode             string
	RemainingMS                                                  int64
	Scale                                                        float64
	DeclineCodes                                                 []string
}

var declineCodes = []string{gateway.CodeUserBalanceNotEnough, gateway.CodeRiskReject, gateway.CodeUserStatusAbnormal,
	gateway.CodeUserAmountExceedLimit, gateway.CodeProcessFail}

func (s *Simulator) serveCheckout(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/checkout/")
	id, verb, _ := strings.Cut(rest, "/")
	s.idxMu.RLock()
	p := s.payments[id]
	s.idxMu.RUnlock()
	if p == nil {
		http.Error(w, "no such payment", http.StatusNotFound)
		return
	}
	if r.Method == http.MethodPost {
		_ = r.ParseForm()
	}
	step := s.checkoutStep(r, verb, p)
	switch {
	case step.notFound:
		http.Error(w, "not found", http.StatusNotFound)
	case step.redirect != "":
		http.Redirect(w, r, step.redirect, http.StatusSeeOther)
	default:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = checkoutTmpl.Execute(w, step.view)
	}
}

// checkoutAction is what one checkout request did, and what the browser is
// answered with: nothing found, a redirect, or the page.
type checkoutAction struct {
	notFound  bool
	redirect  string // 303 to this URL
	errMsg    string // shown on the page
	challenge bool   // show the 3-D Secure form
	finished  bool   // the payment reached a result (or already had one)
	view      checkoutView
}

// checkoutStep applies one checkout request to p under the merchant's lock:
// a payment past its expiry closes first, then the verb acts on it.
func (s *Simulator) checkoutStep(r *http.Request, verb string, p *payment) checkoutAction {
	m := p.m
	m.mu.Lock()
	defer m.mu.Unlock()
	now := s.clock.Now()
	if p.status == gateway.PaymentStatusProcessing && !now.Before(p.expiryTime) {
		s.finish(p, p.expiryTime, gateway.CodeOrderIsClosed, "The payment expired without being paid.")
	}
	open := p.status == gateway.PaymentStatusProcessing || p.status == gateway.PaymentStatusPending
	var act checkoutAction
	switch {
	case verb == "" && r.Method == http.MethodGet:
	case verb == "3ds" && r.Method == http.MethodGet:
		act.challenge = open && p.needs3DS
	case verb == "pay" && r.Method == http.MethodPost && open:
		act = s.checkoutPay(r, p)
	case verb == "3ds" && r.Method == http.MethodPost && open && p.needs3DS:
		act = s.checkout3DS(r, p, now)
	case verb == "decline" && r.Method == http.MethodPost && open:
		code := r.PostForm.Get("resultCode")
		if info, ok := gateway.Codes[code]; !ok || info.Status != gateway.StatusFail {
			code = gateway.CodeUserBalanceNotEnough
		}
		_ = s.settleLocked(p, code, false)
		act.finished = true
	case r.Method == http.MethodPost && !open:
		act.finished = true
	default:
		return checkoutAction{notFound: true}
	}
	if act.redirect != "" {
		return act
	}
	if act.finished && p.status != gateway.PaymentStatusPending && p.redirectURL != "" {
		act.redirect = p.redirectURL
		return act
	}
	act.view = s.checkoutPage(p, now, act)
	return act
}

// checkoutPay is the Pay button: it takes the card number when the card is
// collected here, sends a 3-D Secure payment to its challenge, and settles
// the rest with their magic outcome. m.mu held.
func (s *Simulator) checkoutPay(r *http.Request, p *payment) checkoutAction {
	m := p.m
	if p.needsCard {
		no := strings.ReplaceAll(r.PostForm.Get("cardNo"), " ", "")
		opt, _ := m.option("CARD")
		brand, msg := checkCardNumber("card number", no, opt)
		if msg != "" {
			return checkoutAction{errMsg: msg}
		}
		p.card = &card{number: no, brand: brand, token: "SIMTOKEN" + p.id}
		m.tokens[p.card.token] = p.card
		p.needsCard = false
		if magicCard(p.card) == "3DS_REQUIRED" {
			p.needs3DS = true
		}
	}
	if p.needs3DS {
		return checkoutAction{redirect: "/checkout/" + p.id + "/3ds"}
	}
	_ = s.settleLocked(p, p.completionOutcome(), false)
	return checkoutAction{finished: true}
}

// checkout3DS answers the 3-D Secure challenge: the magic code settles the
// payment, max3DSFailures wrong codes fail it with RISK_REJECT, a wrong code
// before that asks again. m.mu held.
func (s *Simulator) checkout3DS(r *http.Request, p *payment, now time.Time) checkoutAction {
	if r.PostForm.Get("code") == Magic3DSCode {
		_ = s.settleLocked(p, p.completionOutcome(), true)
		return checkoutAction{finished: true}
	}
	p.challengeFails++
	if p.challengeFails >= max3DSFailures {
		s.finish(p, now, gateway.CodeRiskReject, "3-D Secure authentication failed.")
		return checkoutAction{finished: true}
	}
	return checkoutAction{challenge: true, errMsg: "Wrong code, try again."}
}

// checkoutPage fills the page's template from the payment as it now stands.
// m.mu held.
func (s *Simulator) checkoutPage(p *payment, now time.Time, act checkoutAction) checkoutView {
	open := p.status == gateway.PaymentStatusProcessing || p.status == gateway.PaymentStatusPending
	v := checkoutView{
		ClientID: p.m.clientID, PaymentID: p.id, Currency: p.amount.currency, Major: p.amount.major(), Method: p.method,
		Status: p.status, Open: open, Challenge: act.challenge,
		NeedsCard: p.needsCard, Expiry: fmtTime(p.expiryTime), Error: act.errMsg, RedirectURL: p.redirectURL,
		MagicCode: Magic3DSCode, DeclineCodes: declineCodes,
	}
	if p.card != nil && p.card.number != "" {
		v.CardNo = p.card.masked()
	}
	if p.status == gateway.PaymentStatusFail {
		v.Status += " (" + p.resultCode + ")"
	}
	rem := p.expiryTime.Sub(now)
	if rem < 0 {
		rem = 0
	}
	v.RemainingMS = rem.Milliseconds()
	v.Remaining = rem.Truncate(time.Second).String()
	if sc, ok := s.clock.(*ScaledClock); ok {
		v.Scale = sc.Scale()
	}
	return v
}
