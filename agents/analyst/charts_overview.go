package analyst

import (
	"context"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
)

func (a *Analyst) chartsOverview() agents.Def {
	return agents.Compute(agents.Meta{
		Name: "charts.overview",
		Description: "Chart specifications (type, series of points, axes with labels and units; no pixels) of the portfolio " +
			"overview, built from the outputs of earlier steps passed in whole: valued positions, sector allocation, historical " +
			"NAV, TWR series, metrics and currency attribution. Nothing is recomputed.",
	}, a.ChartsOverview)
}

// ChartsOverviewInput takes the outputs of earlier steps; each is optional
// and adds its charts.
type ChartsOverviewInput struct {
	Valued      *ChartValued      `json:"valued,omitempty" doc:"The output of portfolio.get_valued_positions (or pricing.apply_pack): a position allocation donut and a holdings table."`
	Sectors     *ChartSectors     `json:"sectors,omitempty" doc:"The output of portfolio.sector_allocation: a sector donut."`
	NAV         *ChartNAV         `json:"nav,omitempty" doc:"The output of portfolio.historical_nav: a value line chart."`
	TWR         *ChartTWR         `json:"twr,omitempty" doc:"The output of metrics.compute_twr with include_series: a cumulative return line chart."`
	Metrics     *ChartMetrics     `json:"metrics,omitempty" doc:"The output of metrics.compute: a table of the figures."`
	Attribution *ChartAttribution `json:"attribution,omitempty" doc:"The output of attribution.currency: a bar chart of the effects per currency."`
}

// Validate asks for at least one input.
func (in ChartsOverviewInput) Validate() error {
	if in.Valued == nil && in.Sectors == nil && in.NAV == nil && in.TWR == nil && in.Metrics == nil && in.Attribution == nil {
		return agents.FieldError("args", "pass at least one of valued, sectors, nav, twr, metrics, attribution")
	}
	return nil
}

// ChartValued is what the charts read of valued positions.
type ChartValued struct {
	BaseCurrency string            `json:"base_currency"`
	TotalValue   decimal.Decimal   `json:"total_value"`
	CashValue    decimal.Decimal   `json:"cash_value,omitempty"`
	Positions    []ChartValuedLine `json:"positions"`
}

// ChartValuedLine is what the charts read of one valued position.
type ChartValuedLine struct {
	Symbol       string           `json:"symbol"`
	Name         string           `json:"name,omitempty"`
	Quantity     decimal.Decimal  `json:"quantity,omitempty"`
	MarketValue  decimal.Decimal  `json:"market_value"`
	Weight       decimal.Decimal  `json:"weight,omitempty"`
	UnrealizedPL *decimal.Decimal `json:"unrealized_pl,omitempty"`
}

// ChartSectors is what the charts read of a sector allocation.
type ChartSectors struct {
	Sectors []ChartSector `json:"sectors"`
}

// ChartSector is one sector's line.
type ChartSector struct {
	Sector string          `json:"sector"`
	Value  decimal.Decimal `json:"value"`
	Weight decimal.Decimal `json:"weight"`
}

// ChartNAV is what the charts read of the historical NAV.
type ChartNAV struct {
	BaseCurrency string         `json:"base_currency"`
	Values       []ChartNAVLine `json:"values"`
}

// ChartNAVLine is one valued day.
type ChartNAVLine struct {
	Date           string          `json:"date"`
	TotalValue     decimal.Decimal `json:"total_value"`
	CashValue      decimal.Decimal `json:"cash_value"`
	PositionsValue decimal.Decimal `json:"positions_value"`
}

// ChartTWR is what the charts read of a TWR with its series.
type ChartTWR struct {
	Series []ChartTWRPoint `json:"series"`
}

// ChartTWRPoint is one day of the series.
type ChartTWRPoint struct {
	Date       string  `json:"date"`
	Cumulative float64 `json:"cumulative"`
}

