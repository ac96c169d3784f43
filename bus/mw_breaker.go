package bus

import (
	"github.com/ThreeDotsLabs/watermill/message"
)

// breakerMiddleware fails fast with circuit_open while the capability's
// breaker is open. It sits outside retry, so it counts a step that failed
// after its retries, not each attempt. Only retryable failures (timeouts,
// panics, infrastructure errors) count: a final error such as invalid
// input says nothing about the capability's health, and counts as a
// healthy answer.
func breakerMiddleware(b *Breaker) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			ok, probe := b.Allow()
			if !ok {
				return nil, stepErrorf(codeCircuitOpen, false, "circuit breaker of %s is open", b.name)
			}
			out, err := h(msg)
			counted := err != nil && toStepError(err).Retryable
			b.Done(probe, counted)
			return out, err
		}
	}
}
