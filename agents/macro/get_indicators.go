package macro

import (
	"context"
	"time"

	"github.com/dawsos/dawsos/agents"
)

func (a *Macro) getIndicators() agents.Def {
	return agents.Read(agents.Meta{
		Name: "macro.get_indicators",
		Description: "Latest value and z-score of each requested macro indicator (default the regime inputs T10Y2Y, UNRATE, " +
			"CPIAUCSL:yoy, BAA10Y) on or before the as-of date: the z-score over the last 252 observations of a daily series, " +
			"36 of a monthly one (see window and monthly_window), with the window's dates, mean and standard deviation. An " +
			"indicator without a full window is insufficient_data naming it; the call fails rather than report part of the list.",
		Reads: []string{"macro_indicators"},
		Codes: []string{agents.CodeInsufficientData},
	}, a.GetIndicators)
}

// IndicatorsInput selects indicators and windows.
type IndicatorsInput struct {
	Indicators    []string `json:"indicators,omitempty" jsonschema:"maxItems=50" doc:"Series ids as stored in macro_indicators (e.g. T10Y2Y), or a series id followed by ':yoy' for its year-on-year change (e.g. CPIAUCSL:yoy). Absent or empty: T10Y2Y, UNRATE, CPIAUCSL:yoy, BAA10Y."`
	Window        int      `json:"window,omitempty" jsonschema:"minimum=20,maximum=2520,default=252" doc:"z-score window of a daily series, in observations."`
	MonthlyWindow int      `json:"monthly_window,omitempty" jsonschema:"minimum=12,maximum=600,default=36" doc:"z-score window of a monthly series, in observations (weekly 104, quarterly 20 and annual 10 are fixed)."`
	AsOfDate      *string  `json:"asof_date,omitempty" jsonschema:"format=date" doc:"Observations on or before this date; the run's as-of date when absent."`
}

// Validate checks the indicator names.
func (in IndicatorsInput) Validate() error { return checkIndicators("indicators", in.Indicators) }

// Indicator is one indicator's latest value and z-score.
type Indicator struct {
	Indicator    string  `json:"indicator" doc:"As requested: a series id, or a series id with ':yoy'."`
	SeriesID     string  `json:"series_id"`
	Transform    string  `json:"transform" doc:"level (the stored value) or yoy (value / value a year earlier − 1, a decimal)."`
	Frequency    string  `json:"frequency" doc:"daily, weekly, monthly, quarterly or annual, from the median spacing of the observations."`
	Date         string  `json:"date" doc:"Date of the newest value on or before the as-of date."`
	Level        float64 `json:"level" doc:"The stored observation on date, in the series' units."`
	Value        float64 `json:"value" doc:"The z-scored value on date: the level, or the y/y change."`
	ZScore       float64 `json:"z_score"`
	Mean         float64 `json:"mean" doc:"Mean of the window's values."`
	StdDev       float64 `json:"std_dev" doc:"Sample standard deviation (ddof 1) of the window's values."`
	Window       int     `json:"window" doc:"Values in the window, the newest included."`
	WindowStart  string  `json:"window_start" doc:"Date of the window's oldest value."`
	WindowEnd    string  `json:"window_end" doc:"Date of the window's newest value (= date)."`
	Observations int     `json:"observations" doc:"Stored observations of the series on or before the as-of date."`
	Values       int     `json:"values" doc:"Values of the indicator on or before the as-of date (y/y values for ':yoy')."`
	AgeDays      int     `json:"age_days" doc:"Days from date to the as-of date."`
}

// IndicatorsOutput lists the indicators in the order requested.
type IndicatorsOutput struct {
	AsOfDate   string            `json:"asof_date"`
	Indicators []Indicator       `json:"indicators"`
	Windows    ZWindows          `json:"windows" doc:"The z-score window of each frequency, in observations."`
	Provenance agents.Provenance `json:"provenance"`
}

// GetIndicators implements macro.get_indicators.
func (a *Macro) GetIndicators(ctx context.Context, c *agents.Call, in IndicatorsInput) (IndicatorsOutput, error) {
	asOf, err := asOfArg(c, "asof_date", in.AsOfDate)
	if err != nil {
		return IndicatorsOutput{}, err
	}
	names := in.Indicators
	if len(names) == 0 {
		names = regimeIndicators
	}
	w := newWindows(in.Window, in.MonthlyWindow)
	inds, err := indicatorsAt(ctx, c, names, asOf, w)
	if err != nil {
		return IndicatorsOutput{}, err
	}
	return IndicatorsOutput{AsOfDate: ymd(asOf), Indicators: inds, Windows: w,
		Provenance: c.ProvenanceAt("", asOf, "latest value of each macro_indicators series on or before the as-of date and its z-score over a trailing window",
			zConvention(w))}, nil
}

// indicatorsAt reads the indicators and z-scores their newest values.
func indicatorsAt(ctx context.Context, c *agents.Call, names []string, asOf time.Time, w ZWindows) ([]Indicator, error) {
	series, err := loadIndicators(ctx, c.DB, names, asOf, w)
	if err != nil {
		return nil, err
	}
	out := make([]Indicator, 0, len(series))
	for _, s := range series {
		z, err := s.latest()
		if err != nil {
			return nil, err
		}
		level, _ := s.levelOn(z.Date)
		transform := "level"
		if s.Spec.YoY {
			transform = "yoy"
		}
		out = append(out, Indicator{Indicator: s.Spec.Key, SeriesID: s.Spec.SeriesID, Transform: transform, Frequency: s.Frequency,
			Date: ymd(z.Date), Level: level, Value: z.Value, ZScore: z.Z, Mean: z.Mean, StdDev: z.StdDev, Window: s.Window,
			WindowStart: ymd(z.WindowStart), WindowEnd: ymd(z.Date), Observations: len(s.Levels), Values: len(s.Values),
			AgeDays: ageDays(z.Date, asOf)})
	}
	return out, nil
}
