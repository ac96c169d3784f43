package quant

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// CashFlow is an amount of money on a date. Its sign convention depends on
// the function it is passed to, and each function states it: XIRR takes the
// investor's view (money paid in is negative, money received positive, as
// in Excel's XIRR), ModifiedDietz the portfolio's view (contributions
// positive, withdrawals negative, as in the GIPS formula).
type CashFlow struct {
	Date   time.Time
	Amount float64
}

// ValuationDay is one end-of-day valuation of a portfolio together with
// the external flows of that day (deposits, withdrawals, transfers in or
// out; never buys or sells inside the portfolio). Inflow and Outflow are
// non-negative amounts in the portfolio's base currency.
type ValuationDay struct {
	Date    time.Time
	Value   float64
	Inflow  float64
	Outflow float64
}

// DatedReturn is the return of the period that ends on Date.
type DatedReturn struct {
	Date   time.Time
	Return float64
}

// SimpleReturns turns a value series into period returns
// rₜ = Vₜ / Vₜ₋₁ − 1 (decimals; n values give n−1 returns). Every value
// before the last must be positive, since a return from zero is undefined.
func SimpleReturns(values []float64) ([]float64, error) {
	if err := returnsCheckValues("simple returns", values); err != nil {
		return nil, err
	}
	out := make([]float64, len(values)-1)
	for i := 1; i < len(values); i++ {
		out[i-1] = values[i]/values[i-1] - 1
	}
	return out, nil
}

// LogReturns turns a value series into continuously compounded returns
// rₜ = ln(Vₜ / Vₜ₋₁). Unlike simple returns they add over time; every
// value must be positive, since the log of zero is not finite.
func LogReturns(values []float64) ([]float64, error) {
	if err := returnsCheckValues("log returns", values); err != nil {
		return nil, err
	}
	if values[len(values)-1] <= 0 {
		return nil, fmt.Errorf("log returns: value %d is %g, must be positive: %w", len(values)-1, values[len(values)-1], ErrInvalid)
	}
	out := make([]float64, len(values)-1)
	for i := 1; i < len(values); i++ {
		out[i-1] = math.Log(values[i] / values[i-1])
	}
	return out, nil
}

func returnsCheckValues(what string, values []float64) error {
	if len(values) < 2 {
		return fmt.Errorf("%s of %d values: %w", what, len(values), ErrEmpty)
	}
	for i, v := range values {
		if !finite(v) {
			return fmt.Errorf("%s: value %d is not finite: %w", what, i, ErrInvalid)
		}
		if v < 0 || (v == 0 && i < len(values)-1) {
			return fmt.Errorf("%s: value %d is %g, must be positive: %w", what, i, v, ErrInvalid)
		}
	}
	return nil
}

// DailyTWR computes the daily time-weighted returns of a valued portfolio
// with external flows (DOMAIN.md §1): inflows count at the start of the day
// and outflows at the end, so
//
//	1 + rₜ = (Vₜ + outₜ) / (Vₜ₋₁ + inₜ).
//
// days[0] is the opening valuation; its flows are taken to be already in
// its value and are ignored. The result has one return per later day,
// dated with that day. Dates must be strictly increasing. Other sources
// differ: GIPS's daily-valuation method and many custodians count all flows
// at the end of the day (or at the start), which changes the return on
// days with large flows but not on days without flows.
func DailyTWR(days []ValuationDay) ([]DatedReturn, error) {
	if len(days) < 2 {
		return nil, fmt.Errorf("daily twr of %d valuations: %w", len(days), ErrEmpty)
	}
	out := make([]DatedReturn, 0, len(days)-1)
	for i, d := range days {
		if !finite(d.Value, d.Inflow, d.Outflow) {
			return nil, fmt.Errorf("daily twr: valuation %d (%s) is not finite: %w", i, d.Date.Format(time.DateOnly), ErrInvalid)
		}
		if d.Value < 0 || d.Inflow < 0 || d.Outflow < 0 {
			return nil, fmt.Errorf("daily twr: valuation %d (%s) has a negative value or flow: %w", i, d.Date.Format(time.DateOnly), ErrInvalid)
		}
		if i == 0 {
			continue
		}
		prev := days[i-1]
		if !d.Date.After(prev.Date) {
			return nil, fmt.Errorf("daily twr: date %s does not follow %s: %w", d.Date.Format(time.DateOnly), prev.Date.Format(time.DateOnly), ErrInvalid)
		}
		den := prev.Value + d.Inflow
		if den <= 0 {
			return nil, fmt.Errorf("daily twr on %s: opening value plus inflow is %g: %w", d.Date.Format(time.DateOnly), den, ErrInvalid)
		}
		out = append(out, DatedReturn{Date: d.Date, Return: (d.Value+d.Outflow)/den - 1})
	}
	return out, nil
}

