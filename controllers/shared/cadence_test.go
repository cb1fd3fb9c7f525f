package shared

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/cashier-operator/cashier-operator/api/v1alpha1"
)

func TestCadence(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(d)); return &t }
	c := DefaultCadence
	cases := []struct {
		name     string
		phase    v1.PaymentPhase
		age      time.Duration
		notified bool
		expiry   *metav1.Time
		authExp  *metav1.Time
		manual   bool
		min, max time.Duration
	}{
		{"final: never", v1.PaymentSucceeded, time.Minute, false, nil, nil, false, 0, 0},
		{"young, polling", v1.PaymentProcessing, 4 * time.Second, false, nil, nil, false, 2700 * time.Millisecond, 3300 * time.Millisecond},
		{"young, notified: late first poll", v1.PaymentProcessing, 4 * time.Second, true, nil, nil, false, 54 * time.Second, 66 * time.Second},
		{"old: age/4 capped", v1.PaymentProcessing, time.Hour, false, nil, nil, false, 108 * time.Second, 132 * time.Second},
		{"look right after expiry", v1.PaymentProcessing, time.Hour, true, at(10 * time.Second), nil, false, 10 * time.Second, 14 * time.Second},
		{"manual authorization: until auth expiry", v1.PaymentAuthorized, time.Minute, false, nil, at(time.Hour), true, time.Hour, time.Hour + 10*time.Second},
		{"automatic authorization: capture now", v1.PaymentAuthorized, time.Minute, false, nil, nil, false, time.Second, time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &v1.Payment{}
			p.CreationTimestamp = metav1.NewTime(now.Add(-tc.age))
			p.Status.Phase, p.Status.ExpiryTime, p.Status.AuthExpiryTime = tc.phase, tc.expiry, tc.authExp
			if tc.manual {
				p.Spec.CaptureMode = v1.CaptureManual
			}
			if d := c.Payment(p, tc.notified, now); d < tc.min || d > tc.max {
				t.Fatalf("next look in %s, want [%s, %s]", d, tc.min, tc.max)
			}
		})
	}
}
