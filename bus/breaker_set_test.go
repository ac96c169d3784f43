package bus

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// clusterOfSets starts one embedded server and n breaker sets on it, each
// on a connection of its own, as n processes on one bus would be.
func clusterOfSets(t *testing.T, n int, cfg BreakerConfig, now func() time.Time) []*BreakerSet {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	b, err := Start(context.Background(), Config{StoreDir: filepath.Join(t.TempDir(), "nats")}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	sets := make([]*BreakerSet, n)
	for i := range sets {
		nc, err := b.connect("process")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		other := &Bus{cfg: b.cfg, Conn: nc, JS: js, log: log}
		s, err := other.NewBreakerSet(context.Background(), BreakerSetConfig{Breaker: cfg, Now: now, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		sets[i] = s
	}
	return sets
}

// eventually waits (at most 5 s) for cond, which reads state another
// process wrote and this one sees through its watch.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func fail(t *testing.T, b *Breaker) {
	t.Helper()
	ok, probe := b.Allow()
	if !ok || probe {
		t.Fatalf("%s refused a call while closed (ok %v, probe %v)", b.name, ok, probe)
	}
	b.Done(false, true)
}

// TestClusterBreakerCountsEveryProcessesFailures: three failures on one
// process and two on another open the capability's breaker on both:
// exactly five, not five each.
func TestClusterBreakerCountsEveryProcessesFailures(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Unix(1000, 0)}
	sets := clusterOfSets(t, 2, BreakerConfig{Failures: 5, OpenFor: time.Minute}, clk.now)
	a, b := sets[0].Get("x.flaky", 0), sets[1].Get("x.flaky", 0)
	for range 3 {
		fail(t, a)
	}
	eventually(t, "the second process sees 3 failures", func() bool { return b.Snapshot().ConsecutiveFailures == 3 })
	fail(t, b)
	if s := a.Snapshot(); s.State != BreakerClosed {
		t.Fatalf("open after 4 failures: %+v", s)
	}
	fail(t, b)
	if s := b.Snapshot(); s.State != BreakerOpen || s.Opens != 1 {
		t.Fatalf("after the fifth failure (on the second process) %+v; want open", s)
	}
	eventually(t, "the first process sees it open", func() bool { return a.Snapshot().State == BreakerOpen })
	if ok, _ := a.Allow(); ok {
		t.Fatal("the first process let a call through an open breaker")
	}
	// A success in between resets the count for everyone.
	sets[0].Get("x.other", 0)
	c, d := sets[0].Get("x.other", 0), sets[1].Get("x.other", 0)
	for range 4 {
		fail(t, c)
	}
	eventually(t, "4 failures seen", func() bool { return d.Snapshot().ConsecutiveFailures == 4 })
	d.Allow()
	d.Done(false, false)
	eventually(t, "the reset count seen", func() bool { return c.Snapshot().ConsecutiveFailures == 0 })
	fail(t, c)
	if s := c.Snapshot(); s.State != BreakerClosed || s.ConsecutiveFailures != 1 {
		t.Fatalf("after a success and one failure %+v; want closed with 1", s)
	}
	// The healthy steady state writes nothing to the bucket: a closed
	// breaker with no failures is a lock, not a round trip.
	healthy := sets[0].Get("x.healthy", 0)
	e, err := sets[0].kv.Get(context.Background(), "x.healthy")
	if err != nil {
		t.Fatal(err)
	}
	created := e.Revision()
	for range 50 {
		healthy.Allow()
		healthy.Done(false, false)
	}
	if e, err := sets[0].kv.Get(context.Background(), "x.healthy"); err != nil || e.Revision() != created {
		t.Fatalf("50 successes of a healthy capability wrote its breaker record (revision %d, then %v, %v)", created, e, err)
	}
}

// TestClusterBreakerLetsExactlyOneProbeThrough: once open_for has passed,
// 3 processes x 20 concurrent callers ask at once; exactly one is the
// probe, the rest fail fast until it reports, and its success closes the
// breaker everywhere.
func TestClusterBreakerLetsExactlyOneProbeThrough(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Unix(1000, 0)}
	sets := clusterOfSets(t, 3, BreakerConfig{Failures: 1, OpenFor: time.Minute}, clk.now)
	var bs []*Breaker
	for _, s := range sets {
		bs = append(bs, s.Get("x.flaky", time.Minute))
	}
	fail(t, bs[0])
	for _, b := range bs {
		eventually(t, "open everywhere", func() bool { return b.Snapshot().State == BreakerOpen })
	}
	clk.add(time.Minute)
	var probes, allowed atomic.Int32
	var winner atomic.Pointer[Breaker]
	var wg sync.WaitGroup
	for _, b := range bs {
		for range 20 {
			wg.Go(func() {
				ok, probe := b.Allow()
				if ok {
					allowed.Add(1)
				}
				if probe {
					probes.Add(1)
					winner.Store(b)
				}
			})
		}
	}
	wg.Wait()
	if probes.Load() != 1 || allowed.Load() != 1 {
		t.Fatalf("%d probes and %d calls allowed among 60; want exactly 1", probes.Load(), allowed.Load())
	}
	winner.Load().Done(true, false)
	for _, b := range bs {
		eventually(t, "closed everywhere after the probe", func() bool { return b.Snapshot().State == BreakerClosed })
	}
}

