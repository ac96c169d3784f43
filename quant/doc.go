// Package quant holds the finance math of DawsOS: returns, risk, attribution,
// regression, simulation, optimisation and tax-lot relief.
//
// The package is pure: slices and values in, numbers out; no I/O, no context,
// no database. Conventions follow shared/DOMAIN.md §1 and each function states
// the one it uses (rates and weights are decimals, 252 periods a year unless
// told otherwise, sample standard deviation with ddof 1) and where
// PerformanceAnalytics, empyrical or Portfolio Performance differ.
//
// Frequency: every annualised figure is a method of Periods, the number of
// return periods in a year: Daily (252), Weekly (52), Monthly (12),
// Quarterly (4), Yearly (1) or any other positive count, as in
// Monthly.Sharpe(r, 0.04) or Weekly.Sortino(r, mar). The package-level
// AnnualReturn, AnnualVolatility, Sharpe, Sortino, DownsideDeviation,
// Calmar, Alpha, TrackingError, InformationRatio, UpCapture and DownCapture
// are the Daily forms, with the signatures and results they always had
// (Sortino(r) is Daily.Sortino(r, 0)). A minimum acceptable return (mar) is
// per period, like the returns (Periods.PerPeriodRate converts an annual
// one); a risk-free rate is annual (rfAnnual) and converted inside.
//
// Guards: a function refuses only input on which it is undefined: an empty
// series; fewer observations than its estimator needs (two for a ddof-1
// deviation or a slope, three for skewness, four for kurtosis, otherwise
// one, so a single period has an annual return); a zero denominator (zero
// variance, no drawdown, nothing below the minimum acceptable return);
// mismatched lengths; singular matrices. Such input returns an error
// wrapping one of the sentinels below, never NaN or Inf.
package quant
