package quant

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// TestDownsideBacon checks the partial moments at MAR 0.5 % a month on
// Bacon's portfolio against PerformanceAnalytics' documented examples
// (DownsideDeviation.Rd, UpsideRisk.Rd, MeanAbsoluteDeviation.Rd: "expected"
// values from Bacon 2008, printed to 3–4 significant digits, so the
// tolerance is half a unit in their last digit) and against the sums
// written out. Eleven of the 24 returns are below 0.005; their shortfalls
// sum to 0.329 and their squares to 0.015651. The thirteen above exceed it
// by 0.425 in all, 0.020707 squared.
func TestDownsideBacon(t *testing.T) {
	t.Parallel()
	const mar = 0.005
	r := baconPortfolio
	perMonth := func(f func([]float64, float64) (float64, error)) func() (float64, error) {
		return func() (float64, error) { v, err := f(r, mar); return v / math.Sqrt(12), err }
	}
	cases := []struct {
		name      string
		fn        func() (float64, error)
		published float64
		tol       float64
		hand      float64
	}{
		{"DownsideDeviation(portfolio_bacon, 0.005) = 0.0255", perMonth(Monthly.DownsideDeviation), 0.0255, 5e-5, math.Sqrt(0.015651 / 24)},
		{"DownsidePotential(portfolio_bacon, 0.005) = 0.0137", func() (float64, error) { return DownsidePotential(r, mar) }, 0.0137, 5e-5, 0.329 / 24},
		{"UpsideRisk(portfolio_bacon, 0.005, risk) = 0.02937", perMonth(Monthly.UpsideRisk), 0.02937, 5e-6, math.Sqrt(0.020707 / 24)},
		{"UpsideRisk(portfolio_bacon, 0.005, potential) = 0.01771", func() (float64, error) { return UpsidePotential(r, mar) }, 0.01771, 5e-6, 0.425 / 24},
		// Mean 0.216/24 = 0.009; Σ|rᵢ − 0.009| = 0.746. The Rd file prints 0.0310 for 0.03108.
		{"MeanAbsoluteDeviation(portfolio_bacon) = 0.0310", func() (float64, error) { return MeanAbsoluteDeviation(r) }, 0.0310, 1e-4, 0.746 / 24},
	}
	for _, c := range cases {
		got, err := c.fn()
		if err != nil || !metricClose(got, c.published, c.tol) || !metricClose(got, c.hand, 1e-15) {
			t.Errorf("PerformanceAnalytics %s: got %v, %v; hand computation %v", c.name, got, err, c.hand)
		}
	}
	// Sortino monthly at the same MAR: mean excess 0.009 − 0.005 = 0.004,
	// × 12 / (√(0.015651/24) × √12); PerformanceAnalytics' per-period
	// SortinoRatio is this / √12 = 0.004 / 0.025536738 = 0.15663708.
	got, err := Monthly.Sortino(r, mar)
	want := 0.004 * 12 / (math.Sqrt(0.015651/24) * math.Sqrt(12))
	if err != nil || !metricClose(got, want, 1e-12) {
		t.Errorf("Monthly.Sortino(bacon, 0.005) = %v, %v; want %v", got, err, want)
	}
}

func TestSemiDeviation(t *testing.T) {
	t.Parallel()
	// Hand computation: [0.02, −0.01, 0.01, −0.03] has mean −0.0025; below it
	// −0.01 and −0.03, deviations 0.0075 and 0.0275; √((0.0075² + 0.0275²)/4)
	// = √0.000203125 = 0.014252192813739; × √12 = 0.04937104414532.
	r := []float64{0.02, -0.01, 0.01, -0.03}
	got, err := Monthly.SemiDeviation(r)
	if want := math.Sqrt(0.000203125 * 12); err != nil || !metricClose(got, want, 1e-15) {
		t.Errorf("Monthly.SemiDeviation(%v) = %v, %v; want %v", r, got, err, want)
	}
}

// TestDownsideProperties: on seeded random series (test inputs), Omega is
// UpsidePotential / DownsidePotential, the semi-deviation is the downside
// deviation at the mean, and upside risk of r is the downside deviation of
// −r at −mar.
func TestDownsideProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 8))
	for trial := range 40 {
		r := make([]float64, 5+rng.IntN(100))
		for i := range r {
			r[i] = 0.005 + 0.04*rng.NormFloat64()
		}
		mar := 0.01 * rng.NormFloat64()
		om, err1 := Omega(r, mar)
		up, _ := UpsidePotential(r, mar)
		dp, _ := DownsidePotential(r, mar)
		if err1 == nil && !metricClose(om, up/dp, 1e-12*math.Max(1, om)) {
			t.Errorf("trial %d: Omega %v, UpsidePotential/DownsidePotential %v", trial, om, up/dp)
		}
		m, _ := Mean(r)
		sd, _ := Weekly.SemiDeviation(r)
		dd, _ := Weekly.DownsideDeviation(r, m)
		if sd != dd {
			t.Errorf("trial %d: SemiDeviation %v, DownsideDeviation at the mean %v", trial, sd, dd)
		}
		neg := make([]float64, len(r))
		for i, x := range r {
			neg[i] = -x
		}
		ur, _ := Weekly.UpsideRisk(r, mar)
		dn, _ := Weekly.DownsideDeviation(neg, -mar)
		if !metricClose(ur, dn, 1e-15) {
			t.Errorf("trial %d: UpsideRisk %v, DownsideDeviation of −r %v", trial, ur, dn)
		}
	}
}

func TestDownsideErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"upside risk, zero periods", metricErr(Periods(0).UpsideRisk([]float64{0.01}, 0)), ErrInvalid},
		{"upside potential, mar NaN", metricErr(UpsidePotential([]float64{0.01}, math.NaN())), ErrInvalid},
		{"downside potential, return below -100%", metricErr(DownsidePotential([]float64{-1.5}, 0)), ErrInvalid},
		{"semi-deviation of nothing", metricErr(Monthly.SemiDeviation(nil)), ErrEmpty},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: error %v, want wrapping %v", c.name, c.err, c.want)
		}
	}
}
