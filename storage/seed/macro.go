package seed

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/storage"
)

// newRand is the random stream of one part of the dataset: PCG seeded with
// the dataset seed and a constant derived from the part's name, so adding a
// part never shifts the draws of another.
func newRand(seed int64, part string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte("dawsos-seed/" + part))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

// macroObs is one macro_indicators row.
type macroObs struct {
	series string
	date   time.Time
	value  float64
}

// monthAgg is what a calendar month of the daily paths did.
type monthAgg struct {
	month       time.Time // first of the month
	eqRet       float64
	oilRet      float64
	breakevenPP float64 // change of T10YIE in percentage points
}

// macroSeries builds every macro observation: the daily series on every
// simulated business day, the monthly ones for each complete simulated
// month (dated the first of the month, as FRED dates them), and the
// quarterly and annual cycle inputs over the decades before end.
func (m *market) macroSeries(seed int64, end time.Time) []macroObs {
	var out []macroObs
	for _, id := range []string{"BAA10Y", "BAMLC0A0CM", "DCOILWTICO", "DFII10", "DGS10", "DTWEXBGS", "SP500", "T10Y2Y", "T10YIE", "VIXCLS"} {
		for d, v := range m.daily[id] {
			out = append(out, macroObs{id, m.days[d], v})
		}
	}
	// Monthly aggregates of complete months.
	var months []monthAgg
	startIdx := 0
	for d := 1; d <= len(m.days); d++ {
		if d < len(m.days) && m.days[d].Month() == m.days[startIdx].Month() {
			continue
		}
		last := d - 1
		complete := d < len(m.days) || lastBusinessDayOfMonth(m.days[last])
		if startIdx > 0 && complete {
			prev := startIdx - 1
			eq, oil, be := m.daily["SP500"], m.daily["DCOILWTICO"], m.daily["T10YIE"]
			t := m.days[startIdx]
			months = append(months, monthAgg{
				month: time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC),
				eqRet: eq[last]/eq[prev] - 1, oilRet: oil[last]/oil[prev] - 1, breakevenPP: be[last] - be[prev],
			})
		}
		startIdx = d
	}
	mr := newRand(seed, "macro-monthly")
	unrate, cpi, ff, ip := 4.0, 300.0, 4.3, 103.0
	var cpiHist []float64
	for _, mo := range months {
		unrate = math.Max(3.0, round(unrate+0.05*(4.2-unrate)-3*mo.eqRet+0.08*mr.NormFloat64(), 1))
		mom := 0.0022 + 0.004*mo.breakevenPP + 0.02*mo.oilRet + 0.0012*mr.NormFloat64()
		cpi = round(cpi*(1+mom), 3)
		cpiHist = append(cpiHist, cpi)
		yoy := 3.0
		if len(cpiHist) > 12 {
			yoy = 100 * (cpi/cpiHist[len(cpiHist)-13] - 1)
		}
		// A Taylor-style rule approached a quarter of the way each month.
		taylor := 2.5 + 1.5*(yoy-2) - 1.0*(unrate-4.2)
		ff = math.Max(0.05, round(ff+0.25*(taylor-ff), 2))
		ip = round(ip*(1+0.001+0.15*mo.eqRet+0.004*mr.NormFloat64()), 4)
		out = append(out,
			macroObs{"UNRATE", mo.month, unrate}, macroObs{"CPIAUCSL", mo.month, cpi},
			macroObs{"FEDFUNDS", mo.month, ff}, macroObs{"INDPRO", mo.month, ip})
	}
	out = append(out, cycleInputs(seed, end)...)
	return out
}

// lastBusinessDayOfMonth says whether no business day follows d in its
// month.
func lastBusinessDayOfMonth(d time.Time) bool {
	for n := d.AddDate(0, 0, 1); n.Month() == d.Month(); n = n.AddDate(0, 0, 1) {
		if wd := n.Weekday(); wd != time.Saturday && wd != time.Sunday {
			return false
		}
	}
	return true
}

// trendSeries is a slow synthetic series: start, drift per observation,
// noise, bounds and decimals.
type trendSeries struct {
	id                string
	start, drift, vol float64
	lo, hi            float64
	decimals          int
}

