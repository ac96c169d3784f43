package quant

import (
	"fmt"
	"time"
)

// Drawdown describes the deepest fall of a value series from a running
// peak (DOMAIN.md §1): Depth is a negative fraction (−0.25 is a 25 % fall)
// or 0 when the series never falls. Indices refer to the value series
// given; for MaxDrawdownOfReturns, index 0 is the wealth of 1 before the
// first return and index i the wealth after return i−1.
type Drawdown struct {
	Depth float64
	// Peak is the last index at which the series stood at the peak level
	// before the trough; the starting value counts as a peak.
	Peak int
	// Trough is the first index at which the deepest fall is reached.
	Trough int
	// Recovery is the first index after the trough at which the series is
	// back at or above the peak level; nil if it never recovers.
	Recovery *int
	// PeakDate, TroughDate and RecoveryDate are set by MaxDrawdownDated.
	PeakDate, TroughDate time.Time
	RecoveryDate         *time.Time
}

// drawdownCheck validates a value series: at least one finite value, the
// first positive (so the running peak is) and none negative. A single
// value is its own peak, with no drawdown.
func drawdownCheck(what string, v []float64) error {
	if len(v) < 1 {
		return fmt.Errorf("%s of %d values: %w", what, len(v), ErrEmpty)
	}
	for i, x := range v {
		if !finite(x) || x < 0 || (i == 0 && x == 0) {
			return fmt.Errorf("%s: value %d is %g: %w", what, i, x, ErrInvalid)
		}
	}
	return nil
}

// MaxDrawdown finds the largest peak-to-trough fall of a value series,
// the first value counting as a peak. A series that never falls has Depth
// 0 with Peak = Trough = 0 and no recovery. Tools that build the wealth
// index from the first return's close rather than from the value before
// it miss a fall on the first day; MaxDrawdownOfReturns does not.
func MaxDrawdown(values []float64) (Drawdown, error) {
	if err := drawdownCheck("max drawdown", values); err != nil {
		return Drawdown{}, err
	}
	var dd Drawdown
	peak, peakAt := values[0], 0
	for i, v := range values {
		if v >= peak {
			peak, peakAt = v, i
			continue
		}
		if d := v/peak - 1; d < dd.Depth {
			dd = Drawdown{Depth: d, Peak: peakAt, Trough: i}
		}
	}
	if dd.Depth < 0 {
		level := values[dd.Peak]
		for i := dd.Trough + 1; i < len(values); i++ {
			if values[i] >= level {
				rec := i
				dd.Recovery = &rec
				break
			}
		}
	}
	return dd, nil
}

// MaxDrawdownDated is MaxDrawdown with the peak, trough and recovery dates
// filled from dates, which must align with values.
func MaxDrawdownDated(dates []time.Time, values []float64) (Drawdown, error) {
	if len(dates) != len(values) {
		return Drawdown{}, fmt.Errorf("max drawdown of %d dates and %d values: %w", len(dates), len(values), ErrLength)
	}
	dd, err := MaxDrawdown(values)
	if err != nil {
		return Drawdown{}, err
	}
	dd.PeakDate, dd.TroughDate = dates[dd.Peak], dates[dd.Trough]
	if dd.Recovery != nil {
		d := dates[*dd.Recovery]
		dd.RecoveryDate = &d
	}
	return dd, nil
}

// WealthIndex compounds returns into values starting at 1 before the first
// return: n returns give n+1 values.
func WealthIndex(r []float64) ([]float64, error) {
	if len(r) == 0 {
		return nil, fmt.Errorf("wealth index: %w", ErrEmpty)
	}
	w := make([]float64, len(r)+1)
	w[0] = 1
	for i, x := range r {
		if !finite(x) || x < -1 {
			return nil, fmt.Errorf("wealth index: return %d is %g: %w", i, x, ErrInvalid)
		}
		w[i+1] = w[i] * (1 + x)
	}
	return w, nil
}

// MaxDrawdownOfReturns is MaxDrawdown of the wealth index of r, so a loss
// on the first return is a drawdown from the starting value; one return is
// enough.
func MaxDrawdownOfReturns(r []float64) (Drawdown, error) {
	if len(r) < 1 {
		return Drawdown{}, fmt.Errorf("max drawdown of %d returns: %w", len(r), ErrEmpty)
	}
	w, err := WealthIndex(r)
	if err != nil {
		return Drawdown{}, fmt.Errorf("max drawdown: %w", err)
	}
	return MaxDrawdown(w)
}

// CurrentDrawdown is the fall of the last value from the highest value so
// far: last / max − 1, 0 at a new high, never positive.
func CurrentDrawdown(values []float64) (float64, error) {
	if err := drawdownCheck("current drawdown", values); err != nil {
		return 0, err
	}
	peak := values[0]
	for _, v := range values {
		peak = max(peak, v)
	}
	return values[len(values)-1]/peak - 1, nil
}

// DrawdownSeries is vₜ / max(v₀..vₜ) − 1 at every point; never positive
// (the division of a value by a running maximum at least as large cannot
// round above 1).
func DrawdownSeries(values []float64) ([]float64, error) {
	if err := drawdownCheck("drawdown series", values); err != nil {
		return nil, err
	}
	out := make([]float64, len(values))
	peak := values[0]
	for i, v := range values {
		peak = max(peak, v)
		out[i] = v/peak - 1
	}
	return out, nil
}
