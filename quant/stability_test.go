package quant

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestStability(t *testing.T) {
	t.Parallel()
	flat := make([]float64, 1000)
	for i := range flat {
		flat[i] = 0.01
	}
	cases := []struct {
		name string
		r    []float64
		want float64
		tol  float64
	}{
		// empyrical tests/test_stats.py: stability_of_timeseries(mixed_returns)
		// = 0.1529973665111273 (its NaN dropped) and (flat_line_1_tz) = 1.0.
		{"empyrical mixed_returns", empyricalMixed8, 0.1529973665111273, 1e-12},
		{"empyrical flat_line_1_tz", flat, 1, 1e-12},
		// Hand computation: two returns always fit a line exactly.
		{"two returns", []float64{0.05, -0.02}, 1, 1e-15},
		// Hand computation: returns e−1, e⁻¹−1, e−1 give y = 1, 0, 1 at t = 0, 1, 2:
		// Sxy = (−1)(1/3) + 0 + (1)(1/3) = 0, so R² = 0.
		{"no trend", []float64{math.E - 1, 1/math.E - 1, math.E - 1}, 0, 1e-15},
	}
	for _, c := range cases {
		got, err := Stability(c.r)
		if err != nil || !metricClose(got, c.want, c.tol) {
			t.Errorf("%s: Stability = %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}

// TestStabilityProperties: on seeded random series (test inputs) R² lies
// in [0, 1], and a series compounding at one constant rate scores 1.
func TestStabilityProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(23, 29))
	for trial := range 50 {
		r := make([]float64, 3+rng.IntN(300))
		c := make([]float64, len(r))
		g := 0.05 * rng.NormFloat64()
		for i := range r {
			r[i] = 0.0005 + 0.02*rng.NormFloat64()
			c[i] = g
		}
		if s, err := Stability(r); err != nil || s < 0 || s > 1 {
			t.Errorf("trial %d: Stability = %v, %v; want in [0, 1]", trial, s, err)
		}
		if s, err := Stability(c); err != nil || !metricClose(s, 1, 1e-12) {
			t.Errorf("trial %d: Stability of constant %v = %v, %v; want 1", trial, g, s, err)
		}
	}
}

func TestStabilityErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"one return", metricErr(Stability([]float64{0.01})), ErrEmpty},
		{"a total loss", metricErr(Stability([]float64{0.01, -1})), ErrInvalid},
		{"flat after the first", metricErr(Stability([]float64{0.01, 0, 0})), ErrZeroVariance},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: error %v, want wrapping %v", c.name, c.err, c.want)
		}
	}
}
