// Package agents holds the capability registry, the Spec every capability is
// registered with, the run context handed to each invocation and the error
// type whose code decides retry, breaker counting and dead-lettering. One
// subpackage per agent registers that agent's capabilities.
package agents

import (
	"errors"
	"fmt"
)

// Error is the error every capability returns. Its code is a stable wire
// name (see codes.go); Retryable says whether another attempt may succeed.
type Error struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Retryable bool   `json:"retryable"`
	// Field names the input field at fault, when there is one.
	Field string `json:"field,omitempty"`
	cause error
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (field %s)", e.Code, e.Message, e.Field)
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// ErrorCode and IsRetryable let the bus classify the error without importing
// this package.
func (e *Error) ErrorCode() string { return e.Code }

// IsRetryable reports whether another attempt may succeed.
func (e *Error) IsRetryable() bool { return e.Retryable }

// Errorf returns an error with the code's default retryability.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Retryable: Retryable(code)}
}

// FieldError is an invalid_input error naming the field at fault.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidInput, Message: fmt.Sprintf(format, args...), Field: field}
}

// Wrap attaches a code to a cause; the message is the cause's text prefixed
// with what was being done.
func Wrap(code string, cause error, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if cause != nil {
		msg += ": " + cause.Error()
	}
	return &Error{Code: code, Message: msg, Retryable: Retryable(code), cause: cause}
}

// AsError returns err as an *Error, classifying foreign errors as retryable
// internal errors: an unexpected failure may be transient, and the breaker
// and retry limits bound the cost of trying again.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Message: err.Error(), Retryable: true, cause: err}
}

// PublicMessage is the message without the code prefix, for envelopes
// that carry the code separately.
func (e *Error) PublicMessage() string { return e.Message }

// FieldName names the input field at fault, if any.
func (e *Error) FieldName() string { return e.Field }
