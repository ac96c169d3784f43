package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ResultRouter feeds step results to the orchestrator through one durable
// pull consumer shared by every orchestrator process. It reads with
// nats.go's JetStream client rather than watermill: results need none of
// the agents' middleware, and a pull consumer hands them over in batches
// as large as the orchestrator can apply in one transaction, where
// watermill's push subscriber hands over one per goroutine.
type ResultRouter struct {
	b     *Bus
	cfg   ResultsConfig
	log   *slog.Logger
	apply func(ctx context.Context, res StepResult) error
	conn  *nats.Conn
	// slots bounds the results being applied at once.
	slots    chan struct{}
	inflight sync.WaitGroup
	running  chan struct{}
	closing  chan struct{}
	stopped  chan struct{}
	once     sync.Once
	started  atomic.Bool
}

// ResultsConfig configures the results consumer.
type ResultsConfig struct {
	// Concurrency is how many results may be handed to apply at once (the
	// orchestrator applies them in batches); it is also the consumer's
	// MaxAckPending.
	Concurrency int
	Logger      *slog.Logger
	// DeadLetters records results that cannot be decoded (required).
	DeadLetters DeadLetterStore
	// Classify gives the dead letter of an undecodable result its code.
	Classify Classifier
	Metrics  *Metrics
	// MaxMessageBytes bounds a result (default DefaultMaxMessageBytes).
	MaxMessageBytes int
}

// resultsAckWait is how long a delivered result may go unacknowledged
// before it is delivered again. Applying it is idempotent, so a
// redelivery after a slow commit costs work, not correctness.
const resultsAckWait = 15 * time.Second

// ConsumeResults subscribes apply to every step result. An error from
// apply (the database is down, say) leaves the result to be redelivered a
// second later; apply must therefore be idempotent, which the orchestrator
// is by (run, step, attempt). A result that cannot be decoded is
// dead-lettered with its raw payload and acknowledged: redelivering it
// would loop.
func (b *Bus) ConsumeResults(ctx context.Context, cfg ResultsConfig, apply func(ctx context.Context, res StepResult) error) (*ResultRouter, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.DeadLetters == nil || cfg.Classify == nil {
		return nil, fmt.Errorf("results consumer: a dead-letter store and a classifier are required")
	}
	if err := b.ensurePullConsumer(ctx, StreamResults, ResultsConsumer, resultPrefix+">", cfg.Concurrency, resultsAckWait); err != nil {
		return nil, err
	}
	// Its own connection, so that stopping the consumer does not touch
	// the one the process publishes on.
	conn, err := b.connect("dawsos-results")
	if err != nil {
		return nil, err
	}
	return &ResultRouter{
		b: b, cfg: cfg, log: cfg.Logger, apply: apply, conn: conn,
		slots: make(chan struct{}, cfg.Concurrency), running: make(chan struct{}),
		closing: make(chan struct{}), stopped: make(chan struct{}),
	}, nil
}

// Run consumes results until ctx ends or Close is called, then waits (at
// most 15 s) for the results being applied.
func (r *ResultRouter) Run(ctx context.Context) error {
	r.started.Store(true)
	defer close(r.stopped)
	js, err := jetstream.New(r.conn)
	if err != nil {
		return fmt.Errorf("results consumer: %w", err)
	}
	cons, err := js.Consumer(ctx, StreamResults, ResultsConsumer)
	if err != nil {
		return fmt.Errorf("results consumer: %w", err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		select {
		case r.slots <- struct{}{}:
		case <-r.closing:
			return // not acknowledged: delivered again to whoever runs next
		}
		r.inflight.Add(1)
		go func() {
			defer r.inflight.Done()
			defer func() { <-r.slots }()
			r.handle(ctx, m)
		}()
	}, jetstream.PullMaxMessages(min(r.cfg.Concurrency, 512)),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			r.log.Debug("results consumer", "err", err)
		}))
	if err != nil {
		return fmt.Errorf("consume results: %w", err)
	}
	close(r.running)
	select {
	case <-ctx.Done():
	case <-r.closing:
	}
	cc.Stop()
	done := make(chan struct{})
	go func() { r.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		r.log.Warn("results consumer stopped with results still being applied; they will be delivered again")
	}
	return nil
}

// handle applies one delivered result and acknowledges it once applied.
func (r *ResultRouter) handle(ctx context.Context, m jetstream.Msg) {
	payload := m.Data()
	var dl DeadLetter
	if len(payload) > r.cfg.MaxMessageBytes {
		dl = oversized("", SourceResult, payload, m.Headers().Get(HeaderCorrelationID), r.cfg.MaxMessageBytes, r.cfg.Classify)
	} else {
		var res StepResult
		reason := decodeResult(payload, &res)
		if reason == "" {
			if err := r.apply(ctx, res); err != nil {
				r.log.Debug("a step result was not applied; it will be delivered again", "run_id", res.RunID, "step_id", res.StepID, "err", err)
				_ = m.NakWithDelay(time.Second)
				return
			}
			_ = m.Ack()
			return
		}
		// A result nobody can read cannot be applied. It is recorded as a
		// dead letter; the step stays queued and the recovery loop
		// dispatches it again when its deadline passes.
		dl = DeadLetter{
			Version: EnvelopeVersion, ID: uuid.NewString(), Capability: res.Capability, Source: SourceResult,
			Reason: ReasonUndecodable, RawPayload: payload,
			Error:         *r.cfg.Classify(failf(ErrUndecodable, "undecodable step result: %s", reason)),
			CorrelationID: m.Headers().Get(HeaderCorrelationID), CreatedAt: time.Now().UTC(),
		}
	}
	if !validCapability(dl.Capability) {
		dl.Capability = ""
	}
	if _, _, err := recordDeadLetter(ctx, r.b, r.cfg.DeadLetters, r.log, dl); err != nil {
		delivered := 1
		if md, merr := m.Metadata(); merr == nil {
			delivered = int(md.NumDelivered)
		}
		if unrecordablePayload(payload, delivered, "results", err, r.log, r.cfg.Metrics, r.cfg.Classify) != nil {
			_ = m.NakWithDelay(time.Second)
			return
		}
		_ = m.Ack()
		return
	}
	r.log.Warn("dead-lettered a step result that cannot be read", "reason", dl.Reason, "error", dl.Error.Message, "payload", excerpt(payload))
	if r.cfg.Metrics != nil {
		r.cfg.Metrics.badMessages.WithLabelValues("results", "dead_lettered").Inc()
	}
	_ = m.Ack()
}

// decodeResult decodes a step result and checks its envelope: it names a
// run (a uuid), a step and an attempt. It returns why the message cannot
// be a result, or "".
func decodeResult(payload []byte, res *StepResult) string {
	if err := json.Unmarshal(payload, res); err != nil {
		return err.Error()
	}
	if res.StepID == "" || res.Attempt < 0 {
		return "missing step_id or a negative attempt"
	}
	if _, err := uuid.Parse(res.RunID); err != nil {
		return fmt.Sprintf("run_id %q is not a uuid", truncate(res.RunID, 64))
	}
	return ""
}

// Running is closed once the consumer is subscribed.
func (r *ResultRouter) Running() chan struct{} { return r.running }

// Close stops the consumer, waiting for results being applied, and closes
// its connection.
func (r *ResultRouter) Close() error {
	r.once.Do(func() { close(r.closing) })
	if r.started.Load() {
		select {
		case <-r.stopped:
		case <-time.After(20 * time.Second):
		}
	}
	r.conn.Close()
	return nil
}
