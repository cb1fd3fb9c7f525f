package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// reportOptions are the flags of report.
type reportOptions struct {
	file              string
	allNamespaces     bool
	operatorNamespace string
	logLines          int64
	unredacted        bool
}

// operatorSelectors find the operator's pods: the Helm chart labels them
// part-of, the kustomize bases name.
var operatorSelectors = []string{"app.kubernetes.io/part-of=cashier-operator", "app.kubernetes.io/name=cashier-operator"}

func newReportCommand(connect func() (*session, error)) *cobra.Command {
	o := reportOptions{logLines: 2000}
	cmd := &cobra.Command{
		Use:   "report [-n NAMESPACE | -A]",
		Short: "Write a support bundle (zip) with Secret data, card data and keys redacted",
		Long: `Write a support bundle: a zip holding the Payments, Captures, Refunds,
CustomsDeclarations and SettlementReconciliations of the namespace (or all),
every GatewayConfig, the events
about them, the Secrets they reference, and the operator pods with their logs
and metrics where the API server can reach them.

Redacted unless --unredacted: every Secret value (the keys stay, with their
sizes), card numbers anywhere (masked to the last 4 digits), card holder and
buyer names, and private or public key material in logs. The bundle's
README.txt says what was redacted and what could not be collected.`,
		Example: `  kubectl cashier report -n shop
  kubectl cashier report -A --operator-namespace cashier-operator-system --file /tmp/bundle.zip`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := connect()
			if err != nil {
				return err
			}
			if o.file == "" {
				o.file = "cashier-report-" + s.now.UTC().Format("20060102-150405") + ".zip"
			}
			ns := s.namespace
			if o.allNamespaces {
				ns = ""
			}
			if o.unredacted {
				fmt.Fprintln(s.errOut, "warning: --unredacted: the bundle holds Secret data and keys; handle it as a secret")
			}
			return writeReport(cmd.Context(), s, ns, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.file, "file", "", "where to write the zip (default cashier-report-TIMESTAMP.zip)")
	f.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "collect the objects of every namespace")
	f.StringVar(&o.operatorNamespace, "operator-namespace", "", "namespace of the operator's pods (default: search every namespace)")
	f.Int64Var(&o.logLines, "log-lines", o.logLines, "how many of the last log lines of each operator container to collect")
	f.BoolVar(&o.unredacted, "unredacted", false, "keep Secret data, card data and keys (the bundle is then secret)")
	return cmd
}

// bundle is a zip being written with a record of what went in.
type bundle struct {
	zw         *zip.Writer
	unredacted bool
	files      []string
	redacted   []string // what was redacted, one line each
	missing    []string // what could not be collected, and why
}

func (b *bundle) add(name string, data []byte) error {
	w, err := b.zw.Create(name)
	if err != nil {
		return err
	}
	b.files = append(b.files, name)
	_, err = w.Write(data)
	return err
}

// writeReport collects everything into o.file and prints a summary.
func writeReport(ctx context.Context, s *session, ns string, o reportOptions) (err error) {
	f, err := os.Create(o.file)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	b := &bundle{zw: zip.NewWriter(f), unredacted: o.unredacted}
	if err := collect(ctx, b, s, ns, o); err != nil {
		return err
	}
	if err := b.add("README.txt", []byte(b.readme(s.now, ns))); err != nil {
		return err
	}
	if err := b.zw.Close(); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "wrote %s: %d files\n", o.file, len(b.files))
	for _, r := range b.redacted {
		fmt.Fprintf(s.out, "  redacted: %s\n", r)
	}
	for _, m := range b.missing {
		fmt.Fprintf(s.out, "  not collected: %s\n", m)
	}
	return nil
}

