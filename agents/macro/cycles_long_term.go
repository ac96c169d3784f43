package macro

import (
	"context"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Macro) computeLongTerm() agents.Def {
	return agents.Write(agents.Meta{
		Name: "cycles.compute_long_term",
		Description: "Phase of the long-term debt cycle (LTDC, seven stages after Dalio: early part, bubble, top, depression, " +
			"beautiful deleveraging, pushing on a string, normalisation) on the as-of date from total and federal debt to GDP, " +
			"household debt service (quarterly), federal interest outlays (annual), FEDFUNDS and CPIAUCSL y/y, by the ordered " +
			"rules of longTermCycle; score = the position of total debt/GDP in its 10-year range. A missing series is " +
			"insufficient_data naming it. Upserts cycle_phases (LTDC, date).",
		Reads:  []string{"macro_indicators"},
		Writes: []string{"cycle_phases"},
		Codes:  []string{agents.CodeInsufficientData},
	}, a.ComputeLongTerm)
}

// Long-term phases without a counterpart in the short-term names.
const (
	// PhaseRecovery is the beautiful deleveraging: reflation offsets the
	// deleveraging (risk.overlay_cycle_phases: recovery 0.9).
	PhaseRecovery = "RECOVERY"
	// PhasePushingOnAString is stimulus at the zero bound that no longer
	// lifts inflation or credit. risk.overlay_cycle_phases amplifies it as
	// the deep contraction it is part of.
	PhasePushingOnAString = "PUSHING_ON_A_STRING"
)

