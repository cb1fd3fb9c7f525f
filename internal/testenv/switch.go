package testenv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Switch puts a notification-receiver behind a switch: while Down it
// answers 503, as a crashed pod behind its Service would; while up it keeps
// every request it passes on, for replays and forgeries.
type Switch struct {
	// Down, when set, refuses every request with 503.
	Down atomic.Bool

	h    http.Handler
	mu   sync.Mutex
	seen []Seen
}

// Seen is one request the switch passed on.
type Seen struct {
	Path   string
	Header http.Header
	Body   []byte
}

// NewSwitch is a switch in front of h, up.
func NewSwitch(h http.Handler) *Switch { return &Switch{h: h} }

func (s *Switch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.Down.Load() {
		http.Error(w, "receiver down", http.StatusServiceUnavailable)
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.mu.Lock()
	s.seen = append(s.seen, Seen{Path: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: body})
	s.mu.Unlock()
	s.h.ServeHTTP(w, r)
}

// Sent returns the last request whose body contains all of subs; ok is
// false when there is none.
func (s *Switch) Sent(subs ...string) (Seen, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.seen) - 1; i >= 0; i-- {
		ok := true
		for _, sub := range subs {
			ok = ok && bytes.Contains(s.seen[i].Body, []byte(sub))
		}
		if ok {
			return s.seen[i], true
		}
	}
	return Seen{}, false
}

// Post sends body with header to base+path (a replay, or a forgery of
// what Sent returned) and returns the HTTP status.
func Post(t testing.TB, base, path string, header http.Header, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Kubectl runs the pinned kubectl (next to kube-apiserver in
// $KUBEBUILDER_ASSETS) against the test apiserver and returns its output.
func (e *Env) Kubectl(t testing.TB, args ...string) string {
	t.Helper()
	cfg := e.Config
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin"}
	kc.CurrentContext = "envtest"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl"), append([]string{"--kubeconfig", path}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// WaitFor re-reads obj through c until cond holds, failing t after
// timeout with what and the object as describe renders it.
func WaitFor[T client.Object](t testing.TB, c client.Client, timeout time.Duration, obj T, what string, cond func() bool, describe func(client.Object) any) T {
	t.Helper()
	Eventually(t, timeout, what, func() (bool, string) {
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return false, err.Error()
		}
		return cond(), fmt.Sprintf("%+v", describe(obj))
	})
	return obj
}
