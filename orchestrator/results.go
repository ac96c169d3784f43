package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/storage"
)

// maxResultBatch bounds how many results one transaction applies.
const maxResultBatch = 128

// pendingResult is a result waiting for the applier, and where to say how
// applying it went.
type pendingResult struct {
	res  bus.StepResult
	done chan error
}

// ApplyResult applies one step result. It is idempotent: a result for a
// step that is no longer queued, or for an older attempt, or for a run that
// has ended, changes nothing. Applying a result and dispatching the steps it
// unblocks happen in one transaction under the run's row lock.
func (e *Engine) ApplyResult(ctx context.Context, res bus.StepResult) error {
	return e.applyResults(ctx, []bus.StepResult{res})
}

// enqueueResult hands a result to the appliers and waits until the
// transaction that applied it has committed, so the bus acknowledges a
// result only once it is recorded.
func (e *Engine) enqueueResult(ctx context.Context, res bus.StepResult) error {
	p := pendingResult{res: res, done: make(chan error, 1)}
	select {
	case e.resultq <- p:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// applyLoop applies queued results in batches: whatever has arrived while
// the previous batch was being written goes into the next transaction. One
// transaction for many results is what lets the engine keep up with many
// runs in flight; each result still waits only for its own batch.
func (e *Engine) applyLoop(ctx context.Context) {
	for {
		var first pendingResult
		select {
		case first = <-e.resultq:
		case <-ctx.Done():
			return
		}
		batch := []pendingResult{first}
	drain:
		for len(batch) < maxResultBatch {
			select {
			case p := <-e.resultq:
				batch = append(batch, p)
			default:
				break drain
			}
		}
		results := make([]bus.StepResult, len(batch))
		for i, p := range batch {
			results[i] = p.res
		}
		err := e.applyResults(ctx, results)
		if err != nil && len(batch) > 1 {
			// One bad result must not hold the others back: apply each
			// alone, so only the failing one is redelivered.
			for _, p := range batch {
				p.done <- e.applyAlone(ctx, p.res)
			}
			continue
		}
		if err != nil {
			err = e.applyAlone(ctx, first.res)
		}
		for _, p := range batch {
			p.done <- err
		}
	}
}

// applyAlone applies one result. A failure that another delivery cannot
// cure (PostgreSQL refuses the output, say a string with a NUL) would
// loop: the result is applied instead as a failure of its step that says
// why, so the run ends and keeps its other outputs; when even that cannot
// be written the result is dead-lettered. A retryable failure (the
// database is down) is returned, and the result is delivered again.
func (e *Engine) applyAlone(ctx context.Context, res bus.StepResult) error {
	err := e.applyResults(ctx, []bus.StepResult{res})
	if err == nil || agents.Classify(err).Retryable || ctx.Err() != nil {
		return err
	}
	e.log.Error("a step result cannot be stored; its step fails instead", "run_id", res.RunID, "step_id", res.StepID, "err", err)
	failed := res
	failed.OK, failed.Output, failed.DeadLetterID = false, nil, ""
	failed.Error = &bus.StepError{Code: agents.CodeInternal, Message: "the step's result cannot be stored: " + err.Error()}
	ferr := e.applyResults(ctx, []bus.StepResult{failed})
	if ferr == nil || agents.Classify(ferr).Retryable {
		return ferr
	}
	_, _, derr := DeadLetterStore{DB: e.db}.RecordDeadLetter(ctx, bus.DeadLetter{
		Version: bus.EnvelopeVersion, ID: uuid.NewString(), Capability: res.Capability, Source: bus.SourceResult,
		Reason: bus.ReasonFinalError, ClaimedRunID: res.RunID, RawPayload: mustJSON(res),
		Error: bus.StepError{Code: agents.CodeInternal, Message: "result cannot be applied: " + ferr.Error()}, CreatedAt: time.Now().UTC(),
	})
	return derr
}

// applyResults applies results in one transaction: it locks their runs (in
// id order), decides each run once for all of its results, writes every
// change in one batch, and publishes after commit.
func (e *Engine) applyResults(ctx context.Context, results []bus.StepResult) error {
	byRun := map[string][]bus.StepResult{}
	var ids []string
	for _, r := range results {
		if _, seen := byRun[r.RunID]; !seen {
			ids = append(ids, r.RunID)
		}
		byRun[r.RunID] = append(byRun[r.RunID], r)
	}
	sort.Strings(ids)
	plans := map[string]*dispatchPlan{}
	var unknown []bus.StepResult
	// Two round trips: BEGIN with the locked reads, then the writes with
	// COMMIT.
	reads := &pgx.Batch{}
	locked := storage.QueueLoadRunsForUpdate(reads, ids)
	err := e.db.PipelinedTx(ctx, reads, func(tx storage.Querier) (*pgx.Batch, error) {
		runs, steps := locked.Runs, locked.Steps
		b := &pgx.Batch{}
		var changes []storage.RunChanges
		var changed []*dispatchPlan
		for _, id := range ids {
			run, ok := runs[id]
			if !ok {
				unknown = append(unknown, byRun[id]...)
				continue
			}
			st, err := e.stateOf(ctx, tx, run, steps[id])
			var ue *unrunnableError
			if errors.As(err, &ue) && run.Status == storage.RunRunning {
				// Nothing can decide the run's next steps (its pattern
				// version cannot be loaded, say). End it rather than retry
				// its results forever.
				e.log.Error("ending a run that cannot be decided", "run_id", id, "pattern", run.Pattern, "err", err)
				plan := &dispatchPlan{final: storage.RunFailed}
				changes = append(changes, storage.RunChanges{RunID: id, EventSeq: run.EventSeq, Status: storage.RunFailed,
					Events: []storage.EventRow{{Type: "run.completed", Data: mustJSON(map[string]any{"status": storage.RunFailed, "error": err.Error()})}}})
				changed = append(changed, plan)
				plans[id] = plan
				continue
			}
			if ue != nil {
				continue // an ended run: the result changes nothing
			}
			if err != nil {
				return nil, err
			}
			plan := e.decideResults(ctx, st, byRun[id], b)
			if plan == nil {
				continue
			}
			changes = append(changes, storage.RunChanges{
				RunID: id, Steps: st.changedRows(), Events: plan.events, EventSeq: st.run.EventSeq, Status: plan.final,
			})
			changed = append(changed, plan)
			plans[id] = plan
		}
		// Every run's changes in one set of statements.
		for i, evs := range storage.QueueManyRunChanges(b, changes) {
			changed[i].events = evs
		}
		return b, nil
	})
	if err != nil {
		return err
	}
	for _, r := range unknown {
		// A result for a run the database does not hold: recorded, so it
		// is neither lost nor redelivered.
		if _, _, err := (DeadLetterStore{DB: e.db}).RecordDeadLetter(ctx, bus.DeadLetter{
			Version: bus.EnvelopeVersion, ID: uuid.NewString(), Capability: r.Capability, Source: bus.SourceResult,
			Reason: bus.ReasonUnknownRun, ClaimedRunID: r.RunID, RawPayload: mustJSON(r),
			Error: bus.StepError{Code: agents.CodeNotFound, Message: "step result for run " + r.RunID + ", which does not exist"}, CreatedAt: time.Now().UTC(),
		}); err != nil {
			return err
		}
		e.log.Warn("dead-lettered a result for an unknown run", "run_id", r.RunID, "step_id", r.StepID)
	}
	var reqs []bus.StepRequest
	for _, p := range plans {
		reqs = append(reqs, p.requests...)
	}
	e.publishSteps(ctx, reqs)
	for id, p := range plans {
		e.publishEvents(id, p.events)
		if e.cfg.Metrics != nil && p.final != "" {
			e.cfg.Metrics.finished.WithLabelValues(p.final).Inc()
		}
	}
	return nil
}

// decideResults applies a run's results to its state and decides what
// follows; nil when none of them applies (duplicates, stale attempts, an
// ended run).
func (e *Engine) decideResults(ctx context.Context, st *runState, results []bus.StepResult, b *pgx.Batch) *dispatchPlan {
	if st.run.Status != storage.RunRunning {
		e.cfg.Metrics.ignore("ended_run", len(results))
		return nil
	}
	var evs []storage.EventRow
	now := time.Now().UTC()
	for _, res := range results {
		s, ok := st.byID[res.StepID]
		if !ok {
			e.cfg.Metrics.ignore("unknown_step", 1)
			continue
		}
		if s.row.Status != storage.StepQueued || s.row.Attempt != res.Attempt {
			e.cfg.Metrics.ignore("stale", 1)
			continue
		}
		started := res.StartedAt
		s.row.StartedAt = &started
		s.row.Tries += res.Tries
		d := res.DurationMS
		s.row.DurationMS = &d
		agent := res.Agent
		s.row.Agent = &agent
		outcome := "succeeded"
		if res.OK {
			output := res.Output
			if output == nil {
				output = json.RawMessage("null")
			}
			s.row.Output = output
			s.finish(storage.StepSucceeded, nil, now)
			evs = append(evs, stepEvent("step.succeeded", s, map[string]any{"duration_ms": res.DurationMS, "tries": res.Tries}))
		} else {
			status, typ := storage.StepFailed, "step.failed"
			outcome = "failed"
			if res.DeadLetterID != "" {
				status, typ, outcome = storage.StepDeadLettered, "step.dead_lettered", "dead_lettered"
			}
			se := res.Error
			if se == nil {
				se = &bus.StepError{Code: "internal", Message: "step failed without an error"}
			}
			s.finish(status, se, now)
			evs = append(evs, stepEvent(typ, s, map[string]any{"error": se, "dead_letter_id": res.DeadLetterID, "tries": res.Tries}))
		}
		if res.Attempt > 1 {
			storage.QueueReplayOutcome(b, res.RunID, res.StepID, res.Attempt, outcome)
		}
	}
	if len(evs) == 0 {
		return nil
	}
	plan := e.advance(ctx, st)
	plan.events = append(evs, plan.events...)
	return &plan
}

// persist writes the changed steps, the events and the run's status in one
// round trip.
func (e *Engine) persist(ctx context.Context, tx pgx.Tx, st *runState, plan *dispatchPlan) error {
	status := plan.final
	if status == "" && plan.reopen {
		status = storage.RunRunning
	}
	evs, err := storage.WriteRunChanges(ctx, tx, storage.RunChanges{
		RunID: st.run.ID, Steps: st.changedRows(), Events: plan.events, EventSeq: st.run.EventSeq, Status: status,
	})
	if err != nil {
		return err
	}
	plan.events = evs
	return nil
}

// afterCommit publishes what a committed decision produced.
func (e *Engine) afterCommit(ctx context.Context, runID string, plan dispatchPlan) {
	e.publishSteps(ctx, plan.requests)
	e.publishEvents(runID, plan.events)
}

// publishSteps publishes dispatched steps. A failed publish is not an error
// for the caller: the decision is recorded, and the recovery loop
// dispatches queued steps again when their deadline passes.
func (e *Engine) publishSteps(ctx context.Context, reqs []bus.StepRequest) {
	if len(reqs) == 0 {
		return
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := e.bus.PublishSteps(pctx, reqs); err != nil {
		e.log.Warn("publish steps; the recovery loop will retry", "steps", len(reqs), "err", err)
	}
}

// publishEvents publishes a run's events for outside subscribers and wakes
// this process's waiters.
func (e *Engine) publishEvents(runID string, events []storage.EventRow) {
	if len(events) > 0 {
		evs := make([]bus.RunEvent, 0, len(events))
		for _, ev := range events {
			evs = append(evs, bus.RunEvent{RunID: runID, Seq: ev.Seq, Type: ev.Type, StepID: ev.StepID, Data: ev.Data, At: ev.CreatedAt})
		}
		if err := e.bus.PublishEvents(evs); err != nil {
			e.log.Warn("publish run events", "run_id", runID, "err", err)
		}
	}
	e.notify(runID)
}
