// Package enginetest runs the real engine for tests of patterns: an
// embedded NATS on a temporary store, the agent router over the
// production adapter (orchestrator.Handlers), and the orchestrator, on a
// test's database and registry. Agent packages use it to run their
// patterns end to end, and its Harness to call one capability with the
// checks a step gets; nothing in it is a stand-in for NATS or
// PostgreSQL.
package enginetest

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/patterns"
	"github.com/dawsos/dawsos/storage"
)

// Engine is a running engine of one test.
type Engine struct {
	DB      *storage.DB
	Catalog *orchestrator.Catalog
	Engine  *orchestrator.Engine
}

// Start runs the engine over db and reg with the pattern files named (file
// names in the repository's patterns folder, such as
// "portfolio_overview.json"). Every capability gets a 60 s timeout and
// two attempts. It stops when the test ends.
func Start(t testing.TB, db *storage.DB, reg *agents.Registry, patternFiles ...string) *Engine {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	dir, err := os.MkdirTemp("", "dawsos-enginetest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cat, err := orchestrator.NewCatalog(reg)
	if err != nil {
		t.Fatal(err)
	}
	ps := patterns.NewSet(cat)
	for _, f := range patternFiles {
		data, err := os.ReadFile(filepath.Join(patternsDir(t), f))
		if err != nil {
			t.Fatal(err)
		}
		if probs := ps.AddDocument(f, data); len(probs) > 0 {
			t.Fatalf("pattern %s does not validate: %v", f, probs)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	b, err := bus.Start(ctx, bus.Config{StoreDir: filepath.Join(dir, "nats")}, log)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	hs, err := orchestrator.Handlers(cat, nil, func(string) orchestrator.StepSettings {
		return orchestrator.StepSettings{Timeout: time.Minute, MaxAttempts: 2, Concurrency: 4}
	})
	if err != nil {
		t.Fatal(err)
	}
	router, err := b.NewAgentRouter(ctx, bus.AgentRouterConfig{
		Breaker: bus.BreakerConfig{Failures: 5, OpenFor: time.Hour}, InitialBackoff: 10 * time.Millisecond,
		DeadLetters: orchestrator.DeadLetterStore{DB: db}, Classify: orchestrator.Classify, Logger: log,
	}, hs)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = router.Run(ctx) }()
	<-router.Running()
	eng := orchestrator.New(db, b, ps, cat, orchestrator.Config{
		StepDeadline: func(string) time.Duration { return 5 * time.Minute },
		Resolver:     orchestrator.StorageResolver{DB: db}, Logger: log,
	})
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = eng.Stop()
		_ = router.Close()
		cancel()
		b.Close()
	})
	return &Engine{DB: db, Catalog: cat, Engine: eng}
}

// patternsDir finds the repository's patterns folder from this file.
func patternsDir(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("enginetest: cannot find its own source file")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "patterns")
}

// Run submits a run of pattern with inputs at asOf (YYYY-MM-DD, "" for
// today) and returns its document once it has ended.
func (e *Engine) Run(t testing.TB, pattern, asOf string, inputs map[string]any) *orchestrator.RunDocument {
	t.Helper()
	raw := map[string]json.RawMessage{}
	for k, v := range inputs {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		raw[k] = b
	}
	s, err := e.Engine.Submit(context.Background(), orchestrator.SubmitRequest{Pattern: pattern, Inputs: raw, AsOfDate: asOf})
	if err != nil {
		t.Fatalf("submit %s: %v", pattern, err)
	}
	return e.Wait(t, s.RunID)
}

// Wait returns the document of a run once it has ended, for runs a test
// submits itself (with a user or an idempotency key, say).
func (e *Engine) Wait(t testing.TB, runID string) *orchestrator.RunDocument {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		changed, stop := e.Engine.Changed(runID)
		d, err := e.Engine.Get(ctx, runID)
		if err != nil {
			stop()
			t.Fatal(err)
		}
		if d.Status != storage.RunRunning {
			stop()
			return d
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("run %s of %s still running after 3 minutes: %+v", runID, d.Pattern, d.Steps)
		}
		select {
		case <-changed:
		case <-time.After(200 * time.Millisecond):
		}
		stop()
	}
}

// Output decodes the output as of a run into a T. A run without that
// output, or an output that does not decode, fails the test.
func Output[T any](t testing.TB, d *orchestrator.RunDocument, as string) T {
	t.Helper()
	var v T
	raw, ok := d.Outputs[as]
	if !ok {
		t.Fatalf("run %s of %s has no output %s (it has %v)", d.RunID, d.Pattern, as, slices.Sorted(maps.Keys(d.Outputs)))
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, raw, err)
	}
	return v
}

// volatile matches the values of a run's outputs that change from run to
// run of the same data: uuids and RFC 3339 timestamps.
var volatile = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})`)

// Golden compares a run's outputs with testdata/<name>.golden.json (ids and
// timestamps replaced), rewriting the file when update is true.
func Golden(t testing.TB, d *orchestrator.RunDocument, name string, update bool) {
	t.Helper()
	outs, err := json.MarshalIndent(d.Outputs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got := volatile.ReplaceAllFunc(outs, func(m []byte) []byte {
		if len(m) == 36 {
			return []byte("<uuid>")
		}
		return []byte("<time>")
	})
	path := filepath.Join("testdata", name+".golden.json")
	if update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	if string(append(got, '\n')) != string(want) {
		t.Errorf("outputs of %s differ from %s (rerun with -update if intended)", d.Pattern, path)
	}
}
