package quant

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkMetricSet times the full portfolio_metrics risk set over five
// years (1 260 days) of returns. The returns come from a seeded
// math/rand/v2 source: a benchmark input, not data.
func BenchmarkMetricSet(b *testing.B) {
	rng := rand.New(rand.NewPCG(2024, 1260))
	const n = 1260
	p, m := make([]float64, n), make([]float64, n)
	for i := range p {
		m[i] = 0.0003 + 0.011*rng.NormFloat64()
		p[i] = 0.0001 + 0.9*m[i] + 0.006*rng.NormFloat64()
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := benchMetricSet(p, m); err != nil {
			b.Fatal(err)
		}
	}
}

func benchMetricSet(p, m []float64) error {
	scalar := []func([]float64) (float64, error){
		AnnualReturn, AnnualVolatility, Sortino, Calmar, WinRate,
		func(r []float64) (float64, error) { return Sharpe(r, 0.04) },
		func(r []float64) (float64, error) { return Omega(r, 0) },
		func(r []float64) (float64, error) { d, err := MaxDrawdownOfReturns(r); return d.Depth, err },
		func(r []float64) (float64, error) { return HistoricalVaR(r, 0.95) },
		func(r []float64) (float64, error) { return HistoricalES(r, 0.95) },
		func(r []float64) (float64, error) { return GaussianVaR(r, 0.95) },
		func(r []float64) (float64, error) { return GaussianES(r, 0.95) },
	}
	for _, f := range scalar {
		if _, err := f(p); err != nil {
			return err
		}
	}
	for _, f := range []func(a, b []float64) (float64, error){Beta, Alpha, TrackingError, InformationRatio, UpCapture, DownCapture} {
		if _, err := f(p, m); err != nil {
			return err
		}
	}
	return nil
}
