// Package reconciliation matches the gateway's reconciliation reports
// (package settlement) to the Payments, Captures and Refunds of one merchant:
// line by line, by the gateway ids and request ids the objects recorded in
// their status (never recomputed), comparing money exactly in minor units.
// The controller feeds it files as it streams them from SFTP; nothing here
// holds more than one report line at a time besides the index of objects
// and the discrepancies found.
package reconciliation

import (
	"github.com/cashier-operator/cashier-operator/internal/money"
	"github.com/cashier-operator/cashier-operator/internal/settlement"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// object is what a report line is compared with.
type object struct {
	ref    string // Kind/name
	amount money.Amount
	phase  string
	auth   bool // a Payment with spec.authorization
	// expected report lines: transaction type and the day it moved money
	expect []expectation
}

type expectation struct {
	typ settlement.TransactionType
	day settlement.Day
}

// Index finds objects by the ids a report line carries.
type Index struct {
	payByID, payByReq map[string]*object
	capByID, capByReq map[string]*object
	refByID, refByReq map[string]*object
	all               []*object
}

// NewIndex indexes the Payments of gatewayRef among payments, and the
// Captures and Refunds of those Payments. Objects whose amount does not
// parse are left out (admission makes that impossible).
func NewIndex(gatewayRef string, payments []v1.Payment, captures []v1.Capture, refunds []v1.Refund) *Index {
	ix := &Index{payByID: map[string]*object{}, payByReq: map[string]*object{}, capByID: map[string]*object{},
		capByReq: map[string]*object{}, refByID: map[string]*object{}, refByReq: map[string]*object{}}
	mine := map[string]bool{}
	for i := range payments {
		p := &payments[i]
		if p.Spec.GatewayRef.Name != gatewayRef {
			continue
		}
		mine[p.Name] = true
		a, err := p.Spec.Amount.Amount()
		if err != nil {
			continue
		}
		o := &object{ref: "Payment/" + p.Name, amount: a, phase: string(p.Status.Phase), auth: p.Spec.Authorization}
		if t := p.Status.PaymentTime; t != nil {
			d := settlement.DayOf(t.Time)
			switch {
			case o.auth && (p.Status.Phase == v1.PaymentAuthorized || p.Status.Phase == v1.PaymentSucceeded || p.Status.Phase == v1.PaymentCancelled):
				o.expect = append(o.expect, expectation{settlement.TypeAuthorization, d})
			case !o.auth && (p.Status.Phase == v1.PaymentSucceeded || p.Status.Phase == v1.PaymentCancelled):
				o.expect = append(o.expect, expectation{settlement.TypePayment, d})
			}
		}
		ix.add(o, ix.payByID, p.Status.PaymentID, ix.payByReq, p.Status.PaymentRequestID)
	}
	op := func(kind, name, payment string, m v1.Money, st *v1.OperationStatus, typ settlement.TransactionType, byID, byReq map[string]*object) {
		if !mine[payment] {
			return
		}
		a, err := m.Amount()
		if err != nil {
			return
		}
		o := &object{ref: kind + "/" + name, amount: a, phase: string(st.Phase)}
		if st.Phase == v1.OperationSucceeded && st.CompletionTime != nil {
			o.expect = append(o.expect, expectation{typ, settlement.DayOf(st.CompletionTime.Time)})
		}
		ix.add(o, byID, st.GatewayID, byReq, st.RequestID)
	}
	for i := range captures {
		c := &captures[i]
		op("Capture", c.Name, c.Spec.PaymentRef.Name, c.Spec.Amount, &c.Status, settlement.TypeCapture, ix.capByID, ix.capByReq)
	}
	for i := range refunds {
		r := &refunds[i]
		op("Refund", r.Name, r.Spec.PaymentRef.Name, r.Spec.Amount, &r.Status, settlement.TypeRefund, ix.refByID, ix.refByReq)
	}
	return ix
}

func (ix *Index) add(o *object, byID map[string]*object, id string, byReq map[string]*object, req string) {
	ix.all = append(ix.all, o)
	if id != "" {
		byID[id] = o
	}
	if req != "" {
		byReq[req] = o
	}
}

// Objects is the number of objects indexed.
func (ix *Index) Objects() int { return len(ix.all) }

func lookup(byID map[string]*object, id string, byReq map[string]*object, req string) *object {
	if o := byID[id]; o != nil && id != "" {
		return o
	}
	if req != "" {
		return byReq[req]
	}
	return nil
}

// find returns the object a line is about, and whether the line is one the
// operator reconciles at all.
func (ix *Index) find(l *settlement.Line) (*object, bool) {
	switch l.TransactionType {
	case settlement.TypePayment, settlement.TypeAuthorization, settlement.TypeCancel:
		return lookup(ix.payByID, l.TransactionID, ix.payByReq, l.TransactionRequestID), true
	case settlement.TypeCapture:
		if o := lookup(ix.capByID, l.TransactionID, ix.capByReq, l.TransactionRequestID); o != nil {
			return o, true
		}
		// A capture the gateway or the operator made for an automatic-capture
		// Payment has no Capture object: it belongs to its Payment.
		if p := ix.payByID[l.OriginalTransactionID]; p != nil && p.auth && l.OriginalTransactionID != "" {
			return p, true
		}
		return nil, true
	case settlement.TypeRefund:
		return lookup(ix.refByID, l.TransactionID, ix.refByReq, l.TransactionRequestID), true
	case settlement.TypeDispute:
		if l.OriginalTransactionID == "" {
			return nil, true
		}
		return ix.payByID[l.OriginalTransactionID], true
	}
	return nil, false
}
