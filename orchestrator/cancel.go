package orchestrator

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// Cancel ends a running run as canceled. Steps already running finish, but
// their results are ignored; pending and queued steps become canceled.
// Canceling an ended run is a conflict.
func (e *Engine) Cancel(ctx context.Context, runID string) error {
	var plan dispatchPlan
	err := e.db.Tx(ctx, func(tx pgx.Tx) error {
		st, err := e.loadRunState(ctx, tx, runID)
		if err != nil {
			return err
		}
		if st.run.Status != storage.RunRunning {
			return agents.Errorf(agents.CodeConflict, "run %s already ended %s", runID, st.run.Status)
		}
		now := time.Now().UTC()
		for _, s := range st.steps {
			if s.row.Status == storage.StepPending || s.row.Status == storage.StepQueued {
				s.finish(storage.StepCanceled, nil, now)
			}
		}
		// Dead letters of a canceled run can no longer be replayed.
		if err := storage.DiscardDeadLetters(ctx, tx, runID, "", 0); err != nil {
			return err
		}
		if err := storage.Audit(ctx, tx, "run:"+runID); err != nil {
			return err
		}
		st.run.Status = storage.RunCanceled
		plan.final = storage.RunCanceled
		plan.events = []storage.EventRow{{Type: "run.completed", Data: mustJSON(st.summary())}}
		return e.persist(ctx, tx, st, &plan)
	})
	if err != nil {
		return err
	}
	e.afterCommit(ctx, runID, plan)
	if e.cfg.Metrics != nil {
		e.cfg.Metrics.finished.WithLabelValues(storage.RunCanceled).Inc()
	}
	return nil
}
