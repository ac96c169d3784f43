package macro_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/agenttest"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/agents/macro"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/storage"
)

// macroDemoEnd ends the demo window of the pattern tests; the window
// starts two years and three months earlier, so the macro paths (two
// years longer) hold four years of monthly observations: 36 y/y values
// of CPIAUCSL for its z-score window, with margin.
var macroDemoEnd = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

// sqlZ recomputes an indicator's z-score on asOf with plain SQL: the last
// n values up to asOf (levels, or for yoy each level over the level dated
// exactly one year earlier − 1), their average and stddev_samp.
func sqlZ(t *testing.T, db *storage.DB, series string, yoy bool, n int, asOf time.Time) (z float64, date time.Time) {
	t.Helper()
	values := `SELECT obs_date AS d, value AS v FROM macro_indicators WHERE series_id = $1 AND obs_date <= $2`
	if yoy {
		values = `SELECT a.obs_date AS d, a.value / b.value - 1 AS v FROM macro_indicators a
			JOIN macro_indicators b ON b.series_id = a.series_id AND b.obs_date = (a.obs_date - interval '1 year')::date
			WHERE a.series_id = $1 AND a.obs_date <= $2`
	}
	var latest, mean, sd float64
	var count int
	err := db.QueryRow(context.Background(), `WITH w AS (`+values+` ORDER BY d DESC LIMIT $3)
		SELECT (SELECT v FROM w ORDER BY d DESC LIMIT 1), (SELECT max(d) FROM w), avg(v), stddev_samp(v), count(*) FROM w`,
		[]any{series, asOf, n}, &latest, &date, &mean, &sd, &count)
	if err != nil || count != n {
		t.Fatalf("z of %s by SQL: %v (%d values, want %d)", series, err, count, n)
	}
	return (latest - mean) / sd, date
}

// sqlValue reads one observation.
func sqlValue(t *testing.T, db *storage.DB, series string, onOrBefore time.Time) (float64, time.Time) {
	t.Helper()
	var v float64
	var d time.Time
	if err := db.QueryRow(context.Background(), `SELECT value, obs_date FROM macro_indicators WHERE series_id = $1 AND obs_date <= $2
		ORDER BY obs_date DESC LIMIT 1`, []any{series, onOrBefore}, &v, &d); err != nil {
		t.Fatalf("read %s: %v", series, err)
	}
	return v, d
}

