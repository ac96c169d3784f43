package quant

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// optTestProblem is a seeded random constrained problem: 12 assets, bounds,
// three capped sectors, a turnover cap from equal current weights. Fixture,
// not data.
func optTestProblem(seed uint64) (mu []float64, cov, sc [][]float64, c Constraints) {
	const n = 12
	rng := rand.New(rand.NewPCG(seed, 3))
	cov = optTestCov(seed, n)
	mu = make([]float64, n)
	for i := range mu {
		mu[i] = 0.02 + 0.1*rng.Float64()
	}
	sc = optTestScenarios(seed, 60, n)
	c = Constraints{
		MinWeight:      make([]float64, n),
		MaxWeight:      make([]float64, n),
		Sector:         make([]int, n),
		SectorCaps:     []float64{0.4, 0.35, 0.5},
		SectorNames:    []string{"tech", "energy", "health"},
		CurrentWeights: make([]float64, n),
		TurnoverCap:    0.4 + 0.4*rng.Float64(),
	}
	for i := 0; i < n; i++ {
		c.MinWeight[i] = 0.02 * float64(rng.IntN(2))
		c.MaxWeight[i] = 0.15 + 0.1*rng.Float64()
		c.Sector[i] = i % 4 % 3
		if i%4 == 3 {
			c.Sector[i] = -1
		}
		c.CurrentWeights[i] = 1.0 / n
	}
	return mu, cov, sc, c
}

func TestOptimisersRespectConstraints(t *testing.T) {
	t.Parallel()
	methods := []struct {
		name string
		run  func(mu []float64, cov, sc [][]float64, c Constraints) (OptimizationResult, error)
	}{
		{"min_variance", func(_ []float64, cov, _ [][]float64, c Constraints) (OptimizationResult, error) {
			return MinVariance(cov, c)
		}},
		{"max_sharpe", func(mu []float64, cov, _ [][]float64, c Constraints) (OptimizationResult, error) {
			return MaxSharpe(mu, cov, 0.03, c)
		}},
		{"risk_parity", func(_ []float64, cov, _ [][]float64, c Constraints) (OptimizationResult, error) {
			return RiskParity(cov, c)
		}},
		{"min_cvar", func(_ []float64, _, sc [][]float64, c Constraints) (OptimizationResult, error) {
			return MinCVaR(sc, 0.95, c)
		}},
	}
	for _, m := range methods {
		for seed := uint64(1); seed <= 6; seed++ {
			t.Run(fmt.Sprintf("%s/%d", m.name, seed), func(t *testing.T) {
				t.Parallel()
				mu, cov, sc, c := optTestProblem(seed)
				r, err := m.run(mu, cov, sc, c)
				if err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
				optAssertFeasible(t, r, c)
			})
		}
	}
}

