package quant

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// MultivariateNormal draws vectors x = μ + L·z, where L is the Cholesky
// factor of the covariance and z independent standard normals. The caller
// supplies the random source so that every simulation is reproducible from
// its seed; the draw order is fixed (z₀, z₁, … from rng.NormFloat64 per
// vector), so the same source state always yields the same vectors.
type MultivariateNormal struct {
	mean []float64
	// chol is L stored row-major as a dense dim×dim slice, lower triangle
	// only, so a draw is a plain loop with no interface calls.
	chol []float64
	dim  int
}

// NewMultivariateNormal prepares draws from N(mean, cov). A nil mean is the
// zero vector. A covariance that is not positive definite is an error
// wrapping ErrSingular (use WithRidge explicitly to regularise it); a mean
// of the wrong length wraps ErrLength.
func NewMultivariateNormal(mean []float64, cov mat.Symmetric) (*MultivariateNormal, error) {
	l, err := Cholesky(cov)
	if err != nil {
		return nil, fmt.Errorf("multivariate normal: %w", err)
	}
	d := cov.SymmetricDim()
	m := make([]float64, d)
	if mean != nil {
		if len(mean) != d {
			return nil, fmt.Errorf("multivariate normal: mean has %d elements, covariance is %d×%d: %w", len(mean), d, d, ErrLength)
		}
		if !finite(mean...) {
			return nil, fmt.Errorf("multivariate normal: mean has a non-finite value: %w", ErrInvalid)
		}
		copy(m, mean)
	}
	packed := make([]float64, d*d)
	for i := range d {
		for j := 0; j <= i; j++ {
			packed[i*d+j] = l.At(i, j)
		}
	}
	return &MultivariateNormal{mean: m, chol: packed, dim: d}, nil
}

// Dim is the dimension of each draw.
func (m *MultivariateNormal) Dim() int { return m.dim }

// Draw writes one vector into dst (length Dim) and returns it; a nil dst is
// allocated. scratch (length ≥ Dim, else allocated) holds z, so a hot loop
// can reuse both buffers. z is drawn in full before it is transformed: each
// vector consumes exactly Dim normals from rng, which must not be nil.
func (m *MultivariateNormal) Draw(rng *rand.Rand, dst, scratch []float64) []float64 {
	d := m.dim
	if dst == nil {
		dst = make([]float64, d)
	}
	if len(scratch) < d {
		scratch = make([]float64, d)
	}
	z := scratch[:d]
	for i := range z {
		z[i] = rng.NormFloat64()
	}
	for i := range d {
		s := m.mean[i]
		row := m.chol[i*d : i*d+i+1]
		for j, l := range row {
			s += l * z[j]
		}
		dst[i] = s
	}
	return dst
}

// DrawN returns n draws as the rows of an n×Dim matrix. A nil source or
// n < 1 is an error wrapping ErrInvalid.
func (m *MultivariateNormal) DrawN(rng *rand.Rand, n int) (*mat.Dense, error) {
	if rng == nil {
		return nil, fmt.Errorf("multivariate normal draws: nil random source: %w", ErrInvalid)
	}
	if n < 1 {
		return nil, fmt.Errorf("multivariate normal draws: %d draws: %w", n, ErrInvalid)
	}
	out := mat.NewDense(n, m.dim, nil)
	scratch := make([]float64, m.dim)
	for r := range n {
		m.Draw(rng, out.RawRowView(r), scratch)
	}
	return out, nil
}
