package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/connection"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/ids"
)

// Defaults.
const (
	DefaultTimeWindow      = 5 * time.Minute
	DefaultMaxBodyBytes    = 64 << 10
	DefaultRefreshInterval = 5 * time.Second
	DefaultApplyTimeout    = 20 * time.Second
)

// Options configure a Receiver.
type Options struct {
	// Client reads Payments, Captures, Refunds and GatewayConfigs (the
	// manager's cached client, with SetupIndexes registered) and writes
	// their status. Required.
	Client client.Client
	// APIReader reads uncached: it confirms objects the cache does not
	// have and re-reads after a write conflict. Required.
	APIReader client.Reader
	// Registry holds the merchant connections (client id, gateway public
	// key) built from GatewayConfigs. Required.
	Registry *connection.Registry
	// Recorder emits events on the objects; nil emits none.
	Recorder recorder.EventRecorder
	// Logger; the zero value discards.
	Logger logr.Logger
	// Registerer receives the metrics (e.g. controller-runtime's
	// metrics.Registry); nil keeps them unregistered.
	Registerer prometheus.Registerer
	// Now is the clock (default time.Now).
	Now func() time.Time
	// TimeWindow is how far Request-Time may be from now, either way
	// (default 5m).
	TimeWindow time.Duration
	// MaxBodyBytes is the largest body accepted (default 64 KiB).
	MaxBodyBytes int64
	// Namespaces, when set, are the only namespaces served (the manager
	// cache is restricted to them); a route naming another one is refused
	// with 404.
	Namespaces []string
	// PathPrefix is the external path prefix a reverse proxy strips before
	// the request reaches the receiver (e.g. "/pay-notify"); the gateway
	// signs the external path, so it is put back for verification.
	PathPrefix string
	// RefreshInterval is the least time between two rebuilds of all
	// connections triggered by an unknown Client-Id or a signature that
	// does not verify (default 5s), so unauthenticated requests cannot
	// make the receiver hammer the API server.
	RefreshInterval time.Duration
	// ApplyTimeout bounds finding, applying and writing one notification
	// (default 20s).
	ApplyTimeout time.Duration
	// RestoreNamespace is where the receiver asks for restores
	// (PaymentRestore) when a verified notification names an object that
	// is not in the cluster while its merchant has an archive: the
	// operator's namespace. "" never asks (such notifications are
	// acknowledged as unknown objects).
	RestoreNamespace string
	// RefusalLogInterval is the least time between two logged refusals of
	// the same reason once a burst of 5 is spent (default 1s); every
	// refusal is still answered and counted in the metrics.
	RefusalLogInterval time.Duration
}

// Receiver is the notification-receiver's http.Handler.
type Receiver struct {
	opts     Options
	log      logr.Logger
	metrics  *metrics
	served   map[string]bool
	refusals *refusalSampler

	refreshMu   sync.Mutex
	lastRefresh time.Time
	known       map[string]bool // GatewayConfig names refreshed into the registry
}

