package macro

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Macro) runScenario() agents.Def {
	return agents.Write(agents.Meta{
		Name: "macro.run_scenario",
		Description: "Applies a library scenario (scenario_shocks, by scenario_id) or custom shocks to the portfolio valued at market " +
			"with the run's pack: Δ value per position = market value × Σ β_f × shock_f, betas from position_factor_betas " +
			"(regression, newest on or before the as-of date) or, only where none exists, the heuristic table by security type " +
			"and sector, marked per position; factor contributions, winners and losers. Upserts scenario_results.",
		Reads: []string{"portfolios", "lots", "transactions", "securities", "prices", "fx_rates", "pricing_packs",
			"position_factor_betas", "scenario_shocks"},
		Writes: []string{"scenario_results"},
		Codes: []string{agents.CodeNotFound, agents.CodeInsufficientData, agents.CodeMissingPrice, agents.CodeMissingFX,
			agents.CodePricingPackWarming},
	}, a.RunScenario)
}

// heuristicClass is one row of the heuristic beta table.
type heuristicClass struct {
	Name   string
	Type   string
	Sector string // "*" matches every sector of the type
	Betas  scenShocks
}

// heuristicBetas is the fallback for a position with no regression row: a
// DawsOS parameter table, stylised and not estimated on any data, by
// security type and sector (matched without regard to case). Columns in
// model order: real_rates, inflation, credit, usd, equity, commodity,
// volatility, per unit of each factor (see scenConvention). The basis:
//
//   - equity: a typical long-run beta of the sector to a broad index
//     (defensive sectors below 1, cyclical ones above);
//   - real_rates and credit: "equity duration", the loss of value per unit
//     rise of real yields or spreads, larger for long-duration growth and
//     leveraged sectors, positive real-rate beta only for banks (net
//     interest margin);
//   - inflation: positive for real-asset and energy sectors, negative for
//     long-duration growth;
//   - usd: negative for sectors with foreign revenue (a stronger dollar
//     translates it into less);
//   - commodity: the oil-price exposure of energy and materials;
//   - volatility: a small negative sensitivity to a relative VIX change,
//     beyond what the equity move carries;
//   - bond funds: −duration to real rates and breakevens (a nominal yield
//     is their sum), −spread duration to credit for corporates; broad index
//     funds: β 1 to equities and nothing else; cash: no factor moves it.
//
// A type or sector not listed has no class: such a position without a
// regression makes the scenario fail rather than borrow a guess.
var heuristicBetas = []heuristicClass{
	{"equity_technology", "EQUITY", "Technology", scenShocks{-8, -0.5, -5, -0.2, 1.2, 0, -0.03}},
	{"equity_communication_services", "EQUITY", "Communication Services", scenShocks{-6, -0.5, -4, -0.2, 1.0, 0, -0.02}},
	{"equity_consumer_discretionary", "EQUITY", "Consumer Discretionary", scenShocks{-6, -0.5, -5, -0.2, 1.1, -0.05, -0.03}},
	{"equity_consumer_staples", "EQUITY", "Consumer Staples", scenShocks{-4, 0, -2, -0.2, 0.6, -0.05, -0.01}},
	{"equity_health_care", "EQUITY", "Health Care", scenShocks{-3, 0, -2, -0.2, 0.7, 0, -0.01}},
	{"equity_financials", "EQUITY", "Financials", scenShocks{1, 0.5, -8, 0, 1.1, 0, -0.02}},
	{"equity_real_estate", "EQUITY", "Real Estate", scenShocks{-8, 0.5, -7, 0, 0.9, 0, -0.02}},
	{"equity_utilities", "EQUITY", "Utilities", scenShocks{-7, 0, -3, 0, 0.5, 0, -0.01}},
	{"equity_industrials", "EQUITY", "Industrials", scenShocks{-4, 0.5, -5, -0.1, 1.0, 0.1, -0.02}},
	{"equity_materials", "EQUITY", "Materials", scenShocks{-3, 1, -4, -0.3, 1.0, 0.3, -0.02}},
	{"equity_energy", "EQUITY", "Energy", scenShocks{-2, 1.5, -3, -0.2, 0.8, 0.4, -0.01}},
	{"etf_broad_market", "ETF", "Broad Market", scenShocks{0, 0, 0, 0, 1.0, 0, 0}},
	{"etf_fixed_income", "ETF", "Fixed Income", scenShocks{-7, -7, 0, 0, 0, 0, 0}},
	{"etf_commodities", "ETF", "Commodities", scenShocks{0, 0, 0, -0.5, 0, 1.0, 0}},
	{"bond_government", "BOND", "Government", scenShocks{-7, -7, 0, 0, 0, 0, 0}},
	{"bond_corporate", "BOND", "Corporate", scenShocks{-6, -6, -6, 0, 0, 0, 0}},
	{"cash", "CASH", "*", scenShocks{}},
}

// heuristicClassOf returns the class of a security type and sector.
func heuristicClassOf(typ, sector string) (heuristicClass, bool) {
	for _, h := range heuristicBetas {
		if strings.EqualFold(h.Type, typ) && (h.Sector == "*" || strings.EqualFold(strings.TrimSpace(sector), h.Sector)) {
			return h, true
		}
	}
	return heuristicClass{}, false
}

// ScenarioInput names the portfolio and either a library scenario or
// custom shocks.
type ScenarioInput struct {
	PortfolioID  uuid.UUID            `json:"portfolio_id" doc:"The portfolio, valued with the run's pack."`
	ScenarioID   *string              `json:"scenario_id,omitempty" jsonschema:"pattern=^[a-z0-9_]+$" doc:"A scenario_shocks id (the 12 built-in and the historical scenarios). Exactly one of scenario_id and custom_shocks."`
	CustomShocks *ScenarioCustomShock `json:"custom_shocks,omitempty" doc:"Shocks per factor; factors not given are 0. Exactly one of scenario_id and custom_shocks."`
}

