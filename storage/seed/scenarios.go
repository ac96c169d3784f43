package seed

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// scenario is one scenario_shocks row. Shocks are in the factor units of
// Factors: a change in decimal form for real rates, inflation (10-year
// breakeven) and credit (IG spread), a return for the dollar index,
// equities and commodities, and a relative change of the VIX for
// volatility (1.0 = the VIX doubles).
type scenario struct {
	id, name, category, description string
	shocks                          [nFactors]float64
	// probability is an annual prior of a move of this size, a parameter
	// of the scenario definition (used to rank scenarios), not a forecast.
	probability float64
	historical  bool
	start, end  string
}

// builtinSource and historicalSource name where the figures come from.
const (
	builtinSource    = "DawsOS built-in scenario definition"
	historicalSource = "approximate, from public index moves"
)

// builtinScenarios are the twelve stylised shocks.
var builtinScenarios = []scenario{
	{"rates_up_100bp", "Real rates +100 bp", "rates", "Parallel rise of 100 bp in real yields.", b(0.01, 0, 0, 0, 0, 0, 0), 0.15, false, "", ""},
	{"rates_down_100bp", "Real rates -100 bp", "rates", "Parallel fall of 100 bp in real yields.", b(-0.01, 0, 0, 0, 0, 0, 0), 0.15, false, "", ""},
	{"inflation_up_2pp", "Inflation +2 pp", "inflation", "Breakeven inflation up 2 percentage points.", b(0, 0.02, 0, 0, 0, 0, 0), 0.10, false, "", ""},
	{"credit_spreads_up_200bp", "Credit spreads +200 bp", "credit", "Investment-grade spreads widen by 200 bp.", b(0, 0, 0.02, 0, 0, 0, 0), 0.08, false, "", ""},
	{"usd_up_10pct", "USD +10 %", "fx", "Broad dollar index up 10 %.", b(0, 0, 0, 0.10, 0, 0, 0), 0.15, false, "", ""},
	{"usd_down_10pct", "USD -10 %", "fx", "Broad dollar index down 10 %.", b(0, 0, 0, -0.10, 0, 0, 0), 0.15, false, "", ""},
	{"equities_down_20pct", "Equities -20 %", "equity", "Broad equity market down 20 %.", b(0, 0, 0, 0, -0.20, 0, 0), 0.12, false, "", ""},
	{"equities_up_15pct", "Equities +15 %", "equity", "Broad equity market up 15 %.", b(0, 0, 0, 0, 0.15, 0, 0), 0.20, false, "", ""},
	{"commodities_up_30pct", "Oil and commodities +30 %", "commodity", "Oil and broad commodities up 30 %.", b(0, 0, 0, 0, 0, 0.30, 0), 0.10, false, "", ""},
	{"commodities_down_25pct", "Commodities -25 %", "commodity", "Oil and broad commodities down 25 %.", b(0, 0, 0, 0, 0, -0.25, 0), 0.10, false, "", ""},
	{"volatility_spike_2x", "Volatility spike x2", "volatility", "The VIX doubles.", b(0, 0, 0, 0, 0, 0, 1.0), 0.10, false, "", ""},
	{"stagflation", "Stagflation", "combined", "Inflation up, growth down: breakevens +2 pp, real rates +50 bp, spreads +100 bp, equities -15 %, commodities +25 %, VIX +50 %.",
		b(0.005, 0.02, 0.01, 0, -0.15, 0.25, 0.5), 0.05, false, "", ""},
}

