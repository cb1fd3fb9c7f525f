package gatewaysim

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// The control API: JSON over HTTP under /_sim/, served to loopback clients
// only unless Options.AllowRemoteControl. Routes are listed in
// docs/simulator.md.

func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Simulator) serveControl(w http.ResponseWriter, r *http.Request) {
	if !s.opts.AllowRemoteControl && !isLoopback(r.RemoteAddr) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "the control API is served to loopback clients only"})
		return
	}
	s.ctlOnce.Do(func() { s.ctl = s.controlHandler() })
	s.ctl.ServeHTTP(w, r)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// reply writes err, or v (a plain "ok" when nil), as the control API's JSON.
func reply(w http.ResponseWriter, err error, v any) {
	if err != nil {
		writeErr(w, err)
		return
	}
	if v == nil {
		v = map[string]string{"status": "ok"}
	}
	writeJSON(w, http.StatusOK, v)
}

func writeErr(w http.ResponseWriter, err error) {
	writeJSON(w, errStatus(err), map[string]string{"error": err.Error()})
}

// readJSON decodes an optional JSON body.
func readJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &inputError{err}
	}
	return nil
}

type inputError struct{ err error }

func (e *inputError) Error() string { return "request body: " + e.err.Error() }
func (e *inputError) Unwrap() error { return ErrInvalidInput }

// controlHandler routes the control API, one group of routes per concern.
func (s *Simulator) controlHandler() http.Handler {
	mux := http.NewServeMux()
	s.clockRoutes(mux)
	s.paymentRoutes(mux)
	s.disputeRoutes(mux)
	s.settingRoutes(mux)
	s.recordRoutes(mux)
	s.merchantRoutes(mux)
	s.reportRoutes(mux)
	s.registrationRoutes(mux)
	return mux
}

// clockRoutes: health, the simulated clock, and waiting for quiet.
func (s *Simulator) clockRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /_sim/health", func(w http.ResponseWriter, r *http.Request) {
		reply(w, nil, map[string]any{"status": "ok", "now": s.Now()})
	})
	mux.HandleFunc("GET /_sim/clock", func(w http.ResponseWriter, r *http.Request) {
		reply(w, nil, map[string]any{"now": s.Now()})
	})
	mux.HandleFunc("POST /_sim/clock/advance", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Duration Duration `json:"duration"`
		}
		if err := readJSON(r, &req); err != nil {
			reply(w, err, nil)
			return
		}
		s.Advance(time.Duration(req.Duration))
		reply(w, nil, map[string]any{"now": s.Now()})
	})
	mux.HandleFunc("POST /_sim/quiesce", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		reply(w, s.Quiesce(ctx), nil)
	})
}

// paymentRoutes: read a payment, and act on it as its user or its bank would.
func (s *Simulator) paymentRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /_sim/payments/{ref...}", func(w http.ResponseWriter, r *http.Request) {
		v, err := s.Payment(r.PathValue("ref"))
		reply(w, err, v)
	})
	mux.HandleFunc("POST /_sim/payments/{ref...}", s.paymentAction)
}

// paymentAction serves POST /_sim/payments/{ref}/{complete|decline|pending|disputes};
// the reference may itself hold slashes, so the verb is the last segment.
func (s *Simulator) paymentAction(w http.ResponseWriter, r *http.Request) {
	full := r.PathValue("ref")
	i := strings.LastIndex(full, "/")
	if i < 0 {
		http.NotFound(w, r)
		return
	}
	ref, verb := full[:i], full[i+1:]
	switch verb {
	case "complete":
		reply(w, s.Complete(ref), nil)
	case "decline":
		var req struct {
			ResultCode string `json:"resultCode"`
		}
		if err := readJSON(r, &req); err != nil {
			reply(w, err, nil)
			return
		}
		reply(w, s.Decline(ref, req.ResultCode), nil)
	case "pending":
		reply(w, s.SetPending(ref), nil)
	case "disputes":
		var spec DisputeSpec
		if err := readJSON(r, &spec); err != nil {
			reply(w, err, nil)
			return
		}
		id, err := s.OpenDispute(ref, spec)
		reply(w, err, map[string]string{"disputeId": id})
	default:
		http.NotFound(w, r)
	}
}

// disputeRoutes: read, judge and cancel a chargeback.
func (s *Simulator) disputeRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /_sim/disputes/{id}/judge", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Result string `json:"result"`
		}
		if err := readJSON(r, &req); err != nil {
			reply(w, err, nil)
			return
		}
		reply(w, s.JudgeDispute(r.PathValue("id"), req.Result), nil)
	})
	mux.HandleFunc("GET /_sim/disputes/{id}", func(w http.ResponseWriter, r *http.Request) {
		e, err := s.Dispute(r.PathValue("id"))
		reply(w, err, e)
	})
	mux.HandleFunc("POST /_sim/disputes/{id}/cancel", func(w http.ResponseWriter, r *http.Request) {
		reply(w, s.CancelDispute(r.PathValue("id")), nil)
	})
}

