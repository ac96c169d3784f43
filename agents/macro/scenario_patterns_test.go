package macro_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/agents/agenttest"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/agents/macro"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/storage"
)

// scenSeries are the factor series in model order and whether each is a
// rate (change / 100) or a level (return).
var scenSeries = []struct {
	id   string
	rate bool
}{{"DFII10", true}, {"T10YIE", true}, {"BAMLC0A0CM", true}, {"DTWEXBGS", false}, {"SP500", false}, {"DCOILWTICO", false}, {"VIXCLS", false}}

// sqlFactorDays recomputes the factor values of every date from..to on
// which all seven series have a change, with plain SQL over
// macro_indicators.
func sqlFactorDays(t *testing.T, db *storage.DB, from, to time.Time) map[time.Time][7]float64 {
	t.Helper()
	out := map[time.Time][7]float64{}
	seen := map[time.Time]int{}
	for f, s := range scenSeries {
		expr := "value / lag(value) OVER (ORDER BY obs_date) - 1"
		if s.rate {
			expr = "(value - lag(value) OVER (ORDER BY obs_date)) / 100"
		}
		err := db.Query(context.Background(), func(rows pgx.Rows) error {
			for rows.Next() {
				var d time.Time
				var v float64
				if err := rows.Scan(&d, &v); err != nil {
					return err
				}
				x := out[d]
				x[f] = v
				out[d] = x
				seen[d]++
			}
			return rows.Err()
		}, `SELECT obs_date, v FROM (SELECT obs_date, `+expr+` AS v FROM macro_indicators WHERE series_id = $1) s
			WHERE v IS NOT NULL AND obs_date BETWEEN $2 AND $3`, s.id, from, to)
		if err != nil {
			t.Fatal(err)
		}
	}
	for d, n := range seen {
		if n != len(scenSeries) {
			delete(out, d)
		}
	}
	return out
}

// sqlRegressionBetas reads the newest regression row on or before asOf of
// each security of a portfolio with plain SQL.
func sqlRegressionBetas(t *testing.T, db *storage.DB, portfolio uuid.UUID, asOf time.Time) map[uuid.UUID][7]float64 {
	t.Helper()
	out := map[uuid.UUID][7]float64{}
	err := db.Query(context.Background(), func(rows pgx.Rows) error {
		for rows.Next() {
			var id uuid.UUID
			var b [7]float64
			if err := rows.Scan(&id, &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6]); err != nil {
				return err
			}
			out[id] = b
		}
		return rows.Err()
	}, `SELECT DISTINCT ON (security_id) security_id, beta_real_rates, beta_inflation, beta_credit, beta_usd, beta_equity,
			beta_commodity, beta_volatility
		FROM position_factor_betas WHERE portfolio_id = $1 AND method = 'regression' AND as_of_date <= $2
		ORDER BY security_id, as_of_date DESC`, portfolio, asOf)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sqlShocks reads a library scenario's shocks with plain SQL.
func sqlShocks(t *testing.T, db *storage.DB, id string) [7]float64 {
	t.Helper()
	var s [7]float64
	if err := db.QueryRow(context.Background(), `SELECT shock_real_rates, shock_inflation, shock_credit, shock_usd, shock_equity,
		shock_commodity, shock_volatility FROM scenario_shocks WHERE id = $1`, []any{id}, &s[0], &s[1], &s[2], &s[3], &s[4], &s[5], &s[6]); err != nil {
		t.Fatal(err)
	}
	return s
}

// handScenarioTotal is Σ over positions of market value × Σ β × shock,
// written out in floats, with the valued positions of the run and the
// betas read with SQL.
func handScenarioTotal(t *testing.T, valued analyst.ValuedPositionsOutput, betas map[uuid.UUID][7]float64, shocks [7]float64) float64 {
	t.Helper()
	total := 0.0
	for _, p := range valued.Positions {
		b, ok := betas[p.SecurityID]
		if !ok {
			t.Fatalf("%s has no regression row", p.Symbol)
		}
		s := 0.0
		for f := range b {
			s += b[f] * shocks[f]
		}
		total += p.MarketValue.InexactFloat64() * s
	}
	return total
}

