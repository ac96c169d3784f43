package macro

import (
	"context"
	"strings"

	"github.com/dawsos/dawsos/agents"
)

func (a *Macro) computeCycles() agents.Def {
	return agents.Write(agents.Meta{
		Name: "macro.compute_cycles",
		Description: "All four cycles at once on the as-of date, by the same code and rules as cycles.compute_short_term, " +
			"compute_long_term, compute_empire and compute_civil, with their overview (cycles.aggregate_overview). Upserts the " +
			"four cycle_phases rows; a cycle without its inputs makes the whole call insufficient_data naming every missing series.",
		Reads:  []string{"macro_indicators"},
		Writes: []string{"cycle_phases"},
		Codes:  []string{agents.CodeInsufficientData},
	}, a.ComputeCycles)
}

// ComputeCyclesOutput holds the four cycles and their overview.
type ComputeCyclesOutput struct {
	ShortTerm  CycleOutput       `json:"short_term"`
	LongTerm   CycleOutput       `json:"long_term"`
	Empire     CycleOutput       `json:"empire"`
	Civil      CycleOutput       `json:"civil"`
	Overview   OverviewOutput    `json:"overview"`
	Provenance agents.Provenance `json:"provenance"`
}

// ComputeCycles implements macro.compute_cycles.
func (a *Macro) ComputeCycles(ctx context.Context, c *agents.Call, in CycleInputsInput) (ComputeCyclesOutput, error) {
	asOf, err := asOfArg(c, "asof_date", in.AsOfDate)
	if err != nil {
		return ComputeCyclesOutput{}, err
	}
	outs := make([]CycleOutput, len(cycleDefs))
	var problems []string
	for i, d := range cycleDefs {
		o, err := computeCycle(ctx, c.DB, d, asOf)
		if err != nil {
			if ae := agents.Classify(err); ae.Code == agents.CodeInsufficientData {
				problems = append(problems, ae.Message)
				continue
			}
			return ComputeCyclesOutput{}, err
		}
		o.Provenance = cycleProvenance(c, asOf, d)
		outs[i] = o
	}
	if len(problems) > 0 {
		return ComputeCyclesOutput{}, agents.Errorf(agents.CodeInsufficientData, "%s", strings.Join(problems, " | "))
	}
	given := make([]*AggregateCycle, len(outs))
	for i, o := range outs {
		if err := storeCycle(ctx, c.DB, asOf, o); err != nil {
			return ComputeCyclesOutput{}, err
		}
		g := &AggregateCycle{Cycle: o.Cycle, AsOfDate: o.AsOfDate, Phase: o.Phase, Score: o.Score, ScoreName: o.ScoreName}
		for _, s := range o.Inputs {
			g.Inputs = append(g.Inputs, AggregateSeries{SeriesID: s.SeriesID, LatestDate: s.LatestDate})
		}
		given[i] = g
	}
	ov, err := aggregate(c, given)
	if err != nil {
		return ComputeCyclesOutput{}, err
	}
	return ComputeCyclesOutput{ShortTerm: outs[0], LongTerm: outs[1], Empire: outs[2], Civil: outs[3], Overview: ov,
		Provenance: c.ProvenanceAt("", asOf, "the four cycles by their rules (see each cycle's rule) and their overview", ov.Provenance.Convention)}, nil
}
