package gatewaysim

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// Clock is the simulator's time source. Every timer of the simulator
// (payment expiry, authorization expiry, asynchronous refunds and captures,
// declaration progress, notification retries, rate-limit refill) runs on it.
type Clock interface {
	Now() time.Time
}

// DefaultStart is where a ManualClock starts when Options.Start is zero:
// Monday 2026-01-05 10:00 in GMT+8 (the cancel window is computed in GMT+8).
var DefaultStart = time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC)

// ManualClock only moves when told to: Simulator.Advance (or
// ManualClock.Advance on a clock owned by a simulator). Tests use it so that
// nothing depends on wall time.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
	sim *Simulator
}

// NewManualClock returns a manual clock showing start.
func NewManualClock(start time.Time) *ManualClock { return &ManualClock{now: start} }

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d. On a clock used by a simulator it is
// Simulator.Advance: every timer that falls due runs, in time order, and the
// notifications they cause are attempted before it returns.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	s := c.sim
	c.mu.Unlock()
	if s != nil {
		s.Advance(d)
		return
	}
	c.set(c.Now().Add(d))
}

func (c *ManualClock) set(t time.Time) {
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
	c.mu.Unlock()
}

// ScaledClock runs with the wall clock, Scale times faster (Scale 60: one real
// second is one simulated minute), plus whatever Advance added.
type ScaledClock struct {
	mu     sync.Mutex
	origin time.Time // wall time at start
	start  time.Time // simulated time at start
	scale  float64
	offset time.Duration
}

// NewScaledClock returns a clock showing start now and running scale times
// faster than the wall clock (scale ≤ 0 means 1).
func NewScaledClock(start time.Time, scale float64) *ScaledClock {
	if scale <= 0 {
		scale = 1
	}
	return &ScaledClock{origin: time.Now(), start: start, scale: scale}
}

// Now returns the simulated time.
func (c *ScaledClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := time.Since(c.origin)
	return c.start.Add(time.Duration(float64(el)*c.scale) + c.offset)
}

// Scale returns the speed-up factor.
func (c *ScaledClock) Scale() float64 { return c.scale }

func (c *ScaledClock) skip(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// realDelay converts a simulated duration into wall time.
func (c *ScaledClock) realDelay(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(float64(d) / c.scale)
}

// ---- scheduler -------------------------------------------------------------

type event struct {
	due  time.Time
	seq  uint64
	name string
	fn   func(at time.Time)
}

type eventHeap []*event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(*event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}

// scheduler runs timers on the simulated clock. Events due now or earlier
// are run by a background goroutine; Advance runs them synchronously, in
// time order, moving a manual clock step by step so every event sees its own
// due time.
type scheduler struct {
	clock  Clock
	manual *ManualClock
	scaled *ScaledClock

	mu         sync.Mutex
	h          eventHeap
	seq        uint64
	processing bool

	runMu sync.Mutex // serialises running events
	wake  chan struct{}
	stop  chan struct{}
	done  chan struct{}

	idle   func() bool // extra idleness condition (notifier)
	waitNt func()      // waits until the notifier is idle
	bc     *broadcaster
}

func newScheduler(c Clock, bc *broadcaster) *scheduler {
	s := &scheduler{clock: c, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), bc: bc}
	switch cc := c.(type) {
	case *ManualClock:
		s.manual = cc
	case *ScaledClock:
		s.scaled = cc
	}
	return s
}

func (s *scheduler) now() time.Time { return s.clock.Now() }

// at schedules fn at due (simulated time).
func (s *scheduler) at(due time.Time, name string, fn func(at time.Time)) {
	s.mu.Lock()
	s.seq++
	heap.Push(&s.h, &event{due: due, seq: s.seq, name: name, fn: fn})
	s.mu.Unlock()
	s.kick()
}

func (s *scheduler) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// popDue removes and returns every event due at the earliest due time that is
// not after limit.
func (s *scheduler) popDue(limit time.Time) []*event {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.h) == 0 || s.h[0].due.After(limit) {
		return nil
	}
	first := s.h[0].due
	var out []*event
	for len(s.h) > 0 && s.h[0].due.Equal(first) {
		out = append(out, heap.Pop(&s.h).(*event))
	}
	return out
}

func (s *scheduler) nextDue() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.h) == 0 {
		return time.Time{}, false
	}
	return s.h[0].due, true
}

// hasDue reports whether an event is due now (or overdue) or being run.
func (s *scheduler) busy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.processing {
		return true
	}
	return len(s.h) > 0 && !s.h[0].due.After(s.clock.Now())
}

func (s *scheduler) setProcessing(v bool) {
	s.mu.Lock()
	s.processing = v
	s.mu.Unlock()
	if !v {
		s.bc.signal()
	}
}

// runUntil runs every event due up to limit. With step set (Advance), the
// manual clock is moved to each event's time and the notifier is drained
// between steps, so retries caused by a failed delivery are themselves run
// if they fall before limit.
func (s *scheduler) runUntil(limit time.Time, step bool) {
	s.setProcessing(true)
	defer s.setProcessing(false)
	for {
		if step && s.waitNt != nil {
			s.waitNt()
		}
		evs := s.popDue(limit)
		if len(evs) == 0 {
			return
		}
		if step && s.manual != nil {
			s.manual.set(evs[0].due)
		}
		for _, e := range evs {
			e.fn(e.due)
		}
	}
}

// advance moves the clock by d and runs what falls due.
func (s *scheduler) advance(d time.Duration) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	var limit time.Time
	if s.manual != nil {
		limit = s.manual.Now().Add(d)
	} else if s.scaled != nil {
		s.scaled.skip(d)
		limit = s.scaled.Now()
	} else {
		limit = s.clock.Now()
	}
	s.runUntil(limit, true)
	if s.manual != nil {
		s.manual.set(limit)
	}
	if s.waitNt != nil {
		s.waitNt()
	}
}

// loop is the background runner.
func (s *scheduler) loop() {
	defer close(s.done)
	for {
		s.runMu.Lock()
		s.runUntil(s.clock.Now(), false)
		s.runMu.Unlock()

		var timer <-chan time.Time
		var t *time.Timer
		if s.manual == nil {
			if next, ok := s.nextDue(); ok {
				d := next.Sub(s.clock.Now())
				if s.scaled != nil {
					d = s.scaled.realDelay(d)
				}
				if d < time.Millisecond {
					d = time.Millisecond
				}
				t = time.NewTimer(d)
				timer = t.C
			}
		}
		select {
		case <-s.stop:
			if t != nil {
				t.Stop()
			}
			return
		case <-s.wake:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
	}
}

// broadcaster wakes waiters whenever the simulator's background state changes.
type broadcaster struct {
	mu sync.Mutex
	ch chan struct{}
}

func newBroadcaster() *broadcaster { return &broadcaster{ch: make(chan struct{})} }

func (b *broadcaster) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

func (b *broadcaster) signal() {
	b.mu.Lock()
	close(b.ch)
	b.ch = make(chan struct{})
	b.mu.Unlock()
}

// waitUntil blocks until cond holds (checked after each signal) or ctx ends.
func (b *broadcaster) waitUntil(ctx context.Context, cond func() bool, kick func()) error {
	for {
		ch := b.wait()
		if cond() {
			return nil
		}
		if kick != nil {
			kick()
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
			// Re-check: conditions may change without a signal (clock moves).
		}
	}
}
