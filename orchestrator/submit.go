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
	p, ok := e.patterns.Get(req.Pattern)
	if !ok {
		return Submitted{}, &agents.Error{Code: agents.CodeNotFound, Message: fmt.Sprintf("no pattern %q", req.Pattern), Field: "pattern"}
	}
	inputs, ferrs := patterns.CheckInputs(p, req.Inputs)
	if len(ferrs) > 0 {
		return Submitted{}, invalidFields("the inputs of pattern "+p.ID+" are invalid", "inputs", ferrs)
	}
	// The request as the client gave it, before defaults: the same key
	// with the same request returns the first run; with another request
	// it is refused, as payment APIs do.
	requestHash := fingerprint(p.ID, inputs, req.AsOfDate, req.AllowStalePack)
	if req.AsOfDate == "" {
		req.AsOfDate = time.Now().UTC().Format(time.DateOnly)
	} else if _, err := time.Parse(time.DateOnly, req.AsOfDate); err != nil {
		return Submitted{}, agents.FieldError("asof_date", "asof_date %q is not YYYY-MM-DD", req.AsOfDate)
	}
	if req.IdempotencyKey != "" {
		// Answer a repeated submission before resolving anything.
		if s, found, err := e.byIdempotencyKey(ctx, req.IdempotencyKey, requestHash); found || err != nil {
			return s, err
		}
	}
	sc := agents.RunContext{AsOfDate: req.AsOfDate, UserID: req.UserID}
	if e.cfg.Resolver != nil {
		var err error
		sc, err = e.cfg.Resolver.Resolve(ctx, ContextRequest{
			Pattern: p, Inputs: inputs, AsOfDate: req.AsOfDate, UserID: req.UserID,
			NeedsPack: referencesCtx(p, "pricing_pack_id"), AllowStalePack: req.AllowStalePack,
		})
		if err != nil {
			return Submitted{}, err
		}
	}
	runID := uuid.NewString()
	sc.RunID = runID
	run := storage.RunRow{
		ID: runID, Pattern: p.ID, PatternHash: p.Hash(), Status: storage.RunRunning,
		Inputs: mustJSON(inputs), Context: mustJSON(sc), CorrelationID: req.CorrelationID,
	}
	if run.CorrelationID == "" {
		run.CorrelationID = runID
	}
	if req.IdempotencyKey != "" {
		run.IdempotencyKey = &req.IdempotencyKey
		run.RequestHash = &requestHash
	}
	if req.UserID != "" {
		run.UserID = &req.UserID
	}
	st := newRunState(p, run, inputs, sc)
	var plan dispatchPlan
	plan = e.advance(ctx, st)
	steps := make([]storage.StepRow, 0, len(st.steps))
	for _, s := range p.Steps {
		steps = append(steps, st.byID[s.ID].row)
	}
	evs := append([]storage.EventRow{{Type: "run.accepted", Data: mustJSON(map[string]any{
		"pattern": p.ID, "pattern_hash": p.Hash(), "context": sc,
	})}}, plan.events...)
	// The run, its steps with their first decisions already made, and its
	// first events go to the server in one batch: one round trip, and one
	// implicit transaction, shared with the submissions arriving meanwhile.
	var err error
	plan.events, err = e.writeNewRun(ctx, storage.RunChanges{
		RunID: runID, NewRun: &run, NewSteps: steps, Events: evs, Status: plan.final, Version: e.versions.pending(p),
	})
	if err != nil {
		var pgErr *pgconn.PgError
		if req.IdempotencyKey != "" && errors.As(err, &pgErr) && pgErr.Code == "23505" {
			// A concurrent submission with the same key won the race.
			if s, found, err2 := e.byIdempotencyKey(ctx, req.IdempotencyKey, requestHash); found || err2 != nil {
				return s, err2
			}
		}
		return Submitted{}, fmt.Errorf("submit run of %s: %w", p.ID, err)
	}
	e.versions.markStored(p.Hash())
	e.afterCommit(ctx, runID, plan)
	if e.cfg.Metrics != nil {
		e.cfg.Metrics.submitted.WithLabelValues(p.ID).Inc()
	}
	return Submitted{RunID: runID}, nil
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
		return Submitted{}, true, &agents.Error{Code: agents.CodeIdempotencyKeyReused, Field: "idempotency_key",
			Message: fmt.Sprintf("idempotency key %q was used for run %s with another pattern, inputs or as-of date", key, id)}
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
}

type submitWritten struct {
	events []storage.EventRow
	err    error
}

// maxSubmitBatch bounds how many new runs one batch writes.
const maxSubmitBatch = 64

// writeNewRun writes a new run. Once the engine has started, it goes
// through the submit writer, which writes every submission that arrived
// while the previous batch was in flight in one implicit transaction: one
// round trip and one commit for many runs.
func (e *Engine) writeNewRun(ctx context.Context, c storage.RunChanges) ([]storage.EventRow, error) {
	if !e.writing.Load() {
		return e.writeRuns(ctx, []storage.RunChanges{c})
	}
	p := pendingSubmit{changes: c, done: make(chan submitWritten, 1)}
	select {
	case e.submitq <- p:
	case <-e.submitDone:
		return e.writeRuns(ctx, []storage.RunChanges{c})
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// Once queued, the outcome must be waited for: the run may be written.
	w := <-p.done
	return w.events, w.err
}

// writeRuns writes new runs in one batch and returns their events.
func (e *Engine) writeRuns(ctx context.Context, cs []storage.RunChanges) ([]storage.EventRow, error) {
	b := &pgx.Batch{}
	evs := storage.QueueManyRunChanges(b, cs)
	if err := e.db.SendBatch(ctx, b); err != nil {
		return nil, err
	}
	if len(cs) == 1 {
		return evs[0], nil
	}
	return nil, nil
}

// submitLoop writes queued submissions in batches. A batch that fails
// (an idempotency key taken by a concurrent submission, say) is written
// again one run at a time, so each submission gets its own answer.
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
	drain:
		for len(batch) < maxSubmitBatch {
			select {
			case p := <-e.submitq:
				batch = append(batch, p)
			default:
				break drain
			}
		}
		wctx := context.WithoutCancel(ctx)
		cs := make([]storage.RunChanges, len(batch))
		for i, p := range batch {
			cs[i] = p.changes
		}
		b := &pgx.Batch{}
		evs := storage.QueueManyRunChanges(b, cs)
		if err := e.db.SendBatch(wctx, b); err != nil {
			for _, p := range batch {
				evs, err := e.writeRuns(wctx, []storage.RunChanges{p.changes})
				p.done <- submitWritten{evs, err}
			}
			continue
		}
		for i, p := range batch {
			p.done <- submitWritten{events: evs[i]}
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
