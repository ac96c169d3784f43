package orchestrator

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/storage"
)

// ReplayRequest asks to re-dispatch a dead-lettered step.
type ReplayRequest struct {
	DeadLetterID string `json:"-"`
	// Args replaces the step's arguments; they are validated again.
	Args json.RawMessage `json:"args,omitempty"`
	// Token makes the request idempotent: the same token returns the
	// replay it created the first time.
	Token       string `json:"token,omitempty"`
	RequestedBy string `json:"-"`
}

// Replay re-dispatches the step of a dead letter as a new attempt. The run
// reopens; completed steps are not re-run; when the step succeeds, the
// steps it blocked are dispatched and the run ends again.
func (e *Engine) Replay(ctx context.Context, req ReplayRequest) (storage.ReplayRow, error) {
	var out storage.ReplayRow
	var plan dispatchPlan
	var runID string
	fresh := false
	err := e.db.Tx(ctx, func(tx pgx.Tx) error {
		if req.Token != "" {
			r, found, err := storage.ReplayByToken(ctx, tx, req.Token)
			if err != nil {
				return err
			}
			if found {
				if r.DeadLetterID != req.DeadLetterID {
					return agents.Errorf(agents.CodeConflict, "replay token %q was used for dead letter %s", req.Token, r.DeadLetterID)
				}
				out = r
				return nil
			}
		}
		dl, err := storage.GetDeadLetter(ctx, tx, req.DeadLetterID, true)
		if err != nil {
			return err
		}
		if req.Token != "" {
			// A concurrent request with the same token may have replayed
			// it while this one waited for the lock.
			r, found, err := storage.ReplayByToken(ctx, tx, req.Token)
			if err != nil {
				return err
			}
			if found {
				if r.DeadLetterID != req.DeadLetterID {
					return agents.Errorf(agents.CodeConflict, "replay token %q was used for dead letter %s", req.Token, r.DeadLetterID)
				}
				out = r
				return nil
			}
		}
		if dl.RunID == nil || dl.StepID == nil || dl.Attempt == nil {
			return agents.Errorf(agents.CodeConflict, "dead letter %s is an undecodable message; it belongs to no step", dl.ID)
		}
		if dl.Status != "pending" {
			return agents.Errorf(agents.CodeConflict, "dead letter %s was already %s", dl.ID, dl.Status)
		}
		runID = *dl.RunID
		st, err := e.loadRunState(ctx, tx, runID)
		if err != nil {
			return err
		}
		if st.run.Status == storage.RunCanceled {
			return agents.Errorf(agents.CodeConflict, "run %s was canceled", runID)
		}
		s, ok := st.byID[*dl.StepID]
		if !ok {
			return agents.Errorf(agents.CodeNotFound, "step %s of run %s", *dl.StepID, runID)
		}
		if s.row.Status != storage.StepDeadLettered || s.row.Attempt != *dl.Attempt {
			return agents.Errorf(agents.CodeConflict, "step %s of run %s is %s at attempt %d, not the dead-lettered attempt %d",
				s.row.StepID, runID, s.row.Status, s.row.Attempt, *dl.Attempt)
		}
		args := s.row.Args
		edited := hasArgs(req.Args)
		if edited {
			if err := e.checkArgs(s.row.Capability, req.Args); err != nil {
				return err
			}
			args = req.Args
		}
		now := time.Now().UTC()
		if st.run.Status != storage.RunRunning {
			st.run.Status = storage.RunRunning
			plan.reopen = true
		}
		plan.requests = append(plan.requests, e.dispatch(st, s, args, now))
		if err := storage.MarkDeadLetterReplayed(ctx, tx, dl.ID); err != nil {
			return err
		}
		if err := storage.Audit(ctx, tx, "dead_letter:"+dl.ID); err != nil {
			return err
		}
		var token *string
		if req.Token != "" {
			token = &req.Token
		}
		var editedArgs json.RawMessage
		if edited {
			editedArgs = req.Args
		}
		out, err = storage.InsertReplay(ctx, tx, storage.ReplayRow{
			ID: uuid.NewString(), DeadLetterID: dl.ID, Token: token, RequestedBy: req.RequestedBy,
			Args: editedArgs, Attempt: s.row.Attempt,
		})
		if err != nil {
			return err
		}
		plan.events = append(plan.events, stepEvent("step.dispatched", s, map[string]any{"replay_id": out.ID, "dead_letter_id": dl.ID}))
		fresh = true
		return e.persist(ctx, tx, st, &plan)
	})
	if err != nil {
		return out, err
	}
	if fresh {
		e.afterCommit(ctx, runID, plan)
	}
	return out, nil
}

