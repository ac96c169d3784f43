package bus

import (
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// retryMiddleware retries retryable errors, up to maxAttempts in all, after
// waiting initial, 2×initial, 4×initial, ... (1 s, 2 s, 4 s by default),
// without jitter. Each attempt starts from the context the middleware was
// given, since the timeout middleware inside cancels the previous one's.
// A cancelled message context (the process is stopping) ends the retries.
//
// watermill's own Retry is not used: it draws the delay it reports to
// ShouldRetry from the same back-off it then waits on, so the waits become
// 2 s and 8 s instead of 1 s and 2 s.
func (r *AgentRouter) retryMiddleware(maxAttempts int, initial time.Duration) message.HandlerMiddleware {
	if maxAttempts < 1 {
		maxAttempts = 1
	}
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			base := msg.Context()
			for attempt := 1; ; attempt++ {
				msg.SetContext(base)
				out, err := h(msg)
				if err == nil || attempt == maxAttempts || !r.classify(err).Retryable || base.Err() != nil {
					msg.SetContext(base)
					return out, err
				}
				t := time.NewTimer(retryWait(initial, attempt))
				select {
				case <-t.C:
				case <-base.Done():
					t.Stop()
					msg.SetContext(base)
					return nil, err
				}
			}
		}
	}
}

// retryWait is the wait after the given failed attempt (1-based):
// initial, 2×initial, 4×initial, ...
func retryWait(initial time.Duration, attempt int) time.Duration {
	return initial << (attempt - 1)
}
