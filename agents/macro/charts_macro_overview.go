package macro

import (
	"context"
	"strconv"

	"github.com/dawsos/dawsos/agents"
)

func (a *Macro) chartsMacroOverview() agents.Def {
	return agents.Compute(agents.Meta{
		Name: "charts.macro_overview",
		Description: "Chart specifications (type, series of points, axes with labels and units; no pixels) of the macro overview " +
			"from the outputs of earlier steps passed in whole: indicators with their z-scores (macro.get_indicators), regime " +
			"probabilities and drivers (macro.detect_regime), cycle phases (cycles.aggregate_overview). Nothing is recomputed.",
	}, a.ChartsMacroOverview)
}

// MacroChartsInput takes the outputs of earlier steps; each is optional
// and adds its charts.
type MacroChartsInput struct {
	Indicators *ChartIndicatorsIn `json:"indicators,omitempty" doc:"The output of macro.get_indicators: a z-score bar chart and a table."`
	Regime     *ChartRegimeIn     `json:"regime,omitempty" doc:"The output of macro.detect_regime: probability and driver bar charts."`
	Cycles     *ChartCyclesIn     `json:"cycles,omitempty" doc:"The output of cycles.aggregate_overview: a table of the phases."`
}

// Validate asks for at least one input.
func (in MacroChartsInput) Validate() error {
	if in.Indicators == nil && in.Regime == nil && in.Cycles == nil {
		return agents.FieldError("args", "pass at least one of indicators, regime, cycles")
	}
	return nil
}

// ChartIndicatorsIn is what the charts read of macro.get_indicators.
type ChartIndicatorsIn struct {
	AsOfDate   string             `json:"asof_date,omitempty"`
	Indicators []ChartIndicatorIn `json:"indicators"`
}

// ChartIndicatorIn is one indicator.
type ChartIndicatorIn struct {
	Indicator string  `json:"indicator"`
	Frequency string  `json:"frequency,omitempty"`
	Date      string  `json:"date"`
	Value     float64 `json:"value"`
	ZScore    float64 `json:"z_score"`
	Window    int     `json:"window,omitempty"`
}

// ChartRegimeIn is what the charts read of macro.detect_regime.
type ChartRegimeIn struct {
	AsOfDate   string          `json:"asof_date,omitempty"`
	Regime     string          `json:"regime"`
	Confidence float64         `json:"confidence"`
	Scores     []ChartRegimeP  `json:"scores"`
	Drivers    []ChartDriverIn `json:"drivers,omitempty"`
}

// ChartRegimeP is one regime's probability.
type ChartRegimeP struct {
	Regime      string  `json:"regime"`
	Score       float64 `json:"score"`
	Probability float64 `json:"probability"`
}

// ChartDriverIn is one driver.
type ChartDriverIn struct {
	Indicator    string  `json:"indicator"`
	ZScore       float64 `json:"z_score"`
	Contribution float64 `json:"contribution"`
}

// ChartCyclesIn is what the charts read of cycles.aggregate_overview.
type ChartCyclesIn struct {
	AsOfDate string         `json:"asof_date,omitempty"`
	Cycles   []ChartCycleIn `json:"cycles"`
	Tilt     int            `json:"tilt"`
	Posture  string         `json:"posture"`
}

// ChartCycleIn is one cycle.
type ChartCycleIn struct {
	Cycle      string  `json:"cycle"`
	Name       string  `json:"name,omitempty"`
	AsOfDate   string  `json:"asof_date"`
	Phase      string  `json:"phase"`
	Label      string  `json:"label,omitempty"`
	PhaseIndex int     `json:"phase_index,omitempty"`
	PhaseCount int     `json:"phase_count,omitempty"`
	Score      float64 `json:"score"`
	ScoreName  string  `json:"score_name,omitempty"`
	Tilt       int     `json:"tilt"`
}

