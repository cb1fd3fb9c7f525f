package gatewaysim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

const visa = "4111111111111111"

func usd(v string) gateway.Amount { return gateway.Amount{Currency: "USD", Value: v} }

func (e *env) capture(id, paymentID string, a gateway.Amount) (*gateway.CaptureResponse, string) {
	e.t.Helper()
	resp, err := e.client.Capture(e.ctx, &gateway.CaptureRequest{CaptureRequestID: id, PaymentID: paymentID, CaptureAmount: a})
	return resp, code(e.t, resp, err)
}

func TestCard2DAuthAndCaptures(t *testing.T) {
	e := newEnv(t)
	resp, c := e.pay(cardPay("card-1", usd("10000"), visa, false, captureManual))
	if c != gateway.CodeSuccess {
		t.Fatalf("2D card pay: %s", c)
	}
	now := e.sim.Now()
	if resp.AuthExpiryTime != gateway.FormatTime(now.Add(7*24*time.Hour)) || resp.NormalURL != "" {
		t.Fatalf("authExpiryTime %q (now %s), normalUrl %q", resp.AuthExpiryTime, now, resp.NormalURL)
	}
	if ri := resp.PaymentResultInfo; ri == nil || ri.CardBrand != "VISA" || strings.Contains(ri.CardNo, "11111111") || !strings.HasSuffix(ri.CardNo, "1111") {
		t.Fatalf("card info %+v", resp.PaymentResultInfo)
	}
	pid := resp.PaymentID
	steps := []struct {
		id, value, code string
	}{
		{"cap-1", "6000", gateway.CodeSuccess},
		{"cap-1", "6000", gateway.CodeSuccess},                 // replay
		{"cap-1", "5000", gateway.CodeRepeatReqInconsistent},   // same id, other amount
		{"cap-2", "4001", gateway.CodeCaptureAmountExceedAuth}, // 6000+4001 > 10000
		{"cap-3", "4000", gateway.CodeSuccess},
		{"cap-4", "1", gateway.CodeCaptureAmountExceedAuth},
	}
	for _, s := range steps {
		if _, c := e.capture(s.id, pid, usd(s.value)); c != s.code {
			t.Fatalf("capture %s %s: %s, want %s", s.id, s.value, c, s.code)
		}
	}
	if _, c := e.capture("cap-x", "nope", usd("1")); c != gateway.CodeAuthNotFound {
		t.Fatalf("capture of unknown payment: %s", c)
	}
	inq := e.inquiry("card-1")
	var caps []string
	for _, tx := range inq.Transactions {
		if tx.TransactionType == gateway.TransactionCapture {
			caps = append(caps, tx.TransactionRequestID+"="+tx.TransactionAmount.Value+"/"+tx.TransactionStatus)
		}
	}
	if strings.Join(caps, ",") != "cap-1=6000/SUCCESS,cap-3=4000/SUCCESS" {
		t.Fatalf("capture transactions %v", caps)
	}
	if inq.CardInfo == nil || inq.AuthExpiryTime == "" || inq.Transactions[0].TransactionType != gateway.TransactionPayment {
		t.Fatalf("inquiry %+v", inq)
	}
	l := e.sim.Ledger()
	if p, _ := l.Payment(pid); p.Authorized != 10000 || p.Captured != 10000 || p.Captures != 2 {
		t.Fatalf("ledger %+v", p)
	}
	if r := l.Request("capture", "cap-1"); r.Operations != 1 || r.Calls != 3 {
		t.Fatalf("ledger cap-1 %+v", r)
	}
	e.quiesce()
	if n := len(e.rcv.ofKind(gateway.KindNotifyCapture)); n != 2 {
		t.Fatalf("%d notifyCapture, want 2", n)
	}

	// Authorization expiry and cancellation.
	r2, _ := e.pay(cardPay("card-exp", usd("500"), visa, false, captureManual))
	r3, _ := e.pay(cardPay("card-void", usd("500"), visa, false, captureManual))
	if _, err := e.client.Cancel(e.ctx, &gateway.CancelRequest{PaymentID: r3.PaymentID}); err != nil {
		t.Fatal(err)
	}
	if _, c := e.capture("cap-void", r3.PaymentID, usd("100")); c != gateway.CodeAuthCancelled {
		t.Fatalf("capture after cancel: %s", c)
	}
	e.sim.Advance(7*24*time.Hour - time.Second)
	if _, c := e.capture("cap-exp-1", r2.PaymentID, usd("100")); c != gateway.CodeSuccess {
		t.Fatalf("capture before auth expiry: %s", c)
	}
	e.sim.Advance(time.Second)
	if _, c := e.capture("cap-exp-2", r2.PaymentID, usd("100")); c != gateway.CodeAuthExpired {
		t.Fatalf("capture at auth expiry: %s", c)
	}
}

