package quant

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// empyricalPeriodic is empyrical's weekly_returns and monthly_returns
// (tests/test_stats.py): the same nine numbers, 0, 1, 10, −4, 2, 3, 2, 1,
// −10 %, dated weekly or monthly; unlike mixed_returns they start with 0,
// not NaN.
var empyricalPeriodic = []float64{0, 0.01, 0.10, -0.04, 0.02, 0.03, 0.02, 0.01, -0.10}

// Bacon's portfolio and benchmark (Practical Portfolio Performance
// Measurement and Attribution, 2008), 24 monthly returns, as
// PerformanceAnalytics ships them in data/portfolio_bacon.csv.
var (
	baconPortfolio = []float64{0.003, 0.026, 0.011, -0.010, 0.015, 0.025, 0.016, 0.067, -0.014, 0.040, -0.005, 0.081,
		0.040, -0.037, -0.061, 0.017, -0.049, -0.022, 0.070, 0.058, -0.065, 0.024, -0.005, -0.009}
	baconBenchmark = []float64{0.002, 0.025, 0.018, -0.011, 0.014, 0.018, 0.014, 0.065, -0.015, 0.042, -0.006, 0.083,
		0.039, -0.038, -0.062, 0.015, -0.048, 0.021, 0.060, 0.056, -0.067, 0.019, -0.003, 0}
)

// TestPeriodsReference checks the Periods forms against empyrical's
// published weekly, monthly and daily test values (tests/test_stats.py,
// asserted there to 8 decimals).
func TestPeriodsReference(t *testing.T) {
	t.Parallel()
	w := empyricalPeriodic
	cases := []struct {
		name string
		fn   func() (float64, error)
		want float64
	}{
		{"annual_return(weekly_returns, WEEKLY) = 0.24690830513998208", func() (float64, error) { return Weekly.AnnualReturn(w) }, 0.24690830513998208},
		{"annual_return(monthly_returns, MONTHLY) = 0.052242061386048144", func() (float64, error) { return Monthly.AnnualReturn(w) }, 0.052242061386048144},
		{"annual_volatility(weekly_returns, WEEKLY) = 0.38851569394870583", func() (float64, error) { return Weekly.AnnualVolatility(w) }, 0.38851569394870583},
		{"annual_volatility(monthly_returns, MONTHLY) = 0.18663690238892558", func() (float64, error) { return Monthly.AnnualVolatility(w) }, 0.18663690238892558},
		{"calmar_ratio(weekly_returns, WEEKLY) = 2.4690830513998208", func() (float64, error) { return Weekly.Calmar(w) }, 2.4690830513998208},
		{"calmar_ratio(monthly_returns, MONTHLY) = 0.52242061386048144", func() (float64, error) { return Monthly.Calmar(w) }, 0.52242061386048144},
		{"downside_risk(weekly_returns, 0, WEEKLY) = 0.25888650451930134", func() (float64, error) { return Weekly.DownsideDeviation(w, 0) }, 0.25888650451930134},
		{"downside_risk(weekly_returns, 0.1, WEEKLY) = 0.7733045971672482", func() (float64, error) { return Weekly.DownsideDeviation(w, 0.1) }, 0.7733045971672482},
		{"downside_risk(monthly_returns, 0, MONTHLY) = 0.1243650540411842", func() (float64, error) { return Monthly.DownsideDeviation(w, 0) }, 0.1243650540411842},
		{"downside_risk(monthly_returns, 0.1, MONTHLY) = 0.37148351242013422", func() (float64, error) { return Monthly.DownsideDeviation(w, 0.1) }, 0.37148351242013422},
		{"downside_risk(mixed_returns, 0.1, DAILY) = 1.7161730681956295", func() (float64, error) { return Daily.DownsideDeviation(empyricalMixed8, 0.1) }, 1.7161730681956295},
		{"sortino_ratio(weekly_returns, 0, WEEKLY) = 1.1158901056866439", func() (float64, error) { return Weekly.Sortino(w, 0) }, 1.1158901056866439},
		{"sortino_ratio(monthly_returns, 0, MONTHLY) = 0.53605626741889756", func() (float64, error) { return Monthly.Sortino(w, 0) }, 0.53605626741889756},
		// required_return = flat_line_1, 0.01 every day.
		{"sortino_ratio(mixed_returns, flat_line_1, DAILY) = -1.3934779588919977", func() (float64, error) { return Daily.Sortino(empyricalMixed8, 0.01) }, -1.3934779588919977},
		{"sortino_ratio(negative_returns, 0, DAILY) = -13.532743075043401", func() (float64, error) { return Sortino(empyricalNegative) }, -13.532743075043401},
		// alpha_beta(mixed_returns, negative_returns[1:]) = (−0.9997853834885004, −0.71296296296296313);
		// the alignment drops mixed_returns' leading NaN.
		{"alpha(mixed_returns, negative_returns[1:]) = -0.9997853834885004", func() (float64, error) { return Daily.Alpha(empyricalMixed8, empyricalNegative[1:]) }, -0.9997853834885004},
		{"jensen alpha at rf 0 is empyrical's alpha too", func() (float64, error) { return Daily.JensenAlpha(empyricalMixed8, empyricalNegative[1:], 0) }, -0.9997853834885004},
		// up_down_capture(positive_returns, mixed_returns) and (all_negative_returns,
		// mixed_returns); the benchmark's NaN row falls in neither side.
		{"up_down_capture(positive_returns, mixed_returns) = -0.0006756053495", func() (float64, error) { return Daily.CaptureRatio(empyricalPositive[1:], empyricalMixed8) }, -0.0006756053495},
		{"up_down_capture(all_negative_returns, mixed_returns) = -0.0004338236", func() (float64, error) {
			return Daily.CaptureRatio([]float64{-0.06, -0.07, -0.01, -0.09, -0.02, -0.06, -0.08, -0.05}, empyricalMixed8)
		}, -0.0004338236},
	}
	for _, c := range cases {
		got, err := c.fn()
		if err != nil || !metricClose(got, c.want, 1e-10*math.Max(1, math.Abs(c.want))) {
			t.Errorf("empyrical %s: got %v, %v", c.name, got, err)
		}
	}
}

