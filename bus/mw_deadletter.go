package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
)

// DeadLetterStore records dead letters in the system of record. Recording
// the same (run, step, attempt) twice returns the first row's id, because
// at-least-once delivery can dead-letter a step twice.
type DeadLetterStore interface {
	RecordDeadLetter(ctx context.Context, dl DeadLetter) (id string, err error)
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
			var req StepRequest
			if err := json.Unmarshal(msg.Payload, &req); err != nil || req.RunID == "" || req.StepID == "" || req.Capability != capability {
				reason := "missing run_id, step_id or capability"
				if err != nil {
					reason = err.Error()
				} else if req.Capability != capability && req.RunID != "" {
					reason = fmt.Sprintf("capability %q on the subject of %q", req.Capability, capability)
				}
				dl := DeadLetter{
					Version: EnvelopeVersion, ID: uuid.NewString(), Capability: capability, Source: SourceStep,
					Reason: ReasonUndecodable, RawPayload: msg.Payload,
					Error:         *r.classify(failf(ErrUndecodable, "undecodable step request: %s", reason)),
					CorrelationID: middleware.MessageCorrelationID(msg), CreatedAt: time.Now().UTC(),
				}
				if _, err := recordDeadLetter(msg.Context(), r.bus, r.store, r.log, dl); err != nil {
					return nil, err
				}
				r.log.Warn("dead-lettered undecodable message", "capability", capability, "reason", reason, "payload", excerpt(msg.Payload))
				return nil, nil
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
			id, rerr := recordDeadLetter(msg.Context(), r.bus, r.store, r.log, dl)
			if rerr != nil {
				// Not recorded: let the message be redelivered rather than
				// lose the failure.
				return nil, rerr
			}
			r.observe(capability, se.Code, time.Since(started))
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
func recordDeadLetter(ctx context.Context, b *Bus, store DeadLetterStore, log *slog.Logger, dl DeadLetter) (string, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	id, err := store.RecordDeadLetter(cctx, dl)
	if err != nil {
		return "", fmt.Errorf("record dead letter of %s: %w", dl.Capability, err)
	}
	dl.ID = id
	data, err := json.Marshal(dl)
	if err != nil {
		return "", fmt.Errorf("encode dead letter: %w", err)
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
	return id, nil
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
