package analyst_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
	"github.com/dawsos/dawsos/storage/seed"
)

func TestMain(m *testing.M) { pgtest.MainWithLeakCheck(m) }

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// TestSectorAllocationHandComputed: Tech 600 + 400, Energy 500, total 2,000,
// so cash is 500; weights 0.5, 0.25, 0.25 (hand computation).
func TestSectorAllocationHandComputed(t *testing.T) {
	t.Parallel()
	a := analyst.New(analyst.Deps{})
	out, err := a.SectorAllocation(context.Background(), agents.RunContext{}, analyst.SectorAllocationInput{
		Positions: []analyst.ValuedPosition{
			{Position: analyst.Position{Symbol: "A", Sector: "Technology"}, MarketValue: d("600")},
			{Position: analyst.Position{Symbol: "B", Sector: "Technology"}, MarketValue: d("400")},
			{Position: analyst.Position{Symbol: "C", Sector: "Energy"}, MarketValue: d("500")},
		},
		TotalValue: d("2000"),
	})
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
	_, err = a.SectorAllocation(context.Background(), agents.RunContext{}, analyst.SectorAllocationInput{
		Positions:  []analyst.ValuedPosition{{Position: analyst.Position{Symbol: "X"}, MarketValue: d("1")}},
		TotalValue: d("1"),
	})
	var ae *agents.Error
	if !errors.As(err, &ae) || ae.Code != agents.CodeInvalidInput || ae.Field != "positions[0].sector" {
		t.Fatalf("security without a sector: %v; want invalid_input naming it (never a made-up sector)", err)
	}
}

// TestCapabilitiesOnTheDemoData runs the four capabilities through the
// registry on a short demo dataset and checks they agree with each other
// and with the storage valuation.
func TestCapabilitiesOnTheDemoData(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	ctx := context.Background()
	end := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	rep, err := seed.Run(ctx, db, seed.Options{Seed: 7, Start: end.AddDate(0, -3, 0), End: end,
		Passwords: map[string]string{seed.RoleAdmin: "a-pw", seed.RoleManager: "m-pw", seed.RoleViewer: "v-pw"}})
	if err != nil {
		t.Fatal(err)
	}
	var pack storage.Pack
	if err := db.Tx(ctx, func(tx pgx.Tx) error {
		var err error
		pack, err = storage.PackForDate(ctx, tx, end)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	r := agents.NewRegistry()
	analyst.Register(r, analyst.New(analyst.Deps{DB: db}))
	call := func(name string, args any, out any) error {
		s, ok := r.Get(name)
		if !ok {
			t.Fatalf("%s not registered", name)
		}
		raw, _ := json.Marshal(args)
		res, err := s.Invoke(ctx, agents.RunContext{PricingPackID: pack.ID, AsOfDate: end.Format(time.DateOnly)}, raw)
		if err != nil {
			return err
		}
		return json.Unmarshal(res, out)
	}
	for _, p := range rep.Portfolios {
		var valued analyst.ValuedPositionsOutput
		if err := call("portfolio.get_valued_positions", map[string]any{"portfolio_id": p.ID, "pricing_pack_id": pack.ID}, &valued); err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		var v storage.Valuation
		_ = db.Tx(ctx, func(tx pgx.Tx) error {
			var err error
			v, err = storage.ValuePortfolio(ctx, tx, p.ID, pack.ID)
			return err
		})
		if !valued.TotalValue.Equal(v.Total) || len(valued.Positions) == 0 || valued.BaseCurrency != p.BaseCurrency {
			t.Fatalf("%s: total %s with %d positions in %s; storage says %s", p.Name, valued.TotalValue, len(valued.Positions), valued.BaseCurrency, v.Total)
		}

		var positions analyst.PositionsOutput
		if err := call("ledger.positions", map[string]any{"portfolio_id": p.ID, "include_lots": true}, &positions); err != nil {
			t.Fatal(err)
		}
		if len(positions.Positions) != len(valued.Positions) || len(positions.Lots) < len(positions.Positions) {
			t.Fatalf("%s: %d positions and %d lots; valued has %d positions", p.Name, len(positions.Positions), len(positions.Lots), len(valued.Positions))
		}
		var applied analyst.ValuedPositionsOutput
		if err := call("pricing.apply_pack", map[string]any{"positions": positions.Positions, "pricing_pack_id": pack.ID, "base_currency": positions.BaseCurrency}, &applied); err != nil {
			t.Fatal(err)
		}
		if !applied.PositionsValue.Equal(valued.PositionsValue) {
			t.Fatalf("%s: apply_pack values positions at %s, get_valued_positions at %s", p.Name, applied.PositionsValue, valued.PositionsValue)
		}

		var sectors analyst.SectorAllocationOutput
		if err := call("portfolio.sector_allocation", map[string]any{"positions": valued.Positions, "total_value": valued.TotalValue}, &sectors); err != nil {
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
	err = call("portfolio.get_valued_positions", map[string]any{"portfolio_id": rep.Portfolios[0].ID, "pricing_pack_id": "PP_1999-01-04"}, &out)
	var ae *agents.Error
	if !errors.As(err, &ae) || ae.Code != agents.CodeNotFound {
		t.Fatalf("unknown pack: %v; want not_found", err)
	}
}
