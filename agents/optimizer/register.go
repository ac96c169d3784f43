package optimizer

import "github.com/dawsos/dawsos/agents"

// New returns the agent with every capability it provides, one line each.
func New(d agents.Deps) agents.Agent {
	a := &Optimizer{deps: d}
	return agents.Agent{Name: Agent, Capabilities: []agents.Def{
		// Capabilities, one line each.
		a.proposeTrades(),
		a.analyzeImpact(),
		a.suggestHedges(),
		a.suggestDeleveragingHedges(),
	}}
}