// hasArgs reports whether a replay request edits the arguments: absent and
// JSON null both mean "keep the step's arguments".
func hasArgs(a json.RawMessage) bool {
	t := bytes.TrimSpace(a)
	return len(t) > 0 && !bytes.Equal(t, []byte("null"))
}

// ReplayOutcome reports one replay of a bulk request.
type ReplayOutcome struct {
	DeadLetterID string             `json:"dead_letter_id"`
	Replay       *storage.ReplayRow `json:"replay,omitempty"`
	Error        *agents.Error      `json:"error,omitempty"`
}

// BulkReplayRequest asks to replay every pending dead letter of a
// capability.
type BulkReplayRequest struct {
	Capability string
	// UserID, when set, limits the replay to the runs that user submitted.
	UserID      string
	RequestedBy string
}

// ReplayCapability replays every pending dead letter of a capability, each
// in its own transaction, and reports each outcome.
func (e *Engine) ReplayCapability(ctx context.Context, req BulkReplayRequest) ([]ReplayOutcome, error) {
	var dls []storage.DeadLetterRow
	err := e.db.Tx(ctx, func(tx pgx.Tx) error {
		var err error
		dls, err = storage.ListDeadLetters(ctx, tx, storage.DeadLetterFilter{Capability: req.Capability, UserID: req.UserID, Status: "pending", Limit: 1000})
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]ReplayOutcome, 0, len(dls))
	for i := len(dls) - 1; i >= 0; i-- { // oldest first
		dl := dls[i]
		if dl.RunID == nil {
			continue
		}
		r, err := e.Replay(ctx, ReplayRequest{DeadLetterID: dl.ID, RequestedBy: req.RequestedBy})
		o := ReplayOutcome{DeadLetterID: dl.ID}
		if err != nil {
			o.Error = agents.Classify(err)
		} else {
			o.Replay = &r
		}
		out = append(out, o)
	}
	return out, nil
}

// checkArgs validates edited arguments against the capability's input
// schema, with the same validator that checks every step's arguments.
func (e *Engine) checkArgs(capability string, args json.RawMessage) error {
	return e.catalog.CheckArgs(capability, args, "args")
}

// DeadLetterStore adapts storage to the bus's dead-letter interface.
type DeadLetterStore struct{ DB *storage.DB }

// RecordDeadLetter writes a dead letter; see storage.InsertDeadLetter.
func (s DeadLetterStore) RecordDeadLetter(ctx context.Context, dl bus.DeadLetter) (string, bool, error) {
	row := storage.DeadLetterRow{
		ID: dl.ID, Capability: dl.Capability, Source: dl.Source, Reason: dl.Reason, RawPayload: dl.RawPayload,
		Error: mustJSON(dl.Error), Tries: dl.Tries,
	}
	if dl.CorrelationID != "" {
		c := dl.CorrelationID
		row.CorrelationID = &c
	}
	if dl.ClaimedRunID != "" {
		c := dl.ClaimedRunID
		row.ClaimedRunID = &c
	}
	if dl.Request != nil {
		r := dl.Request
		row.RunID, row.StepID, row.Attempt = &r.RunID, &r.StepID, &r.Attempt
		row.Request = mustJSON(r)
	}
	var id string
	orphan := false
	err := s.DB.Tx(ctx, func(tx pgx.Tx) error {
		if row.RunID != nil {
			known, err := storage.RunExists(ctx, tx, *row.RunID)
			if err != nil {
				return err
			}
			if !known {
				// Still recorded, under the run id it claimed.
				orphan = true
				row.ClaimedRunID, row.RunID = row.RunID, nil
			}
		}
		var err error
		id, err = storage.InsertDeadLetter(ctx, tx, row)
		return err
	})
	return id, orphan, err
}
