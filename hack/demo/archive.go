package main

import (
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/archive"
	"github.com/cashier-operator/cashier-operator/internal/localsystem"
	"github.com/cashier-operator/cashier-operator/internal/pgtest"
)

// devArchive is the local archive of `make dev DEV_FLAGS=--retain-for=1m`.
type devArchive struct {
	*localsystem.Archive
	last string
}

func startArchive(ctx context.Context) (*devArchive, error) {
	a, err := localsystem.StartArchive(ctx, "cashier", ns, "cashier-archive")
	if err != nil {
		return nil, err
	}
	return &devArchive{Archive: a}, nil
}

func (d *devArchive) explain() {
	fmt.Printf("    retention is on: finished payments leave the cluster for the archive; query it with\n")
	fmt.Printf("    PGPASSWORD=%s psql '%s' -c 'SELECT * FROM payments_by_day' -c 'SELECT * FROM order_story'\n", pgtest.Password, d.URL)
}

// report prints how many payments the cluster and the archive hold, when it changes.
func (d *devArchive) report(ctx context.Context, c client.Client) {
	var pays v1.PaymentList
	if err := c.List(ctx, &pays); err != nil {
		return
	}
	n, err := d.Archive.Archive.Count(ctx, archive.KindPayment)
	if err != nil {
		return
	}
	line := fmt.Sprintf("payments in the cluster: %d, in the archive: %d", len(pays.Items), n)
	if line != d.last {
		fmt.Printf("    %s  %s\n", time.Now().Format("15:04:05"), line)
		d.last = line
	}
}
