package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/patterns"
	"github.com/dawsos/dawsos/storage"
)

// runState is a run loaded for a decision: its pattern, inputs, context
// and steps. The scheduling decisions are made on it in memory and written
// back in the same transaction that holds the run's row lock.
type runState struct {
	pattern *patterns.Pattern
	run     storage.RunRow
	inputs  map[string]any
	rc      agents.RunContext
	steps   []*stepState // in pattern (topological) order
	byID    map[string]*stepState
}

type stepState struct {
	def     *patterns.Step
	row     storage.StepRow
	changed bool
}

// newRunState builds the state of a run that is being submitted.
func newRunState(p *patterns.Pattern, run storage.RunRow, inputs map[string]any, rc agents.RunContext) *runState {
	rc.RunID = run.ID
	st := &runState{pattern: p, run: run, inputs: inputs, rc: rc, byID: map[string]*stepState{}}
	idOfAs := map[string]string{}
	for _, s := range p.Steps {
		idOfAs[s.As] = s.ID
	}
	seq := map[string]int{}
	for i, s := range p.Steps {
		seq[s.ID] = i
	}
	for _, s := range p.Order() {
		deps := make([]string, 0, len(s.Deps))
		for _, as := range s.Deps {
			deps = append(deps, idOfAs[as])
		}
		ss := &stepState{def: s, row: storage.StepRow{
			RunID: run.ID, StepID: s.ID, Seq: seq[s.ID], Capability: s.Capability,
			Status: storage.StepPending, Deps: deps,
		}}
		st.steps = append(st.steps, ss)
		st.byID[s.ID] = ss
	}
	return st
}

// loadRunState reads a run and its steps inside tx (the run row locked).
func (e *Engine) loadRunState(ctx context.Context, q storage.Querier, runID string) (*runState, error) {
	run, rows, err := storage.LoadRunForUpdate(ctx, q, runID)
	if err != nil {
		return nil, err
	}
	return e.stateOf(ctx, q, run, rows)
}

// unrunnableError says that no decision can be made for a run: its pattern
// version cannot be loaded, or its stored inputs or context cannot be
// read. Such a run is ended as failed rather than retried forever.
type unrunnableError struct {
	runID string
	err   error
}

func (e *unrunnableError) Error() string {
	return "run " + e.runID + " cannot be decided: " + e.err.Error()
}
func (e *unrunnableError) Unwrap() error { return e.err }

