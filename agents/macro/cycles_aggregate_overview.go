package macro

import (
	"context"
	"fmt"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Macro) aggregateOverview() agents.Def {
	return agents.Compute(agents.Meta{
		Name: "cycles.aggregate_overview",
		Description: "One view of the four cycles from the outputs of cycles.compute_short_term, compute_long_term, " +
			"compute_empire and compute_civil passed in whole: each cycle's phase, score and dates, and the overall tilt for " +
			"risk assets, the sum of each phase's tilt (−1 tailwind, 0 neutral, +1 headwind, stated with each cycle's phases): " +
			"defensive at +2 or more, constructive at −2 or less, balanced between. Nothing is recomputed or stored.",
	}, a.AggregateOverview)
}

// Postures of the overview, by the total tilt.
const (
	postureDefensive    = "defensive"
	postureBalanced     = "balanced"
	postureConstructive = "constructive"
	// postureThreshold is the absolute total tilt from which the posture
	// leaves balanced.
	postureThreshold = 2
)

// AggregateInput takes the four cycle outputs; each is optional, at least
// one is needed.
type AggregateInput struct {
	ShortTerm *AggregateCycle `json:"short_term,omitempty" doc:"The output of cycles.compute_short_term."`
	LongTerm  *AggregateCycle `json:"long_term,omitempty" doc:"The output of cycles.compute_long_term."`
	Empire    *AggregateCycle `json:"empire,omitempty" doc:"The output of cycles.compute_empire."`
	Civil     *AggregateCycle `json:"civil,omitempty" doc:"The output of cycles.compute_civil."`
}

// AggregateCycle is what the overview reads of a cycle's output.
type AggregateCycle struct {
	Cycle     string            `json:"cycle" jsonschema:"enum=STDC|LTDC|EMPIRE|CIVIL"`
	AsOfDate  string            `json:"asof_date" jsonschema:"format=date"`
	Phase     string            `json:"phase" jsonschema:"minLength=1"`
	Score     float64           `json:"score"`
	ScoreName string            `json:"score_name,omitempty"`
	Inputs    []AggregateSeries `json:"inputs,omitempty"`
}

// AggregateSeries is what the overview reads of an input series.
type AggregateSeries struct {
	SeriesID   string `json:"series_id"`
	LatestDate string `json:"latest_date"`
}

// Validate asks for at least one cycle, each in its own slot.
func (in AggregateInput) Validate() error {
	n := 0
	for _, s := range []struct {
		field, cycle string
		v            *AggregateCycle
	}{{"short_term", storage.CycleShortTermDebt, in.ShortTerm}, {"long_term", storage.CycleLongTermDebt, in.LongTerm},
		{"empire", storage.CycleEmpire, in.Empire}, {"civil", storage.CycleCivil, in.Civil}} {
		if s.v == nil {
			continue
		}
		n++
		if s.v.Cycle != s.cycle {
			return agents.FieldError(s.field+".cycle", "%s holds the %s cycle; it takes %s", s.field, s.v.Cycle, s.cycle)
		}
	}
	if n == 0 {
		return agents.FieldError("args", "pass at least one of short_term, long_term, empire, civil")
	}
	return nil
}

// OverviewCycle is one cycle in the overview.
type OverviewCycle struct {
	Cycle       string  `json:"cycle"`
	Name        string  `json:"name"`
	AsOfDate    string  `json:"asof_date"`
	Phase       string  `json:"phase"`
	Label       string  `json:"label"`
	PhaseIndex  int     `json:"phase_index" doc:"1-based position of the phase in the cycle."`
	PhaseCount  int     `json:"phase_count"`
	Score       float64 `json:"score"`
	ScoreName   string  `json:"score_name"`
	Tilt        int     `json:"tilt" doc:"−1 tailwind, 0 neutral, +1 headwind for risk assets."`
	OldestInput string  `json:"oldest_input,omitempty" doc:"The oldest latest_date among the cycle's inputs."`
}

