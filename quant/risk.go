package quant

import (
	"fmt"
	"math"
)

// Risk and performance ratios of daily return series (decimals, 252
// periods a year, sample standard deviation with ddof 1; DOMAIN.md §1).
// The annualised ones are the Daily forms of the Periods methods in
// annualise.go. Every function rejects non-finite returns and returns
// below −1 (a loss of more than everything), needs at least one
// observation, two where it uses a sample standard deviation or a slope,
// and returns ErrZeroVariance instead of an infinite ratio.

// riskCheck validates one return series of at least two observations, the
// fewest a sample standard deviation (ddof 1) needs.
func riskCheck(what string, r []float64) error {
	return riskCheckN(what, r, 2)
}

// riskCheckN validates one return series of at least min observations.
func riskCheckN(what string, r []float64, min int) error {
	if len(r) < min {
		return fmt.Errorf("%s of %d returns: %w", what, len(r), ErrEmpty)
	}
	for i, x := range r {
		if !finite(x) || x < -1 {
			return fmt.Errorf("%s: return %d is %g: %w", what, i, x, ErrInvalid)
		}
	}
	return nil
}

// riskCheckPair validates a portfolio and a benchmark series that must
// align, of at least two observations each.
func riskCheckPair(what string, p, b []float64) error {
	return riskCheckPairN(what, p, b, 2)
}

// riskCheckPairN is riskCheckPair with at least min observations.
func riskCheckPairN(what string, p, b []float64, min int) error {
	if len(p) != len(b) {
		return fmt.Errorf("%s of %d portfolio and %d benchmark returns: %w", what, len(p), len(b), ErrLength)
	}
	if err := riskCheckN(what+" (portfolio)", p, min); err != nil {
		return err
	}
	return riskCheckN(what+" (benchmark)", b, min)
}

// riskFlatSpread reports whether a standard deviation is zero up to the
// rounding of the data: a constant series of c has a computed deviation of
// the order of 1e-16·|c|, which must count as zero rather than yield a
// ratio of 10¹⁵.
func riskFlatSpread(sd float64, xs []float64) bool {
	scale := 0.0
	for _, x := range xs {
		scale = math.Max(scale, math.Abs(x))
	}
	return sd <= 1e-12*scale || sd == 0
}

// AnnualReturn is the compound annual growth of a daily series,
// (Π(1+rᵢ))^(252/n) − 1 (DOMAIN.md §1; empyrical's annual_return and
// PerformanceAnalytics' Return.annualized with geometric=TRUE agree). It
// is Daily.AnnualReturn; a single return is enough.
func AnnualReturn(r []float64) (float64, error) {
	return Daily.AnnualReturn(r)
}

// AnnualVolatility is the sample standard deviation (ddof 1) × √252.
// pandas and empyrical use ddof 1 too; numpy's default std is ddof 0. It
// is Daily.AnnualVolatility.
func AnnualVolatility(r []float64) (float64, error) {
	return Daily.AnnualVolatility(r)
}

// Sharpe is mean(r − rf)/std(r − rf) × √252, with rfAnnual an annual rate
// converted to a daily one as (1+rf)^(1/252) − 1 (DOMAIN.md §1). empyrical
// takes rf already per period; some sources divide rf by 252 instead of
// compounding, which differs by under 0.1 bp a day at usual rates. It is
// Daily.Sharpe.
func Sharpe(r []float64, rfAnnual float64) (float64, error) {
	return Daily.Sharpe(r, rfAnnual)
}

// DownsideDeviation is the annualised downside deviation with target 0
// over all observations: sqrt(Σ min(rᵢ,0)² / n) × √252 (DOMAIN.md §1, as
// empyrical's downside_risk). Some sources divide by the number of negative
// observations only, or by n−1, which gives a larger figure. It is
// Daily.DownsideDeviation(r, 0); a single return is enough.
func DownsideDeviation(r []float64) (float64, error) {
	return Daily.DownsideDeviation(r, 0)
}

// Sortino is mean × 252 / (DD × √252), with DD the per-period downside
// deviation above (target 0, all observations). A series without a
// negative return has no downside and returns ErrZeroVariance. It is
// Daily.Sortino(r, 0).
func Sortino(r []float64) (float64, error) {
	return Daily.Sortino(r, 0)
}

// Calmar is AnnualReturn / |max drawdown| over the whole series, the
// drawdown measured on the wealth index that starts at 1 before the first
// return (as empyrical's calmar_ratio). The original definition uses the
// last 36 months; pass that window to get it. A series without a drawdown
// returns ErrZeroVariance. It is Daily.Calmar.
func Calmar(r []float64) (float64, error) {
	return Daily.Calmar(r)
}

