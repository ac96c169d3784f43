package optimizer_test

import (
	"context"
	"fmt"
	"math"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/agenttest"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/agents/optimizer"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/storage"
)

// demoEnd is the last day of the demo data; the window is 14 months, so a
// 252-day lookback fits.
var demoEnd = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

func seedDemo(t *testing.T) agenttest.Demo { return agenttest.SeedDemo(t, demoEnd, 14) }

// demoHarness is a harness on the demo data as of its last day, with its
// pack.
func demoHarness(t *testing.T, dm agenttest.Demo) *enginetest.Harness {
	h := newHarness(t, dm.DB)
	h.Run = agents.RunContext{PricingPackID: dm.PackID, AsOfDate: dm.End.Format(time.DateOnly)}
	return h
}

// sqlSectors reads every security's sector with plain SQL.
func sqlSectors(t *testing.T, db *storage.DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := db.Query(context.Background(), func(rows pgx.Rows) error {
		for rows.Next() {
			var sym string
			var sec *string
			if err := rows.Scan(&sym, &sec); err != nil {
				return err
			}
			if sec != nil {
				out[sym] = *sec
			}
		}
		return rows.Err()
	}, `SELECT symbol, sector FROM securities`)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestProposeTradesOnTheDemoData runs every method on every demo portfolio
// under a max weight of 0.2, a cap of 0.35 on every sector and a turnover
// cap of 1.2, and checks the limits, the decimals and the tracking-error
// report; the securities are those the lots hold (SQL), their sectors
// those of the securities table.
func TestProposeTradesOnTheDemoData(t *testing.T) {
	t.Parallel()
	dm := seedDemo(t)
	h := demoHarness(t, dm)
	sectors := sqlSectors(t, dm.DB)
	for _, p := range dm.Report.Portfolios {
		var held []string
		err := dm.DB.Query(context.Background(), func(rows pgx.Rows) error {
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					return err
				}
				held = append(held, s)
			}
			return rows.Err()
		}, `SELECT s.symbol FROM lots l JOIN securities s ON s.id = l.security_id WHERE l.portfolio_id = $1
			GROUP BY s.symbol HAVING sum(l.quantity_open) > 0 ORDER BY s.symbol`, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"max_sharpe", "min_variance", "risk_parity", "min_cvar"} {
			t.Run(p.BaseCurrency+"/"+m, func(t *testing.T) {
				var out optimizer.ProposeTradesOutput
				err := h.Call("optimizer.propose_trades", map[string]any{"portfolio_id": p.ID, "method": m,
					"commission_per_trade": "4.95", "impact_bps": 8,
					"constraints": map[string]any{"max_weight": 0.2, "sector_cap": 0.35, "turnover_cap": 1.2, "te_limit": 0.11}}, &out)
				if err != nil {
					t.Fatal(err)
				}
				if len(out.Positions) != len(held) {
					t.Fatalf("%d positions; the lots hold %v", len(out.Positions), held)
				}
				caps := map[string]float64{}
				for i, x := range out.Positions {
					if x.Symbol != held[i] || x.Sector != sectors[x.Symbol] {
						t.Errorf("position %d: %s in %q; SQL says %s in %q", i, x.Symbol, x.Sector, held[i], sectors[held[i]])
					}
					caps[x.Sector] = 0.35
				}
				checkLimits(t, out, caps, 1.2)
				checkBook(t, out, d("4.95"), 8)
				if out.Observations != 252 || out.LookbackDays != 252 {
					t.Errorf("%d observations of a %d-day lookback; the window holds 252", out.Observations, out.LookbackDays)
				}
				te := out.TrackingError
				if te.BenchmarkSymbol != p.Benchmark || te.After == nil || te.Enforced {
					t.Fatalf("tracking error %+v; want one against %s, not enforced", te, p.Benchmark)
				}
				if want := map[bool]string{true: "exceeded", false: "within"}[*te.After > 0.11]; te.Status != want {
					t.Errorf("tracking error %v against 0.11 reported %s; want %s", *te.After, te.Status, want)
				}
			})
		}
	}
}

// sqlBetas reads the newest regression betas of every security with plain
// SQL, by symbol, with the security's id and type.
type sqlBeta struct {
	id    uuid.UUID
	typ   string
	betas [7]float64
}

