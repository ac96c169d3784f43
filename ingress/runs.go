package ingress

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/nats-io/nats.go"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/patterns"
	"github.com/dawsos/dawsos/storage"
)

// submitBody is the body of POST /v1/runs; decoded strictly.
type submitBody struct {
	Pattern        string                     `json:"pattern"`
	Inputs         map[string]json.RawMessage `json:"inputs"`
	IdempotencyKey string                     `json:"idempotency_key"`
	AsOfDate       string                     `json:"asof_date"`
	AllowStalePack bool                       `json:"allow_stale_pack"`
}

// runLinks are where a client goes next.
type runLinks struct {
	Self   string `json:"self"`
	Events string `json:"events"`
	Cancel string `json:"cancel"`
}

func linksOf(runID string) runLinks {
	self := "/v1/runs/" + runID
	return runLinks{Self: self, Events: self + "/events", Cancel: self + "/cancel"}
}

type acceptedRun struct {
	RunID  string   `json:"run_id"`
	Status string   `json:"status"`
	Links  runLinks `json:"links"`
}

// runWithLinks is the document answered to ?wait.
type runWithLinks struct {
	*orchestrator.RunDocument
	Links runLinks `json:"links"`
}

func (s *Server) submitRun(c *fiber.Ctx) error {
	var wait time.Duration
	if v := c.Query("wait"); v != "" {
		d, err := parseWait(v)
		if err != nil {
			return err
		}
		wait = min(d, s.cfg.WaitMax)
	}
	var body submitBody
	if err := decodeBody(c, &body, false); err != nil {
		return err
	}
	if body.Pattern == "" {
		return &agents.Error{Code: agents.CodeInvalidInput, Message: "field pattern is required",
			Fields: []agents.FieldIssue{{Field: "pattern", Code: patterns.FieldMissing, Message: "field pattern is required"}}}
	}
	if err := s.checkPortfolioRefs(c, "inputs", body.Inputs); err != nil {
		return err
	}
	cid := correlationOf(c)
	ctx := c.UserContext()
	if wait > 0 {
		// The deadline covers the submission (the normal request
		// timeout) and then the wait.
		var cancel context.CancelFunc
		ctx, cancel = waitContext(c, wait)
		defer cancel()
	}
	p := principalOf(c)
	sub, err := s.deps.Engine.Submit(ctx, orchestrator.SubmitRequest{
		Pattern: body.Pattern, Inputs: body.Inputs, IdempotencyKey: scopedKey(p, body.IdempotencyKey),
		AsOfDate: body.AsOfDate, AllowStalePack: body.AllowStalePack, CorrelationID: cid,
		// The submitter comes from the credential, never from the body.
		UserID: p.UserID.String(),
	})
	if err != nil {
		return err
	}
	links := linksOf(sub.RunID)
	c.Location(links.Self)
	if wait > 0 {
		doc, ended, err := s.waitRun(ctx, sub.RunID, wait)
		if err != nil {
			return err
		}
		status := http.StatusAccepted
		if ended {
			status = http.StatusOK
		}
		return writeJSON(c, status, runWithLinks{RunDocument: doc, Links: links})
	}
	doc, err := s.deps.Engine.Get(ctx, sub.RunID)
	if err != nil {
		return err
	}
	status := http.StatusAccepted
	if sub.Existing {
		status = http.StatusOK
	}
	return writeJSON(c, status, acceptedRun{RunID: sub.RunID, Status: doc.Status, Links: links})
}

// batchBody is the body of POST /v1/runs:batch.
type batchBody struct {
	Runs []submitBody `json:"runs"`
}

// acceptedBatchRun is one run of an accepted batch. Existing says its
// idempotency key named an earlier run (or an earlier item of the batch).
type acceptedBatchRun struct {
	RunID    string   `json:"run_id"`
	Existing bool     `json:"existing"`
	Links    runLinks `json:"links"`
}