// TestClusterBreakerResetAndListing: a reset on a process that hosts no
// step of the capability closes it on the one that does; and a process
// that has used no breaker still lists every breaker of the cluster.
func TestClusterBreakerResetAndListing(t *testing.T) {
	t.Parallel()
	sets := clusterOfSets(t, 2, BreakerConfig{Failures: 1, OpenFor: time.Hour}, nil)
	worker, ingress := sets[0], sets[1]
	fail(t, worker.Get("x.flaky", 0))
	eventually(t, "the breaker listed by a process that runs none of its steps", func() bool {
		l := ingress.Breakers()
		return len(l) == 1 && l[0].Capability == "x.flaky" && l[0].State == BreakerOpen
	})
	b, ok := ingress.Breaker("x.flaky")
	if !ok {
		t.Fatal("no breaker to reset")
	}
	b.Reset()
	eventually(t, "the reset seen by the worker", func() bool { return worker.Get("x.flaky", 0).Snapshot().State == BreakerClosed })
	if s := worker.Get("x.flaky", 0).Snapshot(); s.Opens != 1 || s.ConsecutiveFailures != 0 {
		t.Fatalf("after reset %+v; want opens kept (1), no failures", s)
	}
	// Forced open from the process that runs none of its steps: the
	// worker fails fast, and the opening is counted.
	b.ForceOpen()
	eventually(t, "the forced opening seen by the worker", func() bool { return worker.Get("x.flaky", 0).Snapshot().State == BreakerOpen })
	if ok, _ := worker.Get("x.flaky", 0).Allow(); ok {
		t.Fatal("a forced-open breaker let a step through before its open time")
	}
	if s := worker.Get("x.flaky", 0).Snapshot(); s.Opens != 2 || s.ProbeAt == nil {
		t.Fatalf("after force-open %+v; want opens 2 and a probe time", s)
	}
}

// TestClusterBreakerProbeLease: a probe whose process dies without
// reporting holds the slot only for its lease; then another process
// probes.
func TestClusterBreakerProbeLease(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Unix(1000, 0)}
	sets := clusterOfSets(t, 2, BreakerConfig{Failures: 1, OpenFor: time.Minute}, clk.now)
	a, b := sets[0].Get("x.flaky", 2*time.Minute), sets[1].Get("x.flaky", 2*time.Minute)
	fail(t, a)
	clk.add(time.Minute)
	if ok, probe := a.Allow(); !ok || !probe {
		t.Fatal("no probe after open_for")
	}
	// a's process is gone: its probe never reports.
	eventually(t, "half-open seen", func() bool { return b.Snapshot().State == BreakerHalfOpen })
	clk.add(time.Minute)
	if ok, _ := b.Allow(); ok {
		t.Fatal("a second probe inside the first one's lease")
	}
	clk.add(time.Minute + time.Second)
	if ok, probe := b.Allow(); !ok || !probe {
		t.Fatal("no probe after the dead probe's lease ran out")
	}
	// The dead probe's late report changes nothing: the slot is b's.
	a.Done(true, true)
	b.Done(true, false)
	eventually(t, "closed by the live probe", func() bool { return a.Snapshot().State == BreakerClosed })
}
