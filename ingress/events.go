package ingress

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/patterns"
	"github.com/dawsos/dawsos/storage"
)

// eventBatch bounds one read of a run's events.
const eventBatch = 500

// runEvents streams a run's events as Server-Sent Events. Events come from
// PostgreSQL in seq order, so a client that reconnects with Last-Event-ID
// (or ?after=) gets exactly the events it has not seen. The stream ends
// after run.completed when the run has ended, when the client goes away,
// or when the server shuts down. The handler's first read has the normal
// request deadline; the stream has none overall, but each of its reads
// gets server.request_timeout.
func (s *Server) runEvents(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	after, err := resumePoint(c)
	if err != nil {
		return err
	}
	// The first read happens here, so an unknown run is a 404 problem
	// rather than an empty stream.
	evs, status, err := s.deps.Engine.Events(c.UserContext(), id, after, eventBatch)
	if err != nil {
		return err
	}
	cid := correlationOf(c)
	// The stream outlives the handler and so the request's context, which
	// ends when the handler returns; it keeps the context's values only.
	ctx := context.WithoutCancel(c.UserContext())
	conn := c.Context().Conn()
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderConnection, "keep-alive")
	c.Set("X-Accel-Buffering", "no")
	c.Status(fiber.StatusOK)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		s.stream(ctx, w, conn, id, cid, after, evs, status)
	})
	return nil
}

// resumePoint reads Last-Event-ID, or else ?after=, as the last seq seen.
func resumePoint(c *fiber.Ctx) (int64, error) {
	name, v := "Last-Event-ID", c.Get("Last-Event-ID")
	if v == "" {
		name, v = "after", c.Query("after")
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, paramError(name, patterns.FieldInvalid, fmt.Sprintf("%s must be a non-negative event sequence number, got %q", name, v))
	}
	return n, nil
}

// stream writes events until the run has ended and run.completed was sent.
// It runs after the handler has returned, so it uses only its arguments.
// It stops when the server stops, when a write fails, or when the client's
// connection closes (watched on conn, since a stream may be idle between
// keep-alives for a long time).
func (s *Server) stream(ctx context.Context, w *bufio.Writer, conn net.Conn, runID, cid string, after int64, evs []orchestrator.Event, status string) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	peer := watchPeer(conn, cancel)
	defer peer.release()
	defer func() { // before release, which forgets the peer's state
		if peer.gone() {
			s.log.Debug("event stream closed by the client", "run_id", runID, "correlation_id", cid, "err", errClientGone)
		}
	}()
	watch := s.watchRun(runID)
	defer watch.close()
	keepAlive := time.NewTicker(s.cfg.KeepAlive)
	defer keepAlive.Stop()
	// A reconnecting client learns how long to wait before retrying.
	if _, err := fmt.Fprintf(w, "retry: %d\n\n", s.cfg.Poll.Milliseconds()); err != nil || w.Flush() != nil {
		return
	}
	lastType := ""
	for {
		for _, ev := range evs {
			if err := writeEvent(w, ev); err != nil {
				s.log.Debug("event stream closed by the client", "run_id", runID, "correlation_id", cid, "err", err)
				return
			}
			after, lastType = ev.Seq, ev.Type
		}
		if len(evs) > 0 {
			if err := w.Flush(); err != nil {
				s.log.Debug("event stream closed by the client", "run_id", runID, "correlation_id", cid, "err", err)
				return
			}
		}
		// Status was read just before the events. A run ends and reopens
		// (on replay) in the same transaction that appends run.completed
		// or the reopening event, so a terminal status followed by no
		// newer event, or by run.completed as the last one, means the
		// stream has said everything. A later replay's events are picked
		// up by a new stream from Last-Event-ID.
		if len(evs) < eventBatch && status != storage.RunRunning && (len(evs) == 0 || lastType == "run.completed") {
			return
		}
		if len(evs) < eventBatch {
			for {
				changed, alive := watch.wait(ctx, nil, keepAlive.C)
				if changed {
					break
				}
				if !alive {
					return
				}
				if _, err := w.WriteString(": keep-alive\n\n"); err != nil {
					return
				}
				if err := w.Flush(); err != nil {
					s.log.Debug("event stream closed by the client", "run_id", runID, "correlation_id", cid, "err", err)
					return
				}
			}
		}
		rctx, rcancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
		var err error
		evs, status, err = s.deps.Engine.Events(rctx, runID, after, eventBatch)
		rcancel()
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("read run events for a stream", "run_id", runID, "correlation_id", cid, "err", err)
			}
			return
		}
	}
}

// writeEvent writes one event in the text/event-stream format. Event data
// is compact JSON from PostgreSQL (jsonb), so it holds no newline.
func writeEvent(w *bufio.Writer, ev orchestrator.Event) error {
	_, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: ", ev.Seq, ev.Type)
	if err != nil {
		return err
	}
	if _, err := w.Write(eventData(ev)); err != nil {
		return err
	}
	_, err = w.WriteString("\n\n")
	return err
}

// sseEvent is the data of one SSE event: the same envelope as the run's
// NATS subject carries.
type sseEvent struct {
	RunID  string          `json:"run_id"`
	Seq    int64           `json:"seq"`
	Type   string          `json:"type"`
	StepID string          `json:"step_id,omitempty"`
	Data   json.RawMessage `json:"data"`
	At     time.Time       `json:"at"`
}

func eventData(ev orchestrator.Event) []byte {
	b, err := json.Marshal(sseEvent{RunID: ev.RunID, Seq: ev.Seq, Type: ev.Type, StepID: ev.StepID, Data: ev.Data, At: ev.CreatedAt})
	if err != nil {
		// Data comes from a jsonb column, so it is valid JSON; keep the
		// stream going with the envelope alone if it ever is not.
		b, _ = json.Marshal(sseEvent{RunID: ev.RunID, Seq: ev.Seq, Type: ev.Type, StepID: ev.StepID, Data: json.RawMessage("null"), At: ev.CreatedAt})
	}
	return b
}
