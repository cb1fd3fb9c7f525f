package metrics

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

func TestIsPastExpiry(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *metav1.Time { x := metav1.NewTime(now.Add(d)); return &x }
	tests := []struct {
		name   string
		status v1.PaymentStatus
		want   bool
	}{
		{"processing, expiry passed", v1.PaymentStatus{Phase: v1.PaymentProcessing, ExpiryTime: at(-time.Second)}, true},
		{"processing, expiry ahead", v1.PaymentStatus{Phase: v1.PaymentProcessing, ExpiryTime: at(time.Second)}, false},
		{"processing, default 14m passed", v1.PaymentStatus{Phase: v1.PaymentProcessing, CreateTime: at(-15 * time.Minute)}, true},
		{"processing, default 14m ahead", v1.PaymentStatus{Phase: v1.PaymentProcessing, CreateTime: at(-13 * time.Minute)}, false},
		{"pending, never reached the gateway", v1.PaymentStatus{Phase: v1.PaymentPending}, true}, // created an hour ago
		{"succeeded", v1.PaymentStatus{Phase: v1.PaymentSucceeded, ExpiryTime: at(-time.Hour)}, false},
		{"expired", v1.PaymentStatus{Phase: v1.PaymentExpired, ExpiryTime: at(-time.Hour)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &v1.Payment{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(now.Add(-time.Hour))}, Status: tt.status}
			if got := isPastExpiry(p, now); got != tt.want {
				t.Errorf("isPastExpiry = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBlockedReason(t *testing.T) {
	blocked := []metav1.Condition{{Type: v1.ConditionBlocked, Status: metav1.ConditionTrue, Reason: v1.ReasonDisputeOpen}}
	unblocked := []metav1.Condition{{Type: v1.ConditionBlocked, Status: metav1.ConditionFalse, Reason: v1.ReasonDisputeOpen}}
	tests := []struct {
		name   string
		obj    runtime.Object
		reason string
		ok     bool
	}{
		{"blocked refund", &v1.Refund{Status: v1.OperationStatus{Conditions: blocked}}, v1.ReasonDisputeOpen, true},
		{"unblocked refund", &v1.Refund{Status: v1.OperationStatus{Conditions: unblocked}}, "", false},
		{"refund without conditions", &v1.Refund{}, "", false},
		{"blocked capture", &v1.Capture{Status: v1.OperationStatus{Conditions: blocked}}, v1.ReasonDisputeOpen, true},
		{"payment", &v1.Payment{}, "", false},
		{"payment waiting for its merchant", &v1.Payment{Status: v1.PaymentStatus{Conditions: []metav1.Condition{
			{Type: v1.ConditionBlocked, Status: metav1.ConditionTrue, Reason: v1.ReasonMerchantNotRegistered}}}}, v1.ReasonMerchantNotRegistered, true},
		{"registration", &v1.MerchantRegistration{}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reason, ok := blockedReason(tt.obj)
			if reason != tt.reason || ok != tt.ok {
				t.Errorf("blockedReason = %q, %v; want %q, %v", reason, ok, tt.reason, tt.ok)
			}
		})
	}
}