// TestMacroPatternsEndToEnd runs macro_cycles_overview and
// macro_trend_monitor through the real engine on the demo data, checks
// their figures against plain SQL over macro_indicators, regime_history
// and cycle_phases, and compares the runs with golden files.
func TestMacroPatternsEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dm := agenttest.SeedDemo(t, macroDemoEnd, 27)
	db, cad := dm.DB, dm.Ports["CAD"]
	h := newMacroHarness(t, db).At(macroDemoEnd.Format(time.DateOnly))
	e := enginetest.Start(t, db, h.Registry, "macro_cycles_overview.json", "macro_trend_monitor.json")
	asOf := macroDemoEnd.Format(time.DateOnly)

	// --- macro_cycles_overview, as of the run's date and as of a year earlier.
	d := e.Run(t, "macro_cycles_overview", asOf, map[string]any{})
	if d.Status != storage.RunSucceeded {
		t.Fatalf("macro_cycles_overview ended %s: %+v", d.Status, d.Errors)
	}
	checkCycles(t, db, d, macroDemoEnd)
	enginetest.Golden(t, d, "macro_cycles_overview", agenttest.Update())
	// A quarter earlier: the long-term cycle's 10-year range needs the 40
	// quarters the demo holds, the newest of which (2026-01-01) is on or
	// before 2026-03-31; a year earlier it would see 37 and refuse.
	earlier := macroDemoEnd.AddDate(0, -3, 1)
	d = e.Run(t, "macro_cycles_overview", asOf, map[string]any{"asof_date": earlier.Format(time.DateOnly)})
	if d.Status != storage.RunSucceeded {
		t.Fatalf("macro_cycles_overview as of %s ended %s: %+v", earlier.Format(time.DateOnly), d.Status, d.Errors)
	}
	checkCycles(t, db, d, earlier)

	// --- macro_trend_monitor: regimes detected every week of the last
	// five, exposures computed two weeks ago and today.
	for k := 5; k >= 0; k-- {
		h.MustCall("macro.detect_regime", map[string]any{"asof_date": macroDemoEnd.AddDate(0, 0, -7*k).Format(time.DateOnly)}, nil)
	}
	for _, at := range []time.Time{macroDemoEnd.AddDate(0, 0, -14), macroDemoEnd} {
		ha := h.At(at.Format(time.DateOnly))
		ha.Run.PricingPackID = agenttest.FreshPack(t, db, at)
		ha.MustCall("risk.compute_factor_exposures", map[string]any{"portfolio_id": cad.ID}, nil)
	}
	d = e.Run(t, "macro_trend_monitor", asOf, map[string]any{"portfolio_id": cad.ID})
	if d.Status != storage.RunSucceeded {
		t.Fatalf("macro_trend_monitor ended %s: %+v", d.Status, d.Errors)
	}
	shifts := enginetest.Output[macro.TrendShiftsOutput](t, d, "shifts")
	hist := enginetest.Output[macro.RegimeHistoryOutput](t, d, "regime_history")
	exposures := enginetest.Output[analyst.FactorExposureHistoryOutput](t, d, "exposures")
	from := macroDemoEnd.AddDate(0, 0, -27)
	if shifts.FromDate != from.Format(time.DateOnly) || hist.FromDate != shifts.FromDate || exposures.Count != 2 {
		t.Errorf("windows: shifts from %s, history from %s, %d exposure rows; want %s and 2 rows", shifts.FromDate, hist.FromDate, exposures.Count, from.Format(time.DateOnly))
	}
	// z-scores at the end of the window against SQL.
	windows := map[string]int{"T10Y2Y": 252, "UNRATE": 36, "CPIAUCSL:yoy": 36, "BAA10Y": 252}
	if len(shifts.Indicators) != 4 {
		t.Fatalf("indicators %+v", shifts.Indicators)
	}
	for _, ind := range shifts.Indicators {
		series, yoy := ind.Indicator, false
		if ind.Indicator == "CPIAUCSL:yoy" {
			series, yoy = "CPIAUCSL", true
		}
		z, date := sqlZ(t, db, series, yoy, windows[ind.Indicator], macroDemoEnd)
		if !near(ind.EndZ, z, 1e-9) || ind.EndDate != date.Format(time.DateOnly) || ind.Window != windows[ind.Indicator] {
			t.Errorf("%s: z %v on %s over %d; SQL says %v on %s over %d", ind.Indicator, ind.EndZ, ind.EndDate, ind.Window, z, date.Format(time.DateOnly), windows[ind.Indicator])
		}
		startZ, startDate := sqlZ(t, db, series, yoy, windows[ind.Indicator], from.AddDate(0, 0, -1))
		if !near(ind.StartZ, startZ, 1e-9) || ind.StartDate != startDate.Format(time.DateOnly) {
			t.Errorf("%s: baseline z %v on %s; SQL says %v on %s", ind.Indicator, ind.StartZ, ind.StartDate, startZ, startDate.Format(time.DateOnly))
		}
	}
	// The regime detected today, against SQL z-scores and the documented weights.
	var zs [4]float64
	for k, s := range regimeSeries {
		series, yoy := s, s == "CPIAUCSL:yoy"
		if yoy {
			series = "CPIAUCSL"
		}
		zs[k], _ = sqlZ(t, db, series, yoy, windows[s], macroDemoEnd)
	}
	_, probs, top := handRegime(zs)
	if shifts.CurrentRegime == nil || shifts.CurrentRegime.Regime != handWeights[top].regime || !near(shifts.CurrentRegime.Confidence, probs[top], 1e-9) {
		t.Errorf("current regime %+v; from SQL z-scores %v: %s with %v", shifts.CurrentRegime, zs, handWeights[top].regime, probs[top])
	}
	// Regime changes against the stored rows, read with SQL.
	var seq []string
	if err := db.Query(ctx, func(r pgx.Rows) error {
		for r.Next() {
			var dt time.Time
			var rg string
			if err := r.Scan(&dt, &rg); err != nil {
				return err
			}
			seq = append(seq, dt.Format(time.DateOnly)+" "+rg)
		}
		return r.Err()
	}, `SELECT as_of_date, regime FROM regime_history WHERE as_of_date >= (SELECT max(as_of_date) FROM regime_history WHERE as_of_date < $1)
		AND as_of_date <= $2 ORDER BY as_of_date`, from, macroDemoEnd); err != nil {
		t.Fatal(err)
	}
	var wantChanges []string
	for i := 1; i < len(seq); i++ {
		if seq[i][11:] != seq[i-1][11:] {
			wantChanges = append(wantChanges, seq[i])
		}
	}
	var gotChanges []string
	for _, c := range shifts.RegimeChanges {
		gotChanges = append(gotChanges, c.Date+" "+c.ToRegime)
	}
	if fmt.Sprint(gotChanges) != fmt.Sprint(wantChanges) || len(seq) != 5 || hist.Count != 4 || shifts.RegimeRows != 4 {
		t.Errorf("regime changes %v; SQL rows %v give %v (history %d rows)", gotChanges, seq, wantChanges, hist.Count)
	}
	if len(shifts.BetaShifts) != len(storage.Factors) {
		t.Errorf("beta shifts %+v; want one per factor", shifts.BetaShifts)
	}
	for _, b := range shifts.BetaShifts {
		if !near(b.Band, 2*math.Hypot(stdErr(exposures, 0, b.Factor), stdErr(exposures, 1, b.Factor)), 1e-12) {
			t.Errorf("beta shift %+v: band is not 2 combined standard errors", b)
		}
	}
	t.Logf("trend monitor: %d shifts, regime %s, %d crossings, %d regime changes", shifts.Shifts, shifts.CurrentRegime.Regime, len(shifts.Crossings), len(shifts.RegimeChanges))
	enginetest.Golden(t, d, "macro_trend_monitor", agenttest.Update())

	// A portfolio that does not exist is refused when the run is submitted.
	_, err := e.Engine.Submit(ctx, orchestrator.SubmitRequest{Pattern: "macro_trend_monitor", AsOfDate: asOf,
		Inputs: map[string]json.RawMessage{"portfolio_id": json.RawMessage(`"00000000-0000-4000-8000-000000000000"`)}})
	wantCode(t, err, agents.CodeNotFound, "does not exist")
}

