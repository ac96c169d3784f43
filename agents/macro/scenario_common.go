package macro

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// What the scenario capabilities share: a shock vector and its canonical
// hash, the portfolio valued at market with one beta vector per position
// (regression first, the heuristic of run_scenario.go only where no
// regression exists), the application of a shock to it, and the output
// every scenario capability returns.

// scenNFactors is the number of factors of the model (storage.Factors).
const scenNFactors = 7

// scenShocks is a shock per factor, in storage.Factors order and units.
type scenShocks [scenNFactors]float64

// scenMoneyPlaces is the number of decimal places of money figures
// (deltas, values after), rounded once after exact summation.
const scenMoneyPlaces = 4

// scenMaxMovers is the number of winners and of losers listed.
const scenMaxMovers = 5

// Beta sources of a position.
const (
	betaSourceRegression = storage.BetaMethodRegression
	betaSourceHeuristic  = storage.BetaMethodHeuristic
)

// scenFactorNames lists the factor names in model order.
func scenFactorNames() []string {
	out := make([]string, len(storage.Factors))
	for i, f := range storage.Factors {
		out[i] = f.Name
	}
	return out
}

// scenFactorIndex returns the position of a factor in the model.
func scenFactorIndex(name string) (int, bool) {
	for i, f := range storage.Factors {
		if f.Name == name {
			return i, true
		}
	}
	return 0, false
}

// canonical is the shocks as one JSON object with every factor in model
// order (zeros included) and each value in its shortest round-trip form,
// and the hex sha256 of those bytes: the same shocks always hash the same,
// however they were given.
func (s scenShocks) canonical() (json.RawMessage, string) {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range storage.Factors {
		if i > 0 {
			b.WriteByte(',')
		}
		v := s[i]
		if v == 0 {
			v = 0 // -0 and 0 are the same shock
		}
		b.WriteString(strconv.Quote(f.Name))
		b.WriteByte(':')
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	}
	b.WriteByte('}')
	raw := []byte(b.String())
	sum := sha256.Sum256(raw)
	return raw, hex.EncodeToString(sum[:])
}

// asMap is the shocks keyed by factor name.
func (s scenShocks) asMap() map[string]float64 {
	out := make(map[string]float64, scenNFactors)
	for i, f := range storage.Factors {
		out[f.Name] = s[i]
	}
	return out
}

// scaled multiplies every shock by m.
func (s scenShocks) scaled(m float64) scenShocks {
	var out scenShocks
	for i, v := range s {
		out[i] = v * m
	}
	return out
}

// scenDef is a scenario to apply: a library row, one of the deleveraging
// scenarios, or custom shocks.
type scenDef struct {
	// ID names the scenario ("" for custom shocks); LibraryID is set only
	// for scenario_shocks rows (scenario_results.scenario_id references
	// that table).
	ID, LibraryID          string
	Name, Category, Source string
	Description            string
	Probability            *float64
	PeriodStart, PeriodEnd string
	Shocks                 scenShocks
	// scaling is set by the macro-aware capabilities.
	scaling *ScenarioScaling
}

// scenDefFromLibrary turns a scenario_shocks row into a scenDef.
func scenDefFromLibrary(s storage.ScenarioShock) scenDef {
	d := scenDef{ID: s.ID, LibraryID: s.ID, Name: s.Name, Category: s.Category, Source: s.Source, Description: s.Description,
		Probability: s.Probability, Shocks: s.Shocks}
	if s.PeriodStart != nil {
		d.PeriodStart = s.PeriodStart.Format(time.DateOnly)
	}
	if s.PeriodEnd != nil {
		d.PeriodEnd = s.PeriodEnd.Format(time.DateOnly)
	}
	return d
}

// scenHolding is one valued position with the betas it is shocked with.
type scenHolding struct {
	Pos            storage.ValuedPosition
	Betas          scenShocks
	Source         string // betaSourceRegression or betaSourceHeuristic
	BetasAsOf      string // the regression's date; "" for the heuristic
	HeuristicClass string // the heuristic class; "" for a regression
	Observations   int
}

