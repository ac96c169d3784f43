package harvester

import "github.com/dawsos/dawsos/agents"

// New returns the agent with every capability it provides, one line each.
func New(d agents.Deps) agents.Agent {
	a := &Harvester{deps: d, clients: agents.ProviderClients(d)}
	return agents.Agent{Name: Agent, Capabilities: []agents.Def{
		// Provider fetches.
		a.fetchQuote(),
		a.fetchFundamentals(),
		a.fetchRatios(),
		a.fetchNews(),
		a.fetchMacro(),
		// Research data.
		a.loadFundamentals(),
		a.searchNews(),
		a.portfolioImpact(),
		// Corporate actions.
		a.dividends(),
		a.splits(),
		a.earnings(),
		a.upcoming(),
		a.calculateImpact(),
	}}
}
