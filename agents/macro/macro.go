// Package macro is the macro hound: indicators, regimes, debt and empire cycles, scenarios, drawdown-at-risk, alerts and macro charts. Each capability is one file; register.go lists
// them.
package macro

import "github.com/dawsos/dawsos/agents"

// Agent is the agent's wire name.
const Agent = "macro_hound"

// Macro holds the dependencies every capability of the agent shares.
type Macro struct {
	deps agents.Deps
}
