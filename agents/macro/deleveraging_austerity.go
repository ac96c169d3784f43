package macro

import (
	"context"

	"github.com/dawsos/dawsos/agents"
)

func (a *Macro) deleveragingAusterity() agents.Def {
	return agents.Write(deleveragingMeta("scenarios.deleveraging_austerity",
		"Applies the austerity (deflationary) deleveraging scenario, its shocks defined in this file, to the portfolio as "+
			"macro.run_scenario does (market values of the run's pack, regression betas or the heuristic, marked); same output; "+
			"upserts scenario_results."), a.DeleveragingAusterity)
}

// austerityScenario is debt reduced by spending cuts and saving: demand
// and prices fall, so real yields rise while breakevens fall, spreads
// widen, the dollar is bid, equities and commodities fall. A stylised
// definition: the directions of the deflationary second half of 2008 (and
// of the euro-area austerity of 2010-12), with sizes at or inside the
// 2008 moves of 10-year TIPS yields, breakevens, IG spreads, the broad
// dollar, the S&P 500, WTI and the VIX.
var austerityScenario = scenDef{
	ID:       "deleveraging_austerity",
	Name:     "Deleveraging: austerity",
	Category: "deleveraging",
	Description: "Deflationary deleveraging through spending cuts: real yields +150 bp, breakevens -200 bp, IG spreads +300 bp, " +
		"dollar +8 %, equities -35 %, commodities -35 %, VIX doubles.",
	Source: "stylised: directions of the public index moves of the second half of 2008 and the euro-area austerity of 2010-12, " +
		"sizes at or inside the 2008 moves; the scenario follows " + deleveragingFramework,
	Shocks: scenShocks{0.015, -0.02, 0.03, 0.08, -0.35, -0.35, 1.0},
}

// DeleveragingAusterity implements scenarios.deleveraging_austerity.
func (a *Macro) DeleveragingAusterity(ctx context.Context, c *agents.Call, in DeleveragingInput) (ScenarioOutput, error) {
	return runDeleveraging(ctx, c, in, austerityScenario)
}
