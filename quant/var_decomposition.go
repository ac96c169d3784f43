package quant

import (
	"fmt"
	"math"
	"sort"
)

// VaRDecomposition splits the historical VaR of a portfolio of lines into
// per-line parts (the historical-delta, or Euler, allocation).
type VaRDecomposition struct {
	// VaR is HistoricalVaR of the portfolio returns Σⱼ wⱼ·xⱼ[t].
	VaR float64
	// Marginal[j] is ∂VaR/∂wⱼ: minus line j's return interpolated between
	// the two scenarios, and with the same weights, that the portfolio's
	// quantile interpolates (it is the derivative wherever the order of the
	// portfolio's scenarios does not change with wⱼ).
	Marginal []float64
	// Component[j] = wⱼ·Marginal[j]; the components add up to VaR (VaR is
	// homogeneous of degree one in the weights).
	Component []float64
	// Lower and Upper index the scenarios (into the series) of the two
	// order statistics the quantile lies between; Frac is the weight of
	// Upper (0 when the quantile is one order statistic).
	Lower, Upper int
	Frac         float64
}

// HistoricalVaRDecomposition computes the historical VaR at confidence c
// of the portfolio whose return in scenario t is Σⱼ weights[j]·lines[j][t]
// (lines[j] the j-th line's return series, all as long) and allocates it
// to the lines by their historical delta. The quantile follows
// HistoricalVaR: linear interpolation between order statistics at position
// (n−1)(1−c); ties among the portfolio's scenarios are ordered by scenario
// index, so the allocation is deterministic.
func HistoricalVaRDecomposition(lines [][]float64, weights []float64, c float64) (VaRDecomposition, error) {
	if len(lines) == 0 {
		return VaRDecomposition{}, fmt.Errorf("var decomposition: no lines: %w", ErrEmpty)
	}
	if len(weights) != len(lines) {
		return VaRDecomposition{}, fmt.Errorf("var decomposition of %d lines with %d weights: %w", len(lines), len(weights), ErrLength)
	}
	n := len(lines[0])
	for j, l := range lines {
		if len(l) != n {
			return VaRDecomposition{}, fmt.Errorf("var decomposition: line %d has %d returns, line 0 has %d: %w", j, len(l), n, ErrLength)
		}
		if !finite(l...) || !finite(weights[j]) {
			return VaRDecomposition{}, fmt.Errorf("var decomposition: line %d has a non-finite value: %w", j, ErrInvalid)
		}
	}
	p := make([]float64, n)
	for t := range n {
		for j, l := range lines {
			p[t] += weights[j] * l[t]
		}
	}
	if err := varCheck("var decomposition", p, c, 1); err != nil {
		return VaRDecomposition{}, err
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return p[order[a]] < p[order[b]] })
	h := varTailPosition(n, c)
	lo := int(math.Floor(h))
	out := VaRDecomposition{Marginal: make([]float64, len(lines)), Component: make([]float64, len(lines))}
	if lo >= n-1 {
		out.Lower, out.Upper = order[n-1], order[n-1]
	} else {
		out.Lower, out.Upper, out.Frac = order[lo], order[lo+1], h-float64(lo)
	}
	a, b := p[out.Lower], p[out.Upper]
	out.VaR = -(a + out.Frac*(b-a))
	for j, l := range lines {
		out.Marginal[j] = -((1-out.Frac)*l[out.Lower] + out.Frac*l[out.Upper])
		out.Component[j] = weights[j] * out.Marginal[j]
	}
	return out, nil
}
