package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/storage"
)

// ApplyResult applies one step result. It is idempotent: a result for a
// step that is no longer queued, or for an older attempt, or for a run that
// has ended, changes nothing. Applying a result and dispatching the steps it
// unblocks happen in one transaction under the run's row lock.
func (e *Engine) ApplyResult(ctx context.Context, res bus.StepResult) error {
	var plan dispatchPlan
	applied := false
	err := e.db.Tx(ctx, func(tx pgx.Tx) error {
		st, err := e.loadRunState(ctx, tx, res.RunID)
		if errors.Is(err, storage.ErrRunNotFound) {
			e.log.Warn("result for an unknown run", "run_id", res.RunID, "step_id", res.StepID)
			return nil
		}
		if err != nil {
			return err
		}
		s, ok := st.byID[res.StepID]
		if !ok || st.run.Status != storage.RunRunning || s.row.Status != storage.StepQueued || s.row.Attempt != res.Attempt {
			return nil
		}
		applied = true
		now := time.Now().UTC()
		started := res.StartedAt
		s.row.StartedAt = &started
		s.row.Tries += res.Tries
		d := res.DurationMS
		s.row.DurationMS = &d
		agent := res.Agent
		s.row.Agent = &agent
		var ev storage.EventRow
		outcome := "succeeded"
		if res.OK {
			output := res.Output
			if output == nil {
				output = json.RawMessage("null")
			}
			s.row.Output = output
			s.finish(storage.StepSucceeded, nil, now)
			ev = stepEvent("step.succeeded", s, map[string]any{"duration_ms": res.DurationMS, "tries": res.Tries})
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
			ev = stepEvent(typ, s, map[string]any{"error": se, "dead_letter_id": res.DeadLetterID, "tries": res.Tries})
		}
		if res.Attempt > 1 {
			if err := storage.SetReplayOutcome(ctx, tx, res.RunID, res.StepID, res.Attempt, outcome); err != nil {
				return err
			}
		}
		plan = e.advance(ctx, st)
		plan.events = append([]storage.EventRow{ev}, plan.events...)
		return e.persist(ctx, tx, st, &plan)
	})
	if err != nil {
		return err
	}
	if applied {
		e.afterCommit(ctx, res.RunID, plan)
		if e.cfg.Metrics != nil && plan.final != "" {
			e.cfg.Metrics.finished.WithLabelValues(plan.final).Inc()
		}
	}
	return nil
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

// afterCommit publishes what a committed decision produced. A failed
// publish is not an error for the caller: the run is recorded, and the
// recovery loop republishes queued steps whose deadline passes.
func (e *Engine) afterCommit(ctx context.Context, runID string, plan dispatchPlan) {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := e.bus.PublishSteps(pctx, plan.requests); err != nil {
		e.log.Warn("publish steps; the recovery loop will retry", "run_id", runID, "err", err)
	}
	if len(plan.events) > 0 {
		evs := make([]bus.RunEvent, 0, len(plan.events))
		for _, ev := range plan.events {
			evs = append(evs, bus.RunEvent{RunID: runID, Seq: ev.Seq, Type: ev.Type, StepID: ev.StepID, Data: ev.Data, At: ev.CreatedAt})
		}
		if err := e.bus.PublishEvents(evs); err != nil {
			e.log.Warn("publish run events", "run_id", runID, "err", err)
		}
	}
	e.notify(runID)
}
