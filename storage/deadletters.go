package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrDeadLetterNotFound is returned when an id names no dead letter.
var ErrDeadLetterNotFound = fmt.Errorf("dead letter %w", ErrNotFound)

// DeadLetterRow is one row of dead_letters.
type DeadLetterRow struct {
	ID         string  `json:"id"`
	RunID      *string `json:"run_id,omitempty"`
	StepID     *string `json:"step_id,omitempty"`
	Attempt    *int    `json:"attempt,omitempty"`
	Capability string  `json:"capability"`
	// ClaimedRunID is the run id the message named when no such run
	// exists here (RunID is then nil).
	ClaimedRunID *string `json:"claimed_run_id,omitempty"`
	// Source is "step" for a step request, "result" for a step result the
	// orchestrator could not read.
	Source        string          `json:"source"`
	Reason        string          `json:"reason"`
	Request       json.RawMessage `json:"request,omitempty"`
	RawPayload    []byte          `json:"raw_payload,omitempty"`
	Error         json.RawMessage `json:"error"`
	Tries         int             `json:"tries"`
	CorrelationID *string         `json:"correlation_id,omitempty"`
	Status        string          `json:"status"`
	CreatedAt     time.Time       `json:"created_at"`
	ReplayedAt    *time.Time      `json:"replayed_at,omitempty"`
}

const dlCols = `id, run_id, step_id, attempt, capability, claimed_run_id, source, reason, request, raw_payload, error, tries, correlation_id, status, created_at, replayed_at`

func scanDL(row pgx.Row) (DeadLetterRow, error) {
	var d DeadLetterRow
	var id [16]byte
	var run *[16]byte
	err := row.Scan(&id, &run, &d.StepID, &d.Attempt, &d.Capability, &d.ClaimedRunID, &d.Source, &d.Reason, &d.Request, &d.RawPayload,
		&d.Error, &d.Tries, &d.CorrelationID, &d.Status, &d.CreatedAt, &d.ReplayedAt)
	d.ID = uuidString(id)
	if run != nil {
		s := uuidString(*run)
		d.RunID = &s
	}
	return d, err
}

// InsertDeadLetter records a dead letter. The same (run, step, attempt)
// recorded twice keeps the first row, whose id is returned; so does the
// same (claimed run, step, attempt, source) of an orphan.
func InsertDeadLetter(ctx context.Context, q Querier, d DeadLetterRow) (string, error) {
	var id [16]byte
	if d.Source == "" {
		d.Source = "step"
	}
	err := q.QueryRow(ctx, `INSERT INTO dead_letters (id, run_id, step_id, attempt, capability, source, reason, request, raw_payload, error, tries, correlation_id, claimed_run_id)
		VALUES ($1, $2, $3, $4, $5, $12, $6, $7, $8, $9, $10, $11, $13)
		ON CONFLICT DO NOTHING
		RETURNING id`,
		d.ID, d.RunID, d.StepID, d.Attempt, d.Capability, d.Reason, d.Request, d.RawPayload, d.Error, d.Tries, d.CorrelationID, d.Source, d.ClaimedRunID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		err = q.QueryRow(ctx, `SELECT id FROM dead_letters WHERE step_id = $2 AND attempt = $3
			AND ((run_id = $1) OR (run_id IS NULL AND claimed_run_id = $4 AND source = $5))`,
			d.RunID, d.StepID, d.Attempt, d.ClaimedRunID, d.Source).Scan(&id)
	}
	if err != nil {
		return "", fmt.Errorf("record dead letter of %s: %w", d.Capability, err)
	}
	return uuidString(id), nil
}

// GetDeadLetter reads one dead letter, optionally locking it.
func GetDeadLetter(ctx context.Context, q Querier, id string, lock bool) (DeadLetterRow, error) {
	sql := `SELECT ` + dlCols + ` FROM dead_letters WHERE id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	d, err := scanDL(q.QueryRow(ctx, sql, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return d, fmt.Errorf("dead letter %s: %w", id, ErrDeadLetterNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("read dead letter %s: %w", id, err)
	}
	return d, nil
}

// DeadLetterFilter narrows ListDeadLetters.
type DeadLetterFilter struct {
	Capability string
	Status     string
	RunID      string
	// UserID, when set, keeps the dead letters of runs that user
	// submitted.
	UserID string
	Limit  int
}

// ListDeadLetters returns dead letters newest first.
func ListDeadLetters(ctx context.Context, q Querier, f DeadLetterFilter) ([]DeadLetterRow, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	rows, err := q.Query(ctx, `SELECT `+dlCols+` FROM dead_letters
		WHERE ($1 = '' OR capability = $1) AND ($2 = '' OR status = $2) AND ($3 = '' OR run_id::text = $3)
			AND ($5 = '' OR run_id IN (SELECT id FROM runs WHERE user_id = $5))
		ORDER BY created_at DESC LIMIT $4`, f.Capability, f.Status, f.RunID, f.Limit, f.UserID)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	out, err := collect(rows, scanDL)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	return out, nil
}

// MarkDeadLetterReplayed records that a dead letter was replayed.
func MarkDeadLetterReplayed(ctx context.Context, q Querier, id string) error {
	_, err := q.Exec(ctx, `UPDATE dead_letters SET status = 'replayed', replayed_at = now() WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("mark dead letter %s replayed: %w", id, err)
	}
	return nil
}

