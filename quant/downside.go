package quant

import (
	"fmt"
	"math"
)

// Partial moments about a minimum acceptable return (MAR). mar is per
// period, like the returns (convert an annual one with
// Periods.PerPeriodRate), and every sum is divided by the number of all
// observations n, as PerformanceAnalytics' method = "full" and empyrical's
// downside_risk; PerformanceAnalytics' method = "subset" divides by the
// number of returns on the relevant side of mar instead. The deviations
// (downside, upside, semi) are annualised by √p as Periods methods; the
// potentials are per period.

// UpsideRisk is the annualised deviation above mar over all observations,
// sqrt(Σ max(rᵢ − mar, 0)² / n) × √p, the mirror of DownsideDeviation.
// PerformanceAnalytics' UpsideRisk(R, MAR, stat = "risk") is the
// per-period figure (divide by √p to compare); empyrical has none.
func (p Periods) UpsideRisk(r []float64, mar float64) (float64, error) {
	if err := p.check("upside risk"); err != nil {
		return 0, err
	}
	if err := downsideCheck("upside risk", r, mar); err != nil {
		return 0, err
	}
	s := 0.0
	for _, x := range r {
		if d := x - mar; d > 0 {
			s += d * d
		}
	}
	return math.Sqrt(s/float64(len(r))) * math.Sqrt(float64(p)), nil
}

// SemiDeviation is the downside deviation below the series' own mean,
// sqrt(Σ_{rᵢ < r̄} (rᵢ − r̄)² / n) × √p: DownsideDeviation with mar = r̄, as
// PerformanceAnalytics' SemiDeviation (DownsideDeviation(R, MAR = mean(R),
// method = "full"), per period). Sources differ: some divide by n − 1, and
// Portfolio Performance's semi-volatility uses log returns below their
// mean, ddof 1, scaled to the reporting period's length rather than a year.
func (p Periods) SemiDeviation(r []float64) (float64, error) {
	if err := p.check("semi-deviation"); err != nil {
		return 0, err
	}
	if err := riskCheckN("semi-deviation", r, 1); err != nil {
		return 0, err
	}
	m, _ := Mean(r)
	return riskDownside(r, m) * math.Sqrt(float64(p)), nil
}

// DownsidePotential is the mean shortfall below mar over all observations,
// Σ max(mar − rᵢ, 0) / n, per period: the first lower partial moment, as
// PerformanceAnalytics' DownsidePotential(R, MAR). One return is enough.
func DownsidePotential(r []float64, mar float64) (float64, error) {
	if err := downsideCheck("downside potential", r, mar); err != nil {
		return 0, err
	}
	s := 0.0
	for _, x := range r {
		if d := mar - x; d > 0 {
			s += d
		}
	}
	return s / float64(len(r)), nil
}

// UpsidePotential is the mean excess above mar over all observations,
// Σ max(rᵢ − mar, 0) / n, per period, as PerformanceAnalytics'
// UpsideRisk(R, MAR, stat = "potential"). UpsidePotential /
// DownsidePotential at the same mar is Omega.
func UpsidePotential(r []float64, mar float64) (float64, error) {
	if err := downsideCheck("upside potential", r, mar); err != nil {
		return 0, err
	}
	s := 0.0
	for _, x := range r {
		if d := x - mar; d > 0 {
			s += d
		}
	}
	return s / float64(len(r)), nil
}

// downsideCheck validates at least one return and a finite mar.
func downsideCheck(what string, r []float64, mar float64) error {
	if err := riskCheckN(what, r, 1); err != nil {
		return err
	}
	if !finite(mar) {
		return fmt.Errorf("%s: minimum acceptable return %g: %w", what, mar, ErrInvalid)
	}
	return nil
}
