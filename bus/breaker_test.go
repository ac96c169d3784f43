package bus

import (
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestBreakerOpensOnExactlyTheFifthFailure(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Unix(1000, 0)}
	b := NewBreaker("x.y", BreakerConfig{Failures: 5, OpenFor: time.Minute}, clk.now, nil)
	for i := 1; i <= 4; i++ {
		ok, probe := b.Allow()
		if !ok || probe {
			t.Fatalf("call %d: Allow() = %v, %v; want true, false", i, ok, probe)
		}
		b.Done(false, true)
		if s := b.Snapshot().State; s != BreakerClosed {
			t.Fatalf("after %d failures state = %s; want closed", i, s)
		}
	}
	ok, _ := b.Allow()
	if !ok {
		t.Fatal("fifth call refused while closed")
	}
	b.Done(false, true)
	if s := b.Snapshot().State; s != BreakerOpen {
		t.Fatalf("after 5 failures state = %s; want open", s)
	}
	if ok, _ := b.Allow(); ok {
		t.Fatal("open breaker let a call through")
	}
}

func TestBreakerUncountedOutcomeResetsTheCount(t *testing.T) {
	t.Parallel()
	b := NewBreaker("x.y", BreakerConfig{Failures: 5, OpenFor: time.Minute}, nil, nil)
	for i := 0; i < 4; i++ {
		b.Allow()
		b.Done(false, true)
	}
	b.Allow()
	b.Done(false, false) // a success, or a final error such as invalid input
	for i := 0; i < 4; i++ {
		b.Allow()
		b.Done(false, true)
	}
	if s := b.Snapshot(); s.State != BreakerClosed || s.ConsecutiveFailures != 4 {
		t.Fatalf("state %s with %d consecutive failures; want closed with 4", s.State, s.ConsecutiveFailures)
	}
}

func TestBreakerLetsExactlyOneProbeThrough(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		probeFails   bool
		wantAfter    BreakerState
		wantNextCall bool
	}{
		{"probe succeeds", false, BreakerClosed, true},
		{"probe fails", true, BreakerOpen, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			clk := &fakeClock{t: time.Unix(1000, 0)}
			var transitions []string
			b := NewBreaker("x.y", BreakerConfig{Failures: 5, OpenFor: time.Minute}, clk.now, func(_ string, from, to BreakerState) {
				transitions = append(transitions, string(from)+">"+string(to))
			})
			for i := 0; i < 5; i++ {
				b.Allow()
				b.Done(false, true)
			}
			clk.add(59 * time.Second)
			if ok, _ := b.Allow(); ok {
				t.Fatal("call allowed before open_for elapsed")
			}
			clk.add(time.Second)
			ok, probe := b.Allow()
			if !ok || !probe {
				t.Fatalf("first call after open_for: Allow() = %v, %v; want the probe", ok, probe)
			}
			for i := 0; i < 3; i++ {
				if ok, _ := b.Allow(); ok {
					t.Fatal("a second call got through while the probe was in flight")
				}
			}
			b.Done(true, c.probeFails)
			if s := b.Snapshot().State; s != c.wantAfter {
				t.Fatalf("after the probe state = %s; want %s (transitions %v)", s, c.wantAfter, transitions)
			}
			if ok, _ := b.Allow(); ok != c.wantNextCall {
				t.Fatalf("next call allowed = %v; want %v", ok, c.wantNextCall)
			}
		})
	}
}

func TestBreakerLateOutcomeDoesNotCloseAnOpenBreaker(t *testing.T) {
	t.Parallel()
	b := NewBreaker("x.y", BreakerConfig{Failures: 1, OpenFor: time.Hour}, nil, nil)
	b.Allow() // allowed while closed, finishes late
	b.Allow()
	b.Done(false, true) // opens
	b.Done(false, false)
	if s := b.Snapshot().State; s != BreakerOpen {
		t.Fatalf("state = %s; want open", s)
	}
	b.Reset()
	if s := b.Snapshot().State; s != BreakerClosed {
		t.Fatalf("after Reset state = %s; want closed", s)
	}
}
