// Package localsystem runs the whole cashier-operator system on this
// machine as separate processes, wired together: a real etcd and
// kube-apiserver (from KUBEBUILDER_ASSETS), alipay-sim, the manager and the
// notification-receiver, with a merchant Secret and GatewayConfig. The demo
// (make demo / make dev), the benchmark (make bench) and the chaos suite use
// it; they can kill and restart any process.
package localsystem

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/admission"
)

// Options configure Start.
type Options struct {
	// Root is the repository root (default: the working directory).
	Root string
	// BinDir holds the built binaries (default Root/bin).
	BinDir string
	// Namespace holds the merchant Secret (default "default").
	Namespace string
	// ClientID is the simulated merchant's Client-Id.
	ClientID string
	// GatewayConfig is its name (default "alipay-sim").
	GatewayConfig string
	// SimArgs are extra alipay-sim flags (e.g. --auto-complete 1s).
	SimArgs []string
	// ManagerArgs and ReceiverArgs are extra flags.
	ManagerArgs, ReceiverArgs []string
	// Gateway adjusts the GatewayConfig spec before it is created.
	Gateway func(*v1.GatewayConfigSpec)
	// Log receives progress lines (default: discard).
	Log func(format string, a ...any)
	// KeepWork keeps the work directory (logs) on Stop.
	KeepWork bool
}

// System is a running local system.
type System struct {
	opts Options
	// Work is the directory holding the kubeconfig, keys and process logs.
	Work string
	// Kubeconfig is an admin kubeconfig for the apiserver.
	Kubeconfig string
	// Kubectl is the pinned kubectl.
	Kubectl string
	// Config reaches the apiserver as an administrator.
	Config *rest.Config
	// Client is a direct client with the project's scheme.
	Client client.Client
	// SimURL, ReceiverURL are the simulator's and the receiver's base URLs.
	SimURL, ReceiverURL string
	// ManagerMetricsURL, ReceiverMetricsURL are the Prometheus endpoints.
	ManagerMetricsURL, ReceiverMetricsURL string

	env   *envtest.Environment
	mu    sync.Mutex
	procs map[string]*Process
}