// submitBatch accepts up to server.batch_max runs in one transaction: all
// of them, or none with every item's problem listed by index
// (runs[i].<field>). An operator's "overview of every portfolio" is one
// call and one commit.
func (s *Server) submitBatch(c *fiber.Ctx) error {
	var body batchBody
	if err := decodeBody(c, &body, false); err != nil {
		return err
	}
	switch {
	case len(body.Runs) == 0:
		return &agents.Error{Code: agents.CodeInvalidInput, Message: "field runs needs at least one run", Field: "runs",
			Fields: []agents.FieldIssue{{Field: "runs", Code: patterns.FieldMissing, Message: "field runs needs at least one run"}}}
	case len(body.Runs) > s.cfg.BatchMax:
		msg := fmt.Sprintf("a batch holds at most %d runs (server.batch_max), this one %d", s.cfg.BatchMax, len(body.Runs))
		return &agents.Error{Code: agents.CodeInvalidInput, Message: msg, Field: "runs",
			Fields: []agents.FieldIssue{{Field: "runs", Code: patterns.FieldInvalid, Message: msg}}}
	}
	var missing []agents.FieldIssue
	for i, r := range body.Runs {
		if r.Pattern == "" {
			f := fmt.Sprintf("runs[%d].pattern", i)
			missing = append(missing, agents.FieldIssue{Field: f, Code: patterns.FieldMissing, Message: "field " + f + " is required"})
		}
	}
	if len(missing) > 0 {
		return &agents.Error{Code: agents.CodeInvalidInput, Field: missing[0].Field, Fields: missing,
			Message: fmt.Sprintf("%d of the %d runs of the batch name no pattern; none was accepted", len(missing), len(body.Runs))}
	}
	p := principalOf(c)
	cid := correlationOf(c)
	reqs := make([]orchestrator.SubmitRequest, len(body.Runs))
	for i, r := range body.Runs {
		if err := s.checkPortfolioRefs(c, fmt.Sprintf("runs[%d].inputs", i), r.Inputs); err != nil {
			return err
		}
		reqs[i] = orchestrator.SubmitRequest{
			Pattern: r.Pattern, Inputs: r.Inputs, IdempotencyKey: scopedKey(p, r.IdempotencyKey),
			AsOfDate: r.AsOfDate, AllowStalePack: r.AllowStalePack, CorrelationID: cid,
			UserID: p.UserID.String(),
		}
	}
	subs, err := s.deps.Engine.SubmitBatch(c.UserContext(), reqs)
	if err != nil {
		return err
	}
	out := make([]acceptedBatchRun, len(subs))
	for i, sub := range subs {
		out[i] = acceptedBatchRun{RunID: sub.RunID, Existing: sub.Existing, Links: linksOf(sub.RunID)}
	}
	return writeJSON(c, http.StatusAccepted, map[string]any{"runs": out})
}

// scopedKey puts an idempotency key in its user's namespace, so that one
// user's key can neither name nor block another user's run.
func scopedKey(p *Principal, key string) string {
	if key == "" {
		return ""
	}
	return p.UserID.String() + "/" + key
}

// parseWait accepts a Go duration ("30s", "1m") or whole seconds ("30").
func parseWait(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, paramError("wait", patterns.FieldInvalid, fmt.Sprintf("query parameter wait must be a duration such as 30s, got %q", v))
	}
	return d, nil
}

// runWatch wakes a waiter when a run may have changed: at a change made by
// this process (Engine.Changed), at a run event published by any process
// (the run's NATS subject), and every poll interval as a fallback.
type runWatch struct {
	s       *Server
	runID   string
	sub     *nats.Subscription
	natsCh  chan struct{}
	changed <-chan struct{}
	unwatch func()
	tick    *time.Ticker
}

