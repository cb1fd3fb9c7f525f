package gatewaysim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

func TestWireErrors(t *testing.T) {
	e := newEnv(t)
	if err := e.sim.AddMerchantKey(testClientID, "2", &otherKey.PublicKey); err != nil {
		t.Fatal(err)
	}
	valid := `{"paymentRequestId":"nope"}`
	inq := gateway.PrefixProduction + gateway.PathInquiryPayment
	tests := []struct {
		name    string
		req     rawReq
		code    string
		msgPart string
	}{
		{"ok epoch ms", rawReq{path: inq, clientID: testClientID, body: valid}, gateway.CodeOrderNotExist, ""},
		{"ok ISO request time", rawReq{path: inq, clientID: testClientID, body: valid, requestTime: "2019-05-28T12:12:12+08:00"}, gateway.CodeOrderNotExist, ""},
		{"sandbox prefix", rawReq{path: gateway.PrefixSandbox + gateway.PathInquiryPayment, clientID: testClientID, body: valid}, gateway.CodeOrderNotExist, ""},
		{"alipay+ prefix", rawReq{path: gateway.PrefixAlipayPlus + gateway.PathInquiryPayment, clientID: testClientID, body: valid}, gateway.CodeOrderNotExist, ""},
		{"second key version", rawReq{path: inq, clientID: testClientID, body: valid, keyVersion: "2", key: otherKey}, gateway.CodeOrderNotExist, ""},
		{"missing signature", rawReq{path: inq, clientID: testClientID, body: valid, noSig: true}, gateway.CodeSignatureInvalid, "Signature"},
		{"bad signature", rawReq{path: inq, clientID: testClientID, body: valid, badSig: true}, gateway.CodeSignatureInvalid, "verify"},
		{"wrong key", rawReq{path: inq, clientID: testClientID, body: valid, key: otherKey}, gateway.CodeSignatureInvalid, ""},
		{"unknown key version", rawReq{path: inq, clientID: testClientID, body: valid, keyVersion: "9"}, gateway.CodeKeyNotFound, "keyVersion"},
		{"unknown client", rawReq{path: inq, clientID: "SANDBOX_NOBODY", body: valid}, gateway.CodeClientInvalid, "SANDBOX_NOBODY"},
		{"missing client id", rawReq{path: inq, clientID: "", body: valid}, gateway.CodeClientInvalid, "Client-Id"},
		{"GET", rawReq{method: http.MethodGet, path: inq, clientID: testClientID}, gateway.CodeMethodNotSupported, "POST"},
		{"text/plain", rawReq{path: inq, clientID: testClientID, body: valid, contentType: "text/plain"}, gateway.CodeMediaTypeNotAcceptable, ""},
		{"unknown API", rawReq{path: gateway.PrefixProduction + "/v1/payments/nothing", clientID: testClientID, body: valid}, gateway.CodeAPIInvalid, ""},
		{"malformed JSON", rawReq{path: inq, clientID: testClientID, body: `{"paymentRequestId":`}, gateway.CodeParamIllegal, "JSON"},
		{"empty body", rawReq{path: inq, clientID: testClientID, body: ``}, gateway.CodeParamIllegal, "empty"},
		{"wrong JSON type", rawReq{path: gateway.PrefixProduction + gateway.PathPay, clientID: testClientID, body: `{"paymentAmount":{"currency":"HKD","value":100}}`}, gateway.CodeParamIllegal, "paymentAmount.value"},
		{"missing field", rawReq{path: gateway.PrefixProduction + gateway.PathRefund, clientID: testClientID, body: `{"refundRequestId":"r1","refundAmount":{"currency":"HKD","value":"100"}}`}, gateway.CodeParamIllegal, "paymentId"},
		{"bad amount", rawReq{path: gateway.PrefixProduction + gateway.PathRefund, clientID: testClientID, body: `{"refundRequestId":"r1","paymentId":"x","refundAmount":{"currency":"HKD","value":"1.5"}}`}, gateway.CodeParamIllegal, "refundAmount.value"},
		{"bad currency", rawReq{path: gateway.PrefixProduction + gateway.PathRefund, clientID: testClientID, body: `{"refundRequestId":"r1","paymentId":"x","refundAmount":{"currency":"XXX","value":"100"}}`}, gateway.CodeParamIllegal, "refundAmount.currency"},
		{"special characters in id", rawReq{path: gateway.PrefixProduction + gateway.PathRefund, clientID: testClientID, body: `{"refundRequestId":"r/1","paymentId":"x","refundAmount":{"currency":"HKD","value":"100"}}`}, gateway.CodeParamIllegal, "refundRequestId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, res, _ := e.raw(tc.req)
			if status != http.StatusOK {
				t.Errorf("HTTP %d, want 200", status)
			}
			if res.ResultCode != tc.code {
				t.Fatalf("result %+v, want %s", res, tc.code)
			}
			if want := gateway.Codes[tc.code].Status; res.ResultStatus != want {
				t.Errorf("status %s, want %s", res.ResultStatus, want)
			}
			if !strings.Contains(res.ResultMessage, tc.msgPart) {
				t.Errorf("message %q does not mention %q", res.ResultMessage, tc.msgPart)
			}
		})
	}
}

