package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"
)

type machine struct {
	GitHead           string
	NProc             int
	MemTotal          string
	CPUModel          string
	GoVersion, Kernel string
	LoadAvg           string
}

func describeMachine() machine {
	m := machine{NProc: runtime.NumCPU(), GoVersion: runtime.Version()}
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.GitHead = strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
			m.GitHead += " (with uncommitted changes)"
		}
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
				var kb int64
				fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kb)
				m.MemTotal = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	return m
}

func (m machine) oneLine() string {
	return fmt.Sprintf("%d CPUs (%s), %s RAM, %s, Linux %s, load average %s at start", m.NProc, m.CPUModel, m.MemTotal, m.GoVersion, m.Kernel, m.LoadAvg)
}

type results struct {
	cfg     config
	machine machine
	started time.Time
	op      *opResult
	base    *baselines
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func ms(d time.Duration) string {
	if d >= 10*time.Second {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	if d < 10*time.Millisecond {
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}

func passMiss(ok bool) string {
	if ok {
		return "**PASS**"
	}
	return "**MISS**"
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Derived numbers.
func (o *opResult) rate() float64 {
	if o.Wall <= 0 {
		return 0
	}
	return float64(o.Ready) / o.Wall.Seconds()
}

func (o *opResult) per(v float64) float64 {
	if o.N == 0 {
		return 0
	}
	return v / float64(o.N)
}

func total(m map[string]float64) float64 {
	t := 0.0
	for _, v := range m {
		t += v
	}
	return t
}

func (r *results) command() string {
	var args []string
	if r.cfg.n != 10000 {
		args = append(args, fmt.Sprintf("-n %d", r.cfg.n))
	}
	if r.cfg.concurrency != 64 {
		args = append(args, fmt.Sprintf("-concurrency %d", r.cfg.concurrency))
	}
	if r.cfg.autoComplete != time.Second {
		args = append(args, "-auto-complete "+r.cfg.autoComplete.String())
	}
	if r.cfg.managerArgs != "" {
		args = append(args, fmt.Sprintf("-manager-args '%s'", r.cfg.managerArgs))
	}
	if r.cfg.receiverArgs != "" {
		args = append(args, fmt.Sprintf("-receiver-args '%s'", r.cfg.receiverArgs))
	}
	if r.cfg.binDir != "" {
		args = append(args, "-bin-dir "+r.cfg.binDir)
	}
	if r.cfg.perfDir != "" {
		args = append(args, "-perf "+r.cfg.perfDir)
	}
	if r.cfg.skipBaselines {
		args = append(args, "-skip-baselines")
	}
	if r.cfg.retainFor > 0 {
		args = append(args, "-retain-for "+r.cfg.retainFor.String(), "-soak-every "+r.cfg.soakEvery.String())
	}
	if r.cfg.createRate > 0 {
		args = append(args, fmt.Sprintf("-create-rate %g", r.cfg.createRate))
	}
	if r.cfg.section != "main" {
		args = append(args, "-section "+r.cfg.section)
	}
	if r.cfg.out != "" {
		args = append(args, "-out "+r.cfg.out)
	}
	if len(args) == 0 {
		return "make bench"
	}
	return fmt.Sprintf("make bench BENCH_FLAGS=\"%s\"", strings.Join(args, " "))
}

// mdLine writes one line of markdown, fmt.Sprintf style.
type mdLine func(format string, a ...any)

// markdown is the report of a run: what ran where, the targets met or
// missed, the operator run's numbers, the baselines and the CPU profiles.
func (r *results) markdown() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	r.mdSetup(w)
	r.mdTargets(w)
	r.mdOperatorRun(w)
	r.mdProcesses(w)
	if r.base != nil {
		r.mdBaselines(w)
	}
	if r.op.Perf != nil {
		r.mdProfiles(w)
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// mdSetup writes when, the command, the machine, and what the run created.
func (r *results) mdSetup(w mdLine) {
	o := r.op
	w("## Results: %s", r.started.UTC().Format("2006-01-02 15:04 UTC"))
	w("")
	if r.cfg.label != "" {
		w("> %s", r.cfg.label)
		w("")
	}
	w("- Command: `%s` (`go run ./hack/bench`) at commit %s", r.command(), r.machine.GitHead)
	w("- Machine: %d CPUs (`nproc`), %s, CPU `%s`, %s RAM, Linux %s, load average %s when the run started (the machine is shared)",
		r.machine.NProc, r.machine.GoVersion, r.machine.CPUModel, r.machine.MemTotal, r.machine.Kernel, r.machine.LoadAvg)
	mgrArgs := "the defaults (`--max-concurrent-reconciles Payment=8,...`)"
	if r.cfg.managerArgs != "" {
		mgrArgs = "`" + r.cfg.managerArgs + "`"
	}
	rcvArgs := "the defaults"
	if r.cfg.receiverArgs != "" {
		rcvArgs = "`" + r.cfg.receiverArgs + "`"
	}
	w("- N = %d wallet Payments (ALIPAY_HK, HKD %s), created by %d client workers; alipay-sim `--auto-complete %s --time-scale 1`, notifications to the receiver; manager flags: %s; receiver flags: %s",
		o.N, amountValue, r.cfg.concurrency, r.cfg.autoComplete, mgrArgs, rcvArgs)
	w("")
}

// mdTargets writes each speed and cost target, measured, pass or miss.
func (r *results) mdTargets(w mdLine) {
	o := r.op
	gw := total(o.Gateway)
	pw := total(o.PaymentWrites)
	mgrRSS := o.Procs["manager"].HWMBytes
	w("### Targets")
	w("")
	w("| target | measured | result |")
	w("|---|---|---|")
	if o.N >= 10000 {
		w("| 10,000 payments to Ready in ≤ 60 s | %d Ready in %.1f s (%.1f payments/s) | %s |", o.Ready, o.Wall.Seconds(), o.rate(),
			passMiss(o.Ready >= 10000 && o.Wall <= 60*time.Second))
	} else {
		proj := 0.0
		if o.rate() > 0 {
			proj = 10000 / o.rate()
		}
		w("| 10,000 payments to Ready in ≤ 60 s | N = %d only: %d Ready in %.1f s (%.1f payments/s), 10,000 projected at %.0f s | %s (projected) |",
			o.N, o.Ready, o.Wall.Seconds(), o.rate(), proj, passMiss(proj > 0 && proj <= 60))
	}
	w("| ≤ 1.2 gateway calls per payment (notifications on) | %.3f (%s) | %s |", o.per(gw), o.perAPI(), passMiss(o.per(gw) <= 1.2))
	w("| ≤ 3 apiserver writes per wallet payment, the create included | %.3f on payments (%s) | %s |", o.per(pw), o.writesDesc(), passMiss(o.per(pw) <= 3))
	rssNote := ""
	if o.N < 10000 {
		rssNote = fmt.Sprintf(" (with %d objects, not 10,000)", o.N)
	}
	w("| manager peak RSS ≤ 256 MiB with 10,000 objects | %s%s | %s |", mib(mgrRSS), rssNote, passMiss(mgrRSS > 0 && mgrRSS <= 256<<20))
	if row := r.overheadRow(); row != "" {
		w("%s", row)
	}
	if r.cfg.createRate > 0 {
		proc, ready := percentile(o.ToProcessing, .99), percentile(o.ToReady, .99)
		w("| steady state (creates paced at %g/s): create → Processing p99 ≤ 500 ms, create → Ready p99 ≤ 2.5 s | %s / %s | %s |",
			r.cfg.createRate, ms(proc), ms(ready), passMiss(len(o.ToReady) > 0 && proc <= 500*time.Millisecond && ready <= 2500*time.Millisecond))
	}
	w("")
}

// overhead is the operator's own cost per payment beyond what Kubernetes
// charges for the writes themselves: the manager's and the receiver's CPU
// and the apiserver's CPU above the raw baseline (the same create and two
// status writes from a plain client), all per payment.
type overhead struct {
	manager, receiver, apiserverAbove, raw float64 // CPU ms per payment
}

func (x overhead) total() float64 { return x.manager + x.receiver + x.apiserverAbove }

// ratio is the overhead ÷ the raw apiserver cost (target ≤ 0.25).
func (x overhead) ratio() float64 {
	if x.raw <= 0 {
		return 0
	}
	return x.total() / x.raw
}

// operatorOverhead computes the overhead of the run; false without the raw
// baseline.
func (r *results) operatorOverhead() (overhead, bool) {
	if r.base == nil || r.base.RawPayments == nil {
		return overhead{}, false
	}
	o, raw := r.op, r.base.RawPayments
	if raw.Done == 0 || o.N == 0 {
		return overhead{}, false
	}
	per := func(name string) float64 { return 1000 * o.Procs[name].CPUSeconds / float64(o.N) }
	x := overhead{manager: per("manager"), receiver: per("notification-receiver"),
		raw: 1000 * raw.CPU["kube-apiserver"] / float64(raw.Done)}
	x.apiserverAbove = max(0, per("kube-apiserver")-x.raw)
	return x, true
}

// overheadRow is the targets table's row of the operator's own cost.
func (r *results) overheadRow() string {
	x, ok := r.operatorOverhead()
	if !ok {
		return ""
	}
	return fmt.Sprintf("| operator overhead ≤ 0.25 × the raw apiserver cost per payment | **%.2f** × %.2f ms = %.2f ms (manager %.2f + receiver %.2f + apiserver above raw %.2f) | %s |",
		x.ratio(), x.raw, x.total(), x.manager, x.receiver, x.apiserverAbove, passMiss(x.ratio() <= 0.25))
}

// mdOperatorRun writes rates, latencies, calls and writes of the operator run.
func (r *results) mdOperatorRun(w mdLine) {
	o := r.op
	w("### The operator run")
	w("")
	w("| | |")
	w("|---|---|")
	w("| payments Ready / created / failed | %d / %d / %d (create retries: %d) |", o.Ready, o.Created, o.Failed, o.CreateErrors)
	w("| payments/s to Ready (N ÷ (last Ready − first create)) | **%.1f** (%.1f s) |", o.rate(), o.Wall.Seconds())
	if st := o.Stored; st != nil {
		w("| one Succeeded Payment as stored (JSON bytes) | **%d** (%s): %s |", st.Total, st.Name, st)
	}
	if o.CreateWall > 0 {
		w("| creates alone (first create → last create answered) | %.1f s = %.1f creates/s |", o.CreateWall.Seconds(), float64(o.Created)/o.CreateWall.Seconds())
	}
	w("| create → Ready, p50 / p99 / max | %s / %s / %s |", ms(percentile(o.ToReady, .5)), ms(percentile(o.ToReady, .99)), ms(percentile(o.ToReady, 1)))
	w("| create → Processing seen (manager: pay + status write), p50 / p99 | %s / %s |", ms(percentile(o.ToProcessing, .5)), ms(percentile(o.ToProcessing, .99)))
	w("| Processing seen → Ready (%s auto-complete + notification + receiver write), p50 / p99 | %s / %s |", r.cfg.autoComplete,
		ms(percentile(o.ProcessingToReady, .5)), ms(percentile(o.ProcessingToReady, .99)))
	w("| mean latency: gateway call (manager) / receiver apply / apiserver POST payments / PUT payments | %s / %s / %s / %s |",
		ms(o.MeanGatewayCall), ms(o.MeanReceiverApply), ms(o.MeanPaymentPost), ms(o.MeanPaymentPut))
	w("| gateway calls (manager) by API/result | %s |", kv(o.GatewayResults, 0))
	w("| apiserver writes on payments by verb/subresource/code | %s |", kv(o.PaymentWrites, 0))
	w("| apiserver writes, every resource, by resource/verb | %s |", kv(o.AllWrites, 0))
	w("| apiserver reads, every resource, by resource/verb | %s |", kv(o.AllReads, 0))
	w("| receiver notifications by kind/outcome | %s |", kv(o.Receiver, 0))
	w("| payment reconciles by result | %s |", kv(o.ReconcileTotal, 0))
	l := o.Ledger
	if l.Err == "" {
		w("| simulator ledger | %d payment request ids, %d pay calls, %d operations (max %d per id) |", l.PaymentRequestIDs, l.PayCalls, l.Operations, l.MaxOperations)
		w("| simulator notifyPayment | %d sent, %d delivered, %d attempts; queued before first send p50 / p99 / max %s / %s / %s |",
			l.Notifications, l.Delivered, l.Attempts, ms(percentile(l.QueueDelay, .5)), ms(percentile(l.QueueDelay, .99)), ms(percentile(l.QueueDelay, 1)))
	} else {
		w("| simulator ledger | unavailable: %s |", l.Err)
	}
	w("| manager heap in use at the end | %s |", mib(int64(o.ManagerHeap)))
	w("")
}

// mdProcesses writes each process's CPU and memory over the run.
func (r *results) mdProcesses(w mdLine) {
	o := r.op
	w("CPU during the run (first snapshot → closing snapshot, %s after the last Ready) and peak RSS (VmHWM, process lifetime):", r.cfg.settle)
	w("")
	w("| process | CPU s | CPU ms per payment | peak RSS | RSS at end |")
	w("|---|---|---|---|---|")
	for _, n := range []string{"manager", "notification-receiver", "alipay-sim", "kube-apiserver", "etcd", "bench driver"} {
		p, ok := o.Procs[n]
		if !ok {
			continue
		}
		w("| %s | %.1f | %.2f | %s | %s |", n, p.CPUSeconds, 1000*p.CPUSeconds/float64(max(o.N, 1)), mib(p.HWMBytes), mib(p.RSSBytes))
	}
	w("")
}

// mdBaselines writes the same load through simpler paths, and how the operator compares.
func (r *results) mdBaselines(w mdLine) {
	o := r.op
	bs := r.base
	w("### Baselines (same run, same machine, %d workers each)", r.cfg.concurrency)
	w("")
	w("| baseline | completed | wall | rate | calls | CPU s (sim / apiserver / etcd / driver) | operator ÷ baseline |")
	w("|---|---|---|---|---|---|---|")
	for _, x := range []*baseline{bs.Direct, bs.ConfigMaps, bs.RawPayments} {
		if x == nil {
			continue
		}
		unit := "pairs/s"
		switch x {
		case bs.Direct:
			unit = "payments/s"
		case bs.RawPayments:
			unit = "payments/s"
		}
		ratio := 0.0
		if x.rate() > 0 {
			ratio = o.rate() / x.rate()
		}
		w("| %s | %d/%d (%d errors) | %.1f s | **%.1f %s** | %s | %.1f / %.1f / %.1f / %.1f | %.2f |", x.Name, x.Done, x.N, x.Errors, x.Wall.Seconds(),
			x.rate(), unit, x.CallsDesc, x.CPU["alipay-sim"], x.CPU["kube-apiserver"], x.CPU["etcd"], x.CPU["bench driver"], ratio)
	}
	w("")
}

// mdProfiles writes where the CPU went, from perf and the apiserver's pprof.
func (r *results) mdProfiles(w mdLine) {
	p := r.op.Perf
	w("### CPU profiles")
	w("")
	if len(p.ByComm) > 0 {
		w("perf, system-wide, %.0f s, %d samples at 99 Hz per CPU. Share of all CPU samples by process (`swapper` is idle; other names are other users of this shared machine): %s",
			p.Seconds, p.Samples, p.top(p.ByComm, 12))
		w("")
		for _, c := range perfComms {
			if len(p.TopPkgs[c]) == 0 {
				continue
			}
			w("- `%s` self time by Go package: %s", c, p.top(p.TopPkgs[c], 8))
			w("  - hottest functions: %s", p.top(p.TopFuncs[c], 8))
		}
		w("")
	}
	if p.APIServerErr != "" {
		w("kube-apiserver pprof: unavailable: %s", p.APIServerErr)
	} else if len(p.APIServerTop) > 0 {
		w("kube-apiserver's own pprof CPU profile, first %d s of the run: by package (flat) %s", p.APIServerSeconds, p.top(p.APIServerByPkg, 10))
		w("")
		w("- hottest functions (flat): %s", p.top(p.APIServerTop, 10))
	}
	w("")
	w("Raw reports in `%s/`: by-process.txt, functions-<process>.txt (`perf report -i perf.data`), apiserver.pprof (`go tool pprof`).", p.Dir)
	w("")
}

func (o *opResult) perAPI() string {
	var parts []string
	for _, k := range sortedKeys(o.Gateway) {
		parts = append(parts, fmt.Sprintf("%s %.3f", k, o.per(o.Gateway[k])))
	}
	if len(parts) == 0 {
		return "no calls"
	}
	return strings.Join(parts, ", ")
}

func (o *opResult) writesDesc() string {
	byKind := map[string]float64{}
	for k, v := range o.PaymentWrites {
		f := strings.Split(k, "/")
		if len(f) == 3 {
			name := f[0]
			if f[1] != "" {
				name += " " + f[1]
			}
			byKind[name] += v
		}
	}
	var parts []string
	for _, k := range sortedKeys(byKind) {
		parts = append(parts, fmt.Sprintf("%s %.3f", k, o.per(byKind[k])))
	}
	return strings.Join(parts, ", ")
}

func kv(m map[string]float64, minValue float64) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		if m[k] <= minValue {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: %.0f", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func markers(section string) (begin, end string) {
	return "<!-- bench:begin " + section + ": generated by hack/bench -out; edits between these markers are overwritten -->",
		"<!-- bench:end " + section + " -->"
}

// writeReport replaces the generated section of path (or creates the
// file, or appends the section), keeping everything else.
func writeReport(path, section, body string) error {
	begin, end := markers(section)
	block := begin + "\n" + body + end + "\n"
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	s := string(old)
	i, j := strings.Index(s, "<!-- bench:begin "+section+":"), strings.Index(s, end)
	var out string
	switch {
	case i >= 0 && j > i:
		out = s[:i] + block + strings.TrimPrefix(s[j+len(end):], "\n")
	case s == "":
		out = "# Benchmarks\n\n" + block
	default:
		out = strings.TrimRight(s, "\n") + "\n\n" + block
	}
	return os.WriteFile(path, []byte(out), 0o644)
}
