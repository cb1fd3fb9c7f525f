// Package connection turns a GatewayConfig and its credentials Secret into a
// ready gateway client, and caches one client (with its rate limiter) per
// GatewayConfig. The manager's controllers and the notification receiver
// share it: the controllers to call the gateway, the receiver to find the
// gateway public key for a notification's Client-Id.
package connection

// Secrets the operator reads (ClusterRole secret-reader, generated into
// config/rbac/secret-reader/role.yaml): the credentials Secret of a
// GatewayConfig (here), card data and buyer certificates (controllers). Always
// uncached Gets, never list or watch. The manager is bound to it cluster-wide,
// or per watched namespace (a RoleBinding per namespace) when it serves only
// some namespaces; the notification-receiver never is (it reads the
// credentials Secrets by name only).
//
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// ErrNotReady means the GatewayConfig or its Secret cannot be used yet; the
// message says what to fix.
var ErrNotReady = errors.New("gateway connection not ready")

// Connection is a usable merchant connection.
type Connection struct {
	// Config is the GatewayConfig the connection was built from.
	Config *v1.GatewayConfig
	// Client calls the gateway: a *gateway.Client signed with the merchant
	// key when the Registry builds the connection; tests put a fake here
	// (package gatewayfake).
	Client gateway.Interface
	// ClientID is the merchant Client-Id.
	ClientID string
	// KeyVersion is the signing key version ("" with an API key).
	KeyVersion string
	// Credentials says whether requests are signed (PrivateKey) or carry an
	// API key (APIKey).
	Credentials v1.CredentialType
	// GatewayPublicKey verifies responses and notifications.
	GatewayPublicKey *rsa.PublicKey
	// SecretVersion is the credentials Secret's resourceVersion.
	SecretVersion string

	// rejection is the gateway's last refusal of these credentials (see
	// Rejected); nil while none is known.
	rejection atomic.Pointer[string]
}

// Rejected returns the gateway's last refusal of the connection's
// credentials (a revoked API key, a withdrawn key version), or "" when its
// last answer accepted them. A rejected connection is rebuilt from its
// Secret at the next Get, so that an edited Secret takes effect at once.
func (c *Connection) Rejected() string {
	if p := c.rejection.Load(); p != nil {
		return *p
	}
	return ""
}

// Credentials are the parsed contents of a credentials Secret: exactly one
// of PrivateKey and APIKey is set.
type Credentials struct {
	ClientID         string
	KeyVersion       string
	PrivateKey       *rsa.PrivateKey
	APIKey           gateway.APIKey
	GatewayPublicKey *rsa.PublicKey
}

// Type is the credential type the Secret holds.
func (c Credentials) Type() v1.CredentialType {
	if !c.APIKey.IsZero() {
		return v1.CredentialAPIKey
	}
	return v1.CredentialPrivateKey
}

// ParseSecret reads and checks a credentials Secret; every problem is named.
func ParseSecret(s *corev1.Secret) (Credentials, error) {
	var errs []error
	var c Credentials
	c.ClientID = string(s.Data[v1.SecretKeyClientID])
	if c.ClientID == "" {
		errs = append(errs, fmt.Errorf("key %q is missing or empty", v1.SecretKeyClientID))
	}
	errs = append(errs, parseRequestKey(s, &c)...)
	if raw := s.Data[v1.SecretKeyGatewayPublicKey]; len(raw) == 0 {
		errs = append(errs, fmt.Errorf("key %q is missing or empty", v1.SecretKeyGatewayPublicKey))
	} else if k, err := gateway.ParsePublicKey(string(raw)); err != nil {
		errs = append(errs, fmt.Errorf("key %q: %v", v1.SecretKeyGatewayPublicKey, err))
	} else {
		c.GatewayPublicKey = k
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("secret %s/%s: %w", s.Namespace, s.Name, errors.Join(errs...))
	}
	return c, nil
}

