package manifests

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/localsystem"
)

// prometheusRuleCRD is a trimmed monitoring.coreos.com/v1 PrometheusRule CRD:
// the upstream schema of the fields the chart sets.
const prometheusRuleCRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: prometheusrules.monitoring.coreos.com
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names: {kind: PrometheusRule, listKind: PrometheusRuleList, plural: prometheusrules, singular: prometheusrule}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        required: [spec]
        properties:
          apiVersion: {type: string}
          kind: {type: string}
          metadata: {type: object}
          spec:
            type: object
            properties:
              groups:
                type: array
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string, minLength: 1}
                    interval: {type: string}
                    rules:
                      type: array
                      items:
                        type: object
                        required: [expr]
                        properties:
                          alert: {type: string}
                          record: {type: string}
                          expr: {anyOf: [{type: integer}, {type: string}], x-kubernetes-int-or-string: true}
                          for: {type: string, pattern: '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$'}
                          labels: {type: object, additionalProperties: {type: string}}
                          annotations: {type: object, additionalProperties: {type: string}}
`

// query is one PromQL expression of the dashboard or the alerts.
type query struct{ where, expr string }

// monitoringQueries renders the chart with every option set and returns the
// expressions of the PrometheusRule and of the dashboard ConfigMap.
func monitoringQueries(t *testing.T) []query {
	t.Helper()
	r := helmTemplate(t, "payments", "cashier-full", "--values", path(t, chartFullValues))
	var qs []query
	rules := r.byKind("PrometheusRule")
	if len(rules) != 1 {
		t.Fatalf("full values: want 1 PrometheusRule, got %d", len(rules))
	}
	groups, _, _ := unstructured.NestedSlice(rules[0].Object, "spec", "groups")
	for _, g := range groups {
		rs, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
		for _, rule := range rs {
			m := rule.(map[string]any)
			name, _ := m["alert"].(string)
			checkAlert(t, name, m)
			qs = append(qs, query{"alert " + name, fmt.Sprint(m["expr"])})
		}
	}
	for _, cm := range r.byKind("ConfigMap") {
		data, _, _ := unstructured.NestedString(cm.Object, "data", "cashier-operator.json")
		if data == "" {
			continue
		}
		if cm.GetLabels()["grafana_dashboard"] != "1" || cm.GetNamespace() != "monitoring" {
			t.Errorf("dashboard ConfigMap %s/%s: labels %v, want grafana_dashboard=1 in namespace monitoring", cm.GetNamespace(), cm.GetName(), cm.GetLabels())
		}
		qs = append(qs, dashboardQueries(t, data)...)
	}
	if len(qs) < 20 {
		t.Fatalf("found only %d queries in the dashboard and the alerts", len(qs))
	}
	return qs
}

// checkAlert: every alert says how bad it is and what happened.
func checkAlert(t *testing.T, name string, rule map[string]any) {
	t.Helper()
	labels, _ := rule["labels"].(map[string]any)
	ann, _ := rule["annotations"].(map[string]any)
	if name == "" || labels["severity"] == nil || ann["summary"] == nil || ann["description"] == nil {
		t.Errorf("alert %q needs a name, a severity label and summary and description annotations: %v", name, rule)
	}
}

func dashboardQueries(t *testing.T, data string) []query {
	t.Helper()
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	var qs []query
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			// Grafana replaces its interval variable before Prometheus sees the query.
			qs = append(qs, query{"panel " + p.Title, strings.ReplaceAll(tg.Expr, "$__rate_interval", "5m")})
		}
	}
	return qs
}

// metricNames parses each query with Prometheus' own parser and returns
// the metric names the queries select, with where each is used.
func metricNames(t *testing.T, qs []query) map[string][]string {
	t.Helper()
	names := map[string][]string{}
	for _, q := range qs {
		expr, err := parser.ParseExpr(q.expr)
		if err != nil {
			t.Errorf("%s: PromQL does not parse: %v\n%s", q.where, err, q.expr)
			continue
		}
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok {
				name := vs.Name
				for _, m := range vs.LabelMatchers {
					if m.Name == model.MetricNameLabel {
						name = m.Value
					}
				}
				names[name] = append(names[name], q.where)
			}
			return nil
		})
	}
	return names
}

func TestMonitoringPromQLParses(t *testing.T) {
	names := metricNames(t, monitoringQueries(t))
	if len(names) < 10 {
		t.Errorf("only %d metric names used: %v", len(names), names)
	}
	// The parser is not lenient: a broken expression is caught.
	if _, err := parser.ParseExpr(`sum by (api (rate(cashier_gateway_requests_total[5m]))`); err == nil {
		t.Error("the parser accepted a broken expression")
	}
	// Off by default.
	r := helmTemplate(t, "cashier-operator", "cashier-default")
	if n := len(r.byKind("PrometheusRule")); n != 0 {
		t.Errorf("default values render %d PrometheusRules", n)
	}
	for _, cm := range r.byKind("ConfigMap") {
		if _, ok := cm.GetLabels()["grafana_dashboard"]; ok {
			t.Errorf("default values render the dashboard ConfigMap %s", cm.GetName())
		}
	}
}

// synthetic are series Prometheus makes itself, not the binaries.
var synthetic = map[string]bool{"up": true}

// TestMonitoringMetricsExist runs the whole system (manager with leader
// election, notification-receiver, alipay-sim), moves a payment to
// Succeeded and has the receiver refuse a notification, then scrapes both
// /metrics endpoints: every metric name the dashboard and the alerts use
// must be one the binaries really export.
func TestMonitoringMetricsExist(t *testing.T) {
	used := metricNames(t, monitoringQueries(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ls := startLocalSystem(ctx, t)
	payAndRefuse(ctx, t, ls)

	exported := map[string]bool{}
	for _, u := range []string{ls.ManagerMetricsURL, ls.ReceiverMetricsURL} {
		for n := range scrape(ctx, t, u) {
			exported[n] = true
		}
	}
	var missing []string
	for name, where := range used {
		if !exported[name] && !synthetic[name] {
			missing = append(missing, fmt.Sprintf("%s (used by %s)", name, strings.Join(where, ", ")))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("the dashboard or the alerts use metrics neither binary exports:\n  %s", strings.Join(missing, "\n  "))
	}
}

// startLocalSystem builds the binaries from this tree and starts them.
func startLocalSystem(ctx context.Context, t *testing.T) *localsystem.System {
	t.Helper()
	bin := t.TempDir()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin+string(filepath.Separator), "./cmd/manager", "./cmd/notification-receiver", "./cmd/alipay-sim")
	build.Dir = root(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ls, err := localsystem.Start(ctx, localsystem.Options{
		Root: root(t), BinDir: bin, Namespace: "default",
		SimArgs:     []string{"--auto-complete", "1s"},
		ManagerArgs: []string{"--leader-elect", "--leader-election-namespace", "default"},
		Log:         func(format string, a ...any) { t.Logf(format, a...) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ls.Stop)
	return ls
}

// payAndRefuse makes the labelled series exist: a payment that reaches
// Succeeded (gateway requests, transitions, time to final, notifications)
// and a notification the receiver refuses.
func payAndRefuse(ctx context.Context, t *testing.T, ls *localsystem.System) {
	t.Helper()
	p := &v1.Payment{ObjectMeta: metav1.ObjectMeta{Name: "metrics", Namespace: "default"}, Spec: v1.PaymentSpec{
		GatewayRef: v1.GatewayReference{Name: "alipay-sim"}, Amount: v1.Money{Currency: "HKD", Value: "10.00"},
		PaymentMethod: v1.PaymentMethod{Type: "ALIPAY_HK"}, Env: v1.TerminalEnv{TerminalType: "WEB"},
	}}
	if err := ls.Client.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for p.Status.Phase != v1.PaymentSucceeded {
		if time.Now().After(deadline) {
			t.Fatalf("payment did not succeed; phase %q, conditions %v", p.Status.Phase, p.Status.Conditions)
		}
		time.Sleep(100 * time.Millisecond)
		if err := ls.Client.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
			t.Fatal(err)
		}
	}
	// A refund runs in the manager, which then observes its time to final.
	r := &v1.Refund{ObjectMeta: metav1.ObjectMeta{Name: "metrics", Namespace: "default"}, Spec: v1.RefundSpec{
		PaymentRef: v1.LocalObjectReference{Name: p.Name}, Amount: v1.Money{Currency: "HKD", Value: "1.00"}}}
	if err := ls.Client.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	for !r.Status.Phase.IsFinal() {
		if time.Now().After(deadline) {
			t.Fatalf("refund did not end; phase %q, conditions %v", r.Status.Phase, r.Status.Conditions)
		}
		time.Sleep(100 * time.Millisecond)
		if err := ls.Client.Get(ctx, client.ObjectKeyFromObject(r), r); err != nil {
			t.Fatal(err)
		}
	}
	// An unsigned notification on a real notify route is refused.
	resp, err := http.Post(ls.ReceiverURL+"/notify/payment/default/metrics", "application/json", strings.NewReader(`{"notifyType":"PAYMENT_RESULT"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 {
		t.Fatalf("an unsigned notification was answered %s", resp.Status)
	}
}

// scrape returns the sample names /metrics exposes (histograms as their
// _bucket, _sum and _count series).
func scrape(ctx context.Context, t *testing.T, u string) map[string]bool {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape %s: %v", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %s", u, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("scrape %s: %v", u, err)
	}
	names := map[string]bool{}
	for name, f := range fams {
		names[name] = true
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[name+s] = true
			}
		}
	}
	return names
}
