package ingress_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

type sseEvent struct {
	ID    int64
	Type  string
	Data  map[string]any
	Lines int
}

// readEvents reads SSE events from a stream until max events (0: until the
// server closes it). Comment lines (keep-alives) and retry fields are
// skipped.
func readEvents(t *testing.T, resp *http.Response, max int) []sseEvent {
	t.Helper()
	var out []sseEvent
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var cur sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.Type != "" {
				out = append(out, cur)
				if max > 0 && len(out) == max {
					return out
				}
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, ":"), strings.HasPrefix(line, "retry: "):
		case strings.HasPrefix(line, "id: "):
			n, err := strconv.ParseInt(strings.TrimPrefix(line, "id: "), 10, 64)
			if err != nil {
				t.Fatalf("event id line %q: %v", line, err)
			}
			cur.ID = n
		case strings.HasPrefix(line, "event: "):
			cur.Type = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.Lines++
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &cur.Data); err != nil {
				t.Fatalf("event data line %q: %v", line, err)
			}
		default:
			t.Fatalf("unexpected stream line %q", line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read stream: %v", err)
	}
	return out
}

func openStream(t *testing.T, ctx context.Context, url, lastID string, as testUser) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", as.bearer())
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", url, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("GET %s: Content-Type %q, want text/event-stream", url, ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("GET %s: Cache-Control %q, want no-cache", url, cc)
	}
	return resp
}

// TestEventStream follows a run live, drops the connection after three
// events, resumes with Last-Event-ID, and checks that the two parts
// together are exactly the run's events in PostgreSQL: no repeat, no gap,
// ending with run.completed, after which the server closes the stream.
func TestEventStream(t *testing.T) {
	t.Parallel()
	e := setup(t)
	base := e.listen(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// Each add_one step sleeps 300 ms, so the stream is live.
	_, body := e.do(t, "POST", "/v1/runs", `{"pattern":"test_chain","inputs":{"n":1,"sleep_ms":300}}`, nil)
	a := decode[accepted](t, body)
	url := base + a.Links.Events

	first := openStream(t, ctx, url, "", e.users.admin)
	part1 := readEvents(t, first, 3)
	first.Body.Close()
	if len(part1) != 3 {
		t.Fatalf("first connection: %d events, want 3", len(part1))
	}

	second := openStream(t, ctx, url, strconv.FormatInt(part1[2].ID, 10), e.users.admin)
	part2 := readEvents(t, second, 0) // the server closes after run.completed
	second.Body.Close()

	all := append(part1, part2...)
	stored, status, err := e.engine.Events(ctx, a.RunID, 0, 1000)
	if err != nil {
		t.Fatalf("read stored events: %v", err)
	}
	if status != "succeeded" {
		t.Fatalf("run status %q after the stream closed, want succeeded", status)
	}
	if len(all) != len(stored) {
		t.Fatalf("streamed %d events (%d + %d), stored %d", len(all), len(part1), len(part2), len(stored))
	}
	for i, ev := range all {
		if ev.ID != stored[i].Seq || ev.Type != stored[i].Type || ev.Lines != 1 {
			t.Errorf("event %d: streamed id %d type %q (%d data lines), stored seq %d type %q", i, ev.ID, ev.Type, ev.Lines, stored[i].Seq, stored[i].Type)
		}
		if ev.Data["run_id"] != a.RunID || ev.Data["type"] != ev.Type {
			t.Errorf("event %d data %v, want run_id %s and type %s", i, ev.Data, a.RunID, ev.Type)
		}
	}
	if last := all[len(all)-1]; last.Type != "run.completed" {
		t.Errorf("last event %q, want run.completed", last.Type)
	}
	if all[0].ID != 1 || all[0].Type != "run.accepted" {
		t.Errorf("first event id %d type %q, want 1 run.accepted", all[0].ID, all[0].Type)
	}

	// ?after= resumes the same way; resuming at the end gives nothing
	// but still closes, because the run has ended.
	end := openStream(t, ctx, url+"?after="+strconv.FormatInt(all[len(all)-1].ID-1, 10), "", e.users.admin)
	tail := readEvents(t, end, 0)
	end.Body.Close()
	if len(tail) != 1 || tail[0].Type != "run.completed" {
		t.Errorf("?after=<last-1>: %+v, want only run.completed", tail)
	}
	done := openStream(t, ctx, url, strconv.FormatInt(all[len(all)-1].ID, 10), e.users.admin)
	rest := readEvents(t, done, 0) // returns only because the server closes
	done.Body.Close()
	if len(rest) != 0 {
		t.Errorf("Last-Event-ID at run.completed: %+v, want no events and a closed stream", rest)
	}
}

// TestEventStreamKeepAlive checks that an idle stream gets comment lines
// and that Shutdown ends it: the client sees the stream end cleanly before
// the run does, and Shutdown returns before its deadline.
func TestEventStreamKeepAlive(t *testing.T) {
	t.Parallel()
	e := setup(t)
	base := e.listen(t)
	// Two steps of 3 s each: the run outlasts the first keep-alive by far,
	// so a stream that ends without run.completed was ended by Shutdown.
	_, body := e.do(t, "POST", "/v1/runs", `{"pattern":"test_chain","inputs":{"n":1,"sleep_ms":3000}}`, nil)
	a := decode[accepted](t, body)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp := openStream(t, ctx, base+a.Links.Events, "", e.users.admin)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	keptAlive := false
	for !keptAlive && sc.Scan() {
		keptAlive = sc.Text() == ": keep-alive"
	}
	if !keptAlive {
		t.Fatalf("stream ended without a keep-alive comment (interval 200 ms, run 6 s): %v", sc.Err())
	}

	shutdownErr := make(chan error, 1)
	go func() {
		sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer scancel()
		shutdownErr <- e.srv.Shutdown(sctx)
	}()
	var rest []string
	for sc.Scan() {
		rest = append(rest, sc.Text())
	}
	// A clean end (the chunked body's terminator) reads as EOF, which the
	// scanner does not report; a connection cut mid-body would be an error.
	if err := sc.Err(); err != nil {
		t.Errorf("stream after Shutdown ended with %v, want a clean end", err)
	}
	for _, line := range rest {
		if line == "event: run.completed" {
			t.Errorf("stream sent run.completed after Shutdown; the run ended before the shutdown ended the stream (lines %q)", rest)
		}
	}
	select {
	case err := <-shutdownErr:
		if err != nil {
			t.Errorf("Shutdown with an open event stream: %v, want it to end the stream and return before its 15 s deadline", err)
		}
	case <-ctx.Done():
		t.Fatal("Shutdown did not return within 30 s of an open event stream")
	}
}
