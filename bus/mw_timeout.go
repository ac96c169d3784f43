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

// timeoutMiddleware bounds one attempt. The attempt runs in its own
// goroutine so that a capability that ignores its context still cannot hold
// the step past the deadline: the step fails with a retryable timeout and
// the late goroutine's answer is dropped.
func timeoutMiddleware(d time.Duration) message.HandlerMiddleware {
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
			select {
			case o := <-done:
				if o.err != nil && ctx.Err() == context.DeadlineExceeded {
					return nil, stepErrorf(codeTimeout, true, "attempt ran past its %s timeout", d)
				}
				return o.msgs, o.err
			case <-ctx.Done():
				if ctx.Err() == context.DeadlineExceeded {
					return nil, stepErrorf(codeTimeout, true, "attempt ran past its %s timeout", d)
				}
				return nil, ctx.Err()
			}
		}
	}
}