// scenBook is a portfolio valued at market with betas for every position.
type scenBook struct {
	Valuation storage.Valuation
	Holdings  []scenHolding
	AsOf      time.Time
}

// scenInlineBetas are regression betas given in a capability's input (the
// output of risk.compute_factor_exposures of the same run), by security.
type scenInlineBetas struct {
	AsOfDate string
	Betas    map[uuid.UUID]scenShocks
	Obs      map[uuid.UUID]int
}

// loadScenBook values the portfolio with the run's pack (storage.
// ValuePortfolio, the valuation of portfolio.get_valued_positions) and
// finds each position's betas: the inline regression when given, else the
// newest regression row of position_factor_betas dated on or before the
// run's as-of date, else the heuristic class of its type and sector. A
// position with none of them fails the whole call with insufficient_data
// naming it: a figure is never made up.
func loadScenBook(ctx context.Context, c *agents.Call, portfolioID uuid.UUID, inline *scenInlineBetas) (scenBook, error) {
	asOf, err := c.RequireAsOf()
	if err != nil {
		return scenBook{}, err
	}
	if c.Run.PricingPackID == "" {
		return scenBook{}, agents.FieldError("ctx.pricing_pack_id", "the run has no pricing pack")
	}
	v, err := storage.ValuePortfolio(ctx, c.DB, portfolioID, c.Run.PricingPackID)
	if err != nil {
		return scenBook{}, fmt.Errorf("value portfolio %s with pack %s: %w", portfolioID, c.Run.PricingPackID, err)
	}
	if len(v.Positions) == 0 {
		return scenBook{}, agents.InsufficientData(fmt.Sprintf("open positions of portfolio %s valued with pack %s (cash has no factor betas)",
			portfolioID, v.PackID), 0, 1)
	}
	if !v.Total.IsPositive() {
		return scenBook{}, agents.Errorf(agents.CodeInsufficientData, "portfolio %s has a market value of %s %s with pack %s: "+
			"a return needs a positive value", portfolioID, v.Total, v.BaseCurrency, v.PackID)
	}
	ids := make([]uuid.UUID, len(v.Positions))
	for i, p := range v.Positions {
		ids[i] = p.SecurityID
	}
	reg, err := storage.PortfolioRegressionBetas(ctx, c.DB, portfolioID, asOf, ids)
	if err != nil {
		return scenBook{}, err
	}
	book := scenBook{Valuation: v, AsOf: asOf}
	var missing []string
	for _, p := range v.Positions {
		h := scenHolding{Pos: p}
		if b, ok := inlineBetas(inline, p.SecurityID); ok {
			h.Betas, h.Source, h.BetasAsOf, h.Observations = b, betaSourceRegression, inline.AsOfDate, inline.Obs[p.SecurityID]
		} else if r, ok := reg[p.SecurityID]; ok {
			h.Betas, h.Source, h.BetasAsOf, h.Observations = r.Betas, betaSourceRegression, r.AsOfDate.Format(time.DateOnly), r.Observations
		} else if hc, ok := heuristicClassOf(p.Type, p.Sector); ok {
			h.Betas, h.Source, h.HeuristicClass = hc.Betas, betaSourceHeuristic, hc.Name
		} else {
			missing = append(missing, fmt.Sprintf("%s (type %s, sector %q)", p.Symbol, p.Type, p.Sector))
			continue
		}
		book.Holdings = append(book.Holdings, h)
	}
	if len(missing) > 0 {
		return scenBook{}, agents.Errorf(agents.CodeInsufficientData,
			"no factor betas for %s in portfolio %s: no regression row in position_factor_betas on or before %s "+
				"(run risk.compute_factor_exposures) and no heuristic class for the security's type and sector",
			strings.Join(missing, ", "), portfolioID, asOf.Format(time.DateOnly))
	}
	return book, nil
}

func inlineBetas(in *scenInlineBetas, id uuid.UUID) (scenShocks, bool) {
	if in == nil {
		return scenShocks{}, false
	}
	b, ok := in.Betas[id]
	return b, ok
}

// scenDec is a float as the shortest decimal that reads back as it, so
// that 1.2 × −0.2 is −0.24 exactly.
func scenDec(x float64) decimal.Decimal { return decimal.NewFromFloat(x) }

