package ratings_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/agenttest"
	"github.com/dawsos/dawsos/agents/claude"
	"github.com/dawsos/dawsos/agents/harvester"
	"github.com/dawsos/dawsos/agents/ratings"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/storage"
)

// sqlYear is one fundamentals row read with plain SQL, as floats.
type sqlYear map[string]float64

// sqlYears reads a security's statements up to the as-of date, newest
// first, without any code of the storage package.
func sqlYears(t *testing.T, db *storage.DB, symbol string) []sqlYear {
	t.Helper()
	var out []sqlYear
	err := db.Query(context.Background(), func(rows pgx.Rows) error {
		for rows.Next() {
			var fy int
			var v [13]float64
			if err := rows.Scan(&fy, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11], &v[12]); err != nil {
				return err
			}
			out = append(out, sqlYear{"fy": float64(fy), "rev": v[0], "gp": v[1], "op": v[2], "ni": v[3], "int": v[4], "assets": v[5],
				"intang": v[6], "debt": v[7], "equity": v[8], "ca": v[9], "cl": v[10], "fcf": v[11], "div": v[12]})
		}
		return rows.Err()
	}, `SELECT f.fiscal_year, revenue, gross_profit, operating_income, net_income, interest_expense, total_assets, intangible_assets,
			total_debt, total_equity, current_assets, current_liabilities, operating_cash_flow - capital_expenditure, dividends_paid
		FROM fundamentals f JOIN securities s ON s.id = f.security_id
		WHERE s.symbol = $1 AND f.period_end <= '2026-06-30' ORDER BY f.fiscal_year DESC`, symbol)
	if err != nil {
		t.Fatal(err)
	}
	// Dividend per share and cash, kept apart to keep the scan short.
	err = db.Query(context.Background(), func(rows pgx.Rows) error {
		i := 0
		for rows.Next() {
			var dps, cash float64
			if err := rows.Scan(&dps, &cash); err != nil {
				return err
			}
			out[i]["dps"], out[i]["cash"] = dps, cash
			i++
		}
		return rows.Err()
	}, `SELECT dividend_per_share, cash_and_equivalents FROM fundamentals f JOIN securities s ON s.id = f.security_id
		WHERE s.symbol = $1 AND f.period_end <= '2026-06-30' ORDER BY f.fiscal_year DESC`, symbol)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// handMetrics are the rubric's metric definitions written out once more
// over the SQL rows (the seed has five consecutive years, no missing line
// and no zero denominator for the securities checked here).
var handMetrics = map[string]func(ys []sqlYear) float64{
	"payout_ratio": func(ys []sqlYear) float64 { return ys[0]["div"] / ys[0]["ni"] },
	"fcf_coverage": func(ys []sqlYear) float64 { return ys[0]["fcf"] / ys[0]["div"] },
	"dividend_growth_streak": func(ys []sqlYear) float64 {
		n := 0
		for n+1 < len(ys) && ys[n]["dps"] > ys[n+1]["dps"] {
			n++
		}
		return float64(n)
	},
	"net_cash_to_assets":    func(ys []sqlYear) float64 { return (ys[0]["cash"] - ys[0]["debt"]) / ys[0]["assets"] },
	"roe":                   func(ys []sqlYear) float64 { return ys[0]["ni"] / ys[0]["equity"] },
	"gross_margin":          func(ys []sqlYear) float64 { return ys[0]["gp"] / ys[0]["rev"] },
	"intangibles_to_assets": func(ys []sqlYear) float64 { return ys[0]["intang"] / ys[0]["assets"] },
	"switching_costs": func(ys []sqlYear) float64 {
		var xs []float64
		for _, y := range ys {
			xs = append(xs, y["gp"]/y["rev"])
		}
		return sampleSD(xs...)
	},
	"debt_to_equity":    func(ys []sqlYear) float64 { return ys[0]["debt"] / ys[0]["equity"] },
	"interest_coverage": func(ys []sqlYear) float64 { return ys[0]["op"] / ys[0]["int"] },
	"current_ratio":     func(ys []sqlYear) float64 { return ys[0]["ca"] / ys[0]["cl"] },
	"operating_margin_stability": func(ys []sqlYear) float64 {
		var xs []float64
		for _, y := range ys {
			xs = append(xs, y["op"]/y["rev"])
		}
		return sampleSD(xs...)
	},
}

