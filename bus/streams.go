package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func (b *Bus) streamConfigs() []jetstream.StreamConfig {
	queue := jetstream.FileStorage
	if b.cfg.QueueStorage == QueueStorageMemory {
		queue = jetstream.MemoryStorage
	}
	return []jetstream.StreamConfig{
		{
			Name: StreamSteps, Subjects: []string{stepPrefix + ">"},
			Retention: jetstream.WorkQueuePolicy, Storage: queue,
			Replicas: b.cfg.Replicas, Duplicates: 2 * time.Minute,
			Description: "step requests, one durable consumer per capability",
		},
		{
			Name: StreamResults, Subjects: []string{resultPrefix + ">"},
			Retention: jetstream.WorkQueuePolicy, Storage: queue,
			Replicas: b.cfg.Replicas, Duplicates: 2 * time.Minute,
			Description: "step results for the orchestrator",
		},
		{
			Name: StreamDLQ, Subjects: []string{dlqPrefix + ">"},
			Retention: jetstream.LimitsPolicy, Storage: jetstream.FileStorage,
			Replicas: b.cfg.Replicas, MaxAge: b.cfg.DLQMaxAge,
			Description: "dead-lettered steps; PostgreSQL's dead_letters is the record",
		},
		{
			Name: StreamEvents, Subjects: []string{runPrefix + ">"},
			Retention: jetstream.LimitsPolicy, Storage: jetstream.FileStorage,
			Replicas: b.cfg.Replicas, MaxAge: b.cfg.EventsMaxAge,
			Description: "run events for outside subscribers",
		},
	}
}

func (b *Bus) ensureStreams(ctx context.Context) error {
	for _, sc := range b.streamConfigs() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := b.JS.CreateOrUpdateStream(cctx, sc)
		if err != nil && sc.Retention == jetstream.WorkQueuePolicy && existingStorage(cctx, b.JS, sc.Name) != sc.Storage {
			// nats.queue_storage changed: a stream's storage cannot be
			// updated, so the queue is recreated. What it held is in
			// PostgreSQL; Resume dispatches those steps again.
			b.log.Warn("recreating stream with the configured storage", "stream", sc.Name, "storage", sc.Storage.String())
			if err = b.JS.DeleteStream(cctx, sc.Name); err == nil {
				_, err = b.JS.CreateStream(cctx, sc)
			}
		}
		cancel()
		if err != nil {
			return fmt.Errorf("create stream %s: %w", sc.Name, err)
		}
	}
	return nil
}

func existingStorage(ctx context.Context, js jetstream.JetStream, name string) jetstream.StorageType {
	st, err := js.Stream(ctx, name)
	if err != nil {
		return -1
	}
	info, err := st.Info(ctx)
	if err != nil {
		return -1
	}
	return info.Config.Storage
}

// ensureConsumer creates the durable push consumer of one subject. Every
// process that hosts the capability shares it, so work is spread over them;
// MaxAckPending matches the handlers so the backlog stays on the server
// instead of timing out in a client buffer.
func (b *Bus) ensureConsumer(ctx context.Context, stream, durable, subject string, concurrency int, ackWait time.Duration) error {
	cc := consumerConfig(durable, subject, concurrency, ackWait, b.cfg.Replicas)
	cc.DeliverSubject = "_deliver." + durable
	cc.DeliverGroup = durable
	return b.putConsumer(ctx, stream, cc)
}

// ensurePullConsumer creates the durable pull consumer of one subject,
// shared by every process that reads it.
func (b *Bus) ensurePullConsumer(ctx context.Context, stream, durable, subject string, concurrency int, ackWait time.Duration) error {
	return b.putConsumer(ctx, stream, consumerConfig(durable, subject, concurrency, ackWait, b.cfg.Replicas))
}

func consumerConfig(durable, subject string, concurrency int, ackWait time.Duration, replicas int) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       durable,
		FilterSubject: subject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxDeliver:    -1,
		MaxAckPending: concurrency,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		Replicas:      replicas,
	}
}

// putConsumer creates or updates a consumer. A consumer that cannot be
// updated into this one (push became pull, or an older name filters the
// same subject) is replaced; a work queue keeps its messages meanwhile.
func (b *Bus) putConsumer(ctx context.Context, stream string, cc jetstream.ConsumerConfig) error {
	durable, subject := cc.Durable, cc.FilterSubject
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if b.srv != nil {
		// The embedded server started with this process, so no client of
		// its previous life can still hold a delivery of this consumer;
		// yet after a crash its recovered state (written to disk lazily)
		// may still count such deliveries as awaiting acknowledgement and
		// hold it at MaxAckPending with nothing ever to redeliver. It is
		// recreated: the work queue keeps its messages and delivers every
		// one again, and results of attempts the orchestrator has moved
		// past are ignored. Consumers of capabilities only workers host
		// are left to them.
		if err := b.JS.DeleteConsumer(cctx, stream, durable); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("reset consumer %s on %s: %w", durable, stream, err)
		}
	}
	_, err := b.JS.CreateOrUpdateConsumer(cctx, stream, cc)
	switch {
	case err != nil && strings.Contains(err.Error(), "not unique"):
		// A consumer under an older name (before durable names became
		// injective) filters the same subject, and a work queue allows one
		// consumer per subject: it is this one under its old name.
		if derr := b.deleteOtherConsumers(cctx, stream, durable, subject); derr != nil {
			return derr
		}
		_, err = b.JS.CreateOrUpdateConsumer(cctx, stream, cc)
	case err != nil && !errors.Is(err, jetstream.ErrConsumerExists) && kindChanged(cctx, b.JS, stream, cc):
		// An earlier release read this consumer the other way (push or
		// pull), which cannot be updated in place.
		b.log.Warn("replacing a consumer read the other way (push or pull)", "stream", stream, "consumer", durable)
		if err = b.JS.DeleteConsumer(cctx, stream, durable); err == nil || errors.Is(err, jetstream.ErrConsumerNotFound) {
			_, err = b.JS.CreateOrUpdateConsumer(cctx, stream, cc)
		}
	}
	if err != nil && !errors.Is(err, jetstream.ErrConsumerExists) {
		return fmt.Errorf("create consumer %s on %s: %w", durable, stream, err)
	}
	return nil
}

// kindChanged reports whether the existing consumer is a push consumer
// where cc is a pull one, or the other way round.
func kindChanged(ctx context.Context, js jetstream.JetStream, stream string, cc jetstream.ConsumerConfig) bool {
	c, err := js.Consumer(ctx, stream, cc.Durable)
	if err != nil {
		return false
	}
	info := c.CachedInfo()
	return info != nil && (info.Config.DeliverSubject == "") != (cc.DeliverSubject == "")
}

// deleteOtherConsumers deletes the consumers of stream, other than durable,
// that filter subject.
func (b *Bus) deleteOtherConsumers(ctx context.Context, stream, durable, subject string) error {
	st, err := b.JS.Stream(ctx, stream)
	if err != nil {
		return fmt.Errorf("look up stream %s: %w", stream, err)
	}
	l := st.ListConsumers(ctx)
	var stale []string
	for info := range l.Info() {
		if info.Name != durable && info.Config.FilterSubject == subject {
			stale = append(stale, info.Name)
		}
	}
	if err := l.Err(); err != nil {
		return fmt.Errorf("list consumers of %s: %w", stream, err)
	}
	for _, name := range stale {
		b.log.Warn("deleting a consumer left under an older name", "stream", stream, "consumer", name, "subject", subject)
		if err := st.DeleteConsumer(ctx, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("delete consumer %s of %s: %w", name, stream, err)
		}
	}
	return nil
}
