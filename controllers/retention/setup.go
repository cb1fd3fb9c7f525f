package retention

import (
	"context"
	"time"

	"github.com/cashier-operator/cashier-operator/controllers/shared"
)

// Setup registers the domain's controllers: retention (archive, then
// delete), restore (an operation names an archived payment) and
// PaymentRestore (the receiver asks for one). They use the open archives of
// Deps (closed when the manager stops).
func Setup(_ context.Context, w shared.Wiring, opts Options) error {
	if opts.RetryInterval == 0 {
		opts.RetryInterval = 30 * time.Second
	}
	if opts.Workers == 0 {
		opts.Workers = 16
	}
	if opts.RestoreTTL == 0 {
		opts.RestoreTTL = 24 * time.Hour
	}
	arch := w.Deps.Archives
	if err := setupRetention(w.Mgr, w.Deps, arch, opts, w.Recorder); err != nil {
		return err
	}
	if err := setupRestore(w.Mgr, w.Deps, arch, w.Recorder); err != nil {
		return err
	}
	return setupPaymentRestore(w.Mgr, &restoreReconciler{deps: w.Deps, archives: arch, rec: w.Recorder}, opts.RestoreTTL)
}
