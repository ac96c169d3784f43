package quant

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// This file holds the convex quadratic-programming solver behind MinVariance,
// MaxSharpe and RiskParity. gonum has no QP solver, so it is the operator
// splitting (ADMM) method of OSQP:
//
//	Stellato, Banjac, Goulart, Bemporad, Boyd, "OSQP: an operator splitting
//	solver for quadratic programs", Math. Prog. Comp. 12 (2020) 637–672,
//
// for minimise ½xᵀPx + qᵀx subject to l ≤ Ax ≤ u: the same iteration
// (Algorithm 1), residuals and termination test (§3.4), primal infeasibility
// certificate (§3.4), adaptive ρ (§5.2) and solution polishing (§5.3), on
// dense matrices because portfolio problems have at most a few hundred
// variables. Ruiz scaling is replaced by scaling P to unit diagonal maximum,
// which is enough for covariance matrices.

// optRow is one sparse row of A.
type optRow struct {
	idx []int
	val []float64
}

// optQP is minimise ½xᵀPx + qᵀx subject to l ≤ Ax ≤ u (rows of A sparse).
type optQP struct {
	n    int
	P    []float64 // n×n row-major, symmetric positive semidefinite
	q    []float64
	rows []optRow
	l, u []float64
}

func (p *optQP) addRow(idx []int, val []float64, lo, hi float64) {
	p.rows = append(p.rows, optRow{idx: idx, val: val})
	p.l = append(p.l, lo)
	p.u = append(p.u, hi)
}

const (
	optSigma    = 1e-6
	optAlpha    = 1.6
	optEpsAbs   = 1e-10
	optEpsRel   = 1e-10
	optEpsPinf  = 1e-7
	optMaxIter  = 40000
	optCheckEvr = 10
	optRhoEvery = 50
	optRhoMin   = 1e-6
	optRhoMax   = 1e6
	optRhoEqFac = 1e3
)

// optQPSolution is the ADMM answer: primal x, dual y (one per row), and the
// number of iterations taken.
type optQPSolution struct {
	x, y []float64
	iter int
}

