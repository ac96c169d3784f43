package macro_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/agents/macro"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

// cycleCase is one constructed input set of a cycle, its phase and score
// worked out by hand from the rules documented in the cycle's file.
type cycleCase struct {
	name    string
	rows    func(d time.Time) []obs
	phase   string
	score   float64
	rule    int
	signals map[string]float64
}

// runCycleCases writes every case at its own date (spaced so that no
// lookup of one case can reach another's rows), computes the cycle on each
// date and checks phase, score, matched rule, signals and the stored row.
func runCycleCases(t *testing.T, capability, cycle string, spacingYears int, cases []cycleCase) {
	t.Helper()
	db := pgtest.NewDB(t)
	dates := make([]time.Time, len(cases))
	var rows []obs
	for i, c := range cases {
		dates[i] = time.Date(1800+spacingYears*i, 7, 1, 0, 0, 0, 0, time.UTC)
		rows = append(rows, c.rows(dates[i])...)
	}
	insertObs(t, db, rows)
	h := newMacroHarness(t, db).At("2030-01-01")
	ctx := context.Background()
	for i, c := range cases {
		var out macro.CycleOutput
		h.MustCall(capability, map[string]any{"asof_date": dates[i].Format(time.DateOnly)}, &out)
		if out.Cycle != cycle || out.Phase != c.phase || !near(out.Score, c.score, 1e-9) || out.MatchedRule != c.rule {
			t.Errorf("%s %s: phase %s score %v rule %d; by hand %s %v rule %d (signals %+v)", cycle, c.name, out.Phase, out.Score,
				out.MatchedRule, c.phase, c.score, c.rule, out.Signals)
			continue
		}
		got := map[string]float64{}
		for _, s := range out.Signals {
			got[s.Name] = s.Value
		}
		for k, v := range c.signals {
			if !near(got[k], v, 1e-9) {
				t.Errorf("%s %s: signal %s = %v; by hand %v", cycle, c.name, k, got[k], v)
			}
		}
		if len(out.Inputs) == 0 || out.Label == "" || out.PhaseIndex < 1 || out.PhaseIndex > out.PhaseCount || len(out.Rule.Rules) == 0 {
			t.Errorf("%s %s: output lacks inputs, label, position or rule: %+v", cycle, c.name, out)
		}
		for _, in := range out.Inputs {
			if in.LatestDate > out.AsOfDate {
				t.Errorf("%s %s: input %s dated %s after the as-of date %s", cycle, c.name, in.SeriesID, in.LatestDate, out.AsOfDate)
			}
		}
		var phase string
		var score float64
		var label string
		if err := db.QueryRow(ctx, `SELECT phase, score, details->>'label' FROM cycle_phases WHERE cycle = $1 AND as_of_date = $2`,
			[]any{cycle, dates[i]}, &phase, &score, &label); err != nil {
			t.Fatalf("%s %s: read the stored phase: %v", cycle, c.name, err)
		}
		if phase != out.Phase || score != out.Score || label != out.Label {
			t.Errorf("%s %s: stored %s %v %q; output %s %v %q", cycle, c.name, phase, score, label, out.Phase, out.Score, out.Label)
		}
	}
	// Replaying every computation changes nothing, updated_at included.
	stamp := func() string {
		var s string
		if err := db.QueryRow(ctx, `SELECT coalesce(string_agg(updated_at::text || phase, ',' ORDER BY as_of_date), '') FROM cycle_phases WHERE cycle = $1`,
			[]any{cycle}, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := stamp()
	for _, d := range dates {
		h.MustCall(capability, map[string]any{"asof_date": d.Format(time.DateOnly)}, nil)
	}
	if after := stamp(); after != before {
		t.Errorf("%s: replays rewrote cycle_phases:\n%s\n%s", cycle, before, after)
	}
}

// stdcRows: INDPRO, UNRATE, CPIAUCSL and FEDFUNDS on d and 12 months
// earlier (first of the month), T10Y2Y on d.
func stdcRows(ip0, ip1, un0, un1, cpi0, cpi1, ff0, ff1, curve float64) func(time.Time) []obs {
	return func(d time.Time) []obs {
		y := d.AddDate(-1, 0, 0)
		return []obs{{"INDPRO", y, ip0}, {"INDPRO", d, ip1}, {"UNRATE", y, un0}, {"UNRATE", d, un1},
			{"CPIAUCSL", y, cpi0}, {"CPIAUCSL", d, cpi1}, {"FEDFUNDS", y, ff0}, {"FEDFUNDS", d, ff1},
			{"T10Y2Y", d.AddDate(0, 0, -1), 9}, {"T10Y2Y", d, curve}}
	}
}

// TestCycleShortTerm: score = 50 × growth − 2 × unemployment_change.
func TestCycleShortTerm(t *testing.T) {
	t.Parallel()
	runCycleCases(t, "cycles.compute_short_term", storage.CycleShortTermDebt, 3, []cycleCase{
		// growth −0.04, Δu +1: score −2 − 2 = −4 < −2.
		{"deep", stdcRows(100, 96, 4, 5, 100, 102, 4, 4, 0.5), "DEEP_CONTRACTION", -4, 1,
			map[string]float64{"growth": -0.04, "unemployment_change": 1, "inflation": 0.02, "policy_change": 0, "curve": 0.5}},
		// growth 0, Δu +1: score exactly −2, not < −2.
		{"score -2", stdcRows(100, 100, 4, 5, 100, 102, 4, 4, 0.5), "EARLY_CONTRACTION", -2, 2, nil},
		// growth −0.005: score −0.25.
		{"early contraction", stdcRows(100, 99.5, 4, 4, 100, 102, 4, 4, 0.5), "EARLY_CONTRACTION", -0.25, 2, nil},
		// score exactly 0, no mark of early or late.
		{"score 0", stdcRows(100, 100, 4, 4, 100, 102, 4, 4, 0.5), "MID_EXPANSION", 0, 7, nil},
		// growth 0.02, Δu −0.25: score 1.5; inverted curve.
		{"inverted", stdcRows(100, 102, 4.25, 4, 100, 102, 4, 4, -0.125), "LATE_EXPANSION", 1.5, 3, nil},
		// inflation 0.035, policy +0.5 (the bound holds).
		{"tightening", stdcRows(100, 102, 4, 4, 100, 103.5, 4, 4.5, 0.5), "LATE_EXPANSION", 1, 4, map[string]float64{"policy_change": 0.5, "inflation": 0.035}},
		// inflation 0.035 but policy only +0.25.
		{"mild tightening", stdcRows(100, 102, 4, 4, 100, 103.5, 4, 4.25, 0.5), "MID_EXPANSION", 1, 7, nil},
		// policy −0.5 while growth is back.
		{"easing", stdcRows(100, 102, 4, 4, 100, 102, 3, 2.5, 0.5), "EARLY_EXPANSION", 1, 5, nil},
		// policy exactly −0.25: not < −0.25.
		{"easing bound", stdcRows(100, 102, 4, 4, 100, 102, 3, 2.75, 0.5), "MID_EXPANSION", 1, 7, nil},
		// curve exactly 1.5.
		{"steep", stdcRows(100, 102, 4, 4, 100, 102, 3, 3, 1.5), "EARLY_EXPANSION", 1, 6, nil},
	})
}

// ltdcRows: 40 quarters of LTDC_TOTAL_DEBT_GDP ending on d (the oldest lo,
// the next hi, 24 months before d lag, d last, the rest midway), TDSP and
// GFDEGDQ188S on d and 24 months earlier, FYOIGDA188S on 1 January of d's
// year, FEDFUNDS on d, CPIAUCSL on d and 12 months earlier.
func ltdcRows(lo, hi, lag, last, tdsp0, tdsp1, fed0, fed1, interest, ff, cpi1 float64) func(time.Time) []obs {
	return func(d time.Time) []obs {
		var out []obs
		for i := range 40 {
			v := (lo + hi) / 2
			switch i {
			case 0:
				v = lo
			case 1:
				v = hi
			case 31:
				v = lag
			case 39:
				v = last
			}
			out = append(out, obs{"LTDC_TOTAL_DEBT_GDP", d.AddDate(0, -3*(39-i), 0), v})
		}
		t2 := d.AddDate(0, -24, 0)
		return append(out, obs{"TDSP", t2, tdsp0}, obs{"TDSP", d, tdsp1}, obs{"GFDEGDQ188S", t2, fed0}, obs{"GFDEGDQ188S", d, fed1},
			obs{"FYOIGDA188S", time.Date(d.Year(), 1, 1, 0, 0, 0, 0, time.UTC), interest}, obs{"FEDFUNDS", d, ff},
			obs{"CPIAUCSL", d.AddDate(-1, 0, 0), 100}, obs{"CPIAUCSL", d, cpi1})
	}
}

// TestCycleLongTerm: score = (debt − min) / (max − min) over 40 quarters.
func TestCycleLongTerm(t *testing.T) {
	t.Parallel()
	runCycleCases(t, "cycles.compute_long_term", storage.CycleLongTermDebt, 11, []cycleCase{
		// Zero rates, inflation 0.005.
		{"pushing on a string", ltdcRows(200, 250, 240, 240, 10, 10, 100, 101, 2.5, 0.25, 100.5), "PUSHING_ON_A_STRING", 0.8, 1,
			map[string]float64{"policy_rate": 0.25, "inflation": 0.005, "debt_gdp_range": 0.8, "debt_gdp_change": 0}},
		// Zero rates, inflation 0.02, federal debt +6.
		{"beautiful deleveraging", ltdcRows(200, 250, 240, 240, 10, 10, 100, 106, 2.5, 0.25, 102), "RECOVERY", 0.8, 2,
			map[string]float64{"federal_debt_change": 6}},
		// Zero rates, federal debt +2 only.
		{"zero bound", ltdcRows(200, 250, 240, 240, 10, 10, 100, 102, 2.5, 0.25, 102), "DEEP_CONTRACTION", 0.8, 3, nil},
		// Debt/GDP 250 → 244 (−6), range (244 − 240) / 20 = 0.2.
		{"deleveraging", ltdcRows(240, 260, 250, 244, 10, 10, 100, 101, 2.5, 2, 102), "DEEP_CONTRACTION", 0.2, 4,
			map[string]float64{"debt_gdp_change": -6, "debt_gdp_range": 0.2}},
		// Range (245 − 200) / 50 = 0.9, debt service +0.5.
		{"top, service", ltdcRows(200, 250, 242, 245, 10, 10.5, 100, 101, 2.5, 4, 102), "EARLY_CONTRACTION", 0.9, 5,
			map[string]float64{"debt_service_change": 0.5, "debt_gdp_range": 0.9}},
		// Range exactly 0.8, debt service +0.5.
		{"top at 0.8", ltdcRows(200, 250, 238, 240, 10, 10.5, 100, 101, 2.5, 4, 102), "EARLY_CONTRACTION", 0.8, 5, nil},
		// Range 0.9, service +0.25, interest exactly 3.5.
		{"top, interest", ltdcRows(200, 250, 242, 245, 10, 10.25, 100, 101, 3.5, 4, 102), "EARLY_CONTRACTION", 0.9, 6, nil},
		// Range 0.9, debt +7 in two years.
		{"bubble", ltdcRows(200, 250, 238, 245, 10, 10, 100, 101, 2.5, 4, 102), "LATE_EXPANSION", 0.9, 7, nil},
		// Range 0.6 (230), debt exactly +6.
		{"bubble at 6", ltdcRows(200, 250, 224, 230, 10, 10, 100, 101, 2.5, 4, 102), "LATE_EXPANSION", 0.6, 7, nil},
		// Range 0.4 (220), debt +2.
		{"normalisation", ltdcRows(200, 250, 218, 220, 10, 10, 100, 101, 2.5, 4, 102), "MID_EXPANSION", 0.4, 8, nil},
		// Range 0.6 (230), debt +2.
		{"early part", ltdcRows(200, 250, 228, 230, 10, 10, 100, 101, 2.5, 4, 102), "EARLY_EXPANSION", 0.6, 9, nil},
	})
}

var empireSeries = []string{"EMPIRE_EDUCATION", "EMPIRE_INNOVATION", "EMPIRE_COMPETITIVENESS", "EMPIRE_MILITARY",
	"EMPIRE_TRADE", "EMPIRE_OUTPUT", "EMPIRE_FINANCIAL_CENTER", "EMPIRE_RESERVE_CURRENCY"}

// empireRows: the eight determinants on 1 January of d's year (now) and
// ten years earlier (then).
func empireRows(now, then []float64) func(time.Time) []obs {
	return func(d time.Time) []obs {
		y := time.Date(d.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		var out []obs
		for i, s := range empireSeries {
			out = append(out, obs{s, y, now[i%len(now)]}, obs{s, y.AddDate(-10, 0, 0), then[i%len(then)]})
		}
		return out
	}
}

// TestCycleEmpire: strength = the mean of the eight scores.
func TestCycleEmpire(t *testing.T) {
	t.Parallel()
	one := func(v float64) []float64 { return []float64{v} }
	runCycleCases(t, "cycles.compute_empire", storage.CycleEmpire, 11, []cycleCase{
		{"rise", empireRows(one(0.625), one(0.5)), "RISE", 0.625, 1, map[string]float64{"strength": 0.625, "strength_change": 0.125}},
		{"peak at 0.75", empireRows(one(0.75), one(0.75)), "PEAK", 0.75, 2, map[string]float64{"strength_change": 0}},
		{"peak", empireRows(one(0.8), one(0.82)), "PEAK", 0.8, 2, nil},
		// Strong but falling by 0.1: not a peak.
		{"decline from the top", empireRows(one(0.8), one(0.9)), "DECLINE", 0.8, 3, nil},
		// Mean of 0.9, 0.5, 0.8, 0.6 repeated: 0.7, flat.
		{"decline", empireRows([]float64{0.9, 0.5, 0.8, 0.6}, one(0.7)), "DECLINE", 0.7, 3, map[string]float64{"strength": 0.7}},
		{"collapse", empireRows(one(0.375), one(0.5)), "COLLAPSE", 0.375, 4, nil},
	})
}

// civilRows: gini, top-1 share, polarisation and trust on 1 January of d's
// year and ten years earlier.
func civilRows(now, then [4]float64) func(time.Time) []obs {
	return func(d time.Time) []obs {
		y := time.Date(d.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		var out []obs
		for i, s := range []string{"CIVIL_GINI", "CIVIL_TOP1_SHARE", "CIVIL_POLARIZATION", "CIVIL_INSTITUTIONAL_TRUST"} {
			out = append(out, obs{s, y, now[i]}, obs{s, y.AddDate(-10, 0, 0), then[i]})
		}
		return out
	}
}

// TestCycleCivil: disorder = mean of (gini − 0.3)/0.3, (top1 − 0.1)/0.4,
// polarisation, 1 − trust.
func TestCycleCivil(t *testing.T) {
	t.Parallel()
	// (gini, top1, polarisation, trust) whose four normalised parts are
	// each x: disorder x.
	at := func(x float64) [4]float64 { return [4]float64{0.3 + 0.3*x, 0.1 + 0.4*x, x, 1 - x} }
	runCycleCases(t, "cycles.compute_civil", storage.CycleCivil, 11, []cycleCase{
		// (1 + 1 + 0.9 + 0.8) / 4 = 0.925.
		{"civil war", civilRows([4]float64{0.6, 0.5, 0.9, 0.2}, at(0.5)), "CIVIL_WAR", 0.925, 1, map[string]float64{"disorder": 0.925, "disorder_change": 0.425}},
		{"conflict", civilRows(at(0.65), at(0.5)), "CONFLICT", 0.65, 2, nil},
		{"excesses", civilRows(at(0.5), at(0.4)), "EXCESSES", 0.5, 3, map[string]float64{"disorder_change": 0.1}},
		{"new order", civilRows(at(0.5), at(0.6)), "NEW_ORDER", 0.5, 4, nil},
		{"building systems", civilRows(at(0.3), at(0.35)), "BUILDING_SYSTEMS", 0.3, 5, nil},
		{"peace and prosperity", civilRows(at(0.3), at(0.25)), "PEACE_AND_PROSPERITY", 0.3, 6, nil},
	})
}

// TestCycleMissingSeries: each cycle without one of its inputs (or an
// observation a lag needs) is insufficient_data naming the series, and
// stores nothing; macro.compute_cycles names them all.
func TestCycleMissingSeries(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	d := day("2026-07-01")
	var rows []obs
	for _, r := range stdcRows(100, 102, 4, 4, 100, 102, 4, 4, 0.5)(d) {
		if r.series != "FEDFUNDS" && !(r.series == "INDPRO" && r.date.Before(d)) {
			rows = append(rows, r)
		}
	}
	for _, r := range ltdcRows(200, 250, 228, 230, 10, 10, 100, 101, 2.5, 4, 102)(d) {
		// Drop the oldest quarter: 39 of the 40 the range needs.
		// FEDFUNDS stays missing; CPIAUCSL is already among the STDC rows.
		if !(r.series == "LTDC_TOTAL_DEBT_GDP" && r.date.Equal(d.AddDate(0, -117, 0))) && r.series != "FEDFUNDS" && r.series != "CPIAUCSL" {
			rows = append(rows, r)
		}
	}
	for _, r := range empireRows([]float64{0.8}, []float64{0.8})(d) {
		if r.series != "EMPIRE_MILITARY" {
			rows = append(rows, r)
		}
	}
	for _, r := range civilRows([4]float64{0.4, 0.3, 0.5, 0.5}, [4]float64{0.4, 0.3, 0.5, 0.5})(d) {
		if !(r.series == "CIVIL_INSTITUTIONAL_TRUST" && r.date.Year() == 2016) {
			rows = append(rows, r)
		}
	}
	insertObs(t, db, rows)
	h := newMacroHarness(t, db).At("2026-07-01")
	err := h.Call("cycles.compute_short_term", map[string]any{}, nil)
	wantCode(t, err, agents.CodeInsufficientData, "series FEDFUNDS has no observation on or before 2026-07-01")
	err = h.Call("cycles.compute_long_term", map[string]any{}, nil)
	wantCode(t, err, agents.CodeInsufficientData, "FEDFUNDS")
	// With FEDFUNDS stored, the short INDPRO and the 39 quarters remain.
	insertObs(t, db, []obs{{"FEDFUNDS", d.AddDate(-1, 0, 0), 4}, {"FEDFUNDS", d, 4}})
	err = h.Call("cycles.compute_short_term", map[string]any{}, nil)
	wantCode(t, err, agents.CodeInsufficientData, "series INDPRO has no observation dated 2025-07-01")
	err = h.Call("cycles.compute_long_term", map[string]any{}, nil)
	wantCode(t, err, agents.CodeInsufficientData, "series LTDC_TOTAL_DEBT_GDP has 39 observations in the 120 months up to 2026-07-01")
	err = h.Call("cycles.compute_empire", map[string]any{}, nil)
	wantCode(t, err, agents.CodeInsufficientData, "series EMPIRE_MILITARY has no observation")
	err = h.Call("cycles.compute_civil", map[string]any{}, nil)
	wantCode(t, err, agents.CodeInsufficientData, "series CIVIL_INSTITUTIONAL_TRUST has no observation dated 2016-01-01")
	err = h.Call("macro.compute_cycles", map[string]any{}, nil)
	wantCode(t, err, agents.CodeInsufficientData, "INDPRO", "LTDC_TOTAL_DEBT_GDP", "EMPIRE_MILITARY", "CIVIL_INSTITUTIONAL_TRUST")
	var n int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM cycle_phases`, nil, &n); err != nil || n != 0 {
		t.Errorf("cycle_phases holds %d rows (%v) after failed computations; want 0", n, err)
	}
}

// TestCycleAllAtOnce: macro.compute_cycles gives the same four outputs as
// the four capabilities, stores four rows, and its overview equals
// cycles.aggregate_overview of the four; the overview's tilt is the sum
// of the phases' tilts as documented.
func TestCycleAllAtOnce(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	d := day("2026-07-01")
	var rows []obs
	rows = append(rows, stdcRows(100, 96, 4, 5, 100, 102, 4, 4, 0.5)(d)...)            // deep contraction: +1
	for _, r := range ltdcRows(200, 250, 238, 245, 10, 10, 100, 101, 2.5, 4, 102)(d) { // bubble: 0
		if r.series != "CPIAUCSL" && r.series != "FEDFUNDS" { // both already written by the STDC rows
			rows = append(rows, r)
		}
	}
	rows = append(rows, empireRows([]float64{0.8}, []float64{0.9})(d)...)                                   // decline: +1
	rows = append(rows, civilRows([4]float64{0.48, 0.34, 0.7, 0.3}, [4]float64{0.45, 0.3, 0.5, 0.5})(d)...) // conflict: +1
	insertObs(t, db, rows)
	h := newMacroHarness(t, db).At("2026-07-01")
	var all macro.ComputeCyclesOutput
	h.MustCall("macro.compute_cycles", map[string]any{}, &all)
	want := map[string]string{"STDC": "DEEP_CONTRACTION", "LTDC": "LATE_EXPANSION", "EMPIRE": "DECLINE", "CIVIL": "CONFLICT"}
	singles := map[string]string{"STDC": "cycles.compute_short_term", "LTDC": "cycles.compute_long_term", "EMPIRE": "cycles.compute_empire", "CIVIL": "cycles.compute_civil"}
	outs := []macro.CycleOutput{all.ShortTerm, all.LongTerm, all.Empire, all.Civil}
	for _, o := range outs {
		if o.Phase != want[o.Cycle] {
			t.Errorf("%s: %s; by hand %s", o.Cycle, o.Phase, want[o.Cycle])
		}
		var single macro.CycleOutput
		h.MustCall(singles[o.Cycle], map[string]any{}, &single)
		a, _ := json.Marshal(o)
		b, _ := json.Marshal(single)
		if string(a) != string(b) {
			t.Errorf("%s: macro.compute_cycles and %s differ:\n%s\n%s", o.Cycle, singles[o.Cycle], a, b)
		}
	}
	var ov macro.OverviewOutput
	h.MustCall("cycles.aggregate_overview", map[string]any{"short_term": all.ShortTerm, "long_term": all.LongTerm, "empire": all.Empire, "civil": all.Civil}, &ov)
	a, _ := json.Marshal(ov)
	b, _ := json.Marshal(all.Overview)
	if string(a) != string(b) {
		t.Errorf("overview of compute_cycles and aggregate_overview differ:\n%s\n%s", b, a)
	}
	// Tilts by hand: deep contraction +1, bubble 0, decline +1, conflict +1.
	if ov.Tilt != 3 || ov.Posture != "defensive" || fmt.Sprint(ov.Headwinds) != "[STDC EMPIRE CIVIL]" || len(ov.Tailwinds) != 0 || len(ov.Missing) != 0 {
		t.Errorf("overview tilt %d %s headwinds %v tailwinds %v missing %v; by hand 3 defensive [STDC EMPIRE CIVIL]", ov.Tilt, ov.Posture, ov.Headwinds, ov.Tailwinds, ov.Missing)
	}
	var n int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM cycle_phases WHERE as_of_date = $1`, []any{d}, &n); err != nil || n != 4 {
		t.Errorf("%d cycle_phases rows (%v); want 4", n, err)
	}
	// Two cycles only: the others are listed as missing; -1 + 0 is balanced.
	h.MustCall("cycles.aggregate_overview", map[string]any{"long_term": all.LongTerm,
		"short_term": map[string]any{"cycle": "STDC", "asof_date": "2026-07-01", "phase": "MID_EXPANSION", "score": 1}}, &ov)
	if ov.Tilt != -1 || ov.Posture != "balanced" || fmt.Sprint(ov.Missing) != "[EMPIRE CIVIL]" || fmt.Sprint(ov.Tailwinds) != "[STDC]" {
		t.Errorf("two cycles: %+v", ov)
	}
	err := h.Call("cycles.aggregate_overview", map[string]any{"short_term": all.LongTerm}, nil)
	wantCode(t, err, agents.CodeInvalidInput, "LTDC")
	err = h.Call("cycles.aggregate_overview", map[string]any{"empire": map[string]any{"cycle": "EMPIRE", "asof_date": "2026-07-01", "phase": "GLORY", "score": 1}}, nil)
	wantCode(t, err, agents.CodeInvalidInput, "GLORY")
	err = h.Call("cycles.aggregate_overview", map[string]any{}, nil)
	wantCode(t, err, agents.CodeInvalidInput)
}

// TestCyclePhasesOverlay: every STDC and LTDC phase is accepted by
// risk.overlay_cycle_phases with the multiplier DOMAIN.md §4 gives its
// name; PUSHING_ON_A_STRING, a stage of the deleveraging, amplifies as the
// deep contraction it is.
func TestCyclePhasesOverlay(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	h := newMacroHarness(t, db)
	multipliers := map[string]float64{"EARLY_EXPANSION": 0.8, "MID_EXPANSION": 1.0, "LATE_EXPANSION": 1.2, "EARLY_CONTRACTION": 1.5,
		"DEEP_CONTRACTION": 2.0, "RECOVERY": 0.9, "PUSHING_ON_A_STRING": 2.0}
	stdc := []string{"EARLY_EXPANSION", "MID_EXPANSION", "LATE_EXPANSION", "EARLY_CONTRACTION", "DEEP_CONTRACTION"}
	ltdc := []string{"EARLY_EXPANSION", "LATE_EXPANSION", "EARLY_CONTRACTION", "DEEP_CONTRACTION", "RECOVERY", "PUSHING_ON_A_STRING", "MID_EXPANSION"}
	// The phases as the cycles declare them (the LTDC rows without their
	// FEDFUNDS and CPIAUCSL, which the STDC rows hold).
	var st, lt macro.CycleOutput
	rows := stdcRows(100, 102, 4, 4, 100, 102, 4, 4, 0.5)(day("2026-07-01"))
	for _, r := range ltdcRows(200, 250, 228, 230, 10, 10, 100, 101, 2.5, 4, 102)(day("2026-07-01")) {
		if r.series != "FEDFUNDS" && r.series != "CPIAUCSL" {
			rows = append(rows, r)
		}
	}
	insertObs(t, db, rows)
	h.At("2026-07-01").MustCall("cycles.compute_short_term", map[string]any{}, &st)
	h.At("2026-07-01").MustCall("cycles.compute_long_term", map[string]any{}, &lt)
	for i, p := range st.Rule.Phases {
		if p.Phase != stdc[i] {
			t.Errorf("STDC phase %d is %s; the overlay test expects %s", i, p.Phase, stdc[i])
		}
	}
	for i, p := range lt.Rule.Phases {
		if p.Phase != ltdc[i] {
			t.Errorf("LTDC phase %d is %s; the overlay test expects %s", i, p.Phase, ltdc[i])
		}
	}
	exposures := map[string]any{"exposures": map[string]any{"factors": []map[string]any{{"factor": "equity", "beta": 1.0}}}}
	for i, lp := range ltdc {
		date := time.Date(2000+i, 1, 1, 0, 0, 0, 0, time.UTC)
		sp := stdc[i%len(stdc)]
		if _, err := db.Exec(context.Background(), `INSERT INTO cycle_phases (cycle, as_of_date, phase, score) VALUES ('STDC', $1, $2, 0), ('LTDC', $1, $3, 0)`,
			date, sp, lp); err != nil {
			t.Fatal(err)
		}
		var out analyst.CycleOverlayOutput
		err := h.At(date.Format(time.DateOnly)).Call("risk.overlay_cycle_phases", exposures, &out)
		if err != nil {
			t.Fatalf("overlay of %s / %s: %v", sp, lp, err)
		}
		if want := multipliers[sp] * multipliers[lp]; !near(out.Multiplier, want, 1e-12) {
			t.Errorf("overlay of %s / %s: multiplier %v; want %v", sp, lp, out.Multiplier, want)
		}
	}
}
