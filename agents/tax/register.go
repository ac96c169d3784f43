package tax

import "github.com/dawsos/dawsos/agents"

// New returns the agent with every capability it provides, one line each.
func New(d agents.Deps) agents.Agent {
	a := &Tax{deps: d}
	return agents.Agent{Name: Agent, Capabilities: []agents.Def{
		// Capabilities, one line each.
		// Lots and the tax year.
		a.lotDetails(),
		a.realizedGains(),
		a.washSales(),
		a.summary(),
		// Loss harvesting.
		a.identifyLosses(),
		a.washSaleCheck(),
		a.calculateBenefit(),
		a.rankOpportunities(),
	}}
}
