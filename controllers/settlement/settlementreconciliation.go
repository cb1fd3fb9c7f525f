package settlement

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/reconciliation"
	"github.com/cashier-operator/cashier-operator/internal/settlement"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=settlementreconciliations,verbs=get;list;watch
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=settlementreconciliations/status,verbs=update
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;create;update

// The SettlementReconciliation controller: on each run it logs in to the
// gateway's SFTP server, streams the selected reports of the most recent
// LookbackDays day directories through package reconciliation, and writes
// the per-day result to status, the full discrepancy list as CSV to a
// ConfigMap, one event per discrepancy class and metrics. A run is
// idempotent: files are counted once per content hash, and the whole
// window is recomputed from the files and the cluster each time.

const (
	// statusDiscrepancies is how many discrepancies status lists.
	statusDiscrepancies = 20
	// conditionDiscrepancies is how many the condition message names.
	conditionDiscrepancies = 3
	// truncatedRetry bounds the wait before a refused (truncated) file is
	// read again.
	truncatedRetry = 5 * time.Minute
	// configMapBytes bounds the CSV (a ConfigMap holds at most 1 MiB).
	configMapBytes = 900 << 10
	// DiscrepanciesKey is the key of the CSV in the discrepancies ConfigMap.
	DiscrepanciesKey = "discrepancies.csv"
)

var (
	reconLines = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cashier_reconciliation_lines",
		Help: "Report lines counted by the last run of a SettlementReconciliation, over its lookback window.",
	}, []string{"namespace", "name"})
	reconMatched = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cashier_reconciliation_matched_lines",
		Help: "Report lines that matched an object exactly in the last run.",
	}, []string{"namespace", "name"})
	reconDiscrepancies = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cashier_reconciliation_discrepancies",
		Help: "Discrepancies found by the last run, by class.",
	}, []string{"namespace", "name", "class"})
	reconRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cashier_reconciliation_runs_total",
		Help: "Reconciliation runs by result (ok, discrepancies, truncated, sftp_error, config_error).",
	}, []string{"result"})
)

func init() {
	crmetrics.Registry.MustRegister(reconLines, reconMatched, reconDiscrepancies, reconRuns)
}

type reconciliationReconciler struct {
	deps *shared.Deps
	rec  recorder.EventRecorder
	dial func(context.Context, settlement.SFTPConfig) (*settlement.Source, error)
}