// sqlRubric reads the active rubric of a name with plain SQL.
func sqlRubric(t *testing.T, db *storage.DB, name string) map[string]any {
	t.Helper()
	var raw []byte
	if err := db.QueryRow(context.Background(), `SELECT rubric FROM rating_rubrics WHERE name = $1 AND active`, []any{name}, &raw); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// handRating scores the SQL rows with the rubric's JSON: the first band
// met, else the else score; the weighted sum.
func handRating(t *testing.T, rubric map[string]any, ys []sqlYear) float64 {
	t.Helper()
	total := 0.0
	for _, mi := range rubric["metrics"].([]any) {
		m := mi.(map[string]any)
		f, ok := handMetrics[m["metric"].(string)]
		if !ok {
			t.Fatalf("no hand definition of %s", m["metric"])
		}
		v := f(ys)
		score := m["else"].(float64)
		for _, bi := range m["bands"].([]any) {
			b := bi.(map[string]any)
			if lo, ok := b["min"]; ok && v >= lo.(float64) {
				score = b["score"].(float64)
				break
			}
			if hi, ok := b["max"]; ok && v <= hi.(float64) {
				score = b["score"].(float64)
				break
			}
		}
		total += m["weight"].(float64) * score
	}
	return total
}

// TestBuffettChecklistEndToEnd runs buffett_checklist through the real
// engine on the demo data for CNR and checks every rating and the
// aggregate against the rubric applied by hand to the SQL rows, and the
// rows the run stored. The pattern's other agents run as the binary
// hosts them, without provider keys: fundamentals.load returns the stored
// statements and ai.explain alone fails (provider_not_configured), so the
// run ends partial with the ratings intact. The explanation itself is
// tested in agents/claude.
func TestBuffettChecklistEndToEnd(t *testing.T) {
	t.Parallel()
	db := seedShort(t)
	deps := agents.Deps{DB: db}
	e := enginetest.Start(t, db, enginetest.Registry(db, ratings.New(deps), harvester.New(deps), claude.New(deps)), "buffett_checklist.json")
	var cnr string
	if err := db.QueryRow(context.Background(), `SELECT id::text FROM securities WHERE symbol = 'CNR'`, nil, &cnr); err != nil {
		t.Fatal(err)
	}
	d := e.Run(t, "buffett_checklist", "2026-06-30", map[string]any{"security_id": cnr})
	var failed struct {
		Code string `json:"code"`
	}
	if len(d.Errors) == 1 {
		_ = json.Unmarshal(d.Errors[0].Error, &failed)
	}
	if d.Status != storage.RunPartial || len(d.Errors) != 1 || d.Errors[0].StepID != "explain" || failed.Code != agents.CodeProviderNotConfigured {
		t.Fatalf("buffett_checklist without provider keys ended %s: %+v; want partial, only explain failing with provider_not_configured", d.Status, d.Errors)
	}
	ys := sqlYears(t, db, "CNR")
	if len(ys) != 5 || ys[0]["fy"] != 2025 {
		t.Fatalf("CNR has %d fiscal years up to the as-of date, newest %v; the seed writes five ending FY2025", len(ys), ys[0]["fy"])
	}
	agg := sqlRubric(t, db, "aggregate")
	weights := agg["weights"].(map[string]any)
	hand := map[string]float64{}
	wantAgg := 0.0
	for step, name := range map[string]string{"dividend": "dividend_safety", "moat": "moat_strength", "resilience": "resilience"} {
		r := enginetest.Output[ratings.RatingOutput](t, d, step)
		hand[name] = handRating(t, sqlRubric(t, db, name), ys)
		if math.Abs(r.Score-hand[name]) > 1e-9 || r.Rubric.Name != name || r.FiscalYear != 2025 || len(r.FiscalYears) != 5 {
			t.Errorf("%s of CNR: %v (rubric %+v, FY%d over %v); the rubric applied by hand to the SQL rows gives %v",
				name, r.Score, r.Rubric, r.FiscalYear, r.FiscalYears, hand[name])
		}
		wantAgg += weights[name].(float64) * hand[name] / 10 * agg["scale"].(float64)
	}
	out := enginetest.Output[ratings.AggregateOutput](t, d, "aggregate")
	wantGrade := agg["else"].(string)
	for _, gi := range agg["grades"].([]any) {
		g := gi.(map[string]any)
		if wantAgg >= g["min"].(float64) {
			wantGrade = g["grade"].(string)
			break
		}
	}
	if math.Abs(out.Score-wantAgg) > 1e-9 || out.Grade != wantGrade {
		t.Errorf("aggregate of CNR %v %s; by hand %v %s", out.Score, out.Grade, wantAgg, wantGrade)
	}
	// The run stored the four ratings under its as-of date.
	var stored float64
	var n int
	if err := db.QueryRow(context.Background(), `SELECT count(*), max(score) FILTER (WHERE rating_type = 'aggregate')
		FROM security_ratings WHERE security_id = $1 AND as_of_date = '2026-06-30'`, []any{cnr}, &n, &stored); err != nil {
		t.Fatal(err)
	}
	if n != 4 || math.Abs(stored-wantAgg) > 1e-9 {
		t.Errorf("stored %d rating rows, aggregate %v; want 4 and %v", n, stored, wantAgg)
	}
	enginetest.Golden(t, d, "buffett_checklist_cnr", agenttest.Update())

	// An ETF cannot be rated: every step fails with the reason, and the
	// run says so.
	var spy string
	if err := db.QueryRow(context.Background(), `SELECT id::text FROM securities WHERE symbol = 'SPY'`, nil, &spy); err != nil {
		t.Fatal(err)
	}
	de := e.Run(t, "buffett_checklist", "2026-06-30", map[string]any{"security_id": spy})
	if de.Status == storage.RunSucceeded || len(de.Errors) == 0 {
		t.Errorf("buffett_checklist of an ETF ended %s with errors %+v; want it to fail, saying why", de.Status, de.Errors)
	}
}
