package payment

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/controllers/shared"
	"github.com/cashier-operator/cashier-operator/internal/engine"
	"github.com/cashier-operator/cashier-operator/internal/gateway"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// merchantWait is how long a payment waiting for its merchant's
// registration waits before it looks again by itself; a changed
// MerchantRegistration wakes it at once (Setup's watch).
const merchantWait = 5 * time.Minute

// secondaryMerchant reads the MerchantRegistration p names (spec.merchantRef)
// and, for a payment that never paid, decides whether it may pay now: the
// registration must be of the payment's GatewayConfig and its current
// request approved for the payment's method (transition.RegistrationApproves).
// Otherwise the payment waits Blocked MerchantNotRegistered and nothing is
// sent. nil for a payment without a secondary merchant.
func (k paymentKind) secondaryMerchant(ctx context.Context, p *v1.Payment) (*v1.MerchantRegistration, error) {
	ref := p.Spec.MerchantRef
	if ref == nil {
		return nil, nil
	}
	key := types.NamespacedName{Namespace: p.Namespace, Name: ref.Name}
	var m v1.MerchantRegistration
	err := k.deps.Client.Get(ctx, key, &m)
	msg := ""
	switch {
	case apierrors.IsNotFound(err):
		msg = fmt.Sprintf("MerchantRegistration %s does not exist", key)
	case err != nil:
		return nil, fmt.Errorf("get MerchantRegistration %s: %w", key, err)
	case m.Spec.GatewayRef.Name != p.Spec.GatewayRef.Name:
		msg = fmt.Sprintf("MerchantRegistration %s registers merchant %s with GatewayConfig %s, not %s",
			key, m.Spec.ReferenceMerchantID, m.Spec.GatewayRef.Name, p.Spec.GatewayRef.Name)
	default:
		if ok, why := transition.RegistrationApproves(&m, p.Spec.PaymentMethod.Type); !ok && !paymentSubmitted(p) {
			msg = why
		}
	}
	if msg == "" {
		return &m, nil
	}
	// A payment already sent is never held back: it is looked up and
	// re-sent as before, only the merchant's details must be readable.
	blocked := !paymentSubmitted(p)
	return nil, &engine.WaitError{Reason: v1.ReasonMerchantNotRegistered, Blocked: blocked, Announce: blocked, RequeueAfter: merchantWait,
		Message: msg + "; nothing is sent to the gateway until it is approved for " + p.Spec.PaymentMethod.Type}
}

// orderMerchant is the secondary merchant as the pay call carries it
// (order.merchant): what its MerchantRegistration registered.
func orderMerchant(m *v1.MerchantRegistration) *gateway.Merchant {
	return &gateway.Merchant{ReferenceMerchantID: m.Spec.ReferenceMerchantID, MerchantName: m.Spec.DisplayName,
		MerchantDisplayName: m.Spec.DisplayName, MerchantMCC: m.Spec.MCC, MerchantAddress: shared.WireAddress(&m.Spec.Address)}
}
