package macro

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
)

func (a *Macro) suggestPresets() agents.Def {
	return agents.Compute(agents.Meta{
		Name: "alerts.suggest_presets",
		Description: "Suggests alert presets (name, condition JSON for alerts.create_if_threshold, threshold, rationale) from the " +
			"current regime (macro.detect_regime), the drawdown-at-risk (macro.compute_dar) and the trend shifts " +
			"(macro.detect_trend_shifts), each passed whole and optional, by the rules stated in this file.",
	}, a.SuggestPresets)
}

// Rules of the presets, DawsOS parameters:
const (
	// presetDaRRise: alert when the DaR fraction rises this much above the
	// current figure (1.25 = 25 % higher).
	presetDaRRise = 1.25
	// presetProbRise: alert when the probability of a contraction regime
	// rises this many points above its current value.
	presetProbRise = 0.20
	// presetConfidenceDrop: alert when the regime's confidence falls this
	// many points below its current value.
	presetConfidenceDrop = 0.20
	// presetMinZ: an indicator's z-score at or beyond this level gets a
	// preset at the next whole level (at most presetMaxZ).
	presetMinZ = 1.0
	presetMaxZ = 3.0
	// presetCooldown is the suggested cooldown, one day.
	presetCooldown = 86400
)

// presetDaRLevels are round loss levels a DaR preset also watches.
var presetDaRLevels = []float64{0.05, 0.10, 0.15, 0.20, 0.30, 0.50}

// PresetsInput takes the outputs of earlier steps, each optional.
type PresetsInput struct {
	PortfolioID *uuid.UUID      `json:"portfolio_id,omitempty" doc:"The portfolio the presets are for, if any."`
	Regime      *PresetRegimeIn `json:"regime,omitempty" doc:"The output of macro.detect_regime; regime, confidence and probabilities are read."`
	DaR         *PresetDaRIn    `json:"dar,omitempty" doc:"The output of macro.compute_dar; dar_fraction, confidence, horizon_days and method are read."`
	TrendShifts *PresetTrendsIn `json:"trend_shifts,omitempty" doc:"The output of macro.detect_trend_shifts; shifts, indicators and beta_shifts are read."`
}

// PresetRegimeIn is what the presets read of a regime.
type PresetRegimeIn struct {
	AsOfDate      string             `json:"asof_date,omitempty"`
	Regime        string             `json:"regime"`
	Confidence    float64            `json:"confidence"`
	Probabilities map[string]float64 `json:"probabilities,omitempty"`
}

// PresetDaRIn is what the presets read of a drawdown-at-risk.
type PresetDaRIn struct {
	DaRFraction  float64 `json:"dar_fraction"`
	Confidence   float64 `json:"confidence,omitempty"`
	HorizonDays  int     `json:"horizon_days,omitempty"`
	Method       string  `json:"method,omitempty"`
	BaseCurrency string  `json:"base_currency,omitempty"`
}

// PresetTrendsIn is what the presets read of trend shifts.
type PresetTrendsIn struct {
	FromDate   string              `json:"from_date,omitempty"`
	ToDate     string              `json:"to_date,omitempty"`
	Shifts     int                 `json:"shifts"`
	Indicators []PresetIndicatorIn `json:"indicators,omitempty"`
	BetaShifts []PresetBetaShiftIn `json:"beta_shifts,omitempty"`
}

// PresetIndicatorIn is one indicator's trend.
type PresetIndicatorIn struct {
	Indicator string  `json:"indicator"`
	StartZ    float64 `json:"start_z"`
	EndZ      float64 `json:"end_z"`
}

// PresetBetaShiftIn is one factor's beta shift.
type PresetBetaShiftIn struct {
	Factor      string  `json:"factor"`
	Change      float64 `json:"change"`
	Significant bool    `json:"significant"`
}

// AlertPreset is one suggested alert.
type AlertPreset struct {
	Name            string         `json:"name"`
	Source          string         `json:"source" doc:"regime, dar or trend_shifts: the input it came from."`
	AppliesTo       string         `json:"applies_to" doc:"The capability whose output to pass as figures to alerts.create_if_threshold."`
	Condition       AlertCondition `json:"condition" doc:"Ready for alerts.create_if_threshold."`
	Threshold       float64        `json:"threshold"`
	Current         float64        `json:"current" doc:"The figure's current value."`
	CooldownSeconds int            `json:"cooldown_seconds"`
	Rationale       string         `json:"rationale"`
}

