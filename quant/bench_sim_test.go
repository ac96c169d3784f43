package quant

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// BenchmarkMonteCarloDaR measures the default DaR run: 10,000 draws of 7
// factors for 50 positions. The inputs are synthetic benchmark fixtures
// (seeded), not market data.
func BenchmarkMonteCarloDaR(b *testing.B) {
	const nPos, nFac = 50, 7
	rng := rand.New(rand.NewPCG(5, 6))
	betas := mat.NewDense(nPos, nFac, nil)
	weights := make([]float64, nPos)
	for i := range nPos {
		weights[i] = 1.0 / nPos
		for f := range nFac {
			betas.Set(i, f, rng.NormFloat64())
		}
	}
	// Σ = AAᵀ/nFac·1e-4 + 1e-5·I is positive definite by construction.
	a := mat.NewDense(nFac, nFac, nil)
	for i := range nFac {
		for j := range nFac {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	cov := mat.NewSymDense(nFac, nil)
	cov.SymOuterK(1e-4/nFac, a)
	for i := range nFac {
		cov.SetSym(i, i, cov.At(i, i)+1e-5)
	}
	in := MonteCarloDaRInput{
		Weights: weights, Betas: betas, FactorCov: cov,
		HorizonDays: 20, Confidence: 0.95, Draws: 10000, Seed: 1, PortfolioValue: 1e6,
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := MonteCarloDaR(in); err != nil {
			b.Fatal(err)
		}
	}
}
