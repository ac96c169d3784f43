package quant

import (
	"fmt"
	"math"
	"slices"
)

// Shape of a distribution of returns: skewness, excess kurtosis, mean
// absolute deviation and the tail ratio. They are statistics of any
// finite sample (log returns below −1 included), per period and
// dimensionless or in return units; none is annualised.

// distributionCheck validates at least min finite observations.
func distributionCheck(what string, xs []float64, min int) error {
	if len(xs) < min {
		return fmt.Errorf("%s of %d observations (needs %d): %w", what, len(xs), min, ErrEmpty)
	}
	for i, x := range xs {
		if !finite(x) {
			return fmt.Errorf("%s: observation %d is %g: %w", what, i, x, ErrInvalid)
		}
	}
	return nil
}

// distributionSpread returns the mean, the deviations from it and the
// sample standard deviation (ddof 1), or ErrZeroVariance for a constant
// sample, whose standardised moments are 0/0.
func distributionSpread(what string, xs []float64) (float64, []float64, float64, error) {
	m, _ := Mean(xs)
	s, _ := StdDev(xs)
	if riskFlatSpread(s, xs) {
		return 0, nil, 0, fmt.Errorf("%s of %d observations: constant sample: %w", what, len(xs), ErrZeroVariance)
	}
	d := make([]float64, len(xs))
	for i, x := range xs {
		d[i] = x - m
	}
	return m, d, s, nil
}

// Skewness is the adjusted Fisher–Pearson sample skewness G1,
//
//	G1 = n / ((n−1)(n−2)) · Σ ((xᵢ − x̄)/s)³,  s the ddof-1 deviation,
//
// the bias-corrected estimator of Excel's SKEW, pandas' Series.skew and
// PerformanceAnalytics' skewness(method = "fisher"). PerformanceAnalytics'
// default (method = "moment") and scipy.stats.skew's default (bias = True)
// are the biased g1 = m₃/m₂^{3/2}; its method = "sample" standardises by the
// ddof-0 deviation and is neither. empyrical and Portfolio Performance
// report none. At least three observations; a constant sample is
// ErrZeroVariance.
func Skewness(xs []float64) (float64, error) {
	if err := distributionCheck("skewness", xs, 3); err != nil {
		return 0, err
	}
	_, d, s, err := distributionSpread("skewness", xs)
	if err != nil {
		return 0, err
	}
	sum := 0.0
	for _, v := range d {
		z := v / s
		sum += z * z * z
	}
	n := float64(len(xs))
	return n / ((n - 1) * (n - 2)) * sum, nil
}

// ExcessKurtosis is the bias-corrected sample excess kurtosis G2,
//
//	G2 = n(n+1) / ((n−1)(n−2)(n−3)) · Σ ((xᵢ − x̄)/s)⁴ − 3(n−1)² / ((n−2)(n−3)),
//
// 0 for a normal population: Excel's KURT, pandas' Series.kurt and
// PerformanceAnalytics' kurtosis(method = "sample_excess") (and "fisher",
// the same number). PerformanceAnalytics' default (method = "excess") and
// scipy.stats.kurtosis's default are the biased m₄/m₂² − 3; "moment" and
// "sample" are not excess figures (about 3 for a normal sample). At least
// four observations; a constant sample is ErrZeroVariance.
func ExcessKurtosis(xs []float64) (float64, error) {
	if err := distributionCheck("excess kurtosis", xs, 4); err != nil {
		return 0, err
	}
	_, d, s, err := distributionSpread("excess kurtosis", xs)
	if err != nil {
		return 0, err
	}
	sum := 0.0
	for _, v := range d {
		z := v / s
		sum += z * z * z * z
	}
	n := float64(len(xs))
	return n*(n+1)/((n-1)*(n-2)*(n-3))*sum - 3*(n-1)*(n-1)/((n-2)*(n-3)), nil
}

// MeanAbsoluteDeviation is the mean absolute deviation from the mean,
// Σ |xᵢ − x̄| / n, in the units of x (per period for returns): Excel's
// AVEDEV and PerformanceAnalytics' MeanAbsoluteDeviation. It is not R's
// mad(), the median absolute deviation from the median scaled by 1.4826.
// One observation is enough (its deviation is 0).
func MeanAbsoluteDeviation(xs []float64) (float64, error) {
	if err := distributionCheck("mean absolute deviation", xs, 1); err != nil {
		return 0, err
	}
	m, _ := Mean(xs)
	s := 0.0
	for _, x := range xs {
		s += math.Abs(x - m)
	}
	return s / float64(len(xs)), nil
}

// TailRatio is the 95th percentile over the magnitude of the 5th,
// q₉₅ / |q₀₅|, the percentiles interpolated linearly between order
// statistics at position (n−1)q (Hyndman–Fan type 7: numpy's default
// percentile and R's default quantile). Above 1 the right tail is longer
// than the left. empyrical's tail_ratio takes |q₉₅| / |q₀₅|, the same unless
// q₉₅ is negative, where this ratio keeps the sign; PerformanceAnalytics
// has no percentile tail ratio (its RachevRatio divides tail means). One
// observation is
// enough (its ratio is ±1); a 5th percentile of 0 is ErrZeroVariance.
func TailRatio(xs []float64) (float64, error) {
	if err := distributionCheck("tail ratio", xs, 1); err != nil {
		return 0, err
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	lo, hi := darQuantileType7(s, 0.05), darQuantileType7(s, 0.95)
	if lo == 0 {
		return 0, fmt.Errorf("tail ratio of %d observations: 5th percentile is 0: %w", len(xs), ErrZeroVariance)
	}
	return hi / math.Abs(lo), nil
}
