package quant

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/convex/lp"
)

// minCVaRFullLP is the original MinCVaR, kept as the reference that the
// cutting-plane solver is tested against: the full Rockafellar–Uryasev LP
// (one row per scenario) solved by gonum's dense lp.Simplex. It is exact but
// slow (about 25 s for 50 assets and 500 scenarios), so it is used only in
// tests on small problems.
func minCVaRFullLP(scenarios [][]float64, alpha float64, c Constraints) (OptimizationResult, error) {
	T := len(scenarios)
	n, err := minCVaRCheck(scenarios, alpha)
	if err != nil {
		return OptimizationResult{}, err
	}
	s, err := optResolve(n, c)
	if err != nil {
		return OptimizationResult{}, fmt.Errorf("min cvar: %w", err)
	}

	// Columns, all ≥ 0: v = w − lo (n), ζ⁺, ζ⁻, z (T), scenario slacks (T),
	// then one slack per bound or cap row and u, v, slack for turnover.
	sumLo := 0.0
	for _, v := range s.lo {
		sumLo += v
	}
	free := 1 - sumLo
	type lpRow struct {
		idx []int
		val []float64
		rhs float64
	}
	var rows []lpRow
	ncol := n + 2 + 2*T
	zCol := n + 2
	for t, r := range scenarios {
		idx := make([]int, 0, n+4)
		val := make([]float64, 0, n+4)
		rhs := 0.0
		for i, v := range r {
			idx, val = append(idx, i), append(val, v)
			rhs -= v * s.lo[i]
		}
		idx = append(idx, n, n+1, zCol+t, zCol+T+t)
		val = append(val, 1, -1, 1, -1)
		rows = append(rows, lpRow{idx, val, rhs})
	}
	all := make([]int, n)
	ones := make([]float64, n)
	for i := range all {
		all[i], ones[i] = i, 1
	}
	rows = append(rows, lpRow{all, ones, free})
	for i := 0; i < n; i++ {
		if s.hi[i]-s.lo[i] < free { // otherwise implied by the budget
			rows = append(rows, lpRow{[]int{i, ncol}, []float64{1, 1}, s.hi[i] - s.lo[i]})
			ncol++
		}
	}
	for g, cp := range s.caps {
		idx, val := []int{}, []float64{}
		lo := 0.0
		for i, sg := range s.sector {
			if sg == g {
				idx, val = append(idx, i), append(val, 1)
				lo += s.lo[i]
			}
		}
		if len(idx) == 0 || cp-lo >= free {
			continue
		}
		rows = append(rows, lpRow{append(idx, ncol), append(val, 1), cp - lo})
		ncol++
	}
	if s.hasTurnover {
		tIdx, tVal := []int{}, []float64{}
		for i := 0; i < n; i++ {
			// vᵢ − uᵢ + dᵢ = w0ᵢ − loᵢ, i.e. wᵢ − w0ᵢ = uᵢ − dᵢ.
			rows = append(rows, lpRow{[]int{i, ncol, ncol + 1}, []float64{1, -1, 1}, s.w0[i] - s.lo[i]})
			tIdx, tVal = append(tIdx, ncol, ncol+1), append(tVal, 1, 1)
			ncol += 2
		}
		rows = append(rows, lpRow{append(tIdx, ncol), append(tVal, 1), s.turnover})
		ncol++
	}
	A := mat.NewDense(len(rows), ncol, nil)
	b := make([]float64, len(rows))
	for r, row := range rows {
		for k, ci := range row.idx {
			A.Set(r, ci, row.val[k])
		}
		b[r] = row.rhs
	}
	cost := make([]float64, ncol)
	cost[n], cost[n+1] = 1, -1
	tail := 1 / ((1 - alpha) * float64(T))
	for t := 0; t < T; t++ {
		cost[zCol+t] = tail
	}
	opt, x, err := lp.Simplex(cost, A, b, 1e-12, nil)
	switch {
	case errors.Is(err, lp.ErrInfeasible):
		return OptimizationResult{}, fmt.Errorf("min cvar over %d assets, %d scenarios: simplex: %v: %w", n, T, err, ErrInfeasible)
	case err != nil:
		return OptimizationResult{}, fmt.Errorf("min cvar over %d assets, %d scenarios: simplex: %v: %w", n, T, err, ErrNoConvergence)
	}
	w := make([]float64, n)
	for i := range w {
		w[i] = s.lo[i] + x[i]
	}
	r := OptimizationResult{Method: "min_cvar", Weights: w, Iterations: 1, HasExpectedReturn: true}
	port := make([]float64, T)
	for t, row := range scenarios {
		for i, v := range row {
			port[t] += v * w[i]
		}
	}
	r.ExpectedReturn, _ = Mean(port)
	r.Volatility, _ = StdDev(port)
	var probs []float64
	r.VaR, r.CVaR, probs = optCVaR(port, alpha)
	if math.Abs(r.CVaR-opt) > 1e-9*math.Max(1, math.Abs(opt)) {
		return r, fmt.Errorf("min cvar: simplex optimum %g differs from the CVaR %g of its weights: %w", opt, r.CVaR, ErrNoConvergence)
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
