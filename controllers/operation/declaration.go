package operation

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/money"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// declarationSpec is the CustomsDeclaration part of the operation adapter:
// declarations of a succeeded ALIPAY_CN payment, together at most what was
// paid. The declare call only submits; customs decides later, and
// declarations are inquired in batches of up to ten (b).
func declarationSpec(deps *shared.Deps, b *declarationBatcher) opSpec[*v1.CustomsDeclaration] {
	inquire := func(ctx context.Context, c *opCall[*v1.CustomsDeclaration]) (*gateway.DeclarationRecord, error) {
		gw := c.payment.Spec.GatewayRef.Name
		return b.lookup(ctx, gw, c.id, func(ctx context.Context) []string { return processingDeclarations(ctx, deps, gw, c.id) },
			func(ctx context.Context, ids []string) (*gateway.InquiryDeclarationRequestsResponse, error) {
				return c.conn.Client.InquiryDeclarationRequests(ctx, &gateway.InquiryDeclarationRequestsRequest{DeclarationRequestIDs: ids})
			})
	}
	return opSpec[*v1.CustomsDeclaration]{
		kind: "CustomsDeclaration", what: "customs declaration", plural: "customs declarations", done: "declared",
		newObj:     func() *v1.CustomsDeclaration { return &v1.CustomsDeclaration{} },
		newList:    func() client.ObjectList { return &v1.CustomsDeclarationList{} },
		fullStatus: func(d *v1.CustomsDeclaration) any { return &d.Status },
		requestID:  ids.Declaration,
		recorded:   func(p *v1.Payment) *v1.Money { return p.Status.Amounts.Declared },
		eligible:   declarationEligible,
		prepare:    buyerCertificate,
		budget: func(_ context.Context, c *opCall[*v1.CustomsDeclaration]) (money.Amount, string, error) {
			a, err := c.payment.Spec.Amount.Amount()
			return a, "was paid", err
		},
		create: func(ctx context.Context, c *opCall[*v1.CustomsDeclaration]) (transition.OperationFacts, error) {
			resp, err := c.conn.Client.Declare(ctx, declareRequest(c))
			b.forget(c.payment.Spec.GatewayRef.Name, c.id)
			if resp == nil {
				return transition.OperationFacts{}, err
			}
			f := transition.OperationFacts{Source: transition.SourceDeclare, Result: &resp.Result,
				PaymentID: c.payment.Status.PaymentID, GatewayID: resp.CustomsPaymentID}
			if err == nil {
				// Submitted; customs decides later.
				f.Phase = v1.OperationProcessing
				st := &c.obj.Status
				setIfEmpty(&st.CustomsOrderID, resp.CustomsOrderID)
				setIfEmpty(&st.IdentityCheckResult, resp.IdentityCheckResult)
				setIfEmpty(&st.ClearingChannel, resp.ClearingChannel)
			}
			return f, err
		},
		observe: func(ctx context.Context, c *opCall[*v1.CustomsDeclaration]) (transition.OperationFacts, bool, error) {
			rec, err := inquire(ctx, c)
			if err != nil || rec == nil {
				return transition.OperationFacts{}, false, err
			}
			c.observed = func() { applyDeclarationRecord(&c.obj.Status, rec) }
			return transition.FromDeclarationRecord(*rec), true, nil
		},
	}
}

// declarationEligible: declarations need a succeeded ALIPAY_CN payment.
func declarationEligible(c *opCall[*v1.CustomsDeclaration], _ time.Time) error {
	p := c.payment
	if m := p.Spec.PaymentMethod.Type; m != "ALIPAY_CN" {
		return &engine.TerminalError{Reason: v1.ReasonPaymentIneligible, Message: fmt.Sprintf(
			"payment %s is paid with %s: only ALIPAY_CN payments are declared to customs", c.paymentName(), m)}
	}
	switch p.Status.Phase {
	case v1.PaymentSucceeded:
		return nil
	case v1.PaymentFailed, v1.PaymentCancelled, v1.PaymentExpired:
		return paymentRefuses(c, p, "declared to customs")
	}
	return paymentWaits(c, p, "Succeeded")
}

