package manifests

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

var (
	binOnce  sync.Once
	binDir   string
	binFlags map[string]map[string]bool
	binErr   error
)

// deployedBinaries are the binaries the manifests run.
var deployedBinaries = []string{"manager", "notification-receiver"}

// flagsOf builds the deployed binaries from this tree and reads the flags
// each accepts from its -h output, so manifests cannot pass a flag the
// binary does not know (the flags are being changed while the charts are not).
func flagsOf(t *testing.T) map[string]map[string]bool {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "cashier-manifests-bin-")
		if binErr != nil {
			return
		}
		args := []string{"build", "-o", binDir + string(filepath.Separator)}
		for _, b := range deployedBinaries {
			args = append(args, "./cmd/"+b)
		}
		if _, binErr = tryRun(t, "go", args...); binErr != nil {
			return
		}
		binFlags = map[string]map[string]bool{}
		flagLine := regexp.MustCompile(`(?m)^  -([A-Za-z0-9][A-Za-z0-9_.-]*)`)
		for _, b := range deployedBinaries {
			// -h prints the flag defaults; both binaries exit 0 (or 2 on older flag handling).
			out, _ := tryRun(t, "sh", "-c", filepath.Join(binDir, b)+" -h 2>&1")
			set := map[string]bool{}
			for _, m := range flagLine.FindAllStringSubmatch(string(out), -1) {
				set[m[1]] = true
			}
			if len(set) < 3 {
				binErr = fmt.Errorf("%s -h listed no flags:\n%s", b, out)
				return
			}
			binFlags[b] = set
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binFlags
}

func cleanupBinaries() {
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
}

// TestRenderedManifests checks what the apiserver cannot: that the objects of
// each installation fit together and fit the code.
func TestRenderedManifests(t *testing.T) {
	flags := flagsOf(t)
	bins := imageBinaries(t)
	for _, rr := range renderers {
		t.Run(rr.name, func(t *testing.T) {
			r := rr.render(t)
			checkDeployments(t, r, bins, flags)
			checkServices(t, r)
			checkRBAC(t, r)
			checkIngresses(t, r)
			checkServiceMonitors(t, r, rr.serviceMonitor)
			checkPDBs(t, r)
			checkGatewayConfigs(t, r)
		})
	}
}

func str(o map[string]any, fields ...string) string {
	s, _, _ := unstructured.NestedString(o, fields...)
	return s
}

func boolean(o map[string]any, fields ...string) (bool, bool) {
	b, ok, _ := unstructured.NestedBool(o, fields...)
	return b, ok
}

func podTemplate(d *unstructured.Unstructured) map[string]any {
	m, _, _ := unstructured.NestedMap(d.Object, "spec", "template")
	return m
}

func containers(pod map[string]any) []map[string]any {
	cs, _, _ := unstructured.NestedSlice(pod, "spec", "containers")
	var out []map[string]any
	for _, c := range cs {
		out = append(out, c.(map[string]any))
	}
	return out
}

func stringSlice(o map[string]any, fields ...string) []string {
	s, _, _ := unstructured.NestedStringSlice(o, fields...)
	return s
}

// containerPorts maps port name → number.
func containerPorts(c map[string]any) map[string]int64 {
	ports, _, _ := unstructured.NestedSlice(c, "ports")
	out := map[string]int64{}
	for _, p := range ports {
		pm := p.(map[string]any)
		n, _, _ := unstructured.NestedInt64(pm, "containerPort")
		out[str(pm, "name")] = n
	}
	return out
}

