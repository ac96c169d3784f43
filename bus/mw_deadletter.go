package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
)

// DeadLetterStore records dead letters in the system of record. Recording
// the same (run, step, attempt) twice returns the first row's id, because
// at-least-once delivery can dead-letter a step twice. A dead letter whose
// run does not exist is still recorded, without the run (orphan is then
// true), so a message naming an unknown run is never lost.
type DeadLetterStore interface {
	RecordDeadLetter(ctx context.Context, dl DeadLetter) (id string, orphan bool, err error)
}

type requestKey struct{}

// requestFrom returns the decoded step request the dead-letter middleware
// put into the message context.
func requestFrom(ctx context.Context) *StepRequest {
	r, _ := ctx.Value(requestKey{}).(*StepRequest)
	return r
}

// deadLetter decodes the step request, runs the rest of the chain, and
// turns every failure that comes out of it (retries exhausted, a final
// error, an open breaker) into a dead letter: a row in PostgreSQL, a
// message on dawsos.dlq.<capability>, and a failed step result that names
// the dead letter. An undecodable message is dead-lettered with its raw
// payload and acknowledged at once, so it cannot loop.
func (r *AgentRouter) deadLetter(capability string) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			started := time.Now()
			if n := len(msg.Payload); n > r.cfg.MaxMessageBytes {
				dl := oversized(capability, SourceStep, msg.Payload, middleware.MessageCorrelationID(msg), r.cfg.MaxMessageBytes, r.classify)
				return r.deadLetterBad(msg, "step:"+capability, dl)
			}
			var req StepRequest
			if reason := decodeRequest(msg.Payload, capability, &req); reason != "" {
				dl := DeadLetter{
					Version: EnvelopeVersion, ID: uuid.NewString(), Capability: capability, Source: SourceStep,
					Reason: ReasonUndecodable, RawPayload: msg.Payload,
					Error:         *r.classify(failf(ErrUndecodable, "undecodable step request: %s", reason)),
					CorrelationID: middleware.MessageCorrelationID(msg), CreatedAt: time.Now().UTC(),
				}
				return r.deadLetterBad(msg, "step:"+capability, dl)
			}
			tries := new(atomic.Int64)
			ctx := context.WithValue(msg.Context(), requestKey{}, &req)
			msg.SetContext(context.WithValue(ctx, triesKey{}, tries))
			msg.Metadata.Set(metaRunID, req.RunID)
			if !req.Deadline.IsZero() && time.Now().After(req.Deadline) {
				// The orchestrator has dispatched, or is about to dispatch,
				// a newer attempt of this step: running this one would be
				// work whose result is ignored. Acknowledge and drop it.
				r.log.Info("dropped a step request past its deadline", "run_id", req.RunID, "step_id", req.StepID, "attempt", req.Attempt)
				return nil, nil
			}
			base := msg.Context()
			out, err := h(msg)
			if err == nil {
				return out, nil
			}
			if base.Err() != nil {
				// The process is stopping: the step was cut short, not
				// failed. Leave the message to be delivered again.
				return nil, err
			}
			se := r.classify(err)
			reason := ReasonFinalError
			switch {
			case errors.Is(err, ErrCircuitOpen):
				reason = ReasonCircuitOpen
			case se.Retryable:
				reason = ReasonExhausted
			}
			dl := DeadLetter{
				Version: EnvelopeVersion, ID: uuid.NewString(), Capability: capability, Source: SourceStep, Reason: reason,
				Request: &req, Error: *se, Tries: int(tries.Load()),
				CorrelationID: req.CorrelationID, CreatedAt: time.Now().UTC(),
			}
			id, orphan, rerr := recordDeadLetter(msg.Context(), r.bus, r.store, r.log, dl)
			if rerr != nil {
				return nil, unrecordable(msg, "step:"+capability, rerr, r.log, r.metrics, r.classify)
			}
			r.observe(capability, se.Code, time.Since(started))
			if orphan {
				// The run does not exist: no orchestrator waits for a
				// result, and the dead letter is the record.
				r.log.Warn("dead-lettered a step of an unknown run", "capability", capability, "run_id", req.RunID, "dead_letter_id", id)
				return nil, nil
			}
			res := StepResult{
				Version: EnvelopeVersion, RunID: req.RunID, StepID: req.StepID, Attempt: req.Attempt,
				Capability: capability, OK: false, Error: se, DeadLetterID: id, Tries: int(tries.Load()),
				StartedAt: started.UTC(), DurationMS: msSince(started), Agent: r.agentOf[capability],
			}
			m, merr := resultMessage(res, req.CorrelationID)
			if merr != nil {
				return nil, merr
			}
			return []*message.Message{m}, nil
		}
	}
}