// TestScenarioPatternsEndToEnd runs the four scenario and risk patterns
// through the real engine on the demo data: portfolio_macro_overview (its
// Monte Carlo DaR against the closed form on the covariance recomputed
// with SQL), portfolio_scenario_analysis (a library scenario on regression
// betas and custom shocks against hand sums over SQL rows, and a
// portfolio with no regression on the heuristic), cycle_deleveraging_scenarios
// and portfolio_cycle_risk; each run is compared with a golden file.
func TestScenarioPatternsEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	end := macroDemoEnd
	dm := agenttest.SeedDemo(t, end, 27)
	db := dm.DB
	cad, eur := dm.Ports["CAD"], dm.Ports["EUR"]
	h := newScenHarness(t, db)
	e := enginetest.Start(t, db, h.Registry, "portfolio_macro_overview.json", "portfolio_scenario_analysis.json",
		"cycle_deleveraging_scenarios.json", "portfolio_cycle_risk.json")
	asOf := end.Format(time.DateOnly)
	run := func(pattern string, inputs map[string]any) *orchestrator.RunDocument {
		t.Helper()
		d := e.Run(t, pattern, asOf, inputs)
		if d.Status != storage.RunSucceeded {
			t.Fatalf("%s ended %s: %+v", pattern, d.Status, d.Errors)
		}
		return d
	}

	// --- portfolio_macro_overview: regression betas of every position,
	// then the DaR on them.
	d := run("portfolio_macro_overview", map[string]any{"portfolio_id": cad.ID, "seed": 20260630})
	dar := enginetest.Output[macro.DaROutput](t, d, "dar")
	exposures := enginetest.Output[analyst.FactorExposuresOutput](t, d, "exposures")
	regime := enginetest.Output[macro.RegimeOutput](t, d, "regime")
	if dar.Regime.Regime != regime.Regime || dar.Regime.Source != "input" || dar.Seed == nil || *dar.Seed != 20260630 ||
		dar.Confidence != 0.95 || dar.HorizonDays != 21 || dar.BetaSources.Heuristic != 0 || len(exposures.Skipped) != 0 {
		t.Fatalf("dar %+v with regime %s; want the run's regime, seed 20260630, every position on its regression", dar, regime.Regime)
	}
	packID := dm.PackID
	h.Run.PricingPackID, h.Run.AsOfDate = packID, asOf
	var valued analyst.ValuedPositionsOutput
	h.MustCall("portfolio.get_valued_positions", map[string]any{"portfolio_id": cad.ID, "pricing_pack_id": packID}, &valued)
	// Closed form: e = Σ weight × β (betas of the exposures step), Σ the
	// daily factor covariance of the days the output names, recomputed
	// with SQL; DaR ≈ z × √(h × eᵀΣe).
	regBetas := map[uuid.UUID][7]float64{}
	for _, p := range exposures.Positions {
		var b [7]float64
		for f, fb := range p.Factors {
			b[f] = fb.Beta
		}
		regBetas[p.SecurityID] = b
	}
	var expo [7]float64
	total := valued.TotalValue.InexactFloat64()
	for _, p := range valued.Positions {
		for f, b := range regBetas[p.SecurityID] {
			expo[f] += p.MarketValue.InexactFloat64() / total * b
		}
	}
	for f, x := range dar.Exposures {
		if !near(x.Exposure, expo[f], 1e-9) {
			t.Errorf("exposure %s %v; by hand %v", x.Factor, x.Exposure, expo[f])
		}
	}
	fdays := sqlFactorDays(t, db, day(dar.Covariance.StartDate), day(dar.Covariance.EndDate))
	if len(fdays) != dar.Covariance.DaysUsed || dar.Covariance.Basis != "all_days" {
		t.Fatalf("SQL finds %d factor days from %s to %s; the DaR used %d (%s)", len(fdays), dar.Covariance.StartDate, dar.Covariance.EndDate,
			dar.Covariance.DaysUsed, dar.Covariance.Basis)
	}
	// Portfolio daily factor return p = e · f; its sample variance is eᵀΣe.
	var ps []float64
	for _, v := range fdays {
		p := 0.0
		for f := range v {
			p += expo[f] * v[f]
		}
		ps = append(ps, p)
	}
	mean := 0.0
	for _, p := range ps {
		mean += p
	}
	mean /= float64(len(ps))
	ss := 0.0
	for _, p := range ps {
		ss += (p - mean) * (p - mean)
	}
	sigma := math.Sqrt(21 * ss / float64(len(ps)-1))
	phi := math.Exp(-z95*z95/2) / math.Sqrt(2*math.Pi)
	want, se := z95*sigma, math.Sqrt(0.05*0.95/10000)/phi*sigma
	t.Logf("macro overview: DaR %.6f, closed form %.6f ± %.6f, regime %s", dar.DaRFraction, want, se, dar.Regime.Regime)
	if math.Abs(dar.DaRFraction-want) > 4*se {
		t.Errorf("DaR %v; closed form %v ± %v", dar.DaRFraction, want, se)
	}
	if !dar.PortfolioValue.Equal(valued.TotalValue) {
		t.Errorf("DaR on %s; market value %s", dar.PortfolioValue, valued.TotalValue)
	}
	var stored float64
	var seedCol int64
	if err := db.QueryRow(ctx, `SELECT dar_fraction, seed FROM dar_history WHERE portfolio_id = $1 AND method = 'monte_carlo'`,
		[]any{cad.ID}, &stored, &seedCol); err != nil || stored != dar.DaRFraction || seedCol != 20260630 {
		t.Errorf("dar_history %v seed %d (%v); want %v seed 20260630", stored, seedCol, err, dar.DaRFraction)
	}
	enginetest.Golden(t, d, "portfolio_macro_overview", agenttest.Update())

	// --- portfolio_scenario_analysis on the regression betas just stored.
	betas := sqlRegressionBetas(t, db, cad.ID, end)
	d = run("portfolio_scenario_analysis", map[string]any{"portfolio_id": cad.ID, "scenario_id": "hist_2008_gfc"})
	sc := enginetest.Output[macro.ScenarioOutput](t, d, "scenario")
	hand := handScenarioTotal(t, valued, betas, sqlShocks(t, db, "hist_2008_gfc"))
	if math.Abs(sc.TotalDelta.InexactFloat64()-hand) > 0.01 || sc.BetaSources.Regression != len(valued.Positions) || sc.ScenarioID != "hist_2008_gfc" {
		t.Errorf("2008 on CAD: %s (%+v); by hand over SQL %.4f", sc.TotalDelta, sc.BetaSources, hand)
	}
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM scenario_results WHERE portfolio_id = $1 AND scenario_id = 'hist_2008_gfc'
		AND delta_value = $2`, []any{cad.ID, sc.TotalDelta}, &n); err != nil || n != 1 {
		t.Errorf("scenario_results rows of the run: %d (%v)", n, err)
	}
	enginetest.Golden(t, d, "portfolio_scenario_analysis", agenttest.Update())
	d = run("portfolio_scenario_analysis", map[string]any{"portfolio_id": cad.ID, "custom_shocks": map[string]any{"equity": -0.1, "credit": 0.01}})
	sc = enginetest.Output[macro.ScenarioOutput](t, d, "scenario")
	hand = handScenarioTotal(t, valued, betas, [7]float64{0, 0, 0.01, 0, -0.1, 0, 0})
	if math.Abs(sc.TotalDelta.InexactFloat64()-hand) > 0.01 || sc.ScenarioID != "" {
		t.Errorf("custom shocks on CAD: %s; by hand %.4f", sc.TotalDelta, hand)
	}
	// EUR Income has no regression rows: every position on the heuristic.
	d = e.Run(t, "portfolio_scenario_analysis", asOf, map[string]any{"portfolio_id": eur.ID, "scenario_id": "equities_down_20pct"})
	sc = enginetest.Output[macro.ScenarioOutput](t, d, "scenario")
	if d.Outputs["scenario"] == nil || sc.BetaSources.Heuristic != len(sc.Positions) || sc.BetaSources.Heuristic == 0 {
		t.Errorf("EUR Income: %s, sources %+v; want every position heuristic", d.Status, sc.BetaSources)
	}
	for _, p := range sc.Positions {
		if p.BetaSource != "heuristic" || p.HeuristicClass == "" {
			t.Errorf("EUR Income %s: %s %q; want marked heuristic", p.Symbol, p.BetaSource, p.HeuristicClass)
		}
	}

	// --- cycle_deleveraging_scenarios.
	d = run("cycle_deleveraging_scenarios", map[string]any{"portfolio_id": cad.ID})
	for _, c := range []struct {
		as     string
		shocks [7]float64
	}{
		{"money_printing", [7]float64{-0.01, 0.015, -0.01, -0.10, 0.20, 0.50, -0.30}},
		{"austerity", [7]float64{0.015, -0.02, 0.03, 0.08, -0.35, -0.35, 1.0}},
		{"default", [7]float64{0.01, -0.025, 0.05, 0.12, -0.45, -0.45, 1.5}},
	} {
		s := enginetest.Output[macro.ScenarioOutput](t, d, c.as)
		if hand := handScenarioTotal(t, valued, betas, c.shocks); math.Abs(s.TotalDelta.InexactFloat64()-hand) > 0.01 {
			t.Errorf("%s: %s; by hand %.4f", c.as, s.TotalDelta, hand)
		}
	}
	enginetest.Golden(t, d, "cycle_deleveraging_scenarios", agenttest.Update())

	// --- portfolio_cycle_risk.
	d = run("portfolio_cycle_risk", map[string]any{"portfolio_id": cad.ID, "seed": 7})
	dar = enginetest.Output[macro.DaROutput](t, d, "dar")
	overlay := enginetest.Output[analyst.CycleOverlayOutput](t, d, "overlay")
	if dar.Seed == nil || *dar.Seed != 7 || overlay.ShortTerm.Cycle != "STDC" || overlay.LongTerm.Cycle != "LTDC" ||
		!near(overlay.Multiplier, overlay.ShortTerm.Multiplier*overlay.LongTerm.Multiplier, 1e-12) {
		t.Errorf("cycle risk: dar seed %v, overlay %+v", dar.Seed, overlay)
	}
	enginetest.Golden(t, d, "portfolio_cycle_risk", agenttest.Update())
}