func sqlBetas(t *testing.T, db *storage.DB) map[string]sqlBeta {
	t.Helper()
	out := map[string]sqlBeta{}
	err := db.Query(context.Background(), func(rows pgx.Rows) error {
		for rows.Next() {
			var sym string
			var b sqlBeta
			if err := rows.Scan(&sym, &b.id, &b.typ, &b.betas[0], &b.betas[1], &b.betas[2], &b.betas[3], &b.betas[4], &b.betas[5], &b.betas[6]); err != nil {
				return err
			}
			out[sym] = b
		}
		return rows.Err()
	}, `SELECT DISTINCT ON (s.symbol) s.symbol, s.id, s.type, beta_real_rates, beta_inflation, beta_credit, beta_usd, beta_equity,
			beta_commodity, beta_volatility
		FROM position_factor_betas b JOIN securities s ON s.id = b.security_id
		WHERE method = 'regression' ORDER BY s.symbol, b.as_of_date DESC, b.updated_at DESC`)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var factorNames = []string{"real_rates", "inflation", "credit", "usd", "equity", "commodity", "volatility"}

// handScenario builds a scenario result as DOMAIN.md §4 defines
// macro.run_scenario: Δ of a position = MV × Σ βᶠ sᶠ, factor contributions
// Δᶠ = sᶠ × Σ MV βᶠ; market values from the valued positions, betas from
// SQL. The shocks are not passed, so the hedges must recover them.
func handScenario(t *testing.T, valued analyst.ValuedPositionsOutput, betas map[string]sqlBeta, id string, s [7]float64) map[string]any {
	t.Helper()
	var contrib [7]float64
	total := 0.0
	positions := []map[string]any{}
	for _, p := range valued.Positions {
		b, ok := betas[p.Symbol]
		if !ok {
			t.Fatalf("%s has no regression betas", p.Symbol)
		}
		mv := p.MarketValue.InexactFloat64()
		dv := 0.0
		for f := range s {
			contrib[f] += mv * b.betas[f] * s[f]
			dv += mv * b.betas[f] * s[f]
		}
		total += dv
		positions = append(positions, map[string]any{"security_id": p.SecurityID, "symbol": p.Symbol, "market_value": p.MarketValue,
			"delta_value": decimal.NewFromFloat(dv).Round(2), "weight": p.Weight})
	}
	fcs := []map[string]any{}
	for f, n := range factorNames {
		fcs = append(fcs, map[string]any{"factor": n, "delta_value": decimal.NewFromFloat(contrib[f]).Round(6)})
	}
	return map[string]any{"scenario_id": id, "total_delta": decimal.NewFromFloat(total).Round(2), "factor_contributions": fcs,
		"positions": positions, "winners": []any{}}
}

func unitChange(b [7]float64, s [7]float64) float64 {
	u := 0.0
	for f := range s {
		u += b[f] * s[f]
	}
	return u
}

// TestHedgesOnTheDemoData: the factor regressions of the three demo
// portfolios fill position_factor_betas; scenarios built by hand from them
// are hedged, and every hedge is recomputed by hand.
func TestHedgesOnTheDemoData(t *testing.T) {
	t.Parallel()
	dm := seedDemo(t)
	h := demoHarness(t, dm)
	for _, p := range dm.Report.Portfolios {
		var fe analyst.FactorExposuresOutput
		if err := h.Call("risk.compute_factor_exposures", map[string]any{"portfolio_id": p.ID}, &fe); err != nil {
			t.Fatal(err)
		}
	}
	betas := sqlBetas(t, dm.DB)
	var valued analyst.ValuedPositionsOutput
	if err := h.Call("portfolio.get_valued_positions", map[string]any{"portfolio_id": dm.Ports["CAD"].ID, "pricing_pack_id": dm.PackID}, &valued); err != nil {
		t.Fatal(err)
	}
	value := valued.PositionsValue.InexactFloat64()

	// Stagflation, from the scenario library.
	var s [7]float64
	if err := dm.DB.QueryRow(context.Background(), `SELECT shock_real_rates, shock_inflation, shock_credit, shock_usd, shock_equity,
		shock_commodity, shock_volatility FROM scenario_shocks WHERE id = 'stagflation'`, nil,
		&s[0], &s[1], &s[2], &s[3], &s[4], &s[5], &s[6]); err != nil {
		t.Fatal(err)
	}
	scen := handScenario(t, valued, betas, "stagflation", s)
	for _, allowShort := range []bool{true, false} {
		var out optimizer.SuggestHedgesOutput
		if err := h.Call("optimizer.suggest_hedges", map[string]any{"scenario": scen, "allow_short": allowShort, "max_notional_fraction": 0.5}, &out); err != nil {
			t.Fatal(err)
		}
		for f, sh := range out.Shocks {
			if sh.Factor != factorNames[f] || sh.Source != "implied" || math.Abs(sh.Shock-s[f]) > 1e-6*math.Max(1e-3, math.Abs(s[f])) {
				t.Errorf("shock %d: %s %v (%s); the scenario applied %s %v", f, sh.Factor, sh.Shock, sh.Source, factorNames[f], s[f])
			}
		}
		if out.Fit.Positions != len(valued.Positions) || out.Fit.MaxAbsError.GreaterThan(d("0.01")) {
			t.Errorf("fit %+v; the positions' deltas were built from the same betas", out.Fit)
		}
		maxN := value * 0.5
		contrib := map[string]float64{}
		for _, fc := range scen["factor_contributions"].([]map[string]any) {
			contrib[fc["factor"].(string)] = fc["delta_value"].(decimal.Decimal).InexactFloat64()
		}
		// The losing factors, largest loss first, at most three.
		var losing []string
		for _, n := range factorNames {
			if contrib[n] < 0 {
				losing = append(losing, n)
			}
		}
		sort.SliceStable(losing, func(i, j int) bool { return contrib[losing[i]] < contrib[losing[j]] })
		if len(losing) > 3 {
			losing = losing[:3]
		}
		if len(out.LosingFactors) != len(losing) {
			t.Fatalf("%d losing factors; by hand %v", len(out.LosingFactors), losing)
		}
		for i, lf := range out.LosingFactors {
			f := indexOf(factorNames, lf.Factor)
			if lf.Factor != losing[i] {
				t.Errorf("losing factor %d is %s; by hand %s", i, lf.Factor, losing[i])
			}
			// Every candidate by hand; the suggestions are the top three.
			type hand struct {
				sym           string
				n, off, total float64
			}
			var all []hand
			for sym, b := range betas {
				per := b.betas[f] * s[f]
				if per == 0 {
					continue
				}
				n := -contrib[lf.Factor] / per
				if n < 0 && !allowShort {
					continue
				}
				if math.Abs(n) > maxN {
					n = math.Copysign(maxN, n)
				}
				if tot := n * unitChange(b.betas, s); tot > 0 {
					all = append(all, hand{sym, n, n * per, tot})
				}
			}
			sort.Slice(all, func(i, j int) bool {
				if all[i].total != all[j].total {
					return all[i].total > all[j].total
				}
				return math.Abs(all[i].n) < math.Abs(all[j].n)
			})
			if len(lf.Hedges) != min(3, len(all)) || (allowShort && len(lf.Hedges) == 0) {
				t.Fatalf("%s: %d hedges; by hand %d candidates offset it", lf.Factor, len(lf.Hedges), len(all))
			}
			for k, hg := range lf.Hedges {
				w := all[k]
				if hg.Symbol != w.sym || math.Abs(hg.Notional.InexactFloat64()-w.n) > 0.006 ||
					math.Abs(hg.ExpectedOffset.InexactFloat64()-w.total) > 0.006 || math.Abs(hg.OffsetOnFactor.InexactFloat64()-w.off) > 0.006 {
					t.Errorf("%s hedge %d: %s notional %s offset %s (on factor %s); by hand %s %.2f %.2f (%.2f)",
						lf.Factor, k, hg.Symbol, hg.Notional, hg.ExpectedOffset, hg.OffsetOnFactor, w.sym, w.n, w.total, w.off)
				}
				if !hg.Residual.Equal(out.TotalDelta.Add(hg.ExpectedOffset)) || (hg.Direction == "buy") != (w.n > 0) {
					t.Errorf("%s hedge %s: residual %s direction %s; want total %s + offset, %v", lf.Factor, hg.Symbol, hg.Residual, hg.Direction, out.TotalDelta, w.n)
				}
			}
		}
	}

	// Deleveraging: three stylised shocks in the factor units (rates,
	// inflation, credit as decimal changes; the rest as returns).
	shocks := map[string][7]float64{
		"deleveraging_money_printing": {-0.015, 0.01, 0, -0.10, -0.05, 0.20, 0.2},
		"deleveraging_austerity":      {-0.01, -0.005, 0.015, 0.05, -0.20, -0.10, 0.8},
		"deleveraging_default":        {-0.02, -0.01, 0.04, 0.10, -0.40, -0.30, 2.0},
	}
	ids := sortedIDs(shocks)
	var scens []map[string]any
	totals := map[string]float64{}
	for _, id := range ids {
		sc := handScenario(t, valued, betas, id, shocks[id])
		totals[id] = sc["total_delta"].(decimal.Decimal).InexactFloat64()
		scens = append(scens, sc)
	}
	var del optimizer.DeleveragingHedgesOutput
	if err := h.Call("optimizer.suggest_deleveraging_hedges", map[string]any{"scenarios": scens, "hedges": 4}, &del); err != nil {
		t.Fatal(err)
	}
	type hand struct {
		sym      string
		n, worst float64
	}
	var gainers []hand
	var bondOrGold bool
	for sym, b := range betas {
		n, worst, ok := 0.0, math.Inf(1), true
		for _, id := range ids {
			u := unitChange(b.betas, shocks[id])
			if u <= 0 {
				ok = false
				break
			}
			if totals[id] < 0 {
				n = math.Max(n, -totals[id]/u)
			}
		}
		if !ok {
			continue
		}
		n = math.Min(n, value)
		for _, id := range ids {
			worst = math.Min(worst, totals[id]+n*unitChange(b.betas, shocks[id]))
		}
		gainers = append(gainers, hand{sym, n, worst})
		if sym == "IEF" || sym == "GLD" {
			bondOrGold = true
		}
	}
	sort.Slice(gainers, func(i, j int) bool {
		if gainers[i].worst != gainers[j].worst {
			return gainers[i].worst > gainers[j].worst
		}
		return gainers[i].n < gainers[j].n
	})
	if !bondOrGold || del.GainInAll != len(gainers) || len(del.Hedges) != min(4, len(gainers)) {
		t.Fatalf("%d instruments gain in every scenario (%d suggested); by hand %d %v, a bond or gold ETF among them: %v",
			del.GainInAll, len(del.Hedges), len(gainers), gainers, bondOrGold)
	}
	for k, hg := range del.Hedges {
		w := gainers[k]
		if hg.Symbol != w.sym || math.Abs(hg.Notional.InexactFloat64()-w.n) > 0.006 || math.Abs(hg.WorstResidual.InexactFloat64()-w.worst) > 0.02 {
			t.Errorf("deleveraging hedge %d: %s notional %s worst residual %s; by hand %s %.2f %.2f", k, hg.Symbol, hg.Notional, hg.WorstResidual, w.sym, w.n, w.worst)
		}
		for j, sc := range hg.Scenarios {
			u := unitChange(betas[hg.Symbol].betas, shocks[ids[j]])
			if sc.ScenarioID != ids[j] || math.Abs(sc.UnitChange-u) > 1e-9 || !sc.Residual.Equal(decimal.NewFromFloat(totals[ids[j]]).Round(2).Add(sc.Offset)) {
				t.Errorf("%s in %s: unit change %v residual %s; by hand %v and total + offset", hg.Symbol, sc.ScenarioID, sc.UnitChange, sc.Residual, u)
			}
		}
	}

	// A scenario naming a factor the model does not have is refused, and
	// positions without betas leave the shocks unrecoverable.
	bad := handScenario(t, valued, betas, "bad", s)
	bad["factor_contributions"] = []map[string]any{{"factor": "gdp", "delta_value": "-5"}}
	var out optimizer.SuggestHedgesOutput
	err := h.Call("optimizer.suggest_hedges", map[string]any{"scenario": bad}, &out)
	if ae := asError(err); ae == nil || ae.Code != agents.CodeInvalidInput || ae.Field != "scenario.factor_contributions[0].factor" {
		t.Errorf("unknown factor: %v; want invalid_input naming it", err)
	}
	orphan := handScenario(t, valued, betas, "orphan", s)
	orphan["positions"] = append(orphan["positions"].([]map[string]any), map[string]any{"security_id": uuid.New(), "symbol": "NOBETA",
		"market_value": "1000", "delta_value": "-10"})
	err = h.Call("optimizer.suggest_hedges", map[string]any{"scenario": orphan}, &out)
	if ae := asError(err); ae == nil || ae.Code != agents.CodeInsufficientData {
		t.Errorf("a position without betas: %v; want insufficient_data", err)
	}
	// With the shocks given, no betas of the positions are needed.
	for _, fc := range orphan["factor_contributions"].([]map[string]any) {
		fc["shock"] = s[indexOf(factorNames, fc["factor"].(string))]
	}
	if err := h.Call("optimizer.suggest_hedges", map[string]any{"scenario": orphan}, &out); err != nil || out.Shocks[4].Source != "given" {
		t.Errorf("given shocks: %v, source %q; want them used", err, out.Shocks[4].Source)
	}
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	panic(fmt.Sprintf("%s not in %v", x, xs))
}

func sortedIDs[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
