package gatewaysim

import (
	"net/http"

	"github.com/cashier-operator/cashier-operator/internal/settlement"
)

// reportRoutes adds the reconciliation-report control routes (listed in
// docs/simulator.md).
func (s *Simulator) reportRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /_sim/sftp/users", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ClientID string `json:"clientId"`
			Username string `json:"username"`
			Password string `json:"password"`
		}
		if err := readJSON(r, &req); err != nil {
			reply(w, err, nil)
			return
		}
		reply(w, s.SetSFTPUser(req.ClientID, req.Username, req.Password), nil)
	})
	mux.HandleFunc("GET /_sim/sftp", func(w http.ResponseWriter, r *http.Request) {
		addr := ""
		s.rep.mu.Lock()
		if s.rep.srv != nil {
			addr = s.rep.srv.ln.Addr().String()
		}
		s.rep.mu.Unlock()
		reply(w, nil, map[string]string{"addr": addr, "hostKey": s.SFTPHostKey()})
	})
	mux.HandleFunc("PUT /_sim/reports/faults", func(w http.ResponseWriter, r *http.Request) {
		var f ReportFault
		if err := readJSON(r, &f); err != nil {
			reply(w, err, nil)
			return
		}
		reply(w, s.SetReportFault(f), nil)
	})
	mux.HandleFunc("PUT /_sim/reports/transactions/{id}", func(w http.ResponseWriter, r *http.Request) {
		var o TransactionOverride
		if err := readJSON(r, &o); err != nil {
			reply(w, err, nil)
			return
		}
		reply(w, s.SetTransactionOverride(r.PathValue("id"), o), nil)
	})
	mux.HandleFunc("GET /_sim/reports/{clientId}/{day}", func(w http.ResponseWriter, r *http.Request) {
		names, err := s.ReportNames(r.PathValue("clientId"), settlement.Day(r.PathValue("day")))
		reply(w, err, map[string]any{"files": names})
	})
	mux.HandleFunc("GET /_sim/reports/{clientId}/{day}/{name}", func(w http.ResponseWriter, r *http.Request) {
		b, err := s.ReportFile(r.PathValue("clientId"), settlement.Day(r.PathValue("day")), r.PathValue("name"))
		if err != nil {
			writeErr(w, err)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		_, _ = w.Write(b)
	})
}
