package gatewaysim

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// Errors returned by the Go control methods (and mapped to HTTP statuses by
// the control API).
var (
	ErrNotFound      = errors.New("not found")
	ErrAmbiguous     = errors.New("reference matches payments of several merchants; use the paymentId")
	ErrInvalidState  = errors.New("invalid state for this operation")
	ErrInvalidInput  = errors.New("invalid input")
	ErrUnknownClient = errors.New("unknown client id")
)

// Simulator is an in-process Antom/Alipay AMS gateway. Create it with New,
// register merchants with AddMerchant, serve Handler (or Start), and drive it
// with the control methods. All methods are safe for concurrent use.
type Simulator struct {
	opts         Options
	gwKey        *rsa.PrivateKey
	gwKeyVersion string
	clock        Clock
	sched        *scheduler
	bc           *broadcaster
	nt           *notifier
	log          *slog.Logger
	httpClient   *http.Client

	cfgMu    sync.RWMutex
	behavior Behavior
	faults   FaultProfile

	rngMu sync.Mutex
	rng   *rand.Rand

	merchMu   sync.RWMutex
	merchants map[string]*merchant

	idxMu    sync.RWMutex
	payments map[string]*payment // by paymentId, all merchants
	disputes map[string]*dispute // by disputeId

	idSeq atomic.Uint64

	srvMu sync.Mutex
	srv   *http.Server
	url   string

	ctlOnce sync.Once
	ctl     http.Handler

	closeOnce sync.Once

	rep *reports

	apiKeys apiKeyStore

	regs regStore // merchant registrations (registration.go)
}

// New creates a simulator and starts its timer goroutine. Call Close when done.
func New(opts Options) (*Simulator, error) {
	if err := opts.fillDefaults(); err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: opts.NotifyTimeout}
	}
	s := &Simulator{
		opts:         opts,
		gwKey:        opts.GatewayKey,
		gwKeyVersion: opts.GatewayKeyVersion,
		clock:        opts.Clock,
		log:          logger,
		httpClient:   hc,
		behavior:     opts.Behavior,
		faults:       opts.Faults,
		rng:          rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		merchants:    map[string]*merchant{},
		payments:     map[string]*payment{},
		disputes:     map[string]*dispute{},
	}
	s.bc = newBroadcaster()
	s.sched = newScheduler(s.clock, s.bc)
	s.nt = newNotifier(s)
	s.sched.waitNt = s.nt.waitIdle
	s.rep = newReports(s)
	if mc, ok := s.clock.(*ManualClock); ok {
		mc.mu.Lock()
		mc.sim = s
		mc.mu.Unlock()
	}
	go s.sched.loop()
	if a := opts.Reports.SFTPAddr; a != "" {
		if _, err := s.StartSFTP(a); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Close stops the timers, the notification workers and a server started by
// Start. It does not wait for notifications still due.
func (s *Simulator) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.sched.stop)
		<-s.sched.done
		s.nt.close()
		s.rep.close()
		s.srvMu.Lock()
		srv := s.srv
		s.srvMu.Unlock()
		if srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err = srv.Shutdown(ctx)
		}
	})
	return err
}

// Start serves Handler on addr (e.g. "127.0.0.1:0") and returns the base URL.
func (s *Simulator) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.srvMu.Lock()
	s.srv = srv
	s.url = "http://" + ln.Addr().String()
	u := s.url
	s.srvMu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return u, nil
}

// Shutdown gracefully stops a server started by Start, then closes the simulator.
func (s *Simulator) Shutdown(ctx context.Context) error {
	s.srvMu.Lock()
	srv := s.srv
	s.srv = nil
	s.srvMu.Unlock()
	var err error
	if srv != nil {
		err = srv.Shutdown(ctx)
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return err
}

// GatewayPublicKey returns the key merchants verify responses and
// notifications with.
func (s *Simulator) GatewayPublicKey() *rsa.PublicKey { return &s.gwKey.PublicKey }

// GatewayPublicKeyString returns it in the gateway's format (base64 X.509 SPKI).
func (s *Simulator) GatewayPublicKeyString() string {
	k, _ := gateway.EncodePublicKey(&s.gwKey.PublicKey)
	return k
}

// GatewayKeyVersion returns the keyVersion of the simulator's signatures.
func (s *Simulator) GatewayKeyVersion() string { return s.gwKeyVersion }

// Now returns the simulated time.
func (s *Simulator) Now() time.Time { return s.clock.Now() }

// Clock returns the simulator's clock.
func (s *Simulator) Clock() Clock { return s.clock }

// Advance moves the simulated clock forward by d. Every timer that falls due
// runs in time order (each seeing its own due time on a manual clock), and
// the notifications due by then, including retries, are attempted before
// Advance returns. On a ScaledClock it skips ahead by d.
func (s *Simulator) Advance(d time.Duration) {
	if d < 0 {
		d = 0
	}
	s.sched.advance(d)
}

// Quiesce waits until nothing is due: no timer due now and no notification
// queued or in flight. Tests call it after an action that notifies instead of
// sleeping.
func (s *Simulator) Quiesce(ctx context.Context) error {
	return s.bc.waitUntil(ctx, func() bool { return !s.sched.busy() && s.nt.idle() }, s.sched.kick)
}

// Sync is Quiesce with a 30-second (wall time) limit.
func (s *Simulator) Sync() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.Quiesce(ctx)
}

