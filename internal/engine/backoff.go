package engine

import (
	"sync"
	"time"
)

// failureCounter counts consecutive failures per object for exponential
// backoff with jitter.
type failureCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func newFailureCounter() *failureCounter { return &failureCounter{n: map[string]int{}} }

// next records a failure and returns the jittered delay before the next try:
// min·2^(n-1), capped at max, drawn from [d/2, d].
func (f *failureCounter) next(key string, min, max time.Duration) time.Duration {
	f.mu.Lock()
	f.n[key]++
	n := f.n[key]
	f.mu.Unlock()
	d := min
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return jitter(d)
}

func (f *failureCounter) forget(key string) {
	f.mu.Lock()
	delete(f.n, key)
	f.mu.Unlock()
}
