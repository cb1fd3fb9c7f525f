package gatewaysim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// regEnv is an env whose merchant offers CARD and two wallets, so that a
// registration is reviewed by the PSPs ALIPAY_HK and GCASH.
func regEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	var opts []PaymentOptionConfig
	for _, o := range DefaultPaymentOptions() {
		if o.PaymentMethodType == "CARD" || o.PaymentMethodType == "ALIPAY_HK" || o.PaymentMethodType == "GCASH" {
			opts = append(opts, o)
		}
	}
	if err := e.sim.SetPaymentOptions(testClientID, opts); err != nil {
		t.Fatal(err)
	}
	return e
}

func regReq(id, merchantID string) *gateway.RegistrationRequest {
	return &gateway.RegistrationRequest{RegistrationRequestID: id, ProductCodes: []string{gateway.ProductCashierPayment},
		MerchantInfo: &gateway.MerchantRegistrationInfo{ReferenceMerchantID: merchantID, MerchantDisplayName: "Shop " + merchantID, MerchantMCC: "5812"}}
}

func (e *env) register(req *gateway.RegistrationRequest) string {
	e.t.Helper()
	resp, err := e.client.Registration(e.ctx, req)
	return code(e.t, resp, err)
}

func (e *env) regStatus(req *gateway.InquiryRegistrationStatusRequest) (*gateway.InquiryRegistrationStatusResponse, string) {
	e.t.Helper()
	resp, err := e.client.InquiryRegistrationStatus(e.ctx, req)
	return resp, code(e.t, resp, err)
}

// reviewReg posts a review to the control API and returns the HTTP status
// and the view (200) or the error text.
func (e *env) reviewReg(id, psp, status, reasons string) (int, RegistrationView, string) {
	e.t.Helper()
	body, _ := json.Marshal(RegistrationReview{PSPName: psp, Status: status, RejectReasons: reasons})
	st, raw := e.controlRaw(http.MethodPost, "/_sim/registrations/"+id+"/review", string(body))
	return st, decodeView(e.t, st, raw), errorText(raw)
}

func decodeView(t *testing.T, status int, raw []byte) RegistrationView {
	t.Helper()
	var v RegistrationView
	if status == http.StatusOK {
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("view %s: %v", raw, err)
		}
	}
	return v
}

func errorText(raw []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(raw, &e)
	return e.Error
}

func pspStatuses(list []gateway.PSPRegistrationResult) map[string]string {
	out := map[string]string{}
	for _, p := range list {
		out[p.PSPName] = p.RegistrationResult.RegistrationStatus
	}
	return out
}