// checkDeployments checks every Deployment's pod and containers, and that
// every deployed binary runs in one.
func checkDeployments(t *testing.T, r rendering, bins map[string]string, flags map[string]map[string]bool) {
	seen := map[string]bool{}
	for _, d := range r.byKind("Deployment") {
		pod := podTemplate(d)
		id := ref(d)
		checkPodSecurity(t, r, d, pod)
		for _, c := range containers(pod) {
			cid := fmt.Sprintf("%s container %s", id, str(c, "name"))
			checkContainer(t, cid, c)
			if bin := checkCommand(t, cid, d, c, bins, flags); bin != "" {
				seen[bin] = true
			}
		}
	}
	for _, b := range deployedBinaries {
		if !seen[b] {
			t.Errorf("%s: no Deployment runs %s", r.name, b)
		}
	}
}

// checkPodSecurity: a non-root pod with the runtime's seccomp profile and a
// rendered ServiceAccount.
func checkPodSecurity(t *testing.T, r rendering, d *unstructured.Unstructured, pod map[string]any) {
	id := ref(d)
	if v, _ := boolean(pod, "spec", "securityContext", "runAsNonRoot"); !v {
		t.Errorf("%s: pod securityContext.runAsNonRoot is not true", id)
	}
	if s := str(pod, "spec", "securityContext", "seccompProfile", "type"); s != "RuntimeDefault" {
		t.Errorf("%s: pod seccompProfile %q, want RuntimeDefault", id, s)
	}
	if sa := str(pod, "spec", "serviceAccountName"); r.find("ServiceAccount", d.GetNamespace(), sa) == nil {
		t.Errorf("%s: serviceAccountName %q is not rendered", id, sa)
	}
}

// checkContainer: a locked-down container with resource requests, an image,
// and probes on /healthz and /readyz at ports it declares.
func checkContainer(t *testing.T, cid string, c map[string]any) {
	if v, _ := boolean(c, "securityContext", "readOnlyRootFilesystem"); !v {
		t.Errorf("%s: readOnlyRootFilesystem is not true", cid)
	}
	if v, ok := boolean(c, "securityContext", "allowPrivilegeEscalation"); !ok || v {
		t.Errorf("%s: allowPrivilegeEscalation is not false", cid)
	}
	if drop := stringSlice(c, "securityContext", "capabilities", "drop"); !slices.Contains(drop, "ALL") {
		t.Errorf("%s: capabilities.drop %v lacks ALL", cid, drop)
	}
	if req, _, _ := unstructured.NestedMap(c, "resources", "requests"); len(req) == 0 {
		t.Errorf("%s: no resource requests", cid)
	}
	ports := containerPorts(c)
	for probe, want := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
		if p := str(c, probe, "httpGet", "path"); p != want {
			t.Errorf("%s: %s path %q, want %s", cid, probe, p, want)
		}
		if port := str(c, probe, "httpGet", "port"); port != "" {
			if _, ok := ports[port]; !ok {
				t.Errorf("%s: %s port %q is not a container port (%v)", cid, probe, port, ports)
			}
		}
	}
	if str(c, "image") == "" {
		t.Errorf("%s: no image", cid)
	}
}

// checkCommand: the command is a binary of the image and its args are flags
// it has, listening on the ports the pod declares. It returns the binary, ""
// when it is not one the test knows.
func checkCommand(t *testing.T, cid string, d *unstructured.Unstructured, c map[string]any, bins map[string]string, flags map[string]map[string]bool) string {
	cmd := stringSlice(c, "command")
	if len(cmd) != 1 || bins[cmd[0]] == "" {
		t.Errorf("%s: command %v, want one of the image's binaries %v", cid, cmd, bins)
		return ""
	}
	bin := bins[cmd[0]]
	known, ok := flags[bin]
	if !ok {
		t.Errorf("%s: runs %s, whose flags the test does not know (add it to deployedBinaries)", cid, bin)
		return bin
	}
	args := map[string]string{}
	for _, a := range stringSlice(c, "args") {
		if !strings.HasPrefix(a, "-") {
			t.Errorf("%s: argument %q: write flags as --name=value", cid, a)
			continue
		}
		name, val, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !known[name] {
			t.Errorf("%s: argument %q: %s has no flag %q (it has %v)", cid, a, bin, name, sortedKeys(known))
		}
		args[name] = val
	}
	ports := containerPorts(c)
	checkListenPort(t, cid, args, ports, "metrics-bind-address", "metrics", true)
	checkListenPort(t, cid, args, ports, "health-probe-bind-address", "probes", false)
	switch bin {
	case "manager":
		if _, ok := args["leader-elect"]; !ok {
			if n, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); n > 1 {
				t.Errorf("%s: %d replicas without --leader-elect", cid, n)
			}
		}
	case "notification-receiver":
		checkListenPort(t, cid, args, ports, "listen", "notifications", false)
		if _, tls := args["tls-cert-file"]; tls != (args["tls-key-file"] != "") {
			t.Errorf("%s: --tls-cert-file and --tls-key-file go together", cid)
		}
	}
	return bin
}

