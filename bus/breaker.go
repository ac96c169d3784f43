package bus

import (
	"sync"
	"time"
)

// BreakerState is the state of one capability's circuit breaker.
type BreakerState string

// Breaker states.
const (
	BreakerClosed   BreakerState = "closed"
	BreakerOpen     BreakerState = "open"
	BreakerHalfOpen BreakerState = "half_open"
)

// BreakerConfig holds the two numbers of the rule: Failures consecutive
// counted failures open the breaker; after OpenFor exactly one probe passes.
type BreakerConfig struct {
	Failures int
	OpenFor  time.Duration
}

// Breaker implements the rule of ARCHITECTURE.md §5 exactly: the Failures-th
// consecutive counted failure opens it (gobreaker's default trips on the
// one after); once OpenFor has passed, the first caller becomes the only
// probe and everyone else keeps failing fast until the probe reports;
// success closes, failure reopens for another OpenFor.
//
// A breaker of a BreakerSet is one breaker for the whole cluster: its
// state is a record in a JetStream key-value bucket that every change
// compare-and-sets, so the count, the opening and the one probe are the
// cluster's, not a process's. Each process reads a copy kept current by a
// watch, so a closed breaker costs a step nothing but a lock.
type Breaker struct {
	name string
	cfg  BreakerConfig
	now  func() time.Time
	// set is the shared store; nil for a breaker of this process alone.
	set *BreakerSet
	// lease bounds how long a probe may go without reporting before
	// another caller may probe instead (its process died mid-probe).
	lease time.Duration

	mu       sync.Mutex
	rec      breakerRecord
	rev      uint64 // the record's revision in the bucket; 0 before the first write
	onChange func(name string, from, to BreakerState)
}

// breakerRecord is a breaker's whole state, as the bucket stores it.
type breakerRecord struct {
	State       BreakerState `json:"state"`
	Consecutive int          `json:"consecutive"`
	OpenedAt    time.Time    `json:"opened_at,omitzero"`
	Opens       int64        `json:"opens"`
	// Prober holds the probe slot until ProbeUntil.
	Prober     string    `json:"prober,omitempty"`
	ProbeUntil time.Time `json:"probe_until,omitzero"`
}

// NewBreaker returns a closed breaker of this process alone.
func NewBreaker(name string, cfg BreakerConfig, now func() time.Time, onChange func(string, BreakerState, BreakerState)) *Breaker {
	if cfg.Failures <= 0 {
		cfg.Failures = 5
	}
	if cfg.OpenFor <= 0 {
		cfg.OpenFor = 60 * time.Second
	}
	if now == nil {
		now = time.Now
	}
	return &Breaker{name: name, cfg: cfg, now: now, lease: cfg.OpenFor, rec: breakerRecord{State: BreakerClosed}, onChange: onChange}
}

// Allow asks to run one call. It returns probe=true when this call is the
// half-open probe, and ok=false when the call must fail fast.
func (b *Breaker) Allow() (ok, probe bool) {
	now := b.now()
	b.mu.Lock()
	r := b.rec
	b.mu.Unlock()
	// The fast paths need no write: a closed breaker, an open one still
	// waiting, a probe in flight.
	switch {
	case r.State == BreakerClosed:
		return true, false
	case r.State == BreakerOpen && now.Sub(r.OpenedAt) < b.cfg.OpenFor:
		return false, false
	case r.State == BreakerHalfOpen && now.Before(r.ProbeUntil):
		return false, false
	}
	// Take the probe slot, if still free once the change is made.
	b.change(func(r *breakerRecord) bool {
		ok, probe = false, false
		switch {
		case r.State == BreakerClosed:
			ok = true
			return false
		case r.State == BreakerOpen && now.Sub(r.OpenedAt) < b.cfg.OpenFor,
			r.State == BreakerHalfOpen && now.Before(r.ProbeUntil):
			return false
		}
		r.State, r.Prober, r.ProbeUntil = BreakerHalfOpen, b.prober(), now.Add(b.lease)
		ok, probe = true, true
		return true
	})
	return ok, probe
}

