package bus

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the bus's Prometheus series.
type Metrics struct {
	stepSeconds  *prometheus.HistogramVec
	breakerState *prometheus.GaugeVec
}

// NewMetrics registers the bus's series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		stepSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dawsos_step_duration_seconds",
			Help:    "Time a capability took to handle a step, by capability and outcome (ok or the error code).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"capability", "outcome"}),
		breakerState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "dawsos_breaker_state",
			Help: "Circuit breaker state per capability: 0 closed, 1 open, 2 half-open.",
		}, []string{"capability"}),
	}
	reg.MustRegister(m.stepSeconds, m.breakerState)
	return m
}
