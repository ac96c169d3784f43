// Package optimizer is the optimizer: rebalancing proposals under constraints, their impact, and hedges. Each capability is one file; register.go lists
// them.
package optimizer

import "github.com/dawsos/dawsos/agents"

// Agent is the agent's wire name.
const Agent = "optimizer"

// Optimizer holds the dependencies every capability of the agent shares.
type Optimizer struct {
	deps agents.Deps
}