// collect adds the objects, secrets, events and operator pods.
func collect(ctx context.Context, b *bundle, s *session, ns string, o reportOptions) error {
	lists := []struct {
		file string
		list client.ObjectList
		opts []client.ListOption
	}{
		{"payments.yaml", &v1.PaymentList{}, []client.ListOption{client.InNamespace(ns)}},
		{"captures.yaml", &v1.CaptureList{}, []client.ListOption{client.InNamespace(ns)}},
		{"refunds.yaml", &v1.RefundList{}, []client.ListOption{client.InNamespace(ns)}},
		{"customsdeclarations.yaml", &v1.CustomsDeclarationList{}, []client.ListOption{client.InNamespace(ns)}},
		{"gatewayconfigs.yaml", &v1.GatewayConfigList{}, nil},
		{"settlementreconciliations.yaml", &v1.SettlementReconciliationList{}, []client.ListOption{client.InNamespace(ns)}},
	}
	for _, l := range lists {
		if err := s.client.List(ctx, l.list, l.opts...); err != nil {
			return fmt.Errorf("listing %s: %w", strings.TrimSuffix(l.file, ".yaml"), err)
		}
		if err := b.addObjects(l.file, l.list); err != nil {
			return err
		}
	}
	refs := secretRefs(lists[0].list.(*v1.PaymentList), lists[3].list.(*v1.CustomsDeclarationList),
		lists[4].list.(*v1.GatewayConfigList), lists[5].list.(*v1.SettlementReconciliationList))
	if err := b.addSecrets(ctx, s.client, refs); err != nil {
		return err
	}
	if err := b.addGovernance(ctx, s.client, ns, lists[1].list.(*v1.CaptureList), lists[2].list.(*v1.RefundList)); err != nil {
		return err
	}
	if err := b.addEvents(ctx, s.client, ns); err != nil {
		return err
	}
	return b.addOperatorPods(ctx, s.kube, o)
}

