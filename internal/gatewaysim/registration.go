package gatewaysim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// Merchant registration (docs/simulator.md, rows 73–81): a merchant (the
// Client-Id) registers its secondary merchants with registration; each is
// reviewed per PSP (one per wallet the merchant offers), by the control API
// or Behavior.RegistrationAutoApprove, and the final result is sent with
// notifyRegistrationStatus. Registrations live in the simulator's regStore,
// under their own lock: code holding a merchant's mu may take it, never the
// other way round.

// KindNotifyRegistrationStatus is the Notification.Kind of a
// notifyRegistrationStatus.
const KindNotifyRegistrationStatus = gateway.KindNotifyRegistrationStatus

// regKey names a registered secondary merchant: its referenceMerchantId and
// the referenceStoreId of its storeInfo ("" without one).
type regKey struct{ merchantID, storeID string }

func (k regKey) String() string {
	if k.storeID == "" {
		return "referenceMerchantId " + k.merchantID
	}
	return "referenceMerchantId " + k.merchantID + " with referenceStoreId " + k.storeID
}

// registration is one accepted registration request.
type registration struct {
	m           *merchant
	cr          *clientRegs
	key         regKey
	req         gateway.RegistrationRequest
	canon       []byte // the decoded request re-encoded: what a replay must match
	firstResp   []byte // the S answer, replayed byte for byte
	submittedAt time.Time
	finalAt     time.Time
	status      string // PENDING, APPROVED, REJECTED (from the PSPs' results)
	reasons     string
	psps        []*pspReview // sorted by name
}

// pspReview is one PSP's review of a registration.
type pspReview struct {
	name, status, reasons string
	reviewedAt            time.Time
}

// clientRegs is one merchant's registrations.
type clientRegs struct {
	byID       map[string]*registration // by registrationRequestId
	latest     map[regKey]*registration
	byMerchant map[string]*registration // latest of a referenceMerchantId, any store
	approved   map[regKey]*registration // latest APPROVED
}

// regStore holds every merchant's registrations.
type regStore struct {
	mu       sync.Mutex
	byClient map[string]*clientRegs
}

// client returns a merchant's registrations, made on first use; st.mu held.
func (st *regStore) client(clientID string) *clientRegs {
	if st.byClient == nil {
		st.byClient = map[string]*clientRegs{}
	}
	cr := st.byClient[clientID]
	if cr == nil {
		cr = &clientRegs{byID: map[string]*registration{}, latest: map[regKey]*registration{},
			byMerchant: map[string]*registration{}, approved: map[regKey]*registration{}}
		st.byClient[clientID] = cr
	}
	return cr
}

// resolve is the key an inquiry names: the exact merchant and store, or,
// asked without a store, the merchant's latest registration of any store.
func (cr *clientRegs) resolve(k regKey) (regKey, bool) {
	if cr.latest[k] != nil {
		return k, true
	}
	if r := cr.byMerchant[k.merchantID]; k.storeID == "" && r != nil {
		return r.key, true
	}
	return k, false
}

func registrationKey(req *gateway.RegistrationRequest) regKey {
	k := regKey{merchantID: req.MerchantInfo.ReferenceMerchantID}
	if req.StoreInfo != nil {
		k.storeID = req.StoreInfo.ReferenceStoreID
	}
	return k
}