// Process is one of our binaries running as a child process.
type Process struct {
	Name string
	path string
	args []string
	log  *os.File
	// ReadyURL answers 200 once the process is ready ("" = no check).
	ReadyURL string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Start brings the whole system up and waits until the GatewayConfig is Ready.
func Start(ctx context.Context, opts Options) (_ *System, err error) {
	if err := opts.fillDefaults(); err != nil {
		return nil, err
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		return nil, errors.New("KUBEBUILDER_ASSETS is not set (hack/control-plane.sh prints the directory)")
	}
	s := &System{opts: opts, Kubectl: filepath.Join(assets, "kubectl"), procs: map[string]*Process{}}
	if s.Work, err = os.MkdirTemp("", "cashier-local-"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()

	opts.Log("starting etcd and kube-apiserver (%s)", assets)
	if err := s.startControlPlane(); err != nil {
		return nil, err
	}
	keys, err := s.startSimulator()
	if err != nil {
		return nil, err
	}
	// The receiver's URL goes into the GatewayConfig before it runs.
	rcv := ports{listen: FreePort(), metrics: FreePort(), probe: FreePort()}
	s.ReceiverURL = fmt.Sprintf("http://127.0.0.1:%d", rcv.listen)
	// Plain HTTP on loopback (--metrics-secure=false): the bench scrapes it.
	s.ReceiverMetricsURL = fmt.Sprintf("http://127.0.0.1:%d/metrics", rcv.metrics)
	opts.Log("creating the merchant Secret and GatewayConfig %s", opts.GatewayConfig)
	if err := s.merchant(ctx, keys); err != nil {
		return nil, err
	}
	if err := s.startOperator(rcv); err != nil {
		return nil, err
	}
	if err := s.waitGatewayReady(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// fillDefaults sets the options left empty to their defaults.
func (o *Options) fillDefaults() error {
	if o.Root == "" {
		var err error
		if o.Root, err = os.Getwd(); err != nil {
			return err
		}
	}
	if o.BinDir == "" {
		o.BinDir = filepath.Join(o.Root, "bin")
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.ClientID == "" {
		o.ClientID = "SANDBOX_DEMO0001"
	}
	if o.GatewayConfig == "" {
		o.GatewayConfig = "alipay-sim"
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	return nil
}

// startControlPlane starts etcd and kube-apiserver with our CRDs, writes an
// admin kubeconfig into the work directory and makes the admin client.
func (s *System) startControlPlane() error {
	s.env = &envtest.Environment{CRDDirectoryPaths: []string{filepath.Join(s.opts.Root, "config", "crd", "bases")}, ErrorIfCRDPathMissing: true}
	var err error
	if s.Config, err = s.env.Start(); err != nil {
		return fmt.Errorf("control plane: %w", err)
	}
	s.Config.QPS, s.Config.Burst = -1, 0 // the driver's own requests are not the subject of any limit
	user, err := s.env.ControlPlane.AddUser(envtest.User{Name: "local-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return err
	}
	s.Kubeconfig = filepath.Join(s.Work, "kubeconfig")
	if err := os.WriteFile(s.Kubeconfig, kc, 0o600); err != nil {
		return err
	}
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1.AddToScheme(scheme)
	if s.Client, err = client.New(s.Config, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	return admission.Install(s.Client, filepath.Join(s.opts.Root, "config", "admission"))
}

// startSimulator starts alipay-sim on a free port; it returns the directory
// of the key pairs the simulator wrote.
func (s *System) startSimulator() (keys string, err error) {
	simPort := FreePort()
	s.SimURL = fmt.Sprintf("http://127.0.0.1:%d", simPort)
	keys = filepath.Join(s.Work, "sim-keys")
	s.opts.Log("starting alipay-sim on %s", s.SimURL)
	simArgs := append([]string{"--listen", fmt.Sprintf("127.0.0.1:%d", simPort), "--keys-dir", keys,
		"--client-id", s.opts.ClientID}, s.opts.SimArgs...)
	if _, err := s.startProcess("alipay-sim", s.SimURL+"/_sim/health", simArgs...); err != nil {
		return "", err
	}
	return keys, nil
}

// ports are a process's loopback ports.
type ports struct{ listen, metrics, probe int }

// startOperator starts the manager on free ports and the
// notification-receiver on rcv, each waited for until ready.
func (s *System) startOperator(rcv ports) error {
	s.opts.Log("starting the manager and the notification-receiver")
	metricsURL, err := s.startManager("manager")
	if err != nil {
		return err
	}
	s.ManagerMetricsURL = metricsURL
	_, err = s.startProcess("notification-receiver", fmt.Sprintf("http://127.0.0.1:%d/readyz", rcv.probe), append([]string{"--kubeconfig", s.Kubeconfig,
		"--listen", fmt.Sprintf("127.0.0.1:%d", rcv.listen),
		"--metrics-bind-address", fmt.Sprintf("127.0.0.1:%d", rcv.metrics), "--metrics-secure=false",
		"--health-probe-bind-address", fmt.Sprintf("127.0.0.1:%d", rcv.probe)}, s.opts.ReceiverArgs...)...)
	return err
}

// startManager starts a manager process called name (the binary is the
// manager's) on free ports and returns its metrics URL.
func (s *System) startManager(name string) (string, error) {
	mmetrics, mprobe := FreePort(), FreePort()
	args := append([]string{"--kubeconfig", s.Kubeconfig,
		"--metrics-bind-address", fmt.Sprintf("127.0.0.1:%d", mmetrics), "--metrics-secure=false",
		"--health-probe-bind-address", fmt.Sprintf("127.0.0.1:%d", mprobe)}, s.opts.ManagerArgs...)
	if _, err := s.startBinary(name, "manager", fmt.Sprintf("http://127.0.0.1:%d/readyz", mprobe), args...); err != nil {
		return "", err
	}
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", mmetrics), nil
}

// StartStandbyManager starts a second manager, named name, with the same
// flags as the first (ManagerArgs: give them --leader-elect, or two managers
// act at once), and returns its metrics URL.
func (s *System) StartStandbyManager(name string) (string, error) {
	return s.startManager(name)
}

// Process returns a running process by name (alipay-sim, manager, notification-receiver).
func (s *System) Process(name string) *Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.procs[name]
}

// RestartAPIServer stops and starts kube-apiserver (etcd keeps the data).
func (s *System) RestartAPIServer() error {
	api := s.env.ControlPlane.GetAPIServer()
	if err := api.Stop(); err != nil {
		return fmt.Errorf("stop kube-apiserver: %w", err)
	}
	if err := api.Start(); err != nil {
		return fmt.Errorf("start kube-apiserver: %w", err)
	}
	return nil
}

// APIServerMetrics fetches the apiserver's /metrics text.
func (s *System) APIServerMetrics(ctx context.Context) (string, error) {
	hc, err := rest.HTTPClientFor(s.Config)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(s.Config.Host, "/")+"/metrics", nil)
	if err != nil {
		return "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	return b.String(), err
}

// Kubectl runs kubectl against the system and returns its combined output.
func (s *System) KubectlRun(args ...string) (string, error) {
	cmd := exec.Command(s.Kubectl, append([]string{"--kubeconfig", s.Kubeconfig}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// Stop stops every process and the control plane, and removes the work
// directory unless KeepWork.
func (s *System) Stop() {
	s.mu.Lock()
	procs := make([]*Process, 0, len(s.procs))
	if p := s.procs["notification-receiver"]; p != nil {
		procs = append(procs, p)
	}
	for n, p := range s.procs { // the managers, standbys included
		if n != "notification-receiver" && n != "alipay-sim" {
			procs = append(procs, p)
		}
	}
	if p := s.procs["alipay-sim"]; p != nil {
		procs = append(procs, p)
	}
	s.mu.Unlock()
	for _, p := range procs {
		p.Stop(10 * time.Second)
	}
	if s.env != nil {
		_ = s.env.Stop()
	}
	if s.opts.KeepWork {
		s.opts.Log("logs kept in %s", s.Work)
	} else if s.Work != "" {
		_ = os.RemoveAll(s.Work)
	}
}

func (s *System) startProcess(name, readyURL string, args ...string) (*Process, error) {
	return s.startBinary(name, name, readyURL, args...)
}

// startBinary starts the binary bin as the process called name.
func (s *System) startBinary(name, bin, readyURL string, args ...string) (*Process, error) {
	path := filepath.Join(s.opts.BinDir, bin)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%s not built (run `make build`): %w", path, err)
	}
	logf, err := os.Create(filepath.Join(s.Work, name+".log"))
	if err != nil {
		return nil, err
	}
	p := &Process{Name: name, path: path, args: args, log: logf, ReadyURL: readyURL}
	if err := p.Start(); err != nil {
		return nil, err
	}
	s.opts.Log("  %s (pid %d) logs to %s", name, p.Pid(), logf.Name())
	s.mu.Lock()
	s.procs[name] = p
	s.mu.Unlock()
	return p, nil
}

// Start starts (or restarts) the process and waits until it is ready.
func (p *Process) Start() error {
	p.mu.Lock()
	cmd := exec.Command(p.path, p.args...)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	done := p.done
	go func() { _ = cmd.Wait(); close(done) }()
	p.mu.Unlock()
	if p.ReadyURL != "" {
		if err := WaitHTTP(context.Background(), p.ReadyURL, 60*time.Second); err != nil {
			return fmt.Errorf("%s not ready (log: %s): %w", p.Name, p.log.Name(), err)
		}
	}
	return nil
}

// Pid is the current process id.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.Process.Pid
}

// Kill sends SIGKILL and waits for the process to be gone: no shutdown runs.
func (p *Process) Kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// Stop sends SIGTERM and waits up to grace, then SIGKILL.
func (p *Process) Stop(grace time.Duration) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
	}
}

// LogPath is the process's log file.
func (p *Process) LogPath() string { return p.log.Name() }

// merchant reads the simulator's generated keys and creates the Secret and the GatewayConfig.
func (s *System) merchant(ctx context.Context, keys string) error {
	read := func(f string) ([]byte, error) { return os.ReadFile(filepath.Join(keys, f)) }
	priv, err := read("merchant_private_key.txt")
	if err != nil {
		return fmt.Errorf("simulator keys: %w", err)
	}
	pub, err := read("gateway_public_key.txt")
	if err != nil {
		return fmt.Errorf("simulator keys: %w", err)
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: s.opts.GatewayConfig + "-credentials", Namespace: s.opts.Namespace},
		Data: map[string][]byte{v1.SecretKeyClientID: []byte(s.opts.ClientID), v1.SecretKeyMerchantPrivateKey: bytes.TrimSpace(priv),
			v1.SecretKeyGatewayPublicKey: bytes.TrimSpace(pub)}}
	if err := s.Client.Create(ctx, sec); err != nil {
		return err
	}
	gwc := &v1.GatewayConfig{ObjectMeta: metav1.ObjectMeta{Name: s.opts.GatewayConfig}, Spec: v1.GatewayConfigSpec{
		Endpoint: s.SimURL, NotificationBaseURL: s.ReceiverURL,
		CredentialsSecretRef: v1.NamespacedSecretReference{Name: sec.Name, Namespace: s.opts.Namespace},
	}}
	if s.opts.Gateway != nil {
		s.opts.Gateway(&gwc.Spec)
	}
	return s.Client.Create(ctx, gwc)
}

func (s *System) waitGatewayReady(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var gwc v1.GatewayConfig
		if err := s.Client.Get(ctx, client.ObjectKey{Name: s.opts.GatewayConfig}, &gwc); err == nil {
			if c := meta.FindStatusCondition(gwc.Status.Conditions, v1.ConditionReady); c != nil && c.Status == metav1.ConditionTrue {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("GatewayConfig %s did not become Ready", s.opts.GatewayConfig)
}

// WaitHTTP polls u until it answers 200 or timeout passes.
func WaitHTTP(ctx context.Context, u string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) && ctx.Err() == nil {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s: %v", u, timeout, last)
}

// FreePort returns a free TCP port on loopback.
func FreePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