// historicalScenarios are episodes, each shock an approximate peak-to-
// trough (or start-to-end) move of the matching public index over the
// period; where the index did not exist yet (the VIX before 1990, TIPS
// before 1997) the figure is a rough equivalent of the moves of the time.
var historicalScenarios = []scenario{
	{"hist_1973_oil_shock", "1973-74 oil embargo", "historical", "OPEC embargo; oil quadruples, equities enter a deep bear market.",
		b(-0.01, 0.03, 0.01, -0.05, -0.43, 3.0, 0.8), 0.02, true, "1973-10-16", "1974-10-03"},
	{"hist_1979_volcker", "1979-80 Volcker shock", "historical", "Fed targets money supply; yields surge.",
		b(0.03, 0.01, 0.015, 0.05, -0.10, 0.15, 0.5), 0.02, true, "1979-10-06", "1980-03-27"},
	{"hist_1987_black_monday", "1987 Black Monday", "historical", "S&P 500 falls about 20 % in one day, 28 % in a week.",
		b(-0.005, 0, 0.005, -0.03, -0.28, -0.05, 2.0), 0.02, true, "1987-10-13", "1987-10-19"},
	{"hist_1990_gulf_war", "1990 Gulf War", "historical", "Iraq invades Kuwait; oil more than doubles.",
		b(0.005, 0.01, 0.008, -0.08, -0.20, 1.3, 0.9), 0.03, true, "1990-07-16", "1990-10-11"},
	{"hist_1994_bond_massacre", "1994 bond massacre", "historical", "Fed tightening; 10-year yields rise about 2.5 pp.",
		b(0.018, 0.007, 0.003, -0.05, -0.08, 0.10, 0.3), 0.03, true, "1994-02-01", "1994-11-30"},
	{"hist_1997_asian_crisis", "1997 Asian financial crisis", "historical", "Baht devaluation spreads through Asia.",
		b(-0.004, -0.002, 0.004, 0.05, -0.11, -0.10, 1.0), 0.03, true, "1997-07-02", "1997-10-27"},
	{"hist_1998_ltcm", "1998 Russia default and LTCM", "historical", "Russian default, LTCM collapse, flight to quality.",
		b(-0.012, -0.005, 0.012, -0.08, -0.19, -0.15, 1.5), 0.03, true, "1998-07-17", "1998-10-08"},
	{"hist_2000_dotcom", "2000-02 dot-com bust", "historical", "Technology bubble deflates over two and a half years.",
		b(-0.02, -0.005, 0.015, 0.05, -0.49, 0.10, 0.6), 0.03, true, "2000-03-24", "2002-10-09"},
	{"hist_2001_sept11", "2001 September 11", "historical", "Markets close for four days and fall on reopening.",
		b(-0.003, -0.002, 0.004, -0.03, -0.116, -0.10, 0.4), 0.02, true, "2001-09-10", "2001-09-21"},
	{"hist_2008_gfc", "2008 global financial crisis", "historical", "Housing and banking crisis; credit spreads blow out.",
		b(0.01, -0.022, 0.045, 0.15, -0.567, -0.45, 1.5), 0.02, true, "2007-10-09", "2009-03-09"},
	{"hist_2010_flash_crash", "2010 flash crash and euro worries", "historical", "Intraday crash in May and a spring correction.",
		b(-0.006, -0.003, 0.005, 0.06, -0.16, -0.15, 1.4), 0.04, true, "2010-04-23", "2010-07-02"},
	{"hist_2011_euro_downgrade", "2011 euro crisis and US downgrade", "historical", "Euro sovereign stress and the S&P downgrade of the US.",
		b(-0.011, -0.006, 0.009, 0.06, -0.19, -0.20, 1.6), 0.04, true, "2011-07-22", "2011-10-03"},
	{"hist_2013_taper_tantrum", "2013 taper tantrum", "historical", "Talk of tapering bond purchases lifts real yields.",
		b(0.0085, -0.003, 0.003, 0.02, -0.055, -0.05, 0.6), 0.05, true, "2013-05-21", "2013-06-24"},
	{"hist_2015_china_deval", "2015 yuan devaluation", "historical", "China devalues the yuan; global sell-off in August.",
		b(-0.002, -0.002, 0.002, -0.02, -0.11, -0.10, 1.9), 0.05, true, "2015-08-10", "2015-08-25"},
	{"hist_2016_brexit", "2016 Brexit vote", "historical", "UK votes to leave the EU; sterling falls sharply.",
		b(-0.002, -0.001, 0.001, 0.025, -0.053, -0.07, 0.5), 0.05, true, "2016-06-23", "2016-06-27"},
	{"hist_2018_volmageddon", "2018 volatility shock", "historical", "Short-volatility products unwind in February.",
		b(0.002, 0, 0.002, 0, -0.10, -0.05, 2.0), 0.05, true, "2018-01-26", "2018-02-08"},
	{"hist_2018_q4", "2018 Q4 sell-off", "historical", "Fed tightening and trade war; oil falls 40 %.",
		b(-0.001, -0.004, 0.005, 0.015, -0.196, -0.40, 1.6), 0.05, true, "2018-09-20", "2018-12-24"},
	{"hist_2020_covid_crash", "2020 COVID crash", "historical", "Pandemic lockdowns; fastest bear market on record.",
		b(0.002, -0.0115, 0.028, 0.06, -0.34, -0.60, 3.3), 0.02, true, "2020-02-19", "2020-03-23"},
	{"hist_2020_recovery", "2020 recovery", "historical", "Policy support drives a rapid rebound.",
		b(-0.01, 0.01, -0.018, -0.08, 0.52, 0.80, -0.6), 0.03, true, "2020-03-23", "2020-08-18"},
	{"hist_2022_inflation_shock", "2022 inflation and rates shock", "historical", "Fastest hiking cycle in decades; stocks and bonds fall together.",
		b(0.026, -0.004, 0.007, 0.16, -0.25, 0.15, 0.9), 0.04, true, "2022-01-03", "2022-10-12"},
	{"hist_2022_gilt_crisis", "2022 UK gilt crisis", "historical", "UK mini-budget; gilt yields spike and pension funds sell.",
		b(0.008, 0, 0.003, 0.02, -0.06, -0.03, 0.2), 0.04, true, "2022-09-22", "2022-10-12"},
	{"hist_2023_svb", "2023 SVB and regional banks", "historical", "Bank runs in the US; two-year yields fall 1 pp.",
		b(-0.003, -0.002, 0.003, -0.02, -0.03, -0.10, 0.4), 0.05, true, "2023-03-08", "2023-03-17"},
	{"hist_2024_yen_carry", "2024 yen carry unwind", "historical", "Bank of Japan hike unwinds yen carry trades.",
		b(-0.005, -0.001, 0.002, -0.03, -0.085, -0.08, 2.0), 0.05, true, "2024-07-16", "2024-08-05"},
}

