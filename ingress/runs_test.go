package ingress_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/ingress"
	"github.com/dawsos/dawsos/orchestrator"
)

type accepted struct {
	RunID  string `json:"run_id"`
	Status string `json:"status"`
	Links  struct {
		Self   string `json:"self"`
		Events string `json:"events"`
	} `json:"links"`
}

func TestSubmitRunFinishes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	resp, body := e.do(t, "POST", "/v1/runs", `{"pattern":"test_chain","inputs":{"n":1}}`, map[string]string{"X-Correlation-ID": "client-42"})
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /v1/runs: status %d, want 202; body %s", resp.StatusCode, body)
	}
	a := decode[accepted](t, body)
	if _, err := uuid.Parse(a.RunID); err != nil {
		t.Fatalf("run_id %q is not a uuid", a.RunID)
	}
	if got, want := resp.Header.Get("Location"), "/v1/runs/"+a.RunID; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if got := resp.Header.Get("X-Correlation-ID"); got != "client-42" {
		t.Errorf("X-Correlation-ID = %q, want the client's client-42", got)
	}
	// The run finishes; poll the document.
	var doc orchestrator.RunDocument
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, body = e.do(t, "GET", "/v1/runs/"+a.RunID, "", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET run: status %d; body %s", resp.StatusCode, body)
		}
		doc = decode[orchestrator.RunDocument](t, body)
		if doc.Status != "running" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if doc.Status != "succeeded" {
		t.Fatalf("run status %q, want succeeded; document %s", doc.Status, body)
	}
	if doc.CorrelationID != "client-42" {
		t.Errorf("run correlation_id %q, want client-42 (passed to Submit)", doc.CorrelationID)
	}
	// 1+1 = 2, 2+1 = 3 (by hand).
	if got := string(doc.Outputs["second"]); got != `{"value":3}` {
		t.Errorf("outputs.second = %s, want {\"value\":3}", got)
	}
}

func TestSubmitWaitReturnsFinishedDocument(t *testing.T) {
	t.Parallel()
	e := setup(t)
	resp, body := e.do(t, "POST", "/v1/runs?wait=15s", `{"pattern":"test_chain","inputs":{"n":5}}`, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST ?wait: status %d, want 200; body %s", resp.StatusCode, body)
	}
	doc := decode[orchestrator.RunDocument](t, body)
	if doc.Status != "succeeded" || len(doc.Steps) != 3 || doc.FinishedAt == nil {
		t.Fatalf("waited document: status %q, %d steps, finished_at %v; want succeeded, 3, set; body %s", doc.Status, len(doc.Steps), doc.FinishedAt, body)
	}
	// 5+1 = 6, 6+1 = 7 (by hand).
	if got := decode[map[string]any](t, doc.Outputs["checked"]); got["value"] != 7.0 || got["ok"] != true {
		t.Errorf("outputs.checked = %v, want value 7 and ok true", got)
	}
	// A wait shorter than the run answers 202 with the document so far.
	resp, body = e.do(t, "POST", "/v1/runs?wait=100ms", `{"pattern":"test_chain","inputs":{"n":1,"sleep_ms":1500}}`, nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST ?wait=100ms of a 3 s run: status %d, want 202; body %s", resp.StatusCode, body)
	}
	if doc := decode[orchestrator.RunDocument](t, body); doc.Status != "running" || len(doc.Steps) != 3 {
		t.Errorf("document so far: status %q with %d steps, want running with 3", doc.Status, len(doc.Steps))
	}
}

