package analyst

import "github.com/dawsos/dawsos/agents"

// New returns the agent with every capability it provides, one line each.
func New(d agents.Deps) agents.Agent {
	a := &Analyst{deps: d}
	return agents.Agent{Name: Agent, Capabilities: []agents.Def{
		// Positions and valuation.
		a.positions(),
		a.applyPack(),
		a.getValuedPositions(),
		a.sectorAllocation(),
		// Performance, attribution and charts.
		a.historicalNAV(),
		a.computeTWR(),
		a.computeMWR(),
		a.computeSharpe(),
		a.computeMetrics(),
		a.unrealizedPL(),
		a.attributionCurrency(),
		a.chartsOverview(),
		// Risk and the position deep dive.
		a.computeFactorExposures(),
		a.getFactorExposureHistory(),
		a.overlayCyclePhases(),
		a.positionDetails(),
		a.positionReturn(),
		a.positionContribution(),
		a.positionCurrencyAttribution(),
		a.positionRisk(),
		a.positionTransactions(),
		a.positionFundamentals(),
		a.positionComparables(),
	}}
}
