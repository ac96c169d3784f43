package quant

import (
	"errors"
	"math"
	"testing"
)

func TestContributionFromFactors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		total     float64
		exposures []float64
		factors   []float64
		want      FactorContribution
	}{
		// empyrical tests/test_perf_attrib.py, test_perf_attrib_simple: total
		// 0.1, exposures 0.25 and 0.25, factor returns 0.1 and 0.1: each factor
		// 0.025, common 0.05, specific 0.05; with the long-short positions the
		// exposures are 0 and everything (0.1) is specific.
		{"empyrical perf_attrib simple", 0.1, []float64{0.25, 0.25}, []float64{0.1, 0.1}, FactorContribution{Factors: []float64{0.025, 0.025}, Common: 0.05, Specific: 0.05, Total: 0.1}},
		{"empyrical perf_attrib long-short", 0.1, []float64{0, 0}, []float64{0.1, 0.1}, FactorContribution{Factors: []float64{0, 0}, Common: 0, Specific: 0.1, Total: 0.1}},
		// Hand computation: 1.2 × 0.02 = 0.024, −0.5 × 0.01 = −0.005, 0.3 × −0.04
		// = −0.012; common 0.007; specific 0.015 − 0.007 = 0.008.
		{"three factors", 0.015, []float64{1.2, -0.5, 0.3}, []float64{0.02, 0.01, -0.04}, FactorContribution{Factors: []float64{0.024, -0.005, -0.012}, Common: 0.007, Specific: 0.008, Total: 0.015}},
		{"no factors", 0.01, nil, nil, FactorContribution{Factors: []float64{}, Specific: 0.01, Total: 0.01}},
	}
	for _, c := range cases {
		got, err := ContributionFromFactors(c.total, c.exposures, c.factors)
		ok := err == nil && len(got.Factors) == len(c.want.Factors) && metricClose(got.Common, c.want.Common, 1e-15) &&
			metricClose(got.Specific, c.want.Specific, 1e-15) && got.Total == c.want.Total
		for k := range c.want.Factors {
			ok = ok && metricClose(got.Factors[k], c.want.Factors[k], 1e-15)
		}
		if !ok || math.Abs(got.Common+got.Specific-got.Total) > 1e-15 {
			t.Errorf("%s: ContributionFromFactors(%v, %v, %v) = %+v, %v; want %+v", c.name, c.total, c.exposures, c.factors, got, err, c.want)
		}
	}
}

func TestContributionFromFactorsErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"mismatched", metricErr(ContributionFromFactors(0.01, []float64{1}, []float64{0.01, 0.02})), ErrLength},
		{"NaN exposure", metricErr(ContributionFromFactors(0.01, []float64{math.NaN()}, []float64{0.01})), ErrInvalid},
		{"Inf total", metricErr(ContributionFromFactors(math.Inf(1), nil, nil)), ErrInvalid},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: error %v, want wrapping %v", c.name, c.err, c.want)
		}
	}
}
