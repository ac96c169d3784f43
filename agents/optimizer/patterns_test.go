package optimizer_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/agenttest"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/agents/optimizer"
	"github.com/dawsos/dawsos/agents/ratings"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/storage"
)

// baseCloses reads, with plain SQL, every close of the symbols on the last
// n fresh packs up to end converted to the base currency at the pack's
// rate: by symbol, oldest first.
func baseCloses(t *testing.T, db *storage.DB, base string, symbols []string, end time.Time, n int) map[string][]float64 {
	t.Helper()
	out := map[string][]float64{}
	err := db.Query(context.Background(), func(rows pgx.Rows) error {
		for rows.Next() {
			var sym string
			var v float64
			if err := rows.Scan(&sym, &v); err != nil {
				return err
			}
			out[sym] = append(out[sym], v)
		}
		return rows.Err()
	}, `WITH pk AS (SELECT id, pack_date FROM pricing_packs WHERE status = 'fresh' AND superseded_by IS NULL AND pack_date <= $2
	              ORDER BY pack_date DESC LIMIT $4)
		SELECT s.symbol, (pr.close * CASE WHEN pr.currency = $1 THEN 1 ELSE coalesce(
			(SELECT rate FROM fx_rates WHERE pack_id = pk.id AND from_ccy = pr.currency AND to_ccy = $1),
			1 / (SELECT rate FROM fx_rates WHERE pack_id = pk.id AND from_ccy = $1 AND to_ccy = pr.currency)) END)::float8
		FROM pk JOIN prices pr ON pr.pack_id = pk.id JOIN securities s ON s.id = pr.security_id
		WHERE s.symbol = ANY($3) ORDER BY s.symbol, pk.pack_date`, base, end, symbols, n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// handRisk is the annualised volatility of Σ wᵢ rᵢ and its tracking error
// against the benchmark, from base-currency closes, written out.
func handRisk(closes map[string][]float64, weights map[string]float64, bench string) (vol, te float64) {
	b := closes[bench]
	var p, a []float64
	for t := 1; t < len(b); t++ {
		r := 0.0
		for sym, w := range weights {
			r += w * (closes[sym][t]/closes[sym][t-1] - 1)
		}
		p = append(p, r)
		a = append(a, r-(b[t]/b[t-1]-1))
	}
	return math.Sqrt(sampleCov(p, p) * 252), math.Sqrt(sampleCov(a, a) * 252)
}

// TestPolicyRebalanceEndToEnd runs policy_rebalance through the real
// engine on the demo data for the CAD portfolio (default method
// max_sharpe) and checks its figures against recomputations from the raw
// tables and by hand.
func TestPolicyRebalanceEndToEnd(t *testing.T) {
	t.Parallel()
	dm := seedDemo(t)
	deps := agents.Deps{DB: dm.DB, RiskFreeRate: 0.04}
	e := enginetest.Start(t, dm.DB, enginetest.Registry(dm.DB, analyst.New(deps), ratings.New(deps), optimizer.New(deps)), "policy_rebalance.json")
	ctx := context.Background()
	p := dm.Ports["CAD"]
	caps := map[string]any{"max_weight": 0.2, "sector_cap": 0.35, "turnover_cap": 1.2, "te_limit": 0.1}
	doc := e.Run(t, "policy_rebalance", demoEnd.Format(time.DateOnly), map[string]any{"portfolio_id": p.ID, "constraints": caps})
	if doc.Status != storage.RunSucceeded {
		t.Fatalf("policy_rebalance ended %s: %+v", doc.Status, doc.Errors)
	}
	valued := enginetest.Output[analyst.ValuedPositionsOutput](t, doc, "valued")
	rated := enginetest.Output[ratings.AggregateOutput](t, doc, "ratings")
	prop := enginetest.Output[optimizer.ProposeTradesOutput](t, doc, "proposal")
	impact := enginetest.Output[optimizer.AnalyzeImpactOutput](t, doc, "impact")

	sqlTotal, _ := agenttest.PortfolioValue(t, dm.DB, p.ID, dm.PackID)
	if valued.TotalValue.Sub(sqlTotal).Abs().GreaterThan(d("0.01")) || !prop.ValueBefore.Equal(valued.TotalValue) {
		t.Errorf("valued total %s, proposal's value before %s; SQL over the raw tables says %s", valued.TotalValue, prop.ValueBefore, sqlTotal)
	}
	if prop.Method != "max_sharpe" || prop.Sharpe == nil {
		t.Errorf("method %s (Sharpe %v); the pattern's default is max_sharpe", prop.Method, prop.Sharpe)
	}

	// Ratings over the positions: the cash fund is not an equity and is
	// listed as unrated; rated and unrated value make up the positions.
	var psa bool
	for _, u := range rated.Unrated {
		psa = psa || u.Symbol == "PSA" && strings.Contains(u.Reason, "CASH")
	}
	if !psa || rated.RatedValue == nil || !rated.RatedValue.Add(*rated.UnratedValue).Equal(valued.PositionsValue) || rated.Grade == "" {
		t.Errorf("ratings: unrated %+v, rated %v + unrated %v; want PSA unrated and the sum %s", rated.Unrated, rated.RatedValue, rated.UnratedValue, valued.PositionsValue)
	}

	// The proposal keeps its limits; every decimal adds up.
	sectorCaps := map[string]float64{}
	for _, x := range prop.Positions {
		sectorCaps[x.Sector] = 0.35
	}
	checkLimits(t, prop, sectorCaps, 1.2)
	checkBook(t, prop, decimal.Zero, 5)

	// Impact: HHI by hand from the proposal's values.
	hhiOf := func(vals []decimal.Decimal, total decimal.Decimal) float64 {
		s := 0.0
		for _, v := range vals {
			w := v.InexactFloat64() / total.InexactFloat64()
			s += w * w
		}
		return s
	}
	var before, after []decimal.Decimal
	weights := map[string]float64{}
	symbols := []string{p.Benchmark}
	for _, x := range prop.Positions {
		before, after = append(before, x.ValueBefore), append(after, x.ValueAfter)
		weights[x.Symbol] = x.ValueAfter.InexactFloat64() / prop.ValueAfter.InexactFloat64()
		symbols = append(symbols, x.Symbol)
	}
	if h := hhiOf(before, prop.ValueBefore); math.Abs(impact.Before.HHI-h) > 1e-12 {
		t.Errorf("HHI before %v; by hand %v", impact.Before.HHI, h)
	}
	if h := hhiOf(after, prop.ValueAfter); math.Abs(impact.After.HHI-h) > 1e-12 {
		t.Errorf("HHI after %v; by hand %v", impact.After.HHI, h)
	}
	if !impact.After.Value.Equal(prop.ValueAfter) || !impact.Costs.Total.Equal(prop.Costs.Total) || impact.Observations != 252 {
		t.Errorf("impact value %s costs %s over %d days; proposal %s, %s, 252", impact.After.Value, impact.Costs.Total, impact.Observations, prop.ValueAfter, prop.Costs.Total)
	}
	// Volatility and tracking error after the trades, from the SQL closes
	// in CAD (the CAD portfolio holds no security that split).
	closes := baseCloses(t, dm.DB, "CAD", symbols, demoEnd, 253)
	vol, te := handRisk(closes, weights, p.Benchmark)
	if math.Abs(impact.After.Volatility-vol) > 1e-9 || impact.After.TrackingError == nil || math.Abs(*impact.After.TrackingError-te) > 1e-9 {
		t.Errorf("after: volatility %v, tracking error %v; from the SQL closes by hand %v, %v", impact.After.Volatility, impact.After.TrackingError, vol, te)
	}
	if prop.TrackingError.After == nil || math.Abs(*prop.TrackingError.After-te) > 1e-9 {
		t.Errorf("the proposal's tracking error after %v; by hand %v", prop.TrackingError.After, te)
	}
	enginetest.Golden(t, doc, "policy_rebalance_cad", agenttest.Update())

	// A method outside the enum is refused at submission.
	_, err := e.Engine.Submit(ctx, submitRequest(p.ID.String(), "mean_variance"))
	if ae := asError(err); ae == nil || ae.Code != agents.CodeInvalidInput {
		t.Errorf("method mean_variance: %v; want invalid_input", err)
	}
}

func submitRequest(portfolioID, method string) orchestrator.SubmitRequest {
	return orchestrator.SubmitRequest{Pattern: "policy_rebalance", AsOfDate: demoEnd.Format(time.DateOnly),
		Inputs: map[string]json.RawMessage{"portfolio_id": json.RawMessage(`"` + portfolioID + `"`), "method": json.RawMessage(`"` + method + `"`)}}
}
