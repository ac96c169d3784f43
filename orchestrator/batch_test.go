package orchestrator_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/storage"
)

func batchOf(n int, mod func(i int, r *orchestrator.SubmitRequest)) []orchestrator.SubmitRequest {
	out := make([]orchestrator.SubmitRequest, n)
	for i := range out {
		out[i] = orchestrator.SubmitRequest{Pattern: "one", Inputs: map[string]json.RawMessage{"v": json.RawMessage(`7`)}}
		if mod != nil {
			mod(i, &out[i])
		}
	}
	return out
}

func countRuns(t *testing.T, e *env) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(context.Background(), `SELECT count(*) FROM runs`, nil, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSubmitBatchAcceptsEveryRunAndRunsThem submits 40 runs in one call:
// each gets its own run, committed, and each ends with its own output.
func TestSubmitBatchAcceptsEveryRunAndRunsThem(t *testing.T) {
	e := setup(t, envOpts{})
	reqs := batchOf(40, func(i int, r *orchestrator.SubmitRequest) {
		r.Inputs["v"], _ = json.Marshal(i)
	})
	got, err := e.engine.SubmitBatch(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(reqs) {
		t.Fatalf("%d answers for %d runs", len(got), len(reqs))
	}
	seen := map[string]bool{}
	for i, s := range got {
		if s.RunID == "" || s.Existing || seen[s.RunID] {
			t.Fatalf("item %d: %+v", i, s)
		}
		seen[s.RunID] = true
	}
	if n := countRuns(t, e); n != len(reqs) {
		t.Fatalf("%d runs in the database, want %d", n, len(reqs))
	}
	for i, s := range got {
		d := e.wait(t, s.RunID)
		if d.Status != storage.RunSucceeded {
			t.Fatalf("run %d ended %s", i, d.Status)
		}
		var out struct{ Value int }
		if err := json.Unmarshal(d.Outputs["a"], &out); err != nil || out.Value != i {
			t.Fatalf("run %d output %s (%v), want value %d", i, d.Outputs["a"], err, i)
		}
	}
}

// TestSubmitBatchIsAllOrNothing gives one item of a batch a bad input and
// another an unknown pattern: nothing is written, and the error names
// each item's field.
func TestSubmitBatchIsAllOrNothing(t *testing.T) {
	e := setup(t, envOpts{})
	reqs := batchOf(10, func(i int, r *orchestrator.SubmitRequest) {
		switch i {
		case 3:
			r.Inputs["v"] = json.RawMessage(`"seven"`)
		case 8:
			r.Pattern = "no_such_pattern"
		}
	})
	_, err := e.engine.SubmitBatch(context.Background(), reqs)
	var ae *agents.Error
	if !errors.As(err, &ae) || ae.Code != agents.CodeInvalidInput {
		t.Fatalf("error %v, want invalid_input", err)
	}
	fields := map[string]string{}
	for _, f := range ae.Fields {
		fields[f.Field] = f.Code
	}
	if _, ok := fields["runs[3].inputs.v"]; !ok || fields["runs[8].pattern"] != agents.CodeNotFound || len(fields) != 2 {
		t.Fatalf("field issues %v, want runs[3].inputs.v and runs[8].pattern (not_found)", ae.Fields)
	}
	if n := countRuns(t, e); n != 0 {
		t.Fatalf("%d runs written by a refused batch", n)
	}
}

// TestSubmitBatchIdempotencyPerItem: keys name runs item by item, across
// batches and within one.
func TestSubmitBatchIdempotencyPerItem(t *testing.T) {
	e := setup(t, envOpts{})
	ctx := context.Background()
	keyed := func(keys ...string) []orchestrator.SubmitRequest {
		return batchOf(len(keys), func(i int, r *orchestrator.SubmitRequest) { r.IdempotencyKey = keys[i] })
	}
	first, err := e.engine.SubmitBatch(ctx, keyed("k1", "k2", ""))
	if err != nil {
		t.Fatal(err)
	}
	// The same keys again, one item repeating a key of its own batch.
	again, err := e.engine.SubmitBatch(ctx, keyed("k2", "k1", "k3", "k3"))
	if err != nil {
		t.Fatal(err)
	}
	if again[0].RunID != first[1].RunID || !again[0].Existing || again[1].RunID != first[0].RunID || !again[1].Existing {
		t.Fatalf("repeated keys answered %+v, want the runs of %+v", again[:2], first[:2])
	}
	if again[2].Existing || again[3].RunID != again[2].RunID || !again[3].Existing {
		t.Fatalf("a key repeated within a batch answered %+v", again[2:])
	}
	if n := countRuns(t, e); n != 4 {
		t.Fatalf("%d runs, want 4 (k1, k2, the unkeyed one, k3)", n)
	}
	// A key reused with another request refuses the whole batch.
	reuse := keyed("k4", "k1")
	reuse[1].Inputs["v"] = json.RawMessage(`8`)
	_, err = e.engine.SubmitBatch(ctx, reuse)
	var ae *agents.Error
	if !errors.As(err, &ae) || ae.Code != agents.CodeIdempotencyKeyReused || ae.Field != "runs[1].idempotency_key" {
		t.Fatalf("error %v, want idempotency_key_reused at runs[1].idempotency_key", err)
	}
	if n := countRuns(t, e); n != 4 {
		t.Fatalf("%d runs after a refused batch, want 4", n)
	}
}
