package ratings

import "github.com/dawsos/dawsos/agents"

// New returns the agent with every capability it provides, one line each.
func New(d agents.Deps) agents.Agent {
	a := &Ratings{deps: d}
	_ = a // until the first capability is listed below
	return agents.Agent{Name: Agent, Capabilities: []agents.Def{
		// Capabilities, one line each.
	}}
}
