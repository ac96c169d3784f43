package quant

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// TestCAPMRiskBacon splits Bacon's monthly portfolio against its
// benchmark. PerformanceAnalytics' SpecificRisk.Rd example gives 0.0329
// (residual deviation with ddof 0, × √12); ours uses ddof 1, so ours ×
// √(23/24) must reproduce it. Hand computation (sums over the 24 months):
// β = 0.9988502086225742, σ_b = 0.0383819241499078 a month, systematic
// β·σ_b·√12 = 0.13280601045975957; the portfolio's own volatility is
// 0.1370001586796923, which Total must equal. (The SystematicRisk.Rd and
// TotalRisk.Rd examples print 0.013 and 0.0134, a tenth of what those
// functions return, 0.1328 and 0.1368; they are not used here.)
func TestCAPMRiskBacon(t *testing.T) {
	t.Parallel()
	d, err := Monthly.CAPMRisk(baconPortfolio, baconBenchmark)
	if err != nil {
		t.Fatalf("Monthly.CAPMRisk(bacon): %v", err)
	}
	vol, _ := Monthly.AnnualVolatility(baconPortfolio)
	checks := []struct {
		name      string
		got, want float64
		tol       float64
	}{
		{"beta", d.Beta, 0.9988502086225742, 1e-13},
		{"systematic", d.Systematic, 0.13280601045975957, 1e-13},
		{"PerformanceAnalytics SpecificRisk = 0.0329 (ddof 0)", d.Specific * math.Sqrt(23.0/24), 0.0329, 5e-5},
		{"total is the portfolio's volatility", d.Total, vol, 1e-15},
		{"total, hand computation", d.Total, 0.1370001586796923, 1e-13},
	}
	for _, c := range checks {
		if !metricClose(c.got, c.want, c.tol) {
			t.Errorf("Monthly.CAPMRisk(bacon) %s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestJensenAlpha(t *testing.T) {
	t.Parallel()
	// Hand computation on Bacon's data at rf 4 % a year: rf = 1.04^(1/12) − 1
	// = 0.0032737397821989145 a month; mean p = 0.009, mean b = 0.0100416667,
	// β = 0.9988502086225742; α = 0.009 − rf − β(0.0100416667 − rf) =
	// −0.0010338849626918539 a month; (1 + α)^12 − 1 = −0.012336313522436027.
	got, err := Monthly.JensenAlpha(baconPortfolio, baconBenchmark, 0.04)
	if err != nil || !metricClose(got, -0.012336313522436027, 1e-13) {
		t.Errorf("Monthly.JensenAlpha(bacon, 4 %%) = %v, %v; want −0.012336313522436027", got, err)
	}
	// At rf 0: −0.001030120844918346 a month, −0.0122916542360757 a year,
	// against PerformanceAnalytics' SFM.jensenAlpha example −0.014 (its
	// convention, from annualised returns, gives −0.014169444654244162).
	got, err = Monthly.JensenAlpha(baconPortfolio, baconBenchmark, 0)
	if err != nil || !metricClose(got, -0.0122916542360757, 1e-13) {
		t.Errorf("Monthly.JensenAlpha(bacon, 0) = %v, %v; want −0.0122916542360757", got, err)
	}
	// Hand computation: p = 2b + 0.001 exactly, rf 0 a year → 1.001^252 − 1
	// (TestBenchmarkRelative's alpha); with β = 2 a risk-free rate rf adds
	// −rf(1 − β) = +rf a day.
	b := []float64{0.01, -0.02, 0.03, 0.00}
	p := []float64{0.021, -0.039, 0.061, 0.001}
	rf := math.Pow(1.04, 1.0/252) - 1
	got, err = Daily.JensenAlpha(p, b, 0.04)
	if err != nil || !metricClose(got, math.Pow(1.001+rf, 252)-1, 1e-12) {
		t.Errorf("Daily.JensenAlpha(p = 2b + 0.001, 4 %%) = %v, %v; want %v", got, err, math.Pow(1.001+rf, 252)-1)
	}
}

// TestCAPMRiskProperties: on seeded random pairs (test inputs), Total is
// the portfolio's annualised volatility, and a portfolio that is exactly
// α + β·bench has no specific risk.
func TestCAPMRiskProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(41, 43))
	for trial := range 40 {
		n := 3 + rng.IntN(250)
		p, b, exact := make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range p {
			b[i] = 0.0003 + 0.011*rng.NormFloat64()
			p[i] = 0.0001 + 0.8*b[i] + 0.006*rng.NormFloat64()
			exact[i] = 0.0002 + 1.3*b[i]
		}
		d, err := Weekly.CAPMRisk(p, b)
		vol, _ := Weekly.AnnualVolatility(p)
		if err != nil || !metricClose(d.Total, vol, 1e-12*vol) {
			t.Errorf("trial %d: CAPMRisk total %v, %v; volatility %v", trial, d.Total, err, vol)
		}
		e, err := Weekly.CAPMRisk(exact, b)
		if err != nil || e.Specific > 1e-12 || !metricClose(e.Beta, 1.3, 1e-12) {
			t.Errorf("trial %d: CAPMRisk of 0.0002 + 1.3·b = %+v, %v; want β 1.3, no specific risk", trial, e, err)
		}
	}
}

func TestCAPMErrors(t *testing.T) {
	t.Parallel()
	r := []float64{0.01, -0.02, 0.03}
	flat := []float64{0.01, 0.01, 0.01}
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"constant benchmark", metricErr(Monthly.CAPMRisk(r, flat)), ErrZeroVariance},
		{"mismatched", metricErr(Monthly.CAPMRisk(r, r[:2])), ErrLength},
		{"zero periods", metricErr(Periods(0).CAPMRisk(r, r)), ErrInvalid},
		{"jensen, rf -100%", metricErr(Monthly.JensenAlpha(r, r, -1)), ErrInvalid},
		{"jensen, constant benchmark", metricErr(Monthly.JensenAlpha(r, flat, 0.04)), ErrZeroVariance},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: error %v, want wrapping %v", c.name, c.err, c.want)
		}
	}
}
