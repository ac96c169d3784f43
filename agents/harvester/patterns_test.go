package harvester_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/agenttest"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/agents/harvester"
	"github.com/dawsos/dawsos/agents/macro"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/storage"
)

// engineRegistry is the analyst, the harvester and the macro hound (for
// alerts.create_if_threshold), as the binary hosts them, with the given
// providers and clock.
func engineRegistry(db *storage.DB, providers map[string]agents.Provider, at time.Time) *agents.Registry {
	deps := agents.Deps{DB: db, RiskFreeRate: 0.04, Now: func() time.Time { return at }, Providers: providers}
	return enginetest.Registry(db, analyst.New(deps), harvester.New(deps), macro.New(deps))
}

// stepCode is the error code of a step, "" when it has none.
func stepCode(s orchestrator.StepDocument) string {
	var e struct {
		Code string `json:"code"`
	}
	if len(s.Error) > 0 {
		_ = json.Unmarshal(s.Error, &e)
	}
	return e.Code
}

func stepOf(d *orchestrator.RunDocument, id string) orchestrator.StepDocument {
	for _, s := range d.Steps {
		if s.ID == id {
			return s
		}
	}
	return orchestrator.StepDocument{}
}

// TestNewsImpactEndToEnd: without a NewsAPI key the run ends partial, the
// valuation intact and news.search dead-lettered with the final
// provider_not_configured; a second engine started with the key (pointing
// at the local NewsAPI) replays the dead letter, and the run ends
// succeeded with the fetched items stored and the impact computed. Then a
// NewsAPI answering 500 opens news.search's breaker through the engine's
// normal path.
func TestNewsImpactEndToEnd(t *testing.T) {
	t.Parallel()
	dm := seedDemo(t)
	ctx := context.Background()
	asOf := demoEnd.Format(time.DateOnly)
	cad := dm.Ports["CAD"]
	inputs := map[string]any{"portfolio_id": cad.ID}
	var runID string
	t.Run("without a key", func(t *testing.T) {
		e := enginetest.Start(t, dm.DB, engineRegistry(dm.DB, nil, now), "news_impact_analysis.json")
		d := e.Run(t, "news_impact_analysis", asOf, inputs)
		runID = d.RunID
		if d.Status != storage.RunPartial {
			t.Fatalf("ended %s; want partial: %+v", d.Status, d.Errors)
		}
		if s := stepOf(d, "valued"); s.Status != storage.StepSucceeded {
			t.Errorf("valuation %s; it needs no provider", s.Status)
		}
		if s := stepOf(d, "news"); s.Status != storage.StepDeadLettered || stepCode(s) != agents.CodeProviderNotConfigured || s.Attempts != 1 {
			t.Fatalf("news step %+v; want dead-lettered after one attempt with provider_not_configured", s)
		}
		if _, ok := d.Outputs["valued"]; !ok {
			t.Errorf("the valuation's output is gone from a partial run")
		}
	})
	dls, err := storage.ListDeadLetters(ctx, dm.DB.Pool(), storage.DeadLetterFilter{Capability: "news.search", Status: "pending"})
	if err != nil || len(dls) != 1 {
		t.Fatalf("dead letters of news.search: %d (%v); want 1", len(dls), err)
	}

	fp := newFakeProviders(t, now)
	e := enginetest.Start(t, dm.DB, engineRegistry(dm.DB, fp.providers(), now), "news_impact_analysis.json")
	if _, err := e.Engine.Replay(ctx, orchestrator.ReplayRequest{DeadLetterID: dls[0].ID, RequestedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	d := e.Wait(t, runID)
	if d.Status != storage.RunSucceeded {
		t.Fatalf("after the replay the run ended %s: %+v", d.Status, d.Errors)
	}
	var stored int
	if err := dm.DB.QueryRow(ctx, `SELECT count(*) FROM news_items WHERE provider = 'newsapi' AND fetched_at = $1
		AND security_id IN (SELECT security_id FROM lots WHERE portfolio_id = $2 AND quantity_open > 0)`, []any{now, cad.ID}, &stored); err != nil {
		t.Fatal(err)
	}
	valued := enginetest.Output[analyst.ValuedPositionsOutput](t, d, "valued")
	news := enginetest.Output[harvester.SearchNewsOutput](t, d, "news")
	impact := enginetest.Output[harvester.ImpactOutput](t, d, "impact")
	// Two fixture articles per held security (title and summary mentions).
	if stored != 2*len(valued.Positions) || fp.calls(agents.ProviderNewsAPI) == 0 {
		t.Errorf("stored %d NewsAPI items for %d positions", stored, len(valued.Positions))
	}
	// The impact by hand from the run's own items and weights; each
	// item's sentiment is the stored one.
	weight := map[string]float64{}
	for _, p := range valued.Positions {
		weight[p.SecurityID.String()], _ = p.Weight.Float64()
	}
	sum, n := map[string]float64{}, map[string]int{}
	for _, it := range news.Items {
		var s *float64
		if err := dm.DB.QueryRow(ctx, `SELECT sentiment FROM news_items WHERE security_id = $1 AND url = $2`, []any{it.SecurityID, it.URL}, &s); err != nil {
			t.Fatal(err)
		}
		if (s == nil) != (it.Sentiment == nil) || (s != nil && *s != *it.Sentiment) {
			t.Errorf("item %s: sentiment %v; stored %v", it.URL, it.Sentiment, s)
		}
		if s != nil {
			sum[it.SecurityID.String()] += *s * it.Relevance
			n[it.SecurityID.String()]++
		}
	}
	want := 0.0
	for id, v := range sum {
		want += weight[id] * v / float64(n[id])
	}
	if math.Abs(impact.PortfolioImpact-want) > 1e-12 || impact.ItemsUnscored != stored {
		t.Errorf("portfolio impact %v (unscored %d); by hand %v (NewsAPI items %d, all unscored)", impact.PortfolioImpact, impact.ItemsUnscored, want, stored)
	}
	if s := stepOf(d, "alert"); s.Status != storage.StepSkipped {
		t.Errorf("alert step %s; create_alert is false by default", s.Status)
	}
	enginetest.Golden(t, d, "news_impact_analysis", agenttest.Update())

	// With create_alert, the run user's alert fires: |0.099| ≥ 0.05.
	var user string
	if err := dm.DB.QueryRow(ctx, `SELECT id::text FROM users WHERE email = 'admin@dawsos.example'`, nil, &user); err != nil {
		t.Fatal(err)
	}
	raw := map[string]json.RawMessage{"portfolio_id": json.RawMessage(`"` + cad.ID.String() + `"`), "create_alert": json.RawMessage("true")}
	sub, err := e.Engine.Submit(ctx, orchestrator.SubmitRequest{Pattern: "news_impact_analysis", Inputs: raw, AsOfDate: asOf, UserID: user})
	if err != nil {
		t.Fatal(err)
	}
	da := e.Wait(t, sub.RunID)
	alert := enginetest.Output[struct {
		Crossed bool    `json:"crossed"`
		Status  string  `json:"status"`
		Value   float64 `json:"value"`
	}](t, da, "alert")
	if da.Status != storage.RunSucceeded || !alert.Crossed || alert.Status != "notified" || alert.Value != impact.PortfolioImpact {
		t.Errorf("run with create_alert ended %s, alert %+v (impact %v)", da.Status, alert, impact.PortfolioImpact)
	}

	// A 5xx burst: every news.search step fails after its retries, counts
	// towards the breaker, and the sixth meets it open.
	fp.fail[agents.ProviderNewsAPI].Store(500)
	stale := now.Add(2 * time.Hour) // the news fetched above is stale by then
	eb := enginetest.Start(t, dm.DB, engineRegistry(dm.DB, fp.providers(), stale), "news_impact_analysis.json")
	var codes []string
	for range 6 {
		d := eb.Run(t, "news_impact_analysis", asOf, inputs)
		s := stepOf(d, "news")
		if d.Status != storage.RunPartial || stepCode(s) == "" {
			t.Fatalf("run with NewsAPI failing ended %s, news %+v", d.Status, s)
		}
		codes = append(codes, stepCode(s))
	}
	for i, c := range codes {
		want := agents.CodeUnavailable
		if i == 5 {
			want = agents.CodeCircuitOpen
		}
		if c != want {
			t.Errorf("run %d: news.search ended %s; want %s (codes %v)", i+1, c, want, codes)
		}
	}
}

// TestCorporateActionsUpcomingEndToEnd runs the pattern on the demo data
// with no provider (it needs none) and checks it against SQL and a hand
// recomputation.
func TestCorporateActionsUpcomingEndToEnd(t *testing.T) {
	t.Parallel()
	dm := seedDemo(t)
	ctx := context.Background()
	e := enginetest.Start(t, dm.DB, engineRegistry(dm.DB, nil, now), "corporate_actions_upcoming.json")
	for _, ccy := range []string{"CAD", "USD"} {
		p := dm.Ports[ccy]
		run := e.Run(t, "corporate_actions_upcoming", demoEnd.Format(time.DateOnly), map[string]any{"portfolio_id": p.ID})
		if run.Status != storage.RunSucceeded {
			t.Fatalf("%s: ended %s: %+v", ccy, run.Status, run.Errors)
		}
		up := enginetest.Output[harvester.UpcomingOutput](t, run, "upcoming")
		imp := enginetest.Output[harvester.CalculateImpactOutput](t, run, "impact")
		pos := enginetest.Output[analyst.PositionsOutput](t, run, "positions")
		var want int
		if err := dm.DB.QueryRow(ctx, `SELECT count(*) FROM corporate_actions WHERE event_date BETWEEN $2 AND $2::date + 90
			AND security_id IN (SELECT security_id FROM lots WHERE portfolio_id = $1 AND quantity_open > 0)`, []any{p.ID, demoEnd}, &want); err != nil {
			t.Fatal(err)
		}
		if len(up.Actions) != want || want == 0 {
			t.Fatalf("%s: %d upcoming actions; SQL finds %d", ccy, len(up.Actions), want)
		}
		var held []heldQty
		for _, q := range pos.Positions {
			var qty decimal.Decimal
			if err := dm.DB.QueryRow(ctx, `SELECT sum(quantity_open) FROM lots WHERE portfolio_id = $1 AND security_id = $2 AND quantity_open > 0`,
				[]any{p.ID, q.SecurityID}, &qty); err != nil {
				t.Fatal(err)
			}
			held = append(held, heldQty{ID: q.SecurityID, Sym: q.Symbol, Qty: qty})
		}
		if total := handDividendCash(t, dm, pos.BaseCurrency, up.Actions, held); imp.DividendCashBase.Sub(total).Abs().GreaterThan(d("0.000001")) {
			t.Errorf("%s: dividend cash %s; by hand %s", ccy, imp.DividendCashBase, total)
		}
		if ccy == "CAD" {
			enginetest.Golden(t, run, "corporate_actions_upcoming", agenttest.Update())
		}
	}
}