// TestPeriodsHand covers what empyrical does not publish, by hand.
func TestPeriodsHand(t *testing.T) {
	t.Parallel()
	two := []float64{0.01, 0.03}
	cases := []struct {
		name string
		fn   func() (float64, error)
		want float64
		tol  float64
	}{
		// 4 % a year over 12 months: 1.04^(1/12) − 1 = 0.0032737397821989145.
		{"monthly rate of 4 %", func() (float64, error) { return Monthly.PerPeriodRate(0.04) }, math.Pow(1.04, 1.0/12) - 1, 1e-17},
		// 1.04 − 1 in binary is 0.04 + 3.6e-17.
		{"yearly rate is the rate", func() (float64, error) { return Yearly.PerPeriodRate(0.04) }, 0.04, 1e-16},
		// Sharpe of [0.01, 0.03] monthly at rf 4 %: mean excess 0.02 − 0.0032737397821989145,
		// std √0.0002; × √12 = 0.016726260217801085 / 0.014142135623730951 × 3.4641016151377544
		// = 4.097080283862608.
		{"monthly sharpe at 4 %", func() (float64, error) { return Monthly.Sharpe(two, 0.04) }, (0.02 - (math.Pow(1.04, 1.0/12) - 1)) / math.Sqrt(0.0002) * math.Sqrt(12), 1e-12},
		// Tracking error of p2, b2 in TestBenchmarkRelative monthly: std of the active
		// returns √(4·0.0001/3) × √12 = √0.0016 = 0.04.
		{"monthly tracking error", func() (float64, error) {
			return Monthly.TrackingError([]float64{0.01, 0.0, 0.03, 0.0}, []float64{0.0, 0.01, 0.02, 0.01})
		}, 0.04, 1e-15},
		// Information ratio of the same, quarterly: AR(p) = (1.01·1.03)^(4/4) − 1 = 0.0403,
		// AR(b) = 1.01·1.02·1.01 − 1 = 0.040502; TE = √(4·0.0001/3)·√4 = 0.023094010767585032;
		// IR = −0.000202 / 0.023094010767585032 = −0.00874685657822283.
		{"quarterly information ratio", func() (float64, error) {
			return Quarterly.InformationRatio([]float64{0.01, 0.0, 0.03, 0.0}, []float64{0.0, 0.01, 0.02, 0.01})
		}, -0.000202 / (math.Sqrt(0.0004/3) * 2), 1e-12},
		// Alpha of p = 2b + 0.001 monthly: 1.001^12 − 1 = 0.012066220495791535.
		{"monthly alpha", func() (float64, error) {
			return Monthly.Alpha([]float64{0.021, -0.039, 0.061, 0.001}, []float64{0.01, -0.02, 0.03, 0.00})
		}, math.Pow(1.001, 12) - 1, 1e-14},
		// Up capture monthly of p3, b3 (TestBenchmarkRelative): equal products, 1;
		// down capture (0.9603^(12/2) − 1)/(0.9702^(12/2) − 1).
		{"monthly down capture", func() (float64, error) {
			return Monthly.DownCapture([]float64{0.02, -0.01, 0.01, -0.03}, []float64{0.01, -0.02, 0.02, -0.01})
		}, (math.Pow(0.9603, 6) - 1) / (math.Pow(0.9702, 6) - 1), 1e-13},
		{"monthly capture ratio", func() (float64, error) {
			return Monthly.CaptureRatio([]float64{0.02, -0.01, 0.01, -0.03}, []float64{0.01, -0.02, 0.02, -0.01})
		}, (math.Pow(0.9702, 6) - 1) / (math.Pow(0.9603, 6) - 1), 1e-12},
	}
	for _, c := range cases {
		got, err := c.fn()
		if err != nil || !metricClose(got, c.want, c.tol) {
			t.Errorf("%s: got %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}

// TestPeriodsProperties: on seeded random series (test inputs, not data),
// the Daily methods are the package-level functions exactly; deviations
// scale by √(p/252); twelve monthly returns annualise to their chained
// return; a higher mar never lowers the downside deviation (empyrical's
// test_downside_risk_trans).
func TestPeriodsProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(12, 52))
	for trial := range 40 {
		n := 12 + rng.IntN(200)
		p, b := make([]float64, n), make([]float64, n)
		for i := range p {
			b[i] = 0.004 + 0.04*rng.NormFloat64()
			p[i] = 0.001 + 1.1*b[i] + 0.02*rng.NormFloat64()
		}
		pairs := []struct {
			name   string
			legacy func() (float64, error)
			daily  func() (float64, error)
		}{
			{"AnnualReturn", func() (float64, error) { return AnnualReturn(p) }, func() (float64, error) { return Daily.AnnualReturn(p) }},
			{"Sharpe", func() (float64, error) { return Sharpe(p, 0.04) }, func() (float64, error) { return Daily.Sharpe(p, 0.04) }},
			{"Sortino", func() (float64, error) { return Sortino(p) }, func() (float64, error) { return Daily.Sortino(p, 0) }},
			{"DownsideDeviation", func() (float64, error) { return DownsideDeviation(p) }, func() (float64, error) { return Daily.DownsideDeviation(p, 0) }},
			{"Alpha", func() (float64, error) { return Alpha(p, b) }, func() (float64, error) { return Daily.JensenAlpha(p, b, 0) }},
			{"InformationRatio", func() (float64, error) { return InformationRatio(p, b) }, func() (float64, error) { return Daily.InformationRatio(p, b) }},
		}
		for _, c := range pairs {
			x, e1 := c.legacy()
			y, e2 := c.daily()
			if x != y || (e1 == nil) != (e2 == nil) {
				t.Errorf("trial %d: %s = %v, %v; Daily form %v, %v", trial, c.name, x, e1, y, e2)
			}
		}
		dv, _ := Daily.AnnualVolatility(p)
		mv, _ := Monthly.AnnualVolatility(p)
		dd, _ := Daily.DownsideDeviation(p, 0.001)
		md, _ := Monthly.DownsideDeviation(p, 0.001)
		if !metricClose(mv, dv*math.Sqrt(12.0/252), 1e-12) || !metricClose(md, dd*math.Sqrt(12.0/252), 1e-12) {
			t.Errorf("trial %d: monthly vol %v, dd %v; daily × √(12/252) %v, %v", trial, mv, md, dv*math.Sqrt(12.0/252), dd*math.Sqrt(12.0/252))
		}
		ar, _ := Monthly.AnnualReturn(p[:12])
		ch, _ := ChainReturns(p[:12])
		if !metricClose(ar, ch, 1e-12) {
			t.Errorf("trial %d: Monthly.AnnualReturn of 12 months %v, chained %v", trial, ar, ch)
		}
		lo, _ := Weekly.DownsideDeviation(p, -0.005)
		mid, _ := Weekly.DownsideDeviation(p, 0)
		hi, _ := Weekly.DownsideDeviation(p, 0.005)
		if lo > mid || mid > hi {
			t.Errorf("trial %d: downside deviation at mar −0.5 %%, 0, 0.5 %%: %v, %v, %v", trial, lo, mid, hi)
		}
	}
}

func TestPeriodsErrors(t *testing.T) {
	t.Parallel()
	r := []float64{0.01, -0.02, 0.03}
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"zero periods", metricErr(Periods(0).AnnualReturn(r)), ErrInvalid},
		{"negative periods", metricErr(Periods(-12).Sharpe(r, 0)), ErrInvalid},
		{"zero periods, pair", metricErr(Periods(0).TrackingError(r, r)), ErrInvalid},
		{"zero periods, rate", metricErr(Periods(0).PerPeriodRate(0.04)), ErrInvalid},
		{"rate of -100 %", metricErr(Monthly.PerPeriodRate(-1)), ErrInvalid},
		{"mar NaN", metricErr(Monthly.Sortino(r, math.NaN())), ErrInvalid},
		{"mar +Inf", metricErr(Monthly.DownsideDeviation(r, math.Inf(1))), ErrInvalid},
		{"sortino, nothing below mar", metricErr(Monthly.Sortino(r, -0.05)), ErrZeroVariance},
		{"capture ratio, down capture 0", metricErr(Daily.CaptureRatio([]float64{0.01, 0}, []float64{0.01, -0.01})), ErrZeroVariance},
		{"capture ratio, no down period", metricErr(Daily.CaptureRatio(r, []float64{0.01, 0.02, 0})), ErrEmpty},
		{"monthly volatility of one", metricErr(Monthly.AnnualVolatility(r[:1])), ErrEmpty},
		{"monthly alpha mismatched", metricErr(Monthly.Alpha(r, r[:2])), ErrLength},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: error %v, want wrapping %v", c.name, c.err, c.want)
		}
	}
}
