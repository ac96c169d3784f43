package optimizer

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Optimizer) suggestHedges() agents.Def {
	return agents.Read(agents.Meta{
		Name: "optimizer.suggest_hedges",
		Description: "Hedges for a scenario's largest losing factors (a macro.run_scenario result, passed whole): from every security " +
			"with regression betas in position_factor_betas (newest row per security), the instruments whose exposure to the " +
			"factor offsets its loss, each with its notional, expected offset in the whole scenario and residual loss.",
		Reads: []string{"position_factor_betas", "securities"},
		Codes: []string{agents.CodeInsufficientData},
	}, a.SuggestHedges)
}

// SuggestHedgesInput takes a scenario result.
type SuggestHedgesInput struct {
	Scenario            ScenarioResult `json:"scenario" doc:"The scenario's result (macro.run_scenario's output, passed whole)."`
	MaxFactors          int            `json:"max_factors,omitempty" jsonschema:"minimum=1,maximum=7,default=3" doc:"Hedge at most this many losing factors, the largest losses first."`
	HedgesPerFactor     int            `json:"hedges_per_factor,omitempty" jsonschema:"minimum=1,maximum=20,default=3" doc:"Instruments suggested per factor."`
	AllowShort          bool           `json:"allow_short,omitempty" jsonschema:"default=true" doc:"Whether a hedge may sell an instrument short."`
	MaxNotionalFraction float64        `json:"max_notional_fraction,omitempty" jsonschema:"exclusiveMinimum=0,maximum=10,default=1" doc:"No hedge's notional exceeds this fraction of the positions' market value; a larger one is cut to it (a partial hedge)."`
	MinRSquared         float64        `json:"min_r_squared,omitempty" jsonschema:"minimum=0,maximum=1,default=0" doc:"Use only instruments whose regression explains at least this share of their variance."`
}

// Hedge is one instrument hedging one factor.
type Hedge struct {
	Instrument
	Direction      string          `json:"direction" doc:"buy or sell_short."`
	Notional       decimal.Decimal `json:"notional" doc:"Base currency; negative when sold short."`
	FactorBeta     float64         `json:"factor_beta" doc:"The instrument's beta to the hedged factor."`
	OffsetOnFactor decimal.Decimal `json:"offset_on_factor" doc:"notional × β × shock of the hedged factor."`
	ExpectedOffset decimal.Decimal `json:"expected_offset" doc:"notional × Σ β × shock over every factor: the hedge's change in the scenario."`
	Residual       decimal.Decimal `json:"residual" doc:"total_delta + expected_offset: the portfolio's change with the hedge."`
	FactorCoverage float64         `json:"factor_coverage" doc:"offset_on_factor / the factor's loss (1 = fully offset)."`
	Capped         bool            `json:"capped" doc:"The notional was cut to max_notional_fraction."`
}

// FactorHedges are the hedges of one losing factor.
type FactorHedges struct {
	Factor     string          `json:"factor"`
	DeltaValue decimal.Decimal `json:"delta_value" doc:"The factor's loss in the scenario."`
	Shock      float64         `json:"shock"`
	Hedges     []Hedge         `json:"hedges" doc:"Largest expected offset first; only instruments whose change in the whole scenario is a gain."`
}

// SuggestHedgesOutput lists hedges per losing factor.
type SuggestHedgesOutput struct {
	ScenarioID     string          `json:"scenario_id"`
	TotalDelta     decimal.Decimal `json:"total_delta"`
	PortfolioValue decimal.Decimal `json:"portfolio_value" doc:"Σ market value of the scenario's positions."`
	MaxNotional    decimal.Decimal `json:"max_notional"`
	Shocks         []FactorShock   `json:"shocks"`
	Fit            ScenarioFit     `json:"fit"`
	LosingFactors  []FactorHedges  `json:"losing_factors"`
	Candidates     int             `json:"candidates" doc:"Instruments considered."`
	Method         string          `json:"method"`

	Provenance agents.Provenance `json:"provenance"`
}

// SuggestHedges implements optimizer.suggest_hedges.
func (a *Optimizer) SuggestHedges(ctx context.Context, c *agents.Call, in SuggestHedgesInput) (SuggestHedgesOutput, error) {
	asOf, err := c.Run.AsOf()
	if err != nil {
		return SuggestHedgesOutput{}, err
	}
	all, err := storage.LatestRegressionBetas(ctx, c.DB, asOf, nil)
	if err != nil {
		return SuggestHedgesOutput{}, err
	}
	m, err := buildScenario(in.Scenario, "scenario", "scenario", betasByID(all))
	if err != nil {
		return SuggestHedgesOutput{}, err
	}
	cands := candidates(all, in.MinRSquared)
	maxN := m.value.Abs().InexactFloat64() * in.MaxNotionalFraction
	out := SuggestHedgesOutput{ScenarioID: m.id, TotalDelta: m.total, PortfolioValue: m.value, MaxNotional: money(maxN), Shocks: m.shocks,
		Fit: m.fit, LosingFactors: []FactorHedges{}, Candidates: len(cands),
		Method: "for each losing factor f, the notional N = −Δᶠ / (βₕᶠ sᶠ) offsets its loss through f (cut to max_notional); the expected offset is " +
			"N × Σ βₕ s over every factor and the residual total_delta + expected offset; instruments are ranked by expected offset " +
			"and kept only when it is a gain. " + hedgeMethod}
	losing := m.losing()
	if len(losing) > in.MaxFactors {
		losing = losing[:in.MaxFactors]
	}
	for _, f := range losing {
		fh := FactorHedges{Factor: storage.Factors[f].Name, DeltaValue: m.deltaD[f], Shock: m.shock[f], Hedges: []Hedge{}}
		type scored struct {
			h        Hedge
			n, total float64
		}
		var list []scored
		for _, cd := range cands {
			perUnit := cd.b.Betas[f] * m.shock[f]
			if perUnit == 0 {
				continue
			}
			n := -m.delta[f] / perUnit
			if n < 0 && !in.AllowShort {
				continue
			}
			capped := math.Abs(n) > maxN
			if capped {
				n = math.Copysign(maxN, n)
			}
			total := n * m.unit(cd.b.Betas)
			if !(total > 0) || math.IsInf(n, 0) {
				continue
			}
			h := Hedge{Instrument: cd.instrument(), Direction: "buy", Notional: money(n), FactorBeta: cd.b.Betas[f],
				OffsetOnFactor: money(n * perUnit), ExpectedOffset: money(total), Residual: m.total.Add(money(total)),
				FactorCoverage: n * perUnit / -m.delta[f], Capped: capped}
			if n < 0 {
				h.Direction = "sell_short"
			}
			list = append(list, scored{h: h, n: math.Abs(n), total: total})
		}
		sort.SliceStable(list, func(i, j int) bool {
			if list[i].total != list[j].total {
				return list[i].total > list[j].total
			}
			return list[i].n < list[j].n
		})
		for k := 0; k < len(list) && k < in.HedgesPerFactor; k++ {
			fh.Hedges = append(fh.Hedges, list[k].h)
		}
		out.LosingFactors = append(out.LosingFactors, fh)
	}
	out.Provenance = c.Provenance(out.Method, fmt.Sprintf("amounts in the base currency to the cent; betas per unit of the factor's move; candidates' betas dated on or before %s",
		asOfText(asOf)))
	return out, nil
}

func asOfText(t time.Time) string {
	if t.IsZero() {
		return "any date"
	}
	return t.Format(time.DateOnly)
}
