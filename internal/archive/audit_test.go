package archive

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// governed is a refund sent at sent with the audit trail a MoneyPolicy
// decision leaves in its status.
func governed(name, uid, value, requester, approver string, sent time.Time, phase v1.OperationPhase) *v1.Refund {
	r := refund("shop", name, "order-1", uid, value, "HKD")
	r.Annotations = map[string]string{v1.RequesterAnnotation: requester}
	r.Status.Phase = phase
	at := metav1.NewTime(sent)
	r.Status.SubmitTime = &at
	if approver != "" {
		approved := metav1.NewTime(sent.Add(-time.Minute))
		r.Status.Audit = &v1.Audit{Requester: requester, Policy: "shop/default", Approver: approver, ApprovedAt: &approved, Approval: "refund-" + name}
	}
	return r
}

// TestAuditTrail: requester, approver, approval time and policy are
// indexed columns of the row, read back by Find and shown by order_story.
func TestAuditTrail(t *testing.T) {
	a, _ := open(t)
	ctx := context.Background()
	sent := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	big := governed("big", "1", "250.00", "alice", "bob", sent, v1.OperationSucceeded)
	small := refund("shop", "small", "order-1", "2", "20.00", "HKD")
	small.Annotations = map[string]string{v1.RequesterAnnotation: "alice"}
	if err := a.Put(ctx, records(t, payment("shop", "order-1", "p", "500.00", "HKD", v1.PaymentSucceeded), big, small)); err != nil {
		t.Fatal(err)
	}
	recs, err := a.Find(ctx, KindRefund, "shop", "big")
	if err != nil || len(recs) != 1 {
		t.Fatalf("find: %v %d", err, len(recs))
	}
	au := recs[0].Audit
	if au.Requester != "alice" || au.Approver != "bob" || au.Policy != "shop/default" ||
		au.ApprovedAt == nil || !au.ApprovedAt.Equal(sent.Add(-time.Minute)) {
		t.Fatalf("audit read back: %+v", au)
	}
	if s := recs[0].SubmittedAt; s == nil || !s.Equal(sent) {
		t.Fatalf("submitted at %v, want %v", s, sent)
	}
	db := a.DB()
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT name, requester, approver, coalesce(policy, '') FROM order_story
        WHERE namespace = 'shop' AND kind = 'Refund' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var name, req, appr, pol string
		if err := rows.Scan(&name, &req, &appr, &pol); err != nil {
			t.Fatal(err)
		}
		got = append(got, name+":"+req+":"+appr+":"+pol)
	}
	want := []string{"big:alice:bob:shop/default", "small:alice::"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("order_story audit rows %v, want %v", got, want)
	}
}

// TestSpent: a budget counts the namespace's archived operations of its
// kind and currency sent inside the window, and no failed one.
func TestSpent(t *testing.T) {
	a, _ := open(t)
	ctx := context.Background()
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	inside := governed("inside", "1", "60.00", "alice", "", day.Add(3*time.Hour), v1.OperationSucceeded)
	yesterday := governed("yesterday", "2", "70.00", "alice", "", day.Add(-time.Hour), v1.OperationSucceeded)
	failed := governed("failed", "3", "80.00", "alice", "", day.Add(4*time.Hour), v1.OperationFailed)
	usd := governed("usd", "4", "5.00", "alice", "", day.Add(5*time.Hour), v1.OperationSucceeded)
	usd.Spec.Amount.Currency = "USD"
	elsewhere := governed("elsewhere", "5", "9.00", "alice", "", day.Add(6*time.Hour), v1.OperationSucceeded)
	elsewhere.Namespace = "other"
	if err := a.Put(ctx, records(t, inside, yesterday, failed, usd, elsewhere)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		sp       Spend
		wantName []string
	}{
		{"the day", Spend{Namespace: "shop", Kind: KindRefund, Currency: "HKD", From: day, To: day.Add(24 * time.Hour)}, []string{"inside"}},
		{"two days", Spend{Namespace: "shop", Kind: KindRefund, Currency: "HKD", From: day.Add(-24 * time.Hour), To: day.Add(24 * time.Hour)}, []string{"yesterday", "inside"}},
		{"another currency", Spend{Namespace: "shop", Kind: KindRefund, Currency: "USD", From: day, To: day.Add(24 * time.Hour)}, []string{"usd"}},
		{"captures", Spend{Namespace: "shop", Kind: KindCapture, Currency: "HKD", From: day, To: day.Add(24 * time.Hour)}, nil},
		{"end excluded", Spend{Namespace: "shop", Kind: KindRefund, Currency: "HKD", From: day, To: day.Add(3 * time.Hour)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := a.Spent(ctx, tt.sp)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range recs {
				names = append(names, r.Name)
			}
			if len(names) != len(tt.wantName) || (len(names) > 0 && names[len(names)-1] != tt.wantName[len(tt.wantName)-1]) || (len(names) > 0 && names[0] != tt.wantName[0]) {
				t.Fatalf("spent %v, want %v", names, tt.wantName)
			}
		})
	}
}

// TestAuditMigrationBackfills: rows archived before the audit columns
// existed get them from their object when the schema moves on.
func TestAuditMigrationBackfills(t *testing.T) {
	ctx := context.Background()
	name := fmt.Sprintf("archive_%d", dbSeq.Add(1))
	if err := server.CreateDatabase(ctx, name); err != nil {
		t.Fatal(err)
	}
	_, cfg := open(t)
	pc, err := cfg.poolConfig()
	if err != nil {
		t.Fatal(err)
	}
	pc.ConnConfig.Database = name
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	a := &Archive{pool: pool}
	t.Cleanup(a.Close)
	if err := a.migrate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	sent := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	rec := records(t, governed("old", "9", "250.00", "alice", "bob", sent, v1.OperationSucceeded))[0]
	if _, err := pool.Exec(ctx, `INSERT INTO archived_objects (merchant_client_id, kind, identity, namespace, name, uid,
        payment_name, request_id, payment_id, gateway_id, currency, amount, phase, created_at, archived_at, revision, object)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '', $9, $10, 250, $11, $12, now(), 1, $13)`,
		rec.MerchantClientID, rec.Kind, rec.Identity, rec.Namespace, rec.Name, rec.UID, rec.PaymentName, rec.RequestID,
		rec.GatewayID, rec.Currency, rec.Phase, rec.CreatedAt, []byte(rec.Object)); err != nil {
		t.Fatal(err)
	}
	if err := a.migrate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	recs, err := a.Find(ctx, KindRefund, "shop", "old")
	if err != nil || len(recs) != 1 {
		t.Fatalf("find: %v %d", err, len(recs))
	}
	if got := recs[0]; got.Audit.Requester != "alice" || got.Audit.Approver != "bob" || got.Audit.Policy != "shop/default" ||
		got.SubmittedAt == nil || !got.SubmittedAt.Equal(sent) {
		t.Fatalf("backfilled %+v submitted %v", got.Audit, got.SubmittedAt)
	}
}
