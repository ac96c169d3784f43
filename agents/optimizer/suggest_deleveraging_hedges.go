package optimizer

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Optimizer) suggestDeleveragingHedges() agents.Def {
	return agents.Read(agents.Meta{
		Name: "optimizer.suggest_deleveraging_hedges",
		Description: "Hedges for one or more deleveraging scenarios (macro scenario results, passed whole): instruments bought " +
			"(never sold short) whose regression betas (position_factor_betas, newest per security) make them gain in every " +
			"scenario, sized to offset the worst scenario's loss, with each scenario's expected offset and residual.",
		Reads: []string{"position_factor_betas", "securities"},
		Codes: []string{agents.CodeInsufficientData},
	}, a.SuggestDeleveragingHedges)
}

// DeleveragingHedgesInput takes the deleveraging scenarios' results.
type DeleveragingHedgesInput struct {
	Scenarios           []ScenarioResult `json:"scenarios" jsonschema:"minItems=1,maxItems=12" doc:"The scenario results (scenarios.deleveraging_* outputs, passed whole)."`
	Hedges              int              `json:"hedges,omitempty" jsonschema:"minimum=1,maximum=20,default=5" doc:"Instruments suggested."`
	MaxNotionalFraction float64          `json:"max_notional_fraction,omitempty" jsonschema:"exclusiveMinimum=0,maximum=10,default=1" doc:"No hedge's notional exceeds this fraction of the positions' market value."`
	MinRSquared         float64          `json:"min_r_squared,omitempty" jsonschema:"minimum=0,maximum=1,default=0" doc:"Use only instruments whose regression explains at least this share of their variance."`
}

// FactorLoss is one losing factor of a scenario.
type FactorLoss struct {
	Factor     string          `json:"factor"`
	DeltaValue decimal.Decimal `json:"delta_value"`
}

// ScenarioSummary is one scenario as the hedges read it.
type ScenarioSummary struct {
	ScenarioID     string          `json:"scenario_id" doc:"The result's id, or scenario N in input order."`
	TotalDelta     decimal.Decimal `json:"total_delta"`
	PortfolioValue decimal.Decimal `json:"portfolio_value"`
	Shocks         []FactorShock   `json:"shocks"`
	LosingFactors  []FactorLoss    `json:"losing_factors" doc:"Largest loss first."`
	Fit            ScenarioFit     `json:"fit"`
}

// ScenarioOffset is a hedge in one scenario.
type ScenarioOffset struct {
	ScenarioID string          `json:"scenario_id"`
	UnitChange float64         `json:"unit_change" doc:"Σ β × shock: the instrument's change per unit of notional."`
	Offset     decimal.Decimal `json:"offset" doc:"notional × unit_change."`
	Residual   decimal.Decimal `json:"residual" doc:"total_delta + offset."`
	// OnLosingFactors is the part of the offset earned on the scenario's
	// losing factors.
	OnLosingFactors decimal.Decimal `json:"on_losing_factors" doc:"notional × Σ β × shock over the scenario's losing factors."`
}

// DeleveragingHedge is one instrument.
type DeleveragingHedge struct {
	Instrument
	Notional      decimal.Decimal  `json:"notional" doc:"Bought, base currency."`
	Scenarios     []ScenarioOffset `json:"scenarios"`
	WorstResidual decimal.Decimal  `json:"worst_residual" doc:"The lowest residual over the scenarios."`
	Capped        bool             `json:"capped" doc:"The notional was cut to max_notional_fraction."`
}

// DeleveragingHedgesOutput lists the hedges.
type DeleveragingHedgesOutput struct {
	Scenarios   []ScenarioSummary   `json:"scenarios"`
	MaxNotional decimal.Decimal     `json:"max_notional"`
	Hedges      []DeleveragingHedge `json:"hedges" doc:"Highest worst residual first."`
	Candidates  int                 `json:"candidates" doc:"Instruments considered."`
	GainInAll   int                 `json:"gain_in_all" doc:"Instruments that gain in every scenario: the only ones suggested."`
	Note        string              `json:"note,omitempty"`
	Method      string              `json:"method"`

	Provenance agents.Provenance `json:"provenance"`
}

