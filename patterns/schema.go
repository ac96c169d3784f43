package patterns

import "encoding/json"

// InputSchema describes the pattern's inputs as a JSON Schema object, for
// GET /v1/patterns and clients that build forms. uuid and date become
// strings with a format; unknown inputs are not allowed.
func (p *Pattern) InputSchema() map[string]any {
	props := map[string]any{}
	required := []string{}
	for _, name := range p.inputOrder {
		in := p.Inputs[name]
		prop := map[string]any{"type": jsonSchemaType(in.Type)}
		switch in.Type {
		case TypeUUID:
			prop["format"] = "uuid"
		case TypeDate:
			prop["format"] = "date"
		}
		if in.Description != "" {
			prop["description"] = in.Description
		}
		if in.Default != nil {
			prop["default"] = json.RawMessage(in.Default)
		}
		if len(in.Enum) > 0 {
			prop["enum"] = in.Enum
		}
		props[name] = prop
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
