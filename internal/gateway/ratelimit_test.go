package gateway

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func consult(c *Client) error {
	_, err := c.Consult(context.Background(), &ConsultRequest{PaymentAmount: Amount{"HKD", "100"}, Env: &Env{TerminalType: "WEB"}})
	return err
}

// All waiting goes through the fake clock's Sleep, which records the wait and
// advances time; nothing here depends on wall-clock timing.
func TestRateLimiterSpacesAttempts(t *testing.T) {
	f := newFakeGateway(t, "2188120000000000", PrefixProduction, func(int, string, []byte) reply {
		return reply{body: resultJSON(CodeSuccess, "")}
	})
	clk := newFakeClock()
	c := newTestClient(t, f, clk, func(cfg *Config) { cfg.RateLimit = RateLimit{QPS: 2, Burst: 1} })
	for i := 0; i < 3; i++ {
		if err := consult(c); err != nil {
			t.Fatal(err)
		}
	}
	want := []time.Duration{500 * time.Millisecond, 500 * time.Millisecond}
	if got := clk.Sleeps(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("limiter waits = %v, want %v", got, want)
	}

	// With burst 3, three calls pass at once; the fourth waits.
	clk2 := newFakeClock()
	c2 := newTestClient(t, f, clk2, func(cfg *Config) { cfg.RateLimit = RateLimit{QPS: 2, Burst: 3} })
	for i := 0; i < 4; i++ {
		if err := consult(c2); err != nil {
			t.Fatal(err)
		}
	}
	if got := clk2.Sleeps(); fmt.Sprint(got) != fmt.Sprint([]time.Duration{500 * time.Millisecond}) {
		t.Errorf("burst-3 waits = %v", got)
	}
}

func TestRateLimiterUnlimited(t *testing.T) {
	f := newFakeGateway(t, "2188120000000000", PrefixProduction, func(int, string, []byte) reply {
		return reply{body: resultJSON(CodeSuccess, "")}
	})
	clk := newFakeClock()
	c := newTestClient(t, f, clk)
	for i := 0; i < 20; i++ {
		if err := consult(c); err != nil {
			t.Fatal(err)
		}
	}
	if got := clk.Sleeps(); len(got) != 0 {
		t.Errorf("unlimited client waited %v", got)
	}
}

func TestTrafficExceedThrottles(t *testing.T) {
	traffic := reply{body: resultJSON(CodeRequestTrafficExceed, "")}
	ok := reply{body: resultJSON(CodeSuccess, "")}

	t.Run("halves the rate, pauses, restores after cooldown", func(t *testing.T) {
		f := newFakeGateway(t, "2188120000000000", PrefixProduction, func(n int, _ string, _ []byte) reply {
			if n == 1 {
				return traffic
			}
			return ok
		})
		clk := newFakeClock()
		c := newTestClient(t, f, clk, func(cfg *Config) {
			cfg.RateLimit = RateLimit{QPS: 10, Burst: 1, ThrottlePause: time.Second, ThrottleCooldown: 30 * time.Second}
		})
		if err := consult(c); err != nil {
			t.Fatalf("consult: %v", err)
		}
		if n := len(f.requests()); n != 2 {
			t.Fatalf("attempts = %d, want 2", n)
		}
		assertIdenticalBodies(t, f.requests())
		// backoff 200ms (deterministic jitter = ceiling), then the rest of the 1s pause.
		want := []time.Duration{200 * time.Millisecond, 800 * time.Millisecond}
		if got := clk.Sleeps(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("waits = %v, want %v", got, want)
		}
		if got := c.limiter.currentLimit(); got != 5 {
			t.Errorf("rate after throttle = %v, want 5", got)
		}
		clk.Advance(31 * time.Second)
		if err := consult(c); err != nil {
			t.Fatal(err)
		}
		if got := c.limiter.currentLimit(); got != 10 {
			t.Errorf("rate after cooldown = %v, want 10", got)
		}
	})

	t.Run("repeated throttling has a floor", func(t *testing.T) {
		clk := newFakeClock()
		l := newLimiter(RateLimit{QPS: 16, Burst: 1}, clk.Now, clk.Sleep)
		wants := []rate.Limit{8, 4, 2, 1, 1, 1}
		for i, want := range wants {
			l.throttle(clk.Now())
			if got := l.currentLimit(); got != want {
				t.Errorf("after %d throttles rate = %v, want %v", i+1, got, want)
			}
		}
	})

	t.Run("unlimited client is paused", func(t *testing.T) {
		f := newFakeGateway(t, "2188120000000000", PrefixProduction, func(int, string, []byte) reply { return traffic })
		clk := newFakeClock()
		c := newTestClient(t, f, clk, func(cfg *Config) {
			cfg.Retry = RetryPolicy{MaxAttempts: 2, BaseBackoff: 100 * time.Millisecond, Jitter: func(d time.Duration) time.Duration { return d }}
			cfg.RateLimit = RateLimit{ThrottlePause: 2 * time.Second}
		})
		err := consult(c)
		if Code(err) != CodeRequestTrafficExceed || !IsUnknown(err) {
			t.Fatalf("err = %v", err)
		}
		if n := len(f.requests()); n != 2 {
			t.Errorf("attempts = %d, want 2", n)
		}
		// backoff 100ms, then the rest of the 2s pause before attempt 2.
		want := []time.Duration{100 * time.Millisecond, 1900 * time.Millisecond}
		if got := clk.Sleeps(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("waits = %v, want %v", got, want)
		}
		if c.limiter.currentLimit() != 0 {
			t.Errorf("unlimited client got a limit")
		}
	})
}

func TestRateLimiterWaitRespectsContext(t *testing.T) {
	f := newFakeGateway(t, "2188120000000000", PrefixProduction, func(int, string, []byte) reply {
		return reply{body: resultJSON(CodeSuccess, "")}
	})
	clk := newFakeClock()
	c := newTestClient(t, f, clk, func(cfg *Config) { cfg.RateLimit = RateLimit{QPS: 1, Burst: 1} })
	if err := consult(c); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk.onSleep = cancel // the caller gives up while waiting for a token
	_, err := c.Pay(ctx, samplePay())
	if !errors.Is(err, ErrNotSent) || !errors.Is(err, context.Canceled) || IsUnknown(err) {
		t.Errorf("err = %v, want ErrNotSent/context.Canceled, not Unknown", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("gateway saw %d requests, want 1", n)
	}
	// The cancelled reservation was returned: the next call waits one interval at most.
	clk.onSleep = nil
	if err := consult(c); err != nil {
		t.Fatal(err)
	}
}
