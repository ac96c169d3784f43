package orchestrator

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the orchestrator's Prometheus series.
type Metrics struct {
	submitted *prometheus.CounterVec
	finished  *prometheus.CounterVec
	ignored   *prometheus.CounterVec
}

// ignore counts results that change nothing.
func (m *Metrics) ignore(reason string, n int) {
	if m != nil && n > 0 {
		m.ignored.WithLabelValues(reason).Add(float64(n))
	}
}

// NewMetrics registers the orchestrator's series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		submitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dawsos_runs_submitted_total", Help: "Runs accepted, by pattern.",
		}, []string{"pattern"}),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dawsos_runs_finished_total", Help: "Runs ended by this process, by final status.",
		}, []string{"status"}),
	}
	m.ignored = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dawsos_results_ignored_total",
		Help: "Step results that changed nothing, by reason: ended_run (the run had ended), stale (an older attempt, a step no longer queued, or a repeat delivery), unknown_step (the run's pattern version has no such step).",
	}, []string{"reason"})
	reg.MustRegister(m.submitted, m.finished, m.ignored)
	return m
}
