package quant

import (
	"errors"
	"math"
	"testing"
	"time"
)

// metricClose reports whether got is within tol of want.
func metricClose(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol
}

// metricDay is a calendar date at midnight UTC.
func metricDay(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func TestSimpleAndLogReturns(t *testing.T) {
	t.Parallel()
	// Hand computation: 110/100 − 1 = 0.1; 99/110 − 1 = −0.1;
	// ln(110/100) = ln 1.1 = 0.0953101798043249; ln(0.9) = −0.1053605156578263.
	values := []float64{100, 110, 99}
	simple, err := SimpleReturns(values)
	if err != nil {
		t.Fatalf("SimpleReturns(%v): %v", values, err)
	}
	logs, err := LogReturns(values)
	if err != nil {
		t.Fatalf("LogReturns(%v): %v", values, err)
	}
	wantS := []float64{0.1, -0.1}
	wantL := []float64{0.0953101798043249, -0.1053605156578263}
	for i := range wantS {
		if !metricClose(simple[i], wantS[i], 1e-15) || !metricClose(logs[i], wantL[i], 1e-15) {
			t.Errorf("returns %d of %v: simple %v log %v, want %v %v", i, values, simple[i], logs[i], wantS[i], wantL[i])
		}
	}
}

// twrDays is the hand-computed TWR example used below:
//
//	day 1: no flow, 1000 → 1100:              r = 1100/1000 − 1 = 0.1
//	day 2: inflow 500 at the start, → 1650:  r = 1650/(1100+500) − 1 = 0.03125
//	day 3: outflow 200 at the end,  → 1500:  r = (1500+200)/1650 − 1 = 1/33
//
// chained: 1.1 × 1.03125 × 1700/1650 = 1.134375 × 1700/1650 = 1.16875.
var twrDays = []ValuationDay{
	{Date: metricDay(2024, 1, 1), Value: 1000},
	{Date: metricDay(2024, 1, 2), Value: 1100},
	{Date: metricDay(2024, 1, 3), Value: 1650, Inflow: 500},
	{Date: metricDay(2024, 1, 4), Value: 1500, Outflow: 200},
}

func TestDailyTWR(t *testing.T) {
	t.Parallel()
	got, err := DailyTWR(twrDays)
	if err != nil {
		t.Fatalf("DailyTWR: %v", err)
	}
	want := []float64{0.1, 0.03125, 1.0 / 33}
	if len(got) != len(want) {
		t.Fatalf("DailyTWR gave %d returns, want %d", len(got), len(want))
	}
	for i := range want {
		if !metricClose(got[i].Return, want[i], 1e-15) || !got[i].Date.Equal(twrDays[i+1].Date) {
			t.Errorf("day %d: got %v on %v, want %v on %v", i+1, got[i].Return, got[i].Date, want[i], twrDays[i+1].Date)
		}
	}
	cases := []struct {
		name     string
		from, to time.Time
		want     float64
	}{
		{"whole range, hand computation 1.16875 − 1", metricDay(2024, 1, 1), metricDay(2024, 1, 4), 0.16875},
		// 1.03125 × 1700/1650 = 1753.125/1650 = 1.0625
		{"days 2-3, hand computation", metricDay(2024, 1, 2), metricDay(2024, 1, 4), 0.0625},
		{"day 1 only", metricDay(2023, 12, 1), metricDay(2024, 1, 2), 0.1},
	}
	for _, c := range cases {
		r, err := TWRBetween(got, c.from, c.to)
		if err != nil || !metricClose(r, c.want, 1e-14) {
			t.Errorf("%s: TWRBetween(%v, %v) = %v, %v; want %v", c.name, c.from, c.to, r, err, c.want)
		}
	}
}

func TestModifiedDietz(t *testing.T) {
	t.Parallel()
	start, end := metricDay(2023, 1, 1), metricDay(2023, 1, 31) // CD = 30 days
	cases := []struct {
		name  string
		flows []CashFlow
		emv   float64
		want  float64
	}{
		// Hand computation: contribution 10 000 on day 10, w = (30−10)/30 = 2/3;
		// R = (112 000 − 100 000 − 10 000) / (100 000 + 6 666.67) = 2 000 / 106 666.67 = 0.01875.
		{"one contribution", []CashFlow{{metricDay(2023, 1, 11), 10000}}, 112000, 0.01875},
		// Hand computation: add a withdrawal of 5 000 on day 20, w = 1/3: ΣCF = 5 000,
		// Σw·CF = 6 666.67 − 1 666.67 = 5 000; R = (112 000 − 100 000 − 5 000)/105 000 = 1/15.
		{"contribution and withdrawal", []CashFlow{{metricDay(2023, 1, 11), 10000}, {metricDay(2023, 1, 21), -5000}}, 112000, 1.0 / 15},
		// Hand computation: no flows reduces to EMV/BMV − 1 = 0.05.
		{"no flows", nil, 105000, 0.05},
		// Hand computation: a flow on the start date has full weight: (112 000 − 110 000)/110 000.
		{"flow at start", []CashFlow{{start, 10000}}, 112000, 2000.0 / 110000},
	}
	for _, c := range cases {
		got, err := ModifiedDietz(100000, c.emv, start, end, c.flows)
		if err != nil || !metricClose(got, c.want, 1e-14) {
			t.Errorf("%s: ModifiedDietz(100000, %v, %v) = %v, %v; want %v", c.name, c.emv, c.flows, got, err, c.want)
		}
	}
}

func TestXIRRReference(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		flows []CashFlow
		want  float64
		tol   float64
	}{
		{
			// Microsoft Excel documentation, XIRR function, example: 0.373362535.
			// Excel stops iterating at 0.000001 % accuracy, so its figure is
			// only good to about 1e-8; the exact root is 0.37336253352.
			name: "Excel XIRR documentation example",
			flows: []CashFlow{
				{metricDay(2008, 1, 1), -10000},
				{metricDay(2008, 3, 1), 2750},
				{metricDay(2008, 10, 30), 4250},
				{metricDay(2009, 2, 15), 3250},
				{metricDay(2009, 4, 1), 2750},
			},
			want: 0.373362535, tol: 1e-8,
		},
		// Hand computation: 1 100 after exactly 365 days on 1 000 is 10 %.
		{"one year 10%", []CashFlow{{metricDay(2021, 1, 1), -1000}, {metricDay(2022, 1, 1), 1100}}, 0.1, 1e-12},
		// Hand computation: 10 back on 1 000 after 365 days: 10/1000 − 1 = −0.99.
		{"deep loss -99%", []CashFlow{{metricDay(2021, 1, 1), -1000}, {metricDay(2022, 1, 1), 10}}, -0.99, 1e-12},
		// Hand computation: 1 back on 1 000 after 730 days: 0.001^(1/2) − 1 = −0.9683772233983162.
		{"two-year -99.9%", []CashFlow{{metricDay(2021, 1, 1), -1000}, {metricDay(2023, 1, 1), 1}}, -0.9683772233983162, 1e-12},
		// Hand computation: order does not matter; 2 000 after 365 days on 1 000 is 100 %.
		{"unordered", []CashFlow{{metricDay(2022, 1, 1), 2000}, {metricDay(2021, 1, 1), -1000}}, 1, 1e-12},
	}
	for _, c := range cases {
		got, err := XIRR(c.flows)
		if err != nil || !metricClose(got, c.want, c.tol) {
			t.Errorf("%s: XIRR(%v) = %v, %v; want %v", c.name, c.flows, got, err, c.want)
		}
	}
}

