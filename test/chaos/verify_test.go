package chaos

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	moneypkg "github.com/cashier-operator/cashier-operator/internal/money"
)

// minorOf reads a status amount in minor units (nil is zero; so is "0.00",
// which money.ParseMajor refuses as not positive).
func minorOf(m *v1.Money) (int64, error) {
	if m == nil || (m.Value != "" && strings.Trim(m.Value, "0.") == "" && strings.Count(m.Value, ".") <= 1) {
		return 0, nil
	}
	a, err := moneypkg.ParseMajor(m.Currency, m.Value)
	if err != nil {
		return 0, err
	}
	return a.Minor(), nil
}

// settled reports, per object, how it differs from its final state;
// empty when every object is where its script says.
func settled(s *snapshot, plans []*paymentPlan) (bad []string) {
	for _, p := range plans {
		obj := s.payments[p.Name]
		want := p.expectPhase()
		if obj == nil || obj.Status.Phase != want {
			bad = append(bad, fmt.Sprintf("Payment %s: want %s, %s", p.Name, want, describePayment(obj)))
			continue
		}
		if !p.Declined {
			wantCaptured := p.Amount
			if p.Kind == kindCard {
				wantCaptured = p.capturedPlanned()
			}
			wantRefunded, _ := sumOps(p.Refunds, v1.OperationSucceeded)
			captured, err1 := minorOf(obj.Status.Amounts.Captured)
			refunded, err2 := minorOf(obj.Status.Amounts.Refunded)
			refundable, err3 := minorOf((*v1.Money)(obj.Status.Amounts.Refundable))
			if err1 != nil || err2 != nil || err3 != nil || obj.Status.Amounts.Refundable == nil ||
				captured != wantCaptured || refunded != wantRefunded || refundable != wantCaptured-wantRefunded {
				bad = append(bad, fmt.Sprintf("Payment %s: want captured %s refunded %s refundable %s, %s", p.Name,
					major(wantCaptured), major(wantRefunded), major(wantCaptured-wantRefunded), describePayment(obj)))
			}
		}
		for kind, ops := range map[string][]opPlan{"Capture": p.Captures, "Refund": p.Refunds, "CustomsDeclaration": p.Declarations} {
			for _, o := range ops {
				if st := s.opStatus(kind, o.Name); st == nil || st.Phase != o.Expect {
					bad = append(bad, fmt.Sprintf("%s %s: want %s, %s", kind, o.Name, o.Expect, describeOp(o.Name, st)))
				}
			}
		}
	}
	sort.Strings(bad)
	return bad
}

// ledgerKind maps our kinds to the ledger's.
var ledgerKind = map[string]string{"Payment": "payment", "Capture": "capture", "Refund": "refund", "CustomsDeclaration": "declaration"}

// verifyLedger checks exactly-once against the simulator's ledger: one
// gateway operation per object that was sent (none for those that must
// never be sent), none that belongs to no object, and per payment the
// totals equal the objects' amounts.
func verifyLedger(l gatewaysim.Ledger, s *snapshot, plans []*paymentPlan) []string {
	var pr problems
	objs := ledgerObjects(&pr, s, plans)
	checkOperations(&pr, l, objs)
	checkPaymentTotals(&pr, l, s, plans)
	sort.Strings(pr)
	return pr
}

// problems collects what verifyLedger found.
type problems []string

func (p *problems) add(format string, a ...any) { *p = append(*p, fmt.Sprintf(format, a...)) }

// derivedID is an object's gateway request id: ids come from the manifest,
// kind, namespace and name (default scope).
func derivedID(kind, ns, name string) string { return ids.Derived(kind, "", ns, name) }

// ledgerObject is an object of the plan as the ledger should know it.
type ledgerObject struct {
	kind, name, requestID, statusID, paymentID, parentPaymentID string
	expectOps                                                   int
}

