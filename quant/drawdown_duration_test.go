package quant

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

func TestMaxDrawdownDurationCases(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		values    []float64
		periods   int
		peak, end int
		recovered bool
	}{
		// Hand computations, indices from 0.
		{"never falls", []float64{100, 101, 102}, 0, 0, 0, false},
		// 120 at 1, under water at 2 and 3, back at 130 ≥ 120 at 4: 4 − 1 = 3;
		// the open spell from 130 at 4 to 125 at 5 is 1.
		{"recovered", []float64{100, 120, 90, 110, 130, 125}, 3, 1, 4, true},
		// Longest spell, not the deepest: the 5 % fall lasts 5 − 0 = 5 periods,
		// the 50 % one 7 − 5 = 2.
		{"longest, not deepest", []float64{100, 95, 96, 97, 98, 100, 50, 101}, 5, 0, 5, true},
		// A return to the peak level ends the spell (Portfolio Performance would
		// need a value above 100).
		{"back to the level", []float64{100, 90, 100, 90, 95}, 2, 0, 2, true},
		// Open at the end: from the peak at 1 to the last index 5, 4 periods.
		{"unrecovered", []float64{100, 110, 100, 105, 90, 108}, 4, 1, 5, false},
		// A flat top: the last index at the peak level is the peak (as Drawdown.Peak).
		{"flat top", []float64{100, 100, 100, 90, 100}, 2, 2, 4, true},
		// Ties go to the earlier spell.
		{"tie", []float64{100, 90, 100, 90, 100}, 2, 0, 2, true},
	}
	for _, c := range cases {
		d, err := MaxDrawdownDuration(c.values)
		if err != nil || d.Periods != c.periods || d.Peak != c.peak || d.End != c.end || d.Recovered != c.recovered {
			t.Errorf("%s: MaxDrawdownDuration(%v) = %+v, %v; want periods %d peak %d end %d recovered %v",
				c.name, c.values, d, err, c.periods, c.peak, c.end, c.recovered)
		}
	}
}

func TestMaxDrawdownDurationDated(t *testing.T) {
	t.Parallel()
	// Hand computation: weekly valuations except a four-week gap. Spell A
	// (100 on Jan 1 → 90, 95 → 101 on Jan 22) has 3 periods and 21 days;
	// spell B (101 on Jan 22 → 99 → 102 on Feb 26) has 2 periods and 35
	// days, so the dated form picks B and the undated form picks A.
	d := func(m time.Month, day int) time.Time { return metricDay(2024, m, day) }
	dates := []time.Time{d(1, 1), d(1, 8), d(1, 15), d(1, 22), d(1, 29), d(2, 26)}
	values := []float64{100, 90, 95, 101, 99, 102}
	got, err := MaxDrawdownDurationDated(dates, values)
	if err != nil || got.Days != 35 || got.Periods != 2 || got.Peak != 3 || got.End != 5 || !got.Recovered ||
		!got.PeakDate.Equal(dates[3]) || !got.EndDate.Equal(dates[5]) {
		t.Errorf("MaxDrawdownDurationDated = %+v, %v; want 35 days, 2 periods, peak 3 (%s), end 5 (%s)", got, err, dates[3].Format(time.DateOnly), dates[5].Format(time.DateOnly))
	}
	und, _ := MaxDrawdownDuration(values)
	if und.Periods != 3 || und.Peak != 0 {
		t.Errorf("MaxDrawdownDuration(%v) = %+v; want 3 periods from 0", values, und)
	}
	// Open at the end: counted to the last date, Mar 4 − Jan 1 = 63 days.
	open, err := MaxDrawdownDurationDated([]time.Time{d(1, 1), d(2, 1), d(3, 4)}, []float64{100, 80, 90})
	if err != nil || open.Days != 63 || open.Recovered {
		t.Errorf("open spell: %+v, %v; want 63 days, not recovered", open, err)
	}
}

func TestMaxDrawdownDurationOfReturns(t *testing.T) {
	t.Parallel()
	// Hand computation: a first-day loss starts a spell at the starting
	// wealth (index 0); 0.9·1.05 = 0.945, 0.945·1.06 = 1.0017 ≥ 1 at index 3.
	d, err := MaxDrawdownDurationOfReturns([]float64{-0.1, 0.05, 0.06})
	if err != nil || d.Periods != 3 || d.Peak != 0 || d.End != 3 || !d.Recovered {
		t.Errorf("MaxDrawdownDurationOfReturns = %+v, %v; want 3 periods, 0 → 3, recovered", d, err)
	}
}

// TestMaxDrawdownDurationProperties: on seeded random walks (test inputs),
// the longest spell equals the longest run of negative entries of the
// drawdown series, plus one when that run ends in a recovery, and is at
// least as long as the deepest drawdown's spell.
func TestMaxDrawdownDurationProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(31, 37))
	for trial := range 50 {
		v := make([]float64, 50+rng.IntN(300))
		v[0] = 100
		for i := 1; i < len(v); i++ {
			v[i] = v[i-1] * (1 + 0.0005 + 0.02*rng.NormFloat64())
		}
		s, _ := DrawdownSeries(v)
		want, run := 0, 0
		for _, x := range s {
			if x < 0 {
				run++
				continue
			}
			if run > 0 && run+1 > want {
				want = run + 1
			}
			run = 0
		}
		if run > want {
			want = run
		}
		d, err := MaxDrawdownDuration(v)
		if err != nil || d.Periods != want {
			t.Errorf("trial %d: MaxDrawdownDuration = %+v, %v; longest run from DrawdownSeries %d", trial, d, err, want)
		}
		dd, _ := MaxDrawdown(v)
		deepest := len(v) - 1 - dd.Peak
		if dd.Recovery != nil {
			deepest = *dd.Recovery - dd.Peak
		}
		if d.Periods < deepest {
			t.Errorf("trial %d: longest spell %d shorter than the deepest drawdown's %d", trial, d.Periods, deepest)
		}
	}
}

func TestMaxDrawdownDurationErrors(t *testing.T) {
	t.Parallel()
	day := metricDay(2024, 1, 1)
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"no values", metricErr(MaxDrawdownDuration(nil)), ErrEmpty},
		{"negative value", metricErr(MaxDrawdownDuration([]float64{1, -1})), ErrInvalid},
		{"dates mismatch", metricErr(MaxDrawdownDurationDated([]time.Time{day}, []float64{1, 2})), ErrLength},
		{"dates not increasing", metricErr(MaxDrawdownDurationDated([]time.Time{day, day}, []float64{1, 2})), ErrInvalid},
		{"no returns", metricErr(MaxDrawdownDurationOfReturns(nil)), ErrEmpty},
		{"return below -100%", metricErr(MaxDrawdownDurationOfReturns([]float64{-2})), ErrInvalid},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: error %v, want wrapping %v", c.name, c.err, c.want)
		}
	}
}
