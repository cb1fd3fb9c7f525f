package transition

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// The CPU the operator spends deciding a wallet payment's status, without
// any I/O: what the manager does with a pay answer and what the receiver
// does with the notifyPayment (apply, conditions, change detection).

var benchNow = time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC)

func benchPayment() *v1.Payment {
	return &v1.Payment{
		ObjectMeta: metav1.ObjectMeta{Name: "bench-000001", Namespace: "bench", Generation: 1},
		Spec: v1.PaymentSpec{GatewayRef: v1.GatewayReference{Name: "alipay-sim"},
			Amount: v1.Money{Currency: "HKD", Value: "10.00"}, PaymentMethod: v1.PaymentMethod{Type: "ALIPAY_HK"},
			Env: v1.TerminalEnv{TerminalType: "WEB"}},
	}
}

func benchPayFacts() PaymentFacts {
	r := gateway.NewResult(gateway.CodePaymentInProcess)
	return PaymentFacts{Source: SourcePay, Result: &r, PaymentID: "202601051100000000000001",
		PaymentRequestID: "bench-0123456789abcdef", CreateTime: "2026-01-05T10:00:00+08:00",
		UserAction: &v1.UserAction{Type: "Redirect", URL: "http://127.0.0.1:8080/checkout/202601051100000000000001"}}
}

func benchNotifyFacts() PaymentFacts {
	r := gateway.NewResult(gateway.CodeSuccess)
	return PaymentFacts{Source: SourceNotification, GatewayStatus: gateway.PaymentStatusSuccess, Result: &r,
		PaymentID: "202601051100000000000001", PaymentRequestID: "bench-0123456789abcdef",
		Amount: &gateway.Amount{Currency: "HKD", Value: "1000"}, PaymentTime: "2026-01-05T10:00:01+08:00"}
}

// BenchmarkApplyPaymentWalletLifecycle: the pay answer (→ Processing) and
// the notification (→ Succeeded), each with conditions and the change
// check that decides whether to write.
func BenchmarkApplyPaymentWalletLifecycle(b *testing.B) {
	pay, notify := benchPayFacts(), benchNotifyFacts()
	b.ReportAllocs()
	for b.Loop() {
		p := benchPayment()
		for _, f := range []PaymentFacts{pay, notify} {
			before := p.Status.DeepCopy()
			ch, err := ApplyPayment(p, f, benchNow)
			if err != nil {
				b.Fatal(err)
			}
			SetPaymentConditions(p)
			if !ch.Changed || equality.Semantic.DeepEqual(before, &p.Status) {
				b.Fatalf("%s: no change", f.Source)
			}
		}
		if p.Status.Phase != v1.PaymentSucceeded {
			b.Fatalf("phase %s", p.Status.Phase)
		}
	}
}

// BenchmarkApplyPaymentDuplicate: a duplicate notification about a
// Succeeded payment, which must change nothing (and so write nothing).
func BenchmarkApplyPaymentDuplicate(b *testing.B) {
	p := benchPayment()
	for _, f := range []PaymentFacts{benchPayFacts(), benchNotifyFacts()} {
		if _, err := ApplyPayment(p, f, benchNow); err != nil {
			b.Fatal(err)
		}
		SetPaymentConditions(p)
	}
	notify := benchNotifyFacts()
	b.ReportAllocs()
	for b.Loop() {
		cur := p.DeepCopy()
		ch, err := ApplyPayment(cur, notify, benchNow.Add(time.Second))
		if err != nil {
			b.Fatal(err)
		}
		SetPaymentConditions(cur)
		if ch.Changed || !equality.Semantic.DeepEqual(&p.Status, &cur.Status) {
			b.Fatal("a duplicate changed the status")
		}
	}
}