// checkListenPort: the address flag is set explicitly and its port is the
// container port portName ("0" disables an optional one, then undeclared).
func checkListenPort(t *testing.T, cid string, args map[string]string, ports map[string]int64, flag, portName string, optional bool) {
	addr, ok := args[flag]
	if !ok {
		t.Errorf("%s: --%s is not set explicitly; the manifests must say which port %q is", cid, flag, portName)
		return
	}
	if addr == "0" && optional {
		if _, has := ports[portName]; has {
			t.Errorf("%s: --%s=0 disables it, yet port %q is declared", cid, flag, portName)
		}
		return
	}
	_, p, _ := strings.Cut(addr, ":")
	n, err := strconv.ParseInt(p, 10, 32)
	if err != nil || ports[portName] != n {
		t.Errorf("%s: --%s=%s but container port %q is %d", cid, flag, addr, portName, ports[portName])
	}
}

func selects(selector map[string]string, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func stringMap(o map[string]any, fields ...string) map[string]string {
	m, _, _ := unstructured.NestedStringMap(o, fields...)
	return m
}

// podsSelected returns the pod templates of the Deployments in ns that
// selector selects.
func podsSelected(r rendering, ns string, selector map[string]string) []map[string]any {
	var out []map[string]any
	for _, d := range r.byKind("Deployment") {
		pod := podTemplate(d)
		if d.GetNamespace() == ns && selects(selector, stringMap(pod, "metadata", "labels")) {
			out = append(out, pod)
		}
	}
	return out
}

func checkServices(t *testing.T, r rendering) {
	for _, s := range r.byKind("Service") {
		sel := stringMap(s.Object, "spec", "selector")
		pods := podsSelected(r, s.GetNamespace(), sel)
		if len(pods) != 1 {
			t.Errorf("%s: selector %v selects %d Deployments, want 1", ref(s), sel, len(pods))
			continue
		}
		ports, _, _ := unstructured.NestedSlice(s.Object, "spec", "ports")
		for _, p := range ports {
			pm := p.(map[string]any)
			target := pm["targetPort"]
			found := false
			for _, c := range containers(pods[0]) {
				for name, n := range containerPorts(c) {
					if target == name || fmt.Sprint(target) == strconv.FormatInt(n, 10) {
						found = true
					}
				}
			}
			if !found {
				t.Errorf("%s: targetPort %v is not a port of the pods it selects", ref(s), target)
			}
		}
	}
}

type roleRules struct {
	Rules []map[string]any `json:"rules"`
}

// generatedRoles are the ClusterRoles controller-gen writes from the
// +kubebuilder:rbac markers, by the component whose ServiceAccount they bind.
var generatedRoles = []struct{ file, component string }{
	{"config/rbac/role.yaml", "manager"},
	{"config/rbac/receiver/role.yaml", "notification-receiver"},
	{"config/rbac/secret-reader/role.yaml", "manager"},
}

func readRules(t *testing.T, file string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path(t, file))
	if err != nil {
		t.Fatal(err)
	}
	var rr roleRules
	if err := yaml.Unmarshal(data, &rr); err != nil {
		t.Fatal(err)
	}
	return rr.Rules
}

