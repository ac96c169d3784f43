package orchestrator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/patterns"
	"github.com/dawsos/dawsos/storage"
)

// SubmitRequest asks for a run of a pattern.
type SubmitRequest struct {
	Pattern        string                     `json:"pattern"`
	Inputs         map[string]json.RawMessage `json:"inputs"`
	IdempotencyKey string                     `json:"idempotency_key,omitempty"`
	// AsOfDate fixes the as-of date (YYYY-MM-DD); today (UTC) when empty.
	AsOfDate string `json:"asof_date,omitempty"`
	// AllowStalePack starts the run even without a fresh pricing pack.
	AllowStalePack bool   `json:"allow_stale_pack,omitempty"`
	CorrelationID  string `json:"-"`
	UserID         string `json:"-"`
}

// Submitted is the answer to a submission.
type Submitted struct {
	RunID string
	// Existing is true when the idempotency key named an earlier run.
	Existing bool
}

// Submit checks the inputs, fixes the run context and, in one transaction,
// writes the run, its steps and the dispatch of every step that is ready.
// The run is accepted once that transaction commits; publishing follows,
// and a crash between the two is repaired by Resume.
func (e *Engine) Submit(ctx context.Context, req SubmitRequest) (Submitted, error) {
	pr, err := e.prepare(req)
	if err != nil {
		return Submitted{}, err
	}
	if req.IdempotencyKey != "" {
		// Answer a repeated submission before resolving anything.
		if s, found, err := e.byIdempotencyKey(ctx, req.IdempotencyKey, pr.requestHash); found || err != nil {
			return s, err
		}
	}
	sc := agents.RunContext{AsOfDate: pr.req.AsOfDate, UserID: req.UserID}
	if e.cfg.Resolver != nil {
		if sc, err = e.cfg.Resolver.Resolve(ctx, pr.contextRequest()); err != nil {
			return Submitted{}, err
		}
	}
	nr := e.build(ctx, pr, sc)
	// The run, its steps with their first decisions already made, and its
	// first events go to the server in one batch: one round trip, and one
	// implicit transaction, shared with the submissions arriving meanwhile.
	nr.plan.events, err = e.writeNewRun(ctx, nr.changes)
	if err != nil {
		var pgErr *pgconn.PgError
		if req.IdempotencyKey != "" && errors.As(err, &pgErr) && pgErr.Code == "23505" {
			// A concurrent submission with the same key won the race.
			if s, found, err2 := e.byIdempotencyKey(ctx, req.IdempotencyKey, pr.requestHash); found || err2 != nil {
				return s, err2
			}
		}
		return Submitted{}, fmt.Errorf("submit run of %s: %w", pr.pattern.ID, err)
	}
	storage.AuditCommitted(ctx)
	e.versions.markStored(pr.pattern.Hash())
	e.afterCommit(ctx, nr.changes.RunID, nr.plan)
	e.countSubmitted(pr.pattern.ID, 1)
	return Submitted{RunID: nr.changes.RunID}, nil
}

// prepared is a submission whose pattern and inputs have been checked.
type prepared struct {
	req     SubmitRequest // the as-of date filled in
	pattern *patterns.Pattern
	inputs  map[string]any
	// requestHash fingerprints the request as the client gave it.
	requestHash string
}

// prepare checks a submission's pattern, inputs and as-of date.
func (e *Engine) prepare(req SubmitRequest) (prepared, error) {
	p, ok := e.patterns.Get(req.Pattern)
	if !ok {
		return prepared{}, &agents.Error{Code: agents.CodeNotFound, Message: fmt.Sprintf("no pattern %q", req.Pattern), Field: "pattern"}
	}
	inputs, ferrs := patterns.CheckInputs(p, req.Inputs)
	if len(ferrs) > 0 {
		return prepared{}, invalidFields("the inputs of pattern "+p.ID+" are invalid", "inputs", ferrs)
	}
	// The request as the client gave it, before defaults: the same key
	// with the same request returns the first run; with another request
	// it is refused, as payment APIs do.
	requestHash := fingerprint(p.ID, inputs, req.AsOfDate, req.AllowStalePack)
	if req.AsOfDate == "" {
		req.AsOfDate = time.Now().UTC().Format(time.DateOnly)
	} else if _, err := time.Parse(time.DateOnly, req.AsOfDate); err != nil {
		return prepared{}, agents.FieldError("asof_date", "asof_date %q is not YYYY-MM-DD", req.AsOfDate)
	}
	return prepared{req: req, pattern: p, inputs: inputs, requestHash: requestHash}, nil
}

func (pr prepared) contextRequest() ContextRequest {
	return ContextRequest{
		Pattern: pr.pattern, Inputs: pr.inputs, AsOfDate: pr.req.AsOfDate, UserID: pr.req.UserID,
		NeedsPack: referencesCtx(pr.pattern, "pricing_pack_id"), AllowStalePack: pr.req.AllowStalePack,
	}
}

