package quant

import (
	"errors"
	"math"
	"testing"
)

// TestGuardsAcceptDefinedCases covers the inputs the guards used to refuse
// although the figure is defined: one observation for a compound growth
// rate, a downside deviation, a drawdown, a win rate, a capture, a
// historical quantile. Values are empyrical's published ones where it has
// them (tests/test_stats.py, one_return = [0.01]) and hand computations
// otherwise.
func TestGuardsAcceptDefinedCases(t *testing.T) {
	t.Parallel()
	one := []float64{0.01}
	cases := []struct {
		name string
		fn   func() (float64, error)
		want float64
		tol  float64
	}{
		{"empyrical cagr(one_return) = 11.274002099240244", func() (float64, error) { return AnnualReturn(one) }, 11.274002099240244, 1e-12},
		// Hand computation: one month's 1 % is 1.01^12 − 1 = 0.12682503013196977 a year.
		{"monthly annual return of one month", func() (float64, error) { return Monthly.AnnualReturn(one) }, math.Pow(1.01, 12) - 1, 1e-15},
		{"empyrical downside_risk(one_return, 0) = 0", func() (float64, error) { return DownsideDeviation(one) }, 0, 0},
		// Hand computation: mean −0.02 × 252 / (0.02 × √252) = −√252.
		{"sortino of one loss", func() (float64, error) { return Sortino([]float64{-0.02}) }, -math.Sqrt(252), 1e-12},
		// Hand computation: (0.9^252 − 1) / 0.1 = −9.999999999970548.
		{"calmar of one loss", func() (float64, error) { return Calmar([]float64{-0.1}) }, (math.Pow(0.9, 252) - 1) / 0.1, 1e-12},
		// Hand computation: no gain above 0, a loss of 0.01 below: 0/0.01.
		{"omega of one loss", func() (float64, error) { return Omega([]float64{-0.01}, 0) }, 0, 0},
		{"win rate of one win", func() (float64, error) { return WinRate(one) }, 1, 0},
		// Hand computation: (1.02^252 − 1)/(1.01^252 − 1) = 12.947925337870121.
		{"up capture of one period", func() (float64, error) { return UpCapture([]float64{0.02}, one) }, (math.Pow(1.02, 252) - 1) / (math.Pow(1.01, 252) - 1), 1e-9},
		// The case TestRiskErrors used to refuse: one down period, p = 0.01 while b = −0.01:
		// (1.01^252 − 1)/(0.99^252 − 1) = −12.246968004171402.
		{"down capture of one period", func() (float64, error) {
			return DownCapture([]float64{0.01, 0.02, 0.03}, []float64{-0.01, 0.02, 0})
		}, (math.Pow(1.01, 252) - 1) / (math.Pow(0.99, 252) - 1), 1e-9},
		{"max drawdown of one value", func() (float64, error) { d, err := MaxDrawdown([]float64{100}); return d.Depth, err }, 0, 0},
		{"max drawdown of one gain", func() (float64, error) { d, err := MaxDrawdownOfReturns([]float64{0.1}); return d.Depth, err }, 0, 0},
		{"max drawdown of one loss", func() (float64, error) { d, err := MaxDrawdownOfReturns([]float64{-0.1}); return d.Depth, err }, -0.1, 1e-15},
		{"current drawdown of one value", func() (float64, error) { return CurrentDrawdown([]float64{100}) }, 0, 0},
		{"drawdown series of one value", func() (float64, error) { s, err := DrawdownSeries([]float64{100}); return s[0], err }, 0, 0},
		// The quantile of one value is that value, at any confidence.
		{"historical var of one return", func() (float64, error) { return HistoricalVaR([]float64{-0.03}, 0.95) }, 0.03, 0},
		{"historical es of one return", func() (float64, error) { return HistoricalES([]float64{-0.03}, 0.99) }, 0.03, 0},
		{"empyrical tail_ratio(one_return) = 1", func() (float64, error) { return TailRatio(one) }, 1, 0},
		{"mean absolute deviation of one", func() (float64, error) { return MeanAbsoluteDeviation(one) }, 0, 0},
		{"semi-deviation of one", func() (float64, error) { return Monthly.SemiDeviation(one) }, 0, 0},
		{"max drawdown duration of one value", func() (float64, error) { d, err := MaxDrawdownDuration([]float64{100}); return float64(d.Periods), err }, 0, 0},
	}
	for _, c := range cases {
		got, err := c.fn()
		if err != nil || !metricClose(got, c.want, c.tol) {
			t.Errorf("%s: got %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}

// TestGuardsRefuseUndefined keeps the refusals that are undefined: no
// observation at all, or fewer than the estimator needs.
func TestGuardsRefuseUndefined(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
	}{
		{"annual return of nothing", metricErr(Monthly.AnnualReturn(nil))},
		{"sharpe of one (no ddof-1 deviation)", metricErr(Monthly.Sharpe([]float64{0.01}, 0))},
		{"beta of one", metricErr(Beta([]float64{0.01}, []float64{0.02}))},
		{"capm risk of one", metricErr(Monthly.CAPMRisk([]float64{0.01}, []float64{0.02}))},
		{"skewness of two", metricErr(Skewness([]float64{0.01, 0.02}))},
		{"excess kurtosis of three", metricErr(ExcessKurtosis([]float64{0.01, 0.02, 0.04}))},
		{"stability of one", metricErr(Stability([]float64{0.01}))},
		{"gaussian var of one", metricErr(GaussianVaR([]float64{0.01}, 0.95))},
		{"downside potential of nothing", metricErr(DownsidePotential(nil, 0))},
		{"max drawdown duration of nothing", metricErr(MaxDrawdownDuration(nil))},
		{"up capture without up periods", metricErr(Monthly.UpCapture([]float64{0.01}, []float64{-0.01}))},
	}
	for _, c := range cases {
		if !errors.Is(c.err, ErrEmpty) {
			t.Errorf("%s: error %v, want wrapping %v", c.name, c.err, ErrEmpty)
		}
	}
}
