package orchestrator

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the orchestrator's Prometheus series.
type Metrics struct {
	submitted *prometheus.CounterVec
	finished  *prometheus.CounterVec
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
	reg.MustRegister(m.submitted, m.finished)
	return m
}
