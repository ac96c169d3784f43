package agents

import (
	"context"
	"errors"
	"fmt"

	"github.com/dawsos/dawsos/storage"
)

// FromStorage classifies an error from the storage package for a
// capability: missing data is final (another attempt finds the same
// data), a busy or unreachable database is retryable.
func FromStorage(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf(format, args...)
	var ae *Error
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, storage.ErrMissingPrice):
		return Wrap(CodeMissingPrice, err, "%s", what)
	case errors.Is(err, storage.ErrMissingFX):
		return Wrap(CodeMissingFX, err, "%s", what)
	case errors.Is(err, storage.ErrNoFreshPack), errors.Is(err, storage.ErrPackNotFinal):
		return Wrap(CodePricingPackWarming, err, "%s", what)
	case errors.Is(err, storage.ErrNotFound):
		return Wrap(CodeNotFound, err, "%s", what)
	case errors.Is(err, storage.ErrInsufficientQuantity), errors.Is(err, storage.ErrInvalidTransaction):
		return Wrap(CodeInvalidInput, err, "%s", what)
	case errors.Is(err, storage.ErrAcquireTimeout):
		return Wrap(CodeUnavailable, err, "%s", what)
	case errors.Is(err, context.DeadlineExceeded):
		return Wrap(CodeTimeout, err, "%s", what)
	}
	return Wrap(CodeInternal, err, "%s", what)
}
