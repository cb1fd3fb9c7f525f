package chaos

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/rest"

	"github.com/cashier-operator/cashier-operator/internal/localsystem"
)

// apiServer crashes kube-apiserver and brings it back: SIGKILL, then the
// same binary with the same command line (same cert dir, ports and etcd),
// so every client keeps working once it is up. It is the suite's own
// restart because localsystem.RestartAPIServer does not survive one (see
// TestLocalsystemRestartAPIServer). Set CHAOS_APISERVER_RESTART=localsystem
// to use RestartAPIServer instead.
type apiServer struct {
	ls  *localsystem.System
	dir string

	mu  sync.Mutex
	cmd *exec.Cmd // our replacement, once started
	n   int
}

// findAPIServer returns the pid and command line of the kube-apiserver
// this test process started.
func findAPIServer() (int, []string, error) {
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		lp, rp := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if lp < 0 || rp < lp || s[lp+1:rp] != "kube-apiserver" {
			continue
		}
		fields := strings.Fields(s[rp+1:])
		if len(fields) < 2 || fields[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(s[:lp]))
		raw, err := os.ReadFile(filepath.Join(filepath.Dir(p), "cmdline"))
		if err != nil {
			return 0, nil, err
		}
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		return pid, args, nil
	}
	return 0, nil, fmt.Errorf("no kube-apiserver child of pid %d", os.Getpid())
}

// restart kills kube-apiserver, keeps it down for down, starts it again and
// waits until it is ready.
func (a *apiServer) restart(ctx context.Context, down time.Duration) error {
	if os.Getenv("CHAOS_APISERVER_RESTART") == "localsystem" {
		if err := a.ls.RestartAPIServer(); err != nil {
			return err
		}
		return a.waitReady(ctx, 2*time.Minute)
	}
	pid, args, err := findAPIServer()
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill kube-apiserver: %w", err)
	}
	a.mu.Lock()
	prev := a.cmd
	a.mu.Unlock()
	if prev != nil {
		_ = prev.Wait()
	} else {
		// envtest reaps its own process; wait until the pid is gone.
		for i := 0; i < 100; i++ {
			if err := syscall.Kill(pid, 0); err != nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(down):
	}
	a.mu.Lock()
	a.n++
	logf, err := os.Create(filepath.Join(a.dir, fmt.Sprintf("kube-apiserver-%d.log", a.n)))
	if err != nil {
		a.mu.Unlock()
		return err
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		a.mu.Unlock()
		return fmt.Errorf("start kube-apiserver: %w", err)
	}
	a.cmd = cmd
	a.mu.Unlock()
	return a.waitReady(ctx, 2*time.Minute)
}

// waitReady polls /readyz as the administrator.
func (a *apiServer) waitReady(ctx context.Context, timeout time.Duration) error {
	hc, err := rest.HTTPClientFor(a.ls.Config)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(a.ls.Config.Host, "/")+"/readyz", nil)
		resp, err := hc.Do(req)
		if err == nil {
			var b bytes.Buffer
			_, _ = b.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%s: %s", resp.Status, b.String())
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kube-apiserver not ready after %s: %s", timeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// replaced reports whether the running kube-apiserver is ours.
func (a *apiServer) replaced() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cmd != nil
}

// stop kills our replacement (envtest only knows the original).
func (a *apiServer) stop() {
	a.mu.Lock()
	cmd := a.cmd
	a.cmd = nil
	a.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	}
}