// SetFaults replaces the fault profile.
func (s *Simulator) SetFaults(f FaultProfile) error {
	if err := f.Validate(); err != nil {
		return err
	}
	s.cfgMu.Lock()
	s.faults = f
	s.cfgMu.Unlock()
	s.merchMu.RLock()
	for _, m := range s.merchants {
		m.mu.Lock()
		m.bucket = nil
		m.mu.Unlock()
	}
	s.merchMu.RUnlock()
	return nil
}

// Faults returns the fault profile.
func (s *Simulator) Faults() FaultProfile {
	s.cfgMu.RLock()
	defer s.cfgMu.RUnlock()
	return s.faults
}

// SetBehavior replaces the runtime behaviour settings.
func (s *Simulator) SetBehavior(b Behavior) {
	s.cfgMu.Lock()
	s.behavior = b
	s.cfgMu.Unlock()
}

// Behavior returns the runtime behaviour settings.
func (s *Simulator) Behavior() Behavior {
	s.cfgMu.RLock()
	defer s.cfgMu.RUnlock()
	return s.behavior
}

// chance draws from the seeded generator.
func (s *Simulator) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	if p >= 1 {
		return true
	}
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64() < p
}

func (s *Simulator) randDuration(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return time.Duration(s.rng.Int64N(int64(max)))
}

// newID makes a gateway id: yyyyMMdd (simulated, GMT+8) + 2-digit kind + 14-digit sequence.
func (s *Simulator) newID(kind string) string {
	n := s.idSeq.Add(1)
	return s.clock.Now().In(gmt8).Format("20060102") + kind + fmt.Sprintf("%014d", n)
}

const (
	idPayment     = "11"
	idCapture     = "12"
	idRefund      = "13"
	idCustomsPay  = "14"
	idCustomsOrd  = "15"
	idDispute     = "16"
	idNotify      = "17"
	idClearing    = "18"
	captureManual = "MANUAL"
	// captureAutomatic: the gateway captures the full amount itself.
	captureAutomatic = "AUTOMATIC"
)

var gmt8 = time.FixedZone("GMT+8", 8*3600)

// ---- merchants ---------------------------------------------------------------

type merchant struct {
	clientID string

	cfgMu     sync.RWMutex
	keys      map[string]*rsa.PublicKey
	notifyURL string
	options   []PaymentOptionConfig

	mu           sync.Mutex
	payments     map[string]*payment // by paymentRequestId
	byID         map[string]*payment // by paymentId
	captures     map[string]*capture // by captureRequestId
	refunds      map[string]*refund  // by refundRequestId
	refundsByID  map[string]*refund
	declarations map[string]*declaration
	calls        map[ledgerKey]int
	tokens       map[string]*card
	bucket       *tokenBucket
}

type ledgerKey struct{ kind, id string }

// AddMerchant registers a merchant: its Client-Id, the public key its
// requests are verified with under keyVersion, and its default notification
// URL (the dashboard setting; "" for none). Adding an existing client id adds
// or replaces that key version and replaces the notify URL.
func (s *Simulator) AddMerchant(clientID string, pub *rsa.PublicKey, keyVersion, notifyURL string) error {
	if clientID == "" || pub == nil {
		return fmt.Errorf("%w: client id and public key are required", ErrInvalidInput)
	}
	if keyVersion == "" {
		keyVersion = "1"
	}
	s.merchMu.Lock()
	m, ok := s.merchants[clientID]
	if !ok {
		m = &merchant{
			clientID: clientID, keys: map[string]*rsa.PublicKey{},
			options:  append([]PaymentOptionConfig(nil), s.opts.PaymentOptions...),
			payments: map[string]*payment{}, byID: map[string]*payment{},
			captures: map[string]*capture{}, refunds: map[string]*refund{}, refundsByID: map[string]*refund{},
			declarations: map[string]*declaration{}, calls: map[ledgerKey]int{}, tokens: map[string]*card{},
		}
		s.merchants[clientID] = m
	}
	s.merchMu.Unlock()
	m.cfgMu.Lock()
	m.keys[keyVersion] = pub
	m.notifyURL = notifyURL
	m.cfgMu.Unlock()
	return nil
}

