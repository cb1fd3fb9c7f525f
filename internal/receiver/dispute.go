package receiver

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// Each chargeback is a Dispute object of its own, created here the first
// time a verified notifyDispute names it (whatever its type: a re-sent
// DISPUTE_CREATED, or a later one when the first was lost) and kept in step
// with every later notification through package transition.
//
// The receiver needs, on top of what it has for Payments:
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=disputes,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=disputes/status,verbs=get;update;patch

func newDispute() *v1.Dispute { return &v1.Dispute{} }

// applyDisputeObject records a notifyDispute on the chargeback's Dispute
// object, creating it if needed.
func (r *Receiver) applyDisputeObject(ctx context.Context, v *verified, p *v1.Payment, n *gateway.NotifyDispute) answer {
	d, err := r.ensureDispute(ctx, p, n.DisputeID)
	if err != nil {
		a := unavailable(v.kind, fmt.Errorf("Dispute %s of Payment %s/%s: %w", n.DisputeID, p.Namespace, p.Name, err))
		a.object = describe(p)
		return a
	}
	status := func(d *v1.Dispute) any { return &d.Status }
	cur, ch, wrote, a := applyStatus(ctx, r, v, d, newDispute, status, func(d *v1.Dispute) (transition.Change, error) {
		ch, err := transition.ApplyDisputeNotification(d, n, p.Spec.Amount.Currency, r.opts.Now())
		if err == nil {
			transition.SetDisputeConditions(d)
		}
		return ch, err
	})
	if wrote {
		r.transitionEvent(cur, "dispute "+n.DisputeID, ch, v.kind)
		if n.DisputeNotificationType == gateway.DisputeDefenseDueAlert {
			r.event(cur, corev1.EventTypeWarning, "DefenseDueAlert", "the gateway warns that the defense of dispute %s is due at %s",
				n.DisputeID, n.DefenseDueTime)
		}
	}
	return a
}

// ensureDispute returns the chargeback's Dispute, creating it owned by p.
func (r *Receiver) ensureDispute(ctx context.Context, p *v1.Payment, disputeID string) (*v1.Dispute, error) {
	want := v1.NewDisputeFor(p, disputeID)
	d, found, err := get(ctx, r, client.ObjectKeyFromObject(want), newDispute)
	if err != nil || found {
		return d, err
	}
	err = r.opts.Client.Create(ctx, want)
	if apierrors.IsAlreadyExists(err) {
		d = newDispute()
		return d, r.opts.APIReader.Get(ctx, client.ObjectKeyFromObject(want), d)
	}
	return want, err
}
