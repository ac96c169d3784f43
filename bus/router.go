package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
)

// Handler is one capability as the bus sees it.
type Handler struct {
	Capability string
	Agent      string
	// Invoke runs the capability; the router's classifier decides what a
	// returned error means.
	Invoke func(ctx context.Context, req *StepRequest) (json.RawMessage, error)
	// Timeout bounds one attempt; MaxAttempts counts the first one.
	Timeout     time.Duration
	MaxAttempts int
	// Concurrency is the number of steps of this capability one process
	// runs at once.
	Concurrency int
	// MaxInFlight is the number of its steps delivered and not yet
	// acknowledged across every process that hosts it: the shared
	// consumer's MaxAckPending (Concurrency when 0). With N processes
	// hosting the capability, N x Concurrency lets each run its share; more
	// would leave deliveries waiting in a busy process's buffer.
	MaxInFlight int
}

// AgentRouterConfig configures the handlers of one process.
type AgentRouterConfig struct {
	Breaker BreakerConfig
	// Breakers, when set, gives each capability the cluster's breaker
	// (Breaker is then the set's rule); otherwise each capability gets a
	// breaker of this process alone.
	Breakers       *BreakerSet
	InitialBackoff time.Duration
	DeadLetters    DeadLetterStore
	Metrics        *Metrics
	Logger         *slog.Logger
	Now            func() time.Time
	// ShutdownGrace bounds how long Close lets steps in flight finish
	// before cancelling them (they are then delivered again elsewhere).
	ShutdownGrace time.Duration
	// AckWait is the step consumers' ack wait (default 15 s), renewed by
	// the heartbeat every third of it.
	AckWait time.Duration
	// Classify decides the code, retry and breaker counting of every
	// failure (required).
	Classify Classifier
	// MaxMessageBytes bounds a step request; a larger one is dead-lettered
	// with its size and a prefix (default 1 MiB).
	MaxMessageBytes int
	// CancelGrace bounds how long a timed-out attempt may take to stop
	// after its context is cancelled before it is abandoned as leaked
	// (default 5 s).
	CancelGrace time.Duration
}

// DefaultMaxMessageBytes bounds the step requests and results the engine
// reads when no other limit is configured.
const DefaultMaxMessageBytes = 1 << 20

// defaultStepAckWait is the ack wait of the step consumers. Handlers renew
// it while they work (see heartbeat), so it is not a limit on a step's
// duration; it bounds how long a dead process's deliveries stay stuck.
const defaultStepAckWait = 15 * time.Second

// AgentRouter runs one watermill handler per capability, each with its own
// durable JetStream consumer and its own breaker.
type AgentRouter struct {
	bus      *Bus
	cfg      AgentRouterConfig
	wm       *message.Router
	store    DeadLetterStore
	log      *slog.Logger
	metrics  *Metrics
	breakers map[string]*Breaker
	agentOf  map[string]string
	conn     *nats.Conn
}

