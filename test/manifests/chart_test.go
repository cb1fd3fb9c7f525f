package manifests

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestHelmLint(t *testing.T) {
	h := helm(t)
	for name, args := range map[string][]string{
		"default values": {"lint", "--strict", path(t, chartDir)},
		"full values":    {"lint", "--strict", path(t, chartDir), "--values", path(t, chartFullValues)},
	} {
		t.Run(name, func(t *testing.T) {
			out := run(t, h, args...)
			if !strings.Contains(string(out), "0 chart(s) failed") {
				t.Errorf("helm %s:\n%s", strings.Join(args, " "), out)
			}
		})
	}
}

// TestHelmRejectsBadValues: values.schema.json (and the templates' own checks)
// turn bad values away at `helm template` time, naming the culprit.
func TestHelmRejectsBadValues(t *testing.T) {
	h := helm(t)
	gw := "gatewayConfigs[0].name=gw,gatewayConfigs[0].endpoint=https://open-sea-global.alipay.com,"
	for _, c := range []struct {
		set  string
		want string // in helm's error
	}{
		{"manager.replicas=-1", "/manager/replicas"},
		{"manager.replicas=2,manager.leaderElection.enabled=false", "/manager/replicas"},
		{"manager.maxConcurrentReconciles.Payment=0", "/manager/maxConcurrentReconciles/Payment"},
		{"manager.maxConcurrentReconciles.Paymnt=2", "Paymnt"},
		{"manager.log.level=verbose", "/manager/log/level"},
		{"manager.log.level=8", "/manager/log/level"},
		{"receiver.logVerbosity=8", "/receiver/logVerbosity"},
		{"manager.gatewayConfigResync=5 minutes", "/manager/gatewayConfigResync"},
		{"manager.extraArgs[0]=leader-elect", "/manager/extraArgs/0"},
		{"image.pullPolicy=Sometimes", "/image/pullPolicy"},
		{"image.digest=latest", "/image/digest"},
		{"watchNamespaces[0]=Not_A_Namespace", "/watchNamespaces/0"},
		{"events=none", "/events"},
		{"receiver.port=70000", "/receiver/port"},
		{"receiver.replicas=-2", "/receiver/replicas"},
		{"receiver.tls.enabled=true", "/receiver/tls/secretName"},
		{"receiver.shutdownTimeout=", "/receiver/shutdownTimeout"},
		{"receiver.service.type=ExternalName", "/receiver/service/type"},
		{"receiver.ingress.enabled=true", "/receiver/ingress"},
		{"receiver.ingress.enabled=true,receiver.ingress.hosts[0].host=a.example.com,receiver.ingress.hosts[0].paths[0].path=notify", "/receiver/ingress/hosts/0/paths/0/path"},
		{"receiver.podDisruptionBudget.minAvailable=half", "/receiver/podDisruptionBudget/minAvailable"},
		{"serviceMonitor.interval=30 seconds", "/serviceMonitor/interval"},
		{"receiver.ingress.enabled=true,receiver.ingress.hosts[0].host=a.example.com", "notifications would cross the internet in clear"},
		{"networkPolicy.gatewayPorts[0]=0", "/networkPolicy/gatewayPorts/0"},
		{"rbac.credentialSecrets[0].namespace=shop", "/rbac/credentialSecrets/0"},
		{"replicas=3", "replicas"},
		{gw + "gatewayConfigs[0].credentials.existingSecret=s,gatewayConfigs[0].credentials.clientId=c", "/gatewayConfigs/0/credentials"},
		{gw + "gatewayConfigs[0].credentials.clientId=c", "/gatewayConfigs/0/credentials"},
		{gw + "gatewayConfigs[0].credentials.existingSecret=s,gatewayConfigs[0].pathPrefix=/api", "/gatewayConfigs/0/pathPrefix"},
		{gw + "gatewayConfigs[0].credentials.existingSecret=s,gatewayConfigs[0].rateLimit.qps=0", "/gatewayConfigs/0/rateLimit/qps"},
		{gw + "gatewayConfigs[0].credentials.existingSecret=s,gatewayConfigs[0].endpoint=https://x.example.com/ams", "/gatewayConfigs/0/endpoint"},
		{gw + "gatewayConfigs[0].credentials.existingSecret=s,gatewayConfigs[0].consultProfiles[0].name=app,gatewayConfigs[0].consultProfiles[0].terminalType=APP,gatewayConfigs[0].consultProfiles[0].amount.currency=HKD,gatewayConfigs[0].consultProfiles[0].amount.value=1", "osType"},
		{gw + "gatewayConfigs[0].credentials.existingSecret=s,gatewayConfigs[1].name=gw,gatewayConfigs[1].endpoint=https://x.example.com,gatewayConfigs[1].credentials.existingSecret=s", `name "gw" appears twice`},
	} {
		t.Run(c.set, func(t *testing.T) {
			out, err := tryRun(t, h, "template", "x", path(t, chartDir), "--set", c.set)
			if err == nil {
				t.Fatalf("helm template --set %s succeeded; want an error mentioning %q:\n%.400s", c.set, c.want, out)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("helm template --set %s: the error does not mention %q:\n%v", c.set, c.want, err)
			}
		})
	}
	// The same option set right passes (the table above is not failing for another reason).
	run(t, h, "template", "x", path(t, chartDir), "--set", gw+"gatewayConfigs[0].credentials.existingSecret=s,manager.replicas=2,receiver.tls.enabled=true,receiver.tls.secretName=tls")
}

func TestHelmKubeVersion(t *testing.T) {
	h := helm(t)
	run(t, h, "template", "x", path(t, chartDir), "--kube-version", "1.29.0")
	if _, err := tryRun(t, h, "template", "x", path(t, chartDir), "--kube-version", "1.28.9"); err == nil {
		t.Error("the chart renders for Kubernetes 1.28; its CRDs use CEL features of 1.29 (Chart.yaml kubeVersion)")
	}
}

// TestFullValuesSetEveryOption: ci/full-values.yaml sets every key of
// values.yaml, so the full-values dry-run covers every template branch the
// values reach.
func TestFullValuesSetEveryOption(t *testing.T) {
	defaults := readValues(t, chartDir+"/values.yaml")
	full := readValues(t, chartFullValues)
	var walk func(prefix string, d, f map[string]any)
	walk = func(prefix string, d, f map[string]any) {
		for _, k := range sortedKeys(d) {
			p := prefix + k
			fv, ok := f[k]
			if !ok {
				t.Errorf("%s does not set %s", chartFullValues, p)
				continue
			}
			dm, dIsMap := d[k].(map[string]any)
			fm, fIsMap := fv.(map[string]any)
			if dIsMap && len(dm) > 0 && fIsMap {
				walk(p+".", dm, fm)
				continue
			}
			if reflect.DeepEqual(d[k], fv) && !dIsMap && !isBool(fv) {
				// Booleans may keep their default (both branches are covered
				// by the default and the full values together).
				t.Logf("%s keeps the default of %s (%v)", chartFullValues, p, fv)
			}
		}
	}
	walk("", defaults, full)
}

func isBool(v any) bool { _, ok := v.(bool); return ok }

func readValues(t *testing.T, rel string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return m
}
