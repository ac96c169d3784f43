package bus

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the bus's Prometheus series.
type Metrics struct {
	stepSeconds  *prometheus.HistogramVec
	breakerState *prometheus.GaugeVec
	leaked       *prometheus.CounterVec
	badMessages  *prometheus.CounterVec
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
	m.leaked = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dawsos_step_attempts_leaked_total",
		Help: "Attempts that kept running past their timeout plus the cancel grace and were abandoned, by capability.",
	}, []string{"capability"})
	m.badMessages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dawsos_bad_messages_total",
		Help: "Messages the engine could not apply, by consumer and outcome (dead_lettered, or dropped when even the dead letter could not be written).",
	}, []string{"consumer", "outcome"})
	reg.MustRegister(m.stepSeconds, m.breakerState, m.leaked, m.badMessages)
	return m
}

var streamMsgsDesc = prometheus.NewDesc("dawsos_jetstream_stream_messages",
	"Messages held by a JetStream stream at scrape time: for the STEPS and RESULTS work queues, what waits to be handled.", []string{"stream"}, nil)

// streamCollector reads the streams' message counts at scrape time.
type streamCollector struct{ b *Bus }

// StreamCollector reports the message count of every stream of the bus.
func (b *Bus) StreamCollector() prometheus.Collector { return streamCollector{b} }

func (c streamCollector) Describe(ch chan<- *prometheus.Desc) { ch <- streamMsgsDesc }

func (c streamCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, name := range []string{StreamSteps, StreamResults, StreamDLQ, StreamEvents} {
		st, err := c.b.JS.Stream(ctx, name)
		if err != nil {
			continue
		}
		info, err := st.Info(ctx)
		if err != nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(streamMsgsDesc, prometheus.GaugeValue, float64(info.State.Msgs), name)
	}
}
