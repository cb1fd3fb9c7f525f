package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
)

// The manager serves no pprof endpoint, so the profile is taken from
// outside: perf(1) samples every CPU (cpu-clock, 99 Hz, system-wide) while
// the payments flow. Go binaries keep their symbol tables, so perf names Go
// functions; the summary splits samples by process and, per process of
// ours, by function and by Go package.

type perfRecorder struct {
	dir     string
	data    string
	cmd     *exec.Cmd
	start   time.Time
	seconds float64
}

// perfSummary is the per-process CPU share and the hottest functions.
type perfSummary struct {
	Seconds  float64
	Samples  int
	ByComm   []share            // share of all samples, per process
	TopFuncs map[string][]share // per process: self samples by function
	TopPkgs  map[string][]share // per process: self samples by Go package
	Dir      string
	// APIServer is the apiserver's own pprof profile: flat share by
	// function and by package.
	APIServerSeconds             int
	APIServerTop, APIServerByPkg []share
	APIServerErr                 string
}

type share struct {
	Name    string
	Percent float64
}

// Processes whose functions are summarized (perf truncates comm to 15 bytes).
var perfComms = []string{"manager", "notification-re", "alipay-sim"}

func startPerf(dir string, seconds int) (*perfRecorder, error) {
	if _, err := exec.LookPath("perf"); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p := &perfRecorder{dir: dir, data: filepath.Join(dir, "perf.data"), start: time.Now(), seconds: float64(seconds)}
	p.cmd = exec.Command("perf", "record", "-e", "cpu-clock", "-F", "99", "-a", "-g", "-o", p.data, "--", "sleep", strconv.Itoa(seconds))
	p.cmd.Stdout, p.cmd.Stderr = nil, nil
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	logf("perf recording system-wide into %s (pid %d)", p.data, p.cmd.Process.Pid)
	return p, nil
}

func (p *perfRecorder) stop() *perfSummary {
	stopped := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	_ = p.cmd.Wait()
	s := &perfSummary{Seconds: min(stopped.Sub(p.start).Seconds(), p.seconds), Dir: p.dir, TopFuncs: map[string][]share{}, TopPkgs: map[string][]share{}}
	out, err := exec.Command("perf", "report", "-i", p.data, "--stdio", "--no-children", "--sort", "comm", "-g", "none").Output()
	if err != nil {
		logf("perf report: %v", err)
		return s
	}
	_ = os.WriteFile(filepath.Join(p.dir, "by-process.txt"), out, 0o644)
	s.ByComm, s.Samples = parsePerfReport(out)
	for _, comm := range perfComms {
		out, err := exec.Command("perf", "report", "-i", p.data, "--stdio", "--no-children", "--percentage", "relative", "--comm", comm,
			"--sort", "sym", "-g", "none").Output()
		if err != nil {
			continue
		}
		_ = os.WriteFile(filepath.Join(p.dir, "functions-"+comm+".txt"), out, 0o644)
		funcs, _ := parsePerfReport(out)
		s.TopFuncs[comm] = funcs
		s.TopPkgs[comm] = byPackage(funcs)
	}
	return s
}

// parsePerfReport reads "  12.34%  name" lines; the header gives the sample count.
func parsePerfReport(out []byte) ([]share, int) {
	var shares []share
	samples := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "# Samples:") {
			f := strings.Fields(line)
			if len(f) >= 3 {
				n := strings.TrimSuffix(f[2], "K")
				v, _ := strconv.ParseFloat(n, 64)
				if strings.HasSuffix(f[2], "K") {
					v *= 1000
				}
				samples = int(v)
			}
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasSuffix(f[0], "%") {
			continue
		}
		pct, err := strconv.ParseFloat(strings.TrimSuffix(f[0], "%"), 64)
		if err != nil {
			continue
		}
		name := strings.Join(f[1:], " ")
		name = strings.TrimPrefix(name, "[.] ")
		name = strings.TrimPrefix(name, "[k] ")
		shares = append(shares, share{Name: name, Percent: pct})
	}
	return shares, samples
}

// byPackage sums function shares by Go package (the symbol up to the
// first '.' after the last '/'); kernel and C symbols are grouped apart.
func byPackage(funcs []share) []share {
	m := map[string]float64{}
	for _, f := range funcs {
		m[goPackage(f.Name)] += f.Percent
	}
	out := make([]share, 0, len(m))
	for k, v := range m {
		out = append(out, share{Name: k, Percent: v})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Percent > out[b].Percent })
	return out
}

func goPackage(sym string) string {
	if strings.HasPrefix(sym, "0x") {
		return "(unknown)"
	}
	slash := strings.LastIndexByte(sym, '/')
	rest := sym[slash+1:]
	dot := strings.IndexByte(rest, '.')
	if dot < 0 {
		return "(kernel/C)"
	}
	return sym[:slash+1+dot]
}

func (s *perfSummary) top(list []share, n int) string {
	var b strings.Builder
	for i, x := range list {
		if i == n {
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %.1f%%", x.Name, x.Percent)
	}
	return b.String()
}

// apiserverProfile fetches the apiserver's own Go CPU profile
// (/debug/pprof/profile, on by default in kube-apiserver) for seconds into
// path; the returned channel yields the outcome.
func apiserverProfile(ctx context.Context, cfg *rest.Config, seconds int, path string) <-chan error {
	done := make(chan error, 1)
	go func() {
		hc, err := rest.HTTPClientFor(cfg)
		if err != nil {
			done <- err
			return
		}
		u := strings.TrimRight(cfg.Host, "/") + fmt.Sprintf("/debug/pprof/profile?seconds=%d", seconds)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			done <- err
			return
		}
		hc.Timeout = time.Duration(seconds+30) * time.Second
		resp, err := hc.Do(req)
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			done <- fmt.Errorf("GET %s: %s", u, resp.Status)
			return
		}
		f, err := os.Create(path)
		if err != nil {
			done <- err
			return
		}
		_, err = io.Copy(f, resp.Body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	return done
}

// pprofTop runs `go tool pprof -top` on a profile and returns the flat
// shares of the hottest functions.
func pprofTop(path string, n int) ([]share, error) {
	out, err := exec.Command("go", "tool", "pprof", "-top", fmt.Sprintf("-nodecount=%d", n), path).Output()
	if err != nil {
		return nil, err
	}
	_ = os.WriteFile(path+".top.txt", out, 0o644)
	var shares []share
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		// flat flat% sum% cum cum% name...
		if len(f) < 6 || !strings.HasSuffix(f[1], "%") || !strings.HasSuffix(f[4], "%") {
			continue
		}
		pct, err := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64)
		if err != nil {
			continue
		}
		shares = append(shares, share{Name: strings.Join(f[5:], " "), Percent: pct})
	}
	return shares, nil
}
