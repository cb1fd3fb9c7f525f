package receiver

import (
	"context"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
)

// The receiver asks for restores from the archive and reads their outcome;
// it never reads the archive itself (no database credentials here).
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=paymentrestores,verbs=create;get

// OutcomeRestoreRequested: the object may be archived; a PaymentRestore
// asks the manager to bring its payment back and the gateway is told to
// send the notification again (label outcome of notifications_total).
const OutcomeRestoreRequested = "restore_requested"

// unknown answers a verified notification whose object is not in the
// cluster. Without an archive (no RestoreNamespace, or no GatewayConfig of
// the signing merchant has one) that is the end: acknowledged and counted.
// Otherwise the receiver asks the manager for a restore with a
// PaymentRestore named after the merchant and the object (a re-send finds
// the same one) and answers so that the gateway re-sends, until the
// manager has decided: once the payment is back the re-send applies as
// usual; when nothing was archived (or the payment came back but the
// object itself stays archived) it is acknowledged and counted.
func (r *Receiver) unknown(ctx context.Context, v *verified, obj *v1.RestoreObjectReference, what string) answer {
	if r.opts.RestoreNamespace == "" || !r.archiveConfigured(ctx, v) {
		return ack(v.kind, OutcomeUnknownObject, what)
	}
	spec := restoreSpec(v, obj, what)
	pr := &v1.PaymentRestore{ObjectMeta: metav1.ObjectMeta{Namespace: r.opts.RestoreNamespace, Name: v1.PaymentRestoreName(&spec)},
		Spec: spec}
	err := r.opts.Client.Create(ctx, pr)
	switch {
	case err == nil:
		return restoring(v.kind, what+"; asked for a restore ("+pr.Name+")")
	case !apierrors.IsAlreadyExists(err):
		return unavailable(v.kind, fmt.Errorf("ask for a restore of %s: %w", what, err))
	}
	var cur v1.PaymentRestore
	if err := r.opts.APIReader.Get(ctx, client.ObjectKeyFromObject(pr), &cur); err != nil {
		// Deleted meanwhile (expired): the next re-send asks again.
		return unavailable(v.kind, fmt.Errorf("read restore %s of %s: %w", pr.Name, what, err))
	}
	if !cur.Status.Phase.IsFinal() {
		return restoring(v.kind, what+"; restore "+pr.Name+" pending")
	}
	return ack(v.kind, OutcomeUnknownObject, fmt.Sprintf("%s (restore %s: %s)", what, pr.Name, cur.Status.Phase))
}

// restoring answers 503: the gateway re-sends after the restore.
func restoring(kind, what string) answer {
	return answer{status: http.StatusServiceUnavailable, kind: kind, outcome: OutcomeRestoreRequested, object: what,
		code: gateway.CodeUnknownException, msg: "the object is being restored from the archive; send the notification again"}
}

// archiveConfigured reports whether a GatewayConfig of the signing
// merchant has an archive (retention on, or payments archived before).
func (r *Receiver) archiveConfigured(ctx context.Context, v *verified) bool {
	for _, c := range v.signers {
		if c.Config == nil {
			continue
		}
		var gwc v1.GatewayConfig
		if err := r.opts.Client.Get(ctx, client.ObjectKey{Name: c.Config.Name}, &gwc); err != nil {
			continue
		}
		if gwc.Spec.Retention != nil || len(gwc.Status.Archives) > 0 {
			return true
		}
	}
	return false
}

// restoreSpec describes the object a notification names.
func restoreSpec(v *verified, obj *v1.RestoreObjectReference, what string) v1.PaymentRestoreSpec {
	s := v1.PaymentRestoreSpec{ClientID: v.clientID, Notification: v.kind, Object: obj,
		Reason: truncate("a verified " + v.kind + " names " + what + ", which is not in the cluster")}
	switch n := v.body.(type) {
	case *gateway.NotifyPayment:
		s.PaymentID, s.PaymentRequestID = n.PaymentID, n.PaymentRequestID
	case *gateway.NotifyCapture:
		s.PaymentID = n.PaymentID
	case *gateway.NotifyDispute:
		s.PaymentID, s.PaymentRequestID = n.PaymentID, n.PaymentRequestID
	case *gateway.NotifyRefund:
		s.RefundRequestID = n.RefundRequestID
	}
	return s
}

func truncate(s string) string {
	if len(s) > 1024 {
		return s[:1024]
	}
	return s
}

func routeObject(kind string, key client.ObjectKey) *v1.RestoreObjectReference {
	return &v1.RestoreObjectReference{Kind: kind, Namespace: key.Namespace, Name: key.Name}
}
