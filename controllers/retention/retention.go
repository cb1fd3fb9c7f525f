package retention

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/archive"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=payments;captures;refunds;customsdeclarations,verbs=delete
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=payments,verbs=create

// Event reasons of retention.
const (
	EventRetentionPaused  = "RetentionPaused"
	EventRetentionResumed = "RetentionResumed"
	EventKeptAfterArchive = "KeptAfterArchive"
	EventRestored         = "RestoredFromArchive"
)

// Options tune retention and restore.
type Options struct {
	// RetryInterval is how often paused retention tries the archive again
	// (default 30s).
	RetryInterval time.Duration
	// Workers archive payments in parallel (default 16); each waits mostly
	// on the database and the apiserver's deletes. Retention keeps etcd
	// bounded only if it archives at least as fast as payments finish: a
	// soak with 4 workers archived about 10 a second on a loaded 2-core
	// machine while payments finished at 40.
	Workers int
	// RestoreTTL is how long a decided PaymentRestore stays (default 24h,
	// the gateway's whole re-send schedule): re-sent notifications read
	// its outcome, and retention keeps the payment it restored, until then.
	RestoreTTL time.Duration
}

// archiveTimeout bounds one reconcile's work with the archive, so that a
// database that stops answering pauses retention instead of a worker.
const archiveTimeout = 30 * time.Second

// retentionReconciler archives a finished payment with its operations once
// its GatewayConfig's retainFor has passed, and only then deletes them.
// It runs beside the payment controller, on the same objects, and never
// calls the gateway.
type retentionReconciler struct {
	deps       *shared.Deps
	archives   *shared.Archives
	rec        recorder.EventRecorder
	retry      time.Duration
	restoreTTL time.Duration
}

// setupRetention registers the retention controller.
func setupRetention(mgr ctrl.Manager, deps *shared.Deps, arch *shared.Archives, opts Options, rec recorder.EventRecorder) error {
	r := &retentionReconciler{deps: deps, archives: arch, rec: rec, retry: opts.RetryInterval, restoreTTL: opts.RestoreTTL}
	cache := mgr.GetClient()
	// A GatewayConfig whose retention changes re-examines its payments.
	toPayments := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		var list v1.PaymentList
		if err := cache.List(ctx, &list); err != nil {
			return nil
		}
		var reqs []reconcile.Request
		for _, p := range list.Items {
			if p.Spec.GatewayRef.Name == o.GetName() {
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&p)})
			}
		}
		return reqs
	})
	if err := ctrl.NewControllerManagedBy(mgr).Named("retention").
		For(&v1.Payment{}, builder.WithPredicates(retentionMoved)).
		Watches(&v1.Capture{}, shared.ToOwningPayment, builder.WithPredicates(shared.PhaseChanged)).
		Watches(&v1.Refund{}, shared.ToOwningPayment, builder.WithPredicates(shared.PhaseChanged)).
		Watches(&v1.CustomsDeclaration{}, shared.ToOwningPayment, builder.WithPredicates(shared.PhaseChanged)).
		Watches(&v1.GatewayConfig{}, toPayments, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: opts.Workers,
			RateLimiter: engine.NewBackoff(500*time.Millisecond, time.Minute)}).
		Complete(r); err != nil {
		return fmt.Errorf("retention controller: %w", err)
	}
	return nil
}

// retentionMoved passes a payment's creation (and every payment at start)
// and changes of its phase, dispute or annotations; the timer set by the
// reconcile covers the rest.
var retentionMoved = predicate.Funcs{
	CreateFunc: func(event.CreateEvent) bool { return true }, GenericFunc: func(event.GenericEvent) bool { return false },
	DeleteFunc: func(event.DeleteEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*v1.Payment)
		n, ok2 := e.ObjectNew.(*v1.Payment)
		if !ok1 || !ok2 {
			return false
		}
		return o.Status.Phase != n.Status.Phase || o.GetAnnotations()[v1.RetainForAnnotation] != n.GetAnnotations()[v1.RetainForAnnotation] ||
			(o.Status.Dispute == nil) != (n.Status.Dispute == nil) ||
			(o.Status.Dispute != nil && n.Status.Dispute != nil && o.Status.Dispute.State != n.Status.Dispute.State)
	},
}

// order is a payment and its operations, as the cache holds them.
type order struct {
	payment *v1.Payment
	ops     []client.Object
}