// PresetsOutput lists the presets.
type PresetsOutput struct {
	PortfolioID *uuid.UUID        `json:"portfolio_id,omitempty"`
	Presets     []AlertPreset     `json:"presets"`
	Notes       []string          `json:"notes"`
	Provenance  agents.Provenance `json:"provenance"`
}

// SuggestPresets implements alerts.suggest_presets.
func (a *Macro) SuggestPresets(_ context.Context, c *agents.Call, in PresetsInput) (PresetsOutput, error) {
	out := PresetsOutput{PortfolioID: in.PortfolioID, Presets: []AlertPreset{}, Notes: []string{}}
	if in.Regime != nil {
		out.Presets = append(out.Presets, regimePresets(in.Regime)...)
	} else {
		out.Notes = append(out.Notes, "no regime given: no regime presets")
	}
	if in.DaR != nil {
		out.Presets = append(out.Presets, darPresets(in.DaR)...)
	} else {
		out.Notes = append(out.Notes, "no drawdown-at-risk given: no DaR presets")
	}
	if in.TrendShifts != nil {
		out.Presets = append(out.Presets, trendPresets(in.TrendShifts)...)
	} else {
		out.Notes = append(out.Notes, "no trend shifts given: no trend presets")
	}
	out.Provenance = c.Provenance(fmt.Sprintf("rules of agents/macro/suggest_presets.go: DaR ≥ %.2f × current and the next round level; "+
		"contraction probability ≥ current + %.2f in an expansion; regime confidence < current − %.2f; |z| ≥ the next whole level "+
		"for indicators at |z| ≥ %.0f; |Δβ| ≥ the shift for significant beta shifts; any new trend shift",
		presetDaRRise, presetProbRise, presetConfidenceDrop, presetMinZ),
		"fractions as decimals (0.05 = 5 %); thresholds rounded to 4 places")
	return out, nil
}

func presetRound4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

func regimePresets(r *PresetRegimeIn) []AlertPreset {
	var out []AlertPreset
	const applies = "macro.detect_regime"
	if strings.HasSuffix(r.Regime, "_EXPANSION") {
		for _, contraction := range []string{"EARLY_CONTRACTION", "DEEP_CONTRACTION"} {
			p, ok := r.Probabilities[contraction]
			if !ok {
				continue
			}
			th := presetRound4(math.Min(0.95, p+presetProbRise))
			out = append(out, AlertPreset{Name: "Regime: " + strings.ToLower(strings.ReplaceAll(contraction, "_", " ")) + " risk rising",
				Source: "regime", AppliesTo: applies, Condition: AlertCondition{Metric: "probabilities." + contraction, Operator: opGTE, Threshold: th},
				Threshold: th, Current: p, CooldownSeconds: presetCooldown,
				Rationale: fmt.Sprintf("the regime is %s; the probability of %s is %.4g now: alert when it reaches %.4g (+%.2f)",
					r.Regime, contraction, p, th, presetProbRise)})
		}
	}
	th := presetRound4(math.Max(0, r.Confidence-presetConfidenceDrop))
	out = append(out, AlertPreset{Name: "Regime: conviction in " + r.Regime + " weakening", Source: "regime", AppliesTo: applies,
		Condition: AlertCondition{Metric: "confidence", Operator: opLT, Threshold: th}, Threshold: th, Current: r.Confidence,
		CooldownSeconds: presetCooldown,
		Rationale: fmt.Sprintf("the regime %s is detected with confidence %.4g: alert when it falls below %.4g (−%.2f), a sign of a "+
			"transition", r.Regime, r.Confidence, th, presetConfidenceDrop)})
	return out
}

