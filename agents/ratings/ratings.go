// Package ratings is the quality ratings: dividend safety, moat strength, resilience and their aggregate, scored from fundamentals with the versioned rubric. Each capability is one file; register.go lists
// them.
package ratings

import "github.com/dawsos/dawsos/agents"

// Agent is the agent's wire name.
const Agent = "ratings"

// Ratings holds the dependencies every capability of the agent shares.
type Ratings struct {
	deps agents.Deps
}
