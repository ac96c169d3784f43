package orchestrator

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/patterns"
	"github.com/dawsos/dawsos/storage"
)

// RunDocument is a run as the API shows it (ARCHITECTURE.md §6).
type RunDocument struct {
	RunID       string `json:"run_id"`
	Pattern     string `json:"pattern"`
	PatternHash string `json:"pattern_hash"`
	// PatternVersion is the version field of the pattern version the run
	// is pinned to (its pattern_hash).
	PatternVersion string                     `json:"pattern_version"`
	Status         string                     `json:"status"`
	Inputs         json.RawMessage            `json:"inputs"`
	Context        json.RawMessage            `json:"context"`
	Outputs        map[string]json.RawMessage `json:"outputs"`
	Steps          []StepDocument             `json:"steps"`
	Errors         []StepErrorDocument        `json:"errors"`
	CorrelationID  string                     `json:"correlation_id"`
	CreatedAt      time.Time                  `json:"created_at"`
	FinishedAt     *time.Time                 `json:"finished_at"`
	Display        json.RawMessage            `json:"display,omitempty"`
	Presentation   json.RawMessage            `json:"presentation,omitempty"`
	// Trace is the run's event log in order (the first 1,000 events; SSE
	// and ?after= page through longer ones).
	Trace []TraceEntry `json:"trace"`
	// Files are the report files the run's steps stored, in the order
	// they were first stored.
	Files []FileLink `json:"files"`
}

// FileLink is one file a run produced, as its document links it.
type FileLink struct {
	ID        string `json:"id"`
	StepID    string `json:"step_id"`
	Name      string `json:"name"`
	MediaType string `json:"media_type"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
	// Download is the path that serves the file.
	Download string `json:"download"`
}

// TraceEntry is one event of a run's trace.
type TraceEntry struct {
	Seq    int64     `json:"seq"`
	Type   string    `json:"type"`
	StepID string    `json:"step_id,omitempty"`
	At     time.Time `json:"at"`
}

// StepDocument is one step of a run document.
type StepDocument struct {
	ID         string          `json:"id"`
	Capability string          `json:"capability"`
	Status     string          `json:"status"`
	Attempts   int             `json:"attempts"`
	Tries      int             `json:"tries"`
	DependsOn  []string        `json:"depends_on"`
	Agent      *string         `json:"agent,omitempty"`
	StartedAt  *time.Time      `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at"`
	DurationMS *float64        `json:"duration_ms"`
	Error      json.RawMessage `json:"error,omitempty"`
	// BlockedBy names the failed dependencies of a step that could not run.
	BlockedBy []string `json:"blocked_by,omitempty"`
}

// StepErrorDocument lists one failed step in the run's errors.
type StepErrorDocument struct {
	StepID     string          `json:"step_id"`
	Capability string          `json:"capability"`
	Status     string          `json:"status"`
	Error      json.RawMessage `json:"error"`
}

// Get returns a run document.
func (e *Engine) Get(ctx context.Context, runID string) (*RunDocument, error) {
	var run storage.RunRow
	var steps []storage.StepRow
	var events []storage.EventRow
	var files []storage.File
	var p *patterns.Pattern
	err := e.db.Snapshot(ctx, func(tx pgx.Tx) error {
		var err error
		if run, err = storage.GetRun(ctx, tx, runID, false); err != nil {
			return err
		}
		if steps, err = storage.RunSteps(ctx, tx, runID); err != nil {
			return err
		}
		if events, err = storage.EventsAfter(ctx, tx, runID, 0, 1000); err != nil {
			return err
		}
		if files, err = storage.RunFiles(ctx, tx, run.ID); err != nil {
			return err
		}
		// A run whose version cannot be loaded is still shown, without
		// outputs.
		p, _ = e.versions.get(ctx, tx, run.Pattern, run.PatternHash)
		return nil
	})
	if err != nil {
		return nil, err
	}
	d := document(run, steps, p)
	d.Trace = make([]TraceEntry, 0, len(events))
	for _, ev := range events {
		d.Trace = append(d.Trace, TraceEntry{Seq: ev.Seq, Type: ev.Type, StepID: ev.StepID, At: ev.CreatedAt})
	}
	d.Files = make([]FileLink, 0, len(files))
	for _, f := range files {
		d.Files = append(d.Files, FileLink{ID: f.ID.String(), StepID: f.StepID, Name: f.Name, MediaType: f.MediaType,
			Size: f.Size, SHA256: f.SHA256, Download: "/v1/files/" + f.ID.String()})
	}
	return d, nil
}

