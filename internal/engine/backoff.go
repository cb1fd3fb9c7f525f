package engine

import (
	"math/rand/v2"
	"sync"
	"time"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// Backoff is the one counter of consecutive failures per object, and the
// delay it implies: MinBackoff·2^(n-1) after the n-th failure in a row,
// capped at MaxBackoff, drawn with jitter from [d/2, d] so that objects that
// failed together do not retry together. It is a workqueue rate limiter, so
// the controller's workqueue counts on it too (see Reconciler.RateLimiter):
// a reconcile that returns an error (the apiserver failed) and a gateway
// step that did not complete (the engine requeues itself) add to the same
// count, and only a reconcile that completes resets it.
type Backoff struct {
	min, max time.Duration
	// randN draws from [0, n); rand.Int64N outside tests.
	randN func(n int64) int64

	mu       sync.Mutex
	failures map[reconcile.Request]int
}

var _ workqueue.TypedRateLimiter[reconcile.Request] = (*Backoff)(nil)

// NewBackoff returns a Backoff from lo up to hi (hi is raised to lo if
// lower).
func NewBackoff(lo, hi time.Duration) *Backoff {
	return &Backoff{min: lo, max: max(lo, hi), randN: rand.Int64N, failures: map[reconcile.Request]int{}}
}

// When records one more failure of req and returns the delay before the
// next try.
func (b *Backoff) When(req reconcile.Request) time.Duration {
	b.mu.Lock()
	b.failures[req]++
	n := b.failures[req]
	b.mu.Unlock()
	return b.jitter(b.ceiling(n))
}

// Forget resets req's count: its last reconcile completed.
func (b *Backoff) Forget(req reconcile.Request) {
	b.mu.Lock()
	delete(b.failures, req)
	b.mu.Unlock()
}

// NumRequeues returns req's consecutive failures.
func (b *Backoff) NumRequeues(req reconcile.Request) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failures[req]
}

// ceiling is the longest delay after n consecutive failures.
func (b *Backoff) ceiling(n int) time.Duration {
	d := b.min
	for i := 1; i < n && d < b.max; i++ {
		d *= 2
	}
	return min(d, b.max)
}

// jitter draws from [d/2, d].
func (b *Backoff) jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	half := d / 2
	return d - half + time.Duration(b.randN(int64(half)+1))
}

// queueLimiter is a Backoff as the controller's workqueue sees it. A failed
// reconcile counts (When), but the queue's Forget is ignored: controller-
// runtime calls it whenever a reconcile returns RequeueAfter, which is also
// how the engine schedules its own retries, so the engine alone decides
// when an object's count is reset.
type queueLimiter struct{ b *Backoff }

func (q queueLimiter) When(req reconcile.Request) time.Duration { return q.b.When(req) }
func (q queueLimiter) Forget(reconcile.Request)                 {}
func (q queueLimiter) NumRequeues(req reconcile.Request) int    { return q.b.NumRequeues(req) }