func TestIdempotencyKeyReturnsSameRun(t *testing.T) {
	t.Parallel()
	e := setup(t)
	req := `{"pattern":"test_chain","inputs":{"n":1},"idempotency_key":"key-1"}`
	resp, body := e.do(t, "POST", "/v1/runs", req, nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("first POST: status %d, want 202; body %s", resp.StatusCode, body)
	}
	first := decode[accepted](t, body)
	resp, body = e.do(t, "POST", "/v1/runs", req, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("repeated POST: status %d, want 200; body %s", resp.StatusCode, body)
	}
	if again := decode[accepted](t, body); again.RunID != first.RunID {
		t.Errorf("repeated POST named run %s, want %s", again.RunID, first.RunID)
	}
	resp, body = e.do(t, "GET", "/v1/runs?pattern=test_chain", "", nil)
	list := decode[struct {
		Runs []orchestrator.RunSummary `json:"runs"`
	}](t, body)
	if resp.StatusCode != http.StatusOK || len(list.Runs) != 1 {
		t.Errorf("GET /v1/runs: status %d with %d runs, want 200 with 1; body %s", resp.StatusCode, len(list.Runs), body)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, body := e.do(t, "POST", "/v1/runs", `{"pattern":"test_chain","inputs":{"n":1,"sleep_ms":3000}}`, nil)
	a := decode[accepted](t, body)
	resp, body := e.do(t, "POST", "/v1/runs/"+a.RunID+"/cancel", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("cancel: status %d, want 200; body %s", resp.StatusCode, body)
	}
	if doc := decode[orchestrator.RunDocument](t, body); doc.Status != "canceled" {
		t.Errorf("after cancel: status %q, want canceled", doc.Status)
	}
	resp, body = e.do(t, "POST", "/v1/runs/"+a.RunID+"/cancel", "", nil)
	checkProblem(t, "cancel twice", resp, body, http.StatusConflict, "conflict")
}

// checkProblem asserts that a response is a problem document with the
// status and code wanted and the request's correlation id.
func checkProblem(t *testing.T, name string, resp *http.Response, body []byte, status int, code string) ingress.Problem {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("%s: status %d, want %d; body %s", name, resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s: Content-Type %q, want application/problem+json", name, ct)
	}
	var p ingress.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("%s: body is not a problem document: %v; body %s", name, err, body)
	}
	if p.Code != code || p.Status != status || p.Type != "https://dawsos.dev/problems/"+code || p.Title == "" || p.Detail == "" {
		t.Errorf("%s: problem code %q status %d type %q title %q detail %q; want code %q status %d", name, p.Code, p.Status, p.Type, p.Title, p.Detail, code, status)
	}
	if h := resp.Header.Get("X-Correlation-ID"); p.CorrelationID == "" || p.CorrelationID != h {
		t.Errorf("%s: correlation_id %q, header %q; want equal and set", name, p.CorrelationID, h)
	}
	return p
}

func TestErrorsAreProblems(t *testing.T) {
	t.Parallel()
	e := setup(t)
	unknownID := uuid.NewString()
	cases := []struct {
		name, method, path, body string
		status                   int
		code                     string
		field, fieldCode         string // first fields entry, when set
	}{
		{"malformed JSON", "POST", "/v1/runs", `{"pattern": `, 400, "malformed_json", "", ""},
		{"not JSON at all", "POST", "/v1/runs", `pattern=test_chain`, 400, "malformed_json", "", ""},
		{"empty body", "POST", "/v1/runs", ``, 400, "malformed_json", "", ""},
		{"unknown top-level field", "POST", "/v1/runs", `{"pattern":"test_chain","inputs":{"n":1},"colour":"red"}`, 422, "invalid_input", "colour", "unknown_field"},
		{"wrong field type", "POST", "/v1/runs", `{"pattern":7,"inputs":{"n":1}}`, 422, "invalid_input", "pattern", "wrong_type"},
		{"unknown pattern", "POST", "/v1/runs", `{"pattern":"no_such","inputs":{}}`, 404, "not_found", "pattern", "not_found"},
		{"wrong input type", "POST", "/v1/runs", `{"pattern":"test_chain","inputs":{"n":"one"}}`, 422, "invalid_input", "inputs.n", "wrong_type"},
		{"unknown input", "POST", "/v1/runs", `{"pattern":"test_chain","inputs":{"n":1,"m":2}}`, 422, "invalid_input", "inputs.m", "unknown_field"},
		{"missing required input", "POST", "/v1/runs", `{"pattern":"test_chain","inputs":{}}`, 422, "invalid_input", "inputs.n", "missing"},
		{"bad asof_date", "POST", "/v1/runs", `{"pattern":"test_chain","inputs":{"n":1},"asof_date":"yesterday"}`, 422, "invalid_input", "asof_date", "invalid_input"},
		{"bad wait", "POST", "/v1/runs?wait=soon", `{"pattern":"test_chain","inputs":{"n":1}}`, 400, "bad_request", "wait", "invalid_value"},
		{"unknown run", "GET", "/v1/runs/" + unknownID, "", 404, "not_found", "", ""},
		{"bad uuid", "GET", "/v1/runs/not-a-uuid", "", 400, "bad_request", "id", "invalid_format"},
		{"events of unknown run", "GET", "/v1/runs/" + unknownID + "/events", "", 404, "not_found", "", ""},
		{"cancel unknown run", "POST", "/v1/runs/" + unknownID + "/cancel", "", 404, "not_found", "", ""},
		{"bad status filter", "GET", "/v1/runs?status=done", "", 400, "bad_request", "status", "invalid_value"},
		{"replay unknown dead letter", "POST", "/v1/dlq/" + unknownID + "/replay", "", 404, "not_found", "", ""},
		{"unknown dead letter", "GET", "/v1/dlq/" + unknownID, "", 404, "not_found", "", ""},
		{"unknown pattern id", "GET", "/v1/patterns/no_such", "", 404, "not_found", "id", "not_found"},
		{"unknown breaker", "POST", "/v1/breakers/no.such/reset", "", 404, "not_found", "capability", "not_found"},
		{"unknown route", "GET", "/v1/nothing-here", "", 404, "not_found", "", ""},
		{"method not allowed", "DELETE", "/v1/runs", "", 405, "method_not_allowed", "", ""},
		{"malformed pattern document", "POST", "/v1/patterns/validate", `{"id": "x",`, 400, "malformed_json", "", ""},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cid := fmt.Sprintf("case-%d", i)
			resp, body := e.do(t, tc.method, tc.path, tc.body, map[string]string{"X-Correlation-ID": cid})
			p := checkProblem(t, tc.method+" "+tc.path, resp, body, tc.status, tc.code)
			if p.CorrelationID != cid {
				t.Errorf("correlation_id %q, want the client's %q", p.CorrelationID, cid)
			}
			if tc.field != "" {
				if len(p.Fields) == 0 || p.Fields[0].Field != tc.field || p.Fields[0].Code != tc.fieldCode {
					t.Errorf("fields %+v, want first {field %q code %q}", p.Fields, tc.field, tc.fieldCode)
				}
			}
		})
	}
}

