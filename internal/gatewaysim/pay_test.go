package gatewaysim

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// A person pays through the checkout page: GET normalUrl, POST the Pay form,
// then inquiryPayment shows SUCCESS and a signed notifyPayment arrived.
func TestCheckoutPayment(t *testing.T) {
	e := newEnv(t)
	req := walletPay("order-1", hkd("1050"), "ALIPAY_HK")
	req.PaymentNotifyURL = e.rcv.url("/notify/pay")
	req.PaymentRedirectURL = "https://merchant.example/return?o=1"
	resp, c := e.pay(req)
	if c != gateway.CodePaymentInProcess {
		t.Fatalf("pay: %s", c)
	}
	if resp.NormalURL == "" || resp.RedirectActionForm == nil || resp.RedirectActionForm.Method != "GET" ||
		resp.RedirectActionForm.RedirectURL != resp.NormalURL {
		t.Fatalf("pay answer lacks normalUrl/redirectActionForm: %+v", resp)
	}
	if !strings.HasPrefix(resp.NormalURL, e.srv.URL+"/checkout/") {
		t.Fatalf("normalUrl %s is not the simulator's checkout", resp.NormalURL)
	}
	status, page := getPage(t, resp.NormalURL)
	for _, want := range []string{"HKD 10.50", "ALIPAY_HK", `id="pay"`, `id="decline"`, `id="countdown"`, "PROCESSING"} {
		if !strings.Contains(page, want) {
			t.Errorf("checkout page (HTTP %d) lacks %q", status, want)
		}
	}
	e.wantStatus("order-1", gateway.PaymentStatusProcessing)

	r := postForm(t, resp.NormalURL+"/pay", url.Values{})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != req.PaymentRedirectURL {
		t.Fatalf("after Pay: HTTP %d Location %q, want 303 to paymentRedirectUrl", r.StatusCode, r.Header.Get("Location"))
	}
	inq := e.inquiry("order-1")
	if inq.PaymentStatus != gateway.PaymentStatusSuccess || inq.PaymentTime == "" || inq.PaymentID != resp.PaymentID {
		t.Fatalf("inquiry after pay: %+v", inq)
	}
	e.quiesce()
	got := e.rcv.ofKind(gateway.KindNotifyPayment)
	if len(got) != 1 || got[0].Path != "/notify/pay" {
		t.Fatalf("notifyPayment deliveries: %+v", got)
	}
	n := got[0].Value.(*gateway.NotifyPayment)
	if n.Result.ResultStatus != "S" || n.PaymentID != resp.PaymentID || n.PaymentAmount.Value != "1050" || n.NotifyType != gateway.NotifyTypePaymentResult {
		t.Fatalf("notifyPayment body %+v", n)
	}
	log := e.sim.Notifications()
	if len(log) != 1 || log[0].State != NotificationDelivered || len(log[0].Attempts) != 1 {
		t.Fatalf("notification log %+v", log)
	}
	l := e.sim.Ledger()
	if p, _ := l.Payment("order-1"); p.Paid != 1050 || p.Status != gateway.PaymentStatusSuccess {
		t.Fatalf("ledger %+v", p)
	}
	if r := l.Request("payment", "order-1"); r.Operations != 1 || r.Calls != 1 {
		t.Fatalf("ledger request %+v", r)
	}
	// The page now shows the final state; posting again changes nothing.
	_, page = getPage(t, resp.NormalURL)
	if !strings.Contains(page, "SUCCESS") || strings.Contains(page, `id="pay"`) {
		t.Errorf("final page still offers Pay")
	}
}

