package ids

import (
	"testing"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

func registrationFixture() *v1.MerchantRegistration {
	m := &v1.MerchantRegistration{}
	m.Namespace, m.Name = "shops", "acme"
	m.Spec = v1.MerchantRegistrationSpec{
		GatewayRef: v1.GatewayReference{Name: "sandbox"}, ReferenceMerchantID: "acme-001",
		DisplayName: "Acme", MCC: "5812", Address: v1.RegistrationAddress{Region: "HK"},
		Legal:        v1.LegalRegistration{LegalName: "Acme Ltd", BusinessType: "ENTERPRISE", RegistrationType: "ENTERPRISE_REGISTRATION_NO", RegistrationNo: "123", RegistrationRegion: "HK"},
		ProductCodes: []v1.ProductCode{"CASHIER_PAYMENT"},
	}
	return m
}

func TestRegistrationID(t *testing.T) {
	base := registrationFixture()
	first := Registration(base, "")
	tests := []struct {
		name   string
		change func(m *v1.MerchantRegistration)
		same   bool
	}{
		{"same manifest, new object", func(m *v1.MerchantRegistration) { m.UID = "other" }, true},
		{"gateway is no registered detail", func(m *v1.MerchantRegistration) { m.Spec.GatewayRef.Name = "prod" }, true},
		{"display name changed", func(m *v1.MerchantRegistration) { m.Spec.DisplayName = "Acme HK" }, false},
		{"product added", func(m *v1.MerchantRegistration) {
			m.Spec.ProductCodes = append(m.Spec.ProductCodes, "AGREEMENT_PAYMENT")
		}, false},
		{"other name", func(m *v1.MerchantRegistration) { m.Name = "acme-2" }, false},
		{"recorded id for the same details wins", func(m *v1.MerchantRegistration) {
			m.Status.RegistrationRequestID, m.Status.Digest = first, RegistrationDigest(&m.Spec)
		}, true},
		{"recorded id for other details is not reused", func(m *v1.MerchantRegistration) {
			m.Status.RegistrationRequestID, m.Status.Digest = "regold", "not-this-digest"
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := registrationFixture()
			tt.change(m)
			if got := Registration(m, ""); (got == first) != tt.same {
				t.Fatalf("id %s, first %s, want same=%v", got, first, tt.same)
			}
		})
	}
	if Registration(base, "prod") == first {
		t.Fatal("identityScope must change the id")
	}
	if len(first) != 29 {
		t.Fatalf("id %q is %d characters", first, len(first))
	}
}
