package quant

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// optTestCov returns the covariance AᵀA/k + εI of a seeded random k×n matrix
// A: symmetric positive definite by construction. Test fixture, not data.
func optTestCov(seed uint64, n int) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 7))
	k := n + 5
	a := make([][]float64, k)
	for r := range a {
		a[r] = make([]float64, n)
		for j := range a[r] {
			a[r][j] = 0.1 * rng.NormFloat64()
		}
	}
	cov := make([][]float64, n)
	for i := range cov {
		cov[i] = make([]float64, n)
		for j := range cov[i] {
			for r := 0; r < k; r++ {
				cov[i][j] += a[r][i] * a[r][j] / float64(k)
			}
		}
		cov[i][i] += 1e-3
	}
	return cov
}

// optTestSolve returns Σ⁻¹b normalised to sum 1: the closed forms of the
// global minimum variance portfolio (b = 1) and the tangency portfolio
// (b = μ − rf), e.g. Cornuéjols & Tütüncü, Optimization Methods in Finance,
// §8.1, computed independently of the ADMM solver with an LU solve.
func optTestSolve(t *testing.T, cov [][]float64, b []float64) []float64 {
	t.Helper()
	n := len(cov)
	m := mat.NewDense(n, n, nil)
	for i := range cov {
		for j := range cov[i] {
			m.Set(i, j, cov[i][j])
		}
	}
	var x mat.VecDense
	if err := x.SolveVec(m, mat.NewVecDense(n, append([]float64(nil), b...))); err != nil {
		t.Fatalf("closed form solve: %v", err)
	}
	w := make([]float64, n)
	s := 0.0
	for i := range w {
		w[i] = x.AtVec(i)
		s += w[i]
	}
	for i := range w {
		w[i] /= s
	}
	return w
}

func optMaxDiff(a, b []float64) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

func TestMinVarianceTwoAssetClosedForm(t *testing.T) {
	t.Parallel()
	// w1 = (σ2² − σ12)/(σ1² + σ2² − 2σ12): the two-asset minimum variance
	// weight (e.g. Bodie, Kane & Marcus, Investments, ch. 7).
	cases := []struct {
		name       string
		s1, s2, rh float64
	}{
		{"uncorrelated", 0.2, 0.3, 0},
		{"positive", 0.15, 0.25, 0.4},
		{"negative", 0.1, 0.2, -0.5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c12 := tc.rh * tc.s1 * tc.s2
			cov := [][]float64{{tc.s1 * tc.s1, c12}, {c12, tc.s2 * tc.s2}}
			want := (tc.s2*tc.s2 - c12) / (tc.s1*tc.s1 + tc.s2*tc.s2 - 2*c12)
			r, err := MinVariance(cov, Constraints{})
			if err != nil {
				t.Fatalf("MinVariance(%v): %v", cov, err)
			}
			if math.Abs(r.Weights[0]-want) > 1e-8 || math.Abs(r.Weights[1]-(1-want)) > 1e-8 {
				t.Errorf("MinVariance(%v) = %v, want [%g %g]", cov, r.Weights, want, 1-want)
			}
		})
	}
}

func TestMinVarianceMatchesGlobalMinimumVariance(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2, 3, 4, 5} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			// A covariance with a strong common diagonal keeps Σ⁻¹1 positive,
			// so the long-only bounds do not bind.
			cov := optTestCov(seed, 8)
			for i := range cov {
				cov[i][i] += 0.02
			}
			ones := make([]float64, len(cov))
			for i := range ones {
				ones[i] = 1
			}
			want := optTestSolve(t, cov, ones)
			if slices.Min(want) <= 0 {
				t.Skipf("seed %d: closed form has a negative weight %v; bounds would bind", seed, want)
			}
			r, err := MinVariance(cov, Constraints{})
			if err != nil {
				t.Fatalf("MinVariance: %v", err)
			}
			if d := optMaxDiff(r.Weights, want); d > 1e-7 {
				t.Errorf("seed %d: got %v, want Σ⁻¹1/1ᵀΣ⁻¹1 = %v (max diff %g)", seed, r.Weights, want, d)
			}
			// At the GMV portfolio every asset's marginal risk is equal, so
			// risk contributions equal the weights.
			if d := optMaxDiff(r.RiskContributions, r.Weights); d > 1e-6 {
				t.Errorf("seed %d: risk contributions %v differ from weights %v", seed, r.RiskContributions, r.Weights)
			}
		})
	}
}

