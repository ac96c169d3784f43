package quant

import (
	"fmt"
	"math"
)

// Periods is the number of return periods in a year, the frequency of a
// return series. Every annualised figure is a method of Periods, so the
// frequency is stated where the figure is computed: Monthly.Sharpe(r, 0.04)
// for monthly returns, Weekly.Sortino(r, mar) for weekly ones. The
// package-level functions of the same names (AnnualReturn, Sharpe, Sortino,
// ...) are the Daily forms, with the signatures and results they always had.
//
// Any positive count is accepted (260 or 365 for other day counts); zero or
// a negative count is ErrInvalid. empyrical's period/annualization
// arguments play the same part; PerformanceAnalytics infers the count from
// the dates of an xts series (252, 52, 12, 4 or 1), and Portfolio
// Performance annualises by calendar days instead.
type Periods int

// The usual frequencies.
const (
	Daily     Periods = PeriodsPerYear // trading days (DOMAIN.md §1)
	Weekly    Periods = 52
	Monthly   Periods = 12
	Quarterly Periods = 4
	Yearly    Periods = 1
)

// check refuses a frequency below one period a year.
func (p Periods) check(what string) error {
	if p < 1 {
		return fmt.Errorf("%s at %d periods a year: %w", what, int(p), ErrInvalid)
	}
	return nil
}

// PerPeriodRate converts an annual rate to the rate of one period,
// (1+annual)^(1/p) − 1: the compounding DOMAIN.md §1 uses for the risk-free
// rate, and empyrical's for Omega's required return. Use it for an annual
// minimum acceptable return too. PerformanceAnalytics' examples divide
// instead (MAR = .04/12), which gives a slightly higher rate for a positive
// one (0.3333 % against 0.3274 % a month at 4 %).
func (p Periods) PerPeriodRate(annual float64) (float64, error) {
	if err := p.check("per-period rate"); err != nil {
		return 0, err
	}
	if !finite(annual) || annual <= -1 {
		return 0, fmt.Errorf("annual rate %g: %w", annual, ErrInvalid)
	}
	return math.Pow(1+annual, 1/float64(p)) - 1, nil
}

// AnnualReturn is the compound annual growth rate of n returns at p a
// year, (Π(1+rᵢ))^(p/n) − 1. One return is enough: a single month's 1 %
// is Monthly.AnnualReturn = 1.01¹² − 1. empyrical's annual_return (and
// cagr) and PerformanceAnalytics' Return.annualized (geometric, its
// default) agree; Return.annualized(geometric = FALSE) is mean × p, and
// Portfolio Performance annualises its true time-weighted return by
// calendar days, (1+R)^(365/days) − 1.
func (p Periods) AnnualReturn(r []float64) (float64, error) {
	if err := p.check("annual return"); err != nil {
		return 0, err
	}
	if err := riskCheckN("annual return", r, 1); err != nil {
		return 0, err
	}
	g := 1.0
	for _, x := range r {
		g *= 1 + x
	}
	return math.Pow(g, float64(p)/float64(len(r))) - 1, nil
}

// AnnualVolatility is the sample standard deviation (ddof 1) × √p, as
// empyrical's annual_volatility and PerformanceAnalytics' StdDev.annualized.
// Portfolio Performance computes its volatility from log returns ln(1+r)
// and scales it by the square root of the number of returns in the
// reporting period rather than by √p.
func (p Periods) AnnualVolatility(r []float64) (float64, error) {
	if err := p.check("annual volatility"); err != nil {
		return 0, err
	}
	if err := riskCheck("annual volatility", r); err != nil {
		return 0, err
	}
	sd, _ := StdDev(r)
	return sd * math.Sqrt(float64(p)), nil
}

// Sharpe is mean(r − rf)/std(r − rf) × √p, std with ddof 1 and rfAnnual an
// annual rate converted to one period as (1+rf)^(1/p) − 1 (DOMAIN.md §1).
// empyrical's sharpe_ratio takes rf already per period; PerformanceAnalytics'
// SharpeRatio is per period (divide by √p to compare) and its
// SharpeRatio.annualized divides the annualised excess return by the
// annualised deviation, which differs when returns compound.
func (p Periods) Sharpe(r []float64, rfAnnual float64) (float64, error) {
	if err := p.check("sharpe ratio"); err != nil {
		return 0, err
	}
	if err := riskCheck("sharpe ratio", r); err != nil {
		return 0, err
	}
	rf, err := p.PerPeriodRate(rfAnnual)
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
	return m / sd * math.Sqrt(float64(p)), nil
}

