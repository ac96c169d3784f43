package quant

import (
	"fmt"
	"math"
	"strings"
)

// RiskParity returns the long-only portfolio whose assets contribute equally
// to its variance, wᵢ(Σw)ᵢ = wᵀΣw/n (equal risk contribution, ERC).
//
// Without constraints the ERC portfolio exists and is unique for a positive
// definite Σ (Maillard, Roncalli & Teïletche, "The properties of equally
// weighted risk contribution portfolios", J. Portfolio Mgmt 36(4), 2010); it
// is computed by cyclical coordinate descent on the convex program
// min ½xᵀΣx − (1/n)Σ ln xᵢ (Griveau-Billion, Richard & Roncalli, "A fast
// algorithm for computing high-dimensional risk parity portfolios", 2013)
// and normalised. When that unique portfolio breaks c, equal contributions
// are impossible under c: RiskParity then minimises Σᵢ(RCᵢ − 1/n)² over the
// feasible set, RCᵢ the fractional contributions, by successive convex
// approximation (Feng & Palomar, "SCRIP: successive convex optimization
// methods for risk parity portfolio design", IEEE Trans. Signal Process. 63,
// 2015), each step a QP solved by the package's ADMM solver. The objective is
// not convex, so that answer is a stationary point, and Note says so together
// with the largest remaining deviation.
func RiskParity(cov [][]float64, c Constraints) (OptimizationResult, error) {
	flat, err := optCov(cov)
	if err != nil {
		return OptimizationResult{}, fmt.Errorf("risk parity: %w", err)
	}
	n := len(cov)
	s, err := optResolve(n, c)
	if err != nil {
		return OptimizationResult{}, fmt.Errorf("risk parity: %w", err)
	}
	erc, iters, err := optERC(flat, n)
	if err != nil {
		return OptimizationResult{}, fmt.Errorf("risk parity over %d assets: %w", n, err)
	}
	r := OptimizationResult{Method: "risk_parity", Weights: erc, Iterations: iters}
	if _, viol, _ := s.optCheck(erc); len(viol) == 0 {
		if r.Volatility, r.RiskContributions, err = optRisk(flat, r.Weights); err != nil {
			return r, fmt.Errorf("risk parity: %w", err)
		}
		return r, s.optFinish(&r)
	}
	_, viol, _ := s.optCheck(erc)

	w, outer, inner, err := optRiskParitySCA(flat, s, erc)
	r.Iterations += outer + inner
	if err != nil {
		return OptimizationResult{}, fmt.Errorf("risk parity over %d assets under constraints: %w", n, err)
	}
	r.Weights = w
	if r.Volatility, r.RiskContributions, err = optRisk(flat, r.Weights); err != nil {
		return r, fmt.Errorf("risk parity: %w", err)
	}
	dev := 0.0
	for _, v := range r.RiskContributions {
		dev = math.Max(dev, math.Abs(v-1/float64(n)))
	}
	r.Note = fmt.Sprintf("equal risk contributions are impossible under these constraints: the unique long-only equal-contribution portfolio breaks %s; "+
		"these weights are a stationary point of Σ(RCᵢ − 1/n)² over the feasible set (%d convex steps), largest deviation of a contribution from 1/n = %.4g",
		strings.Join(viol, ", "), outer, dev)
	return r, s.optFinish(&r)
}

// optERC computes the unconstrained ERC weights by cyclical coordinate
// descent: xᵢ = (−aᵢ + √(aᵢ² + 4σᵢᵢ/n)) / (2σᵢᵢ), aᵢ = Σ_{j≠i} σᵢⱼxⱼ.
func optERC(cov []float64, n int) ([]float64, int, error) {
	x := make([]float64, n)
	for i := range x {
		x[i] = 1 / math.Sqrt(cov[i*n+i]) / float64(n)
	}
	b := 1 / float64(n)
	const maxIter = 10000
	for it := 1; it <= maxIter; it++ {
		change := 0.0
		for i := 0; i < n; i++ {
			a := 0.0
			for j := 0; j < n; j++ {
				if j != i {
					a += cov[i*n+j] * x[j]
				}
			}
			sii := cov[i*n+i]
			nx := (-a + math.Sqrt(a*a+4*sii*b)) / (2 * sii)
			change = math.Max(change, math.Abs(nx-x[i])/math.Max(nx, 1e-300))
			x[i] = nx
		}
		if change < 1e-13 {
			sum := 0.0
			for _, v := range x {
				sum += v
			}
			for i := range x {
				x[i] /= sum
			}
			return x, it, nil
		}
	}
	return nil, maxIter, fmt.Errorf("equal risk contribution by coordinate descent after %d sweeps: %w", maxIter, ErrNoConvergence)
}