// cycleInputs are the long-term debt, empire and civil cycle inputs: 40
// quarters and 30 years before end's year, synthetic trends with noise.
func cycleInputs(seed int64, end time.Time) []macroObs {
	r := newRand(seed, "macro-cycles")
	var out []macroObs
	gen := func(ts trendSeries, dates []time.Time) {
		v := ts.start
		for _, d := range dates {
			v = math.Min(ts.hi, math.Max(ts.lo, v+ts.drift+ts.vol*r.NormFloat64()))
			out = append(out, macroObs{ts.id, d, round(v, ts.decimals)})
		}
	}
	// Quarters: the 40 quarters ending with the last complete one.
	q := time.Date(end.Year(), time.Month(3*((int(end.Month())-1)/3)+1), 1, 0, 0, 0, 0, time.UTC)
	var quarters []time.Time
	for i := 40; i >= 1; i-- {
		quarters = append(quarters, q.AddDate(0, -3*i, 0))
	}
	for _, ts := range []trendSeries{
		{"GFDEGDQ188S", 95, 0.6, 1.2, 50, 200, 3},
		{"LTDC_TOTAL_DEBT_GDP", 240, 0.8, 2.0, 150, 400, 2},
		{"TDSP", 10.5, -0.02, 0.12, 8, 14, 2},
	} {
		gen(ts, quarters)
	}
	var years []time.Time
	for y := end.Year() - 30; y < end.Year(); y++ {
		years = append(years, time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC))
	}
	for _, ts := range []trendSeries{
		{"FYOIGDA188S", 2.9, 0.0, 0.15, 1.2, 5, 2},
		{"EMPIRE_EDUCATION", 0.9, -0.004, 0.01, 0, 1, 3},
		{"EMPIRE_INNOVATION", 0.92, -0.003, 0.012, 0, 1, 3},
		{"EMPIRE_COMPETITIVENESS", 0.85, -0.005, 0.012, 0, 1, 3},
		{"EMPIRE_MILITARY", 0.95, -0.003, 0.008, 0, 1, 3},
		{"EMPIRE_TRADE", 0.8, -0.006, 0.01, 0, 1, 3},
		{"EMPIRE_OUTPUT", 0.88, -0.004, 0.008, 0, 1, 3},
		{"EMPIRE_FINANCIAL_CENTER", 0.95, -0.001, 0.006, 0, 1, 3},
		{"EMPIRE_RESERVE_CURRENCY", 0.97, -0.003, 0.005, 0, 1, 3},
		{"CIVIL_GINI", 0.40, 0.003, 0.002, 0.3, 0.6, 4},
		{"CIVIL_TOP1_SHARE", 0.23, 0.0025, 0.003, 0.1, 0.5, 4},
		{"CIVIL_POLARIZATION", 0.45, 0.01, 0.012, 0, 1, 3},
		{"CIVIL_INSTITUTIONAL_TRUST", 0.55, -0.008, 0.015, 0, 1, 3},
	} {
		gen(ts, years)
	}
	return out
}

// writeMacro upserts the observations in chunks; a row whose value is
// unchanged is left alone, so a re-run touches nothing.
func writeMacro(ctx context.Context, db *storage.DB, obs []macroObs) error {
	const chunk = 5000
	return db.Tx(ctx, func(tx pgx.Tx) error {
		for lo := 0; lo < len(obs); lo += chunk {
			hi := min(lo+chunk, len(obs))
			ids, dates, vals := make([]string, 0, hi-lo), make([]time.Time, 0, hi-lo), make([]float64, 0, hi-lo)
			for _, o := range obs[lo:hi] {
				ids, dates, vals = append(ids, o.series), append(dates, o.date), append(vals, o.value)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO macro_indicators (series_id, obs_date, value, source)
				SELECT s, d, v, 'seed' FROM unnest($1::text[], $2::date[], $3::float8[]) AS u(s, d, v)
				ON CONFLICT (series_id, obs_date) DO UPDATE SET value = EXCLUDED.value, source = EXCLUDED.source, updated_at = now()
				WHERE macro_indicators.value IS DISTINCT FROM EXCLUDED.value OR macro_indicators.source IS DISTINCT FROM EXCLUDED.source`,
				ids, dates, vals); err != nil {
				return fmt.Errorf("write macro observations %d..%d: %w", lo, hi, err)
			}
		}
		return nil
	})
}
