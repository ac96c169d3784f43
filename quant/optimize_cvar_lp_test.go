package quant

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/convex/lp"
)

// TestBoundedLPTextbook solves Chvátal, Linear Programming (1983), ch. 2,
// first example: maximise 5x₁ + 4x₂ + 3x₃ s.t. 2x₁ + 3x₂ + x₃ ≤ 5,
// 4x₁ + x₂ + 2x₃ ≤ 11, 3x₁ + 4x₂ + 2x₃ ≤ 8, x ≥ 0; optimum 13 at (2, 0, 1).
// By hand: the dual point y = (1, 0, 1) is feasible (2+3 ≥ 5, 3+4 ≥ 4,
// 1+2 ≥ 3) with value 5 + 8 = 13, which certifies it.
func TestBoundedLPTextbook(t *testing.T) {
	t.Parallel()
	p := newBoundedLP(1000)
	for _, c := range []float64{-5, -4, -3} {
		p.addCol(c, 0, math.Inf(1))
	}
	p.addRow([]float64{2, 3, 1}, 5, false)
	p.addRow([]float64{4, 1, 2}, 11, false)
	p.addRow([]float64{3, 4, 2}, 8, false)
	if err := p.solve(); err != nil {
		t.Fatalf("solve: %v", err)
	}
	if got := -p.objective(); math.Abs(got-13) > 1e-12 {
		t.Errorf("optimum %g, want 13", got)
	}
	if d := optMaxDiff(p.x[:3], []float64{2, 0, 1}); d > 1e-12 {
		t.Errorf("solution %v, want [2 0 1]", p.x[:3])
	}
}

// boundedLPInstance is a seeded LP with boxes, equality and ≤ rows, feasible
// by construction (b is computed from a point inside the box). Fixture.
type boundedLPInstance struct {
	c, lo, hi []float64
	a         [][]float64
	b         []float64
	eq        []bool
}

func newBoundedLPInstance(seed uint64, m, n int) boundedLPInstance {
	rng := rand.New(rand.NewPCG(seed, 13))
	in := boundedLPInstance{c: make([]float64, n), lo: make([]float64, n), hi: make([]float64, n)}
	x0 := make([]float64, n)
	for j := 0; j < n; j++ {
		in.lo[j] = rng.Float64() - 0.5
		in.hi[j] = in.lo[j] + rng.Float64()
		in.c[j] = rng.NormFloat64()
		if j%5 == 4 { // unbounded above, with a cost that keeps the LP bounded
			in.hi[j] = math.Inf(1)
			in.c[j] = math.Abs(in.c[j])
		}
		x0[j] = in.lo[j] + rng.Float64()*math.Min(in.hi[j]-in.lo[j], 1)
	}
	for k := 0; k < m; k++ {
		row := make([]float64, n)
		v := 0.0
		for j := range row {
			if rng.IntN(3) > 0 {
				row[j] = rng.NormFloat64()
			}
			v += row[j] * x0[j]
		}
		eq := k%3 == 0
		if !eq {
			v += 0.3 * rng.Float64()
		}
		in.a, in.b, in.eq = append(in.a, row), append(in.b, v), append(in.eq, eq)
	}
	return in
}

// reference solves the instance with gonum's lp.Simplex in standard form:
// x = lo + x′, a slack per ≤ row and per finite upper bound.
func (in boundedLPInstance) reference(t *testing.T) float64 {
	t.Helper()
	n := len(in.c)
	var rows [][]float64
	var rhs []float64
	nslack := 0
	for k := range in.a {
		if !in.eq[k] {
			nslack++
		}
	}
	for j := 0; j < n; j++ {
		if !math.IsInf(in.hi[j], 1) {
			nslack++
		}
	}
	width := n + nslack
	s := n
	const0 := 0.0
	for j := 0; j < n; j++ {
		const0 += in.c[j] * in.lo[j]
	}
	for k, row := range in.a {
		r := make([]float64, width)
		v := in.b[k]
		for j, a := range row {
			r[j] = a
			v -= a * in.lo[j]
		}
		if !in.eq[k] {
			r[s] = 1
			s++
		}
		rows, rhs = append(rows, r), append(rhs, v)
	}
	for j := 0; j < n; j++ {
		if math.IsInf(in.hi[j], 1) {
			continue
		}
		r := make([]float64, width)
		r[j], r[s] = 1, 1
		s++
		rows, rhs = append(rows, r), append(rhs, in.hi[j]-in.lo[j])
	}
	A := mat.NewDense(len(rows), width, nil)
	for k, r := range rows {
		A.SetRow(k, r)
	}
	cost := make([]float64, width)
	copy(cost, in.c)
	opt, _, err := lp.Simplex(cost, A, rhs, 1e-12, nil)
	if err != nil {
		t.Fatalf("gonum simplex: %v", err)
	}
	return opt + const0
}

// TestBoundedLPAgainstGonum compares boundedLP with gonum's lp.Simplex on
// seeded LPs, solving each twice: with all rows at once, and with half the
// rows appended after a first solve (the warm start MinCVaR relies on); the
// first in strict mode, the second without.
func TestBoundedLPAgainstGonum(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 12; seed++ {
		in := newBoundedLPInstance(seed, 6+int(seed%4), 10+int(seed%5))
		want := in.reference(t)
		for _, split := range []int{len(in.a), len(in.a) / 2} {
			p := newBoundedLP(10000)
			p.strict = split == len(in.a)
			for j := range in.c {
				p.addCol(in.c[j], in.lo[j], in.hi[j])
			}
			for k := range in.a {
				if k == split {
					if err := p.solve(); err != nil {
						t.Fatalf("seed %d: first solve of %d rows: %v", seed, split, err)
					}
				}
				p.addRow(in.a[k], in.b[k], in.eq[k])
			}
			if err := p.solve(); err != nil {
				t.Fatalf("seed %d split %d: solve: %v", seed, split, err)
			}
			if got := p.objective(); math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
				t.Errorf("seed %d split %d: optimum %.12g, gonum %.12g", seed, split, got, want)
			}
			x := p.x[:len(in.c)]
			for j, v := range x {
				if v < in.lo[j]-1e-9 || v > in.hi[j]+1e-9 {
					t.Errorf("seed %d split %d: x[%d] = %g outside [%g, %g]", seed, split, j, v, in.lo[j], in.hi[j])
				}
			}
			for k, row := range in.a {
				v := 0.0
				for j, a := range row {
					v += a * x[j]
				}
				if (in.eq[k] && math.Abs(v-in.b[k]) > 1e-9) || (!in.eq[k] && v > in.b[k]+1e-9) {
					t.Errorf("seed %d split %d: row %d gives %g against %g (equality %v)", seed, split, k, v, in.b[k], in.eq[k])
				}
			}
		}
	}
}

// TestBoundedLPInfeasible: x₁ + x₂ = 1 and x₁ + x₂ ≥ 1.5 (written −x₁ − x₂ ≤
// −1.5) cannot both hold.
func TestBoundedLPInfeasible(t *testing.T) {
	t.Parallel()
	p := newBoundedLP(100)
	p.addCol(1, 0, 1)
	p.addCol(1, 0, 1)
	p.addRow([]float64{1, 1}, 1, true)
	p.addRow([]float64{-1, -1}, -1.5, false)
	if err := p.solve(); !errors.Is(err, errLPInfeasible) {
		t.Errorf("solve: err %v, want errLPInfeasible", err)
	}
}
