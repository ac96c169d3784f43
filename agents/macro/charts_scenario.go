package macro

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
)

func (a *Macro) chartsScenario() agents.Def {
	return agents.Compute(agents.Meta{
		Name: "charts.scenario",
		Description: "Chart specifications (no pixels) of a scenario result (the output of macro.run_scenario or a scenarios.* " +
			"capability, passed whole): a waterfall from the value before through each factor's contribution to the value " +
			"after, bars of the winners and losers, and a per-position table. Nothing is recomputed.",
	}, a.ChartsScenario)
}

// ChartsScenarioInput takes a scenario result.
type ChartsScenarioInput struct {
	Scenario ChartScenarioIn `json:"scenario" doc:"The output of macro.run_scenario (or scenarios.deleveraging_*, scenarios.macro_aware_apply)."`
}

// ChartScenarioIn is what the charts read of a scenario result.
type ChartScenarioIn struct {
	ScenarioID          string                `json:"scenario_id,omitempty"`
	ScenarioName        string                `json:"scenario_name,omitempty"`
	BaseCurrency        string                `json:"base_currency,omitempty"`
	AsOfDate            string                `json:"asof_date,omitempty"`
	ValueBefore         decimal.Decimal       `json:"value_before"`
	ValueAfter          *decimal.Decimal      `json:"value_after,omitempty"`
	TotalDelta          decimal.Decimal       `json:"total_delta"`
	TotalDeltaPct       *float64              `json:"total_delta_pct,omitempty"`
	FactorContributions []ChartScenarioFactor `json:"factor_contributions"`
	Positions           []ChartScenarioLine   `json:"positions"`
	Winners             []ChartScenarioMover  `json:"winners,omitempty"`
	Losers              []ChartScenarioMover  `json:"losers,omitempty"`
}

// ChartScenarioFactor is one factor's contribution.
type ChartScenarioFactor struct {
	Factor     string          `json:"factor"`
	Shock      *float64        `json:"shock,omitempty"`
	DeltaValue decimal.Decimal `json:"delta_value"`
}

// ChartScenarioLine is one position's outcome.
type ChartScenarioLine struct {
	SecurityID     uuid.UUID       `json:"security_id,omitempty"`
	Symbol         string          `json:"symbol"`
	Name           string          `json:"name,omitempty"`
	MarketValue    decimal.Decimal `json:"market_value"`
	DeltaValue     decimal.Decimal `json:"delta_value"`
	DeltaPct       *float64        `json:"delta_pct,omitempty"`
	BetaSource     string          `json:"beta_source,omitempty"`
	HeuristicClass string          `json:"heuristic_class,omitempty"`
}

// ChartScenarioMover is a winner or a loser.
type ChartScenarioMover struct {
	Symbol     string          `json:"symbol"`
	DeltaValue decimal.Decimal `json:"delta_value"`
	DeltaPct   *float64        `json:"delta_pct,omitempty"`
}

// Scenario chart types beyond line, bar and table.
const (
	scenChartWaterfall = "waterfall"
	scenChartBar       = "bar"
	scenChartTable     = "table"
)

// Waterfall measures of a point.
const (
	measureAbsolute = "absolute"
	measureRelative = "relative"
	measureTotal    = "total"
)

// ScenarioChart is one chart specification.
type ScenarioChart struct {
	ID       string                `json:"id" doc:"Stable: factor_waterfall, winners_losers, scenario_positions."`
	Type     string                `json:"type" doc:"waterfall, bar or table."`
	Title    string                `json:"title"`
	Subtitle string                `json:"subtitle,omitempty"`
	XAxis    *ScenarioChartAxis    `json:"x_axis" doc:"Null for a table."`
	YAxis    *ScenarioChartAxis    `json:"y_axis" doc:"Null for a table."`
	Series   []ScenarioChartSeries `json:"series" doc:"Empty for a table."`
	Columns  []ScenarioChartColumn `json:"columns" doc:"A table's columns; empty otherwise."`
	Rows     []map[string]*string  `json:"rows" doc:"A table's rows keyed by column key; numbers as exact decimal strings, null when unknown."`
	Notes    []string              `json:"notes"`
}

// ScenarioChartAxis is one axis.
type ScenarioChartAxis struct {
	Label string `json:"label"`
	Unit  string `json:"unit" doc:"A currency code or fraction (0.15 = 15 %)."`
	Scale string `json:"scale" doc:"category or linear."`
}

// ScenarioChartSeries is one named series.
type ScenarioChartSeries struct {
	Name   string               `json:"name"`
	Unit   string               `json:"unit"`
	Points []ScenarioChartPoint `json:"points"`
}

// ScenarioChartPoint is one point.
type ScenarioChartPoint struct {
	X       string  `json:"x" doc:"A category: a factor, a symbol, Before or After."`
	Y       float64 `json:"y"`
	Measure string  `json:"measure,omitempty" doc:"Waterfall only: absolute (a level), relative (a step) or total (the level the steps reach)."`
	Label   string  `json:"label,omitempty" doc:"The exact figure or a note."`
}

// ScenarioChartColumn is one table column.
type ScenarioChartColumn struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Unit  string `json:"unit,omitempty"`
}

// ChartsScenarioOutput lists the charts in display order.
type ChartsScenarioOutput struct {
	Charts     []ScenarioChart   `json:"charts"`
	Provenance agents.Provenance `json:"provenance"`
}

