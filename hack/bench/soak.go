package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/archive"
	"github.com/cashier-operator/cashier-operator/internal/localsystem"
)

// soak is the retention mode of the benchmark (-retain-for): a local
// PostgreSQL archive (internal/pgtest), retention on in the GatewayConfig,
// and a sample every -soak-every of etcd's database size, the objects
// stored, the manager's RSS and the archive's rows, until every payment is
// archived and gone from the cluster.
type soak struct {
	retainFor time.Duration
	every     time.Duration
	arch      *localsystem.Archive

	mu      sync.Mutex
	start   time.Time
	samples []soakSample
}

type soakSample struct {
	at                       time.Duration
	dbBytes                  int64
	events                   float64
	managerRSS, managerPeak  int64
	receiverPeak, etcdPeak   int64
	archived, paymentsListed int64
}

func startSoak(ctx context.Context, retainFor, every time.Duration) (*soak, error) {
	a, err := localsystem.StartArchive(ctx, "cashier", "default", "cashier-archive")
	if err != nil {
		return nil, err
	}
	return &soak{retainFor: retainFor, every: every, arch: a}, nil
}

func (s *soak) stop() { s.arch.Stop() }

// gateway turns retention on in the GatewayConfig.
func (s *soak) gateway(g *v1.GatewayConfigSpec) { g.Retention = s.arch.Retention(s.retainFor) }

func (s *soak) createSecret(ctx context.Context, c client.Client) error {
	return s.arch.CreateSecret(ctx, c)
}

// run samples until ctx ends.
func (s *soak) run(ctx context.Context, ls *localsystem.System, ps *procSet) {
	s.mu.Lock()
	s.start = time.Now()
	s.mu.Unlock()
	for {
		s.take(ctx, ls, ps)
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.every):
		}
	}
}

func (s *soak) take(ctx context.Context, ls *localsystem.System, ps *procSet) {
	smp := soakSample{at: time.Since(s.start).Round(time.Second), dbBytes: etcdDBSize(ps.pids["etcd"])}
	smp.events = -1
	var evs eventsv1.EventList
	if err := ls.Client.List(ctx, &evs, client.InNamespace(benchNS)); err == nil {
		smp.events = float64(len(evs.Items))
	}
	procs := ps.sample()
	smp.managerRSS, smp.managerPeak = procs["manager"].RSSBytes, procs["manager"].HWMBytes
	smp.receiverPeak, smp.etcdPeak = procs["notification-receiver"].HWMBytes, procs["etcd"].HWMBytes
	smp.archived, _ = s.arch.Archive.Count(ctx, archive.KindPayment)
	var pays v1.PaymentList
	smp.paymentsListed = -1 // the apiserver did not answer in time
	if err := ls.Client.List(ctx, &pays, client.InNamespace(benchNS)); err == nil {
		smp.paymentsListed = int64(len(pays.Items))
	}
	s.mu.Lock()
	s.samples = append(s.samples, smp)
	s.mu.Unlock()
	logf("  soak %5.0fs  etcd db file %s, payments in the cluster %d, events %.0f, archived %d, manager RSS %s",
		smp.at.Seconds(), mib(smp.dbBytes), smp.paymentsListed, smp.events, smp.archived, mib(smp.managerRSS))
}

// etcdDBSize is the size of etcd's bbolt file, found from its --data-dir.
func etcdDBSize(pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return 0
	}
	for _, a := range strings.Split(string(raw), "\x00") {
		if dir, ok := strings.CutPrefix(a, "--data-dir="); ok {
			if fi, err := os.Stat(filepath.Join(dir, "member", "snap", "db")); err == nil {
				return fi.Size()
			}
		}
	}
	return 0
}

// drain waits until the sampler (run) has seen the archive hold n
// payments and the cluster none.
func (s *soak) drain(ctx context.Context, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		var last soakSample
		if len(s.samples) > 0 {
			last = s.samples[len(s.samples)-1]
		}
		s.mu.Unlock()
		if last.archived >= int64(n) && last.paymentsListed == 0 {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("after %s: %d of %d payments archived, %d still in the cluster", timeout, last.archived, n, last.paymentsListed)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// markdown is the soak's section of the report.
func (s *soak) markdown(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "### Retention soak (retainFor %s)\n\n", s.retainFor)
	fmt.Fprintf(&b, "etcd db file = the size of etcd's member/snap/db (bbolt; it grows to its high-water mark and is reused after compaction, never shrinks without defrag). Payments and events are listed from the apiserver (-1: the list timed out).\n\n")
	fmt.Fprintf(&b, "| t | etcd db file | payments in the cluster | events | archived | manager RSS | manager peak | receiver peak | etcd peak |\n|---|---|---|---|---|---|---|---|---|\n")
	step := 1
	if len(s.samples) > 30 {
		step = len(s.samples) / 30
	}
	for i, smp := range s.samples {
		if i%step != 0 && i != len(s.samples)-1 {
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %.0f | %d | %s | %s | %s | %s |\n", smp.at, mib(smp.dbBytes), smp.paymentsListed,
			smp.events, smp.archived, mib(smp.managerRSS), mib(smp.managerPeak), mib(smp.receiverPeak), mib(smp.etcdPeak))
	}
	if len(s.samples) > 0 {
		last := s.samples[len(s.samples)-1]
		fmt.Fprintf(&b, "\nArchive rows (payments) = %d of %d created; %d left in the cluster.\n", last.archived, n, last.paymentsListed)
	}
	return b.String()
}