func stdErr(h analyst.FactorExposureHistoryOutput, row int, factor string) float64 {
	for _, f := range h.History[row].Factors {
		if f.Factor == factor {
			return f.StdError
		}
	}
	return math.NaN()
}

// checkCycles compares a macro_cycles_overview run with SQL: each
// cycle's signals recomputed from macro_indicators, its stored row, and
// the overview's tilt.
func checkCycles(t *testing.T, db *storage.DB, d *orchestrator.RunDocument, asOf time.Time) {
	t.Helper()
	ctx := context.Background()
	yoy := func(series string) float64 {
		v1, d1 := sqlValue(t, db, series, asOf)
		v0, d0 := sqlValue(t, db, series, d1.AddDate(-1, 0, 0))
		if !d0.Equal(d1.AddDate(-1, 0, 0)) {
			t.Fatalf("%s has no observation a year before %s", series, d1.Format(time.DateOnly))
		}
		return v1/v0 - 1
	}
	change := func(series string, months int) float64 {
		v1, d1 := sqlValue(t, db, series, asOf)
		v0, _ := sqlValue(t, db, series, d1.AddDate(0, -months, 0))
		return v1 - v0
	}
	level := func(series string) float64 { v, _ := sqlValue(t, db, series, asOf); return v }
	meanOf := func(series ...string) float64 {
		s := 0.0
		for _, id := range series {
			s += level(id)
		}
		return s / float64(len(series))
	}
	want := map[string]map[string]float64{
		"short_term": {"growth": yoy("INDPRO"), "unemployment_change": change("UNRATE", 12), "inflation": yoy("CPIAUCSL"),
			"policy_change": change("FEDFUNDS", 12), "curve": level("T10Y2Y")},
		"long_term": {"debt_gdp_change": change("LTDC_TOTAL_DEBT_GDP", 24), "debt_service_change": change("TDSP", 24),
			"federal_debt_change": change("GFDEGDQ188S", 24), "interest_burden": level("FYOIGDA188S"), "policy_rate": level("FEDFUNDS"),
			"inflation": yoy("CPIAUCSL")},
		"empire": {"strength": meanOf(empireSeries...)},
		"civil": {"disorder": ((level("CIVIL_GINI")-0.3)/0.3 + (level("CIVIL_TOP1_SHARE")-0.1)/0.4 + level("CIVIL_POLARIZATION") +
			1 - level("CIVIL_INSTITUTIONAL_TRUST")) / 4},
	}
	tilt := 0
	for as, signals := range want {
		out := enginetest.Output[macro.CycleOutput](t, d, as)
		got := map[string]float64{}
		for _, s := range out.Signals {
			got[s.Name] = s.Value
		}
		for k, v := range signals {
			if !near(got[k], v, 1e-9) {
				t.Errorf("%s %s as of %s: %v; SQL says %v", as, k, asOf.Format(time.DateOnly), got[k], v)
			}
		}
		if out.AsOfDate != asOf.Format(time.DateOnly) {
			t.Errorf("%s as of %s; want %s", as, out.AsOfDate, asOf.Format(time.DateOnly))
		}
		var phase string
		var score float64
		if err := db.QueryRow(ctx, `SELECT phase, score FROM cycle_phases WHERE cycle = $1 AND as_of_date = $2`, []any{out.Cycle, asOf}, &phase, &score); err != nil {
			t.Fatalf("%s: stored row: %v", as, err)
		}
		if phase != out.Phase || score != out.Score {
			t.Errorf("%s: stored %s %v; run %s %v", as, phase, score, out.Phase, out.Score)
		}
		tilt += out.Tilt
	}
	// The short-term score by its formula from the SQL signals.
	st := want["short_term"]
	if out := enginetest.Output[macro.CycleOutput](t, d, "short_term"); !near(out.Score, 50*st["growth"]-2*st["unemployment_change"], 1e-9) {
		t.Errorf("short-term score %v; 50 × growth − 2 × Δunemployment from SQL = %v", out.Score, 50*st["growth"]-2*st["unemployment_change"])
	}
	ov := enginetest.Output[macro.OverviewOutput](t, d, "overview")
	if ov.Tilt != tilt || len(ov.Cycles) != 4 || len(ov.Missing) != 0 {
		t.Errorf("overview tilt %d over %d cycles; the cycles' tilts add to %d", ov.Tilt, len(ov.Cycles), tilt)
	}
}
