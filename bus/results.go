package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
)

// ResultRouter feeds step results to the orchestrator through one durable
// consumer shared by every orchestrator process.
type ResultRouter struct {
	wm   *message.Router
	conn *nats.Conn
}

// ResultsConfig configures the results consumer.
type ResultsConfig struct {
	// Concurrency is how many results are handed to apply at once.
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

// ConsumeResults subscribes apply to every step result. An error from
// apply (the database is down, say) leaves the result to be redelivered a
// second later; apply must therefore be idempotent, which the orchestrator
// is by (run, step, attempt). A result that cannot be decoded is
// dead-lettered with its raw payload and acknowledged: redelivering it
// would loop.
func (b *Bus) ConsumeResults(ctx context.Context, cfg ResultsConfig, apply func(ctx context.Context, res StepResult) error) (*ResultRouter, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	concurrency := cfg.Concurrency
	if concurrency <= 0 {
		concurrency = 8
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.DeadLetters == nil || cfg.Classify == nil {
		return nil, fmt.Errorf("results consumer: a dead-letter store and a classifier are required")
	}
	const ackWait = 15 * time.Second
	if err := b.ensureConsumer(ctx, StreamResults, ResultsConsumer, resultPrefix+">", concurrency, ackWait); err != nil {
		return nil, err
	}
	wl := slogAdapter{l: log.With("component", "watermill")}
	// Its own connection: closing the subscriber drains it.
	conn, err := b.connect("dawsos-results")
	if err != nil {
		return nil, err
	}
	sub, err := wmnats.NewSubscriberWithNatsConn(conn, wmnats.SubscriberSubscriptionConfig{
		Unmarshaler:      wireMarshaler{},
		SubscribersCount: concurrency,
		AckWaitTimeout:   ackWait,
		CloseTimeout:     15 * time.Second,
		SubjectCalculator: func(_, topic string) *wmnats.SubjectDetail {
			return &wmnats.SubjectDetail{Primary: topic, QueueGroup: ResultsConsumer}
		},
		NakDelay: wmnats.NewStaticDelay(time.Second),
		JetStream: wmnats.JetStreamConfig{
			AckAsync:          true,
			SubscribeOptions:  []nats.SubOpt{nats.ManualAck(), nats.BindStream(StreamResults)},
			DurableCalculator: func(string, string) string { return ResultsConsumer },
		},
	}, wl)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("subscribe results: %w", err)
	}
	wm, err := message.NewRouter(message.RouterConfig{CloseTimeout: 15 * time.Second}, wl)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("create result router: %w", err)
	}
	wm.AddNoPublisherHandler("results", resultPrefix+">", sub, func(msg *message.Message) error {
		var dl DeadLetter
		if len(msg.Payload) > cfg.MaxMessageBytes {
			dl = oversized("", SourceResult, msg, cfg.MaxMessageBytes, cfg.Classify)
		} else {
			var res StepResult
			reason := decodeResult(msg.Payload, &res)
			if reason == "" {
				return apply(msg.Context(), res)
			}
			// A result nobody can read cannot be applied. It is recorded
			// as a dead letter; the step stays queued and the recovery
			// loop dispatches it again when its deadline passes.
			dl = DeadLetter{
				Version: EnvelopeVersion, ID: uuid.NewString(), Capability: res.Capability, Source: SourceResult,
				Reason: ReasonUndecodable, RawPayload: msg.Payload,
				Error:         *cfg.Classify(failf(ErrUndecodable, "undecodable step result: %s", reason)),
				CorrelationID: msg.Metadata.Get(HeaderCorrelationID), CreatedAt: time.Now().UTC(),
			}
		}
		if !validCapability(dl.Capability) {
			dl.Capability = ""
		}
		if _, _, err := recordDeadLetter(msg.Context(), b, cfg.DeadLetters, log, dl); err != nil {
			return unrecordable(msg, "results", err, log, cfg.Metrics, cfg.Classify)
		}
		log.Warn("dead-lettered a step result that cannot be read", "reason", dl.Reason, "error", dl.Error.Message, "payload", excerpt(msg.Payload))
		if cfg.Metrics != nil {
			cfg.Metrics.badMessages.WithLabelValues("results", "dead_lettered").Inc()
		}
		return nil
	})
	return &ResultRouter{wm: wm, conn: conn}, nil
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

// Run runs the consumer until ctx ends or Close is called.
func (r *ResultRouter) Run(ctx context.Context) error { return r.wm.Run(ctx) }

// Running is closed once the consumer is subscribed.
func (r *ResultRouter) Running() chan struct{} { return r.wm.Running() }

// Close stops the consumer, waiting for results being applied, and closes
// its connection.
func (r *ResultRouter) Close() error {
	drain(r.conn, 20*time.Second)
	return r.wm.Close()
}
