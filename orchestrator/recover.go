package orchestrator

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/storage"
)

// Resume is run at start-up. For every run that has not ended it
// republishes the queued steps under their current attempt (JetStream drops
// the copy if it still holds the original), and decides any step that
// became ready, so a crash at any point leaves nothing stuck.
func (e *Engine) Resume(ctx context.Context) error {
	var ids []string
	err := e.db.Tx(ctx, func(tx pgx.Tx) error {
		var err error
		ids, err = storage.RunningRunIDs(ctx, tx)
		return err
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := e.resumeRun(ctx, id, false); err != nil {
			e.log.Error("resume run", "run_id", id, "err", err)
		}
	}
	if len(ids) > 0 {
		e.log.Info("resumed runs", "count", len(ids))
	}
	return nil
}

// resumeRun republishes a run's queued steps; with redispatch it first
// moves the overdue ones to a new attempt, so that a result of the lost
// attempt, should it still arrive, is ignored.
func (e *Engine) resumeRun(ctx context.Context, runID string, redispatch bool) error {
	var plan dispatchPlan
	err := e.db.Tx(ctx, func(tx pgx.Tx) error {
		st, err := e.loadRunState(ctx, tx, runID)
		if err != nil {
			return err
		}
		if st.run.Status != storage.RunRunning {
			return nil
		}
		now := time.Now().UTC()
		for _, s := range st.steps {
			if s.row.Status != storage.StepQueued {
				continue
			}
			if redispatch && s.row.Deadline != nil && s.row.Deadline.Before(now) {
				plan.requests = append(plan.requests, e.dispatch(st, s, s.row.Args, now))
				plan.events = append(plan.events, stepEvent("step.dispatched", s, map[string]any{"reason": "deadline passed"}))
				continue
			}
			plan.requests = append(plan.requests, st.request(s))
		}
		next := e.advance(ctx, st)
		plan.requests = append(plan.requests, next.requests...)
		plan.events = append(plan.events, next.events...)
		plan.final = next.final
		return e.persist(ctx, tx, st, &plan)
	})
	if err != nil {
		return err
	}
	e.afterCommit(ctx, runID, plan)
	return nil
}

// recoveryLoop redispatches steps whose deadline passed: their request or
// result was lost (a bus without fsync, a crashed worker).
func (e *Engine) recoveryLoop(ctx context.Context) {
	t := time.NewTicker(e.cfg.RecoveryInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var due []storage.DueStep
		err := e.db.Tx(ctx, func(tx pgx.Tx) error {
			var err error
			due, err = storage.DueSteps(ctx, tx, time.Now().UTC(), 500)
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				e.log.Warn("look for overdue steps", "err", err)
			}
			continue
		}
		seen := map[string]bool{}
		for _, d := range due {
			if seen[d.RunID] {
				continue
			}
			seen[d.RunID] = true
			if err := e.resumeRun(ctx, d.RunID, true); err != nil && ctx.Err() == nil {
				e.log.Warn("redispatch overdue steps", "run_id", d.RunID, "err", err)
			}
		}
	}
}
