package receiver

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
	"github.com/cashier-operator/cashier-operator/internal/transition"
)

// The receiver keeps no Payments, Refunds or Captures in memory: a
// notification names one object (its route) or a few gateway ids (the
// default route), so it reads that object, or selects by id, from the
// apiserver's watch cache (resourceVersion "0"), and confirms a miss with a
// consistent read. An informer of every payment would decode each of their
// writes only to route the one in a thousand a notification is about.
//
// The default route selects with the CRDs' selectable fields:
const (
	// FieldPaymentID and FieldSpecPaymentID select Payments by gateway
	// paymentId: the recorded one, and the imported one of an Observe
	// payment.
	FieldPaymentID     = "status.paymentId"
	FieldSpecPaymentID = "spec.paymentId"
	// FieldPaymentRequestID and FieldSpecPaymentRequestID select Payments
	// by the paymentRequestId they recorded, or that their spec sets.
	FieldPaymentRequestID     = "status.paymentRequestId"
	FieldSpecPaymentRequestID = "spec.paymentRequestId"
	// FieldPaymentRef selects Captures (and Refunds) by spec.paymentRef.name.
	FieldPaymentRef = "spec.paymentRef.name"
	// FieldRequestID and FieldSpecRefundRequestID select Refunds by the
	// refundRequestId they recorded, or that their spec sets.
	FieldRequestID           = "status.requestId"
	FieldSpecRefundRequestID = "spec.refundRequestId"
)

// Uncached are the kinds the receiver's client never caches: the three it
// reads one at a time (above), and Secrets, read only when a connection is
// built. GatewayConfigs, Disputes and MerchantRegistrations, few and read
// on every notification or listed whole, stay cached.
func Uncached() []client.Object {
	return []client.Object{&corev1.Secret{}, &v1.Payment{}, &v1.Refund{}, &v1.Capture{}}
}

// ClientOptions are the client options of the receiver's manager: the
// Uncached kinds, and the field manager its status writes are owned by.
func ClientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{DisableFor: Uncached()}, FieldOwner: transition.FieldManager}
}

// fromWatchCache is a read served by the apiserver's watch cache, not a
// quorum read of etcd: it may be a moment behind, which a write answers
// with a conflict (update re-reads then) and a miss is confirmed (get).
func fromWatchCache() *client.GetOptions {
	return &client.GetOptions{Raw: &metav1.GetOptions{ResourceVersion: "0"}}
}

// listFromWatchCache is fromWatchCache for a list (fresh each time: the
// client writes the selectors into it).
func listFromWatchCache() *client.ListOptions {
	return &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: "0"}}
}

// get reads key from the apiserver's watch cache and confirms a miss with a
// consistent read; found is false only when the object truly does not
// exist.
func get[T client.Object](ctx context.Context, r *Receiver, key client.ObjectKey, newObj func() T) (obj T, found bool, err error) {
	obj = newObj()
	err = r.opts.APIReader.Get(ctx, key, obj, fromWatchCache())
	if err == nil {
		return obj, true, nil
	}
	if !apierrors.IsNotFound(err) {
		return obj, false, err
	}
	obj = newObj()
	err = r.opts.APIReader.Get(ctx, key, obj)
	switch {
	case apierrors.IsNotFound(err):
		return obj, false, nil
	case err != nil:
		return obj, false, err
	}
	return obj, true, nil
}
