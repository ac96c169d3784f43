package analyst_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/agenttest"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/storage"
)

// TestPatternsEndToEnd runs portfolio_overview and holding_deep_dive
// through the real engine on the demo data and checks their figures
// against recomputations from the raw tables.
func TestPatternsEndToEnd(t *testing.T) {
	t.Parallel()
	dm := seedDemo(t)
	reg := enginetest.Registry(dm.DB, analyst.New(agents.Deps{DB: dm.DB, RiskFreeRate: 0.04}))
	e := enginetest.Start(t, dm.DB, reg, "portfolio_overview.json", "holding_deep_dive.json")
	ctx := context.Background()
	asOf := demoEnd.Format(time.DateOnly)
	p := dm.Ports["CAD"]

	d := e.Run(t, "portfolio_overview", asOf, map[string]any{"portfolio_id": p.ID})
	if d.Status != storage.RunSucceeded {
		t.Fatalf("portfolio_overview ended %s: %+v", d.Status, d.Errors)
	}
	valued := enginetest.Output[analyst.ValuedPositionsOutput](t, d, "valued")
	sqlTotal, held := agenttest.PortfolioValue(t, dm.DB, p.ID, dm.PackID)
	if valued.TotalValue.Sub(sqlTotal).Abs().GreaterThan(d2("0.01")) || len(valued.Positions) != held {
		t.Errorf("valued total %s over %d positions; SQL says %s over %d", valued.TotalValue, len(valued.Positions), sqlTotal, held)
	}
	// TWR over 252 days, recomputed from the daily-value rows.
	twr := enginetest.Output[struct {
		TotalReturn float64 `json:"total_return"`
	}](t, d, "twr")
	days := sqlDays(t, dm.DB, p.ID, demoEnd, 253)
	if want := chain(handReturns(days)); math.Abs(twr.TotalReturn-want) > 1e-9 {
		t.Errorf("twr total_return %v; by hand from portfolio_daily_values %v", twr.TotalReturn, want)
	}
	// metrics.compute upserted the row the run shows.
	var stored float64
	if err := dm.DB.QueryRow(ctx, `SELECT volatility_1y FROM portfolio_metrics WHERE portfolio_id = $1 AND pack_id = $2`,
		[]any{p.ID, dm.PackID}, &stored); err != nil {
		t.Fatalf("read the metrics row the run wrote: %v", err)
	}
	if want := sampleStd(handReturns(days)) * math.Sqrt(252); math.Abs(stored-want) > 1e-9 {
		t.Errorf("stored volatility_1y %v; by hand %v", stored, want)
	}
	charts := enginetest.Output[struct {
		Charts []json.RawMessage `json:"charts"`
	}](t, d, "charts")
	if len(charts.Charts) == 0 {
		t.Errorf("charts.overview produced no chart")
	}
	enginetest.Golden(t, d, "portfolio_overview", agenttest.Update())

	// An as-of date before the first pack can never get one: 422 naming
	// the first pack's date, not 503 pricing_pack_warming.
	_, err := e.Engine.Submit(ctx, orchestrator.SubmitRequest{Pattern: "portfolio_overview", AsOfDate: "0001-01-01",
		Inputs: map[string]json.RawMessage{"portfolio_id": json.RawMessage(`"` + p.ID.String() + `"`)}})
	var ae *agents.Error
	if !errors.As(err, &ae) || ae.Code != agents.CodeInvalidInput || ae.Field != "asof_date" || !strings.Contains(ae.Message, "first pricing pack") {
		t.Errorf("submit as of 0001-01-01: %v; want invalid_input on asof_date naming the first pack's date", err)
	}

	// holding_deep_dive: an equity gets fundamentals and comparables, an
	// ETF skips them by the pattern's condition.
	for _, c := range []struct {
		symbol string
		equity bool
	}{{"CNR", true}, {"BRK.B", true}} {
		var secID string
		if err := dm.DB.QueryRow(ctx, `SELECT id::text FROM securities WHERE symbol = $1`, []any{c.symbol}, &secID); err != nil {
			t.Fatal(err)
		}
		d := e.Run(t, "holding_deep_dive", asOf, map[string]any{"portfolio_id": p.ID, "security_id": secID})
		if d.Status != storage.RunSucceeded {
			t.Fatalf("holding_deep_dive of %s ended %s: %+v", c.symbol, d.Status, d.Errors)
		}
		details := enginetest.Output[struct {
			IsEquity bool `json:"is_equity"`
		}](t, d, "details")
		if details.IsEquity != c.equity {
			t.Errorf("%s: is_equity %v; want %v", c.symbol, details.IsEquity, c.equity)
		}
		_, hasFund := d.Outputs["fundamentals"]
		if hasFund != c.equity {
			t.Errorf("%s: fundamentals present %v; want %v (the condition on is_equity)", c.symbol, hasFund, c.equity)
		}
		if c.symbol == "CNR" {
			enginetest.Golden(t, d, "holding_deep_dive_cnr", agenttest.Update())
		}
	}
	etf := dm.Ports["USD"]
	var ief string
	if err := dm.DB.QueryRow(ctx, `SELECT s.id::text FROM securities s JOIN lots l ON l.security_id = s.id
		WHERE l.portfolio_id = $1 AND l.quantity_open > 0 AND s.type = 'ETF' LIMIT 1`, []any{etf.ID}, &ief); err != nil {
		t.Fatalf("find an ETF held by %s: %v", etf.Name, err)
	}
	de := e.Run(t, "holding_deep_dive", asOf, map[string]any{"portfolio_id": etf.ID, "security_id": ief})
	if de.Status != storage.RunSucceeded {
		t.Fatalf("holding_deep_dive of an ETF ended %s: %+v", de.Status, de.Errors)
	}
	for _, s := range de.Steps {
		if (s.ID == "fundamentals" || s.ID == "comparables") && s.Status != storage.StepSkipped {
			t.Errorf("ETF step %s is %s; want skipped by the condition", s.ID, s.Status)
		}
	}
}

func d2(s string) decimal.Decimal { return decimal.RequireFromString(s) }
