package bus

import (
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
)

// retryMiddleware retries retryable errors, up to maxAttempts in all, with
// back-off initial, 2×initial, 4×initial, ... (1 s, 2 s, 4 s by default)
// and no jitter. ResetContextOnRetry gives each attempt a live context: the
// timeout middleware inside cancels the previous one.
func retryMiddleware(maxAttempts int, initial time.Duration) message.HandlerMiddleware {
	if maxAttempts < 1 {
		maxAttempts = 1
	}
	r := middleware.Retry{
		MaxRetries:          maxAttempts - 1,
		InitialInterval:     initial,
		Multiplier:          2,
		MaxInterval:         initial << 10,
		RandomizationFactor: 0,
		ResetContextOnRetry: true,
		ShouldRetry: func(p middleware.RetryParams) bool {
			return toStepError(p.Err).Retryable
		},
	}
	return r.Middleware
}
