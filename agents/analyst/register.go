package analyst

import "github.com/dawsos/dawsos/agents"

// New returns the agent with every capability it provides.
func New(d agents.Deps) agents.Agent {
	a := &Analyst{deps: d}
	return agents.Agent{Name: Agent, Capabilities: []agents.Def{
		a.positions(),
		a.applyPack(),
		a.getValuedPositions(),
		a.sectorAllocation(),
	}}
}
