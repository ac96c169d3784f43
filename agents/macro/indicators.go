package macro

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/quant"
	"github.com/dawsos/dawsos/storage"
)

// Indicators and their z-scores, shared by macro.get_indicators,
// macro.detect_regime and macro.detect_trend_shifts.
//
// An indicator is a macro_indicators series, either as stored ("T10Y2Y")
// or as its year-on-year change ("CPIAUCSL:yoy"): value / the value of the
// observation dated exactly one year earlier − 1, a decimal (0.03 = 3 %);
// an observation without one a year earlier has no y/y value.
//
// The z-score of an observation is (x − mean) / sd over the window of the
// last N values ending with it (the observation itself included), sd the
// sample standard deviation (ddof 1). N depends on the series' frequency,
// inferred from the median spacing of its observations: 252 observations
// for daily series (one trading year, DOMAIN.md §4), and for the others a
// span of years, since 252 monthly observations would be 21 years, which
// no stored monthly series holds (the demo holds about five):
// monthlyWindow (36, three years) for monthly, 104 for weekly, 20 for
// quarterly and 10 for annual series.

// yoySuffix marks an indicator as the y/y change of its series; ':' is not
// allowed in a series id, so the two never collide.
const yoySuffix = ":yoy"

// indicatorPattern is the form of an indicator name.
var indicatorPattern = regexp.MustCompile(`^[A-Za-z0-9_.]+(:yoy)?$`)

// Indicators of the regime (DOMAIN.md §4): the yield curve, unemployment,
// inflation y/y and the credit spread.
const (
	indCurve        = "T10Y2Y"
	indUnemployment = "UNRATE"
	indInflation    = "CPIAUCSL" + yoySuffix
	indCredit       = "BAA10Y"
)

// regimeIndicators is the default indicator list.
var regimeIndicators = []string{indCurve, indUnemployment, indInflation, indCredit}

// Frequencies of a series.
const (
	freqDaily     = "daily"
	freqWeekly    = "weekly"
	freqMonthly   = "monthly"
	freqQuarterly = "quarterly"
	freqAnnual    = "annual"
)

// Default z-score windows, in observations.
const (
	defaultDailyWindow   = 252
	defaultMonthlyWindow = 36
	weeklyWindow         = 104
	quarterlyWindow      = 20
	annualWindow         = 10
)

// ZWindows are the z-score windows in use.
type ZWindows struct {
	Daily   int `json:"daily" doc:"Observations of a daily series."`
	Weekly  int `json:"weekly"`
	Monthly int `json:"monthly"`
	// Quarterly and Annual are fixed.
	Quarterly int `json:"quarterly"`
	Annual    int `json:"annual"`
}

func newWindows(daily, monthly int) ZWindows {
	if daily == 0 {
		daily = defaultDailyWindow
	}
	if monthly == 0 {
		monthly = defaultMonthlyWindow
	}
	return ZWindows{Daily: daily, Weekly: weeklyWindow, Monthly: monthly, Quarterly: quarterlyWindow, Annual: annualWindow}
}

func (w ZWindows) of(freq string) int {
	switch freq {
	case freqDaily:
		return w.Daily
	case freqWeekly:
		return w.Weekly
	case freqMonthly:
		return w.Monthly
	case freqQuarterly:
		return w.Quarterly
	default:
		return w.Annual
	}
}

// zConvention is the provenance convention of every z-score.
func zConvention(w ZWindows) string {
	return fmt.Sprintf("z = (x − mean) / sd over the last N values ending with x (x included), sd with ddof 1; N by frequency "+
		"inferred from the median spacing of observations: daily %d, weekly %d, monthly %d, quarterly %d, annual %d; "+
		"y/y (':yoy') = value / value of the observation dated exactly one year earlier − 1, a decimal; levels in the series' units",
		w.Daily, w.Weekly, w.Monthly, w.Quarterly, w.Annual)
}

// indicatorSpec is a parsed indicator name.
type indicatorSpec struct {
	Key      string
	SeriesID string
	YoY      bool
}

