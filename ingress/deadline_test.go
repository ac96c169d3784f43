package ingress_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/ingress"
	"github.com/dawsos/dawsos/orchestrator"
)

// logRecords is a slog handler that keeps every record, so a test can wait
// for a line the server logs.
type logRecords struct {
	mu   sync.Mutex
	recs []map[string]string
}

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }

func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	m := map[string]string{"msg": r.Message}
	r.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	l.mu.Lock()
	l.recs = append(l.recs, m)
	l.mu.Unlock()
	return nil
}

func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecords) WithGroup(string) slog.Handler      { return l }

// waitFor polls until a record has every key and value of want, for at
// most 20 s, and fails the test naming what it waited for.
func (l *logRecords) waitFor(t *testing.T, want map[string]string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		l.mu.Lock()
		for _, r := range l.recs {
			match := true
			for k, v := range want {
				if r[k] != v {
					match = false
					break
				}
			}
			if match {
				l.mu.Unlock()
				return
			}
		}
		seen := fmt.Sprint(l.recs)
		l.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no log record with %v within 20 s; records: %s", want, seen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// server builds a second ingress on the env's engine and database with its
// own configuration and log, without metrics collectors (the env's server
// registered them already).
func (e *env) server(t *testing.T, cfg ingress.Config, log *logRecords) *ingress.Server {
	t.Helper()
	var logger *slog.Logger
	if log != nil {
		logger = slog.New(log)
	} else {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.WaitMax == 0 {
		cfg.WaitMax = 20 * time.Second
	}
	srv, err := ingress.New(ingress.Deps{Engine: e.engine, Patterns: e.set, DB: e.db, Bus: e.bus, Logger: logger}, withAuth(cfg))
	if err != nil {
		t.Fatalf("new ingress: %v", err)
	}
	return srv
}

// serve serves srv on a free loopback port until the test ends and returns
// the address.
func serve(t *testing.T, srv *ingress.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-done
	})
	return ln.Addr().String()
}

// waitForRuns polls the env's server until n runs exist.
func (e *env) waitForRuns(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body := e.do(t, "GET", "/v1/runs", "", nil)
		if got := len(decode[struct {
			Runs []struct{} `json:"runs"`
		}](t, body).Runs); got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d runs after 20 s; last list %s", n, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func rawRequest(method, path, cid, body string) string {
	return fmt.Sprintf("%s %s HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nX-Correlation-ID: %s\r\nContent-Length: %d\r\n\r\n%s",
		method, path, cid, len(body), body)
}