// optSolveQP solves p, warm-started from x0 and y0 when they are not nil. It
// returns ErrInfeasible with a certificate, ErrNoConvergence when the
// tolerances are not met within optMaxIter iterations.
func optSolveQP(p *optQP, x0, y0 []float64) (optQPSolution, error) {
	n, m := p.n, len(p.rows)
	// Scale the objective so its largest diagonal entry is 1; the minimiser
	// does not change and the fixed tolerances become meaningful.
	scale := 0.0
	for i := 0; i < n; i++ {
		scale = math.Max(scale, math.Abs(p.P[i*n+i]))
	}
	for _, v := range p.q {
		scale = math.Max(scale, math.Abs(v))
	}
	if scale == 0 {
		scale = 1
	}
	P := make([]float64, n*n)
	for i := range P {
		P[i] = p.P[i] / scale
	}
	q := make([]float64, n)
	for i := range q {
		q[i] = p.q[i] / scale
	}

	x := make([]float64, n)
	if x0 != nil {
		copy(x, x0)
	}
	y := make([]float64, m)
	if y0 != nil {
		for i := range y {
			y[i] = y0[i] / scale
		}
	}
	z := make([]float64, m)
	optMulA(p.rows, x, z)
	for i := range z {
		z[i] = math.Min(math.Max(z[i], p.l[i]), p.u[i])
	}

	rhoBar := 0.1
	rho := make([]float64, m)
	setRho := func() {
		for i := range rho {
			switch {
			case p.l[i] == p.u[i]:
				rho[i] = optRhoEqFac * rhoBar
			case math.IsInf(p.l[i], -1) && math.IsInf(p.u[i], 1):
				rho[i] = optRhoMin
			default:
				rho[i] = rhoBar
			}
		}
	}
	setRho()
	chol, err := optFactor(P, p.rows, rho, n)
	if err != nil {
		return optQPSolution{}, err
	}

	xt := make([]float64, n)
	zt := make([]float64, m)
	rhs := make([]float64, n)
	tmpM := make([]float64, m)
	yPrev := make([]float64, m)
	dy := make([]float64, m)
	ax := make([]float64, m)
	px := make([]float64, n)
	aty := make([]float64, n)
	rhsV := mat.NewVecDense(n, rhs)
	xtV := mat.NewVecDense(n, xt)

	for it := 1; it <= optMaxIter; it++ {
		copy(yPrev, y)
		// x̃ = K⁻¹(σx − q + Aᵀ(ρz − y))
		for i := range tmpM {
			tmpM[i] = rho[i]*z[i] - y[i]
		}
		optMulAT(p.rows, tmpM, rhs)
		for i := range rhs {
			rhs[i] += optSigma*x[i] - q[i]
		}
		if err := chol.SolveVecTo(xtV, rhsV); err != nil {
			return optQPSolution{}, fmt.Errorf("admm linear solve: %w", ErrSingular)
		}
		optMulA(p.rows, xt, zt)
		for i := range x {
			x[i] = optAlpha*xt[i] + (1-optAlpha)*x[i]
		}
		for i := range z {
			zr := optAlpha*zt[i] + (1-optAlpha)*z[i]
			zn := math.Min(math.Max(zr+y[i]/rho[i], p.l[i]), p.u[i])
			y[i] += rho[i] * (zr - zn)
			z[i] = zn
		}

		if it%optCheckEvr != 0 && it != optMaxIter {
			continue
		}
		optMulA(p.rows, x, ax)
		optSymMul(P, x, px, n)
		optMulAT(p.rows, y, aty)
		rPrim, nAx, nZ := 0.0, 0.0, 0.0
		for i := range ax {
			rPrim = math.Max(rPrim, math.Abs(ax[i]-z[i]))
			nAx = math.Max(nAx, math.Abs(ax[i]))
			nZ = math.Max(nZ, math.Abs(z[i]))
		}
		rDual, nPx, nAty, nQ := 0.0, 0.0, 0.0, 0.0
		for i := range px {
			rDual = math.Max(rDual, math.Abs(px[i]+q[i]+aty[i]))
			nPx = math.Max(nPx, math.Abs(px[i]))
			nAty = math.Max(nAty, math.Abs(aty[i]))
			nQ = math.Max(nQ, math.Abs(q[i]))
		}
		epsPrim := optEpsAbs + optEpsRel*math.Max(nAx, nZ)
		epsDual := optEpsAbs + optEpsRel*math.Max(nPx, math.Max(nAty, nQ))
		if rPrim <= epsPrim && rDual <= epsDual {
			sol := optQPSolution{x: x, y: y, iter: it}
			optPolish(p, P, q, &sol)
			for i := range sol.y {
				sol.y[i] *= scale
			}
			return sol, nil
		}
		// Primal infeasibility: δy with Aᵀδy ≈ 0 and uᵀδy₊ + lᵀδy₋ < 0.
		for i := range dy {
			dy[i] = y[i] - yPrev[i]
		}
		if optInfeasible(p, dy) {
			return optQPSolution{iter: it}, fmt.Errorf("admm after %d iterations found a certificate that the constraints admit no point: %w", it, ErrInfeasible)
		}
		if it%optRhoEvery == 0 {
			num := rPrim / math.Max(math.Max(nAx, nZ), 1e-30)
			den := rDual / math.Max(math.Max(nPx, math.Max(nAty, nQ)), 1e-30)
			if den > 0 && num > 0 {
				nr := math.Min(math.Max(rhoBar*math.Sqrt(num/den), optRhoMin), optRhoMax)
				if nr > 5*rhoBar || nr < rhoBar/5 {
					rhoBar = nr
					setRho()
					if chol, err = optFactor(P, p.rows, rho, n); err != nil {
						return optQPSolution{}, err
					}
				}
			}
		}
	}
	return optQPSolution{iter: optMaxIter}, fmt.Errorf("admm did not meet tolerance %g within %d iterations: %w", optEpsAbs, optMaxIter, ErrNoConvergence)
}

