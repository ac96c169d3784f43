package ingress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/patterns"
)

// patternSummary is a pattern in GET /v1/patterns.
type patternSummary struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	Version      string          `json:"version"`
	Category     string          `json:"category"`
	Hash         string          `json:"hash"`
	InputsSchema json.RawMessage `json:"inputs_schema"`
}

// patternDetail is GET /v1/patterns/{id}: the definition as loaded plus
// its content hash and input schema.
type patternDetail struct {
	*patterns.Pattern
	Hash         string          `json:"hash"`
	InputsSchema json.RawMessage `json:"inputs_schema"`
}

// inputsSchema describes a pattern's inputs as a JSON Schema object, so a
// client can build a form or validate before submitting.
func inputsSchema(p *patterns.Pattern) json.RawMessage {
	props := map[string]any{}
	required := []string{}
	for _, name := range p.InputNames() {
		in := p.Inputs[name]
		prop := map[string]any{}
		switch in.Type {
		case patterns.TypeUUID:
			prop["type"], prop["format"] = "string", "uuid"
		case patterns.TypeDate:
			prop["type"], prop["format"] = "string", "date"
		default:
			prop["type"] = in.Type
		}
		if in.Description != "" {
			prop["description"] = in.Description
		}
		if in.Default != nil {
			prop["default"] = in.Default
		}
		if len(in.Enum) > 0 {
			prop["enum"] = in.Enum
		}
		props[name] = prop
		if in.Required {
			required = append(required, name)
		}
	}
	b, err := json.Marshal(map[string]any{
		"type": "object", "properties": props, "required": required, "additionalProperties": false,
	})
	if err != nil {
		// Every part came from a parsed pattern, so it encodes.
		return json.RawMessage(`{"type":"object"}`)
	}
	return b
}

func (s *Server) listPatterns(c *fiber.Ctx) error {
	list := s.deps.Patterns.List()
	out := make([]patternSummary, 0, len(list))
	for _, p := range list {
		out = append(out, patternSummary{ID: p.ID, Name: p.Name, Description: p.Description, Version: p.Version,
			Category: p.Category, Hash: p.Hash(), InputsSchema: inputsSchema(p)})
	}
	return writeJSON(c, http.StatusOK, map[string]any{"patterns": out})
}

func (s *Server) getPattern(c *fiber.Ctx) error {
	id := c.Params("id")
	p, ok := s.deps.Patterns.Get(id)
	if !ok {
		return &agents.Error{Code: agents.CodeNotFound, Message: fmt.Sprintf("no pattern %q", id), Field: "id"}
	}
	return writeJSON(c, http.StatusOK, patternDetail{Pattern: p, Hash: p.Hash(), InputsSchema: inputsSchema(p)})
}

// validation is the answer of POST /v1/patterns/validate.
type validation struct {
	Valid    bool               `json:"valid"`
	ID       string             `json:"id,omitempty"`
	Hash     string             `json:"hash,omitempty"`
	Problems []patterns.Problem `json:"problems"`
}

// validatePattern checks a pattern document against the registry and lists
// every problem. A body that is not JSON at all is a malformed request,
// not an invalid pattern.
func (s *Server) validatePattern(c *fiber.Ctx) error {
	body := bytes.TrimSpace(c.Body())
	if len(body) == 0 {
		return &agents.Error{Code: agents.CodeMalformedJSON, Message: "the request body is empty; a pattern document is required"}
	}
	if !json.Valid(body) {
		var v any
		return decodeError(json.Unmarshal(body, &v))
	}
	p, probs := patterns.ValidateDocument("request", body, s.deps.Catalog)
	out := validation{Valid: p != nil && len(probs) == 0, Problems: probs}
	if out.Problems == nil {
		out.Problems = []patterns.Problem{}
	}
	if p != nil {
		out.ID, out.Hash = p.ID, p.Hash()
	}
	return writeJSON(c, http.StatusOK, out)
}
