package merchant

import (
	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// registrationRequest is the registration call for m's spec under request
// id, notifications to notify ("" for none).
func registrationRequest(m *v1.MerchantRegistration, id, notify string) *gateway.RegistrationRequest {
	s := &m.Spec
	info := &gateway.MerchantRegistrationInfo{
		ReferenceMerchantID: s.ReferenceMerchantID,
		MerchantDisplayName: s.DisplayName,
		MerchantMCC:         s.MCC,
		MerchantAddress:     shared.WireAddress(&s.Address),
		RegistrationDetail: &gateway.RegistrationDetail{
			LegalName:           s.Legal.LegalName,
			BusinessType:        s.Legal.BusinessType,
			RegistrationType:    s.Legal.RegistrationType,
			RegistrationNo:      s.Legal.RegistrationNo,
			RegistrationAddress: &gateway.Address{Region: s.Legal.RegistrationRegion},
		},
	}
	for _, c := range s.Legal.Contacts {
		info.RegistrationDetail.ContactInfo = append(info.RegistrationDetail.ContactInfo, gateway.ContactInfo{ContactNo: c.Value, ContactType: c.Type})
	}
	for _, w := range s.Websites {
		info.Websites = append(info.Websites, gateway.WebSite{URL: w.URL, Name: w.Name, Desc: w.Description})
	}
	if l := s.Logo; l != nil {
		info.Logo = &gateway.Logo{LogoName: l.Name, LogoURL: l.URL}
	}
	req := &gateway.RegistrationRequest{RegistrationRequestID: id, RegistrationNotifyURL: notify, MerchantInfo: info}
	for _, p := range s.ProductCodes {
		req.ProductCodes = append(req.ProductCodes, string(p))
	}
	if st := s.Store; st != nil {
		req.StoreInfo = &gateway.StoreRegistrationInfo{ReferenceStoreID: st.ReferenceStoreID, StoreName: st.Name, StoreMCC: st.MCC,
			StoreAddress: shared.WireAddress(st.Address)}
	}
	return req
}
