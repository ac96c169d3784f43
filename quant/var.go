package quant

import (
	"fmt"
	"math"
	"sort"
)

// Value at risk and expected shortfall of one period of a return series at
// confidence c in (0, 1), e.g. 0.95. Sign convention: both are reported as
// a loss, a positive fraction (0.03 means a 3 % loss); a negative figure
// means even the tail of the distribution is a gain. quantstats and
// empyrical return the same quantities as negative returns. No horizon
// scaling is applied; multiply by √h for an h-period Gaussian figure if
// that approximation suits.

// varCheck validates at least min returns and the confidence: one return
// for the historical figures (the quantile of one value is that value),
// two for the Gaussian ones, which need a sample deviation.
func varCheck(what string, r []float64, c float64, min int) error {
	if err := riskCheckN(what, r, min); err != nil {
		return err
	}
	if !(c > 0 && c < 1) {
		return fmt.Errorf("%s: confidence %g outside (0, 1): %w", what, c, ErrInvalid)
	}
	return nil
}

// HistoricalVaR is minus the (1−c) quantile of the returns, the quantile
// interpolated linearly between order statistics at position (n−1)(1−c)
// (numpy's default percentile, as empyrical's value_at_risk).
func HistoricalVaR(r []float64, c float64) (float64, error) {
	if err := varCheck("historical var", r, c, 1); err != nil {
		return 0, err
	}
	s := append([]float64(nil), r...)
	sort.Float64s(s)
	h := varTailPosition(len(s), c)
	lo := int(math.Floor(h))
	if lo >= len(s)-1 {
		return -s[len(s)-1], nil
	}
	q := s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
	return -q, nil
}

// HistoricalES (expected shortfall, CVaR) is minus the mean of the
// ⌊(n−1)(1−c)⌋ + 1 worst returns, the same tail count as empyrical's
// conditional_value_at_risk; it is never below HistoricalVaR.
func HistoricalES(r []float64, c float64) (float64, error) {
	if err := varCheck("historical expected shortfall", r, c, 1); err != nil {
		return 0, err
	}
	s := append([]float64(nil), r...)
	sort.Float64s(s)
	k := int(math.Floor(varTailPosition(len(s), c))) + 1
	sum := 0.0
	for _, x := range s[:k] {
		sum += x
	}
	return -sum / float64(k), nil
}

// varTailPosition is (n−1)(1−c), snapped to a whole number when within
// rounding of one, so that 20·(1−0.9) counts as 2 and not 1.9999999999999996.
func varTailPosition(n int, c float64) float64 {
	h := float64(n-1) * (1 - c)
	if r := math.Round(h); math.Abs(h-r) < 1e-9 {
		return r
	}
	return h
}

// varNormalQuantile is Φ⁻¹(p) = √2·erf⁻¹(2p − 1).
func varNormalQuantile(p float64) float64 {
	return math.Sqrt2 * math.Erfinv(2*p-1)
}

// GaussianVaR is the parametric VaR under a normal fit with the sample
// mean and ddof-1 deviation: −(μ + σ·Φ⁻¹(1−c)).
func GaussianVaR(r []float64, c float64) (float64, error) {
	if err := varCheck("gaussian var", r, c, 2); err != nil {
		return 0, err
	}
	m, _ := Mean(r)
	sd, _ := StdDev(r)
	return -(m + sd*varNormalQuantile(1-c)), nil
}

// GaussianES is the expected shortfall of the same normal fit:
// −(μ − σ·φ(z)/(1−c)) with z = Φ⁻¹(1−c) and φ the standard normal density.
func GaussianES(r []float64, c float64) (float64, error) {
	if err := varCheck("gaussian expected shortfall", r, c, 2); err != nil {
		return 0, err
	}
	m, _ := Mean(r)
	sd, _ := StdDev(r)
	z := varNormalQuantile(1 - c)
	phi := math.Exp(-z*z/2) / math.Sqrt(2*math.Pi)
	return -(m - sd*phi/(1-c)), nil
}