// stateOf rebuilds a run's state from its rows, under the pattern version
// the run was accepted with.
func (e *Engine) stateOf(ctx context.Context, q storage.Querier, run storage.RunRow, rows []storage.StepRow) (*runState, error) {
	p, err := e.versions.get(ctx, q, run.Pattern, run.PatternHash)
	if err != nil {
		var ae *agents.Error
		if errors.As(err, &ae) && ae.Code == agents.CodeNotFound {
			return nil, &unrunnableError{run.ID, err}
		}
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(run.Inputs, &raw); err != nil {
		return nil, &unrunnableError{run.ID, fmt.Errorf("stored inputs: %w", err)}
	}
	inputs, err := patterns.RestoreInputs(p, raw)
	if err != nil {
		return nil, &unrunnableError{run.ID, fmt.Errorf("pattern %s version %s: %w", p.ID, p.Hash(), err)}
	}
	var rc agents.RunContext
	if err := json.Unmarshal(run.Context, &rc); err != nil {
		return nil, &unrunnableError{run.ID, fmt.Errorf("stored context: %w", err)}
	}
	st := newRunState(p, run, inputs, rc)
	for _, r := range rows {
		ss, ok := st.byID[r.StepID]
		if !ok {
			return nil, &unrunnableError{run.ID, fmt.Errorf("step %s is not in pattern %s version %s", r.StepID, p.ID, p.Hash())}
		}
		ss.row = r
	}
	return st, nil
}

func (st *runState) scope() patterns.Scope {
	outs := map[string]json.RawMessage{}
	for _, s := range st.steps {
		if s.row.Status == storage.StepSucceeded && s.row.Output != nil {
			outs[s.def.As] = s.row.Output
		}
	}
	return patterns.Scope{Inputs: st.inputs, Ctx: contextScope(st.rc), Steps: outs}
}

// dispatchPlan is what a decision produced: events to write and publish,
// step requests to publish after commit, and the run's terminal status if
// it ended.
type dispatchPlan struct {
	events   []storage.EventRow
	requests []bus.StepRequest
	final    string
	// reopen moves an ended run back to running (a replay).
	reopen bool
}

func stepEvent(typ string, s *stepState, data map[string]any) storage.EventRow {
	if data == nil {
		data = map[string]any{}
	}
	data["capability"] = s.row.Capability
	data["attempt"] = s.row.Attempt
	data["status"] = s.row.Status
	return storage.EventRow{Type: typ, StepID: s.row.StepID, Data: mustJSON(data)}
}

// advance decides every pending step whose dependencies are settled:
// dispatch it, skip it (its condition is false or a dependency was
// skipped), or fail it (its arguments do not resolve). Steps behind a
// failed or dead-lettered dependency stay pending: a replay may unblock
// them. When nothing is queued any more, the run ends.
func (e *Engine) advance(ctx context.Context, st *runState) dispatchPlan {
	var plan dispatchPlan
	now := time.Now().UTC()
	scope := st.scope()
	for _, s := range st.steps {
		if s.row.Status != storage.StepPending {
			continue
		}
		ready, skipped := true, false
		for _, d := range s.row.Deps {
			switch st.byID[d].row.Status {
			case storage.StepSucceeded:
			case storage.StepSkipped:
				skipped = true
			default:
				ready = false
			}
		}
		if !ready {
			continue
		}
		if skipped {
			s.finish(storage.StepSkipped, nil, now)
			plan.events = append(plan.events, stepEvent("step.skipped", s, map[string]any{"reason": "a dependency was skipped"}))
			continue
		}
		run, err := s.def.EvalCondition(ctx, scope)
		if err != nil {
			s.finish(storage.StepFailed, &bus.StepError{Code: agents.CodeInvalidInput, Message: "condition: " + err.Error()}, now)
			plan.events = append(plan.events, stepEvent("step.failed", s, map[string]any{"error": s.row.Error}))
			continue
		}
		if !run {
			s.finish(storage.StepSkipped, nil, now)
			plan.events = append(plan.events, stepEvent("step.skipped", s, map[string]any{"reason": "condition is false"}))
			continue
		}
		args, err := patterns.Resolve(s.def.Args, scope)
		if err != nil {
			code := agents.CodeInternal
			var re *patterns.ResolveError
			if errors.As(err, &re) {
				code = agents.CodeResolve
			}
			s.finish(storage.StepFailed, &bus.StepError{Code: code, Message: err.Error()}, now)
			plan.events = append(plan.events, stepEvent("step.failed", s, map[string]any{"error": s.row.Error}))
			continue
		}
		plan.requests = append(plan.requests, e.dispatch(st, s, args, now))
		plan.events = append(plan.events, stepEvent("step.dispatched", s, nil))
	}
	if status := st.terminal(); status != "" {
		plan.final = status
		st.run.Status = status
		plan.events = append(plan.events, storage.EventRow{Type: "run.completed", Data: mustJSON(st.summary())})
	}
	return plan
}

// dispatch queues a step as a new attempt with resolved arguments.
func (e *Engine) dispatch(st *runState, s *stepState, args json.RawMessage, now time.Time) bus.StepRequest {
	deadline := now.Add(e.cfg.StepDeadline(s.row.Capability))
	s.row.Status = storage.StepQueued
	s.row.Attempt++
	s.row.Args = args
	s.row.Error = nil
	s.row.Output = nil
	s.row.DispatchedAt = &now
	s.row.Deadline = &deadline
	s.row.FinishedAt = nil
	s.changed = true
	return st.request(s)
}

func (st *runState) request(s *stepState) bus.StepRequest {
	var deadline time.Time
	if s.row.Deadline != nil {
		deadline = *s.row.Deadline
	}
	return bus.StepRequest{
		RunID: st.run.ID, StepID: s.row.StepID, Attempt: s.row.Attempt, Capability: s.row.Capability,
		Args: s.row.Args, Context: st.run.Context, CorrelationID: st.run.CorrelationID, Deadline: deadline,
	}
}

func (s *stepState) finish(status string, se *bus.StepError, now time.Time) {
	s.row.Status = status
	if se != nil {
		s.row.Error = mustJSON(se)
	}
	s.row.FinishedAt = &now
	s.changed = true
}

// terminal returns the run's final status when no step is queued and none
// can be dispatched, else "".
func (st *runState) terminal() string {
	succeeded, bad, blocked := 0, 0, 0
	for _, s := range st.steps {
		switch s.row.Status {
		case storage.StepQueued:
			return ""
		case storage.StepSucceeded:
			succeeded++
		case storage.StepFailed, storage.StepDeadLettered:
			bad++
		case storage.StepPending:
			blocked++
		}
	}
	switch {
	case bad == 0 && blocked == 0:
		return storage.RunSucceeded
	case succeeded > 0:
		return storage.RunPartial
	default:
		return storage.RunFailed
	}
}

func (st *runState) summary() map[string]any {
	counts := map[string]int{}
	for _, s := range st.steps {
		counts[s.row.Status]++
	}
	return map[string]any{"status": st.run.Status, "steps": counts}
}

func (st *runState) changedRows() []storage.StepRow {
	var out []storage.StepRow
	for _, s := range st.steps {
		if s.changed {
			out = append(out, s.row)
		}
	}
	return out
}

// contextScope is the run context as patterns see it, {{ctx.<key>}}: every
// key of agents.RunContext, empty ones included, so a reference to a key
// that this run has no value for resolves to "".
func contextScope(rc agents.RunContext) map[string]any {
	out := map[string]any{}
	t := reflect.TypeFor[agents.RunContext]()
	v := reflect.ValueOf(rc)
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out[name] = v.Field(i).Interface()
	}
	return out
}
