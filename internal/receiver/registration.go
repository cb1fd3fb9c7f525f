package receiver

import (
	"context"
	"fmt"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/ids"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// A notifyRegistrationStatus reports the end of a merchant's review. It is
// applied, through package transition, to the MerchantRegistration whose
// route it came on (its registrationNotifyURL), or on the default route to
// the one whose current or previous request it names. The request ids are
// checked against the object: a notification of another request (forged
// routes, a registration of another object) is refused, a replayed one
// changes nothing. MerchantRegistrations are never archived: one that does
// not exist is acknowledged as unknown, never restored.
//
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=merchantregistrations,verbs=get;list;watch
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=merchantregistrations/status,verbs=update

func newRegistration() *v1.MerchantRegistration { return &v1.MerchantRegistration{} }

// routedRegistration applies v to the MerchantRegistration its route names.
func (r *Receiver) routedRegistration(ctx context.Context, v *verified) answer {
	m, found, err := get(ctx, r, v.key, newRegistration)
	if err != nil {
		return unavailable(v.kind, fmt.Errorf("get MerchantRegistration %s: %w", v.key, err))
	}
	if !found {
		return ack(v.kind, OutcomeUnknownObject, "MerchantRegistration "+v.key.String())
	}
	return r.toRegistration(ctx, v, m)
}

// registrationsByID applies v, on the default route, to the
// MerchantRegistrations of the signing merchant whose current or previous
// request it names.
func (r *Receiver) registrationsByID(ctx context.Context, v *verified) answer {
	n := v.body.(*gateway.NotifyRegistrationStatus)
	var list v1.MerchantRegistrationList
	if err := r.opts.Client.List(ctx, &list); err != nil {
		return unavailable(v.kind, fmt.Errorf("list MerchantRegistrations: %w", err))
	}
	var answers []answer
	for i := range list.Items {
		m := &list.Items[i]
		if !namesRequest(m, n.RegistrationRequestID, r.scope(ctx, m.Spec.GatewayRef.Name)) {
			continue
		}
		if ok, err := r.signedForGateway(ctx, v, m.Spec.GatewayRef.Name); err != nil || !ok {
			continue
		}
		answers = append(answers, r.toRegistration(ctx, v, m))
	}
	if len(answers) == 0 {
		return ack(v.kind, OutcomeUnknownObject, describeIDs("registrationRequestId", n.RegistrationRequestID))
	}
	return worst(answers)
}

// namesRequest reports whether id is m's current, previous or (not yet
// recorded) derived request id.
func namesRequest(m *v1.MerchantRegistration, id, scope string) bool {
	st := &m.Status
	return id != "" && (id == st.RegistrationRequestID || (st.Previous != nil && id == st.Previous.RegistrationRequestID) ||
		id == ids.Registration(m, scope))
}

// toRegistration applies a notifyRegistrationStatus to m.
func (r *Receiver) toRegistration(ctx context.Context, v *verified, m *v1.MerchantRegistration) answer {
	if a := r.authorizeGateway(ctx, v, m.Spec.GatewayRef.Name, m); a != nil {
		return *a
	}
	n, ok := v.body.(*gateway.NotifyRegistrationStatus)
	if !ok {
		return refuse(v.kind, ReasonRouteKind, nil)
	}
	scope := r.scope(ctx, m.Spec.GatewayRef.Name)
	status := func(m *v1.MerchantRegistration) any { return &m.Status }
	cur, ch, wrote, a := applyStatus(ctx, r, v, m, newRegistration, status, func(m *v1.MerchantRegistration) (transition.Change, error) {
		if id := ids.Registration(m, scope); n.RegistrationRequestID == id && m.Status.RegistrationRequestID != id {
			// Sent, and reviewed, before the manager recorded the request.
			transition.BeginRegistration(m, id, ids.RegistrationDigest(&m.Spec))
		}
		ch, err := transition.ApplyRegistration(m, transition.FromNotifyRegistrationStatus(n), r.opts.Now())
		if err == nil {
			transition.SetRegistrationConditions(m)
		}
		return ch, err
	})
	if wrote {
		r.transitionEvent(cur, "registration "+n.RegistrationRequestID, ch, v.kind)
	}
	return a
}
