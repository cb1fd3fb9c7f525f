package gatewaysim

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

func declareReq(id, paymentID, value string) *gateway.DeclareRequest {
	return &gateway.DeclareRequest{
		DeclarationRequestID: id, PaymentID: paymentID,
		DeclarationAmount:   gateway.Amount{Currency: "CNY", Value: value},
		Customs:             gateway.Customs{CustomsCode: "ZONGSHU", Region: "CN"},
		MerchantCustomsInfo: gateway.MerchantCustomsInfo{MerchantCustomsCode: "MC001", MerchantCustomsName: "Shop"},
		BuyerCertificate:    &gateway.Certificate{CertificateType: "ID_CARD", CertificateNo: "110101199003070000"},
	}
}

func (e *env) declare(r *gateway.DeclareRequest) (*gateway.DeclareResponse, string) {
	e.t.Helper()
	resp, err := e.client.Declare(e.ctx, r)
	return resp, code(e.t, resp, err)
}

func TestDeclarations(t *testing.T) {
	e := newEnv(t)
	pid := e.paidWallet("cn", gateway.Amount{Currency: "CNY", Value: "10000"}, "ALIPAY_CN")
	if a := e.inquiry("cn").CustomsDeclarationAmount; a == nil || a.Value != "10000" || a.Currency != "CNY" {
		t.Fatalf("customsDeclarationAmount %+v", a)
	}
	first, c := e.declare(declareReq("dec-1", pid, "6000"))
	if c != gateway.CodeSuccess || first.CustomsPaymentID == "" || first.IdentityCheckResult != "CHECK_PASSED" {
		t.Fatalf("declare: %s %+v", c, first)
	}
	changed := declareReq("dec-1", pid, "6000")
	changed.Customs.CustomsCode = "NINGBO"
	hkPaid := e.paidWallet("hk", hkd("10000"), "ALIPAY_HK")
	usdCN := e.paidWallet("cn-hkd", hkd("10000"), "ALIPAY_CN") // HKD 100 = CNY 92.00 at the simulator's rate
	steps := []struct {
		name string
		req  *gateway.DeclareRequest
		code string
	}{
		{"replay", declareReq("dec-1", pid, "6000"), gateway.CodeSuccess},
		{"replay changed", changed, gateway.CodeRepeatReqInconsistent},
		{"over the payment", declareReq("dec-2", pid, "4001"), gateway.CodeDeclarationAmountExceed},
		{"not CNY", func() *gateway.DeclareRequest {
			r := declareReq("dec-3", pid, "1")
			r.DeclarationAmount.Currency = "HKD"
			return r
		}(), gateway.CodeParamIllegal},
		{"not ALIPAY_CN", declareReq("dec-4", hkPaid, "1"), gateway.CodeParamIllegal},
		{"unknown payment", declareReq("dec-5", "nope", "1"), gateway.CodeOrderNotExist},
		{"split without sub-order", func() *gateway.DeclareRequest {
			r := declareReq("dec-6", pid, "1")
			r.SplitOrder = true
			return r
		}(), gateway.CodeParamIllegal},
		{"rest", declareReq("dec-7", pid, "4000"), gateway.CodeSuccess},
		{"HKD payment converted", declareReq("dec-8", usdCN, "9200"), gateway.CodeSuccess},
		{"HKD payment over", declareReq("dec-9", usdCN, "1"), gateway.CodeDeclarationAmountExceed},
	}
	for _, s := range steps {
		if _, c := e.declare(s.req); c != s.code {
			t.Errorf("%s: %s, want %s", s.name, c, s.code)
		}
	}
	declareOnTheWire(t, e, pid)
	again, _ := e.declare(declareReq("dec-1", pid, "6000"))
	if !reflect.DeepEqual(first, again) {
		t.Errorf("replay differs: %+v %+v", first, again)
	}
	declarationProgress(t, e, pid)
}