// SuggestDeleveragingHedges implements optimizer.suggest_deleveraging_hedges.
func (a *Optimizer) SuggestDeleveragingHedges(ctx context.Context, c *agents.Call, in DeleveragingHedgesInput) (DeleveragingHedgesOutput, error) {
	asOf, err := c.Run.AsOf()
	if err != nil {
		return DeleveragingHedgesOutput{}, err
	}
	all, err := storage.LatestRegressionBetas(ctx, c.DB, asOf, nil)
	if err != nil {
		return DeleveragingHedgesOutput{}, err
	}
	byID := betasByID(all)
	out := DeleveragingHedgesOutput{Scenarios: []ScenarioSummary{}, Hedges: []DeleveragingHedge{},
		Method: "an instrument is suggested only when Σ β × shock is a gain in every scenario (bought, never sold short); its notional is the " +
			"largest over the losing scenarios of −total_delta / (Σ β × shock), cut to max_notional, so the worst scenario is fully offset when " +
			"the cap allows; ranked by the worst residual, then the smaller notional. " + hedgeMethod}
	models := make([]scenarioModel, len(in.Scenarios))
	value := decimal.Zero
	for k, s := range in.Scenarios {
		m, err := buildScenario(s, fmt.Sprintf("scenarios[%d]", k), fmt.Sprintf("scenario %d", k+1), byID)
		if err != nil {
			return DeleveragingHedgesOutput{}, err
		}
		models[k] = m
		if m.value.Abs().GreaterThan(value) {
			value = m.value.Abs()
		}
		sum := ScenarioSummary{ScenarioID: m.id, TotalDelta: m.total, PortfolioValue: m.value, Shocks: m.shocks, LosingFactors: []FactorLoss{}, Fit: m.fit}
		for _, f := range m.losing() {
			sum.LosingFactors = append(sum.LosingFactors, FactorLoss{Factor: storage.Factors[f].Name, DeltaValue: m.deltaD[f]})
		}
		out.Scenarios = append(out.Scenarios, sum)
	}
	maxN := value.InexactFloat64() * in.MaxNotionalFraction
	out.MaxNotional = money(maxN)
	cands := candidates(all, in.MinRSquared)
	out.Candidates = len(cands)

	losingAny := false
	for _, m := range models {
		if m.total.IsNegative() {
			losingAny = true
		}
	}
	type scored struct {
		h     DeleveragingHedge
		worst float64
		n     float64
	}
	var list []scored
	for _, cd := range cands {
		units := make([]float64, len(models))
		gains := true
		for k, m := range models {
			units[k] = m.unit(cd.b.Betas)
			if !(units[k] > 0) {
				gains = false
			}
		}
		if !gains {
			continue
		}
		out.GainInAll++
		if !losingAny {
			continue
		}
		n := 0.0
		for k, m := range models {
			if m.total.IsNegative() {
				n = math.Max(n, -m.total.InexactFloat64()/units[k])
			}
		}
		capped := n > maxN
		if capped {
			n = maxN
		}
		h := DeleveragingHedge{Instrument: cd.instrument(), Notional: money(n), Scenarios: []ScenarioOffset{}, Capped: capped}
		worst := math.Inf(1)
		for k, m := range models {
			off := n * units[k]
			onLosing := 0.0
			for _, f := range m.losing() {
				onLosing += n * cd.b.Betas[f] * m.shock[f]
			}
			res := m.total.Add(money(off))
			h.Scenarios = append(h.Scenarios, ScenarioOffset{ScenarioID: m.id, UnitChange: units[k], Offset: money(off), Residual: res,
				OnLosingFactors: money(onLosing)})
			if r := res.InexactFloat64(); r < worst {
				worst, h.WorstResidual = r, res
			}
		}
		list = append(list, scored{h: h, worst: worst, n: n})
	}
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].worst != list[j].worst {
			return list[i].worst > list[j].worst
		}
		return list[i].n < list[j].n
	})
	for k := 0; k < len(list) && k < in.Hedges; k++ {
		out.Hedges = append(out.Hedges, list[k].h)
	}
	switch {
	case !losingAny:
		out.Note = "no scenario loses value: there is nothing to hedge"
	case out.GainInAll == 0:
		out.Note = "no instrument with regression betas gains in every scenario"
	}
	out.Provenance = c.Provenance(out.Method, fmt.Sprintf("amounts in the base currency to the cent; candidates' betas dated on or before %s", asOfText(asOf)))
	return out, nil
}