func (r *retentionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := logr.FromContextOrDiscard(ctx)
	var p v1.Payment
	if err := r.deps.Client.Get(ctx, req.NamespacedName, &p); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	var gwc v1.GatewayConfig
	if err := r.deps.Client.Get(ctx, types.NamespacedName{Name: p.Spec.GatewayRef.Name}, &gwc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	pol := gwc.Spec.Retention
	if pol == nil || !p.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	retainFor, keep := retainFor(&p, pol)
	if keep {
		return ctrl.Result{}, nil
	}
	if hold := r.restoreHold(ctx, &p); hold > 0 {
		return ctrl.Result{RequeueAfter: hold}, nil
	}
	o, done, err := r.finished(ctx, &p)
	if err != nil || !done {
		return ctrl.Result{}, err
	}
	if wait := lastChange(o).Add(retainFor).Sub(r.deps.Time()); wait > 0 {
		return ctrl.Result{RequeueAfter: wait + time.Second}, nil
	}
	if gwc.Status.ClientID == "" {
		return ctrl.Result{RequeueAfter: r.retry}, nil // the GatewayConfig is not ready yet
	}
	recs, err := records(o, gwc.Status.ClientID)
	if err != nil {
		return ctrl.Result{}, err
	}
	if kept, err := r.archiveOrKeep(ctx, pol, &p, recs); err != nil {
		return r.pause(ctx, &gwc, err)
	} else if kept {
		return ctrl.Result{}, nil
	}
	archivedTotal.Add(float64(len(recs)))
	r.resume(ctx, &gwc)
	if err := rememberArchive(ctx, r.deps, &gwc, pol.Archive); err != nil {
		return ctrl.Result{}, err // archived; deleting waits until restore can find the archive
	}
	// Archived and committed: only now delete, operations first (a payment
	// never disappears before its operations), each only if unchanged
	// since it was archived.
	for _, obj := range append(o.ops, o.payment) {
		if err := deleteUnchanged(ctx, r.deps.Client, obj); err != nil {
			if apierrors.IsConflict(err) {
				log.V(1).Info("changed since archived; archiving again", "object", client.ObjectKeyFromObject(obj))
				return ctrl.Result{RequeueAfter: shared.ConflictRetry}, nil
			}
			return ctrl.Result{}, fmt.Errorf("delete archived %s %s: %w", kindOf(obj), client.ObjectKeyFromObject(obj), err)
		}
		deletedTotal.WithLabelValues(kindOf(obj)).Inc()
	}
	log.V(1).Info("archived and deleted", "payment", req.NamespacedName, "operations", len(o.ops))
	return ctrl.Result{}, nil
}

// archiveOrKeep writes the records unless the payment reappeared after it was
// archived (kept: nothing written, the payment stays).
func (r *retentionReconciler) archiveOrKeep(ctx context.Context, pol *v1.Retention, p *v1.Payment, recs []archive.Record) (kept bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, archiveTimeout)
	defer cancel()
	a, err := r.archives.Get(ctx, pol.Archive)
	if err != nil {
		return false, err
	}
	if kept, err := r.reappeared(ctx, a, p); err != nil || kept {
		return kept, err
	}
	return false, a.Put(ctx, recs)
}

// retainFor is the payment's retention period; keep means never.
func retainFor(p *v1.Payment, pol *v1.Retention) (time.Duration, bool) {
	d := pol.RetainFor.Duration
	if v, ok := p.Annotations[v1.RetainForAnnotation]; ok {
		if v == v1.RetainKeep {
			return 0, true
		}
		if od, err := time.ParseDuration(v); err == nil && od >= 0 {
			d = od
		}
	}
	return d, false
}

