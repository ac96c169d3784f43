package orchestrator_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/storage"
)

func TestOneStepRunSucceeds(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	id := e.submit(t, "one", map[string]any{"v": 7})
	d := e.wait(t, id)
	if d.Status != storage.RunSucceeded {
		t.Fatalf("status %s; want succeeded (%+v)", d.Status, d.Steps)
	}
	if got := string(d.Outputs["a"]); !jsonEq(got, `{"value":7}`) {
		t.Fatalf("output a = %s; want {\"value\":7}", got)
	}
	evs, _, err := e.engine.Events(context.Background(), id, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: the log must be gap-free", i, ev.Seq)
		}
		types = append(types, ev.Type)
	}
	want := []string{"run.accepted", "step.dispatched", "step.succeeded", "run.completed"}
	if !reflect.DeepEqual(types, want) {
		t.Fatalf("events %v; want %v", types, want)
	}
	var trace []string
	for _, tr := range d.Trace {
		trace = append(trace, tr.Type)
	}
	if !reflect.DeepEqual(trace, want) {
		t.Fatalf("run document trace %v; want %v", trace, want)
	}
}

func TestDAGParallelConditionsAndSkips(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	id := e.submit(t, "dag", map[string]any{"key": "x", "gate": false})
	d := e.wait(t, id)
	want := map[string]string{"a": "succeeded", "b": "succeeded", "f": "succeeded", "c": "succeeded",
		"after_f": "succeeded", "gated": "skipped", "after_gated": "skipped"}
	if got := stepStatus(d); !reflect.DeepEqual(got, want) || d.Status != storage.RunSucceeded {
		t.Fatalf("run %s steps %v; want succeeded with %v", d.Status, got, want)
	}
	// {{a.value.n}} keeps its number type; {{b.value}} keeps its object.
	if got := string(d.Outputs["c"]); !jsonEq(got, `{"value":[1,{"n":2}]}`) {
		t.Fatalf("output c = %s", got)
	}
	if got := string(d.Outputs["after_f"]); !jsonEq(got, `{"value":"x"}`) {
		t.Fatalf("output after_f = %s", got)
	}
}

