package orchestrator_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/testcaps"
	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/patterns"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

func TestMain(m *testing.M) { pgtest.MainWithLeakCheck(m) }

// testPatterns are the pattern documents the engine tests run.
var testPatterns = map[string]string{
	"one.json": `{"id": "one", "inputs": {"v": {"type": "integer", "default": 1}},
		"steps": [{"capability": "test.noop", "as": "a", "args": {"value": "{{inputs.v}}"}}],
		"outputs": ["a"]}`,
	"skipped.json": `{"id": "skipped", "inputs": {"go": {"type": "boolean", "default": false}},
		"steps": [{"capability": "test.noop", "as": "a", "condition": "inputs.go", "args": {}}],
		"outputs": ["a"]}`,
	"dag.json": `{"id": "dag", "inputs": {"key": {"type": "string", "default": "k"}, "gate": {"type": "boolean", "default": true}},
		"steps": [
			{"capability": "test.noop", "as": "a", "args": {"value": {"n": 1}}},
			{"capability": "test.noop", "as": "b", "args": {"value": {"n": 2}}},
			{"capability": "test.flaky", "as": "f", "args": {"key": "{{inputs.key}}"}},
			{"capability": "test.noop", "as": "c", "args": {"value": ["{{a.value.n}}", "{{b.value}}"]}},
			{"capability": "test.noop", "as": "after_f", "args": {"value": "{{f.key}}"}},
			{"capability": "test.noop", "as": "gated", "condition": "inputs.gate", "args": {"value": "{{c.value}}"}},
			{"capability": "test.noop", "as": "after_gated", "args": {"value": "{{gated.value}}"}}
		],
		"outputs": ["a", "c", "after_f", "gated"]}`,
}

// env is one test's engine: its own database, its own embedded NATS, the
// test capabilities, and a fault file that switches test.flaky.
type env struct {
	db     *storage.DB
	bus    *bus.Bus
	reg    *agents.Registry
	cat    *orchestrator.Catalog
	router *bus.AgentRouter
	engine *orchestrator.Engine
	fault  string
	ctx    context.Context
	log    *slog.Logger
	// prom holds the engine's and the bus's metrics.
	prom       *prometheus.Registry
	busMetrics *bus.Metrics
	metrics    *orchestrator.Metrics
	maxMessage int

	resultConcurrency int
}

// startAgents runs the capabilities' consumers.
func (e *env) startAgents() {
	go func() { _ = e.router.Run(e.ctx) }()
	<-e.router.Running()
}

type envOpts struct {
	failures    int
	openFor     time.Duration
	maxAttempts int
	concurrency int
	pool        int32
	timeout     time.Duration
	// settings override the handler settings of single capabilities.
	settings map[string]orchestrator.StepSettings
	// patterns replace testPatterns.
	patterns map[string]string
	// maxMessage bounds step requests and results (0: the default).
	maxMessage int
	// deferAgents leaves the capabilities stopped until startAgents, so a
	// benchmark can fill the queue first.
	deferAgents bool
	// resultConcurrency is the engine's (default 16).
	resultConcurrency int
}

