package macro

import (
	"context"

	"github.com/dawsos/dawsos/agents"
)

func (a *Macro) deleveragingDefault() agents.Def {
	return agents.Write(deleveragingMeta("scenarios.deleveraging_default",
		"Applies the default-and-restructuring deleveraging scenario, its shocks defined in this file, to the portfolio as "+
			"macro.run_scenario does (market values of the run's pack, regression betas or the heuristic, marked); same output; "+
			"upserts scenario_results."), a.DeleveragingDefault)
}

// defaultScenario is debt written off: credit losses blow spreads out, a
// flight to safety bids the dollar, breakevens collapse, equities and
// commodities crash and volatility jumps. A stylised definition close to
// the library's hist_2008_gfc (October 2007 to March 2009, approximate
// public index moves): credit spreads 50 bp wider for outright defaults,
// the dollar and equities a little inside that episode, commodities and
// the VIX as in it; the 1998 Russian default had the same directions.
var defaultScenario = scenDef{
	ID:       "deleveraging_default",
	Name:     "Deleveraging: defaults and restructuring",
	Category: "deleveraging",
	Description: "Debt defaulted on and restructured: real yields +100 bp, breakevens -250 bp, IG spreads +500 bp, dollar +12 %, " +
		"equities -45 %, commodities -45 %, VIX +150 %.",
	Source: "stylised: close to the library's hist_2008_gfc (approximate public index moves, 2007-10 to 2009-03), spreads " +
		"wider for outright defaults; the scenario follows " + deleveragingFramework,
	Shocks: scenShocks{0.01, -0.025, 0.05, 0.12, -0.45, -0.45, 1.5},
}

// DeleveragingDefault implements scenarios.deleveraging_default.
func (a *Macro) DeleveragingDefault(ctx context.Context, c *agents.Call, in DeleveragingInput) (ScenarioOutput, error) {
	return runDeleveraging(ctx, c, in, defaultScenario)
}
