package orchestrator

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/storage"
)

// Resume is run at start-up. For every run that has not ended it
// dispatches the queued steps again as new attempts, and decides any step
// that became ready, so a crash at any point leaves nothing stuck.
//
// A step queued before this process started may have been in the hands of
// a handler that died with the previous process; JetStream would redeliver
// it only after the consumer's ack wait (minutes). A new attempt runs now;
// if the old delivery still arrives, its result is for an older attempt and
// is ignored. The cost is at most one extra execution of such a step,
// which at-least-once delivery allows anyway.
func (e *Engine) Resume(ctx context.Context) error {
	return e.resume(ctx, time.Now().UTC())
}

// resume redispatches the queued steps dispatched before cutoff.
func (e *Engine) resume(ctx context.Context, cutoff time.Time) error {
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
		stale := func(r storage.StepRow) bool { return r.DispatchedAt != nil && r.DispatchedAt.Before(cutoff) }
		if err := e.resumeRun(ctx, id, stale); err != nil {
			e.log.Error("resume run", "run_id", id, "err", err)
		}
	}
	if len(ids) > 0 {
		e.log.Info("resumed runs", "count", len(ids))
	}
	return nil
}

// resumeRun dispatches again, as a new attempt, every queued step of the
// run for which stale is true; a result of the abandoned attempt, should it
// still arrive, is then ignored.
func (e *Engine) resumeRun(ctx context.Context, runID string, stale func(storage.StepRow) bool) error {
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
			if s.row.Status != storage.StepQueued || !stale(s.row) {
				continue
			}
			plan.requests = append(plan.requests, e.dispatch(st, s, s.row.Args, now))
			plan.events = append(plan.events, stepEvent("step.dispatched", s, map[string]any{"reason": "recovered"}))
			// A dead letter of an older attempt whose result was lost
			// can no longer be replayed; say so rather than leave it
			// pending.
			if err := storage.DiscardDeadLetters(ctx, tx, runID, s.row.StepID, s.row.Attempt); err != nil {
				return err
			}
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

// RecoverNow makes the recovery loop dispatch again, at once, every queued
// step of every running run; the process calls it when the database comes
// back after an outage.
func (e *Engine) RecoverNow() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
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
		case <-e.kick:
			// The database is back after an outage: whatever was queued
			// before now may have lost its request or result meanwhile
			// (a dead letter that could not be written, a result dropped
			// after its redeliveries); dispatch it again at once rather
			// than at its deadline. Late results of the older attempts
			// are ignored.
			if err := e.resume(ctx, time.Now().UTC()); err != nil && ctx.Err() == nil {
				e.log.Warn("recover after the database came back", "err", err)
			}
			continue
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
		now := time.Now().UTC()
		overdue := func(r storage.StepRow) bool { return r.Deadline != nil && r.Deadline.Before(now) }
		seen := map[string]bool{}
		for _, d := range due {
			if seen[d.RunID] {
				continue
			}
			seen[d.RunID] = true
			if err := e.resumeRun(ctx, d.RunID, overdue); err != nil && ctx.Err() == nil {
				e.log.Warn("redispatch overdue steps", "run_id", d.RunID, "err", err)
			}
		}
	}
}
