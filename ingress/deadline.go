package ingress

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dawsos/dawsos/agents"
)

// localPeerWatch holds the request's *peerWatch, so that a handler that
// gives the request a context of its own (waitContext) has it cancelled
// when the client leaves as well.
const localPeerWatch = "peer_watch"

// requestContext runs every request under a context whose deadline is
// server.request_timeout and which is cancelled when the client closes its
// connection, so the orchestrator's and storage's work for it stops. An
// error a handler returns because its context ended becomes the timeout
// problem (504), or canceled (499) when the client left.
func (s *Server) requestContext(c *fiber.Ctx) error {
	start := time.Now()
	ctx, cancel := context.WithDeadline(c.UserContext(), start.Add(s.cfg.RequestTimeout))
	defer cancel()
	c.SetUserContext(ctx)
	peer := watchPeer(c.Context().Conn(), cancel)
	if peer != nil {
		// Deferred, so that a panicking handler also ends the watch
		// before fasthttp reuses or closes the connection.
		defer peer.release()
		c.Locals(localPeerWatch, peer)
	}

	err := c.Next()
	if peer.gone() {
		s.log.Debug("http client closed the connection; its request was cancelled", "method", c.Method(), "path", c.Path(),
			"correlation_id", correlationOf(c), "duration_ms", float64(time.Since(start).Microseconds())/1000)
		if err != nil {
			// Nobody reads this answer; the status tells the access log
			// and the metrics what happened.
			return agents.Errorf(agents.CodeCanceled, "the client closed the connection before %s %s finished", c.Method(), c.Path())
		}
		return nil
	}
	if err == nil {
		return nil
	}
	// The handler may have replaced the context (waitContext); its own
	// deadline is the one that counts.
	uctx := c.UserContext()
	if !errors.Is(uctx.Err(), context.DeadlineExceeded) || !cutOff(err) {
		return err
	}
	budget, which := s.cfg.RequestTimeout, "server.request_timeout"
	if d, ok := uctx.Deadline(); ok && d.Sub(start) != s.cfg.RequestTimeout {
		budget, which = d.Sub(start), "the wait plus server.request_timeout"
	}
	return agents.Errorf(agents.CodeTimeout, "%s %s did not finish within its deadline of %s (%s)",
		c.Method(), c.Path(), budget.Round(time.Millisecond), which)
}

// cutOff reports whether err is what a handler returns when its context
// ends under it: a context error, or a query or call the deadline
// interrupted (PostgreSQL's query_canceled is a timeout, a cut connection
// unavailable). A definite answer that merely came late, such as a 404 or
// a validation problem, keeps its own status.
func cutOff(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	switch agents.Classify(err).Code {
	case agents.CodeTimeout, agents.CodeCanceled, agents.CodeUnavailable:
		return true
	}
	return false
}

// waitContext makes the request's context one whose deadline covers wait
// on top of the normal request timeout, both counted from the start of the
// request, and returns it; the caller cancels it when it is done. A
// context's deadline cannot be moved later, so the new one does not derive
// its cancellation from the old; it is cancelled when the client leaves
// all the same.
func waitContext(c *fiber.Ctx, wait time.Duration) (context.Context, context.CancelFunc) {
	cur := c.UserContext()
	deadline, ok := cur.Deadline()
	if !ok {
		// Not under requestContext (never, as the app is built): there
		// is no deadline to extend.
		return context.WithCancel(cur)
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(cur), deadline.Add(wait))
	if peer, ok := c.Locals(localPeerWatch).(*peerWatch); ok {
		peer.addCancel(cancel)
	}
	c.SetUserContext(ctx)
	return ctx, cancel
}
