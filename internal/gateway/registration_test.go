package gateway

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestCheckRegistration(t *testing.T) {
	merchant := func() *MerchantRegistrationInfo { return &MerchantRegistrationInfo{ReferenceMerchantID: "M1"} }
	tests := []struct {
		name string
		req  RegistrationRequest
		want string // "" for valid
	}{
		{"valid", RegistrationRequest{MerchantInfo: merchant(), ProductCodes: []string{ProductCashierPayment}}, ""},
		{"no merchant", RegistrationRequest{ProductCodes: []string{ProductCashierPayment}}, "merchantInfo is required"},
		{"no merchant id", RegistrationRequest{MerchantInfo: &MerchantRegistrationInfo{}, ProductCodes: []string{ProductCashierPayment}}, "referenceMerchantId is required"},
		{"long merchant id", RegistrationRequest{MerchantInfo: &MerchantRegistrationInfo{ReferenceMerchantID: strings.Repeat("m", 65)}, ProductCodes: []string{ProductCashierPayment}}, "at most 64"},
		{"no products", RegistrationRequest{MerchantInfo: merchant()}, "productCodes is required"},
		{"unknown product", RegistrationRequest{MerchantInfo: merchant(), ProductCodes: []string{"TOASTER"}}, `unknown product code "TOASTER"`},
		{"in-store without store", RegistrationRequest{MerchantInfo: merchant(), ProductCodes: []string{ProductInStorePayment}}, "storeInfo.referenceStoreId is required"},
		{"in-store with store", RegistrationRequest{MerchantInfo: merchant(), ProductCodes: []string{ProductInStorePayment}, StoreInfo: &StoreRegistrationInfo{ReferenceStoreID: "S1"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkRegistration(&tt.req)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// An invalid registration is refused before anything is sent: no client
// configuration is needed to see it.
func TestRegistrationInvalidNotSent(t *testing.T) {
	c := &Client{}
	_, err := c.Registration(context.Background(), &RegistrationRequest{RegistrationRequestID: "R1"})
	if !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), "registrationRequestId=R1") {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.InquiryRegistrationStatus(context.Background(), &InquiryRegistrationStatusRequest{}); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("inquiry without ids: err = %v", err)
	}
}

func TestParseRegistrationNotification(t *testing.T) {
	body := `{"referenceMerchantId":"M1","registrationRequestId":"R1","registrationResult":{"registrationStatus":"APPROVED"},` +
		`"pspRegistrationResultList":[{"pspName":"ALIPAY_CN","registrationResult":{"registrationStatus":"APPROVED"}}]}`
	kind, v, err := ParseNotification([]byte(body))
	if err != nil || kind != KindNotifyRegistrationStatus {
		t.Fatalf("kind %q err %v", kind, err)
	}
	n := v.(*NotifyRegistrationStatus)
	if n.RegistrationRequestID != "R1" || n.RegistrationResult.RegistrationStatus != RegistrationApproved || n.PSPRegistrationResultList[0].PSPName != "ALIPAY_CN" {
		t.Fatalf("n = %+v", n)
	}
	if _, _, err := ParseNotification([]byte(`{"referenceMerchantId":"M1"}`)); !errors.Is(err, ErrNotificationUnknown) {
		t.Fatalf("without registrationRequestId: err = %v", err)
	}
}