// finished gathers the order and reports whether it is done: the payment
// and every operation on it final, no dispute open.
func (r *retentionReconciler) finished(ctx context.Context, p *v1.Payment) (order, bool, error) {
	o := order{payment: p}
	if !p.Status.Phase.IsFinal() || (p.Status.Dispute != nil && p.Status.Dispute.State.Blocks()) {
		return o, false, nil
	}
	for _, list := range []client.ObjectList{&v1.CaptureList{}, &v1.RefundList{}, &v1.CustomsDeclarationList{}} {
		if err := r.deps.Client.List(ctx, list, client.InNamespace(p.Namespace), client.MatchingFields{shared.IndexPaymentRef: p.Name}); err != nil {
			return o, false, fmt.Errorf("list operations of %s/%s: %w", p.Namespace, p.Name, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return o, false, err
		}
		for _, it := range items {
			obj := it.(client.Object)
			ph := v1.OperationPhase(shared.PhaseOf(obj))
			if !ph.IsFinal() || !obj.GetDeletionTimestamp().IsZero() {
				return o, false, nil
			}
			o.ops = append(o.ops, obj)
		}
	}
	return o, true, nil
}

// lastChange is the latest write to the payment or any operation: the
// newest managedFields time (every create, update and status write stamps
// one), or the creation time.
func lastChange(o order) time.Time {
	last := time.Time{}
	for _, obj := range append([]client.Object{o.payment}, o.ops...) {
		if t := obj.GetCreationTimestamp().Time; t.After(last) {
			last = t
		}
		for _, mf := range obj.GetManagedFields() {
			if mf.Time != nil && mf.Time.After(last) {
				last = mf.Time.Time
			}
		}
	}
	return last
}

// reappeared reports whether the payment was archived before as another
// object (a GitOps tool re-created it): retention then keeps it, instead of
// deleting it again in a loop. A payment the operator restored is exempt.
func (r *retentionReconciler) reappeared(ctx context.Context, a *archive.Archive, p *v1.Payment) (bool, error) {
	if _, restored := p.Annotations[v1.RestoredAnnotation]; restored {
		return false, nil
	}
	prev, err := a.Find(ctx, archive.KindPayment, p.Namespace, p.Name)
	if err != nil {
		return false, err
	}
	for _, rec := range prev {
		if rec.UID != string(p.UID) {
			r.rec.Eventf(p, nil, corev1.EventTypeNormal, EventKeptAfterArchive, "Retain",
				"payment %s/%s was archived on %s and has been created again; retention keeps it (remove it from git to let it go)",
				p.Namespace, p.Name, rec.ArchivedAt.UTC().Format(time.RFC3339))
			keptTotal.Inc()
			return true, nil
		}
	}
	return false, nil
}

func records(o order, clientID string) ([]archive.Record, error) {
	pr, err := archive.FromPayment(o.payment, clientID)
	if err != nil {
		return nil, err
	}
	recs := []archive.Record{pr}
	for _, op := range o.ops {
		rec, err := archive.FromOperation(op, clientID)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// deleteUnchanged deletes obj only if it is still the version archived;
// an object already gone is fine.
func deleteUnchanged(ctx context.Context, c client.Client, obj client.Object) error {
	uid, rv := obj.GetUID(), obj.GetResourceVersion()
	err := c.Delete(ctx, obj, client.Preconditions{UID: &uid, ResourceVersion: &rv})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

func kindOf(obj client.Object) string {
	switch obj.(type) {
	case *v1.Payment:
		return archive.KindPayment
	case *v1.Capture:
		return archive.KindCapture
	case *v1.Refund:
		return archive.KindRefund
	case *v1.CustomsDeclaration:
		return archive.KindDeclaration
	}
	return fmt.Sprintf("%T", obj)
}

// pause records that retention cannot archive (nothing is deleted) and
// tries again after the retry interval.
func (r *retentionReconciler) pause(ctx context.Context, gwc *v1.GatewayConfig, cause error) (ctrl.Result, error) {
	reason := v1.ReasonArchiveUnavailable
	var se shared.ArchiveSecretError
	if errors.As(cause, &se) {
		reason = v1.ReasonArchiveSecretInvalid
	}
	shared.ArchiveErrors.WithLabelValues(gwc.Name).Inc()
	paused.WithLabelValues(gwc.Name).Set(1)
	msg := "retention paused, nothing is deleted: " + cause.Error()
	if r.setArchiveCondition(ctx, gwc, metav1.ConditionFalse, reason, msg) {
		r.rec.Eventf(gwc, nil, corev1.EventTypeWarning, EventRetentionPaused, "Archive", "%s", msg)
	}
	return ctrl.Result{RequeueAfter: r.retry}, nil
}

func (r *retentionReconciler) resume(ctx context.Context, gwc *v1.GatewayConfig) {
	paused.WithLabelValues(gwc.Name).Set(0)
	was := meta.FindStatusCondition(gwc.Status.Conditions, v1.ConditionArchiveReady)
	if r.setArchiveCondition(ctx, gwc, metav1.ConditionTrue, v1.ReasonAvailable, "the archive accepts writes; retention is running") &&
		was != nil && was.Status == metav1.ConditionFalse {
		r.rec.Eventf(gwc, nil, corev1.EventTypeNormal, EventRetentionResumed, "Archive", "the archive accepts writes again; retention resumed")
	}
}

// setArchiveCondition writes the ArchiveReady condition when it changes
// and reports whether it did.
func (r *retentionReconciler) setArchiveCondition(ctx context.Context, gwc *v1.GatewayConfig, status metav1.ConditionStatus, reason, msg string) bool {
	if c := meta.FindStatusCondition(gwc.Status.Conditions, v1.ConditionArchiveReady); c != nil &&
		c.Status == status && c.Reason == reason && c.Message == msg {
		return false
	}
	var fresh v1.GatewayConfig
	if err := r.deps.APIReader.Get(ctx, client.ObjectKeyFromObject(gwc), &fresh); err != nil {
		return false
	}
	if !transition.SetArchiveReady(&fresh.Status.Conditions, fresh.Generation, status, reason, truncateMsg(msg)) {
		return false
	}
	if err := r.deps.Client.Status().Update(ctx, &fresh); err != nil {
		return false // written by the next reconcile
	}
	fresh.DeepCopyInto(gwc)
	return true
}

func truncateMsg(s string) string {
	const max = 1024
	if len(s) > max {
		return s[:max]
	}
	return s
}