func TestDecline(t *testing.T) {
	e := newEnv(t)
	resp, _ := e.pay(walletPay("d-page", hkd("1000"), "ALIPAY_HK"))
	r := postForm(t, resp.NormalURL+"/decline", url.Values{"resultCode": {gateway.CodeRiskReject}})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("decline page: HTTP %d", r.StatusCode)
	}
	inq := e.inquiry("d-page")
	if inq.PaymentStatus != gateway.PaymentStatusFail || inq.PaymentResultCode != gateway.CodeRiskReject {
		t.Fatalf("after decline: %+v", inq)
	}
	e.pay(walletPay("d-api", hkd("1000"), "ALIPAY_HK"))
	if err := e.sim.Decline("d-api", ""); err != nil {
		t.Fatal(err)
	}
	if inq := e.inquiry("d-api"); inq.PaymentResultCode != gateway.CodeUserBalanceNotEnough {
		t.Fatalf("sim.Decline: %+v", inq)
	}
	if err := e.sim.Complete("d-api"); err == nil {
		t.Fatal("Complete of a failed payment succeeded")
	}
	// Magic amount: the Pay button declines.
	resp, _ = e.pay(walletPay("d-magic", hkd("9951"), "ALIPAY_HK"))
	postForm(t, resp.NormalURL+"/pay", url.Values{})
	if inq := e.inquiry("d-magic"); inq.PaymentResultCode != gateway.CodeUserBalanceNotEnough {
		t.Fatalf("magic amount: %+v", inq)
	}
	e.quiesce()
	fails := 0
	for _, n := range e.rcv.ofKind(gateway.KindNotifyPayment) {
		if n.Value.(*gateway.NotifyPayment).Result.ResultStatus == "F" {
			fails++
		}
	}
	if fails != 3 {
		t.Fatalf("%d failure notifications, want 3", fails)
	}
}

func TestExpiry(t *testing.T) {
	e := newEnv(t)
	e.pay(walletPay("exp-default", hkd("1000"), "ALIPAY_HK"))
	custom := walletPay("exp-custom", hkd("1000"), "ALIPAY_HK")
	custom.PaymentExpiryTime = gateway.FormatTime(e.sim.Now().Add(5 * time.Minute))
	e.pay(custom)

	e.sim.Advance(5*time.Minute - time.Second)
	e.wantStatus("exp-custom", gateway.PaymentStatusProcessing)
	e.sim.Advance(time.Second)
	e.wantStatus("exp-custom", gateway.PaymentStatusFail)
	e.wantStatus("exp-default", gateway.PaymentStatusProcessing)
	e.sim.Advance(9*time.Minute - time.Second)
	e.wantStatus("exp-default", gateway.PaymentStatusProcessing)
	e.sim.Advance(time.Second)
	inq := e.inquiry("exp-default")
	if inq.PaymentStatus != gateway.PaymentStatusFail || inq.PaymentResultCode != gateway.CodeOrderIsClosed {
		t.Fatalf("after 14 minutes: %+v", inq)
	}
	notes := e.rcv.ofKind(gateway.KindNotifyPayment)
	if len(notes) != 2 {
		t.Fatalf("%d expiry notifications, want 2", len(notes))
	}
	for _, n := range notes {
		if np := n.Value.(*gateway.NotifyPayment); np.Result.ResultCode != gateway.CodeOrderIsClosed {
			t.Errorf("expiry notification %+v", np.Result)
		}
	}
	// The checkout page of an expired payment offers nothing.
	_, page := getPage(t, e.srv.URL+"/checkout/"+inq.PaymentID)
	if strings.Contains(page, `id="pay"`) {
		t.Error("expired payment still payable")
	}
	if err := e.sim.Complete("exp-default"); err == nil {
		t.Error("Complete after expiry succeeded")
	}
}

