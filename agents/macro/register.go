package macro

import "github.com/dawsos/dawsos/agents"

// New returns the agent with every capability it provides, one line each.
func New(d agents.Deps) agents.Agent {
	a := &Macro{deps: d}
	return agents.Agent{Name: Agent, Capabilities: []agents.Def{
		// Indicators, regimes and cycles.
		a.getIndicators(),
		a.detectRegime(),
		a.getRegimeHistory(),
		a.detectTrendShifts(),
		a.computeCycles(),
		a.computeShortTerm(),
		a.computeLongTerm(),
		a.computeEmpire(),
		a.computeCivil(),
		a.aggregateOverview(),
		a.chartsMacroOverview(),
		// Scenarios, drawdown-at-risk, alerts and scenario charts.
		a.runScenario(),
		a.deleveragingMoneyPrinting(),
		a.deleveragingAusterity(),
		a.deleveragingDefault(),
		a.macroAwareApply(),
		a.macroAwareRank(),
		a.computeDaR(),
		a.suggestPresets(),
		a.createIfThreshold(),
		a.chartsScenario(),
	}}
}