// optRPResidual returns gᵢ = wᵢ(Σw)ᵢ/wᵀΣw − 1/n and its Jacobian (row-major).
func optRPResidual(cov, w []float64, n int) (g, J []float64) {
	sw := make([]float64, n)
	v := 0.0
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			sw[i] += cov[i*n+j] * w[j]
		}
		v += w[i] * sw[i]
	}
	g = make([]float64, n)
	J = make([]float64, n*n)
	for i := 0; i < n; i++ {
		a := w[i] * sw[i]
		g[i] = a/v - 1/float64(n)
		for j := 0; j < n; j++ {
			da := w[i] * cov[i*n+j]
			if i == j {
				da += sw[i]
			}
			J[i*n+j] = da/v - 2*a*sw[j]/(v*v)
		}
	}
	return g, J
}

// optRiskParitySCA runs the successive convex approximation from the
// projection of the ERC weights onto the feasible set. Each step minimises
// ‖g + J(w − wₖ)‖² + τ‖w − wₖ‖² over the constraints and moves
// wₖ₊₁ = wₖ + γₖ(ŵ − wₖ), γₖ₊₁ = γₖ(1 − εγₖ) (Feng & Palomar 2015); every
// iterate is a convex combination of feasible points, hence feasible.
func optRiskParitySCA(cov []float64, s *optSpec, erc []float64) (w []float64, outer, inner int, err error) {
	n := s.n
	base := &optQP{}
	nv := optAddConstraints(base, s, false)
	base.n = nv
	qp := func(P, q []float64, warm []float64) ([]float64, error) {
		p := &optQP{n: nv, P: P, q: q, rows: base.rows, l: base.l, u: base.u}
		sol, err := optSolveQP(p, warm, nil)
		inner += sol.iter
		if err != nil {
			return nil, err
		}
		return sol.x, nil
	}
	// Projection of the ERC portfolio: minimise ‖w − erc‖².
	P := make([]float64, nv*nv)
	q := make([]float64, nv)
	for i := 0; i < n; i++ {
		P[i*nv+i] = 2
		q[i] = -2 * erc[i]
	}
	x, err := qp(P, q, optStart(s, nv))
	if err != nil {
		return nil, 0, inner, fmt.Errorf("project equal-contribution weights onto the constraints: %w", err)
	}
	const (
		maxOuter = 2000
		eps      = 1e-3
		stepTol  = 1e-9
	)
	gamma := 1.0
	for outer = 1; outer <= maxOuter; outer++ {
		w := x[:n]
		g, J := optRPResidual(cov, w, n)
		for i := range P {
			P[i] = 0
		}
		for i := range q {
			q[i] = 0
		}
		jw := make([]float64, n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				jw[i] += J[i*n+j] * w[j]
			}
		}
		diagMax := 0.0
		for a := 0; a < n; a++ {
			for b := 0; b < n; b++ {
				sum := 0.0
				for i := 0; i < n; i++ {
					sum += J[i*n+a] * J[i*n+b]
				}
				P[a*nv+b] = 2 * sum
			}
			diagMax = math.Max(diagMax, P[a*nv+a])
			for i := 0; i < n; i++ {
				q[a] += 2 * J[i*n+a] * (g[i] - jw[i])
			}
		}
		tau := 1e-6*diagMax + 1e-12
		for a := 0; a < n; a++ {
			P[a*nv+a] += 2 * tau
			q[a] -= 2 * tau * w[a]
		}
		hat, err := qp(P, q, x)
		if err != nil {
			return nil, outer, inner, fmt.Errorf("risk parity step %d: %w", outer, err)
		}
		step := 0.0
		for i := 0; i < n; i++ {
			step = math.Max(step, math.Abs(hat[i]-w[i]))
		}
		for i := range x {
			x[i] += gamma * (hat[i] - x[i])
		}
		gamma *= 1 - eps*gamma
		if step < stepTol {
			return append([]float64(nil), x[:n]...), outer, inner, nil
		}
	}
	return nil, maxOuter, inner, fmt.Errorf("risk parity convex steps still moving after %d: %w", maxOuter, ErrNoConvergence)
}