// AddMerchantKey registers another key version for an existing merchant.
func (s *Simulator) AddMerchantKey(clientID, keyVersion string, pub *rsa.PublicKey) error {
	m := s.merchant(clientID)
	if m == nil {
		return ErrUnknownClient
	}
	if pub == nil || keyVersion == "" {
		return fmt.Errorf("%w: key version and key are required", ErrInvalidInput)
	}
	m.cfgMu.Lock()
	m.keys[keyVersion] = pub
	m.cfgMu.Unlock()
	return nil
}

// RevokeMerchantKey withdraws one key version of a merchant, as replacing
// the key pair on the dashboard does: requests signed under it are refused
// with F KEY_NOT_FOUND from then on. Revoking the last key version leaves
// the merchant registered but unable to call.
func (s *Simulator) RevokeMerchantKey(clientID, keyVersion string) error {
	m := s.merchant(clientID)
	if m == nil {
		return ErrUnknownClient
	}
	m.cfgMu.Lock()
	defer m.cfgMu.Unlock()
	if _, ok := m.keys[keyVersion]; !ok {
		return fmt.Errorf("%w: client %q has no key version %q", ErrNotFound, clientID, keyVersion)
	}
	delete(m.keys, keyVersion)
	return nil
}

// MerchantKeyVersions lists a merchant's registered key versions, sorted.
func (s *Simulator) MerchantKeyVersions(clientID string) ([]string, error) {
	m := s.merchant(clientID)
	if m == nil {
		return nil, ErrUnknownClient
	}
	m.cfgMu.RLock()
	defer m.cfgMu.RUnlock()
	out := make([]string, 0, len(m.keys))
	for v := range m.keys {
		out = append(out, v)
	}
	sort.Strings(out)
	return out, nil
}

// SetNotifyURL changes a merchant's default notification URL.
func (s *Simulator) SetNotifyURL(clientID, notifyURL string) error {
	m := s.merchant(clientID)
	if m == nil {
		return ErrUnknownClient
	}
	m.cfgMu.Lock()
	m.notifyURL = notifyURL
	m.cfgMu.Unlock()
	return nil
}

// SetPaymentOptions replaces the payment options consult returns for a
// merchant (and that pay accepts).
func (s *Simulator) SetPaymentOptions(clientID string, opts []PaymentOptionConfig) error {
	m := s.merchant(clientID)
	if m == nil {
		return ErrUnknownClient
	}
	m.cfgMu.Lock()
	m.options = append([]PaymentOptionConfig(nil), opts...)
	m.cfgMu.Unlock()
	return nil
}

func (s *Simulator) merchant(clientID string) *merchant {
	s.merchMu.RLock()
	defer s.merchMu.RUnlock()
	return s.merchants[clientID]
}

func (s *Simulator) allMerchants() []*merchant {
	s.merchMu.RLock()
	defer s.merchMu.RUnlock()
	out := make([]*merchant, 0, len(s.merchants))
	for _, m := range s.merchants {
		out = append(out, m)
	}
	return out
}

func (m *merchant) defaultNotifyURL() string {
	m.cfgMu.RLock()
	defer m.cfgMu.RUnlock()
	return m.notifyURL
}

func (m *merchant) key(version string) *rsa.PublicKey {
	m.cfgMu.RLock()
	defer m.cfgMu.RUnlock()
	return m.keys[version]
}

func (m *merchant) option(method string) (PaymentOptionConfig, bool) {
	m.cfgMu.RLock()
	defer m.cfgMu.RUnlock()
	for _, o := range m.options {
		if o.PaymentMethodType == method {
			return o, true
		}
	}
	return PaymentOptionConfig{}, false
}

func (m *merchant) optionList() []PaymentOptionConfig {
	m.cfgMu.RLock()
	defer m.cfgMu.RUnlock()
	return append([]PaymentOptionConfig(nil), m.options...)
}

// count records a call for the ledger; m.mu must be held.
func (m *merchant) count(kind, id string) {
	if id != "" {
		m.calls[ledgerKey{kind, id}]++
	}
}

// findPayment resolves a reference (paymentId, or paymentRequestId of any
// merchant) to a payment.
func (s *Simulator) findPayment(ref string) (*payment, error) {
	s.idxMu.RLock()
	p := s.payments[ref]
	s.idxMu.RUnlock()
	if p != nil {
		return p, nil
	}
	if clientID, id, ok := strings.Cut(ref, "/"); ok {
		if m := s.merchant(clientID); m != nil {
			m.mu.Lock()
			p = m.payments[id]
			m.mu.Unlock()
			if p != nil {
				return p, nil
			}
		}
	}
	var found *payment
	for _, m := range s.allMerchants() {
		m.mu.Lock()
		q := m.payments[ref]
		m.mu.Unlock()
		if q != nil {
			if found != nil {
				return nil, ErrAmbiguous
			}
			found = q
		}
	}
	if found == nil {
		return nil, fmt.Errorf("payment %q: %w", ref, ErrNotFound)
	}
	return found, nil
}