// declareOnTheWire sends declarations the client would not: a
// declarationRequestId over 32 characters, and one without splitOrder.
func declareOnTheWire(t *testing.T, e *env, pid string) {
	// The client refuses long ids itself; the simulator does too.
	long, _ := json.Marshal(declareReq(strings.Repeat("d", 33), pid, "1"))
	if _, res, _ := e.raw(rawReq{path: gateway.PrefixProduction + gateway.PathDeclare, clientID: testClientID, body: string(long)}); res.ResultCode != gateway.CodeParamIllegal || !strings.Contains(res.ResultMessage, "32") {
		t.Errorf("33-character declarationRequestId: %+v", res)
	}
	// The official Go SDK's demo declares with splitOrder false, which its
	// JSON omits: absent means false.
	var noSplit map[string]any
	body, _ := json.Marshal(declareReq("dec-nosplit", e.paidWallet("cn-nosplit", gateway.Amount{Currency: "CNY", Value: "100"}, "ALIPAY_CN"), "1"))
	_ = json.Unmarshal(body, &noSplit)
	delete(noSplit, "splitOrder")
	body, _ = json.Marshal(noSplit)
	if _, res, _ := e.raw(rawReq{path: gateway.PrefixProduction + gateway.PathDeclare, clientID: testClientID, body: string(body)}); res.ResultCode != gateway.CodeSuccess {
		t.Errorf("declare without splitOrder: %+v", res)
	}
}

// declarationProgress follows declarations through the batch inquiry as the
// clock moves (WAITING_FOR_PROCESSING, PROCESSING, SUCCESS), their sum in the
// ledger, and the magic customs code that ends one FAIL.
func declarationProgress(t *testing.T, e *env, pid string) {
	inquire := func(ids ...string) (*gateway.InquiryDeclarationRequestsResponse, error) {
		return e.client.InquiryDeclarationRequests(e.ctx, &gateway.InquiryDeclarationRequestsRequest{DeclarationRequestIDs: ids})
	}
	var eleven []string
	for i := 0; i < 11; i++ {
		eleven = append(eleven, fmt.Sprintf("x%d", i))
	}
	// The client refuses 11 ids itself; send them raw.
	elevenBody, _ := json.Marshal(gateway.InquiryDeclarationRequestsRequest{DeclarationRequestIDs: eleven})
	if _, res, _ := e.raw(rawReq{path: gateway.PrefixProduction + gateway.PathInquiryDeclarationRequests, clientID: testClientID, body: string(elevenBody)}); res.ResultCode != gateway.CodeParamIllegal {
		t.Fatalf("11 ids: %+v", res)
	}
	statuses := func() string {
		resp, err := inquire("dec-1", "unknown-1", "dec-7")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(resp.DeclarationRequestsNotFound, []string{"unknown-1"}) || len(resp.DeclarationRecords) != 2 {
			t.Fatalf("batch inquiry %+v", resp)
		}
		return resp.DeclarationRecords[0].DeclarationRequestStatus + "," + resp.DeclarationRecords[1].DeclarationRequestStatus
	}
	if s := statuses(); s != "WAITING_FOR_PROCESSING,WAITING_FOR_PROCESSING" {
		t.Fatalf("initial %s", s)
	}
	e.sim.Advance(time.Minute)
	if s := statuses(); s != "PROCESSING,PROCESSING" {
		t.Fatalf("after 1m %s", s)
	}
	e.sim.Advance(time.Minute)
	if s := statuses(); s != "SUCCESS,SUCCESS" {
		t.Fatalf("after 2m %s", s)
	}
	if p, _ := e.sim.Ledger().Payment(pid); p.Declared != 10000 || p.Declarations != 2 {
		t.Fatalf("ledger %+v", p)
	}
	// Magic customs code: the declaration ends FAIL.
	rej := declareReq("dec-rej", e.paidWallet("cn2", gateway.Amount{Currency: "CNY", Value: "500"}, "ALIPAY_CN"), "500")
	rej.Customs.CustomsCode = MagicCustomsReject
	e.declare(rej)
	e.sim.Advance(2 * time.Minute)
	resp, _ := inquire("dec-rej")
	if r := resp.DeclarationRecords[0]; r.DeclarationRequestStatus != gateway.DeclarationFail || r.CustomsDeclarationResultCode == "" {
		t.Fatalf("rejected declaration %+v", r)
	}
}