// DownsideDeviation is the annualised deviation below a minimum acceptable
// return mar (per period, like r) over all n observations:
// sqrt(Σ min(rᵢ − mar, 0)² / n) × √p, as empyrical's downside_risk. One
// return is enough (0 when it is at or above mar). PerformanceAnalytics'
// DownsideDeviation(R, MAR) is the per-period figure (divide by √p to
// compare) and with method = "subset" divides by the number of returns
// below mar instead of n, which gives a larger figure.
func (p Periods) DownsideDeviation(r []float64, mar float64) (float64, error) {
	if err := p.check("downside deviation"); err != nil {
		return 0, err
	}
	if err := downsideCheck("downside deviation", r, mar); err != nil {
		return 0, err
	}
	return riskDownside(r, mar) * math.Sqrt(float64(p)), nil
}

// riskDownside is the per-period downside deviation below mar over all
// observations, sqrt(Σ min(rᵢ − mar, 0)² / n).
func riskDownside(r []float64, mar float64) float64 {
	s := 0.0
	for _, x := range r {
		if d := x - mar; d < 0 {
			s += d * d
		}
	}
	return math.Sqrt(s / float64(len(r)))
}

// Sortino is mean(r − mar) × p / (DD × √p), DD the per-period downside
// deviation below mar above, as empyrical's sortino_ratio with
// required_return = mar. PerformanceAnalytics' SortinoRatio(R, MAR) is the
// per-period mean(R − MAR)/DD, this figure divided by √p. Nothing below
// mar means no downside and ErrZeroVariance (empyrical returns +Inf).
func (p Periods) Sortino(r []float64, mar float64) (float64, error) {
	if err := p.check("sortino ratio"); err != nil {
		return 0, err
	}
	if err := downsideCheck("sortino ratio", r, mar); err != nil {
		return 0, err
	}
	dd := riskDownside(r, mar)
	if dd == 0 {
		return 0, fmt.Errorf("sortino ratio of %d returns: none below the minimum acceptable return %g: %w", len(r), mar, ErrZeroVariance)
	}
	s := 0.0
	for _, x := range r {
		s += x - mar
	}
	m := s / float64(len(r))
	return m * float64(p) / (dd * math.Sqrt(float64(p))), nil
}

