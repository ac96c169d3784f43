package macro

import (
	"context"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Macro) computeCivil() agents.Def {
	return agents.Write(agents.Meta{
		Name: "cycles.compute_civil",
		Description: "Phase of the internal order (civil) cycle, six stages after Dalio (NEW_ORDER, BUILDING_SYSTEMS, " +
			"PEACE_AND_PROSPERITY, EXCESSES, CONFLICT, CIVIL_WAR) on the as-of date from the annual CIVIL_GINI, CIVIL_TOP1_SHARE, " +
			"CIVIL_POLARIZATION and CIVIL_INSTITUTIONAL_TRUST: disorder = the mean of the four normalised, and its change over " +
			"ten years, by the ordered rules of civilCycle; score = disorder. A missing series is insufficient_data naming it. " +
			"Upserts cycle_phases (CIVIL, date).",
		Reads:  []string{"macro_indicators"},
		Writes: []string{"cycle_phases"},
		Codes:  []string{agents.CodeInsufficientData},
	}, a.ComputeCivil)
}

// civilComponents normalise the four internal-order series to 0..1
// disorder: inequality over its plausible range, polarisation as it is,
// institutional trust inverted.
var civilComponents = []component{
	{Series: "CIVIL_GINI", Lo: 0.30, Hi: 0.60},
	{Series: "CIVIL_TOP1_SHARE", Lo: 0.10, Hi: 0.50},
	{Series: "CIVIL_POLARIZATION", Lo: 0, Hi: 1},
	{Series: "CIVIL_INSTITUTIONAL_TRUST", Lo: 0, Hi: 1, Invert: true},
}

// civilCycle is the internal order cycle.
//
// Signals (annual series dated 1 January):
//
//	disorder         mean of (GINI − 0.30)/0.30, (TOP1 − 0.10)/0.40, POLARIZATION, 1 − TRUST (newest each; not clamped)
//	disorder_change  disorder − the same mean of the values dated exactly 120 months before each newest
//	score            disorder
//
// Rules, first match wins:
//
//	1 CIVIL_WAR             disorder ≥ 0.8                           civil war or revolution
//	2 CONFLICT              disorder ≥ 0.6                           bad finances and intense conflict
//	3 EXCESSES              disorder ≥ 0.4 and disorder_change ≥ 0   gaps widening
//	4 NEW_ORDER             disorder ≥ 0.4                           high but receding: a new order consolidates
//	5 BUILDING_SYSTEMS      disorder_change < 0                      low and still falling: institutions being built
//	6 PEACE_AND_PROSPERITY  always                                   low and not falling
var civilCycle = cycleDef{
	Cycle: storage.CycleCivil, Name: "internal order cycle",
	Phases: []phaseDef{
		{"NEW_ORDER", "new order and consolidation of power", 0, "after an upheaval, the new leadership consolidates"},
		{"BUILDING_SYSTEMS", "building the resource-allocation systems", -1, "institutions and bureaucracy are built"},
		{"PEACE_AND_PROSPERITY", "peace and prosperity", -1, "low disorder, broad gains"},
		{"EXCESSES", "excesses and widening gaps", 0, "debt, decadence and widening wealth gaps"},
		{"CONFLICT", "bad financial conditions and intense conflict", 1, "polarisation and distrust turn into conflict"},
		{"CIVIL_WAR", "civil war or revolution", 1, "the order breaks down"},
	},
	Signals: []signalDef{
		{Name: "disorder", Kind: sigComposite, Components: civilComponents, Unit: "score 0..1", Doc: "mean of (CIVIL_GINI − 0.30)/0.30, (CIVIL_TOP1_SHARE − 0.10)/0.40, CIVIL_POLARIZATION and 1 − CIVIL_INSTITUTIONAL_TRUST (newest each)"},
		{Name: "disorder_change", Kind: sigCompositeChange, Components: civilComponents, LagMonths: 120, Unit: "score 0..1", Doc: "disorder − the same mean of the values dated 120 months before each newest"},
	},
	ScoreName:  "disorder",
	ScoreTerms: []scoreTerm{{"disorder", 1}},
	ScoreDoc:   "disorder (0 = calm, 1 = breakdown)",
	Rules: []phaseRule{
		{"CIVIL_WAR", []condition{{"disorder", ">=", 0.8}}, "civil war or revolution"},
		{"CONFLICT", []condition{{"disorder", ">=", 0.6}}, "bad finances and intense conflict"},
		{"EXCESSES", []condition{{"disorder", ">=", 0.4}, {"disorder_change", ">=", 0}}, "gaps widening"},
		{"NEW_ORDER", []condition{{"disorder", ">=", 0.4}}, "high but receding"},
		{"BUILDING_SYSTEMS", []condition{{"disorder_change", "<", 0}}, "low and still falling"},
		{"PEACE_AND_PROSPERITY", nil, "low and not falling"},
	},
}

// ComputeCivil implements cycles.compute_civil.
func (a *Macro) ComputeCivil(ctx context.Context, c *agents.Call, in CycleInputsInput) (CycleOutput, error) {
	return runCycle(ctx, c, civilCycle, in.AsOfDate)
}