// TestRequestDeadline holds a lock on the table GET /v1/dlq reads: the
// request's query waits for it past server.request_timeout, the client
// gets 504 timeout as a problem, and the query is cancelled on the server
// while the lock is still held.
func TestRequestDeadline(t *testing.T) {
	t.Parallel()
	e := setup(t)
	slow := &env{srv: e.server(t, ingress.Config{RequestTimeout: 500 * time.Millisecond}, nil), users: e.users}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	tx, err := e.db.Pool().Begin(ctx)
	if err != nil {
		t.Fatalf("begin the locking transaction: %v", err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, `LOCK TABLE dead_letters IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatalf("lock dead_letters: %v", err)
	}
	var locker int
	if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&locker); err != nil {
		t.Fatal(err)
	}
	// blocked counts the sessions waiting for the test's lock. Nothing
	// else in this process reads dead_letters while no step has failed.
	blocked := func() int {
		var n int
		if err := e.db.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, locker).Scan(&n); err != nil {
			t.Fatalf("count sessions blocked by the lock: %v", err)
		}
		return n
	}
	waitBlocked := func(want int, what string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for blocked() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d sessions wait for the lock after 20 s, want %d", what, blocked(), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	type answer struct {
		resp *http.Response
		body []byte
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		req, err := http.NewRequest("GET", "/v1/dlq", nil)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		req.Header.Set("X-Correlation-ID", "held")
		req.Header.Set("Authorization", e.users.admin.bearer())
		// app.Test gives up after 30 s, long after the 500 ms deadline.
		resp, err := slow.srv.App().Test(req, 30000)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		answered <- answer{resp, body, err}
	}()
	// The handler's query reaches the lock...
	waitBlocked(1, "while GET /v1/dlq runs")
	a := <-answered
	if a.err != nil {
		t.Fatalf("GET /v1/dlq with dead_letters locked and a 500 ms request timeout: %v; want a 504 answer", a.err)
	}
	p := checkProblem(t, "GET /v1/dlq held past its deadline", a.resp, a.body, http.StatusGatewayTimeout, "timeout")
	if want := "GET /v1/dlq did not finish within its deadline of 500ms (server.request_timeout)"; p.Detail != want {
		t.Errorf("detail %q, want %q", p.Detail, want)
	}
	// ...and no longer waits for it once the deadline cancelled it, though
	// the lock is still held.
	waitBlocked(0, "after the 504")
}

// TestWaitOutlastsRequestTimeout checks the exception for ?wait: its
// deadline is the wait on top of server.request_timeout, so a 3 s wait
// under a 2 s request timeout answers 202 with the run so far, not 504.
func TestWaitOutlastsRequestTimeout(t *testing.T) {
	t.Parallel()
	e := setup(t)
	short := &env{srv: e.server(t, ingress.Config{RequestTimeout: 2 * time.Second}, nil), users: e.users}
	resp, body := short.do(t, "POST", "/v1/runs?wait=3s", `{"pattern":"test_chain","inputs":{"n":1,"sleep_ms":5000}}`, nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST ?wait=3s with a 2 s request timeout on a 10 s run: status %d, want 202; body %s", resp.StatusCode, body)
	}
	if doc := decode[orchestrator.RunDocument](t, body); doc.Status != "running" {
		t.Errorf("document after the wait: status %q, want running", doc.Status)
	}
}

// TestDisconnectEndsWait starts POST /v1/runs?wait=20s on a run that does
// not end within the wait, closes the connection, and checks that the
// server notices, cancels the request and ends the wait: the request's
// access log line (written once the handler returned) has status 499.
func TestDisconnectEndsWait(t *testing.T) {
	t.Parallel()
	e := setup(t)
	log := &logRecords{}
	addr := serve(t, e.server(t, ingress.Config{}, log))

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	// The run takes over 10 s: if the server missed the disconnect, the
	// wait would end with the run (200), not with the client (499).
	req := rawAs(e.users.admin, "POST", "/v1/runs?wait=20s", "gone-client", `{"pattern":"test_chain","inputs":{"n":1,"sleep_ms":5000}}`)
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatalf("send the request: %v", err)
	}
	e.waitForRuns(t, 1) // the handler has submitted the run and waits for it
	if err := conn.Close(); err != nil {
		t.Fatalf("close the client connection: %v", err)
	}
	log.waitFor(t, map[string]string{"msg": "http client closed the connection; its request was cancelled", "correlation_id": "gone-client", "path": "/v1/runs"})
	log.waitFor(t, map[string]string{"msg": "http request", "correlation_id": "gone-client", "status": "499"})
}

// TestDisconnectEndsStream closes the client side of an idle event stream
// whose keep-alives are an hour apart, so no failed write can tell the
// server; the stream ends because the connection is watched.
func TestDisconnectEndsStream(t *testing.T) {
	t.Parallel()
	e := setup(t)
	log := &logRecords{}
	addr := serve(t, e.server(t, ingress.Config{KeepAlive: time.Hour}, log))
	_, body := e.do(t, "POST", "/v1/runs", `{"pattern":"test_chain","inputs":{"n":1,"sleep_ms":5000}}`, nil)
	a := decode[accepted](t, body)

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	if _, err := io.WriteString(conn, rawAs(e.users.admin, "GET", a.Links.Events, "stream-client", "")); err != nil {
		t.Fatalf("send the request: %v", err)
	}
	// The stream has started once its retry field arrives.
	br := bufio.NewReader(conn)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("read the stream: %v", err)
		}
		if strings.HasPrefix(line, "retry: ") {
			break
		}
	}
	if err := conn.Close(); err != nil {
		t.Fatalf("close the client connection: %v", err)
	}
	log.waitFor(t, map[string]string{"msg": "event stream closed by the client", "correlation_id": "stream-client", "err": "the client closed the connection"})
}

// TestPipelinedRequestSurvivesWatch sends a second request on the
// connection while the first (a 2 s wait) is being watched for a
// disconnect: watching must leave the second request's bytes unread, so
// both are answered, in order.
func TestPipelinedRequestSurvivesWatch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	addr := serve(t, e.server(t, ingress.Config{}, nil))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	first := rawAs(e.users.admin, "POST", "/v1/runs?wait=2s", "first", `{"pattern":"test_chain","inputs":{"n":1,"sleep_ms":3000}}`)
	if _, err := io.WriteString(conn, first); err != nil {
		t.Fatalf("send the first request: %v", err)
	}
	e.waitForRuns(t, 1) // the first handler runs; the server reads nothing more until it answers
	if _, err := io.WriteString(conn, rawRequest("GET", "/healthz", "second", "")); err != nil {
		t.Fatalf("send the second request: %v", err)
	}
	br := bufio.NewReader(conn)
	for _, want := range []struct {
		cid    string
		status int
	}{{"first", http.StatusAccepted}, {"second", http.StatusOK}} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("read the answer to %q: %v", want.cid, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("read the body of the answer to %q: %v", want.cid, err)
		}
		if got := resp.Header.Get("X-Correlation-ID"); got != want.cid || resp.StatusCode != want.status {
			t.Errorf("answer for %s: status %d correlation %q, want %d; body %s", want.cid, resp.StatusCode, got, want.status, body)
		}
	}
}

// BenchmarkQuickRequest measures a request that ends at once (GET
// /healthz) through the whole middleware chain on a real socket, so the
// deadline and the disconnect watch's timer are included.
func BenchmarkQuickRequest(b *testing.B) {
	var noAgents *bus.AgentRouter
	srv, err := ingress.New(ingress.Deps{Breakers: noAgents, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, withAuth(ingress.Config{}))
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	conn, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	h := srv.App().Handler()
	var fctx fasthttp.RequestCtx
	fctx.Init2(conn, nil, false)
	for b.Loop() {
		// fasthttp resets these between a connection's requests; Fiber
		// keeps the request's context among them.
		fctx.ResetUserValues()
		fctx.Request.Reset()
		fctx.Request.Header.SetMethod("GET")
		fctx.Request.SetRequestURI("/healthz")
		fctx.Response.Reset()
		h(&fctx)
		if fctx.Response.StatusCode() != http.StatusOK {
			b.Fatalf("GET /healthz: status %d", fctx.Response.StatusCode())
		}
	}
}
