package manifests

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/cashier-operator/cashier-operator/internal/testenv"
)

var (
	envOnce sync.Once
	env     *testenv.Env
	envErr  error
)

// apiserver starts the real kube-apiserver (once per test binary).
func apiserver(t *testing.T) *testenv.Env {
	t.Helper()
	envOnce.Do(func() { env, envErr = testenv.Start() })
	if envErr != nil {
		t.Fatal(envErr)
	}
	return env
}

func TestMain(m *testing.M) {
	code := m.Run()
	if env != nil {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the control plane:", err)
		}
	}
	cleanupBinaries()
	os.Exit(code)
}

// warnings collects the apiserver's Warning headers (deprecations,
// PodSecurity "would violate" messages, ...).
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.msgs
	w.msgs = nil
	return m
}

// dryRunClient is a client whose warnings are collected.
func dryRunClient(t *testing.T, e *testenv.Env) (client.Client, *warnings) {
	t.Helper()
	w := &warnings{}
	cfg := rest.CopyConfig(e.Config)
	cfg.WarningHandler = nil
	cfg.WarningHandlerWithContext = w
	c, err := client.New(cfg, client.Options{Scheme: e.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c, w
}

const fieldOwner = client.FieldOwner("cashier-operator-manifests-test")

// applyDryRun server-side applies obj with dryRun=All and returns the
// apiserver's error and warnings.
func applyDryRun(ctx context.Context, c client.Client, w *warnings, obj *unstructured.Unstructured) ([]string, error) {
	w.take()
	err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj.DeepCopy()), client.DryRunAll, client.ForceOwnership, fieldOwner)
	return w.take(), err
}

// restricted labels a namespace so that the apiserver's PodSecurity
// admission checks pod templates against the restricted profile (warnings
// for Deployments, which the test turns into failures).
var restricted = map[string]string{
	"pod-security.kubernetes.io/enforce": "restricted",
	"pod-security.kubernetes.io/warn":    "restricted",
}

// ensureNamespaces creates, for real, every namespace the rendering puts
// objects in (dry-run creation in a missing namespace fails), labelled
// restricted.
func ensureNamespaces(ctx context.Context, t *testing.T, c client.Client, r rendering) {
	t.Helper()
	names := map[string]map[string]string{}
	for _, o := range r.objs {
		if o.GetKind() == "Namespace" {
			names[o.GetName()] = o.GetLabels()
		} else if ns := o.GetNamespace(); ns != "" {
			if _, ok := names[ns]; !ok {
				names[ns] = nil
			}
		}
	}
	if _, ok := names[r.namespace]; !ok {
		t.Errorf("%s: nothing is rendered into its namespace %s", r.name, r.namespace)
	}
	for name, labels := range names {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}}}
		for k, v := range labels {
			ns.Labels[k] = v
		}
		for k, v := range restricted {
			ns.Labels[k] = v
		}
		if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("creating namespace %s: %v", name, err)
		}
	}
}

// order applies CRDs and Namespaces first, as kubectl and helm do.
func order(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	rank := func(o *unstructured.Unstructured) int {
		switch o.GetKind() {
		case "CustomResourceDefinition":
			return 0
		case "Namespace":
			return 1
		}
		return 2
	}
	out := slices.Clone(objs)
	slices.SortStableFunc(out, func(a, b *unstructured.Unstructured) int { return rank(a) - rank(b) })
	return out
}

// TestDryRunApply renders every installation and server-side dry-run applies
// each object to a real kube-apiserver with the CRDs installed. Any rejection
// fails with the object and the apiserver's message; so does any warning
// (deprecated APIs, PodSecurity "restricted" violations of pod templates).
func TestDryRunApply(t *testing.T) {
	e := apiserver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, rr := range renderers {
		t.Run(rr.name, func(t *testing.T) {
			r := rr.render(t)
			if rr.serviceMonitor {
				installMonitoringCRDs(ctx, t, e)
			}
			c, w := dryRunClient(t, e)
			ensureNamespaces(ctx, t, c, r)
			accepted := 0
			for _, o := range order(r.objs) {
				warns, err := applyDryRun(ctx, c, w, o)
				if err != nil {
					t.Errorf("%s: the apiserver rejected %s (%s): %v", r.name, ref(o), o.GetAPIVersion(), err)
				} else {
					accepted++
				}
				for _, msg := range warns {
					t.Errorf("%s: the apiserver warned about %s: %s", r.name, ref(o), msg)
				}
			}
			t.Logf("%s: %d of %d objects accepted by server-side dry-run apply", r.name, accepted, len(r.objs))
		})
	}
}