// MacroChart is one chart specification.
type MacroChart struct {
	ID       string               `json:"id" doc:"Stable: indicator_z_scores, indicators, regime_probabilities, regime_drivers, cycle_phases."`
	Type     string               `json:"type" doc:"bar or table."`
	Title    string               `json:"title"`
	Subtitle string               `json:"subtitle,omitempty"`
	XAxis    *MacroChartAxis      `json:"x_axis" doc:"Null for a table."`
	YAxis    *MacroChartAxis      `json:"y_axis" doc:"Null for a table."`
	Series   []MacroChartSeries   `json:"series" doc:"Empty for a table."`
	Columns  []MacroChartColumn   `json:"columns" doc:"A table's columns; empty otherwise."`
	Rows     []map[string]*string `json:"rows" doc:"A table's rows keyed by column key; numbers as decimal strings."`
	Notes    []string             `json:"notes"`
}

// MacroChartAxis is one axis.
type MacroChartAxis struct {
	Label string `json:"label"`
	Unit  string `json:"unit" doc:"z (standard deviations), fraction (0.15 = 15 %) or score."`
	Scale string `json:"scale" doc:"category or linear."`
}

// MacroChartSeries is one named series of points.
type MacroChartSeries struct {
	Name   string            `json:"name"`
	Unit   string            `json:"unit"`
	Points []MacroChartPoint `json:"points"`
}

// MacroChartPoint is a category and a value.
type MacroChartPoint struct {
	X     string  `json:"x"`
	Y     float64 `json:"y"`
	Label string  `json:"label,omitempty"`
}

// MacroChartColumn is one table column.
type MacroChartColumn struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Unit  string `json:"unit,omitempty"`
}

// MacroChartsOutput lists the charts in display order.
type MacroChartsOutput struct {
	Charts     []MacroChart      `json:"charts"`
	Provenance agents.Provenance `json:"provenance"`
}

// ChartsMacroOverview implements charts.macro_overview.
func (a *Macro) ChartsMacroOverview(_ context.Context, c *agents.Call, in MacroChartsInput) (MacroChartsOutput, error) {
	out := MacroChartsOutput{Charts: []MacroChart{}}
	if in.Indicators != nil {
		out.Charts = append(out.Charts, zScoreChart(in.Indicators), indicatorTable(in.Indicators))
	}
	if in.Regime != nil {
		out.Charts = append(out.Charts, regimeProbabilityChart(in.Regime), regimeDriverChart(in.Regime))
	}
	if in.Cycles != nil {
		out.Charts = append(out.Charts, cycleTable(in.Cycles))
	}
	out.Provenance = c.Provenance("chart specifications from the outputs of earlier steps; no figure is recomputed",
		"z-scores in standard deviations of each indicator's window; probabilities as decimal fractions; cycle scores as each cycle defines them")
	return out, nil
}

func newMacroChart(id, typ, title string) MacroChart {
	return MacroChart{ID: id, Type: typ, Title: title, Series: []MacroChartSeries{}, Columns: []MacroChartColumn{},
		Rows: []map[string]*string{}, Notes: []string{}}
}

func fmtFloat(v float64) *string {
	s := strconv.FormatFloat(v, 'g', -1, 64)
	return &s
}

func strPtr(s string) *string { return &s }

func zScoreChart(in *ChartIndicatorsIn) MacroChart {
	ch := newMacroChart("indicator_z_scores", "bar", "Indicators: z-scores")
	ch.Subtitle = in.AsOfDate
	ch.XAxis = &MacroChartAxis{Label: "Indicator", Unit: "", Scale: "category"}
	ch.YAxis = &MacroChartAxis{Label: "z-score", Unit: "z", Scale: "linear"}
	s := MacroChartSeries{Name: "z-score", Unit: "z", Points: []MacroChartPoint{}}
	for _, ind := range in.Indicators {
		s.Points = append(s.Points, MacroChartPoint{X: ind.Indicator, Y: ind.ZScore, Label: ind.Date})
	}
	ch.Series = append(ch.Series, s)
	ch.Notes = append(ch.Notes, "each z-score is over its indicator's own trailing window; point labels are the observation dates")
	return ch
}

