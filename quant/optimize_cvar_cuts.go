package quant

import (
	"errors"
	"fmt"
	"math"
)

// cvarGapTol is how far, relative to max(1, |bound|), the CVaR of MinCVaR's
// weights may exceed the master LP's lower bound when the cutting-plane
// method stops. Both figures are computed in float64 from the same data, so
// the returned CVaR is within this of the LP optimum (up to the simplex's own
// tolerances, about 1e-9 in the weights).
const cvarGapTol = 1e-10

// Limits that turn a stalled cutting-plane run into ErrNoConvergence rather
// than a hang. In exact arithmetic the method ends after finitely many cuts
// (there are finitely many scenario sets); in practice it takes tens.
const (
	cvarMaxSolves = 5000
	cvarMaxPivots = 1_000_000
)

// cvarPortfolio returns the portfolio return rₜᵀw of every scenario.
func cvarPortfolio(scenarios [][]float64, w []float64) []float64 {
	port := make([]float64, len(scenarios))
	for t, row := range scenarios {
		for i, v := range row {
			port[t] += v * w[i]
		}
	}
	return port
}

// cvarCuttingPlane minimises CVaR over the constraints s by the method of
// Künzi-Bay & Mayer (2006). With Lₜ(w) = −rₜᵀw and F(w, ζ) = ζ +
// 1/((1−α)T) Σₜ (Lₜ(w) − ζ)⁺, Rockafellar & Uryasev (2000) give CVaR(w) =
// min_ζ F(w, ζ), and (1/T) Σₜ (Lₜ − ζ)⁺ = max over K ⊆ {1..T} of
// (1/T) Σ_{t∈K} (Lₜ − ζ). The master LP
//
//	minimise ζ + θ/(1−α)  s.t.  w feasible, ζ ∈ [min loss, max loss],
//	θ ≥ (1/T) Σ_{t∈K} (Lₜ(w) − ζ) for each cut K so far, θ ≥ 0,
//
// is a relaxation, so its optimum is a lower bound on the minimum CVaR; at
// its solution (w*, ζ*) the set K = {t : Lₜ(w*) > ζ*} gives the most violated
// cut. The loop stops when CVaR(w*), recomputed from the weights, is within
// cvarGapTol of the bound. The bound on ζ keeps the first masters bounded and
// loses nothing: the optimal ζ is a quantile of the losses, each of which is
// a convex combination of the −rₜᵢ. Cut rows are scaled by T/|K| so that ζ
// has coefficient −1 in each.
//
// It returns the weights, the final lower bound and the number of master
// solves.
func cvarCuttingPlane(scenarios [][]float64, alpha float64, s *optSpec) (w []float64, lower float64, solves int, err error) {
	T, n := len(scenarios), s.n
	p := newBoundedLP(cvarMaxPivots)

	// Columns: the weights (or, under a turnover cap, u and d with
	// w = w0 + u − d), then ζ and θ. xAsset and xSign map a weight column to
	// its asset; off is the constant part of w.
	var xAsset []int
	var xSign []float64
	off := make([]float64, n)
	for i := 0; i < n; i++ {
		if !s.hasTurnover {
			p.addCol(0, s.lo[i], s.hi[i])
			xAsset, xSign = append(xAsset, i), append(xSign, 1)
			continue
		}
		// u = (w − w0)⁺ and d = (w − w0)⁻ range over boxes that give exactly
		// w ∈ [lo, hi], wherever w0 lies.
		w0 := s.w0[i]
		off[i] = w0
		p.addCol(0, math.Max(0, s.lo[i]-w0), math.Max(0, s.hi[i]-w0))
		p.addCol(0, math.Max(0, w0-s.hi[i]), math.Max(0, w0-s.lo[i]))
		xAsset, xSign = append(xAsset, i, i), append(xSign, 1, -1)
	}
	nx := len(xAsset)
	zmin, zmax := math.Inf(1), math.Inf(-1)
	for _, row := range scenarios {
		for _, v := range row {
			zmin, zmax = math.Min(zmin, -v), math.Max(zmax, -v)
		}
	}
	zeta := p.addCol(1, zmin, zmax)
	theta := p.addCol(1/(1-alpha), 0, math.Inf(1))

	sumOff, sumLo := 0.0, 0.0
	for i := range off {
		sumOff += off[i]
		sumLo += s.lo[i]
	}
	p.addRow(xSign, 1-sumOff, true) // budget
	free := 1 - sumLo
	for g, cp := range s.caps {
		coef := make([]float64, nx)
		loG, hiG, offG, members := 0.0, 0.0, 0.0, 0
		for i, sg := range s.sector {
			if sg == g {
				loG, hiG, offG = loG+s.lo[i], hiG+s.hi[i], offG+off[i]
				members++
			}
		}
		if members == 0 || hiG <= cp || cp-loG >= free { // implied by the bounds
			continue
		}
		for j, i := range xAsset {
			if s.sector[i] == g {
				coef[j] = xSign[j]
			}
		}
		p.addRow(coef, cp-offG, false)
	}
	if s.hasTurnover {
		coef := make([]float64, nx)
		for j := range coef {
			coef[j] = 1
		}
		p.addRow(coef, s.turnover, false)
	}

	w = make([]float64, n)
	mean := make([]float64, n)
	for solves = 1; ; solves++ {
		if err := p.solve(); err != nil {
			if errors.Is(err, errLPInfeasible) {
				return nil, 0, solves, fmt.Errorf("master LP %d: %w: %w", solves, err, ErrInfeasible)
			}
			return nil, 0, solves, fmt.Errorf("master LP %d: %w", solves, err)
		}
		copy(w, off)
		for j, i := range xAsset {
			w[i] += xSign[j] * p.x[j]
		}
		z, th := p.x[zeta], p.x[theta]
		lower = p.objective()
		port := cvarPortfolio(scenarios, w)
		_, upper, _ := optCVaR(port, alpha)
		if upper-lower <= cvarGapTol*math.Max(1, math.Abs(lower)) {
			if p.strict {
				return w, lower, solves, nil
			}
			// Re-solve with a fresh factorisation so that the bound does not
			// rest on an inverse updated through many pivots.
			p.strict = true
			continue
		}
		if solves >= cvarMaxSolves {
			return nil, 0, solves, fmt.Errorf("gap %g after %d master LPs: %w", upper-lower, solves, ErrNoConvergence)
		}
		// The cut at (w*, ζ*): K = {t : Lₜ > ζ*}, scaled by T/|K|:
		// mean_K Lₜ(w) − ζ − (T/|K|)θ ≤ 0.
		for i := range mean {
			mean[i] = 0
		}
		k, excess := 0, 0.0
		for t, r := range port {
			if l := -r; l > z {
				k++
				excess += l - z
				for i, v := range scenarios[t] {
					mean[i] += v
				}
			}
		}
		if excess/float64(T) <= th {
			// Only rounding can get here: CVaR(w*) ≤ F(w*, ζ*) ≤ the bound.
			return nil, 0, solves, fmt.Errorf("no violated cut at gap %g after %d master LPs: %w", upper-lower, solves, ErrNoConvergence)
		}
		coef := make([]float64, theta+1)
		rhs := 0.0
		for i := range mean {
			mean[i] /= float64(k)
			rhs += mean[i] * off[i]
		}
		for j, i := range xAsset {
			coef[j] = -xSign[j] * mean[i]
		}
		coef[zeta], coef[theta] = -1, -float64(T)/float64(k)
		p.addRow(coef, rhs, false)
	}
}