// Omega is the probability-weighted ratio of gains to losses relative to a
// per-period threshold, the minimum acceptable return:
// Σ max(rᵢ−τ, 0) / Σ max(τ−rᵢ, 0), which is UpsidePotential /
// DownsidePotential at τ. empyrical takes an annual required return and
// converts it with (1+τ)^(1/252) − 1; do that with Periods.PerPeriodRate
// before calling. PerformanceAnalytics' Omega(R, L) agrees with τ = L. With
// nothing below the threshold the ratio is unbounded and ErrZeroVariance is
// returned; one return below it is enough.
func Omega(r []float64, threshold float64) (float64, error) {
	if err := riskCheckN("omega ratio", r, 1); err != nil {
		return 0, err
	}
	if !finite(threshold) {
		return 0, fmt.Errorf("omega ratio: threshold %g: %w", threshold, ErrInvalid)
	}
	up, down := 0.0, 0.0
	for _, x := range r {
		if d := x - threshold; d > 0 {
			up += d
		} else {
			down -= d
		}
	}
	if down == 0 {
		return 0, fmt.Errorf("omega ratio of %d returns: none below threshold %g: %w", len(r), threshold, ErrZeroVariance)
	}
	return up / down, nil
}

// Beta is cov(p, b) / var(b), both with ddof 1 (DOMAIN.md §1); the ddof
// cancels, so empyrical's ddof-0 figure is the same.
func Beta(p, b []float64) (float64, error) {
	if err := riskCheckPair("beta", p, b); err != nil {
		return 0, err
	}
	return riskBeta(p, b)
}

func riskBeta(p, b []float64) (float64, error) {
	sd, _ := StdDev(b)
	if riskFlatSpread(sd, b) {
		return 0, fmt.Errorf("beta over %d returns: benchmark is constant: %w", len(b), ErrZeroVariance)
	}
	c, _ := Covariance(p, b)
	return c / (sd * sd), nil
}

// Alpha is Jensen's alpha annualised by compounding, (1 + mean(p − β·b))^252
// − 1, without a risk-free rate (DOMAIN.md §1; empyrical's alpha with
// risk_free 0). Sources that report alpha as mean × 252 give a smaller
// figure for positive alpha. It is Daily.Alpha; Periods.JensenAlpha takes
// a risk-free rate.
func Alpha(p, b []float64) (float64, error) {
	return Daily.Alpha(p, b)
}

// TrackingError is std(p − b) (ddof 1) × √252. It is Daily.TrackingError.
func TrackingError(p, b []float64) (float64, error) {
	return Daily.TrackingError(p, b)
}

// InformationRatio is the annualised active return, AnnualReturn(p) −
// AnnualReturn(b), over the tracking error (DOMAIN.md §1, as
// PerformanceAnalytics' InformationRatio = ActivePremium / TrackingError).
// empyrical's excess_sharpe instead divides the mean daily active return by
// its daily deviation, unannualised. It is Daily.InformationRatio.
func InformationRatio(p, b []float64) (float64, error) {
	return Daily.InformationRatio(p, b)
}

// UpCapture is AnnualReturn of the portfolio over the periods where the
// benchmark rose, divided by AnnualReturn of the benchmark over the same
// periods (empyrical's up_capture; PerformanceAnalytics' UpDownRatios
// divides unannualised cumulative returns). It is Daily.UpCapture: one up
// period is enough, none is ErrEmpty.
func UpCapture(p, b []float64) (float64, error) {
	return Daily.UpCapture(p, b)
}

// DownCapture is UpCapture over the periods where the benchmark fell;
// below 1 means the portfolio lost less than the benchmark. It is
// Daily.DownCapture.
func DownCapture(p, b []float64) (float64, error) {
	return Daily.DownCapture(p, b)
}

// WinRate is the fraction of periods with a strictly positive return; a
// zero return is not a win, and every period counts in the denominator.
// quantstats' win_rate leaves zero-return periods out of the denominator,
// which gives a higher figure for series with many flat days. One period
// is enough.
func WinRate(r []float64) (float64, error) {
	if err := riskCheckN("win rate", r, 1); err != nil {
		return 0, err
	}
	w := 0
	for _, x := range r {
		if x > 0 {
			w++
		}
	}
	return float64(w) / float64(len(r)), nil
}