// Setup registers the SettlementReconciliation controller.
func Setup(_ context.Context, w shared.Wiring) error {
	r := &reconciliationReconciler{deps: w.Deps, rec: w.Recorder, dial: settlement.DialSFTP}
	if err := ctrl.NewControllerManagedBy(w.Mgr).
		For(&v1.SettlementReconciliation{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("settlementreconciliation").
		WithOptions(controller.Options{MaxConcurrentReconciles: 2, RateLimiter: w.Limiter()}).
		Complete(r); err != nil {
		return fmt.Errorf("settlementreconciliation controller: %w", err)
	}
	return nil
}

func (r *reconciliationReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var sr v1.SettlementReconciliation
	if err := r.deps.Client.Get(ctx, req.NamespacedName, &sr); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	now := r.deps.Time()
	interval := 24 * time.Hour
	if sr.Spec.Interval != nil && sr.Spec.Interval.Duration > 0 {
		interval = sr.Spec.Interval.Duration
	}
	// Woken early (a restart, a resync) with nothing changed: wait for the schedule.
	if n := sr.Status.NextRunTime; n != nil && sr.Status.ObservedGeneration == sr.Generation && now.Before(n.Time) {
		return ctrl.Result{RequeueAfter: n.Sub(now)}, nil
	}
	cfg, customerID, reason, err := r.source(ctx, &sr)
	if err != nil {
		reconRuns.WithLabelValues("config_error").Inc()
		return ctrl.Result{}, r.fail(ctx, &sr, reason, err)
	}
	src, err := r.dial(ctx, cfg)
	if err != nil {
		reconRuns.WithLabelValues("sftp_error").Inc()
		return ctrl.Result{}, r.fail(ctx, &sr, v1.ReasonSFTPUnavailable, err)
	}
	defer src.Close()
	res, run, err := r.run(ctx, &sr, src, customerID)
	if err != nil {
		reconRuns.WithLabelValues("sftp_error").Inc()
		return ctrl.Result{}, r.fail(ctx, &sr, v1.ReasonSFTPUnavailable, err)
	}
	next := interval
	if run.Truncated && truncatedRetry < next {
		next = truncatedRetry
	}
	if err := r.record(ctx, &sr, customerID, res, run, now, next); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: next}, nil
}

// source reads the GatewayConfig and the credentials Secret.
func (r *reconciliationReconciler) source(ctx context.Context, sr *v1.SettlementReconciliation) (settlement.SFTPConfig, string, string, error) {
	customerID := sr.Spec.CustomerID
	if customerID == "" {
		var gwc v1.GatewayConfig
		if err := r.deps.Client.Get(ctx, types.NamespacedName{Name: sr.Spec.GatewayRef.Name}, &gwc); err != nil {
			return settlement.SFTPConfig{}, "", v1.ReasonGatewayNotReady, fmt.Errorf("GatewayConfig %s: %w", sr.Spec.GatewayRef.Name, err)
		}
		if customerID = gwc.Status.ClientID; customerID == "" {
			return settlement.SFTPConfig{}, "", v1.ReasonGatewayNotReady,
				fmt.Errorf("GatewayConfig %s has no status.clientId yet; set spec.customerId or wait for it to be Ready", gwc.Name)
		}
	}
	const what = "SFTP credentials Secret"
	key := types.NamespacedName{Namespace: sr.Namespace, Name: sr.Spec.SFTP.CredentialsSecretRef.Name}
	sec, err := shared.SecretKeys(ctx, r.deps.APIReader, what, key, v1.SecretKeySFTPUsername, v1.SecretKeySFTPPassword, v1.SecretKeySFTPHostKey)
	if err == nil {
		err = shared.RequireKeys(sec, what, key, v1.SecretKeySFTPUsername, v1.SecretKeySFTPPassword)
	}
	if err != nil {
		return settlement.SFTPConfig{}, "", v1.ReasonSecretInvalid, err
	}
	user, pass := sec[v1.SecretKeySFTPUsername], sec[v1.SecretKeySFTPPassword]
	port := sr.Spec.SFTP.Port
	if port == 0 {
		port = 22
	}
	return settlement.SFTPConfig{Addr: net.JoinHostPort(sr.Spec.SFTP.Host, strconv.Itoa(int(port))), Username: user, Password: pass,
		HostKey: strings.TrimSpace(sec[v1.SecretKeySFTPHostKey])}, customerID, "", nil
}

// run reads the window's reports.
func (r *reconciliationReconciler) run(ctx context.Context, sr *v1.SettlementReconciliation, src *settlement.Source,
	customerID string) (reconciliation.Result, *reconciliation.Run, error) {
	ix, err := r.index(ctx, sr)
	if err != nil {
		return reconciliation.Result{}, nil, err
	}
	pattern := sr.Spec.SFTP.PathPattern
	days, err := src.Days(settlement.Root(pattern, customerID))
	if err != nil {
		return reconciliation.Result{}, nil, err
	}
	look := int(sr.Spec.LookbackDays)
	if look <= 0 {
		look = 7
	}
	if len(days) > look {
		days = days[len(days)-look:]
	}
	want := map[settlement.Kind]bool{}
	for _, k := range sr.Spec.Reports {
		want[settlement.Kind(k)] = true
	}
	if len(want) == 0 {
		for _, k := range settlement.Kinds {
			want[k] = true
		}
	}
	run := reconciliation.NewRun(ix, int(sr.Spec.SettlementDelayDays))
	for _, d := range days {
		run.AddDay(d)
		files, err := src.Reports(settlement.Dir(pattern, customerID, d))
		if err != nil {
			return reconciliation.Result{}, nil, err
		}
		for _, f := range files {
			if !want[f.Kind] {
				continue
			}
			rc, err := src.Open(f.Path)
			if err != nil {
				return reconciliation.Result{}, nil, err
			}
			fr, err := ix.ReadFile(rc, f.Name, f.Kind, d)
			_ = rc.Close()
			if err != nil && !errors.Is(err, settlement.ErrTruncated) && isTransport(err) {
				return reconciliation.Result{}, nil, fmt.Errorf("read %s: %w", f.Path, err)
			}
			run.Add(d, f.Name, f.Kind, fr, err)
		}
	}
	res, err := run.Result()
	return res, run, err
}

// isTransport tells a broken connection from a malformed file.
func isTransport(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "connection lost")
}

// index lists the merchant's objects in the namespace from the cache.
func (r *reconciliationReconciler) index(ctx context.Context, sr *v1.SettlementReconciliation) (*reconciliation.Index, error) {
	var ps v1.PaymentList
	var cs v1.CaptureList
	var rs v1.RefundList
	for _, l := range []client.ObjectList{&ps, &cs, &rs} {
		if err := r.deps.Client.List(ctx, l, client.InNamespace(sr.Namespace)); err != nil {
			return nil, err
		}
	}
	return reconciliation.NewIndex(sr.Spec.GatewayRef.Name, ps.Items, cs.Items, rs.Items), nil
}

// fail records a run that could not read the reports.
func (r *reconciliationReconciler) fail(ctx context.Context, sr *v1.SettlementReconciliation, reason string, cause error) error {
	msg := cause.Error()
	r.rec.Eventf(sr, nil, corev1.EventTypeWarning, reason, "Reconcile", "%s", msg)
	sr.Status.ObservedGeneration = sr.Generation
	sr.Status.NextRunTime = nil // the backoff decides when to try again, not the schedule
	transition.SetReady(&sr.Status.Conditions, sr.Generation, false, reason, msg)
	if err := r.deps.Client.Status().Update(ctx, sr); err != nil {
		return fmt.Errorf("%s (and status: %w)", msg, err)
	}
	return cause // the controller retries with exponential backoff
}