func TestRegistrationValidation(t *testing.T) {
	e := regEnv(t)
	path := gateway.PrefixProduction + gateway.PathRegistration
	const merchant = `"merchantInfo":{"referenceMerchantId":"M1"}`
	tests := []struct {
		name, body, code, msg string
	}{
		{"valid", `{"registrationRequestId":"V1",` + merchant + `,"productCodes":["CASHIER_PAYMENT"]}`, gateway.CodeSuccess, ""},
		{"empty body", ``, gateway.CodeParamIllegal, "empty"},
		{"no request id", `{` + merchant + `,"productCodes":["CASHIER_PAYMENT"]}`, gateway.CodeParamIllegal, "registrationRequestId is required"},
		{"request id > 64", `{"registrationRequestId":"` + strings.Repeat("r", 65) + `",` + merchant + `,"productCodes":["CASHIER_PAYMENT"]}`, gateway.CodeParamIllegal, "longer than 64"},
		{"no merchantInfo", `{"registrationRequestId":"V2","productCodes":["CASHIER_PAYMENT"]}`, gateway.CodeParamIllegal, "merchantInfo is required"},
		{"no referenceMerchantId", `{"registrationRequestId":"V2","merchantInfo":{},"productCodes":["CASHIER_PAYMENT"]}`, gateway.CodeParamIllegal, "referenceMerchantId is required"},
		{"referenceMerchantId > 64", `{"registrationRequestId":"V2","merchantInfo":{"referenceMerchantId":"` + strings.Repeat("m", 65) + `"},"productCodes":["CASHIER_PAYMENT"]}`, gateway.CodeParamIllegal, "longer than 64"},
		{"no productCodes", `{"registrationRequestId":"V2",` + merchant + `}`, gateway.CodeParamIllegal, "productCodes is required"},
		{"unknown product", `{"registrationRequestId":"V2",` + merchant + `,"productCodes":["TOASTER"]}`, gateway.CodeParamIllegal, `"TOASTER" is not a product code`},
		{"in-store without store", `{"registrationRequestId":"V2",` + merchant + `,"productCodes":["IN_STORE_PAYMENT"]}`, gateway.CodeParamIllegal, "storeInfo.referenceStoreId is required"},
		{"referenceStoreId > 32", `{"registrationRequestId":"V2",` + merchant + `,"productCodes":["IN_STORE_PAYMENT"],"storeInfo":{"referenceStoreId":"` + strings.Repeat("s", 33) + `"}}`, gateway.CodeParamIllegal, "longer than 32"},
		{"bad notify URL", `{"registrationRequestId":"V2","registrationNotifyURL":"ftp://x",` + merchant + `,"productCodes":["CASHIER_PAYMENT"]}`, gateway.CodeParamIllegal, "registrationNotifyURL"},
		{"wrong type", `{"registrationRequestId":"V2",` + merchant + `,"productCodes":"CASHIER_PAYMENT"}`, gateway.CodeParamIllegal, "productCodes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, res, _ := e.raw(rawReq{path: path, clientID: testClientID, body: tc.body})
			if res.ResultCode != tc.code || !strings.Contains(res.ResultMessage, tc.msg) {
				t.Fatalf("%+v, want %s containing %q", res, tc.code, tc.msg)
			}
			if res.ResultStatus != gateway.Codes[tc.code].Status {
				t.Fatalf("resultStatus %s for %s", res.ResultStatus, tc.code)
			}
		})
	}
	if _, err := e.sim.Registration("V2"); err == nil {
		t.Fatal("a refused registration was recorded")
	}
}

// TestRegistrationIdempotency: the same id and request answer as the first
// time, another request under the id is inconsistent, a second id for a
// merchant under review is a repeat registration, and once the review is
// final a new id re-registers the merchant.
func TestRegistrationIdempotency(t *testing.T) {
	e := regEnv(t)
	first := regReq("R1", "M1")
	first.PassThroughInfo = "k=v"
	resp, err := e.client.Registration(e.ctx, first)
	if err != nil || resp.Result.ResultStatus != gateway.StatusSuccess || resp.PassThroughInfo != "k=v" {
		t.Fatalf("registration: %+v, %v", resp, err)
	}
	if c := e.register(first); c != gateway.CodeSuccess {
		t.Fatalf("replay: %s", c)
	}
	changed := regReq("R1", "M1")
	changed.PassThroughInfo = "k=v"
	changed.MerchantInfo.MerchantDisplayName = "Other name"
	if c := e.register(changed); c != gateway.CodeRepeatReqInconsistent {
		t.Fatalf("changed replay: %s", c)
	}
	_, err = e.client.Registration(e.ctx, regReq("R2", "M1"))
	if gateway.Code(err) != gateway.CodeRepeatRegistration || gateway.Codes[gateway.CodeRepeatRegistration].Status != gateway.StatusFail {
		t.Fatalf("second id while pending: %v", err)
	}
	store := regReq("R-store", "M1")
	store.StoreInfo = &gateway.StoreRegistrationInfo{ReferenceStoreID: "S1"}
	if c := e.register(store); c != gateway.CodeSuccess {
		t.Fatalf("another store of the merchant: %s", c)
	}
	if st, _, msg := e.reviewReg("R1", "*", gateway.RegistrationRejected, "incomplete documents"); st != http.StatusOK {
		t.Fatalf("review: %d %s", st, msg)
	}
	if c := e.register(regReq("R2", "M1")); c != gateway.CodeSuccess {
		t.Fatalf("re-registration after rejection: %s", c)
	}
	got, c := e.regStatus(&gateway.InquiryRegistrationStatusRequest{ReferenceMerchantID: "M1"})
	if c != gateway.CodeSuccess || got.RegistrationResult.RegistrationStatus != gateway.RegistrationPending {
		t.Fatalf("inquiry by merchant: %s %+v", c, got)
	}
	if v, _ := e.sim.Registration("R1"); v.Latest || v.Status != gateway.RegistrationRejected {
		t.Fatalf("R1: %+v", v)
	}
	if v, _ := e.sim.Registration("R2"); !v.Latest {
		t.Fatalf("R2 is not the latest: %+v", v)
	}
}