// optAssertFeasible re-checks r against c without the package's checker and
// verifies the binding list both ways.
func optAssertFeasible(t *testing.T, r OptimizationResult, c Constraints) {
	t.Helper()
	const tol = 1e-6
	w := r.Weights
	sum := 0.0
	var atBound []string
	for i, v := range w {
		sum += v
		if v < c.MinWeight[i]-tol || v > c.MaxWeight[i]+tol || v < -tol {
			t.Errorf("weight %d = %g outside [%g, %g]", i, v, c.MinWeight[i], c.MaxWeight[i])
		}
		if math.Abs(v-c.MinWeight[i]) < 1e-9 {
			atBound = append(atBound, fmt.Sprintf("min_weight[%d]", i))
		}
		if math.Abs(v-c.MaxWeight[i]) < 1e-9 {
			atBound = append(atBound, fmt.Sprintf("max_weight[%d]", i))
		}
	}
	if math.Abs(sum-1) > tol {
		t.Errorf("weights sum to %.12g, want 1: %v", sum, w)
	}
	sec := make([]float64, len(c.SectorCaps))
	for i, g := range c.Sector {
		if g >= 0 {
			sec[g] += w[i]
		}
	}
	for g, cp := range c.SectorCaps {
		if sec[g] > cp+tol {
			t.Errorf("sector %s weight %g above cap %g", c.SectorNames[g], sec[g], cp)
		}
		if math.Abs(sec[g]-cp) < 1e-9 {
			atBound = append(atBound, "sector_cap["+c.SectorNames[g]+"]")
		}
	}
	to := 0.0
	for i, v := range w {
		to += math.Abs(v - c.CurrentWeights[i])
	}
	if to > c.TurnoverCap+tol {
		t.Errorf("turnover %g above cap %g", to, c.TurnoverCap)
	}
	if math.Abs(to-c.TurnoverCap) < 1e-9 {
		atBound = append(atBound, "turnover")
	}
	if !r.AllConstraintsMet || len(r.Violations) > 0 {
		t.Errorf("AllConstraintsMet = %v, violations %v", r.AllConstraintsMet, r.Violations)
	}
	for _, b := range atBound {
		if !slices.Contains(r.Binding, b) {
			t.Errorf("constraint %s holds with equality but is not in binding %v (weights %v)", b, r.Binding, w)
		}
	}
	for _, b := range r.Binding {
		var gap float64
		var i int
		var name string
		switch {
		case b == "turnover":
			gap = c.TurnoverCap - to
		case b[:4] == "min_":
			fmt.Sscanf(b, "min_weight[%d]", &i)
			gap = w[i] - c.MinWeight[i]
		case b[:4] == "max_":
			fmt.Sscanf(b, "max_weight[%d]", &i)
			gap = c.MaxWeight[i] - w[i]
		default:
			name = b[len("sector_cap[") : len(b)-1]
			g := slices.Index(c.SectorNames, name)
			if g < 0 {
				t.Fatalf("binding %q names no sector", b)
			}
			gap = c.SectorCaps[g] - sec[g]
		}
		if math.Abs(gap) > tol {
			t.Errorf("binding %s has slack %g", b, gap)
		}
	}
}

func TestOptimisersRejectInfeasible(t *testing.T) {
	t.Parallel()
	cov := [][]float64{{0.04, 0.01, 0, 0}, {0.01, 0.09, 0, 0}, {0, 0, 0.05, 0.02}, {0, 0, 0.02, 0.06}}
	mu := []float64{0.08, 0.1, 0.07, 0.09}
	sc := optTestScenarios(77, 30, 4)
	cases := []struct {
		name string
		c    Constraints
	}{
		{"min weights above 1", Constraints{DefaultMinWeight: 0.3}},
		{"max weights below 1", Constraints{DefaultMaxWeight: 0.2}},
		{"min above max", Constraints{MinWeight: []float64{0.5, 0, 0, 0}, MaxWeight: []float64{0.4, 1, 1, 1}}},
		{"sector cap below its minimums", Constraints{DefaultMinWeight: 0.2, Sector: []int{0, 0, 1, 1}, SectorCaps: []float64{0.3, 1}}},
		{"sector caps below 1", Constraints{Sector: []int{0, 0, 1, 1}, SectorCaps: []float64{0.4, 0.4}}},
		{"turnover below bound gap", Constraints{DefaultMaxWeight: 0.4, CurrentWeights: []float64{1, 0, 0, 0}, TurnoverCap: 0.5}},
		// Needs the solver: 0.4 must leave sector 0, costing turnover 0.8.
		{"turnover against sector cap", Constraints{Sector: []int{0, 0, 1, 1}, SectorCaps: []float64{0.6, 1}, CurrentWeights: []float64{0.5, 0.5, 0, 0}, TurnoverCap: 0.6}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runs := map[string]func() (OptimizationResult, error){
				"min_variance": func() (OptimizationResult, error) { return MinVariance(cov, tc.c) },
				"max_sharpe":   func() (OptimizationResult, error) { return MaxSharpe(mu, cov, 0.02, tc.c) },
				"risk_parity":  func() (OptimizationResult, error) { return RiskParity(cov, tc.c) },
				"min_cvar":     func() (OptimizationResult, error) { return MinCVaR(sc, 0.9, tc.c) },
			}
			for name, run := range runs {
				if _, err := run(); !errors.Is(err, ErrInfeasible) {
					t.Errorf("%s with %+v: err %v, want ErrInfeasible", name, tc.c, err)
				}
			}
		})
	}
}
