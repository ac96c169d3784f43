package quant

import (
	"errors"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestCholeskyKnown uses the widely published example (e.g. Wikipedia,
// "Cholesky decomposition", Example): A = [[4,12,-16],[12,37,-43],[-16,-43,98]]
// has L = [[2,0,0],[6,1,0],[-8,5,3]]. By hand: l11 = √4 = 2, l21 = 12/2 = 6,
// l31 = −16/2 = −8, l22 = √(37 − 36) = 1, l32 = (−43 − (−8)(6))/1 = 5,
// l33 = √(98 − 64 − 25) = 3.
func TestCholeskyKnown(t *testing.T) {
	t.Parallel()
	a := mat.NewSymDense(3, []float64{4, 12, -16, 12, 37, -43, -16, -43, 98})
	l, err := Cholesky(a)
	if err != nil {
		t.Fatalf("Cholesky: %v", err)
	}
	want := [3][3]float64{{2, 0, 0}, {6, 1, 0}, {-8, 5, 3}}
	for i := range 3 {
		for j := range 3 {
			if got := l.At(i, j); math.Abs(got-want[i][j]) > 1e-12 {
				t.Errorf("L[%d][%d] = %g, want %g", i, j, got, want[i][j])
			}
		}
	}
}

func TestCholeskyErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		a    *mat.SymDense
		want error
	}{
		// Eigenvalues 3 and −1.
		{"indefinite", mat.NewSymDense(2, []float64{1, 2, 2, 1}), ErrSingular},
		// Two perfectly correlated factors: rank 1.
		{"singular", mat.NewSymDense(2, []float64{1, 1, 1, 1}), ErrSingular},
		// Rank 2 in 3 dimensions: third variable = first + second; rounding
		// leaves a tiny positive pivot that must still be refused.
		{"singular by rounding", mat.NewSymDense(3, []float64{
			0.04, 0.006, 0.046,
			0.006, 0.09, 0.096,
			0.046, 0.096, 0.142,
		}), ErrSingular},
		{"NaN", mat.NewSymDense(2, []float64{1, math.NaN(), math.NaN(), 1}), ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Cholesky(c.a); !errors.Is(err, c.want) {
				t.Errorf("Cholesky(%v) error = %v, want %v", mat.Formatted(c.a), err, c.want)
			}
		})
	}
}

func TestWithRidgeMakesPD(t *testing.T) {
	t.Parallel()
	a := mat.NewSymDense(2, []float64{1, 1, 1, 1})
	r, err := WithRidge(a, 1e-6)
	if err != nil {
		t.Fatalf("WithRidge: %v", err)
	}
	if _, err := Cholesky(r); err != nil {
		t.Errorf("Cholesky after ridge 1e-6: %v", err)
	}
	if a.At(0, 0) != 1 {
		t.Errorf("WithRidge modified its input: a[0][0] = %g", a.At(0, 0))
	}
	if _, err := WithRidge(a, -1); !errors.Is(err, ErrInvalid) {
		t.Errorf("WithRidge(-1) error = %v, want ErrInvalid", err)
	}
}

// TestCovarianceCorrelation: x = 1,2,3,4, y = 2,4,6,9, z = 4,3,2,1.
// Hand computation (ddof 1): means 2.5, 5.25, 2.5; deviations
// x: −1.5,−.5,.5,1.5; y: −3.25,−1.25,.75,3.75; z: 1.5,.5,−.5,−1.5.
// var x = 5/3, var y = (10.5625+1.5625+0.5625+14.0625)/3 = 26.75/3,
// cov xy = (4.875+0.625+0.375+5.625)/3 = 11.5/3, cov xz = −5/3, cov yz = −11.5/3.
// corr xy = 11.5/√(5·26.75), corr xz = −1.
func TestCovarianceCorrelation(t *testing.T) {
	t.Parallel()
	cols := [][]float64{{1, 2, 3, 4}, {2, 4, 6, 9}, {4, 3, 2, 1}}
	cov, err := CovarianceMatrix(cols)
	if err != nil {
		t.Fatalf("CovarianceMatrix: %v", err)
	}
	wantCov := [3][3]float64{
		{5.0 / 3, 11.5 / 3, -5.0 / 3},
		{11.5 / 3, 26.75 / 3, -11.5 / 3},
		{-5.0 / 3, -11.5 / 3, 5.0 / 3},
	}
	corr, err := CorrelationMatrix(cols)
	if err != nil {
		t.Fatalf("CorrelationMatrix: %v", err)
	}
	rxy := 11.5 / math.Sqrt(5*26.75)
	wantCorr := [3][3]float64{{1, rxy, -1}, {rxy, 1, -rxy}, {-1, -rxy, 1}}
	for i := range 3 {
		for j := range 3 {
			if got := cov.At(i, j); math.Abs(got-wantCov[i][j]) > 1e-12 {
				t.Errorf("cov[%d][%d] = %g, want %g", i, j, got, wantCov[i][j])
			}
			if got := corr.At(i, j); math.Abs(got-wantCorr[i][j]) > 1e-12 {
				t.Errorf("corr[%d][%d] = %g, want %g", i, j, got, wantCorr[i][j])
			}
		}
	}
	// Agrees with the package's scalar Covariance.
	if c, _ := Covariance(cols[0], cols[1]); math.Abs(c-cov.At(0, 1)) > 1e-15 {
		t.Errorf("cov[0][1] = %g, Covariance = %g", cov.At(0, 1), c)
	}
}

func TestCovarianceMatrixErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cols [][]float64
		corr bool
		want error
	}{
		{"no columns", nil, false, ErrEmpty},
		{"one observation", [][]float64{{1}, {2}}, false, ErrEmpty},
		{"ragged", [][]float64{{1, 2, 3}, {1, 2}}, false, ErrLength},
		{"infinite", [][]float64{{1, math.Inf(1), 3}}, false, ErrInvalid},
		{"constant column", [][]float64{{1, 2, 3}, {5, 5, 5}}, true, ErrZeroVariance},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var err error
			if c.corr {
				_, err = CorrelationMatrix(c.cols)
			} else {
				_, err = CovarianceMatrix(c.cols)
			}
			if !errors.Is(err, c.want) {
				t.Errorf("cols %v: error = %v, want %v", c.cols, err, c.want)
			}
		})
	}
}
