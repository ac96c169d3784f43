package quant

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// cvarTestProblem is a seeded 8-asset problem with per-asset bounds, two
// capped sectors and a turnover cap from uneven current weights, tuned so
// that each kind of constraint binds at the minimum-CVaR portfolio. With
// round > 0 the returns are rounded to multiples of it, which makes ties
// among scenario losses (degenerate LPs). Fixture, not data.
func cvarTestProblem(seed uint64, T int, round float64) ([][]float64, Constraints) {
	const n = 8
	rng := rand.New(rand.NewPCG(seed, 11))
	sc := optTestScenarios(seed, T, n)
	if round > 0 {
		for _, row := range sc {
			for i, v := range row {
				row[i] = round * math.Round(v/round)
			}
		}
	}
	c := Constraints{
		MinWeight:      make([]float64, n),
		MaxWeight:      make([]float64, n),
		Sector:         []int{0, 0, 0, 1, 1, 1, -1, -1},
		SectorCaps:     []float64{0.3 + 0.1*rng.Float64(), 0.3 + 0.1*rng.Float64()},
		SectorNames:    []string{"a", "b"},
		CurrentWeights: make([]float64, n),
		TurnoverCap:    0.3 + 0.2*rng.Float64(),
	}
	for i := 0; i < n; i++ {
		c.MinWeight[i] = 0.06 * float64(rng.IntN(2))
		c.MaxWeight[i] = 0.16 + 0.14*rng.Float64()
		c.CurrentWeights[i] = float64(i+1) / 36 // sums to 1
	}
	return sc, c
}

// TestMinCVaRAgreesWithFullLP compares the cutting-plane solver with the full
// Rockafellar–Uryasev LP solved by gonum's simplex (minCVaRFullLP, the former
// implementation) on seeded problems where bounds, sector caps and turnover
// all bind; the two must agree on the minimum CVaR within 1e-8.
func TestMinCVaRAgreesWithFullLP(t *testing.T) {
	t.Parallel()
	cases := []struct {
		seed  uint64
		T     int
		alpha float64
		round float64
	}{
		{1, 60, 0.95, 0}, // (1−α)T = 3
		{2, 60, 0.9, 0},
		{3, 60, 0.93, 0}, // (1−α)T = 4.2: a fractional atom at VaR
		{4, 60, 0.8, 0},
		{5, 60, 0.95, 0.005}, // rounded returns: tied losses
		{6, 61, 0.9, 0.01},
		{7, 60, 0.97, 0},
		{8, 60, 0.85, 0.005},
	}
	allBind := 0
	for _, tc := range cases {
		sc, c := cvarTestProblem(tc.seed, tc.T, tc.round)
		got, err := MinCVaR(sc, tc.alpha, c)
		if err != nil {
			t.Fatalf("seed %d: MinCVaR: %v", tc.seed, err)
		}
		want, err := minCVaRFullLP(sc, tc.alpha, c)
		if err != nil {
			t.Fatalf("seed %d: full LP: %v", tc.seed, err)
		}
		if d := math.Abs(got.CVaR - want.CVaR); d > 1e-8 {
			t.Errorf("seed %d α %g: CVaR %.15g (cuts, %d LPs), full LP %.15g, diff %g; weights %v vs %v",
				tc.seed, tc.alpha, got.CVaR, got.Iterations, want.CVaR, d, got.Weights, want.Weights)
		}
		optAssertFeasible(t, got, c)
		kinds := map[string]bool{}
		for _, b := range got.Binding {
			kinds[strings.SplitN(b, "[", 2)[0]] = true
		}
		if len(kinds) == 4 {
			allBind++
		}
		t.Logf("seed %d α %g: CVaR %.12g (full LP %+.1e), %d master LPs, binding %v",
			tc.seed, tc.alpha, got.CVaR, want.CVaR-got.CVaR, got.Iterations, got.Binding)
	}
	// The fixture is meant to make bounds, sector caps and turnover bind
	// together; if it stops doing so the comparison loses its point.
	if allBind < 4 {
		t.Errorf("only %d of %d cases bind min_weight, max_weight, sector_cap and turnover together, want ≥ 4", allBind, len(cases))
	}
}

// BenchmarkMinCVaR50x1000 is BenchmarkMinCVaR50 with twice the scenarios.
func BenchmarkMinCVaR50x1000(b *testing.B) {
	_, _, c := optBenchProblem()
	sc := optTestScenarios(42, 1000, 50)
	for b.Loop() {
		if _, err := MinCVaR(sc, 0.95, c); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMinCVaREdgeCasesAgreeWithFullLP covers degenerate inputs where the
// cutting-plane masters are most degenerate: one asset, identical scenarios
// (every loss tied), a tail thinner than one scenario ((1−α)T < 1, so CVaR is
// the worst loss) and all-zero returns.
func TestMinCVaREdgeCasesAgreeWithFullLP(t *testing.T) {
	t.Parallel()
	same := make([][]float64, 20)
	for t := range same {
		same[t] = []float64{0.01, -0.02, 0.03, 0.005}
	}
	zeros := make([][]float64, 10)
	for t := range zeros {
		zeros[t] = make([]float64, 3)
	}
	cases := []struct {
		name  string
		sc    [][]float64
		alpha float64
		c     Constraints
	}{
		{"one asset", optTestScenarios(21, 30, 1), 0.9, Constraints{}},
		{"identical scenarios", same, 0.95, Constraints{DefaultMaxWeight: 0.6}},
		{"tail below one scenario", optTestScenarios(22, 40, 5), 0.99, Constraints{DefaultMaxWeight: 0.5}},
		{"two scenarios", optTestScenarios(23, 2, 4), 0.5, Constraints{}},
		{"zero returns", zeros, 0.9, Constraints{CurrentWeights: []float64{0.2, 0.3, 0.5}, TurnoverCap: 0.1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := MinCVaR(tc.sc, tc.alpha, tc.c)
			if err != nil {
				t.Fatalf("MinCVaR: %v", err)
			}
			want, err := minCVaRFullLP(tc.sc, tc.alpha, tc.c)
			if err != nil {
				t.Fatalf("full LP: %v", err)
			}
			if d := math.Abs(got.CVaR - want.CVaR); d > 1e-8 {
				t.Errorf("CVaR %.15g (weights %v), full LP %.15g (weights %v), diff %g", got.CVaR, got.Weights, want.CVaR, want.Weights, d)
			}
		})
	}
}