// checkRBAC: every binding names a rendered role and rendered
// ServiceAccounts; each generated ClusterRole is rendered with exactly its
// generated rules and bound to its component only (what the roles let each
// ServiceAccount do is TestRBACSubjectAccess's job).
func checkRBAC(t *testing.T, r rendering) {
	leases := false
	boundTo := map[string][]string{} // rendered ClusterRole name -> ServiceAccounts bound
	for _, kind := range []string{"ClusterRoleBinding", "RoleBinding"} {
		for _, b := range r.byKind(kind) {
			refKind, refName := str(b.Object, "roleRef", "kind"), str(b.Object, "roleRef", "name")
			refNS := ""
			if refKind == "Role" {
				refNS = b.GetNamespace()
			}
			role := r.find(refKind, refNS, refName)
			if role == nil {
				t.Errorf("%s: roleRef %s %s is not rendered", ref(b), refKind, refName)
				continue
			}
			subjects, _, _ := unstructured.NestedSlice(b.Object, "subjects")
			for _, s := range subjects {
				sm := s.(map[string]any)
				if r.find("ServiceAccount", str(sm, "namespace"), str(sm, "name")) == nil && refName != r.metricsReader() {
					t.Errorf("%s: subject %s %s/%s is not rendered", ref(b), str(sm, "kind"), str(sm, "namespace"), str(sm, "name"))
				}
				if refKind == "ClusterRole" {
					boundTo[refName] = append(boundTo[refName], str(sm, "namespace")+"/"+str(sm, "name"))
				}
			}
			if refKind == "Role" && strings.Contains(fmt.Sprint(role.Object["rules"]), "leases") {
				leases = true
			}
		}
	}
	if !leases {
		t.Errorf("%s: no RoleBinding grants the manager its leader-election Lease", r.name)
	}
	sas := r.serviceAccounts(t)
	for _, g := range generatedRoles {
		want := readRules(t, g.file)
		var found *unstructured.Unstructured
		for _, cr := range r.byKind("ClusterRole") {
			var got roleRules
			raw, _ := yaml.Marshal(cr.Object)
			_ = yaml.Unmarshal(raw, &got)
			if reflect.DeepEqual(got.Rules, want) {
				found = cr
			}
		}
		if found == nil {
			t.Errorf("%s: no ClusterRole has the rules of %s (run `make chart-crds`)", r.name, g.file)
			continue
		}
		for _, sa := range boundTo[found.GetName()] {
			if sa != sas[g.component] {
				t.Errorf("%s: %s (rules of %s) is bound to %s; only %s's ServiceAccount %s may hold it",
					r.name, ref(found), g.file, sa, g.component, sas[g.component])
			}
		}
	}
}

// serviceAccounts maps component (manager, notification-receiver) to the
// namespace/name of its Deployment's ServiceAccount.
func (r rendering) serviceAccounts(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, d := range r.byKind("Deployment") {
		comp := d.GetLabels()["app.kubernetes.io/component"]
		out[comp] = d.GetNamespace() + "/" + str(podTemplate(d), "spec", "serviceAccountName")
	}
	if out["manager"] == "" || out["notification-receiver"] == "" {
		t.Fatalf("%s: want a manager and a notification-receiver Deployment, have %v", r.name, out)
	}
	return out
}

// metricsReader is the name of the rendered ClusterRole granting GET /metrics.
func (r rendering) metricsReader() string {
	for _, cr := range r.byKind("ClusterRole") {
		if strings.Contains(fmt.Sprint(cr.Object["rules"]), "nonResourceURLs:[/metrics]") {
			return cr.GetName()
		}
	}
	return ""
}