// optInfeasible applies the certificate of Stellato et al. (2020) §3.4.
func optInfeasible(p *optQP, dy []float64) bool {
	nd := 0.0
	for _, v := range dy {
		nd = math.Max(nd, math.Abs(v))
	}
	if nd < 1e-12 {
		return false
	}
	at := make([]float64, p.n)
	optMulAT(p.rows, dy, at)
	for _, v := range at {
		if math.Abs(v) > optEpsPinf*nd {
			return false
		}
	}
	s := 0.0
	for i, v := range dy {
		switch {
		case v > 0:
			if math.IsInf(p.u[i], 1) {
				return false
			}
			s += p.u[i] * v
		case v < 0:
			if math.IsInf(p.l[i], -1) {
				return false
			}
			s += p.l[i] * v
		}
	}
	return s < -optEpsPinf*nd
}

// optPolish guesses the active set from the ADMM dual and solves the
// equality-constrained QP on it (Stellato et al. 2020 §5.3); the polished
// point replaces the ADMM one only when it is feasible and dual-feasible,
// which gives solutions exact to rounding when the guess is right.
func optPolish(p *optQP, P, q []float64, sol *optQPSolution) {
	n := p.n
	ax := make([]float64, len(p.rows))
	optMulA(p.rows, sol.x, ax)
	var act []int
	var bnd []float64
	var upper []bool
	for i := range p.rows {
		switch {
		case p.l[i] == p.u[i]:
			act, bnd, upper = append(act, i), append(bnd, p.l[i]), append(upper, sol.y[i] >= 0)
		case !math.IsInf(p.l[i], -1) && ax[i]-p.l[i] < -sol.y[i]:
			act, bnd, upper = append(act, i), append(bnd, p.l[i]), append(upper, false)
		case !math.IsInf(p.u[i], 1) && p.u[i]-ax[i] < sol.y[i]:
			act, bnd, upper = append(act, i), append(bnd, p.u[i]), append(upper, true)
		}
	}
	k := len(act)
	dim := n + k
	const delta = 1e-10
	kkt := mat.NewDense(dim, dim, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			kkt.Set(i, j, P[i*n+j])
		}
	}
	for r, ri := range act {
		for t, c := range p.rows[ri].idx {
			kkt.Set(n+r, c, p.rows[ri].val[t])
			kkt.Set(c, n+r, p.rows[ri].val[t])
		}
	}
	reg := mat.DenseCopyOf(kkt)
	for i := 0; i < dim; i++ {
		if i < n {
			reg.Set(i, i, reg.At(i, i)+delta)
		} else {
			reg.Set(i, i, reg.At(i, i)-delta)
		}
	}
	var lu mat.LU
	lu.Factorize(reg)
	if lu.Det() == 0 {
		return
	}
	b := make([]float64, dim)
	for i := 0; i < n; i++ {
		b[i] = -q[i]
	}
	copy(b[n:], bnd)
	bV := mat.NewVecDense(dim, b)
	sV := mat.NewVecDense(dim, nil)
	if err := lu.SolveVecTo(sV, false, bV); err != nil {
		return
	}
	// Iterative refinement against the unregularised system.
	res := mat.NewVecDense(dim, nil)
	corr := mat.NewVecDense(dim, nil)
	for r := 0; r < 5; r++ {
		res.MulVec(kkt, sV)
		res.SubVec(bV, res)
		if err := lu.SolveVecTo(corr, false, res); err != nil {
			return
		}
		sV.AddVec(sV, corr)
	}
	xp := make([]float64, n)
	for i := range xp {
		xp[i] = sV.AtVec(i)
	}
	yp := make([]float64, len(p.rows))
	for r, ri := range act {
		v := sV.AtVec(n + r)
		if p.l[ri] != p.u[ri] && ((upper[r] && v < -1e-9) || (!upper[r] && v > 1e-9)) {
			return // wrong sign: the guessed constraint does not bind
		}
		yp[ri] = v
	}
	optMulA(p.rows, xp, ax)
	for i := range ax {
		if ax[i] < p.l[i]-1e-12*math.Max(1, math.Abs(p.l[i])) || ax[i] > p.u[i]+1e-12*math.Max(1, math.Abs(p.u[i])) {
			return
		}
	}
	sol.x, sol.y = xp, yp
}

