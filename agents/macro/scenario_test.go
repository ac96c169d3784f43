package macro_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/macro"
)

// scenRow reads the scenario_results row of a portfolio and hash with
// plain SQL.
type scenRow struct {
	scenarioID  *string
	valueBefore decimal.Decimal
	delta       decimal.Decimal
	deltaPct    float64
	updatedAt   time.Time
	rows        int
}

func readScenRow(t *testing.T, b scenBook, portfolio any, hash string) scenRow {
	t.Helper()
	var r scenRow
	if err := b.db.QueryRow(context.Background(), `SELECT scenario_id, value_before, delta_value, delta_pct, updated_at,
			(SELECT count(*) FROM scenario_results WHERE portfolio_id = $1)
		FROM scenario_results WHERE portfolio_id = $1 AND shock_hash = $2`, []any{portfolio, hash},
		&r.scenarioID, &r.valueBefore, &r.delta, &r.deltaPct, &r.updatedAt, &r.rows); err != nil {
		t.Fatalf("read scenario_results %s: %v", hash, err)
	}
	return r
}

// handHash is sha256 of the canonical shocks written out by hand.
func handHash(canonical string) string {
	s := sha256.Sum256([]byte(canonical))
	return hex.EncodeToString(s[:])
}

// TestScenarioCustomShockHandComputed: portfolio one holds 100 SCA at 100
// (10,000) with regression betas real_rates −3 and equity 1.2 (the row of
// 2025-06-27; the later row and the heuristic row are ignored).
//
//	equity −20 %:                 Δ = 10,000 × 1.2 × −0.2 = −2,400
//	equity −20 %, real rates +1 pp: Δ = 10,000 × (1.2 × −0.2 + (−3) × 0.01)
//	                                  = 10,000 × −0.27 = −2,700
//
// The result is upserted on its shock hash; a replay changes nothing.
func TestScenarioCustomShockHandComputed(t *testing.T) {
	t.Parallel()
	b := buildScenBook(t)
	h := b.harness(t)
	var out macro.ScenarioOutput
	h.MustCall("macro.run_scenario", map[string]any{"portfolio_id": b.one, "custom_shocks": map[string]any{"equity": -0.2}}, &out)
	if !out.TotalDelta.Equal(dec("-2400")) || !out.ValueBefore.Equal(dec("10000")) || out.TotalDeltaPct != -0.24 ||
		!out.ValueAfter.Equal(dec("7600")) {
		t.Fatalf("total %s of %s (%v), after %s; want −2400 of 10000 (−0.24), 7600", out.TotalDelta, out.ValueBefore, out.TotalDeltaPct, out.ValueAfter)
	}
	if len(out.Positions) != 1 {
		t.Fatalf("positions %+v", out.Positions)
	}
	p := out.Positions[0]
	if p.Symbol != "SCA" || !p.DeltaValue.Equal(dec("-2400")) || p.DeltaPct != -0.24 || p.BetaSource != "regression" ||
		p.BetasAsOfDate != "2025-06-27" || p.Betas["equity"] != 1.2 || p.Betas["real_rates"] != -3 || p.HeuristicClass != "" {
		t.Errorf("position %+v; want SCA −2400 (−0.24) from the regression of 2025-06-27 (β equity 1.2, real rates −3)", p)
	}
	for _, f := range out.FactorContributions {
		want := "0"
		if f.Factor == "equity" {
			want = "-2400"
		}
		if !f.DeltaValue.Equal(dec(want)) {
			t.Errorf("factor %s contributes %s; want %s", f.Factor, f.DeltaValue, want)
		}
	}
	if len(out.FactorContributions) != 7 || len(out.Losers) != 1 || out.Losers[0].Symbol != "SCA" || len(out.Winners) != 0 {
		t.Errorf("contributions %d, losers %+v, winners %+v", len(out.FactorContributions), out.Losers, out.Winners)
	}
	canonical := `{"real_rates":0,"inflation":0,"credit":0,"usd":0,"equity":-0.2,"commodity":0,"volatility":0}`
	if out.ShockHash != handHash(canonical) || out.ScenarioID != "" || out.Source != "custom shocks given by the caller" {
		t.Errorf("hash %s, scenario %q, source %q; want sha256(%s) of custom shocks", out.ShockHash, out.ScenarioID, out.Source, canonical)
	}
	if out.Provenance.PricingPackID != b.packID || out.Provenance.AsOfDate != "2025-06-30" || out.Provenance.Method == "" {
		t.Errorf("provenance %+v", out.Provenance)
	}
	row := readScenRow(t, b, b.one, out.ShockHash)
	if row.scenarioID != nil || !row.delta.Equal(dec("-2400")) || !row.valueBefore.Equal(dec("10000")) || row.deltaPct != -0.24 || row.rows != 1 {
		t.Fatalf("stored row %+v; want −2400 of 10000 without a scenario id", row)
	}

	// A replay upserts the same row and changes nothing, updated_at included.
	var again macro.ScenarioOutput
	h.MustCall("macro.run_scenario", map[string]any{"portfolio_id": b.one, "custom_shocks": map[string]any{"equity": -0.2}}, &again)
	if r2 := readScenRow(t, b, b.one, out.ShockHash); r2.rows != 1 || !r2.updatedAt.Equal(row.updatedAt) || again.ResultID != out.ResultID {
		t.Errorf("replay: %d rows, updated %v (was %v), id %s (was %s); want the same row untouched", r2.rows, r2.updatedAt, row.updatedAt,
			again.ResultID, out.ResultID)
	}

	h.MustCall("macro.run_scenario", map[string]any{"portfolio_id": b.one, "custom_shocks": map[string]any{"equity": -0.2, "real_rates": 0.01}}, &out)
	if !out.TotalDelta.Equal(dec("-2700")) || out.FactorContributions[0].Factor != "real_rates" || !out.FactorContributions[0].DeltaValue.Equal(dec("-300")) {
		t.Errorf("two factors: total %s, real rates %s; want −2700 and −300", out.TotalDelta, out.FactorContributions[0].DeltaValue)
	}
	// The same shocks from the library hash the same as given by hand.
	h.MustCall("macro.run_scenario", map[string]any{"portfolio_id": b.one, "scenario_id": "equities_down_20pct"}, &out)
	if out.ShockHash != handHash(canonical) || out.ScenarioID != "equities_down_20pct" || !out.TotalDelta.Equal(dec("-2400")) ||
		out.Probability == nil || *out.Probability != 0.12 {
		t.Errorf("library scenario: hash %s, id %q, total %s, probability %v", out.ShockHash, out.ScenarioID, out.TotalDelta, out.Probability)
	}
	if row := readScenRow(t, b, b.one, out.ShockHash); row.scenarioID == nil || *row.scenarioID != "equities_down_20pct" || row.rows != 2 {
		t.Errorf("library run stored %+v; want the custom row now naming equities_down_20pct, 2 rows in all", row)
	}
}

