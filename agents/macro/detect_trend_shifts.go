package macro

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Macro) detectTrendShifts() agents.Def {
	return agents.Read(agents.Meta{
		Name: "macro.detect_trend_shifts",
		Description: "What changed over the last lookback_weeks up to to_date (default the run's as-of date): regime changes " +
			"between consecutive regime_history rows (the last row before the window included as the baseline), crossings of " +
			"±threshold (default 1 and 2) by each indicator's z-score between consecutive observations (each z over its own " +
			"trailing window, as macro.get_indicators computes it), and, given factor exposures (risk.get_factor_exposure_history), " +
			"the change of each beta from the oldest to the newest row, significant beyond 2 combined standard errors.",
		Reads: []string{"macro_indicators", "regime_history"},
		Codes: []string{agents.CodeInsufficientData},
	}, a.DetectTrendShifts)
}

// defaultThresholds are the z levels whose crossings are reported, each
// as +t and −t.
var defaultThresholds = []float64{1, 2}

// betaShiftSigmas is how many combined standard errors a beta must move to
// count as a shift.
const betaShiftSigmas = 2.0

// TrendShiftsInput selects the window, indicators and thresholds.
type TrendShiftsInput struct {
	LookbackWeeks   int                 `json:"lookback_weeks,omitempty" jsonschema:"minimum=1,maximum=520,default=4" doc:"The window: from = to_date − 7 × weeks + 1 day, to_date included."`
	ToDate          string              `json:"to_date,omitempty" jsonschema:"format=date" doc:"End of the window; the run's as-of date when absent."`
	Indicators      []string            `json:"indicators,omitempty" jsonschema:"maxItems=50" doc:"As in macro.get_indicators; absent or empty: the regime inputs."`
	Thresholds      []float64           `json:"thresholds,omitempty" jsonschema:"maxItems=10" doc:"Absolute z levels (> 0); crossings of +t and −t are reported. Absent or empty: 1 and 2."`
	FactorExposures *TrendExposureInput `json:"factor_exposures,omitempty" doc:"The output of risk.get_factor_exposure_history; only history[].asof_date and its factors' factor, beta and std_error are read."`
}

// Validate checks indicators and thresholds.
func (in TrendShiftsInput) Validate() error {
	if err := checkIndicators("indicators", in.Indicators); err != nil {
		return err
	}
	seen := map[float64]bool{}
	for i, t := range in.Thresholds {
		if !(t > 0) || t > 10 || math.IsInf(t, 0) {
			return agents.FieldError(fmt.Sprintf("thresholds[%d]", i), "threshold %v is not in (0, 10]", t)
		}
		if seen[t] {
			return agents.FieldError(fmt.Sprintf("thresholds[%d]", i), "threshold %v is listed twice", t)
		}
		seen[t] = true
	}
	return nil
}

// TrendExposureInput is what the shifts read of a factor exposure history.
type TrendExposureInput struct {
	History []TrendExposureRow `json:"history"`
}

// TrendExposureRow is one stored exposure row.
type TrendExposureRow struct {
	AsOfDate string              `json:"asof_date"`
	Factors  []TrendExposureBeta `json:"factors"`
}

// TrendExposureBeta is one factor's beta.
type TrendExposureBeta struct {
	Factor   string  `json:"factor"`
	Beta     float64 `json:"beta"`
	StdError float64 `json:"std_error"`
}

// RegimeMark is a stored regime.
type RegimeMark struct {
	AsOfDate   string  `json:"asof_date"`
	Regime     string  `json:"regime"`
	Confidence float64 `json:"confidence"`
}

// RegimeChange is a row whose regime differs from the row before it.
type RegimeChange struct {
	Date         string  `json:"date" doc:"The as-of date of the row with the new regime."`
	PreviousDate string  `json:"previous_date" doc:"The as-of date of the row before it."`
	FromRegime   string  `json:"from_regime"`
	ToRegime     string  `json:"to_regime"`
	Confidence   float64 `json:"confidence" doc:"Of the new regime."`
}

// ZCrossing is a z-score crossing a level between two observations.
type ZCrossing struct {
	Date         string  `json:"date" doc:"Date of the first value on the other side of the level."`
	PreviousDate string  `json:"previous_date"`
	Indicator    string  `json:"indicator"`
	Level        float64 `json:"level" doc:"+threshold or −threshold."`
	Direction    string  `json:"direction" doc:"up (z_before < level ≤ z_after) or down (z_before ≥ level > z_after)."`
	ZBefore      float64 `json:"z_before"`
	ZAfter       float64 `json:"z_after"`
	Value        float64 `json:"value" doc:"The indicator's value on date."`
}

