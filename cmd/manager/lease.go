package main

import (
	"fmt"
	"time"
)

// leaseTimes are the leader election's timing. A SIGKILLed leader is
// replaced about duration after its last renewal; a leader that cannot renew
// for renewDeadline (a slow or unreachable apiserver) stops leading and
// exits, which it does before duration has passed on any standby's clock,
// so two managers never lead at once. The margin duration − renewDeadline
// covers the leader's exit and the renewal's own latency. Every id the
// manager sends is idempotent, so even a call in flight across the handover
// moves no money twice.
type leaseTimes struct {
	duration, renewDeadline, retryPeriod time.Duration
}

// defaultLease takes over within about 4.5 s of a SIGKILL (a SIGTERM
// releases the Lease at once) at the price of one Lease write every 500 ms
// by the leader and one read every 500 ms by each standby.
var defaultLease = leaseTimes{duration: 4 * time.Second, renewDeadline: 3 * time.Second, retryPeriod: 500 * time.Millisecond}

// jitter is client-go's leader-election JitterFactor: retries are spread up
// to 1.2 × the retry period.
const jitter = 1.2

// check refuses timings client-go would refuse, with the flag names.
func (l leaseTimes) check() error {
	switch {
	case l.duration <= l.renewDeadline:
		return fmt.Errorf("--leader-elect-lease-duration %s must be longer than --leader-elect-renew-deadline %s", l.duration, l.renewDeadline)
	case float64(l.renewDeadline) <= jitter*float64(l.retryPeriod):
		return fmt.Errorf("--leader-elect-renew-deadline %s must be longer than %.1f × --leader-elect-retry-period %s", l.renewDeadline, jitter, l.retryPeriod)
	case l.retryPeriod <= 0:
		return fmt.Errorf("--leader-elect-retry-period %s must be positive", l.retryPeriod)
	}
	return nil
}
