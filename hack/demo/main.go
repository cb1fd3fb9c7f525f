// Command demo runs the whole cashier-operator system locally on the embedded
// defaults and shows payments flow: a real etcd + kube-apiserver (the pinned
// control plane in KUBEBUILDER_ASSETS), alipay-sim, the manager and the
// notification-receiver as local processes wired together, the samples in
// config/samples applied with kubectl, and the payments completed through
// the simulator's checkout page over HTTP, as a person would.
//
// `make demo` runs it and exits 0 only when every sample reached its expected
// phase; otherwise it names what did not and why. `make dev` (--keep) leaves
// the system running until Ctrl-C.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/localsystem"
)

// expected is the phase each sample must reach.
var expected = map[string]string{
	"Payment/wallet-hk":                     "Succeeded",
	"Payment/wallet-declined":               "Failed",
	"Payment/card-auth":                     "Succeeded",
	"Payment/alipay-cn":                     "Succeeded",
	"Capture/card-auth-first-shipment":      "Succeeded",
	"Capture/card-auth-second-shipment":     "Succeeded",
	"Refund/wallet-hk-one-pair":             "Succeeded",
	"CustomsDeclaration/alipay-cn-customs":  "Succeeded",
	"Payment/marketplace-hk":                "Succeeded",
	"MerchantRegistration/acme-electronics": "Approved",
}

// declines lists the payments the demo's "user" declines at checkout.
var declines = map[string]bool{"wallet-declined": true}

const ns = "default"

