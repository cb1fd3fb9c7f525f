package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/localsystem"
)

const (
	benchNS     = "bench"
	namePrefix  = "bench-"
	amountValue = "10.00"
)

// opResult is what the operator run measured.
type opResult struct {
	N, Created, Ready, Failed int
	CreateErrors              int
	// Wall is first create request → last Ready observed.
	Wall time.Duration
	// CreateWall is first create request → last create answered.
	CreateWall time.Duration
	// Latencies, sorted.
	ToReady, ToProcessing, ProcessingToReady []time.Duration

	Gateway        map[string]float64 // by api
	GatewayResults map[string]float64 // by api/result
	PaymentWrites  map[string]float64 // payments: verb/subresource/code
	AllWrites      map[string]float64 // every resource: resource/verb
	AllReads       map[string]float64 // every resource: resource/verb (GET, LIST, WATCH)
	Receiver       map[string]float64 // kind/outcome
	ManagerHeap    float64            // go_memstats_heap_inuse_bytes at the end
	// Mean latencies from the histograms' _sum/_count deltas.
	MeanGatewayCall, MeanReceiverApply, MeanPaymentPut, MeanPaymentPost time.Duration
	ReconcileTotal                                                      map[string]float64 // controller/result

	Procs        map[string]procDelta
	Ledger       ledgerSummary
	Perf         *perfSummary
	StatusSample v1.PaymentStatus // a Succeeded payment's status (template for the raw baseline)
	Stored       *storedBytes     // the JSON bytes of one Succeeded payment, by part
}

type procDelta struct {
	CPUSeconds float64
	HWMBytes   int64
	RSSBytes   int64
}

type snapshot struct {
	at             time.Time
	api, mgr, recv scrape
	procs          map[string]procSample
	apiErr, mgrErr error
	recvErr        error
}

func takeSnapshot(ctx context.Context, ls *localsystem.System, ps *procSet) snapshot {
	s := snapshot{at: time.Now(), procs: ps.sample()}
	if t, err := ls.APIServerMetrics(ctx); err == nil {
		s.api, s.apiErr = parseProm(t)
	} else {
		s.apiErr = err
	}
	s.mgr, s.mgrErr = scrapeURL(ctx, ls.ManagerMetricsURL)
	s.recv, s.recvErr = scrapeURL(ctx, ls.ReceiverMetricsURL)
	return s
}

func (s snapshot) err() error {
	for _, e := range []error{s.apiErr, s.mgrErr, s.recvErr} {
		if e != nil {
			return e
		}
	}
	return nil
}

// tracker records, per payment, when it was created and first seen
// Processing and Ready. Index i is payment bench-%06d.
type tracker struct {
	createStart, createDone, processing, ready []atomic.Int64
	readyN, failedN, processingN, createdN     atomic.Int64
	failedSeen                                 sync.Map
	sample                                     atomic.Pointer[v1.PaymentStatus]
}

func newTracker(n int) *tracker {
	return &tracker{createStart: make([]atomic.Int64, n), createDone: make([]atomic.Int64, n),
		processing: make([]atomic.Int64, n), ready: make([]atomic.Int64, n)}
}

func paymentName(i int) string { return fmt.Sprintf("%s%06d", namePrefix, i) }

func (t *tracker) index(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, namePrefix)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 || i >= len(t.ready) {
		return 0, false
	}
	return i, true
}

// observe is the watch handler (called from one goroutine).
func (t *tracker) observe(obj any) {
	p, ok := obj.(*v1.Payment)
	if !ok {
		return
	}
	i, ok := t.index(p.Name)
	if !ok {
		return
	}
	now := time.Now().UnixNano()
	ph := p.Status.Phase
	if ph != "" && ph != v1.PaymentPending && t.processing[i].Load() == 0 {
		t.processing[i].Store(now)
		t.processingN.Add(1)
	}
	switch {
	case ph == v1.PaymentSucceeded && meta.IsStatusConditionTrue(p.Status.Conditions, v1.ConditionReady):
		if t.ready[i].CompareAndSwap(0, now) {
			t.readyN.Add(1)
			if t.sample.Load() == nil {
				st := *p.Status.DeepCopy()
				t.sample.Store(&st)
			}
		}
	case ph.IsFinal() && ph != v1.PaymentSucceeded:
		if _, seen := t.failedSeen.LoadOrStore(i, true); !seen {
			t.failedN.Add(1)
		}
	}
}

func newPayment(ns, name string) *v1.Payment {
	return &v1.Payment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1.PaymentSpec{
			GatewayRef:    v1.GatewayReference{Name: "alipay-sim"},
			Amount:        v1.Money{Currency: "HKD", Value: amountValue},
			PaymentMethod: v1.PaymentMethod{Type: "ALIPAY_HK"},
			Env:           v1.TerminalEnv{TerminalType: "WEB"},
		},
	}
}

