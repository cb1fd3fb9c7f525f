package localsystem

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/archive"
	"github.com/cashier-operator/cashier-operator/internal/pgtest"
)

// Archive is a local PostgreSQL retention archive (make dev --retain-for,
// make bench -retain-for), started from the machine's binaries like the
// tests' one, with a database, the Secret the GatewayConfig names, and an
// open archive to read back from.
type Archive struct {
	// URL reaches the database (the password is pgtest.Password).
	URL     string
	Archive *archive.Archive

	pg                *pgtest.Server
	secretNS, secretN string
}

// StartArchive starts PostgreSQL and creates database db; the Secret
// ns/secret is created by CreateSecret once the apiserver runs.
func StartArchive(ctx context.Context, db, ns, secret string) (*Archive, error) {
	pg, err := pgtest.Start(ctx)
	if err != nil {
		return nil, fmt.Errorf("local PostgreSQL for the archive: %w", err)
	}
	a := &Archive{pg: pg, URL: fmt.Sprintf("postgres://%s@%s:%d/%s", pgtest.User, pg.Host, pg.Port, db), secretNS: ns, secretN: secret}
	if err := pg.CreateDatabase(ctx, db); err != nil {
		_ = pg.Stop()
		return nil, err
	}
	if a.Archive, err = archive.Open(ctx, archive.Config{URL: a.URL, Password: pgtest.Password, SSLMode: v1.ArchiveSSLDisable}); err != nil {
		_ = pg.Stop()
		return nil, err
	}
	return a, nil
}

// Retention is the GatewayConfig policy that archives here.
func (a *Archive) Retention(retainFor time.Duration) *v1.Retention {
	return &v1.Retention{RetainFor: metav1.Duration{Duration: retainFor}, Archive: v1.ArchiveConnection{
		SecretRef: v1.NamespacedSecretReference{Namespace: a.secretNS, Name: a.secretN}, SSLMode: v1.ArchiveSSLDisable}}
}

// CreateSecret creates the archive Secret.
func (a *Archive) CreateSecret(ctx context.Context, c client.Client) error {
	return c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: a.secretNS, Name: a.secretN},
		StringData: map[string]string{v1.ArchiveSecretKeyURL: a.URL, v1.ArchiveSecretKeyPassword: pgtest.Password}})
}

// Stop closes the archive and removes the database server.
func (a *Archive) Stop() {
	a.Archive.Close()
	_ = a.pg.Stop()
}