// ChainReturns links period returns geometrically: Π(1+rᵢ) − 1. It is how
// daily TWRs become the TWR of any range.
func ChainReturns(returns []float64) (float64, error) {
	if len(returns) == 0 {
		return 0, fmt.Errorf("chain returns: %w", ErrEmpty)
	}
	g := 1.0
	for i, r := range returns {
		if !finite(r) || r < -1 {
			return 0, fmt.Errorf("chain returns: return %d is %g: %w", i, r, ErrInvalid)
		}
		g *= 1 + r
	}
	return g - 1, nil
}

// TWRBetween chains the dated returns with from < Date ≤ to, i.e. the
// time-weighted return from the close of from to the close of to. It is not
// annualised; see AnnualiseCalendarReturn for the calendar rule.
func TWRBetween(returns []DatedReturn, from, to time.Time) (float64, error) {
	var sel []float64
	for _, r := range returns {
		if r.Date.After(from) && !r.Date.After(to) {
			sel = append(sel, r.Return)
		}
	}
	if len(sel) == 0 {
		return 0, fmt.Errorf("twr from %s to %s: no returns in range: %w", from.Format(time.DateOnly), to.Format(time.DateOnly), ErrEmpty)
	}
	r, err := ChainReturns(sel)
	if err != nil {
		return 0, fmt.Errorf("twr from %s to %s: %w", from.Format(time.DateOnly), to.Format(time.DateOnly), err)
	}
	return r, nil
}

// ModifiedDietz approximates the return of a period with external flows
// without daily valuations (GIPS / CFA Institute formula):
//
//	R = (EMV − BMV − ΣCFᵢ) / (BMV + Σ wᵢ·CFᵢ),  wᵢ = (CD − Dᵢ) / CD
//
// where CD is the number of calendar days from start to end and Dᵢ the
// number of days from start to flow i. Flows take the portfolio's view:
// contributions positive, withdrawals negative; they must fall within
// [start, end]. A flow dated start gets full weight (it is treated as at
// the start of the period), one dated end none. Some sources weight with
// (CD − Dᵢ + 1)/CD or count flows at mid-day (wᵢ shifted by ½ day); the
// difference matters only for flows that are large relative to BMV.
func ModifiedDietz(beginValue, endValue float64, start, end time.Time, flows []CashFlow) (float64, error) {
	if !finite(beginValue, endValue) || beginValue < 0 || endValue < 0 {
		return 0, fmt.Errorf("modified dietz: begin %g and end %g must be finite and non-negative: %w", beginValue, endValue, ErrInvalid)
	}
	cd := civilDay(end) - civilDay(start)
	if cd <= 0 {
		return 0, fmt.Errorf("modified dietz from %s to %s: period has no days: %w", start.Format(time.DateOnly), end.Format(time.DateOnly), ErrInvalid)
	}
	sum, weighted := 0.0, 0.0
	for i, f := range flows {
		d := civilDay(f.Date) - civilDay(start)
		if d < 0 || d > cd {
			return 0, fmt.Errorf("modified dietz: flow %d on %s is outside %s..%s: %w", i, f.Date.Format(time.DateOnly), start.Format(time.DateOnly), end.Format(time.DateOnly), ErrInvalid)
		}
		if !finite(f.Amount) {
			return 0, fmt.Errorf("modified dietz: flow %d is not finite: %w", i, ErrInvalid)
		}
		sum += f.Amount
		weighted += f.Amount * float64(cd-d) / float64(cd)
	}
	den := beginValue + weighted
	if den <= 0 {
		return 0, fmt.Errorf("modified dietz: average capital %g is not positive: %w", den, ErrInvalid)
	}
	return (endValue - beginValue - sum) / den, nil
}

// XIRR is the money-weighted return: the annual rate r at which the net
// present value Σ CFᵢ / (1+r)^(dᵢ/365) is zero, with dᵢ the actual number
// of days since the earliest flow (actual/365, as in Excel's XIRR). Flows
// take the investor's view: money paid into the investment is negative,
// money taken out (and the final value) positive. At least one flow of each
// sign is required.
//
// The solver is Newton's method from 0.1 (Excel's default guess); if it
// leaves (−1, ∞) or does not converge, a bracketing search over (−1, 10⁶]
// followed by bisection takes over, so deep losses such as −99 % converge
// where Newton alone overshoots below −1. When the flows admit several
// rates, the one found is the one Newton reaches from 0.1 or else the
// lowest bracketed one.
func XIRR(flows []CashFlow) (float64, error) {
	if len(flows) < 2 {
		return 0, fmt.Errorf("xirr of %d flows: %w", len(flows), ErrEmpty)
	}
	first := civilDay(flows[0].Date)
	pos, neg := false, false
	for i, f := range flows {
		if !finite(f.Amount) {
			return 0, fmt.Errorf("xirr: flow %d is not finite: %w", i, ErrInvalid)
		}
		if d := civilDay(f.Date); d < first {
			first = d
		}
		pos = pos || f.Amount > 0
		neg = neg || f.Amount < 0
	}
	if !pos || !neg {
		return 0, fmt.Errorf("xirr of %d flows: need both a negative and a positive flow: %w", len(flows), ErrInvalid)
	}
	t := make([]float64, len(flows))
	tmax := 0.0
	for i, f := range flows {
		t[i] = float64(civilDay(f.Date)-first) / 365
		tmax = math.Max(tmax, t[i])
	}
	if tmax == 0 {
		return 0, fmt.Errorf("xirr: all %d flows are on one date: %w", len(flows), ErrInvalid)
	}
	if r, ok := xirrNewton(flows, t); ok {
		return r, nil
	}
	r, err := xirrBisect(flows, t, tmax)
	if err != nil {
		return 0, fmt.Errorf("xirr of %d flows: %w", len(flows), err)
	}
	return r, nil
}

