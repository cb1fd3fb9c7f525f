package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/localsystem"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// baseline is one baseline's measurement.
type baseline struct {
	Name string
	// Units completed (payments, pairs, triples) and the wall time from the
	// first request to the last answer.
	N, Done int
	Wall    time.Duration
	Errors  int
	// Calls made (gateway calls or apiserver writes).
	Calls     int
	CallsDesc string
	// CPU seconds of the processes involved during the baseline.
	CPU map[string]float64
}

func (b baseline) rate() float64 {
	if b.Wall <= 0 {
		return 0
	}
	return float64(b.Done) / b.Wall.Seconds()
}

type baselines struct {
	Direct, ConfigMaps, RawPayments *baseline
}

func runBaselines(ctx context.Context, ls *localsystem.System, c config, op *opResult) (*baselines, error) {
	if c.baselineN > 0 {
		c.n = c.baselineN
	}
	ps := &procSet{}
	ps.add("alipay-sim", ls.Process("alipay-sim").Pid())
	api, etcd := controlPlanePids(ls.Config.Host)
	ps.add("kube-apiserver", api)
	ps.add("etcd", etcd)
	ps.add("bench driver", os.Getpid())
	measure := func(b *baseline, f func() error) error {
		before := ps.sample()
		err := f()
		after := ps.sample()
		b.CPU = map[string]float64{}
		for n, a := range after {
			b.CPU[n] = a.CPUSeconds - before[n].CPUSeconds
		}
		return err
	}

	// The operator's processes are stopped first: nothing but the
	// baselines' own client uses the gateway and the apiserver from here.
	logf("stopping the manager and the notification-receiver for the baselines")
	ls.Process("notification-receiver").Stop(10 * time.Second)
	ls.Process("manager").Stop(10 * time.Second)
	// A fresh simulator (its state is in memory; the keys stay): otherwise
	// it would spend the baselines re-sending notifications that are still
	// queued to the stopped receiver.
	logf("restarting alipay-sim with empty state")
	sim := ls.Process("alipay-sim")
	sim.Stop(10 * time.Second)
	if err := sim.Start(); err != nil {
		return nil, err
	}
	ps.pids["alipay-sim"] = sim.Pid()

	out := &baselines{}
	out.Direct = &baseline{Name: "gateway client called directly"}
	if err := measure(out.Direct, func() error { return directGateway(ctx, ls, c, out.Direct) }); err != nil {
		return nil, err
	}
	logf("  direct gateway: %d payments in %s = %.1f payments/s (%d calls, %d errors)", out.Direct.Done,
		out.Direct.Wall.Round(time.Millisecond), out.Direct.rate(), out.Direct.Calls, out.Direct.Errors)

	out.ConfigMaps = &baseline{Name: "ConfigMap create+update pairs"}
	if err := measure(out.ConfigMaps, func() error { return configMapPairs(ctx, ls.Client, c, out.ConfigMaps) }); err != nil {
		return nil, err
	}
	logf("  ConfigMap pairs: %d in %s = %.1f pairs/s (%d errors)", out.ConfigMaps.Done,
		out.ConfigMaps.Wall.Round(time.Millisecond), out.ConfigMaps.rate(), out.ConfigMaps.Errors)

	out.RawPayments = &baseline{Name: "Payment create + 2 status updates"}
	prof := profileRawWrites(ctx, ls, c)
	if err := measure(out.RawPayments, func() error { return rawPaymentWrites(ctx, ls.Client, c, op, out.RawPayments) }); err != nil {
		return nil, err
	}
	prof()
	logf("  raw Payment writes: %d triples in %s = %.1f triples/s (%d errors), apiserver %.2f ms of CPU per payment (ConfigMap pairs: %.2f ms per pair)",
		out.RawPayments.Done, out.RawPayments.Wall.Round(time.Millisecond), out.RawPayments.rate(), out.RawPayments.Errors,
		perUnitMillis(out.RawPayments, "kube-apiserver"), perUnitMillis(out.ConfigMaps, "kube-apiserver"))
	if sb, err := measureStored(ctx, ls.Config, rawNS, rawName(0), ""); err == nil {
		logf("  one raw Payment as stored: %s", sb)
	}
	return out, nil
}

