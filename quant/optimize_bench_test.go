package quant

import "testing"

// optBenchProblem: 50 assets, max weight 0.05, five capped sectors and a
// turnover cap from equal weights; seeded fixture.
func optBenchProblem() (mu []float64, cov [][]float64, c Constraints) {
	const n = 50
	cov = optTestCov(42, n)
	mu = make([]float64, n)
	c = Constraints{DefaultMaxWeight: 0.05, Sector: make([]int, n), SectorCaps: []float64{0.25, 0.25, 0.25, 0.25, 0.25},
		CurrentWeights: make([]float64, n), TurnoverCap: 0.5}
	for i := range mu {
		mu[i] = 0.04 + 0.002*float64(i%17)
		c.Sector[i] = i % 5
		c.CurrentWeights[i] = 1.0 / n
	}
	return mu, cov, c
}

func BenchmarkMinVariance50(b *testing.B) {
	_, cov, c := optBenchProblem()
	for b.Loop() {
		if _, err := MinVariance(cov, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMaxSharpe50(b *testing.B) {
	mu, cov, c := optBenchProblem()
	for b.Loop() {
		if _, err := MaxSharpe(mu, cov, 0.02, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRiskParity50(b *testing.B) {
	_, cov, c := optBenchProblem()
	for b.Loop() {
		if _, err := RiskParity(cov, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMinCVaR50(b *testing.B) {
	_, _, c := optBenchProblem()
	sc := optTestScenarios(42, 500, 50)
	for b.Loop() {
		if _, err := MinCVaR(sc, 0.95, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRiskParity50Constrained caps every weight at 0.025, below some
// equal-contribution weights, so the successive convex steps run.
func BenchmarkRiskParity50Constrained(b *testing.B) {
	_, cov, c := optBenchProblem()
	c.DefaultMaxWeight = 0.025
	r, err := RiskParity(cov, c)
	if err != nil || r.Note == "" {
		b.Fatalf("constrained risk parity: note %q, err %v", r.Note, err)
	}
	for b.Loop() {
		if _, err := RiskParity(cov, c); err != nil {
			b.Fatal(err)
		}
	}
}
