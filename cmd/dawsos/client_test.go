package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestInputValue(t *testing.T) {
	t.Parallel()
	// The rule of inputRules: JSON numbers, booleans, objects and arrays
	// go as JSON, anything else as a string.
	cases := []struct{ in, want string }{
		{"42", `42`},
		{"0.15", `0.15`},
		{"-1e3", `-1e3`},
		{"12345678901234567890", `12345678901234567890`}, // kept exactly, not through float64
		{"true", `true`},
		{"false", `false`},
		{`{"a": 1, "b": [1, 2]}`, `{"a":1,"b":[1,2]}`},
		{"[1, 2]", `[1,2]`},
		{"AAPL", `"AAPL"`},
		{"2024-01-31", `"2024-01-31"`},
		{"007", `"007"`}, // not a JSON number (leading zero)
		{"null", `"null"`},
		{`"quoted"`, `"\"quoted\""`},
		{"", `""`},
		{"True", `"True"`},
		{"1,5", `"1,5"`},
		{"{not json", `"{not json"`},
		{"7f1c9a3e-2d4b-4c1a-9e8f-0a1b2c3d4e5f", `"7f1c9a3e-2d4b-4c1a-9e8f-0a1b2c3d4e5f"`},
	}
	for _, c := range cases {
		if got := string(inputValue(c.in)); got != c.want {
			t.Errorf("inputValue(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestParseInputs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		pairs  []string
		json   string
		want   map[string]string // key → raw JSON; nil when an error is expected
		errHas string
	}{
		{name: "plain", pairs: []string{"portfolio_id=abc", "lookback_days=252"},
			want: map[string]string{"portfolio_id": `"abc"`, "lookback_days": `252`}},
		{name: "forced JSON", pairs: []string{`code:="42"`, "x:=null", "list:=[ 1 ]"},
			want: map[string]string{"code": `"42"`, "x": `null`, "list": `[1]`}},
		{name: "value with =", pairs: []string{"expr=a=b"}, want: map[string]string{"expr": `"a=b"`}},
		{name: "inputs-json then --input over it", json: `{"a": 1, "b": "x"}`, pairs: []string{"b=2"},
			want: map[string]string{"a": `1`, "b": `2`}},
		{name: "no equals", pairs: []string{"novalue"}, errHas: "must be k=v"},
		{name: "empty key", pairs: []string{"=1"}, errHas: "has no key"},
		{name: "bad forced JSON", pairs: []string{"k:=abc"}, errHas: "needs valid JSON"},
		{name: "duplicate", pairs: []string{"k=1", "k=2"}, errHas: "given twice"},
		{name: "inputs-json not an object", json: `[1]`, errHas: "must be a JSON object"},
		{name: "inputs-json null", json: `null`, errHas: "must be a JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseInputs(c.pairs, c.json)
			if c.errHas != "" {
				var ee *exitError
				if err == nil || !strings.Contains(err.Error(), c.errHas) || !errors.As(err, &ee) || ee.code != exitUsage {
					t.Fatalf("parseInputs(%q, %q) error = %v, want a usage error (exit 2) containing %q", c.pairs, c.json, err, c.errHas)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseInputs(%q, %q): %v", c.pairs, c.json, err)
			}
			if len(got) != len(c.want) {
				gotJSON, _ := json.Marshal(got)
				t.Fatalf("parseInputs(%q, %q) = %s, want %v", c.pairs, c.json, gotJSON, c.want)
			}
			for k, w := range c.want {
				var b bytes.Buffer
				if err := json.Compact(&b, got[k]); err != nil || b.String() != w {
					t.Errorf("parseInputs(%q, %q)[%s] = %s, want %s", c.pairs, c.json, k, got[k], w)
				}
			}
		})
	}
}

func TestBaseURLFromListen(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"127.0.0.1:8080", "http://127.0.0.1:8080"},
		{":8080", "http://127.0.0.1:8080"},
		{"0.0.0.0:9000", "http://127.0.0.1:9000"},
		{"[::]:9000", "http://127.0.0.1:9000"},
		{"[::1]:9000", "http://[::1]:9000"},
		{"api.example:80", "http://api.example:80"},
	}
	for _, c := range cases {
		if got := baseURLFromListen(c.in); got != c.want {
			t.Errorf("baseURLFromListen(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestNewAPIClientRejectsBadURL(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"127.0.0.1:8080", "ftp://x", "http://", "::"} {
		_, err := newAPIClient(in)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != exitUsage {
			t.Errorf("newAPIClient(%q) error = %v, want a usage error", in, err)
		}
	}
}

func TestAPIErrorDecoding(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		status      int
		contentType string
		header      string
		body        string
		want        string
	}{
		{
			name: "problem with fields", status: 422, contentType: "application/problem+json",
			// The shape of ingress.Problem for an orchestrator.InputError.
			body: `{"type":"https://dawsos.dev/problems/invalid_input","title":"Invalid input","status":422,
				"detail":"the inputs of pattern portfolio_overview are invalid","code":"invalid_input",
				"correlation_id":"c-123","fields":[
				{"field":"inputs.portfolio_id","code":"missing","message":"input portfolio_id is required"},
				{"field":"inputs.lookback_days","code":"wrong_type","message":"must be an integer"}]}`,
			want: "invalid_input: the inputs of pattern portfolio_overview are invalid\n" +
				"  inputs.portfolio_id: input portfolio_id is required\n" +
				"  inputs.lookback_days: must be an integer\n" +
				"  correlation id: c-123",
		},
		{
			name: "problem with capability, correlation from the header", status: 503, contentType: "application/problem+json",
			header: "h-9",
			body:   `{"status":503,"code":"breaker_open","detail":"the breaker is open","capability":"compute_twr"}`,
			want:   "breaker_open: the breaker is open (capability compute_twr)\n  correlation id: h-9",
		},
		{
			name: "problem without detail uses the title", status: 404, contentType: "application/problem+json",
			body: `{"status":404,"code":"not_found","title":"Not found","correlation_id":"x"}`,
			want: "not_found: Not found\n  correlation id: x",
		},
		{
			name: "not a problem", status: 502, contentType: "text/html", header: "",
			body: "<html>bad gateway</html>",
			want: "HTTP 502 Bad Gateway: <html>bad gateway</html>",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", c.contentType)
				if c.header != "" {
					w.Header().Set("X-Correlation-ID", c.header)
				}
				w.WriteHeader(c.status)
				_, _ = io.WriteString(w, c.body)
			}))
			defer srv.Close()
			cl, err := newAPIClient(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.close()
			status, err := cl.call(context.Background(), http.MethodGet, "/v1/runs/x", nil, nil, nil)
			var ae *apiError
			if !errors.As(err, &ae) {
				t.Fatalf("call error = %v (%T), want *apiError", err, err)
			}
			if status != c.status || ae.Status != c.status {
				t.Errorf("status = %d / %d, want %d", status, ae.Status, c.status)
			}
			if got := err.Error(); got != c.want {
				t.Errorf("error text:\n%s\nwant:\n%s\nbody: %s", got, c.want, c.body)
			}
		})
	}
}