// fanOut runs f(i) for i in [0,n) on workers goroutines and returns the
// wall time from the first call to the last return.
func fanOut(ctx context.Context, n, workers int, f func(i int)) time.Duration {
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				f(i)
			}
		}()
	}
	start := time.Now()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return time.Since(start)
}

// directGateway is what a merchant without Kubernetes would write with the
// same gateway client: pay, and once the simulator has completed the
// payment (it does so after -auto-complete), one inquiry to learn the
// result (re-asked every 200ms if it is not final yet). Pays run on
// -concurrency workers; inquiries on as many more, each waiting until its
// payment is due. No notifications are sent (no notify URL).
func directGateway(ctx context.Context, ls *localsystem.System, c config, b *baseline) error {
	var sec corev1.Secret
	if err := ls.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "alipay-sim-credentials"}, &sec); err != nil {
		return err
	}
	key, err := gateway.ParsePrivateKey(string(sec.Data[v1.SecretKeyMerchantPrivateKey]))
	if err != nil {
		return err
	}
	pub, err := gateway.ParsePublicKey(string(sec.Data[v1.SecretKeyGatewayPublicKey]))
	if err != nil {
		return err
	}
	gc, err := gateway.New(gateway.Config{Endpoint: ls.SimURL, ClientID: string(sec.Data[v1.SecretKeyClientID]),
		PrivateKey: key, GatewayPublicKey: pub})
	if err != nil {
		return err
	}
	logf("baseline 1: %d wallet payments through the gateway client directly (%d pay workers, %d inquiry workers)", c.n, c.concurrency, c.concurrency)
	type due struct {
		id string
		at time.Time
	}
	queue := make(chan due, c.n)
	var pays, inquiries, errs, done atomic.Int64
	var last atomic.Int64
	run := fmt.Sprintf("%x", time.Now().UnixNano()&0xffffffff)
	var inqWG sync.WaitGroup
	for w := 0; w < c.concurrency; w++ {
		inqWG.Add(1)
		go func() {
			defer inqWG.Done()
			for d := range queue {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(d.at)):
				}
				for tries := 0; tries < 50 && ctx.Err() == nil; tries++ {
					resp, err := gc.InquiryPayment(ctx, &gateway.InquiryPaymentRequest{PaymentID: d.id})
					inquiries.Add(1)
					if err == nil && resp.PaymentStatus == gateway.PaymentStatusSuccess {
						done.Add(1)
						last.Store(time.Now().UnixNano())
						break
					}
					if err != nil {
						errs.Add(1)
					}
					time.Sleep(200 * time.Millisecond)
				}
			}
		}()
	}
	start := time.Now()
	fanOut(ctx, c.n, c.concurrency, func(i int) {
		req := &gateway.PayRequest{ProductCode: gateway.ProductCodeCashierPayment,
			PaymentRequestID: fmt.Sprintf("direct-%s-%06d", run, i),
			PaymentAmount:    gateway.Amount{Currency: "HKD", Value: "1000"},
			PaymentMethod:    gateway.PaymentMethod{PaymentMethodType: "ALIPAY_HK"},
			Env:              &gateway.Env{TerminalType: "WEB"}}
		resp, err := gc.Pay(ctx, req)
		pays.Add(1)
		if err != nil && !gateway.IsInProcess(err) {
			errs.Add(1)
			return
		}
		queue <- due{id: resp.PaymentID, at: time.Now().Add(c.autoComplete)}
	})
	close(queue)
	inqWG.Wait()
	b.N, b.Done, b.Errors = c.n, int(done.Load()), int(errs.Load())
	b.Calls = int(pays.Load() + inquiries.Load())
	b.CallsDesc = fmt.Sprintf("%d pay + %d inquiryPayment", pays.Load(), inquiries.Load())
	if l := last.Load(); l != 0 {
		b.Wall = time.Duration(l - start.UnixNano())
	}
	return nil
}

