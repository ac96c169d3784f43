// Package tax is the tax agent: lot details, realised gains by relief method, wash sales, harvesting opportunities. Each capability is one file; register.go lists
// them.
package tax

import "github.com/dawsos/dawsos/agents"

// Agent is the agent's wire name.
const Agent = "tax"

// Tax holds the dependencies every capability of the agent shares.
type Tax struct {
	deps agents.Deps
}