func TestCardFlows(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, card string
		threeDS    bool
		code       string
	}{
		{"decline 0002", "4000000000000002", false, gateway.CodeUserBalanceNotEnough},
		{"decline 0069", "4000000000000069", false, gateway.CodeUserStatusAbnormal},
		{"decline 0119", "4000000000000119", false, gateway.CodeRiskReject},
		{"3DS requested", visa, true, gateway.CodePaymentInProcess},
		{"3DS forced 3220", "4000000000003220", false, gateway.CodePaymentInProcess},
		{"2D processing 0259", "4000000000000259", false, gateway.CodePaymentInProcess},
		{"mastercard", "5555555555554444", false, gateway.CodeSuccess},
		{"luhn", "4111111111111112", false, gateway.CodeParamIllegal},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := "cf-" + string(rune('a'+i))
			resp, c := e.pay(cardPay(id, usd("2000"), tc.card, tc.threeDS, captureManual))
			if c != tc.code {
				t.Fatalf("pay: %s, want %s", c, tc.code)
			}
			if c == gateway.CodePaymentInProcess && resp.NormalURL == "" {
				t.Fatal("PAYMENT_IN_PROCESS without normalUrl")
			}
		})
	}
	// Expired card.
	req := cardPay("cf-expired", usd("2000"), visa, false, captureManual)
	req.PaymentMethod.PaymentMethodMetaData["expiryYear"] = "2025"
	if _, c := e.pay(req); c != gateway.CodeParamIllegal {
		t.Fatalf("expired card: %s", c)
	}
}

