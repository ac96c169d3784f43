// Package orchestrator runs patterns: it accepts runs in one PostgreSQL
// transaction, dispatches every ready step as a message, applies results
// idempotently, ends runs as succeeded, partial, failed or canceled, replays
// dead-lettered steps and, after a restart, resumes every run that had not
// ended.
package orchestrator

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/patterns"
	"github.com/dawsos/dawsos/storage"
)

// GCPercent is the garbage collector's target serve and worker set unless
// configured otherwise (runtime.gc_percent): the engine allocates a few
// kilobytes per step, and at Go's default of 100 collecting them took about
// a fifth of the engine's CPU at full load (BenchmarkBurnDown: 209-215 µs of
// CPU per run at 100, 167-176 µs at 400, on 2 cores). The price is a heap
// that may grow to five times what is live before a collection.
const GCPercent = 400

// Config holds the orchestrator's settings.
type Config struct {
	// StepDeadline returns how long a dispatched step of a capability may
	// stay queued before the recovery loop dispatches it again as a new
	// attempt. It must exceed the handler's whole retry budget.
	StepDeadline func(capability string) time.Duration
	// RecoveryInterval is how often overdue steps are looked for.
	RecoveryInterval time.Duration
	// ResultConcurrency is how many results the bus hands over at once;
	// they are applied in batches, one transaction per batch.
	ResultConcurrency int
	// Resolver fixes a run's context (pricing pack, as-of date, ledger
	// hash) at submission.
	Resolver ContextResolver
	Logger   *slog.Logger
	Metrics  *Metrics
	// BusMetrics counts the results the engine could not read.
	BusMetrics *bus.Metrics
	// MaxMessageBytes bounds a step result; a larger one is dead-lettered.
	MaxMessageBytes int
}

// ContextResolver fixes the context of a new run. needsPack says whether
// the pattern references {{ctx.pricing_pack_id}}.
type ContextResolver interface {
	Resolve(ctx context.Context, req ContextRequest) (agents.RunContext, error)
}

// ContextRequest is what a resolver sees of a new run.
type ContextRequest struct {
	Pattern   *patterns.Pattern
	Inputs    map[string]any
	AsOfDate  string
	UserID    string
	NeedsPack bool
	// AllowStalePack lets a run start without a fresh pack.
	AllowStalePack bool
}

// Engine is the orchestrator of one process.
type Engine struct {
	db       *storage.DB
	bus      *bus.Bus
	patterns *patterns.Set
	catalog  *Catalog
	versions *versions
	cfg      Config
	log      *slog.Logger

	mu      sync.Mutex
	waiters map[string]map[chan struct{}]struct{}
	results *bus.ResultRouter
	resultq chan pendingResult
	submitq chan pendingSubmit
	// writing is true once submitLoop runs; submitDone is closed when it
	// stops.
	writing    atomic.Bool
	submitDone chan struct{}
	// kick asks the recovery loop for a pass now.
	kick chan struct{}
}

// New returns an engine. It does not consume results until Start.
func New(db *storage.DB, b *bus.Bus, ps *patterns.Set, cat *Catalog, cfg Config) *Engine {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RecoveryInterval <= 0 {
		cfg.RecoveryInterval = 5 * time.Second
	}
	if cfg.StepDeadline == nil {
		cfg.StepDeadline = func(string) time.Duration { return 2 * time.Minute }
	}
	if cfg.ResultConcurrency <= 0 {
		cfg.ResultConcurrency = 64
	}
	return &Engine{db: db, bus: b, patterns: ps, catalog: cat, versions: newVersions(ps), cfg: cfg, log: cfg.Logger,
		waiters: map[string]map[chan struct{}]struct{}{}, resultq: make(chan pendingResult), submitq: make(chan pendingSubmit), submitDone: make(chan struct{}), kick: make(chan struct{}, 1)}
}

// Start resumes every run that had not ended, then consumes results and
// runs the recovery loop until ctx ends. It returns once consuming has
// begun.
func (e *Engine) Start(ctx context.Context) error {
	// Steps dispatched before this instant belong to an earlier process;
	// taken before results flow, so that steps this process dispatches
	// while starting are not sent twice.
	cutoff := time.Now().UTC()
	// Two appliers: one writes a batch while the other collects the next.
	for range 2 {
		go e.applyLoop(ctx)
	}
	e.writing.Store(true)
	go e.submitLoop(ctx)
	rr, err := e.bus.ConsumeResults(ctx, bus.ResultsConfig{
		Concurrency: e.cfg.ResultConcurrency, Logger: e.log, DeadLetters: DeadLetterStore{DB: e.db}, Classify: Classify, Metrics: e.cfg.BusMetrics,
		MaxMessageBytes: e.cfg.MaxMessageBytes,
	}, e.enqueueResult)
	if err != nil {
		return err
	}
	e.results = rr
	go func() {
		if err := rr.Run(ctx); err != nil {
			e.log.Error("result consumer stopped", "err", err)
		}
	}()
	select {
	case <-rr.Running():
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := e.resume(ctx, cutoff); err != nil {
		return err
	}
	go e.recoveryLoop(ctx)
	return nil
}

// Stop stops consuming results, waiting for those being applied.
func (e *Engine) Stop() error {
	if e.results != nil {
		return e.results.Close()
	}
	return nil
}

// notify wakes everyone waiting on a run (SSE streams, ?wait callers).
func (e *Engine) notify(runID string) {
	e.mu.Lock()
	ws := e.waiters[runID]
	delete(e.waiters, runID)
	e.mu.Unlock()
	for w := range ws {
		close(w)
	}
}

// Changed returns a channel closed at the next change of the run made by
// this process, and a function that withdraws the wait (call it when
// giving up, so abandoned waits do not accumulate). Other processes'
// changes are seen through the run's NATS event subject.
func (e *Engine) Changed(runID string) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	e.mu.Lock()
	if e.waiters[runID] == nil {
		e.waiters[runID] = map[chan struct{}]struct{}{}
	}
	e.waiters[runID][ch] = struct{}{}
	e.mu.Unlock()
	return ch, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if ws, ok := e.waiters[runID]; ok {
			delete(ws, ch)
			if len(ws) == 0 {
				delete(e.waiters, runID)
			}
		}
	}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
