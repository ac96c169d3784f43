package macro

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// The cycle engine shared by cycles.compute_short_term, compute_long_term,
// compute_empire, compute_civil and macro.compute_cycles. Each cycle is
// data (a cycleDef in its capability's file): the signals it derives from
// named macro_indicators series, a score (a linear combination of
// signals), and an ordered list of rules, each a conjunction of bounds on
// signals; the first rule that holds names the phase, and the last rule
// has no bounds, so exactly one phase is assigned once every signal
// exists. A signal whose series (or an observation it needs) is missing
// makes the whole cycle insufficient_data naming every missing series and
// date: a phase is never assigned without its inputs.

// Signal kinds.
const (
	// sigLevel: the newest observation.
	sigLevel = "level"
	// sigYoY: newest / the observation dated exactly LagMonths earlier − 1.
	sigYoY = "ratio_change"
	// sigChange: newest − the observation dated exactly LagMonths earlier.
	sigChange = "change"
	// sigRange: (newest − min) / (max − min) over the observations dated
	// within LagMonths up to the newest (newest included); at least MinObs.
	sigRange = "range_position"
	// sigComposite: the mean of the components' normalised newest values.
	sigComposite = "composite"
	// sigCompositeChange: the composite of the newest values minus the
	// composite of the observations dated exactly LagMonths before each
	// component's newest.
	sigCompositeChange = "composite_change"
)

// component is one series of a composite, normalised to (x − Lo) / (Hi −
// Lo), or 1 − that when Invert.
type component struct {
	Series string  `json:"series_id"`
	Lo     float64 `json:"lo"`
	Hi     float64 `json:"hi"`
	Invert bool    `json:"invert,omitempty"`
}

func (c component) norm(x float64) float64 {
	v := (x - c.Lo) / (c.Hi - c.Lo)
	if c.Invert {
		return 1 - v
	}
	return v
}

// signalDef is one signal of a cycle.
type signalDef struct {
	Name       string
	Kind       string
	Series     string
	LagMonths  int
	MinObs     int
	Components []component
	Unit       string
	Doc        string
}

// series lists the series a signal reads.
func (s signalDef) series() []string {
	if len(s.Components) == 0 {
		return []string{s.Series}
	}
	out := make([]string, len(s.Components))
	for i, c := range s.Components {
		out[i] = c.Series
	}
	return out
}

// scoreTerm is coefficient × signal.
type scoreTerm struct {
	Signal string
	Coef   float64
}

// condition bounds one signal (or "score"): Op is "<" or ">=".
type condition struct {
	Signal string  `json:"signal"`
	Op     string  `json:"op"`
	Value  float64 `json:"value"`
}

func (c condition) holds(v float64) bool {
	if c.Op == "<" {
		return v < c.Value
	}
	return v >= c.Value
}

func (c condition) String() string { return fmt.Sprintf("%s %s %v", c.Signal, c.Op, c.Value) }

// phaseRule assigns Phase when every condition holds.
type phaseRule struct {
	Phase string
	When  []condition
	Why   string
}

// phaseDef is one phase of a cycle, in cycle order. Tilt is what the
// phase means for risk assets in cycles.aggregate_overview: −1 tailwind,
// 0 neutral, +1 headwind.
type phaseDef struct {
	Name  string
	Label string
	Tilt  int
	Doc   string
}

// cycleDef is a cycle as data.
type cycleDef struct {
	Cycle      string
	Name       string
	Phases     []phaseDef
	Signals    []signalDef
	ScoreName  string
	ScoreTerms []scoreTerm
	ScoreDoc   string
	Rules      []phaseRule
}