func document(run storage.RunRow, steps []storage.StepRow, p *patterns.Pattern) *RunDocument {
	d := &RunDocument{
		RunID: run.ID, Pattern: run.Pattern, PatternHash: run.PatternHash, Status: run.Status,
		Inputs: run.Inputs, Context: run.Context, CorrelationID: run.CorrelationID,
		CreatedAt: run.CreatedAt, FinishedAt: run.FinishedAt,
		Outputs: map[string]json.RawMessage{}, Steps: []StepDocument{}, Errors: []StepErrorDocument{},
	}
	status := map[string]string{}
	for _, s := range steps {
		status[s.StepID] = s.Status
	}
	outs := map[string]json.RawMessage{}
	for _, s := range steps {
		sd := StepDocument{
			ID: s.StepID, Capability: s.Capability, Status: s.Status, Attempts: s.Attempt, Tries: s.Tries,
			DependsOn: s.Deps, Agent: s.Agent, StartedAt: s.StartedAt, FinishedAt: s.FinishedAt,
			DurationMS: s.DurationMS, Error: s.Error,
		}
		if sd.DependsOn == nil {
			sd.DependsOn = []string{}
		}
		if s.Status == storage.StepPending && run.Status != storage.RunRunning {
			for _, dep := range s.Deps {
				if st := status[dep]; st == storage.StepFailed || st == storage.StepDeadLettered || st == storage.StepPending {
					sd.BlockedBy = append(sd.BlockedBy, dep)
				}
			}
		}
		d.Steps = append(d.Steps, sd)
		if s.Status == storage.StepFailed || s.Status == storage.StepDeadLettered {
			d.Errors = append(d.Errors, StepErrorDocument{StepID: s.StepID, Capability: s.Capability, Status: s.Status, Error: s.Error})
		}
		if s.Status == storage.StepSucceeded && p != nil {
			for _, ps := range p.Steps {
				if ps.ID == s.StepID {
					outs[ps.As] = s.Output
				}
			}
		}
	}
	if p != nil {
		d.PatternVersion = p.Version
		d.Outputs, _ = p.Collect(outs)
		d.Display, d.Presentation = p.Display, p.Presentation
	}
	return d
}

// RunSummary is a run in a list.
type RunSummary struct {
	RunID         string     `json:"run_id"`
	Pattern       string     `json:"pattern"`
	Status        string     `json:"status"`
	CorrelationID string     `json:"correlation_id"`
	CreatedAt     time.Time  `json:"created_at"`
	FinishedAt    *time.Time `json:"finished_at"`
}

// List returns runs newest first.
func (e *Engine) List(ctx context.Context, f storage.RunFilter) ([]RunSummary, error) {
	var rows []storage.RunRow
	err := e.db.Tx(ctx, func(tx pgx.Tx) error {
		var err error
		rows, err = storage.ListRuns(ctx, tx, f)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]RunSummary, 0, len(rows))
	for _, r := range rows {
		out = append(out, RunSummary{RunID: r.ID, Pattern: r.Pattern, Status: r.Status, CorrelationID: r.CorrelationID, CreatedAt: r.CreatedAt, FinishedAt: r.FinishedAt})
	}
	return out, nil
}

// Event is one run event as SSE sends it.
type Event = storage.EventRow

// Events returns a run's events after seq (at most limit).
func (e *Engine) Events(ctx context.Context, runID string, after int64, limit int) ([]Event, string, error) {
	var evs []Event
	var status string
	err := e.db.Tx(ctx, func(tx pgx.Tx) error {
		run, err := storage.GetRun(ctx, tx, runID, false)
		if err != nil {
			return err
		}
		status = run.Status
		evs, err = storage.EventsAfter(ctx, tx, runID, after, limit)
		return err
	})
	return evs, status, err
}
