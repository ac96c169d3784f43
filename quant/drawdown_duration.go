package quant

import (
	"fmt"
	"time"
)

// DrawdownDuration is the longest spell under water of a value series:
// from a peak to the first later value back at or above the peak's level
// (the recovery, as in Drawdown), or to the last observation when the
// series has not recovered by then. The spell need not be the one of the
// deepest drawdown.
type DrawdownDuration struct {
	// Periods is End − Peak, the number of periods from the peak's close to
	// the recovery's (or the last observation's); 0 when the series never
	// falls.
	Periods int
	// Peak is the last index at the peak level before the fall; the
	// starting value counts as a peak.
	Peak int
	// End is the recovery index, or the last index of a spell still under
	// water at the end.
	End int
	// Recovered reports whether End is a recovery; it is false for a spell
	// still open at the end and when the series never falls.
	Recovered bool
	// Days is the number of calendar days from PeakDate to EndDate; the
	// three are set by MaxDrawdownDurationDated only.
	Days              int
	PeakDate, EndDate time.Time
}

// MaxDrawdownDuration finds the longest spell under water of a value
// series, counted in periods (observations) from the peak to the recovery;
// a spell not recovered by the last observation counts to it and has
// Recovered false. Ties go to the earlier spell. A series that never falls
// has Periods 0. Sources differ: PerformanceAnalytics' findDrawdowns and
// table.Drawdowns report the same Length for a recovered spell but one
// more for an open one (they count to a period after the last); Portfolio
// Performance counts calendar days (MaxDrawdownDurationDated) and ends a
// spell only at a new high strictly above the peak, so a return to the
// peak level does not end it; empyrical has no duration.
func MaxDrawdownDuration(values []float64) (DrawdownDuration, error) {
	if err := drawdownCheck("max drawdown duration", values); err != nil {
		return DrawdownDuration{}, err
	}
	var best DrawdownDuration
	for _, s := range drawdownSpells(values) {
		if s.Periods > best.Periods {
			best = s
		}
	}
	return best, nil
}

// MaxDrawdownDurationDated is MaxDrawdownDuration in calendar days: the
// spell with the most calendar days from its peak date to its recovery
// date (or the last date, when unrecovered), which need not be the one with
// the most observations when the dates are uneven. dates must align with
// values and increase strictly. Portfolio Performance reports its maximum
// drawdown duration in calendar days too, with the differences stated at
// MaxDrawdownDuration.
func MaxDrawdownDurationDated(dates []time.Time, values []float64) (DrawdownDuration, error) {
	if len(dates) != len(values) {
		return DrawdownDuration{}, fmt.Errorf("max drawdown duration of %d dates and %d values: %w", len(dates), len(values), ErrLength)
	}
	if err := drawdownCheck("max drawdown duration", values); err != nil {
		return DrawdownDuration{}, err
	}
	for i := 1; i < len(dates); i++ {
		if civilDay(dates[i]) <= civilDay(dates[i-1]) {
			return DrawdownDuration{}, fmt.Errorf("max drawdown duration: date %s does not follow %s: %w", dates[i].Format(time.DateOnly), dates[i-1].Format(time.DateOnly), ErrInvalid)
		}
	}
	best := DrawdownDuration{PeakDate: dates[0], EndDate: dates[0]}
	for _, s := range drawdownSpells(values) {
		s.PeakDate, s.EndDate = dates[s.Peak], dates[s.End]
		s.Days = civilDay(s.EndDate) - civilDay(s.PeakDate)
		if s.Days > best.Days {
			best = s
		}
	}
	return best, nil
}

// MaxDrawdownDurationOfReturns is MaxDrawdownDuration of the wealth index
// of r (index 0 is the wealth of 1 before the first return, index i the
// wealth after return i−1), so a loss on the first return starts a spell
// at the starting value. One return is enough.
func MaxDrawdownDurationOfReturns(r []float64) (DrawdownDuration, error) {
	if len(r) < 1 {
		return DrawdownDuration{}, fmt.Errorf("max drawdown duration of %d returns: %w", len(r), ErrEmpty)
	}
	w, err := WealthIndex(r)
	if err != nil {
		return DrawdownDuration{}, fmt.Errorf("max drawdown duration: %w", err)
	}
	return MaxDrawdownDuration(w)
}

// drawdownSpells lists every spell under water of a validated series, in
// order, with Peak, End, Periods and Recovered set.
func drawdownSpells(values []float64) []DrawdownDuration {
	var out []DrawdownDuration
	peak, peakAt, under := values[0], 0, false
	for i, v := range values {
		if v >= peak {
			if under {
				out = append(out, DrawdownDuration{Periods: i - peakAt, Peak: peakAt, End: i, Recovered: true})
				under = false
			}
			peak, peakAt = v, i
			continue
		}
		under = true
	}
	if under {
		last := len(values) - 1
		out = append(out, DrawdownDuration{Periods: last - peakAt, Peak: peakAt, End: last})
	}
	return out
}
