package retention

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/archive"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=paymentrestores,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=paymentrestores/status,verbs=update

// paymentRestoreReconciler answers the PaymentRestores the
// notification-receiver creates for notifications that name an object
// not in the cluster: it finds the payment in the archives (of the signing
// merchant only), restores it through the same path as a Refund naming an
// archived payment does, records the outcome, and deletes the request its
// TTL after the outcome.
type paymentRestoreReconciler struct {
	*restoreReconciler
	ttl time.Duration
}

// setupPaymentRestore registers the PaymentRestore controller.
func setupPaymentRestore(mgr ctrl.Manager, r *restoreReconciler, ttl time.Duration) error {
	pr := &paymentRestoreReconciler{restoreReconciler: r, ttl: ttl}
	if err := ctrl.NewControllerManagedBy(mgr).Named("paymentrestore").
		For(&v1.PaymentRestore{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: 2,
			RateLimiter: engine.NewBackoff(500*time.Millisecond, time.Minute)}).
		Complete(pr); err != nil {
		return fmt.Errorf("paymentrestore controller: %w", err)
	}
	return nil
}

// restoreOutcome is a final answer to a PaymentRestore.
type restoreOutcome struct {
	phase     v1.PaymentRestorePhase
	reason    string
	msg       string
	payment   string
	paymentID string
}

func (r *paymentRestoreReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var pr v1.PaymentRestore
	if err := r.deps.Client.Get(ctx, req.NamespacedName, &pr); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if pr.Status.Phase.IsFinal() {
		return r.expire(ctx, &pr)
	}
	actx, cancel := context.WithTimeout(ctx, archiveTimeout)
	rec, what, op, err := r.locate(actx, &pr.Spec)
	cancel()
	if err != nil {
		r.pending(ctx, &pr, v1.ReasonArchiveUnavailable, "searching the archives failed (retrying): "+err.Error())
		return ctrl.Result{}, err
	}
	if rec == nil {
		return r.finish(ctx, &pr, restoreOutcome{phase: v1.PaymentRestoreNotArchived, reason: v1.ReasonNotArchived,
			msg: fmt.Sprintf("no archive holds %s of merchant %s: it was deleted or never managed here", what, pr.Spec.ClientID)})
	}
	key := types.NamespacedName{Namespace: rec.Namespace, Name: rec.Name}
	done := restoreOutcome{phase: v1.PaymentRestoreRestored, reason: v1.ReasonRestored, payment: key.String(), paymentID: rec.PaymentID}
	var p v1.Payment
	err = r.deps.APIReader.Get(ctx, key, &p)
	switch {
	case err == nil:
		done.msg = fmt.Sprintf("payment %s (archived for %s) is in the cluster", key, what)
	case !apierrors.IsNotFound(err):
		return ctrl.Result{}, err
	default:
		if err := r.restore(ctx, rec); errors.Is(err, errNotRestorable) {
			return r.finish(ctx, &pr, restoreOutcome{phase: v1.PaymentRestoreFailed, reason: v1.ReasonRestoreFailed,
				msg: fmt.Sprintf("payment %s is archived but cannot be restored: %v", key, err), payment: key.String()})
		} else if err != nil {
			r.pending(ctx, &pr, v1.ReasonGatewayError, fmt.Sprintf("restoring payment %s failed (retrying): %v", key, err))
			return ctrl.Result{}, err
		}
		done.msg = fmt.Sprintf("restored payment %s from the archive for %s (an Observe import, status re-observed from the gateway)", key, what)
	}
	if op != "" {
		done.msg += "; " + op + " itself stays archived (final; its amounts are in the payment's totals)"
	}
	return r.finish(ctx, &pr, done)
}

// locate finds the newest archived payment of the signing merchant that
// the request names: by the route's object, or by the gateway ids. what
// describes the object asked for; op names the archived operation the
// payment was found through, if any.
func (r *paymentRestoreReconciler) locate(ctx context.Context, s *v1.PaymentRestoreSpec) (rec *archive.Record, what, op string, err error) {
	search := func(q func(context.Context, *archive.Archive) ([]archive.Record, error)) (*archive.Record, error) {
		// Only the signing merchant's records count as found: another
		// merchant's must not hide that this merchant's archive failed.
		recs, err := r.archives.Search(ctx, r.deps.Client, s.ClientID, func(ctx context.Context, a *archive.Archive) ([]archive.Record, error) {
			recs, err := q(ctx, a)
			return slices.DeleteFunc(recs, func(rec archive.Record) bool { return rec.MerchantClientID != s.ClientID }), err
		})
		return newest(recs, s.ClientID), err
	}
	var hit *archive.Record
	if o := s.Object; o != nil {
		what = o.Kind + " " + o.Namespace + "/" + o.Name
		hit, err = search(func(ctx context.Context, a *archive.Archive) ([]archive.Record, error) {
			return a.Find(ctx, o.Kind, o.Namespace, o.Name)
		})
	} else {
		what = "the object with " + describeRestoreIDs(s)
		for _, id := range []string{s.PaymentID, s.PaymentRequestID, s.RefundRequestID} {
			if id == "" || hit != nil || err != nil {
				continue
			}
			// A payment id names the payment and its operations: the
			// payment itself when it is among them.
			hit, err = search(func(ctx context.Context, a *archive.Archive) ([]archive.Record, error) {
				recs, err := a.FindByID(ctx, s.ClientID, id)
				var payments []archive.Record
				for _, rec := range recs {
					if rec.Kind == archive.KindPayment {
						payments = append(payments, rec)
					}
				}
				if len(payments) > 0 {
					return payments, err
				}
				return recs, err
			})
		}
	}
	if err != nil || hit == nil || hit.Kind == archive.KindPayment {
		return hit, what, "", err
	}
	// An operation: its payment.
	op = hit.Kind + " " + hit.Namespace + "/" + hit.Name
	ns, payment := hit.Namespace, hit.PaymentName
	hit, err = search(func(ctx context.Context, a *archive.Archive) ([]archive.Record, error) {
		return a.Find(ctx, archive.KindPayment, ns, payment)
	})
	return hit, what, op, err
}

