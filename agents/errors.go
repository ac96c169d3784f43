// Package agents holds the capability registry, the Spec every capability is
// registered with, the run context handed to each invocation and the error
// type whose code decides retry, breaker counting and dead-lettering. One
// subpackage per agent defines that agent's capabilities, one file each.
package agents

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dawsos/dawsos/quant"
	"github.com/dawsos/dawsos/storage"
)

// Error is the error every capability returns. Its code is a stable wire
// name (see codes.go); Retryable says whether another attempt may succeed.
type Error struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Retryable bool   `json:"retryable"`
	// Field names the input field at fault, when there is one.
	Field string `json:"field,omitempty"`
	// Fields lists every field at fault, when there are several.
	Fields []FieldIssue `json:"fields,omitempty"`
	cause  error
}

// FieldIssue is one field of an input at fault.
type FieldIssue struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (field %s)", e.Code, e.Message, e.Field)
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// Errorf returns an error with the code's default retryability.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Retryable: Retryable(code)}
}

// FieldError is an invalid_input error naming the field at fault.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidInput, Message: fmt.Sprintf(format, args...), Field: field}
}

// InsufficientData is an insufficient_data error that says how much data
// was found and how much the computation needs.
func InsufficientData(what string, found, needed int) *Error {
	return Errorf(CodeInsufficientData, "%s: found %d, need at least %d", what, found, needed)
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

// Classify turns any error into an *Error. It is the one place where
// errors from outside the agents (storage sentinels, PostgreSQL errors,
// context errors) get their codes; the bus adapter and the HTTP edge both
// go through it. An error chain that holds an *Error keeps that error's
// code, however deeply it is wrapped. Anything unrecognised is a
// retryable internal error: an unexpected failure may be transient, and
// the retry and breaker limits bound the cost of trying again.
func Classify(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		outer, inner := err.Error(), e.Error()
		if outer == inner || !strings.HasSuffix(outer, inner) {
			return e
		}
		// Keep the context the wrapping added ("value AAPL: ...").
		c := *e
		c.Message = outer[:len(outer)-len(inner)] + e.Message
		return &c
	}
	code := CodeInternal
	var pgErr *pgconn.PgError
	var netErr net.Error
	switch {
	case errors.Is(err, storage.ErrMissingPrice):
		code = CodeMissingPrice
	case errors.Is(err, storage.ErrMissingFX):
		code = CodeMissingFX
	case errors.Is(err, storage.ErrNoFreshPack), errors.Is(err, storage.ErrPackNotFinal):
		code = CodePricingPackWarming
	case errors.Is(err, storage.ErrNotFound):
		code = CodeNotFound
	case errors.Is(err, storage.ErrAlreadyExists):
		code = CodeConflict
	case errors.Is(err, storage.ErrInsufficientQuantity), errors.Is(err, storage.ErrInvalidTransaction):
		code = CodeInvalidInput
	case errors.Is(err, storage.ErrAcquireTimeout):
		code = CodeUnavailable
	case errors.Is(err, quant.ErrEmpty), errors.Is(err, quant.ErrZeroVariance), errors.Is(err, quant.ErrSingular):
		// The data do not support the computation (too few observations,
		// no variation): another attempt finds the same data.
		code = CodeInsufficientData
	case errors.Is(err, quant.ErrNoConvergence):
		// The data were enough; the method was not. Not insufficient_data,
		// which would send the reader looking for missing rows.
		code = CodeNoConvergence
	case errors.Is(err, quant.ErrInfeasible), errors.Is(err, quant.ErrInvalid):
		code = CodeInvalidInput
	case errors.Is(err, context.DeadlineExceeded):
		code = CodeTimeout
	case errors.Is(err, context.Canceled):
		code = CodeCanceled
	case storage.IsUnreachable(err):
		code = CodeDatabaseUnavailable
	case errors.As(err, &pgErr):
		code = pgCode(pgErr.Code)
	case pgconn.SafeToRetry(err), errors.As(err, &netErr):
		code = CodeUnavailable
	}
	return &Error{Code: code, Message: err.Error(), Retryable: Retryable(code), cause: err}
}

// pgCode maps a PostgreSQL SQLSTATE to a code: classes 08 (connection), 53
// (resources), 57 (operator intervention, such as a restart) and 40
// (serialisation failures, deadlocks) are worth another attempt; 22 (bad
// data) is the input's fault; 23 (integrity) is a conflict.
func pgCode(state string) string {
	if len(state) < 2 {
		return CodeInternal
	}
	switch state[:2] {
	case "08", "53", "40":
		return CodeUnavailable
	case "57":
		if state == "57014" { // query_canceled: a statement or attempt timeout
			return CodeTimeout
		}
		return CodeUnavailable
	case "22":
		return CodeInvalidInput
	case "23":
		return CodeConflict
	}
	return CodeInternal
}
