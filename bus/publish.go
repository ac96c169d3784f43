package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// PublishSteps publishes step requests on their capability subjects,
// pipelined, and returns once JetStream has stored every one of them.
// Nats-Msg-Id makes a republish of the same attempt a no-op while the
// server still remembers it.
func (b *Bus) PublishSteps(ctx context.Context, reqs []StepRequest) error {
	if len(reqs) == 0 {
		return nil
	}
	futures := make([]jetstream.PubAckFuture, 0, len(reqs))
	for i := range reqs {
		r := &reqs[i]
		r.Version = EnvelopeVersion
		data, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encode step request %s: %w", r.MsgID(), err)
		}
		m := nats.NewMsg(StepSubject(r.Capability))
		m.Data = data
		m.Header.Set(HeaderMsgID, r.MsgID())
		if r.CorrelationID != "" {
			m.Header.Set(HeaderCorrelationID, r.CorrelationID)
		}
		if len(reqs) == 1 {
			// One request: a synchronous publish answers sooner than an
			// asynchronous one, whose acknowledgement waits for the
			// client's flusher.
			if _, err := b.JS.PublishMsg(ctx, m); err != nil {
				return fmt.Errorf("publish step request %s: %w", r.MsgID(), err)
			}
			return nil
		}
		f, err := b.JS.PublishMsgAsync(m)
		if err != nil {
			return fmt.Errorf("publish step request %s: %w", r.MsgID(), err)
		}
		futures = append(futures, f)
	}
	var errs []error
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			errs = append(errs, fmt.Errorf("publish step request %s: %w", f.Msg().Header.Get(HeaderMsgID), err))
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return errors.Join(errs...)
}

// PublishEvents publishes run events for outside subscribers without
// waiting for the server's acknowledgements. PostgreSQL's run_events is the
// record that SSE reads, so a lost event costs an outside subscriber a
// notification, not data; failures reach the bus's async error handler,
// which logs them.
func (b *Bus) PublishEvents(evs []RunEvent) error {
	for _, e := range evs {
		e.Version = EnvelopeVersion
		data, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode run event: %w", err)
		}
		m := nats.NewMsg(EventSubject(e.RunID, e.Type))
		m.Data = data
		m.Header.Set(HeaderMsgID, fmt.Sprintf("%s/%d", e.RunID, e.Seq))
		if _, err := b.JS.PublishMsgAsync(m); err != nil {
			return fmt.Errorf("publish run event: %w", err)
		}
	}
	return nil
}
