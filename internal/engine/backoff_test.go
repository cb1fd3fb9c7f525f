package engine

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func request(name string) reconcile.Request {
	return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "shop", Name: name}}
}

// drawLowest and drawHighest pin the jitter to its bounds.
func drawLowest(int64) int64    { return 0 }
func drawHighest(n int64) int64 { return n - 1 }

// TestBackoffDelays: the n-th consecutive failure waits min·2^(n-1),
// capped at max, jittered within [d/2, d]; Forget restarts the count; keys
// are independent.
func TestBackoffDelays(t *testing.T) {
	const ms = time.Millisecond
	cases := []struct {
		name     string
		min, max time.Duration
		// ops is a sequence: "fail:<key>" or "forget:<key>".
		ops []string
		// want is the ceiling of each fail's delay, in order.
		want []time.Duration
	}{
		{name: "doubles from min", min: 100 * ms, max: time.Hour,
			ops:  []string{"fail:a", "fail:a", "fail:a", "fail:a"},
			want: []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms}},
		{name: "caps at max", min: 100 * ms, max: 300 * ms,
			ops:  []string{"fail:a", "fail:a", "fail:a", "fail:a"},
			want: []time.Duration{100 * ms, 200 * ms, 300 * ms, 300 * ms}},
		{name: "forget restarts at min", min: 100 * ms, max: time.Second,
			ops:  []string{"fail:a", "fail:a", "forget:a", "fail:a"},
			want: []time.Duration{100 * ms, 200 * ms, 100 * ms}},
		{name: "objects count apart", min: 100 * ms, max: time.Second,
			ops:  []string{"fail:a", "fail:a", "fail:b", "fail:a", "forget:b", "fail:b"},
			want: []time.Duration{100 * ms, 200 * ms, 100 * ms, 400 * ms, 100 * ms}},
		{name: "max below min is raised to min", min: time.Second, max: 10 * ms,
			ops: []string{"fail:a", "fail:a"}, want: []time.Duration{time.Second, time.Second}},
		{name: "a thousand failures stay at max", min: ms, max: time.Minute,
			ops: append(repeat("fail:a", 999), "fail:a"), want: append(make([]time.Duration, 999), time.Minute)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The same sequence with the jitter at its lowest, at its
			// highest, and random.
			jitters := []struct {
				name   string
				draw   func(int64) int64
				lo, hi func(ceil time.Duration) time.Duration
			}{
				{"lowest", drawLowest, half, half},
				{"highest", drawHighest, whole, whole},
				{"random", nil, half, whole},
			}
			for _, j := range jitters {
				b := NewBackoff(tc.min, tc.max)
				if j.draw != nil {
					b.randN = j.draw
				}
				var fails int
				for _, op := range tc.ops {
					key := request(op[len(op)-1:])
					if op[:len(op)-1] == "forget:" {
						b.Forget(key)
						continue
					}
					got := b.When(key)
					ceil := tc.want[fails]
					fails++
					if ceil == 0 {
						continue // not checked
					}
					if lo, hi := j.lo(ceil), j.hi(ceil); got < lo || got > hi {
						t.Fatalf("jitter %s, fail %d: delay %s outside [%s, %s]", j.name, fails, got, lo, hi)
					}
				}
				if fails != len(tc.want) {
					t.Fatalf("%d fails, %d wanted delays", fails, len(tc.want))
				}
			}
		})
	}
}

func half(d time.Duration) time.Duration  { return d - d/2 }
func whole(d time.Duration) time.Duration { return d }

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestQueueLimiterSharesTheCount: the workqueue's failures and the engine's
// count on one Backoff; the queue's Forget (called by controller-runtime
// after every RequeueAfter) does not reset it, the engine's does.
func TestQueueLimiterSharesTheCount(t *testing.T) {
	b := NewBackoff(100*time.Millisecond, time.Hour)
	b.randN = drawHighest
	q := queueLimiter{b: b}
	a := request("a")
	steps := []struct {
		name string
		do   func() time.Duration
		want time.Duration // delay returned, if any
		n    int           // count after the step
	}{
		{name: "engine: gateway step failed", do: func() time.Duration { return b.When(a) }, want: 100 * time.Millisecond, n: 1},
		{name: "queue: forget after RequeueAfter is ignored", do: func() time.Duration { q.Forget(a); return 0 }, n: 1},
		{name: "queue: apiserver error counts on", do: func() time.Duration { return q.When(a) }, want: 200 * time.Millisecond, n: 2},
		{name: "engine: gateway step failed again", do: func() time.Duration { return b.When(a) }, want: 400 * time.Millisecond, n: 3},
		{name: "engine: reconcile completed", do: func() time.Duration { b.Forget(a); return 0 }, n: 0},
		{name: "queue: next apiserver error starts over", do: func() time.Duration { return q.When(a) }, want: 100 * time.Millisecond, n: 1},
	}
	for _, s := range steps {
		if got := s.do(); got != s.want {
			t.Fatalf("%s: delay %s, want %s", s.name, got, s.want)
		}
		if got := q.NumRequeues(a); got != s.n {
			t.Fatalf("%s: count %d, want %d", s.name, got, s.n)
		}
	}
}

func TestJittered(t *testing.T) {
	for _, d := range []time.Duration{0, time.Nanosecond, time.Second, time.Minute} {
		for i := 0; i < 100; i++ {
			j := Jittered(d)
			if d == 0 && j != 0 {
				t.Fatalf("Jittered(0) = %s", j)
			}
			if j < d-d/10 || j > d+d/10 {
				t.Fatalf("Jittered(%s) = %s, outside ±10%%", d, j)
			}
		}
	}
}