// Validate asks for exactly one of scenario_id and custom_shocks.
func (in ScenarioInput) Validate() error {
	switch {
	case in.ScenarioID == nil && in.CustomShocks == nil:
		return agents.FieldError("scenario_id", "give scenario_id or custom_shocks")
	case in.ScenarioID != nil && in.CustomShocks != nil:
		return agents.FieldError("custom_shocks", "give scenario_id or custom_shocks, not both")
	case in.CustomShocks != nil:
		return in.CustomShocks.check("custom_shocks")
	}
	return nil
}

// ScenarioCustomShock is a shock per factor, in the units of
// position_factor_betas (storage.Factors); the bounds are generous limits
// on a plausible move, beyond the largest of the library.
type ScenarioCustomShock struct {
	RealRates  *float64 `json:"real_rates,omitempty" jsonschema:"minimum=-0.1,maximum=0.1" doc:"Change of the 10-year real yield in decimal form (0.01 = +100 bp); within ±0.1."`
	Inflation  *float64 `json:"inflation,omitempty" jsonschema:"minimum=-0.1,maximum=0.1" doc:"Change of 10-year breakeven inflation in decimal form; within ±0.1."`
	Credit     *float64 `json:"credit,omitempty" jsonschema:"minimum=-0.1,maximum=0.1" doc:"Change of the investment-grade spread in decimal form; within ±0.1."`
	USD        *float64 `json:"usd,omitempty" jsonschema:"minimum=-0.5,maximum=0.5" doc:"Return of the broad dollar index; within ±0.5."`
	Equity     *float64 `json:"equity,omitempty" jsonschema:"minimum=-1,maximum=2" doc:"Return of the broad equity market; from −1 to 2."`
	Commodity  *float64 `json:"commodity,omitempty" jsonschema:"minimum=-1,maximum=5" doc:"Return of oil and broad commodities; from −1 to 5."`
	Volatility *float64 `json:"volatility,omitempty" jsonschema:"minimum=-1,maximum=10" doc:"Relative change of the VIX (1 = doubles); from −1 to 10."`

	// unknown lists keys that name no factor; the schema of a nested object
	// cannot reject them, so Validate does.
	unknown []string
}

// scenShockBounds repeats the schema's bounds for direct callers (the
// engine checks the tags first), in model order.
var scenShockBounds = [scenNFactors][2]float64{{-0.1, 0.1}, {-0.1, 0.1}, {-0.1, 0.1}, {-0.5, 0.5}, {-1, 2}, {-1, 5}, {-1, 10}}

// UnmarshalJSON reads the shocks and remembers keys that are not factors.
func (s *ScenarioCustomShock) UnmarshalJSON(b []byte) error {
	type plain ScenarioCustomShock
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return err
	}
	*s = ScenarioCustomShock(p)
	for k := range keys {
		if _, ok := scenFactorIndex(k); !ok {
			s.unknown = append(s.unknown, k)
		}
	}
	sort.Strings(s.unknown)
	return nil
}

func (s ScenarioCustomShock) fields() [scenNFactors]*float64 {
	return [scenNFactors]*float64{s.RealRates, s.Inflation, s.Credit, s.USD, s.Equity, s.Commodity, s.Volatility}
}

// check rejects unknown factors, non-finite or out-of-bounds values and an
// empty set of shocks.
func (s ScenarioCustomShock) check(field string) error {
	if len(s.unknown) > 0 {
		return agents.FieldError(field+"."+s.unknown[0], "%q is not a factor; the factors are %s", s.unknown[0],
			strings.Join(scenFactorNames(), ", "))
	}
	given := 0
	for i, v := range s.fields() {
		if v == nil {
			continue
		}
		given++
		name := storage.Factors[i].Name
		if !scenFinite(*v) {
			return agents.FieldError(field+"."+name, "shock %v is not finite", *v)
		}
		if b := scenShockBounds[i]; *v < b[0] || *v > b[1] {
			return agents.FieldError(field+"."+name, "shock %v is outside [%v, %v]", *v, b[0], b[1])
		}
	}
	if given == 0 {
		return agents.FieldError(field, "no factor shocked; give at least one of %s", strings.Join(scenFactorNames(), ", "))
	}
	return nil
}

// shocks is the vector, zeros for factors not given.
func (s ScenarioCustomShock) shocks() scenShocks {
	var out scenShocks
	for i, v := range s.fields() {
		if v != nil {
			out[i] = *v
		}
	}
	return out
}

// customSource names custom shocks in outputs.
const customSource = "custom shocks given by the caller"

// RunScenario implements macro.run_scenario.
func (a *Macro) RunScenario(ctx context.Context, c *agents.Call, in ScenarioInput) (ScenarioOutput, error) {
	var def scenDef
	if in.ScenarioID != nil {
		s, err := storage.GetScenarioShock(ctx, c.DB, *in.ScenarioID)
		if err != nil {
			return ScenarioOutput{}, err
		}
		def = scenDefFromLibrary(s)
	} else {
		def = scenDef{Name: "Custom shocks", Category: "custom", Source: customSource, Shocks: in.CustomShocks.shocks()}
	}
	out, err := runScenarioDef(ctx, c, in.PortfolioID, def)
	if err != nil {
		return ScenarioOutput{}, fmt.Errorf("scenario %s on portfolio %s: %w", def.Name, in.PortfolioID, err)
	}
	return out, nil
}