func writeScenarios(ctx context.Context, tx pgx.Tx) error {
	b := &pgx.Batch{}
	all := append(append([]scenario(nil), builtinScenarios...), historicalScenarios...)
	for _, s := range all {
		src := builtinSource
		var ps, pe any
		if s.historical {
			src = historicalSource
			d0, err := time.Parse(time.DateOnly, s.start)
			if err != nil {
				return fmt.Errorf("scenario %s start: %w", s.id, err)
			}
			d1, err := time.Parse(time.DateOnly, s.end)
			if err != nil {
				return fmt.Errorf("scenario %s end: %w", s.id, err)
			}
			ps, pe = d0, d1
		}
		sh := s.shocks
		b.Queue(`INSERT INTO scenario_shocks (id, name, category, description, shock_real_rates, shock_inflation, shock_credit,
				shock_usd, shock_equity, shock_commodity, shock_volatility, probability, historical, period_start, period_end, source)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
			ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, category = EXCLUDED.category, description = EXCLUDED.description,
				shock_real_rates = EXCLUDED.shock_real_rates, shock_inflation = EXCLUDED.shock_inflation,
				shock_credit = EXCLUDED.shock_credit, shock_usd = EXCLUDED.shock_usd, shock_equity = EXCLUDED.shock_equity,
				shock_commodity = EXCLUDED.shock_commodity, shock_volatility = EXCLUDED.shock_volatility,
				probability = EXCLUDED.probability, historical = EXCLUDED.historical, period_start = EXCLUDED.period_start,
				period_end = EXCLUDED.period_end, source = EXCLUDED.source, updated_at = now()
			WHERE (scenario_shocks.name, scenario_shocks.category, scenario_shocks.description, scenario_shocks.shock_real_rates,
				scenario_shocks.shock_inflation, scenario_shocks.shock_credit, scenario_shocks.shock_usd, scenario_shocks.shock_equity,
				scenario_shocks.shock_commodity, scenario_shocks.shock_volatility, scenario_shocks.probability,
				scenario_shocks.historical, scenario_shocks.period_start, scenario_shocks.period_end, scenario_shocks.source)
			IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.category, EXCLUDED.description, EXCLUDED.shock_real_rates,
				EXCLUDED.shock_inflation, EXCLUDED.shock_credit, EXCLUDED.shock_usd, EXCLUDED.shock_equity,
				EXCLUDED.shock_commodity, EXCLUDED.shock_volatility, EXCLUDED.probability, EXCLUDED.historical,
				EXCLUDED.period_start, EXCLUDED.period_end, EXCLUDED.source)`,
			s.id, s.name, s.category, s.description, sh[0], sh[1], sh[2], sh[3], sh[4], sh[5], sh[6], s.probability,
			s.historical, ps, pe, src)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write %d scenarios: %w", len(all), err)
	}
	return nil
}

// Rubric JSON shapes. A metric scores the first band it meets: with
// direction "higher_is_better" the first band whose min it reaches, with
// "lower_is_better" the first band whose max it does not exceed, else the
// else score. Component scores are 0..10 and the rating is their weighted
// sum; the aggregate is 10 x the weighted sum of the three ratings with
// grade cut-offs.
type rubricBand struct {
	Min   *float64 `json:"min,omitempty"`
	Max   *float64 `json:"max,omitempty"`
	Score float64  `json:"score"`
}

type rubricMetric struct {
	Metric      string       `json:"metric"`
	Description string       `json:"description"`
	Weight      float64      `json:"weight"`
	Direction   string       `json:"direction"`
	Bands       []rubricBand `json:"bands"`
	Else        float64      `json:"else"`
}

type componentRubric struct {
	Scale   float64        `json:"scale"`
	Metrics []rubricMetric `json:"metrics"`
}

