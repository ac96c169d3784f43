// Package harvester is the data harvester: it fetches quotes, statements,
// ratios, news, macro series and corporate actions from outside providers
// (FMP, Polygon, FRED, NewsAPI) through the guarded client of package
// agents, stores what it fetched with its source and fetch time, and
// answers from the stored rows while they are fresh, so later runs work
// offline. Each capability is one file; register.go lists them; the
// provider adapters (fmp.go, polygon.go, fred.go, newsapi.go) hold each
// provider's documented request and answer formats.
//
// Stored first: every capability reads the stored rows and the fetch log
// (provider_fetches) first, and calls a provider only for what is missing
// or older than the provider's staleness (providers.<name>.staleness; 0
// fetches every time). A capability that must fetch and whose provider has
// no key fails with provider_not_configured, naming the variable to set;
// the capabilities that can answer from loaded data (fundamentals.load
// with stored statements, the corporate_actions.* readers) answer from it
// and say that it was not refreshed. Nothing is ever made up: a provider's
// missing value is stored as NULL and reported as not reported.
//
// A capability that calls a provider is Staged: it reads in one snapshot,
// calls the provider with no transaction open, and writes in one
// transaction; the others read in one snapshot.
package harvester

import (
	"time"

	"github.com/dawsos/dawsos/agents"
)

// Agent is the agent's wire name.
const Agent = "data_harvester"

// Harvester holds the dependencies every capability of the agent shares:
// one guarded client per provider, so each provider has one rate limiter
// in the process.
type Harvester struct {
	deps    agents.Deps
	clients map[string]*agents.ProviderClient
}

func (a *Harvester) now() time.Time {
	if a.deps.Now != nil {
		return a.deps.Now()
	}
	return time.Now()
}

// client returns the client of a provider.
func (a *Harvester) client(name string) *agents.ProviderClient { return a.clients[name] }

// fresh reports whether data fetched at at (ok false: never) are still
// fresh for the provider: younger than its staleness. Staleness 0 makes
// every stored row stale.
func (a *Harvester) fresh(c *agents.ProviderClient, at time.Time, ok bool) bool {
	return ok && c.Staleness() > 0 && a.now().Sub(at) < c.Staleness()
}