// New validates opts, registers the metrics and returns a Receiver.
func New(opts Options) (*Receiver, error) {
	var errs []error
	if opts.Client == nil {
		errs = append(errs, errors.New("Client is required"))
	}
	if opts.APIReader == nil {
		errs = append(errs, errors.New("APIReader is required"))
	}
	if opts.Registry == nil {
		errs = append(errs, errors.New("Registry is required"))
	}
	if opts.TimeWindow < 0 || opts.MaxBodyBytes < 0 || opts.RefreshInterval < 0 || opts.ApplyTimeout < 0 || opts.RefusalLogInterval < 0 {
		errs = append(errs, errors.New("TimeWindow, MaxBodyBytes, RefreshInterval, ApplyTimeout and RefusalLogInterval must not be negative"))
	}
	if p := opts.PathPrefix; p != "" && (!strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/")) {
		errs = append(errs, fmt.Errorf("PathPrefix %q must start with '/' and not end with '/'", p))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("receiver options: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TimeWindow == 0 {
		opts.TimeWindow = DefaultTimeWindow
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.RefreshInterval == 0 {
		opts.RefreshInterval = DefaultRefreshInterval
	}
	if opts.ApplyTimeout == 0 {
		opts.ApplyTimeout = DefaultApplyTimeout
	}
	if opts.RefusalLogInterval == 0 {
		opts.RefusalLogInterval = DefaultRefusalLogInterval
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	r := &Receiver{opts: opts, log: opts.Logger, metrics: m, known: map[string]bool{},
		refusals: newRefusalSampler(opts.RefusalLogInterval)}
	if len(opts.Namespaces) > 0 {
		r.served = map[string]bool{}
		for _, ns := range opts.Namespaces {
			r.served[ns] = true
		}
	}
	return r, nil
}

// Refusal reasons (label reason of rejected_total).
const (
	ReasonMethod          = "method"
	ReasonContentType     = "content_type"
	ReasonBodyTooLarge    = "body_too_large"
	ReasonReadBody        = "read_body"
	ReasonMissingHeader   = "missing_header"
	ReasonBadTime         = "bad_time"
	ReasonStale           = "stale"
	ReasonFuture          = "future"
	ReasonSignature       = "signature"
	ReasonUnknownClient   = "unknown_client"
	ReasonRoute           = "route"
	ReasonNamespace       = "namespace"
	ReasonMalformed       = "malformed"
	ReasonUnknownType     = "unknown_type"
	ReasonRouteKind       = "route_kind"
	ReasonGatewayMismatch = "gateway_mismatch"
	ReasonMismatch        = "mismatch"
)

// refusal is how a reason is answered.
type refusal struct {
	status int
	code   string
	msg    string
}

// refusals maps every refusal reason to its HTTP status and failure body.
// Messages before authentication are generic: they reveal nothing about
// objects or keys.
var refusals = map[string]refusal{
	ReasonMethod:          {http.StatusMethodNotAllowed, gateway.CodeMethodNotSupported, "notifications are POSTed"},
	ReasonContentType:     {http.StatusUnsupportedMediaType, gateway.CodeMediaTypeNotAcceptable, "notifications are application/json; charset=UTF-8"},
	ReasonBodyTooLarge:    {http.StatusRequestEntityTooLarge, gateway.CodeParamIllegal, "the body is larger than this receiver accepts"},
	ReasonReadBody:        {http.StatusBadRequest, gateway.CodeParamIllegal, "the body could not be read"},
	ReasonMissingHeader:   {http.StatusUnauthorized, gateway.CodeSignatureInvalid, "Client-Id, Request-Time and Signature are required"},
	ReasonBadTime:         {http.StatusBadRequest, gateway.CodeParamIllegal, "Request-Time is not a time"},
	ReasonStale:           {http.StatusUnauthorized, gateway.CodeSignatureInvalid, "Request-Time is outside the accepted window"},
	ReasonFuture:          {http.StatusUnauthorized, gateway.CodeSignatureInvalid, "Request-Time is outside the accepted window"},
	ReasonSignature:       {http.StatusUnauthorized, gateway.CodeSignatureInvalid, "the signature does not verify"},
	ReasonUnknownClient:   {http.StatusUnauthorized, gateway.CodeClientInvalid, "the Client-Id is not configured here"},
	ReasonRoute:           {http.StatusNotFound, gateway.CodeAPIInvalid, "not a notification route"},
	ReasonNamespace:       {http.StatusNotFound, gateway.CodeAPIInvalid, "this receiver does not serve that namespace"},
	ReasonMalformed:       {http.StatusBadRequest, gateway.CodeParamIllegal, "the body is not a valid notification"},
	ReasonUnknownType:     {http.StatusBadRequest, gateway.CodeParamIllegal, "unknown notification type"},
	ReasonRouteKind:       {http.StatusBadRequest, gateway.CodeParamIllegal, "this notification does not belong on this route"},
	ReasonGatewayMismatch: {http.StatusUnauthorized, gateway.CodeAccessDenied, "the object belongs to another merchant connection"},
	ReasonMismatch:        {http.StatusUnprocessableEntity, gateway.CodeParamIllegal, "the notification contradicts the object"},
}

// answer is the outcome of one request.
type answer struct {
	status  int
	kind    string // notification kind, or kindNone
	outcome string
	reason  string // refusal reason
	code    string // failure resultCode
	msg     string // failure resultMessage (safe to send)
	err     error  // for the log only (never bodies or signatures)
	object  string // ns/name or description, for the log
}

func ack(kind, outcome, object string) answer {
	return answer{status: http.StatusOK, kind: kind, outcome: outcome, object: object}
}

func refuse(kind, reason string, err error) answer {
	rf, ok := refusals[reason]
	if !ok {
		rf = refusal{http.StatusBadRequest, gateway.CodeParamIllegal, "refused"}
	}
	outcome := OutcomeRejected
	if reason == ReasonMismatch {
		outcome = OutcomeMismatch
	}
	return answer{status: rf.status, kind: kind, outcome: outcome, reason: reason, code: rf.code, msg: rf.msg, err: err}
}

// unavailable answers 503: the API server failed; the gateway re-sends.
func unavailable(kind string, err error) answer {
	return answer{status: http.StatusServiceUnavailable, kind: kind, outcome: OutcomeError,
		code: gateway.CodeUnknownException, msg: "temporarily unable to record the notification; send it again", err: err}
}

// internalError answers 500; the gateway re-sends.
func internalError(kind string, err error) answer {
	return answer{status: http.StatusInternalServerError, kind: kind, outcome: OutcomeError,
		code: gateway.CodeUnknownException, msg: "unable to record the notification; send it again", err: err}
}

// ServeHTTP verifies and applies one notification.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	v, a := r.verify(w, req)
	if a == nil {
		applyStart := time.Now()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(req.Context()), r.opts.ApplyTimeout)
		res := r.dispatch(ctx, v)
		cancel()
		a = &res
		r.metrics.applyDuration.WithLabelValues(a.kind).Observe(time.Since(applyStart).Seconds())
	}
	r.finish(w, req, v, *a, start)
}

// finish writes the answer, counts it and logs it.
func (r *Receiver) finish(w http.ResponseWriter, req *http.Request, v *verified, a answer, start time.Time) {
	if a.kind == "" {
		a.kind = kindNone
	}
	r.metrics.notifications.WithLabelValues(a.kind, a.outcome).Inc()
	if a.reason != "" {
		r.metrics.rejected.WithLabelValues(a.reason).Inc()
	}
	if a.outcome == OutcomeUnknownObject {
		r.metrics.unknown.WithLabelValues(a.kind).Inc()
	}

	kv := []any{"kind", a.kind, "outcome", a.outcome, "status", a.status, "path", req.URL.EscapedPath(),
		"remote", req.RemoteAddr, "duration", time.Since(start).Round(time.Microsecond).String()}
	if v != nil {
		kv = append(kv, "clientId", v.clientID)
	}
	if a.object != "" {
		kv = append(kv, "object", a.object)
	}
	if a.reason != "" {
		kv = append(kv, "reason", a.reason)
	}
	switch {
	case a.outcome == OutcomeRestoreRequested:
		r.log.Info("notification for an object that may be archived; restore asked, the gateway will send it again", kv...)
	case a.status >= 500:
		r.log.Error(a.err, "notification not recorded; the gateway will send it again", kv...)
	case a.status != http.StatusOK:
		ok, suppressed := r.refusals.allow(a.reason)
		if !ok {
			break
		}
		if a.err != nil {
			kv = append(kv, "error", a.err.Error())
		}
		if suppressed > 0 {
			kv = append(kv, "suppressedSinceLastLogged", suppressed)
		}
		r.log.Info("notification refused", kv...)
	case a.outcome == OutcomeUnknownObject:
		r.log.Info("notification for an object that does not exist; acknowledged", kv...)
	default:
		r.log.V(1).Info("notification acknowledged", kv...)
	}

	if a.status == http.StatusOK {
		w.Header().Set(gateway.HeaderContentType, gateway.ContentTypeJSON)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(gateway.NotificationAck))
		return
	}
	body, _ := json.Marshal(struct {
		Result gateway.Result `json:"result"`
	}{gateway.Result{ResultCode: a.code, ResultStatus: gateway.StatusFail, ResultMessage: a.msg}})
	if a.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	w.Header().Set(gateway.HeaderContentType, gateway.ContentTypeJSON)
	w.WriteHeader(a.status)
	_, _ = w.Write(body)
}

