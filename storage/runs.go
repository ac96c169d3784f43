package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The engine's aggregate: runs, their steps and events. The orchestrator
// owns the logic; these functions only move rows.

// Run statuses.
const (
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunPartial   = "partial"
	RunFailed    = "failed"
	RunCanceled  = "canceled"
)

// Step statuses.
const (
	StepPending      = "pending"
	StepQueued       = "queued"
	StepSucceeded    = "succeeded"
	StepFailed       = "failed"
	StepDeadLettered = "dead_lettered"
	StepSkipped      = "skipped"
	StepCanceled     = "canceled"
)

// ErrRunNotFound is returned when a run id names no run; it is an
// ErrNotFound.
var ErrRunNotFound = fmt.Errorf("run %w", ErrNotFound)

// RunRow is one row of runs.
type RunRow struct {
	ID             string
	Pattern        string
	PatternHash    string
	Status         string
	Inputs         json.RawMessage
	Context        json.RawMessage
	CorrelationID  string
	IdempotencyKey *string
	// RequestHash fingerprints the request an idempotency key came with.
	RequestHash *string
	UserID      *string
	EventSeq    int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
	FinishedAt  *time.Time
}

const runCols = `id, pattern, pattern_hash, status, inputs, context, correlation_id, idempotency_key, user_id, event_seq, created_at, updated_at, finished_at`

func scanRun(row pgx.Row) (RunRow, error) {
	var r RunRow
	var id [16]byte
	err := row.Scan(&id, &r.Pattern, &r.PatternHash, &r.Status, &r.Inputs, &r.Context, &r.CorrelationID,
		&r.IdempotencyKey, &r.UserID, &r.EventSeq, &r.CreatedAt, &r.UpdatedAt, &r.FinishedAt)
	r.ID = uuidString(id)
	return r, err
}

// RunIDByIdempotencyKey finds the run submitted earlier with the same key,
// and the fingerprint of the request it was submitted with ("" for runs
// accepted before fingerprints were kept).
func RunIDByIdempotencyKey(ctx context.Context, q Querier, key string) (id, requestHash string, found bool, err error) {
	runs, err := RunsByIdempotencyKeys(ctx, q, []string{key})
	if err != nil {
		return "", "", false, err
	}
	r, found := runs[key]
	return r.ID, r.RequestHash, found, nil
}

// KeyedRun is a run found by its idempotency key.
type KeyedRun struct {
	ID string
	// RequestHash fingerprints the request the run was submitted with
	// ("" for runs accepted before fingerprints were kept).
	RequestHash string
}

// RunsByIdempotencyKeys finds the runs submitted earlier with any of the
// keys, in one statement, by key.
func RunsByIdempotencyKeys(ctx context.Context, q Querier, keys []string) (map[string]KeyedRun, error) {
	rows, err := q.Query(ctx, `SELECT idempotency_key, id, coalesce(request_hash, '') FROM runs WHERE idempotency_key = ANY($1::text[])`, keys)
	if err != nil {
		return nil, fmt.Errorf("look up idempotency keys: %w", err)
	}
	defer rows.Close()
	out := map[string]KeyedRun{}
	for rows.Next() {
		var key string
		var raw [16]byte
		var r KeyedRun
		if err := rows.Scan(&key, &raw, &r.RequestHash); err != nil {
			return nil, fmt.Errorf("look up idempotency keys: %w", err)
		}
		r.ID = uuidString(raw)
		out[key] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up idempotency keys: %w", err)
	}
	return out, nil
}

