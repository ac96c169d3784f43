package bus

import (
	"errors"
	"fmt"
)

// The bus raises failures of its own (an attempt past its timeout, a
// panic, an open breaker, a message it cannot decode) as these sentinels,
// and never names error codes: the classifier it is given (the engine's
// one table of codes) decides each failure's code, whether it is retried
// and whether it counts towards the breaker.
var (
	// ErrAttemptTimeout: the attempt ran past its timeout and was cancelled.
	ErrAttemptTimeout = errors.New("attempt ran past its timeout")
	// ErrPanicked: the capability panicked.
	ErrPanicked = errors.New("capability panicked")
	// ErrCircuitOpen: the capability's breaker is open; the step failed fast.
	ErrCircuitOpen = errors.New("circuit breaker is open")
	// ErrUndecodable: a message is not a valid envelope.
	ErrUndecodable = errors.New("undecodable message")
)

// Classifier turns any error into a StepError: its code, message, whether
// another attempt may succeed and whether it counts towards the breaker.
// It must handle the sentinels above.
type Classifier func(err error) *StepError

func (r *AgentRouter) classify(err error) *StepError {
	var se *StepError
	if errors.As(err, &se) {
		return se
	}
	return r.cfg.Classify(err)
}

func failf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}
