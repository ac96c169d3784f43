package quant

import (
	"errors"
	"fmt"
	"math"
)

// errLPInfeasible reports that phase 1 of boundedLP left a positive
// artificial sum: the rows and bounds admit no point.
var errLPInfeasible = errors.New("linear program infeasible")

// Tolerances of boundedLP. The master problems of MinCVaR have weights in
// [0, 1], ζ within the range of scenario losses and row coefficients of
// order one, so absolute tolerances are meaningful.
const (
	lpFeasTol  = 1e-9  // phase-1 sum of artificials treated as zero
	lpOptTol   = 1e-11 // reduced cost treated as zero
	lpPivotTol = 1e-9  // smallest |pivot| accepted in the ratio test
	lpRefactor = 50    // pivots between refactorisations of the basis inverse
	lpBlandAt  = 30    // consecutive degenerate pivots before Bland's rule
)

// boundedLP is a dense revised primal simplex for
//
//	minimise cᵀx  s.t.  Ax = b,  l ≤ x ≤ u  (l finite, u may be +Inf),
//
// with bounds handled implicitly (Dantzig, Linear Programming and
// Extensions, 1963, ch. 18; Chvátal, Linear Programming, 1983, ch. 8) so
// that a box costs no row, and with rows that can be appended to a solved
// problem. An appended row keeps the old basis: its own slack or an
// artificial variable becomes basic, and phase 1 from that basis removes the
// artificial. This is what makes the cutting-plane master problems of
// MinCVaR cheap to re-solve. The basis inverse is kept explicitly (m is at
// most a few hundred) and rebuilt from the columns every lpRefactor pivots
// and, in strict mode, before optimality is declared; cycling is prevented
// by switching to Bland's smallest-index rule after lpBlandAt degenerate
// pivots.
type boundedLP struct {
	m       int
	cols    [][]float64 // cols[j][k] is A[k][j]
	cost    []float64
	lo, hi  []float64
	art     []bool // artificial: driven to 0 in phase 1, then fixed at 0
	b       []float64
	basis   []int     // basis[k] is the column basic in row k
	pos     []int     // pos[j] is j's row in the basis, or -1
	x       []float64 // current value of every column
	binv    [][]float64
	since   int // pivots since the last refactorisation
	pivots  int // pivots in total
	maxPivs int
	// strict makes run confirm optimality with a freshly factorised basis;
	// without it run trusts the updated inverse (between refactorisations).
	strict bool
}

func newBoundedLP(maxPivots int) *boundedLP {
	return &boundedLP{maxPivs: maxPivots}
}

// addCol adds a nonbasic column at its lower bound with no entries in the
// existing rows (a column's entries come with addRow) and returns its index.
func (p *boundedLP) addCol(cost, lo, hi float64) int {
	p.cols = append(p.cols, make([]float64, p.m))
	p.cost = append(p.cost, cost)
	p.lo = append(p.lo, lo)
	p.hi = append(p.hi, hi)
	p.art = append(p.art, false)
	p.pos = append(p.pos, -1)
	p.x = append(p.x, lo)
	return len(p.cols) - 1
}

// addRow appends the row coef·x (≤ or =) rhs, coef indexed by the columns
// that exist now (missing entries are 0). A ≤ row gets a slack column. The
// new row's basic variable is the slack if the current point satisfies the
// row, otherwise an artificial with value equal to the violation.
func (p *boundedLP) addRow(coef []float64, rhs float64, equality bool) {
	ncol := len(p.cols)
	resid := rhs
	for j := 0; j < ncol; j++ {
		a := 0.0
		if j < len(coef) {
			a = coef[j]
		}
		p.cols[j] = append(p.cols[j], a)
		resid -= a * p.x[j]
	}
	p.m++
	p.b = append(p.b, rhs)
	var basic int
	var sigma float64
	if !equality {
		sl := p.addCol(0, 0, math.Inf(1))
		p.cols[sl][p.m-1] = 1
		if resid >= 0 {
			basic, sigma = sl, 1
			p.x[sl] = resid
		}
	}
	if equality || resid < 0 {
		sigma = 1
		if resid < 0 {
			sigma = -1
		}
		basic = p.addCol(0, 0, math.Inf(1))
		p.art[basic] = true
		p.cols[basic][p.m-1] = sigma
		p.x[basic] = math.Abs(resid)
	}
	// B' = [[B, 0], [a_B, σ]] so B'⁻¹ = [[B⁻¹, 0], [−a_B B⁻¹/σ, 1/σ]].
	last := make([]float64, p.m)
	for k, j := range p.basis {
		a := p.cols[j][p.m-1]
		if a == 0 {
			continue
		}
		for l, v := range p.binv[k] {
			last[l] -= a * v / sigma
		}
	}
	last[p.m-1] = 1 / sigma
	for k := range p.binv {
		p.binv[k] = append(p.binv[k], 0)
	}
	p.binv = append(p.binv, last)
	p.basis = append(p.basis, basic)
	p.pos[basic] = p.m - 1
}