func TestPayValidation(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		mod  func(r *gateway.PayRequest)
		code string
		msg  string
	}{
		{"missing request id", func(r *gateway.PayRequest) { r.PaymentRequestID = "" }, gateway.CodeParamIllegal, "paymentRequestId"},
		{"id too long", func(r *gateway.PayRequest) { r.PaymentRequestID = strings.Repeat("a", 65) }, gateway.CodeParamIllegal, "64"},
		{"product", func(r *gateway.PayRequest) { r.ProductCode = "AGREEMENT_PAYMENT" }, gateway.CodeInvalidContract, "CASHIER_PAYMENT"},
		{"zero amount", func(r *gateway.PayRequest) { r.PaymentAmount.Value = "0" }, gateway.CodeParamIllegal, "paymentAmount.value"},
		{"JPY with leading zero", func(r *gateway.PayRequest) {
			r.PaymentAmount = gateway.Amount{Currency: "JPY", Value: "0100"}
			r.PaymentMethod.PaymentMethodType = "CARD"
		}, gateway.CodeParamIllegal, "paymentAmount.value"},
		{"no env", func(r *gateway.PayRequest) { r.Env = nil }, gateway.CodeParamIllegal, "terminalType"},
		{"APP without osType", func(r *gateway.PayRequest) { r.Env = &gateway.Env{TerminalType: "APP"} }, gateway.CodeParamIllegal, "osType"},
		{"expiry in the past", func(r *gateway.PayRequest) { r.PaymentExpiryTime = "2020-01-01T00:00:00+08:00" }, gateway.CodeParamIllegal, "paymentExpiryTime"},
		{"bad notify url", func(r *gateway.PayRequest) { r.PaymentNotifyURL = "notify" }, gateway.CodeParamIllegal, "paymentNotifyUrl"},
		{"unknown method", func(r *gateway.PayRequest) { r.PaymentMethod.PaymentMethodType = "NOPAY" }, gateway.CodeNoPayOption, "NOPAY"},
		{"currency not supported", func(r *gateway.PayRequest) { r.PaymentAmount.Currency = "USD" }, gateway.CodeCurrencyNotSupport, "USD"},
		{"below wallet minimum", func(r *gateway.PayRequest) { r.PaymentAmount.Value = "9" }, gateway.CodePaymentAmountExceedLimit, "minimum"},
		{"auth for a wallet", func(r *gateway.PayRequest) { r.IsAuthorization = gateway.BoolPtr(true) }, gateway.CodeParamIllegal, "CARD"},
		{"installments", func(r *gateway.PayRequest) { r.CreditPayPlan = &gateway.CreditPayPlan{InstallmentNum: 13} }, gateway.CodeParamIllegal, "installmentNum"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := walletPay("val-"+string(rune('a'+i)), hkd("100"), "ALIPAY_HK")
			tc.mod(r)
			r.ProductCode = map[bool]string{true: r.ProductCode, false: gateway.ProductCodeCashierPayment}[r.ProductCode != ""]
			// Raw, because the client refuses some invalid requests itself.
			body, _ := json.Marshal(r)
			_, res, _ := e.raw(rawReq{path: gateway.PrefixProduction + gateway.PathPay, clientID: testClientID, body: string(body)})
			if res.ResultCode != tc.code {
				t.Fatalf("result %+v, want %s", res, tc.code)
			}
			if !strings.Contains(res.ResultMessage, tc.msg) {
				t.Errorf("message %q does not mention %q", res.ResultMessage, tc.msg)
			}
		})
	}
	if l := e.sim.Ledger(); len(l.Payments) != 0 {
		t.Errorf("invalid pays created payments: %+v", l.Payments)
	}
}

func TestEveryResponseSigned(t *testing.T) {
	// A GET to a pay path: METHOD_NOT_SUPPORTED, still signed with the echoed Client-Id.
	e := newEnv(t)
	_, res, h := e.raw(rawReq{method: http.MethodGet, path: "/ams/api/v1/payments/pay", clientID: "SANDBOX_WHOEVER"})
	if res.ResultCode != gateway.CodeMethodNotSupported || h.Get("Client-Id") != "SANDBOX_WHOEVER" {
		t.Fatalf("got %+v, Client-Id %q", res, h.Get("Client-Id"))
	}
	if _, err := gateway.ParseRequestTime(h.Get("Response-Time")); err != nil {
		t.Fatalf("Response-Time: %v", err)
	}
	_ = time.Second
}
