package quant

import (
	"errors"
	"math"
	"testing"
)

// Arrays from empyrical's test suite (quantopian/empyrical,
// tests/test_stats.py), in decimals. empyrical's mixed_returns starts with
// NaN; its annual_return and calmar_ratio count that slot as an
// observation with return 0 (len(returns) is the period count), while
// its volatility, Sharpe, Sortino and Omega drop it. empyricalMixed9 is the
// first form, empyricalMixed8 the second.
var (
	empyricalMixed9   = []float64{0, 0.01, 0.10, -0.04, 0.02, 0.03, 0.02, 0.01, -0.10}
	empyricalMixed8   = []float64{0.01, 0.10, -0.04, 0.02, 0.03, 0.02, 0.01, -0.10}
	empyricalPositive = []float64{0.01, 0.02, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01}
	empyricalNegative = []float64{0, -0.06, -0.07, -0.01, -0.09, -0.02, -0.06, -0.08, -0.05}
)

func TestRiskReference(t *testing.T) {
	t.Parallel()
	// Hand computation for the risk-free Sharpe case: r = [0.01, 0.03],
	// rf per day = 1.04^(1/252) − 1 = 0.000155649862791; mean excess
	// 0.02 − 0.000155649862791; std = √0.0002 = 0.0141421356;
	// Sharpe = 0.019844350137209 / 0.0141421356 × √252 = 22.27522778298467.
	cases := []struct {
		name string
		fn   func() (float64, error)
		want float64
		tol  float64
	}{
		{"empyrical annual_return(mixed_returns, daily) = 1.9135925373194231", func() (float64, error) { return AnnualReturn(empyricalMixed9) }, 1.9135925373194231, 1e-12},
		{"empyrical annual_volatility(mixed_returns) = 0.9136465399704637", func() (float64, error) { return AnnualVolatility(empyricalMixed8) }, 0.9136465399704637, 1e-12},
		{"empyrical sharpe_ratio(mixed_returns, 0) = 1.7238613961706866", func() (float64, error) { return Sharpe(empyricalMixed8, 0) }, 1.7238613961706866, 1e-12},
		{"empyrical sharpe_ratio(positive_returns, 0) = 52.915026221291804", func() (float64, error) { return Sharpe(empyricalPositive, 0) }, 52.915026221291804, 1e-10},
		{"empyrical sharpe_ratio(negative_returns, 0) = -24.406808633910085", func() (float64, error) { return Sharpe(empyricalNegative, 0) }, -24.406808633910085, 1e-10},
		{"empyrical sortino_ratio(mixed_returns, 0) = 2.605531251673693", func() (float64, error) { return Sortino(empyricalMixed8) }, 2.605531251673693, 1e-12},
		{"empyrical calmar_ratio(mixed_returns) = 19.135925373194233", func() (float64, error) { return Calmar(empyricalMixed9) }, 19.135925373194233, 1e-10},
		// empyrical omega_ratio(mixed_returns, 0.0, required_return=10.0) = 0.83354263497557934;
		// its annual 10.0 (1 000 %) becomes the daily threshold 11^(1/252) − 1.
		{"empyrical omega_ratio(mixed_returns, 0, 10) = 0.83354263497557934", func() (float64, error) { return Omega(empyricalMixed8, math.Pow(11, 1.0/252)-1) }, 0.83354263497557934, 1e-12},
		// Hand computation: gains above 0 sum to 1+10+2+3+2+1 = 19 %, losses to 4+10 = 14 %.
		{"omega at 0, hand computation 19/14", func() (float64, error) { return Omega(empyricalMixed8, 0) }, 19.0 / 14, 1e-14},
		// Hand computation: std([0.01, −0.01]) = √0.0002; × √252 = √0.0504 = 0.2244994432064365.
		{"volatility, hand computation", func() (float64, error) { return AnnualVolatility([]float64{0.01, -0.01}) }, 0.2244994432064365, 1e-15},
		{"sharpe with rf 4 %, hand computation", func() (float64, error) { return Sharpe([]float64{0.01, 0.03}, 0.04) }, 22.27522778298467, 1e-10},
		// Hand computation: (1.01 × 0.99)^(252/2) − 1 = 0.9999^126 − 1 = −0.012522...;
		// exactly math.Pow(0.9999, 126) − 1.
		{"annual return, hand computation", func() (float64, error) { return AnnualReturn([]float64{0.01, -0.01}) }, math.Pow(0.9999, 126) - 1, 1e-15},
		// Hand computation: 2 winning days of 4 (0 is not a win).
		{"win rate, hand computation", func() (float64, error) { return WinRate([]float64{0.01, 0, -0.01, 0.02}) }, 0.5, 0},
		// Hand computation: DD = √((0.01² + 0.03²)/4) = √0.00025; × √252 = √0.063 = 0.25099800796022265.
		{"downside deviation, hand computation", func() (float64, error) { return DownsideDeviation([]float64{0.02, -0.01, 0.01, -0.03}) }, 0.25099800796022265, 1e-15},
	}
	for _, c := range cases {
		got, err := c.fn()
		if err != nil || !metricClose(got, c.want, c.tol) {
			t.Errorf("%s: got %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}

func TestBenchmarkRelative(t *testing.T) {
	t.Parallel()
	// Beta and alpha, hand computation: p = 2·b + 0.001 exactly, so β = 2,
	// mean(p − 2b) = 0.001 and α = 1.001^252 − 1 = 0.28643404437615216.
	b := []float64{0.01, -0.02, 0.03, 0.00}
	p := []float64{0.021, -0.039, 0.061, 0.001}
	// TE and IR, hand computation: active = [0.01, −0.01, 0.01, −0.01], mean 0,
	// std = √(4·0.0001/3) = 0.011547; TE = 0.011547 × √252 = 0.18330302779823363.
	// AR(p2) = (1.01·1.03)^63 − 1 = 1.0403^63 − 1 = 11.05012923730722,
	// AR(b2) = (1.01·1.02·1.01)^63 − 1 = 1.040502^63 − 1 = 11.19842941721954,
	// IR = (11.05012923730722 − 11.19842941721954) / 0.18330302779823363 = −0.8090438095521166.
	b2 := []float64{0.0, 0.01, 0.02, 0.01}
	p2 := []float64{0.01, 0.0, 0.03, 0.0}
	// Captures, hand computation: up periods (b > 0) are days 1 and 3 with
	// p = 0.02, 0.01 and b = 0.01, 0.02: equal products, up capture 1.
	// Down periods: p = −0.01, −0.03 (0.99·0.97 = 0.9603), b = −0.02, −0.01
	// (0.98·0.99 = 0.9702); down capture = (0.9603^126 − 1)/(0.9702^126 − 1) = 1.0163978230015436.
	b3 := []float64{0.01, -0.02, 0.02, -0.01}
	p3 := []float64{0.02, -0.01, 0.01, -0.03}
	cases := []struct {
		name string
		fn   func([]float64, []float64) (float64, error)
		p, b []float64
		want float64
		tol  float64
	}{
		{"beta", Beta, p, b, 2, 1e-12},
		{"alpha", Alpha, p, b, 0.28643404437615216, 1e-10},
		{"tracking error", TrackingError, p2, b2, 0.18330302779823363, 1e-14},
		{"information ratio", InformationRatio, p2, b2, -0.8090438095521166, 1e-10},
		{"up capture", UpCapture, p3, b3, 1, 1e-12},
		{"down capture", DownCapture, p3, b3, 1.0163978230015436, 1e-12},
		// Beta of a series on itself is 1 and its alpha 0.
		{"beta on itself", Beta, empyricalMixed8, empyricalMixed8, 1, 1e-14},
		{"alpha on itself", Alpha, empyricalMixed8, empyricalMixed8, 0, 1e-14},
	}
	for _, c := range cases {
		got, err := c.fn(c.p, c.b)
		if err != nil || !metricClose(got, c.want, c.tol) {
			t.Errorf("%s(p=%v, b=%v) = %v, %v; want %v", c.name, c.p, c.b, got, err, c.want)
		}
	}
}

func TestRiskErrors(t *testing.T) {
	t.Parallel()
	flat := []float64{0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01}
	up := []float64{0.01, 0.02, 0.03}
	two := []float64{0.01, 0.02}
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"annual return of nothing", metricErr(AnnualReturn(nil)), ErrEmpty},
		{"volatility of one", metricErr(AnnualVolatility([]float64{0.01})), ErrEmpty},
		{"annual return below -100%", metricErr(AnnualReturn([]float64{0.01, -1.5})), ErrInvalid},
		{"volatility with NaN", metricErr(AnnualVolatility([]float64{0.01, math.NaN()})), ErrInvalid},
		{"sharpe of one", metricErr(Sharpe([]float64{0.01}, 0)), ErrEmpty},
		{"sharpe of constant (empyrical flat_line_1)", metricErr(Sharpe(flat, 0)), ErrZeroVariance},
		{"sharpe with constant excess at rf 4%", metricErr(Sharpe(flat, 0.04)), ErrZeroVariance},
		{"sharpe with rf -100%", metricErr(Sharpe(up, -1)), ErrInvalid},
		{"sortino without losses", metricErr(Sortino(empyricalPositive)), ErrZeroVariance},
		{"calmar without drawdown", metricErr(Calmar(up)), ErrZeroVariance},
		{"omega nothing below", metricErr(Omega(up, 0)), ErrZeroVariance},
		{"beta mismatched", metricErr(Beta(up, two)), ErrLength},
		{"beta flat benchmark", metricErr(Beta(up, flat[:3])), ErrZeroVariance},
		{"alpha flat benchmark", metricErr(Alpha(up, flat[:3])), ErrZeroVariance},
		{"tracking error mismatched", metricErr(TrackingError(up, two)), ErrLength},
		{"information ratio identical", metricErr(InformationRatio(up, up)), ErrZeroVariance},
		{"up capture, no up periods", metricErr(UpCapture(up, []float64{-0.01, -0.02, 0})), ErrEmpty},
		{"down capture, no down period", metricErr(DownCapture(up, []float64{0.01, 0.02, 0})), ErrEmpty},
		{"win rate of nothing", metricErr(WinRate(nil)), ErrEmpty},
		{"downside deviation of nothing", metricErr(DownsideDeviation(nil)), ErrEmpty},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: error %v, want wrapping %v", c.name, c.err, c.want)
		}
	}
}
