package claude

import "github.com/dawsos/dawsos/agents"

// New returns the agent with every capability it provides, one line each.
func New(d agents.Deps) agents.Agent {
	a := &Claude{deps: d, client: agents.ProviderClients(d)[agents.ProviderAnthropic]}
	return agents.Agent{Name: Agent, Capabilities: []agents.Def{
		// Answers over the outputs of earlier steps.
		a.explain(),
		a.summarize(),
		a.analyze(),
		a.aiExplain(),
		a.portfolioAdvice(),
		a.financialQA(),
		a.scenarioAnalysis(),
	}}
}