// TestScenarioHeuristicBetasMarked: portfolio heur has no betas rows, so
// both positions take the heuristic table of run_scenario.go, marked:
// SCA (Technology, β equity 1.2) 5,000 and SCH (Health Care, β equity 0.7)
// 4,000. Equities −20 %: SCA 5,000 × 1.2 × −0.2 = −1,200, SCH 4,000 × 0.7 ×
// −0.2 = −560, total −1,760 of 9,000.
func TestScenarioHeuristicBetasMarked(t *testing.T) {
	t.Parallel()
	b := buildScenBook(t)
	h := b.harness(t)
	var out macro.ScenarioOutput
	h.MustCall("macro.run_scenario", map[string]any{"portfolio_id": b.heur, "scenario_id": "equities_down_20pct"}, &out)
	want := map[string]struct{ delta, class string }{"SCA": {"-1200", "equity_technology"}, "SCH": {"-560", "equity_health_care"}}
	for _, p := range out.Positions {
		w := want[p.Symbol]
		if p.BetaSource != "heuristic" || p.HeuristicClass != w.class || !p.DeltaValue.Equal(dec(w.delta)) || p.BetasAsOfDate != "" {
			t.Errorf("%s: %s %s, Δ %s; want heuristic %s, Δ %s", p.Symbol, p.BetaSource, p.HeuristicClass, p.DeltaValue, w.class, w.delta)
		}
	}
	if !out.TotalDelta.Equal(dec("-1760")) || out.BetaSources.Heuristic != 2 || out.BetaSources.Regression != 0 ||
		len(out.Losers) != 2 || out.Losers[0].Symbol != "SCA" {
		t.Errorf("total %s, sources %+v, losers %+v; want −1760, 2 heuristic, SCA the largest loser", out.TotalDelta, out.BetaSources, out.Losers)
	}
}

