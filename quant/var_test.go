package quant

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestVaRReference(t *testing.T) {
	t.Parallel()
	// The 21 returns −0.10, −0.09, …, +0.10, shuffled.
	r := make([]float64, 21)
	for i := range r {
		r[i] = float64((i*8)%21-10) / 100
	}
	// Gaussian inputs: [0.01, −0.01] has mean 0 and σ = √0.0002.
	// Standard normal tables: Φ⁻¹(0.95) = 1.6448536, φ(1.6448536) = 0.1031356.
	sigma := math.Sqrt(0.0002)
	g := []float64{0.01, -0.01}
	cases := []struct {
		name string
		fn   func([]float64, float64) (float64, error)
		r    []float64
		c    float64
		want float64
		tol  float64
	}{
		// Hand computation: position (21−1)·0.05 = 1 → 2nd smallest, −0.09.
		{"historical var 95%", HistoricalVaR, r, 0.95, 0.09, 1e-15},
		// Hand computation: position 20·0.10 = 2 → 3rd smallest, −0.08.
		{"historical var 90%", HistoricalVaR, r, 0.90, 0.08, 1e-15},
		// Hand computation: position 20·0.025 = 0.5 → −0.10 + 0.5·0.01 = −0.095.
		{"historical var 97.5% interpolated", HistoricalVaR, r, 0.975, 0.095, 1e-15},
		// Hand computation: ⌊1⌋ + 1 = 2 worst: (0.10 + 0.09)/2.
		{"historical es 95%", HistoricalES, r, 0.95, 0.095, 1e-15},
		// Hand computation: 3 worst: (0.10 + 0.09 + 0.08)/3.
		{"historical es 90%", HistoricalES, r, 0.90, 0.09, 1e-15},
		// Hand computation: 1.6448536 · √0.0002 = 0.0232617.
		{"gaussian var 95%", GaussianVaR, g, 0.95, 1.6448536 * sigma, 1e-8},
		// Tolerance follows the table's 7 digits.
		// Hand computation: φ(z)/(1−c) = 0.1031356/0.05 = 2.062713; × √0.0002 = 0.0291712.
		{"gaussian es 95%", GaussianES, g, 0.95, 0.1031356 / 0.05 * sigma, 5e-8},
	}
	for _, c := range cases {
		got, err := c.fn(c.r, c.c)
		if err != nil || !metricClose(got, c.want, c.tol) {
			t.Errorf("%s on %v: got %v, %v; want %v", c.name, c.r, got, err, c.want)
		}
	}
}

// TestVaRProperties: on seeded random inputs, ES is at least VaR for both
// methods, and a higher confidence never gives a smaller VaR.
func TestVaRProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 5))
	for trial := range 30 {
		r := make([]float64, 250)
		for i := range r {
			r[i] = 0.0003 + 0.012*rng.NormFloat64()
		}
		hv, _ := HistoricalVaR(r, 0.95)
		he, _ := HistoricalES(r, 0.95)
		gv, _ := GaussianVaR(r, 0.95)
		ge, _ := GaussianES(r, 0.95)
		hv99, _ := HistoricalVaR(r, 0.99)
		if he < hv || ge < gv || hv99 < hv {
			t.Errorf("trial %d: hist var %v es %v var99 %v; gauss var %v es %v", trial, hv, he, hv99, gv, ge)
		}
	}
}

func TestVaRErrors(t *testing.T) {
	t.Parallel()
	r := []float64{0.01, -0.02, 0.03}
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"confidence 1", metricErr(HistoricalVaR(r, 1)), ErrInvalid},
		{"confidence 0", metricErr(GaussianVaR(r, 0)), ErrInvalid},
		{"confidence NaN", metricErr(GaussianES(r, math.NaN())), ErrInvalid},
		// One return has a historical VaR and ES (TestGuardsAcceptDefinedCases)
		// but no sample deviation for the Gaussian ones.
		{"gaussian of one return", metricErr(GaussianES(r[:1], 0.95)), ErrEmpty},
		{"empty", metricErr(GaussianVaR(nil, 0.95)), ErrEmpty},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: error %v, want wrapping %v", c.name, c.err, c.want)
		}
	}
}