// longTermCycle is the long-term debt cycle. Six of its seven stages carry
// the names of the business-cycle phases risk.overlay_cycle_phases
// amplifies; PUSHING_ON_A_STRING keeps Dalio's name and is amplified as a
// deep contraction.
//
//	stage (Dalio)            phase                overlay
//	early part               EARLY_EXPANSION      0.8
//	bubble                   LATE_EXPANSION       1.2
//	top                      EARLY_CONTRACTION    1.5
//	depression               DEEP_CONTRACTION     2.0
//	beautiful deleveraging   RECOVERY             0.9
//	pushing on a string      PUSHING_ON_A_STRING  2.0
//	normalisation            MID_EXPANSION        1.0
//
// Signals (quarterly series dated the first day of the quarter; lags to
// the observation dated exactly that many months earlier):
//
//	debt_gdp_change      LTDC_TOTAL_DEBT_GDP − 24 months earlier (pp of GDP)
//	debt_gdp_range       (LTDC_TOTAL_DEBT_GDP − min) / (max − min) over the 120 months up to its newest (≥ 40 quarters)
//	debt_service_change  TDSP − 24 months earlier (pp of disposable income)
//	federal_debt_change  GFDEGDQ188S − 24 months earlier (pp of GDP)
//	interest_burden      FYOIGDA188S, newest (annual, % of GDP)
//	policy_rate          FEDFUNDS, newest (monthly, %)
//	inflation            CPIAUCSL / 12 months earlier − 1 (decimal)
//	score                debt_gdp_range
//
// Rules, first match wins:
//
//	1 PUSHING_ON_A_STRING  policy_rate < 0.5 and inflation < 0.01             zero rates and no inflation: money no longer works
//	2 RECOVERY             policy_rate < 0.5 and federal_debt_change ≥ 5      zero rates and the state borrowing: reflation
//	3 DEEP_CONTRACTION     policy_rate < 0.5                                  zero rates without reflation
//	4 DEEP_CONTRACTION     debt_gdp_change < −5                               fast private deleveraging
//	5 EARLY_CONTRACTION    debt_gdp_range ≥ 0.8 and debt_service_change ≥ 0.5 debt near its high and its service squeezing
//	6 EARLY_CONTRACTION    debt_gdp_range ≥ 0.8 and interest_burden ≥ 3.5     debt near its high and interest heavy
//	7 LATE_EXPANSION       debt_gdp_change ≥ 6                                debt outgrowing income by 3 pp of GDP a year
//	8 MID_EXPANSION        debt_gdp_range < 0.5                               debt well below its decade high: normalisation
//	9 EARLY_EXPANSION      always                                             debt growing with income
var longTermCycle = cycleDef{
	Cycle: storage.CycleLongTermDebt, Name: "long-term debt cycle",
	Phases: []phaseDef{
		{RegimeEarlyExpansion, "early part of the cycle", -1, "debt grows in line with incomes"},
		{RegimeLateExpansion, "bubble", 0, "debt outgrows incomes, financed by rising asset prices"},
		{RegimeEarlyContraction, "top", 1, "debt near its high, debt service squeezes, policy tight"},
		{RegimeDeepContraction, "depression", 1, "deleveraging by defaults and austerity, rates cut to the floor"},
		{PhaseRecovery, "beautiful deleveraging", -1, "money printing and state borrowing offset the deleveraging"},
		{PhasePushingOnAString, "pushing on a string", 1, "stimulus at the zero bound no longer lifts credit or inflation"},
		{RegimeMidExpansion, "normalisation", 0, "debt burden back down, growth at a normal pace"},
	},
	Signals: []signalDef{
		{Name: "debt_gdp_change", Kind: sigChange, Series: "LTDC_TOTAL_DEBT_GDP", LagMonths: 24, Unit: "percentage points", Doc: "LTDC_TOTAL_DEBT_GDP − LTDC_TOTAL_DEBT_GDP 24 months earlier"},
		{Name: "debt_gdp_range", Kind: sigRange, Series: "LTDC_TOTAL_DEBT_GDP", LagMonths: 120, MinObs: 40, Unit: "fraction", Doc: "(LTDC_TOTAL_DEBT_GDP − min) / (max − min) over the 120 months up to its newest, at least 40 observations"},
		{Name: "debt_service_change", Kind: sigChange, Series: "TDSP", LagMonths: 24, Unit: "percentage points", Doc: "TDSP − TDSP 24 months earlier"},
		{Name: "federal_debt_change", Kind: sigChange, Series: "GFDEGDQ188S", LagMonths: 24, Unit: "percentage points", Doc: "GFDEGDQ188S − GFDEGDQ188S 24 months earlier"},
		{Name: "interest_burden", Kind: sigLevel, Series: "FYOIGDA188S", Unit: "percent of GDP", Doc: "FYOIGDA188S, the newest observation"},
		{Name: "policy_rate", Kind: sigLevel, Series: "FEDFUNDS", Unit: "percent", Doc: "FEDFUNDS, the newest observation"},
		{Name: "inflation", Kind: sigYoY, Series: "CPIAUCSL", LagMonths: 12, Unit: "fraction", Doc: "CPIAUCSL / CPIAUCSL 12 months earlier − 1"},
	},
	ScoreName:  "debt_range_position",
	ScoreTerms: []scoreTerm{{"debt_gdp_range", 1}},
	ScoreDoc:   "debt_gdp_range (0 = total debt/GDP at its 10-year low, 1 = at its high)",
	Rules: []phaseRule{
		{PhasePushingOnAString, []condition{{"policy_rate", "<", 0.5}, {"inflation", "<", 0.01}}, "zero rates and no inflation"},
		{PhaseRecovery, []condition{{"policy_rate", "<", 0.5}, {"federal_debt_change", ">=", 5}}, "zero rates and the state borrowing: reflation"},
		{RegimeDeepContraction, []condition{{"policy_rate", "<", 0.5}}, "zero rates without reflation"},
		{RegimeDeepContraction, []condition{{"debt_gdp_change", "<", -5}}, "fast private deleveraging"},
		{RegimeEarlyContraction, []condition{{"debt_gdp_range", ">=", 0.8}, {"debt_service_change", ">=", 0.5}}, "debt near its high and its service squeezing"},
		{RegimeEarlyContraction, []condition{{"debt_gdp_range", ">=", 0.8}, {"interest_burden", ">=", 3.5}}, "debt near its high and interest heavy"},
		{RegimeLateExpansion, []condition{{"debt_gdp_change", ">=", 6}}, "debt outgrowing income"},
		{RegimeMidExpansion, []condition{{"debt_gdp_range", "<", 0.5}}, "debt well below its decade high"},
		{RegimeEarlyExpansion, nil, "debt growing with income"},
	},
}

// ComputeLongTerm implements cycles.compute_long_term.
func (a *Macro) ComputeLongTerm(ctx context.Context, c *agents.Call, in CycleInputsInput) (CycleOutput, error) {
	return runCycle(ctx, c, longTermCycle, in.AsOfDate)
}
