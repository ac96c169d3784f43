package quant

import (
	"fmt"
	"math"
)

// PeriodsPerYear is the number of daily periods in a year (DOMAIN.md §1).
const PeriodsPerYear = 252

// Mean returns the arithmetic mean of xs.
func Mean(xs []float64) (float64, error) {
	if len(xs) == 0 {
		return 0, fmt.Errorf("mean: %w", ErrEmpty)
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs)), nil
}

// StdDev returns the sample standard deviation of xs (ddof 1).
func StdDev(xs []float64) (float64, error) {
	if len(xs) < 2 {
		return 0, fmt.Errorf("standard deviation of %d observations: %w", len(xs), ErrEmpty)
	}
	m, _ := Mean(xs)
	ss := 0.0
	for _, x := range xs {
		d := x - m
		ss += d * d
	}
	return math.Sqrt(ss / float64(len(xs)-1)), nil
}

// Covariance returns the sample covariance of xs and ys (ddof 1).
func Covariance(xs, ys []float64) (float64, error) {
	if len(xs) != len(ys) {
		return 0, fmt.Errorf("covariance of %d and %d observations: %w", len(xs), len(ys), ErrLength)
	}
	if len(xs) < 2 {
		return 0, fmt.Errorf("covariance of %d observations: %w", len(xs), ErrEmpty)
	}
	mx, _ := Mean(xs)
	my, _ := Mean(ys)
	s := 0.0
	for i := range xs {
		s += (xs[i] - mx) * (ys[i] - my)
	}
	return s / float64(len(xs)-1), nil
}

// finite reports whether every value is a finite number.
func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
