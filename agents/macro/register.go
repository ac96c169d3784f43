package macro

import "github.com/dawsos/dawsos/agents"

// New returns the agent with every capability it provides, one line each.
func New(d agents.Deps) agents.Agent {
	a := &Macro{deps: d}
	_ = a // until the first capability is listed below
	return agents.Agent{Name: Agent, Capabilities: []agents.Def{
		// Indicators, regimes and cycles.
		// Scenarios, drawdown-at-risk, alerts and scenario charts.
	}}
}