// OverviewOutput is the four cycles side by side.
type OverviewOutput struct {
	AsOfDate   string            `json:"asof_date" doc:"The newest of the cycles' dates."`
	Cycles     []OverviewCycle   `json:"cycles" doc:"STDC, LTDC, EMPIRE, CIVIL, those given."`
	Missing    []string          `json:"missing" doc:"Cycles not given."`
	Tilt       int               `json:"tilt" doc:"Σ of the cycles' tilts."`
	Posture    string            `json:"posture" doc:"defensive (tilt ≥ 2), constructive (tilt ≤ −2) or balanced."`
	Headwinds  []string          `json:"headwinds" doc:"Cycles in a headwind phase."`
	Tailwinds  []string          `json:"tailwinds" doc:"Cycles in a tailwind phase."`
	Provenance agents.Provenance `json:"provenance"`
}

// cycleDefs are the four cycles in overview order.
var cycleDefs = []cycleDef{shortTermCycle, longTermCycle, empireCycle, civilCycle}

// AggregateOverview implements cycles.aggregate_overview.
func (a *Macro) AggregateOverview(_ context.Context, c *agents.Call, in AggregateInput) (OverviewOutput, error) {
	return aggregate(c, []*AggregateCycle{in.ShortTerm, in.LongTerm, in.Empire, in.Civil})
}

// aggregate builds the overview of the cycles given, in cycleDefs order
// (nil: not given).
func aggregate(c *agents.Call, given []*AggregateCycle) (OverviewOutput, error) {
	out := OverviewOutput{Cycles: []OverviewCycle{}, Missing: []string{}, Headwinds: []string{}, Tailwinds: []string{}}
	for i, d := range cycleDefs {
		g := given[i]
		if g == nil {
			out.Missing = append(out.Missing, d.Cycle)
			continue
		}
		idx, p, ok := d.phase(g.Phase)
		if !ok {
			return OverviewOutput{}, agents.FieldError(fieldOf(d.Cycle)+".phase", "%s has no phase %q", d.Name, g.Phase)
		}
		oc := OverviewCycle{Cycle: d.Cycle, Name: d.Name, AsOfDate: g.AsOfDate, Phase: p.Name, Label: p.Label, PhaseIndex: idx + 1,
			PhaseCount: len(d.Phases), Score: g.Score, ScoreName: d.ScoreName, Tilt: p.Tilt}
		for _, s := range g.Inputs {
			if oc.OldestInput == "" || s.LatestDate < oc.OldestInput {
				oc.OldestInput = s.LatestDate
			}
		}
		out.Cycles = append(out.Cycles, oc)
		out.Tilt += p.Tilt
		switch {
		case p.Tilt > 0:
			out.Headwinds = append(out.Headwinds, d.Cycle)
		case p.Tilt < 0:
			out.Tailwinds = append(out.Tailwinds, d.Cycle)
		}
		if g.AsOfDate > out.AsOfDate {
			out.AsOfDate = g.AsOfDate
		}
	}
	switch {
	case out.Tilt >= postureThreshold:
		out.Posture = postureDefensive
	case out.Tilt <= -postureThreshold:
		out.Posture = postureConstructive
	default:
		out.Posture = postureBalanced
	}
	out.Provenance = c.Provenance("the cycles' phases side by side; tilt = Σ of each phase's tilt as each cycle states it (rule.phases[].tilt)",
		fmt.Sprintf("tilt −1 tailwind, 0 neutral, +1 headwind for risk assets; posture defensive at tilt ≥ %d, constructive at ≤ −%d, else balanced",
			postureThreshold, postureThreshold))
	if out.AsOfDate != "" {
		out.Provenance.AsOfDate = out.AsOfDate
	}
	return out, nil
}

func fieldOf(cycle string) string {
	return map[string]string{storage.CycleShortTermDebt: "short_term", storage.CycleLongTermDebt: "long_term",
		storage.CycleEmpire: "empire", storage.CycleCivil: "civil"}[cycle]
}