// recordDeadLetter writes a dead letter to the store (the record) and
// publishes it on the DLQ subject. The store's context does not end with
// the message's: a failure being recorded is not abandoned half-way.
func recordDeadLetter(ctx context.Context, b *Bus, store DeadLetterStore, log *slog.Logger, dl DeadLetter) (string, bool, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	id, orphan, err := store.RecordDeadLetter(cctx, dl)
	if err != nil {
		return "", false, fmt.Errorf("record dead letter of %s: %w", dl.Capability, err)
	}
	dl.ID = id
	if b.cfg.Worker {
		// A worker account may not publish dead letters; the record is
		// written, and the orchestrator announces the step's end.
		return id, orphan, nil
	}
	data, err := json.Marshal(dl)
	if err != nil {
		return "", false, fmt.Errorf("encode dead letter: %w", err)
	}
	m := nats.NewMsg(DLQSubject(dl.dlqToken()))
	m.Data = data
	m.Header.Set(HeaderMsgID, "dlq/"+id)
	if dl.CorrelationID != "" {
		m.Header.Set(HeaderCorrelationID, dl.CorrelationID)
	}
	// PostgreSQL holds the record; a lost DLQ publish only costs outside
	// subscribers a notification, so it is logged rather than retried.
	if _, err := b.JS.PublishMsg(cctx, m); err != nil {
		log.Warn("publish dead letter", "capability", dl.Capability, "dead_letter_id", id, "err", err)
	}
	return id, orphan, nil
}

// decodeRequest decodes a step request and checks its envelope: a JSON
// object naming a run (a uuid), a step and an attempt of this very
// capability. It returns why the message cannot be a step, or "".
func decodeRequest(payload []byte, capability string, req *StepRequest) string {
	if err := json.Unmarshal(payload, req); err != nil {
		return err.Error()
	}
	switch {
	case req.Capability != capability:
		return fmt.Sprintf("capability %q on the subject of %q", req.Capability, capability)
	case req.StepID == "" || req.Attempt < 1:
		return "missing step_id or attempt"
	}
	if _, err := uuid.Parse(req.RunID); err != nil {
		return fmt.Sprintf("run_id %q is not a uuid", truncate(req.RunID, 64))
	}
	return ""
}

// deadLetterBad records a message that cannot be handled at all and
// acknowledges it; it never comes back.
func (r *AgentRouter) deadLetterBad(msg *message.Message, consumer string, dl DeadLetter) ([]*message.Message, error) {
	if _, _, err := recordDeadLetter(msg.Context(), r.bus, r.store, r.log, dl); err != nil {
		return nil, unrecordable(msg, consumer, err, r.log, r.metrics, r.classify)
	}
	r.log.Warn("dead-lettered a message that cannot be handled", "consumer", consumer, "reason", dl.Reason, "error", dl.Error.Message,
		"payload", excerpt(msg.Payload))
	if r.metrics != nil {
		r.metrics.badMessages.WithLabelValues(consumer, "dead_lettered").Inc()
	}
	return nil, nil
}

// oversizedPrefix is how much of an oversized message its dead letter keeps.
const oversizedPrefix = 4096

// oversized is the dead letter of a message larger than limit: its size and
// a bounded prefix.
func oversized(capability, source string, payload []byte, correlationID string, limit int, classify Classifier) DeadLetter {
	n := len(payload)
	return DeadLetter{
		Version: EnvelopeVersion, ID: uuid.NewString(), Capability: capability, Source: source, Reason: ReasonOversized,
		RawPayload:    append([]byte(nil), payload[:min(n, oversizedPrefix)]...),
		Error:         *classify(failf(ErrUndecodable, "message of %d bytes exceeds the limit of %d; the dead letter keeps its first %d bytes", n, limit, min(n, oversizedPrefix))),
		CorrelationID: correlationID, CreatedAt: time.Now().UTC(),
		Extra: json.RawMessage(fmt.Sprintf(`{"size": %d, "limit": %d}`, n, limit)),
	}
}

// maxRecordDeliveries bounds how often a message whose dead letter cannot
// be written is delivered again.
const maxRecordDeliveries = 20

// unrecordable decides what happens to a message whose dead letter cannot
// be written. A retryable failure (the database is down) leaves it to be
// delivered again, later, while it has been delivered fewer than
// maxRecordDeliveries times: PostgreSQL will be back. Anything else cannot
// succeed on another delivery: the message is acknowledged, logged with a
// bounded excerpt and counted, rather than looping.
func unrecordable(msg *message.Message, consumer string, err error, log *slog.Logger, m *Metrics, classify Classifier) error {
	delivered, _ := strconv.Atoi(msg.Metadata.Get(metaDelivered))
	return unrecordablePayload(msg.Payload, delivered, consumer, err, log, m, classify)
}

// unrecordablePayload is unrecordable for a message read without
// watermill: its payload and its delivery count.
func unrecordablePayload(payload []byte, delivered int, consumer string, err error, log *slog.Logger, m *Metrics, classify Classifier) error {
	if classify(err).Retryable && delivered < maxRecordDeliveries {
		return err
	}
	log.Error("dropped a message whose dead letter cannot be written", "consumer", consumer, "delivered", delivered,
		"err", err, "payload", excerpt(payload))
	if m != nil {
		m.badMessages.WithLabelValues(consumer, "dropped").Inc()
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// excerptLimit bounds how much of a bad message a log line shows.
const excerptLimit = 256

// excerpt is a bounded, printable prefix of a payload for logs.
func excerpt(b []byte) string {
	if len(b) <= excerptLimit {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%q... (%d bytes)", b[:excerptLimit], len(b))
}

func resultMessage(res StepResult, correlationID string) (*message.Message, error) {
	b, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("encode step result: %w", err)
	}
	m := message.NewMessage(res.RunID+"/"+res.StepID+"/"+fmt.Sprint(res.Attempt), b)
	m.Metadata.Set(metaRunID, res.RunID)
	if correlationID != "" {
		middleware.SetCorrelationID(correlationID, m)
	}
	return m, nil
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }
