package macro

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Macro) macroAwareRank() agents.Def {
	return agents.Read(agents.Meta{
		Name: "scenarios.macro_aware_rank",
		Description: "Ranks the scenario library (scenario_shocks) for the portfolio by regime-scaled probability × |Δ value|: " +
			"each scenario scaled by the current regime as scenarios.macro_aware_apply does (newest regime_history row on or " +
			"before the as-of date; missing is insufficient_data) and applied as macro.run_scenario does. Writes nothing.",
		Reads: []string{"portfolios", "lots", "transactions", "securities", "prices", "fx_rates", "pricing_packs",
			"position_factor_betas", "scenario_shocks", "regime_history"},
		Codes: []string{agents.CodeNotFound, agents.CodeInsufficientData, agents.CodeMissingPrice, agents.CodeMissingFX,
			agents.CodePricingPackWarming},
	}, a.MacroAwareRank)
}

// MacroAwareRankInput names the portfolio.
type MacroAwareRankInput struct {
	PortfolioID uuid.UUID `json:"portfolio_id" doc:"The portfolio, valued with the run's pack."`
	TopN        int       `json:"top_n,omitempty" jsonschema:"minimum=1,maximum=200,default=10" doc:"How many ranked scenarios to return."`
}

// MacroAwareRanked is one ranked scenario.
type MacroAwareRanked struct {
	Rank                  int             `json:"rank"`
	ScenarioID            string          `json:"scenario_id"`
	ScenarioName          string          `json:"scenario_name"`
	Category              string          `json:"category"`
	Class                 string          `json:"class" doc:"adverse, benign or neutral."`
	BaseProbability       float64         `json:"base_probability"`
	ScaledProbability     float64         `json:"scaled_probability"`
	ProbabilityMultiplier float64         `json:"probability_multiplier"`
	SeverityMultiplier    float64         `json:"severity_multiplier"`
	TotalDelta            decimal.Decimal `json:"total_delta" doc:"Δ value with the scaled shocks, base currency."`
	TotalDeltaPct         float64         `json:"total_delta_pct"`
	Score                 float64         `json:"score" doc:"scaled_probability × |total_delta|, base currency per year."`
}

// MacroAwareUnranked is a library scenario that cannot be ranked.
type MacroAwareUnranked struct {
	ScenarioID string `json:"scenario_id"`
	Reason     string `json:"reason"`
}

// MacroAwareRankOutput ranks the library.
type MacroAwareRankOutput struct {
	PortfolioID      uuid.UUID            `json:"portfolio_id"`
	BaseCurrency     string               `json:"base_currency"`
	AsOfDate         string               `json:"asof_date"`
	PricingPackID    string               `json:"pricing_pack_id"`
	Regime           string               `json:"regime"`
	RegimeAsOfDate   string               `json:"regime_asof_date"`
	RegimeConfidence float64              `json:"regime_confidence"`
	ValueBefore      decimal.Decimal      `json:"value_before"`
	Evaluated        int                  `json:"evaluated" doc:"Library scenarios applied."`
	Ranked           []MacroAwareRanked   `json:"ranked" doc:"Highest score first (ties by id), at most top_n."`
	Unranked         []MacroAwareUnranked `json:"unranked" doc:"Scenarios without a probability."`
	BetaSources      ScenarioBetaSources  `json:"beta_sources"`
	Provenance       agents.Provenance    `json:"provenance"`
}

// MacroAwareRank implements scenarios.macro_aware_rank.
func (a *Macro) MacroAwareRank(ctx context.Context, c *agents.Call, in MacroAwareRankInput) (MacroAwareRankOutput, error) {
	r, err := currentRegime(ctx, c)
	if err != nil {
		return MacroAwareRankOutput{}, err
	}
	lib, err := storage.ListScenarioShocks(ctx, c.DB)
	if err != nil {
		return MacroAwareRankOutput{}, err
	}
	if len(lib) == 0 {
		return MacroAwareRankOutput{}, agents.InsufficientData("scenarios in scenario_shocks", 0, 1)
	}
	book, err := loadScenBook(ctx, c, in.PortfolioID, nil)
	if err != nil {
		return MacroAwareRankOutput{}, fmt.Errorf("rank scenarios on portfolio %s: %w", in.PortfolioID, err)
	}
	v := book.Valuation
	out := MacroAwareRankOutput{PortfolioID: in.PortfolioID, BaseCurrency: v.BaseCurrency, AsOfDate: book.AsOf.Format(time.DateOnly),
		PricingPackID: v.PackID, Regime: r.Regime, RegimeAsOfDate: r.AsOfDate.Format(time.DateOnly), RegimeConfidence: r.Confidence,
		ValueBefore: v.Total, Ranked: []MacroAwareRanked{}, Unranked: []MacroAwareUnranked{}}
	for _, h := range book.Holdings {
		if h.Source == betaSourceRegression {
			out.BetaSources.Regression++
		} else {
			out.BetaSources.Heuristic++
		}
	}
	for _, s := range lib {
		out.Evaluated++
		def := r.scale(scenDefFromLibrary(s))
		if def.Probability == nil {
			out.Unranked = append(out.Unranked, MacroAwareUnranked{ScenarioID: s.ID, Reason: "no probability in scenario_shocks"})
			continue
		}
		applied := book.apply(def.Shocks)
		total := applied.Total.Round(scenMoneyPlaces)
		out.Ranked = append(out.Ranked, MacroAwareRanked{ScenarioID: s.ID, ScenarioName: s.Name, Category: s.Category,
			Class: def.scaling.Class, BaseProbability: *s.Probability, ScaledProbability: *def.Probability,
			ProbabilityMultiplier: def.scaling.ProbabilityMultiplier, SeverityMultiplier: def.scaling.SeverityMultiplier,
			TotalDelta: total, TotalDeltaPct: applied.Total.Div(v.Total).InexactFloat64(),
			Score: *def.Probability * math.Abs(applied.Total.InexactFloat64())})
	}
	sort.SliceStable(out.Ranked, func(i, j int) bool {
		if out.Ranked[i].Score != out.Ranked[j].Score {
			return out.Ranked[i].Score > out.Ranked[j].Score
		}
		return out.Ranked[i].ScenarioID < out.Ranked[j].ScenarioID
	})
	if len(out.Ranked) > in.TopN {
		out.Ranked = out.Ranked[:in.TopN]
	}
	for i := range out.Ranked {
		out.Ranked[i].Rank = i + 1
	}
	out.Provenance = c.Provenance(fmt.Sprintf("every scenario_shocks row scaled by regime %s of %s (confidence %.4g; table in "+
		"agents/macro/macro_aware_apply.go) and applied to the portfolio valued with pack %s; score = scaled probability × |Δ value|",
		r.Regime, out.RegimeAsOfDate, r.Confidence, v.PackID), scenConvention)
	out.Provenance.PricingPackID = v.PackID
	return out, nil
}