// TestXIRRRecoversRate builds flows whose NPV is zero at a known rate (all
// payments before all receipts, so the rate is unique) and checks XIRR
// returns it, deep losses and large gains included. The receipt on day 500
// is small so that the final flow stays positive even at −99 %.
func TestXIRRRecoversRate(t *testing.T) {
	t.Parallel()
	t0 := metricDay(2020, 3, 15)
	for _, rate := range []float64{-0.99, -0.9, -0.5, -0.1, 0, 0.05, 0.373, 1, 2, 10} {
		flows := []CashFlow{
			{t0, -1000},
			{t0.AddDate(0, 0, 200), -300},
			{t0.AddDate(0, 0, 500), 1},
		}
		npv := 0.0
		for _, f := range flows {
			npv += f.Amount * math.Pow(1+rate, -float64(civilDay(f.Date)-civilDay(t0))/365)
		}
		final := t0.AddDate(0, 0, 900)
		flows = append(flows, CashFlow{final, -npv * math.Pow(1+rate, 900.0/365)})
		got, err := XIRR(flows)
		if err != nil || !metricClose(got, rate, 1e-9*math.Max(1, math.Abs(rate))) {
			t.Errorf("XIRR of flows built at %v: got %v, %v (flows %v)", rate, got, err, flows)
		}
	}
}

