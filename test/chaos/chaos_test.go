package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/gatewaysim"
	"github.com/cashier-operator/cashier-operator/internal/localsystem"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	ns       = "default"
	clientID = "SANDBOX_CHAOS0001"
	gwcName  = "alipay-sim"
)

// TestChaos is the suite (see the package documentation).
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("the chaos suite runs the whole system; skipped with -short")
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test` / `make test-chaos`, or point it at hack/control-plane.sh's directory")
	}
	prof, seed := loadProfile(t), loadSeed(t)
	plans := makePlan(seed, prof.payments)
	if err := checkPlan(plans); err != nil {
		t.Fatalf("the plan of seed %d is inconsistent: %v", seed, err)
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), prof.timeout)
	defer cancel()
	durations := map[string]time.Duration{}
	mark := func(name string, since time.Time) { durations[name] = time.Since(since).Round(100 * time.Millisecond) }

	ls, api := startSystem(ctx, t, seed)
	mark("build and start", began)
	// Every refund and capture passes the MoneyPolicy on its way (its
	// decision, the uncached sibling list, the audit), under the faults too:
	// exactly-once must hold with policies on.
	if err := ls.Client.Create(ctx, chaosPolicy()); err != nil {
		t.Fatal(err)
	}
	sim := newSimClient(ls.SimURL)
	// Customs is quick; ALIPAY_CN payments are completed by the simulator
	// (amount magic declines some); wallets are paid by the driver.
	if err := sim.setBehavior(ctx, gatewaysim.Behavior{DeclarationStep: gatewaysim.Duration(2 * time.Second),
		AutoComplete: gatewaysim.AutoComplete{After: gatewaysim.Duration(3 * time.Second), Methods: []string{"ALIPAY_CN"}}}); err != nil {
		t.Fatal(err)
	}

	wctx, stopWorld := context.WithCancel(ctx)
	w := newWorld(ls.Client, ns)
	var worldDone sync.WaitGroup
	worldDone.Add(1)
	go func() { defer worldDone.Done(); w.run(wctx, 500*time.Millisecond) }()
	defer worldDone.Wait()
	defer stopWorld()

	t.Logf("profile %s, seed %d: %d payments, %d objects; faults %+v", prof.name, seed, len(plans), countObjects(plans), prof.faults)

	// ---- drive under faults and kills -----------------------------------------
	d := &driver{c: ls.Client, ns: ns, gwc: gwcName, sim: sim, w: w, prof: prof, logf: t.Logf}
	chaos := &chaosRunner{ls: ls, api: api, logf: t.Logf, done: map[string]int{}}
	t0 := time.Now()
	driveErrs := driveUnderFaults(ctx, t, d, chaos, seed, plans)
	mark("drive (faults on)", t0)
	checkDrive(ctx, t, d, chaos, driveErrs, plans)

	// ---- converge with the faults off -----------------------------------------
	t0 = time.Now()
	final := converge(ctx, t, w, prof, plans)
	mark("settle (faults off)", t0)
	checkFaultsWereReal(ctx, t, ls, sim, prof)

	// ---- exactly once: the simulator's ledger --------------------------------
	ledger := checkLedger(ctx, t, sim, final, plans)
	if t.Failed() {
		summary(t, prof, seed, plans, final, ledger, chaos, d, nil, durations, began, ls)
		return
	}

	// ---- forged notifications change nothing ---------------------------------
	t0 = time.Now()
	fs := forgeAll(ctx, t, ls, sim, prof, plans)
	mark("forgeries", t0)

	// ---- deterministic regressions of bugs the suite found ----------------------
	t0 = time.Now()
	t.Run("notified refund counts in its payment", func(t *testing.T) { notifiedRefundCountsInPayment(ctx, t, ls) })
	t.Run("full refund recorded on its payment", func(t *testing.T) { fullRefundRecorded(ctx, t, ls) })
	mark("regressions", t0)

	summary(t, prof, seed, plans, final, ledger, chaos, d, fs, durations, began, ls)
}

// driveUnderFaults turns the profile's faults on and plays every payment's
// script, in waves, while the chaos runner kills and restarts processes on
// its schedule; it returns the scripts' errors, sorted.
func driveUnderFaults(ctx context.Context, t *testing.T, d *driver, chaos *chaosRunner, seed uint64, plans []*paymentPlan) []string {
	prof := d.prof
	if err := d.sim.setFaults(ctx, prof.faults); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	chaosDone := make(chan struct{})
	go func() { defer close(chaosDone); chaos.run(ctx, t0, schedule(seed, prof)) }()
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var driveErrs []string
	for i, p := range plans {
		if i > 0 && i%prof.waveSize == 0 {
			// The load comes in waves (time-based by design: this is the
			// shape of the traffic, not a synchronisation).
			select {
			case <-ctx.Done():
			case <-time.After(prof.waveGap):
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.run(ctx, p); err != nil {
				errMu.Lock()
				driveErrs = append(driveErrs, fmt.Sprintf("%s: %v", p.Name, err))
				errMu.Unlock()
			}
		}()
	}
	wg.Wait()
	<-chaosDone
	sort.Strings(driveErrs)
	return driveErrs
}

// checkDrive turns the faults off and reports what went wrong while driving:
// the chaos runner's errors and restarts not done as planned, the scripts'
// errors, and deletions mid-flight not done as planned.
func checkDrive(ctx context.Context, t *testing.T, d *driver, chaos *chaosRunner, driveErrs []string, plans []*paymentPlan) {
	prof := d.prof
	if err := d.sim.faultsOff(ctx); err != nil {
		t.Fatal(err)
	}
	for _, e := range chaos.errs {
		t.Errorf("chaos: %v", e)
	}
	want := map[string]int{"manager": prof.managerKills, "notification-receiver": prof.receiverKills, "kube-apiserver": prof.apiserverRestarts}
	for k, n := range want {
		if chaos.done[k] != n {
			t.Errorf("chaos: %d restarts of %s done, %d planned", chaos.done[k], k, n)
		}
	}
	for _, e := range driveErrs {
		t.Errorf("script of payment %s", e)
	}
	if planned := countReapplied(plans); len(driveErrs) == 0 && (planned == 0 || d.reapplied.Load() != int64(planned)) {
		t.Errorf("%d objects deleted and applied again mid-flight, %d planned (want some)", d.reapplied.Load(), planned)
	}
}

// converge waits, faults off, until every object is in its final state (30s
// only when the test has failed already: report, do not wait for what cannot
// come); it returns the last snapshot seen.
func converge(ctx context.Context, t *testing.T, w *world, prof profile, plans []*paymentPlan) *snapshot {
	var final *snapshot
	settleTimeout := prof.settleTimeout
	if t.Failed() {
		settleTimeout = 30 * time.Second
	}
	err := w.wait(ctx, settleTimeout, "every object in its final state", func(s *snapshot) (bool, string, error) {
		final = s
		bad := settled(s, plans)
		if len(bad) == 0 {
			return true, "", nil
		}
		if len(bad) > 40 {
			bad = append(bad[:40], fmt.Sprintf("... and %d more", len(bad)-40))
		}
		return false, fmt.Sprintf("%d objects are not final:\n  %s", len(bad), strings.Join(bad, "\n  ")), nil
	})
	if err != nil {
		t.Error(err)
	}
	return final
}

// checkLedger reads the simulator's ledger and reports its problems (the
// first 60) against the final snapshot and the plan.
func checkLedger(ctx context.Context, t *testing.T, sim *simClient, final *snapshot, plans []*paymentPlan) gatewaysim.Ledger {
	ledger, err := sim.ledger(ctx)
	if err != nil {
		t.Fatal(err)
	}
	problems := verifyLedger(ledger, final, plans)
	for i, p := range problems {
		if i == 60 {
			t.Errorf("... and %d more ledger problems", len(problems)-60)
			break
		}
		t.Errorf("ledger: %s", p)
	}
	return ledger
}

// checkFaultsWereReal: no process exited on its own, and the simulator
// injected the faults (every kind of them in the full profile).
func checkFaultsWereReal(ctx context.Context, t *testing.T, ls *localsystem.System, sim *simClient, prof profile) {
	for _, name := range []string{"alipay-sim", "manager", "notification-receiver"} {
		if p := ls.Process(name); syscall.Kill(p.Pid(), 0) != nil {
			t.Errorf("%s (pid %d) exited on its own; see %s", name, p.Pid(), p.LogPath())
		}
	}
	apiF, notifyF := faultCounts(ctx, ls, sim)
	if len(apiF) == 0 || notifyF["dropped"]+notifyF["duplicate"]+notifyF["reordered"]+notifyF["delayed"] == 0 {
		t.Errorf("the simulator injected too few faults: API %v, notifications %v", apiF, notifyF)
	}
	if prof.name != "full" {
		return
	}
	for _, k := range []string{"unknownException", "serverError", "responseLost", "rateLimit"} {
		if apiF[k] == 0 {
			t.Errorf("no %s fault was injected: %v", k, apiF)
		}
	}
	for _, k := range []string{"dropped", "duplicate", "reordered", "delayed"} {
		if notifyF[k] == 0 {
			t.Errorf("no %s notification fault was injected: %v", k, notifyF)
		}
	}
}

// startSystem builds the binaries from the working tree (so the suite
// always tests the current code) and starts the whole system. Cleanup
// stops it; when the test failed the process logs are kept.
func startSystem(ctx context.Context, t *testing.T, seed uint64) (*localsystem.System, *apiServer) {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin+string(filepath.Separator), "./cmd/...")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/...: %v\n%s", err, out)
	}
	ls, err := localsystem.Start(ctx, localsystem.Options{
		Root: root, BinDir: bin, Namespace: ns, ClientID: clientID, GatewayConfig: gwcName,
		SimArgs: []string{"--seed", fmt.Sprint(seed)},
		Log:     func(format string, a ...any) { t.Logf(strings.TrimSpace(format), a...) },
	})
	if err != nil {
		t.Fatal(err)
	}
	api := &apiServer{ls: ls, dir: ls.Work}
	t.Cleanup(ls.Stop)
	t.Cleanup(func() {
		if api.replaced() {
			// envtest stops only the kube-apiserver it started: stop the
			// clients while ours still answers, then ours.
			ls.Process("notification-receiver").Stop(10 * time.Second)
			ls.Process("manager").Stop(10 * time.Second)
			api.stop()
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			keepLogs(t, ls)
		}
	})
	return ls, api
}

// forgeStats counts the forgeries by variant and answer.
type forgeStats struct {
	forged, refused, controls int
	byStatus                  map[int]int
}

// forgeAll sends the forged variants of real notifications and checks
// that each is refused and that no object changed.
func forgeAll(ctx context.Context, t *testing.T, ls *localsystem.System, sim *simClient, prof profile, plans []*paymentPlan) *forgeStats {
	t.Helper()
	notes, err := sim.notifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	picks := pickNotifications(notes, prof.forgeFrom)
	if len(picks) < prof.forgeFrom {
		t.Errorf("only %d delivered notifications to forge from, want %d", len(picks), prof.forgeFrom)
	}
	f := newForger(t, ls)
	routes := notifyRoutes(plans)

	// Only the receiver may write while the forgeries are sent: the
	// manager is stopped (its own retries and polls would change objects
	// legitimately), and started again afterwards.
	manager := ls.Process("manager")
	manager.Stop(10 * time.Second)
	defer func() {
		if err := manager.Start(); err != nil {
			t.Errorf("restart the manager after the forgeries: %v", err)
		}
	}()
	before, err := resourceVersions(ctx, ls.Client, ns)
	if err != nil {
		t.Fatal(err)
	}
	st := &forgeStats{byStatus: map[int]int{}}
	for _, n := range picks {
		same, other := routes.payments, routes.refunds
		if strings.HasPrefix(n.path, "/notify/refund/") {
			same, other = routes.refunds, routes.payments
		}
		f.sendVariants(ctx, t, st, n, f.variants(n, another(same, n.path), other[0]))
	}
	after, err := resourceVersions(ctx, ls.Client, ns)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffVersions(before, after) {
		t.Errorf("changed while only forged and duplicate notifications were sent (the manager was stopped): %s", d)
	}
	if st.forged < 100 {
		t.Errorf("only %d forged notifications sent, want at least 100", st.forged)
	}
	return st
}

// newForger signs with the simulator's own gateway key (read from its keys
// directory) and with a key of nobody's.
func newForger(t *testing.T, ls *localsystem.System) *forger {
	keyText, err := os.ReadFile(filepath.Join(ls.Work, "sim-keys", "gateway_private_key.txt"))
	if err != nil {
		t.Fatal(err)
	}
	gwKey, err := gateway.ParsePrivateKey(string(keyText))
	if err != nil {
		t.Fatal(err)
	}
	evil, err := gateway.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &forger{base: ls.ReceiverURL, clientID: clientID, gw: gwKey, evil: evil, hc: &http.Client{Timeout: 30 * time.Second}}
}

// routeSet is the receiver's notification routes of the plan's objects, sorted.
type routeSet struct{ payments, refunds []string }

func notifyRoutes(plans []*paymentPlan) routeSet {
	var rs routeSet
	for _, p := range plans {
		rs.payments = append(rs.payments, "/notify/payment/"+ns+"/"+p.Name)
		for _, r := range p.Refunds {
			rs.refunds = append(rs.refunds, "/notify/refund/"+ns+"/"+r.Name)
		}
	}
	sort.Strings(rs.payments)
	sort.Strings(rs.refunds)
	return rs
}

// another is the route after path in the sorted routes (wrapping): the
// route of another object of the same kind.
func another(routes []string, path string) string {
	i := sort.SearchStrings(routes, path)
	return routes[(i+1)%len(routes)]
}

// sendVariants sends one notification's variants: the first, the control,
// must be acknowledged; every forgery must be refused with its documented
// status.
func (f *forger) sendVariants(ctx context.Context, t *testing.T, st *forgeStats, n realNotif, variants []forgery) {
	control := variants[0]
	for _, fg := range variants {
		status, acked, err := f.send(ctx, fg)
		if err != nil {
			t.Errorf("%s %s (%s): %v", n.kind, n.path, fg.variant, err)
			continue
		}
		st.byStatus[status]++
		if fg.want == http.StatusOK {
			st.controls++
			if !acked {
				t.Errorf("control: the authentic re-signed %s on %s was not acknowledged (HTTP %d)", n.kind, n.path, status)
			}
			continue
		}
		st.forged++
		if fingerprint(fg) == fingerprint(control) {
			t.Errorf("harness: forgery %q of %s is the authentic request", fg.variant, n.path)
		}
		if !acked {
			st.refused++
		}
		if acked {
			t.Errorf("FORGERY ACCEPTED: %s %s (%s) was acknowledged", n.kind, n.path, fg.variant)
		} else if status != fg.want {
			t.Errorf("%s %s (%s): HTTP %d, documented %d", n.kind, n.path, fg.variant, status, fg.want)
		}
	}
}

// faultCounts counts the API faults alipay-sim logged and the notification
// attempts it faulted ("unacknowledged" counts the attempts without a fault
// that got no acknowledgement: the receiver was down or refused).
func faultCounts(ctx context.Context, ls *localsystem.System, sim *simClient) (api, notify map[string]int) {
	api = apiFaults(ls.Process("alipay-sim").LogPath())
	notify = map[string]int{}
	notes, err := sim.notifications(ctx)
	if err != nil {
		return api, notify
	}
	for _, n := range notes {
		for _, a := range n.Attempts {
			switch {
			case a.Fault != "":
				notify[a.Fault]++
			case !a.Acked:
				notify["unacknowledged"]++
			}
		}
	}
	return api, notify
}

// fingerprint is everything of a request the receiver may look at.
func fingerprint(fg forgery) string {
	h := fg.header
	return strings.Join([]string{fg.method, fg.path, h.Get(gateway.HeaderContentType), h.Get(gateway.HeaderClientID),
		h.Get(gateway.HeaderRequestTime), h.Get(gateway.HeaderSignature), string(fg.body)}, "\x00")
}

// countReapplied counts the objects the plan deletes and applies again.
func countReapplied(plans []*paymentPlan) int {
	n := 0
	for _, p := range plans {
		if p.Reapply {
			n++
		}
		for _, l := range [][]opPlan{p.Captures, p.Refunds, p.Declarations} {
			for _, o := range l {
				if o.Reapply {
					n++
				}
			}
		}
	}
	return n
}

func countObjects(plans []*paymentPlan) int {
	n := 0
	for _, p := range plans {
		n += 1 + len(p.Captures) + len(p.Refunds) + len(p.Declarations)
	}
	return n
}

// checkPlan guards the plan generator: sums within limits, no magic amounts
// where success is expected.
func checkPlan(plans []*paymentPlan) error {
	for _, p := range plans {
		capSum, _ := sumOps(p.Captures, v1.OperationSucceeded)
		refSum, _ := sumOps(p.Refunds, v1.OperationSucceeded)
		dclSum, _ := sumOps(p.Declarations, v1.OperationSucceeded)
		paid := p.received()
		switch {
		case !p.Declined && magic(p.Amount):
			return fmt.Errorf("%s: magic amount %d", p.Name, p.Amount)
		case capSum > p.Amount, refSum > paid, dclSum > p.Amount:
			return fmt.Errorf("%s: captures %d, refunds %d, declarations %d exceed amount %d / paid %d", p.Name, capSum, refSum, dclSum, p.Amount, paid)
		}
		for _, ops := range [][]opPlan{p.Captures, p.Refunds, p.Declarations} {
			for _, o := range ops {
				if o.Expect == v1.OperationSucceeded && (o.Amount <= 0 || magic(o.Amount)) {
					return fmt.Errorf("%s: bad amount %d", o.Name, o.Amount)
				}
			}
		}
	}
	return nil
}

// keepLogs copies the processes' logs somewhere that outlives the test.
func keepLogs(t *testing.T, ls *localsystem.System) {
	dir, err := os.MkdirTemp("", "cashier-chaos-logs-")
	if err != nil {
		t.Logf("keep logs: %v", err)
		return
	}
	logs, _ := filepath.Glob(filepath.Join(ls.Work, "*.log"))
	for _, l := range logs {
		if b, err := os.ReadFile(l); err == nil {
			_ = os.WriteFile(filepath.Join(dir, filepath.Base(l)), b, 0o644)
		}
	}
	for file, args := range map[string][]string{
		"objects.yaml": {"--request-timeout=20s", "get", "payments,captures,refunds,customsdeclarations", "-n", ns, "-o", "yaml"},
		"events.txt":   {"--request-timeout=20s", "get", "events", "-n", ns, "--sort-by=.lastTimestamp", "-o", "wide"},
	} {
		out, _ := ls.KubectlRun(args...)
		_ = os.WriteFile(filepath.Join(dir, file), []byte(out), 0o644)
	}
	if notes, err := newSimClient(ls.SimURL).notifications(context.Background()); err == nil {
		b, _ := json.MarshalIndent(notes, "", "  ")
		_ = os.WriteFile(filepath.Join(dir, "notifications.json"), b, 0o644)
	}
	if l, err := newSimClient(ls.SimURL).ledger(context.Background()); err == nil {
		b, _ := json.MarshalIndent(l, "", "  ")
		_ = os.WriteFile(filepath.Join(dir, "ledger.json"), b, 0o644)
	}
	t.Logf("process logs kept in %s", dir)
}

// summary prints what happened.
func summary(t *testing.T, prof profile, seed uint64, plans []*paymentPlan, s *snapshot, l gatewaysim.Ledger,
	chaos *chaosRunner, d *driver, fs *forgeStats, durations map[string]time.Duration, began time.Time, ls *localsystem.System) {
	var b strings.Builder
	fmt.Fprintf(&b, "chaos summary (profile %s, seed %d)\n", prof.name, seed)
	if s != nil {
		phases := map[string]map[string]int{}
		count := func(kind, phase string) {
			if phases[kind] == nil {
				phases[kind] = map[string]int{}
			}
			phases[kind][phase]++
		}
		for _, o := range s.payments {
			count("Payment", string(o.Status.Phase))
		}
		for _, o := range s.captures {
			count("Capture", string(o.Status.Phase))
		}
		for _, o := range s.refunds {
			count("Refund", string(o.Status.Phase))
		}
		for _, o := range s.declarations {
			count("CustomsDeclaration", string(o.Status.Phase))
		}
		b.WriteString("  objects by phase:\n")
		for _, kind := range []string{"Payment", "Capture", "Refund", "CustomsDeclaration"} {
			var parts []string
			for ph, n := range phases[kind] {
				parts = append(parts, fmt.Sprintf("%s %d", ph, n))
			}
			sort.Strings(parts)
			fmt.Fprintf(&b, "    %-19s %s\n", kind, strings.Join(parts, ", "))
		}
	}
	b.WriteString("  simulator ledger:\n")
	b.WriteString(ledgerTotals(l))
	fmt.Fprintf(&b, "  kills/restarts: manager %d, notification-receiver %d, kube-apiserver %d\n",
		chaos.done["manager"], chaos.done["notification-receiver"], chaos.done["kube-apiserver"])
	for _, e := range chaos.events {
		fmt.Fprintf(&b, "    %s\n", e)
	}
	apiF, notifyF := faultCounts(context.Background(), ls, newSimClient(ls.SimURL))
	fmt.Fprintf(&b, "  faults injected: API calls %v; notification attempts %v, %d attempts not acknowledged (receiver down or busy)\n",
		apiF, notifyF, notifyF["unacknowledged"])
	fmt.Fprintf(&b, "  driver: %d objects created, %d deleted and applied again mid-flight, %d create calls repeated after apiserver errors\n",
		d.created.Load(), d.reapplied.Load(), d.createRetry.Load())
	if fs != nil {
		fmt.Fprintf(&b, "  forged notifications: %d sent, %d refused; %d authentic controls; HTTP statuses %v\n", fs.forged, fs.refused, fs.controls, fs.byStatus)
	}
	var names []string
	for k := range durations {
		names = append(names, k)
	}
	sort.Strings(names)
	b.WriteString("  durations:")
	for _, k := range names {
		fmt.Fprintf(&b, " %s %s;", k, durations[k])
	}
	fmt.Fprintf(&b, " total %s\n", time.Since(began).Round(100*time.Millisecond))
	t.Log(b.String())
}

// chaosPolicy governs every refund and capture of the plan with limits
// none of them reaches: the policy is decided for each, and holds none.
func chaosPolicy() *v1.MoneyPolicy {
	var rules []v1.MoneyRule
	for _, cur := range []string{"HKD", "USD", "CNY"} {
		for _, k := range []v1.MoneyKind{v1.MoneyKindRefund, v1.MoneyKindCapture} {
			rules = append(rules, v1.MoneyRule{Kind: k, Currency: cur, MaxAmount: "99999999", ApprovalAbove: "99999999",
				NamespaceBudget: "9999999999", RequesterBudget: "9999999999"})
		}
	}
	return &v1.MoneyPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1.MoneyPolicyName},
		Spec: v1.MoneyPolicySpec{Rules: rules}}
}