func ensureNamespace(ctx context.Context, c client.Client, name string) error {
	err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		return err
	}
	return nil
}

// createWithRetry creates obj, retrying transient errors a few times.
func createWithRetry(ctx context.Context, c client.Client, obj client.Object, errs *atomic.Int64) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = c.Create(ctx, obj); err == nil || strings.Contains(err.Error(), "already exists") {
			return nil
		}
		errs.Add(1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(200*(attempt+1)) * time.Millisecond):
		}
	}
	return err
}

func runOperator(ctx context.Context, ls *localsystem.System, c config) (*opResult, error) {
	if err := ensureNamespace(ctx, ls.Client, benchNS); err != nil {
		return nil, err
	}
	ps := benchProcesses(ls)
	t := newTracker(c.n)
	wctx, cancelWatch := context.WithCancel(ctx)
	defer cancelWatch()
	if err := watchPayments(wctx, ls, t); err != nil {
		return nil, err
	}
	before := takeSnapshot(ctx, ls, ps)
	if err := before.err(); err != nil {
		return nil, fmt.Errorf("metrics before: %w", err)
	}
	if c.soak != nil {
		sctx, stopSoak := context.WithCancel(ctx)
		defer stopSoak()
		go c.soak.run(sctx, ls, ps)
	}
	prof := startProfiles(ctx, ls, c)

	logf("creating %d wallet payments (ALIPAY_HK HKD %s) in namespace %s with %d workers", c.n, amountValue, benchNS, c.concurrency)
	cr := startCreating(ctx, ls.Client, c, t)
	waitForPayments(ctx, ls, c, t, cr, before)
	cr.wg.Wait()
	logf("  %5.0fs  created %d/%d, processing %d, ready %d, failed %d (done)", time.Since(cr.start).Seconds(),
		t.createdN.Load(), c.n, t.processingN.Load(), t.readyN.Load(), t.failedN.Load())
	if e := cr.fatal.Load(); e != nil {
		logf("create error: %v", *e)
	}
	if c.soak != nil {
		if err := c.soak.drain(ctx, c.n, c.timeout); err != nil {
			logf("soak: %v", err)
		}
	}
	perfRes := prof.finish()
	select {
	case <-ctx.Done():
	case <-time.After(c.settle):
	}
	after := takeSnapshot(ctx, ls, ps)
	if err := after.err(); err != nil {
		return nil, fmt.Errorf("metrics after: %w", err)
	}

	r := &opResult{N: c.n, Created: int(t.createdN.Load()), Ready: int(t.readyN.Load()), Failed: int(t.failedN.Load()),
		CreateErrors: int(cr.errs.Load()), Perf: perfRes}
	if s := t.sample.Load(); s != nil {
		r.StatusSample = *s
	}
	r.Stored = t.measureStored(ctx, ls, c.storedJSON)
	t.latencies(r)
	r.fillMetrics(before, after)
	r.Ledger = readLedger(ctx, ls.SimURL)
	cancelWatch()
	return r, nil
}

// benchProcesses is every process of the local system whose CPU and memory
// the run reports, the bench driver included.
func benchProcesses(ls *localsystem.System) *procSet {
	ps := &procSet{}
	ps.add("manager", ls.Process("manager").Pid())
	ps.add("notification-receiver", ls.Process("notification-receiver").Pid())
	ps.add("alipay-sim", ls.Process("alipay-sim").Pid())
	apiPid, etcdPid := controlPlanePids(ls.Config.Host)
	ps.add("kube-apiserver", apiPid)
	ps.add("etcd", etcdPid)
	ps.add("bench driver", os.Getpid())
	return ps
}

// watchPayments starts an informer on Payments in the bench namespace that
// feeds t, until ctx ends; it returns once the informer has synced.
func watchPayments(ctx context.Context, ls *localsystem.System, t *tracker) error {
	wc, err := cache.New(ls.Config, cache.Options{Scheme: ls.Client.Scheme(),
		DefaultNamespaces: map[string]cache.Config{benchNS: {}}})
	if err != nil {
		return err
	}
	inf, err := wc.GetInformer(ctx, &v1.Payment{})
	if err != nil {
		return err
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    t.observe,
		UpdateFunc: func(_, n any) { t.observe(n) },
	}); err != nil {
		return err
	}
	go func() { _ = wc.Start(ctx) }()
	if !wc.WaitForCacheSync(ctx) {
		return fmt.Errorf("watch did not sync")
	}
	return nil
}