// parseRequestKey reads the key that authenticates requests: exactly one of
// merchantPrivateKey (with keyVersion, default "1") and apiKey. Messages
// never quote the values.
func parseRequestKey(s *corev1.Secret, c *Credentials) []error {
	priv, api := s.Data[v1.SecretKeyMerchantPrivateKey], s.Data[v1.SecretKeyAPIKey]
	switch {
	case len(priv) > 0 && len(api) > 0:
		return []error{fmt.Errorf("keys %q and %q are both set: set exactly one (the merchant RSA private key, or an API key)",
			v1.SecretKeyMerchantPrivateKey, v1.SecretKeyAPIKey)}
	case len(priv) == 0 && len(api) == 0:
		return []error{fmt.Errorf("neither %q nor %q is set: set exactly one (the merchant RSA private key, or an API key)",
			v1.SecretKeyMerchantPrivateKey, v1.SecretKeyAPIKey)}
	case len(api) > 0:
		k, err := gateway.ParseAPIKey(strings.TrimSpace(string(api)))
		if err != nil {
			return []error{fmt.Errorf("key %q: %v", v1.SecretKeyAPIKey, err)}
		}
		c.APIKey = k
		return nil
	}
	c.KeyVersion = string(s.Data[v1.SecretKeyKeyVersion])
	if c.KeyVersion == "" {
		c.KeyVersion = "1"
	}
	k, err := gateway.ParsePrivateKey(string(priv))
	if err != nil {
		return []error{fmt.Errorf("key %q: %v", v1.SecretKeyMerchantPrivateKey, err)}
	}
	c.PrivateKey = k
	return nil
}

// Options tune the clients the registry builds.
type Options struct {
	// Logger for the gateway clients.
	Logger logr.Logger
	// Observer records per-attempt metrics.
	Observer gateway.Observer
	// Retry overrides the client retry policy (tests use a fast one).
	Retry gateway.RetryPolicy
}

// Registry caches one Connection per GatewayConfig name. It is safe for
// concurrent use.
type Registry struct {
	configs client.Reader // GatewayConfigs: few, cluster-scoped; a cached reader is fine
	secrets client.Reader // uncached: Secrets are read only when needed, never watched cluster-wide
	opts    Options

	mu    sync.Mutex
	conns map[string]*Connection

	// events names a GatewayConfig whose credentials the gateway began or
	// stopped refusing (see Rejections).
	events chan event.GenericEvent
}

// NewRegistry makes a registry reading GatewayConfigs with configs (a
// cached client is fine) and Secrets with secrets (use an uncached reader so
// that no Secret informer watches the whole cluster).
func NewRegistry(configs, secrets client.Reader, opts Options) *Registry {
	return &Registry{configs: configs, secrets: secrets, opts: opts, conns: map[string]*Connection{},
		events: make(chan event.GenericEvent, 64)}
}

// Rejections delivers a GatewayConfig (name only) whenever the gateway
// begins refusing its credentials, or a rejected connection is rebuilt from
// an edited Secret, so that its controller reports it at once. Delivery is
// best effort: an event is dropped while 64 wait unread.
func (r *Registry) Rejections() <-chan event.GenericEvent { return r.events }

func (r *Registry) notify(name string) {
	select {
	case r.events <- event.GenericEvent{Object: &v1.GatewayConfig{ObjectMeta: metav1.ObjectMeta{Name: name}}}:
	default:
	}
}

// rejectionObserver records on its connection whether the gateway's last
// answer refused the credentials, and passes every attempt on.
type rejectionObserver struct {
	next   gateway.Observer
	conn   *Connection
	notify func()
}

func (o *rejectionObserver) ObserveAttempt(a gateway.Attempt) {
	if o.next != nil {
		o.next.ObserveAttempt(a)
	}
	switch {
	case gateway.CredentialsRejected(a.Err):
		msg := a.Err.Error() // the gateway's words; ResultError scrubs credentials
		if o.conn.rejection.Swap(&msg) == nil {
			o.notify()
		}
	case a.Code != "":
		if o.conn.rejection.Swap(nil) != nil {
			o.notify()
		}
	}
}

// Get returns the connection for the named GatewayConfig, building it on
// first use or after the GatewayConfig changed. A GatewayConfig or Secret
// that cannot be used gives an error wrapping ErrNotReady.
func (r *Registry) Get(ctx context.Context, name string) (*Connection, error) {
	var gwc v1.GatewayConfig
	if err := r.configs.Get(ctx, types.NamespacedName{Name: name}, &gwc); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%w: GatewayConfig %q not found", ErrNotReady, name)
		}
		return nil, fmt.Errorf("get GatewayConfig %q: %w", name, err)
	}
	r.mu.Lock()
	c := r.conns[name]
	r.mu.Unlock()
	if c != nil && c.Config.Generation == gwc.Generation && c.Config.UID == gwc.UID && c.Rejected() == "" {
		return c, nil
	}
	// New, changed, or refused by the gateway: re-read the Secret (a
	// rotated key may be there already).
	return r.Refresh(ctx, &gwc)
}

