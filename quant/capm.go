package quant

import (
	"fmt"
	"math"
)

// RiskDecomposition is the CAPM (single-index) split of a portfolio's
// annualised volatility, port = α + β·bench + ε: the part the benchmark
// explains and the rest. All three risks use ddof 1, so that
// Total² = Systematic² + Specific² and Total is the portfolio's own
// annualised volatility (the ordinary-least-squares identity
// Σ(pᵢ − p̄)² = β²Σ(bᵢ − b̄)² + Σεᵢ²).
type RiskDecomposition struct {
	Beta float64
	// Systematic is β·σ_b·√p, σ_b the benchmark's deviation.
	Systematic float64
	// Specific is the deviation of the residuals ε = port − α − β·bench,
	// × √p.
	Specific float64
	// Total is √(Systematic² + Specific²).
	Total float64
}

// CAPMRisk splits the annualised risk of port against bench into
// systematic risk β·σ_b·√p, specific (residual) risk σ_ε·√p and total
// risk, with β = cov/var and every deviation ddof 1. A constant risk-free
// rate subtracted from both series changes none of them, so none is taken.
// Sources differ: PerformanceAnalytics' SpecificRisk divides the residual
// sum of squares by n (this figure × √((n−1)/n)) while its SystematicRisk
// uses ddof 1, so its TotalRisk is not the portfolio's volatility; OLS's
// ResidualVol divides by n − 2 (the regression's standard error); empyrical
// and Portfolio Performance have no such split. At least two observations;
// a constant benchmark is ErrZeroVariance.
func (p Periods) CAPMRisk(port, bench []float64) (RiskDecomposition, error) {
	if err := p.check("capm risk"); err != nil {
		return RiskDecomposition{}, err
	}
	if err := riskCheckPair("capm risk", port, bench); err != nil {
		return RiskDecomposition{}, err
	}
	beta, err := riskBeta(port, bench)
	if err != nil {
		return RiskDecomposition{}, fmt.Errorf("capm risk: %w", err)
	}
	sb, _ := StdDev(bench)
	eps := make([]float64, len(port))
	for i := range port {
		eps[i] = port[i] - beta*bench[i]
	}
	se, _ := StdDev(eps) // the intercept α shifts ε by a constant only
	k := math.Sqrt(float64(p))
	d := RiskDecomposition{Beta: beta, Systematic: beta * sb * k, Specific: se * k}
	d.Total = math.Hypot(d.Systematic, d.Specific)
	return d, nil
}

// JensenAlpha is Jensen's alpha with a risk-free rate, annualised by
// compounding: with rf = (1+rfAnnual)^(1/p) − 1 per period and β = cov/var
// (ddof 1; rf does not change it),
//
//	α = (1 + mean((portᵢ − rf) − β·(benchᵢ − rf)))^p − 1,
//
// as empyrical's alpha(returns, factor_returns, risk_free = rf); with
// rfAnnual 0 it is p.Alpha. PerformanceAnalytics' CAPM.jensenAlpha instead
// combines annualised geometric returns, R_p − R_f − β(R_b − R_f) (−1.42 %
// against −1.23 % here on Bacon's monthly portfolio), and its CAPM.alpha is
// the per-period intercept unannualised. Some sources annualise the
// per-period α as α × p, which is smaller for a positive α.
func (p Periods) JensenAlpha(port, bench []float64, rfAnnual float64) (float64, error) {
	if err := p.check("jensen's alpha"); err != nil {
		return 0, err
	}
	if err := riskCheckPair("jensen's alpha", port, bench); err != nil {
		return 0, err
	}
	rf, err := p.PerPeriodRate(rfAnnual)
	if err != nil {
		return 0, fmt.Errorf("jensen's alpha: %w", err)
	}
	beta, err := riskBeta(port, bench)
	if err != nil {
		return 0, fmt.Errorf("jensen's alpha: %w", err)
	}
	s := 0.0
	for i := range port {
		s += (port[i] - rf) - beta*(bench[i]-rf)
	}
	return math.Pow(1+s/float64(len(port)), float64(p)) - 1, nil
}
