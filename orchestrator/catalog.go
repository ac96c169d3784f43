package orchestrator

import (
	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/patterns"
)

// Catalog lets the patterns package validate against the registry without
// importing it.
type Catalog struct{ Registry *agents.Registry }

// Capability returns the argument schema of a registered capability.
func (c Catalog) Capability(name string) (patterns.CapabilitySpec, bool) {
	s, ok := c.Registry.Get(name)
	if !ok {
		return patterns.CapabilitySpec{}, false
	}
	args := make(map[string]patterns.ArgSpec, len(s.Args))
	for k, t := range s.Args {
		args[k] = patterns.ArgSpec{Type: t}
	}
	return patterns.CapabilitySpec{Name: s.Name, Args: args, Required: s.Required}, true
}
