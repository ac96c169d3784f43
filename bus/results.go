package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
)

// ResultRouter feeds step results to the orchestrator through one durable
// consumer shared by every orchestrator process.
type ResultRouter struct {
	wm   *message.Router
	conn *nats.Conn
}

// ConsumeResults subscribes apply to every step result. An error from
// apply (the database is down, say) leaves the result to be redelivered a
// second later; apply must therefore be idempotent, which the orchestrator
// is by (run, step, attempt).
func (b *Bus) ConsumeResults(ctx context.Context, concurrency int, log *slog.Logger, apply func(ctx context.Context, res StepResult) error) (*ResultRouter, error) {
	if log == nil {
		log = slog.Default()
	}
	if concurrency <= 0 {
		concurrency = 8
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
		var res StepResult
		if err := json.Unmarshal(msg.Payload, &res); err != nil || res.RunID == "" || res.StepID == "" {
			// A result nobody can read cannot be applied; redelivering it
			// would loop. The step stays queued and the recovery loop
			// redispatches it when its deadline passes.
			log.Error("drop undecodable step result", "payload", string(msg.Payload), "err", err)
			return nil
		}
		return apply(msg.Context(), res)
	})
	return &ResultRouter{wm: wm, conn: conn}, nil
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