// TestRegistrationReview: per-PSP review through the control route and the
// overall rule (pending while a PSP is, approved if any PSP approved,
// rejected if all rejected).
func TestRegistrationReview(t *testing.T) {
	type step struct{ psp, status, reasons string }
	tests := []struct {
		name    string
		steps   []step
		overall string
		psps    map[string]string
		reasons string
	}{
		{"one approved, one pending", []step{{"ALIPAY_HK", "APPROVED", ""}}, "PENDING",
			map[string]string{"ALIPAY_HK": "APPROVED", "GCASH": "PENDING"}, ""},
		{"one approved, one rejected", []step{{"ALIPAY_HK", "APPROVED", ""}, {"GCASH", "REJECTED", "bad MCC"}}, "APPROVED",
			map[string]string{"ALIPAY_HK": "APPROVED", "GCASH": "REJECTED"}, ""},
		{"all rejected", []step{{"ALIPAY_HK", "REJECTED", "bad MCC"}, {"GCASH", "REJECTED", ""}}, "REJECTED",
			map[string]string{"ALIPAY_HK": "REJECTED", "GCASH": "REJECTED"}, "ALIPAY_HK: bad MCC; GCASH: Rejected by GCASH."},
		{"star approves the rest", []step{{"GCASH", "REJECTED", "x"}, {"*", "APPROVED", ""}}, "APPROVED",
			map[string]string{"ALIPAY_HK": "APPROVED", "GCASH": "REJECTED"}, ""},
		{"empty name rejects all", []step{{"", "REJECTED", "no licence"}}, "REJECTED",
			map[string]string{"ALIPAY_HK": "REJECTED", "GCASH": "REJECTED"}, "ALIPAY_HK: no licence; GCASH: no licence"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := regEnv(t)
			if c := e.register(regReq("RV", "M1")); c != gateway.CodeSuccess {
				t.Fatal(c)
			}
			var v RegistrationView
			for _, s := range tc.steps {
				var st int
				var msg string
				if st, v, msg = e.reviewReg("RV", s.psp, s.status, s.reasons); st != http.StatusOK {
					t.Fatalf("review %+v: %d %s", s, st, msg)
				}
			}
			if v.Status != tc.overall || v.RejectReasons != tc.reasons || v.ReferenceMerchantID != "M1" || v.SubmittedAt.IsZero() {
				t.Fatalf("view %+v, want %s (%q)", v, tc.overall, tc.reasons)
			}
			got, _ := e.regStatus(&gateway.InquiryRegistrationStatusRequest{RegistrationRequestID: "RV"})
			if got.RegistrationResult.RegistrationStatus != tc.overall || !equalMaps(pspStatuses(got.PSPRegistrationResultList), tc.psps) {
				t.Fatalf("inquiry %+v, want %s %v", got, tc.overall, tc.psps)
			}
		})
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestRegistrationReviewErrors(t *testing.T) {
	e := regEnv(t)
	e.register(regReq("RE", "M1"))
	e.register(regReq("RF", "M2"))
	if st, _, msg := e.reviewReg("RE", "ALIPAY_HK", "APPROVED", ""); st != http.StatusOK {
		t.Fatalf("first review: %d %s", st, msg)
	}
	e.reviewReg("RF", "*", "APPROVED", "")
	tests := []struct {
		name, path, body string
		status           int
		msg              string
	}{
		{"unknown id", "/_sim/registrations/NOPE/review", `{"status":"APPROVED"}`, 404, "not found"},
		{"unknown client", "/_sim/registrations/RE/review?clientId=OTHER", `{"status":"APPROVED"}`, 404, "not found"},
		{"bad status", "/_sim/registrations/RE/review", `{"pspName":"GCASH","status":"MAYBE"}`, 400, `status "MAYBE"`},
		{"no body", "/_sim/registrations/RE/review", ``, 400, `status ""`},
		{"unknown field", "/_sim/registrations/RE/review", `{"psp":"GCASH","status":"APPROVED"}`, 400, "unknown field"},
		{"unknown PSP", "/_sim/registrations/RE/review", `{"pspName":"PAYPAL","status":"APPROVED"}`, 400, "it has: ALIPAY_HK, GCASH"},
		{"final PSP", "/_sim/registrations/RE/review", `{"pspName":"ALIPAY_HK","status":"REJECTED"}`, 409, "already APPROVED"},
		{"final registration", "/_sim/registrations/RF/review", `{"status":"REJECTED"}`, 409, "already APPROVED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, raw := e.controlRaw(http.MethodPost, tc.path, tc.body)
			if st != tc.status || !strings.Contains(errorText(raw), tc.msg) {
				t.Fatalf("HTTP %d %s, want %d containing %q", st, raw, tc.status, tc.msg)
			}
		})
	}
	st, raw := e.controlRaw(http.MethodGet, "/_sim/registrations/RE?clientId="+testClientID, "")
	v := decodeView(t, st, raw)
	if v.RegistrationRequestID != "RE" || v.ClientID != testClientID || v.Status != "PENDING" || len(v.PSPs) != 2 || v.PSPs[0].PSPName != "ALIPAY_HK" {
		t.Fatalf("GET: %d %s", st, raw)
	}
	if st, raw := e.controlRaw(http.MethodGet, "/_sim/registrations/NOPE", ""); st != 404 || errorText(raw) == "" {
		t.Fatalf("GET unknown: %d %s", st, raw)
	}
}