// objective returns cᵀx for the phase-2 costs.
func (p *boundedLP) objective() float64 {
	z := 0.0
	for j, c := range p.cost {
		z += c * p.x[j]
	}
	return z
}

// solve runs phase 1 if an artificial variable is still live, then phase 2,
// and returns errLPInfeasible if the rows cannot be met.
func (p *boundedLP) solve() error {
	live := false
	for j, a := range p.art {
		if a && p.hi[j] > 0 {
			live = true
			break
		}
	}
	if live {
		c1 := make([]float64, len(p.cols))
		for j, a := range p.art {
			if a && p.hi[j] > 0 {
				c1[j] = 1
			}
		}
		if err := p.run(c1); err != nil {
			return fmt.Errorf("phase 1: %w", err)
		}
		sum := 0.0
		for j, a := range p.art {
			if a {
				sum += p.x[j]
			}
		}
		if sum > lpFeasTol {
			return fmt.Errorf("phase 1 ends with artificial sum %g: %w", sum, errLPInfeasible)
		}
		for j, a := range p.art {
			if a {
				p.hi[j] = 0
				if p.pos[j] < 0 {
					p.x[j] = 0
				}
			}
		}
	}
	if err := p.run(p.cost); err != nil {
		return fmt.Errorf("phase 2: %w", err)
	}
	return nil
}