// DiscardDeadLetters marks a run's pending dead letters discarded: those of
// one step before attempt (its step moved on to a newer attempt), or, with
// an empty stepID, all of them (the run was canceled).
func DiscardDeadLetters(ctx context.Context, q Querier, runID, stepID string, attempt int) error {
	_, err := q.Exec(ctx, `UPDATE dead_letters SET status = 'discarded'
		WHERE run_id = $1 AND status = 'pending' AND ($2 = '' OR (step_id = $2 AND attempt < $3))`, runID, stepID, attempt)
	if err != nil {
		return fmt.Errorf("discard dead letters of run %s: %w", runID, err)
	}
	return nil
}

// DeadLetterDepth counts pending dead letters per capability (a metric).
func DeadLetterDepth(ctx context.Context, q Querier) (map[string]int64, error) {
	rows, err := q.Query(ctx, `SELECT capability, count(*) FROM dead_letters WHERE status = 'pending' GROUP BY capability`)
	if err != nil {
		return nil, fmt.Errorf("count dead letters: %w", err)
	}
	out := map[string]int64{}
	var c string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&c, &n}, func() error { out[c] = n; return nil }); err != nil {
		return nil, fmt.Errorf("count dead letters: %w", err)
	}
	return out, nil
}

// ReplayRow is one row of replays.
type ReplayRow struct {
	ID           string          `json:"id"`
	DeadLetterID string          `json:"dead_letter_id"`
	Token        *string         `json:"token,omitempty"`
	RequestedBy  string          `json:"requested_by"`
	Args         json.RawMessage `json:"args,omitempty"`
	Attempt      int             `json:"attempt"`
	Outcome      string          `json:"outcome"`
	CreatedAt    time.Time       `json:"created_at"`
	FinishedAt   *time.Time      `json:"finished_at,omitempty"`
}

const replayCols = `id, dead_letter_id, token, requested_by, args, attempt, outcome, created_at, finished_at`

func scanReplay(row pgx.Row) (ReplayRow, error) {
	var r ReplayRow
	var id, dl [16]byte
	err := row.Scan(&id, &dl, &r.Token, &r.RequestedBy, &r.Args, &r.Attempt, &r.Outcome, &r.CreatedAt, &r.FinishedAt)
	r.ID, r.DeadLetterID = uuidString(id), uuidString(dl)
	return r, err
}

// ReplayByToken finds an earlier replay with the same client token.
func ReplayByToken(ctx context.Context, q Querier, token string) (ReplayRow, bool, error) {
	r, err := scanReplay(q.QueryRow(ctx, `SELECT `+replayCols+` FROM replays WHERE token = $1`, token))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("look up replay token: %w", err)
	}
	return r, true, nil
}

// InsertReplay records a replay.
func InsertReplay(ctx context.Context, q Querier, r ReplayRow) (ReplayRow, error) {
	out, err := scanReplay(q.QueryRow(ctx, `INSERT INTO replays (id, dead_letter_id, token, requested_by, args, attempt)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+replayCols,
		r.ID, r.DeadLetterID, r.Token, r.RequestedBy, r.Args, r.Attempt))
	if err != nil {
		return out, fmt.Errorf("record replay of %s: %w", r.DeadLetterID, err)
	}
	return out, nil
}

// QueueReplayOutcome records, in a batch, how the step replayed as attempt
// ended.
func QueueReplayOutcome(b *pgx.Batch, runID, stepID string, attempt int, outcome string) {
	b.Queue(`UPDATE replays SET outcome = $4, finished_at = now()
		WHERE attempt = $3 AND outcome = 'dispatched' AND dead_letter_id IN
		(SELECT id FROM dead_letters WHERE run_id = $1 AND step_id = $2)`, runID, stepID, attempt, outcome)
}

// ReplaysOf lists the replays of a dead letter, oldest first.
func ReplaysOf(ctx context.Context, q Querier, deadLetterID string) ([]ReplayRow, error) {
	rows, err := q.Query(ctx, `SELECT `+replayCols+` FROM replays WHERE dead_letter_id = $1 ORDER BY created_at`, deadLetterID)
	if err != nil {
		return nil, fmt.Errorf("list replays: %w", err)
	}
	out, err := collect(rows, scanReplay)
	if err != nil {
		return nil, fmt.Errorf("list replays of %s: %w", deadLetterID, err)
	}
	return out, nil
}