func TestPayIdempotency(t *testing.T) {
	e := newEnv(t)
	first, _ := e.pay(walletPay("idem", hkd("1000"), "ALIPAY_HK"))
	again, c := e.pay(walletPay("idem", hkd("1000"), "ALIPAY_HK"))
	if c != gateway.CodePaymentInProcess || !reflect.DeepEqual(first, again) {
		t.Fatalf("unpaid replay differs:\n%+v\n%+v", first, again)
	}
	tests := []struct {
		name string
		req  *gateway.PayRequest
		code string
	}{
		{"different amount", walletPay("idem", hkd("1001"), "ALIPAY_HK"), gateway.CodeRepeatReqInconsistent},
		{"different currency", walletPay("idem", gateway.Amount{Currency: "CNY", Value: "1000"}, "ALIPAY_CN"), gateway.CodeRepeatReqInconsistent},
		{"different method", walletPay("idem", hkd("1000"), "OCTOPUS"), gateway.CodeRepeatReqInconsistent},
	}
	for _, tc := range tests {
		if _, c := e.pay(tc.req); c != tc.code {
			t.Errorf("%s: %s, want %s", tc.name, c, tc.code)
		}
	}
	// Different order details do not matter.
	other := walletPay("idem", hkd("1000"), "ALIPAY_HK")
	other.Order.OrderDescription = "changed"
	if _, c := e.pay(other); c != gateway.CodePaymentInProcess {
		t.Errorf("changed order: %s", c)
	}
	if err := e.sim.Complete("idem"); err != nil {
		t.Fatal(err)
	}
	paid, c := e.pay(walletPay("idem", hkd("1000"), "ALIPAY_HK"))
	if c != gateway.CodeSuccess || paid.NormalURL != "" || paid.RedirectActionForm != nil || paid.PaymentID != first.PaymentID || paid.PaymentTime == "" {
		t.Fatalf("paid replay: %s %+v", c, paid)
	}
	e.pay(walletPay("idem-fail", hkd("1000"), "ALIPAY_HK"))
	_ = e.sim.Decline("idem-fail", "")
	if _, c := e.pay(walletPay("idem-fail", hkd("1000"), "ALIPAY_HK")); c != gateway.CodeProcessFail {
		t.Errorf("failed replay: %s", c)
	}
	cancelled, _ := e.pay(walletPay("idem-cancel", hkd("1000"), "ALIPAY_HK"))
	if _, err := e.client.Cancel(e.ctx, &gateway.CancelRequest{PaymentID: cancelled.PaymentID}); err != nil {
		t.Fatal(err)
	}
	if _, c := e.pay(walletPay("idem-cancel", hkd("1000"), "ALIPAY_HK")); c != gateway.CodeProcessFail {
		t.Errorf("cancelled replay: %s", c)
	}
	if r := e.sim.Ledger().Request("payment", "idem"); r.Operations != 1 || r.Calls != 7 {
		t.Errorf("ledger for idem: %+v", r)
	}
}

func TestAutoComplete(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Behavior.AutoComplete = AutoComplete{After: Duration(30 * time.Second)} })
	e.pay(walletPay("ac-ok", hkd("1000"), "ALIPAY_HK"))
	e.pay(walletPay("ac-decline", hkd("9952"), "ALIPAY_HK"))
	e.pay(walletPay("ac-never", hkd("9954"), "ALIPAY_HK"))
	e.pay(walletPay("ac-pending", hkd("9955"), "ALIPAY_HK"))
	e.sim.Advance(29 * time.Second)
	e.wantStatus("ac-ok", gateway.PaymentStatusProcessing)
	e.sim.Advance(time.Second)
	e.wantStatus("ac-ok", gateway.PaymentStatusSuccess)
	e.wantStatus("ac-decline", gateway.PaymentStatusFail)
	e.wantStatus("ac-never", gateway.PaymentStatusProcessing)
	e.wantStatus("ac-pending", gateway.PaymentStatusPending)
	e.sim.Advance(30 * time.Second)
	e.wantStatus("ac-pending", gateway.PaymentStatusSuccess)
	// A PENDING payment can also be finished on the checkout page.
	pr, _ := e.pay(walletPay("page-pending", hkd("9955"), "ALIPAY_HK"))
	postForm(t, pr.NormalURL+"/pay", nil)
	e.wantStatus("page-pending", gateway.PaymentStatusPending)
	postForm(t, pr.NormalURL+"/pay", nil)
	e.wantStatus("page-pending", gateway.PaymentStatusSuccess)
	e.sim.Advance(14 * time.Minute)
	e.wantStatus("ac-never", gateway.PaymentStatusFail)
	var types []string
	for _, n := range e.rcv.ofKind(gateway.KindNotifyPayment) {
		np := n.Value.(*gateway.NotifyPayment)
		if np.PaymentRequestID == "ac-pending" {
			types = append(types, np.NotifyType)
		}
	}
	if !reflect.DeepEqual(types, []string{gateway.NotifyTypePaymentPending, gateway.NotifyTypePaymentResult}) {
		t.Fatalf("pending payment notifications %v", types)
	}
}