// configMapPairs creates a ConfigMap and updates it, N times.
func configMapPairs(ctx context.Context, c client.Client, cfg config, b *baseline) error {
	const ns = "bench-configmaps"
	if err := ensureNamespace(ctx, c, ns); err != nil {
		return err
	}
	logf("baseline 2: %d ConfigMap create+update pairs from a plain client, %d workers", cfg.n, cfg.concurrency)
	var errs, done atomic.Int64
	b.Wall = fanOut(ctx, cfg.n, cfg.concurrency, func(i int) {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("cm-%06d", i)},
			Data: map[string]string{"phase": "Processing"}}
		if err := c.Create(ctx, cm); err != nil {
			errs.Add(1)
			return
		}
		cm.Data["phase"] = "Succeeded"
		if err := c.Update(ctx, cm); err != nil {
			errs.Add(1)
			return
		}
		done.Add(1)
	})
	b.N, b.Done, b.Errors = cfg.n, int(done.Load()), int(errs.Load())
	b.Calls, b.CallsDesc = 2*b.Done, "POST + PUT per pair"
	return nil
}

// rawPaymentWrites makes, from a plain client, the same three Payment
// writes the operator's happy path makes (the create, a Processing status
// and a Succeeded status, the statuses copied from a real one) with the
// manager and receiver stopped: the apiserver's ceiling for the operator.
func rawPaymentWrites(ctx context.Context, c client.Client, cfg config, op *opResult, b *baseline) error {
	const ns = rawNS
	if err := ensureNamespace(ctx, c, ns); err != nil {
		return err
	}
	succeeded := op.StatusSample
	if succeeded.Phase == "" {
		succeeded = v1.PaymentStatus{Phase: v1.PaymentSucceeded, GatewayStatus: gateway.PaymentStatusSuccess,
			PaymentID: "202601051100000000000000001", PaymentRequestID: "bench-raw"}
		transition.SetReady(&succeeded.Conditions, 0, true, v1.ReasonSucceeded, "")
	}
	processing := *succeeded.DeepCopy()
	processing.Phase, processing.GatewayStatus, processing.PaymentTime = v1.PaymentProcessing, gateway.PaymentStatusProcessing, nil
	transition.SetReady(&processing.Conditions, 0, false, v1.ReasonProcessing, "waiting for the user to pay")
	logf("baseline 3: %d Payments created and their status written twice from a plain client (manager and receiver stopped), %d workers", cfg.n, cfg.concurrency)
	var errs, done atomic.Int64
	b.Wall = fanOut(ctx, cfg.n, cfg.concurrency, func(i int) {
		p := newPayment(ns, rawName(i))
		if err := c.Create(ctx, p); err != nil {
			errs.Add(1)
			return
		}
		for _, st := range []*v1.PaymentStatus{&processing, &succeeded} {
			st.DeepCopyInto(&p.Status)
			st := &p.Status
			for j := range st.Conditions {
				st.Conditions[j].ObservedGeneration = p.Generation
			}
			if err := c.Status().Update(ctx, p); err != nil {
				errs.Add(1)
				return
			}
		}
		done.Add(1)
	})
	b.N, b.Done, b.Errors = cfg.n, int(done.Load()), int(errs.Load())
	b.Calls, b.CallsDesc = 3*b.Done, "POST + 2 PUT status per payment"
	return nil
}

// profileRawWrites starts the apiserver's own CPU profile for the raw
// Payment writes when -perf is set (the profile that shows where the
// apiserver spends a Payment's three writes) and returns the function that
// waits for it and writes its cumulative top into the same directory.
func profileRawWrites(ctx context.Context, ls *localsystem.System, c config) func() {
	if c.perfDir == "" {
		return func() {}
	}
	path := filepath.Join(c.perfDir, "apiserver-raw-payments.pprof")
	seconds := max(5, min(30, c.n/200))
	logf("apiserver CPU profile of the raw Payment writes for %ds into %s", seconds, path)
	done := apiserverProfile(ctx, ls.Config, seconds, path)
	return func() {
		if err := <-done; err != nil {
			logf("apiserver profile of the raw writes: %v", err)
			return
		}
		out, err := exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount=400", path).Output()
		if err != nil {
			logf("go tool pprof: %v", err)
			return
		}
		_ = os.WriteFile(path+".cum.txt", out, 0o644)
		logf("cumulative top of the raw writes' profile in %s.cum.txt", path)
	}
}

const rawNS = "bench-raw"

func rawName(i int) string { return fmt.Sprintf("raw-%06d", i) }

// perUnitMillis is a process's CPU milliseconds per completed unit of b.
func perUnitMillis(b *baseline, process string) float64 {
	if b == nil || b.Done == 0 {
		return 0
	}
	return b.CPU[process] * 1000 / float64(b.Done)
}