// NewAgentRouter creates the consumers and wires the middleware chain of
// every handler, outermost first: heartbeat, correlation, dead letter,
// breaker, retry, timeout (per attempt), recoverer, capability.
func (b *Bus) NewAgentRouter(ctx context.Context, cfg AgentRouterConfig, handlers []Handler) (*AgentRouter, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.InitialBackoff <= 0 {
		cfg.InitialBackoff = time.Second
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 20 * time.Second
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = defaultStepAckWait
	}
	if cfg.CancelGrace <= 0 {
		cfg.CancelGrace = 5 * time.Second
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.DeadLetters == nil {
		return nil, fmt.Errorf("agent router: no dead-letter store")
	}
	if cfg.Classify == nil {
		return nil, fmt.Errorf("agent router: no error classifier")
	}
	wl := slogAdapter{l: cfg.Logger.With("component", "watermill")}
	wm, err := message.NewRouter(message.RouterConfig{CloseTimeout: 15 * time.Second}, wl)
	if err != nil {
		return nil, fmt.Errorf("create router: %w", err)
	}
	r := &AgentRouter{
		bus: b, cfg: cfg, wm: wm, store: cfg.DeadLetters, log: cfg.Logger, metrics: cfg.Metrics,
		breakers: map[string]*Breaker{}, agentOf: map[string]string{},
	}
	pub := &resultPublisher{bus: b}
	inflight := &sync.Map{}
	// The subscribers get a connection of their own: closing a watermill
	// subscriber drains its connection, which must not be the one the
	// rest of the process publishes on.
	conn, err := b.connect("dawsos-agents")
	if err != nil {
		return nil, err
	}
	r.conn = conn
	ok := false
	defer func() {
		if !ok {
			conn.Close()
		}
	}()
	durables := map[string]string{}
	for _, h := range handlers {
		if h.Timeout <= 0 {
			h.Timeout = 30 * time.Second
		}
		if h.MaxAttempts <= 0 {
			h.MaxAttempts = 3
		}
		if h.Concurrency <= 0 {
			h.Concurrency = 4
		}
		// The server's ack wait is short and the heartbeat middleware
		// renews it every third of it while the step is worked on, so it
		// only bounds how long a dead process's deliveries stay stuck.
		// watermill's own wait, after which it abandons the message and
		// cancels the handler, must cover the whole retry budget instead.
		budget := time.Duration(h.MaxAttempts)*(h.Timeout+cfg.CancelGrace) + cfg.InitialBackoff*time.Duration(1<<h.MaxAttempts) + 10*time.Second
		durable := durableName(h.Capability)
		if prev, dup := durables[durable]; dup {
			return nil, fmt.Errorf("capabilities %s and %s map to one consumer name %s", prev, h.Capability, durable)
		}
		durables[durable] = h.Capability
		if h.MaxInFlight <= 0 {
			h.MaxInFlight = h.Concurrency
		}
		if err := b.ensureConsumer(ctx, StreamSteps, durable, StepSubject(h.Capability), h.MaxInFlight, cfg.AckWait); err != nil {
			return nil, err
		}
		sub, err := wmnats.NewSubscriberWithNatsConn(conn, wmnats.SubscriberSubscriptionConfig{
			Unmarshaler:      wireMarshaler{inflight: inflight},
			SubscribersCount: h.Concurrency,
			AckWaitTimeout:   budget,
			CloseTimeout:     15 * time.Second,
			SubjectCalculator: func(_, topic string) *wmnats.SubjectDetail {
				return &wmnats.SubjectDetail{Primary: topic, QueueGroup: durable}
			},
			NakDelay: wmnats.NewStaticDelay(time.Second),
			JetStream: wmnats.JetStreamConfig{
				AckAsync:          true,
				SubscribeOptions:  []nats.SubOpt{nats.ManualAck(), nats.BindStream(StreamSteps)},
				DurableCalculator: func(string, string) string { return durable },
			},
		}, wl)
		if err != nil {
			return nil, fmt.Errorf("subscribe %s: %w", h.Capability, err)
		}
		var br *Breaker
		if cfg.Breakers != nil {
			// One breaker for the capability across the cluster; its probe
			// may take the step's whole budget before another may probe.
			br = cfg.Breakers.Get(h.Capability, budget)
		} else {
			br = NewBreaker(h.Capability, cfg.Breaker, cfg.Now, r.breakerChanged)
		}
		r.breakers[h.Capability] = br
		r.agentOf[h.Capability] = h.Agent
		handler := wm.AddHandler("step:"+h.Capability, StepSubject(h.Capability), sub, "dawsos.result", pub, r.capability(h))
		// Listed outermost first; AddMiddleware applies them in that order.
		handler.AddMiddleware(
			heartbeat(inflight, cfg.AckWait/3),
			correlation,
			r.deadLetter(h.Capability),
			r.breakerMiddleware(br),
			r.retryMiddleware(h.MaxAttempts, cfg.InitialBackoff),
			r.timeoutMiddleware(h.Capability, h.Timeout),
			recoverer,
		)
		if r.metrics != nil && cfg.Breakers == nil {
			r.metrics.breakerState.WithLabelValues(h.Capability).Set(0)
		}
	}
	ok = true
	return r, nil
}

// capability is the innermost handler: it runs the capability and turns its
// output into the step result message.
func (r *AgentRouter) capability(h Handler) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		req := requestFrom(msg.Context())
		tries := int(triesFrom(msg.Context()).Add(1))
		started := time.Now()
		out, err := h.Invoke(msg.Context(), req)
		if err != nil {
			return nil, err
		}
		r.observe(h.Capability, "ok", time.Since(started))
		res := StepResult{
			Version: EnvelopeVersion, RunID: req.RunID, StepID: req.StepID, Attempt: req.Attempt,
			Capability: h.Capability, OK: true, Output: out, Tries: tries,
			StartedAt: started.UTC(), DurationMS: msSince(started), Agent: h.Agent,
		}
		m, err := resultMessage(res, req.CorrelationID)
		if err != nil {
			return nil, err
		}
		return []*message.Message{m}, nil
	}
}

