package gatewaysim

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// RegistrationView is a snapshot of one registration as the simulator
// holds it (GET /_sim/registrations/{registrationRequestId}).
type RegistrationView struct {
	ClientID              string   `json:"clientId"`
	RegistrationRequestID string   `json:"registrationRequestId"`
	ReferenceMerchantID   string   `json:"referenceMerchantId"`
	ReferenceStoreID      string   `json:"referenceStoreId,omitempty"`
	ProductCodes          []string `json:"productCodes"`
	NotifyURL             string   `json:"registrationNotifyUrl,omitempty"`
	// Status is the overall registrationStatus: PENDING while a PSP is,
	// then APPROVED when any PSP approved, REJECTED when all rejected.
	Status        string                          `json:"registrationStatus"`
	RejectReasons string                          `json:"rejectReasons,omitempty"`
	PSPs          []gateway.PSPRegistrationResult `json:"pspRegistrationResultList"`
	SubmittedAt   time.Time                       `json:"submittedAt"`
	// FinalAt is when the overall status became final (zero while PENDING).
	FinalAt time.Time `json:"finalAt,omitzero"`
	// Latest is true while it is its merchant's (and store's) latest registration.
	Latest bool `json:"latest"`
}

// RegistrationReview is a review decision: one PSP's, or (PSPName "" or
// "*") that of every PSP still pending.
type RegistrationReview struct {
	PSPName       string `json:"pspName"`
	Status        string `json:"status"` // APPROVED or REJECTED
	RejectReasons string `json:"rejectReasons,omitempty"`
}

// view builds the snapshot; st.mu held.
func (r *registration) view() RegistrationView {
	return RegistrationView{
		ClientID: r.m.clientID, RegistrationRequestID: r.req.RegistrationRequestID,
		ReferenceMerchantID: r.key.merchantID, ReferenceStoreID: r.key.storeID,
		ProductCodes: append([]string(nil), r.req.ProductCodes...), NotifyURL: r.req.RegistrationNotifyURL,
		Status: r.status, RejectReasons: r.reasons, PSPs: r.pspResults(),
		SubmittedAt: r.submittedAt, FinalAt: r.finalAt, Latest: r.cr.latest[r.key] == r,
	}
}

// findRegistration resolves a reference, a registrationRequestId or
// "clientId/registrationRequestId"; st.mu held.
func (st *regStore) findRegistration(ref string) (*registration, error) {
	if clientID, id, ok := strings.Cut(ref, "/"); ok {
		if cr := st.byClient[clientID]; cr != nil && cr.byID[id] != nil {
			return cr.byID[id], nil
		}
		return nil, fmt.Errorf("registration %q: %w", ref, ErrNotFound)
	}
	var found *registration
	for _, cr := range st.byClient {
		if r := cr.byID[ref]; r != nil {
			if found != nil {
				return nil, fmt.Errorf("registration %q is a request id of several merchants; name the clientId: %w", ref, ErrAmbiguous)
			}
			found = r
		}
	}
	if found == nil {
		return nil, fmt.Errorf("registration %q: %w", ref, ErrNotFound)
	}
	return found, nil
}

// Registration returns a snapshot of a registration; ref is its
// registrationRequestId or "clientId/registrationRequestId".
func (s *Simulator) Registration(ref string) (RegistrationView, error) {
	return s.withRegistration(ref, func(*registration) error { return nil })
}

// withRegistration runs f on the registration ref names, under the store's
// lock, and returns its view afterwards.
func (s *Simulator) withRegistration(ref string, f func(r *registration) error) (RegistrationView, error) {
	st := &s.regs
	st.mu.Lock()
	defer st.mu.Unlock()
	r, err := st.findRegistration(ref)
	if err == nil {
		err = f(r)
	}
	if err != nil {
		return RegistrationView{}, err
	}
	return r.view(), nil
}

// ReviewRegistration records a review decision (ref as for Registration).
// Reviewing a PSP that is no longer PENDING, or a registration that is
// final, is ErrInvalidState; an unknown PSP or status is ErrInvalidInput.
// When the overall status becomes final, notifyRegistrationStatus is sent.
func (s *Simulator) ReviewRegistration(ref string, rv RegistrationReview) (RegistrationView, error) {
	if rv.Status != gateway.RegistrationApproved && rv.Status != gateway.RegistrationRejected {
		return RegistrationView{}, fmt.Errorf("%w: status %q: want APPROVED or REJECTED", ErrInvalidInput, rv.Status)
	}
	return s.withRegistration(ref, func(r *registration) error {
		if r.status != gateway.RegistrationPending {
			return fmt.Errorf("%w: registration %s is already %s", ErrInvalidState, r.req.RegistrationRequestID, r.status)
		}
		targets, err := r.reviewTargets(rv.PSPName)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		for _, p := range targets {
			p.decide(rv.Status, rv.RejectReasons, now)
		}
		if len(r.psps) == 0 {
			r.status, r.reasons = rv.Status, rejectReasons(rv.Status, rv.RejectReasons, "the review")
		}
		s.settleRegistration(r, now)
		return nil
	})
}

// reviewTargets are the PSPs a review names: one PENDING PSP, or every
// PENDING one for "" and "*"; st.mu held.
func (r *registration) reviewTargets(name string) ([]*pspReview, error) {
	if name == "" || name == "*" {
		var out []*pspReview
		for _, p := range r.psps {
			if p.status == gateway.RegistrationPending {
				out = append(out, p)
			}
		}
		return out, nil
	}
	p := r.psp(name)
	switch {
	case p == nil:
		return nil, fmt.Errorf("%w: registration %s has no PSP %q (it has: %s)", ErrInvalidInput, r.req.RegistrationRequestID, name, r.pspNames())
	case p.status != gateway.RegistrationPending:
		return nil, fmt.Errorf("%w: PSP %s of registration %s is already %s", ErrInvalidState, name, r.req.RegistrationRequestID, p.status)
	}
	return []*pspReview{p}, nil
}

