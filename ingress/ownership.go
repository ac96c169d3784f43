package ingress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// portfolioRef is a portfolio a request names, and where.
type portfolioRef struct {
	field string
	id    uuid.UUID
}

// namesPortfolio reports whether an input or argument named key holds
// portfolio ids: portfolio_id and portfolio_ids, also with a prefix
// (benchmark_portfolio_id), as every pattern and capability names them.
func namesPortfolio(key string) bool {
	return key == "portfolio_id" || key == "portfolio_ids" ||
		strings.HasSuffix(key, "_portfolio_id") || strings.HasSuffix(key, "_portfolio_ids")
}

// portfolioRefs collects the portfolio ids in a decoded JSON value at any
// depth. Values that are not uuids are left to the validators.
func portfolioRefs(v any, at string, out *[]portfolioRef) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			field := k
			if at != "" {
				field = at + "." + k
			}
			if namesPortfolio(k) {
				addPortfolioIDs(e, field, out)
			}
			portfolioRefs(e, field, out)
		}
	case []any:
		for i, e := range x {
			portfolioRefs(e, fmt.Sprintf("%s[%d]", at, i), out)
		}
	}
}

func addPortfolioIDs(v any, field string, out *[]portfolioRef) {
	switch x := v.(type) {
	case string:
		if id, err := uuid.Parse(x); err == nil {
			*out = append(*out, portfolioRef{field: field, id: id})
		}
	case []any:
		for i, e := range x {
			addPortfolioIDs(e, fmt.Sprintf("%s[%d]", field, i), out)
		}
	}
}

// checkPortfolioRefs refuses a run's inputs or a replay's arguments that
// name a portfolio the caller does not own, with the answer the engine
// gives for a portfolio that does not exist, so the id is not confirmed.
// An ADMIN may name any portfolio.
func (s *Server) checkPortfolioRefs(c *fiber.Ctx, at string, doc map[string]json.RawMessage) error {
	p := principalOf(c)
	if p == nil || p.isAdmin() || len(doc) == 0 {
		return nil
	}
	var refs []portfolioRef
	for k, raw := range doc {
		var v any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			continue // the decoder of the request reports it
		}
		portfolioRefs(map[string]any{k: v}, at, &refs)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].field < refs[j].field })
	for _, r := range refs {
		owner, found, err := s.ownerOf(c.UserContext(), storage.OwnedPortfolio, r.id)
		if err != nil {
			return err
		}
		if !found || !p.owns(owner) {
			return &agents.Error{Code: agents.CodeNotFound, Message: fmt.Sprintf("portfolio %s does not exist", r.id), Field: r.field}
		}
	}
	return nil
}

// rawObject reads a JSON object's members, for checkPortfolioRefs; nil
// for anything else.
func rawObject(raw json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil
	}
	return m
}