// TestSSEReader feeds a recorded stream. Expected events follow the
// parsing rules of the WHATWG HTML Living Standard, §9.2.6 "Interpreting an
// event stream", worked by hand next to each line.
func TestSSEReader(t *testing.T) {
	t.Parallel()
	stream := "retry: 250\n\n" + // sets the delay; no data, so nothing dispatches
		": keep-alive\n\n" + // a comment; nothing dispatches
		"id: 1\nevent: step.dispatched\ndata: {\"seq\":1}\n\n" + // event 1
		"id: 2\r\nevent: step.succeeded\r\ndata:{\"seq\":2}\r\n\r\n" + // CRLF; no space after the colon
		"data: line one\rdata:  line two\r\r" + // lone CR; the second value keeps one of its two spaces; id stays 2, type message
		"event: x\nid\ndata\n\n" + // "id" alone empties the id; "data" alone gives empty data, which still dispatches
		"id: 9\nevent: run.completed\n\n" + // no data: not dispatched, but the id is kept
		"data: after\n\n" + // id 9 persists
		"id: 10\ndata: unterminated" // no blank line at the end: discarded
	want := []sseMessage{
		{ID: "1", Event: "step.dispatched", Data: `{"seq":1}`},
		{ID: "2", Event: "step.succeeded", Data: `{"seq":2}`},
		{ID: "2", Event: "", Data: "line one\n line two"},
		{ID: "", Event: "x", Data: ""},
		{ID: "9", Event: "", Data: "after"},
	}
	// One byte per read, so every CR and CRLF straddles a read boundary.
	r := newSSEReader(&oneByteReader{s: stream})
	var got []sseMessage
	for {
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		got = append(got, m)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events:\n got %q\nwant %q", got, want)
	}
	if r.Retry != 250*time.Millisecond {
		t.Errorf("Retry = %s, want 250ms", r.Retry)
	}
	if r.LastID != "9" {
		t.Errorf("LastID = %q, want 9 (the unterminated event's id is not taken)", r.LastID)
	}
}

