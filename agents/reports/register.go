package reports

import "github.com/dawsos/dawsos/agents"

// New returns the agent with every capability it provides, one line each.
func New(d agents.Deps) agents.Agent {
	a := &Reports{deps: d}
	return agents.Agent{Name: Agent, Capabilities: []agents.Def{
		// Files rendered from the figures of earlier steps.
		a.renderPDF(),
		a.exportCSV(),
		a.exportExcel(),
	}}
}