func declareRequest(c *opCall[*v1.CustomsDeclaration]) *gateway.DeclareRequest {
	s := c.obj.Spec
	region := s.Customs.Region
	if region == "" {
		region = "CN"
	}
	cert, _ := c.prepared.(*gateway.Certificate)
	return &gateway.DeclareRequest{DeclarationRequestID: c.id, PaymentID: c.payment.Status.PaymentID, DeclarationAmount: c.wire,
		Customs:             gateway.Customs{CustomsCode: s.Customs.Code, Region: region},
		MerchantCustomsInfo: gateway.MerchantCustomsInfo{MerchantCustomsCode: s.MerchantCustomsCode, MerchantCustomsName: s.MerchantCustomsName},
		SplitOrder:          gateway.Bool(s.SplitOrder), SubOrderID: s.SubOrderID, BuyerCertificate: cert}
}

// buyerCertificate reads spec.buyerCertificateSecretRef. Its contents go
// only into the signed declare body, never into logs, events or status.
func buyerCertificate(ctx context.Context, c *opCall[*v1.CustomsDeclaration]) error {
	ref := c.obj.Spec.BuyerCertificateSecretRef
	if ref == nil {
		return nil
	}
	const what = "buyer certificate secret"
	key := types.NamespacedName{Namespace: c.obj.Namespace, Name: ref.Name}
	vals, err := shared.SecretKeys(ctx, c.deps.APIReader, what, key,
		v1.CertificateSecretKeyType, v1.CertificateSecretKeyNumber, v1.CertificateSecretKeyName)
	if err == nil {
		err = shared.RequireKeys(vals, what, key, v1.CertificateSecretKeyType, v1.CertificateSecretKeyNumber)
	}
	if err != nil {
		return shared.SecretError(err, v1.ReasonCertificateSecretMissing, v1.ReasonCertificateSecretInvalid)
	}
	cert := &gateway.Certificate{CertificateType: strings.TrimSpace(vals[v1.CertificateSecretKeyType]),
		CertificateNo: strings.TrimSpace(vals[v1.CertificateSecretKeyNumber])}
	if h := strings.TrimSpace(vals[v1.CertificateSecretKeyName]); h != "" {
		cert.HolderName = &gateway.UserName{FullName: h}
	}
	c.prepared = cert
	return nil
}

// declarationRank orders declarationRequestStatus; it never moves back.
var declarationRank = map[string]int{gateway.DeclarationWaiting: 1, gateway.DeclarationProcessing: 2,
	gateway.DeclarationSuccess: 3, gateway.DeclarationFail: 3}

// applyDeclarationRecord copies what customs said into the status fields
// the shared operation status does not have.
func applyDeclarationRecord(st *v1.CustomsDeclarationStatus, r *gateway.DeclarationRecord) {
	if declarationRank[r.DeclarationRequestStatus] > declarationRank[st.DeclarationStatus] {
		st.DeclarationStatus = r.DeclarationRequestStatus
	}
	setIfEmpty(&st.CustomsOrderID, r.CustomsOrderID)
	setIfEmpty(&st.CustomsResultCode, r.CustomsDeclarationResultCode)
	setIfEmpty(&st.CustomsResultDescription, r.CustomsDeclarationResultDesc)
}

func setIfEmpty(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// processingDeclarations lists (from the cache) the request ids of the
// declarations awaiting customs through GatewayConfig gw, except self,
// the longest unchecked first: the batch's other members.
func processingDeclarations(ctx context.Context, deps *shared.Deps, gw, self string) []string {
	var list v1.CustomsDeclarationList
	if err := deps.Client.List(ctx, &list); err != nil {
		return nil
	}
	type cand struct {
		id   string
		last time.Time
	}
	var cs []cand
	for i := range list.Items {
		d := &list.Items[i]
		if d.Status.Phase != v1.OperationProcessing || d.Status.RequestID == "" || d.Status.RequestID == self {
			continue
		}
		var p v1.Payment
		if err := deps.Client.Get(ctx, types.NamespacedName{Namespace: d.Namespace, Name: d.Spec.PaymentRef.Name}, &p); err != nil ||
			p.Spec.GatewayRef.Name != gw {
			continue
		}
		var last time.Time
		if t := d.Status.LastCheckTime; t != nil {
			last = t.Time
		}
		cs = append(cs, cand{d.Status.RequestID, last})
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].last.Before(cs[j].last) })
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.id
	}
	return out
}