type triesKey struct{}

// triesFrom returns the step's attempt counter, shared by every attempt of
// one delivery. It is atomic because an attempt abandoned by the timeout
// middleware may still be running when the dead-letter middleware reads it.
func triesFrom(ctx context.Context) *atomic.Int64 {
	if c, ok := ctx.Value(triesKey{}).(*atomic.Int64); ok {
		return c
	}
	return new(atomic.Int64)
}

func (r *AgentRouter) observe(capability, outcome string, d time.Duration) {
	if r.metrics != nil {
		r.metrics.stepSeconds.WithLabelValues(capability, outcome).Observe(d.Seconds())
	}
}

func (r *AgentRouter) breakerChanged(name string, from, to BreakerState) {
	r.log.Warn("circuit breaker changed state", "capability", name, "from", string(from), "to", string(to))
	if r.metrics != nil {
		r.metrics.breakerState.WithLabelValues(name).Set(breakerGauge(to))
	}
}

// breakerGauge is a state as dawsos_breaker_state reports it.
func breakerGauge(s BreakerState) float64 {
	switch s {
	case BreakerOpen:
		return 1
	case BreakerHalfOpen:
		return 2
	}
	return 0
}

// Run runs the handlers until ctx ends or Close is called.
func (r *AgentRouter) Run(ctx context.Context) error { return r.wm.Run(ctx) }

// Running is closed once every handler is subscribed.
func (r *AgentRouter) Running() chan struct{} { return r.wm.Running() }

// Close stops the handlers, waiting for those in flight, and closes the
// router's connection.
func (r *AgentRouter) Close() error {
	drain(r.conn, r.cfg.ShutdownGrace)
	return r.wm.Close()
}

// drain stops a router's subscriptions and waits until the messages they
// had already received are handled, before the router itself is closed.
// watermill-nats closes a subscription's output channel while a message
// callback may still be sending on it; draining first leaves no callback
// running by then.
func drain(nc *nats.Conn, timeout time.Duration) {
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	if err := nc.Drain(); err != nil {
		nc.Close()
		return
	}
	select {
	case <-closed:
	case <-time.After(timeout):
		nc.Close()
	}
}

// Breakers returns the state of every breaker of this process, by name.
func (r *AgentRouter) Breakers() []BreakerSnapshot {
	out := make([]BreakerSnapshot, 0, len(r.breakers))
	for _, b := range r.breakers {
		out = append(out, b.Snapshot())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Capability < out[j].Capability })
	return out
}

// Breaker returns one capability's breaker.
func (r *AgentRouter) Breaker(capability string) (*Breaker, bool) {
	b, ok := r.breakers[capability]
	return b, ok
}

// resultPublisher publishes each produced step result on its run's result
// subject. Its Close does nothing: the router closes its publishers, and the
// NATS connection is shared by the whole process.
type resultPublisher struct{ bus *Bus }

func (p *resultPublisher) Publish(_ string, msgs ...*message.Message) error {
	for _, m := range msgs {
		nm, _ := wireMarshaler{}.Marshal(ResultSubject(m.Metadata.Get(metaRunID)), m)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := p.bus.JS.PublishMsg(ctx, nm)
		cancel()
		if err != nil {
			return fmt.Errorf("publish step result %s: %w", m.UUID, err)
		}
	}
	return nil
}

func (p *resultPublisher) Close() error { return nil }
