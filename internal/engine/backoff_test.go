package engine

import (
	"testing"
	"time"
)

func TestBackoffGrowsAndCaps(t *testing.T) {
	f := newFailureCounter()
	min, max := 100*time.Millisecond, time.Second
	wantCeil := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, c := range wantCeil {
		ceil := c * time.Millisecond
		d := f.next("k", min, max)
		if d < ceil/2 || d > ceil {
			t.Fatalf("failure %d: delay %s outside [%s, %s]", i+1, d, ceil/2, ceil)
		}
	}
	f.forget("k")
	if d := f.next("k", min, max); d > min {
		t.Fatalf("after forget the delay restarts at %s, got %s", min, d)
	}
	if d := f.next("other", min, max); d > min {
		t.Fatalf("keys are independent: %s", d)
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