func describeRestoreIDs(s *v1.PaymentRestoreSpec) string {
	out := ""
	for _, kv := range [][2]string{{"paymentId", s.PaymentID}, {"paymentRequestId", s.PaymentRequestID}, {"refundRequestId", s.RefundRequestID}} {
		if kv[1] != "" {
			if out != "" {
				out += " "
			}
			out += kv[0] + "=" + kv[1]
		}
	}
	return out
}

// finish records a final outcome and schedules the request's deletion.
func (r *paymentRestoreReconciler) finish(ctx context.Context, pr *v1.PaymentRestore, o restoreOutcome) (ctrl.Result, error) {
	now := r.deps.Time()
	restored := o.phase == v1.PaymentRestoreRestored
	typ := corev1.EventTypeWarning
	if restored {
		typ = corev1.EventTypeNormal
	}
	err := r.writeStatus(ctx, pr, func(st *v1.PaymentRestoreStatus, gen int64) {
		st.Phase, st.Payment, st.PaymentID, st.CompletionTime = o.phase, o.payment, o.paymentID, shared.MetaTime(now)
		transition.SetReady(&st.Conditions, gen, restored, o.reason, truncateMsg(o.msg))
	})
	if err != nil {
		return ctrl.Result{}, err
	}
	r.rec.Eventf(pr, nil, typ, o.reason, "Restore", "%s", o.msg)
	return ctrl.Result{RequeueAfter: r.ttl}, nil
}

// pending records why the request is not decided yet.
func (r *paymentRestoreReconciler) pending(ctx context.Context, pr *v1.PaymentRestore, reason, msg string) {
	err := r.writeStatus(ctx, pr, func(st *v1.PaymentRestoreStatus, gen int64) {
		transition.SetReady(&st.Conditions, gen, false, reason, truncateMsg(msg))
	})
	if err != nil {
		// The request stays undecided and is retried; only its note is lost.
		logr.FromContextOrDiscard(ctx).Info("restore request status not written", "paymentrestore", pr.Name, "error", err.Error())
	}
}

func (r *paymentRestoreReconciler) writeStatus(ctx context.Context, pr *v1.PaymentRestore, fn func(*v1.PaymentRestoreStatus, int64)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur v1.PaymentRestore
		if err := r.deps.APIReader.Get(ctx, client.ObjectKeyFromObject(pr), &cur); err != nil {
			return client.IgnoreNotFound(err)
		}
		if cur.UID != pr.UID || cur.Status.Phase.IsFinal() {
			return nil
		}
		fn(&cur.Status, cur.Generation)
		if err := r.deps.Client.Status().Update(ctx, &cur); err != nil {
			return err
		}
		cur.DeepCopyInto(pr)
		return nil
	})
}

// expire deletes a decided request once its TTL has passed.
func (r *paymentRestoreReconciler) expire(ctx context.Context, pr *v1.PaymentRestore) (ctrl.Result, error) {
	if t := pr.Status.CompletionTime; t != nil {
		if wait := t.Add(r.ttl).Sub(r.deps.Time()); wait > 0 {
			return ctrl.Result{RequeueAfter: wait}, nil
		}
	}
	uid := pr.UID
	if err := r.deps.Client.Delete(ctx, pr, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, nil
}

// restoreHold is how long retention must leave a payment that a
// PaymentRestore restored for a notification: until the request expires,
// so that the notification's re-send finds the payment; 0 when none holds it.
func (r *retentionReconciler) restoreHold(ctx context.Context, p *v1.Payment) time.Duration {
	var list v1.PaymentRestoreList
	if err := r.deps.Client.List(ctx, &list); err != nil {
		return 0
	}
	key := p.Namespace + "/" + p.Name
	var hold time.Duration
	for _, pr := range list.Items {
		if pr.Status.Phase != v1.PaymentRestoreRestored || pr.Status.Payment != key || pr.Status.CompletionTime == nil {
			continue
		}
		if left := pr.Status.CompletionTime.Add(r.restoreTTL).Sub(r.deps.Time()); left > hold {
			hold = left
		}
	}
	if hold > 0 {
		hold += time.Second
	}
	return hold
}

// rememberArchive adds the archive a GatewayConfig's payment was just
// archived to to its status.archives (once), so that restore searches it
// even after retention is turned off or moved to another database.
func rememberArchive(ctx context.Context, deps *shared.Deps, gwc *v1.GatewayConfig, conn v1.ArchiveConnection) error {
	if hasArchive(gwc.Status.Archives, conn) {
		return nil
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var fresh v1.GatewayConfig
		if err := deps.APIReader.Get(ctx, client.ObjectKeyFromObject(gwc), &fresh); err != nil {
			return err
		}
		if hasArchive(fresh.Status.Archives, conn) {
			return nil
		}
		kept := fresh.Status.Archives[:0:0]
		for _, a := range fresh.Status.Archives {
			if a.SecretRef != conn.SecretRef {
				kept = append(kept, a)
			}
		}
		fresh.Status.Archives = append(kept, conn)
		if err := deps.Client.Status().Update(ctx, &fresh); err != nil {
			return err
		}
		fresh.DeepCopyInto(gwc)
		return nil
	})
}

func hasArchive(list []v1.ArchiveConnection, conn v1.ArchiveConnection) bool {
	for _, a := range list {
		if a == conn {
			return true
		}
	}
	return false
}
