// Package archive keeps finished payments and their operations in
// PostgreSQL (or any PostgreSQL-compatible database: CockroachDB,
// YugabyteDB, Aurora, AlloyDB) once retention has removed them from the
// cluster, so that etcd stays bounded while the history outlives it.
//
// One row per archived object: the whole object as JSON plus indexed
// columns (merchant, kind, namespace, name, identity, gateway ids,
// currency, exact amounts, phase, times). Rows are written idempotently,
// keyed by the object's identity at the gateway, so a crash between
// archiving and deleting repeats harmlessly. The schema is migrated by
// embedded migrations (migrations/*.sql, pressly/goose) when the archive
// is opened; the SQL views payments_by_day and order_story serve finance
// and support, and Story is the read path for tools.
package archive

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Archive is an open archive database.
type Archive struct {
	pool *pgxpool.Pool
}

// Open connects, checks the connection and brings the schema up to date.
func Open(ctx context.Context, cfg Config) (*Archive, error) {
	pc, err := cfg.poolConfig()
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("archive: connect: %w", err)
	}
	a := &Archive{pool: pool}
	if err := a.migrate(ctx, 0); err != nil {
		pool.Close()
		return nil, err
	}
	return a, nil
}

// migrate applies the embedded migrations that have not been applied, up
// to version (0: all of them).
func (a *Archive) migrate(ctx context.Context, version int64) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	db := stdlib.OpenDBFromPool(a.pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithTableName("archive_schema_version"))
	if err != nil {
		return fmt.Errorf("archive: migrations: %w", err)
	}
	if version > 0 {
		_, err = p.UpTo(ctx, version)
	} else {
		_, err = p.Up(ctx)
	}
	if err != nil {
		return fmt.Errorf("archive: migrate schema: %w", err)
	}
	return nil
}

// Close releases the connections.
func (a *Archive) Close() { a.pool.Close() }

// Ping checks that the database answers.
func (a *Archive) Ping(ctx context.Context) error {
	if err := a.pool.Ping(ctx); err != nil {
		return fmt.Errorf("archive: ping: %w", err)
	}
	return nil
}

const upsert = `
INSERT INTO archived_objects (merchant_client_id, kind, identity, namespace, name, uid, payment_name,
    request_id, payment_id, gateway_id, currency, amount, captured, refunded, phase,
    created_at, final_at, archived_at, revision, object, requester, approver, approved_at, policy, submitted_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, CAST($12 AS numeric), CAST($13 AS numeric),
    CAST($14 AS numeric), $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)
ON CONFLICT (merchant_client_id, kind, identity) DO UPDATE SET
    namespace = excluded.namespace, name = excluded.name, uid = excluded.uid,
    payment_name = excluded.payment_name, request_id = excluded.request_id,
    payment_id = excluded.payment_id, gateway_id = excluded.gateway_id,
    currency = excluded.currency, amount = excluded.amount, captured = excluded.captured,
    refunded = excluded.refunded, phase = excluded.phase, created_at = excluded.created_at,
    final_at = excluded.final_at, archived_at = excluded.archived_at, revision = excluded.revision,
    object = excluded.object, requester = excluded.requester, approver = excluded.approver,
    approved_at = excluded.approved_at, policy = excluded.policy, submitted_at = excluded.submitted_at
WHERE archived_objects.revision <= excluded.revision`

// Put writes records in one transaction: all of them or none. A record
// whose identity is already archived replaces the row unless the row holds
// a newer state (a higher Revision), so a repeated or late Put is harmless. When Put returns nil the rows are
// committed.
func (a *Archive) Put(ctx context.Context, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	now := time.Now().UTC()
	return pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for i := range recs {
			r := &recs[i]
			if err := r.validate(); err != nil {
				return err
			}
			b.Queue(upsert, r.MerchantClientID, r.Kind, r.Identity, r.Namespace, r.Name, r.UID, r.PaymentName,
				r.RequestID, r.PaymentID, r.GatewayID, r.Currency, r.Amount, nullable(r.Captured), nullable(r.Refunded),
				r.Phase, r.CreatedAt, r.FinalAt, now, r.Revision, []byte(r.Object),
				r.Audit.Requester, r.Audit.Approver, r.Audit.ApprovedAt, r.Audit.Policy, r.SubmittedAt)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("archive: write %d rows: %w", len(recs), err)
		}
		return nil
	})
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const selectCols = `merchant_client_id, kind, identity, namespace, name, uid, payment_name, request_id,
    payment_id, gateway_id, currency, amount::text, coalesce(captured::text, ''), coalesce(refunded::text, ''),
    phase, created_at, final_at, archived_at, revision, object, requester, approver, approved_at, policy, submitted_at`

