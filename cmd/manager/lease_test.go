package main

import (
	"strings"
	"testing"
	"time"
)

func TestLeaseTimesCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		l    leaseTimes
		want string
	}{
		{"the defaults", defaultLease, ""},
		{"controller-runtime's defaults", leaseTimes{15 * time.Second, 10 * time.Second, 2 * time.Second}, ""},
		{"renewing as long as the lease", leaseTimes{4 * time.Second, 4 * time.Second, 500 * time.Millisecond}, "must be longer than --leader-elect-renew-deadline"},
		{"retrying slower than the deadline allows", leaseTimes{4 * time.Second, 3 * time.Second, 2500 * time.Millisecond}, "must be longer than 1.2 × --leader-elect-retry-period"},
		{"no retry period", leaseTimes{4 * time.Second, 3 * time.Second, 0}, "must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.l.check()
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("check: %v, want %q", err, tc.want)
			}
		})
	}
}