// ledgerObjects lists the plan's objects found in the snapshot, with the
// gateway operations each must have caused: one for a payment and for a
// successful operation, none for one that must fail before being sent.
func ledgerObjects(pr *problems, s *snapshot, plans []*paymentPlan) []ledgerObject {
	var objs []ledgerObject
	for _, p := range plans {
		pay := s.payments[p.Name]
		if pay == nil {
			pr.add("Payment %s missing", p.Name)
			continue
		}
		objs = append(objs, ledgerObject{"Payment", p.Name, derivedID("Payment", pay.Namespace, pay.Name), pay.Status.PaymentRequestID, pay.Status.PaymentID, pay.Status.PaymentID, 1})
		add := func(kind string, ops []opPlan, get func(string) (types.UID, *v1.OperationStatus)) {
			for _, o := range ops {
				_, st := get(o.Name)
				if st == nil {
					pr.add("%s %s missing", kind, o.Name)
					continue
				}
				n := 0
				if o.Expect == v1.OperationSucceeded {
					n = 1
				}
				objs = append(objs, ledgerObject{kind, o.Name, derivedID(kind, pay.Namespace, o.Name), st.RequestID, st.PaymentID, pay.Status.PaymentID, n})
			}
		}
		add("Capture", p.Captures, func(n string) (types.UID, *v1.OperationStatus) {
			if o := s.captures[n]; o != nil {
				return o.UID, &o.Status
			}
			return "", nil
		})
		add("Refund", p.Refunds, func(n string) (types.UID, *v1.OperationStatus) {
			if o := s.refunds[n]; o != nil {
				return o.UID, &o.Status
			}
			return "", nil
		})
		add("CustomsDeclaration", p.Declarations, func(n string) (types.UID, *v1.OperationStatus) {
			if o := s.declarations[n]; o != nil {
				return o.UID, &o.Status.OperationStatus
			}
			return "", nil
		})
	}
	return objs
}

// checkOperations: each object's status carries its derived ids and the
// ledger holds exactly the operations it must have caused; no operation in
// the ledger belongs to no object.
func checkOperations(pr *problems, l gatewaysim.Ledger, objs []ledgerObject) {
	type owner struct{ kind, name string }
	owners := map[string]owner{} // "ledgerKind/requestId" → object
	for _, o := range objs {
		lk := ledgerKind[o.kind]
		owners[lk+"/"+o.requestID] = owner{o.kind, o.name}
		if o.statusID != "" && o.statusID != o.requestID {
			pr.add("%s %s: status request id %s, derived %s", o.kind, o.name, o.statusID, o.requestID)
		}
		if o.expectOps == 1 && o.paymentID != o.parentPaymentID {
			pr.add("%s %s: status.paymentId %q, its payment's %q", o.kind, o.name, o.paymentID, o.parentPaymentID)
		}
		e := l.Request(lk, o.requestID)
		if e.Operations != o.expectOps {
			pr.add("%s %s: %d gateway operations for %s %s (calls %d), want %d", o.kind, o.name, e.Operations, lk, o.requestID, e.Calls, o.expectOps)
		}
	}
	for _, e := range l.Requests {
		if e.Operations == 0 {
			continue
		}
		if _, ok := owners[e.Kind+"/"+e.RequestID]; !ok {
			pr.add("stray gateway operation: %s %s on payment %s (calls %d) belongs to no object", e.Kind, e.RequestID, e.PaymentID, e.Calls)
		}
	}
}