// verified is an authenticated notification.
type verified struct {
	req      gateway.NotificationRequest
	clientID string
	// signers are the connections whose Client-Id and key verified it.
	signers []*connection.Connection
	// route: kind "" is the default route.
	routeKind string
	key       client.ObjectKey
	// The parsed notification.
	kind string
	body any
}

// verify authenticates the request, before any object is read. It returns
// the notification, or the refusal.
func (r *Receiver) verify(w http.ResponseWriter, req *http.Request) (*verified, *answer) {
	nr, clientID, a := r.readRequest(w, req)
	if a != nil {
		return nil, a
	}
	v, a := r.authenticate(req, nr, clientID)
	if a != nil {
		return v, a
	}
	return v, r.parse(req, v)
}

// refused is the answer of a refusal, for verify's steps.
func refused(kind, reason string, err error) *answer {
	a := refuse(kind, reason, err)
	return &a
}

// readRequest checks the method, content type, size and headers and reads
// the body.
func (r *Receiver) readRequest(w http.ResponseWriter, req *http.Request) (gateway.NotificationRequest, string, *answer) {
	var none gateway.NotificationRequest
	if req.Method != http.MethodPost {
		return none, "", refused(kindNone, ReasonMethod, nil)
	}
	if !jsonContentType(req.Header.Get(gateway.HeaderContentType)) {
		return none, "", refused(kindNone, ReasonContentType, nil)
	}
	if req.ContentLength > r.opts.MaxBodyBytes {
		return none, "", refused(kindNone, ReasonBodyTooLarge, nil)
	}
	req.Body = http.MaxBytesReader(w, req.Body, r.opts.MaxBodyBytes)
	nr, err := gateway.NotificationRequestFromHTTP(req, r.opts.MaxBodyBytes)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) || strings.Contains(err.Error(), "larger than") {
			return none, "", refused(kindNone, ReasonBodyTooLarge, nil)
		}
		return none, "", refused(kindNone, ReasonReadBody, nil)
	}
	nr.Path = r.opts.PathPrefix + nr.Path
	clientID := req.Header.Get(gateway.HeaderClientID)
	if clientID == "" || req.Header.Get(gateway.HeaderRequestTime) == "" || req.Header.Get(gateway.HeaderSignature) == "" {
		return none, "", refused(kindNone, ReasonMissingHeader, nil)
	}
	return nr, clientID, nil
}

