package retention

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/archive"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// restoreReconciler brings an archived payment back when an operation (a
// Refund, a Capture, a CustomsDeclaration) names it, so that refunds within
// the gateway's refund window keep working and the limits stay exact.
//
// The payment comes back as an import of the gateway payment the archive
// names (managementPolicy Observe, spec.paymentId): it can never pay again.
// Its status is the archived one re-observed from the gateway by an inquiry,
// whose transactions carry every capture and refund ever made, archived ones
// included; the archived declared total is kept.
type restoreReconciler struct {
	deps     *shared.Deps
	archives *shared.Archives
	rec      recorder.EventRecorder
	newObj   func() v1.PaymentOperation
}

// setupRestore registers the controllers that restore the archived payment
// an operation names, one per operation kind.
func setupRestore(mgr ctrl.Manager, deps *shared.Deps, arch *shared.Archives, rec recorder.EventRecorder) error {
	for name, newObj := range map[string]func() v1.PaymentOperation{
		"refund":             func() v1.PaymentOperation { return &v1.Refund{} },
		"capture":            func() v1.PaymentOperation { return &v1.Capture{} },
		"customsdeclaration": func() v1.PaymentOperation { return &v1.CustomsDeclaration{} },
	} {
		r := &restoreReconciler{deps: deps, archives: arch, rec: rec, newObj: newObj}
		if err := ctrl.NewControllerManagedBy(mgr).Named("restore-"+name).
			For(newObj(), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
			WithOptions(controller.Options{MaxConcurrentReconciles: 1,
				RateLimiter: engine.NewBackoff(500*time.Millisecond, time.Minute)}).
			Complete(r); err != nil {
			return fmt.Errorf("restore controller for %s: %w", name, err)
		}
	}
	return nil
}

func (r *restoreReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	op := r.newObj()
	if err := r.deps.Client.Get(ctx, req.NamespacedName, op); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if op.GetOperationStatus().Phase.IsFinal() || !op.GetDeletionTimestamp().IsZero() {
		return ctrl.Result{}, nil
	}
	key := types.NamespacedName{Namespace: op.GetNamespace(), Name: op.GetPaymentRef()}
	var p v1.Payment
	if err := r.deps.Client.Get(ctx, key, &p); err == nil || !apierrors.IsNotFound(err) {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if err := r.deps.APIReader.Get(ctx, key, &p); err == nil || !apierrors.IsNotFound(err) {
		return ctrl.Result{}, err // there (the cache lags), or the apiserver failed
	}
	actx, cancel := context.WithTimeout(ctx, archiveTimeout)
	rec, err := r.find(actx, key)
	cancel()
	if err != nil || rec == nil {
		return ctrl.Result{}, err
	}
	if err := r.restore(ctx, rec); err != nil {
		r.rec.Eventf(op, nil, corev1.EventTypeWarning, EventRestored, "Restore",
			"payment %s is archived; restoring it failed (retrying): %v", key, err)
		return ctrl.Result{}, err
	}
	r.rec.Eventf(op, nil, corev1.EventTypeNormal, EventRestored, "Restore",
		"payment %s was archived; restored it from the archive, status re-observed from the gateway", key)
	return ctrl.Result{}, nil
}

// find looks for the newest archived payment of that name in every archive
// restore searches; nil when none has it.
func (r *restoreReconciler) find(ctx context.Context, key types.NamespacedName) (*archive.Record, error) {
	recs, err := r.archives.Search(ctx, r.deps.Client, "", func(ctx context.Context, a *archive.Archive) ([]archive.Record, error) {
		return a.Find(ctx, archive.KindPayment, key.Namespace, key.Name)
	})
	if err != nil {
		return nil, err
	}
	return newest(recs, ""), nil
}

// newest is the most recently created record, of merchant clientID unless
// it is ""; nil when there is none.
func newest(recs []archive.Record, clientID string) *archive.Record {
	var out *archive.Record
	for i := range recs {
		if clientID != "" && recs[i].MerchantClientID != clientID {
			continue
		}
		if out == nil || recs[i].CreatedAt.After(out.CreatedAt) {
			out = &recs[i]
		}
	}
	return out
}

// errNotRestorable marks an archived payment that can never be restored.
var errNotRestorable = errors.New("not restorable")

// restore creates the payment again as an import of its gateway payment and
// writes its status: the archived one, moved forward by a fresh inquiry.
func (r *restoreReconciler) restore(ctx context.Context, rec *archive.Record) error {
	var old v1.Payment
	if err := rec.Decode(&old); err != nil {
		return err
	}
	if old.Status.PaymentID == "" {
		return fmt.Errorf("%w: the archived payment never reached the gateway (phase %s); there is nothing to observe", errNotRestorable, old.Status.Phase)
	}
	conn, err := r.deps.Registry.Get(ctx, old.Spec.GatewayRef.Name)
	if err != nil {
		return err
	}
	resp, err := conn.Client.InquiryPayment(ctx, &gateway.InquiryPaymentRequest{PaymentID: old.Status.PaymentID})
	if err != nil {
		return fmt.Errorf("inquire payment %s: %w", old.Status.PaymentID, err)
	}
	p := &v1.Payment{ObjectMeta: metav1.ObjectMeta{Namespace: old.Namespace, Name: old.Name, Labels: old.Labels,
		Annotations: restoredAnnotations(old.Annotations, r.deps.Time())}, Spec: old.Spec}
	p.Spec.ManagementPolicy = v1.ManagementObserve
	p.Spec.PaymentID = old.Status.PaymentID
	if err := r.deps.Client.Create(ctx, p); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return nil // restored meanwhile, or created again by its owner
		}
		return fmt.Errorf("create: %w", err)
	}
	restoredTotal.Inc()
	totals := transition.PaymentFacts{Source: transition.SourceController}
	for _, t := range []struct {
		m   *v1.Money
		dst **gateway.Amount
	}{{old.Status.Amounts.Captured, &totals.Captured}, {old.Status.Amounts.Refunded, &totals.Refunded}, {old.Status.Amounts.Declared, &totals.Declared}} {
		if t.m != nil {
			if w, err := transition.WireFromMoney(*t.m); err == nil {
				*t.dst = &w
			}
		}
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur v1.Payment
		if err := r.deps.APIReader.Get(ctx, client.ObjectKeyFromObject(p), &cur); err != nil {
			return err
		}
		if cur.UID != p.UID {
			return nil
		}
		if cur.Status.Phase == "" {
			cur.Status = *old.Status.DeepCopy()
			cur.Status.Conditions = nil
		}
		now := r.deps.Time()
		if _, err := transition.ApplyPayment(&cur, transition.FromInquiryPayment(resp), now); err != nil {
			return fmt.Errorf("apply inquiry: %w", err)
		}
		if _, err := transition.ApplyPayment(&cur, totals, now); err != nil {
			return fmt.Errorf("apply archived totals: %w", err)
		}
		cur.Status.LastCheckTime = shared.MetaTime(now)
		cur.Status.ObservedGeneration = cur.Generation
		transition.SetPaymentConditions(&cur)
		transition.SetSynced(&cur.Status.Conditions, cur.Generation, nil, v1.ReasonReconcileSuccess)
		return r.deps.Client.Status().Update(ctx, &cur)
	})
}

// restoredAnnotations are the archived annotations (without kubectl's
// last-applied copy, which names the old spec) plus the restore mark.
func restoredAnnotations(in map[string]string, now time.Time) map[string]string {
	out := map[string]string{}
	for k, v := range in {
		if !strings.HasPrefix(k, "kubectl.kubernetes.io/") {
			out[k] = v
		}
	}
	out[v1.RestoredAnnotation] = now.UTC().Format(time.RFC3339)
	return out
}