func scanRecords(rows pgx.Rows) ([]Record, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Record, error) {
		var r Record
		var obj []byte
		err := row.Scan(&r.MerchantClientID, &r.Kind, &r.Identity, &r.Namespace, &r.Name, &r.UID, &r.PaymentName,
			&r.RequestID, &r.PaymentID, &r.GatewayID, &r.Currency, &r.Amount, &r.Captured, &r.Refunded,
			&r.Phase, &r.CreatedAt, &r.FinalAt, &r.ArchivedAt, &r.Revision, &obj,
			&r.Audit.Requester, &r.Audit.Approver, &r.Audit.ApprovedAt, &r.Audit.Policy, &r.SubmittedAt)
		r.Object = obj
		return r, err
	})
}

// Find returns the archived objects of a kind with this namespace and name
// (several when different objects bore the name), newest first.
func (a *Archive) Find(ctx context.Context, kind, namespace, name string) ([]Record, error) {
	rows, err := a.pool.Query(ctx, `SELECT `+selectCols+` FROM archived_objects
        WHERE namespace = $1 AND name = $2 AND kind = $3 ORDER BY created_at DESC, archived_at DESC`, namespace, name, kind)
	if err != nil {
		return nil, fmt.Errorf("archive: find %s %s/%s: %w", kind, namespace, name, err)
	}
	return scanRecords(rows)
}

// Story is an order's whole archived history: its payment and every
// operation on it, oldest first.
func (a *Archive) Story(ctx context.Context, namespace, paymentName string) ([]Record, error) {
	rows, err := a.pool.Query(ctx, `SELECT `+selectCols+` FROM archived_objects
        WHERE namespace = $1 AND payment_name = $2 ORDER BY created_at, kind, name`, namespace, paymentName)
	if err != nil {
		return nil, fmt.Errorf("archive: story of %s/%s: %w", namespace, paymentName, err)
	}
	return scanRecords(rows)
}

// ErrNotFound means no archived object carries the id.
var ErrNotFound = errors.New("archive: not found")

// StoryByGatewayID finds the order that any gateway id or request id
// (paymentId, refundId, paymentRequestId, ...) belongs to and returns its
// story.
func (a *Archive) StoryByGatewayID(ctx context.Context, id string) ([]Record, error) {
	var ns, payment string
	err := a.pool.QueryRow(ctx, `SELECT namespace, payment_name FROM archived_objects
        WHERE payment_id = $1 OR gateway_id = $1 OR request_id = $1 LIMIT 1`, id).Scan(&ns, &payment)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: no archived object has gateway id %q", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("archive: find gateway id %s: %w", id, err)
	}
	return a.Story(ctx, ns, payment)
}

// FindByID returns the archived objects of one merchant (client id) that
// carry id as their gateway payment id, their own gateway id or their
// request id (paymentRequestId, refundRequestId, ...), newest first.
func (a *Archive) FindByID(ctx context.Context, merchantClientID, id string) ([]Record, error) {
	rows, err := a.pool.Query(ctx, `SELECT `+selectCols+` FROM archived_objects
        WHERE merchant_client_id = $1 AND (payment_id = $2 OR gateway_id = $2 OR request_id = $2)
        ORDER BY created_at DESC, archived_at DESC`, merchantClientID, id)
	if err != nil {
		return nil, fmt.Errorf("archive: find gateway id %s: %w", id, err)
	}
	return scanRecords(rows)
}

// Count is the number of archived objects of a kind.
func (a *Archive) Count(ctx context.Context, kind string) (int64, error) {
	var n int64
	if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM archived_objects WHERE kind = $1`, kind).Scan(&n); err != nil {
		return 0, fmt.Errorf("archive: count %s: %w", kind, err)
	}
	return n, nil
}

// DB opens a database/sql handle on the archive's pool (for tools that
// query the views); the caller closes it.
func (a *Archive) DB() *sql.DB { return stdlib.OpenDBFromPool(a.pool) }

// Spend selects the archived operations a budget counts: of one kind and
// currency in a namespace, sent in [From, To), not failed.
type Spend struct {
	Namespace, Kind, Currency string
	From, To                  time.Time
}

// Spent returns the archived operations sp selects, oldest first. An
// operation archived without a send time (never sent) is not among them.
func (a *Archive) Spent(ctx context.Context, sp Spend) ([]Record, error) {
	rows, err := a.pool.Query(ctx, `SELECT `+selectCols+` FROM archived_objects
        WHERE namespace = $1 AND kind = $2 AND currency = $3 AND phase <> 'Failed'
          AND submitted_at >= $4 AND submitted_at < $5
        ORDER BY submitted_at, name`, sp.Namespace, sp.Kind, sp.Currency, sp.From.UTC(), sp.To.UTC())
	if err != nil {
		return nil, fmt.Errorf("archive: %s spent in %s since %s: %w", sp.Kind, sp.Namespace, sp.From.Format(time.RFC3339), err)
	}
	return scanRecords(rows)
}