func TestCard3DSChallenge(t *testing.T) {
	e := newEnv(t)
	req := cardPay("3ds", usd("2000"), visa, true, captureManual)
	req.PaymentRedirectURL = "https://merchant.example/done"
	resp, c := e.pay(req)
	if c != gateway.CodePaymentInProcess {
		t.Fatalf("pay: %s", c)
	}
	r := postForm(t, resp.NormalURL+"/pay", nil)
	if r.StatusCode != http.StatusSeeOther || !strings.HasSuffix(r.Header.Get("Location"), "/3ds") {
		t.Fatalf("Pay did not lead to the challenge: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if _, page := getPage(t, resp.NormalURL+"/3ds"); !strings.Contains(page, `name="code"`) {
		t.Fatal("challenge page has no code field")
	}
	if r := postForm(t, resp.NormalURL+"/3ds", url.Values{"code": {"000000"}}); r.StatusCode != http.StatusOK {
		t.Fatalf("wrong code: HTTP %d", r.StatusCode)
	}
	e.wantStatus("3ds", gateway.PaymentStatusProcessing)
	r = postForm(t, resp.NormalURL+"/3ds", url.Values{"code": {Magic3DSCode}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != req.PaymentRedirectURL {
		t.Fatalf("right code: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	inq := e.inquiry("3ds")
	if inq.PaymentStatus != gateway.PaymentStatusSuccess || inq.CardInfo.ThreeDSResult == nil || inq.AuthExpiryTime == "" {
		t.Fatalf("after 3DS: %+v", inq)
	}

	// Three wrong codes fail the payment.
	resp, _ = e.pay(cardPay("3ds-bad", usd("2000"), visa, true, captureManual))
	for i := 0; i < max3DSFailures; i++ {
		postForm(t, resp.NormalURL+"/3ds", url.Values{"code": {"999999"}})
	}
	if inq := e.inquiry("3ds-bad"); inq.PaymentStatus != gateway.PaymentStatusFail || inq.PaymentResultCode != gateway.CodeRiskReject {
		t.Fatalf("after 3 wrong codes: %+v", inq)
	}

	// Tokenised: the token of the first payment pays again via the checkout page.
	tok := inq.CardInfo.CardToken
	if tok == "" {
		tok = e.inquiry("3ds").CardInfo.CardToken
	}
	treq := walletPay("tok", usd("300"), "CARD")
	treq.PaymentMethod.PaymentMethodID = e.inquiry("3ds").CardInfo.CardToken
	treq.PaymentFactor = &gateway.PaymentFactor{IsAuthorization: gateway.BoolPtr(true), CaptureMode: captureManual}
	tresp, c := e.pay(treq)
	if c != gateway.CodePaymentInProcess || tresp.NormalURL == "" {
		t.Fatalf("tokenised pay: %s %+v", c, tresp)
	}
	postForm(t, tresp.NormalURL+"/pay", nil)
	if inq := e.inquiry("tok"); inq.PaymentStatus != gateway.PaymentStatusSuccess || !strings.HasSuffix(inq.CardInfo.CardNo, "1111") {
		t.Fatalf("tokenised: %+v", inq)
	}

	// Card data collected on the checkout page.
	creq := walletPay("collect", usd("300"), "CARD")
	creq.PaymentFactor = &gateway.PaymentFactor{IsAuthorization: gateway.BoolPtr(true), CaptureMode: captureManual}
	cresp, _ := e.pay(creq)
	if _, page := getPage(t, cresp.NormalURL); !strings.Contains(page, `name="cardNo"`) {
		t.Fatal("no card field on the page")
	}
	postForm(t, cresp.NormalURL+"/pay", url.Values{"cardNo": {"4000000000000002"}})
	if inq := e.inquiry("collect"); inq.PaymentResultCode != gateway.CodeUserBalanceNotEnough {
		t.Fatalf("collected magic card: %+v", inq)
	}
}

func TestCardAutomaticCapture(t *testing.T) {
	e := newEnv(t)
	resp, c := e.pay(cardPay("auto", usd("2500"), visa, false, ""))
	if c != gateway.CodeSuccess {
		t.Fatalf("pay: %s", c)
	}
	inq := e.inquiry("auto")
	if len(inq.Transactions) != 2 || inq.Transactions[1].TransactionType != gateway.TransactionCapture ||
		inq.Transactions[1].TransactionStatus != gateway.PaymentStatusSuccess || inq.Transactions[1].TransactionAmount.Value != "2500" {
		t.Fatalf("automatic capture transactions %+v", inq.Transactions)
	}
	if _, c := e.capture("extra", resp.PaymentID, usd("1")); c != gateway.CodeCaptureAmountExceedAuth {
		t.Fatalf("capture after automatic capture: %s", c)
	}
	e.quiesce()
	var kinds []string
	for _, n := range e.rcv.all() {
		kinds = append(kinds, n.Kind)
	}
	if strings.Join(kinds, ",") != "notifyPayment,notifyCapture" {
		t.Fatalf("notifications %v", kinds)
	}
	// Magic 0341: authorized, capture declined.
	resp, _ = e.pay(cardPay("cap-decl", usd("2500"), "4000000000000341", false, captureManual))
	if _, c := e.capture("cd-1", resp.PaymentID, usd("100")); c != gateway.CodeUserBalanceNotEnough {
		t.Fatalf("capture of 0341: %s", c)
	}
}

func TestCaptureAsync(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Behavior.CaptureAsync = true })
	resp, _ := e.pay(cardPay("ca", usd("1000"), visa, false, captureManual))
	cr, c := e.capture("ca-1", resp.PaymentID, usd("1000"))
	if c != gateway.CodeCaptureInProcess || cr.CaptureID == "" {
		t.Fatalf("async capture: %s %+v", c, cr)
	}
	if _, c := e.capture("ca-1", resp.PaymentID, usd("1000")); c != gateway.CodeCaptureInProcess {
		t.Fatalf("replay while in process: %s", c)
	}
	if tx := e.inquiry("ca").Transactions[1]; tx.TransactionStatus != gateway.PaymentStatusProcessing {
		t.Fatalf("capture transaction %+v", tx)
	}
	e.sim.Advance(30 * time.Second)
	if _, c := e.capture("ca-1", resp.PaymentID, usd("1000")); c != gateway.CodeSuccess {
		t.Fatalf("replay after completion: %s", c)
	}
	caps := e.rcv.ofKind(gateway.KindNotifyCapture)
	if len(caps) != 1 || caps[0].Value.(*gateway.NotifyCapture).Result.ResultStatus != "S" {
		t.Fatalf("notifyCapture %+v", caps)
	}
}