type gradeCut struct {
	Grade string  `json:"grade"`
	Min   float64 `json:"min"`
}

type aggregateRubric struct {
	Scale   float64            `json:"scale"`
	Weights map[string]float64 `json:"weights"`
	Grades  []gradeCut         `json:"grades"`
	Else    string             `json:"else"`
}

func f64(x float64) *float64 { return &x }

// higher and lower build bands from (threshold, score) pairs.
func higher(pairs ...float64) []rubricBand {
	var out []rubricBand
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, rubricBand{Min: f64(pairs[i]), Score: pairs[i+1]})
	}
	return out
}

func lower(pairs ...float64) []rubricBand {
	var out []rubricBand
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, rubricBand{Max: f64(pairs[i]), Score: pairs[i+1]})
	}
	return out
}

// rubrics is version 1 of the rating rubric.
func rubrics() map[string]any {
	return map[string]any{
		"dividend_safety": componentRubric{Scale: 10, Metrics: []rubricMetric{
			{"payout_ratio", "dividends paid / net income", 0.30, "lower_is_better", lower(0.4, 10, 0.6, 7, 0.8, 4, 1.0, 2), 0},
			{"fcf_coverage", "(operating cash flow - capex) / dividends paid", 0.30, "higher_is_better", higher(2.0, 10, 1.5, 7, 1.0, 4), 0},
			{"dividend_growth_streak", "consecutive fiscal years of higher dividend per share", 0.20, "higher_is_better", higher(4, 10, 2, 6, 1, 3), 0},
			{"net_cash_to_assets", "(cash - total debt) / total assets", 0.20, "higher_is_better", higher(0, 10, -0.2, 7, -0.4, 4), 1},
		}},
		"moat_strength": componentRubric{Scale: 10, Metrics: []rubricMetric{
			{"roe", "net income / total equity", 0.30, "higher_is_better", higher(0.20, 10, 0.15, 8, 0.10, 5, 0.05, 2), 0},
			{"gross_margin", "gross profit / revenue", 0.25, "higher_is_better", higher(0.60, 10, 0.40, 7, 0.25, 4), 1},
			{"intangibles_to_assets", "intangible assets / total assets", 0.20, "higher_is_better", higher(0.30, 10, 0.15, 7, 0.05, 4), 1},
			{"switching_costs", "proxy: standard deviation of gross margin over the fiscal years (stable margins suggest sticky customers)", 0.25, "lower_is_better", lower(0.01, 10, 0.02, 7, 0.04, 4), 1},
		}},
		"resilience": componentRubric{Scale: 10, Metrics: []rubricMetric{
			{"debt_to_equity", "total debt / total equity", 0.30, "lower_is_better", lower(0.3, 10, 0.6, 7, 1.0, 4, 2.0, 2), 0},
			{"interest_coverage", "operating income / interest expense", 0.25, "higher_is_better", higher(10, 10, 5, 7, 2, 4), 0},
			{"current_ratio", "current assets / current liabilities", 0.20, "higher_is_better", higher(2.0, 10, 1.5, 8, 1.0, 5), 1},
			{"operating_margin_stability", "standard deviation of operating margin over the fiscal years", 0.25, "lower_is_better", lower(0.01, 10, 0.02, 7, 0.04, 4), 1},
		}},
		"aggregate": aggregateRubric{Scale: 100,
			Weights: map[string]float64{"moat_strength": 0.40, "dividend_safety": 0.30, "resilience": 0.30},
			Grades:  []gradeCut{{"A", 90}, {"B", 80}, {"C", 70}, {"D", 60}}, Else: "F"},
	}
}

// RubricVersion is the version of the rating rubric the seed writes.
const RubricVersion = 1

func writeRubrics(ctx context.Context, tx pgx.Tx) error {
	b := &pgx.Batch{}
	for _, name := range []string{"aggregate", "dividend_safety", "moat_strength", "resilience"} {
		js, err := json.Marshal(rubrics()[name])
		if err != nil {
			return fmt.Errorf("encode rubric %s: %w", name, err)
		}
		b.Queue(`INSERT INTO rating_rubrics (name, version, rubric, description, active)
			VALUES ($1, $2, $3, $4, NOT EXISTS (SELECT 1 FROM rating_rubrics r WHERE r.name = $1 AND r.active AND r.version <> $2))
			ON CONFLICT (name, version) DO UPDATE SET rubric = EXCLUDED.rubric, description = EXCLUDED.description
			WHERE rating_rubrics.rubric IS DISTINCT FROM EXCLUDED.rubric OR rating_rubrics.description IS DISTINCT FROM EXCLUDED.description`,
			name, RubricVersion, js, "DawsOS rating rubric v1 ("+name+"), written by the seed")
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write rating rubrics: %w", err)
	}
	return nil
}