// Calmar is p.AnnualReturn / |max drawdown| over the whole series, the
// drawdown measured on the wealth index that starts at 1 before the first
// return (as empyrical's calmar_ratio; PerformanceAnalytics' CalmarRatio
// agrees). The original definition uses the last 36 months; pass that
// window to get it. A series without a drawdown returns ErrZeroVariance.
func (p Periods) Calmar(r []float64) (float64, error) {
	ar, err := p.AnnualReturn(r)
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

// Alpha is the annualised alpha of port on bench without a risk-free rate,
// (1 + mean(port − β·bench))^p − 1 with β = cov/var (ddof 1), as
// empyrical's alpha with risk_free 0; JensenAlpha takes a risk-free rate.
// PerformanceAnalytics' CAPM.alpha is the per-period intercept, unannualised.
func (p Periods) Alpha(port, bench []float64) (float64, error) {
	if err := p.check("alpha"); err != nil {
		return 0, err
	}
	if err := riskCheckPair("alpha", port, bench); err != nil {
		return 0, err
	}
	beta, err := riskBeta(port, bench)
	if err != nil {
		return 0, fmt.Errorf("alpha: %w", err)
	}
	s := 0.0
	for i := range port {
		s += port[i] - beta*bench[i]
	}
	return math.Pow(1+s/float64(len(port)), float64(p)) - 1, nil
}

// TrackingError is std(port − bench) (ddof 1) × √p, as PerformanceAnalytics'
// TrackingError; empyrical has no annualised form.
func (p Periods) TrackingError(port, bench []float64) (float64, error) {
	if err := p.check("tracking error"); err != nil {
		return 0, err
	}
	if err := riskCheckPair("tracking error", port, bench); err != nil {
		return 0, err
	}
	a := make([]float64, len(port))
	for i := range port {
		a[i] = port[i] - bench[i]
	}
	sd, _ := StdDev(a)
	return sd * math.Sqrt(float64(p)), nil
}

// InformationRatio is the annualised active return, p.AnnualReturn(port) −
// p.AnnualReturn(bench), over p.TrackingError (DOMAIN.md §1, as
// PerformanceAnalytics' InformationRatio = ActivePremium / TrackingError).
// empyrical's excess_sharpe instead divides the mean active return by its
// deviation per period, unannualised.
func (p Periods) InformationRatio(port, bench []float64) (float64, error) {
	te, err := p.TrackingError(port, bench)
	if err != nil {
		return 0, fmt.Errorf("information ratio: %w", err)
	}
	a := make([]float64, len(port))
	for i := range port {
		a[i] = port[i] - bench[i]
	}
	if riskFlatSpread(te/math.Sqrt(float64(p)), a) {
		return 0, fmt.Errorf("information ratio of %d returns: active return is constant: %w", len(port), ErrZeroVariance)
	}
	ap, _ := p.AnnualReturn(port)
	ab, _ := p.AnnualReturn(bench)
	return (ap - ab) / te, nil
}

// UpCapture is p.AnnualReturn of the portfolio over the periods where the
// benchmark rose, over p.AnnualReturn of the benchmark in the same periods
// (empyrical's up_capture). One such period is enough; none is ErrEmpty.
// PerformanceAnalytics' UpDownRatios(method = "Capture") divides the
// cumulative returns of those periods, not annualised (the arithmetic sums
// with geometric = FALSE), and counts a flat benchmark period as down;
// the cumulative form agrees with this one only when exactly p periods are
// selected.
func (p Periods) UpCapture(port, bench []float64) (float64, error) {
	return p.capture("up capture", port, bench, func(x float64) bool { return x > 0 })
}

// DownCapture is UpCapture over the periods where the benchmark fell;
// below 1 means the portfolio lost less than the benchmark, and a negative
// figure that it gained while the benchmark fell.
func (p Periods) DownCapture(port, bench []float64) (float64, error) {
	return p.capture("down capture", port, bench, func(x float64) bool { return x < 0 })
}

// CaptureRatio is the whole-period UpCapture / DownCapture (empyrical's
// up_down_capture): above 1 the portfolio gains more in rising markets
// than it loses in falling ones, relative to the benchmark. A negative down
// capture (the portfolio rose while the benchmark fell) makes the ratio
// negative, as in empyrical, though the manager did well; read the two
// captures separately then. A down capture of 0 is ErrZeroVariance.
func (p Periods) CaptureRatio(port, bench []float64) (float64, error) {
	up, err := p.UpCapture(port, bench)
	if err != nil {
		return 0, fmt.Errorf("capture ratio: %w", err)
	}
	down, err := p.DownCapture(port, bench)
	if err != nil {
		return 0, fmt.Errorf("capture ratio: %w", err)
	}
	if down == 0 {
		return 0, fmt.Errorf("capture ratio: down capture is 0: %w", ErrZeroVariance)
	}
	return up / down, nil
}

func (p Periods) capture(what string, port, bench []float64, keep func(float64) bool) (float64, error) {
	if err := p.check(what); err != nil {
		return 0, err
	}
	if err := riskCheckPairN(what, port, bench, 1); err != nil {
		return 0, err
	}
	var ps, bs []float64
	for i := range bench {
		if keep(bench[i]) {
			ps = append(ps, port[i])
			bs = append(bs, bench[i])
		}
	}
	ap, err := p.AnnualReturn(ps)
	if err != nil {
		return 0, fmt.Errorf("%s over %d selected periods: %w", what, len(ps), err)
	}
	ab, _ := p.AnnualReturn(bs)
	if ab == 0 {
		return 0, fmt.Errorf("%s: benchmark annual return is 0: %w", what, ErrZeroVariance)
	}
	return ap / ab, nil
}
