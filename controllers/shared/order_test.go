package shared

import (
	"testing"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

func TestSumMoney(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ms      []v1.Money
		want    string
		wantErr bool
	}{
		{name: "none", want: "0.00"},
		{name: "exact", ms: []v1.Money{{Currency: "HKD", Value: "0.10"}, {Currency: "HKD", Value: "0.20"}}, want: "0.30"},
		{name: "a bad amount is an error, not skipped", ms: []v1.Money{{Currency: "HKD", Value: "1.00"}, {Currency: "HKD", Value: "1.001"}}, wantErr: true},
		{name: "another currency is an error", ms: []v1.Money{{Currency: "USD", Value: "1.00"}}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SumMoney("HKD", tc.ms)
			if (err != nil) != tc.wantErr || (err == nil && got.Major() != tc.want) {
				t.Fatalf("got %v, %v; want %s (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