// TestScenarioDeleveraging applies the three deleveraging scenarios to
// portfolio one (10,000; β real rates −3, equity 1.2). Their shocks, as
// the capabilities define them (real rates, equity):
//
//	money printing  −0.01, +0.20:  10,000 × (−3 × −0.01 + 1.2 × 0.20)  = +2,700
//	austerity      +0.015, −0.35:  10,000 × (−3 × 0.015 + 1.2 × −0.35) = −4,650
//	default         +0.01, −0.45:  10,000 × (−3 × 0.01 + 1.2 × −0.45)  = −5,700
//
// The rows are stored without a scenario_shocks id (the library does not
// hold them).
func TestScenarioDeleveraging(t *testing.T) {
	t.Parallel()
	b := buildScenBook(t)
	h := b.harness(t)
	for _, c := range []struct {
		capability, id, total string
		shocks                map[string]float64
	}{
		{"scenarios.deleveraging_money_printing", "deleveraging_money_printing", "2700",
			map[string]float64{"real_rates": -0.01, "inflation": 0.015, "credit": -0.01, "usd": -0.10, "equity": 0.20, "commodity": 0.50, "volatility": -0.30}},
		{"scenarios.deleveraging_austerity", "deleveraging_austerity", "-4650",
			map[string]float64{"real_rates": 0.015, "inflation": -0.02, "credit": 0.03, "usd": 0.08, "equity": -0.35, "commodity": -0.35, "volatility": 1.0}},
		{"scenarios.deleveraging_default", "deleveraging_default", "-5700",
			map[string]float64{"real_rates": 0.01, "inflation": -0.025, "credit": 0.05, "usd": 0.12, "equity": -0.45, "commodity": -0.45, "volatility": 1.5}},
	} {
		var out macro.ScenarioOutput
		h.MustCall(c.capability, map[string]any{"portfolio_id": b.one}, &out)
		if !out.TotalDelta.Equal(dec(c.total)) || out.ScenarioID != c.id || out.Category != "deleveraging" || out.Source == "" {
			t.Errorf("%s: total %s, id %q, category %q; want %s", c.capability, out.TotalDelta, out.ScenarioID, out.Category, c.total)
		}
		for k, v := range c.shocks {
			if out.Shocks[k] != v {
				t.Errorf("%s: shock %s = %v; want %v", c.capability, k, out.Shocks[k], v)
			}
		}
		if row := readScenRow(t, b, b.one, out.ShockHash); row.scenarioID != nil || !row.delta.Equal(dec(c.total)) {
			t.Errorf("%s: stored %+v", c.capability, row)
		}
	}
}

