package shared

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/archive"
	"github.com/cashier-operator/cashier-operator/internal/policy"
)

// ArchiveErrors counts failed archive reads and writes (retention's writes,
// restores' searches, budgets' archived spend), by GatewayConfig.
var ArchiveErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "cashier_archive_errors_total",
	Help: "Failed archive reads and writes, by GatewayConfig.",
}, []string{"gatewayconfig"})

func init() { crmetrics.Registry.MustRegister(ArchiveErrors) }

// Archives holds one open archive per archive Secret, reopened when the
// Secret or the sslMode changes. The Secret is re-read at most every
// secretTTL, so that retention costs the apiserver no read per payment.
type Archives struct {
	reader    client.Reader
	secretTTL time.Duration
	now       func() time.Time

	mu   sync.Mutex
	open map[types.NamespacedName]*archiveEntry
}

type archiveEntry struct {
	version string // Secret resourceVersion + sslMode
	checked time.Time
	a       *archive.Archive
}

// NewArchives opens archives on demand, reading their Secrets with reader.
func NewArchives(reader client.Reader, now func() time.Time) *Archives {
	return &Archives{reader: reader, secretTTL: time.Minute, now: now, open: map[types.NamespacedName]*archiveEntry{}}
}

// ArchiveSecretError wraps problems with the archive Secret (as opposed to
// the database being unreachable).
type ArchiveSecretError struct{ err error }

func (e ArchiveSecretError) Error() string { return e.err.Error() }
func (e ArchiveSecretError) Unwrap() error { return e.err }

// Get returns the open archive of a connection, opening it (and
// migrating its schema) when needed.
func (r *Archives) Get(ctx context.Context, conn v1.ArchiveConnection) (*archive.Archive, error) {
	key := types.NamespacedName{Namespace: conn.SecretRef.Namespace, Name: conn.SecretRef.Name}
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.open[key]
	if e != nil && r.now().Sub(e.checked) < r.secretTTL {
		return e.a, nil
	}
	var s corev1.Secret
	if err := r.reader.Get(ctx, key, &s); err != nil {
		return nil, ArchiveSecretError{fmt.Errorf("archive secret %s: %w", key, err)}
	}
	version := s.ResourceVersion + "/" + conn.SSLMode
	if e != nil && e.version == version {
		e.checked = r.now()
		return e.a, nil
	}
	cfg, err := archive.ConfigFromSecret(&s, conn.SSLMode)
	if err != nil {
		return nil, ArchiveSecretError{err}
	}
	a, err := archive.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if e != nil {
		e.a.Close()
	}
	r.open[key] = &archiveEntry{version: version, checked: r.now(), a: a}
	return a, nil
}

// Close closes every open archive.
func (r *Archives) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, e := range r.open {
		e.a.Close()
		delete(r.open, k)
	}
}

// Search runs query against every archive a GatewayConfig names
// (only merchant clientID's GatewayConfigs unless it is ""),
// once per database: its spec.retention.archive, and the archives its
// payments were ever archived to (status.archives), so that payments
// archived before retention was turned off or moved stay reachable. A
// remembered archive whose Secret is gone or invalid is skipped. One
// archive that cannot be read (another merchant's database down, its Secret
// wrong) does not hide what the others hold: its failure is returned only
// when no archive had a record, since then nothing can be concluded (the
// caller retries).
func (r *Archives) Search(ctx context.Context, c client.Reader, clientID string,
	query func(context.Context, *archive.Archive) ([]archive.Record, error)) ([]archive.Record, error) {
	out, failed, err := r.each(ctx, c, clientID, query)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 && failed != nil {
		return nil, failed
	}
	return out, nil
}

