// Package analyst is the financial analyst agent: positions, valuation,
// allocation, performance, attribution and the position deep dive. Each
// capability is one file; register.go lists them.
package analyst

import (
	"github.com/dawsos/dawsos/agents"
)

// Agent is the agent's wire name.
const Agent = "financial_analyst"

// Analyst holds the dependencies every capability of the agent shares.
type Analyst struct {
	deps agents.Deps
}