func (p *pspReview) decide(status, reasons string, at time.Time) {
	p.status, p.reasons, p.reviewedAt = status, rejectReasons(status, reasons, p.name), at
}

// rejectReasons is the reason kept for a decision: none for an approval, a
// default naming the reviewer for a rejection without one.
func rejectReasons(status, reasons, reviewer string) string {
	switch {
	case status != gateway.RegistrationRejected:
		return ""
	case reasons == "":
		return "Rejected by " + reviewer + "."
	}
	return reasons
}

// autoReview is Behavior.RegistrationAutoApprove's review: every PSP still
// pending is approved, or rejected when listed in reject.
func (s *Simulator) autoReview(r *registration, reject []string, at time.Time) {
	st := &s.regs
	st.mu.Lock()
	defer st.mu.Unlock()
	if r.status != gateway.RegistrationPending {
		return
	}
	for _, p := range r.psps {
		if p.status != gateway.RegistrationPending {
			continue
		}
		status := gateway.RegistrationApproved
		for _, name := range reject {
			if name == p.name {
				status = gateway.RegistrationRejected
			}
		}
		p.decide(status, "", at)
	}
	if len(r.psps) == 0 {
		r.status = gateway.RegistrationApproved
	}
	s.settleRegistration(r, at)
}

// settleRegistration derives the overall status from the PSPs' and, once it
// is final, books an approval and sends notifyRegistrationStatus; st.mu held.
func (s *Simulator) settleRegistration(r *registration, at time.Time) {
	if len(r.psps) > 0 {
		r.status, r.reasons = overallRegistration(r.psps)
	}
	if r.status == gateway.RegistrationPending || !r.finalAt.IsZero() {
		return
	}
	r.finalAt = at
	if r.status == gateway.RegistrationApproved {
		r.cr.approved[r.key] = r
	}
	res := r.result()
	body := gateway.NotifyRegistrationStatus{
		ReferenceMerchantID: r.key.merchantID, RegistrationRequestID: r.req.RegistrationRequestID,
		ReferenceStoreID: r.key.storeID, RegistrationResult: &res, PSPRegistrationResultList: r.pspResults(),
	}
	s.nt.enqueue(r.m, KindNotifyRegistrationStatus, r.req.RegistrationNotifyURL, "", r.req.RegistrationRequestID, body)
}

// overallRegistration is the overall status of PSP results: PENDING while
// any is, else APPROVED if any approved, else REJECTED with every PSP's
// reason.
func overallRegistration(psps []*pspReview) (status, reasons string) {
	approved := false
	var why []string
	for _, p := range psps {
		switch p.status {
		case gateway.RegistrationPending:
			return gateway.RegistrationPending, ""
		case gateway.RegistrationApproved:
			approved = true
		default:
			why = append(why, p.name+": "+p.reasons)
		}
	}
	if approved {
		return gateway.RegistrationApproved, ""
	}
	return gateway.RegistrationRejected, strings.Join(why, "; ")
}

// checkMerchantQualified is Behavior.RequireMerchantRegistration's check of
// a pay for a secondary merchant (order.merchant.referenceMerchantId): the
// merchant's latest registration must have the payment method approved (its
// PSP's result, or the overall status for a method without a PSP, CARD
// among them). Pays without a secondary merchant pass. A refusal records
// nothing.
func (s *Simulator) checkMerchantQualified(m *merchant, req *gateway.PayRequest, method string) *refusal {
	if !s.Behavior().RequireMerchantRegistration || req.Order == nil || req.Order.Merchant == nil ||
		req.Order.Merchant.ReferenceMerchantID == "" {
		return nil
	}
	id := req.Order.Merchant.ReferenceMerchantID
	st := &s.regs
	st.mu.Lock()
	defer st.mu.Unlock()
	var r *registration
	if cr := st.byClient[m.clientID]; cr != nil {
		r = cr.byMerchant[id]
	}
	if r == nil {
		return refuse(gateway.CodePaymentNotQualified, fmt.Sprintf("the secondary merchant %s is not registered", id))
	}
	status, what := r.status, "the registration"
	if p := r.psp(method); p != nil {
		status, what = p.status, "its "+method+" review"
	}
	if status != gateway.RegistrationApproved {
		return refuse(gateway.CodePaymentNotQualified, fmt.Sprintf("the secondary merchant %s is not approved for %s: %s (registrationRequestId %s) is %s",
			id, method, what, r.req.RegistrationRequestID, status))
	}
	return nil
}

// registrationRoutes: read a registration and review it as the PSPs would.
func (s *Simulator) registrationRoutes(mux *http.ServeMux) {
	ref := func(r *http.Request) string {
		if c := r.URL.Query().Get("clientId"); c != "" {
			return c + "/" + r.PathValue("id")
		}
		return r.PathValue("id")
	}
	mux.HandleFunc("GET /_sim/registrations/{id}", func(w http.ResponseWriter, r *http.Request) {
		v, err := s.Registration(ref(r))
		reply(w, err, v)
	})
	mux.HandleFunc("POST /_sim/registrations/{id}/review", func(w http.ResponseWriter, r *http.Request) {
		var rv RegistrationReview
		if err := readJSON(r, &rv); err != nil {
			reply(w, err, nil)
			return
		}
		v, err := s.ReviewRegistration(ref(r), rv)
		reply(w, err, v)
	})
}
