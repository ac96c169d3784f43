package analyst_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
	"github.com/dawsos/dawsos/storage/seed"
)

func TestMain(m *testing.M) { pgtest.MainWithLeakCheck(m) }

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// harness calls the analyst's capabilities the way a step handler does:
// arguments checked against the input schema, the capability run in the
// registry with contract checks on, the output checked against the output
// schema.
type harness struct {
	t   *testing.T
	reg *agents.Registry
	cat *orchestrator.Catalog
	rc  agents.RunContext
}

func newHarness(t *testing.T, db *storage.DB) *harness {
	r := agents.NewRegistry(agents.Options{DB: db, CheckContracts: true})
	r.Add(analyst.New(agents.Deps{DB: db}))
	return &harness{t: t, reg: r, cat: orchestrator.MustCatalog(r)}
}

func (h *harness) call(name string, args any, out any) error {
	h.t.Helper()
	s, ok := h.reg.Get(name)
	if !ok {
		h.t.Fatalf("%s not registered", name)
	}
	raw, err := json.Marshal(args)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.cat.CheckArgs(name, raw, "args"); err != nil {
		return err
	}
	res, err := s.Invoke(context.Background(), agents.Call{Run: h.rc}, raw)
	if err != nil {
		return err
	}
	spec, _ := h.cat.Capability(name)
	if errs := spec.Output.Validate(res); len(errs) > 0 {
		h.t.Fatalf("%s: output breaks its schema: %v", name, errs)
	}
	return json.Unmarshal(res, out)
}

// TestSectorAllocationHandComputed: Tech 600 + 400, Energy 500, total 2,000,
// so cash is 500; weights 0.5, 0.25, 0.25 (hand computation).
func TestSectorAllocationHandComputed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	var out analyst.SectorAllocationOutput
	err := h.call("portfolio.sector_allocation", map[string]any{
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
	err = h.call("portfolio.sector_allocation", map[string]any{
		"positions": []map[string]any{{"symbol": "X", "sector": "", "market_value": "1"}}, "total_value": "1",
	}, &out)
	var ae *agents.Error
	if !errors.As(err, &ae) || ae.Code != agents.CodeInvalidInput || ae.Field != "positions[0].sector" {
		t.Fatalf("security without a sector: %v; want invalid_input naming it (never a made-up sector)", err)
	}
	err = h.call("portfolio.sector_allocation", map[string]any{"positions": []map[string]any{{"symbol": "X"}}}, &out)
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

// independentTotal values a portfolio from the raw tables in one SQL
// statement, with no code of the storage package: open lots × the pack's
// closes × the pack's rate to the base currency (inverted where only the
// other direction is stored), plus the cash of every transaction up to the
// pack's date at the same rates.
const independentTotal = `
WITH p AS (SELECT base_currency AS b FROM portfolios WHERE id = $1),
pk AS (SELECT pack_date FROM pricing_packs WHERE id = $2),
ccys AS (SELECT DISTINCT currency AS c FROM prices WHERE pack_id = $2
         UNION SELECT DISTINCT cash_currency FROM transactions WHERE portfolio_id = $1),
rate AS (SELECT c, CASE WHEN c = (SELECT b FROM p) THEN 1::numeric ELSE coalesce(
           (SELECT rate FROM fx_rates WHERE pack_id = $2 AND from_ccy = c AND to_ccy = (SELECT b FROM p)),
           1 / (SELECT rate FROM fx_rates WHERE pack_id = $2 AND from_ccy = (SELECT b FROM p) AND to_ccy = c)) END AS r
         FROM ccys),
held AS (SELECT security_id, sum(quantity_open) AS q FROM lots WHERE portfolio_id = $1 AND quantity_open > 0 GROUP BY security_id)
SELECT coalesce((SELECT sum(h.q * pr.close * r.r) FROM held h
                 JOIN prices pr ON pr.pack_id = $2 AND pr.security_id = h.security_id JOIN rate r ON r.c = pr.currency), 0)
     + coalesce((SELECT sum(t.cash_amount * r.r) FROM transactions t JOIN rate r ON r.c = t.cash_currency
                 WHERE t.portfolio_id = $1 AND t.trade_date <= (SELECT pack_date FROM pk)), 0),
       (SELECT count(*) FROM held)`

// TestCapabilitiesOnTheDemoData runs the four capabilities on a short demo
// dataset: the valued total against the SQL recomputation above, and the
// capabilities against each other.
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
	var packID string
	if err := db.QueryRow(ctx, `SELECT id FROM pricing_packs WHERE pack_date <= $1 AND status = 'fresh' AND superseded_by IS NULL ORDER BY pack_date DESC LIMIT 1`,
		[]any{end}, &packID); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, db)
	h.rc = agents.RunContext{PricingPackID: packID, AsOfDate: end.Format(time.DateOnly)}
	for _, p := range rep.Portfolios {
		var valued analyst.ValuedPositionsOutput
		if err := h.call("portfolio.get_valued_positions", map[string]any{"portfolio_id": p.ID, "pricing_pack_id": packID}, &valued); err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		var sqlTotal decimal.Decimal
		var held int
		if err := db.QueryRow(ctx, independentTotal, []any{p.ID, packID}, &sqlTotal, &held); err != nil {
			t.Fatal(err)
		}
		if diff := valued.TotalValue.Sub(sqlTotal).Abs(); diff.GreaterThan(d("0.01")) || len(valued.Positions) != held || held == 0 {
			t.Fatalf("%s: total %s over %d positions; SQL over the raw tables says %s over %d", p.Name, valued.TotalValue, len(valued.Positions), sqlTotal, held)
		}
		if valued.BaseCurrency != p.BaseCurrency {
			t.Errorf("%s: base currency %s; want %s", p.Name, valued.BaseCurrency, p.BaseCurrency)
		}

		var positions analyst.PositionsOutput
		if err := h.call("ledger.positions", map[string]any{"portfolio_id": p.ID, "include_lots": true}, &positions); err != nil {
			t.Fatal(err)
		}
		if len(positions.Positions) != held || len(positions.Lots) < held {
			t.Fatalf("%s: %d positions and %d lots; the lots table holds %d securities", p.Name, len(positions.Positions), len(positions.Lots), held)
		}
		var applied analyst.ValuedPositionsOutput
		if err := h.call("pricing.apply_pack", map[string]any{"positions": positions.Positions, "pricing_pack_id": packID, "base_currency": positions.BaseCurrency}, &applied); err != nil {
			t.Fatal(err)
		}
		if !applied.PositionsValue.Equal(valued.PositionsValue) {
			t.Fatalf("%s: apply_pack values positions at %s, get_valued_positions at %s", p.Name, applied.PositionsValue, valued.PositionsValue)
		}

		var sectors analyst.SectorAllocationOutput
		if err := h.call("portfolio.sector_allocation", map[string]any{"positions": valued.Positions, "total_value": valued.TotalValue}, &sectors); err != nil {
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
	err = h.call("portfolio.get_valued_positions", map[string]any{"portfolio_id": rep.Portfolios[0].ID, "pricing_pack_id": "PP_1999-01-04"}, &out)
	var ae *agents.Error
	if !errors.As(err, &ae) || ae.Code != agents.CodeNotFound {
		t.Fatalf("unknown pack: %v; want not_found", err)
	}
}
