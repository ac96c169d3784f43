package macro_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/macro"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

// insertRegimes writes regime_history rows with plain SQL.
func insertRegimes(t *testing.T, db *storage.DB, rows map[string]string) {
	t.Helper()
	for d, r := range rows {
		if _, err := db.Exec(context.Background(), `INSERT INTO regime_history (as_of_date, regime, confidence, z_scores, probabilities)
			VALUES ($1, $2, 0.5, '{"T10Y2Y": 0.1}', '{}')`, day(d), r); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTrendShiftsConstructed: a daily series alternating −1, 0, +1 for
// 295 business days, then 0 on 2026-06-23 (the baseline before a one-week
// window from 2026-06-24) and 4, 4, −4, 0, 0.5 inside the window. The
// jumps make the z-score (over 252 values) cross +1 and +2 upwards on
// 06-24, all four levels downwards on 06-26 and −2, −1 upwards on 06-29;
// the z-scores are recomputed by hand to confirm each side. Regimes
// stored: EE on 06-10 (the baseline), EE 06-24, ME 06-26, ME 06-29, LE
// 06-30: two changes. Exposures: equity β 1.0 → 1.5 (se 0.1 each, band
// 2√0.02 ≈ 0.283: significant), credit 0.2 → 0.25 (se 0.05, band 0.141:
// not).
func TestTrendShiftsConstructed(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	asOf := day("2026-06-30")
	days := businessDays(asOf, 300)
	vals := make([]float64, 300)
	for i := range vals {
		vals[i] = float64(i%3 - 1)
	}
	copy(vals[294:], []float64{0, 4, 4, -4, 0, 0.5})
	var rows []obs
	for i, d := range days {
		rows = append(rows, obs{"TREND_D", d, vals[i]})
	}
	insertObs(t, db, rows)
	insertRegimes(t, db, map[string]string{"2026-06-10": "EARLY_EXPANSION", "2026-06-24": "EARLY_EXPANSION", "2026-06-26": "MID_EXPANSION",
		"2026-06-29": "MID_EXPANSION", "2026-06-30": "LATE_EXPANSION"})
	h := newMacroHarness(t, db).At("2026-06-30")

	exposures := map[string]any{"history": []map[string]any{
		{"asof_date": "2026-06-24", "factors": []map[string]any{{"factor": "equity", "beta": 1.0, "std_error": 0.1}, {"factor": "credit", "beta": 0.2, "std_error": 0.05}}},
		{"asof_date": "2026-06-30", "factors": []map[string]any{{"factor": "equity", "beta": 1.5, "std_error": 0.1}, {"factor": "credit", "beta": 0.25, "std_error": 0.05},
			{"factor": "usd", "beta": 0.3, "std_error": 0.1}}},
	}}
	var out macro.TrendShiftsOutput
	h.MustCall("macro.detect_trend_shifts", map[string]any{"lookback_weeks": 1, "indicators": []string{"TREND_D"}, "factor_exposures": exposures}, &out)
	if out.FromDate != "2026-06-24" || out.ToDate != "2026-06-30" {
		t.Fatalf("window %s..%s; want 2026-06-24..2026-06-30", out.FromDate, out.ToDate)
	}
	// z by hand over the 252 values ending at each date.
	z := func(i int) float64 { return handZ(vals[i-251 : i+1]) }
	for i := 294; i < 300; i++ {
		t.Logf("%s value %v z %.4f", days[i].Format(time.DateOnly), vals[i], z(i))
	}
	if !(z(294) > -1 && z(294) < 1 && z(295) > 2 && z(296) > 2 && z(297) < -2 && z(298) > -1 && z(298) < 1 && z(299) > -1 && z(299) < 1) {
		t.Fatalf("the construction does not give the z-scores it assumes: %v %v %v %v %v %v", z(294), z(295), z(296), z(297), z(298), z(299))
	}
	want := []string{"2026-06-24 1 up", "2026-06-24 2 up", "2026-06-26 -2 down", "2026-06-26 -1 down", "2026-06-26 1 down", "2026-06-26 2 down",
		"2026-06-29 -2 up", "2026-06-29 -1 up"}
	var got []string
	for _, c := range out.Crossings {
		got = append(got, fmt.Sprintf("%s %v %s", c.Date, c.Level, c.Direction))
		i := 294
		for days[i].Format(time.DateOnly) != c.Date {
			i++
		}
		if !near(c.ZAfter, z(i), 1e-9) || !near(c.ZBefore, z(i-1), 1e-9) || c.Value != vals[i] || c.Indicator != "TREND_D" {
			t.Errorf("crossing %+v; by hand z %v → %v, value %v", c, z(i-1), z(i), vals[i])
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("crossings %v; by construction %v", got, want)
	}
	if len(out.Indicators) != 1 {
		t.Fatalf("indicators %+v", out.Indicators)
	}
	if tr := out.Indicators[0]; tr.StartDate != "2026-06-23" || tr.EndDate != "2026-06-30" || tr.Observations != 5 || tr.Window != 252 ||
		!near(tr.StartZ, z(294), 1e-9) || !near(tr.EndZ, z(299), 1e-9) || !near(tr.ZChange, z(299)-z(294), 1e-9) {
		t.Errorf("trend %+v; by hand from 2026-06-23 z %v to 2026-06-30 z %v over 5 values", tr, z(294), z(299))
	}
	changes := fmt.Sprint(out.RegimeChanges)
	if changes != "[{2026-06-26 2026-06-24 EARLY_EXPANSION MID_EXPANSION 0.5} {2026-06-30 2026-06-29 MID_EXPANSION LATE_EXPANSION 0.5}]" ||
		out.RegimeRows != 4 || out.BaselineRegime == nil || out.BaselineRegime.AsOfDate != "2026-06-10" ||
		out.CurrentRegime == nil || out.CurrentRegime.Regime != "LATE_EXPANSION" {
		t.Errorf("regime changes %s rows %d baseline %+v current %+v", changes, out.RegimeRows, out.BaselineRegime, out.CurrentRegime)
	}
	if len(out.BetaShifts) != 2 {
		t.Fatalf("beta shifts %+v; want equity and credit (usd is not in the oldest row)", out.BetaShifts)
	}
	eq, cr := out.BetaShifts[0], out.BetaShifts[1]
	if eq.Factor != "equity" || !near(eq.Change, 0.5, 1e-12) || !near(eq.Band, 0.282842712474619, 1e-12) || !eq.Significant ||
		cr.Factor != "credit" || !near(cr.Change, 0.05, 1e-12) || !near(cr.Band, 0.1414213562373095, 1e-12) || cr.Significant {
		t.Errorf("beta shifts %+v %+v; by hand equity +0.5 band 0.2828 significant, credit +0.05 band 0.1414 not", eq, cr)
	}
	if out.Shifts != 2+8+1 {
		t.Errorf("shifts %d; want 2 regime changes + 8 crossings + 1 beta shift", out.Shifts)
	}

	// Without exposures and stored regimes before the window only: notes,
	// no changes.
	h.MustCall("macro.detect_trend_shifts", map[string]any{"lookback_weeks": 1, "to_date": "2026-06-12", "indicators": []string{"TREND_D"}}, &out)
	if len(out.RegimeChanges) != 0 || out.RegimeRows != 1 || out.CurrentRegime == nil || out.CurrentRegime.AsOfDate != "2026-06-10" || len(out.Notes) != 2 {
		t.Errorf("window ending 2026-06-12: %+v", out)
	}
	// A baseline without a full window is insufficient_data naming the
	// indicator.
	err := h.Call("macro.detect_trend_shifts", map[string]any{"lookback_weeks": 10, "indicators": []string{"TREND_D"}}, nil)
	wantCode(t, err, agents.CodeInsufficientData, "TREND_D")
	err = h.Call("macro.detect_trend_shifts", map[string]any{"thresholds": []float64{1, 1}, "indicators": []string{"TREND_D"}}, nil)
	wantCode(t, err, agents.CodeInvalidInput)
	err = h.Call("macro.detect_trend_shifts", map[string]any{"thresholds": []float64{-1}, "indicators": []string{"TREND_D"}}, nil)
	wantCode(t, err, agents.CodeInvalidInput)
}

// TestTrendRegimeHistory: stored rows oldest first, by range, by weeks
// and by the 52-week default; an empty range is a note, not an error.
func TestTrendRegimeHistory(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	insertRegimes(t, db, map[string]string{"2025-01-15": "DEEP_CONTRACTION", "2026-05-01": "EARLY_EXPANSION", "2026-06-02": "MID_EXPANSION",
		"2026-06-30": "MID_EXPANSION"})
	h := newMacroHarness(t, db).At("2026-06-30")
	dates := func(o macro.RegimeHistoryOutput) string {
		var s []string
		for _, r := range o.History {
			s = append(s, r.AsOfDate+" "+r.Regime)
		}
		return fmt.Sprint(s)
	}
	var out macro.RegimeHistoryOutput
	h.MustCall("macro.get_regime_history", map[string]any{}, &out)
	if got := dates(out); got != "[2026-05-01 EARLY_EXPANSION 2026-06-02 MID_EXPANSION 2026-06-30 MID_EXPANSION]" || out.FromDate != "2025-07-02" || out.Count != 3 {
		t.Errorf("default 52 weeks from %s: %s", out.FromDate, got)
	}
	if z := out.History[0].ZScores["T10Y2Y"]; z != 0.1 || out.History[0].Confidence != 0.5 || out.History[0].UpdatedAt == "" {
		t.Errorf("stored row %+v", out.History[0])
	}
	// 4 weeks up to 2026-06-30: from 2026-06-03 (to − 28 days + 1).
	h.MustCall("macro.get_regime_history", map[string]any{"lookback_weeks": 4}, &out)
	if got := dates(out); got != "[2026-06-30 MID_EXPANSION]" || out.FromDate != "2026-06-03" {
		t.Errorf("4 weeks from %s: %s", out.FromDate, got)
	}
	h.MustCall("macro.get_regime_history", map[string]any{"from_date": "2025-01-15", "to_date": "2026-06-02"}, &out)
	if got := dates(out); got != "[2025-01-15 DEEP_CONTRACTION 2026-05-01 EARLY_EXPANSION 2026-06-02 MID_EXPANSION]" {
		t.Errorf("range: %s", got)
	}
	h.MustCall("macro.get_regime_history", map[string]any{"from_date": "2020-01-01", "to_date": "2020-12-31"}, &out)
	if out.Count != 0 || out.History == nil || out.Note == "" {
		t.Errorf("empty range: %+v", out)
	}
	err := h.Call("macro.get_regime_history", map[string]any{"from_date": "2026-01-01", "lookback_weeks": 2}, nil)
	wantCode(t, err, agents.CodeInvalidInput)
	err = h.Call("macro.get_regime_history", map[string]any{"from_date": "2026-07-01", "to_date": "2026-06-01"}, nil)
	wantCode(t, err, agents.CodeInvalidInput)
}