// ChartMetrics is what the charts read of the metrics row.
type ChartMetrics struct {
	MetricFigures
	Details *ChartMetricsDetails `json:"details,omitempty"`
}

// ChartMetricsDetails is what the table reads of the details: why a figure
// is null.
type ChartMetricsDetails struct {
	Figures map[string]ChartFigureDetail `json:"figures,omitempty"`
}

// ChartFigureDetail is one figure's detail.
type ChartFigureDetail struct {
	NullReason string `json:"null_reason,omitempty"`
}

// ChartAttribution is what the charts read of a currency attribution.
type ChartAttribution struct {
	BaseCurrency      string                 `json:"base_currency"`
	StartDate         string                 `json:"start_date"`
	EndDate           string                 `json:"end_date"`
	LocalReturn       float64                `json:"local_return"`
	FXReturn          float64                `json:"fx_return"`
	InteractionReturn float64                `json:"interaction_return"`
	TotalReturn       float64                `json:"total_return"`
	ByCurrency        []ChartAttributionLine `json:"by_currency"`
}

// ChartAttributionLine is one currency's contribution.
type ChartAttributionLine struct {
	Currency    string  `json:"currency"`
	Local       float64 `json:"local"`
	FX          float64 `json:"fx"`
	Interaction float64 `json:"interaction"`
	Total       float64 `json:"total"`
}

// Chart types.
const (
	ChartLine  = "line"
	ChartBar   = "bar"
	ChartDonut = "donut"
	ChartPie   = "pie"
	ChartTable = "table"
)

// Axis scales and units that are not a currency.
const (
	ScaleTime     = "time"
	ScaleCategory = "category"
	ScaleLinear   = "linear"
	// UnitFraction marks decimals: 0.15 is 15 %.
	UnitFraction = "fraction"
	UnitRatio    = "ratio"
	UnitDate     = "date"
)

// Chart is one chart specification.
type Chart struct {
	ID       string        `json:"id" doc:"Stable: nav, cumulative_return, position_allocation, sector_allocation, currency_attribution, holdings, metrics."`
	Type     string        `json:"type" doc:"line, bar, donut, pie or table."`
	Title    string        `json:"title"`
	Subtitle string        `json:"subtitle,omitempty"`
	XAxis    *ChartAxis    `json:"x_axis" doc:"Null for donut, pie and table."`
	YAxis    *ChartAxis    `json:"y_axis" doc:"Null for donut, pie and table."`
	Series   []ChartSeries `json:"series" doc:"Empty for a table."`
	Stacked  bool          `json:"stacked,omitempty" doc:"Bars of the series stack."`
	Columns  []ChartColumn `json:"columns" doc:"A table's columns; empty otherwise."`
	// Rows are keyed by column key; numbers are exact decimal strings.
	Rows  []map[string]*string `json:"rows" doc:"A table's rows keyed by column key; numbers as exact decimal strings, null when unknown."`
	Notes []string             `json:"notes"`
}

// ChartAxis is one axis.
type ChartAxis struct {
	Label string `json:"label"`
	Unit  string `json:"unit" doc:"A currency code, fraction (0.15 = 15 %), ratio or date."`
	Scale string `json:"scale" doc:"time, category or linear."`
}

// ChartSeries is one named series of points.
type ChartSeries struct {
	Name   string       `json:"name"`
	Unit   string       `json:"unit"`
	Points []ChartPoint `json:"points"`
}

// ChartPoint is one point: a date or category and a value.
type ChartPoint struct {
	X     string  `json:"x" doc:"A date (YYYY-MM-DD) or a category."`
	Y     float64 `json:"y"`
	Label string  `json:"label,omitempty" doc:"Text for the point, such as a weight."`
}

// ChartColumn is one table column.
type ChartColumn struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Unit  string `json:"unit,omitempty"`
}

// ChartsOverviewOutput lists the charts, in display order.
type ChartsOverviewOutput struct {
	Charts     []Chart           `json:"charts"`
	Provenance agents.Provenance `json:"provenance"`
}

