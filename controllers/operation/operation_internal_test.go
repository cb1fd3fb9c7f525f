package operation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared/sharedtest"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// White-box tests of the parts the end-to-end tests cannot pin down
// deterministically: who gets the last of the money when reconciles
// interleave, recovery from a crash between the gateway call and the status
// write, and the declaration batcher.

func testRefund(name, uid, value string, at metav1.Time, st v1.OperationStatus) *v1.Refund {
	return &v1.Refund{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, UID: types.UID(uid), CreationTimestamp: at},
		Spec: v1.RefundSpec{PaymentRef: v1.LocalObjectReference{Name: "p1"}, Amount: v1.Money{Currency: "HKD", Value: value}}, Status: st}
}

// refundCall builds the reconcile of r against a paid HKD 10.00 wallet
// payment, with every object in a fake apiserver.
func refundCall(t *testing.T, spec opSpec[*v1.Refund], r *v1.Refund, siblings ...client.Object) *opExternal[*v1.Refund] {
	t.Helper()
	paid := v1.Money{Currency: "HKD", Value: "10.00"}
	p := &v1.Payment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "p1"},
		Spec:   v1.PaymentSpec{Amount: paid, PaymentMethod: v1.PaymentMethod{Type: "ALIPAY_HK"}},
		Status: v1.PaymentStatus{Phase: v1.PaymentSucceeded, PaymentID: "P1", Amounts: v1.PaymentAmounts{Captured: &paid}}}
	return opAt(t, spec, r, p, nil, siblings...)
}

// stubbed replaces the gateway calls: the gateway knows the ids in known.
func stubbed(known map[string]v1.OperationPhase, sent *[]string) opSpec[*v1.Refund] {
	spec := refundSpec()
	spec.create = func(_ context.Context, c *opCall[*v1.Refund]) (transition.OperationFacts, error) {
		*sent = append(*sent, c.obj.Name)
		return transition.OperationFacts{Source: transition.SourceRefund, Phase: v1.OperationSucceeded, RequestID: c.id}, nil
	}
	spec.belongs = func(context.Context, *opCall[*v1.Refund]) (bool, error) { return true, nil }
	spec.observe = func(_ context.Context, c *opCall[*v1.Refund]) (transition.OperationFacts, bool, error) {
		ph, ok := known[c.obj.Name]
		if !ok {
			return transition.OperationFacts{}, false, nil
		}
		return transition.OperationFacts{Source: transition.SourceInquiry, Phase: ph, RequestID: c.id, GatewayID: "RF-" + c.obj.Name}, true, nil
	}
	return spec
}

const (
	uidA   = "0b9a4f1e-0000-4000-8000-00000000000a"
	uidB   = "0b9a4f1e-0000-4000-8000-00000000000b"
	uidBig = "0b9a4f1e-0000-4000-8000-0000000000bb"
	uidR0  = "0b9a4f1e-0000-4000-8000-000000000000"
)

