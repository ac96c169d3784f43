package quant

import (
	"fmt"
	"math"
	"time"
)

// civilDay numbers the calendar date of t (in t's own location) as days
// since 1970-01-01, so that differences are whole calendar days whatever
// the clock time or daylight-saving shifts.
func civilDay(t time.Time) int {
	y, m, d := t.Date()
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// periodsDate is the calendar date of t at midnight UTC.
func periodsDate(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// periodsLongerThanYear reports whether to lies after from plus one
// calendar year.
func periodsLongerThanYear(from, to time.Time) bool {
	return periodsDate(to).After(periodsDate(from).AddDate(1, 0, 0))
}

// AnnualiseCalendarReturn applies the calendar-period rule of DOMAIN.md §1
// to the cumulative return of the period (from, to]: a period of one
// calendar year or less is returned as is; a longer one is annualised with
// 365-day years, (1+R)^(365/days) − 1, where days counts calendar days. The
// bool reports whether the result is annual. Sources differ: GIPS forbids
// annualising periods under a year, as here, while some tools annualise
// with 365.25-day years or with 252 trading days.
func AnnualiseCalendarReturn(total float64, from, to time.Time) (float64, bool, error) {
	if !finite(total) || total < -1 {
		return 0, false, fmt.Errorf("annualise return %g: %w", total, ErrInvalid)
	}
	days := civilDay(to) - civilDay(from)
	if days <= 0 {
		return 0, false, fmt.Errorf("annualise return from %s to %s: period has no days: %w", from.Format(time.DateOnly), to.Format(time.DateOnly), ErrInvalid)
	}
	if !periodsLongerThanYear(from, to) {
		return total, false, nil
	}
	return math.Pow(1+total, 365/float64(days)) - 1, true, nil
}

// PeriodReturns are the standard calendar-period time-weighted returns as
// of a date. A nil field means the series does not cover the whole period
// (the inception is after the period's base date), never a zero.
type PeriodReturns struct {
	AsOf time.Time
	// MTD, QTD and YTD run from the close of the last day of the previous
	// month, quarter and year; not annualised.
	MTD, QTD, YTD *float64
	// OneYear runs from the same date a year earlier; not annualised.
	OneYear *float64
	// ThreeYearAnn and FiveYearAnn are annualised with 365-day years.
	ThreeYearAnn, FiveYearAnn *float64
	// SinceInception runs from the inception; annualised when the history
	// is longer than one calendar year (SinceInceptionAnnualised).
	SinceInception           *float64
	SinceInceptionAnnualised bool
}

// ComputePeriodReturns derives MTD, QTD, YTD, 1y, 3y annualised, 5y
// annualised and since-inception returns as of asOf from daily returns
// (for instance DailyTWR's output). inception is the date of the opening
// valuation, before the first return; returns must have strictly
// increasing dates after it. Each period chains the returns dated in
// (base, asOf], base being the close before the period starts; returns
// after asOf are ignored. A period with no return dated inside it (a
// month that has only started on a weekend) is 0. Periods are not
// annualised up to one calendar year and annualised with 365 days beyond
// it (DOMAIN.md §1).
func ComputePeriodReturns(inception time.Time, returns []DatedReturn, asOf time.Time) (PeriodReturns, error) {
	if len(returns) == 0 {
		return PeriodReturns{}, fmt.Errorf("period returns as of %s: %w", asOf.Format(time.DateOnly), ErrEmpty)
	}
	inc := periodsDate(inception)
	as := periodsDate(asOf)
	if as.Before(inc) {
		return PeriodReturns{}, fmt.Errorf("period returns as of %s: before inception %s: %w", as.Format(time.DateOnly), inc.Format(time.DateOnly), ErrInvalid)
	}
	prev := inc
	for i, r := range returns {
		d := periodsDate(r.Date)
		if !d.After(prev) {
			return PeriodReturns{}, fmt.Errorf("period returns: return %d dated %s does not follow %s: %w", i, d.Format(time.DateOnly), prev.Format(time.DateOnly), ErrInvalid)
		}
		if !finite(r.Return) || r.Return < -1 {
			return PeriodReturns{}, fmt.Errorf("period returns: return %d on %s is %g: %w", i, d.Format(time.DateOnly), r.Return, ErrInvalid)
		}
		prev = d
	}
	chain := func(base time.Time) *float64 {
		if base.Before(inc) {
			return nil
		}
		g := 1.0
		for _, r := range returns {
			d := periodsDate(r.Date)
			if d.After(base) && !d.After(as) {
				g *= 1 + r.Return
			}
		}
		v := g - 1
		return &v
	}
	annual := func(base time.Time) *float64 {
		v := chain(base)
		if v == nil {
			return nil
		}
		a, _, err := AnnualiseCalendarReturn(*v, base, as)
		if err != nil {
			return nil
		}
		return &a
	}
	y, m, _ := as.Date()
	qStart := time.Month((int(m)-1)/3*3 + 1)
	out := PeriodReturns{
		AsOf:         as,
		MTD:          chain(time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)),
		QTD:          chain(time.Date(y, qStart, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)),
		YTD:          chain(time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)),
		OneYear:      chain(as.AddDate(-1, 0, 0)),
		ThreeYearAnn: annual(as.AddDate(-3, 0, 0)),
		FiveYearAnn:  annual(as.AddDate(-5, 0, 0)),
	}
	if as.After(inc) {
		si := chain(inc)
		a, ann, err := AnnualiseCalendarReturn(*si, inc, as)
		if err != nil {
			return PeriodReturns{}, fmt.Errorf("period returns since inception %s: %w", inc.Format(time.DateOnly), err)
		}
		out.SinceInception, out.SinceInceptionAnnualised = &a, ann
	}
	return out, nil
}
