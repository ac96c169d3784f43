package ingress_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/ingress"
	"github.com/dawsos/dawsos/orchestrator"
)

// TestDeadLetterReplay fails the check step with a final error, finds its
// dead letter, replays it with edited arguments and sees the run end
// again, succeeded; a second replay of the same dead letter is a conflict.
func TestDeadLetterReplay(t *testing.T) {
	t.Parallel()
	e := setup(t)
	resp, body := e.do(t, "POST", "/v1/runs?wait=15s", `{"pattern":"test_chain","inputs":{"n":1,"fail":true}}`, nil)
	doc := decode[orchestrator.RunDocument](t, body)
	// ARCHITECTURE.md §2: some steps dead-lettered, the others' outputs kept.
	if resp.StatusCode != http.StatusOK || doc.Status != "partial" || len(doc.Errors) != 1 {
		t.Fatalf("run with a failing check: status %d, run %q, %d errors; want 200, partial, 1; body %s", resp.StatusCode, doc.Status, len(doc.Errors), body)
	}

	resp, body = e.do(t, "GET", "/v1/dlq?run_id="+doc.RunID, "", nil)
	list := decode[struct {
		DeadLetters []struct {
			ID         string `json:"id"`
			Capability string `json:"capability"`
			Status     string `json:"status"`
		} `json:"dead_letters"`
	}](t, body)
	if resp.StatusCode != http.StatusOK || len(list.DeadLetters) != 1 || list.DeadLetters[0].Capability != "test.check" {
		t.Fatalf("GET /v1/dlq: status %d, %+v; want one dead letter of test.check", resp.StatusCode, list.DeadLetters)
	}
	dl := list.DeadLetters[0].ID

	_, body = e.do(t, "GET", "/metrics", "", nil)
	if want := `dawsos_dead_letters_pending{capability="test.check"} 1`; !strings.Contains(string(body), want) {
		t.Errorf("/metrics lacks %q", want)
	}

	resp, body = e.do(t, "POST", "/v1/dlq/"+dl+"/replay", `{"args":{"value":3,"fail":"no"}}`, nil)
	p := checkProblem(t, "replay with mistyped args", resp, body, http.StatusUnprocessableEntity, "invalid_input")
	if len(p.Fields) != 1 || p.Fields[0].Field != "args.fail" {
		t.Errorf("replay with mistyped args: fields %+v, want args.fail", p.Fields)
	}

	resp, body = e.do(t, "POST", "/v1/dlq/"+dl+"/replay", `{"args":{"value":3,"fail":false},"token":"t-1"}`, nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("replay: status %d, want 202; body %s", resp.StatusCode, body)
	}
	replay := decode[struct {
		ID           string `json:"id"`
		DeadLetterID string `json:"dead_letter_id"`
	}](t, body)
	if replay.DeadLetterID != dl {
		t.Errorf("replay row names dead letter %s, want %s", replay.DeadLetterID, dl)
	}
	// The same token returns the same replay; another request conflicts.
	resp, body = e.do(t, "POST", "/v1/dlq/"+dl+"/replay", `{"token":"t-1"}`, nil)
	if again := decode[struct {
		ID string `json:"id"`
	}](t, body); resp.StatusCode != http.StatusAccepted || again.ID != replay.ID {
		t.Errorf("replay with the same token: status %d id %s, want 202 and %s", resp.StatusCode, again.ID, replay.ID)
	}
	resp, body = e.do(t, "POST", "/v1/dlq/"+dl+"/replay", "", nil)
	checkProblem(t, "second replay", resp, body, http.StatusConflict, "conflict")

	deadline := time.Now().Add(15 * time.Second)
	for {
		_, body = e.do(t, "GET", "/v1/runs/"+doc.RunID, "", nil)
		doc = decode[orchestrator.RunDocument](t, body)
		if doc.Status != "running" && doc.Status != "partial" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if doc.Status != "succeeded" {
		t.Fatalf("after replay: run %q, want succeeded; body %s", doc.Status, body)
	}
	resp, body = e.do(t, "GET", "/v1/dlq/"+dl, "", nil)
	view := decode[struct {
		Status  string `json:"status"`
		Replays []struct {
			ID string `json:"id"`
		} `json:"replays"`
	}](t, body)
	if resp.StatusCode != http.StatusOK || view.Status != "replayed" || len(view.Replays) != 1 || view.Replays[0].ID != replay.ID {
		t.Errorf("GET /v1/dlq/{id}: status %d, %+v; want replayed with replay %s", resp.StatusCode, view, replay.ID)
	}

	resp, body = e.do(t, "POST", "/v1/dlq/replay", `{"capability":"test.check"}`, nil)
	bulk := decode[struct {
		Outcomes []orchestrator.ReplayOutcome `json:"outcomes"`
	}](t, body)
	if resp.StatusCode != http.StatusAccepted || len(bulk.Outcomes) != 0 {
		t.Errorf("bulk replay with nothing pending: status %d, %d outcomes; want 202, 0", resp.StatusCode, len(bulk.Outcomes))
	}
}

func TestPatternsCapabilitiesBreakers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	p, _ := e.set.Get("test_chain")

	resp, body := e.do(t, "GET", "/v1/patterns", "", nil)
	list := decode[struct {
		Patterns []struct {
			ID           string         `json:"id"`
			Hash         string         `json:"hash"`
			Category     string         `json:"category"`
			InputsSchema map[string]any `json:"inputs_schema"`
		} `json:"patterns"`
	}](t, body)
	if resp.StatusCode != http.StatusOK || len(list.Patterns) != 1 || list.Patterns[0].Hash != p.Hash() || list.Patterns[0].Category != "test" {
		t.Fatalf("GET /v1/patterns: status %d, %+v; want test_chain with hash %s", resp.StatusCode, list.Patterns, p.Hash())
	}
	if req, _ := list.Patterns[0].InputsSchema["required"].([]any); len(req) != 1 || req[0] != "n" {
		t.Errorf("inputs_schema.required = %v, want [n]", list.Patterns[0].InputsSchema["required"])
	}

	resp, body = e.do(t, "GET", "/v1/patterns/test_chain", "", nil)
	detail := decode[struct {
		ID    string `json:"id"`
		Hash  string `json:"hash"`
		Steps []any  `json:"steps"`
	}](t, body)
	if resp.StatusCode != http.StatusOK || detail.Hash != p.Hash() || len(detail.Steps) != 3 {
		t.Errorf("GET /v1/patterns/test_chain: status %d, %+v", resp.StatusCode, detail)
	}

	type validation struct {
		Valid    bool `json:"valid"`
		Problems []struct {
			Code string `json:"code"`
			Path string `json:"path"`
		} `json:"problems"`
	}
	resp, body = e.do(t, "POST", "/v1/patterns/validate", testPattern, nil)
	if v := decode[validation](t, body); resp.StatusCode != http.StatusOK || !v.Valid || len(v.Problems) != 0 {
		t.Errorf("validate the test pattern: status %d, %+v; want valid", resp.StatusCode, v)
	}
	bad := strings.Replace(testPattern, `"capability": "test.check"`, `"capability": "test.nothing"`, 1)
	bad = strings.Replace(bad, `"outputs": ["first", "second", "checked"]`, `"outputs": ["first", "missing"]`, 1)
	resp, body = e.do(t, "POST", "/v1/patterns/validate", bad, nil)
	v := decode[validation](t, body)
	codes := map[string]bool{}
	for _, pr := range v.Problems {
		codes[pr.Code] = true
	}
	if resp.StatusCode != http.StatusOK || v.Valid || !codes["unknown_capability"] || !codes["unknown_output"] {
		t.Errorf("validate a bad pattern: status %d, %+v; want invalid with unknown_capability and unknown_output", resp.StatusCode, v)
	}

	resp, body = e.do(t, "GET", "/v1/capabilities", "", nil)
	caps := decode[struct {
		Capabilities []struct {
			Name        string         `json:"name"`
			Agent       string         `json:"agent"`
			InputSchema map[string]any `json:"input_schema"`
			Breaker     *struct {
				State string `json:"state"`
			} `json:"breaker"`
		} `json:"capabilities"`
	}](t, body)
	if resp.StatusCode != http.StatusOK || len(caps.Capabilities) != 2 {
		t.Fatalf("GET /v1/capabilities: status %d, %s", resp.StatusCode, body)
	}
	for _, c := range caps.Capabilities {
		if c.Agent != "tester" || c.InputSchema == nil || c.Breaker == nil || c.Breaker.State != "closed" {
			t.Errorf("capability %s: agent %q, schema %v, breaker %+v; want tester, a schema, closed", c.Name, c.Agent, c.InputSchema, c.Breaker)
		}
	}

	resp, body = e.do(t, "GET", "/v1/breakers", "", nil)
	br := decode[struct {
		Breakers []bus.BreakerSnapshot `json:"breakers"`
	}](t, body)
	if resp.StatusCode != http.StatusOK || len(br.Breakers) != 2 || br.Breakers[0].Capability != "test.add_one" {
		t.Errorf("GET /v1/breakers: status %d, %+v; want 2 sorted", resp.StatusCode, br.Breakers)
	}
	resp, body = e.do(t, "POST", "/v1/breakers/test.add_one/reset", "", nil)
	if snap := decode[bus.BreakerSnapshot](t, body); resp.StatusCode != http.StatusOK || snap.State != bus.BreakerClosed {
		t.Errorf("reset: status %d, %+v", resp.StatusCode, snap)
	}

	resp, body = e.do(t, "GET", "/v1/portfolios", "", nil)
	if pf := decode[struct {
		Portfolios []any `json:"portfolios"`
	}](t, body); resp.StatusCode != http.StatusOK || pf.Portfolios == nil || len(pf.Portfolios) != 0 {
		t.Errorf("GET /v1/portfolios on an empty database: status %d, body %s; want an empty list", resp.StatusCode, body)
	}
	resp, body = e.do(t, "GET", "/v1/portfolios?owner_id=x", "", nil)
	checkProblem(t, "portfolios with a bad owner", resp, body, http.StatusBadRequest, "bad_request")
}