// authenticate finds the connections of clientID whose gateway key signed
// nr, rebuilding them (rate limited) for an unknown Client-Id or a
// signature that does not verify (the key may have been rotated).
func (r *Receiver) authenticate(req *http.Request, nr gateway.NotificationRequest, clientID string) (*verified, *answer) {
	started := time.Now()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(req.Context()), r.opts.ApplyTimeout)
	defer cancel()
	conns := r.opts.Registry.ByClientID(clientID)
	if len(conns) == 0 {
		var err error
		if conns, err = r.refresh(ctx, clientID, started); err != nil {
			a := unavailable(kindNone, fmt.Errorf("list GatewayConfigs for an unknown Client-Id: %w", err))
			return nil, &a
		}
		if len(conns) == 0 {
			return nil, refused(kindNone, ReasonUnknownClient, nil)
		}
	}
	signers, reason := r.check(conns, nr)
	if len(signers) == 0 && reason == ReasonSignature {
		if fresh, err := r.refresh(ctx, clientID, started); err == nil && len(fresh) > 0 {
			signers, reason = r.check(fresh, nr)
		}
	}
	v := &verified{req: nr, clientID: clientID, signers: signers}
	if len(signers) == 0 {
		return v, refused(kindNone, reason, nil)
	}
	return v, nil
}

