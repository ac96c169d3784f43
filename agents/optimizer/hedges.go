package optimizer

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// What the two hedge capabilities share: the scenario result they read
// (the shape macro.run_scenario produces; only the fields read are
// declared, so its whole output can be passed), the factor shocks behind
// it, and the candidate instruments with their regression betas.
//
// A scenario moves factor f by sᶠ; a position of market value MV and betas
// β moves by MV × Σ βᶠ sᶠ, and the factor contributions are Δᶠ = sᶠ × Σ MV βᶠ
// over the positions. An instrument with betas βₕ held at notional N gains
// N × Σ βₕᶠ sᶠ in the same scenario.

// ScenarioResult is what the hedges read of a scenario's result.
type ScenarioResult struct {
	ScenarioID          string               `json:"scenario_id,omitempty" doc:"The scenario's id, when the result names it."`
	TotalDelta          decimal.Decimal      `json:"total_delta" doc:"The portfolio's change in value in the scenario, base currency."`
	FactorContributions []FactorContribution `json:"factor_contributions" doc:"The change by factor."`
	Positions           []ScenarioPosition   `json:"positions" doc:"The change by position."`
}

// FactorContribution is one factor's part of a scenario's change.
type FactorContribution struct {
	Factor     string          `json:"factor" doc:"real_rates, inflation, credit, usd, equity, commodity or volatility."`
	DeltaValue decimal.Decimal `json:"delta_value" doc:"Base currency."`
	Shock      *float64        `json:"shock,omitempty" doc:"The factor's shock, when the result carries it; otherwise it is recovered from the positions' betas."`
}

// ScenarioPosition is one position's change in a scenario.
type ScenarioPosition struct {
	SecurityID  uuid.UUID       `json:"security_id"`
	Symbol      string          `json:"symbol"`
	MarketValue decimal.Decimal `json:"market_value"`
	DeltaValue  decimal.Decimal `json:"delta_value"`
}

// FactorShock is one factor of a scenario as the hedges see it.
type FactorShock struct {
	Factor     string          `json:"factor"`
	DeltaValue decimal.Decimal `json:"delta_value" doc:"The scenario's change through this factor."`
	Exposure   *float64        `json:"exposure" doc:"Σ market value × β of the positions (base currency per unit of the factor); null when the shock was given."`
	Shock      float64         `json:"shock" doc:"The factor's move, in the units of its betas."`
	Source     string          `json:"source" doc:"given (from the result) or implied (delta_value / exposure)."`
}

// ScenarioFit says how well the positions' betas and the shocks reproduce
// the scenario's position changes.
type ScenarioFit struct {
	Positions       int             `json:"positions" doc:"Positions with regression betas, checked."`
	WithoutBetas    []string        `json:"without_betas" doc:"Positions without regression betas in position_factor_betas (not checked)."`
	MaxAbsError     decimal.Decimal `json:"max_abs_error" doc:"Largest |MV × Σ β s − delta_value| over the checked positions."`
	ExplainedChange decimal.Decimal `json:"explained_change" doc:"Σ MV × Σ β s over the checked positions."`
}

// FactorBeta is one beta of an instrument.
type FactorBeta struct {
	Factor string  `json:"factor"`
	Beta   float64 `json:"beta"`
}

// candidate is an instrument a hedge may use.
type candidate struct {
	b storage.SecurityBetas
}

func (c candidate) betas() []FactorBeta {
	out := make([]FactorBeta, len(storage.Factors))
	for f, d := range storage.Factors {
		out[f] = FactorBeta{Factor: d.Name, Beta: c.b.Betas[f]}
	}
	return out
}

// scenarioModel is one scenario with its shocks.
type scenarioModel struct {
	id     string
	total  decimal.Decimal
	value  decimal.Decimal // Σ market value of the positions
	delta  [7]float64
	deltaD [7]decimal.Decimal
	shock  [7]float64
	shocks []FactorShock
	fit    ScenarioFit
}

// unit is an instrument's change per unit of notional in the scenario.
func (m scenarioModel) unit(betas [7]float64) float64 {
	u := 0.0
	for f := range betas {
		u += betas[f] * m.shock[f]
	}
	return u
}

// losing lists the factors whose contribution is a loss, largest first.
func (m scenarioModel) losing() []int {
	var out []int
	for f := range m.delta {
		if m.deltaD[f].IsNegative() {
			out = append(out, f)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return m.delta[out[i]] < m.delta[out[j]] })
	return out
}

// factorIndex maps factor names to their index in storage.Factors.
func factorIndex() map[string]int {
	out := map[string]int{}
	for i, f := range storage.Factors {
		out[f.Name] = i
	}
	return out
}

