package gatewaysim

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
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

func (s *Simulator) controlHandler() http.Handler {
	mux := http.NewServeMux()
	done := reply
	mux.HandleFunc("GET /_sim/health", func(w http.ResponseWriter, r *http.Request) {
		done(w, nil, map[string]any{"status": "ok", "now": s.Now()})
	})
	mux.HandleFunc("GET /_sim/clock", func(w http.ResponseWriter, r *http.Request) {
		done(w, nil, map[string]any{"now": s.Now()})
	})
	mux.HandleFunc("POST /_sim/clock/advance", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Duration Duration `json:"duration"`
		}
		if err := readJSON(r, &req); err != nil {
			done(w, err, nil)
			return
		}
		s.Advance(time.Duration(req.Duration))
		done(w, nil, map[string]any{"now": s.Now()})
	})
	mux.HandleFunc("POST /_sim/quiesce", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		done(w, s.Quiesce(ctx), nil)
	})
	mux.HandleFunc("GET /_sim/payments/{ref...}", func(w http.ResponseWriter, r *http.Request) {
		v, err := s.Payment(r.PathValue("ref"))
		done(w, err, v)
	})
	// Payment actions: POST /_sim/payments/{ref}/{complete|decline|pending|disputes}.
	mux.HandleFunc("POST /_sim/payments/{ref...}", func(w http.ResponseWriter, r *http.Request) {
		full := r.PathValue("ref")
		i := strings.LastIndex(full, "/")
		if i < 0 {
			http.NotFound(w, r)
			return
		}
		ref, verb := full[:i], full[i+1:]
		switch verb {
		case "complete":
			done(w, s.Complete(ref), nil)
		case "decline":
			var req struct {
				ResultCode string `json:"resultCode"`
			}
			if err := readJSON(r, &req); err != nil {
				done(w, err, nil)
				return
			}
			done(w, s.Decline(ref, req.ResultCode), nil)
		case "pending":
			done(w, s.SetPending(ref), nil)
		case "disputes":
			var spec DisputeSpec
			if err := readJSON(r, &spec); err != nil {
				done(w, err, nil)
				return
			}
			id, err := s.OpenDispute(ref, spec)
			done(w, err, map[string]string{"disputeId": id})
		default:
			http.NotFound(w, r)
		}
	})
	mux.HandleFunc("POST /_sim/disputes/{id}/judge", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Result string `json:"result"`
		}
		if err := readJSON(r, &req); err != nil {
			done(w, err, nil)
			return
		}
		done(w, s.JudgeDispute(r.PathValue("id"), req.Result), nil)
	})
	mux.HandleFunc("GET /_sim/disputes/{id}", func(w http.ResponseWriter, r *http.Request) {
		e, err := s.Dispute(r.PathValue("id"))
		done(w, err, e)
	})
	mux.HandleFunc("POST /_sim/disputes/{id}/cancel", func(w http.ResponseWriter, r *http.Request) {
		done(w, s.CancelDispute(r.PathValue("id")), nil)
	})
	mux.HandleFunc("GET /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		done(w, nil, s.Faults())
	})
	mux.HandleFunc("PUT /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			done(w, err, nil)
			return
		}
		f, err := ParseFaultProfile(string(b))
		if err != nil {
			done(w, &inputError{err}, nil)
			return
		}
		if err := s.SetFaults(f); err != nil {
			done(w, &inputError{err}, nil)
			return
		}
		done(w, nil, s.Faults())
	})
	mux.HandleFunc("GET /_sim/behavior", func(w http.ResponseWriter, r *http.Request) {
		done(w, nil, s.Behavior())
	})
	mux.HandleFunc("PUT /_sim/behavior", func(w http.ResponseWriter, r *http.Request) {
		var b Behavior
		if err := readJSON(r, &b); err != nil {
			done(w, err, nil)
			return
		}
		s.SetBehavior(b)
		done(w, nil, s.Behavior())
	})
	mux.HandleFunc("GET /_sim/ledger", func(w http.ResponseWriter, r *http.Request) {
		var ids []string
		if c := r.URL.Query().Get("clientId"); c != "" {
			ids = append(ids, c)
		}
		done(w, nil, s.Ledger(ids...))
	})
	mux.HandleFunc("GET /_sim/notifications", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		out := []Notification{}
		for _, n := range s.Notifications() {
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
		done(w, nil, out)
	})
	mux.HandleFunc("POST /_sim/merchants", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ClientID   string                `json:"clientId"`
			PublicKey  string                `json:"publicKey"`
			KeyVersion string                `json:"keyVersion"`
			NotifyURL  string                `json:"notifyUrl"`
			Options    []PaymentOptionConfig `json:"paymentOptions,omitempty"`
		}
		if err := readJSON(r, &req); err != nil {
			done(w, err, nil)
			return
		}
		pub, err := gateway.ParsePublicKey(req.PublicKey)
		if err != nil {
			done(w, &inputError{err}, nil)
			return
		}
		if err := s.AddMerchant(req.ClientID, pub, req.KeyVersion, req.NotifyURL); err != nil {
			done(w, err, nil)
			return
		}
		if req.Options != nil {
			_ = s.SetPaymentOptions(req.ClientID, req.Options)
		}
		done(w, nil, map[string]string{"clientId": req.ClientID, "gatewayPublicKey": s.GatewayPublicKeyString(),
			"gatewayKeyVersion": s.gwKeyVersion})
	})
	s.reportRoutes(mux)
	mux.HandleFunc("GET /_sim/gateway-key", func(w http.ResponseWriter, r *http.Request) {
		done(w, nil, map[string]string{"publicKey": s.GatewayPublicKeyString(), "keyVersion": s.gwKeyVersion})
	})
	return mux
}