func TestMaxSharpeMatchesTangency(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{11, 12, 13, 14} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			cov := optTestCov(seed, 6)
			for i := range cov {
				cov[i][i] += 0.02
			}
			rng := rand.New(rand.NewPCG(seed, 99))
			rf := 0.03
			mu := make([]float64, len(cov))
			ex := make([]float64, len(cov))
			for i := range mu {
				mu[i] = rf + 0.04 + 0.04*rng.Float64()
				ex[i] = mu[i] - rf
			}
			want := optTestSolve(t, cov, ex)
			if slices.Min(want) <= 0 {
				t.Skipf("seed %d: tangency portfolio %v is not long-only", seed, want)
			}
			r, err := MaxSharpe(mu, cov, rf, Constraints{})
			if err != nil {
				t.Fatalf("MaxSharpe: %v", err)
			}
			if d := optMaxDiff(r.Weights, want); d > 1e-6 {
				t.Errorf("seed %d: got %v, want Σ⁻¹(μ−rf)/1ᵀΣ⁻¹(μ−rf) = %v (max diff %g)", seed, r.Weights, want, d)
			}
			ret, variance := 0.0, 0.0
			for i := range want {
				ret += want[i] * ex[i]
				for j := range want {
					variance += want[i] * cov[i][j] * want[j]
				}
			}
			if ws := ret / math.Sqrt(variance); math.Abs(r.Sharpe-ws) > 1e-9 {
				t.Errorf("seed %d: Sharpe %g, want the tangency Sharpe %g", seed, r.Sharpe, ws)
			}
		})
	}
}

func TestMaxSharpeNoPositiveExcess(t *testing.T) {
	t.Parallel()
	cov := [][]float64{{0.04, 0}, {0, 0.09}}
	_, err := MaxSharpe([]float64{0.01, 0.02}, cov, 0.03, Constraints{})
	if !errors.Is(err, ErrInfeasible) || !strings.Contains(err.Error(), "risk-free") {
		t.Errorf("MaxSharpe with μ < rf: err = %v, want ErrInfeasible naming the risk-free rate", err)
	}
}

func TestRiskParityDiagonalClosedForm(t *testing.T) {
	t.Parallel()
	// With a diagonal Σ, RCᵢ = wᵢ²σᵢ², so equal contributions give
	// wᵢ ∝ 1/σᵢ (Maillard, Roncalli & Teïletche 2010, §2.2).
	sig := []float64{0.1, 0.2, 0.4, 0.25}
	cov := make([][]float64, len(sig))
	want := make([]float64, len(sig))
	sum := 0.0
	for i, s := range sig {
		cov[i] = make([]float64, len(sig))
		cov[i][i] = s * s
		want[i] = 1 / s
		sum += want[i]
	}
	for i := range want {
		want[i] /= sum
	}
	r, err := RiskParity(cov, Constraints{})
	if err != nil {
		t.Fatalf("RiskParity(%v): %v", cov, err)
	}
	if d := optMaxDiff(r.Weights, want); d > 1e-10 {
		t.Errorf("RiskParity diagonal σ=%v: got %v, want %v", sig, r.Weights, want)
	}
	if r.Note != "" {
		t.Errorf("unconstrained risk parity has note %q, want none", r.Note)
	}
}

func TestRiskParityEqualContributions(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{21, 22, 23} {
		cov := optTestCov(seed, 10)
		r, err := RiskParity(cov, Constraints{})
		if err != nil {
			t.Fatalf("seed %d: RiskParity: %v", seed, err)
		}
		for i, rc := range r.RiskContributions {
			if math.Abs(rc-0.1) > 1e-9 {
				t.Errorf("seed %d: risk contribution %d = %g, want 0.1 (all %v)", seed, i, rc, r.RiskContributions)
			}
		}
	}
}

// optRPObjective is Σ(RCᵢ − 1/n)², computed directly for the tests.
func optRPObjective(cov [][]float64, w []float64) float64 {
	n := len(w)
	sw := make([]float64, n)
	v := 0.0
	for i := range w {
		for j := range w {
			sw[i] += cov[i][j] * w[j]
		}
		v += w[i] * sw[i]
	}
	f := 0.0
	for i := range w {
		d := w[i]*sw[i]/v - 1/float64(n)
		f += d * d
	}
	return f
}

