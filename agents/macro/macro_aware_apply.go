package macro

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Macro) macroAwareApply() agents.Def {
	return agents.Write(agents.Meta{
		Name: "scenarios.macro_aware_apply",
		Description: "Applies a library scenario with its severity and probability scaled by the current regime (the newest " +
			"regime_history row on or before the as-of date; the scaling table of this file, moved towards 1 by the regime's " +
			"confidence), as macro.run_scenario does; same output with the scaling stated; upserts scenario_results. A missing " +
			"regime is insufficient_data.",
		Reads: []string{"portfolios", "lots", "transactions", "securities", "prices", "fx_rates", "pricing_packs",
			"position_factor_betas", "scenario_shocks", "regime_history"},
		Writes: []string{"scenario_results"},
		Codes: []string{agents.CodeNotFound, agents.CodeInsufficientData, agents.CodeMissingPrice, agents.CodeMissingFX,
			agents.CodePricingPackWarming},
	}, a.MacroAwareApply)
}

// Scenario classes of the scaling table.
const (
	scenClassAdverse = "adverse"
	scenClassBenign  = "benign"
	scenClassNeutral = "neutral"
)

// scenScale is a probability and a severity multiplier.
type scenScale struct{ Probability, Severity float64 }

// regimeScaling is one regime's row of the scaling table.
type regimeScaling struct {
	Regime                   string
	Adverse, Benign, Neutral scenScale
}

// macroAwareScaling is the scaling table, a DawsOS parameter (stylised,
// not estimated). A scenario is adverse when it shocks equities down (or,
// with no equity shock, widens spreads or lifts the VIX), benign in the
// opposite case, neutral when it moves only rates, inflation, the dollar
// or commodities. The severity of adverse scenarios follows the cycle
// multipliers of risk.overlay_cycle_phases (early expansion 0.8, mid 1.0,
// late 1.2, early contraction 1.5, deep contraction 2.0); their
// probability rises through the cycle in the same proportions, benign
// scenarios' falls; neutral scenarios are a little likelier late in an
// expansion, when rate and inflation shocks cluster. Severity multiplies
// every shock of the scenario; probability multiplies its annual prior,
// capped at 1. Both are applied as 1 + confidence × (table − 1), so a
// regime detected with no confidence changes nothing.
var macroAwareScaling = []regimeScaling{
	{"EARLY_EXPANSION", scenScale{0.6, 0.8}, scenScale{1.3, 1.0}, scenScale{1.0, 1.0}},
	{"MID_EXPANSION", scenScale{0.8, 1.0}, scenScale{1.1, 1.0}, scenScale{1.0, 1.0}},
	{"LATE_EXPANSION", scenScale{1.2, 1.2}, scenScale{0.9, 1.0}, scenScale{1.1, 1.0}},
	{"EARLY_CONTRACTION", scenScale{1.6, 1.5}, scenScale{0.7, 1.0}, scenScale{1.0, 1.0}},
	{"DEEP_CONTRACTION", scenScale{2.0, 2.0}, scenScale{0.6, 1.0}, scenScale{1.0, 1.0}},
}

// scenClass classifies shocks for the scaling table.
func scenClass(s scenShocks) string {
	eq, cr, vol := s[4], s[2], s[6]
	switch {
	case eq < 0, eq == 0 && (cr > 0 || vol > 0):
		return scenClassAdverse
	case eq > 0, eq == 0 && (cr < 0 || vol < 0):
		return scenClassBenign
	}
	return scenClassNeutral
}

// scenRegime is the regime the macro-aware capabilities scale by.
type scenRegime struct {
	storage.RegimeRecord
	row regimeScaling
}

// currentRegime reads the newest regime on or before the as-of date and
// its row of the table.
func currentRegime(ctx context.Context, c *agents.Call) (scenRegime, error) {
	asOf, err := c.RequireAsOf()
	if err != nil {
		return scenRegime{}, err
	}
	r, ok, err := storage.RegimeOnOrBefore(ctx, c.DB, asOf)
	if err != nil {
		return scenRegime{}, err
	}
	if !ok {
		return scenRegime{}, agents.Errorf(agents.CodeInsufficientData, "no regime in regime_history on or before %s (run macro.detect_regime)",
			asOf.Format(time.DateOnly))
	}
	for _, row := range macroAwareScaling {
		if row.Regime == r.Regime {
			return scenRegime{RegimeRecord: r, row: row}, nil
		}
	}
	return scenRegime{}, agents.Errorf(agents.CodeInsufficientData, "regime %q of %s has no row in the scaling table", r.Regime,
		r.AsOfDate.Format(time.DateOnly))
}

// scale applies the regime to a library scenario: the shocks times the
// severity multiplier, the probability times the probability multiplier.
func (r scenRegime) scale(def scenDef) scenDef {
	class := scenClass(def.Shocks)
	t := r.row.Neutral
	switch class {
	case scenClassAdverse:
		t = r.row.Adverse
	case scenClassBenign:
		t = r.row.Benign
	}
	pm := 1 + r.Confidence*(t.Probability-1)
	sm := 1 + r.Confidence*(t.Severity-1)
	sc := &ScenarioScaling{Regime: r.Regime, RegimeAsOfDate: r.AsOfDate.Format(time.DateOnly), RegimeConfidence: r.Confidence,
		Class: class, TableProbability: t.Probability, TableSeverity: t.Severity, ProbabilityMultiplier: pm, SeverityMultiplier: sm,
		BaseProbability: def.Probability, UnscaledShocks: def.Shocks.asMap()}
	if def.Probability != nil {
		p := math.Min(1, *def.Probability*pm)
		sc.ScaledProbability = &p
	}
	out := def
	out.Shocks = def.Shocks.scaled(sm)
	out.Probability = sc.ScaledProbability
	out.scaling = sc
	out.Name = fmt.Sprintf("%s (macro-aware: %s)", def.Name, r.Regime)
	return out
}

// MacroAwareApplyInput names the portfolio and the library scenario.
type MacroAwareApplyInput struct {
	PortfolioID uuid.UUID `json:"portfolio_id" doc:"The portfolio, valued with the run's pack."`
	ScenarioID  string    `json:"scenario_id" jsonschema:"pattern=^[a-z0-9_]+$" doc:"A scenario_shocks id."`
}

// MacroAwareApply implements scenarios.macro_aware_apply.
func (a *Macro) MacroAwareApply(ctx context.Context, c *agents.Call, in MacroAwareApplyInput) (ScenarioOutput, error) {
	s, err := storage.GetScenarioShock(ctx, c.DB, in.ScenarioID)
	if err != nil {
		return ScenarioOutput{}, err
	}
	r, err := currentRegime(ctx, c)
	if err != nil {
		return ScenarioOutput{}, err
	}
	def := r.scale(scenDefFromLibrary(s))
	out, err := runScenarioDef(ctx, c, in.PortfolioID, def)
	if err != nil {
		return ScenarioOutput{}, fmt.Errorf("macro-aware scenario %s on portfolio %s: %w", in.ScenarioID, in.PortfolioID, err)
	}
	return out, nil
}