// TestOversizedBody goes through a real listener: fasthttp refuses the body
// while reading the request, before any handler, which app.Test reports as
// a connection error instead of a response.
func TestOversizedBody(t *testing.T) {
	t.Parallel()
	e := setup(t)
	base := e.listen(t)
	big := `{"pattern":"test_chain","inputs":{"n":1},"idempotency_key":"` + strings.Repeat("x", 2*testBodyLimit) + `"}`
	req, err := http.NewRequest("POST", base+"/v1/runs", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Correlation-ID", "too-big")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST oversized body: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := checkProblem(t, "oversized body", resp, body, http.StatusRequestEntityTooLarge, "body_too_large")
	if p.CorrelationID != "too-big" {
		t.Errorf("correlation_id %q, want the client's too-big", p.CorrelationID)
	}
	// Nothing was submitted: the body was never parsed.
	resp2, body2 := e.do(t, "GET", "/v1/runs", "", nil)
	if list := decode[struct {
		Runs []orchestrator.RunSummary `json:"runs"`
	}](t, body2); resp2.StatusCode != http.StatusOK || len(list.Runs) != 0 {
		t.Errorf("after the oversized body: %d runs (status %d), want 0", len(list.Runs), resp2.StatusCode)
	}
}

func TestCorrelationID(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cases := []struct {
		name, sent string
		echoed     bool
	}{
		{"valid is echoed", "abc.DEF_1:2-3", true},
		{"128 characters are echoed", strings.Repeat("a", 128), true},
		{"129 characters are replaced", strings.Repeat("a", 129), false},
		{"spaces are replaced", "has space", false},
		{"absent is generated", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := map[string]string{}
			if tc.sent != "" {
				h["X-Correlation-ID"] = tc.sent
			}
			resp, body := e.do(t, "GET", "/healthz", "", h)
			got := resp.Header.Get("X-Correlation-ID")
			if tc.echoed && got != tc.sent {
				t.Errorf("sent %q, got %q; want it echoed", tc.sent, got)
			}
			if !tc.echoed {
				if _, err := uuid.Parse(got); err != nil || got == tc.sent {
					t.Errorf("sent %q, got %q; want a fresh uuid", tc.sent, got)
				}
			}
			if resp.StatusCode != http.StatusOK {
				t.Errorf("healthz: status %d; body %s", resp.StatusCode, body)
			}
		})
	}
}
