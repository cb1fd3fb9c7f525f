package cli_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/cashier-operator/cashier-operator/internal/cli"
	"github.com/cashier-operator/cashier-operator/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	env        *testenv.Env
	kubeconfig string
)

// now is the clock of every command in these tests; the fixtures' times are
// set relative to it.
var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	flag.Parse()
	var err error
	if env, err = testenv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "kubectl-cashier-test-")
	if err == nil {
		kubeconfig = filepath.Join(dir, "kubeconfig")
		err = writeKubeconfig(kubeconfig)
	}
	if err == nil {
		err = createFixtures(context.Background(), env.Client)
	}
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, "fixtures:", err)
	} else {
		code = m.Run()
	}
	_ = env.Stop()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// writeKubeconfig writes the envtest administrator's credentials with the
// default namespace "shop", as a user's kubeconfig would hold them.
func writeKubeconfig(path string) error {
	c := env.Config
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["envtest"] = &clientcmdapi.Cluster{Server: c.Host, CertificateAuthorityData: c.CAData}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: c.CertData, ClientKeyData: c.KeyData, Token: c.BearerToken}
	cfg.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin", Namespace: "shop"}
	cfg.CurrentContext = "envtest"
	return clientcmd.WriteToFile(*cfg, path)
}

// run runs kubectl-cashier with args against envtest and returns stdout,
// stderr and the error.
func run(t *testing.T, clock time.Time, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := cli.NewRootCommand(cli.Options{
		Streams: genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Now:     func() time.Time { return clock },
	})
	cmd.SetArgs(append([]string{"--kubeconfig", kubeconfig}, args...))
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// golden compares got with testdata/name.golden (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (go test ./internal/cli -update rewrites it)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

func TestStatus(t *testing.T) {
	for _, name := range []string{"wallet-hk", "card-auth", "wallet-declined", "alipay-cn"} {
		t.Run(name, func(t *testing.T) {
			out, _, err := run(t, now, "status", name)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "status-"+name, out)
		})
	}
	t.Run("missing", func(t *testing.T) {
		_, _, err := run(t, now, "status", "nope")
		if err == nil || !strings.Contains(err.Error(), `payment shop/nope: payments.payments.cashier-operator.io "nope" not found`) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestSummary(t *testing.T) {
	// Today is the real day the fixtures were created on; the header's
	// date is replaced so the golden file holds on any day.
	clock := time.Now().UTC()
	today := time.Date(clock.Year(), clock.Month(), clock.Day(), 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	for name, args := range map[string][]string{"summary-shop": {"summary"}, "summary-all": {"summary", "-A"}, "summary-empty": {"summary", "-n", "default"}} {
		t.Run(name, func(t *testing.T) {
			out, _, err := run(t, clock, args...)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name, strings.ReplaceAll(out, today, "TODAY"))
		})
	}
	t.Run("tomorrow", func(t *testing.T) {
		out, _, err := run(t, clock.Add(48*time.Hour), "summary", "-A")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(out, "\n")[3:] {
			if f := strings.Fields(line); len(f) > 2 && f[2] != "-" {
				t.Errorf("two days later, nothing is today: %q", line)
			}
		}
	})
}
