package quant

import (
	"fmt"
	"math"
)

// Risk and performance ratios of daily return series (decimals, 252
// periods a year, sample standard deviation with ddof 1; DOMAIN.md §1).
// Every function needs at least two observations, rejects non-finite
// returns and returns below −1 (a loss of more than everything), and
// returns ErrZeroVariance instead of an infinite ratio.

// riskCheck validates one return series.
func riskCheck(what string, r []float64) error {
	if len(r) < 2 {
		return fmt.Errorf("%s of %d returns: %w", what, len(r), ErrEmpty)
	}
	for i, x := range r {
		if !finite(x) || x < -1 {
			return fmt.Errorf("%s: return %d is %g: %w", what, i, x, ErrInvalid)
		}
	}
	return nil
}

// riskCheckPair validates a portfolio and a benchmark series that must align.
func riskCheckPair(what string, p, b []float64) error {
	if len(p) != len(b) {
		return fmt.Errorf("%s of %d portfolio and %d benchmark returns: %w", what, len(p), len(b), ErrLength)
	}
	if err := riskCheck(what+" (portfolio)", p); err != nil {
		return err
	}
	return riskCheck(what+" (benchmark)", b)
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

// riskPerPeriodRate converts an annual rate to a daily one, (1+rf)^(1/252)−1.
func riskPerPeriodRate(annual float64) (float64, error) {
	if !finite(annual) || annual <= -1 {
		return 0, fmt.Errorf("annual rate %g: %w", annual, ErrInvalid)
	}
	return math.Pow(1+annual, 1.0/PeriodsPerYear) - 1, nil
}

// AnnualReturn is the compound annual growth of a daily series,
// (Π(1+rᵢ))^(252/n) − 1 (DOMAIN.md §1; empyrical's annual_return and
// PerformanceAnalytics' Return.annualized with geometric=TRUE agree).
func AnnualReturn(r []float64) (float64, error) {
	if err := riskCheck("annual return", r); err != nil {
		return 0, err
	}
	g := 1.0
	for _, x := range r {
		g *= 1 + x
	}
	return math.Pow(g, float64(PeriodsPerYear)/float64(len(r))) - 1, nil
}

// AnnualVolatility is the sample standard deviation (ddof 1) × √252.
// pandas and empyrical use ddof 1 too; numpy's default std is ddof 0.
func AnnualVolatility(r []float64) (float64, error) {
	if err := riskCheck("annual volatility", r); err != nil {
		return 0, err
	}
	sd, _ := StdDev(r)
	return sd * math.Sqrt(PeriodsPerYear), nil
}

// Sharpe is mean(r − rf)/std(r − rf) × √252, with rfAnnual an annual rate
// converted to a daily one as (1+rf)^(1/252) − 1 (DOMAIN.md §1). empyrical
// takes rf already per period; some sources divide rf by 252 instead of
// compounding, which differs by under 0.1 bp a day at usual rates.
func Sharpe(r []float64, rfAnnual float64) (float64, error) {
	if err := riskCheck("sharpe ratio", r); err != nil {
		return 0, err
	}
	rf, err := riskPerPeriodRate(rfAnnual)
	if err != nil {
		return 0, fmt.Errorf("sharpe ratio: %w", err)
	}
	ex := make([]float64, len(r))
	for i, x := range r {
		ex[i] = x - rf
	}
	m, _ := Mean(ex)
	sd, _ := StdDev(ex)
	if riskFlatSpread(sd, ex) {
		return 0, fmt.Errorf("sharpe ratio of %d returns: excess returns are constant: %w", len(r), ErrZeroVariance)
	}
	return m / sd * math.Sqrt(PeriodsPerYear), nil
}

// DownsideDeviation is the annualised downside deviation with target 0
// over all observations: sqrt(Σ min(rᵢ,0)² / n) × √252 (DOMAIN.md §1, as
// empyrical's downside_risk). Some sources divide by the number of negative
// observations only, or by n−1, which gives a larger figure.
func DownsideDeviation(r []float64) (float64, error) {
	if err := riskCheck("downside deviation", r); err != nil {
		return 0, err
	}
	return riskDownside(r) * math.Sqrt(PeriodsPerYear), nil
}

func riskDownside(r []float64) float64 {
	s := 0.0
	for _, x := range r {
		if x < 0 {
			s += x * x
		}
	}
	return math.Sqrt(s / float64(len(r)))
}

// Sortino is mean × 252 / (DD × √252), with DD the per-period downside
// deviation above (target 0, all observations). A series without a
// negative return has no downside and returns ErrZeroVariance.
func Sortino(r []float64) (float64, error) {
	if err := riskCheck("sortino ratio", r); err != nil {
		return 0, err
	}
	dd := riskDownside(r)
	if dd == 0 {
		return 0, fmt.Errorf("sortino ratio of %d returns: no negative return: %w", len(r), ErrZeroVariance)
	}
	m, _ := Mean(r)
	return m * PeriodsPerYear / (dd * math.Sqrt(PeriodsPerYear)), nil
}

// Calmar is AnnualReturn / |max drawdown| over the whole series, the
// drawdown measured on the wealth index that starts at 1 before the first
// return (as empyrical's calmar_ratio). The original definition uses the
// last 36 months; pass that window to get it. A series without a drawdown
// returns ErrZeroVariance.
func Calmar(r []float64) (float64, error) {
	ar, err := AnnualReturn(r)
	if err != nil {
		return 0, fmt.Errorf("calmar ratio: %w", err)
	}
	dd, err := MaxDrawdownOfReturns(r)
	if err != nil {
		return 0, fmt.Errorf("calmar ratio: %w", err)
	}
	if dd.Depth == 0 {
		return 0, fmt.Errorf("calmar ratio of %d returns: no drawdown: %w", len(r), ErrZeroVariance)
	}
	return ar / -dd.Depth, nil
}

// Omega is the probability-weighted ratio of gains to losses relative to a
// per-period threshold: Σ max(rᵢ−τ, 0) / Σ max(τ−rᵢ, 0). empyrical takes an
// annual required return and converts it with (1+τ)^(1/252) − 1; do that
// with the caller's rate before calling. With nothing below the threshold
// the ratio is unbounded and ErrZeroVariance is returned.
func Omega(r []float64, threshold float64) (float64, error) {
	if err := riskCheck("omega ratio", r); err != nil {
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
// figure for positive alpha.
func Alpha(p, b []float64) (float64, error) {
	if err := riskCheckPair("alpha", p, b); err != nil {
		return 0, err
	}
	beta, err := riskBeta(p, b)
	if err != nil {
		return 0, fmt.Errorf("alpha: %w", err)
	}
	s := 0.0
	for i := range p {
		s += p[i] - beta*b[i]
	}
	return math.Pow(1+s/float64(len(p)), PeriodsPerYear) - 1, nil
}

// TrackingError is std(p − b) (ddof 1) × √252.
func TrackingError(p, b []float64) (float64, error) {
	if err := riskCheckPair("tracking error", p, b); err != nil {
		return 0, err
	}
	a := make([]float64, len(p))
	for i := range p {
		a[i] = p[i] - b[i]
	}
	sd, _ := StdDev(a)
	return sd * math.Sqrt(PeriodsPerYear), nil
}

// InformationRatio is the annualised active return, AnnualReturn(p) −
// AnnualReturn(b), over the tracking error (DOMAIN.md §1, as
// PerformanceAnalytics' InformationRatio = ActivePremium / TrackingError).
// empyrical's excess_sharpe instead divides the mean daily active return by
// its daily deviation, unannualised.
func InformationRatio(p, b []float64) (float64, error) {
	te, err := TrackingError(p, b)
	if err != nil {
		return 0, fmt.Errorf("information ratio: %w", err)
	}
	a := make([]float64, len(p))
	for i := range p {
		a[i] = p[i] - b[i]
	}
	if riskFlatSpread(te/math.Sqrt(PeriodsPerYear), a) {
		return 0, fmt.Errorf("information ratio of %d returns: active return is constant: %w", len(p), ErrZeroVariance)
	}
	ap, _ := AnnualReturn(p)
	ab, _ := AnnualReturn(b)
	return (ap - ab) / te, nil
}

// UpCapture is AnnualReturn of the portfolio over the periods where the
// benchmark rose, divided by AnnualReturn of the benchmark over the same
// periods (empyrical's up_capture). PerformanceAnalytics' UpDownRatios
// uses an arithmetic ratio instead. Fewer than two up periods is ErrEmpty.
func UpCapture(p, b []float64) (float64, error) {
	return riskCapture("up capture", p, b, func(x float64) bool { return x > 0 })
}

// DownCapture is UpCapture over the periods where the benchmark fell;
// below 1 means the portfolio lost less than the benchmark.
func DownCapture(p, b []float64) (float64, error) {
	return riskCapture("down capture", p, b, func(x float64) bool { return x < 0 })
}

func riskCapture(what string, p, b []float64, keep func(float64) bool) (float64, error) {
	if err := riskCheckPair(what, p, b); err != nil {
		return 0, err
	}
	var ps, bs []float64
	for i := range b {
		if keep(b[i]) {
			ps = append(ps, p[i])
			bs = append(bs, b[i])
		}
	}
	ap, err := AnnualReturn(ps)
	if err != nil {
		return 0, fmt.Errorf("%s over %d selected periods: %w", what, len(ps), err)
	}
	ab, _ := AnnualReturn(bs)
	if ab == 0 {
		return 0, fmt.Errorf("%s: benchmark annual return is 0: %w", what, ErrZeroVariance)
	}
	return ap / ab, nil
}

// WinRate is the fraction of periods with a strictly positive return; a
// zero return is not a win, and every period counts in the denominator.
// quantstats' win_rate leaves zero-return periods out of the denominator,
// which gives a higher figure for series with many flat days.
func WinRate(r []float64) (float64, error) {
	if err := riskCheck("win rate", r); err != nil {
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
