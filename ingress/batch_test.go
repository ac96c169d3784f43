package ingress_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dawsos/dawsos/ingress"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/storage"
)

type acceptedBatch struct {
	Runs []struct {
		RunID    string `json:"run_id"`
		Existing bool   `json:"existing"`
		Links    struct {
			Self string `json:"self"`
		} `json:"links"`
	} `json:"runs"`
}

func runCount(t *testing.T, e *env) int {
	t.Helper()
	resp, body := e.do(t, "GET", "/v1/runs?pattern=test_chain&limit=500", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/runs: %d %s", resp.StatusCode, body)
	}
	return len(decode[struct {
		Runs []orchestrator.RunSummary `json:"runs"`
	}](t, body).Runs)
}

// TestBatchSubmitAllOrNone: a batch of five runs is accepted in one call,
// each run its own and each ending with its own figures (n + 1 + 1, by
// hand); a batch with two bad items is refused whole, naming each item's
// field, and writes nothing.
func TestBatchSubmitAllOrNone(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var items []string
	for n := range 5 {
		items = append(items, fmt.Sprintf(`{"pattern":"test_chain","inputs":{"n":%d}}`, n))
	}
	resp, body := e.do(t, "POST", "/v1/runs:batch", `{"runs":[`+strings.Join(items, ",")+`]}`, nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /v1/runs:batch: %d %s", resp.StatusCode, body)
	}
	got := decode[acceptedBatch](t, body)
	if len(got.Runs) != 5 {
		t.Fatalf("%d runs answered for 5: %s", len(got.Runs), body)
	}
	for n, r := range got.Runs {
		if r.Existing || r.Links.Self != "/v1/runs/"+r.RunID {
			t.Fatalf("item %d: %+v", n, r)
		}
		doc := waitDocument(t, e, r.RunID)
		var checked struct{ Value int }
		_ = json.Unmarshal(doc.Outputs["checked"], &checked)
		if doc.Status != "succeeded" || checked.Value != n+2 {
			t.Fatalf("run %d of the batch: %s, checked %s; want succeeded with value %d", n, doc.Status, doc.Outputs["checked"], n+2)
		}
	}
	before := runCount(t, e)
	bad := `{"runs":[{"pattern":"test_chain","inputs":{"n":1}},{"pattern":"test_chain","inputs":{}},{"pattern":"no_such","inputs":{}}]}`
	resp, body = e.do(t, "POST", "/v1/runs:batch", bad, nil)
	p := checkProblem(t, "a batch with bad items", resp, body, http.StatusUnprocessableEntity, "invalid_input")
	fields := map[string]bool{}
	for _, f := range p.Fields {
		fields[f.Field] = true
	}
	if !fields["runs[1].inputs.n"] || !fields["runs[2].pattern"] || len(fields) != 2 {
		t.Fatalf("fields %+v; want runs[1].inputs.n and runs[2].pattern", p.Fields)
	}
	if after := runCount(t, e); after != before {
		t.Fatalf("a refused batch wrote %d runs", after-before)
	}
}

// TestBatchLimitsAndOwnership: an empty batch and one over batch_max are
// refused; an item naming another user's portfolio is 404 as in a single
// submission, naming the item; keys name runs item by item, in the
// caller's own namespace.
func TestBatchLimitsAndOwnership(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *ingress.Config) { c.BatchMax = 3 })
	addPortfolioPattern(t, e)
	resp, body := e.do(t, "POST", "/v1/runs:batch", `{"runs":[]}`, nil)
	checkProblem(t, "an empty batch", resp, body, http.StatusUnprocessableEntity, "invalid_input")
	four := `{"runs":[` + strings.Repeat(`{"pattern":"test_chain","inputs":{"n":1}},`, 3) + `{"pattern":"test_chain","inputs":{"n":1}}]}`
	resp, body = e.do(t, "POST", "/v1/runs:batch", four, nil)
	if p := checkProblem(t, "a batch over batch_max", resp, body, http.StatusUnprocessableEntity, "invalid_input"); p.Fields[0].Field != "runs" {
		t.Fatalf("over the limit: %+v", p)
	}
	owned := ownedObjects(t, e)
	other := asUser(e.users.other)
	theirs := `{"runs":[{"pattern":"test_chain","inputs":{"n":1}},{"pattern":"test_portfolio","inputs":{"portfolio_id":"` + owned[storage.OwnedPortfolio] + `"}}]}`
	resp, body = e.do(t, "POST", "/v1/runs:batch", theirs, other)
	if p := checkProblem(t, "a batch naming another user's portfolio", resp, body, http.StatusNotFound, "not_found"); p.Fields[0].Field != "runs[1].inputs.portfolio_id" {
		t.Fatalf("another user's portfolio: %+v", p)
	}
	keyed := `{"runs":[{"pattern":"test_chain","inputs":{"n":1},"idempotency_key":"k"},{"pattern":"test_chain","inputs":{"n":1},"idempotency_key":"k"}]}`
	resp, body = e.do(t, "POST", "/v1/runs:batch", keyed, other)
	first := decode[acceptedBatch](t, body)
	if resp.StatusCode != http.StatusAccepted || first.Runs[0].Existing || !first.Runs[1].Existing || first.Runs[1].RunID != first.Runs[0].RunID {
		t.Fatalf("one key twice in a batch: %d %s; want one run, the second item naming it", resp.StatusCode, body)
	}
	// The same key from another user is another run.
	resp, body = e.do(t, "POST", "/v1/runs:batch", keyed, asUser(e.users.owner))
	if mine := decode[acceptedBatch](t, body); resp.StatusCode != http.StatusAccepted || mine.Runs[0].RunID == first.Runs[0].RunID {
		t.Fatalf("another user's key k named their run: %s", body)
	}
}

func waitDocument(t *testing.T, e *env, id string) orchestrator.RunDocument {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, body := e.do(t, "GET", "/v1/runs/"+id, "", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET run %s: %d %s", id, resp.StatusCode, body)
		}
		doc := decode[orchestrator.RunDocument](t, body)
		if doc.Status != "running" {
			return doc
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s still running after 15 s", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