// newRun is a run ready to be written: its rows and first decisions.
type newRun struct {
	changes storage.RunChanges
	plan    dispatchPlan
}

// build makes a new run of a prepared submission under its context: the
// run row, its steps with the first decisions made, and its first events.
func (e *Engine) build(ctx context.Context, pr prepared, sc agents.RunContext) newRun {
	p, req := pr.pattern, pr.req
	runID := uuid.NewString()
	sc.RunID = runID
	run := storage.RunRow{
		ID: runID, Pattern: p.ID, PatternHash: p.Hash(), Status: storage.RunRunning,
		Inputs: mustJSON(pr.inputs), Context: mustJSON(sc), CorrelationID: req.CorrelationID,
	}
	if run.CorrelationID == "" {
		run.CorrelationID = runID
	}
	if req.IdempotencyKey != "" {
		run.IdempotencyKey = &req.IdempotencyKey
		run.RequestHash = &pr.requestHash
	}
	if req.UserID != "" {
		run.UserID = &req.UserID
	}
	st := newRunState(p, run, pr.inputs, sc)
	plan := e.advance(ctx, st)
	steps := make([]storage.StepRow, 0, len(st.steps))
	for _, s := range p.Steps {
		steps = append(steps, st.byID[s.ID].row)
	}
	evs := append([]storage.EventRow{{Type: "run.accepted", Data: mustJSON(map[string]any{
		"pattern": p.ID, "pattern_hash": p.Hash(), "context": sc,
	})}}, plan.events...)
	return newRun{
		changes: storage.RunChanges{RunID: runID, NewRun: &run, NewSteps: steps, Events: evs, Status: plan.final,
			Version: e.versions.pending(p), Audit: storage.PendingAudit(ctx, "run:"+runID)},
		plan: plan,
	}
}

func (e *Engine) countSubmitted(pattern string, n int) {
	if e.cfg.Metrics != nil {
		e.cfg.Metrics.submitted.WithLabelValues(pattern).Add(float64(n))
	}
}

// byIdempotencyKey answers a submission whose key names an earlier run:
// that run when the requests match, idempotency_key_reused when they do
// not.
func (e *Engine) byIdempotencyKey(ctx context.Context, key, requestHash string) (Submitted, bool, error) {
	var id, prev string
	var found bool
	err := e.db.Snapshot(ctx, func(tx pgx.Tx) error {
		var err error
		id, prev, found, err = storage.RunIDByIdempotencyKey(ctx, tx, key)
		return err
	})
	switch {
	case err != nil:
		return Submitted{}, false, err
	case !found:
		return Submitted{}, false, nil
	case prev != "" && prev != requestHash:
		return Submitted{}, true, keyReused(key, "run "+id)
	}
	return Submitted{RunID: id, Existing: true}, true, nil
}