// seriesIDs lists every series the cycle reads, in order of first use.
func (d cycleDef) seriesIDs() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range d.Signals {
		for _, id := range s.series() {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

func (d cycleDef) phase(name string) (int, phaseDef, bool) {
	for i, p := range d.Phases {
		if p.Name == name {
			return i, p, true
		}
	}
	return 0, phaseDef{}, false
}

// CycleInputsInput optionally fixes the date of a cycle computation.
type CycleInputsInput struct {
	AsOfDate *string `json:"asof_date,omitempty" jsonschema:"format=date" doc:"Compute the phase of this date (observations on or before it); the run's as-of date when absent."`
}

// CycleSeries is one input series as used.
type CycleSeries struct {
	SeriesID     string  `json:"series_id"`
	LatestDate   string  `json:"latest_date" doc:"Its newest observation on or before the as-of date."`
	LatestValue  float64 `json:"latest_value" doc:"In the series' units."`
	AgeDays      int     `json:"age_days" doc:"Days from latest_date to the as-of date."`
	Observations int     `json:"observations" doc:"Stored observations on or before the as-of date."`
}

// CycleSignal is one derived signal.
type CycleSignal struct {
	Name    string   `json:"name"`
	Value   float64  `json:"value"`
	Unit    string   `json:"unit"`
	Formula string   `json:"formula"`
	Series  []string `json:"series"`
	Dates   []string `json:"dates" doc:"Observation dates the value was computed from."`
}

// CyclePhaseInfo describes one phase of the cycle.
type CyclePhaseInfo struct {
	Phase       string `json:"phase"`
	Label       string `json:"label"`
	Description string `json:"description"`
	Tilt        int    `json:"tilt" doc:"For risk assets: −1 tailwind, 0 neutral, +1 headwind."`
}

// CycleRuleRow is one rule of the mapping.
type CycleRuleRow struct {
	Phase      string      `json:"phase"`
	Conditions []condition `json:"conditions" doc:"All must hold; empty: always (the fallback)."`
	Why        string      `json:"why"`
}

// CycleRule is the whole mapping from signals to a phase and a score.
type CycleRule struct {
	Score   string           `json:"score" doc:"The score's formula."`
	Order   string           `json:"order"`
	Rules   []CycleRuleRow   `json:"rules"`
	Phases  []CyclePhaseInfo `json:"phases" doc:"In cycle order."`
	Signals []string         `json:"signals" doc:"Each signal's formula."`
}

// CycleOutput is a cycle's phase on a date and what it was computed from.
type CycleOutput struct {
	Cycle       string            `json:"cycle" doc:"STDC, LTDC, EMPIRE or CIVIL (the cycle_phases row's cycle)."`
	Name        string            `json:"name"`
	AsOfDate    string            `json:"asof_date" doc:"The cycle_phases row's as_of_date."`
	Phase       string            `json:"phase" doc:"As stored in cycle_phases."`
	Label       string            `json:"label" doc:"The phase's name in the cycle's literature."`
	PhaseIndex  int               `json:"phase_index" doc:"1-based position of the phase in the cycle."`
	PhaseCount  int               `json:"phase_count"`
	Tilt        int               `json:"tilt" doc:"For risk assets: −1 tailwind, 0 neutral, +1 headwind."`
	Score       float64           `json:"score" doc:"As stored in cycle_phases; see score_name and rule.score."`
	ScoreName   string            `json:"score_name"`
	MatchedRule int               `json:"matched_rule" doc:"1-based index of the rule that assigned the phase."`
	Inputs      []CycleSeries     `json:"inputs" doc:"Every series the cycle reads."`
	Signals     []CycleSignal     `json:"signals"`
	Rule        CycleRule         `json:"rule"`
	Provenance  agents.Provenance `json:"provenance"`
}

// computeCycle evaluates a cycle at asOf from the stored observations.
func computeCycle(ctx context.Context, q storage.Querier, d cycleDef, asOf time.Time) (CycleOutput, error) {
	ids := d.seriesIDs()
	obs, err := storage.MacroSeries(ctx, q, ids, time.Time{}, asOf)
	if err != nil {
		return CycleOutput{}, err
	}
	out := CycleOutput{Cycle: d.Cycle, Name: d.Name, AsOfDate: ymd(asOf), PhaseCount: len(d.Phases), ScoreName: d.ScoreName,
		Inputs: []CycleSeries{}, Signals: []CycleSignal{}, Rule: d.rule()}
	var missing []string
	for _, id := range ids {
		s := obs[id]
		if len(s) == 0 {
			missing = append(missing, fmt.Sprintf("series %s has no observation on or before %s", id, ymd(asOf)))
			continue
		}
		last := s[len(s)-1]
		out.Inputs = append(out.Inputs, CycleSeries{SeriesID: id, LatestDate: ymd(last.Date), LatestValue: last.Value,
			AgeDays: ageDays(last.Date, asOf), Observations: len(s)})
	}
	values := map[string]float64{}
	if len(missing) == 0 {
		for _, sd := range d.Signals {
			sig, problem := evalSignal(sd, obs)
			if problem != "" {
				missing = append(missing, problem)
				continue
			}
			values[sd.Name] = sig.Value
			out.Signals = append(out.Signals, sig)
		}
	}
	if len(missing) > 0 {
		return CycleOutput{}, agents.Errorf(agents.CodeInsufficientData, "%s (%s) on %s: %s", d.Name, d.Cycle, ymd(asOf), strings.Join(missing, "; "))
	}
	for _, t := range d.ScoreTerms {
		out.Score += t.Coef * values[t.Signal]
	}
	values["score"] = out.Score
	for i, r := range d.Rules {
		ok := true
		for _, cnd := range r.When {
			if !cnd.holds(values[cnd.Signal]) {
				ok = false
				break
			}
		}
		if ok {
			idx, p, _ := d.phase(r.Phase)
			out.Phase, out.Label, out.PhaseIndex, out.Tilt, out.MatchedRule = p.Name, p.Label, idx+1, p.Tilt, i+1
			return out, nil
		}
	}
	return CycleOutput{}, agents.Errorf(agents.CodeInternal, "%s: no rule holds, and the last rule must always hold", d.Cycle)
}

// rule states the cycle's mapping.
func (d cycleDef) rule() CycleRule {
	r := CycleRule{Score: d.ScoreName + " = " + d.ScoreDoc, Order: "rules are tried in order; the first whose conditions all hold assigns its phase",
		Rules: []CycleRuleRow{}, Phases: []CyclePhaseInfo{}, Signals: []string{}}
	for _, ru := range d.Rules {
		conds := append([]condition{}, ru.When...)
		r.Rules = append(r.Rules, CycleRuleRow{Phase: ru.Phase, Conditions: conds, Why: ru.Why})
	}
	for _, p := range d.Phases {
		r.Phases = append(r.Phases, CyclePhaseInfo{Phase: p.Name, Label: p.Label, Description: p.Doc, Tilt: p.Tilt})
	}
	for _, s := range d.Signals {
		r.Signals = append(r.Signals, s.Name+" = "+s.Doc)
	}
	return r
}

// obsOn finds the observation of a series dated exactly d.
func obsOn(s []storage.MacroObservation, d time.Time) (float64, bool) {
	i := sort.Search(len(s), func(i int) bool { return !s[i].Date.Before(d) })
	if i < len(s) && s[i].Date.Equal(d) {
		return s[i].Value, true
	}
	return 0, false
}

// evalSignal computes one signal; a non-empty problem names what is
// missing.
func evalSignal(sd signalDef, obs map[string][]storage.MacroObservation) (CycleSignal, string) {
	sig := CycleSignal{Name: sd.Name, Unit: sd.Unit, Formula: sd.Doc, Series: sd.series(), Dates: []string{}}
	lagged := func(id string) (storage.MacroObservation, storage.MacroObservation, string) {
		s := obs[id]
		last := s[len(s)-1]
		then := last.Date.AddDate(0, -sd.LagMonths, 0)
		v, ok := obsOn(s, then)
		if !ok {
			return last, storage.MacroObservation{}, fmt.Sprintf("series %s has no observation dated %s (%d months before its newest, %s), which %s needs",
				id, ymd(then), sd.LagMonths, ymd(last.Date), sd.Name)
		}
		return last, storage.MacroObservation{Date: then, Value: v}, ""
	}
	switch sd.Kind {
	case sigLevel:
		s := obs[sd.Series]
		last := s[len(s)-1]
		sig.Value, sig.Dates = last.Value, []string{ymd(last.Date)}
	case sigYoY, sigChange:
		last, then, problem := lagged(sd.Series)
		if problem != "" {
			return sig, problem
		}
		if sd.Kind == sigYoY {
			if then.Value == 0 {
				return sig, fmt.Sprintf("series %s is 0 on %s, so %s has no ratio", sd.Series, ymd(then.Date), sd.Name)
			}
			sig.Value = last.Value/then.Value - 1
		} else {
			sig.Value = last.Value - then.Value
		}
		sig.Dates = []string{ymd(then.Date), ymd(last.Date)}
	case sigRange:
		s := obs[sd.Series]
		last := s[len(s)-1]
		start := last.Date.AddDate(0, -sd.LagMonths, 0)
		lo, hi, n := last.Value, last.Value, 0
		first := last.Date
		for _, o := range s {
			if !o.Date.After(start) {
				continue
			}
			lo, hi, n = min(lo, o.Value), max(hi, o.Value), n+1
			if o.Date.Before(first) {
				first = o.Date
			}
		}
		if n < sd.MinObs {
			return sig, fmt.Sprintf("series %s has %d observations in the %d months up to %s, %s needs at least %d",
				sd.Series, n, sd.LagMonths, ymd(last.Date), sd.Name, sd.MinObs)
		}
		if hi == lo {
			return sig, fmt.Sprintf("series %s does not vary in the %d months up to %s, so %s has no range", sd.Series, sd.LagMonths, ymd(last.Date), sd.Name)
		}
		sig.Value, sig.Dates = (last.Value-lo)/(hi-lo), []string{ymd(first), ymd(last.Date)}
	case sigComposite, sigCompositeChange:
		var problems []string
		now, before := 0.0, 0.0
		for _, c := range sd.Components {
			if sd.Kind == sigComposite {
				s := obs[c.Series]
				last := s[len(s)-1]
				now += c.norm(last.Value)
				sig.Dates = append(sig.Dates, ymd(last.Date))
				continue
			}
			last, then, problem := lagged(c.Series)
			if problem != "" {
				problems = append(problems, problem)
				continue
			}
			now += c.norm(last.Value)
			before += c.norm(then.Value)
			sig.Dates = append(sig.Dates, ymd(then.Date), ymd(last.Date))
		}
		if len(problems) > 0 {
			return sig, strings.Join(problems, "; ")
		}
		n := float64(len(sd.Components))
		sig.Value = now / n
		if sd.Kind == sigCompositeChange {
			sig.Value = (now - before) / n
		}
	default:
		return sig, "unknown signal kind " + sd.Kind
	}
	return sig, ""
}

// storeCycle upserts the cycle_phases row of the output.
func storeCycle(ctx context.Context, q storage.Querier, asOf time.Time, out CycleOutput) error {
	signals := map[string]float64{}
	for _, s := range out.Signals {
		signals[s.Name] = s.Value
	}
	details, err := json.Marshal(struct {
		Label       string        `json:"label"`
		PhaseIndex  int           `json:"phase_index"`
		ScoreName   string        `json:"score_name"`
		MatchedRule int           `json:"matched_rule"`
		Signals     any           `json:"signals"`
		Inputs      []CycleSeries `json:"inputs"`
	}{out.Label, out.PhaseIndex, out.ScoreName, out.MatchedRule, signals, out.Inputs})
	if err != nil {
		return fmt.Errorf("encode %s details: %w", out.Cycle, err)
	}
	_, err = storage.UpsertCyclePhase(ctx, q, storage.CyclePhase{Cycle: out.Cycle, AsOfDate: asOf, Phase: out.Phase, Score: out.Score}, details)
	return err
}

// cycleProvenance is the provenance of a cycle's output.
func cycleProvenance(c *agents.Call, asOf time.Time, d cycleDef) agents.Provenance {
	return c.ProvenanceAt("", asOf, "signals from the newest macro_indicators observations on or before the as-of date; "+
		"the first rule of the cycle whose conditions hold assigns the phase; "+d.ScoreName+" = "+d.ScoreDoc,
		"lags are calendar months to an observation dated exactly that much earlier; ratio changes and rates as decimals "+
			"(0.03 = 3 %); changes of series quoted in percent in percentage points")
}

// runCycle computes, stores and returns one cycle.
func runCycle(ctx context.Context, c *agents.Call, d cycleDef, arg *string) (CycleOutput, error) {
	asOf, err := asOfArg(c, "asof_date", arg)
	if err != nil {
		return CycleOutput{}, err
	}
	out, err := computeCycle(ctx, c.DB, d, asOf)
	if err != nil {
		return CycleOutput{}, err
	}
	if err := storeCycle(ctx, c.DB, asOf, out); err != nil {
		return CycleOutput{}, err
	}
	out.Provenance = cycleProvenance(c, asOf, d)
	return out, nil
}

// check verifies a cycle's data: every rule names a phase of the cycle
// and bounds known signals with "<" or ">=", the last rule holds always,
// and every phase can be assigned.
func (d cycleDef) check() error {
	known := map[string]bool{"score": true}
	for _, s := range d.Signals {
		known[s.Name] = true
	}
	for _, t := range d.ScoreTerms {
		if !known[t.Signal] || t.Signal == "score" {
			return fmt.Errorf("%s: score term on unknown signal %q", d.Cycle, t.Signal)
		}
	}
	used := map[string]bool{}
	for i, r := range d.Rules {
		if _, _, ok := d.phase(r.Phase); !ok {
			return fmt.Errorf("%s: rule %d names phase %q, which the cycle lacks", d.Cycle, i+1, r.Phase)
		}
		used[r.Phase] = true
		for _, c := range r.When {
			if !known[c.Signal] || (c.Op != "<" && c.Op != ">=") {
				return fmt.Errorf("%s: rule %d bounds %s with %q; want a known signal and < or >=", d.Cycle, i+1, c.Signal, c.Op)
			}
		}
	}
	if n := len(d.Rules); n == 0 || len(d.Rules[n-1].When) > 0 {
		return fmt.Errorf("%s: the last rule must hold always", d.Cycle)
	}
	for _, p := range d.Phases {
		if !used[p.Name] {
			return fmt.Errorf("%s: no rule assigns phase %s", d.Cycle, p.Name)
		}
	}
	return nil
}

// The cycles' data is checked once, when the package loads: a typo in a
// rule is a start-up failure, never a phase assigned by the wrong bound.
func init() {
	for _, d := range cycleDefs {
		if err := d.check(); err != nil {
			panic("macro: " + err.Error())
		}
	}
}