// registrationPSPs are the PSPs a new registration is reviewed by: the
// paymentMethodTypes of the merchant's enabled WALLET options, sorted.
func registrationPSPs(m *merchant) []*pspReview {
	var out []*pspReview
	for _, o := range m.optionList() {
		if o.PaymentMethodCategory == "WALLET" && !o.Disabled {
			out = append(out, &pspReview{name: o.PaymentMethodType, status: gateway.RegistrationPending})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// checkRegistrationRequest is what registration answers PARAM_ILLEGAL to:
// the client's own checks (gateway.checkRegistration) and the documented
// lengths and URL.
func checkRegistrationRequest(req *gateway.RegistrationRequest) *refusal {
	if msg := checkID("registrationRequestId", req.RegistrationRequestID, 64, true); msg != "" {
		return refuse(gateway.CodeParamIllegal, msg)
	}
	if msg := validURL("registrationNotifyURL", req.RegistrationNotifyURL); msg != "" {
		return refuse(gateway.CodeParamIllegal, msg)
	}
	if len(req.PassThroughInfo) > 2048 {
		return refuse(gateway.CodeParamIllegal, "passThroughInfo is longer than 2048 characters")
	}
	m := req.MerchantInfo
	switch {
	case m == nil:
		return refuse(gateway.CodeParamIllegal, "merchantInfo is required")
	case m.ReferenceMerchantID == "":
		return refuse(gateway.CodeParamIllegal, "merchantInfo.referenceMerchantId is required")
	case len(m.ReferenceMerchantID) > 64:
		return refuse(gateway.CodeParamIllegal, "merchantInfo.referenceMerchantId is longer than 64 characters")
	case len(req.ProductCodes) == 0:
		return refuse(gateway.CodeParamIllegal, "productCodes is required")
	case req.StoreInfo != nil && len(req.StoreInfo.ReferenceStoreID) > 32:
		return refuse(gateway.CodeParamIllegal, "storeInfo.referenceStoreId is longer than 32 characters")
	}
	for _, p := range req.ProductCodes {
		switch p {
		case gateway.ProductCashierPayment, gateway.ProductAgreementPayment:
		case gateway.ProductInStorePayment:
			if req.StoreInfo == nil || req.StoreInfo.ReferenceStoreID == "" {
				return refuse(gateway.CodeParamIllegal, "storeInfo.referenceStoreId is required with IN_STORE_PAYMENT")
			}
		default:
			return refuse(gateway.CodeParamIllegal, fmt.Sprintf("productCodes: %q is not a product code (want CASHIER_PAYMENT, AGREEMENT_PAYMENT or IN_STORE_PAYMENT)", p))
		}
	}
	return nil
}

func (s *Simulator) apiRegistration(c *call) answer {
	var req gateway.RegistrationRequest
	if msg := decode(c.body, &req); msg != "" {
		return fail(gateway.CodeParamIllegal, msg)
	}
	c.requestID = req.RegistrationRequestID
	if no := checkRegistrationRequest(&req); no != nil {
		return no.answer()
	}
	canon, err := json.Marshal(&req)
	if err != nil {
		return fail(gateway.CodeParamIllegal, "the request body does not match the API: "+err.Error())
	}
	psps := registrationPSPs(c.m)
	st := &s.regs
	st.mu.Lock()
	defer st.mu.Unlock()
	cr := st.client(c.m.clientID)
	if r := cr.byID[req.RegistrationRequestID]; r != nil {
		if !bytes.Equal(r.canon, canon) {
			return fail(gateway.CodeRepeatReqInconsistent, fmt.Sprintf(
				"registrationRequestId %s was used with a different request", req.RegistrationRequestID))
		}
		return answer{result: gateway.NewResult(gateway.CodeSuccess), raw: r.firstResp}
	}
	key := registrationKey(&req)
	if prev := cr.latest[key]; prev != nil && prev.status == gateway.RegistrationPending {
		return fail(gateway.CodeRepeatRegistration, fmt.Sprintf("%s is under review by registrationRequestId %s",
			key, prev.req.RegistrationRequestID))
	}
	r := &registration{m: c.m, cr: cr, key: key, req: req, canon: canon, submittedAt: c.now,
		status: gateway.RegistrationPending, psps: psps}
	resp := gateway.RegistrationResponse{Result: gateway.NewResult(gateway.CodeSuccess), PassThroughInfo: req.PassThroughInfo}
	r.firstResp, _ = json.Marshal(resp)
	cr.byID[req.RegistrationRequestID] = r
	cr.latest[key] = r
	cr.byMerchant[key.merchantID] = r
	if b := s.Behavior(); b.RegistrationAutoApprove > 0 {
		reject := append([]string(nil), b.RegistrationRejectPSPs...)
		s.sched.at(c.now.Add(time.Duration(b.RegistrationAutoApprove)), "registration-review", func(at time.Time) {
			s.autoReview(r, reject, at)
		})
	}
	return answer{result: resp.Result, raw: r.firstResp}
}

// registrationInquiryKey reads and checks the merchant (and store) an
// inquiry names.
func registrationInquiryKey(merchantID, storeID string) (regKey, *refusal) {
	switch {
	case merchantID == "":
		return regKey{}, refuse(gateway.CodeParamIllegal, "referenceMerchantId is required")
	case len(merchantID) > 64:
		return regKey{}, refuse(gateway.CodeParamIllegal, "referenceMerchantId is longer than 64 characters")
	case len(storeID) > 32:
		return regKey{}, refuse(gateway.CodeParamIllegal, "referenceStoreId is longer than 32 characters")
	}
	return regKey{merchantID, storeID}, nil
}

func (s *Simulator) apiInquiryRegistrationStatus(c *call) answer {
	var req gateway.InquiryRegistrationStatusRequest
	if msg := decode(c.body, &req); msg != "" {
		return fail(gateway.CodeParamIllegal, msg)
	}
	if req.RegistrationRequestID == "" && req.ReferenceMerchantID == "" {
		return fail(gateway.CodeParamIllegal, "registrationRequestId or referenceMerchantId is required")
	}
	st := &s.regs
	st.mu.Lock()
	defer st.mu.Unlock()
	cr := st.client(c.m.clientID)
	var r *registration
	if id := req.RegistrationRequestID; id != "" {
		c.requestID = id
		if len(id) > 64 {
			return fail(gateway.CodeParamIllegal, "registrationRequestId is longer than 64 characters")
		}
		r = cr.byID[id]
	} else {
		c.requestID = req.ReferenceMerchantID
		key, no := registrationInquiryKey(req.ReferenceMerchantID, req.ReferenceStoreID)
		if no != nil {
			return no.answer()
		}
		key, _ = cr.resolve(key)
		r = cr.latest[key]
	}
	if r == nil {
		return fail(gateway.CodeRegistrationNotExist, "no registration matches the request")
	}
	res := r.result()
	resp := gateway.InquiryRegistrationStatusResponse{Result: gateway.NewResult(gateway.CodeSuccess),
		RegistrationResult: &res, PSPRegistrationResultList: r.pspResults()}
	return ok(resp.Result, resp)
}

func (s *Simulator) apiInquiryRegistrationInfo(c *call) answer {
	var req gateway.InquiryRegistrationInfoRequest
	if msg := decode(c.body, &req); msg != "" {
		return fail(gateway.CodeParamIllegal, msg)
	}
	c.requestID = req.ReferenceMerchantID
	key, no := registrationInquiryKey(req.ReferenceMerchantID, req.ReferenceStoreID)
	if no != nil {
		return no.answer()
	}
	st := &s.regs
	st.mu.Lock()
	defer st.mu.Unlock()
	cr := st.client(c.m.clientID)
	key, found := cr.resolve(key)
	if !found {
		return fail(gateway.CodeRegistrationNotExist, fmt.Sprintf("%s was never registered", key))
	}
	resp := gateway.InquiryRegistrationInfoResponse{Result: gateway.NewResult(gateway.CodeSuccess)}
	if a := cr.approved[key]; a != nil {
		// A deep copy through JSON: the answer shares nothing with the books.
		var cp gateway.RegistrationRequest
		if err := json.Unmarshal(a.canon, &cp); err == nil {
			resp.MerchantInfo, resp.StoreInfo, resp.ProductCodes = cp.MerchantInfo, cp.StoreInfo, cp.ProductCodes
		}
	}
	return ok(resp.Result, resp)
}

// result is the registration's overall result; st.mu held.
func (r *registration) result() gateway.RegistrationResult {
	return gateway.RegistrationResult{RegistrationStatus: r.status, RejectReasons: r.reasons}
}

// pspResults lists the PSPs' results; st.mu held.
func (r *registration) pspResults() []gateway.PSPRegistrationResult {
	out := make([]gateway.PSPRegistrationResult, len(r.psps))
	for i, p := range r.psps {
		out[i] = gateway.PSPRegistrationResult{PSPName: p.name,
			RegistrationResult: gateway.RegistrationResult{RegistrationStatus: p.status, RejectReasons: p.reasons}}
	}
	return out
}

// psp returns the review of one PSP, nil when the registration has none.
func (r *registration) psp(name string) *pspReview {
	for _, p := range r.psps {
		if p.name == name {
			return p
		}
	}
	return nil
}

func (r *registration) pspNames() string {
	names := make([]string, len(r.psps))
	for i, p := range r.psps {
		names[i] = p.name
	}
	return strings.Join(names, ", ")
}