// buildScenario reads a scenario result: every factor's change and shock,
// given or implied as Δᶠ / Σ MV βᶠ from the positions' regression betas.
// field names the input for errors.
func buildScenario(in ScenarioResult, field, label string, betas map[uuid.UUID]storage.SecurityBetas) (scenarioModel, error) {
	m := scenarioModel{id: in.ScenarioID, total: in.TotalDelta}
	if m.id == "" {
		m.id = label
	}
	idx := factorIndex()
	given := [7]bool{}
	for i, fc := range in.FactorContributions {
		f, ok := idx[fc.Factor]
		if !ok {
			return m, agents.FieldError(fmt.Sprintf("%s.factor_contributions[%d].factor", field, i), "unknown factor %q (factors: %s)", fc.Factor, factorNames())
		}
		m.deltaD[f] = m.deltaD[f].Add(fc.DeltaValue)
		if fc.Shock != nil {
			if given[f] && m.shock[f] != *fc.Shock {
				return m, agents.FieldError(fmt.Sprintf("%s.factor_contributions[%d].shock", field, i), "factor %s has two different shocks", fc.Factor)
			}
			m.shock[f], given[f] = *fc.Shock, true
		}
	}
	for f := range m.delta {
		m.delta[f] = m.deltaD[f].InexactFloat64()
	}
	var exposure [7]float64
	var without []string
	for _, p := range in.Positions {
		m.value = m.value.Add(p.MarketValue)
		b, ok := betas[p.SecurityID]
		if !ok {
			without = append(without, p.Symbol)
			continue
		}
		mv := p.MarketValue.InexactFloat64()
		for f := range exposure {
			exposure[f] += mv * b.Betas[f]
		}
	}
	for f, d := range storage.Factors {
		fs := FactorShock{Factor: d.Name, DeltaValue: m.deltaD[f], Source: "given"}
		if !given[f] {
			fs.Source = "implied"
			e := exposure[f]
			fs.Exposure = &e
			switch {
			case m.deltaD[f].IsZero():
				m.shock[f] = 0
			case len(without) > 0:
				return m, agents.Errorf(agents.CodeInsufficientData, "%s: the shock of %s is not in the result and cannot be recovered: "+
					"positions %s have no regression betas in position_factor_betas (risk.compute_factor_exposures writes them)",
					m.id, d.Name, strings.Join(without, ", "))
			case e == 0:
				return m, agents.Errorf(agents.CodeInsufficientData, "%s: the positions' exposure to %s is 0, so its shock cannot be recovered from its contribution %s",
					m.id, d.Name, m.deltaD[f])
			default:
				m.shock[f] = m.delta[f] / e
			}
		}
		fs.Shock = m.shock[f]
		m.shocks = append(m.shocks, fs)
	}
	m.fit.WithoutBetas = append([]string{}, without...)
	explained, maxErr := 0.0, 0.0
	for _, p := range in.Positions {
		b, ok := betas[p.SecurityID]
		if !ok {
			continue
		}
		d := p.MarketValue.InexactFloat64() * m.unit(b.Betas)
		explained += d
		maxErr = math.Max(maxErr, math.Abs(d-p.DeltaValue.InexactFloat64()))
		m.fit.Positions++
	}
	m.fit.MaxAbsError, m.fit.ExplainedChange = money(maxErr), money(explained)
	return m, nil
}

func factorNames() string {
	var out []string
	for _, f := range storage.Factors {
		out = append(out, f.Name)
	}
	return strings.Join(out, ", ")
}

// money is an amount in the base currency to the cent.
func money(x float64) decimal.Decimal { return decimal.NewFromFloat(x).Round(2) }

// candidates are the securities whose regression has an R² of at least
// minR2.
func candidates(all []storage.SecurityBetas, minR2 float64) []candidate {
	var out []candidate
	for _, b := range all {
		if b.RSquared >= minR2 {
			out = append(out, candidate{b: b})
		}
	}
	return out
}

// betasByID indexes the betas by security.
func betasByID(all []storage.SecurityBetas) map[uuid.UUID]storage.SecurityBetas {
	out := make(map[uuid.UUID]storage.SecurityBetas, len(all))
	for _, b := range all {
		out[b.Security.ID] = b
	}
	return out
}

// Instrument describes a hedge's instrument.
type Instrument struct {
	SecurityID   uuid.UUID    `json:"security_id"`
	Symbol       string       `json:"symbol"`
	Name         string       `json:"name"`
	Type         string       `json:"type"`
	Currency     string       `json:"currency"`
	Betas        []FactorBeta `json:"betas" doc:"Its newest regression betas (position_factor_betas)."`
	BetasAsOf    string       `json:"betas_asof"`
	RSquared     float64      `json:"r_squared"`
	Observations int          `json:"observations"`
}

func (c candidate) instrument() Instrument {
	s := c.b.Security
	return Instrument{SecurityID: s.ID, Symbol: s.Symbol, Name: s.Name, Type: s.Type, Currency: s.Currency, Betas: c.betas(),
		BetasAsOf: c.b.AsOfDate.Format(time.DateOnly), RSquared: c.b.RSquared, Observations: c.b.Observations}
}

// hedgeMethod states how both capabilities read a scenario.
const hedgeMethod = "shocks: given by the result, or implied per factor as the factor's contribution / Σ market value × β of the positions " +
	"(newest regression betas per security, position_factor_betas); an instrument's change per unit of notional is Σ β × shock; " +
	"candidates are every security with regression betas dated on or before the as-of date"