// TestRegistrationPSPsFromOptions: the PSPs are the merchant's enabled
// wallets, sorted; CARD has none.
func TestRegistrationPSPsFromOptions(t *testing.T) {
	e := newEnv(t)
	e.register(regReq("RP", "M1"))
	v, err := e.sim.Registration(testClientID + "/RP")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range v.PSPs {
		names = append(names, p.PSPName)
	}
	want := "ALIPAY_CN ALIPAY_HK BKASH DANA EASYPAISA GCASH JKOPAY KAKAOPAY OCTOPUS TNG TRUEMONEY"
	if strings.Join(names, " ") != want {
		t.Fatalf("PSPs %v, want %s", names, want)
	}
}

func TestRegistrationAutoApprove(t *testing.T) {
	e := regEnv(t)
	st, raw := e.controlRaw(http.MethodPut, "/_sim/behavior", `{"registrationAutoApprove":"1h","registrationRejectPsps":["GCASH"]}`)
	if st != http.StatusOK || e.sim.Behavior().RegistrationAutoApprove != Duration(time.Hour) {
		t.Fatalf("PUT behavior: %d %s", st, raw)
	}
	e.register(regReq("RA", "M1"))
	e.register(regReq("RB", "M2"))
	e.sim.Advance(30 * time.Minute)
	if _, err := e.sim.ReviewRegistration("RB", RegistrationReview{PSPName: "ALIPAY_HK", Status: "REJECTED"}); err != nil {
		t.Fatal(err)
	}
	e.sim.Advance(30*time.Minute - time.Second)
	if v, _ := e.sim.Registration("RA"); v.Status != gateway.RegistrationPending {
		t.Fatalf("before the hour: %+v", v)
	}
	e.sim.Advance(time.Second)
	a, _ := e.sim.Registration("RA")
	if a.Status != gateway.RegistrationApproved || !equalMaps(pspStatuses(a.PSPs), map[string]string{"ALIPAY_HK": "APPROVED", "GCASH": "REJECTED"}) ||
		!a.FinalAt.Equal(a.SubmittedAt.Add(time.Hour)) {
		t.Fatalf("after the hour: %+v", a)
	}
	if b, _ := e.sim.Registration("RB"); b.Status != gateway.RegistrationRejected {
		t.Fatalf("a manual rejection is kept, the rest auto-rejected: %+v", b)
	}
}

