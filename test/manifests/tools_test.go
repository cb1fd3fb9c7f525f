package manifests

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/cashier-operator/cashier-operator/internal/testenv"
)

const (
	chartDir        = "charts/cashier-operator"
	chartFullValues = "charts/cashier-operator/ci/full-values.yaml"
)

// root is the module root; every path in these tests is relative to it.
func root(t testing.TB) string {
	t.Helper()
	r, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func path(t testing.TB, rel string) string { return filepath.Join(root(t), rel) }

// run runs a command in the module root and returns its stdout; a failure
// reports the command line and its stderr.
func run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	out, err := tryRun(t, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func tryRun(t testing.TB, name string, args ...string) ([]byte, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Dir = root(t)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String(), stdout.String())
	}
	return stdout.Bytes(), nil
}

var (
	helmOnce sync.Once
	helmPath string
	helmErr  error
)

// helm returns the pinned helm binary: $HELM, or what hack/helm.sh prints on
// its last line (it builds helm on first use — a few minutes — and is
// instant afterwards; its progress goes to stderr).
func helm(t testing.TB) string {
	t.Helper()
	helmOnce.Do(func() {
		if p := os.Getenv("HELM"); p != "" {
			helmPath, helmErr = checkExecutable(p, "$HELM")
			return
		}
		var stdout bytes.Buffer
		cmd := exec.Command("bash", filepath.Join(root(t), "hack", "helm.sh"))
		cmd.Dir = root(t)
		cmd.Stdout = &stdout
		cmd.Stderr = os.Stderr // progress of a first build
		if err := cmd.Run(); err != nil {
			helmErr = fmt.Errorf("hack/helm.sh failed (it builds the pinned helm; see its output above): %w", err)
			return
		}
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		helmPath, helmErr = checkExecutable(strings.TrimSpace(lines[len(lines)-1]), "hack/helm.sh's last line")
	})
	if helmErr != nil {
		t.Fatal(helmErr)
	}
	return helmPath
}

// kubectl returns $KUBECTL or $KUBEBUILDER_ASSETS/kubectl (hack/control-plane.sh
// builds it there next to kube-apiserver and etcd).
func kubectl(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("KUBECTL"); p != "" {
		p, err := checkExecutable(p, "$KUBECTL")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test`, or point it at hack/control-plane.sh's directory (it holds kubectl), or set KUBECTL")
	}
	p, err := checkExecutable(filepath.Join(assets, "kubectl"), "kubectl in $KUBEBUILDER_ASSETS")
	if err != nil {
		t.Fatalf("%v (hack/control-plane.sh builds kubectl next to kube-apiserver; or set KUBECTL)", err)
	}
	return p
}

func checkExecutable(p, what string) (string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s: %s is not an executable file", what, p)
	}
	return p, nil
}

// decode splits a multi-document YAML stream into objects (empty documents
// are dropped; every remaining one must have apiVersion, kind and a name).
func decode(t testing.TB, what string, data []byte) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("%s: decoding object %d: %v", what, len(objs)+1, err)
		}
		if trimmed := bytes.TrimSpace(raw); len(trimmed) == 0 || string(trimmed) == "null" || string(trimmed) == "{}" {
			continue
		}
		// Unstructured's own decoding keeps integers int64 (encoding/json would
		// make them float64).
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			t.Fatalf("%s: object %d: %v\n%s", what, len(objs)+1, err, raw)
		}
		if u.GetAPIVersion() == "" || u.GetName() == "" {
			t.Fatalf("%s: object %d lacks apiVersion or metadata.name:\n%s", what, len(objs)+1, raw)
		}
		objs = append(objs, u)
	}
	if len(objs) == 0 {
		t.Fatalf("%s rendered no objects", what)
	}
	return objs
}

func ref(u *unstructured.Unstructured) string {
	if ns := u.GetNamespace(); ns != "" {
		return fmt.Sprintf("%s %s/%s", u.GetKind(), ns, u.GetName())
	}
	return fmt.Sprintf("%s %s", u.GetKind(), u.GetName())
}