// run pivots with costs c until no reduced cost improves the objective,
// confirming optimality with a freshly factorised basis when p.strict.
func (p *boundedLP) run(c []float64) error {
	m := p.m
	y := make([]float64, m)
	alpha := make([]float64, m)
	degenerate := 0
	for {
		if p.since >= lpRefactor {
			if err := p.refactor(); err != nil {
				return err
			}
		}
		for l := range y {
			y[l] = 0
		}
		for k, j := range p.basis {
			if cb := c[j]; cb != 0 {
				for l, v := range p.binv[k] {
					y[l] += cb * v
				}
			}
		}
		bland := degenerate >= lpBlandAt
		enter, dir, best := -1, 0.0, 0.0
		for j, col := range p.cols {
			if p.pos[j] >= 0 || p.hi[j] <= p.lo[j] {
				continue
			}
			d := c[j]
			for l, v := range col {
				d -= y[l] * v
			}
			var s float64
			switch {
			case p.x[j] <= p.lo[j] && d < -lpOptTol:
				s = 1
			case p.x[j] >= p.hi[j] && d > lpOptTol:
				s = -1
			default:
				continue
			}
			if bland {
				enter, dir = j, s
				break
			}
			if math.Abs(d) > best {
				enter, dir, best = j, s, math.Abs(d)
			}
		}
		if enter < 0 {
			if p.since == 0 || !p.strict {
				return nil
			}
			// Confirm with a fresh inverse before declaring optimality.
			if err := p.refactor(); err != nil {
				return err
			}
			continue
		}
		if p.pivots >= p.maxPivs {
			return fmt.Errorf("%d pivots without optimality: %w", p.pivots, ErrNoConvergence)
		}
		col := p.cols[enter]
		for k := range alpha {
			alpha[k] = 0
			for l, v := range p.binv[k] {
				alpha[k] += v * col[l]
			}
		}
		// x_enter moves by dir·t; basic k moves by −dir·t·alpha[k].
		step := p.hi[enter] - p.lo[enter]
		leave, leaveRow, leaveUp := -1, -1, false
		for k, j := range p.basis {
			rate := -dir * alpha[k]
			var lim float64
			var up bool
			switch {
			case rate < -lpPivotTol:
				lim = math.Max(0, p.x[j]-p.lo[j]) / -rate
			case rate > lpPivotTol && !math.IsInf(p.hi[j], 1):
				lim, up = math.Max(0, p.hi[j]-p.x[j])/rate, true
			default:
				continue
			}
			var better bool
			switch {
			case lim < step-1e-15:
				better = true
			case lim > step+1e-15 || leave < 0:
				// Longer, or tied with the entering variable's own bound
				// flip, which needs no basis change.
			case bland:
				better = j < leave
			default: // tie: the larger pivot is the more stable one
				better = math.Abs(alpha[k]) > math.Abs(alpha[leaveRow])
			}
			if better {
				step, leave, leaveRow, leaveUp = lim, j, k, up
			}
		}
		if math.IsInf(step, 1) {
			return fmt.Errorf("column %d improves without bound: %w", enter, ErrNoConvergence)
		}
		if step > 0 {
			degenerate = 0
		} else {
			degenerate++
		}
		p.pivots++
		for k, j := range p.basis {
			p.x[j] -= dir * step * alpha[k]
		}
		p.x[enter] += dir * step
		if leave < 0 { // the entering variable reaches its other bound
			if dir > 0 {
				p.x[enter] = p.hi[enter]
			} else {
				p.x[enter] = p.lo[enter]
			}
			continue
		}
		r := leaveRow
		if leaveUp {
			p.x[leave] = p.hi[leave]
		} else {
			p.x[leave] = p.lo[leave]
		}
		piv := alpha[r]
		rowR := p.binv[r]
		for l := range rowR {
			rowR[l] /= piv
		}
		for k := range p.binv {
			if k == r || alpha[k] == 0 {
				continue
			}
			f := alpha[k]
			rowK := p.binv[k]
			for l, v := range rowR {
				rowK[l] -= f * v
			}
		}
		p.basis[r] = enter
		p.pos[enter], p.pos[leave] = r, -1
		p.since++
	}
}

// refactor rebuilds the basis inverse by Gauss–Jordan elimination with
// partial pivoting and recomputes the basic values from the nonbasic ones,
// discarding the rounding that the product-form updates accumulate.
func (p *boundedLP) refactor() error {
	m := p.m
	a := make([][]float64, m)
	for k := range a {
		a[k] = make([]float64, 2*m)
		for r, j := range p.basis {
			a[k][r] = p.cols[j][k]
		}
		a[k][m+k] = 1
	}
	for c := 0; c < m; c++ {
		piv := c
		for k := c + 1; k < m; k++ {
			if math.Abs(a[k][c]) > math.Abs(a[piv][c]) {
				piv = k
			}
		}
		if math.Abs(a[piv][c]) < 1e-12 {
			return fmt.Errorf("refactorise basis of %d rows: singular at column %d: %w", m, c, ErrNoConvergence)
		}
		a[c], a[piv] = a[piv], a[c]
		inv := 1 / a[c][c]
		for l := range a[c] {
			a[c][l] *= inv
		}
		for k := 0; k < m; k++ {
			if k == c || a[k][c] == 0 {
				continue
			}
			f := a[k][c]
			for l := c; l < 2*m; l++ {
				a[k][l] -= f * a[c][l]
			}
		}
	}
	for k := range a {
		p.binv[k] = append(p.binv[k][:0], a[k][m:]...)
	}
	rhs := append([]float64(nil), p.b...)
	for j, col := range p.cols {
		if p.pos[j] >= 0 || p.x[j] == 0 {
			continue
		}
		for l, v := range col {
			rhs[l] -= v * p.x[j]
		}
	}
	for k, j := range p.basis {
		v := 0.0
		for l, bi := range p.binv[k] {
			v += bi * rhs[l]
		}
		p.x[j] = v
	}
	p.since = 0
	return nil
}