// optFactor forms K = P + σI + Aᵀdiag(ρ)A and factorises it.
func optFactor(P []float64, rows []optRow, rho []float64, n int) (*mat.Cholesky, error) {
	k := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			k.SetSym(i, j, P[i*n+j])
		}
		k.SetSym(i, i, k.At(i, i)+optSigma)
	}
	for r, row := range rows {
		for a, ci := range row.idx {
			for b, cj := range row.idx {
				if cj < ci {
					continue
				}
				k.SetSym(ci, cj, k.At(ci, cj)+rho[r]*row.val[a]*row.val[b])
			}
		}
	}
	var c mat.Cholesky
	if !c.Factorize(k) {
		return nil, fmt.Errorf("factorise admm system of %d variables: %w", n, ErrSingular)
	}
	return &c, nil
}

func optMulA(rows []optRow, x, dst []float64) {
	for r, row := range rows {
		s := 0.0
		for t, c := range row.idx {
			s += row.val[t] * x[c]
		}
		dst[r] = s
	}
}

func optMulAT(rows []optRow, y, dst []float64) {
	for i := range dst {
		dst[i] = 0
	}
	for r, row := range rows {
		if y[r] == 0 {
			continue
		}
		for t, c := range row.idx {
			dst[c] += row.val[t] * y[r]
		}
	}
}

func optSymMul(P, x, dst []float64, n int) {
	for i := 0; i < n; i++ {
		s := 0.0
		for j := 0; j < n; j++ {
			s += P[i*n+j] * x[j]
		}
		dst[i] = s
	}
}

// optAddConstraints appends the rows of s over the variables [w, t] (t only
// with a turnover cap: tᵢ ≥ |wᵢ − w0ᵢ|), or, when homog, over [y, κ, t] with
// every right-hand side multiplied by κ = Σy (Cornuéjols & Tütüncü,
// Optimization Methods in Finance, §8.2: the max-Sharpe homogenisation). It
// returns the number of variables the rows use.
func optAddConstraints(p *optQP, s *optSpec, homog bool) int {
	n := s.n
	inf := math.Inf(1)
	nv, kap, t0 := n, -1, -1
	if homog {
		kap = n
		nv++
	}
	if s.hasTurnover {
		t0 = nv
		nv += n
	}
	one := []float64{1}
	for i := 0; i < n; i++ {
		if !homog {
			p.addRow([]int{i}, one, s.lo[i], s.hi[i])
			continue
		}
		p.addRow([]int{i}, one, 0, inf)
		if s.lo[i] > 0 {
			p.addRow([]int{i, kap}, []float64{1, -s.lo[i]}, 0, inf)
		}
		if s.hi[i] < 1 {
			p.addRow([]int{i, kap}, []float64{1, -s.hi[i]}, -inf, 0)
		}
	}
	all := make([]int, n)
	ones := make([]float64, n)
	for i := range all {
		all[i], ones[i] = i, 1
	}
	if homog {
		p.addRow(append(append([]int(nil), all...), kap), append(append([]float64(nil), ones...), -1), 0, 0)
		p.addRow([]int{kap}, one, 0, inf)
	} else {
		p.addRow(all, ones, 1, 1)
	}
	for g, c := range s.caps {
		var idx []int
		var val []float64
		for i, sg := range s.sector {
			if sg == g {
				idx, val = append(idx, i), append(val, 1)
			}
		}
		if len(idx) == 0 {
			continue
		}
		if homog {
			p.addRow(append(idx, kap), append(val, -c), -inf, 0)
		} else {
			p.addRow(idx, val, -inf, c)
		}
	}
	if s.hasTurnover {
		tIdx := make([]int, n)
		for i := 0; i < n; i++ {
			tIdx[i] = t0 + i
			if homog {
				p.addRow([]int{i, kap, t0 + i}, []float64{1, -s.w0[i], -1}, -inf, 0)
				p.addRow([]int{i, kap, t0 + i}, []float64{1, -s.w0[i], 1}, 0, inf)
			} else {
				p.addRow([]int{i, t0 + i}, []float64{1, -1}, -inf, s.w0[i])
				p.addRow([]int{i, t0 + i}, []float64{1, 1}, s.w0[i], inf)
			}
		}
		if homog {
			p.addRow(append(tIdx, kap), append(append([]float64(nil), ones...), -s.turnover), -inf, 0)
		} else {
			p.addRow(tIdx, append([]float64(nil), ones...), -inf, s.turnover)
		}
	}
	return nv
}