// ChartsOverview implements charts.overview.
func (a *Analyst) ChartsOverview(_ context.Context, c *agents.Call, in ChartsOverviewInput) (ChartsOverviewOutput, error) {
	out := ChartsOverviewOutput{Charts: []Chart{}}
	ccy := "base_currency"
	switch {
	case in.Valued != nil && in.Valued.BaseCurrency != "":
		ccy = in.Valued.BaseCurrency
	case in.NAV != nil && in.NAV.BaseCurrency != "":
		ccy = in.NAV.BaseCurrency
	case in.Attribution != nil && in.Attribution.BaseCurrency != "":
		ccy = in.Attribution.BaseCurrency
	}
	if in.NAV != nil {
		out.Charts = append(out.Charts, navChart(in.NAV))
	}
	if in.TWR != nil {
		out.Charts = append(out.Charts, cumulativeChart(in.TWR))
	}
	if in.Valued != nil {
		out.Charts = append(out.Charts, positionAllocationChart(in.Valued))
	}
	if in.Sectors != nil {
		out.Charts = append(out.Charts, sectorChart(in.Sectors, ccy))
	}
	if in.Attribution != nil {
		out.Charts = append(out.Charts, attributionChart(in.Attribution))
	}
	if in.Valued != nil {
		out.Charts = append(out.Charts, holdingsTable(in.Valued))
	}
	if in.Metrics != nil {
		out.Charts = append(out.Charts, metricsTable(in.Metrics))
	}
	out.Provenance = c.Provenance("chart specifications from the outputs of earlier steps; no figure is recomputed",
		"money in the base currency; returns, weights and effects as decimal fractions (0.15 = 15 %)")
	return out, nil
}

func newChart(id, typ, title string) Chart {
	return Chart{ID: id, Type: typ, Title: title, Series: []ChartSeries{}, Columns: []ChartColumn{},
		Rows: []map[string]*string{}, Notes: []string{}}
}

func navChart(in *ChartNAV) Chart {
	ch := newChart("nav", ChartLine, "Portfolio value")
	ch.XAxis = &ChartAxis{Label: "Date", Unit: UnitDate, Scale: ScaleTime}
	ch.YAxis = &ChartAxis{Label: "Value (" + in.BaseCurrency + ")", Unit: in.BaseCurrency, Scale: ScaleLinear}
	total := ChartSeries{Name: "Total value", Unit: in.BaseCurrency, Points: []ChartPoint{}}
	pos := ChartSeries{Name: "Positions", Unit: in.BaseCurrency, Points: []ChartPoint{}}
	cash := ChartSeries{Name: "Cash", Unit: in.BaseCurrency, Points: []ChartPoint{}}
	for _, v := range in.Values {
		total.Points = append(total.Points, ChartPoint{X: v.Date, Y: v.TotalValue.InexactFloat64()})
		pos.Points = append(pos.Points, ChartPoint{X: v.Date, Y: v.PositionsValue.InexactFloat64()})
		cash.Points = append(cash.Points, ChartPoint{X: v.Date, Y: v.CashValue.InexactFloat64()})
	}
	ch.Series = append(ch.Series, total, pos, cash)
	if len(in.Values) > 0 {
		ch.Subtitle = in.Values[0].Date + " to " + in.Values[len(in.Values)-1].Date
	}
	ch.Notes = append(ch.Notes, "values include external flows; see cumulative_return for performance")
	return ch
}

