package bus

import (
	"github.com/ThreeDotsLabs/watermill/message"
)

// breakerMiddleware fails fast with circuit_open while the capability's
// breaker is open. It sits outside retry, so it counts a step that failed
// after its retries, not each attempt. Only retryable failures (timeouts,
// panics, infrastructure errors) count: a final error such as invalid
// input says nothing about the capability's health, and counts as a
// healthy answer. Which failures count is the classifier's decision.
func (r *AgentRouter) breakerMiddleware(b *Breaker) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			ok, probe := b.Allow()
			if !ok {
				return nil, failf(ErrCircuitOpen, "circuit breaker of %s is open", b.name)
			}
			base := msg.Context()
			out, err := h(msg)
			// A step cut short because the process is stopping says nothing
			// about the capability: it is neither a failure nor a success.
			counted := err != nil && r.classify(err).Counted && base.Err() == nil
			if err != nil && base.Err() != nil && probe {
				b.Abandon()
				return out, err
			}
			b.Done(probe, counted)
			return out, err
		}
	}
}
