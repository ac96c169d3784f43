package quant

import (
	"fmt"
	"math"
)

// MinVariance returns the long-only portfolio of least variance wᵀΣw under c.
// cov is the assets' covariance matrix in any consistent units (daily or
// annual); Volatility is reported in the same units. The problem is a convex
// QP solved by the package's ADMM solver; a constraint set with no feasible
// point returns ErrInfeasible, a solver that does not converge
// ErrNoConvergence.
func MinVariance(cov [][]float64, c Constraints) (OptimizationResult, error) {
	flat, err := optCov(cov)
	if err != nil {
		return OptimizationResult{}, fmt.Errorf("min variance: %w", err)
	}
	n := len(cov)
	s, err := optResolve(n, c)
	if err != nil {
		return OptimizationResult{}, fmt.Errorf("min variance: %w", err)
	}
	p := &optQP{}
	nv := optAddConstraints(p, s, false)
	p.n = nv
	p.P = make([]float64, nv*nv)
	p.q = make([]float64, nv)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			p.P[i*nv+j] = 2 * flat[i*n+j]
		}
	}
	sol, err := optSolveQP(p, optStart(s, nv), nil)
	if err != nil {
		return OptimizationResult{}, fmt.Errorf("min variance over %d assets: %w", n, err)
	}
	r := OptimizationResult{Method: "min_variance", Weights: append([]float64(nil), sol.x[:n]...), Iterations: sol.iter}
	if r.Volatility, r.RiskContributions, err = optRisk(flat, r.Weights); err != nil {
		return r, fmt.Errorf("min variance: %w", err)
	}
	return r, s.optFinish(&r)
}

// MaxSharpe returns the long-only portfolio of highest Sharpe ratio
// (wᵀμ − rf)/√(wᵀΣw) under c. mu, cov and rf must share one period (all
// daily or all annual). The ratio is not concave, so the problem is
// homogenised (Cornuéjols & Tütüncü, Optimization Methods in Finance, §8.2):
// minimise yᵀΣy subject to (μ − rf)ᵀy = 1, y ≥ 0 and every constraint of c
// multiplied by κ = Σy, then w = y/κ. This needs some feasible portfolio with
// return above rf; when no asset has μ > rf there is none and ErrInfeasible
// is returned.
func MaxSharpe(mu []float64, cov [][]float64, rf float64, c Constraints) (OptimizationResult, error) {
	flat, err := optCov(cov)
	if err != nil {
		return OptimizationResult{}, fmt.Errorf("max sharpe: %w", err)
	}
	n := len(cov)
	if len(mu) != n {
		return OptimizationResult{}, fmt.Errorf("max sharpe: %d expected returns for %d assets: %w", len(mu), n, ErrLength)
	}
	if !finite(mu...) || !finite(rf) {
		return OptimizationResult{}, fmt.Errorf("max sharpe: expected returns and risk-free rate must be finite: %w", ErrInvalid)
	}
	s, err := optResolve(n, c)
	if err != nil {
		return OptimizationResult{}, fmt.Errorf("max sharpe: %w", err)
	}
	ex := make([]float64, n)
	top := 0.0
	for i := range ex {
		ex[i] = mu[i] - rf
		top = math.Max(top, ex[i])
	}
	if top <= 0 {
		return OptimizationResult{}, fmt.Errorf("max sharpe: no asset has an expected return above the risk-free rate %g, so no portfolio has a positive Sharpe ratio: %w", rf, ErrInfeasible)
	}
	// Normalising the excess returns by their maximum keeps y and κ of order
	// one whatever the period of μ; w = y/κ is unchanged.
	p := &optQP{}
	nv := optAddConstraints(p, s, true)
	idx := make([]int, n)
	val := make([]float64, n)
	for i := range idx {
		idx[i], val[i] = i, ex[i]/top
	}
	p.addRow(idx, val, 1, 1)
	p.n = nv
	p.P = make([]float64, nv*nv)
	p.q = make([]float64, nv)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			p.P[i*nv+j] = 2 * flat[i*n+j]
		}
	}
	sol, err := optSolveQP(p, nil, nil)
	if err != nil {
		return OptimizationResult{}, fmt.Errorf("max sharpe over %d assets (homogenised QP): %w", n, err)
	}
	kappa := sol.x[n]
	if !(kappa > 1e-12) {
		return OptimizationResult{}, fmt.Errorf("max sharpe: homogenised solution has κ = %g: %w", kappa, ErrNoConvergence)
	}
	w := make([]float64, n)
	for i := range w {
		w[i] = sol.x[i] / kappa
	}
	r := OptimizationResult{Method: "max_sharpe", Weights: w, Iterations: sol.iter, HasExpectedReturn: true}
	for i := range w {
		r.ExpectedReturn += w[i] * mu[i]
	}
	if r.Volatility, r.RiskContributions, err = optRisk(flat, w); err != nil {
		return r, fmt.Errorf("max sharpe: %w", err)
	}
	r.Sharpe = (r.ExpectedReturn - rf) / r.Volatility
	return r, s.optFinish(&r)
}

// optStart is a warm start for the non-homogenised problems: the current
// weights when given, else the bounds' midpoint scaled toward the budget.
func optStart(s *optSpec, nv int) []float64 {
	x := make([]float64, nv)
	if s.w0 != nil {
		copy(x, s.w0)
		return x
	}
	for i := 0; i < s.n; i++ {
		x[i] = 1 / float64(s.n)
	}
	return x
}
