package ingress

import (
	"fmt"
	"net/http"
	"sort"

	"github.com/gofiber/fiber/v2"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/bus"
)

// capabilityView is one capability in GET /v1/capabilities. Breaker is nil
// when this process does not host the capability's agent.
type capabilityView struct {
	*agents.Spec
	Breaker *bus.BreakerSnapshot `json:"breaker"`
}

func (s *Server) breakerSnapshots() []bus.BreakerSnapshot {
	if s.deps.Breakers == nil {
		return []bus.BreakerSnapshot{}
	}
	snaps := s.deps.Breakers.Breakers()
	if snaps == nil {
		snaps = []bus.BreakerSnapshot{}
	}
	sort.Slice(snaps, func(i, j int) bool { return snaps[i].Capability < snaps[j].Capability })
	return snaps
}

func (s *Server) listCapabilities(c *fiber.Ctx) error {
	byName := map[string]bus.BreakerSnapshot{}
	for _, b := range s.breakerSnapshots() {
		byName[b.Capability] = b
	}
	var specs []*agents.Spec
	if s.deps.Registry != nil {
		specs = s.deps.Registry.All()
	}
	out := make([]capabilityView, 0, len(specs))
	for _, sp := range specs {
		v := capabilityView{Spec: sp}
		if b, ok := byName[sp.Name]; ok {
			v.Breaker = &b
		}
		out = append(out, v)
	}
	return writeJSON(c, http.StatusOK, map[string]any{"capabilities": out})
}

func (s *Server) listBreakers(c *fiber.Ctx) error {
	return writeJSON(c, http.StatusOK, map[string]any{"breakers": s.breakerSnapshots()})
}

// resetBreaker closes a capability's breaker, on every process sharing
// it. A capability no process has run yet has no breaker: 404.
func (s *Server) resetBreaker(c *fiber.Ctx) error {
	return s.breakerAction(c, "reset", (*bus.Breaker).Reset)
}

// forceOpenBreaker is POST /v1/breakers/{capability}/open: the breaker
// opens now, for its open time, then probes as usual.
func (s *Server) forceOpenBreaker(c *fiber.Ctx) error {
	return s.breakerAction(c, "forced open", (*bus.Breaker).ForceOpen)
}

// breakerAction applies an operator's action to a capability's breaker and
// answers its state.
func (s *Server) breakerAction(c *fiber.Ctx, what string, act func(*bus.Breaker)) error {
	name := c.Params("capability")
	var b *bus.Breaker
	ok := false
	if s.deps.Breakers != nil {
		b, ok = s.deps.Breakers.Breaker(name)
	}
	if !ok {
		return &capabilityError{capability: name, err: &agents.Error{Code: agents.CodeNotFound,
			Message: fmt.Sprintf("there is no breaker for capability %q: no process has run it", name), Field: "capability"}}
	}
	act(b)
	s.log.Info("breaker "+what, "capability", name, "correlation_id", correlationOf(c))
	return writeJSON(c, http.StatusOK, b.Snapshot())
}
