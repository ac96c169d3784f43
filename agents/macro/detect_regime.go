package macro

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Macro) detectRegime() agents.Def {
	return agents.Write(agents.Meta{
		Name: "macro.detect_regime",
		Description: "The macro regime on the as-of date (EARLY_EXPANSION, MID_EXPANSION, LATE_EXPANSION, EARLY_CONTRACTION, " +
			"DEEP_CONTRACTION) from the z-scores of T10Y2Y, UNRATE, CPIAUCSL y/y and BAA10Y: each regime's score is the sum of " +
			"weight × z-score over a fixed table (regimeWeights), probabilities a softmax of the scores at temperature 1, " +
			"confidence the top probability, drivers each z-score's contribution to the regime found. Upserts regime_history on the date.",
		Reads:  []string{"macro_indicators"},
		Writes: []string{"regime_history"},
		Codes:  []string{agents.CodeInsufficientData},
	}, a.DetectRegime)
}

// Regime names, as regime_history accepts them.
const (
	RegimeEarlyExpansion   = "EARLY_EXPANSION"
	RegimeMidExpansion     = "MID_EXPANSION"
	RegimeLateExpansion    = "LATE_EXPANSION"
	RegimeEarlyContraction = "EARLY_CONTRACTION"
	RegimeDeepContraction  = "DEEP_CONTRACTION"
)

// regimeWeight is one row of the scoring rule: how much each indicator's
// z-score adds to a regime's score.
type regimeWeight struct {
	Regime  string
	Weights map[string]float64
}

// regimeWeights is the scoring rule: score(regime) = Σ weight × z over the
// four indicators. Each row is the regime's typical z-score profile, and
// every row has the same length (Σ w² = 2.5), so the regime with the
// highest score is also the profile nearest to the z-scores and no regime
// is favoured when the indicators sit at their averages (all scores 0).
//
//	                     T10Y2Y  UNRATE  CPI y/y  BAA10Y
//	EARLY_EXPANSION        +1.0    +0.5     −1.0    −0.5  steep curve, unemployment still high, low inflation, spreads narrowing
//	MID_EXPANSION          +0.5    −1.0     −0.5    −1.0  positive curve, unemployment below average, tame inflation, tight spreads
//	LATE_EXPANSION         −1.0    −0.5     +1.0    −0.5  flat or inverted curve, low unemployment, high inflation, tight spreads
//	EARLY_CONTRACTION      −1.0    +0.5     +0.5    +1.0  inverted curve, unemployment rising, inflation still high, spreads widening
//	DEEP_CONTRACTION       +0.5    +1.0     −0.5    +1.0  curve steepening on cuts, high unemployment, falling inflation, wide spreads
//
// The order of the rows breaks ties: of regimes with equal scores the first
// listed is reported (their probabilities are equal).
var regimeWeights = []regimeWeight{
	{RegimeEarlyExpansion, map[string]float64{indCurve: 1.0, indUnemployment: 0.5, indInflation: -1.0, indCredit: -0.5}},
	{RegimeMidExpansion, map[string]float64{indCurve: 0.5, indUnemployment: -1.0, indInflation: -0.5, indCredit: -1.0}},
	{RegimeLateExpansion, map[string]float64{indCurve: -1.0, indUnemployment: -0.5, indInflation: 1.0, indCredit: -0.5}},
	{RegimeEarlyContraction, map[string]float64{indCurve: -1.0, indUnemployment: 0.5, indInflation: 0.5, indCredit: 1.0}},
	{RegimeDeepContraction, map[string]float64{indCurve: 0.5, indUnemployment: 1.0, indInflation: -0.5, indCredit: 1.0}},
}

// regimeTemperature is the softmax temperature: p = exp(score/T) / Σ exp(score/T).
const regimeTemperature = 1.0

// RegimeInput optionally fixes the date.
type RegimeInput struct {
	AsOfDate *string `json:"asof_date,omitempty" jsonschema:"format=date" doc:"Detect the regime of this date (observations on or before it); the run's as-of date when absent."`
}

