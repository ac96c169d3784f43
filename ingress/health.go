package ingress

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// probeTimeout bounds each readiness check and each scrape-time query.
const probeTimeout = 2 * time.Second

// healthz answers while the process serves; it checks nothing else, so an
// orchestrator restarts the process only when it is truly stuck.
func (s *Server) healthz(c *fiber.Ctx) error {
	return writeJSON(c, http.StatusOK, map[string]string{"status": "ok", "version": s.cfg.Version})
}

// readyz reports whether the process can do its work: the pool answers a
// ping, NATS is connected and the schema is at the binary's latest
// migration. Any failing check gives 503 listing every check.
func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), probeTimeout)
	defer cancel()
	checks := map[string]string{}
	failed := false
	record := func(name string, err error) {
		if err != nil {
			checks[name] = err.Error()
			failed = true
			return
		}
		checks[name] = "ok"
	}
	if s.deps.DB == nil {
		record("database", fmt.Errorf("no database configured"))
		record("migrations", fmt.Errorf("no database configured"))
	} else {
		if err := s.deps.DB.Pool().Ping(ctx); err != nil {
			record("database", fmt.Errorf("ping: %w", err))
		} else {
			record("database", nil)
		}
		current, latest, pending, err := storage.MigrationStatus(ctx, s.deps.DB)
		switch {
		case err != nil:
			record("migrations", err)
		case pending > 0 || current < latest:
			record("migrations", fmt.Errorf("schema at version %d, binary expects %d (%d pending)", current, latest, pending))
		default:
			record("migrations", nil)
		}
	}
	for name, probe := range s.deps.Probes {
		record(name, probe())
	}
	if s.deps.Bus == nil {
		record("nats", fmt.Errorf("no bus configured"))
	} else {
		record("nats", s.deps.Bus.Healthy())
	}
	if failed {
		code := agents.CodeUnavailable
		if checks["database"] != "ok" {
			code = agents.CodeDatabaseUnavailable
		}
		s.writeProblem(c, Problem{Status: http.StatusServiceUnavailable, Code: code,
			Detail: "the process is not ready; see checks", Checks: checks})
		return nil
	}
	return writeJSON(c, http.StatusOK, map[string]any{"status": "ready", "checks": checks})
}

// metrics serves the Prometheus registry through fasthttp's adaptor. A
// collector that cannot query the database drops its series from that
// scrape (and logs why) instead of failing the whole scrape.
func (s *Server) metrics() fiber.Handler {
	g := s.deps.Gatherer
	if g == nil {
		g = prometheus.NewRegistry()
	}
	h := fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      promLogger{s.log},
	}))
	return func(c *fiber.Ctx) error {
		h(c.Context())
		return nil
	}
}

type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) { l.log.Warn("metrics scrape", "err", fmt.Sprint(v...)) }

// registerCollectors registers the series the ingress owns. Breaker state
// and step latency belong to bus.NewMetrics.
func registerCollectors(reg prometheus.Registerer, db *storage.DB) error {
	if db == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{&runsCollector{db: db}, &deadLetterCollector{db: db}, &poolCollector{db: db}} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register ingress metrics: %w", err)
		}
	}
	return nil
}

// runStatuses are reported even at zero, so the series always exist.
var runStatuses = []string{storage.RunRunning, storage.RunSucceeded, storage.RunPartial, storage.RunFailed, storage.RunCanceled}

var runsDesc = prometheus.NewDesc("dawsos_runs", "Runs in PostgreSQL by status, counted at scrape time.", []string{"status"}, nil)

// runsCollector counts runs by status at scrape time, so the figure is the
// database's, whichever process changed it.
type runsCollector struct{ db *storage.DB }

func (r *runsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- runsDesc }

func (r *runsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	var counts map[string]int64
	err := r.db.Tx(ctx, func(tx pgx.Tx) error {
		var err error
		counts, err = storage.CountRunsByStatus(ctx, tx)
		return err
	})
	if err != nil {
		ch <- prometheus.NewInvalidMetric(runsDesc, err)
		return
	}
	for _, st := range runStatuses {
		ch <- prometheus.MustNewConstMetric(runsDesc, prometheus.GaugeValue, float64(counts[st]), st)
	}
}

var dlDesc = prometheus.NewDesc("dawsos_dead_letters_pending", "Pending dead letters by capability, counted at scrape time.", []string{"capability"}, nil)

// deadLetterCollector reports the pending dead letters per capability.
type deadLetterCollector struct{ db *storage.DB }

func (d *deadLetterCollector) Describe(ch chan<- *prometheus.Desc) { ch <- dlDesc }

func (d *deadLetterCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	var depth map[string]int64
	err := d.db.Tx(ctx, func(tx pgx.Tx) error {
		var err error
		depth, err = storage.DeadLetterDepth(ctx, tx)
		return err
	})
	if err != nil {
		ch <- prometheus.NewInvalidMetric(dlDesc, err)
		return
	}
	for capability, n := range depth {
		ch <- prometheus.MustNewConstMetric(dlDesc, prometheus.GaugeValue, float64(n), capability)
	}
}

var (
	poolAcquired      = prometheus.NewDesc("dawsos_db_pool_acquired_conns", "Connections currently acquired from the pool.", nil, nil)
	poolIdle          = prometheus.NewDesc("dawsos_db_pool_idle_conns", "Idle connections in the pool.", nil, nil)
	poolTotal         = prometheus.NewDesc("dawsos_db_pool_total_conns", "Connections in the pool (acquired, idle and being opened).", nil, nil)
	poolMax           = prometheus.NewDesc("dawsos_db_pool_max_conns", "The pool's connection limit.", nil, nil)
	poolAcquires      = prometheus.NewDesc("dawsos_db_pool_acquires_total", "Successful acquires from the pool.", nil, nil)
	poolAcquireSecs   = prometheus.NewDesc("dawsos_db_pool_acquire_duration_seconds_total", "Time spent acquiring connections.", nil, nil)
	poolEmptyAcquires = prometheus.NewDesc("dawsos_db_pool_empty_acquires_total", "Acquires that had to wait because no connection was idle.", nil, nil)
	poolStatements    = prometheus.NewDesc("dawsos_db_statements_total", "Statements sent to PostgreSQL (BEGIN, COMMIT and each statement of a batch included).", nil, nil)
)

// poolCollector reports pgxpool's statistics.
type poolCollector struct{ db *storage.DB }

func (p *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolAcquired, poolIdle, poolTotal, poolMax, poolAcquires, poolAcquireSecs, poolEmptyAcquires, poolStatements} {
		ch <- d
	}
}

func (p *poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := p.db.Pool().Stat()
	ch <- prometheus.MustNewConstMetric(poolAcquired, prometheus.GaugeValue, float64(st.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(poolIdle, prometheus.GaugeValue, float64(st.IdleConns()))
	ch <- prometheus.MustNewConstMetric(poolTotal, prometheus.GaugeValue, float64(st.TotalConns()))
	ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(st.MaxConns()))
	ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(st.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolAcquireSecs, prometheus.CounterValue, st.AcquireDuration().Seconds())
	ch <- prometheus.MustNewConstMetric(poolEmptyAcquires, prometheus.CounterValue, float64(st.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolStatements, prometheus.CounterValue, float64(p.db.Statements()))
}