// SearchAll is Search over every merchant's archives where every archive
// must answer: the first failure is returned even when others had records
// (a budget cannot be decided on part of what was spent).
func (r *Archives) SearchAll(ctx context.Context, c client.Reader,
	query func(context.Context, *archive.Archive) ([]archive.Record, error)) ([]archive.Record, error) {
	out, failed, err := r.each(ctx, c, "", query)
	if err == nil {
		err = failed
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// each runs query once per archive database of the GatewayConfigs (of
// merchant clientID unless it is ""); failed is the first archive's
// failure, err a failure to list the GatewayConfigs.
func (r *Archives) each(ctx context.Context, c client.Reader, clientID string,
	query func(context.Context, *archive.Archive) ([]archive.Record, error)) (out []archive.Record, failed, err error) {
	var gwcs v1.GatewayConfigList
	if err := c.List(ctx, &gwcs); err != nil {
		return nil, nil, fmt.Errorf("list GatewayConfigs: %w", err)
	}
	seen := map[v1.NamespacedSecretReference]bool{}
	for _, g := range gwcs.Items {
		if clientID != "" && g.Status.ClientID != clientID {
			continue // another merchant's archives
		}
		for _, conn := range ArchiveConnections(&g) {
			if seen[conn.SecretRef] {
				continue
			}
			recs, skipped, err := r.query(ctx, &g, conn, query)
			if skipped {
				continue // another GatewayConfig may name it in its spec
			}
			seen[conn.SecretRef] = true
			if err != nil {
				ArchiveErrors.WithLabelValues(g.Name).Inc()
				if failed == nil {
					failed = fmt.Errorf("archive of GatewayConfig %s: %w", g.Name, err)
				}
				continue
			}
			out = append(out, recs...)
		}
	}
	return out, failed, nil
}

// query runs query against one of g's archives; a remembered (not
// in spec) archive whose Secret is gone or invalid is skipped.
func (r *Archives) query(ctx context.Context, g *v1.GatewayConfig, conn v1.ArchiveConnection,
	query func(context.Context, *archive.Archive) ([]archive.Record, error)) (recs []archive.Record, skipped bool, err error) {
	a, err := r.Get(ctx, conn)
	var se ArchiveSecretError
	if err != nil && errors.As(err, &se) && !inSpec(g, conn) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	recs, err = query(ctx, a)
	return recs, false, err
}

// ArchiveConnections are a GatewayConfig's archives: spec.retention's
// first, then those in status.archives.
func ArchiveConnections(g *v1.GatewayConfig) []v1.ArchiveConnection {
	var out []v1.ArchiveConnection
	if g.Spec.Retention != nil {
		out = append(out, g.Spec.Retention.Archive)
	}
	return append(out, g.Status.Archives...)
}

func inSpec(g *v1.GatewayConfig, conn v1.ArchiveConnection) bool {
	return g.Spec.Retention != nil && g.Spec.Retention.Archive.SecretRef == conn.SecretRef
}

// ArchivedSpend is what retention archived of sp's kind, namespace and
// currency, sent in its window, as the MoneyPolicy's budgets count it (as
// if it were still in the cluster). Every archive must answer: one that
// cannot be read might hold the spend that exhausts the budget.
func ArchivedSpend(ctx context.Context, deps *Deps, sp archive.Spend) ([]policy.Operation, error) {
	recs, err := deps.Archives.SearchAll(ctx, deps.Client, func(ctx context.Context, a *archive.Archive) ([]archive.Record, error) {
		return a.Spent(ctx, sp)
	})
	if err != nil {
		return nil, err
	}
	out := make([]policy.Operation, 0, len(recs))
	for _, r := range recs {
		amt, err := v1.Money{Currency: r.Currency, Value: r.Amount}.Amount()
		if err != nil || r.SubmittedAt == nil {
			continue // never sent, or an amount no gateway took: it took nothing
		}
		out = append(out, policy.Operation{Kind: v1.MoneyKind(r.Kind), Name: r.Name, Created: r.CreatedAt, Requester: r.Audit.Requester,
			Payment: r.PaymentName, Amount: amt, RequestID: r.RequestID, Sent: true, SentAt: *r.SubmittedAt})
	}
	return out, nil
}