func (s *Server) watchRun(runID string) *runWatch {
	w := &runWatch{s: s, runID: runID, natsCh: make(chan struct{}, 1), tick: time.NewTicker(s.cfg.Poll)}
	if s.deps.Bus != nil && s.deps.Bus.Conn != nil {
		sub, err := s.deps.Bus.Conn.Subscribe(bus.EventSubject(runID, ">"), func(*nats.Msg) {
			select {
			case w.natsCh <- struct{}{}:
			default:
			}
		})
		if err != nil {
			// The poll interval still bounds the delay.
			s.log.Warn("subscribe to run events", "run_id", runID, "err", err)
		} else {
			w.sub = sub
		}
	}
	return w
}

// wait blocks until something may have changed (true), or until extra or
// ctx ends or the server stops (false). The engine's change channel is
// kept until it fires, so a long wait registers one waiter, not one per
// tick.
func (w *runWatch) wait(ctx context.Context, extra <-chan time.Time, keepAlive <-chan time.Time) (changed, alive bool) {
	if w.changed == nil {
		w.changed, w.unwatch = w.s.deps.Engine.Changed(w.runID)
	}
	select {
	case <-w.changed:
		w.changed, w.unwatch = nil, nil
		return true, false
	case <-w.natsCh:
		return true, false
	case <-w.tick.C:
		return true, false
	case <-keepAlive:
		return false, true
	case <-extra:
		return false, false
	case <-ctx.Done():
		return false, false
	case <-w.s.stopping:
		return false, false
	}
}

func (w *runWatch) close() {
	w.tick.Stop()
	if w.unwatch != nil {
		w.unwatch()
	}
	if w.sub != nil {
		_ = w.sub.Unsubscribe()
	}
}

// waitRun waits up to d for the run to end and returns its document, and
// whether it ended. When ctx ends first (the client went away, or a read
// ran past the deadline) it returns ctx's error; when the server stops, the
// document so far.
func (s *Server) waitRun(ctx context.Context, runID string, d time.Duration) (*orchestrator.RunDocument, bool, error) {
	w := s.watchRun(runID) // subscribed before the first read: no change is missed
	defer w.close()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		doc, err := s.deps.Engine.Get(ctx, runID)
		if err != nil {
			return nil, false, err
		}
		if doc.Status != storage.RunRunning {
			return doc, true, nil
		}
		if changed, _ := w.wait(ctx, deadline.C, nil); !changed {
			if err := ctx.Err(); err != nil {
				return nil, false, fmt.Errorf("wait for run %s: %w", runID, err)
			}
			return doc, false, nil
		}
	}
}

func (s *Server) listRuns(c *fiber.Ctx) error {
	limit, err := limitQuery(c, 50, 500)
	if err != nil {
		return err
	}
	before, err := timeQuery(c, "before")
	if err != nil {
		return err
	}
	status := c.Query("status")
	switch status {
	case "", storage.RunRunning, storage.RunSucceeded, storage.RunPartial, storage.RunFailed, storage.RunCanceled:
	default:
		return paramError("status", patterns.FieldInvalid, fmt.Sprintf("query parameter status must be one of running, succeeded, partial, failed, canceled, got %q", status))
	}
	runs, err := s.deps.Engine.List(c.UserContext(), storage.RunFilter{Pattern: c.Query("pattern"), Status: status,
		UserID: ownRunsOnly(c), Before: before, Limit: limit})
	if err != nil {
		return err
	}
	out := struct {
		Runs []orchestrator.RunSummary `json:"runs"`
		// NextBefore pages on: pass it as ?before= for the next, older page.
		NextBefore string `json:"next_before,omitempty"`
	}{Runs: runs}
	if len(runs) == limit {
		out.NextBefore = runs[len(runs)-1].CreatedAt.Format(time.RFC3339Nano)
	}
	return writeJSON(c, http.StatusOK, out)
}

func (s *Server) getRun(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	doc, err := s.deps.Engine.Get(c.UserContext(), id)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, runWithLinks{RunDocument: doc, Links: linksOf(id)})
}

func (s *Server) cancelRun(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	if err := s.deps.Engine.Cancel(ctx, id); err != nil {
		return err
	}
	doc, err := s.deps.Engine.Get(ctx, id)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, runWithLinks{RunDocument: doc, Links: linksOf(id)})
}