type oneByteReader struct {
	s string
	i int
}

func (r *oneByteReader) Read(p []byte) (int, error) {
	if r.i >= len(r.s) {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.s[r.i]
	r.i++
	return 1, nil
}

func TestFormatEvent(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 4, 10, 11, 12, 345_000_000, time.Local).UTC().Format(time.RFC3339Nano)
	cases := []struct {
		data string
		want string
	}{
		{
			data: `{"run_id":"r","seq":3,"type":"step.succeeded","step_id":"twr","data":{"capability":"compute_twr","attempt":1,"status":"succeeded","duration_ms":12.4,"tries":1},"at":"` + at + `"}`,
			want: "10:11:12.345 step.succeeded      step=twr capability=compute_twr status=succeeded duration=12ms",
		},
		{
			data: `{"type":"step.dead_lettered","step_id":"px","data":{"capability":"fetch_prices","attempt":2,"status":"dead_lettered","tries":3,"dead_letter_id":"d1","error":{"code":"provider_down","message":"503 from provider"}},"at":"` + at + `"}`,
			want: "10:11:12.345 step.dead_lettered  step=px capability=fetch_prices attempt=2 status=dead_lettered tries=3 dead_letter=d1 error=provider_down: 503 from provider",
		},
		{
			data: `{"type":"run.completed","data":{"status":"partial","steps":{"succeeded":3,"dead_lettered":1}},"at":"` + at + `"}`,
			want: "10:11:12.345 run.completed       status=partial steps[dead_lettered=1 succeeded=3]",
		},
	}
	for _, c := range cases {
		if got := formatEvent(sseMessage{Data: c.data}); got != c.want {
			t.Errorf("formatEvent(%s)\n got %q\nwant %q", c.data, got, c.want)
		}
	}
}