// TestScenarioMacroAware: with regime LATE_EXPANSION at confidence 0.5 the
// table gives adverse scenarios ×1.2 (probability and severity), benign
// ×0.9 probability, neutral ×1.1 probability; moved towards 1 by the
// confidence: adverse 1.1 and 1.1, benign 0.95, neutral 1.05.
//
// Apply equities_down_20pct (adverse) to portfolio one: shocks −0.2 × 1.1 =
// −0.22, Δ = 10,000 × 1.2 × −0.22 = −2,640, probability 0.12 × 1.1 = 0.132.
//
// Rank the library (score = scaled probability × |Δ|):
//
//	equities_down_20pct  0.132  × 2,640 = 348.48
//	t_eq_com_up          0.095  × 2,400 = 228     (10,000 × 1.2 × 0.20)
//	t_eq_down_30         0.055  × 3,960 = 217.8   (10,000 × 1.2 × −0.33)
//	t_eq_up_5            0.285  ×   600 = 171
//	t_eq_com_down        0.11   × 1,320 = 145.2   (10,000 × 1.2 × −0.11)
//	t_rates_up_100       0.1575 ×   300 = 47.25   (10,000 × −3 × 0.01)
//	t_com_down_40        0.105  ×     0 = 0       (one has no commodity β)
func TestScenarioMacroAware(t *testing.T) {
	t.Parallel()
	b := buildScenBook(t)
	h := b.harness(t)
	err := h.Call("scenarios.macro_aware_apply", map[string]any{"portfolio_id": b.one, "scenario_id": "equities_down_20pct"}, nil)
	scenWantCode(t, "no regime stored", err, agents.CodeInsufficientData, "", "regime_history")
	err = h.Call("scenarios.macro_aware_rank", map[string]any{"portfolio_id": b.one}, nil)
	scenWantCode(t, "rank without a regime", err, agents.CodeInsufficientData, "", "regime_history")

	insertRegime(t, b.db, "2025-06-01", "LATE_EXPANSION", 0.5)
	insertRegime(t, b.db, "2025-07-01", "DEEP_CONTRACTION", 0.9) // after the as-of date: ignored
	var out macro.ScenarioOutput
	h.MustCall("scenarios.macro_aware_apply", map[string]any{"portfolio_id": b.one, "scenario_id": "equities_down_20pct"}, &out)
	sc := out.Scaling
	if sc == nil || sc.Regime != "LATE_EXPANSION" || sc.RegimeAsOfDate != "2025-06-01" || sc.Class != "adverse" ||
		!near(sc.SeverityMultiplier, 1.1, 1e-12) || !near(sc.ProbabilityMultiplier, 1.1, 1e-12) {
		t.Fatalf("scaling %+v; want LATE_EXPANSION of 2025-06-01, adverse, ×1.1 and ×1.1", sc)
	}
	if !out.TotalDelta.Sub(dec("-2640")).Abs().LessThan(dec("0.0001")) || !near(out.Shocks["equity"], -0.22, 1e-12) ||
		out.Probability == nil || !near(*out.Probability, 0.132, 1e-12) || sc.UnscaledShocks["equity"] != -0.2 {
		t.Errorf("total %s, equity shock %v, probability %v; want −2640, −0.22, 0.132", out.TotalDelta, out.Shocks["equity"], out.Probability)
	}

	var rank macro.MacroAwareRankOutput
	h.MustCall("scenarios.macro_aware_rank", map[string]any{"portfolio_id": b.one, "top_n": 7}, &rank)
	want := []struct {
		id    string
		score float64
	}{{"equities_down_20pct", 348.48}, {"t_eq_com_up", 228}, {"t_eq_down_30", 217.8}, {"t_eq_up_5", 171}, {"t_eq_com_down", 145.2},
		{"t_rates_up_100", 47.25}, {"t_com_down_40", 0}}
	if len(rank.Ranked) != len(want) || rank.Regime != "LATE_EXPANSION" || rank.Evaluated != 7 {
		t.Fatalf("ranked %d of %d in %s; want 7", len(rank.Ranked), rank.Evaluated, rank.Regime)
	}
	for i, w := range want {
		r := rank.Ranked[i]
		if r.ScenarioID != w.id || !near(r.Score, w.score, 1e-6) || r.Rank != i+1 {
			t.Errorf("rank %d: %s score %v; want %s %v", i+1, r.ScenarioID, r.Score, w.id, w.score)
		}
	}
	var top macro.MacroAwareRankOutput
	h.MustCall("scenarios.macro_aware_rank", map[string]any{"portfolio_id": b.one, "top_n": 2}, &top)
	if len(top.Ranked) != 2 || top.Ranked[1].ScenarioID != "t_eq_com_up" {
		t.Errorf("top 2: %+v", top.Ranked)
	}
}

