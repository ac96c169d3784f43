package macro

import (
	"context"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Macro) computeEmpire() agents.Def {
	return agents.Write(agents.Meta{
		Name: "cycles.compute_empire",
		Description: "Phase of the empire (external order) cycle (RISE, PEAK, DECLINE, COLLAPSE) on the as-of date from the eight " +
			"annual EMPIRE_* determinant scores: strength = their mean, strength_change = its change over ten years, by the " +
			"ordered rules of empireCycle; score = strength. A missing series is insufficient_data naming it. Upserts " +
			"cycle_phases (EMPIRE, date).",
		Reads:  []string{"macro_indicators"},
		Writes: []string{"cycle_phases"},
		Codes:  []string{agents.CodeInsufficientData},
	}, a.ComputeEmpire)
}

// empireDeterminants are the eight determinants of an empire's strength,
// annual 0..1 scores.
var empireDeterminants = []component{
	{Series: "EMPIRE_EDUCATION", Lo: 0, Hi: 1}, {Series: "EMPIRE_INNOVATION", Lo: 0, Hi: 1},
	{Series: "EMPIRE_COMPETITIVENESS", Lo: 0, Hi: 1}, {Series: "EMPIRE_MILITARY", Lo: 0, Hi: 1},
	{Series: "EMPIRE_TRADE", Lo: 0, Hi: 1}, {Series: "EMPIRE_OUTPUT", Lo: 0, Hi: 1},
	{Series: "EMPIRE_FINANCIAL_CENTER", Lo: 0, Hi: 1}, {Series: "EMPIRE_RESERVE_CURRENCY", Lo: 0, Hi: 1},
}

// empireCycle is the rise and decline of an empire.
//
// Signals (annual series dated 1 January):
//
//	strength         mean of the eight EMPIRE_* scores, newest each (0..1)
//	strength_change  strength − the mean of the scores dated exactly 120 months before each newest
//	score            strength
//
// Rules, first match wins:
//
//	1 RISE      strength_change ≥ 0.02                         strength still building
//	2 PEAK      strength ≥ 0.75 and strength_change ≥ −0.05    strong and roughly flat
//	3 DECLINE   strength ≥ 0.5                                 not rising, still strong
//	4 COLLAPSE  always                                         not rising and weak
var empireCycle = cycleDef{
	Cycle: storage.CycleEmpire, Name: "empire cycle",
	Phases: []phaseDef{
		{"RISE", "rise", -1, "education, innovation and competitiveness build strength"},
		{"PEAK", "top", 0, "strong across the determinants, no longer gaining"},
		{"DECLINE", "decline", 1, "losing ground, the reserve currency and financial centre last"},
		{"COLLAPSE", "collapse", 1, "weak and still weakening: the order is being replaced"},
	},
	Signals: []signalDef{
		{Name: "strength", Kind: sigComposite, Components: empireDeterminants, Unit: "score 0..1", Doc: "mean of the eight EMPIRE_* scores (newest each)"},
		{Name: "strength_change", Kind: sigCompositeChange, Components: empireDeterminants, LagMonths: 120, Unit: "score 0..1", Doc: "strength − the mean of the EMPIRE_* scores dated 120 months before each newest"},
	},
	ScoreName:  "strength",
	ScoreTerms: []scoreTerm{{"strength", 1}},
	ScoreDoc:   "strength (0..1)",
	Rules: []phaseRule{
		{"RISE", []condition{{"strength_change", ">=", 0.02}}, "strength still building"},
		{"PEAK", []condition{{"strength", ">=", 0.75}, {"strength_change", ">=", -0.05}}, "strong and roughly flat"},
		{"DECLINE", []condition{{"strength", ">=", 0.5}}, "not rising, still strong"},
		{"COLLAPSE", nil, "not rising and weak"},
	},
}

// ComputeEmpire implements cycles.compute_empire.
func (a *Macro) ComputeEmpire(ctx context.Context, c *agents.Call, in CycleInputsInput) (CycleOutput, error) {
	return runCycle(ctx, c, empireCycle, in.AsOfDate)
}