// scenApplied is a shock applied to a book, in exact decimals.
type scenApplied struct {
	// PositionDelta[i] = MV_i × Σ_f β_if × s_f; Sensitivity[i] = Σ_f β_if × s_f.
	PositionDelta []decimal.Decimal
	Sensitivity   []decimal.Decimal
	// FactorDelta[f] = Σ_i MV_i × β_if × s_f.
	FactorDelta [scenNFactors]decimal.Decimal
	Total       decimal.Decimal
}

// apply computes the Δ value of every position and factor. Products and
// sums are exact decimals of the floats' shortest forms; rounding happens
// only when the figures are reported.
func (b scenBook) apply(s scenShocks) scenApplied {
	out := scenApplied{PositionDelta: make([]decimal.Decimal, len(b.Holdings)), Sensitivity: make([]decimal.Decimal, len(b.Holdings))}
	for i, h := range b.Holdings {
		sens := decimal.Zero
		for f := range scenNFactors {
			bs := scenDec(h.Betas[f]).Mul(scenDec(s[f]))
			sens = sens.Add(bs)
			out.FactorDelta[f] = out.FactorDelta[f].Add(h.Pos.MarketValue.Mul(bs))
		}
		out.Sensitivity[i] = sens
		out.PositionDelta[i] = h.Pos.MarketValue.Mul(sens)
		out.Total = out.Total.Add(out.PositionDelta[i])
	}
	return out
}

// portfolioReturn is the scenario's return on the whole portfolio (cash
// included, unshocked): Σ Δ / total value, as a float.
func (b scenBook) portfolioReturn(s scenShocks) float64 {
	return b.apply(s).Total.Div(b.Valuation.Total).InexactFloat64()
}

// ScenarioFactorContribution is one factor's part of a scenario's Δ.
type ScenarioFactorContribution struct {
	Factor     string          `json:"factor"`
	Shock      float64         `json:"shock" doc:"In the factor's units: a change in decimal form for real_rates, inflation and credit, a return for usd, equity and commodity, a relative change of the VIX for volatility."`
	DeltaValue decimal.Decimal `json:"delta_value" doc:"Σ over positions of market value × β × shock, base currency."`
	DeltaPct   float64         `json:"delta_pct" doc:"delta_value / value_before."`
}

// ScenarioPosition is one position's outcome.
type ScenarioPosition struct {
	SecurityID     uuid.UUID          `json:"security_id"`
	Symbol         string             `json:"symbol"`
	Name           string             `json:"name"`
	Type           string             `json:"type"`
	Sector         string             `json:"sector"`
	MarketValue    decimal.Decimal    `json:"market_value" doc:"Quantity × close × FX rate of the run's pack, base currency."`
	Weight         decimal.Decimal    `json:"weight" doc:"market_value / value_before."`
	DeltaValue     decimal.Decimal    `json:"delta_value" doc:"market_value × Σ β × shock, base currency, rounded to 4 places."`
	DeltaPct       float64            `json:"delta_pct" doc:"Σ β × shock: the position's return in the scenario."`
	ValueAfter     decimal.Decimal    `json:"value_after"`
	BetaSource     string             `json:"beta_source" doc:"regression (position_factor_betas, or the factor exposures passed in) or heuristic (the table of run_scenario.go)."`
	BetasAsOfDate  string             `json:"betas_asof_date,omitempty" doc:"Date of the regression; absent for the heuristic."`
	HeuristicClass string             `json:"heuristic_class,omitempty" doc:"The heuristic class used; absent for a regression."`
	Betas          map[string]float64 `json:"betas" doc:"β per factor."`
}

// ScenarioMover is a winner or a loser.
type ScenarioMover struct {
	SecurityID uuid.UUID       `json:"security_id"`
	Symbol     string          `json:"symbol"`
	DeltaValue decimal.Decimal `json:"delta_value"`
	DeltaPct   float64         `json:"delta_pct"`
}