func indicatorTable(in *ChartIndicatorsIn) MacroChart {
	ch := newMacroChart("indicators", "table", "Indicators")
	ch.Subtitle = in.AsOfDate
	ch.Columns = []MacroChartColumn{{Key: "indicator", Label: "Indicator"}, {Key: "date", Label: "Date", Unit: "date"},
		{Key: "value", Label: "Value"}, {Key: "z_score", Label: "z-score", Unit: "z"}, {Key: "window", Label: "Window (observations)"},
		{Key: "frequency", Label: "Frequency"}}
	for _, ind := range in.Indicators {
		row := map[string]*string{"indicator": strPtr(ind.Indicator), "date": strPtr(ind.Date), "value": fmtFloat(ind.Value),
			"z_score": fmtFloat(ind.ZScore), "window": nil, "frequency": nil}
		if ind.Window > 0 {
			row["window"] = strPtr(strconv.Itoa(ind.Window))
		}
		if ind.Frequency != "" {
			row["frequency"] = strPtr(ind.Frequency)
		}
		ch.Rows = append(ch.Rows, row)
	}
	return ch
}

func regimeProbabilityChart(in *ChartRegimeIn) MacroChart {
	ch := newMacroChart("regime_probabilities", "bar", "Regime probabilities")
	ch.Subtitle = in.Regime + " (confidence " + *fmtFloat(in.Confidence) + ")"
	ch.XAxis = &MacroChartAxis{Label: "Regime", Unit: "", Scale: "category"}
	ch.YAxis = &MacroChartAxis{Label: "Probability", Unit: "fraction", Scale: "linear"}
	s := MacroChartSeries{Name: "Probability", Unit: "fraction", Points: []MacroChartPoint{}}
	for _, r := range in.Scores {
		p := MacroChartPoint{X: r.Regime, Y: r.Probability, Label: "score " + *fmtFloat(r.Score)}
		s.Points = append(s.Points, p)
	}
	ch.Series = append(ch.Series, s)
	if in.AsOfDate != "" {
		ch.Notes = append(ch.Notes, "regime of "+in.AsOfDate)
	}
	return ch
}

func regimeDriverChart(in *ChartRegimeIn) MacroChart {
	ch := newMacroChart("regime_drivers", "bar", "What drives "+in.Regime)
	ch.XAxis = &MacroChartAxis{Label: "Indicator", Unit: "", Scale: "category"}
	ch.YAxis = &MacroChartAxis{Label: "Contribution to the score", Unit: "score", Scale: "linear"}
	s := MacroChartSeries{Name: "weight × z-score", Unit: "score", Points: []MacroChartPoint{}}
	for _, d := range in.Drivers {
		s.Points = append(s.Points, MacroChartPoint{X: d.Indicator, Y: d.Contribution, Label: "z " + *fmtFloat(d.ZScore)})
	}
	ch.Series = append(ch.Series, s)
	ch.Notes = append(ch.Notes, "positive bars pushed towards the regime found, negative ones away from it")
	return ch
}

func cycleTable(in *ChartCyclesIn) MacroChart {
	ch := newMacroChart("cycle_phases", "table", "Cycle phases")
	ch.Subtitle = "posture " + in.Posture + " (tilt " + strconv.Itoa(in.Tilt) + ")"
	ch.Columns = []MacroChartColumn{{Key: "cycle", Label: "Cycle"}, {Key: "phase", Label: "Phase"}, {Key: "label", Label: "Stage"},
		{Key: "position", Label: "Position"}, {Key: "score", Label: "Score"}, {Key: "score_name", Label: "Score measures"},
		{Key: "asof_date", Label: "As of", Unit: "date"}, {Key: "tilt", Label: "Tilt"}}
	for _, cy := range in.Cycles {
		name := cy.Cycle
		if cy.Name != "" {
			name = cy.Name + " (" + cy.Cycle + ")"
		}
		row := map[string]*string{"cycle": strPtr(name), "phase": strPtr(cy.Phase), "label": nil, "position": nil,
			"score": fmtFloat(cy.Score), "score_name": nil, "asof_date": strPtr(cy.AsOfDate), "tilt": strPtr(strconv.Itoa(cy.Tilt))}
		if cy.Label != "" {
			row["label"] = strPtr(cy.Label)
		}
		if cy.PhaseIndex > 0 && cy.PhaseCount > 0 {
			row["position"] = strPtr(strconv.Itoa(cy.PhaseIndex) + " of " + strconv.Itoa(cy.PhaseCount))
		}
		if cy.ScoreName != "" {
			row["score_name"] = strPtr(cy.ScoreName)
		}
		ch.Rows = append(ch.Rows, row)
	}
	ch.Notes = append(ch.Notes, "tilt for risk assets: −1 tailwind, 0 neutral, +1 headwind")
	return ch
}