func parseIndicator(name string) indicatorSpec {
	id, yoy := strings.CutSuffix(name, yoySuffix)
	return indicatorSpec{Key: name, SeriesID: id, YoY: yoy}
}

// checkIndicators validates indicator names for an input field.
func checkIndicators(field string, names []string) error {
	seen := map[string]bool{}
	for i, n := range names {
		if !indicatorPattern.MatchString(n) {
			return agents.FieldError(fmt.Sprintf("%s[%d]", field, i), "indicator %q is not a series id (letters, digits, '_' and '.') optionally followed by %s", n, yoySuffix)
		}
		if seen[n] {
			return agents.FieldError(fmt.Sprintf("%s[%d]", field, i), "indicator %q is listed twice", n)
		}
		seen[n] = true
	}
	return nil
}

// indicatorSeries is one indicator's values up to the as-of date.
type indicatorSeries struct {
	Spec      indicatorSpec
	Frequency string
	// Levels are the stored observations; Values the indicator's values
	// (the levels, or their y/y changes), both oldest first.
	Levels []storage.MacroObservation
	Values []storage.MacroObservation
	Window int
}

// zPoint is the z-score of one value.
type zPoint struct {
	Date        time.Time
	Value       float64
	Z           float64
	Mean        float64
	StdDev      float64
	WindowStart time.Time
}

// zAt is the z-score of Values[i] over the window ending with it.
func (s *indicatorSeries) zAt(i int) (zPoint, error) {
	if i+1 < s.Window {
		return zPoint{}, agents.InsufficientData(fmt.Sprintf("%s values up to %s (%s window)", s.Spec.Key, s.Values[i].Date.Format(time.DateOnly), s.Frequency),
			i+1, s.Window)
	}
	win := make([]float64, s.Window)
	for k := range win {
		win[k] = s.Values[i-s.Window+1+k].Value
	}
	mean, err := quant.Mean(win)
	if err != nil {
		return zPoint{}, fmt.Errorf("mean of %s: %w", s.Spec.Key, err)
	}
	sd, err := quant.StdDev(win)
	if err != nil {
		return zPoint{}, fmt.Errorf("standard deviation of %s: %w", s.Spec.Key, err)
	}
	if sd == 0 {
		return zPoint{}, fmt.Errorf("z-score of %s on %s: the %d values of its window are all equal: %w",
			s.Spec.Key, s.Values[i].Date.Format(time.DateOnly), s.Window, quant.ErrZeroVariance)
	}
	x := s.Values[i].Value
	return zPoint{Date: s.Values[i].Date, Value: x, Z: (x - mean) / sd, Mean: mean, StdDev: sd, WindowStart: s.Values[i-s.Window+1].Date}, nil
}

// latest is the z-score of the newest value.
func (s *indicatorSeries) latest() (zPoint, error) { return s.zAt(len(s.Values) - 1) }

// levelOn returns the stored level on a date.
func (s *indicatorSeries) levelOn(d time.Time) (float64, bool) {
	i := sort.Search(len(s.Levels), func(i int) bool { return !s.Levels[i].Date.Before(d) })
	if i < len(s.Levels) && s.Levels[i].Date.Equal(d) {
		return s.Levels[i].Value, true
	}
	return 0, false
}

// loadIndicators reads the observations of the indicators up to asOf and
// derives their values. Any indicator whose newest value has no full
// window is reported, all at once, as insufficient_data naming them.
func loadIndicators(ctx context.Context, q storage.Querier, names []string, asOf time.Time, w ZWindows) ([]*indicatorSeries, error) {
	specs := make([]indicatorSpec, len(names))
	var ids []string
	for i, n := range names {
		specs[i] = parseIndicator(n)
		ids = append(ids, specs[i].SeriesID)
	}
	obs, err := storage.MacroSeries(ctx, q, ids, time.Time{}, asOf)
	if err != nil {
		return nil, err
	}
	out := make([]*indicatorSeries, 0, len(specs))
	var short []string
	for _, sp := range specs {
		s, problem := buildIndicator(sp, obs[sp.SeriesID], w)
		if problem != "" {
			short = append(short, problem)
			continue
		}
		out = append(out, s)
	}
	if len(short) > 0 {
		return nil, agents.Errorf(agents.CodeInsufficientData, "on or before %s: %s", asOf.Format(time.DateOnly), strings.Join(short, "; "))
	}
	return out, nil
}