// profiles are the CPU profiles taken during a run with -perf: perf(1) of
// the whole machine and the kube-apiserver's pprof.
type profiles struct {
	dir        string
	perf       *perfRecorder
	apiProf    <-chan error
	apiSeconds int
}

func startProfiles(ctx context.Context, ls *localsystem.System, c config) *profiles {
	p := &profiles{dir: c.perfDir, apiSeconds: min(30, c.perfSeconds)}
	if c.perfDir == "" {
		return p
	}
	var err error
	if p.perf, err = startPerf(c.perfDir, c.perfSeconds); err != nil {
		logf("perf: %v (continuing without a profile)", err)
	}
	p.apiProf = apiserverProfile(ctx, ls.Config, p.apiSeconds, filepath.Join(c.perfDir, "apiserver.pprof"))
	return p
}

// finish stops perf and waits for the apiserver profile; nil when no
// profile was taken.
func (p *profiles) finish() *perfSummary {
	var res *perfSummary
	if p.perf != nil {
		res = p.perf.stop()
	}
	if p.apiProf == nil {
		return res
	}
	if res == nil {
		res = &perfSummary{Dir: p.dir}
	}
	res.APIServerSeconds = p.apiSeconds
	if err := <-p.apiProf; err != nil {
		res.APIServerErr = err.Error()
	} else if top, err := pprofTop(filepath.Join(p.dir, "apiserver.pprof"), 400); err != nil {
		res.APIServerErr = err.Error()
	} else {
		res.APIServerTop, res.APIServerByPkg = top, byPackage(top)
	}
	return res
}

// creator is the pool of workers creating the bench's payments.
type creator struct {
	start time.Time // when the first payment was handed to a worker
	wg    sync.WaitGroup
	errs  atomic.Int64          // create attempts that failed and were retried
	fatal atomic.Pointer[error] // a create that failed for good
}