// TestDryRunCatchesBadObjects shows the dry-run check is not a no-op: the
// apiserver rejects an invalid object and warns about a pod template that
// breaks the restricted profile.
func TestDryRunCatchesBadObjects(t *testing.T) {
	e := apiserver(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, w := dryRunClient(t, e)
	r := rendering{name: "negative control", namespace: "cashier-negative", objs: []*unstructured.Unstructured{mustObject(t, `
apiVersion: v1
kind: ConfigMap
metadata: {name: x, namespace: cashier-negative}
`)}}
	ensureNamespaces(ctx, t, c, r)

	bad := mustObject(t, `
apiVersion: payments.cashier-operator.io/v1alpha1
kind: GatewayConfig
metadata: {name: bad}
spec:
  endpoint: ftp://nope
  credentialsSecretRef: {name: s, namespace: cashier-negative}
`)
	if _, err := applyDryRun(ctx, c, w, bad); err == nil || !strings.Contains(err.Error(), "spec.endpoint") {
		t.Errorf("a GatewayConfig with endpoint ftp://nope: want a rejection naming spec.endpoint, got %v", err)
	}
	unknownField := mustObject(t, `
apiVersion: v1
kind: Service
metadata: {name: typo, namespace: cashier-negative}
spec:
  ports: [{port: 80, targetPrt: 8080}]
`)
	if _, err := applyDryRun(ctx, c, w, unknownField); err == nil {
		t.Error("a Service with an unknown field was accepted; server-side apply should reject it")
	}
	privileged := mustObject(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: root, namespace: cashier-negative}
spec:
  selector: {matchLabels: {app: root}}
  template:
    metadata: {labels: {app: root}}
    spec:
      containers: [{name: c, image: busybox}]
`)
	warns, err := applyDryRun(ctx, c, w, privileged)
	if err != nil {
		t.Fatalf("dry-run of a plain Deployment: %v", err)
	}
	if !slices.ContainsFunc(warns, func(s string) bool { return strings.Contains(s, "PodSecurity") }) {
		t.Errorf("a Deployment without a security context in a restricted namespace: want a PodSecurity warning, got %q", warns)
	}
	// Nothing was created.
	var gc unstructured.Unstructured
	gc.SetAPIVersion("apps/v1")
	gc.SetKind("Deployment")
	if err := c.Get(ctx, client.ObjectKey{Namespace: "cashier-negative", Name: "root"}, &gc); !apierrors.IsNotFound(err) {
		t.Errorf("dry-run created the Deployment (get: %v)", err)
	}
}

func mustObject(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(y), &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

// serviceMonitorCRD is a trimmed monitoring.coreos.com/v1 ServiceMonitor CRD:
// the upstream schema of the fields the chart sets (so server-side apply
// still rejects unknown or mistyped fields), nothing else.
const serviceMonitorCRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: servicemonitors.monitoring.coreos.com
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names: {kind: ServiceMonitor, listKind: ServiceMonitorList, plural: servicemonitors, singular: servicemonitor}
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
            required: [selector]
            properties:
              jobLabel: {type: string}
              selector:
                type: object
                x-kubernetes-map-type: atomic
                properties:
                  matchLabels: {type: object, additionalProperties: {type: string}}
                  matchExpressions:
                    type: array
                    items:
                      type: object
                      required: [key, operator]
                      properties:
                        key: {type: string}
                        operator: {type: string}
                        values: {type: array, items: {type: string}}
              namespaceSelector:
                type: object
                properties:
                  any: {type: boolean}
                  matchNames: {type: array, items: {type: string}}
              endpoints:
                type: array
                items:
                  type: object
                  properties:
                    port: {type: string}
                    targetPort: {anyOf: [{type: integer}, {type: string}], x-kubernetes-int-or-string: true}
                    path: {type: string}
                    scheme: {type: string, enum: [http, https, HTTP, HTTPS]}
                    interval: {type: string, pattern: '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$'}
                    scrapeTimeout: {type: string, pattern: '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$'}
                    honorLabels: {type: boolean}
                    bearerTokenFile: {type: string}
                    tlsConfig:
                      type: object
                      properties:
                        insecureSkipVerify: {type: boolean}
                        serverName: {type: string}
`

var (
	smOnce sync.Once
	smErr  error
)

// installMonitoringCRDs creates the trimmed ServiceMonitor and PrometheusRule
// CRDs for real and waits until they are served.
func installMonitoringCRDs(ctx context.Context, t *testing.T, e *testenv.Env) {
	t.Helper()
	smOnce.Do(func() {
		for _, def := range []string{serviceMonitorCRD, prometheusRuleCRD} {
			if smErr = installCRD(ctx, t, e, def); smErr != nil {
				return
			}
		}
	})
	if smErr != nil {
		t.Fatalf("installing the monitoring.coreos.com CRDs: %v", smErr)
	}
}

func installCRD(ctx context.Context, t *testing.T, e *testenv.Env, def string) error {
	crd := mustObject(t, def)
	if err := e.Client.Create(ctx, crd); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		got := &unstructured.Unstructured{}
		got.SetAPIVersion("apiextensions.k8s.io/v1")
		got.SetKind("CustomResourceDefinition")
		if err := e.Client.Get(ctx, client.ObjectKey{Name: crd.GetName()}, got); err != nil {
			return false, nil
		}
		conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
		for _, c := range conds {
			if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
}