// Done reports the outcome of an allowed call. counted is true for a
// failure that says something about the capability's health (timeouts,
// panics, retryable infrastructure errors after their retries).
func (b *Breaker) Done(probe, counted bool) {
	now := b.now()
	me := b.prober()
	b.change(func(r *breakerRecord) bool {
		if probe {
			if r.State != BreakerHalfOpen || r.Prober != me {
				// Reset, or the lease ran out and another probe took over.
				return false
			}
			r.Prober, r.ProbeUntil = "", time.Time{}
			if counted {
				r.trip(now)
			} else {
				r.State, r.Consecutive = BreakerClosed, 0
			}
			return true
		}
		switch {
		case r.State != BreakerClosed:
			// A call allowed before the breaker opened finishes late; its
			// outcome does not change an open breaker.
			return false
		case !counted:
			if r.Consecutive == 0 {
				return false // the healthy steady state writes nothing
			}
			r.Consecutive = 0
			return true
		}
		r.Consecutive++
		if r.Consecutive >= b.cfg.Failures {
			r.trip(now)
		}
		return true
	})
}

func (r *breakerRecord) trip(now time.Time) {
	r.State, r.OpenedAt = BreakerOpen, now
	r.Opens++
}

// Abandon gives back the probe slot of a probe that did not finish (the
// process is stopping): the breaker goes back to open with its open time
// already elapsed, so the next caller becomes the probe.
func (b *Breaker) Abandon() {
	now := b.now()
	me := b.prober()
	b.change(func(r *breakerRecord) bool {
		if r.State != BreakerHalfOpen || r.Prober != me {
			return false
		}
		r.State, r.Prober, r.ProbeUntil = BreakerOpen, "", time.Time{}
		r.OpenedAt = now.Add(-b.cfg.OpenFor)
		return true
	})
}

// Reset closes the breaker at once (operator action), on every process
// sharing it.
func (b *Breaker) Reset() {
	b.change(func(r *breakerRecord) bool {
		opens := r.Opens
		*r = breakerRecord{State: BreakerClosed, Opens: opens}
		return true
	})
}

// ForceOpen opens the breaker now (operator action), on every process
// sharing it, as if its threshold had just been reached: steps fail fast
// until OpenFor has passed, then one probe goes through as usual. A
// probe in flight loses its slot; its report is ignored.
func (b *Breaker) ForceOpen() {
	now := b.now()
	b.change(func(r *breakerRecord) bool {
		opens := r.Opens
		*r = breakerRecord{Opens: opens}
		r.trip(now)
		return true
	})
}

// prober names this process as the holder of a probe slot.
func (b *Breaker) prober() string {
	if b.set == nil {
		return "local"
	}
	return b.set.id
}

// change applies fn to the breaker's state. fn reports whether it changed
// anything; it may run more than once (after a concurrent change by
// another process) and must decide from the record it is given.
func (b *Breaker) change(fn func(r *breakerRecord) bool) {
	if b.set != nil {
		b.set.change(b, fn)
		return
	}
	b.mu.Lock()
	from := b.rec.State
	if !fn(&b.rec) {
		b.mu.Unlock()
		return
	}
	to := b.rec.State
	b.mu.Unlock()
	b.notify(from, to)
}

// adopt takes a newer record (from a write of this process or the watch)
// and tells onChange about a change of state.
func (b *Breaker) adopt(r breakerRecord, rev uint64) {
	b.mu.Lock()
	if rev != 0 && rev <= b.rev {
		b.mu.Unlock()
		return
	}
	from := b.rec.State
	b.rec, b.rev = r, rev
	b.mu.Unlock()
	b.notify(from, r.State)
}

func (b *Breaker) notify(from, to BreakerState) {
	if from != to && b.onChange != nil {
		b.onChange(b.name, from, to)
	}
}

// BreakerSnapshot is a breaker's state for the API and metrics.
type BreakerSnapshot struct {
	Capability          string       `json:"capability"`
	State               BreakerState `json:"state"`
	ConsecutiveFailures int          `json:"consecutive_failures"`
	Opens               int64        `json:"opens"`
	OpenedAt            *time.Time   `json:"opened_at,omitempty"`
	ProbeAt             *time.Time   `json:"probe_at,omitempty"`
	FailureThreshold    int          `json:"failure_threshold"`
	OpenForSeconds      float64      `json:"open_for_seconds"`
}

// Snapshot returns the current state.
func (b *Breaker) Snapshot() BreakerSnapshot {
	b.mu.Lock()
	r := b.rec
	b.mu.Unlock()
	s := BreakerSnapshot{
		Capability: b.name, State: r.State, ConsecutiveFailures: r.Consecutive, Opens: r.Opens,
		FailureThreshold: b.cfg.Failures, OpenForSeconds: b.cfg.OpenFor.Seconds(),
	}
	if r.State != BreakerClosed {
		at := r.OpenedAt
		probe := at.Add(b.cfg.OpenFor)
		s.OpenedAt, s.ProbeAt = &at, &probe
	}
	return s
}