// RegimeContribution is one indicator's part of a regime's score.
type RegimeContribution struct {
	Indicator    string  `json:"indicator"`
	ZScore       float64 `json:"z_score"`
	Weight       float64 `json:"weight"`
	Contribution float64 `json:"contribution" doc:"weight × z_score."`
}

// RegimeScore is one regime's score and probability.
type RegimeScore struct {
	Regime        string               `json:"regime"`
	Score         float64              `json:"score" doc:"Σ weight × z-score."`
	Probability   float64              `json:"probability" doc:"softmax(score / temperature)."`
	Contributions []RegimeContribution `json:"contributions" doc:"In the order of the indicators."`
}

// RegimeDriver is a z-score that pushed the regime found towards (for) or
// away from (against) itself.
type RegimeDriver struct {
	Indicator    string  `json:"indicator"`
	ZScore       float64 `json:"z_score"`
	Regime       string  `json:"regime" doc:"The regime pushed: the one found."`
	Weight       float64 `json:"weight"`
	Contribution float64 `json:"contribution" doc:"weight × z_score."`
	Direction    string  `json:"direction" doc:"for (contribution > 0), against (< 0) or none."`
	Strongest    string  `json:"strongest" doc:"The regime this z-score pushed up the most (largest weight × z), whichever was found."`
}

// RegimeWeightRow is one row of the scoring rule as applied.
type RegimeWeightRow struct {
	Regime  string             `json:"regime"`
	Weights map[string]float64 `json:"weights" doc:"Weight per indicator."`
}

// RegimeRule states the rule applied.
type RegimeRule struct {
	Score       string            `json:"score"`
	Probability string            `json:"probability"`
	Temperature float64           `json:"temperature"`
	TieBreak    string            `json:"tie_break"`
	Weights     []RegimeWeightRow `json:"weights"`
}

// RegimeOutput is the regime found and why.
type RegimeOutput struct {
	AsOfDate      string             `json:"asof_date" doc:"The regime_history row's date."`
	Regime        string             `json:"regime"`
	Confidence    float64            `json:"confidence" doc:"The regime's probability."`
	Margin        float64            `json:"margin" doc:"The regime's probability minus the runner-up's."`
	RunnerUp      string             `json:"runner_up"`
	Probabilities map[string]float64 `json:"probabilities" doc:"Per regime; they add up to 1."`
	Scores        []RegimeScore      `json:"scores" doc:"In the order of the rule's rows."`
	Drivers       []RegimeDriver     `json:"drivers" doc:"Contributions to the regime found, largest in absolute value first."`
	Indicators    []Indicator        `json:"indicators" doc:"The z-scored inputs, with their dates and windows."`
	Rule          RegimeRule         `json:"rule"`
	Provenance    agents.Provenance  `json:"provenance"`
}

// DetectRegime implements macro.detect_regime.
func (a *Macro) DetectRegime(ctx context.Context, c *agents.Call, in RegimeInput) (RegimeOutput, error) {
	asOf, err := asOfArg(c, "asof_date", in.AsOfDate)
	if err != nil {
		return RegimeOutput{}, err
	}
	w := newWindows(0, 0)
	inds, err := indicatorsAt(ctx, c, regimeIndicators, asOf, w)
	if err != nil {
		return RegimeOutput{}, err
	}
	z := map[string]float64{}
	for _, ind := range inds {
		z[ind.Indicator] = ind.ZScore
	}
	out := scoreRegime(z)
	out.AsOfDate, out.Indicators = ymd(asOf), inds
	out.Provenance = c.ProvenanceAt("", asOf, "score per regime = Σ weight × z-score (the table in rule.weights), probabilities = softmax(score / 1), "+
		"confidence = the top probability; ties go to the regime listed first", zConvention(w))
	if err := storeRegime(ctx, c.DB, asOf, out, z); err != nil {
		return RegimeOutput{}, err
	}
	return out, nil
}