// IndicatorTrend is an indicator's z-score at the start and end of the
// window.
type IndicatorTrend struct {
	Indicator    string  `json:"indicator"`
	Frequency    string  `json:"frequency"`
	Window       int     `json:"window" doc:"z-score window, in observations."`
	StartDate    string  `json:"start_date" doc:"The newest value before the window (the baseline)."`
	StartZ       float64 `json:"start_z"`
	EndDate      string  `json:"end_date" doc:"The newest value on or before to_date."`
	EndZ         float64 `json:"end_z"`
	ZChange      float64 `json:"z_change" doc:"end_z − start_z."`
	Observations int     `json:"observations" doc:"Values dated inside the window."`
}

// BetaShift is a factor's beta change across the exposure history.
type BetaShift struct {
	Factor      string  `json:"factor"`
	FromDate    string  `json:"from_date"`
	ToDate      string  `json:"to_date"`
	BetaFrom    float64 `json:"beta_from"`
	BetaTo      float64 `json:"beta_to"`
	Change      float64 `json:"change" doc:"beta_to − beta_from."`
	Band        float64 `json:"band" doc:"2 × √(std_error_from² + std_error_to²)."`
	Significant bool    `json:"significant" doc:"|change| > band."`
}

// TrendShiftsOutput lists the shifts of the window, oldest first.
type TrendShiftsOutput struct {
	FromDate       string            `json:"from_date"`
	ToDate         string            `json:"to_date"`
	LookbackWeeks  int               `json:"lookback_weeks"`
	Thresholds     []float64         `json:"thresholds"`
	CurrentRegime  *RegimeMark       `json:"current_regime" doc:"The newest stored regime on or before to_date; null when none is stored."`
	BaselineRegime *RegimeMark       `json:"baseline_regime" doc:"The newest stored regime before the window; null when none."`
	RegimeRows     int               `json:"regime_rows" doc:"Stored regimes dated inside the window."`
	RegimeChanges  []RegimeChange    `json:"regime_changes"`
	Crossings      []ZCrossing       `json:"crossings" doc:"By date, then indicator."`
	Indicators     []IndicatorTrend  `json:"indicators"`
	BetaShifts     []BetaShift       `json:"beta_shifts" doc:"In the order of the newest exposure row's factors; empty without two exposure rows."`
	Shifts         int               `json:"shifts" doc:"regime changes + crossings + significant beta shifts."`
	Notes          []string          `json:"notes"`
	Provenance     agents.Provenance `json:"provenance"`
}

// DetectTrendShifts implements macro.detect_trend_shifts.
func (a *Macro) DetectTrendShifts(ctx context.Context, c *agents.Call, in TrendShiftsInput) (TrendShiftsOutput, error) {
	weeks := in.LookbackWeeks
	if weeks == 0 {
		weeks = 4
	}
	from, to, err := historyRange(c, "", in.ToDate, weeks, weeks)
	if err != nil {
		return TrendShiftsOutput{}, err
	}
	thresholds := in.Thresholds
	if len(thresholds) == 0 {
		thresholds = defaultThresholds
	}
	thresholds = append([]float64(nil), thresholds...)
	sort.Float64s(thresholds)
	names := in.Indicators
	if len(names) == 0 {
		names = regimeIndicators
	}
	w := newWindows(0, 0)
	out := TrendShiftsOutput{FromDate: ymd(from), ToDate: ymd(to), LookbackWeeks: weeks, Thresholds: thresholds,
		RegimeChanges: []RegimeChange{}, Crossings: []ZCrossing{}, Indicators: []IndicatorTrend{}, BetaShifts: []BetaShift{}, Notes: []string{},
		Provenance: c.ProvenanceAt("", to, "regime changes between consecutive regime_history rows; z-score crossings between consecutive "+
			"observations; beta changes between the oldest and newest factor exposure rows given",
			zConvention(w)+fmt.Sprintf("; a beta shift is significant when |Δβ| > %v × √(se₁² + se₂²)", betaShiftSigmas))}

	if err := regimeChanges(ctx, c.DB, from, to, &out); err != nil {
		return TrendShiftsOutput{}, err
	}
	series, err := loadIndicators(ctx, c.DB, names, to, w)
	if err != nil {
		return TrendShiftsOutput{}, err
	}
	for _, s := range series {
		if err := indicatorShifts(s, from, thresholds, &out); err != nil {
			return TrendShiftsOutput{}, err
		}
	}
	sort.SliceStable(out.Crossings, func(i, j int) bool { return out.Crossings[i].Date < out.Crossings[j].Date })
	if in.FactorExposures != nil {
		betaShifts(in.FactorExposures.History, &out)
	} else {
		out.Notes = append(out.Notes, "no factor exposures given: beta shifts not assessed")
	}
	out.Shifts = len(out.RegimeChanges) + len(out.Crossings)
	for _, b := range out.BetaShifts {
		if b.Significant {
			out.Shifts++
		}
	}
	return out, nil
}