// RunExists reports whether a run with the id exists; an id that is not a
// uuid names none.
func RunExists(ctx context.Context, q Querier, id string) (bool, error) {
	if _, err := uuid.Parse(id); err != nil {
		return false, nil
	}
	var ok bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM runs WHERE id = $1)`, id).Scan(&ok); err != nil {
		return false, fmt.Errorf("look up run %s: %w", id, err)
	}
	return ok, nil
}

// GetRun reads one run; lock takes a row lock that serialises every change
// to the run (result application, cancel, replay).
func GetRun(ctx context.Context, q Querier, id string, lock bool) (RunRow, error) {
	sql := `SELECT ` + runCols + ` FROM runs WHERE id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	r, err := scanRun(q.QueryRow(ctx, sql, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("run %s: %w", id, ErrRunNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("read run %s: %w", id, err)
	}
	return r, nil
}

// RunFilter narrows ListRuns.
type RunFilter struct {
	Pattern string
	Status  string
	// UserID, when set, keeps the runs that user submitted.
	UserID string
	// Portfolio keeps the runs whose portfolio_id input it is.
	Portfolio string
	// Capability keeps the runs with a step of that capability.
	Capability string
	// Failing keeps the runs with a failed or dead-lettered step whose id
	// or capability it is.
	Failing string
	// Since and Before bound created_at: Since <= created_at < Before.
	Since  *time.Time
	Before *time.Time
	Limit  int
}

// ListRuns returns runs newest first.
func ListRuns(ctx context.Context, q Querier, f RunFilter) ([]RunRow, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	rows, err := q.Query(ctx, `SELECT `+runCols+` FROM runs
		WHERE ($1 = '' OR pattern = $1) AND ($2 = '' OR status = $2) AND ($3::timestamptz IS NULL OR created_at < $3)
			AND ($5 = '' OR user_id = $5) AND ($6 = '' OR inputs->>'portfolio_id' = $6)
			AND ($7::timestamptz IS NULL OR created_at >= $7)
			AND ($8 = '' OR EXISTS (SELECT 1 FROM run_steps s WHERE s.run_id = runs.id AND s.capability = $8))
			AND ($9 = '' OR EXISTS (SELECT 1 FROM run_steps s WHERE s.run_id = runs.id
				AND s.status IN ('failed', 'dead_lettered') AND (s.step_id = $9 OR s.capability = $9)))
		ORDER BY created_at DESC LIMIT $4`, f.Pattern, f.Status, f.Before, f.Limit, f.UserID, f.Portfolio, f.Since, f.Capability, f.Failing)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	out, err := collect(rows, scanRun)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return out, nil
}

// RunningRunIDs lists the runs that are not terminal, oldest first.
func RunningRunIDs(ctx context.Context, q Querier) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT id FROM runs WHERE status = 'running' ORDER BY created_at`)
	if err != nil {
		return nil, fmt.Errorf("list running runs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var id [16]byte
		err := r.Scan(&id)
		return uuidString(id), err
	})
	if err != nil {
		return nil, fmt.Errorf("list running runs: %w", err)
	}
	return out, nil
}

// CountRunsByStatus feeds the runs metric.
func CountRunsByStatus(ctx context.Context, q Querier) (map[string]int64, error) {
	rows, err := q.Query(ctx, `SELECT status, count(*) FROM runs GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count runs: %w", err)
	}
	out := map[string]int64{}
	var s string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&s, &n}, func() error { out[s] = n; return nil }); err != nil {
		return nil, fmt.Errorf("count runs: %w", err)
	}
	return out, nil
}

// StepRow is one row of run_steps.
type StepRow struct {
	RunID        string
	StepID       string
	Seq          int
	Capability   string
	Status       string
	Deps         []string
	Attempt      int
	Tries        int
	Args         json.RawMessage
	Output       json.RawMessage
	Error        json.RawMessage
	Agent        *string
	DispatchedAt *time.Time
	Deadline     *time.Time
	StartedAt    *time.Time
	FinishedAt   *time.Time
	DurationMS   *float64
}

const stepCols = `run_id, step_id, seq, capability, status, deps, attempt, tries, args, output, error, agent, dispatched_at, deadline, started_at, finished_at, duration_ms`