func TestFailureKeepsOtherOutputsAndReplayFinishesTheRun(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	e.setFault(t, "final")
	id := e.submit(t, "dag", map[string]any{"key": "y"})
	d := e.wait(t, id)
	st := stepStatus(d)
	if d.Status != storage.RunPartial || st["f"] != storage.StepDeadLettered || st["after_f"] != storage.StepPending || st["gated"] != storage.StepSucceeded {
		t.Fatalf("run %s steps %v; want partial with f dead-lettered, after_f blocked, the rest done", d.Status, st)
	}
	if len(d.Errors) != 1 || d.Errors[0].StepID != "f" {
		t.Fatalf("errors %+v; want one for f", d.Errors)
	}
	if _, ok := d.Outputs["c"]; !ok {
		t.Fatalf("outputs %v lost c when f failed", d.Outputs)
	}
	for _, s := range d.Steps {
		if s.ID == "after_f" && !reflect.DeepEqual(s.BlockedBy, []string{"f"}) {
			t.Fatalf("after_f blocked_by %v; want [f]", s.BlockedBy)
		}
	}
	dl := onlyDeadLetter(t, e)

	// Edited arguments are validated again.
	_, err := e.engine.Replay(context.Background(), orchestrator.ReplayRequest{DeadLetterID: dl.ID, Args: json.RawMessage(`{"nope": 1}`)})
	var ae *agents.Error
	if !errors.As(err, &ae) || ae.Code != agents.CodeInvalidInput {
		t.Fatalf("replay with an unknown argument: %v; want invalid_input", err)
	}

	e.setFault(t, "")
	r, err := e.engine.Replay(context.Background(), orchestrator.ReplayRequest{DeadLetterID: dl.ID, Token: "tok-1", Args: json.RawMessage(`{"key": "z"}`), RequestedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.engine.Replay(context.Background(), orchestrator.ReplayRequest{DeadLetterID: dl.ID, Token: "tok-1"})
	if err != nil || again.ID != r.ID {
		t.Fatalf("same token replayed again: %+v, %v; want replay %s", again, err, r.ID)
	}
	d = e.wait(t, id)
	if d.Status != storage.RunSucceeded || !jsonEq(string(d.Outputs["after_f"]), `{"value":"z"}`) {
		t.Fatalf("after replay: run %s, after_f %s; want succeeded with the edited key", d.Status, d.Outputs["after_f"])
	}
	for _, s := range d.Steps {
		if s.ID == "a" && s.Attempts != 1 {
			t.Fatalf("step a ran %d attempts; finished steps must not re-run", s.Attempts)
		}
		if s.ID == "f" && s.Attempts != 2 {
			t.Fatalf("step f has %d attempts; want 2 (original + replay)", s.Attempts)
		}
	}
	if _, err := e.engine.Replay(context.Background(), orchestrator.ReplayRequest{DeadLetterID: dl.ID}); !errors.As(err, &ae) || ae.Code != agents.CodeConflict {
		t.Fatalf("second replay of the same dead letter: %v; want conflict", err)
	}
}

func onlyDeadLetter(t *testing.T, e *env) storage.DeadLetterRow {
	t.Helper()
	var dls []storage.DeadLetterRow
	if err := e.db.Tx(context.Background(), func(tx pgx.Tx) error {
		var err error
		dls, err = storage.ListDeadLetters(context.Background(), tx, storage.DeadLetterFilter{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(dls) != 1 {
		t.Fatalf("dead letters %+v; want exactly one", dls)
	}
	return dls[0]
}

func TestResultsApplyOnce(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	id := e.submit(t, "one", nil)
	d := e.wait(t, id)
	before, _, err := e.engine.Events(context.Background(), id, 0, 100)
	if err != nil || len(before) == 0 || len(d.Outputs["a"]) == 0 {
		t.Fatalf("events %d (%v), output %s; want a finished run to compare against", len(before), err, d.Outputs["a"])
	}
	// Redelivered and stale results change nothing.
	for _, res := range []bus.StepResult{
		{RunID: id, StepID: "a", Attempt: 1, OK: true, Output: json.RawMessage(`{"value":"dup"}`)},
		{RunID: id, StepID: "a", Attempt: 0, OK: false, Error: &bus.StepError{Code: "internal"}},
	} {
		if err := e.engine.ApplyResult(context.Background(), res); err != nil {
			t.Fatal(err)
		}
	}
	after, _, err := e.engine.Events(context.Background(), id, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := e.engine.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) || string(d2.Outputs["a"]) != string(d.Outputs["a"]) {
		t.Fatalf("a repeated result changed the run: events %d→%d, output %s→%s", len(before), len(after), d.Outputs["a"], d2.Outputs["a"])
	}
}

func TestSubmitChecksInputsAndIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	_, err := e.engine.Submit(context.Background(), orchestrator.SubmitRequest{Pattern: "one",
		Inputs: map[string]json.RawMessage{"v": json.RawMessage(`"seven"`), "w": json.RawMessage(`1`)}})
	var ae *agents.Error
	if !errors.As(err, &ae) || ae.Code != agents.CodeInvalidInput || len(ae.Fields) != 2 ||
		ae.Fields[0].Field != "inputs.v" || ae.Fields[0].Code != "wrong_type" || ae.Fields[1].Field != "inputs.w" || ae.Fields[1].Code != "unknown_field" {
		t.Fatalf("submit with a wrong type and an unknown input: %v (fields %+v); want invalid_input naming inputs.v (wrong_type) and inputs.w (unknown_field)", err, ae)
	}
	_, err = e.engine.Submit(context.Background(), orchestrator.SubmitRequest{Pattern: "nope"})
	if !errors.As(err, &ae) || ae.Code != agents.CodeNotFound {
		t.Fatalf("unknown pattern: %v; want not_found", err)
	}
	req := orchestrator.SubmitRequest{Pattern: "one", IdempotencyKey: "k-1"}
	first, err := e.engine.Submit(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.engine.Submit(context.Background(), req)
	if err != nil || second.RunID != first.RunID || !second.Existing {
		t.Fatalf("second submit with the key: %+v, %v; want run %s again", second, err, first.RunID)
	}
	// Spelling the default out is the same request; other inputs are not.
	same := req
	same.Inputs = map[string]json.RawMessage{"v": json.RawMessage(`1`)}
	if s, err := e.engine.Submit(context.Background(), same); err != nil || s.RunID != first.RunID {
		t.Fatalf("the key with the default spelled out: %+v, %v; want run %s", s, err, first.RunID)
	}
	other := req
	other.Inputs = map[string]json.RawMessage{"v": json.RawMessage(`2`)}
	if _, err := e.engine.Submit(context.Background(), other); !errors.As(err, &ae) || ae.Code != agents.CodeIdempotencyKeyReused || ae.Field != "idempotency_key" {
		t.Fatalf("the key with other inputs: %v; want idempotency_key_reused naming idempotency_key", err)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	e.setFault(t, "sleep:2s")
	id := e.submit(t, "dag", nil)
	if err := e.engine.Cancel(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	d := e.wait(t, id)
	if d.Status != storage.RunCanceled {
		t.Fatalf("status %s; want canceled", d.Status)
	}
	var ae *agents.Error
	if err := e.engine.Cancel(context.Background(), id); !errors.As(err, &ae) || ae.Code != agents.CodeConflict {
		t.Fatalf("cancel of an ended run: %v; want conflict", err)
	}
}

func TestResumeRedispatchesQueuedSteps(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	id := e.submit(t, "one", nil)
	e.wait(t, id)
	// Reopen the finished run as if the process had died after
	// dispatching: the step is queued again and the bus holds nothing.
	err := e.db.Tx(context.Background(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(context.Background(), `UPDATE run_steps SET status = 'queued', attempt = 5, output = NULL, dispatched_at = now() - interval '1 minute' WHERE run_id = $1`, id); err != nil {
			return err
		}
		_, err := tx.Exec(context.Background(), `UPDATE runs SET status = 'running', finished_at = NULL WHERE id = $1`, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.engine.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	d := e.wait(t, id)
	// The step queued before Resume is dispatched as a new attempt, so a
	// late result of attempt 5 would be ignored.
	if d.Status != storage.RunSucceeded || d.Steps[0].Attempts != 6 {
		t.Fatalf("resumed run %s with attempts %d; want succeeded on attempt 6", d.Status, d.Steps[0].Attempts)
	}
}

// jsonEq compares JSON documents by value: PostgreSQL's jsonb normalises
// spacing and key order.
func jsonEq(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func TestConcurrentReplaysWithOneTokenAndNullArgs(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	e.setFault(t, "final")
	id := e.submit(t, "dag", map[string]any{"key": "orig"})
	if d := e.wait(t, id); d.Status != storage.RunPartial {
		t.Fatalf("status %s; want partial", d.Status)
	}
	dl := onlyDeadLetter(t, e)
	e.setFault(t, "")
	const n = 8
	ids := make(chan string, n)
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			// JSON null arguments mean "keep the step's arguments".
			r, err := e.engine.Replay(context.Background(), orchestrator.ReplayRequest{DeadLetterID: dl.ID, Token: "same", Args: json.RawMessage(`null`)})
			ids <- r.ID
			errs <- err
		}()
	}
	first := ""
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("replay %d with the shared token: %v; want the one replay", i, err)
		}
		r := <-ids
		if first == "" {
			first = r
		}
		if r != first {
			t.Fatalf("replays %s and %s for one token", first, r)
		}
	}
	d := e.wait(t, id)
	if d.Status != storage.RunSucceeded || !jsonEq(string(d.Outputs["after_f"]), `{"value":"orig"}`) {
		t.Fatalf("after replay: %s with after_f %s; want succeeded with the original key", d.Status, d.Outputs["after_f"])
	}
}

func TestRunThatEndsAtSubmission(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	id := e.submit(t, "skipped", nil)
	d, err := e.engine.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != storage.RunSucceeded || d.FinishedAt == nil || d.Steps[0].Status != storage.StepSkipped {
		t.Fatalf("run %s (finished %v) with step %s; want succeeded at once with the step skipped", d.Status, d.FinishedAt, d.Steps[0].Status)
	}
	var trace []string
	for _, tr := range d.Trace {
		trace = append(trace, tr.Type)
	}
	if want := []string{"run.accepted", "step.skipped", "run.completed"}; !reflect.DeepEqual(trace, want) {
		t.Fatalf("trace %v; want %v", trace, want)
	}
}