func main() {
	keep := flag.Bool("keep", false, "leave the system running until Ctrl-C (make dev)")
	timeout := flag.Duration("timeout", 3*time.Minute, "how long the samples may take")
	retainFor := flag.Duration("retain-for", 0, "with --keep: start a local PostgreSQL archive and turn retention on with this retainFor (e.g. 1m)")
	flag.Parse()
	if err := run(*keep, *timeout, *retainFor); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func step(format string, a ...any) {
	fmt.Printf("\n==> "+format+"\n", a...)
}

type system struct {
	clientID, gateway string
	root              string
	ls                *localsystem.System
	c                 client.Client
	// arch is the retention archive (make dev --retain-for), or nil.
	arch *devArchive
}

func run(keep bool, timeout, retainFor time.Duration) (err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s := &system{}
	if s.root, err = os.Getwd(); err != nil {
		return err
	}
	s.clientID, s.gateway = "SANDBOX_DEMO0001", "alipay-sim"
	if keep && retainFor > 0 {
		step("starting a local PostgreSQL for the retention archive (retainFor %s)", retainFor)
		if s.arch, err = startArchive(ctx); err != nil {
			return err
		}
		defer s.arch.Stop()
	}
	ls, err := localsystem.Start(ctx, localsystem.Options{
		Root: s.root, Namespace: ns, KeepWork: os.Getenv("DEMO_KEEP_LOGS") != "",
		ClientID: s.clientID, GatewayConfig: s.gateway,
		SimArgs: []string{"--sftp-listen", fmt.Sprintf("127.0.0.1:%d", localsystem.FreePort())},
		Log: func(format string, a ...any) {
			if strings.HasPrefix(format, "  ") {
				fmt.Printf("  "+format+"\n", a...)
				return
			}
			step(format, a...)
		},
		Gateway: func(g *v1.GatewayConfigSpec) {
			g.ConsultProfiles = []v1.ConsultProfile{{Name: "hk-web", TerminalType: "WEB", UserRegion: "HK",
				Amount: v1.Money{Currency: "HKD", Value: "100.00"}}}
			if s.arch != nil {
				g.Retention = s.arch.Retention(retainFor)
			}
		},
	})
	if err != nil {
		return err
	}
	defer ls.Stop()
	s.ls, s.c = ls, ls.Client
	if s.arch != nil {
		if err := s.arch.CreateSecret(ctx, s.c); err != nil {
			return fmt.Errorf("archive secret: %w", err)
		}
	}
	// The simulator runs on real time (its notifications carry its time,
	// which the receiver checks); only the customs office and the review
	// of merchant registrations are made quicker.
	if err := putJSON(ls.SimURL+"/_sim/behavior", `{"declarationStep":"2s","registrationAutoApprove":"3s","requireMerchantRegistration":true}`); err != nil {
		return fmt.Errorf("alipay-sim behaviour: %w", err)
	}
	fmt.Print(indent(mustOut(ls.KubectlRun("get", "gatewayconfigs"))))

	// Server-side apply: a client-side apply would copy the card Secret,
	// card number included, into its last-applied-configuration annotation.
	step("kubectl apply --server-side -k config/samples")
	out, err := ls.KubectlRun("apply", "--server-side", "-n", ns, "-k", filepath.Join(s.root, "config", "samples"))
	if err != nil {
		return fmt.Errorf("kubectl apply: %w\n%s", err, out)
	}
	fmt.Print(indent(out))
	if keep {
		return s.dev(ctx)
	}
	if err := s.drive(ctx, timeout); err != nil {
		return err
	}
	return s.reconcile(ctx)
}

// drive plays the users and the clock until every sample reached its phase.
func (s *system) drive(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	handled := map[string]bool{}
	lastPhases := ""
	for {
		phases, err := s.phases(ctx)
		if err != nil {
			return err
		}
		// The users: pay or decline each payment that shows a checkout link.
		var pays v1.PaymentList
		if err := s.c.List(ctx, &pays, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, p := range pays.Items {
			ua := p.Status.UserAction
			if p.Status.Phase != v1.PaymentProcessing || ua == nil || ua.URL == "" || handled[p.Name] {
				continue
			}
			button := "pay"
			if declines[p.Name] {
				button = "decline"
			}
			step("the user of %s opens %s and presses %s", p.Name, ua.URL, strings.ToUpper(button[:1])+button[1:])
			if err := pressCheckout(ua.URL, button); err != nil {
				return fmt.Errorf("checkout of %s: %w", p.Name, err)
			}
			handled[p.Name] = true
		}
		if now := fmt.Sprint(phases); now != lastPhases {
			fmt.Print("\n$ kubectl get payments,captures,refunds,customsdeclarations,merchantregistrations\n" + s.table())
			lastPhases = now
		}
		missing := missingPhases(phases)
		if len(missing) == 0 {
			step("every sample reached its expected phase")
			return s.summary(ctx)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return s.explain(ctx, missing)
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func missingPhases(phases map[string]string) []string {
	var missing []string
	for k, want := range expected {
		if phases[k] != want {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	return missing
}

// phases reads every sample's phase.
func (s *system) phases(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	lists := map[string]client.ObjectList{"Payment": &v1.PaymentList{}, "Capture": &v1.CaptureList{},
		"Refund": &v1.RefundList{}, "CustomsDeclaration": &v1.CustomsDeclarationList{},
		"MerchantRegistration": &v1.MerchantRegistrationList{}}
	for kind, l := range lists {
		if err := s.c.List(ctx, l, client.InNamespace(ns)); err != nil {
			return nil, err
		}
		_ = meta.EachListItem(l, func(o runtime.Object) error {
			obj := o.(client.Object)
			out[kind+"/"+obj.GetName()] = o.(interface{ GetPhase() string }).GetPhase()
			return nil
		})
	}
	return out, nil
}

// explain names each sample that did not reach its phase, with its Ready
// and Synced conditions.
func (s *system) explain(ctx context.Context, missing []string) error {
	var b strings.Builder
	for _, k := range missing {
		kind, name, _ := strings.Cut(k, "/")
		var obj client.Object
		switch kind {
		case "Payment":
			obj = &v1.Payment{}
		case "Capture":
			obj = &v1.Capture{}
		case "Refund":
			obj = &v1.Refund{}
		case "CustomsDeclaration":
			obj = &v1.CustomsDeclaration{}
		case "MerchantRegistration":
			obj = &v1.MerchantRegistration{}
		}
		err := s.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj)
		if err != nil {
			fmt.Fprintf(&b, "  %s: %v\n", k, err)
			continue
		}
		phase := obj.(interface{ GetPhase() string }).GetPhase()
		conds := conditionsOf(obj)
		fmt.Fprintf(&b, "  %s is %q, expected %q", k, phase, expected[k])
		for _, t := range []string{v1.ConditionReady, v1.ConditionSynced, v1.ConditionBlocked} {
			if c := meta.FindStatusCondition(conds, t); c != nil {
				fmt.Fprintf(&b, "; %s=%s %s: %s", t, c.Status, c.Reason, c.Message)
			}
		}
		b.WriteString("\n")
	}
	return fmt.Errorf("these samples did not reach their expected phase:\n%s", b.String())
}

func conditionsOf(o client.Object) []metav1.Condition {
	switch t := o.(type) {
	case *v1.Payment:
		return t.Status.Conditions
	case *v1.Capture:
		return t.Status.Conditions
	case *v1.MerchantRegistration:
		return t.Status.Conditions
	case *v1.Refund:
		return t.Status.Conditions
	case *v1.CustomsDeclaration:
		return t.Status.Conditions
	}
	return nil
}

// summary prints the final table and the simulator's ledger totals.
func (s *system) summary(ctx context.Context) error {
	fmt.Print("\n$ kubectl get payments -o wide\n" + indent(mustOut(s.ls.KubectlRun("get", "payments", "-n", ns, "-o", "wide"))))
	resp, err := http.Get(s.ls.SimURL + "/_sim/ledger")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var ledger struct {
		Requests []struct {
			Kind, RequestID string
			Operations      int
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&ledger); err != nil {
		return err
	}
	ops := 0
	for _, r := range ledger.Requests {
		if r.Operations > 1 {
			return fmt.Errorf("the simulator's ledger shows %d operations for %s %s", r.Operations, r.Kind, r.RequestID)
		}
		ops += r.Operations
	}
	fmt.Printf("\n    simulator ledger: %d request ids, %d gateway operations: exactly one each\n", len(ledger.Requests), ops)
	return nil
}

// dev leaves everything running until Ctrl-C.
func (s *system) dev(ctx context.Context) error {
	step("the system is running; in another terminal:")
	fmt.Printf("    export KUBECONFIG=%s\n    export PATH=%s:$PATH\n    kubectl get payments,captures,refunds,customsdeclarations,merchantregistrations\n", s.ls.Kubeconfig, filepath.Dir(s.ls.Kubectl))
	fmt.Printf("    alipay-sim: %s (control API under /_sim/, see docs/simulator.md)\n", s.ls.SimURL)
	if s.arch != nil {
		s.arch.explain()
	}
	printed := map[string]bool{}
	for {
		if s.arch != nil {
			s.arch.report(ctx, s.c)
		}
		var pays v1.PaymentList
		if err := s.c.List(ctx, &pays); err == nil {
			for _, p := range pays.Items {
				if ua := p.Status.UserAction; ua != nil && ua.URL != "" && !printed[p.Namespace+"/"+p.Name] {
					fmt.Printf("    checkout for %s/%s: %s\n", p.Namespace, p.Name, ua.URL)
					printed[p.Namespace+"/"+p.Name] = true
				}
			}
		}
		select {
		case <-ctx.Done():
			step("Ctrl-C: stopping everything")
			return nil
		case <-time.After(time.Second):
		}
	}
}

func (s *system) table() string {
	out, err := s.ls.KubectlRun("get", "payments,captures,refunds,customsdeclarations,merchantregistrations", "-n", ns)
	if err != nil {
		return "    (kubectl get failed: " + err.Error() + ")\n"
	}
	return indent(out)
}

// pressCheckout opens the checkout page and presses a button, never
// following the redirect to the merchant's site.
func pressCheckout(pageURL, button string) error {
	resp, err := http.Get(pageURL)
	if err != nil {
		return err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(page, []byte(`id="`+button+`"`)) {
		return fmt.Errorf("no %s button on %s", button, pageURL)
	}
	u, err := url.Parse(pageURL)
	if err != nil {
		return err
	}
	u.Path += "/" + button
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = c.PostForm(u.String(), url.Values{})
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return fmt.Errorf("PUT %s: %s", u, resp.Status)
	}
	return nil
}

func putJSON(u, body string) error {
	req, err := http.NewRequest(http.MethodPut, u, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return fmt.Errorf("PUT %s: %s", u, resp.Status)
	}
	return nil
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}

func mustOut(s string, err error) string {
	if err != nil {
		return s + "(error: " + err.Error() + ")\n"
	}
	return s
}