func cumulativeChart(in *ChartTWR) Chart {
	ch := newChart("cumulative_return", ChartLine, "Cumulative time-weighted return")
	ch.XAxis = &ChartAxis{Label: "Date", Unit: UnitDate, Scale: ScaleTime}
	ch.YAxis = &ChartAxis{Label: "Return", Unit: UnitFraction, Scale: ScaleLinear}
	s := ChartSeries{Name: "Cumulative TWR", Unit: UnitFraction, Points: []ChartPoint{}}
	for _, p := range in.Series {
		s.Points = append(s.Points, ChartPoint{X: p.Date, Y: p.Cumulative})
	}
	ch.Series = append(ch.Series, s)
	if len(in.Series) == 0 {
		ch.Notes = append(ch.Notes, "no series: call metrics.compute_twr with include_series")
	}
	return ch
}

func positionAllocationChart(in *ChartValued) Chart {
	ch := newChart("position_allocation", ChartDonut, "Allocation by position")
	s := ChartSeries{Name: "Market value", Unit: in.BaseCurrency, Points: []ChartPoint{}}
	for _, p := range in.Positions {
		s.Points = append(s.Points, ChartPoint{X: p.Symbol, Y: p.MarketValue.InexactFloat64(), Label: p.Weight.String()})
	}
	if !in.CashValue.IsZero() {
		s.Points = append(s.Points, ChartPoint{X: CashSector, Y: in.CashValue.InexactFloat64()})
	}
	ch.Series = append(ch.Series, s)
	ch.Subtitle = "Total " + in.TotalValue.String() + " " + in.BaseCurrency
	ch.Notes = append(ch.Notes, "point labels are the positions' weights (fractions of the total)")
	return ch
}

func sectorChart(in *ChartSectors, ccy string) Chart {
	ch := newChart("sector_allocation", ChartDonut, "Allocation by sector")
	s := ChartSeries{Name: "Value", Unit: ccy, Points: []ChartPoint{}}
	for _, sec := range in.Sectors {
		s.Points = append(s.Points, ChartPoint{X: sec.Sector, Y: sec.Value.InexactFloat64(), Label: sec.Weight.String()})
	}
	ch.Series = append(ch.Series, s)
	ch.Notes = append(ch.Notes, "point labels are the sectors' weights (fractions of the total)")
	return ch
}

func attributionChart(in *ChartAttribution) Chart {
	ch := newChart("currency_attribution", ChartBar, "Currency attribution")
	ch.Subtitle = in.StartDate + " to " + in.EndDate
	ch.XAxis = &ChartAxis{Label: "Currency", Unit: "", Scale: ScaleCategory}
	ch.YAxis = &ChartAxis{Label: "Contribution to return", Unit: UnitFraction, Scale: ScaleLinear}
	ch.Stacked = true
	local := ChartSeries{Name: "Local", Unit: UnitFraction, Points: []ChartPoint{}}
	fx := ChartSeries{Name: "Currency", Unit: UnitFraction, Points: []ChartPoint{}}
	inter := ChartSeries{Name: "Interaction", Unit: UnitFraction, Points: []ChartPoint{}}
	for _, l := range in.ByCurrency {
		local.Points = append(local.Points, ChartPoint{X: l.Currency, Y: l.Local})
		fx.Points = append(fx.Points, ChartPoint{X: l.Currency, Y: l.FX})
		inter.Points = append(inter.Points, ChartPoint{X: l.Currency, Y: l.Interaction})
	}
	local.Points = append(local.Points, ChartPoint{X: "Portfolio", Y: in.LocalReturn})
	fx.Points = append(fx.Points, ChartPoint{X: "Portfolio", Y: in.FXReturn})
	inter.Points = append(inter.Points, ChartPoint{X: "Portfolio", Y: in.InteractionReturn, Label: "total " + formatFloat(in.TotalReturn)})
	ch.Series = append(ch.Series, local, fx, inter)
	ch.Notes = append(ch.Notes, "stacked bars add up to each currency's (and the portfolio's) total contribution")
	return ch
}

