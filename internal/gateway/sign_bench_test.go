package gateway

import (
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// The RSA-2048 work behind one gateway call is the operator's largest CPU
// cost per payment (make bench profiles it): the client signs the request
// and verifies the response, the gateway does the reverse, and a
// notification costs the gateway a signature and the receiver a verify.

var (
	benchKeysOnce          sync.Once
	benchMerchant, benchGW *rsa.PrivateKey
	benchKeysErr           error
)

func benchKeys(b *testing.B) (merchant, gw *rsa.PrivateKey) {
	b.Helper()
	benchKeysOnce.Do(func() {
		if benchMerchant, benchKeysErr = GenerateKey(); benchKeysErr == nil {
			benchGW, benchKeysErr = GenerateKey()
		}
	})
	if benchKeysErr != nil {
		b.Fatal(benchKeysErr)
	}
	return benchMerchant, benchGW
}

func benchPayBody(b *testing.B) []byte {
	b.Helper()
	body, err := json.Marshal(&PayRequest{ProductCode: ProductCodeCashierPayment, PaymentRequestID: "bench-0123456789abcdef",
		PaymentAmount: Amount{Currency: "HKD", Value: "1000"}, PaymentMethod: PaymentMethod{PaymentMethodType: "ALIPAY_HK"},
		PaymentNotifyURL: "http://127.0.0.1:8443/notify/payment/bench/bench-000001", Env: &Env{TerminalType: "WEB"}})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

const benchPath = "/ams/sandbox/api/v1/payments/pay"

// BenchmarkSign is one request (or response, or notification) signature.
func BenchmarkSign(b *testing.B) {
	key, _ := benchKeys(b)
	body := benchPayBody(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(key, "1", http.MethodPost, benchPath, "SANDBOX_BENCH", "1767578400000", body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is one signature check.
func BenchmarkVerify(b *testing.B) {
	key, _ := benchKeys(b)
	body := benchPayBody(b)
	sig, err := Sign(key, "1", http.MethodPost, benchPath, "SANDBOX_BENCH", "1767578400000", body)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(&key.PublicKey, sig, http.MethodPost, benchPath, "SANDBOX_BENCH", "1767578400000", body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignVerifyRoundTrip is the signing work of one API call on both
// sides: request signed and verified, response signed and verified.
func BenchmarkSignVerifyRoundTrip(b *testing.B) {
	merchant, gw := benchKeys(b)
	req := benchPayBody(b)
	resp := []byte(`{"result":{"resultCode":"PAYMENT_IN_PROCESS","resultStatus":"U","resultMessage":"payment in process"},"paymentRequestId":"bench-0123456789abcdef","paymentId":"202601051100000000000001","normalUrl":"http://127.0.0.1:8080/checkout/202601051100000000000001"}`)
	b.ReportAllocs()
	for b.Loop() {
		sig, err := Sign(merchant, "1", http.MethodPost, benchPath, "SANDBOX_BENCH", "1767578400000", req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Verify(&merchant.PublicKey, sig, http.MethodPost, benchPath, "SANDBOX_BENCH", "1767578400000", req); err != nil {
			b.Fatal(err)
		}
		rsig, err := Sign(gw, "1", http.MethodPost, benchPath, "SANDBOX_BENCH", "2026-01-05T10:00:00+08:00", resp)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Verify(&gw.PublicKey, rsig, http.MethodPost, benchPath, "SANDBOX_BENCH", "2026-01-05T10:00:00+08:00", resp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyNotification is the receiver's authentication of one
// notifyPayment (headers, time, signature) and its parsing.
func BenchmarkVerifyNotification(b *testing.B) {
	_, gw := benchKeys(b)
	body, err := os.ReadFile(filepath.Join("testdata", "notify_payment.json"))
	if err != nil {
		b.Fatal(err)
	}
	const path = "/notify/payment/bench/bench-000001"
	reqTime := "2026-01-05T10:00:05+08:00"
	sig, err := Sign(gw, "1", http.MethodPost, path, "SANDBOX_BENCH", reqTime, body)
	if err != nil {
		b.Fatal(err)
	}
	nr := NotificationRequest{Method: http.MethodPost, Path: path, Body: body, Header: http.Header{
		HeaderContentType: {"application/json; charset=UTF-8"}, HeaderClientID: {"SANDBOX_BENCH"},
		HeaderRequestTime: {reqTime}, HeaderSignature: {sig}}}
	now := time.Date(2026, 1, 5, 2, 0, 6, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyNotification(&gw.PublicKey, nr, now, 5*time.Minute); err != nil {
			b.Fatal(err)
		}
		if _, _, err := ParseNotification(body); err != nil {
			b.Fatal(err)
		}
	}
}
