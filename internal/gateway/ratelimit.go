package gateway

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit configures the client's token bucket. One Client (one merchant /
// GatewayConfig) has one bucket shared by all its calls; every HTTP attempt,
// retries included, takes one token.
type RateLimit struct {
	// QPS is the sustained rate; 0 means unlimited.
	QPS float64
	// Burst is the bucket size; 0 means max(1, ceil(QPS)).
	Burst int
	// ThrottlePause is how long every call of this Client waits after the
	// gateway answered REQUEST_TRAFFIC_EXCEED_LIMIT (default 1s). Applies
	// whether or not QPS is set.
	ThrottlePause time.Duration
	// ThrottleCooldown is how long the halved rate stays in force after
	// REQUEST_TRAFFIC_EXCEED_LIMIT (default 30s); see limiter.throttle.
	ThrottleCooldown time.Duration
}

const (
	defaultThrottlePause    = time.Second
	defaultThrottleCooldown = 30 * time.Second
	// minRateFraction bounds how far repeated throttling can lower the rate.
	minRateFraction = 16
)

func (r RateLimit) validate() error {
	var errs []error
	if r.QPS < 0 || math.IsNaN(r.QPS) || math.IsInf(r.QPS, 0) {
		errs = append(errs, fmt.Errorf("RateLimit.QPS %v must be a finite number >= 0", r.QPS))
	}
	if r.Burst < 0 {
		errs = append(errs, fmt.Errorf("RateLimit.Burst %d must be >= 0", r.Burst))
	}
	if r.QPS == 0 && r.Burst > 0 {
		errs = append(errs, fmt.Errorf("RateLimit.Burst %d given without QPS", r.Burst))
	}
	if r.ThrottlePause < 0 {
		errs = append(errs, fmt.Errorf("RateLimit.ThrottlePause %v must be >= 0", r.ThrottlePause))
	}
	if r.ThrottleCooldown < 0 {
		errs = append(errs, fmt.Errorf("RateLimit.ThrottleCooldown %v must be >= 0", r.ThrottleCooldown))
	}
	return joinErrs(errs)
}

// limiter is the Client's token bucket plus the REQUEST_TRAFFIC_EXCEED_LIMIT
// back-pressure. It reads time only through now and waits only through sleep,
// so tests drive it with a fake clock.
type limiter struct {
	mu         sync.Mutex
	lim        *rate.Limiter // nil when unlimited
	base       rate.Limit
	pause      time.Duration
	cooldown   time.Duration
	pauseUntil time.Time
	slowUntil  time.Time
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
}

func newLimiter(cfg RateLimit, now func() time.Time, sleep func(context.Context, time.Duration) error) *limiter {
	l := &limiter{pause: cfg.ThrottlePause, cooldown: cfg.ThrottleCooldown, now: now, sleep: sleep}
	if l.pause == 0 {
		l.pause = defaultThrottlePause
	}
	if l.cooldown == 0 {
		l.cooldown = defaultThrottleCooldown
	}
	if cfg.QPS > 0 {
		burst := cfg.Burst
		if burst == 0 {
			burst = max(1, int(math.Ceil(cfg.QPS)))
		}
		l.base = rate.Limit(cfg.QPS)
		l.lim = rate.NewLimiter(l.base, burst)
	}
	return l
}

// wait blocks until the next attempt may be sent, or ctx ends.
func (l *limiter) wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := l.now()
		l.mu.Lock()
		if l.lim != nil && !l.slowUntil.IsZero() && !now.Before(l.slowUntil) {
			l.lim.SetLimitAt(now, l.base)
			l.slowUntil = time.Time{}
		}
		if now.Before(l.pauseUntil) {
			d := l.pauseUntil.Sub(now)
			l.mu.Unlock()
			if err := l.sleep(ctx, d); err != nil {
				return err
			}
			continue // re-check: the pause may have been extended meanwhile
		}
		if l.lim == nil {
			l.mu.Unlock()
			return nil
		}
		r := l.lim.ReserveN(now, 1)
		l.mu.Unlock()
		if !r.OK() {
			return fmt.Errorf("rate limiter refused a token") // burst is >= 1, so not expected
		}
		d := r.DelayFrom(now)
		if d <= 0 {
			return nil
		}
		if err := l.sleep(ctx, d); err != nil {
			r.CancelAt(l.now())
			return err
		}
		return nil
	}
}

// throttle reacts to REQUEST_TRAFFIC_EXCEED_LIMIT at time now:
//   - every call of this Client waits until now+ThrottlePause before its next
//     attempt (extending, never shortening, a running pause);
//   - if a QPS is configured, the bucket's rate is halved (repeatedly, down to
//     1/16 of the configured QPS) and restored to the configured QPS once
//     ThrottleCooldown has passed since the last throttle.
func (l *limiter) throttle(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := now.Add(l.pause); until.After(l.pauseUntil) {
		l.pauseUntil = until
	}
	if l.lim == nil {
		return
	}
	next := l.lim.Limit() / 2
	if floor := l.base / minRateFraction; next < floor {
		next = floor
	}
	l.lim.SetLimitAt(now, next)
	l.slowUntil = now.Add(l.cooldown)
}

// currentLimit reports the bucket's rate (0 when unlimited); for tests and debugging.
func (l *limiter) currentLimit() rate.Limit {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lim == nil {
		return 0
	}
	return l.lim.Limit()
}
