package bus

import (
	"context"
	"errors"
	"fmt"
)

// coded is implemented by errors that carry a wire code (agents.Error,
// StepError). The bus classifies errors through it without importing the
// agents package.
type coded interface {
	ErrorCode() string
	IsRetryable() bool
}

// Error codes the bus itself produces. They match agents' codes table.
const (
	codeTimeout     = "timeout"
	codePanic       = "panic"
	codeCircuitOpen = "circuit_open"
	codeInternal    = "internal"
	codeUndecodable = "undecodable"
	codeInvalid     = "invalid_input"
)

// toStepError classifies any error: coded errors keep their code; a context
// deadline is a timeout; anything else is a retryable internal error.
func toStepError(err error) *StepError {
	var se *StepError
	if errors.As(err, &se) {
		return se
	}
	var c coded
	if errors.As(err, &c) {
		msg := err.Error()
		if m, ok := err.(interface{ PublicMessage() string }); ok {
			msg = m.PublicMessage()
		}
		se := &StepError{Code: c.ErrorCode(), Message: msg, Retryable: c.IsRetryable()}
		if f, ok := err.(interface{ FieldName() string }); ok {
			se.Field = f.FieldName()
		}
		return se
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &StepError{Code: codeTimeout, Message: err.Error(), Retryable: true}
	}
	return &StepError{Code: codeInternal, Message: err.Error(), Retryable: true}
}

func stepErrorf(code string, retryable bool, format string, args ...any) *StepError {
	return &StepError{Code: code, Message: fmt.Sprintf(format, args...), Retryable: retryable}
}