// declarationBatcher shares inquiryDeclarationRequests calls between the
// declarations of one GatewayConfig: the reconcile that needs an answer
// asks about its own declaration and up to nine others in one call, and
// the answers are kept for a short time so that the others' reconciles use
// them without calling again.
type declarationBatcher struct {
	// ttl is how long an answer is used (about half the operation poll).
	ttl func() time.Duration
	now func() time.Time

	mu       sync.Mutex
	gateways map[string]*declarationBatch
}

// declarationBatch is one GatewayConfig's answers; mu is held across the
// call, so concurrent reconciles wait for one call instead of each making one.
type declarationBatch struct {
	mu      sync.Mutex
	answers map[string]declarationAnswer
}

type declarationAnswer struct {
	rec *gateway.DeclarationRecord // nil: the gateway does not know the id
	at  time.Time
}

func newDeclarationBatcher(ttl func() time.Duration, now func() time.Time) *declarationBatcher {
	return &declarationBatcher{ttl: ttl, now: now, gateways: map[string]*declarationBatch{}}
}

func (b *declarationBatcher) batch(gw string) *declarationBatch {
	b.mu.Lock()
	defer b.mu.Unlock()
	bt := b.gateways[gw]
	if bt == nil {
		bt = &declarationBatch{answers: map[string]declarationAnswer{}}
		b.gateways[gw] = bt
	}
	return bt
}

// lookup returns the gateway's record for id, nil when it does not know the
// id: a fresh answer if there is one, else one call that also asks about
// the first of others without a fresh answer (at most
// gateway.MaxDeclarationIDsPerInquiry ids in all).
func (b *declarationBatcher) lookup(ctx context.Context, gw, id string, others func(context.Context) []string,
	inquire func(context.Context, []string) (*gateway.InquiryDeclarationRequestsResponse, error)) (*gateway.DeclarationRecord, error) {
	bt := b.batch(gw)
	bt.mu.Lock()
	defer bt.mu.Unlock()
	now, ttl := b.now(), b.ttl()
	for k, a := range bt.answers {
		if now.Sub(a.at) >= ttl {
			delete(bt.answers, k)
		}
	}
	if a, ok := bt.answers[id]; ok {
		return a.rec, nil
	}
	asked := map[string]bool{id: true}
	ids := []string{id}
	for _, o := range others(ctx) {
		if len(ids) >= gateway.MaxDeclarationIDsPerInquiry {
			break
		}
		if _, fresh := bt.answers[o]; fresh || asked[o] {
			continue
		}
		asked[o] = true
		ids = append(ids, o)
	}
	resp, err := inquire(ctx, ids)
	if err != nil {
		return nil, err
	}
	at := b.now()
	for i := range resp.DeclarationRecords {
		if r := &resp.DeclarationRecords[i]; asked[r.DeclarationRequestID] {
			bt.answers[r.DeclarationRequestID] = declarationAnswer{rec: r, at: at}
		}
	}
	for _, nf := range resp.DeclarationRequestsNotFound {
		if asked[nf] {
			bt.answers[nf] = declarationAnswer{at: at}
		}
	}
	a, ok := bt.answers[id]
	if !ok {
		return nil, fmt.Errorf("inquiryDeclarationRequests answered nothing about %s", id)
	}
	return a.rec, nil
}

// forget drops the answer about id (it was just declared).
func (b *declarationBatcher) forget(gw, id string) {
	bt := b.batch(gw)
	bt.mu.Lock()
	delete(bt.answers, id)
	bt.mu.Unlock()
}
