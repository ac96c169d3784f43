package bus

import (
	"context"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

type handlerOutcome struct {
	msgs []*message.Message
	err  error
}

// timeoutMiddleware bounds one attempt. At the deadline the attempt's
// context is cancelled, which cancels its queries on the server (the pool
// asks PostgreSQL to cancel a query whose context ends), and the
// middleware waits for the attempt to return before the retry middleware
// may start the next one: two attempts of one step never run at once, and
// a hung capability cannot hold more connections than its concurrency.
// An attempt that ignores its context for longer than grace is abandoned:
// it is counted and logged as leaked, and the step fails with a timeout.
func (r *AgentRouter) timeoutMiddleware(capability string, d time.Duration) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			ctx, cancel := context.WithTimeout(msg.Context(), d)
			defer cancel()
			// The attempt gets its own copy of the message: an abandoned
			// attempt may still be running when the retry middleware
			// prepares the next one on the original.
			attempt := msg.Copy()
			attempt.SetContext(ctx)
			done := make(chan handlerOutcome, 1)
			go func() {
				out, err := h(attempt)
				done <- handlerOutcome{out, err}
			}()
			timedOut := func() error {
				return failf(ErrAttemptTimeout, "attempt of %s ran past its %s timeout and was cancelled", capability, d)
			}
			select {
			case o := <-done:
				if o.err != nil && ctx.Err() == context.DeadlineExceeded {
					return nil, timedOut()
				}
				return o.msgs, o.err
			case <-ctx.Done():
			}
			// Cancelled: wait for the attempt to stop.
			grace := time.NewTimer(r.cfg.CancelGrace)
			defer grace.Stop()
			select {
			case <-done:
			case <-grace.C:
				r.leaked(capability, d)
			}
			if ctx.Err() == context.DeadlineExceeded {
				return nil, timedOut()
			}
			return nil, ctx.Err()
		}
	}
}

// leaked records an attempt that did not stop within the grace after its
// context was cancelled.
func (r *AgentRouter) leaked(capability string, timeout time.Duration) {
	r.log.Error("abandoned an attempt that kept running after its context was cancelled",
		"capability", capability, "timeout", timeout, "grace", r.cfg.CancelGrace)
	if r.metrics != nil {
		r.metrics.leaked.WithLabelValues(capability).Inc()
	}
}
