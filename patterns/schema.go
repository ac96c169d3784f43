package patterns

import (
	"encoding/json"
	"fmt"
)

// InputSchema describes the pattern's inputs as a JSON Schema object, for
// GET /v1/patterns and clients that build forms; runs are checked against
// it. uuid and date become strings with a format; unknown inputs are not
// allowed.
func (p *Pattern) InputSchema() map[string]any {
	props := map[string]any{}
	required := []string{}
	for _, name := range p.inputOrder {
		in := p.Inputs[name]
		if !knownType(in.Type) {
			continue
		}
		props[name] = inputProperty(in, true)
		if in.Required {
			required = append(required, name)
		}
	}
	return map[string]any{
		"type":                 "object",
		"properties":           props,
		"required":             required,
		"additionalProperties": false,
	}
}

// InputSchemaJSON is InputSchema encoded.
func (p *Pattern) InputSchemaJSON() json.RawMessage {
	b, err := json.Marshal(p.InputSchema())
	if err != nil {
		// Every part came from a parsed pattern, so it encodes.
		panic(fmt.Sprintf("patterns: encode input schema of %s: %v", p.ID, err))
	}
	return b
}

// compileInputs compiles the pattern's input schema; a declaration the
// schema compiler refuses (a pattern of inputs it cannot express) is a
// problem of the pattern.
func (a *analysis) compileInputs() {
	s, err := CompileSchema("pattern "+a.p.ID+" inputs", a.p.InputSchemaJSON())
	if err != nil {
		a.add("$.inputs", CodeUnknownInputType, "the inputs do not form a valid schema: %v", err)
		return
	}
	a.p.inputSchema = s
}
