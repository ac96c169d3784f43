package macro

import (
	"context"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Macro) computeShortTerm() agents.Def {
	return agents.Write(agents.Meta{
		Name: "cycles.compute_short_term",
		Description: "Phase of the short-term debt cycle (STDC: EARLY_EXPANSION, MID_EXPANSION, LATE_EXPANSION, EARLY_CONTRACTION, " +
			"DEEP_CONTRACTION) on the as-of date from INDPRO and CPIAUCSL y/y, the 12-month changes of UNRATE and FEDFUNDS and " +
			"the T10Y2Y curve, by the ordered rules of shortTermCycle; score = expansion strength = 50 × growth − 2 × " +
			"unemployment_change. A missing series is insufficient_data naming it. Upserts cycle_phases (STDC, date).",
		Reads:  []string{"macro_indicators"},
		Writes: []string{"cycle_phases"},
		Codes:  []string{agents.CodeInsufficientData},
	}, a.ComputeShortTerm)
}

// shortTermCycle is the short-term debt (business) cycle. Its phase names
// are those risk.overlay_cycle_phases amplifies (early expansion 0.8, mid
// 1.0, late 1.2, early contraction 1.5, deep contraction 2.0).
//
// Signals (monthly series dated the first of the month; lags to the
// observation dated exactly 12 months earlier):
//
//	growth               INDPRO / INDPRO 12 months earlier − 1 (decimal)
//	unemployment_change  UNRATE − UNRATE 12 months earlier (percentage points)
//	inflation            CPIAUCSL / CPIAUCSL 12 months earlier − 1 (decimal)
//	policy_change        FEDFUNDS − FEDFUNDS 12 months earlier (percentage points)
//	curve                T10Y2Y, newest daily observation (percentage points)
//	score                growth / 0.02 − unemployment_change / 0.5: expansion strength, 0 at
//	                     2 % growth with unemployment up 0.5 pp
//
// Rules, first match wins:
//
//	1 DEEP_CONTRACTION   score < −2                                  output falling and unemployment rising fast
//	2 EARLY_CONTRACTION  score < 0                                   expansion strength gone
//	3 LATE_EXPANSION     curve < 0                                   inverted curve: policy tighter than growth can bear
//	4 LATE_EXPANSION     inflation ≥ 0.03 and policy_change ≥ 0.5    tightening into high inflation
//	5 EARLY_EXPANSION    policy_change < −0.25                       growth back while policy still eases
//	6 EARLY_EXPANSION    curve ≥ 1.5                                 steep curve after cuts
//	7 MID_EXPANSION      always                                      growth without the marks of early or late
var shortTermCycle = cycleDef{
	Cycle: storage.CycleShortTermDebt, Name: "short-term debt cycle",
	Phases: []phaseDef{
		{RegimeEarlyExpansion, "early expansion", -1, "growth resumes, policy still easy, curve steep"},
		{RegimeMidExpansion, "mid expansion", -1, "steady growth, unemployment falling, policy neutral"},
		{RegimeLateExpansion, "late expansion", 0, "inflation and tightening, flat or inverted curve"},
		{RegimeEarlyContraction, "early contraction", 1, "output slows below trend, unemployment turns up"},
		{RegimeDeepContraction, "deep contraction", 1, "output falls, unemployment rises fast"},
	},
	Signals: []signalDef{
		{Name: "growth", Kind: sigYoY, Series: "INDPRO", LagMonths: 12, Unit: "fraction", Doc: "INDPRO / INDPRO 12 months earlier − 1"},
		{Name: "unemployment_change", Kind: sigChange, Series: "UNRATE", LagMonths: 12, Unit: "percentage points", Doc: "UNRATE − UNRATE 12 months earlier"},
		{Name: "inflation", Kind: sigYoY, Series: "CPIAUCSL", LagMonths: 12, Unit: "fraction", Doc: "CPIAUCSL / CPIAUCSL 12 months earlier − 1"},
		{Name: "policy_change", Kind: sigChange, Series: "FEDFUNDS", LagMonths: 12, Unit: "percentage points", Doc: "FEDFUNDS − FEDFUNDS 12 months earlier"},
		{Name: "curve", Kind: sigLevel, Series: "T10Y2Y", Unit: "percentage points", Doc: "T10Y2Y, the newest observation"},
	},
	ScoreName:  "expansion_strength",
	ScoreTerms: []scoreTerm{{"growth", 50}, {"unemployment_change", -2}},
	ScoreDoc:   "growth / 0.02 − unemployment_change / 0.5",
	Rules: []phaseRule{
		{RegimeDeepContraction, []condition{{"score", "<", -2}}, "output falling and unemployment rising fast"},
		{RegimeEarlyContraction, []condition{{"score", "<", 0}}, "expansion strength gone"},
		{RegimeLateExpansion, []condition{{"curve", "<", 0}}, "inverted curve"},
		{RegimeLateExpansion, []condition{{"inflation", ">=", 0.03}, {"policy_change", ">=", 0.5}}, "tightening into high inflation"},
		{RegimeEarlyExpansion, []condition{{"policy_change", "<", -0.25}}, "growth back while policy still eases"},
		{RegimeEarlyExpansion, []condition{{"curve", ">=", 1.5}}, "steep curve after cuts"},
		{RegimeMidExpansion, nil, "growth without the marks of early or late expansion"},
	},
}

// ComputeShortTerm implements cycles.compute_short_term.
func (a *Macro) ComputeShortTerm(ctx context.Context, c *agents.Call, in CycleInputsInput) (CycleOutput, error) {
	return runCycle(ctx, c, shortTermCycle, in.AsOfDate)
}
