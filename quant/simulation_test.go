package quant

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestMultivariateNormalMoments draws 50,000 vectors from a known
// 3-factor covariance and checks sample mean and covariance. The standard
// error of a sample variance σ² is σ²·√(2/n) ≈ 0.0063σ², of a covariance
// about √((σ_a²σ_b² + σ_ab²)/n); tolerances are ≥ 4 such errors.
func TestMultivariateNormalMoments(t *testing.T) {
	t.Parallel()
	cov := mat.NewSymDense(3, []float64{
		4, 1.2, -0.8,
		1.2, 1, 0.3,
		-0.8, 0.3, 2.25,
	})
	mean := []float64{0.5, -1, 0}
	mvn, err := NewMultivariateNormal(mean, cov)
	if err != nil {
		t.Fatalf("NewMultivariateNormal: %v", err)
	}
	const n = 50000
	draws, err := mvn.DrawN(rand.New(rand.NewPCG(3, 4)), n)
	if err != nil {
		t.Fatalf("DrawN: %v", err)
	}
	cols := make([][]float64, 3)
	for j := range cols {
		cols[j] = mat.Col(nil, j, draws)
		m, _ := Mean(cols[j])
		se := math.Sqrt(cov.At(j, j) / n)
		if math.Abs(m-mean[j]) > 4*se {
			t.Errorf("mean[%d] = %g, want %g ± %g", j, m, mean[j], 4*se)
		}
	}
	got, err := CovarianceMatrix(cols)
	if err != nil {
		t.Fatalf("CovarianceMatrix: %v", err)
	}
	for a := range 3 {
		for b := range 3 {
			want := cov.At(a, b)
			se := math.Sqrt((cov.At(a, a)*cov.At(b, b) + want*want) / n)
			if math.Abs(got.At(a, b)-want) > 4.5*se {
				t.Errorf("cov[%d][%d] = %g, want %g ± %g", a, b, got.At(a, b), want, 4.5*se)
			}
		}
	}
}

func TestMultivariateNormalDeterministic(t *testing.T) {
	t.Parallel()
	cov := mat.NewSymDense(2, []float64{1, 0.5, 0.5, 2})
	mvn, err := NewMultivariateNormal(nil, cov)
	if err != nil {
		t.Fatalf("NewMultivariateNormal: %v", err)
	}
	a, _ := mvn.DrawN(rand.New(rand.NewPCG(9, 9)), 100)
	b, _ := mvn.DrawN(rand.New(rand.NewPCG(9, 9)), 100)
	c, _ := mvn.DrawN(rand.New(rand.NewPCG(10, 9)), 100)
	if !mat.Equal(a, b) {
		t.Error("same seed gave different draws")
	}
	if mat.Equal(a, c) {
		t.Error("different seeds gave identical draws")
	}
}

func TestMultivariateNormalErrors(t *testing.T) {
	t.Parallel()
	good := mat.NewSymDense(2, []float64{1, 0, 0, 1})
	cases := []struct {
		name string
		mean []float64
		cov  mat.Symmetric
		want error
	}{
		{"not positive definite", nil, mat.NewSymDense(2, []float64{1, 2, 2, 1}), ErrSingular},
		{"mean length", []float64{1, 2, 3}, good, ErrLength},
		{"mean NaN", []float64{1, math.NaN()}, good, ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if _, err := NewMultivariateNormal(c.mean, c.cov); !errors.Is(err, c.want) {
				t.Errorf("NewMultivariateNormal(%v, %v) error = %v, want %v", c.mean, mat.Formatted(c.cov), err, c.want)
			}
		})
	}
	mvn, _ := NewMultivariateNormal(nil, good)
	if _, err := mvn.DrawN(nil, 5); !errors.Is(err, ErrInvalid) {
		t.Errorf("DrawN(nil rng) error = %v, want ErrInvalid", err)
	}
	if _, err := mvn.DrawN(rand.New(rand.NewPCG(1, 1)), 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("DrawN(0) error = %v, want ErrInvalid", err)
	}
}