// ScenarioBetaSources counts the positions by beta source.
type ScenarioBetaSources struct {
	Regression int `json:"regression"`
	Heuristic  int `json:"heuristic"`
}

// ScenarioScaling says how a regime scaled a scenario (macro-aware
// capabilities only).
type ScenarioScaling struct {
	Regime                string             `json:"regime"`
	RegimeAsOfDate        string             `json:"regime_asof_date" doc:"The regime_history row used: the newest on or before the as-of date."`
	RegimeConfidence      float64            `json:"regime_confidence"`
	Class                 string             `json:"class" doc:"adverse, benign or neutral (see the scaling table)."`
	TableProbability      float64            `json:"table_probability_multiplier" doc:"The table's multiplier for the regime and class."`
	TableSeverity         float64            `json:"table_severity_multiplier"`
	ProbabilityMultiplier float64            `json:"probability_multiplier" doc:"1 + confidence × (table − 1)."`
	SeverityMultiplier    float64            `json:"severity_multiplier" doc:"1 + confidence × (table − 1); every shock is multiplied by it."`
	BaseProbability       *float64           `json:"base_probability" doc:"The library's annual prior; null when it has none."`
	ScaledProbability     *float64           `json:"scaled_probability" doc:"min(1, base × probability_multiplier); null without a base."`
	UnscaledShocks        map[string]float64 `json:"unscaled_shocks"`
}

// ScenarioOutput is the outcome of a scenario on a portfolio. The field
// names are read by optimizer.suggest_hedges and charts.scenario.
type ScenarioOutput struct {
	PortfolioID   uuid.UUID `json:"portfolio_id"`
	BaseCurrency  string    `json:"base_currency"`
	AsOfDate      string    `json:"asof_date"`
	PricingPackID string    `json:"pricing_pack_id"`

	ScenarioID   string             `json:"scenario_id,omitempty" doc:"The scenario's id; absent for custom shocks."`
	ScenarioName string             `json:"scenario_name"`
	Category     string             `json:"category"`
	Description  string             `json:"description,omitempty"`
	PeriodStart  string             `json:"period_start,omitempty" doc:"First day of a historical episode."`
	PeriodEnd    string             `json:"period_end,omitempty" doc:"Last day of a historical episode."`
	Source       string             `json:"source" doc:"Where the shock magnitudes come from."`
	Probability  *float64           `json:"probability" doc:"The scenario's annual prior (scaled by the regime for macro-aware runs); null when it has none."`
	Shocks       map[string]float64 `json:"shocks" doc:"The shocks applied, every factor."`
	ShockHash    string             `json:"shock_hash" doc:"sha256 of the canonical shocks (every factor in model order, shortest round-trip numbers): the scenario_results key."`

	ValueBefore    decimal.Decimal `json:"value_before" doc:"Market value of positions and cash with the run's pack, base currency."`
	PositionsValue decimal.Decimal `json:"positions_value"`
	CashValue      decimal.Decimal `json:"cash_value" doc:"Cash is not shocked."`
	TotalDelta     decimal.Decimal `json:"total_delta" doc:"Σ position delta_value (exact, then rounded to 4 places), base currency."`
	TotalDeltaPct  float64         `json:"total_delta_pct" doc:"total_delta / value_before."`
	ValueAfter     decimal.Decimal `json:"value_after"`

	FactorContributions []ScenarioFactorContribution `json:"factor_contributions" doc:"In model order; they add up to total_delta before rounding."`
	Positions           []ScenarioPosition           `json:"positions" doc:"In the valuation's order."`
	Winners             []ScenarioMover              `json:"winners" doc:"Up to 5 positions with the largest gains, largest first."`
	Losers              []ScenarioMover              `json:"losers" doc:"Up to 5 positions with the largest losses, largest loss first."`
	BetaSources         ScenarioBetaSources          `json:"beta_sources"`
	Scaling             *ScenarioScaling             `json:"scaling,omitempty" doc:"Set by scenarios.macro_aware_apply."`
	ResultID            uuid.UUID                    `json:"result_id" doc:"The scenario_results row."`
	Provenance          agents.Provenance            `json:"provenance"`
}

