package archive

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/pgtest"
)

var server *pgtest.Server

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	s, err := pgtest.Start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "archive tests need PostgreSQL:", err)
		os.Exit(1)
	}
	server = s
	code := m.Run()
	if err := s.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

var dbSeq atomic.Int32

// open gives each test its own database, reached through a Secret the way
// the operator reaches it (password in its own key, not in the URL).
func open(t *testing.T) (*Archive, Config) {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("archive_%d", dbSeq.Add(1))
	if err := server.CreateDatabase(ctx, name); err != nil {
		t.Fatal(err)
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: "archive"}, Data: map[string][]byte{
		v1.ArchiveSecretKeyURL:      []byte(fmt.Sprintf("postgres://%s@%s:%d/%s", pgtest.User, server.Host, server.Port, name)),
		v1.ArchiveSecretKeyPassword: []byte(pgtest.Password),
	}}
	cfg, err := ConfigFromSecret(sec, v1.ArchiveSSLDisable)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a, cfg
}

func payment(ns, name, uid, value, currency string, phase v1.PaymentPhase) *v1.Payment {
	p := &v1.Payment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + uid),
		CreationTimestamp: metav1.NewTime(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)),
		ManagedFields:     []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
		Spec: v1.PaymentSpec{Amount: v1.Money{Currency: currency, Value: value}, PaymentMethod: v1.PaymentMethod{Type: "ALIPAY_HK"}}}
	p.Status.Phase = phase
	p.Status.PaymentRequestID = "pay" + uid
	p.Status.PaymentID = "2026" + uid
	paid := metav1.NewTime(time.Date(2026, 11, 20, 10, 1, 0, 0, time.UTC))
	p.Status.PaymentTime = &paid
	if phase == v1.PaymentSucceeded {
		p.Status.Amounts.Captured = &v1.Money{Currency: currency, Value: value}
	}
	return p
}

func refund(ns, name, paymentName, uid, value, currency string) *v1.Refund {
	r := &v1.Refund{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + uid),
		CreationTimestamp: metav1.NewTime(time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC))},
		Spec: v1.RefundSpec{PaymentRef: v1.LocalObjectReference{Name: paymentName}, Amount: v1.Money{Currency: currency, Value: value}}}
	r.Status.Phase = v1.OperationSucceeded
	r.Status.RequestID = "ref" + uid
	r.Status.GatewayID = "rf" + uid
	return r
}

