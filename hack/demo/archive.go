package main

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

// devArchive is the local PostgreSQL that `make dev DEV_FLAGS=--retain-for=1m`
// archives to: started from the machine's binaries like the tests' one.
type devArchive struct {
	pg   *pgtest.Server
	url  string
	a    *archive.Archive
	last string
}

const archiveDB, archiveSecret = "cashier", "cashier-archive"

func startArchive(ctx context.Context) (*devArchive, error) {
	pg, err := pgtest.Start(ctx)
	if err != nil {
		return nil, fmt.Errorf("local PostgreSQL: %w", err)
	}
	if err := pg.CreateDatabase(ctx, archiveDB); err != nil {
		_ = pg.Stop()
		return nil, err
	}
	d := &devArchive{pg: pg, url: fmt.Sprintf("postgres://%s@%s:%d/%s", pgtest.User, pg.Host, pg.Port, archiveDB)}
	d.a, err = archive.Open(ctx, archive.Config{URL: d.url, Password: pgtest.Password, SSLMode: v1.ArchiveSSLDisable})
	if err != nil {
		_ = pg.Stop()
		return nil, err
	}
	return d, nil
}

// retention is the GatewayConfig policy, its Secret created by createSecret.
func (d *devArchive) retention(retainFor time.Duration) *v1.Retention {
	return &v1.Retention{RetainFor: metav1.Duration{Duration: retainFor}, Archive: v1.ArchiveConnection{
		SecretRef: v1.NamespacedSecretReference{Namespace: ns, Name: archiveSecret}, SSLMode: v1.ArchiveSSLDisable}}
}

func (d *devArchive) createSecret(ctx context.Context, c client.Client) error {
	return c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: archiveSecret},
		StringData: map[string]string{v1.ArchiveSecretKeyURL: d.url, v1.ArchiveSecretKeyPassword: pgtest.Password}})
}

func (d *devArchive) explain() {
	fmt.Printf("    retention is on: finished payments leave the cluster for the archive; query it with\n")
	fmt.Printf("    PGPASSWORD=%s psql '%s' -c 'SELECT * FROM payments_by_day' -c 'SELECT * FROM order_story'\n", pgtest.Password, d.url)
}

// report prints how many payments the cluster and the archive hold, when it changes.
func (d *devArchive) report(ctx context.Context, c client.Client) {
	var pays v1.PaymentList
	if err := c.List(ctx, &pays); err != nil {
		return
	}
	n, err := d.a.Count(ctx, archive.KindPayment)
	if err != nil {
		return
	}
	line := fmt.Sprintf("payments in the cluster: %d, in the archive: %d", len(pays.Items), n)
	if line != d.last {
		fmt.Printf("    %s  %s\n", time.Now().Format("15:04:05"), line)
		d.last = line
	}
}

func (d *devArchive) stop() {
	d.a.Close()
	_ = d.pg.Stop()
}