func TestLimitFollowsCreationOrderNotReconcileOrder(t *testing.T) {
	done := v1.OperationStatus{Phase: v1.OperationSucceeded, RequestID: "ref0", PaymentID: "P1"}
	r0 := testRefund("r0", uidR0, "6.00", metav1.NewTime(sharedtest.Created.Add(-time.Hour)), done)
	// big comes first but can never fit: it takes nothing from the others.
	big := testRefund("big", uidBig, "20.00", metav1.NewTime(sharedtest.Created.Add(-time.Second)), v1.OperationStatus{})
	a := testRefund("race-a", uidA, "3.00", sharedtest.Created, v1.OperationStatus{})
	b := testRefund("race-b", uidB, "3.00", sharedtest.Created, v1.OperationStatus{})

	var sent []string
	spec := stubbed(nil, &sent)
	// Whichever reconciles first, race-b (same second, later name) loses.
	for _, order := range [][]*v1.Refund{{b, a}, {a, b}} {
		for _, r := range order {
			others := []client.Object{r0.DeepCopy(), big.DeepCopy(), a.DeepCopy(), b.DeepCopy()}
			var sib []client.Object
			for _, o := range others {
				if o.GetName() != r.Name {
					sib = append(sib, o)
				}
			}
			e := refundCall(t, spec, r.DeepCopy(), sib...)
			term, err := e.checkLimit(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			switch r.Name {
			case "race-a":
				if term != nil {
					t.Fatalf("race-a refused: %v", term)
				}
			case "race-b":
				want := "refunds of payment shop/p1 would total HKD 12.00 but only HKD 10.00 was paid (HKD 9.00 already refunded or in flight)"
				if term == nil || term.Reason != v1.ReasonLimitExceeded || term.Message != want {
					t.Fatalf("race-b: %v, want LimitExceeded %q", term, want)
				}
			}
		}
	}
	e := refundCall(t, spec, big.DeepCopy(), r0, a.DeepCopy(), b.DeepCopy())
	if term, _ := e.checkLimit(context.Background()); term == nil {
		t.Fatal("a refund larger than what is left was admitted")
	}

	// Once race-a is submitted (its outcome unknown), it counts whatever
	// its age, and a failed sibling counts nothing.
	aSent := a.DeepCopy()
	aSent.Status = v1.OperationStatus{Phase: v1.OperationPending, RequestID: "refa", PaymentID: "P1"}
	aSent.CreationTimestamp = metav1.NewTime(sharedtest.Created.Add(time.Hour))
	failed := testRefund("failed", "0b9a4f1e-0000-4000-8000-0000000000ff", "4.00", metav1.NewTime(sharedtest.Created.Add(-time.Hour)),
		v1.OperationStatus{Phase: v1.OperationFailed, RequestID: "reff"})
	e = refundCall(t, spec, b.DeepCopy(), r0, aSent, failed)
	if term, _ := e.checkLimit(context.Background()); term == nil || !strings.Contains(term.Message, "(HKD 9.00 already") {
		t.Fatalf("race-b after race-a was sent: %v", term)
	}
	if len(sent) != 0 {
		t.Fatalf("checkLimit made create calls: %v", sent)
	}
}

func TestRefusedOperationAdoptsWhatTheGatewayDid(t *testing.T) {
	r0 := testRefund("r0", uidR0, "7.00", metav1.NewTime(sharedtest.Created.Add(-time.Hour)),
		v1.OperationStatus{Phase: v1.OperationSucceeded, RequestID: "ref0", PaymentID: "P1"})
	late := testRefund("late", uidA, "4.00", sharedtest.Created, v1.OperationStatus{})

	// The gateway has it (a reconcile sent it and crashed before writing
	// status, or the object was deleted and re-applied): Observe adopts it,
	// nothing is sent again.
	var sent []string
	e := refundCall(t, stubbed(map[string]v1.OperationPhase{"late": v1.OperationSucceeded}, &sent), late.DeepCopy(), r0)
	obs, err := e.Observe(context.Background(), e.c.obj)
	if err != nil {
		t.Fatal(err)
	}
	st := e.c.st
	if !obs.Exists || obs.Adopted == "" || st.Phase != v1.OperationSucceeded || st.RequestID != e.c.id || st.GatewayID != "RF-late" ||
		st.PaymentID != "P1" || len(sent) != 0 {
		t.Fatalf("observation %+v, adopted status %+v, sent %v", obs, st, sent)
	}
	if obs.Change.From != "" || obs.Change.To != string(v1.OperationSucceeded) {
		t.Fatalf("change = %+v", obs.Change)
	}

	// The gateway does not know it: it does not exist, and Create refuses
	// it (LimitExceeded) without a create call.
	e = refundCall(t, stubbed(nil, &sent), late.DeepCopy(), r0)
	if obs, err := e.Observe(context.Background(), e.c.obj); err != nil || obs.Exists {
		t.Fatalf("observation %+v, %v; want none", obs, err)
	}
	_, err = e.Create(context.Background(), e.c.obj)
	var term *engine.TerminalError
	if !errors.As(err, &term) || term.Reason != v1.ReasonLimitExceeded || len(sent) != 0 {
		t.Fatalf("err = %v, sent %v; want LimitExceeded and no call", err, sent)
	}

	// The inquiry fails: never a failure, the engine retries.
	spec := stubbed(nil, &sent)
	spec.observe = func(context.Context, *opCall[*v1.Refund]) (transition.OperationFacts, bool, error) {
		return transition.OperationFacts{}, false, fmt.Errorf("timeout")
	}
	e = refundCall(t, spec, late.DeepCopy(), r0)
	_, err = e.Observe(context.Background(), e.c.obj)
	if err == nil || errors.As(err, &term) || e.c.st.Phase == v1.OperationFailed {
		t.Fatalf("err = %v, phase %s; want a retry", err, e.c.st.Phase)
	}
}

// TestAdoptionChecksIdentity: what the gateway holds under the id is
// adopted only when it is this operation; otherwise IdentityConflict and
// nothing applied.
func TestAdoptionChecksIdentity(t *testing.T) {
	late := testRefund("late", uidA, "4.00", sharedtest.Created, v1.OperationStatus{})
	cases := []struct {
		name     string
		facts    transition.OperationFacts
		belongs  bool
		conflict string
	}{
		{"same amount, listed by the payment", transition.OperationFacts{Amount: &gateway.Amount{Currency: "HKD", Value: "400"}}, true, ""},
		{"another amount", transition.OperationFacts{Amount: &gateway.Amount{Currency: "HKD", Value: "500"}}, true, "amount 500 HKD"},
		{"another payment named", transition.OperationFacts{PaymentID: "P2"}, true, "payment P2"},
		{"not listed by the payment", transition.OperationFacts{}, false, "another payment than shop/p1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var sent []string
			spec := stubbed(nil, &sent)
			spec.observe = func(_ context.Context, c *opCall[*v1.Refund]) (transition.OperationFacts, bool, error) {
				f := tc.facts
				f.Source, f.Phase, f.RequestID, f.GatewayID = transition.SourceInquiry, v1.OperationSucceeded, c.id, "RF-x"
				return f, true, nil
			}
			spec.belongs = func(context.Context, *opCall[*v1.Refund]) (bool, error) { return tc.belongs, nil }
			e := refundCall(t, spec, late.DeepCopy(), testRefund("r0", uidR0, "1.00", sharedtest.Created, v1.OperationStatus{}))
			obs, err := e.Observe(context.Background(), e.c.obj)
			var term *engine.TerminalError
			switch {
			case tc.conflict == "" && (err != nil || !obs.Exists || e.c.st.Phase != v1.OperationSucceeded):
				t.Fatalf("not adopted: %+v %v", obs, err)
			case tc.conflict != "" && (!errors.As(err, &term) || term.Reason != v1.ReasonIdentityConflict ||
				!strings.Contains(term.Message, tc.conflict) || e.c.st.Phase != ""):
				t.Fatalf("err = %v, phase %q; want IdentityConflict naming %q and nothing applied", err, e.c.st.Phase, tc.conflict)
			}
		})
	}
}

