package macro

import (
	"context"

	"github.com/dawsos/dawsos/agents"
)

func (a *Macro) deleveragingMoneyPrinting() agents.Def {
	return agents.Write(deleveragingMeta("scenarios.deleveraging_money_printing",
		"Applies the money-printing (reflationary) deleveraging scenario, its shocks defined in this file, to the portfolio "+
			"as macro.run_scenario does (market values of the run's pack, regression betas or the heuristic, marked); same "+
			"output; upserts scenario_results."), a.DeleveragingMoneyPrinting)
}

// moneyPrintingScenario is the central bank monetising debt: real yields
// pushed down, breakevens and commodities up, the currency down, risk
// assets reflated. A stylised definition: the directions of the 2009-11
// quantitative easing (10-year TIPS yields, breakevens, IG spreads, the
// broad dollar, the S&P 500, WTI and the VIX from spring 2009 to spring
// 2011), with sizes at or inside that episode's moves, since its rebound
// also carried the end of the crash.
var moneyPrintingScenario = scenDef{
	ID:       "deleveraging_money_printing",
	Name:     "Deleveraging: money printing",
	Category: "deleveraging",
	Description: "Debt monetised by the central bank: real yields -100 bp, breakevens +150 bp, IG spreads -100 bp, " +
		"dollar -10 %, equities +20 %, commodities +50 %, VIX -30 %.",
	Source: "stylised: directions of the public index moves of the 2009-11 quantitative easing, sizes at or inside them; " +
		"the scenario follows " + deleveragingFramework,
	Shocks: scenShocks{-0.01, 0.015, -0.01, -0.10, 0.20, 0.50, -0.30},
}

// DeleveragingMoneyPrinting implements scenarios.deleveraging_money_printing.
func (a *Macro) DeleveragingMoneyPrinting(ctx context.Context, c *agents.Call, in DeleveragingInput) (ScenarioOutput, error) {
	return runDeleveraging(ctx, c, in, moneyPrintingScenario)
}