func TestRiskParityImpossibleUnderConstraints(t *testing.T) {
	t.Parallel()
	// Diagonal σ = (0.1, 0.2, 0.4): ERC is (4, 2, 1)/7, so w₁ = 0.571 breaks
	// a 0.5 cap and equal contributions are impossible. The answer must be
	// at least as good as every point of a 0.001 grid of the feasible set
	// (brute force), and the note must say that parity was not reached.
	sig := []float64{0.1, 0.2, 0.4}
	cov := [][]float64{{0.01, 0, 0}, {0, 0.04, 0}, {0, 0, 0.16}}
	c := Constraints{DefaultMaxWeight: 0.5}
	r, err := RiskParity(cov, c)
	if err != nil {
		t.Fatalf("RiskParity(σ=%v, max 0.5): %v", sig, err)
	}
	if !strings.Contains(r.Note, "impossible") {
		t.Errorf("note %q does not say parity is impossible", r.Note)
	}
	if !slices.Contains(r.Binding, "max_weight[0]") {
		t.Errorf("binding %v, want max_weight[0]", r.Binding)
	}
	got := optRPObjective(cov, r.Weights)
	best, bestW := math.Inf(1), []float64(nil)
	const step = 0.001
	for a := 0; a <= 500; a++ {
		for b := 0; a+b <= 1000 && b <= 500; b++ {
			w := []float64{float64(a) * step, float64(b) * step, 1 - float64(a+b)*step}
			if w[2] > 0.5+1e-12 || w[2] < 0 {
				continue
			}
			if f := optRPObjective(cov, w); f < best {
				best, bestW = f, w
			}
		}
	}
	if got > best+1e-9 {
		t.Errorf("objective %g at %v worse than grid %g at %v", got, r.Weights, best, bestW)
	}
	if d := optMaxDiff(r.Weights, bestW); d > 2e-3 {
		t.Errorf("weights %v far from grid optimum %v", r.Weights, bestW)
	}
}

// optDirectCVaR averages the worst k = (1−α)T losses; the tests use T and α
// with (1−α)T a whole number, where that is CVaR's definition.
func optDirectCVaR(sc [][]float64, w []float64, k int) float64 {
	loss := make([]float64, len(sc))
	for t, r := range sc {
		for i, v := range r {
			loss[t] -= v * w[i]
		}
	}
	slices.Sort(loss)
	s := 0.0
	for _, l := range loss[len(loss)-k:] {
		s += l
	}
	return s / float64(k)
}

func optTestScenarios(seed uint64, T, n int) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 5))
	sc := make([][]float64, T)
	for t := range sc {
		sc[t] = make([]float64, n)
		f := 0.02 * rng.NormFloat64()
		for i := range sc[t] {
			sc[t][i] = 0.001*float64(i) + f*float64(i+1)/float64(n) + 0.02*rng.NormFloat64()
		}
	}
	return sc
}

func TestMinCVaRAgainstDirectAndGrid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		n    int
		c    Constraints
		seed uint64
	}{
		{"two assets", 2, Constraints{}, 31},
		{"three assets", 3, Constraints{}, 32},
		{"three assets capped", 3, Constraints{DefaultMaxWeight: 0.45}, 33},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sc := optTestScenarios(tc.seed, 40, tc.n) // α = 0.9: worst 4
			r, err := MinCVaR(sc, 0.9, tc.c)
			if err != nil {
				t.Fatalf("MinCVaR: %v", err)
			}
			direct := optDirectCVaR(sc, r.Weights, 4)
			if math.Abs(direct-r.CVaR) > 1e-12 {
				t.Errorf("reported CVaR %g, direct mean of worst 4 losses %g", r.CVaR, direct)
			}
			hi := 1.0
			if tc.c.DefaultMaxWeight > 0 {
				hi = tc.c.DefaultMaxWeight
			}
			best := math.Inf(1)
			const m = 400 // grid step 1/400
			for a := 0; a <= m; a++ {
				for b := 0; b <= m-a; b++ {
					if tc.n == 2 && b != m-a {
						continue
					}
					w := []float64{float64(a) / m, float64(b) / m}
					if tc.n == 3 {
						w = append(w, float64(m-a-b)/m)
					}
					if slices.Max(w) > hi+1e-12 {
						continue
					}
					best = math.Min(best, optDirectCVaR(sc, w, 4))
				}
			}
			if r.CVaR > best+1e-12 {
				t.Errorf("LP CVaR %g worse than grid minimum %g", r.CVaR, best)
			}
			if best-r.CVaR > 1e-3 {
				t.Errorf("grid minimum %g too far above LP CVaR %g for a 1/%d grid", best, r.CVaR, m)
			}
			sum := 0.0
			for _, v := range r.RiskContributions {
				sum += v
			}
			if math.Abs(sum-1) > 1e-9 {
				t.Errorf("CVaR contributions %v sum to %g, want 1", r.RiskContributions, sum)
			}
		})
	}
}