// scoreRegime applies the rule to z-scores keyed by indicator.
func scoreRegime(z map[string]float64) RegimeOutput {
	out := RegimeOutput{Probabilities: map[string]float64{}, Scores: []RegimeScore{}, Drivers: []RegimeDriver{},
		Rule: RegimeRule{Score: "Σ over indicators of weight × z-score", Probability: "exp(score / temperature) / Σ exp(score / temperature)",
			Temperature: regimeTemperature, TieBreak: "of regimes with equal scores, the first in weights is reported", Weights: []RegimeWeightRow{}}}
	best, top := 0, math.Inf(-1)
	for i, rw := range regimeWeights {
		s := RegimeScore{Regime: rw.Regime, Contributions: []RegimeContribution{}}
		for _, ind := range regimeIndicators {
			wt := rw.Weights[ind]
			s.Score += wt * z[ind]
			s.Contributions = append(s.Contributions, RegimeContribution{Indicator: ind, ZScore: z[ind], Weight: wt, Contribution: wt * z[ind]})
		}
		if s.Score > top {
			best, top = i, s.Score
		}
		out.Scores = append(out.Scores, s)
		weights := make(map[string]float64, len(rw.Weights))
		for k, v := range rw.Weights {
			weights[k] = v
		}
		out.Rule.Weights = append(out.Rule.Weights, RegimeWeightRow{Regime: rw.Regime, Weights: weights})
	}
	// Softmax, shifted by the top score so no exponential overflows.
	sum := 0.0
	for i := range out.Scores {
		out.Scores[i].Probability = math.Exp((out.Scores[i].Score - top) / regimeTemperature)
		sum += out.Scores[i].Probability
	}
	second := -1
	for i := range out.Scores {
		out.Scores[i].Probability /= sum
		out.Probabilities[out.Scores[i].Regime] = out.Scores[i].Probability
		if i != best && (second < 0 || out.Scores[i].Score > out.Scores[second].Score) {
			second = i
		}
	}
	out.Regime, out.Confidence = out.Scores[best].Regime, out.Scores[best].Probability
	out.RunnerUp, out.Margin = out.Scores[second].Regime, out.Scores[best].Probability-out.Scores[second].Probability
	for _, ct := range out.Scores[best].Contributions {
		d := RegimeDriver{Indicator: ct.Indicator, ZScore: ct.ZScore, Regime: out.Regime, Weight: ct.Weight, Contribution: ct.Contribution, Direction: "none"}
		switch {
		case ct.Contribution > 0:
			d.Direction = "for"
		case ct.Contribution < 0:
			d.Direction = "against"
		}
		strongest := math.Inf(-1)
		for _, rw := range regimeWeights {
			if v := rw.Weights[ct.Indicator] * ct.ZScore; v > strongest {
				d.Strongest, strongest = rw.Regime, v
			}
		}
		out.Drivers = append(out.Drivers, d)
	}
	sort.SliceStable(out.Drivers, func(i, j int) bool {
		return math.Abs(out.Drivers[i].Contribution) > math.Abs(out.Drivers[j].Contribution)
	})
	return out
}

// storeRegime upserts the regime_history row of the date.
func storeRegime(ctx context.Context, q storage.Querier, asOf time.Time, out RegimeOutput, z map[string]float64) error {
	zs, err := json.Marshal(z)
	if err != nil {
		return fmt.Errorf("encode z-scores: %w", err)
	}
	ps, err := json.Marshal(out.Probabilities)
	if err != nil {
		return fmt.Errorf("encode probabilities: %w", err)
	}
	ds, err := json.Marshal(out.Drivers)
	if err != nil {
		return fmt.Errorf("encode drivers: %w", err)
	}
	_, err = storage.UpsertRegime(ctx, q, storage.RegimeRow{AsOfDate: asOf, Regime: out.Regime, Confidence: out.Confidence,
		ZScores: zs, Probabilities: ps, Drivers: ds})
	return err
}