func darPresets(d *PresetDaRIn) []AlertPreset {
	const applies = "macro.compute_dar"
	what := "drawdown-at-risk"
	if d.Confidence > 0 && d.HorizonDays > 0 {
		what = fmt.Sprintf("%.4g %d-day drawdown-at-risk (%s)", d.Confidence, d.HorizonDays, d.Method)
	}
	var out []AlertPreset
	if d.DaRFraction > 0 {
		th := presetRound4(d.DaRFraction * presetDaRRise)
		out = append(out, AlertPreset{Name: "DaR: up 25 %", Source: "dar", AppliesTo: applies,
			Condition: AlertCondition{Metric: "dar_fraction", Operator: opGTE, Threshold: th}, Threshold: th, Current: d.DaRFraction,
			CooldownSeconds: presetCooldown,
			Rationale:       fmt.Sprintf("the %s is %.4g of market value: alert when it reaches %.4g (× %.2f)", what, d.DaRFraction, th, presetDaRRise)})
	}
	for _, lv := range presetDaRLevels {
		if lv > d.DaRFraction*presetDaRRise || (d.DaRFraction <= 0 && lv > 0) {
			out = append(out, AlertPreset{Name: fmt.Sprintf("DaR: %g %% of value", lv*100), Source: "dar", AppliesTo: applies,
				Condition: AlertCondition{Metric: "dar_fraction", Operator: opGTE, Threshold: lv}, Threshold: lv, Current: d.DaRFraction,
				CooldownSeconds: presetCooldown,
				Rationale:       fmt.Sprintf("the %s is %.4g: alert at the next round loss level above the 25 %% rise, %g", what, d.DaRFraction, lv)})
			break
		}
	}
	return out
}

func trendPresets(t *PresetTrendsIn) []AlertPreset {
	const applies = "macro.detect_trend_shifts"
	window := ""
	if t.FromDate != "" && t.ToDate != "" {
		window = " from " + t.FromDate + " to " + t.ToDate
	}
	th := float64(t.Shifts + 1)
	out := []AlertPreset{{Name: "Trends: a new shift", Source: "trend_shifts", AppliesTo: applies,
		Condition: AlertCondition{Metric: "shifts", Operator: opGTE, Threshold: th}, Threshold: th, Current: float64(t.Shifts),
		CooldownSeconds: presetCooldown,
		Rationale:       fmt.Sprintf("%d shifts (regime changes, z-score crossings, significant beta shifts)%s: alert on one more", t.Shifts, window)}}
	inds := append([]PresetIndicatorIn(nil), t.Indicators...)
	sort.SliceStable(inds, func(i, j int) bool { return math.Abs(inds[i].EndZ) > math.Abs(inds[j].EndZ) })
	for _, ind := range inds {
		az := math.Abs(ind.EndZ)
		if az < presetMinZ || !scenFinite(az) {
			continue
		}
		lv := math.Min(presetMaxZ, math.Floor(az)+1)
		if lv <= az {
			continue // already beyond the highest level watched
		}
		out = append(out, AlertPreset{Name: "Indicator: " + ind.Indicator + " z-score beyond ±" + fmt.Sprint(lv), Source: "trend_shifts",
			AppliesTo: applies, Condition: AlertCondition{Metric: "indicators[indicator=" + ind.Indicator + "].end_z", Operator: opAbsGTE, Threshold: lv},
			Threshold: lv, Current: ind.EndZ, CooldownSeconds: presetCooldown,
			Rationale: fmt.Sprintf("%s's z-score moved from %.4g to %.4g%s: alert when |z| reaches %g", ind.Indicator, ind.StartZ, ind.EndZ, window, lv)})
	}
	for _, b := range t.BetaShifts {
		if !b.Significant || !scenFinite(b.Change) {
			continue
		}
		th := presetRound4(math.Abs(b.Change))
		out = append(out, AlertPreset{Name: "Exposure: " + b.Factor + " beta shifting", Source: "trend_shifts", AppliesTo: applies,
			Condition: AlertCondition{Metric: "beta_shifts[factor=" + b.Factor + "].change", Operator: opAbsGTE, Threshold: th},
			Threshold: th, Current: b.Change, CooldownSeconds: presetCooldown,
			Rationale: fmt.Sprintf("the portfolio's %s beta moved by %.4g%s, beyond its standard-error band: alert on a move as large again",
				b.Factor, b.Change, window)})
	}
	return out
}
