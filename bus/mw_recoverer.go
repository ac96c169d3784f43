package bus

import (
	"log/slog"
	"runtime/debug"

	"github.com/ThreeDotsLabs/watermill/message"
)

// recoverer turns a panic in a capability into an ErrPanicked failure; it
// is the innermost middleware, so the panic is retried and counted by the
// breaker like any other transient failure (as the classifier decides).
func recoverer(h message.HandlerFunc) (handler message.HandlerFunc) {
	return func(msg *message.Message) (out []*message.Message, err error) {
		defer func() {
			if r := recover(); r != nil {
				slog.Error("capability panicked", "panic", r, "stack", string(debug.Stack()))
				out, err = nil, failf(ErrPanicked, "panic: %v", r)
			}
		}()
		return h(msg)
	}
}