// Refresh (re)builds the connection for gwc, re-reading its Secret. The
// GatewayConfig controller calls it on every reconcile so that a rotated
// Secret takes effect; the rate limiter is kept when nothing changed.
func (r *Registry) Refresh(ctx context.Context, gwc *v1.GatewayConfig) (*Connection, error) {
	ref := gwc.Spec.CredentialsSecretRef
	var s corev1.Secret
	if err := r.secrets.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%w: secret %s/%s not found", ErrNotReady, ref.Namespace, ref.Name)
		}
		return nil, fmt.Errorf("get secret %s/%s: %w", ref.Namespace, ref.Name, err)
	}
	r.mu.Lock()
	cur := r.conns[gwc.Name]
	r.mu.Unlock()
	if cur != nil && cur.Config.Generation == gwc.Generation && cur.Config.UID == gwc.UID && cur.SecretVersion == s.ResourceVersion {
		return cur, nil
	}
	creds, err := ParseSecret(&s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotReady, err)
	}
	c := &Connection{Config: gwc.DeepCopy(), ClientID: creds.ClientID, KeyVersion: creds.KeyVersion,
		Credentials: creds.Type(), GatewayPublicKey: creds.GatewayPublicKey, SecretVersion: s.ResourceVersion}
	cfg := r.clientConfig(gwc, creds)
	cfg.Observer = &rejectionObserver{next: r.opts.Observer, conn: c, notify: func() { r.notify(gwc.Name) }}
	gc, err := gateway.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotReady, err)
	}
	c.Client = gc
	r.mu.Lock()
	r.conns[gwc.Name] = c
	r.mu.Unlock()
	if cur != nil && cur.Rejected() != "" {
		r.notify(gwc.Name) // the edited Secret replaced refused credentials
	}
	return c, nil
}

// clientConfig is the gateway client configuration of gwc with creds.
func (r *Registry) clientConfig(gwc *v1.GatewayConfig, creds Credentials) gateway.Config {
	cfg := gateway.Config{
		Endpoint:         gwc.Spec.Endpoint,
		PathPrefix:       gwc.Spec.PathPrefix,
		ClientID:         creds.ClientID,
		KeyVersion:       creds.KeyVersion,
		PrivateKey:       creds.PrivateKey,
		APIKey:           creds.APIKey,
		GatewayPublicKey: creds.GatewayPublicKey,
		Logger:           r.opts.Logger.WithValues("gatewayConfig", gwc.Name),
		Retry:            r.opts.Retry,
	}
	if rl := gwc.Spec.RateLimit; rl != nil {
		burst := int(rl.Burst)
		if burst == 0 {
			burst = int(rl.QPS)
		}
		cfg.RateLimit = gateway.RateLimit{QPS: float64(rl.QPS), Burst: burst}
	}
	if t := gwc.Spec.Timeouts; t != nil {
		cfg.Timeouts = map[gateway.API]time.Duration{}
		for _, api := range gateway.AllAPIs {
			// The client's defaults already split the APIs in two classes:
			// calls that move money (8s) and inquiries (5s).
			d := t.Inquiry
			if gateway.DefaultTimeout(api) > gateway.DefaultTimeout(gateway.APIInquiryPayment) {
				d = t.Payment
			}
			if d != nil && d.Duration > 0 {
				cfg.Timeouts[api] = d.Duration
			}
		}
	}
	return cfg
}

// Forget drops the cached connection of a deleted GatewayConfig.
func (r *Registry) Forget(name string) {
	r.mu.Lock()
	delete(r.conns, name)
	r.mu.Unlock()
}

// ByClientID returns the cached connections whose merchant is clientID (the
// receiver uses it to find the key a notification must be signed with).
func (r *Registry) ByClientID(clientID string) []*Connection {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*Connection
	for _, c := range r.conns {
		if c.ClientID == clientID {
			out = append(out, c)
		}
	}
	return out
}