// scenConvention is the convention every scenario output states.
const scenConvention = "Δ value = market value × Σ β_f × shock_f per position (betas of local-currency returns per unit of each factor: " +
	"a change in decimal form for rates and spreads, a return for usd, equity and commodity, a relative VIX change for volatility); " +
	"cash unshocked; money in the base currency, exact decimals rounded to 4 places once; percentages as decimal fractions"

// scenOutput applies def to the book and builds the output.
func scenOutput(c *agents.Call, portfolioID uuid.UUID, book scenBook, def scenDef) ScenarioOutput {
	v := book.Valuation
	applied := book.apply(def.Shocks)
	_, hash := def.Shocks.canonical()
	out := ScenarioOutput{
		PortfolioID: portfolioID, BaseCurrency: v.BaseCurrency, AsOfDate: book.AsOf.Format(time.DateOnly), PricingPackID: v.PackID,
		ScenarioID: def.ID, ScenarioName: def.Name, Category: def.Category, Description: def.Description, PeriodStart: def.PeriodStart, PeriodEnd: def.PeriodEnd, Source: def.Source, Probability: def.Probability,
		Shocks: def.Shocks.asMap(), ShockHash: hash,
		ValueBefore: v.Total, PositionsValue: v.PositionsValue, CashValue: v.CashValue,
		TotalDelta: applied.Total.Round(scenMoneyPlaces), ValueAfter: v.Total.Add(applied.Total).Round(scenMoneyPlaces),
		TotalDeltaPct:       applied.Total.Div(v.Total).InexactFloat64(),
		FactorContributions: []ScenarioFactorContribution{}, Positions: []ScenarioPosition{},
		Winners: []ScenarioMover{}, Losers: []ScenarioMover{}, Scaling: def.scaling,
	}
	for f, fd := range storage.Factors {
		out.FactorContributions = append(out.FactorContributions, ScenarioFactorContribution{Factor: fd.Name, Shock: def.Shocks[f],
			DeltaValue: applied.FactorDelta[f].Round(scenMoneyPlaces), DeltaPct: applied.FactorDelta[f].Div(v.Total).InexactFloat64()})
	}
	for i, h := range book.Holdings {
		p := h.Pos
		sp := ScenarioPosition{SecurityID: p.SecurityID, Symbol: p.Symbol, Name: p.Name, Type: p.Type, Sector: p.Sector,
			MarketValue: p.MarketValue, Weight: p.MarketValue.DivRound(v.Total, 10),
			DeltaValue: applied.PositionDelta[i].Round(scenMoneyPlaces), DeltaPct: applied.Sensitivity[i].InexactFloat64(),
			ValueAfter: p.MarketValue.Add(applied.PositionDelta[i]).Round(scenMoneyPlaces),
			BetaSource: h.Source, BetasAsOfDate: h.BetasAsOf, HeuristicClass: h.HeuristicClass, Betas: h.Betas.asMap()}
		out.Positions = append(out.Positions, sp)
		switch h.Source {
		case betaSourceRegression:
			out.BetaSources.Regression++
		default:
			out.BetaSources.Heuristic++
		}
	}
	movers := make([]ScenarioMover, len(out.Positions))
	for i, p := range out.Positions {
		movers[i] = ScenarioMover{SecurityID: p.SecurityID, Symbol: p.Symbol, DeltaValue: p.DeltaValue, DeltaPct: p.DeltaPct}
	}
	sort.SliceStable(movers, func(i, j int) bool {
		if c := movers[i].DeltaValue.Cmp(movers[j].DeltaValue); c != 0 {
			return c > 0
		}
		return movers[i].Symbol < movers[j].Symbol
	})
	for _, m := range movers {
		if m.DeltaValue.IsPositive() && len(out.Winners) < scenMaxMovers {
			out.Winners = append(out.Winners, m)
		}
	}
	for i := len(movers) - 1; i >= 0; i-- {
		if m := movers[i]; m.DeltaValue.IsNegative() && len(out.Losers) < scenMaxMovers {
			out.Losers = append(out.Losers, m)
		}
	}
	method := fmt.Sprintf("scenario %q applied to the portfolio valued with pack %s; betas: %d positions by regression "+
		"(position_factor_betas, newest on or before %s), %d by the heuristic table of agents/macro/run_scenario.go "+
		"(stylised betas by security type and sector, not estimated)",
		def.Name, v.PackID, out.BetaSources.Regression, out.AsOfDate, out.BetaSources.Heuristic)
	if def.scaling != nil {
		method += fmt.Sprintf("; shocks × %.4g and probability × %.4g for regime %s (confidence %.4g)", def.scaling.SeverityMultiplier,
			def.scaling.ProbabilityMultiplier, def.scaling.Regime, def.scaling.RegimeConfidence)
	}
	out.Provenance = c.Provenance(method, scenConvention)
	out.Provenance.PricingPackID = v.PackID
	out.Provenance.Source = def.Source
	return out
}