func TestPeriodMWR(t *testing.T) {
	t.Parallel()
	// Hand computation: 1 050 after 181 days on 1 000 is a 5 % period return;
	// XIRR is 1.05^(365/181) − 1 = 0.10339192671308672, de-annualised back to 0.05.
	flows := []CashFlow{{metricDay(2021, 1, 1), -1000}, {metricDay(2021, 7, 1), 1050}}
	got, annual, err := PeriodMWR(flows)
	if err != nil || annual || !metricClose(got, 0.05, 1e-12) {
		t.Errorf("PeriodMWR(%v) = %v, annual %v, %v; want 0.05 not annual", flows, got, annual, err)
	}
	x, _ := XIRR(flows)
	if !metricClose(x, 0.10339192671308672, 1e-12) {
		t.Errorf("XIRR(%v) = %v, want 0.10339192671308672", flows, x)
	}
	// Over two years the rate stays annual: 1.21 after 730 days is 10 % a year.
	long := []CashFlow{{metricDay(2021, 1, 1), -1000}, {metricDay(2023, 1, 1), 1210}}
	got, annual, err = PeriodMWR(long)
	if err != nil || !annual || !metricClose(got, 0.1, 1e-12) {
		t.Errorf("PeriodMWR(%v) = %v, annual %v, %v; want 0.1 annual", long, got, annual, err)
	}
}

func TestReturnsErrors(t *testing.T) {
	t.Parallel()
	d := metricDay(2024, 1, 1)
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"simple returns of one value", metricErr(SimpleReturns([]float64{100})), ErrEmpty},
		{"simple returns from zero", metricErr(SimpleReturns([]float64{100, 0, 5})), ErrInvalid},
		{"log returns to zero", metricErr(LogReturns([]float64{100, 0})), ErrInvalid},
		{"simple returns NaN", metricErr(SimpleReturns([]float64{100, math.NaN()})), ErrInvalid},
		{"twr of one valuation", metricErr(DailyTWR(twrDays[:1])), ErrEmpty},
		{"twr dates out of order", metricErr(DailyTWR([]ValuationDay{{Date: d, Value: 1}, {Date: d, Value: 2}})), ErrInvalid},
		{"twr zero base", metricErr(DailyTWR([]ValuationDay{{Date: d, Value: 0}, {Date: d.AddDate(0, 0, 1), Value: 2}})), ErrInvalid},
		{"chain nothing", metricErr(ChainReturns(nil)), ErrEmpty},
		{"twr between empty range", metricErr(TWRBetween([]DatedReturn{{d, 0.1}}, d, d.AddDate(0, 0, 5))), ErrEmpty},
		{"dietz flow outside period", metricErr(ModifiedDietz(100, 110, d, d.AddDate(0, 0, 30), []CashFlow{{d.AddDate(0, 0, 31), 5}})), ErrInvalid},
		{"dietz empty period", metricErr(ModifiedDietz(100, 110, d, d, nil)), ErrInvalid},
		{"xirr one flow", metricErr(XIRR([]CashFlow{{d, -100}})), ErrEmpty},
		{"xirr all negative", metricErr(XIRR([]CashFlow{{d, -100}, {d.AddDate(1, 0, 0), -5}})), ErrInvalid},
		{"xirr all positive", metricErr(XIRR([]CashFlow{{d, 100}, {d.AddDate(1, 0, 0), 5}})), ErrInvalid},
		{"xirr one date", metricErr(XIRR([]CashFlow{{d, -100}, {d, 110}})), ErrInvalid},
		// −100, +300, −300 at 0, 1, 2 years: NPV = −(x² − 3x + 3)·100 with x = 1/(1+r)
		// has no real root (discriminant 9 − 12 < 0), so no rate exists.
		{"xirr no root", metricErr(XIRR([]CashFlow{{d, -100}, {d.AddDate(0, 0, 365), 300}, {d.AddDate(0, 0, 730), -300}})), ErrNoConvergence},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: error %v, want wrapping %v", c.name, c.err, c.want)
		}
	}
}

// metricErr drops a function's value and keeps its error.
func metricErr[T any](_ T, err error) error { return err }

// TestXIRRNeedsFallback shows that the −99 % case is solved by the
// bracketing fallback: Newton from 0.1 overshoots below −1 on it.
func TestXIRRNeedsFallback(t *testing.T) {
	t.Parallel()
	flows := []CashFlow{{metricDay(2021, 1, 1), -1000}, {metricDay(2022, 1, 1), 10}}
	if r, ok := xirrNewton(flows, []float64{0, 1}); ok {
		t.Fatalf("newton alone converged to %v on %v; the fallback is not exercised", r, flows)
	}
	r, err := XIRR(flows)
	if err != nil || !metricClose(r, -0.99, 1e-12) {
		t.Errorf("XIRR(%v) = %v, %v; want -0.99", flows, r, err)
	}
}

// metricErr3 keeps the error of a three-result call.
func metricErr3[T, U any](_ T, _ U, err error) error { return err }
