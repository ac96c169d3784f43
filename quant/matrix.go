package quant

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// CovarianceMatrix returns the sample covariance matrix (ddof 1) of column
// series: cols[j] is the j-th variable's observations, all the same length.
// Factor and position models hold one series per factor, so columns rather
// than rows are the natural input.
func CovarianceMatrix(cols [][]float64) (*mat.SymDense, error) {
	means, err := matrixColumnMeans(cols)
	if err != nil {
		return nil, fmt.Errorf("covariance matrix: %w", err)
	}
	k, n := len(cols), len(cols[0])
	cov := mat.NewSymDense(k, nil)
	for a := range k {
		for b := a; b < k; b++ {
			s := 0.0
			for i := range n {
				s += (cols[a][i] - means[a]) * (cols[b][i] - means[b])
			}
			cov.SetSym(a, b, s/float64(n-1))
		}
	}
	return cov, nil
}

// CorrelationMatrix returns the Pearson correlation matrix of column series
// (the covariance matrix of CovarianceMatrix scaled by the standard
// deviations, so ddof cancels). A constant column has no correlation and
// is an error wrapping ErrZeroVariance naming the column.
func CorrelationMatrix(cols [][]float64) (*mat.SymDense, error) {
	cov, err := CovarianceMatrix(cols)
	if err != nil {
		return nil, fmt.Errorf("correlation matrix: %w", err)
	}
	k := len(cols)
	sd := make([]float64, k)
	for j := range k {
		v := cov.At(j, j)
		if v <= 0 {
			return nil, fmt.Errorf("correlation matrix: column %d: %w", j, ErrZeroVariance)
		}
		sd[j] = math.Sqrt(v)
	}
	corr := mat.NewSymDense(k, nil)
	for a := range k {
		corr.SetSym(a, a, 1)
		for b := a + 1; b < k; b++ {
			r := cov.At(a, b) / (sd[a] * sd[b])
			// Rounding can push |r| a hair past 1; clamp so callers can rely on the range.
			corr.SetSym(a, b, math.Max(-1, math.Min(1, r)))
		}
	}
	return corr, nil
}

// matrixColumnMeans validates column series (at least one column, at least
// two observations, equal lengths, finite values) and returns their means.
func matrixColumnMeans(cols [][]float64) ([]float64, error) {
	if len(cols) == 0 {
		return nil, fmt.Errorf("no columns: %w", ErrEmpty)
	}
	n := len(cols[0])
	if n < 2 {
		return nil, fmt.Errorf("%d observations: %w", n, ErrEmpty)
	}
	means := make([]float64, len(cols))
	for j, c := range cols {
		if len(c) != n {
			return nil, fmt.Errorf("column %d has %d observations, column 0 has %d: %w", j, len(c), n, ErrLength)
		}
		if !finite(c...) {
			return nil, fmt.Errorf("column %d has a non-finite value: %w", j, ErrInvalid)
		}
		means[j], _ = Mean(c)
	}
	return means, nil
}

// Cholesky returns the lower-triangular L with a = L·Lᵀ. A matrix that is
// not positive definite (including a singular covariance, such as two
// perfectly correlated factors) is an error wrapping ErrSingular; callers
// that accept a regularised answer must ask for it with WithRidge.
func Cholesky(a mat.Symmetric) (*mat.TriDense, error) {
	n := a.SymmetricDim()
	if n == 0 {
		return nil, fmt.Errorf("cholesky of an empty matrix: %w", ErrEmpty)
	}
	for i := range n {
		for j := i; j < n; j++ {
			if !finite(a.At(i, j)) {
				return nil, fmt.Errorf("cholesky: element (%d,%d) is not finite: %w", i, j, ErrInvalid)
			}
		}
	}
	var ch mat.Cholesky
	if ok := ch.Factorize(a); !ok {
		return nil, fmt.Errorf("cholesky of %d×%d matrix: not positive definite: %w", n, n, ErrSingular)
	}
	l := mat.NewTriDense(n, mat.Lower, nil)
	ch.LTo(l)
	// Factorize succeeds on matrices that are singular but for rounding
	// (a factor that is an exact combination of others leaves a pivot of
	// about √ε of its scale). A pivot below 1e-7 of the variable's own scale
	// means less than 1e-14 of its variance is independent of the earlier
	// ones; treat that as singular rather than amplify noise.
	for i := range n {
		if l.At(i, i) <= 1e-7*math.Sqrt(a.At(i, i)) {
			return nil, fmt.Errorf("cholesky of %d×%d matrix: pivot %d is %g: %w", n, n, i, l.At(i, i), ErrSingular)
		}
	}
	return l, nil
}

// WithRidge returns a + ridge·I. It is the explicit, opt-in way to make a
// nearly singular covariance positive definite before Cholesky; the caller
// chooses (and should report) the ridge. A negative or non-finite ridge is
// an error wrapping ErrInvalid.
func WithRidge(a mat.Symmetric, ridge float64) (*mat.SymDense, error) {
	if !finite(ridge) || ridge < 0 {
		return nil, fmt.Errorf("ridge %g: %w", ridge, ErrInvalid)
	}
	n := a.SymmetricDim()
	out := mat.NewSymDense(n, nil)
	out.CopySym(a)
	for i := range n {
		out.SetSym(i, i, out.At(i, i)+ridge)
	}
	return out, nil
}
