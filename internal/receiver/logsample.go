package receiver

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Refusals are answered and counted (cashier_receiver_rejected_total) one by
// one, but logged sampled: the receiver faces the internet, and a flood of
// forged notifications must not turn into megabytes of log lines.
const (
	// DefaultRefusalLogInterval is the least time between two logged
	// refusals of one reason, once the burst is spent.
	DefaultRefusalLogInterval = time.Second
	// refusalLogBurst refusals of a reason are logged at once before the
	// interval applies.
	refusalLogBurst = 5
)

// refusalSampler decides which refusals are logged: per reason, a token
// bucket (refusalLogBurst, then one per interval). A logged line carries how
// many refusals of its reason went unlogged since the previous line.
type refusalSampler struct {
	every time.Duration
	mu    sync.Mutex
	per   map[string]*sampled // by reason (a fixed, small set)
}

type sampled struct {
	limiter    *rate.Limiter
	suppressed int
}

func newRefusalSampler(every time.Duration) *refusalSampler {
	return &refusalSampler{every: every, per: map[string]*sampled{}}
}

// allow reports whether this refusal of reason is logged, and how many were
// suppressed before it.
func (s *refusalSampler) allow(reason string) (bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.per[reason]
	if st == nil {
		st = &sampled{limiter: rate.NewLimiter(rate.Every(s.every), refusalLogBurst)}
		s.per[reason] = st
	}
	if !st.limiter.Allow() {
		st.suppressed++
		return false, 0
	}
	n := st.suppressed
	st.suppressed = 0
	return true, n
}