func checkIngresses(t *testing.T, r rendering) {
	for _, ing := range r.byKind("Ingress") {
		rules, _, _ := unstructured.NestedSlice(ing.Object, "spec", "rules")
		for _, rule := range rules {
			paths, _, _ := unstructured.NestedSlice(rule.(map[string]any), "http", "paths")
			for _, p := range paths {
				backend, _, _ := unstructured.NestedMap(p.(map[string]any), "backend", "service")
				svc := r.find("Service", ing.GetNamespace(), str(backend, "name"))
				if svc == nil {
					t.Errorf("%s: backend Service %q is not rendered", ref(ing), str(backend, "name"))
					continue
				}
				port := str(backend, "port", "name")
				ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
				if !slices.ContainsFunc(ports, func(p any) bool { return str(p.(map[string]any), "name") == port }) {
					t.Errorf("%s: backend port %q is not a port of %s", ref(ing), port, ref(svc))
				}
			}
		}
	}
}

func checkServiceMonitors(t *testing.T, r rendering, want bool) {
	sms := r.byKind("ServiceMonitor")
	if want != (len(sms) > 0) {
		t.Errorf("%s: %d ServiceMonitors rendered, want them: %v", r.name, len(sms), want)
	}
	var metricsServices []string
	for _, s := range r.byKind("Service") {
		ports, _, _ := unstructured.NestedSlice(s.Object, "spec", "ports")
		if slices.ContainsFunc(ports, func(p any) bool { return str(p.(map[string]any), "name") == "metrics" }) {
			metricsServices = append(metricsServices, ref(s))
		}
	}
	for _, sm := range sms {
		sel := stringMap(sm.Object, "spec", "selector", "matchLabels")
		names := stringSlice(sm.Object, "spec", "namespaceSelector", "matchNames")
		var got []string
		for _, s := range r.byKind("Service") {
			if selects(sel, s.GetLabels()) && (len(names) == 0 && s.GetNamespace() == sm.GetNamespace() || slices.Contains(names, s.GetNamespace())) {
				got = append(got, ref(s))
			}
		}
		slices.Sort(got)
		slices.Sort(metricsServices)
		if !slices.Equal(got, metricsServices) {
			t.Errorf("%s selects %v, want the metrics Services %v", ref(sm), got, metricsServices)
		}
		endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
		for _, e := range endpoints {
			if p := str(e.(map[string]any), "port"); p != "metrics" {
				t.Errorf("%s: endpoint port %q, want metrics", ref(sm), p)
			}
		}
	}
}

func checkPDBs(t *testing.T, r rendering) {
	for _, p := range r.byKind("PodDisruptionBudget") {
		sel := stringMap(p.Object, "spec", "selector", "matchLabels")
		if n := len(podsSelected(r, p.GetNamespace(), sel)); n != 1 {
			t.Errorf("%s: selects %d Deployments, want 1", ref(p), n)
		}
	}
}

func checkGatewayConfigs(t *testing.T, r rendering) {
	referenced := map[string]bool{}
	for _, g := range r.byKind("GatewayConfig") {
		referenced[str(g.Object, "spec", "credentialsSecretRef", "namespace")+"/"+str(g.Object, "spec", "credentialsSecretRef", "name")] = true
	}
	for _, s := range r.byKind("Secret") {
		if !referenced[s.GetNamespace()+"/"+s.GetName()] {
			t.Errorf("%s: no GatewayConfig references it", ref(s))
		}
		data := stringMap(s.Object, "stringData")
		for _, k := range []string{v1.SecretKeyClientID, v1.SecretKeyMerchantPrivateKey, v1.SecretKeyGatewayPublicKey} {
			if data[k] == "" {
				t.Errorf("%s: stringData lacks %s", ref(s), k)
			}
		}
		for k := range data {
			if !slices.Contains([]string{v1.SecretKeyClientID, v1.SecretKeyMerchantPrivateKey, v1.SecretKeyGatewayPublicKey, v1.SecretKeyKeyVersion}, k) {
				t.Errorf("%s: key %q is not one the operator reads", ref(s), k)
			}
		}
	}
}