// storeScenario upserts the output into scenario_results and sets its id.
func storeScenario(ctx context.Context, c *agents.Call, def scenDef, out *ScenarioOutput) error {
	shocks, hash := def.Shocks.canonical()
	positions, err := json.Marshal(out.Positions)
	if err != nil {
		return agents.Wrap(agents.CodeInternal, err, "encode scenario positions")
	}
	factors, err := json.Marshal(out.FactorContributions)
	if err != nil {
		return agents.Wrap(agents.CodeInternal, err, "encode factor contributions")
	}
	asOf, _ := time.Parse(time.DateOnly, out.AsOfDate)
	id, err := storage.UpsertScenarioResult(ctx, c.DB, storage.ScenarioResult{
		PortfolioID: out.PortfolioID, ScenarioID: def.LibraryID, AsOfDate: asOf, PackID: out.PricingPackID, ShockHash: hash,
		Shocks: shocks, ValueBefore: out.ValueBefore, DeltaValue: out.TotalDelta, DeltaPct: out.TotalDeltaPct,
		Positions: positions, FactorContributions: factors,
	})
	if err != nil {
		return err
	}
	out.ResultID = id
	return nil
}

// runScenarioDef loads the book, applies def and stores the result.
func runScenarioDef(ctx context.Context, c *agents.Call, portfolioID uuid.UUID, def scenDef) (ScenarioOutput, error) {
	book, err := loadScenBook(ctx, c, portfolioID, nil)
	if err != nil {
		return ScenarioOutput{}, err
	}
	out := scenOutput(c, portfolioID, book, def)
	if err := storeScenario(ctx, c, def, &out); err != nil {
		return ScenarioOutput{}, err
	}
	return out, nil
}

// scenFinite reports whether every value is finite.
func scenFinite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// DeleveragingInput names the portfolio a deleveraging scenario is
// applied to.
type DeleveragingInput struct {
	PortfolioID uuid.UUID `json:"portfolio_id" doc:"The portfolio, valued with the run's pack."`
}

// deleveragingFramework names the typology of the three scenarios.
const deleveragingFramework = "the three paths of a debt deleveraging in R. Dalio, Principles for Navigating Big Debt Crises (2018): " +
	"printing money, austerity, defaults and restructuring"

// runDeleveraging applies one of the three deleveraging scenarios.
func runDeleveraging(ctx context.Context, c *agents.Call, in DeleveragingInput, def scenDef) (ScenarioOutput, error) {
	out, err := runScenarioDef(ctx, c, in.PortfolioID, def)
	if err != nil {
		return ScenarioOutput{}, fmt.Errorf("scenario %s on portfolio %s: %w", def.ID, in.PortfolioID, err)
	}
	return out, nil
}

// deleveragingMeta is the metadata the three deleveraging capabilities
// share but their name and description.
func deleveragingMeta(name, description string) agents.Meta {
	return agents.Meta{
		Name:        name,
		Description: description,
		Reads:       []string{"portfolios", "lots", "transactions", "securities", "prices", "fx_rates", "pricing_packs", "position_factor_betas"},
		Writes:      []string{"scenario_results"},
		Codes: []string{agents.CodeNotFound, agents.CodeInsufficientData, agents.CodeMissingPrice, agents.CodeMissingFX,
			agents.CodePricingPackWarming},
	}
}
