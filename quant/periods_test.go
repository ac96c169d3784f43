package quant

import (
	"errors"
	"testing"
	"time"
)

// periodsFixture: inception 2018-12-31, as of 2024-05-15. Sparse dated
// returns, so each period's set can be read off by hand:
//
//	2019-03-01 +0.20  since inception only (5y base is 2019-05-15)
//	2020-01-10 +0.10  5y
//	2021-06-01 −0.10  3y (base 2021-05-15)
//	2023-06-01 +0.05  1y (base 2023-05-15)
//	2024-01-02 +0.02  YTD (base 2023-12-31)
//	2024-03-29 −0.01  YTD, not QTD (base 2024-03-31)
//	2024-04-15 +0.03  QTD, not MTD (base 2024-04-30)
//	2024-05-02 +0.01  MTD
//	2024-05-20 +0.50  after as-of: ignored
var periodsFixture = []DatedReturn{
	{metricDay(2019, 3, 1), 0.20},
	{metricDay(2020, 1, 10), 0.10},
	{metricDay(2021, 6, 1), -0.10},
	{metricDay(2023, 6, 1), 0.05},
	{metricDay(2024, 1, 2), 0.02},
	{metricDay(2024, 3, 29), -0.01},
	{metricDay(2024, 4, 15), 0.03},
	{metricDay(2024, 5, 2), 0.01},
	{metricDay(2024, 5, 20), 0.50},
}

func TestComputePeriodReturns(t *testing.T) {
	t.Parallel()
	got, err := ComputePeriodReturns(metricDay(2018, 12, 31), periodsFixture, metricDay(2024, 5, 15))
	if err != nil {
		t.Fatalf("ComputePeriodReturns: %v", err)
	}
	// Hand computation:
	//   MTD = 0.01
	//   QTD = 1.03 × 1.01 − 1 = 0.0403
	//   YTD = 1.02 × 0.99 × 1.03 × 1.01 − 1 = 0.05049494
	//   1y  = 1.05049494 × 1.05 − 1 = 0.103019687
	//   3y  = 1.103019687 × 0.9 = 0.9927177183 over 1 096 days (2024 is leap):
	//         0.9927177183^(365/1096) − 1 = −0.0024311260886
	//   5y  = 0.9927177183 × 1.1 = 1.09198949013 over 1 827 days:
	//         1.09198949013^(365/1827) − 1 = 0.0177364389158
	//   SI  = 1.09198949013 × 1.2 = 1.310387388156 over 1 962 days:
	//         1.310387388156^(365/1962) − 1 = 0.0515753904367
	cases := []struct {
		name string
		got  *float64
		want float64
	}{
		{"MTD", got.MTD, 0.01},
		{"QTD", got.QTD, 0.0403},
		{"YTD", got.YTD, 0.05049494},
		{"1y", got.OneYear, 0.103019687},
		{"3y ann", got.ThreeYearAnn, -0.0024311260886},
		{"5y ann", got.FiveYearAnn, 0.0177364389158},
		{"since inception ann", got.SinceInception, 0.0515753904367},
	}
	for _, c := range cases {
		if c.got == nil || !metricClose(*c.got, c.want, 1e-12) {
			t.Errorf("%s as of 2024-05-15: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if !got.SinceInceptionAnnualised {
		t.Errorf("since inception over 1 962 days not flagged annualised")
	}
}

func TestComputePeriodReturnsShortHistory(t *testing.T) {
	t.Parallel()
	// Inception 2024-02-10: MTD and QTD are covered, YTD, 1y, 3y, 5y are not;
	// since inception = 1.01 × 0.99 × 1.03 − 1 = 0.029897, not annualised.
	rets := []DatedReturn{
		{metricDay(2024, 2, 12), 0.01},
		{metricDay(2024, 3, 29), -0.01},
		{metricDay(2024, 4, 15), 0.03},
	}
	got, err := ComputePeriodReturns(metricDay(2024, 2, 10), rets, metricDay(2024, 5, 15))
	if err != nil {
		t.Fatalf("ComputePeriodReturns: %v", err)
	}
	if got.YTD != nil || got.OneYear != nil || got.ThreeYearAnn != nil || got.FiveYearAnn != nil {
		t.Errorf("periods before inception reported: YTD %v 1y %v 3y %v 5y %v", got.YTD, got.OneYear, got.ThreeYearAnn, got.FiveYearAnn)
	}
	// MTD: no return in May up to the 15th, so the value did not move.
	if got.MTD == nil || *got.MTD != 0 || got.QTD == nil || !metricClose(*got.QTD, 0.03, 1e-15) {
		t.Errorf("MTD %v QTD %v, want 0 and 0.03", got.MTD, got.QTD)
	}
	if got.SinceInception == nil || got.SinceInceptionAnnualised || !metricClose(*got.SinceInception, 0.029897, 1e-12) {
		t.Errorf("since inception %v annualised %v, want 0.029897 not annualised", got.SinceInception, got.SinceInceptionAnnualised)
	}
}

func TestAnnualiseCalendarReturn(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		total    float64
		from, to time.Time
		want     float64
		annual   bool
	}{
		// One calendar year of 366 days (2020 is leap) stays as is.
		{"leap year not annualised", 0.10, metricDay(2020, 1, 1), metricDay(2021, 1, 1), 0.10, false},
		{"half year not annualised", 0.04, metricDay(2021, 1, 1), metricDay(2021, 7, 1), 0.04, false},
		// Hand computation: 1.21^(365/731) − 1 = 0.0998565877383 (731 days).
		{"two years annualised", 0.21, metricDay(2020, 1, 1), metricDay(2022, 1, 1), 0.0998565877383, true},
		// Hand computation: 365-day years, 1.331 over 1 095 days: 1.1 − 1.
		{"three 365-day years", 0.331, metricDay(2021, 1, 1), metricDay(2024, 1, 1), 0.1, true},
	}
	for _, c := range cases {
		got, ann, err := AnnualiseCalendarReturn(c.total, c.from, c.to)
		if err != nil || ann != c.annual || !metricClose(got, c.want, 1e-12) {
			t.Errorf("%s: AnnualiseCalendarReturn(%v, %v, %v) = %v, %v, %v; want %v, %v", c.name, c.total, c.from, c.to, got, ann, err, c.want, c.annual)
		}
	}
}

func TestPeriodErrors(t *testing.T) {
	t.Parallel()
	d := metricDay(2024, 1, 1)
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"no returns", metricErr(ComputePeriodReturns(d, nil, d)), ErrEmpty},
		{"as of before inception", metricErr(ComputePeriodReturns(d, []DatedReturn{{d.AddDate(0, 0, 1), 0.1}}, d.AddDate(0, 0, -1))), ErrInvalid},
		{"return on inception day", metricErr(ComputePeriodReturns(d, []DatedReturn{{d, 0.1}}, d.AddDate(0, 0, 3))), ErrInvalid},
		{"unsorted", metricErr(ComputePeriodReturns(d, []DatedReturn{{d.AddDate(0, 0, 2), 0.1}, {d.AddDate(0, 0, 1), 0.1}}, d.AddDate(0, 0, 3))), ErrInvalid},
		{"annualise empty period", metricErr3(AnnualiseCalendarReturn(0.1, d, d)), ErrInvalid},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: error %v, want wrapping %v", c.name, c.err, c.want)
		}
	}
}
