package fieldindex

import (
	"slices"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

func TestExtractors(t *testing.T) {
	observed := &v1.Payment{Spec: v1.PaymentSpec{PaymentID: "2026A"}}
	paid := &v1.Payment{}
	paid.Status.PaymentID = "2026B"
	both := &v1.Payment{Spec: v1.PaymentSpec{PaymentID: "2026C"}}
	both.Status.PaymentID = "2026C"
	for _, tc := range []struct {
		name string
		fn   func(client.Object) []string
		obj  client.Object
		want []string
	}{
		{"payment id from status", PaymentIDValues, paid, []string{"2026B"}},
		{"payment id of an observed payment", PaymentIDValues, observed, []string{"2026A"}},
		{"the same id once", PaymentIDValues, both, []string{"2026C"}},
		{"no payment id yet", PaymentIDValues, &v1.Payment{}, nil},
		{"not a payment", PaymentIDValues, &v1.Refund{}, nil},
		{"refund's payment", PaymentRefValues, &v1.Refund{Spec: v1.RefundSpec{PaymentRef: v1.LocalObjectReference{Name: "p"}}}, []string{"p"}},
		{"capture without payment", PaymentRefValues, &v1.Capture{}, nil},
		{"payment's merchant", MerchantRefValues, &v1.Payment{Spec: v1.PaymentSpec{MerchantRef: &v1.LocalObjectReference{Name: "acme"}}}, []string{"acme"}},
		{"payment without a merchant", MerchantRefValues, &v1.Payment{}, nil},
		{"response's dispute", DisputeRefValues, &v1.DisputeResponse{Spec: v1.DisputeResponseSpec{DisputeRef: v1.LocalObjectReference{Name: "d"}}}, []string{"d"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.fn(tc.obj); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
