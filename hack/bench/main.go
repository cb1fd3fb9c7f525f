// Command bench measures the operator's throughput end to end (make bench):
// the whole system runs locally as processes (internal/localsystem: a real
// etcd + kube-apiserver, alipay-sim completing payments by itself after
// -auto-complete, the manager and the notification-receiver), N wallet
// Payments are created by -concurrency workers through a plain client, and
// a watch records when each one is first seen Ready (phase Succeeded).
//
// It reports payments/s to Ready, create→Ready latency, gateway calls per
// payment (the manager's cashier_gateway_requests_total), apiserver writes
// per payment (the apiserver's apiserver_request_total), CPU and peak RSS
// of every process, and compares with two baselines measured in the same
// run on the same machine: the gateway client called directly (Pay, then
// one InquiryPayment after the simulator completed the payment) and the
// apiserver's raw write ceiling (ConfigMap create+update pairs, and the
// same three Payment writes the operator makes, from a plain client with
// the manager and receiver stopped). Targets are checked and printed as
// PASS or MISS.
//
// -out docs/benchmarks.md rewrites the generated section of that file
// (between the bench:begin and bench:end markers) and keeps the rest.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/cashier-operator/cashier-operator/internal/localsystem"
)

type config struct {
	n, concurrency int
	timeout        time.Duration
	out            string
	skipBaselines  bool
	autoComplete   time.Duration
	managerArgs    string
	receiverArgs   string
	perfDir        string
	cpuProfile     string
	settle         time.Duration
	keepLogs       bool
	binDir         string
	section        string
	label          string
	perfSeconds    int
	retainFor      time.Duration
	soakEvery      time.Duration
	storedJSON     string
	baselineN      int
	createRate     float64
	soak           *soak
}

func main() {
	var c config
	flag.IntVar(&c.n, "n", 10000, "payments to create")
	flag.IntVar(&c.concurrency, "concurrency", 64, "client workers creating payments (and running each baseline)")
	flag.DurationVar(&c.timeout, "timeout", 20*time.Minute, "how long the payments may take to become Ready")
	flag.StringVar(&c.out, "out", "", "write the results into this markdown file (e.g. docs/benchmarks.md); default: print only")
	flag.BoolVar(&c.skipBaselines, "skip-baselines", false, "skip the direct-gateway and raw-apiserver baselines")
	flag.DurationVar(&c.autoComplete, "auto-complete", time.Second, "alipay-sim --auto-complete: simulated (= wall, time scale 1) time after which it completes a payment")
	flag.StringVar(&c.managerArgs, "manager-args", "", "extra manager flags, space-separated (e.g. --max-concurrent-reconciles=Payment=32)")
	flag.StringVar(&c.receiverArgs, "receiver-args", "", "extra notification-receiver flags, space-separated (e.g. --events=warnings)")
	flag.StringVar(&c.perfDir, "perf", "", "record a system-wide CPU profile with perf(1), and the apiserver's own pprof CPU profile, during the operator run into this directory")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write the driver's own Go CPU profile here")
	flag.DurationVar(&c.settle, "settle", 3*time.Second, "wait after the last Ready before the closing metrics snapshot")
	flag.BoolVar(&c.keepLogs, "keep-logs", false, "keep the processes' logs (the work directory is printed)")
	flag.StringVar(&c.section, "section", "main", "name of the generated section of -out to replace (several runs can live in one file)")
	flag.StringVar(&c.label, "label", "", "a note printed under the section's heading (e.g. what differs from the committed tree)")
	flag.IntVar(&c.perfSeconds, "perf-seconds", 60, "with -perf: how long perf records from the first create (the apiserver profile takes at most 30s)")
	flag.StringVar(&c.binDir, "bin-dir", "", "directory of the manager, notification-receiver and alipay-sim binaries (default bin/)")
	flag.DurationVar(&c.retainFor, "retain-for", 0, "retention soak: archive to a local PostgreSQL and delete payments this long after they finish; samples etcd, RSS and archive rows until all are archived")
	flag.DurationVar(&c.soakEvery, "soak-every", 10*time.Second, "with -retain-for: how often to sample")
	flag.Float64Var(&c.createRate, "create-rate", 0, "create payments at this steady rate per second (default: as fast as the workers can); a soak below the system's throughput shows the steady state")
	flag.IntVar(&c.baselineN, "baseline-n", 0, "units for each baseline (default -n): e.g. -n 100 -baseline-n 3000 measures the apiserver's cost of raw Payment writes quickly")
	flag.StringVar(&c.storedJSON, "stored-json", "", "write one Succeeded Payment, as the apiserver stores it (JSON), to this file")
	flag.Parse()
	ctrllog.SetLogger(logr.Discard()) // the driver's own watch logs nothing
	if c.n < 1 || c.concurrency < 1 {
		fmt.Fprintln(os.Stderr, "bench: -n and -concurrency must be positive")
		os.Exit(2)
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func logf(format string, a ...any) {
	fmt.Printf("%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
}

func run(c config) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	machine := describeMachine()
	logf("machine: %s", machine.oneLine())

	opts := localsystem.Options{
		Root:     root,
		BinDir:   c.binDir,
		KeepWork: c.keepLogs,
		SimArgs:  []string{"--auto-complete", c.autoComplete.String(), "--time-scale", "1"},
		Log:      func(format string, a ...any) { logf(strings.TrimLeft(format, " "), a...) },
	}
	opts.ManagerArgs = strings.Fields(c.managerArgs)
	opts.ReceiverArgs = strings.Fields(c.receiverArgs)
	if c.retainFor > 0 {
		if c.soak, err = startSoak(ctx, c.retainFor, c.soakEvery); err != nil {
			return err
		}
		defer c.soak.stop()
		opts.Gateway = c.soak.gateway
	}
	ls, err := localsystem.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer ls.Stop()
	if c.soak != nil {
		if err := c.soak.createSecret(ctx, ls.Client); err != nil {
			return err
		}
	}

	res := &results{cfg: c, machine: machine, started: time.Now()}
	if res.op, err = runOperator(ctx, ls, c); err != nil {
		return fmt.Errorf("operator run: %w", err)
	}
	if !c.skipBaselines && ctx.Err() == nil {
		if res.base, err = runBaselines(ctx, ls, c, res.op); err != nil {
			return fmt.Errorf("baselines: %w", err)
		}
	}
	report := res.markdown()
	if c.soak != nil {
		report += "\n" + c.soak.markdown(c.n)
	}
	fmt.Println()
	fmt.Println(report)
	if c.out != "" {
		if err := writeReport(c.out, c.section, report); err != nil {
			return err
		}
		logf("wrote %s", c.out)
	}
	if res.op.Ready < c.n {
		return errors.New("not every payment became Ready")
	}
	return nil
}