func records(t *testing.T, objs ...any) []Record {
	t.Helper()
	var out []Record
	for _, o := range objs {
		var r Record
		var err error
		switch o := o.(type) {
		case *v1.Payment:
			r, err = FromPayment(o, "MERCHANT1")
		case *v1.Refund:
			r, err = FromOperation(o, "MERCHANT1")
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func count(t *testing.T, a *Archive, kind string) int64 {
	t.Helper()
	n, err := a.Count(context.Background(), kind)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPutIsIdempotent: writing the same objects again (a crash between
// archive and delete) changes nothing; a newer state of the same identity
// replaces the row; the object round-trips without managedFields.
func TestPutIsIdempotent(t *testing.T) {
	a, _ := open(t)
	ctx := context.Background()
	p := payment("shop", "order-1", "1", "88.00", "HKD", v1.PaymentSucceeded)
	r := refund("shop", "order-1-refund", "order-1", "2", "44.00", "HKD")
	for i := 0; i < 3; i++ {
		if err := a.Put(ctx, records(t, p, r)); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, a, KindPayment) + count(t, a, KindRefund); n != 2 {
		t.Fatalf("rows after three identical puts = %d, want 2", n)
	}
	p.Status.Amounts.Refunded = &v1.Money{Currency: "HKD", Value: "44.00"}
	if err := a.Put(ctx, records(t, p)); err != nil {
		t.Fatal(err)
	}
	got, err := a.Find(ctx, KindPayment, "shop", "order-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Refunded != "44.00" || got[0].Captured != "88.00" || got[0].Amount != "88.00" {
		t.Fatalf("find after update = %+v", got)
	}
	// A late write of an older state (a replay from a stale manager) does
	// not replace a newer one.
	p.ResourceVersion = "20"
	if err := a.Put(ctx, records(t, p)); err != nil {
		t.Fatal(err)
	}
	stale := p.DeepCopy()
	stale.ResourceVersion, stale.Status.Amounts.Refunded = "10", nil
	if err := a.Put(ctx, records(t, stale)); err != nil {
		t.Fatal(err)
	}
	if got, err = a.Find(ctx, KindPayment, "shop", "order-1"); err != nil || got[0].Refunded != "44.00" || got[0].Revision != 20 {
		t.Fatalf("after a stale write: %+v %v", got, err)
	}
	var back v1.Payment
	if err := got[0].Decode(&back); err != nil {
		t.Fatal(err)
	}
	if back.UID != p.UID || back.Status.PaymentID != p.Status.PaymentID || len(back.ManagedFields) != 0 || back.Kind != "Payment" {
		t.Fatalf("decoded object: uid %s paymentId %s managedFields %d kind %q", back.UID, back.Status.PaymentID, len(back.ManagedFields), back.Kind)
	}
}

// TestPutIsAtomic: a batch with one row the database refuses writes nothing.
func TestPutIsAtomic(t *testing.T) {
	a, _ := open(t)
	recs := records(t, payment("shop", "order-2", "3", "10.00", "HKD", v1.PaymentSucceeded),
		refund("shop", "order-2-refund", "order-2", "4", "1.00", "HKD"))
	recs[1].Amount = "not-a-number"
	if err := a.Put(context.Background(), recs); err == nil {
		t.Fatal("a row with a non-numeric amount was accepted")
	}
	if n := count(t, a, KindPayment); n != 0 {
		t.Fatalf("payment rows after a failed batch = %d, want 0", n)
	}
}

// TestAmountsAreExact: numeric keeps every currency's decimals and sums
// without rounding, in the finance view too.
func TestAmountsAreExact(t *testing.T) {
	a, _ := open(t)
	ctx := context.Background()
	ps := []*v1.Payment{
		payment("shop", "kwd-1", "10", "1.234", "KWD", v1.PaymentSucceeded),
		payment("shop", "kwd-2", "11", "0.001", "KWD", v1.PaymentSucceeded),
		payment("shop", "jpy-1", "12", "1000", "JPY", v1.PaymentSucceeded),
		payment("shop", "hkd-big", "13", "99999999999999.99", "HKD", v1.PaymentSucceeded),
		payment("shop", "hkd-small", "14", "0.01", "HKD", v1.PaymentSucceeded),
		payment("shop", "hkd-failed", "15", "5.00", "HKD", v1.PaymentFailed),
	}
	for _, p := range ps {
		if err := a.Put(ctx, records(t, p)); err != nil {
			t.Fatal(err)
		}
	}
	db := a.DB()
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT day::text, currency, phase, payments, amount::text FROM payments_by_day ORDER BY currency, phase`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var day, cur, phase, amount string
		var n int
		if err := rows.Scan(&day, &cur, &phase, &n, &amount); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %s %d %s", day, cur, phase, n, amount))
	}
	want := []string{"2026-11-20 HKD Failed 1 5.00", "2026-11-20 HKD Succeeded 2 100000000000000.00",
		"2026-11-20 JPY Succeeded 1 1000", "2026-11-20 KWD Succeeded 2 1.235"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("payments_by_day:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestStory: an order's whole story by namespace/name, by any gateway id,
// and through the order_story view.
func TestStory(t *testing.T) {
	a, _ := open(t)
	ctx := context.Background()
	p := payment("shop", "order-3", "20", "88.00", "HKD", v1.PaymentSucceeded)
	r1 := refund("shop", "order-3-a", "order-3", "21", "10.00", "HKD")
	r2 := refund("shop", "order-3-b", "order-3", "22", "20.00", "HKD")
	r1.Status.PaymentID, r2.Status.PaymentID = p.Status.PaymentID, p.Status.PaymentID
	other := payment("shop", "order-4", "23", "1.00", "HKD", v1.PaymentSucceeded)
	if err := a.Put(ctx, records(t, p, r1, r2, other)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", r2.Status.GatewayID, p.Status.PaymentID, r1.Status.RequestID} {
		var story []Record
		var err error
		if id == "" {
			story, err = a.Story(ctx, "shop", "order-3")
		} else {
			story, err = a.StoryByGatewayID(ctx, id)
		}
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range story {
			names = append(names, s.Kind+"/"+s.Name)
		}
		if want := "Payment/order-3 Refund/order-3-a Refund/order-3-b"; strings.Join(names, " ") != want {
			t.Fatalf("story by %q = %v, want %s", id, names, want)
		}
	}
	// FindByID: every object of the merchant carrying the id, by payment
	// id (the payment and its refunds) or by an operation's request id.
	for id, want := range map[string]string{p.Status.PaymentID: "Payment/order-3 Refund/order-3-a Refund/order-3-b",
		r1.Status.RequestID: "Refund/order-3-a", "no-such-id": ""} {
		recs, err := a.FindByID(ctx, "MERCHANT1", id)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range recs {
			names = append(names, r.Kind+"/"+r.Name)
		}
		sort.Strings(names)
		if got := strings.Join(names, " "); got != want {
			t.Fatalf("FindByID(%q) = %q, want %q", id, got, want)
		}
	}
	if recs, err := a.FindByID(ctx, "another-merchant", p.Status.PaymentID); err != nil || len(recs) != 0 {
		t.Fatalf("FindByID of another merchant: %d rows, %v; want none", len(recs), err)
	}
	if _, err := a.StoryByGatewayID(ctx, "no-such-id"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v, want ErrNotFound", err)
	}
	db := a.DB()
	defer db.Close()
	var n int
	var sum string
	if err := db.QueryRowContext(ctx, `SELECT count(*), sum(amount)::text FROM order_story WHERE order_payment_id = $1 AND kind = 'Refund'`,
		p.Status.PaymentID).Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	if n != 2 || sum != "30.00" {
		t.Fatalf("order_story refunds of %s: %d totalling %s, want 2 totalling 30.00", p.Status.PaymentID, n, sum)
	}
}

// TestOutage: while the database is down writes fail (and say so); once it
// is back the same archive works again without being reopened; opening an
// archive whose schema is current is a no-op.
func TestOutage(t *testing.T) {
	a, cfg := open(t)
	ctx := context.Background()
	if err := server.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = server.Resume(ctx)
		}
	}()
	recs := records(t, payment("shop", "order-5", "30", "1.00", "HKD", v1.PaymentSucceeded))
	if err := a.Put(ctx, recs); err == nil {
		t.Fatal("Put succeeded with the database down")
	}
	if err := a.Ping(ctx); err == nil {
		t.Fatal("Ping succeeded with the database down")
	}
	if err := server.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	resumed = true
	if err := a.Put(ctx, recs); err != nil {
		t.Fatalf("Put after the database came back: %v", err)
	}
	again, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("reopen (migrations already applied): %v", err)
	}
	defer again.Close()
	if n := count(t, again, KindPayment); n != 1 {
		t.Fatalf("rows = %d, want 1", n)
	}
}