// buildIndicator derives an indicator from its series; a non-empty
// problem says why it cannot be z-scored on its newest value.
func buildIndicator(sp indicatorSpec, levels []storage.MacroObservation, w ZWindows) (*indicatorSeries, string) {
	if len(levels) < 2 {
		return nil, fmt.Sprintf("series %s has %d observations in macro_indicators, need at least 2 to tell its frequency", sp.SeriesID, len(levels))
	}
	freq, gap := inferFrequency(levels)
	if freq == "" {
		return nil, fmt.Sprintf("series %s has no regular frequency (median spacing %d days)", sp.SeriesID, gap)
	}
	s := &indicatorSeries{Spec: sp, Frequency: freq, Levels: levels, Values: levels, Window: w.of(freq)}
	if sp.YoY {
		s.Values = yoy(levels)
	}
	if len(s.Values) == 0 || len(s.Values) < s.Window {
		what := "observations"
		if sp.YoY {
			what = "y/y values (observations with one dated exactly a year earlier)"
		}
		return nil, fmt.Sprintf("%s has %d %s, need at least %d (%s window)", sp.Key, len(s.Values), what, s.Window, freq)
	}
	return s, ""
}

// yoy is the year-on-year change of each observation that has one dated
// exactly one year earlier.
func yoy(levels []storage.MacroObservation) []storage.MacroObservation {
	byDate := make(map[time.Time]float64, len(levels))
	for _, o := range levels {
		byDate[o.Date] = o.Value
	}
	out := []storage.MacroObservation{}
	for _, o := range levels {
		prev, ok := byDate[o.Date.AddDate(-1, 0, 0)]
		if !ok || prev == 0 {
			continue
		}
		out = append(out, storage.MacroObservation{Date: o.Date, Value: o.Value/prev - 1})
	}
	return out
}

// inferFrequency classifies a series by the median spacing of its last
// (up to) 61 observations; "" when it fits no frequency.
func inferFrequency(obs []storage.MacroObservation) (string, int) {
	from := max(1, len(obs)-60)
	gaps := make([]int, 0, len(obs)-from)
	for i := from; i < len(obs); i++ {
		gaps = append(gaps, int(math.Round(obs[i].Date.Sub(obs[i-1].Date).Hours()/24)))
	}
	sort.Ints(gaps)
	g := gaps[len(gaps)/2]
	switch {
	case g >= 1 && g <= 4:
		return freqDaily, g
	case g >= 5 && g <= 10:
		return freqWeekly, g
	case g >= 25 && g <= 35:
		return freqMonthly, g
	case g >= 80 && g <= 100:
		return freqQuarterly, g
	case g >= 350 && g <= 380:
		return freqAnnual, g
	}
	return "", g
}

// asOfArg is the as-of date of a computation: the argument when given,
// else the run's.
func asOfArg(c *agents.Call, field string, arg *string) (time.Time, error) {
	if arg != nil && *arg != "" {
		t, err := time.Parse(time.DateOnly, *arg)
		if err != nil {
			return time.Time{}, agents.FieldError(field, "%s %q is not YYYY-MM-DD", field, *arg)
		}
		return t, nil
	}
	t, err := c.Run.AsOf()
	if err != nil {
		return time.Time{}, err
	}
	if t.IsZero() {
		return time.Time{}, agents.FieldError("ctx.asof_date", "the run has no as-of date and no %s was given", field)
	}
	return t, nil
}

func ymd(t time.Time) string { return t.Format(time.DateOnly) }

func ageDays(from, to time.Time) int { return int(math.Round(to.Sub(from).Hours() / 24)) }
