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
type Breaker struct {
	name string
	cfg  BreakerConfig
	now  func() time.Time

	mu          sync.Mutex
	state       BreakerState
	consecutive int
	openedAt    time.Time
	probing     bool
	opens       int64
	onChange    func(name string, from, to BreakerState)
}

// NewBreaker returns a closed breaker.
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
	return &Breaker{name: name, cfg: cfg, now: now, state: BreakerClosed, onChange: onChange}
}

// Allow asks to run one call. It returns probe=true when this call is the
// half-open probe, and ok=false when the call must fail fast.
func (b *Breaker) Allow() (ok, probe bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerClosed:
		return true, false
	case BreakerOpen:
		if b.now().Sub(b.openedAt) < b.cfg.OpenFor {
			return false, false
		}
		b.setState(BreakerHalfOpen)
		b.probing = true
		return true, true
	default: // half-open: a probe is in flight
		return false, false
	}
}

// Done reports the outcome of an allowed call. counted is true for a
// failure that says something about the capability's health (timeouts,
// panics, retryable infrastructure errors after their retries).
func (b *Breaker) Done(probe, counted bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		b.probing = false
		if counted {
			b.trip()
		} else {
			b.consecutive = 0
			b.setState(BreakerClosed)
		}
		return
	}
	if b.state != BreakerClosed {
		// A call allowed before the breaker opened finishes late; its
		// outcome does not change an open breaker.
		return
	}
	if !counted {
		b.consecutive = 0
		return
	}
	b.consecutive++
	if b.consecutive >= b.cfg.Failures {
		b.trip()
	}
}

func (b *Breaker) trip() {
	b.openedAt = b.now()
	b.opens++
	b.setState(BreakerOpen)
}

func (b *Breaker) setState(s BreakerState) {
	from := b.state
	b.state = s
	if from != s && b.onChange != nil {
		b.onChange(b.name, from, s)
	}
}

// Abandon gives back the probe slot of a probe that did not finish (the
// process is stopping): the breaker goes back to open with its open time
// already elapsed, so the next caller becomes the probe.
func (b *Breaker) Abandon() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == BreakerHalfOpen {
		b.probing = false
		b.state = BreakerOpen
		b.openedAt = b.now().Add(-b.cfg.OpenFor)
	}
}

// Reset closes the breaker at once (operator action).
func (b *Breaker) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.consecutive = 0
	b.probing = false
	b.setState(BreakerClosed)
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
	defer b.mu.Unlock()
	s := BreakerSnapshot{
		Capability: b.name, State: b.state, ConsecutiveFailures: b.consecutive, Opens: b.opens,
		FailureThreshold: b.cfg.Failures, OpenForSeconds: b.cfg.OpenFor.Seconds(),
	}
	if b.state != BreakerClosed {
		at := b.openedAt
		probe := at.Add(b.cfg.OpenFor)
		s.OpenedAt, s.ProbeAt = &at, &probe
	}
	return s
}