// regimeChanges fills the regime part of out from regime_history.
func regimeChanges(ctx context.Context, q storage.Querier, from, to time.Time, out *TrendShiftsOutput) error {
	base, ok, err := storage.RegimeBefore(ctx, q, from)
	if err != nil {
		return err
	}
	rows, err := storage.RegimeHistory(ctx, q, from, to)
	if err != nil {
		return err
	}
	out.RegimeRows = len(rows)
	var seq []storage.RegimeRow
	if ok {
		out.BaselineRegime = &RegimeMark{AsOfDate: ymd(base.AsOfDate), Regime: base.Regime, Confidence: base.Confidence}
		seq = append(seq, base)
	}
	seq = append(seq, rows...)
	for i := 1; i < len(seq); i++ {
		if seq[i].Regime != seq[i-1].Regime {
			out.RegimeChanges = append(out.RegimeChanges, RegimeChange{Date: ymd(seq[i].AsOfDate), PreviousDate: ymd(seq[i-1].AsOfDate),
				FromRegime: seq[i-1].Regime, ToRegime: seq[i].Regime, Confidence: seq[i].Confidence})
		}
	}
	if len(seq) > 0 {
		last := seq[len(seq)-1]
		out.CurrentRegime = &RegimeMark{AsOfDate: ymd(last.AsOfDate), Regime: last.Regime, Confidence: last.Confidence}
	}
	switch {
	case len(seq) == 0:
		out.Notes = append(out.Notes, "no regime is stored on or before "+ymd(to)+": regime changes not assessed (macro.detect_regime writes regime_history)")
	case len(seq) == 1:
		out.Notes = append(out.Notes, "one stored regime up to "+ymd(to)+": no change can be seen")
	}
	return nil
}

// indicatorShifts adds an indicator's trend and crossings inside the
// window starting at from.
func indicatorShifts(s *indicatorSeries, from time.Time, thresholds []float64, out *TrendShiftsOutput) error {
	first := sort.Search(len(s.Values), func(i int) bool { return !s.Values[i].Date.Before(from) })
	if first == 0 {
		return agents.InsufficientData(fmt.Sprintf("%s values before %s (the baseline of the window)", s.Spec.Key, ymd(from)), 0, 1)
	}
	prev, err := s.zAt(first - 1)
	if err != nil {
		return err
	}
	tr := IndicatorTrend{Indicator: s.Spec.Key, Frequency: s.Frequency, Window: s.Window, StartDate: ymd(prev.Date), StartZ: prev.Z,
		EndDate: ymd(prev.Date), EndZ: prev.Z, Observations: len(s.Values) - first}
	for i := first; i < len(s.Values); i++ {
		cur, err := s.zAt(i)
		if err != nil {
			return err
		}
		for _, t := range thresholds {
			for _, level := range []float64{-t, t} {
				dir := ""
				switch {
				case prev.Z < level && cur.Z >= level:
					dir = "up"
				case prev.Z >= level && cur.Z < level:
					dir = "down"
				}
				if dir != "" {
					out.Crossings = append(out.Crossings, ZCrossing{Date: ymd(cur.Date), PreviousDate: ymd(prev.Date), Indicator: s.Spec.Key,
						Level: level, Direction: dir, ZBefore: prev.Z, ZAfter: cur.Z, Value: cur.Value})
				}
			}
		}
		prev = cur
		tr.EndDate, tr.EndZ = ymd(cur.Date), cur.Z
	}
	tr.ZChange = tr.EndZ - tr.StartZ
	if tr.Observations == 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%s has no value inside the window (newest %s)", s.Spec.Key, tr.EndDate))
	}
	out.Indicators = append(out.Indicators, tr)
	return nil
}

// betaShifts compares the oldest and newest exposure rows.
func betaShifts(hist []TrendExposureRow, out *TrendShiftsOutput) {
	if len(hist) < 2 {
		out.Notes = append(out.Notes, fmt.Sprintf("%d factor exposure rows given: beta shifts need two (risk.compute_factor_exposures writes them)", len(hist)))
		return
	}
	rows := append([]TrendExposureRow(nil), hist...)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].AsOfDate < rows[j].AsOfDate })
	old, cur := rows[0], rows[len(rows)-1]
	before := map[string]TrendExposureBeta{}
	for _, f := range old.Factors {
		before[f.Factor] = f
	}
	for _, f := range cur.Factors {
		b, ok := before[f.Factor]
		if !ok {
			continue
		}
		band := betaShiftSigmas * math.Sqrt(b.StdError*b.StdError+f.StdError*f.StdError)
		change := f.Beta - b.Beta
		out.BetaShifts = append(out.BetaShifts, BetaShift{Factor: f.Factor, FromDate: old.AsOfDate, ToDate: cur.AsOfDate, BetaFrom: b.Beta,
			BetaTo: f.Beta, Change: change, Band: band, Significant: math.Abs(change) > band})
	}
}