// checkPaymentTotals: per payment, the ledger's status and totals (paid,
// captured, refunded, declared, their counts) equal the plan's.
func checkPaymentTotals(pr *problems, l gatewaysim.Ledger, s *snapshot, plans []*paymentPlan) {
	if len(l.Payments) != len(plans) {
		pr.add("the ledger has %d payments, the plan %d", len(l.Payments), len(plans))
	}
	for _, p := range plans {
		pay := s.payments[p.Name]
		if pay == nil {
			continue
		}
		ref := derivedID("Payment", pay.Namespace, pay.Name)
		e, ok := l.Payment(ref)
		if !ok {
			pr.add("Payment %s: no ledger entry for %s", p.Name, ref)
			continue
		}
		if pay.Status.PaymentID != e.PaymentID {
			pr.add("Payment %s: status.paymentId %q, the gateway's %q", p.Name, pay.Status.PaymentID, e.PaymentID)
		}
		if diffs := paymentLedgerDiffs(p, e); len(diffs) > 0 {
			pr.add("Payment %s (%s) ledger: %s", p.Name, e.PaymentID, strings.Join(diffs, "; "))
		}
	}
}

// paymentLedgerDiffs compares one payment's ledger entry with its plan.
func paymentLedgerDiffs(p *paymentPlan, e gatewaysim.PaymentEntry) []string {
	wantStatus := "SUCCESS"
	if p.Declined {
		wantStatus = "FAIL"
	}
	capSum, capN := sumOps(p.Captures, v1.OperationSucceeded)
	refSum, refN := sumOps(p.Refunds, v1.OperationSucceeded)
	dclSum, dclN := sumOps(p.Declarations, v1.OperationSucceeded)
	wantPaid := p.received()
	if p.Declined {
		wantPaid = 0
	}
	type cmp struct {
		what      string
		got, want int64
	}
	checks := []cmp{
		{"amount", e.Amount, p.Amount}, {"paid", e.Paid, wantPaid},
		{"captured", e.Captured, capSum}, {"captures", int64(e.Captures), int64(capN)},
		{"refunded", e.Refunded, refSum}, {"refunds", int64(e.Refunds), int64(refN)}, {"refundProcessing", e.RefundProcessing, 0},
		{"declared", e.Declared, dclSum}, {"declarations", int64(e.Declarations), int64(dclN)},
		{"chargedBack", e.ChargedBack, 0},
	}
	if p.Kind == kindCard && !p.Declined {
		checks = append(checks, cmp{"authorized", e.Authorized, p.Amount})
	}
	var diffs []string
	if e.Status != wantStatus || e.Currency != p.Currency || e.Method != p.Method {
		diffs = append(diffs, fmt.Sprintf("status %s %s %s, want %s %s %s", e.Status, e.Currency, e.Method, wantStatus, p.Currency, p.Method))
	}
	for _, c := range checks {
		if c.got != c.want {
			diffs = append(diffs, fmt.Sprintf("%s %d, want %d", c.what, c.got, c.want))
		}
	}
	return diffs
}

// ledgerTotals summarises the ledger per currency.
func ledgerTotals(l gatewaysim.Ledger) string {
	type tot struct{ amount, paid, captured, refunded, declared int64 }
	per := map[string]*tot{}
	for _, p := range l.Payments {
		t := per[p.Currency]
		if t == nil {
			t = &tot{}
			per[p.Currency] = t
		}
		t.amount += p.Amount
		t.paid += p.Paid
		t.captured += p.Captured
		t.refunded += p.Refunded
		t.declared += p.Declared
	}
	var curs []string
	for c := range per {
		curs = append(curs, c)
	}
	sort.Strings(curs)
	var b strings.Builder
	for _, c := range curs {
		t := per[c]
		fmt.Fprintf(&b, "    %s: ordered %s, paid %s, captured %s, refunded %s, declared %s\n", c,
			major(t.amount), major(t.paid), major(t.captured), major(t.refunded), major(t.declared))
	}
	calls, ops := map[string]int{}, map[string]int{}
	for _, r := range l.Requests {
		calls[r.Kind] += r.Calls
		ops[r.Kind] += r.Operations
	}
	for _, k := range []string{"payment", "capture", "refund", "declaration"} {
		fmt.Fprintf(&b, "    %-11s %4d gateway operations, %5d calls carrying their ids\n", k, ops[k], calls[k])
	}
	return b.String()
}
