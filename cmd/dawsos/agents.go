package main

import (
	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/agents/claude"
	"github.com/dawsos/dawsos/agents/harvester"
	"github.com/dawsos/dawsos/agents/macro"
	"github.com/dawsos/dawsos/agents/optimizer"
	"github.com/dawsos/dawsos/agents/ratings"
	"github.com/dawsos/dawsos/agents/reports"
	"github.com/dawsos/dawsos/agents/tax"
)

// agentList is the one list of agents the binary hosts: serve and worker
// build their registry from it, worker --agents names agents from it, and
// the capability catalogue (dawsos capabilities, docs/capabilities.md) is
// generated from it. A new agent is one line here.
var agentList = []agents.Constructor{
	analyst.New,
	ratings.New,
	optimizer.New,
	tax.New,
	macro.New,
	harvester.New,
	reports.New,
	claude.New,
}

// extraAgents are agents compiled in by build tags (the test agent of
// testcaps_on.go).
var extraAgents []func(cfg Config) agents.Constructor

// checkContracts is on in binaries built for tests (testcaps_on.go): every
// capability call then verifies the tables and codes it declared.
var checkContracts = false

// newRegistry registers every agent's capabilities.
func newRegistry(cfg Config, deps agents.Deps) *agents.Registry {
	r := agents.NewRegistry(agents.Options{DB: deps.DB, Logger: deps.Logger, CheckContracts: checkContracts})
	for _, c := range agentList {
		r.Add(c(deps))
	}
	for _, f := range extraAgents {
		r.Add(f(cfg)(deps))
	}
	return r
}