// settingRoutes: the fault profile and the behaviour, read and replaced.
func (s *Simulator) settingRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		reply(w, nil, s.Faults())
	})
	mux.HandleFunc("PUT /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			reply(w, err, nil)
			return
		}
		f, err := ParseFaultProfile(string(b))
		if err != nil {
			reply(w, &inputError{err}, nil)
			return
		}
		if err := s.SetFaults(f); err != nil {
			reply(w, &inputError{err}, nil)
			return
		}
		reply(w, nil, s.Faults())
	})
	mux.HandleFunc("GET /_sim/behavior", func(w http.ResponseWriter, r *http.Request) {
		reply(w, nil, s.Behavior())
	})
	mux.HandleFunc("PUT /_sim/behavior", func(w http.ResponseWriter, r *http.Request) {
		var b Behavior
		if err := readJSON(r, &b); err != nil {
			reply(w, err, nil)
			return
		}
		s.SetBehavior(b)
		reply(w, nil, s.Behavior())
	})
}

// recordRoutes: what the simulator saw and sent (the call ledger, the
// notifications), filtered by the query.
func (s *Simulator) recordRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /_sim/ledger", func(w http.ResponseWriter, r *http.Request) {
		var ids []string
		if c := r.URL.Query().Get("clientId"); c != "" {
			ids = append(ids, c)
		}
		reply(w, nil, s.Ledger(ids...))
	})
	mux.HandleFunc("GET /_sim/notifications", func(w http.ResponseWriter, r *http.Request) {
		reply(w, nil, filterNotifications(s.Notifications(), r.URL.Query()))
	})
}

// filterNotifications keeps the notifications matching every filter set in
// q (paymentId, kind, clientId); never nil, so the JSON is a list.
func filterNotifications(all []Notification, q url.Values) []Notification {
	out := []Notification{}
	for _, n := range all {
		if v := q.Get("paymentId"); v != "" && n.PaymentID != v {
			continue
		}
		if v := q.Get("kind"); v != "" && n.Kind != v {
			continue
		}
		if v := q.Get("clientId"); v != "" && n.ClientID != v {
			continue
		}
		out = append(out, n)
	}
	return out
}

// merchantRoutes: register a merchant, and the gateway's own public key.
func (s *Simulator) merchantRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /_sim/merchants", s.addMerchantRoute)
	mux.HandleFunc("GET /_sim/merchants/{clientId}/keys", func(w http.ResponseWriter, r *http.Request) {
		versions, err := s.MerchantKeyVersions(r.PathValue("clientId"))
		reply(w, err, map[string][]string{"keyVersions": versions})
	})
	mux.HandleFunc("POST /_sim/merchants/{clientId}/keys", s.addMerchantKeyRoute)
	s.apiKeyRoutes(mux)
	mux.HandleFunc("DELETE /_sim/merchants/{clientId}/keys/{keyVersion}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, s.RevokeMerchantKey(r.PathValue("clientId"), r.PathValue("keyVersion")), nil)
	})
	mux.HandleFunc("GET /_sim/gateway-key", func(w http.ResponseWriter, r *http.Request) {
		reply(w, nil, map[string]string{"publicKey": s.GatewayPublicKeyString(), "keyVersion": s.gwKeyVersion})
	})
}

// addMerchantRoute serves POST /_sim/merchants: a client id, its public key
// (PEM or base64 DER) and optionally its payment options; it answers with the
// gateway's key for the merchant to verify responses.
func (s *Simulator) addMerchantRoute(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ClientID   string                `json:"clientId"`
		PublicKey  string                `json:"publicKey"`
		KeyVersion string                `json:"keyVersion"`
		NotifyURL  string                `json:"notifyUrl"`
		Options    []PaymentOptionConfig `json:"paymentOptions,omitempty"`
	}
	if err := readJSON(r, &req); err != nil {
		reply(w, err, nil)
		return
	}
	pub, err := gateway.ParsePublicKey(req.PublicKey)
	if err != nil {
		reply(w, &inputError{err}, nil)
		return
	}
	if err := s.AddMerchant(req.ClientID, pub, req.KeyVersion, req.NotifyURL); err != nil {
		reply(w, err, nil)
		return
	}
	if req.Options != nil {
		_ = s.SetPaymentOptions(req.ClientID, req.Options)
	}
	reply(w, nil, map[string]string{"clientId": req.ClientID, "gatewayPublicKey": s.GatewayPublicKeyString(),
		"gatewayKeyVersion": s.gwKeyVersion})
}

// addMerchantKeyRoute serves POST /_sim/merchants/{clientId}/keys: another
// key version (its public key, PEM or base64 DER) for a registered
// merchant, the first half of a key rotation.
func (s *Simulator) addMerchantKeyRoute(w http.ResponseWriter, r *http.Request) {
	var req struct {
		PublicKey  string `json:"publicKey"`
		KeyVersion string `json:"keyVersion"`
	}
	if err := readJSON(r, &req); err != nil {
		reply(w, err, nil)
		return
	}
	pub, err := gateway.ParsePublicKey(req.PublicKey)
	if err != nil {
		reply(w, &inputError{err}, nil)
		return
	}
	clientID := r.PathValue("clientId")
	if err := s.AddMerchantKey(clientID, req.KeyVersion, pub); err != nil {
		reply(w, err, nil)
		return
	}
	reply(w, nil, map[string]string{"clientId": clientID, "keyVersion": req.KeyVersion})
}
