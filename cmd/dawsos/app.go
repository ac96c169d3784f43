package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/bus"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/patterns"
	"github.com/dawsos/dawsos/storage"
)

// app is one running DawsOS process: the parts it started, stopped in
// reverse order.
type app struct {
	cfg      Config
	log      *slog.Logger
	managed  *storage.Managed
	db       *storage.DB
	bus      *bus.Bus
	registry *agents.Registry
	catalog  *orchestrator.Catalog
	patterns *patterns.Set
	router   *bus.AgentRouter
	breakers *bus.BreakerSet
	engine   *orchestrator.Engine
	promReg  *prometheus.Registry
	busMet   *bus.Metrics

	cancel  context.CancelFunc
	stopped chan struct{}
	// fatal receives the error that ends the process from inside (the
	// managed PostgreSQL could not be restarted).
	fatal chan error
	// dbDown is set while the database is unreachable or the managed
	// server is being restarted.
	dbDown atomic.Value // string: "" when up, else why not
}

// openDatabase returns the pool, starting the managed PostgreSQL when no
// URL is configured, and applies migrations.
func openDatabase(ctx context.Context, cfg Config, log *slog.Logger) (*storage.Managed, *storage.DB, error) {
	url := cfg.Database.URL
	var m *storage.Managed
	if url == "" {
		var err error
		m, err = storage.StartManaged(ctx, storage.ManagedConfig{
			DataDir: filepath.Join(cfg.DataDir, "postgres"), BinDir: cfg.Database.BinDir,
			Port: cfg.Database.ManagedPort, Fsync: true, Logger: log,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("start the managed PostgreSQL: %w", err)
		}
		url = m.URL()
	}
	db, err := storage.Open(ctx, storage.PoolConfig{URL: url, MaxConns: cfg.Database.MaxConns, AcquireTimeout: cfg.Database.AcquireTimeout, PlanCacheMode: cfg.Database.PlanCacheMode})
	if err != nil {
		stopManaged(m)
		return nil, nil, fmt.Errorf("database unreachable: %w", err)
	}
	applied, err := storage.Migrate(ctx, db)
	if err != nil {
		db.Close()
		stopManaged(m)
		return nil, nil, fmt.Errorf("apply migrations: %w", err)
	}
	if len(applied) > 0 {
		log.Info("applied migrations", "count", len(applied), "last", applied[len(applied)-1])
	}
	return m, db, nil
}

func stopManaged(m *storage.Managed) {
	if m == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = m.Stop(ctx)
}

// checkCapabilityKeys rejects per-capability settings for capabilities this
// binary does not have: a misspelt name would otherwise be ignored.
func checkCapabilityKeys(cfg Config, reg *agents.Registry) error {
	var bad []string
	for name := range cfg.Capabilities {
		if _, ok := reg.Get(name); !ok {
			bad = append(bad, "capabilities."+name)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return &exitError{code: 2, err: fmt.Errorf("config key %s: no such capability (GET /v1/capabilities lists them)", strings.Join(bad, ", "))}
}

// loadPatterns loads the embedded patterns and the configured directory,
// validating each against the registry; any problem fails start-up.
func loadPatterns(cfg Config, cat *orchestrator.Catalog) (*patterns.Set, error) {
	ps := patterns.NewSet(cat)
	probs := ps.LoadEmbedded()
	if cfg.Patterns.Dir != "" {
		probs = append(probs, ps.LoadDir(cfg.Patterns.Dir)...)
	}
	if len(probs) > 0 {
		return nil, fmt.Errorf("patterns do not validate: %w", patterns.ProblemsError(probs))
	}
	return ps, nil
}

// startOptions says which parts a process runs.
type startOptions struct {
	// agents lists the agents to host; nil hosts all, an empty list none.
	agents       []string
	orchestrator bool
}

// startApp starts everything but the HTTP listener.
func startApp(parent context.Context, cfg Config, log *slog.Logger, opts startOptions) (*app, error) {
	a := &app{cfg: cfg, log: log, stopped: make(chan struct{}), fatal: make(chan error, 1)}
	a.dbDown.Store("")
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(cfg.Runtime.GCPercent)
	}
	ctx, cancel := context.WithCancel(parent)
	a.cancel = cancel
	ok := false
	defer func() {
		if !ok {
			a.stop()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data_dir %s: %w", cfg.DataDir, err)
	}
	var err error
	a.managed, a.db, err = openDatabase(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	a.registry = newRegistry(cfg, agents.Deps{DB: a.db, Logger: log, RiskFreeRate: cfg.Analytics.RiskFreeRate, Providers: cfg.agentProviders()})
	if err := checkCapabilityKeys(cfg, a.registry); err != nil {
		return nil, err
	}
	if a.catalog, err = orchestrator.NewCatalog(a.registry); err != nil {
		return nil, err
	}
	if a.patterns, err = loadPatterns(cfg, a.catalog); err != nil {
		return nil, err
	}
	a.bus, err = bus.Start(ctx, cfg.busConfig(!opts.orchestrator), log)
	if err != nil {
		return nil, fmt.Errorf("start nats: %w", err)
	}
	a.promReg = prometheus.NewRegistry()
	a.promReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.busMet = bus.NewMetrics(a.promReg)
	a.promReg.MustRegister(a.bus.StreamCollector())
	handlers, err := orchestrator.Handlers(a.catalog, opts.agents, cfg.stepSettings)
	if err != nil {
		return nil, &exitError{code: 2, err: fmt.Errorf("--agents: %w", err)}
	}
	// One breaker per capability for the whole cluster, also listed by a
	// process that hosts no agents.
	a.breakers, err = a.bus.NewBreakerSet(ctx, bus.BreakerSetConfig{
		Breaker: bus.BreakerConfig{Failures: cfg.Breakers.Failures, OpenFor: cfg.Breakers.OpenFor},
		Logger:  log, Metrics: a.busMet,
	})
	if err != nil {
		return nil, err
	}
	if len(handlers) > 0 {
		a.router, err = a.bus.NewAgentRouter(ctx, bus.AgentRouterConfig{
			Breaker:         bus.BreakerConfig{Failures: cfg.Breakers.Failures, OpenFor: cfg.Breakers.OpenFor},
			Breakers:        a.breakers,
			InitialBackoff:  cfg.Steps.InitialBackoff,
			DeadLetters:     orchestrator.DeadLetterStore{DB: a.db},
			Classify:        orchestrator.Classify,
			CancelGrace:     cfg.Steps.CancelGrace,
			MaxMessageBytes: cfg.NATS.MaxMessageBytes,
			Metrics:         a.busMet, Logger: log,
		}, handlers)
		if err != nil {
			return nil, err
		}
		go func() {
			if err := a.router.Run(ctx); err != nil {
				log.Error("agent router stopped", "err", err)
			}
		}()
		select {
		case <-a.router.Running():
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if opts.orchestrator {
		a.engine = orchestrator.New(a.db, a.bus, a.patterns, a.catalog, orchestrator.Config{
			StepDeadline:      cfg.stepDeadline,
			RecoveryInterval:  cfg.Orchestrator.RecoveryInterval,
			ResultConcurrency: cfg.Orchestrator.ResultConcurrency,
			Resolver:          orchestrator.StorageResolver{DB: a.db},
			Logger:            log,
			Metrics:           orchestrator.NewMetrics(a.promReg),
			BusMetrics:        a.busMet,
			MaxMessageBytes:   cfg.NATS.MaxMessageBytes,
		})
		if err := a.engine.Start(ctx); err != nil {
			return nil, fmt.Errorf("start orchestrator: %w", err)
		}
	}
	a.watchDatabase(ctx)
	ok = true
	return a, nil
}

// watchDatabase supervises the managed PostgreSQL (restarting it when it
// dies) and watches whichever database the process uses: an outage is
// logged once when it starts and once when it ends, shown in /readyz and
// the dawsos_database_up gauge, and its end starts a recovery pass at
// once, so runs in flight go on without waiting for the recovery
// interval.
func (a *app) watchDatabase(ctx context.Context) {
	up := prometheus.NewGauge(prometheus.GaugeOpts{Name: "dawsos_database_up", Help: "1 while the database answers, 0 during an outage."})
	up.Set(1)
	restarts := prometheus.NewCounter(prometheus.CounterOpts{Name: "dawsos_managed_postgres_restarts_total",
		Help: "Times the managed PostgreSQL exited on its own and was started again."})
	a.promReg.MustRegister(up, restarts)
	if a.managed != nil {
		go func() {
			err := a.managed.Supervise(ctx, 8, func(ok bool, err error) {
				if ok {
					restarts.Inc()
					a.dbDown.Store("")
					return
				}
				a.dbDown.Store(fmt.Sprintf("managed postgres is restarting: %v", err))
			})
			if err != nil {
				a.dbDown.Store(err.Error())
				a.fatal <- err
			}
		}()
	}
	go a.db.Watch(ctx, time.Second, func(ok bool, err error) {
		if ok {
			up.Set(1)
			a.log.Info("the database is reachable again; recovering runs in flight")
			if a.engine != nil {
				a.engine.RecoverNow()
			}
			return
		}
		up.Set(0)
		a.log.Error("the database is unreachable; requests answer 503 database_unavailable until it is back", "err", err)
	})
}

// databaseProbe is the /readyz check of the managed server's supervision.
func (a *app) databaseProbe() error {
	if why, _ := a.dbDown.Load().(string); why != "" {
		return errors.New(why)
	}
	return nil
}

// stop stops everything that was started, in reverse order.
func (a *app) stop() {
	if a.engine != nil {
		if err := a.engine.Stop(); err != nil {
			a.log.Warn("stop orchestrator", "err", err)
		}
	}
	if a.router != nil {
		if err := a.router.Close(); err != nil {
			a.log.Warn("stop agents", "err", err)
		}
	}
	if a.breakers != nil {
		a.breakers.Close()
	}
	if a.cancel != nil {
		a.cancel()
	}
	if a.bus != nil {
		a.bus.Close()
	}
	if a.db != nil {
		a.db.Close()
	}
	stopManaged(a.managed)
}