// ChartsScenario implements charts.scenario.
func (a *Macro) ChartsScenario(_ context.Context, c *agents.Call, in ChartsScenarioInput) (ChartsScenarioOutput, error) {
	s := in.Scenario
	ccy := s.BaseCurrency
	if ccy == "" {
		ccy = "base_currency"
	}
	title := s.ScenarioName
	if title == "" {
		title = s.ScenarioID
	}
	out := ChartsScenarioOutput{Charts: []ScenarioChart{scenWaterfall(s, ccy, title), scenMovers(s, ccy), scenTable(s, ccy)}}
	out.Provenance = c.Provenance("chart specifications of a scenario result passed in; no figure is recomputed",
		"money in the base currency; returns as decimal fractions (0.15 = 15 %)")
	return out, nil
}

func newScenarioChart(id, typ, title string) ScenarioChart {
	return ScenarioChart{ID: id, Type: typ, Title: title, Series: []ScenarioChartSeries{}, Columns: []ScenarioChartColumn{},
		Rows: []map[string]*string{}, Notes: []string{}}
}

func scenWaterfall(s ChartScenarioIn, ccy, title string) ScenarioChart {
	ch := newScenarioChart("factor_waterfall", scenChartWaterfall, "Scenario impact by factor")
	ch.Subtitle = title
	ch.XAxis = &ScenarioChartAxis{Label: "Factor", Unit: "", Scale: "category"}
	ch.YAxis = &ScenarioChartAxis{Label: "Value (" + ccy + ")", Unit: ccy, Scale: "linear"}
	after := s.ValueBefore.Add(s.TotalDelta)
	if s.ValueAfter != nil {
		after = *s.ValueAfter
	}
	ser := ScenarioChartSeries{Name: "Portfolio value", Unit: ccy, Points: []ScenarioChartPoint{
		{X: "Before", Y: s.ValueBefore.InexactFloat64(), Measure: measureAbsolute, Label: s.ValueBefore.String()}}}
	for _, f := range s.FactorContributions {
		label := f.DeltaValue.String()
		if f.Shock != nil {
			label += " (shock " + *fmtFloat(*f.Shock) + ")"
		}
		ser.Points = append(ser.Points, ScenarioChartPoint{X: f.Factor, Y: f.DeltaValue.InexactFloat64(), Measure: measureRelative, Label: label})
	}
	ser.Points = append(ser.Points, ScenarioChartPoint{X: "After", Y: after.InexactFloat64(), Measure: measureTotal, Label: after.String()})
	ch.Series = append(ch.Series, ser)
	ch.Notes = append(ch.Notes, "relative steps are the factors' contributions; they add up to total_delta "+s.TotalDelta.String()+
		" up to the rounding of each to 4 places")
	return ch
}

func scenMovers(s ChartScenarioIn, ccy string) ScenarioChart {
	ch := newScenarioChart("winners_losers", scenChartBar, "Largest gains and losses")
	ch.XAxis = &ScenarioChartAxis{Label: "Position", Unit: "", Scale: "category"}
	ch.YAxis = &ScenarioChartAxis{Label: "Change in value (" + ccy + ")", Unit: ccy, Scale: "linear"}
	win := ScenarioChartSeries{Name: "Winners", Unit: ccy, Points: []ScenarioChartPoint{}}
	lose := ScenarioChartSeries{Name: "Losers", Unit: ccy, Points: []ScenarioChartPoint{}}
	for _, m := range s.Winners {
		win.Points = append(win.Points, ScenarioChartPoint{X: m.Symbol, Y: m.DeltaValue.InexactFloat64(), Label: moverLabel(m)})
	}
	for _, m := range s.Losers {
		lose.Points = append(lose.Points, ScenarioChartPoint{X: m.Symbol, Y: m.DeltaValue.InexactFloat64(), Label: moverLabel(m)})
	}
	ch.Series = append(ch.Series, win, lose)
	if len(s.Winners)+len(s.Losers) == 0 {
		ch.Notes = append(ch.Notes, "no position gains or loses in this scenario (or the result lists no winners and losers)")
	}
	return ch
}

func moverLabel(m ChartScenarioMover) string {
	if m.DeltaPct == nil {
		return m.DeltaValue.String()
	}
	return fmt.Sprintf("%s (%s)", m.DeltaValue.String(), *fmtFloat(*m.DeltaPct))
}

func scenTable(s ChartScenarioIn, ccy string) ScenarioChart {
	ch := newScenarioChart("scenario_positions", scenChartTable, "Positions in the scenario")
	ch.Columns = append(ch.Columns, ScenarioChartColumn{Key: "symbol", Label: "Symbol"}, ScenarioChartColumn{Key: "name", Label: "Name"},
		ScenarioChartColumn{Key: "market_value", Label: "Market value", Unit: ccy},
		ScenarioChartColumn{Key: "delta_value", Label: "Change", Unit: ccy},
		ScenarioChartColumn{Key: "delta_pct", Label: "Change", Unit: "fraction"},
		ScenarioChartColumn{Key: "beta_source", Label: "Betas"})
	for _, p := range s.Positions {
		src := p.BetaSource
		if p.HeuristicClass != "" {
			src += " (" + p.HeuristicClass + ")"
		}
		row := map[string]*string{"symbol": strPtr(p.Symbol), "name": strPtr(p.Name), "market_value": strPtr(p.MarketValue.String()),
			"delta_value": strPtr(p.DeltaValue.String()), "delta_pct": nil, "beta_source": nil}
		if p.DeltaPct != nil {
			row["delta_pct"] = fmtFloat(*p.DeltaPct)
		}
		if src != "" {
			row["beta_source"] = strPtr(src)
		}
		ch.Rows = append(ch.Rows, row)
	}
	ch.Notes = append(ch.Notes, "heuristic betas are a stated fallback where no regression exists; see beta_source")
	return ch
}