func TestDeclarationBatcherSharesInquiries(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	b := newDeclarationBatcher(func() time.Duration { return 100 * time.Millisecond }, func() time.Time { return now })
	var calls [][]string
	inquire := func(_ context.Context, ids []string) (*gateway.InquiryDeclarationRequestsResponse, error) {
		if len(ids) > gateway.MaxDeclarationIDsPerInquiry {
			t.Fatalf("%d ids in one inquiry", len(ids))
		}
		calls = append(calls, ids)
		resp := &gateway.InquiryDeclarationRequestsResponse{}
		for _, id := range ids {
			if id == "gone" {
				resp.DeclarationRequestsNotFound = append(resp.DeclarationRequestsNotFound, id)
				continue
			}
			resp.DeclarationRecords = append(resp.DeclarationRecords, gateway.DeclarationRecord{DeclarationRequestID: id,
				DeclarationRequestStatus: gateway.DeclarationProcessing})
		}
		return resp, nil
	}
	var all []string
	for i := range 13 {
		all = append(all, fmt.Sprintf("d%d", i))
	}
	all = append(all, "gone")
	others := func(context.Context) []string { return all }
	lookup := func(gw, id string) *gateway.DeclarationRecord {
		t.Helper()
		rec, err := b.lookup(context.Background(), gw, id, others, inquire)
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}

	for _, id := range all[:10] { // d0 asks for itself and nine others; they reuse the answer
		if rec := lookup("gw", id); rec == nil || rec.DeclarationRequestID != id {
			t.Fatalf("record for %s: %+v", id, rec)
		}
	}
	if len(calls) != 1 || len(calls[0]) != 10 {
		t.Fatalf("calls = %v, want one with 10 ids", calls)
	}
	lookup("gw", "d10") // the rest, without the fresh ones
	if len(calls) != 2 || strings.Join(calls[1], ",") != "d10,d11,d12,gone" {
		t.Fatalf("second call = %v", calls[1:])
	}
	if rec := lookup("gw", "gone"); rec != nil || len(calls) != 2 {
		t.Fatalf("unknown id: %+v after %d calls", rec, len(calls))
	}
	lookup("other-gw", "d1") // another merchant, another batch
	if len(calls) != 3 {
		t.Fatalf("calls = %d, want 3", len(calls))
	}
	now = now.Add(100 * time.Millisecond) // answers go stale
	lookup("gw", "d1")
	b.forget("gw", "d2") // just declared: asked again
	lookup("gw", "d2")
	if len(calls) != 5 || calls[3][0] != "d1" || calls[4][0] != "d2" {
		t.Fatalf("calls = %v", calls)
	}
}

