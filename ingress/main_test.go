package ingress_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/ingress"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/patterns"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

// TestMain runs the tests on the shared PostgreSQL test server and checks
// that no goroutine outlives them. Two fasthttp goroutines are exempt: the
// process-wide clock of its Date header, and the worker-pool cleaner, which
// notices a stopped server only after its sleep (up to 10 s) ends.
func TestMain(m *testing.M) {
	pgtest.MainWithLeakCheck(m,
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"))
}

// testPattern chains two increments and a check. With n = 1 the outputs
// are first.value = 2, second.value = 3 (1+1, 2+1, by hand), and checked
// reports value 3. fail = true makes the check fail with a final error, so
// its step is dead-lettered.
const testPattern = `{
  "id": "test_chain",
  "name": "Test chain",
  "description": "Adds one twice, then checks the result.",
  "version": "1",
  "category": "test",
  "inputs": {
    "n": {"type": "integer", "required": true, "description": "The start value."},
    "fail": {"type": "boolean", "default": false},
    "sleep_ms": {"type": "integer", "default": 0}
  },
  "steps": [
    {"capability": "test.add_one", "as": "first", "args": {"value": "{{inputs.n}}", "sleep_ms": "{{inputs.sleep_ms}}"}},
    {"capability": "test.add_one", "as": "second", "args": {"value": "{{first.value}}", "sleep_ms": "{{inputs.sleep_ms}}"}},
    {"capability": "test.check", "as": "checked", "args": {"value": "{{second.value}}", "fail": "{{inputs.fail}}"}}
  ],
  "outputs": ["first", "second", "checked"]
}`

type addIn struct {
	Value   int `json:"value"`
	SleepMS int `json:"sleep_ms,omitempty"`
}

type addOut struct {
	Value int `json:"value"`
}

type checkIn struct {
	Value int  `json:"value"`
	Fail  bool `json:"fail"`
}

type checkOut struct {
	Value int  `json:"value"`
	OK    bool `json:"ok"`
}

func testAgent(agents.Deps) agents.Agent {
	return agents.Agent{Name: "tester", Capabilities: []agents.Def{
		agents.Compute(agents.Meta{Name: "test.add_one", Description: "Adds one."},
			func(ctx context.Context, _ *agents.Call, in addIn) (addOut, error) {
				if in.SleepMS > 0 {
					select {
					case <-time.After(time.Duration(in.SleepMS) * time.Millisecond):
					case <-ctx.Done():
						return addOut{}, ctx.Err()
					}
				}
				return addOut{Value: in.Value + 1}, nil
			}),
		agents.Compute(agents.Meta{Name: "test.check", Description: "Fails on request.", Codes: []string{agents.CodeInsufficientData}},
			func(_ context.Context, _ *agents.Call, in checkIn) (checkOut, error) {
				if in.Fail {
					return checkOut{}, agents.Errorf(agents.CodeInsufficientData, "asked to fail at value %d", in.Value)
				}
				return checkOut{Value: in.Value, OK: true}, nil
			}),
	}}
}

// env is one test's whole process: database, bus, agents, engine, ingress.
type env struct {
	db     *storage.DB
	bus    *bus.Bus
	engine *orchestrator.Engine
	set    *patterns.Set
	srv    *ingress.Server
	reg    *prometheus.Registry
	// users are the database's users; e.do acts as users.admin unless
	// told otherwise.
	users people
}

const testBodyLimit = 4096

// setup starts an env; opts adjust the ingress configuration.
func setup(t *testing.T, opts ...func(*ingress.Config)) *env {
	t.Helper()
	db := pgtest.NewDB(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir, err := os.MkdirTemp("", "ingress-nats-")
	if err != nil {
		t.Fatalf("make nats store dir: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithCancel(context.Background())
	b, err := bus.Start(ctx, bus.Config{StoreDir: dir}, log)
	if err != nil {
		cancel()
		t.Fatalf("start bus: %v", err)
	}
	t.Cleanup(b.Close)
	t.Cleanup(cancel)

	reg := agents.NewRegistry(agents.Options{DB: db, Logger: log, CheckContracts: true})
	reg.Add(testAgent(agents.Deps{DB: db, Logger: log}))
	cat := orchestrator.MustCatalog(reg)
	set := patterns.NewSet(cat)
	if probs := set.AddDocument("test_chain.json", []byte(testPattern)); len(probs) > 0 {
		t.Fatalf("test pattern does not validate: %v", probs)
	}
	promReg := prometheus.NewRegistry()
	metrics := bus.NewMetrics(promReg)
	handlers, err := orchestrator.Handlers(cat, nil, func(string) orchestrator.StepSettings {
		return orchestrator.StepSettings{Timeout: 10 * time.Second, MaxAttempts: 2, Concurrency: 2}
	})
	if err != nil {
		t.Fatal(err)
	}
	router, err := b.NewAgentRouter(ctx, bus.AgentRouterConfig{
		InitialBackoff: 50 * time.Millisecond, DeadLetters: orchestrator.DeadLetterStore{DB: db},
		Classify: orchestrator.Classify, Metrics: metrics, Logger: log,
	}, handlers)
	if err != nil {
		t.Fatalf("agent router: %v", err)
	}
	routerDone := make(chan struct{})
	go func() {
		defer close(routerDone)
		_ = router.Run(ctx)
	}()
	t.Cleanup(func() {
		_ = router.Close()
		<-routerDone
	})
	<-router.Running()

	engine := orchestrator.New(db, b, set, cat, orchestrator.Config{Logger: log, Metrics: orchestrator.NewMetrics(promReg), BusMetrics: metrics, RecoveryInterval: time.Second})
	if err := engine.Start(ctx); err != nil {
		t.Fatalf("start engine: %v", err)
	}
	t.Cleanup(func() { _ = engine.Stop() })

	cfg := withAuth(ingress.Config{BodyLimit: testBodyLimit, WaitMax: 20 * time.Second, KeepAlive: 200 * time.Millisecond, Version: "test"})
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := ingress.New(ingress.Deps{
		Engine: engine, Patterns: set, Registry: reg, Catalog: cat, Breakers: router, DB: db, Bus: b,
		Gatherer: promReg, Registerer: promReg, Logger: log,
	}, cfg)
	if err != nil {
		t.Fatalf("new ingress: %v", err)
	}
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
	})
	return &env{db: db, bus: b, engine: engine, set: set, srv: srv, reg: promReg, users: newPeople(t, db)}
}

// listen serves the app on a free loopback port until the test ends and
// returns its base URL.
func (e *env) listen(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := e.srv.Serve(ln); err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-done
	})
	return "http://" + ln.Addr().String()
}

// do sends one request through app.Test and returns the response and body.
// It acts as the ADMIN unless header sets Authorization (to "" for no
// credential at all).
func (e *env) do(t *testing.T, method, path, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, path, r)
	if err != nil {
		t.Fatalf("build request %s %s: %v", method, path, err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if _, ok := header["Authorization"]; !ok && e.users.admin.Token != "" {
		req.Header.Set("Authorization", e.users.admin.bearer())
	}
	for k, v := range header {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := e.srv.App().Test(req, 30000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body of %s %s: %v", method, path, err)
	}
	return resp, b
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, b, err)
	}
	return v
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return b
}
