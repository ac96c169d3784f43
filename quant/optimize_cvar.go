package quant

import (
	"fmt"
	"math"
	"sort"
)

// MinCVaR returns the long-only portfolio of least conditional value at risk
// at confidence alpha (e.g. 0.95) over equally likely scenarios:
// scenarios[t][i] is asset i's return in scenario t, loss is −rₜᵀw, and CVaR
// is the mean loss in the worst 1 − alpha of scenarios. The problem is the
// linear program of Rockafellar & Uryasev, "Optimization of conditional
// value-at-risk", J. Risk 2 (2000) 21–41:
//
//	minimise ζ + 1/((1−α)T) Σₜ zₜ  s.t.  zₜ ≥ −rₜᵀw − ζ, zₜ ≥ 0,
//
// which has a row per scenario and is slow to solve as it stands. It is
// solved instead by the cutting-plane method of Künzi-Bay & Mayer,
// "Computational aspects of minimizing conditional value-at-risk",
// Computational Management Science 3 (2006) 3–27: the sum is replaced by
// θ ≥ (1/T) Σ_{t∈K} (−rₜᵀw − ζ) for a growing family of scenario sets K, so
// each master LP has a row per cut rather than per scenario. The method stops
// when the CVaR recomputed from the master's weights exceeds the master's
// optimum (a lower bound on the true minimum) by at most cvarGapTol, so the
// result is the LP optimum within that tolerance, not an approximation.
// Weight bounds are column bounds of the master, and the turnover cap is
// linearised by splitting w − w0 = u − d with u, d ≥ 0 and Σ(u+d) ≤ cap.
// Iterations counts the master LP solves.
func MinCVaR(scenarios [][]float64, alpha float64, c Constraints) (OptimizationResult, error) {
	T := len(scenarios)
	n, err := minCVaRCheck(scenarios, alpha)
	if err != nil {
		return OptimizationResult{}, err
	}
	s, err := optResolve(n, c)
	if err != nil {
		return OptimizationResult{}, fmt.Errorf("min cvar: %w", err)
	}
	w, lower, solves, err := cvarCuttingPlane(scenarios, alpha, s)
	if err != nil {
		return OptimizationResult{}, fmt.Errorf("min cvar over %d assets, %d scenarios: %w", n, T, err)
	}
	r := OptimizationResult{Method: "min_cvar", Weights: w, Iterations: solves, HasExpectedReturn: true}
	port := cvarPortfolio(scenarios, w)
	r.ExpectedReturn, _ = Mean(port)
	r.Volatility, _ = StdDev(port)
	var probs []float64
	r.VaR, r.CVaR, probs = optCVaR(port, alpha)
	if r.CVaR-lower > cvarGapTol*math.Max(1, math.Abs(lower)) {
		return r, fmt.Errorf("min cvar: CVaR %g of the final weights exceeds the lower bound %g by more than %g: %w", r.CVaR, lower, cvarGapTol, ErrNoConvergence)
	}
	if r.CVaR != 0 {
		r.RiskContributions = make([]float64, n)
		for t, p := range probs {
			if p == 0 {
				continue
			}
			for i, v := range scenarios[t] {
				r.RiskContributions[i] += p * -v * w[i] / r.CVaR
			}
		}
	}
	return r, s.optFinish(&r)
}

// optCVaR returns VaR and CVaR at confidence alpha of equally likely
// portfolio returns, as losses, and the tail probabilities pₜ with
// CVaR = Σ pₜ·lossₜ (Rockafellar & Uryasev 2000, evaluated at ζ = VaR).
func optCVaR(returns []float64, alpha float64) (VaR, CVaR float64, probs []float64) {
	T := len(returns)
	loss := make([]float64, T)
	for t, r := range returns {
		loss[t] = -r
	}
	sorted := append([]float64(nil), loss...)
	sort.Float64s(sorted)
	k := int(math.Ceil(alpha*float64(T) - 1e-9)) // 1-based rank of the α-quantile
	k = min(max(k, 1), T)
	VaR = sorted[k-1]
	tail := 1 / ((1 - alpha) * float64(T))
	probs = make([]float64, T)
	mass := 0.0
	var ties []int
	for t, l := range loss {
		switch {
		case l > VaR:
			probs[t] = tail
			mass += tail
		case l == VaR:
			ties = append(ties, t)
		}
	}
	for _, t := range ties {
		probs[t] = (1 - mass) / float64(len(ties))
	}
	for t, p := range probs {
		CVaR += p * loss[t]
	}
	return VaR, CVaR, probs
}

// minCVaRCheck validates MinCVaR's scenarios and confidence and returns the
// number of assets.
func minCVaRCheck(scenarios [][]float64, alpha float64) (int, error) {
	T := len(scenarios)
	if T < 2 {
		return 0, fmt.Errorf("min cvar: %d scenarios: %w", T, ErrEmpty)
	}
	n := len(scenarios[0])
	for t, row := range scenarios {
		if len(row) != n {
			return 0, fmt.Errorf("min cvar: scenario %d has %d returns, want %d: %w", t, len(row), n, ErrLength)
		}
		if !finite(row...) {
			return 0, fmt.Errorf("min cvar: scenario %d has a non-finite return: %w", t, ErrInvalid)
		}
	}
	if !(alpha > 0 && alpha < 1) {
		return 0, fmt.Errorf("min cvar: confidence %g outside (0, 1): %w", alpha, ErrInvalid)
	}
	return n, nil
}