func scanStep(row pgx.Row) (StepRow, error) {
	var s StepRow
	var id [16]byte
	err := row.Scan(&id, &s.StepID, &s.Seq, &s.Capability, &s.Status, &s.Deps, &s.Attempt, &s.Tries,
		&s.Args, &s.Output, &s.Error, &s.Agent, &s.DispatchedAt, &s.Deadline, &s.StartedAt, &s.FinishedAt, &s.DurationMS)
	s.RunID = uuidString(id)
	return s, err
}

// RunSteps returns a run's steps in pattern order.
func RunSteps(ctx context.Context, q Querier, runID string) ([]StepRow, error) {
	rows, err := q.Query(ctx, `SELECT `+stepCols+` FROM run_steps WHERE run_id = $1 ORDER BY seq`, runID)
	if err != nil {
		return nil, fmt.Errorf("read steps of run %s: %w", runID, err)
	}
	out, err := collect(rows, scanStep)
	if err != nil {
		return nil, fmt.Errorf("read steps of run %s: %w", runID, err)
	}
	return out, nil
}

// DueStep names a queued step whose deadline has passed.
type DueStep struct {
	RunID  string
	StepID string
}

// DueSteps lists queued steps whose deadline is before now.
func DueSteps(ctx context.Context, q Querier, now time.Time, limit int) ([]DueStep, error) {
	rows, err := q.Query(ctx, `SELECT run_id, step_id FROM run_steps WHERE status = 'queued' AND deadline < $1 ORDER BY deadline LIMIT $2`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("list due steps: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DueStep, error) {
		var id [16]byte
		var d DueStep
		err := r.Scan(&id, &d.StepID)
		d.RunID = uuidString(id)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("list due steps: %w", err)
	}
	return out, nil
}

// EventRow is one row of run_events.
type EventRow struct {
	RunID     string
	Seq       int64
	Type      string
	StepID    string
	Data      json.RawMessage
	CreatedAt time.Time
}

// EventsAfter returns a run's events with seq > after, in order.
func EventsAfter(ctx context.Context, q Querier, runID string, after int64, limit int) ([]EventRow, error) {
	rows, err := q.Query(ctx, `SELECT seq, type, coalesce(step_id, ''), data, created_at FROM run_events
		WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, runID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read events of run %s: %w", runID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (EventRow, error) {
		e := EventRow{RunID: runID}
		err := r.Scan(&e.Seq, &e.Type, &e.StepID, &e.Data, &e.CreatedAt)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read events of run %s: %w", runID, err)
	}
	return out, nil
}

func uuidString(b [16]byte) string { return uuid.UUID(b).String() }

// RunChanges is everything one orchestrator decision writes. It is sent to
// the server as one batch: one round trip inside the caller's transaction,
// which must hold the run's row lock (or be creating the run).
type RunChanges struct {
	RunID string
	// NewRun and NewSteps create a run; Version, when set, stores the
	// pattern version the run pins (before the run, whose key needs it).
	NewRun   *RunRow
	NewSteps []StepRow
	Version  *PatternVersion
	// Steps are existing steps whose mutable fields are written back.
	Steps []StepRow
	// Events are numbered after EventSeq, the run's last event number as
	// read under the lock (0 for a new run).
	Events   []EventRow
	EventSeq int64
	// Status, when set, moves the run to it (finished_at follows).
	Status string
	// Audit, when set, is the audit row of the request that made the
	// change, written in the same batch.
	Audit *AuditEntry
}

// PatternVersion is a row of pattern_versions.
type PatternVersion struct {
	Hash, PatternID, Version string
	Document                 []byte
}

// WriteRunChanges writes c and returns the events with their numbers.
func WriteRunChanges(ctx context.Context, q Querier, c RunChanges) ([]EventRow, error) {
	b := &pgx.Batch{}
	evs := QueueManyRunChanges(b, []RunChanges{c})[0]
	if b.Len() == 0 {
		return nil, nil
	}
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("write changes of run %s: %w", c.RunID, err)
	}
	return evs, nil
}

// QueueManyRunChanges adds the statements that write the changes of
// several runs to b: one set-based statement per kind of change (new runs,
// new steps, changed steps, events, run updates) whatever the number of
// runs, so a batch of decisions costs the server a handful of statements.
// It returns each run's events with their numbers.
func QueueManyRunChanges(b *pgx.Batch, cs []RunChanges) [][]EventRow {
	now := time.Now().UTC()
	out := make([][]EventRow, len(cs))
	var pv struct{ hash, id, version, doc []string }
	seenVersion := map[string]bool{}
	for _, c := range cs {
		if v := c.Version; v != nil && !seenVersion[v.Hash] {
			seenVersion[v.Hash] = true
			pv.hash, pv.id = append(pv.hash, v.Hash), append(pv.id, v.PatternID)
			pv.version, pv.doc = append(pv.version, v.Version), append(pv.doc, string(v.Document))
		}
	}
	if len(pv.hash) > 0 {
		b.Queue(`INSERT INTO pattern_versions (hash, pattern_id, version, document)
			SELECT h, i, v, d::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS x(h, i, v, d)
			ON CONFLICT (hash) DO NOTHING`, pv.hash, pv.id, pv.version, pv.doc)
	}
	var (
		nr struct {
			id, pattern, hash, inputs, context, corr, status []string
			idem, user, reqHash                              []*string
			seq                                              []int64
		}
		ns struct {
			run, step, capability, status, deps []string
			seq, attempt                        []int32
			args, errs                          []*string
			dispatched, deadline, finished      []*time.Time
		}
		us struct {
			run, step, status                       []string
			attempt, tries                          []int32
			args, output, errs, agent               []*string
			dispatched, deadline, started, finished []*time.Time
			duration                                []*float64
		}
		ev struct {
			run, typ, data []string
			seq            []int64
			step           []*string
		}
		ru struct {
			id, status []string
			seq        []int64
		}
	)
	js := func(r json.RawMessage) *string {
		if r == nil {
			return nil
		}
		v := string(r)
		return &v
	}
	for i, c := range cs {
		newRun := c.NewRun != nil
		if r := c.NewRun; r != nil {
			status := c.Status
			if status == "" {
				status = RunRunning
			}
			nr.status = append(nr.status, status)
			nr.seq = append(nr.seq, c.EventSeq+int64(len(c.Events)))
			nr.id = append(nr.id, r.ID)
			nr.pattern = append(nr.pattern, r.Pattern)
			nr.hash = append(nr.hash, r.PatternHash)
			nr.inputs = append(nr.inputs, string(r.Inputs))
			nr.context = append(nr.context, string(r.Context))
			nr.corr = append(nr.corr, r.CorrelationID)
			nr.idem = append(nr.idem, r.IdempotencyKey)
			nr.reqHash = append(nr.reqHash, r.RequestHash)
			nr.user = append(nr.user, r.UserID)
		}
		for _, st := range c.NewSteps {
			deps, _ := json.Marshal(st.Deps)
			if st.Deps == nil {
				deps = []byte("[]")
			}
			ns.run = append(ns.run, st.RunID)
			ns.step = append(ns.step, st.StepID)
			ns.seq = append(ns.seq, int32(st.Seq))
			ns.capability = append(ns.capability, st.Capability)
			ns.status = append(ns.status, st.Status)
			ns.deps = append(ns.deps, string(deps))
			ns.attempt = append(ns.attempt, int32(st.Attempt))
			ns.args = append(ns.args, js(st.Args))
			ns.errs = append(ns.errs, js(st.Error))
			ns.dispatched = append(ns.dispatched, st.DispatchedAt)
			ns.deadline = append(ns.deadline, st.Deadline)
			ns.finished = append(ns.finished, st.FinishedAt)
		}
		for _, st := range c.Steps {
			us.run = append(us.run, st.RunID)
			us.step = append(us.step, st.StepID)
			us.status = append(us.status, st.Status)
			us.attempt = append(us.attempt, int32(st.Attempt))
			us.tries = append(us.tries, int32(st.Tries))
			us.args = append(us.args, js(st.Args))
			us.output = append(us.output, js(st.Output))
			us.errs = append(us.errs, js(st.Error))
			us.agent = append(us.agent, st.Agent)
			us.dispatched = append(us.dispatched, st.DispatchedAt)
			us.deadline = append(us.deadline, st.Deadline)
			us.started = append(us.started, st.StartedAt)
			us.finished = append(us.finished, st.FinishedAt)
			us.duration = append(us.duration, st.DurationMS)
		}
		evs := make([]EventRow, len(c.Events))
		for j, e := range c.Events {
			e.RunID = c.RunID
			e.Seq = c.EventSeq + int64(j) + 1
			e.CreatedAt = now
			if e.Data == nil {
				e.Data = json.RawMessage(`{}`)
			}
			var step *string
			if e.StepID != "" {
				id := e.StepID
				step = &id
			}
			ev.run = append(ev.run, c.RunID)
			ev.seq = append(ev.seq, e.Seq)
			ev.typ = append(ev.typ, e.Type)
			ev.step = append(ev.step, step)
			ev.data = append(ev.data, string(e.Data))
			evs[j] = e
		}
		out[i] = evs
		// A new run is inserted with its event count and status already.
		if !newRun && (len(evs) > 0 || c.Status != "") {
			ru.id = append(ru.id, c.RunID)
			ru.seq = append(ru.seq, c.EventSeq+int64(len(evs)))
			ru.status = append(ru.status, c.Status)
		}
	}
	if len(nr.id) > 0 {
		b.Queue(`INSERT INTO runs (id, pattern, pattern_hash, status, inputs, context, correlation_id, idempotency_key, user_id, event_seq, finished_at, request_hash)
			SELECT id, p, h, st, i::jsonb, c::jsonb, corr, idem, u, q, CASE WHEN st = 'running' THEN NULL ELSE now() END, rh
			FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::text[])
				AS x(id, p, h, i, c, corr, idem, u, st, q, rh)`,
			nr.id, nr.pattern, nr.hash, nr.inputs, nr.context, nr.corr, nr.idem, nr.user, nr.status, nr.seq, nr.reqHash)
	}
	if len(ns.run) > 0 {
		b.Queue(`INSERT INTO run_steps (run_id, step_id, seq, capability, status, deps, attempt, args, error, dispatched_at, deadline, finished_at)
			SELECT r, s, q, c, st, ARRAY(SELECT jsonb_array_elements_text(d::jsonb)), a, ar::jsonb, e::jsonb, di, de, f
			FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::text[],
				$10::timestamptz[], $11::timestamptz[], $12::timestamptz[]) AS x(r, s, q, c, st, d, a, ar, e, di, de, f)`,
			ns.run, ns.step, ns.seq, ns.capability, ns.status, ns.deps, ns.attempt, ns.args, ns.errs, ns.dispatched, ns.deadline, ns.finished)
	}
	if len(us.run) > 0 {
		b.Queue(`UPDATE run_steps s SET status = x.st, attempt = x.a, tries = x.t, args = x.ar::jsonb, output = x.o::jsonb,
				error = x.e::jsonb, agent = x.ag, dispatched_at = x.di, deadline = x.de, started_at = x.sa, finished_at = x.f,
				duration_ms = x.du
			FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::int[], $6::text[], $7::text[], $8::text[], $9::text[],
				$10::timestamptz[], $11::timestamptz[], $12::timestamptz[], $13::timestamptz[], $14::float8[])
				AS x(r, s, st, a, t, ar, o, e, ag, di, de, sa, f, du)
			WHERE s.run_id = x.r AND s.step_id = x.s`,
			us.run, us.step, us.status, us.attempt, us.tries, us.args, us.output, us.errs, us.agent,
			us.dispatched, us.deadline, us.started, us.finished, us.duration)
	}
	if len(ev.run) > 0 {
		b.Queue(`INSERT INTO run_events (run_id, seq, type, step_id, data, created_at)
			SELECT r, q, t, s, d::jsonb, $6 FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::text[]) AS x(r, q, t, s, d)`,
			ev.run, ev.seq, ev.typ, ev.step, ev.data, now)
	}
	for _, c := range cs {
		if c.Audit != nil {
			QueueAudit(b, *c.Audit)
		}
	}
	if len(ru.id) > 0 {
		b.Queue(`UPDATE runs r SET event_seq = x.q, updated_at = now(),
				status = CASE WHEN x.st = '' THEN r.status ELSE x.st END,
				finished_at = CASE WHEN x.st = '' THEN r.finished_at WHEN x.st = 'running' THEN NULL ELSE now() END
			FROM unnest($1::uuid[], $2::bigint[], $3::text[]) AS x(id, q, st) WHERE r.id = x.id`,
			ru.id, ru.seq, ru.status)
	}
	return out
}

// LoadRunsForUpdate locks several runs, in id order so that concurrent
// callers cannot deadlock, and reads them with their steps in one round
// trip. Ids that name no run are absent from the result.
func LoadRunsForUpdate(ctx context.Context, q Querier, ids []string) (map[string]RunRow, map[string][]StepRow, error) {
	b := &pgx.Batch{}
	l := QueueLoadRunsForUpdate(b, ids)
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return nil, nil, fmt.Errorf("load %d runs: %w", len(ids), err)
	}
	return l.Runs, l.Steps, nil
}

// LockedRuns are runs read by QueueLoadRunsForUpdate, filled in when its
// batch is closed.
type LockedRuns struct {
	Runs  map[string]RunRow
	Steps map[string][]StepRow
}

// QueueLoadRunsForUpdate adds to b the statements of LoadRunsForUpdate, for
// a caller that sends them with others (storage.PipelinedTx).
func QueueLoadRunsForUpdate(b *pgx.Batch, ids []string) *LockedRuns {
	l := &LockedRuns{Runs: make(map[string]RunRow, len(ids)), Steps: make(map[string][]StepRow, len(ids))}
	b.Queue(`SELECT `+runCols+` FROM runs WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, ids).Query(func(rows pgx.Rows) error {
		rs, err := collect(rows, scanRun)
		for _, r := range rs {
			l.Runs[r.ID] = r
		}
		return err
	})
	b.Queue(`SELECT `+stepCols+` FROM run_steps WHERE run_id = ANY($1::uuid[]) ORDER BY run_id, seq`, ids).Query(func(rows pgx.Rows) error {
		ss, err := collect(rows, scanStep)
		for _, s := range ss {
			l.Steps[s.RunID] = append(l.Steps[s.RunID], s)
		}
		return err
	})
	return l
}

// LoadRunForUpdate locks a run and reads it with its steps in one round
// trip.
func LoadRunForUpdate(ctx context.Context, q Querier, runID string) (RunRow, []StepRow, error) {
	b := &pgx.Batch{}
	var run RunRow
	var runErr error
	b.Queue(`SELECT `+runCols+` FROM runs WHERE id = $1 FOR UPDATE`, runID).QueryRow(func(row pgx.Row) error {
		run, runErr = scanRun(row)
		if errors.Is(runErr, pgx.ErrNoRows) {
			runErr = fmt.Errorf("run %s: %w", runID, ErrRunNotFound)
		}
		return nil
	})
	var steps []StepRow
	b.Queue(`SELECT `+stepCols+` FROM run_steps WHERE run_id = $1 ORDER BY seq`, runID).Query(func(rows pgx.Rows) (err error) {
		steps, err = collect(rows, scanStep)
		return err
	})
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return run, nil, fmt.Errorf("load run %s: %w", runID, err)
	}
	return run, steps, runErr
}