func xirrNewton(flows []CashFlow, t []float64) (float64, bool) {
	r := 0.1
	for range 100 {
		f, df := 0.0, 0.0
		for i, cf := range flows {
			d := math.Pow(1+r, -t[i])
			f += cf.Amount * d
			df -= t[i] * cf.Amount * d / (1 + r)
		}
		if df == 0 || !finite(f, df) {
			return 0, false
		}
		next := r - f/df
		if !finite(next) || next <= -1 {
			return 0, false
		}
		if math.Abs(next-r) <= 1e-12*math.Max(1, math.Abs(next)) {
			return next, true
		}
		r = next
	}
	return 0, false
}

// xirrSign returns the sign of the NPV at rate r without overflow: below 0
// it multiplies the NPV by (1+r)^tmax, which keeps every exponent
// non-negative so that rates near −1 underflow instead of overflowing.
func xirrSign(flows []CashFlow, t []float64, tmax, r float64) float64 {
	s := 0.0
	for i, cf := range flows {
		if r < 0 {
			s += cf.Amount * math.Pow(1+r, tmax-t[i])
		} else {
			s += cf.Amount * math.Pow(1+r, -t[i])
		}
	}
	return s
}

func xirrBisect(flows []CashFlow, t []float64, tmax float64) (float64, error) {
	grid := []float64{}
	for k := 15; k >= 1; k-- {
		grid = append(grid, -1+math.Pow(10, -float64(k)))
	}
	for r := -0.8; r < 1; r += 0.1 {
		grid = append(grid, r)
	}
	grid = append(grid, 1, 2, 5, 10, 20, 50, 100, 1e3, 1e4, 1e5, 1e6)
	sort.Float64s(grid)
	lo := grid[0]
	flo := xirrSign(flows, t, tmax, lo)
	for _, hi := range grid[1:] {
		fhi := xirrSign(flows, t, tmax, hi)
		if flo == 0 {
			return lo, nil
		}
		if !finite(flo, fhi) {
			lo, flo = hi, fhi
			continue
		}
		if (flo < 0) != (fhi < 0) || fhi == 0 {
			for range 400 {
				mid := lo + (hi-lo)/2
				if hi-lo <= 1e-15*math.Max(1, math.Abs(mid)) {
					break
				}
				fm := xirrSign(flows, t, tmax, mid)
				if fm == 0 {
					return mid, nil
				}
				if (fm < 0) == (flo < 0) {
					lo, flo = mid, fm
				} else {
					hi = mid
				}
			}
			return lo + (hi-lo)/2, nil
		}
		lo, flo = hi, fhi
	}
	return 0, fmt.Errorf("no rate in (-1, 1e6] sets the net present value to zero: %w", ErrNoConvergence)
}

// PeriodMWR is the money-weighted return of a calendar period under the
// DOMAIN.md §1 rule: the XIRR of the flows (investor's view, the opening
// value as a negative flow on the first date and the closing value as a
// positive flow on the last), de-annualised to the period,
// (1+XIRR)^(days/365) − 1, when the flows span one calendar year or less,
// and left annual beyond. The bool reports whether the result is annual.
func PeriodMWR(flows []CashFlow) (float64, bool, error) {
	r, err := XIRR(flows)
	if err != nil {
		return 0, false, fmt.Errorf("period mwr: %w", err)
	}
	from, to := flows[0].Date, flows[0].Date
	for _, f := range flows {
		if f.Date.Before(from) {
			from = f.Date
		}
		if f.Date.After(to) {
			to = f.Date
		}
	}
	if periodsLongerThanYear(from, to) {
		return r, true, nil
	}
	days := float64(civilDay(to) - civilDay(from))
	return math.Pow(1+r, days/365) - 1, false, nil
}
