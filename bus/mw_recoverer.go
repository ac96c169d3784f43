package bus

import (
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/ThreeDotsLabs/watermill/message"
)

// recoverer turns a panic in a capability into a retryable error with code
// panic; it is the innermost middleware, so the panic is retried and
// counted by the breaker like any other transient failure.
func recoverer(h message.HandlerFunc) (handler message.HandlerFunc) {
	return func(msg *message.Message) (out []*message.Message, err error) {
		defer func() {
			if r := recover(); r != nil {
				slog.Error("capability panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				out, err = nil, &StepError{Code: codePanic, Message: fmt.Sprintf("panic: %v", r), Retryable: true}
			}
		}()
		return h(msg)
	}
}