func holdingsTable(in *ChartValued) Chart {
	ch := newChart("holdings", ChartTable, "Holdings")
	ch.Columns = append(ch.Columns, ChartColumn{Key: "symbol", Label: "Symbol"}, ChartColumn{Key: "name", Label: "Name"},
		ChartColumn{Key: "quantity", Label: "Quantity"}, ChartColumn{Key: "market_value", Label: "Market value", Unit: in.BaseCurrency},
		ChartColumn{Key: "weight", Label: "Weight", Unit: UnitFraction},
		ChartColumn{Key: "unrealized_pl", Label: "Unrealised P&L", Unit: in.BaseCurrency})
	for _, p := range in.Positions {
		row := map[string]*string{"symbol": str(p.Symbol), "name": str(p.Name), "quantity": str(p.Quantity.String()),
			"market_value": str(p.MarketValue.String()), "weight": str(p.Weight.String()), "unrealized_pl": nil}
		if p.UnrealizedPL != nil {
			row["unrealized_pl"] = str(p.UnrealizedPL.String())
		}
		ch.Rows = append(ch.Rows, row)
	}
	return ch
}

// metricLabels names the figures of the metrics table, in display order.
var metricLabels = []struct{ key, label, unit string }{
	{"twr_1d", "TWR 1 day", UnitFraction}, {"twr_mtd", "TWR month to date", UnitFraction},
	{"twr_qtd", "TWR quarter to date", UnitFraction}, {"twr_ytd", "TWR year to date", UnitFraction},
	{"twr_1y", "TWR 1 year", UnitFraction}, {"twr_3y_ann", "TWR 3 years, annualised", UnitFraction},
	{"twr_5y_ann", "TWR 5 years, annualised", UnitFraction}, {"twr_inception_ann", "TWR since inception", UnitFraction},
	{"mwr_ytd", "MWR year to date", UnitFraction}, {"mwr_1y", "MWR 1 year", UnitFraction},
	{"mwr_inception", "MWR since inception", UnitFraction},
	{"volatility_30d", "Volatility 30 days", UnitFraction}, {"volatility_60d", "Volatility 60 days", UnitFraction},
	{"volatility_90d", "Volatility 90 days", UnitFraction}, {"volatility_1y", "Volatility 1 year", UnitFraction},
	{"sharpe_30d", "Sharpe 30 days", UnitRatio}, {"sharpe_60d", "Sharpe 60 days", UnitRatio},
	{"sharpe_90d", "Sharpe 90 days", UnitRatio}, {"sharpe_1y", "Sharpe 1 year", UnitRatio},
	{"sortino_1y", "Sortino 1 year", UnitRatio}, {"max_drawdown_1y", "Max drawdown 1 year", UnitFraction},
	{"max_drawdown_3y", "Max drawdown 3 years", UnitFraction}, {"current_drawdown", "Current drawdown", UnitFraction},
	{"alpha_1y", "Alpha 1 year", UnitFraction}, {"beta_1y", "Beta 1 year", UnitRatio},
	{"tracking_error_1y", "Tracking error 1 year", UnitFraction},
	{"information_ratio_1y", "Information ratio 1 year", UnitRatio}, {"win_rate", "Win rate", UnitFraction},
}

func metricsTable(in *ChartMetrics) Chart {
	ch := newChart("metrics", ChartTable, "Performance and risk")
	ch.Columns = append(ch.Columns, ChartColumn{Key: "metric", Label: "Metric"}, ChartColumn{Key: "value", Label: "Value"},
		ChartColumn{Key: "unit", Label: "Unit"}, ChartColumn{Key: "note", Label: "Note"})
	figs := in.MetricFigures.columns()
	for _, m := range metricLabels {
		row := map[string]*string{"metric": str(m.label), "value": nil, "unit": str(m.unit), "note": nil}
		if v := *figs[m.key]; v != nil {
			row["value"] = str(formatFloat(*v))
		} else if in.Details != nil && in.Details.Figures[m.key].NullReason != "" {
			row["note"] = str(in.Details.Figures[m.key].NullReason)
		}
		ch.Rows = append(ch.Rows, row)
	}
	return ch
}

func str(s string) *string { return &s }

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
