package v1alpha1_test

import (
	"context"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

// TestPaymentRestoreName: one name per merchant and object (or ids),
// whatever else the notification said, and always a valid object name.
func TestPaymentRestoreName(t *testing.T) {
	obj := func(kind, name string) *v1.RestoreObjectReference {
		return &v1.RestoreObjectReference{Kind: kind, Namespace: "shop", Name: name}
	}
	base := v1.PaymentRestoreSpec{ClientID: "M1", Notification: "notifyPayment", Object: obj("Payment", "order-1"), PaymentID: "P1"}
	cases := []struct {
		name   string
		mutate func(*v1.PaymentRestoreSpec)
		same   bool
	}{
		{"another notification about the object", func(s *v1.PaymentRestoreSpec) { s.Notification, s.Reason = "notifyDispute", "x" }, true},
		{"another merchant", func(s *v1.PaymentRestoreSpec) { s.ClientID = "M2" }, false},
		{"another payment", func(s *v1.PaymentRestoreSpec) { s.Object = obj("Payment", "order-2") }, false},
		{"a refund of that name", func(s *v1.PaymentRestoreSpec) { s.Object = obj("Refund", "order-1") }, false},
		{"ids only", func(s *v1.PaymentRestoreSpec) { s.Object = nil }, false},
	}
	want := v1.PaymentRestoreName(&base)
	if errs := validation.IsDNS1123Subdomain(want); len(errs) > 0 {
		t.Fatalf("name %q: %v", want, errs)
	}
	for _, tc := range cases {
		s := base
		tc.mutate(&s)
		if got := v1.PaymentRestoreName(&s); (got == want) != tc.same {
			t.Errorf("%s: name %q, base %q, want same=%v", tc.name, got, want, tc.same)
		}
	}
}

// TestPaymentRestoreValidation: the spec names something and never changes.
func TestPaymentRestoreValidation(t *testing.T) {
	ctx := context.Background()
	for i, tc := range []struct {
		name    string
		spec    v1.PaymentRestoreSpec
		wantErr string
	}{
		{"route object", v1.PaymentRestoreSpec{ClientID: "M1", Notification: "notifyDispute",
			Object: &v1.RestoreObjectReference{Kind: "Payment", Namespace: "shop", Name: "order-1"}}, ""},
		{"ids only", v1.PaymentRestoreSpec{ClientID: "M1", Notification: "notifyRefund", RefundRequestID: "R1"}, ""},
		{"nothing named", v1.PaymentRestoreSpec{ClientID: "M1", Notification: "notifyPayment"}, "name the object or at least one gateway id"},
		{"unknown notification", v1.PaymentRestoreSpec{ClientID: "M1", Notification: "notifyX", PaymentID: "P"}, "spec.notification"},
		{"kind not restorable", v1.PaymentRestoreSpec{ClientID: "M1", Notification: "notifyCapture",
			Object: &v1.RestoreObjectReference{Kind: "Capture", Namespace: "shop", Name: "c"}}, "spec.object.kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr := &v1.PaymentRestore{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("restore-%d", i)}, Spec: tc.spec}
			err := k8s.Create(ctx, pr)
			checkAdmission(t, err, tc.wantErr)
			if err != nil {
				return
			}
			pr.Spec.PaymentID = "changed"
			checkAdmission(t, k8s.Update(ctx, pr), "a PaymentRestore's spec is immutable")
		})
	}
}
