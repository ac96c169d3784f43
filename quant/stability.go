package quant

import (
	"fmt"
	"math"
)

// Stability is the R² of an ordinary-least-squares line through the
// cumulative log returns yₜ = Σ_{i≤t} ln(1+rᵢ) against t = 0, …, n−1, as
// empyrical's stability_of_timeseries: 1 for growth at a constant rate,
// near 0 for a path without a trend. The series starts at the first
// cumulative return, not at a 0 before it (adding that point changes the
// figure). PerformanceAnalytics and Portfolio Performance have no such
// measure. At least two returns, each above −1 (ln 0 is not finite);
// cumulative log returns that never change (every return after the first
// is 0) leave R² undefined and return ErrZeroVariance, where empyrical,
// through scipy's linregress, returns 0.
func Stability(r []float64) (float64, error) {
	if err := riskCheckN("stability", r, 2); err != nil {
		return 0, err
	}
	y := make([]float64, len(r))
	c := 0.0
	for i, x := range r {
		if x == -1 {
			return 0, fmt.Errorf("stability: return %d is −100 %%, its log is not finite: %w", i, ErrInvalid)
		}
		c += math.Log1p(x)
		y[i] = c
	}
	n := float64(len(r))
	ty := (n - 1) / 2
	my, _ := Mean(y)
	sxy, syy := 0.0, 0.0
	for i, v := range y {
		d := v - my
		sxy += (float64(i) - ty) * d
		syy += d * d
	}
	if riskFlatSpread(math.Sqrt(syy/(n-1)), y) {
		return 0, fmt.Errorf("stability of %d returns: cumulative log return is constant: %w", len(r), ErrZeroVariance)
	}
	sxx := n * (n*n - 1) / 12 // Σ (t − t̄)² over t = 0..n−1
	return sxy * sxy / (sxx * syy), nil
}