// TestScenarioBadInput: every way a scenario call can be wrong.
func TestScenarioBadInput(t *testing.T) {
	t.Parallel()
	b := buildScenBook(t)
	h := b.harness(t)
	for _, c := range []struct {
		what, capability string
		args             map[string]any
		code, field      string
		names            []string
	}{
		{"unknown scenario", "macro.run_scenario", map[string]any{"portfolio_id": b.one, "scenario_id": "no_such_scenario"},
			agents.CodeNotFound, "", []string{"no_such_scenario"}},
		{"shock on an unknown factor", "macro.run_scenario", map[string]any{"portfolio_id": b.one, "custom_shocks": map[string]any{"oil": 0.1}},
			agents.CodeInvalidInput, "custom_shocks.oil", []string{"oil"}},
		{"shock out of bounds", "macro.run_scenario", map[string]any{"portfolio_id": b.one, "custom_shocks": map[string]any{"equity": -3}},
			agents.CodeInvalidInput, "args.custom_shocks.equity", nil},
		{"no factor shocked", "macro.run_scenario", map[string]any{"portfolio_id": b.one, "custom_shocks": map[string]any{}},
			agents.CodeInvalidInput, "custom_shocks", nil},
		{"neither scenario nor shocks", "macro.run_scenario", map[string]any{"portfolio_id": b.one},
			agents.CodeInvalidInput, "scenario_id", nil},
		{"both scenario and shocks", "macro.run_scenario", map[string]any{"portfolio_id": b.one, "scenario_id": "t_eq_up_5",
			"custom_shocks": map[string]any{"equity": 0.1}}, agents.CodeInvalidInput, "custom_shocks", nil},
		{"unknown portfolio", "macro.run_scenario", map[string]any{"portfolio_id": "00000000-0000-4000-8000-000000000001", "scenario_id": "t_eq_up_5"},
			agents.CodeNotFound, "", nil},
		{"no betas and no heuristic class", "macro.run_scenario", map[string]any{"portfolio_id": b.noclass, "scenario_id": "t_eq_up_5"},
			agents.CodeInsufficientData, "", []string{"SCU", "Unclassified", "position_factor_betas"}},
		{"empty portfolio", "macro.run_scenario", map[string]any{"portfolio_id": b.empty, "scenario_id": "t_eq_up_5"},
			agents.CodeInsufficientData, "", []string{"found 0"}},
		{"cash only", "macro.run_scenario", map[string]any{"portfolio_id": b.cash, "scenario_id": "t_eq_up_5"},
			agents.CodeInsufficientData, "", []string{"found 0"}},
		{"deleveraging without betas", "scenarios.deleveraging_default", map[string]any{"portfolio_id": b.noclass},
			agents.CodeInsufficientData, "", []string{"SCU"}},
		{"macro-aware unknown scenario", "scenarios.macro_aware_apply", map[string]any{"portfolio_id": b.one, "scenario_id": "nope"},
			agents.CodeNotFound, "", []string{"nope"}},
	} {
		err := h.Call(c.capability, c.args, nil)
		scenWantCode(t, c.what, err, c.code, c.field, c.names...)
	}
	var n int
	if err := b.db.QueryRow(context.Background(), `SELECT count(*) FROM scenario_results`, nil, &n); err != nil || n != 0 {
		t.Errorf("failed calls stored %d scenario_results rows (%v); want none", n, err)
	}
}

// TestScenarioCharts: the charts of a result, built from it alone.
func TestScenarioCharts(t *testing.T) {
	t.Parallel()
	b := buildScenBook(t)
	h := b.harness(t)
	var res macro.ScenarioOutput
	h.MustCall("macro.run_scenario", map[string]any{"portfolio_id": b.two, "custom_shocks": map[string]any{"equity": -0.1, "commodity": 0.2}}, &res)
	// two: SCA 10,000 × −0.1 = −1,000; SCB 10,000 × 0.2 = +2,000; total +1,000.
	if !res.TotalDelta.Equal(dec("1000")) || len(res.Winners) != 1 || res.Winners[0].Symbol != "SCB" || res.Losers[0].Symbol != "SCA" {
		t.Fatalf("total %s, winners %+v, losers %+v", res.TotalDelta, res.Winners, res.Losers)
	}
	var out macro.ChartsScenarioOutput
	h.MustCall("charts.scenario", map[string]any{"scenario": res}, &out)
	if len(out.Charts) != 3 {
		t.Fatalf("%d charts", len(out.Charts))
	}
	wf := out.Charts[0]
	pts := wf.Series[0].Points
	if wf.ID != "factor_waterfall" || wf.Type != "waterfall" || len(pts) != 9 || pts[0].Y != 20000 || pts[0].Measure != "absolute" ||
		pts[5].X != "equity" || pts[5].Y != -1000 || pts[6].Y != 2000 || pts[8].X != "After" || pts[8].Y != 21000 || pts[8].Measure != "total" {
		t.Errorf("waterfall %+v", pts)
	}
	steps := 0.0
	for _, p := range pts[1:8] {
		steps += p.Y
	}
	if math.Abs(pts[0].Y+steps-pts[8].Y) > 1e-9 {
		t.Errorf("waterfall steps %v from %v do not reach %v", steps, pts[0].Y, pts[8].Y)
	}
	mv := out.Charts[1]
	if mv.ID != "winners_losers" || mv.Series[0].Points[0].X != "SCB" || mv.Series[1].Points[0].Y != -1000 {
		t.Errorf("movers %+v", mv.Series)
	}
	tb := out.Charts[2]
	if tb.ID != "scenario_positions" || len(tb.Rows) != 2 || *tb.Rows[0]["beta_source"] != "regression" {
		t.Errorf("table %+v", tb.Rows)
	}
}