func TestHealthReadyMetrics(t *testing.T) {
	t.Parallel()
	e := setup(t)
	resp, body := e.do(t, "GET", "/healthz", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"version":"test"`) {
		t.Errorf("/healthz: status %d, body %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "GET", "/readyz", "", nil)
	ready := decode[struct {
		Checks map[string]string `json:"checks"`
	}](t, body)
	if resp.StatusCode != http.StatusOK || ready.Checks["database"] != "ok" || ready.Checks["nats"] != "ok" || ready.Checks["migrations"] != "ok" {
		t.Errorf("/readyz: status %d, body %s; want 200 with every check ok", resp.StatusCode, body)
	}

	if resp, body = e.do(t, "POST", "/v1/runs?wait=15s", `{"pattern":"test_chain","inputs":{"n":1}}`, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("run: status %d, body %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "GET", "/metrics", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: status %d", resp.StatusCode)
	}
	for _, want := range []string{
		`dawsos_runs{status="succeeded"} 1`,
		`dawsos_runs{status="running"} 0`,
		"dawsos_db_pool_acquired_conns",
		"dawsos_db_pool_idle_conns",
		"dawsos_db_pool_total_conns",
		"dawsos_db_pool_max_conns 8", // pgtest.NewDB opens 8 connections
		"dawsos_db_pool_acquires_total",
		"dawsos_db_pool_acquire_duration_seconds_total",
		"dawsos_db_pool_empty_acquires_total",
		`dawsos_step_duration_seconds_count{capability="test.add_one",outcome="ok"} 2`,
		`dawsos_runs_submitted_total{pattern="test_chain"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// A process whose NATS connection is gone is not ready, and says why.
	dir, err := os.MkdirTemp("", "ingress-nats-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	closed, err := bus.Start(context.Background(), bus.Config{StoreDir: dir}, nil)
	if err != nil {
		t.Fatalf("start second bus: %v", err)
	}
	closed.Close()
	srv, err := ingress.New(ingress.Deps{Engine: e.engine, Patterns: e.set, DB: e.db, Bus: closed}, withAuth(ingress.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "/readyz", nil)
	resp, err = srv.App().Test(req, 10000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body = readAll(t, resp)
	p := checkProblem(t, "/readyz without nats", resp, body, http.StatusServiceUnavailable, "unavailable")
	if p.Checks["nats"] == "ok" || p.Checks["database"] != "ok" || p.Checks["migrations"] != "ok" {
		t.Errorf("/readyz without nats: checks %v; want nats failing, the rest ok", p.Checks)
	}
}