func setup(t testing.TB, o envOpts) *env {
	t.Helper()
	if o.failures == 0 {
		o.failures = 5
	}
	if o.openFor == 0 {
		o.openFor = time.Hour
	}
	if o.maxAttempts == 0 {
		o.maxAttempts = 2
	}
	if o.concurrency == 0 {
		o.concurrency = 4
	}
	log := slog.New(slog.DiscardHandler)
	dir, err := os.MkdirTemp("", "dawsos-orch-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	e := &env{fault: filepath.Join(dir, "fault")}
	if o.pool > 0 {
		// Benchmarks need more connections than the harness's default.
		e.db, err = storage.Open(context.Background(), storage.PoolConfig{URL: pgtest.URL(t), MaxConns: o.pool, AcquireTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.db.Close)
	} else {
		e.db = pgtest.NewDB(t)
	}
	e.bus, err = bus.Start(context.Background(), bus.Config{StoreDir: filepath.Join(dir, "nats"), QueueStorage: os.Getenv("DAWSOS_BENCH_QUEUE")}, log)
	if err != nil {
		t.Fatal(err)
	}
	e.prom = prometheus.NewRegistry()
	e.busMetrics = bus.NewMetrics(e.prom)
	e.metrics = orchestrator.NewMetrics(e.prom)
	e.maxMessage = o.maxMessage
	e.reg = agents.NewRegistry(agents.Options{DB: e.db, Logger: log, CheckContracts: true})
	e.reg.Add(testcaps.New(e.fault)(agents.Deps{DB: e.db, Logger: log}))
	e.cat = orchestrator.MustCatalog(e.reg)
	ps := patterns.NewSet(e.cat)
	docs := testPatterns
	if o.patterns != nil {
		docs = o.patterns
	}
	for name, doc := range docs {
		if probs := ps.AddDocument(name, []byte(doc)); len(probs) > 0 {
			t.Fatalf("test pattern %s: %v", name, probs)
		}
	}
	if o.timeout == 0 {
		o.timeout = 5 * time.Second
	}
	hs, err := orchestrator.Handlers(e.cat, nil, func(c string) orchestrator.StepSettings {
		if s, ok := o.settings[c]; ok {
			return s
		}
		return orchestrator.StepSettings{Timeout: o.timeout, MaxAttempts: o.maxAttempts, Concurrency: o.concurrency}
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.router, err = e.bus.NewAgentRouter(ctx, bus.AgentRouterConfig{
		Breaker:        bus.BreakerConfig{Failures: o.failures, OpenFor: o.openFor},
		InitialBackoff: 10 * time.Millisecond,
		DeadLetters:    orchestrator.DeadLetterStore{DB: e.db}, Classify: orchestrator.Classify,
		CancelGrace: time.Second, Logger: log, Metrics: e.busMetrics, MaxMessageBytes: o.maxMessage,
	}, hs)
	if err != nil {
		t.Fatal(err)
	}
	e.ctx, e.log = ctx, log
	if !o.deferAgents {
		e.startAgents()
	}
	e.resultConcurrency = o.resultConcurrency
	if e.resultConcurrency == 0 {
		e.resultConcurrency = 16
	}
	e.startEngine(t, ps)
	t.Cleanup(func() {
		_ = e.engine.Stop()
		_ = e.router.Close()
		cancel()
		e.bus.Close()
	})
	return e
}

func (e *env) startEngine(t testing.TB, ps *patterns.Set) {
	t.Helper()
	e.engine = orchestrator.New(e.db, e.bus, ps, e.cat, orchestrator.Config{
		StepDeadline: func(string) time.Duration { return time.Minute }, ResultConcurrency: e.resultConcurrency, Logger: e.log,
		Metrics: e.metrics, BusMetrics: e.busMetrics, MaxMessageBytes: e.maxMessage,
	})
	if err := e.engine.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
}

// restartEngine stops the orchestrator and starts a new one with other
// pattern files, as a restart after an edit or a rolling deploy does.
func (e *env) restartEngine(t testing.TB, docs map[string]string) {
	t.Helper()
	if err := e.engine.Stop(); err != nil {
		t.Fatal(err)
	}
	ps := patterns.NewSet(e.cat)
	for name, doc := range docs {
		if probs := ps.AddDocument(name, []byte(doc)); len(probs) > 0 {
			t.Fatalf("pattern %s: %v", name, probs)
		}
	}
	e.startEngine(t, ps)
}

func (e *env) setFault(t testing.TB, mode string) {
	t.Helper()
	if err := os.WriteFile(e.fault, []byte(mode), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (e *env) submit(t testing.TB, pattern string, inputs map[string]any) string {
	t.Helper()
	raw := map[string]json.RawMessage{}
	for k, v := range inputs {
		b, _ := json.Marshal(v)
		raw[k] = b
	}
	s, err := e.engine.Submit(context.Background(), orchestrator.SubmitRequest{Pattern: pattern, Inputs: raw})
	if err != nil {
		t.Fatalf("submit %s: %v", pattern, err)
	}
	return s.RunID
}

// wait returns the run document once the run is no longer running.
func (e *env) wait(t testing.TB, runID string) *orchestrator.RunDocument {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		changed, stop := e.engine.Changed(runID)
		d, err := e.engine.Get(context.Background(), runID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != storage.RunRunning {
			stop()
			return d
		}
		select {
		case <-changed:
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatalf("run %s still running after 30s: %+v", runID, d.Steps)
		}
		stop()
	}
}

func stepStatus(d *orchestrator.RunDocument) map[string]string {
	out := map[string]string{}
	for _, s := range d.Steps {
		out[s.ID] = s.Status
	}
	return out
}
