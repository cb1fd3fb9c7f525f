package gatewaysim

import (
	"fmt"
	"testing"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// BenchmarkPayCompleteInquire measures the hot path over real HTTP with
// signing on both sides: pay, complete, inquiryPayment.
func BenchmarkPayCompleteInquire(b *testing.B) {
	keys(b)
	sim, err := New(Options{GatewayKey: gatewayKey})
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	if err := sim.AddMerchant(testClientID, &merchantKey.PublicKey, "1", ""); err != nil {
		b.Fatal(err)
	}
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	client, err := gateway.New(gateway.Config{Endpoint: url, ClientID: testClientID, PrivateKey: merchantKey,
		GatewayPublicKey: sim.GatewayPublicKey(), Retry: gateway.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			id := fmt.Sprintf("b-%p-%d", pb, i)
			resp, err := client.Pay(b.Context(), walletPay(id, hkd("1000"), "ALIPAY_HK"))
			if !gateway.IsInProcess(err) {
				b.Fatal(err)
			}
			if err := sim.Complete(resp.PaymentID); err != nil {
				b.Fatal(err)
			}
			if _, err := client.InquiryPayment(b.Context(), &gateway.InquiryPaymentRequest{PaymentID: resp.PaymentID}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
