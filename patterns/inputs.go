package patterns

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/google/uuid"
)

// Input types a pattern may declare.
const (
	TypeUUID    = "uuid"
	TypeString  = "string"
	TypeInteger = "integer"
	TypeNumber  = "number"
	TypeBoolean = "boolean"
	TypeDate    = "date" // YYYY-MM-DD
	TypeArray   = "array"
	TypeObject  = "object"
)

func knownType(t string) bool {
	switch t {
	case TypeUUID, TypeString, TypeInteger, TypeNumber, TypeBoolean, TypeDate, TypeArray, TypeObject:
		return true
	}
	return false
}

// jsonSchemaType maps an input type onto the JSON Schema type of its value.
func jsonSchemaType(t string) string {
	switch t {
	case TypeUUID, TypeDate, TypeString:
		return "string"
	}
	return t
}

// FieldError is one defect of the inputs of a run request, of the
// arguments of a step or of any document checked against a Schema.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// inputProperty is the JSON Schema of one declared input. Integers are
// bounded to int64, the type conditions and capabilities see.
func inputProperty(in Input, withEnum bool) map[string]any {
	prop := map[string]any{"type": jsonSchemaType(in.Type)}
	switch in.Type {
	case TypeUUID:
		prop["format"] = "uuid"
	case TypeDate:
		prop["format"] = "date"
	case TypeInteger:
		prop["minimum"], prop["maximum"] = json.Number("-9223372036854775808"), json.Number("9223372036854775807")
	}
	if in.Description != "" {
		prop["description"] = in.Description
	}
	if in.Default != nil {
		prop["default"] = json.RawMessage(in.Default)
	}
	if withEnum && len(in.Enum) > 0 {
		prop["enum"] = in.Enum
	}
	return prop
}

// CheckInputs checks the inputs of a run against the pattern's input schema
// and returns them converted and completed: declared defaults fill absent
// inputs, and absent optional inputs without a default are nil, so that
// every declared input can be referenced. A JSON null counts as absent.
// Values are string (uuid in canonical form, date as YYYY-MM-DD), int64,
// float64, bool, []any or map[string]any (numbers inside them int64 when
// integral, else float64). Every defect is reported, sorted by field name.
func CheckInputs(p *Pattern, inputs map[string]json.RawMessage) (map[string]any, []FieldError) {
	given := make(map[string]any, len(inputs))
	for name, raw := range inputs {
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			continue
		}
		v, err := decodeJSON(raw)
		if err != nil {
			return nil, []FieldError{{Field: name, Code: FieldType, Message: "not a JSON value: " + err.Error()}}
		}
		given[name] = v
	}
	if p.inputSchema == nil {
		return nil, []FieldError{{Code: FieldInvalid, Message: "pattern " + p.ID + " has no compiled input schema"}}
	}
	if errs := p.inputSchema.ValidateValue(given); len(errs) > 0 {
		return nil, errs
	}
	return convertInputs(p, given)
}

// RestoreInputs reads back the inputs a run was accepted with (CheckInputs'
// output, stored as JSON) into their declared Go types (an integer stays
// an integer for conditions) without validating them again: they were
// checked against this very pattern version at submission, and the
// schema's work would be spent on every step result of the run.
func RestoreInputs(p *Pattern, stored map[string]json.RawMessage) (map[string]any, error) {
	given := make(map[string]any, len(stored))
	for name, raw := range stored {
		if bytes.Equal(raw, []byte("null")) {
			continue
		}
		v, err := decodeJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("stored input %s: %w", name, err)
		}
		given[name] = v
	}
	out, errs := convertInputs(p, given)
	if len(errs) > 0 {
		return nil, fmt.Errorf("stored input %s: %s", errs[0].Field, errs[0].Message)
	}
	return out, nil
}

// convertInputs gives every declared input its value (given, else its
// default, else nil) in the Go type of its input type.
func convertInputs(p *Pattern, given map[string]any) (map[string]any, []FieldError) {
	out := make(map[string]any, len(p.Inputs))
	for name, in := range p.Inputs {
		v, ok := given[name]
		if !ok {
			if in.Default == nil {
				out[name] = nil
				continue
			}
			dv, err := decodeJSON(in.Default)
			if err != nil {
				return nil, []FieldError{{Field: name, Code: FieldInvalid, Message: "default: " + err.Error()}}
			}
			v = dv
		}
		cv, err := convertValue(in.Type, v)
		if err != nil {
			return nil, []FieldError{{Field: name, Code: FieldType, Message: err.Error()}}
		}
		out[name] = cv
	}
	return out, nil
}

func compactOr(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

// convertValue turns a value into the Go type of its input type. A value
// of the wrong JSON type (possible only for stored inputs, which skip the
// schema) is an error.
func convertValue(typ string, v any) (any, error) {
	wrong := func() error { return fmt.Errorf("want a %s, got %T", typ, v) }
	switch typ {
	case TypeUUID:
		s, ok := v.(string)
		if !ok {
			return nil, wrong()
		}
		u, err := uuid.Parse(s)
		if err != nil {
			return nil, err
		}
		return u.String(), nil
	case TypeInteger:
		n, ok := v.(json.Number)
		if !ok {
			return nil, wrong()
		}
		return parseInteger(n)
	case TypeNumber:
		n, ok := v.(json.Number)
		if !ok {
			return nil, wrong()
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return nil, fmt.Errorf("number %s is out of range", v)
		}
		return f, nil
	case TypeArray, TypeObject:
		return celValue(v)
	}
	return v, nil
}

// parseInteger accepts any JSON number with an integral value that fits an
// int64, so 252, 252.0 and 2.52e2 are all 252.
func parseInteger(n json.Number) (int64, error) {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, fmt.Errorf("want an integer, got %s", n)
	}
	return int64(f), nil
}