// startCreating creates payments 0..c.n-1 with c.concurrency workers,
// recording each create's start and answer in t. With -create-rate the
// creates are paced (a steady arrival rate, as a shop's traffic is) instead
// of as fast as the apiserver takes them.
func startCreating(ctx context.Context, cl client.Client, c config, t *tracker) *creator {
	cr := &creator{}
	jobs := make(chan int)
	for w := 0; w < c.concurrency; w++ {
		cr.wg.Add(1)
		go func() {
			defer cr.wg.Done()
			for i := range jobs {
				p := newPayment(benchNS, paymentName(i))
				t.createStart[i].Store(time.Now().UnixNano())
				if err := createWithRetry(ctx, cl, p, &cr.errs); err != nil {
					cr.fatal.CompareAndSwap(nil, &err)
					continue
				}
				t.createDone[i].Store(time.Now().UnixNano())
				t.createdN.Add(1)
			}
		}()
	}
	cr.start = time.Now()
	go func() {
		defer close(jobs)
		var pace <-chan time.Time
		if c.createRate > 0 {
			tick := time.NewTicker(time.Duration(float64(time.Second) / c.createRate))
			defer tick.Stop()
			pace = tick.C
		}
		for i := 0; i < c.n; i++ {
			if pace != nil {
				select {
				case <-pace:
				case <-ctx.Done():
					return
				}
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	return cr
}

// waitForPayments waits until every payment is Ready or failed (or the
// timeout, or nothing could be created), logging progress every 5s.
func waitForPayments(ctx context.Context, ls *localsystem.System, c config, t *tracker, cr *creator, before snapshot) {
	deadline := cr.start.Add(c.timeout)
	lastPrint, lastScrape, calls := time.Now(), time.Now(), ""
	for {
		done := int(t.readyN.Load() + t.failedN.Load())
		if done >= c.n || time.Now().After(deadline) || ctx.Err() != nil {
			return
		}
		if e := cr.fatal.Load(); e != nil && t.createdN.Load()+int64(done) == 0 {
			return
		}
		if time.Since(lastPrint) >= 5*time.Second {
			lastPrint = time.Now()
			// The manager's /metrics is read at most every 15s, as a
			// Prometheus would: each scrape lists every object from its
			// cache (cashier_objects), which is not free.
			if time.Since(lastScrape) >= 15*time.Second {
				lastScrape = time.Now()
				if m, err := scrapeURL(ctx, ls.ManagerMetricsURL); err == nil {
					calls = fmt.Sprintf(", gateway calls %.0f", m.get("cashier_gateway_requests_total")-before.mgr.get("cashier_gateway_requests_total"))
				}
			}
			logf("  %5.0fs  created %d/%d, processing %d, ready %d, failed %d%s", time.Since(cr.start).Seconds(),
				t.createdN.Load(), c.n, t.processingN.Load(), t.readyN.Load(), t.failedN.Load(), calls)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// latencies fills r's per-payment latencies (sorted) and wall times from
// what t recorded.
func (t *tracker) latencies(r *opResult) {
	var first, lastReady, lastCreated int64
	for i := 0; i < r.N; i++ {
		cs, cd, pr, rd := t.createStart[i].Load(), t.createDone[i].Load(), t.processing[i].Load(), t.ready[i].Load()
		if cs != 0 && (first == 0 || cs < first) {
			first = cs
		}
		if cd > lastCreated {
			lastCreated = cd
		}
		if rd > lastReady {
			lastReady = rd
		}
		if cs != 0 && rd != 0 {
			r.ToReady = append(r.ToReady, time.Duration(rd-cs))
		}
		if cs != 0 && pr != 0 {
			r.ToProcessing = append(r.ToProcessing, time.Duration(pr-cs))
		}
		if pr != 0 && rd != 0 {
			r.ProcessingToReady = append(r.ProcessingToReady, time.Duration(rd-pr))
		}
	}
	for _, l := range [][]time.Duration{r.ToReady, r.ToProcessing, r.ProcessingToReady} {
		sort.Slice(l, func(a, b int) bool { return l[a] < l[b] })
	}
	if first != 0 && lastReady != 0 {
		r.Wall = time.Duration(lastReady - first)
	}
	if first != 0 && lastCreated != 0 {
		r.CreateWall = time.Duration(lastCreated - first)
	}
}

// fillMetrics fills r from the metrics' change between two snapshots:
// gateway calls, reconciles, apiserver writes, mean latencies, and each
// process's CPU and memory.
func (r *opResult) fillMetrics(before, after snapshot) {
	mgr := delta(before.mgr, after.mgr)
	r.Gateway = mgr.by("cashier_gateway_requests_total", nil, "api")
	r.GatewayResults = mgr.by("cashier_gateway_requests_total", nil, "api", "result")
	r.ReconcileTotal = mgr.by("controller_runtime_reconcile_total", func(l map[string]string) bool { return l["controller"] == "payment" }, "controller", "result")
	r.ManagerHeap = after.mgr.get("go_memstats_heap_inuse_bytes")
	api := delta(before.api, after.api)
	isWrite := func(l map[string]string) bool {
		switch l["verb"] {
		case "POST", "PUT", "PATCH", "DELETE", "APPLY":
			return true
		}
		return false
	}
	r.PaymentWrites = api.by("apiserver_request_total", func(l map[string]string) bool {
		return isWrite(l) && l["resource"] == "payments"
	}, "verb", "subresource", "code")
	r.AllWrites = api.by("apiserver_request_total", isWrite, "resource", "verb")
	r.AllReads = api.by("apiserver_request_total", func(l map[string]string) bool { return !isWrite(l) }, "resource", "verb")
	recv := delta(before.recv, after.recv)
	r.MeanGatewayCall = meanOf(mgr, "cashier_gateway_request_duration_seconds", nil)
	r.MeanReceiverApply = meanOf(recv, "cashier_receiver_apply_duration_seconds", nil)
	r.MeanPaymentPut = meanOf(api, "apiserver_request_duration_seconds", func(l map[string]string) bool {
		return l["resource"] == "payments" && l["verb"] == "PUT"
	})
	r.MeanPaymentPost = meanOf(api, "apiserver_request_duration_seconds", func(l map[string]string) bool {
		return l["resource"] == "payments" && l["verb"] == "POST"
	})
	r.Receiver = recv.by("cashier_receiver_notifications_total", nil, "kind", "outcome")
	r.Procs = map[string]procDelta{}
	for name, a := range after.procs {
		b := before.procs[name]
		r.Procs[name] = procDelta{CPUSeconds: a.CPUSeconds - b.CPUSeconds, HWMBytes: a.HWMBytes, RSSBytes: a.RSSBytes}
	}
}

// meanOf is a histogram's mean from its _sum and _count series.
func meanOf(s scrape, name string, match func(map[string]string) bool) time.Duration {
	n := s.sum(name+"_count", match)
	if n == 0 {
		return 0
	}
	return time.Duration(s.sum(name+"_sum", match) / n * float64(time.Second))
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

// measureStored measures the first payment that became Ready (nil if none
// did, or if the read failed: logged).
func (t *tracker) measureStored(ctx context.Context, ls *localsystem.System, dump string) *storedBytes {
	for i := range t.ready {
		if t.ready[i].Load() == 0 {
			continue
		}
		sb, err := measureStored(ctx, ls.Config, benchNS, paymentName(i), dump)
		if err != nil {
			logf("stored bytes not measured: %v", err)
		}
		return sb
	}
	return nil
}
