package analyst_test

import (
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/agenttest"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

func TestMain(m *testing.M) { pgtest.MainWithLeakCheck(m) }

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// newHarness calls the analyst's capabilities alone, with the checks a
// step gets.
func newHarness(t *testing.T, db *storage.DB) *enginetest.Harness {
	return enginetest.NewHarness(t, db, analyst.New(agents.Deps{DB: db}))
}

// TestSectorAllocationHandComputed: Tech 600 + 400, Energy 500, total 2,000,
// so cash is 500; weights 0.5, 0.25, 0.25 (hand computation).
func TestSectorAllocationHandComputed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	var out analyst.SectorAllocationOutput
	err := h.Call("portfolio.sector_allocation", map[string]any{
		"positions": []map[string]any{
			{"symbol": "A", "sector": "Technology", "market_value": "600"},
			{"symbol": "B", "sector": "Technology", "market_value": 400},
			{"symbol": "C", "sector": "Energy", "market_value": "500"},
		},
		"total_value": "2000",
	}, &out)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ sector, value, weight string }{{"Technology", "1000", "0.5"}, {"Cash", "500", "0.25"}, {"Energy", "500", "0.25"}}
	if len(out.Sectors) != len(want) {
		t.Fatalf("sectors %+v", out.Sectors)
	}
	for i, w := range want {
		s := out.Sectors[i]
		if s.Sector != w.sector || !s.Value.Equal(d(w.value)) || !s.Weight.Equal(d(w.weight)) {
			t.Errorf("sector %d = %s %s %s; want %+v", i, s.Sector, s.Value, s.Weight, w)
		}
	}
	err = h.Call("portfolio.sector_allocation", map[string]any{
		"positions": []map[string]any{{"symbol": "X", "sector": "", "market_value": "1"}}, "total_value": "1",
	}, &out)
	var ae *agents.Error
	if !errors.As(err, &ae) || ae.Code != agents.CodeInvalidInput || ae.Field != "positions[0].sector" {
		t.Fatalf("security without a sector: %v; want invalid_input naming it (never a made-up sector)", err)
	}
	err = h.Call("portfolio.sector_allocation", map[string]any{"positions": []map[string]any{{"symbol": "X"}}}, &out)
	wantFields := []string{"args.positions[0].market_value", "args.positions[0].sector", "args.total_value"}
	if !errors.As(err, &ae) || ae.Code != agents.CodeInvalidInput || len(ae.Fields) != len(wantFields) {
		t.Fatalf("a position without sector and value, no total: %v; want invalid_input naming %v", err, wantFields)
	}
	for i, f := range ae.Fields {
		if f.Field != wantFields[i] || f.Code != "missing" {
			t.Errorf("field %d = %s (%s); want %s (missing)", i, f.Field, f.Code, wantFields[i])
		}
	}
}

// TestCapabilitiesOnTheDemoData runs the four capabilities on a short demo
// dataset: the valued total against agenttest.PortfolioValue's SQL
// recomputation, and the capabilities against each other.
func TestCapabilitiesOnTheDemoData(t *testing.T) {
	t.Parallel()
	dm := agenttest.SeedDemo(t, time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC), 3)
	db, packID := dm.DB, dm.PackID
	h := newHarness(t, db)
	h.Run = agents.RunContext{PricingPackID: packID, AsOfDate: dm.End.Format(time.DateOnly)}
	for _, p := range dm.Report.Portfolios {
		var valued analyst.ValuedPositionsOutput
		if err := h.Call("portfolio.get_valued_positions", map[string]any{"portfolio_id": p.ID, "pricing_pack_id": packID}, &valued); err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		sqlTotal, held := agenttest.PortfolioValue(t, db, p.ID, packID)
		if diff := valued.TotalValue.Sub(sqlTotal).Abs(); diff.GreaterThan(d("0.01")) || len(valued.Positions) != held || held == 0 {
			t.Fatalf("%s: total %s over %d positions; SQL over the raw tables says %s over %d", p.Name, valued.TotalValue, len(valued.Positions), sqlTotal, held)
		}
		if valued.BaseCurrency != p.BaseCurrency {
			t.Errorf("%s: base currency %s; want %s", p.Name, valued.BaseCurrency, p.BaseCurrency)
		}

		var positions analyst.PositionsOutput
		if err := h.Call("ledger.positions", map[string]any{"portfolio_id": p.ID, "include_lots": true}, &positions); err != nil {
			t.Fatal(err)
		}
		if len(positions.Positions) != held || len(positions.Lots) < held {
			t.Fatalf("%s: %d positions and %d lots; the lots table holds %d securities", p.Name, len(positions.Positions), len(positions.Lots), held)
		}
		var applied analyst.ValuedPositionsOutput
		if err := h.Call("pricing.apply_pack", map[string]any{"positions": positions.Positions, "pricing_pack_id": packID, "base_currency": positions.BaseCurrency}, &applied); err != nil {
			t.Fatal(err)
		}
		if !applied.PositionsValue.Equal(valued.PositionsValue) {
			t.Fatalf("%s: apply_pack values positions at %s, get_valued_positions at %s", p.Name, applied.PositionsValue, valued.PositionsValue)
		}

		var sectors analyst.SectorAllocationOutput
		if err := h.Call("portfolio.sector_allocation", map[string]any{"positions": valued.Positions, "total_value": valued.TotalValue}, &sectors); err != nil {
			t.Fatal(err)
		}
		sum, sumW := decimal.Zero, decimal.Zero
		for _, s := range sectors.Sectors {
			sum = sum.Add(s.Value)
			sumW = sumW.Add(s.Weight)
			if s.Sector == analyst.CashSector && s.Value.LessThan(valued.CashValue) {
				t.Errorf("%s: cash line %s is less than the cash value %s", p.Name, s.Value, valued.CashValue)
			}
		}
		if !sum.Equal(valued.TotalValue) || sumW.Sub(decimal.NewFromInt(1)).Abs().GreaterThan(d("0.0000001")) {
			t.Errorf("%s: sector values sum to %s (total %s), weights to %s", p.Name, sum, valued.TotalValue, sumW)
		}
	}

	var out analyst.ValuedPositionsOutput
	err := h.Call("portfolio.get_valued_positions", map[string]any{"portfolio_id": dm.Report.Portfolios[0].ID, "pricing_pack_id": "PP_1999-01-04"}, &out)
	var ae *agents.Error
	if !errors.As(err, &ae) || ae.Code != agents.CodeNotFound {
		t.Fatalf("unknown pack: %v; want not_found", err)
	}
}
