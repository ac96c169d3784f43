package quant

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

func TestMaxDrawdownDated(t *testing.T) {
	t.Parallel()
	// Hand computation: peak 120 on day 1, trough 90 on day 2 (90/120 − 1 =
	// −0.25), back at 130 ≥ 120 on day 4.
	values := []float64{100, 120, 90, 110, 130, 125}
	dates := make([]time.Time, len(values))
	for i := range dates {
		dates[i] = metricDay(2024, 3, 1).AddDate(0, 0, i)
	}
	dd, err := MaxDrawdownDated(dates, values)
	if err != nil {
		t.Fatalf("MaxDrawdownDated(%v): %v", values, err)
	}
	if !metricClose(dd.Depth, -0.25, 1e-15) || dd.Peak != 1 || dd.Trough != 2 || dd.Recovery == nil || *dd.Recovery != 4 {
		t.Errorf("MaxDrawdownDated(%v) = %+v, want depth -0.25 peak 1 trough 2 recovery 4", values, dd)
	}
	if !dd.PeakDate.Equal(dates[1]) || !dd.TroughDate.Equal(dates[2]) || dd.RecoveryDate == nil || !dd.RecoveryDate.Equal(dates[4]) {
		t.Errorf("dates: peak %v trough %v recovery %v, want %v %v %v", dd.PeakDate, dd.TroughDate, dd.RecoveryDate, dates[1], dates[2], dates[4])
	}
	// Hand computation: 125/130 − 1 = −0.038461538461538436.
	cur, err := CurrentDrawdown(values)
	if err != nil || !metricClose(cur, 125.0/130-1, 1e-15) {
		t.Errorf("CurrentDrawdown(%v) = %v, %v; want %v", values, cur, err, 125.0/130-1)
	}
}

func TestMaxDrawdownCases(t *testing.T) {
	t.Parallel()
	rec := func(i int) *int { return &i }
	cases := []struct {
		name     string
		values   []float64
		depth    float64
		peak     int
		trough   int
		recovery *int
	}{
		// Hand computation: the starting value is the peak; 80/100 − 1 = −0.2, never recovered.
		{"start is the peak", []float64{100, 80, 90}, -0.2, 0, 1, nil},
		{"never falls", []float64{100, 101, 102}, 0, 0, 0, nil},
		// Hand computation: second fall 150→105 (−0.3) is deeper than 100→90 (−0.1).
		{"deeper second fall", []float64{100, 90, 150, 105, 150}, -0.3, 2, 3, rec(4)},
		// A later peak at the same level is the peak date.
		{"flat peak", []float64{100, 100, 90, 100}, -0.1, 1, 2, rec(3)},
	}
	for _, c := range cases {
		dd, err := MaxDrawdown(c.values)
		if err != nil || !metricClose(dd.Depth, c.depth, 1e-15) || dd.Peak != c.peak || dd.Trough != c.trough ||
			(dd.Recovery == nil) != (c.recovery == nil) || (dd.Recovery != nil && *dd.Recovery != *c.recovery) {
			t.Errorf("%s: MaxDrawdown(%v) = %+v, %v; want depth %v peak %d trough %d recovery %v", c.name, c.values, dd, err, c.depth, c.peak, c.trough, c.recovery)
		}
	}
}

func TestMaxDrawdownOfReturns(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		returns []float64
		want    float64
	}{
		// empyrical test suite: max_drawdown(mixed_returns) = −0.1. Hand check: the
		// wealth peaks after 1.01·1.10·0.96·1.02·1.03·1.02·1.01 and the last
		// return is −10 %, the only fall deeper than the −4 % on day 3.
		{"empyrical mixed_returns", empyricalMixed9, -0.1},
		// empyrical test suite: for negative_returns the drawdown is the whole
		// cumulative return, Π(1+r) − 1.
		{"empyrical negative_returns", empyricalNegative, 0.94*0.93*0.99*0.91*0.98*0.94*0.92*0.95 - 1},
		// Hand computation: a loss on the first return is a drawdown from the start value.
		{"first-day loss", []float64{-0.1, 0.05}, -0.1},
	}
	for _, c := range cases {
		dd, err := MaxDrawdownOfReturns(c.returns)
		if err != nil || !metricClose(dd.Depth, c.want, 1e-14) {
			t.Errorf("%s: MaxDrawdownOfReturns(%v) = %+v, %v; want %v", c.name, c.returns, dd, err, c.want)
		}
	}
}

// TestDrawdownSeriesProperties checks on seeded random walks (test inputs,
// not data) that the drawdown series is never positive, is 0 at every new
// high, and that its minimum is MaxDrawdown's depth.
func TestDrawdownSeriesProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := range 50 {
		v := make([]float64, 300)
		v[0] = 100
		for i := 1; i < len(v); i++ {
			v[i] = v[i-1] * (1 + 0.02*rng.NormFloat64())
		}
		s, err := DrawdownSeries(v)
		if err != nil {
			t.Fatalf("trial %d: DrawdownSeries: %v", trial, err)
		}
		dd, _ := MaxDrawdown(v)
		lowest, peak := 0.0, 0.0
		for i, x := range s {
			if x > 0 {
				t.Fatalf("trial %d: drawdown %v > 0 at %d", trial, x, i)
			}
			if v[i] >= peak && x != 0 {
				t.Fatalf("trial %d: drawdown %v at new high %d", trial, x, i)
			}
			peak = max(peak, v[i])
			lowest = min(lowest, x)
		}
		if lowest != dd.Depth {
			t.Errorf("trial %d: min of drawdown series %v, MaxDrawdown %v", trial, lowest, dd.Depth)
		}
		if cur, _ := CurrentDrawdown(v); cur != s[len(s)-1] {
			t.Errorf("trial %d: CurrentDrawdown %v, last of series %v", trial, cur, s[len(s)-1])
		}
	}
}

func TestDrawdownErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"no values", metricErr(MaxDrawdown(nil)), ErrEmpty},
		{"empty series", metricErr(DrawdownSeries(nil)), ErrEmpty},
		{"zero start", metricErr(MaxDrawdown([]float64{0, 1})), ErrInvalid},
		{"negative value", metricErr(CurrentDrawdown([]float64{1, -1})), ErrInvalid},
		{"dates mismatch", metricErr(MaxDrawdownDated([]time.Time{metricDay(2024, 1, 1)}, []float64{1, 2})), ErrLength},
		{"no returns", metricErr(MaxDrawdownOfReturns(nil)), ErrEmpty},
		{"return below -100%", metricErr(MaxDrawdownOfReturns([]float64{0.1, -2})), ErrInvalid},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: error %v, want wrapping %v", c.name, c.err, c.want)
		}
	}
}