// parse reads the route and the body of an authentic notification into v.
func (r *Receiver) parse(req *http.Request, v *verified) *answer {
	routeKind, key, ok := parseRoute(req.URL.EscapedPath())
	if !ok {
		return refused(kindNone, ReasonRoute, nil)
	}
	v.routeKind, v.key = routeKind, key
	if routeKind != "" && r.served != nil && !r.served[key.Namespace] {
		return refused(kindNone, ReasonNamespace, nil)
	}
	kind, body, err := gateway.ParseNotification(v.req.Body)
	if err != nil {
		if errors.Is(err, gateway.ErrNotificationUnknown) {
			return refused(kindNone, ReasonUnknownType, err)
		}
		return refused(kindNone, ReasonMalformed, err)
	}
	v.kind, v.body = kind, body
	if !routeAccepts(v.routeKind, kind) {
		return refused(kind, ReasonRouteKind, nil)
	}
	return nil
}

// parseRoute reads a request path: kind "" is the default route
// (/notify); ok is false for anything that is not a notify route.
func parseRoute(path string) (kind string, key client.ObjectKey, ok bool) {
	if strings.TrimSuffix(path, "/") == ids.RouteBase {
		return "", key, true
	}
	if !strings.HasPrefix(path, ids.RouteBase+"/") {
		return "", key, false
	}
	kind, key, err := ids.ParseRoute(path)
	if err != nil {
		return "", key, false
	}
	return kind, key, true
}

// routeAccepts reports whether a notification kind may arrive on a route
// ("" is the default route, which accepts every kind).
func routeAccepts(routeKind, kind string) bool {
	switch routeKind {
	case "":
		return true
	case ids.KindPayment:
		return kind == gateway.KindNotifyPayment || kind == gateway.KindNotifyCapture || kind == gateway.KindNotifyDispute
	case ids.KindRefund:
		return kind == gateway.KindNotifyRefund
	case ids.KindRegistration:
		return kind == gateway.KindNotifyRegistrationStatus
	}
	return false
}

func jsonContentType(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "utf8")
}

// check verifies nr against each connection; it returns those that
// verify, or the refusal reason.
func (r *Receiver) check(conns []*connection.Connection, nr gateway.NotificationRequest) ([]*connection.Connection, string) {
	now := r.opts.Now()
	var signers []*connection.Connection
	reason := ReasonSignature
	for _, c := range conns {
		if c.GatewayPublicKey == nil {
			continue
		}
		_, err := gateway.VerifyNotification(c.GatewayPublicKey, nr, now, r.opts.TimeWindow)
		if err == nil {
			signers = append(signers, c)
			continue
		}
		// Stale and future are only reported for an authentic message:
		// they are more telling than "signature" from another key.
		if rs := gateway.NotificationRejectReason(err); rs != ReasonSignature && rs != "other" {
			reason = rs
		}
	}
	if len(signers) > 0 {
		return signers, ""
	}
	return nil, reason
}

// refresh rebuilds the connections of every GatewayConfig, at most once
// per RefreshInterval (and not at all if another request rebuilt them
// since then), and returns those of clientID.
func (r *Receiver) refresh(ctx context.Context, clientID string, since time.Time) ([]*connection.Connection, error) {
	r.refreshMu.Lock()
	defer r.refreshMu.Unlock()
	if !r.lastRefresh.Before(since) || time.Since(r.lastRefresh) < r.opts.RefreshInterval {
		return r.opts.Registry.ByClientID(clientID), nil
	}
	var list v1.GatewayConfigList
	if err := r.opts.Client.List(ctx, &list); err != nil {
		return nil, err
	}
	r.lastRefresh = time.Now()
	seen := map[string]bool{}
	for i := range list.Items {
		gwc := &list.Items[i]
		seen[gwc.Name] = true
		if _, err := r.opts.Registry.Refresh(ctx, gwc); err != nil {
			r.log.V(1).Info("GatewayConfig connection not usable", "gatewayConfig", gwc.Name, "error", err.Error())
			continue
		}
		r.known[gwc.Name] = true
	}
	for name := range r.known {
		if !seen[name] {
			// A deleted GatewayConfig's key must not be trusted any more.
			r.opts.Registry.Forget(name)
			delete(r.known, name)
		}
	}
	return r.opts.Registry.ByClientID(clientID), nil
}
