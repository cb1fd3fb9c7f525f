package shared

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/money"
)

// Ordering and totals that several domains decide on the same way.

// Before orders objects by (creationTimestamp, name): who gets the last of
// a payment's money, and which of racing objects goes first.
func Before(a, b client.Object) bool {
	ta, tb := a.GetCreationTimestamp().Time, b.GetCreationTimestamp().Time
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return a.GetName() < b.GetName()
}

// ListObjects lists the objects of a namespace as []T.
func ListObjects[T client.Object](ctx context.Context, r client.Reader, list client.ObjectList, ns string) ([]T, error) {
	if err := r.List(ctx, list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(items))
	for _, it := range items {
		if o, ok := it.(T); ok {
			out = append(out, o)
		}
	}
	return out, nil
}

// SumMoney totals amounts of one currency; an amount that does not parse,
// or is in another currency, is an error, never left out of the total.
func SumMoney(currency string, ms []v1.Money) (money.Amount, error) {
	total, err := money.Zero(currency)
	if err != nil {
		return money.Amount{}, err
	}
	for _, m := range ms {
		a, err := m.Amount()
		if err != nil {
			return money.Amount{}, err
		}
		if total, err = total.Add(a); err != nil {
			return money.Amount{}, err
		}
	}
	return total, nil
}

// GatewayNow estimates the gateway's clock, in which authExpiryTime is
// given: local now shifted by the offset seen when the payment was created
// (status.createTime is the gateway's, metadata.creationTimestamp ours).
// Against a real gateway the offset is about zero; against a simulator with
// its own clock it keeps the comparison honest.
func GatewayNow(p *v1.Payment, now time.Time) time.Time {
	if p.Status.CreateTime == nil || p.CreationTimestamp.IsZero() {
		return now
	}
	return now.Add(p.Status.CreateTime.Sub(p.CreationTimestamp.Time))
}

// PaymentDisputes lists the Dispute objects of a payment (by their payment
// label, checked against spec.paymentRef).
func PaymentDisputes(ctx context.Context, r client.Reader, p *v1.Payment) ([]v1.Dispute, error) {
	var list v1.DisputeList
	if err := r.List(ctx, &list, client.InNamespace(p.Namespace),
		client.MatchingLabels{v1.LabelPayment: v1.PaymentLabelValue(p.Name)}); err != nil {
		return nil, fmt.Errorf("list disputes of payment %s: %w", p.Name, err)
	}
	out := list.Items[:0]
	for _, d := range list.Items {
		if d.Spec.PaymentRef.Name == p.Name {
			out = append(out, d)
		}
	}
	return out, nil
}