// fingerprint hashes a request: the pattern, the checked inputs (canonical
// JSON: keys sorted), the as-of date and the stale-pack flag as given.
func fingerprint(pattern string, inputs map[string]any, asOf string, allowStale bool) string {
	b, err := json.Marshal(struct {
		Pattern    string         `json:"pattern"`
		Inputs     map[string]any `json:"inputs"`
		AsOf       string         `json:"asof_date"`
		AllowStale bool           `json:"allow_stale_pack"`
	}{pattern, inputs, asOf, allowStale})
	if err != nil {
		panic(fmt.Sprintf("orchestrator: encode a request fingerprint: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// pendingSubmit is a new run waiting for the submit writer.
type pendingSubmit struct {
	changes storage.RunChanges
	done    chan submitWritten
	// deadline is the submission's own deadline.
	deadline time.Time
}

type submitWritten struct {
	events []storage.EventRow
	err    error
}

// maxSubmitBatch bounds how many new runs one batch writes.
const maxSubmitBatch = 64

// defaultSubmitDeadline bounds a submission whose context has none.
const defaultSubmitDeadline = 30 * time.Second

// writeNewRun writes a new run. Once the engine has started, it goes
// through the submit writer, which writes every submission that arrived
// while the previous batch was in flight in one implicit transaction: one
// round trip and one commit for many runs. The submission's deadline
// bounds the write: a run that could not be committed in time is not
// committed, and the caller hears which.
func (e *Engine) writeNewRun(ctx context.Context, c storage.RunChanges) ([]storage.EventRow, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(defaultSubmitDeadline)
	}
	if !e.writing.Load() {
		return e.writeRuns(ctx, []storage.RunChanges{c}, deadline)
	}
	p := pendingSubmit{changes: c, done: make(chan submitWritten, 1), deadline: deadline}
	select {
	case e.submitq <- p:
	case <-e.submitDone:
		return e.writeRuns(ctx, []storage.RunChanges{c}, deadline)
	case <-ctx.Done():
		return nil, notCommitted(ctx.Err())
	}
	// Once queued, the outcome must be waited for: the run may be written.
	// The batch's own deadline is the earliest of its submissions'.
	w := <-p.done
	return w.events, w.err
}

// notCommitted is the error of a submission that was not written: the
// database did not take it in time, and another try may succeed.
func notCommitted(cause error) error {
	return agents.Wrap(agents.CodeDatabaseUnavailable, cause, "the run was not accepted: the database did not commit it in time")
}

// writeRuns writes new runs in one batch, under deadline, and returns
// their events. A batch cut off by its deadline is checked: the runs that
// were committed anyway (the commit had gone through) succeed, the others
// fail as not committed, and when even the check cannot answer the
// outcome is unknown.
func (e *Engine) writeRuns(ctx context.Context, cs []storage.RunChanges, deadline time.Time) ([]storage.EventRow, error) {
	var first []storage.EventRow
	errs := e.writeBatch(ctx, cs, deadline, func(i int, evs []storage.EventRow) {
		if i == 0 {
			first = evs
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if len(cs) == 1 {
		return first, nil
	}
	return nil, nil
}

// writeBatch sends cs as one batch and reports each run's outcome; ok is
// called with each committed run's events.
func (e *Engine) writeBatch(ctx context.Context, cs []storage.RunChanges, deadline time.Time, ok func(i int, evs []storage.EventRow)) []error {
	b := &pgx.Batch{}
	evs := storage.QueueManyRunChanges(b, cs)
	bctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	err := e.db.SendBatch(bctx, b)
	cancel()
	out := make([]error, len(cs))
	if err == nil {
		for i := range cs {
			ok(i, evs[i])
		}
		return out
	}
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "57014":
		// The server cancelled a statement of the batch: its implicit
		// transaction rolled back, nothing was committed.
		for i := range out {
			out[i] = notCommitted(err)
		}
		return out
	case !errors.Is(err, context.DeadlineExceeded) && bctx.Err() == nil:
		for i := range out {
			out[i] = err
		}
		return out
	}
	// Cut off by the deadline: the commit may or may not have happened.
	cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer ccancel()
	for i, c := range cs {
		var exists bool
		cerr := e.db.Snapshot(cctx, func(tx pgx.Tx) error {
			var err error
			exists, err = storage.RunExists(cctx, tx, c.RunID)
			return err
		})
		switch {
		case cerr != nil:
			out[i] = agents.Wrap(agents.CodeCommitOutcomeUnknown, err,
				"the database did not answer in time and whether run %s was accepted is unknown; retry with the same idempotency key", c.RunID)
		case exists:
			ok(i, evs[i])
		default:
			out[i] = notCommitted(err)
		}
	}
	return out
}

// submitLoop writes queued submissions in batches. A batch that fails
// (an idempotency key taken by a concurrent submission, say) is written
// again one run at a time, so each submission gets its own answer; one cut
// off by its deadline is not, since each run's fate is then known.
func (e *Engine) submitLoop(ctx context.Context) {
	defer close(e.submitDone)
	for {
		var first pendingSubmit
		select {
		case first = <-e.submitq:
		case <-ctx.Done():
			// Submissions arriving from now on write themselves.
			return
		}
		batch := []pendingSubmit{first}
		deadline := first.deadline
	drain:
		for len(batch) < maxSubmitBatch {
			select {
			case p := <-e.submitq:
				batch = append(batch, p)
				if p.deadline.Before(deadline) {
					deadline = p.deadline
				}
			default:
				break drain
			}
		}
		cs := make([]storage.RunChanges, len(batch))
		for i, p := range batch {
			cs[i] = p.changes
		}
		written := make([][]storage.EventRow, len(batch))
		errs := e.writeBatch(ctx, cs, deadline, func(i int, evs []storage.EventRow) { written[i] = evs })
		for i, p := range batch {
			err := errs[i]
			var ae *agents.Error
			if err != nil && len(batch) > 1 && !(errors.As(err, &ae) && (ae.Code == agents.CodeDatabaseUnavailable || ae.Code == agents.CodeCommitOutcomeUnknown)) {
				// Another run of the batch may be the one at fault.
				evs, err := e.writeRuns(ctx, []storage.RunChanges{p.changes}, p.deadline)
				p.done <- submitWritten{evs, err}
				continue
			}
			p.done <- submitWritten{written[i], err}
		}
	}
}

// referencesCtx reports whether any step argument references {{ctx.key}}.
func referencesCtx(p *patterns.Pattern, key string) bool {
	needle := []byte("{{ctx." + key)
	for _, s := range p.Steps {
		if bytes.Contains(s.Args, needle) {
			return true
		}
	}
	return false
}