// A notification can record a refund in the payment's total before the
// refund's own status says Succeeded: counting both must not refuse a
// refund that fits. It waits, sending nothing, until the sibling settles.
func TestLimitWaitsWhileThePaymentTotalIsAheadOfInFlightSiblings(t *testing.T) {
	paid, refunded := v1.Money{Currency: "HKD", Value: "10.00"}, v1.Money{Currency: "HKD", Value: "6.00"}
	p := &v1.Payment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "p1"},
		Spec: v1.PaymentSpec{Amount: paid, PaymentMethod: v1.PaymentMethod{Type: "ALIPAY_HK"}},
		Status: v1.PaymentStatus{Phase: v1.PaymentSucceeded, PaymentID: "P1",
			Amounts: v1.PaymentAmounts{Captured: &paid, Refunded: &refunded}}}
	r0 := testRefund("r0", uidR0, "3.00", metav1.NewTime(sharedtest.Created.Add(-time.Hour)),
		v1.OperationStatus{Phase: v1.OperationSucceeded, RequestID: "ref0", PaymentID: "P1"})
	a := testRefund("race-a", uidA, "3.00", metav1.NewTime(sharedtest.Created.Add(-time.Minute)),
		v1.OperationStatus{Phase: v1.OperationPending, RequestID: "refa", PaymentID: "P1"})
	b := testRefund("race-b", uidB, "4.00", sharedtest.Created, v1.OperationStatus{})
	var sent []string
	spec := stubbed(nil, &sent)

	term, err := opAt(t, spec, b.DeepCopy(), p.DeepCopy(), nil, r0, a.DeepCopy()).checkLimit(context.Background())
	var w *engine.WaitError
	if term != nil || !errors.As(err, &w) || w.Reason != v1.ReasonSiblingsSettling {
		t.Fatalf("while race-a is in flight: term %v, err %v; want a %s wait", term, err, v1.ReasonSiblingsSettling)
	}
	settled := a.DeepCopy()
	settled.Status.Phase = v1.OperationSucceeded
	if term, err := opAt(t, spec, b.DeepCopy(), p.DeepCopy(), nil, r0, settled).checkLimit(context.Background()); term != nil || err != nil {
		t.Fatalf("once race-a settled: term %v, err %v; want admitted (6.00 + 4.00 of 10.00)", term, err)
	}
	over := testRefund("over", uidBig, "5.00", sharedtest.Created, v1.OperationStatus{})
	if term, _ := opAt(t, spec, over, p.DeepCopy(), nil, r0, settled).checkLimit(context.Background()); term == nil || term.Reason != v1.ReasonLimitExceeded {
		t.Fatalf("a refund over what is left once settled: %v, want LimitExceeded", term)
	}
	if len(sent) != 0 {
		t.Fatalf("checkLimit made create calls: %v", sent)
	}
}