func TestRegistrationInquiry(t *testing.T) {
	e := regEnv(t)
	e.register(regReq("Q1", "M1"))
	store := regReq("Q2", "M2")
	store.ProductCodes = []string{gateway.ProductInStorePayment}
	store.StoreInfo = &gateway.StoreRegistrationInfo{ReferenceStoreID: "S1"}
	e.register(store)
	tests := []struct {
		name string
		req  gateway.InquiryRegistrationStatusRequest
		code string
	}{
		{"by request id", gateway.InquiryRegistrationStatusRequest{RegistrationRequestID: "Q1"}, gateway.CodeSuccess},
		{"by merchant", gateway.InquiryRegistrationStatusRequest{ReferenceMerchantID: "M1"}, gateway.CodeSuccess},
		{"by merchant and store", gateway.InquiryRegistrationStatusRequest{ReferenceMerchantID: "M2", ReferenceStoreID: "S1"}, gateway.CodeSuccess},
		{"by merchant of a store registration", gateway.InquiryRegistrationStatusRequest{ReferenceMerchantID: "M2"}, gateway.CodeSuccess},
		{"unknown request id", gateway.InquiryRegistrationStatusRequest{RegistrationRequestID: "Q9"}, gateway.CodeRegistrationNotExist},
		{"unknown merchant", gateway.InquiryRegistrationStatusRequest{ReferenceMerchantID: "M9"}, gateway.CodeRegistrationNotExist},
		{"unknown store", gateway.InquiryRegistrationStatusRequest{ReferenceMerchantID: "M2", ReferenceStoreID: "S9"}, gateway.CodeRegistrationNotExist},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, c := e.regStatus(&tc.req)
			if c != tc.code {
				t.Fatalf("%s, want %s", c, tc.code)
			}
			if c == gateway.CodeSuccess && (resp.RegistrationResult.RegistrationStatus != gateway.RegistrationPending || len(resp.PSPRegistrationResultList) != 2) {
				t.Fatalf("answer %+v", resp)
			}
		})
	}
	_, res, _ := e.raw(rawReq{path: gateway.PrefixProduction + gateway.PathInquiryRegistrationStatus, clientID: testClientID, body: `{}`})
	if res.ResultCode != gateway.CodeParamIllegal {
		t.Fatalf("neither id nor merchant: %+v", res)
	}
}

func TestRegistrationInfo(t *testing.T) {
	e := regEnv(t)
	info := func() *gateway.InquiryRegistrationInfoResponse {
		t.Helper()
		resp, err := e.client.InquiryRegistrationInfo(e.ctx, &gateway.InquiryRegistrationInfoRequest{ReferenceMerchantID: "M1"})
		if err != nil {
			t.Fatalf("inquiryRegistrationInfo: %v", err)
		}
		return resp
	}
	_, err := e.client.InquiryRegistrationInfo(e.ctx, &gateway.InquiryRegistrationInfoRequest{ReferenceMerchantID: "M1"})
	if gateway.Code(err) != gateway.CodeRegistrationNotExist {
		t.Fatalf("never registered: %v", err)
	}
	e.register(regReq("I1", "M1"))
	if r := info(); r.MerchantInfo != nil || r.Result.ResultCode != gateway.CodeSuccess {
		t.Fatalf("pending: %+v", r)
	}
	_, _ = e.sim.ReviewRegistration("I1", RegistrationReview{Status: "APPROVED"})
	if r := info(); r.MerchantInfo == nil || r.MerchantInfo.MerchantDisplayName != "Shop M1" || len(r.ProductCodes) != 1 {
		t.Fatalf("approved: %+v", r)
	}
	again := regReq("I2", "M1")
	again.MerchantInfo.MerchantDisplayName = "New name"
	e.register(again)
	if r := info(); r.MerchantInfo.MerchantDisplayName != "Shop M1" {
		t.Fatalf("re-registration pending: %+v", r.MerchantInfo)
	}
	_, _ = e.sim.ReviewRegistration("I2", RegistrationReview{Status: "REJECTED"})
	if r := info(); r.MerchantInfo.MerchantDisplayName != "Shop M1" {
		t.Fatalf("re-registration rejected: %+v", r.MerchantInfo)
	}
	third := regReq("I3", "M1")
	third.MerchantInfo.MerchantDisplayName = "Third name"
	e.register(third)
	_, _ = e.sim.ReviewRegistration("I3", RegistrationReview{PSPName: "GCASH", Status: "APPROVED"})
	_, _ = e.sim.ReviewRegistration("I3", RegistrationReview{PSPName: "ALIPAY_HK", Status: "REJECTED"})
	if r := info(); r.MerchantInfo.MerchantDisplayName != "Third name" || r.MerchantInfo.MerchantMCC != "5812" {
		t.Fatalf("re-registration approved: %+v", r.MerchantInfo)
	}
}
