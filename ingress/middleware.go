package ingress

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// HeaderCorrelationID carries the correlation id in both directions.
const HeaderCorrelationID = "X-Correlation-ID"

const localCorrelation = "correlation_id"

// validCorrelation accepts at most 128 characters of [A-Za-z0-9._:-], so
// an echoed id can go into logs, headers and subjects without escaping.
func validCorrelation(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9',
			ch == '.', ch == '_', ch == ':', ch == '-':
		default:
			return false
		}
	}
	return true
}

// correlationOf returns the request's correlation id, choosing it (echo or
// new) on first use and setting the response header.
func correlationOf(c *fiber.Ctx) string {
	if v, ok := c.Locals(localCorrelation).(string); ok && v != "" {
		return v
	}
	id := c.Get(HeaderCorrelationID)
	if !validCorrelation(id) {
		id = uuid.NewString()
	}
	c.Locals(localCorrelation, id)
	c.Set(HeaderCorrelationID, id)
	return id
}

// correlation assigns the correlation id before anything else runs.
func (s *Server) correlation(c *fiber.Ctx) error {
	correlationOf(c)
	return c.Next()
}

// accessLog handles the error of the rest of the chain here (so the status
// is known) and logs every request at debug level.
func (s *Server) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	if err := c.Next(); err != nil {
		if herr := s.handleError(c, err); herr != nil {
			return herr
		}
	}
	if s.log.Enabled(c.UserContext(), slog.LevelDebug) {
		s.log.Debug("http request", "method", c.Method(), "path", c.Path(), "status", c.Response().StatusCode(),
			"duration_ms", float64(time.Since(start).Microseconds())/1000, "correlation_id", correlationOf(c),
			"remote_addr", c.IP())
	}
	return nil
}

// recoverPanic turns a handler's panic into a 500 problem; the stack goes
// to the log once, with the correlation id.
func (s *Server) recoverPanic(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("handler panicked", "panic", fmt.Sprint(r), "correlation_id", correlationOf(c),
				"method", c.Method(), "path", c.Path(), "stack", string(debug.Stack()))
			err = errPanicked
		}
	}()
	return c.Next()
}

// errPanicked is returned for a recovered panic, already logged; it maps
// to the generic 500 problem.
var errPanicked = &panicError{}

type panicError struct{}

func (*panicError) Error() string { return "handler panicked" }
