package retention

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/archive"
)

// archives holds one open archive per archive Secret, reopened when the
// Secret or the sslMode changes. The Secret is re-read at most every
// secretTTL, so that retention costs the apiserver no read per payment.
type archives struct {
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

func newArchives(reader client.Reader, now func() time.Time) *archives {
	return &archives{reader: reader, secretTTL: time.Minute, now: now, open: map[types.NamespacedName]*archiveEntry{}}
}

// errArchiveSecret wraps problems with the archive Secret (as opposed to
// the database being unreachable).
type errArchiveSecret struct{ err error }

func (e errArchiveSecret) Error() string { return e.err.Error() }
func (e errArchiveSecret) Unwrap() error { return e.err }

// get returns the open archive of a connection, opening it (and
// migrating its schema) when needed.
func (r *archives) get(ctx context.Context, conn v1.ArchiveConnection) (*archive.Archive, error) {
	key := types.NamespacedName{Namespace: conn.SecretRef.Namespace, Name: conn.SecretRef.Name}
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.open[key]
	if e != nil && r.now().Sub(e.checked) < r.secretTTL {
		return e.a, nil
	}
	var s corev1.Secret
	if err := r.reader.Get(ctx, key, &s); err != nil {
		return nil, errArchiveSecret{fmt.Errorf("archive secret %s: %w", key, err)}
	}
	version := s.ResourceVersion + "/" + conn.SSLMode
	if e != nil && e.version == version {
		e.checked = r.now()
		return e.a, nil
	}
	cfg, err := archive.ConfigFromSecret(&s, conn.SSLMode)
	if err != nil {
		return nil, errArchiveSecret{err}
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

// close closes every open archive.
func (r *archives) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, e := range r.open {
		e.a.Close()
		delete(r.open, k)
	}
}
