// Package fieldindex defines the cache field indexes that more than one
// process registers (the manager's controllers and the
// notification-receiver): one name and one extractor per index, so that a
// list by an index means the same wherever it runs.
package fieldindex

import (
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

const (
	// PaymentRef indexes Captures, Refunds and CustomsDeclarations by
	// spec.paymentRef.name.
	PaymentRef = "spec.paymentRef.name"
	// PaymentID indexes Payments by gateway paymentId: status.paymentId
	// and, for managementPolicy Observe, spec.paymentId.
	PaymentID = "status.paymentId"
	// DisputeRef indexes DisputeResponses by spec.disputeRef.name.
	DisputeRef = "spec.disputeRef.name"
	// MerchantRef indexes Payments by spec.merchantRef.name.
	MerchantRef = "spec.merchantRef.name"
)

// PaymentRefValues extracts PaymentRef from an operation.
func PaymentRefValues(o client.Object) []string {
	op, ok := o.(v1.PaymentOperation)
	if !ok || op.GetPaymentRef() == "" {
		return nil
	}
	return []string{op.GetPaymentRef()}
}

// PaymentIDValues extracts PaymentID from a Payment.
func PaymentIDValues(o client.Object) []string {
	p, ok := o.(*v1.Payment)
	if !ok {
		return nil
	}
	return Uniq(p.Status.PaymentID, p.Spec.PaymentID)
}

// DisputeRefValues extracts DisputeRef from a DisputeResponse.
func DisputeRefValues(o client.Object) []string {
	r, ok := o.(*v1.DisputeResponse)
	if !ok || r.Spec.DisputeRef.Name == "" {
		return nil
	}
	return []string{r.Spec.DisputeRef.Name}
}

// MerchantRefValues extracts MerchantRef from a Payment.
func MerchantRefValues(o client.Object) []string {
	p, ok := o.(*v1.Payment)
	if !ok || p.Spec.MerchantRef == nil || p.Spec.MerchantRef.Name == "" {
		return nil
	}
	return []string{p.Spec.MerchantRef.Name}
}

// Uniq returns the non-empty values, each once, in order.
func Uniq(vals ...string) []string {
	var out []string
	for _, v := range vals {
		if v == "" {
			continue
		}
		dup := false
		for _, o := range out {
			dup = dup || o == v
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out
}