// TestFollowRunReconnects drops the first event stream after two events and
// checks that the client resumes with Last-Event-ID, prints every event
// once, and returns the run document.
func TestFollowRunReconnects(t *testing.T) {
	t.Parallel()
	var (
		mu       sync.Mutex
		lastIDs  []string
		streamNo int
	)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/runs/r1/events", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		streamNo++
		n := streamNo
		lastIDs = append(lastIDs, r.Header.Get("Last-Event-ID"))
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		ev := func(id int, typ, step string) string {
			return fmt.Sprintf("id: %d\nevent: %s\ndata: {\"seq\":%d,\"type\":%q,\"step_id\":%q,\"data\":{}}\n\n", id, typ, id, typ, step)
		}
		switch n {
		case 1:
			_, _ = io.WriteString(w, "retry: 5\n\n"+ev(1, "step.dispatched", "a")+ev(2, "step.succeeded", "a"))
			// The handler returns: the connection ends before run.completed.
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable) // a transient failure: retried
		default:
			_, _ = io.WriteString(w, ev(3, "run.completed", ""))
		}
	})
	mux.HandleFunc("GET /v1/runs/r1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"run_id":"r1","pattern":"p","status":"partial","steps":[],"errors":[],"outputs":{}}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cl, err := newAPIClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.close()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	doc, err := followRun(ctx, cl, "r1", &out)
	if err != nil {
		t.Fatalf("followRun: %v", err)
	}
	if doc.Status != "partial" {
		t.Errorf("status = %q, want partial", doc.Status)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"", "2", "2"}; fmt.Sprint(lastIDs) != fmt.Sprint(want) {
		t.Errorf("Last-Event-ID per connection = %q, want %q", lastIDs, want)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var types []string
	for _, l := range lines {
		types = append(types, strings.Fields(l)[1])
	}
	if want := "[step.dispatched step.succeeded run.completed]"; fmt.Sprint(types) != want {
		t.Errorf("printed events %v, want %s; output:\n%s", types, want, out.String())
	}
	if err := exitForStatus(doc.RunID, doc.Status); err == nil {
		t.Errorf("exitForStatus(partial) = nil, want exit 3")
	}
}

func TestFollowRunStopsOnClientError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"status":404,"code":"not_found","detail":"run r9 not found","correlation_id":"c"}`)
	}))
	defer srv.Close()
	cl, err := newAPIClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.close()
	_, err = followRun(context.Background(), cl, "r9", io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not_found: run r9 not found") {
		t.Fatalf("followRun error = %v, want the 404 problem without retrying", err)
	}
}

func TestExitForStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status string
		code   int // 0: no error
	}{
		{"succeeded", 0}, {"partial", exitRunPartial}, {"failed", exitRunFailed}, {"canceled", exitRunFailed}, {"running", exitAPI},
	}
	for _, c := range cases {
		err := exitForStatus("r", c.status)
		var ee *exitError
		switch {
		case c.code == 0 && err != nil:
			t.Errorf("exitForStatus(%q) = %v, want nil", c.status, err)
		case c.code != 0 && (!errors.As(err, &ee) || ee.code != c.code):
			t.Errorf("exitForStatus(%q) = %v, want exit code %d", c.status, err, c.code)
		}
	}
}

// TestUsageErrorsExit2 drives the registered commands through the root
// command; none of these reaches the (unreachable) server.
func TestUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	srv := "--server=http://127.0.0.1:1"
	cases := [][]string{
		{"run"},
		{"run", "p", "--input", "novalue", srv},
		{"run", "p", "--asof", "31/01/2024", srv},
		{"run", "p", "--no-such-flag", srv},
		{"run", "p", "--server", "127.0.0.1:8080"},
		{"dlq", "list", "--status", "done", srv},
		{"dlq", "show", srv},
		{"dlq", "replay", srv},
		{"dlq", "replay", "x", "--capability", "c", srv},
		{"dlq", "replay", "--capability", "c", "--token", "t", srv},
		{"dlq", "replay", "x", "--args-json", "{bad", srv},
		{"bench", srv},
		{"bench", "--pattern", "p", "--rate", "0", srv},
		{"bench", "--pattern", "p", "--concurrency-limit", "0", srv},
		{"bench", "--pattern", "p", "--wait-timeout", "10ms", srv},
	}
	for _, args := range cases {
		root := newRootCmd()
		root.SetArgs(args)
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		err := root.ExecuteContext(context.Background())
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != exitUsage {
			t.Errorf("dawsos %s: error %v, want a usage error (exit 2)", strings.Join(args, " "), err)
		}
	}
}