// Seeded decline rate: the same seed gives the same outcomes.
func TestAutoCompleteDeterministic(t *testing.T) {
	run := func() []string {
		e := newEnv(t, func(o *Options) {
			o.Seed = 7
			o.Behavior.AutoComplete = AutoComplete{After: Duration(time.Second), DeclineRate: 0.5}
		})
		var out []string
		for i := 0; i < 12; i++ {
			e.pay(walletPay("det-"+string(rune('a'+i)), hkd("1000"), "ALIPAY_HK"))
		}
		e.sim.Advance(time.Second)
		for i := 0; i < 12; i++ {
			out = append(out, e.status("det-"+string(rune('a'+i))))
		}
		return out
	}
	a, b := run(), run()
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("not deterministic:\n%v\n%v", a, b)
	}
	if !strings.Contains(strings.Join(a, ","), "FAIL") || !strings.Contains(strings.Join(a, ","), "SUCCESS") {
		t.Fatalf("decline rate 0.5 gave %v", a)
	}
}

func TestConsult(t *testing.T) {
	e := newEnv(t)
	resp, err := e.client.Consult(e.ctx, &gateway.ConsultRequest{
		PaymentAmount: hkd("5"), Env: &gateway.Env{TerminalType: "WEB"}, UserRegion: "HK",
	})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, o := range resp.PaymentOptions {
		types = append(types, o.PaymentMethodType)
	}
	// CARD first, then the HK methods, then the rest; only HKD-capable methods.
	if want := []string{"CARD", "ALIPAY_HK", "OCTOPUS", "ALIPAY_CN"}; !reflect.DeepEqual(types, want) {
		t.Fatalf("options %v, want %v", types, want)
	}
	cardOpt := resp.PaymentOptions[0]
	if cardOpt.PaymentOptionDetail == nil || len(cardOpt.PaymentOptionDetail.SupportCardBrands) == 0 ||
		cardOpt.PaymentOptionDetail.SupportCardBrands[0].CardBrand != "VISA" {
		t.Fatalf("card option %+v", cardOpt)
	}
	// HKD 0.05 is below ALIPAY_HK's minimum: listed but disabled.
	if hk := resp.PaymentOptions[1]; bool(hk.Enabled) || hk.DisableReason == "" {
		t.Fatalf("ALIPAY_HK below minimum: %+v", hk)
	}
	if err := e.sim.SetPaymentOptions(testClientID, []PaymentOptionConfig{{PaymentMethodType: "GCASH", Regions: []string{"PH"}, Currencies: []string{"PHP"}}}); err != nil {
		t.Fatal(err)
	}
	resp, err = e.client.Consult(e.ctx, &gateway.ConsultRequest{PaymentAmount: hkd("500"), Env: &gateway.Env{TerminalType: "WEB"}})
	if err != nil || len(resp.PaymentOptions) != 0 {
		t.Fatalf("currency filter: %v %+v", err, resp)
	}
	if _, c := e.pay(walletPay("no-option", hkd("500"), "ALIPAY_HK")); c != gateway.CodeNoPayOption {
		t.Fatalf("pay with a method not offered: %s", c)
	}
}