// addObjects writes a list as YAML, without managed fields, with card-like
// data masked unless unredacted.
func (b *bundle) addObjects(file string, list client.ObjectList) error {
	raw, err := json.Marshal(list)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	items, _ := m["items"].([]any)
	for _, it := range items {
		if md, ok := it.(map[string]any)["metadata"].(map[string]any); ok {
			delete(md, "managedFields")
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if !b.unredacted {
		red := gateway.RedactJSON(out)
		if !jsonEqual(red, out) {
			b.redacted = append(b.redacted, file+": card numbers, card holder and buyer names")
		}
		out = red
	}
	y, err := yaml.JSONToYAML(out)
	if err != nil {
		return err
	}
	return b.add(file, y)
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ax, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return bytes.Equal(ax, by)
}

// secretRefs are the Secrets the objects reference, as namespace/name.
func secretRefs(pays *v1.PaymentList, decls *v1.CustomsDeclarationList, gwcs *v1.GatewayConfigList, recs *v1.SettlementReconciliationList) []client.ObjectKey {
	seen := map[client.ObjectKey]bool{}
	for _, g := range gwcs.Items {
		seen[client.ObjectKey{Namespace: g.Spec.CredentialsSecretRef.Namespace, Name: g.Spec.CredentialsSecretRef.Name}] = true
	}
	for _, p := range pays.Items {
		if r := p.Spec.PaymentMethod.CardSecretRef; r != nil {
			seen[client.ObjectKey{Namespace: p.Namespace, Name: r.Name}] = true
		}
	}
	for _, d := range decls.Items {
		if r := d.Spec.BuyerCertificateSecretRef; r != nil {
			seen[client.ObjectKey{Namespace: d.Namespace, Name: r.Name}] = true
		}
	}
	for _, r := range recs.Items {
		seen[client.ObjectKey{Namespace: r.Namespace, Name: r.Spec.SFTP.CredentialsSecretRef.Name}] = true
	}
	keys := make([]client.ObjectKey, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	return keys
}

// addSecrets writes the referenced Secrets; unless unredacted, every value
// is replaced by its size, so the bundle shows which keys exist.
func (b *bundle) addSecrets(ctx context.Context, c client.Client, keys []client.ObjectKey) error {
	var out []corev1.Secret
	for _, k := range keys {
		var sec corev1.Secret
		if err := c.Get(ctx, k, &sec); err != nil {
			b.missing = append(b.missing, fmt.Sprintf("Secret %s: %v", k, err))
			continue
		}
		sec.ManagedFields = nil
		if !b.unredacted {
			for key, v := range sec.Data {
				sec.Data[key] = []byte(fmt.Sprintf("[redacted: %d bytes]", len(v)))
			}
			delete(sec.Annotations, corev1.LastAppliedConfigAnnotation)
			b.redacted = append(b.redacted, fmt.Sprintf("Secret %s: the values of %s", k, strings.Join(sortedKeys(sec.Data), ", ")))
		}
		out = append(out, sec)
	}
	y, err := yaml.Marshal(map[string]any{"items": out})
	if err != nil {
		return err
	}
	return b.add("secrets.yaml", y)
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// addEvents writes the events about the project's kinds in ns ("" for all).
func (b *bundle) addEvents(ctx context.Context, c client.Client, ns string) error {
	var list corev1.EventList
	if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return fmt.Errorf("listing events: %w", err)
	}
	var out []corev1.Event
	for _, e := range list.Items {
		if strings.HasPrefix(e.InvolvedObject.APIVersion, v1.GroupVersion.Group+"/") {
			e.ManagedFields = nil
			if !b.unredacted {
				e.Message = gateway.RedactText(e.Message)
			}
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return eventTime(out[i]).Before(eventTime(out[j])) })
	y, err := yaml.Marshal(map[string]any{"items": out})
	if err != nil {
		return err
	}
	return b.add("events.yaml", y)
}

// addOperatorPods writes the operator's pods, their logs and metrics.
func (b *bundle) addOperatorPods(ctx context.Context, kube kubernetes.Interface, o reportOptions) error {
	pods := map[string]corev1.Pod{}
	for _, sel := range operatorSelectors {
		list, err := kube.CoreV1().Pods(o.operatorNamespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			b.missing = append(b.missing, fmt.Sprintf("operator pods (%s): %v", sel, err))
			continue
		}
		for _, p := range list.Items {
			pods[p.Namespace+"/"+p.Name] = p
		}
	}
	if len(pods) == 0 {
		b.missing = append(b.missing, "operator pods: none found (labels "+strings.Join(operatorSelectors, " or ")+")")
		return nil
	}
	names := make([]string, 0, len(pods))
	for n := range pods {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := pods[n]
		p.ManagedFields = nil
		y, err := yaml.Marshal(p)
		if err != nil {
			return err
		}
		dir := "pods/" + p.Namespace + "/" + p.Name + "/"
		if err := b.add(dir+"pod.yaml", y); err != nil {
			return err
		}
		if err := b.addPodLogs(ctx, kube, dir, &p, o.logLines); err != nil {
			return err
		}
		if err := b.addPodMetrics(ctx, kube, dir, &p); err != nil {
			return err
		}
	}
	return nil
}

func (b *bundle) addPodLogs(ctx context.Context, kube kubernetes.Interface, dir string, p *corev1.Pod, lines int64) error {
	for _, c := range p.Spec.Containers {
		raw, err := kube.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: c.Name, TailLines: &lines}).DoRaw(ctx)
		if err != nil {
			b.missing = append(b.missing, fmt.Sprintf("logs of %s/%s container %s: %v", p.Namespace, p.Name, c.Name, firstLine(err.Error())))
			continue
		}
		if !b.unredacted {
			raw = []byte(redactLog(string(raw)))
			b.redacted = append(b.redacted, fmt.Sprintf("logs of %s/%s container %s: card numbers and key material", p.Namespace, p.Name, c.Name))
		}
		if err := b.add(dir+c.Name+".log", raw); err != nil {
			return err
		}
	}
	return nil
}

// addPodMetrics fetches /metrics through the API server's pod proxy from
// every container port named like a metrics port.
func (b *bundle) addPodMetrics(ctx context.Context, kube kubernetes.Interface, dir string, p *corev1.Pod) error {
	for _, c := range p.Spec.Containers {
		for _, port := range c.Ports {
			if !strings.Contains(port.Name, "metrics") {
				continue
			}
			var raw []byte
			var err error
			for _, scheme := range []string{"http", "https"} {
				raw, err = kube.CoreV1().Pods(p.Namespace).ProxyGet(scheme, p.Name, fmt.Sprint(port.ContainerPort), "/metrics", nil).DoRaw(ctx)
				if err == nil {
					break
				}
			}
			if err != nil {
				b.missing = append(b.missing, fmt.Sprintf("metrics of %s/%s port %s: %v", p.Namespace, p.Name, port.Name, firstLine(err.Error())))
				continue
			}
			if err := b.add(dir+c.Name+"-metrics.txt", raw); err != nil {
				return err
			}
		}
	}
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

var (
	pemBlock  = regexp.MustCompile(`-----BEGIN [A-Z ]*KEY-----[\s\S]*?-----END [A-Z ]*KEY-----`)
	keyBase64 = regexp.MustCompile(`[A-Za-z0-9+/]{200,}={0,2}`)
)

// redactLog masks card numbers and removes key material (PEM blocks and
// long base64 runs, the shape of the merchant's keys) from log text.
func redactLog(s string) string {
	s = pemBlock.ReplaceAllString(s, "[redacted key]")
	s = keyBase64.ReplaceAllString(s, "[redacted key]")
	return gateway.RedactText(s)
}

// readme says what the bundle holds, what was redacted and what is missing.
func (b *bundle) readme(now time.Time, ns string) string {
	var w strings.Builder
	scope := "namespace " + ns
	if ns == "" {
		scope = "all namespaces"
	}
	fmt.Fprintf(&w, "cashier-operator support bundle, %s, %s\n\nFiles:\n", now.UTC().Format(time.RFC3339), scope)
	for _, f := range b.files {
		fmt.Fprintf(&w, "  %s\n", f)
	}
	switch {
	case b.unredacted:
		w.WriteString("\nNOT REDACTED (--unredacted): this bundle holds Secret data and keys.\n")
	case len(b.redacted) > 0:
		w.WriteString("\nRedacted:\n")
		for _, r := range b.redacted {
			fmt.Fprintf(&w, "  %s\n", r)
		}
	default:
		w.WriteString("\nNothing needed redacting.\n")
	}
	if len(b.missing) > 0 {
		w.WriteString("\nNot collected:\n")
		for _, m := range b.missing {
			fmt.Fprintf(&w, "  %s\n", m)
		}
	}
	return w.String()
}

// addGovernance adds the MoneyPolicies, Approvals and MerchantRegistrations
// of the namespace and audit.txt: who asked for each Capture and Refund and
// who approved it. A reader not allowed to list these kinds gets the audit
// without them.
func (b *bundle) addGovernance(ctx context.Context, c client.Client, ns string, caps *v1.CaptureList, refs *v1.RefundList) error {
	for _, l := range []struct {
		file string
		list client.ObjectList
	}{{"moneypolicies.yaml", &v1.MoneyPolicyList{}}, {"approvals.yaml", &v1.ApprovalList{}},
		{"merchantregistrations.yaml", &v1.MerchantRegistrationList{}}} {
		if err := c.List(ctx, l.list, client.InNamespace(ns)); err != nil {
			b.missing = append(b.missing, fmt.Sprintf("%s: %v", strings.TrimSuffix(l.file, ".yaml"), firstLine(err.Error())))
			continue
		}
		if err := b.addObjects(l.file, l.list); err != nil {
			return err
		}
	}
	var w strings.Builder
	w.WriteString("Who asked for each Capture and Refund, and who approved it (status.audit).\n\n")
	n := 0
	line := func(kind string, o client.Object, amount v1.Money, st *v1.OperationStatus) {
		n++
		audit := auditLine(st.Audit)
		if audit == "" {
			audit = "no requester recorded"
		}
		fmt.Fprintf(&w, "%s %s/%s %s %s %s: %s\n", kind, o.GetNamespace(), o.GetName(), amount.Value, amount.Currency, st.Phase, audit)
	}
	for i := range caps.Items {
		line("Capture", &caps.Items[i], caps.Items[i].Spec.Amount, &caps.Items[i].Status)
	}
	for i := range refs.Items {
		line("Refund", &refs.Items[i], refs.Items[i].Spec.Amount, &refs.Items[i].Status)
	}
	if n == 0 {
		w.WriteString("No Captures or Refunds.\n")
	}
	return b.add("audit.txt", []byte(w.String()))
}
