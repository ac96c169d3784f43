package ratings_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/agenttest"
	"github.com/dawsos/dawsos/agents/ratings"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
	"github.com/dawsos/dawsos/storage/seed"
)

func TestMain(m *testing.M) { pgtest.MainWithLeakCheck(m) }

// demoEnd is the last day of the demo data of these tests.
var demoEnd = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

// newHarness calls the agent's capabilities with the checks a step gets,
// in a run as of demoEnd.
func newHarness(t *testing.T, db *storage.DB) *enginetest.Harness {
	return enginetest.NewHarness(t, db, ratings.New(agents.Deps{DB: db})).At(demoEnd.Format(time.DateOnly))
}

// seedShort loads a three-month demo dataset: the universe, its
// fundamentals and the seeded rubric (version 1).
func seedShort(t *testing.T) *storage.DB { return agenttest.SeedDemo(t, demoEnd, 3).DB }

// statement is one hand-made fundamentals row; a nil line is NULL (not
// reported).
type statement struct {
	year  int
	lines map[string]any
}

// addEquity inserts an equity and its statements with plain SQL.
func addEquity(t *testing.T, db *storage.DB, symbol string, rows ...statement) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	id := uuid.New()
	if _, err := db.Exec(ctx, `INSERT INTO securities (id, symbol, name, type, exchange, currency, sector, country)
		VALUES ($1, $2, $2 || ' Inc', 'EQUITY', 'TEST', 'USD', 'Industrials', 'US')`, id, symbol); err != nil {
		t.Fatal(err)
	}
	cols := []string{"revenue", "gross_profit", "operating_income", "net_income", "interest_expense", "total_assets",
		"intangible_assets", "total_debt", "total_equity", "current_assets", "current_liabilities", "operating_cash_flow",
		"capital_expenditure", "dividends_paid", "shares_outstanding", "dividend_per_share", "cash_and_equivalents"}
	for _, r := range rows {
		args := []any{id, r.year, time.Date(r.year, 12, 31, 0, 0, 0, 0, time.UTC)}
		ph := []string{}
		for i, c := range cols {
			v, ok := r.lines[c]
			if !ok {
				v = nil
			}
			args = append(args, v)
			ph = append(ph, "$"+itoa(i+4)+"::numeric")
		}
		if _, err := db.Exec(ctx, `INSERT INTO fundamentals (security_id, fiscal_year, period_end, currency, `+strings.Join(cols, ", ")+`, source)
			VALUES ($1, $2, $3, 'USD', `+strings.Join(ph, ", ")+`, 'hand')`, args...); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

func itoa(i int) string { return decimal.NewFromInt(int64(i)).String() }

// goodCo's statements (FY2023..FY2025) are chosen so every figure is easy
// to compute by hand; see TestComponentRatingsByHand.
func goodCo() []statement {
	return []statement{
		{2025, map[string]any{"revenue": "1000", "gross_profit": "600", "operating_income": "200", "net_income": "150",
			"interest_expense": "10", "total_assets": "2000", "intangible_assets": "500", "total_debt": "300", "total_equity": "1000",
			"current_assets": "600", "current_liabilities": "400", "operating_cash_flow": "220", "capital_expenditure": "50",
			"dividends_paid": "60", "shares_outstanding": "50", "dividend_per_share": "1.20", "cash_and_equivalents": "400"}},
		{2024, map[string]any{"revenue": "900", "gross_profit": "513", "operating_income": "171", "dividend_per_share": "1.10"}},
		{2023, map[string]any{"revenue": "800", "gross_profit": "432", "operating_income": "160", "dividend_per_share": "1.00"}},
	}
}

// weakCo scores low on almost every metric (FY2024, FY2025; the older
// year reports only the lines the multi-year metrics read).
func weakCo() []statement {
	return []statement{
		{2025, map[string]any{"revenue": "1000", "gross_profit": "200", "operating_income": "50", "net_income": "40",
			"interest_expense": "25", "total_assets": "1000", "intangible_assets": "0", "total_debt": "1500", "total_equity": "500",
			"current_assets": "300", "current_liabilities": "400", "operating_cash_flow": "60", "capital_expenditure": "40",
			"dividends_paid": "40", "shares_outstanding": "50", "dividend_per_share": "0.80", "cash_and_equivalents": "100"}},
		{2024, map[string]any{"revenue": "1000", "gross_profit": "300", "operating_income": "100", "dividend_per_share": "0.80"}},
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// sampleSD is the sample standard deviation (ddof 1), written out.
func sampleSD(xs ...float64) float64 {
	m := 0.0
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	ss := 0.0
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return math.Sqrt(ss / float64(len(xs)-1))
}

type wantComp struct {
	metric    string
	value     float64
	unbounded string
	weight    float64
	score     float64
	inputs    []string // line@year, in the order read
}

func checkRating(t *testing.T, got ratings.RatingOutput, rating string, score float64, comps []wantComp) {
	t.Helper()
	if got.Rating != rating || got.Rubric.Name != rating || got.Rubric.Version != seed.RubricVersion || got.Scale != 10 {
		t.Errorf("%s: rating %s, rubric %+v, scale %v; want %s v%d on 10", rating, got.Rating, got.Rubric, got.Scale, rating, seed.RubricVersion)
	}
	if !near(got.Score, score) {
		t.Errorf("%s score = %.12g; by hand %.12g", rating, got.Score, score)
	}
	if len(got.Components) != len(comps) {
		t.Fatalf("%s: %d components, want %d", rating, len(got.Components), len(comps))
	}
	for i, w := range comps {
		c := got.Components[i]
		if c.Metric != w.metric || !near(c.Weight, w.weight) || !near(c.Score, w.score) || !near(c.Weighted, w.weight*w.score) {
			t.Errorf("%s %s: metric %s weight %v score %v weighted %v; want weight %v score %v", rating, w.metric, c.Metric, c.Weight, c.Score, c.Weighted, w.weight, w.score)
		}
		switch {
		case w.unbounded != "":
			if c.Unbounded != w.unbounded || c.Value != nil {
				t.Errorf("%s %s: value %v unbounded %q; want unbounded %s", rating, w.metric, c.Value, c.Unbounded, w.unbounded)
			}
		case c.Value == nil || !near(*c.Value, w.value):
			t.Errorf("%s %s: value %v; by hand %.12g", rating, w.metric, c.Value, w.value)
		}
		var in []string
		for _, l := range c.Inputs {
			in = append(in, l.Line+"@"+itoa(l.FiscalYear))
		}
		if strings.Join(in, ",") != strings.Join(w.inputs, ",") {
			t.Errorf("%s %s: inputs %v; want %v", rating, w.metric, in, w.inputs)
		}
	}
}

// TestComponentRatingsByHand rates goodCo with the seeded rubric (v1) and
// checks every component against the hand computation below.
//
// Dividend safety (weights 0.30, 0.30, 0.20, 0.20):
//
//	payout 60/150 = 0.40 ≤ 0.4 → 10; FCF cover (220−50)/60 = 2.8333 ≥ 2.0 → 10;
//	streak: 1.20 > 1.10 > 1.00 → 2 years ≥ 2 → 6; net cash (400−300)/2000 = 0.05 ≥ 0 → 10;
//	score 0.3·10 + 0.3·10 + 0.2·6 + 0.2·10 = 9.2.
//
// Moat strength (0.30, 0.25, 0.20, 0.25):
//
//	ROE 150/1000 = 0.15 ≥ 0.15 → 8; gross margin 600/1000 = 0.60 ≥ 0.60 → 10;
//	intangibles 500/2000 = 0.25 ≥ 0.15 → 7; switching costs: gross margins 0.60, 0.57, 0.54,
//	sample sd = 0.03 ≤ 0.04 → 4; score 0.3·8 + 0.25·10 + 0.2·7 + 0.25·4 = 7.3.
//
// Resilience (0.30, 0.25, 0.20, 0.25):
//
//	D/E 300/1000 = 0.3 ≤ 0.3 → 10; interest cover 200/10 = 20 ≥ 10 → 10;
//	current ratio 600/400 = 1.5 ≥ 1.5 → 8; operating margins 0.20, 0.19, 0.20, sd 0.005774 ≤ 0.01 → 10;
//	score 0.3·10 + 0.25·10 + 0.2·8 + 0.25·10 = 9.6.
func TestComponentRatingsByHand(t *testing.T) {
	t.Parallel()
	db := seedShort(t)
	id := addEquity(t, db, "GOODCO", goodCo()...)
	h := newHarness(t, db)

	var div, moat, res ratings.RatingOutput
	if err := h.Call("ratings.dividend_safety", map[string]any{"security_id": id}, &div); err != nil {
		t.Fatal(err)
	}
	checkRating(t, div, "dividend_safety", 9.2, []wantComp{
		{metric: "payout_ratio", value: 0.4, weight: 0.3, score: 10, inputs: []string{"dividends_paid@2025", "net_income@2025"}},
		{metric: "fcf_coverage", value: 170.0 / 60, weight: 0.3, score: 10, inputs: []string{"operating_cash_flow@2025", "capital_expenditure@2025", "dividends_paid@2025"}},
		{metric: "dividend_growth_streak", value: 2, weight: 0.2, score: 6, inputs: []string{"dividend_per_share@2025", "dividend_per_share@2024", "dividend_per_share@2023"}},
		{metric: "net_cash_to_assets", value: 0.05, weight: 0.2, score: 10, inputs: []string{"cash_and_equivalents@2025", "total_debt@2025", "total_assets@2025"}},
	})
	if div.FiscalYear != 2025 || len(div.FiscalYears) != 3 || div.Currency != "USD" || div.AsOfDate != "2026-06-30" {
		t.Errorf("dividend safety rated FY%d over %v in %s as of %s", div.FiscalYear, div.FiscalYears, div.Currency, div.AsOfDate)
	}
	if !strings.Contains(div.Components[2].Note, "may be longer") {
		t.Errorf("a streak as long as the history should say it may be longer: %q", div.Components[2].Note)
	}
	if err := h.Call("ratings.moat_strength", map[string]any{"security_id": id}, &moat); err != nil {
		t.Fatal(err)
	}
	checkRating(t, moat, "moat_strength", 7.3, []wantComp{
		{metric: "roe", value: 0.15, weight: 0.3, score: 8, inputs: []string{"net_income@2025", "total_equity@2025"}},
		{metric: "gross_margin", value: 0.6, weight: 0.25, score: 10, inputs: []string{"gross_profit@2025", "revenue@2025"}},
		{metric: "intangibles_to_assets", value: 0.25, weight: 0.2, score: 7, inputs: []string{"intangible_assets@2025", "total_assets@2025"}},
		{metric: "switching_costs", value: sampleSD(0.60, 0.57, 0.54), weight: 0.25, score: 4,
			inputs: []string{"gross_profit@2025", "revenue@2025", "gross_profit@2024", "revenue@2024", "gross_profit@2023", "revenue@2023"}},
	})
	if s := moat.Components[3].Series; len(s) != 3 || !near(s[1].Value, 0.57) || s[1].FiscalYear != 2024 {
		t.Errorf("switching-cost series %+v; want the gross margins 0.60, 0.57, 0.54 by year", s)
	}
	if err := h.Call("ratings.resilience", map[string]any{"security_id": id}, &res); err != nil {
		t.Fatal(err)
	}
	checkRating(t, res, "resilience", 9.6, []wantComp{
		{metric: "debt_to_equity", value: 0.3, weight: 0.3, score: 10, inputs: []string{"total_debt@2025", "total_equity@2025"}},
		{metric: "interest_coverage", value: 20, weight: 0.25, score: 10, inputs: []string{"operating_income@2025", "interest_expense@2025"}},
		{metric: "current_ratio", value: 1.5, weight: 0.2, score: 8, inputs: []string{"current_assets@2025", "current_liabilities@2025"}},
		{metric: "operating_margin_stability", value: sampleSD(0.20, 0.19, 0.20), weight: 0.25, score: 10,
			inputs: []string{"operating_income@2025", "revenue@2025", "operating_income@2024", "revenue@2024", "operating_income@2023", "revenue@2023"}},
	})

	// The three rows are stored under the run's as-of date.
	for _, c := range []struct {
		typ   string
		score float64
	}{{"dividend_safety", 9.2}, {"moat_strength", 7.3}, {"resilience", 9.6}} {
		var score float64
		var grade *string
		var fy, version int
		if err := db.QueryRow(context.Background(), `SELECT score, grade, fiscal_year, rubric_version FROM security_ratings
			WHERE security_id = $1 AND rating_type = $2 AND as_of_date = '2026-06-30'`, []any{id, c.typ}, &score, &grade, &fy, &version); err != nil {
			t.Fatalf("read the stored %s row: %v", c.typ, err)
		}
		if !near(score, c.score) || grade != nil || fy != 2025 || version != 1 {
			t.Errorf("stored %s: score %v grade %v FY%d v%d; want %v, no grade, FY2025, v1", c.typ, score, grade, fy, version, c.score)
		}
	}
	// Rating again changes nothing (the upsert leaves equal rows alone).
	var before, after time.Time
	q := `SELECT updated_at FROM security_ratings WHERE security_id = $1 AND rating_type = 'dividend_safety'`
	if err := db.QueryRow(context.Background(), q, []any{id}, &before); err != nil {
		t.Fatal(err)
	}
	if err := h.Call("ratings.dividend_safety", map[string]any{"security_id": id}, &div); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(context.Background(), q, []any{id}, &after); err != nil || !after.Equal(before) {
		t.Errorf("a replayed rating rewrote its row: updated_at %v -> %v (%v)", before, after, err)
	}

	// Rated as of FY2024: only FY2024 and FY2023 are read.
	if err := h.Call("ratings.moat_strength", map[string]any{"security_id": id, "fiscal_year": 2024}, &moat); err == nil {
		t.Fatalf("FY2024 reports no net income, yet ROE was computed: %+v", moat.Components[0])
	} else if ae := asError(err); ae == nil || ae.Code != agents.CodeInsufficientData || !strings.Contains(ae.Message, "net_income of fiscal year 2024") {
		t.Fatalf("FY2024 moat: %v; want insufficient_data naming net_income of fiscal year 2024", err)
	}
}

func asError(err error) *agents.Error {
	var ae *agents.Error
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}

// TestMissingLinesAndBadInput: a line that is not reported is
// insufficient_data naming the line and the fiscal year; not an equity,
// unknown, without statements are errors too, never a score.
func TestMissingLinesAndBadInput(t *testing.T) {
	t.Parallel()
	db := seedShort(t)
	h := newHarness(t, db)

	noNI := goodCo()
	delete(noNI[0].lines, "net_income")
	idNI := addEquity(t, db, "NONI", noNI...)
	noRev := goodCo()
	delete(noRev[1].lines, "revenue")
	idRev := addEquity(t, db, "NOREV", noRev...)
	noDPS := goodCo()
	delete(noDPS[2].lines, "dividend_per_share")
	idDPS := addEquity(t, db, "NODPS", noDPS...)
	idEmpty := addEquity(t, db, "EMPTY")

	var out ratings.RatingOutput
	for _, c := range []struct {
		capability string
		id         uuid.UUID
		code, want string
	}{
		{"ratings.dividend_safety", idNI, agents.CodeInsufficientData, "line net_income of fiscal year 2025 is not reported"},
		{"ratings.moat_strength", idNI, agents.CodeInsufficientData, "line net_income of fiscal year 2025 is not reported"},
		{"ratings.moat_strength", idRev, agents.CodeInsufficientData, "line revenue of fiscal year 2024 is not reported"},
		{"ratings.resilience", idRev, agents.CodeInsufficientData, "line revenue of fiscal year 2024 is not reported"},
		{"ratings.dividend_safety", idDPS, agents.CodeInsufficientData, "line dividend_per_share of fiscal year 2023 is not reported"},
		{"ratings.resilience", idEmpty, agents.CodeInsufficientData, "found 0, need at least 1"},
		{"ratings.resilience", uuid.New(), agents.CodeNotFound, "not found"},
	} {
		err := h.Call(c.capability, map[string]any{"security_id": c.id}, &out)
		if ae := asError(err); ae == nil || ae.Code != c.code || !strings.Contains(ae.Message, c.want) {
			t.Errorf("%s of %s: %v; want %s containing %q", c.capability, c.id, err, c.code, c.want)
		}
	}
	// The resilience of NONI reads no net income: it is rated.
	if err := h.Call("ratings.resilience", map[string]any{"security_id": idNI}, &out); err != nil || !near(out.Score, 9.6) {
		t.Errorf("resilience without net income: %v, score %v; want 9.6 (it reads no net income)", err, out.Score)
	}
	var etf string
	if err := db.QueryRow(context.Background(), `SELECT id::text FROM securities WHERE symbol = 'SPY'`, nil, &etf); err != nil {
		t.Fatal(err)
	}
	err := h.Call("ratings.moat_strength", map[string]any{"security_id": etf}, &out)
	if ae := asError(err); ae == nil || ae.Code != agents.CodeInvalidInput || ae.Field != "security_id" {
		t.Errorf("moat of an ETF: %v; want invalid_input on security_id", err)
	}
	var agg ratings.AggregateOutput
	err = h.Call("ratings.aggregate", map[string]any{}, &agg)
	if ae := asError(err); ae == nil || ae.Code != agents.CodeInvalidInput {
		t.Errorf("aggregate of nothing: %v; want invalid_input", err)
	}
	err = h.Call("ratings.aggregate", map[string]any{"positions": []any{}}, &agg)
	if ae := asError(err); ae == nil || ae.Code != agents.CodeInsufficientData {
		t.Errorf("aggregate of no positions: %v; want insufficient_data", err)
	}
	h.Run = agents.RunContext{}
	err = h.Call("ratings.resilience", map[string]any{"security_id": idNI}, &out)
	if ae := asError(err); ae == nil || ae.Code != agents.CodeInvalidInput || ae.Field != "ctx.asof_date" {
		t.Errorf("a run without an as-of date: %v; want invalid_input on ctx.asof_date", err)
	}
}

// TestAggregateByHand: the aggregate of one security and the value-weighted
// aggregate of positions, against the hand computation.
//
// goodCo: 100 × (0.40·7.3 + 0.30·9.2 + 0.30·9.6)/10 = 29.2 + 27.6 + 28.8 = 85.6 → B.
//
// weakCo, FY2025 and FY2024:
//
//	dividend: payout 40/40 = 1.0 ≤ 1.0 → 2; cover (60−40)/40 = 0.5 → else 0; streak 0.80 = 0.80 → 0 → else 0;
//	          net cash (100−1500)/1000 = −1.4 → else 1; 0.3·2 + 0.3·0 + 0.2·0 + 0.2·1 = 0.8.
//	moat:     ROE 40/500 = 0.08 ≥ 0.05 → 2; margin 0.2 → else 1; intangibles 0 → else 1;
//	          margins 0.2, 0.3: sd 0.0707 → else 1; 0.3·2 + 0.25 + 0.2 + 0.25 = 1.3.
//	resilience: D/E 3 → else 0; cover 50/25 = 2 ≥ 2 → 4; current 0.75 → else 1;
//	          operating margins 0.05, 0.10: sd 0.0354 ≤ 0.04 → 4; 0 + 0.25·4 + 0.2·1 + 0.25·4 = 2.2.
//	aggregate 100 × (0.40·1.3 + 0.30·0.8 + 0.30·2.2)/10 = 5.2 + 2.4 + 6.6 = 14.2 → F.
//
// Positions goodCo 3 000, weakCo 1 000 (rated, 4 000), SPY 500 and NONI
// 200 (unrated): score (3000·85.6 + 1000·14.2)/4000 = 67.75 → D; moat
// (3000·7.3 + 1000·1.3)/4000 = 5.8; coverage 4000/4700.
func TestAggregateByHand(t *testing.T) {
	t.Parallel()
	db := seedShort(t)
	good := addEquity(t, db, "GOODCO", goodCo()...)
	weak := addEquity(t, db, "WEAKCO", weakCo()...)
	noNI := goodCo()
	delete(noNI[0].lines, "net_income")
	bad := addEquity(t, db, "NONI", noNI...)
	var spy uuid.UUID
	if err := db.QueryRow(context.Background(), `SELECT id FROM securities WHERE symbol = 'SPY'`, nil, &spy); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, db)

	var one ratings.AggregateOutput
	if err := h.Call("ratings.aggregate", map[string]any{"security_id": good}, &one); err != nil {
		t.Fatal(err)
	}
	if !near(one.Score, 85.6) || one.Grade != "B" || one.Scale != 100 || one.Scope != "security" || one.Rubric.Version != 1 || len(one.Securities) != 1 {
		t.Fatalf("goodCo aggregate %v %s (scale %v, scope %s, %+v); want 85.6 B", one.Score, one.Grade, one.Scale, one.Scope, one.Rubric)
	}
	wantRatings := map[string][2]float64{"dividend_safety": {9.2, 0.3}, "moat_strength": {7.3, 0.4}, "resilience": {9.6, 0.3}}
	for _, r := range one.Ratings {
		w := wantRatings[r.Rating]
		if !near(r.Score, w[0]) || !near(r.Weight, w[1]) || !near(r.Contribution, w[1]*w[0]*10) {
			t.Errorf("goodCo %s: score %v weight %v contribution %v; want %v, %v, %v", r.Rating, r.Score, r.Weight, r.Contribution, w[0], w[1], w[1]*w[0]*10)
		}
	}
	var weakOne ratings.AggregateOutput
	if err := h.Call("ratings.aggregate", map[string]any{"security_id": weak}, &weakOne); err != nil {
		t.Fatal(err)
	}
	if !near(weakOne.Score, 14.2) || weakOne.Grade != "F" {
		t.Errorf("weakCo aggregate %v %s; by hand 14.2 F (%+v)", weakOne.Score, weakOne.Grade, weakOne.Ratings)
	}

	var port ratings.AggregateOutput
	err := h.Call("ratings.aggregate", map[string]any{"positions": []map[string]any{
		{"security_id": good, "symbol": "GOODCO", "market_value": "3000", "weight": "0.4"},
		{"security_id": weak, "symbol": "WEAKCO", "market_value": "1000"},
		{"security_id": spy, "symbol": "SPY", "market_value": "500"},
		{"security_id": bad, "symbol": "NONI", "market_value": "200"},
	}}, &port)
	if err != nil {
		t.Fatal(err)
	}
	if !near(port.Score, 67.75) || port.Grade != "D" || port.Scope != "positions" {
		t.Errorf("positions aggregate %v %s; by hand 67.75 D", port.Score, port.Grade)
	}
	if !port.RatedValue.Equal(decimal.NewFromInt(4000)) || !port.UnratedValue.Equal(decimal.NewFromInt(700)) || !near(port.Coverage, 4000.0/4700) {
		t.Errorf("rated %s unrated %s coverage %v; want 4000, 700, %v", port.RatedValue, port.UnratedValue, port.Coverage, 4000.0/4700)
	}
	for _, r := range port.Ratings {
		if r.Rating == "moat_strength" && !near(r.Score, 5.8) {
			t.Errorf("value-weighted moat %v; by hand 5.8", r.Score)
		}
	}
	if len(port.Securities) != 2 || port.Securities[0].ValueWeight == nil || !near(*port.Securities[0].ValueWeight, 0.75) {
		t.Errorf("rated securities %+v; want goodCo at 0.75 and weakCo", port.Securities)
	}
	unrated := map[string]ratings.UnratedPosition{}
	for _, u := range port.Unrated {
		unrated[u.Symbol] = u
	}
	if u := unrated["SPY"]; u.Code != agents.CodeInvalidInput || !strings.Contains(u.Reason, "ETF") {
		t.Errorf("SPY unrated as %+v; want invalid_input saying it is an ETF", u)
	}
	if u := unrated["NONI"]; u.Code != agents.CodeInsufficientData || !strings.Contains(u.Reason, "net_income of fiscal year 2025") {
		t.Errorf("NONI unrated as %+v; want insufficient_data naming net_income of fiscal year 2025", u)
	}
	// One aggregate row per rated security, graded.
	var n int
	var grade string
	if err := db.QueryRow(context.Background(), `SELECT count(*), min(grade) FILTER (WHERE security_id = $1) FROM security_ratings
		WHERE rating_type = 'aggregate' AND as_of_date = '2026-06-30'`, []any{weak}, &n, &grade); err != nil || n != 2 || grade != "F" {
		t.Errorf("stored aggregate rows: %d, weakCo grade %q (%v); want 2 and F", n, grade, err)
	}
}

// TestWeightsComeFromTheActiveRubric activates a version 2 rubric with
// other weights and cut-offs: the same statements then score by it, and
// the version is reported.
//
// v2 dividend_safety weighs payout 0.5, cover 0.5, streak 0, net cash 0:
// goodCo scores 0.5·10 + 0.5·10 = 10. v2 aggregate weighs dividend 1.0
// with the cut-off A ≥ 95: 100 × 10/10 = 100 → A.
func TestWeightsComeFromTheActiveRubric(t *testing.T) {
	t.Parallel()
	db := seedShort(t)
	good := addEquity(t, db, "GOODCO", goodCo()...)
	ctx := context.Background()
	_, err := db.Exec(ctx, `
		UPDATE rating_rubrics SET active = false WHERE name IN ('dividend_safety', 'aggregate');
		INSERT INTO rating_rubrics (name, version, rubric, active)
		SELECT 'dividend_safety', 2, jsonb_set(jsonb_set(jsonb_set(jsonb_set(rubric,
			'{metrics,0,weight}', '0.5'), '{metrics,1,weight}', '0.5'), '{metrics,2,weight}', '0'), '{metrics,3,weight}', '0'), true
		FROM rating_rubrics WHERE name = 'dividend_safety' AND version = 1;
		INSERT INTO rating_rubrics (name, version, rubric, active) VALUES ('aggregate', 2,
			'{"scale": 100, "weights": {"dividend_safety": 1.0}, "grades": [{"grade": "A", "min": 95}], "else": "F"}', true)`)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, db)
	var div ratings.RatingOutput
	if err := h.Call("ratings.dividend_safety", map[string]any{"security_id": good}, &div); err != nil {
		t.Fatal(err)
	}
	if div.Rubric.Version != 2 || !near(div.Score, 10) || !near(div.Components[2].Weight, 0) {
		t.Errorf("under v2: rubric %+v score %v streak weight %v; want v2, 10, 0", div.Rubric, div.Score, div.Components[2].Weight)
	}
	var agg ratings.AggregateOutput
	if err := h.Call("ratings.aggregate", map[string]any{"security_id": good}, &agg); err != nil {
		t.Fatal(err)
	}
	if agg.Rubric.Version != 2 || !near(agg.Score, 100) || agg.Grade != "A" || len(agg.Ratings) != 1 {
		t.Errorf("aggregate under v2: %+v %v %s %+v; want v2, 100, A over dividend safety alone", agg.Rubric, agg.Score, agg.Grade, agg.Ratings)
	}
	// A rubric whose weights do not sum to 1 is refused, never rescaled.
	if _, err := db.Exec(ctx, `UPDATE rating_rubrics SET rubric = jsonb_set(rubric, '{metrics,3,weight}', '0.2') WHERE name = 'dividend_safety' AND version = 2`); err != nil {
		t.Fatal(err)
	}
	err = h.Call("ratings.dividend_safety", map[string]any{"security_id": good}, &div)
	if ae := asError(err); ae == nil || ae.Code != agents.CodeInternal || ae.Retryable || !strings.Contains(ae.Message, "sum to 1.2") {
		t.Errorf("weights summing to 1.2: %v; want a final internal error saying so", err)
	}
}

// TestNonPayerAndUnboundedRatios: a company paying no dividend has payout
// 0 and an unbounded cover (positive free cash flow over nothing), which
// meets the top band; with no interest expense the cover is unbounded too.
//
// payout 0 ≤ 0.4 → 10; cover +inf ≥ 2 → 10; streak 0 → else 0; net cash
// (400−300)/2000 = 0.05 → 10: 0.3·10 + 0.3·10 + 0 + 0.2·10 = 8.
func TestNonPayerAndUnboundedRatios(t *testing.T) {
	t.Parallel()
	db := seedShort(t)
	rows := goodCo()
	rows[0].lines["dividends_paid"], rows[0].lines["dividend_per_share"], rows[0].lines["interest_expense"] = "0", "0", "0"
	rows[1].lines["dividend_per_share"], rows[2].lines["dividend_per_share"] = "0", "0"
	id := addEquity(t, db, "NODIV", rows...)
	h := newHarness(t, db)
	var div, res ratings.RatingOutput
	if err := h.Call("ratings.dividend_safety", map[string]any{"security_id": id}, &div); err != nil {
		t.Fatal(err)
	}
	checkRating(t, div, "dividend_safety", 8, []wantComp{
		{metric: "payout_ratio", value: 0, weight: 0.3, score: 10, inputs: []string{"dividends_paid@2025", "net_income@2025"}},
		{metric: "fcf_coverage", unbounded: "+inf", weight: 0.3, score: 10, inputs: []string{"operating_cash_flow@2025", "capital_expenditure@2025", "dividends_paid@2025"}},
		{metric: "dividend_growth_streak", value: 0, weight: 0.2, score: 0, inputs: []string{"dividend_per_share@2025", "dividend_per_share@2024"}},
		{metric: "net_cash_to_assets", value: 0.05, weight: 0.2, score: 10, inputs: []string{"cash_and_equivalents@2025", "total_debt@2025", "total_assets@2025"}},
	})
	if err := h.Call("ratings.resilience", map[string]any{"security_id": id}, &res); err != nil {
		t.Fatal(err)
	}
	if c := res.Components[1]; c.Unbounded != "+inf" || c.Score != 10 {
		t.Errorf("interest cover without interest: %+v; want +inf scoring 10", c)
	}
}
