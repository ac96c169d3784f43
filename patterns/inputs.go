package patterns

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

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

// Field error codes returned by CheckInputs; wire names.
const (
	InputUnknown = "input_unknown"
	InputMissing = "input_missing"
	InputType    = "input_type"
	InputEnum    = "input_not_in_enum"
)

// FieldError is one defect of the inputs of a run request.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// CheckInputs checks the inputs of a run against the pattern's declarations
// and returns them converted and completed: declared defaults fill absent
// inputs, and absent optional inputs without a default are nil, so that
// every declared input can be referenced. A JSON null counts as absent.
// Values are string (uuid in canonical form, date as YYYY-MM-DD), int64,
// float64, bool, []any or map[string]any (numbers inside them int64 when
// integral, else float64). Every defect is reported, sorted by field name.
func CheckInputs(p *Pattern, inputs map[string]json.RawMessage) (map[string]any, []FieldError) {
	out := make(map[string]any, len(p.Inputs))
	var errs []FieldError
	for name := range inputs {
		if _, ok := p.Inputs[name]; !ok {
			errs = append(errs, FieldError{Field: name, Code: InputUnknown,
				Message: fmt.Sprintf("pattern %s has no input %q", p.ID, name)})
		}
	}
	for name, in := range p.Inputs {
		raw, given := inputs[name]
		if given && bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			given = false
		}
		switch {
		case given:
		case in.Required:
			errs = append(errs, FieldError{Field: name, Code: InputMissing, Message: "required input is missing"})
			continue
		case in.Default != nil:
			raw = in.Default
		default:
			out[name] = nil
			continue
		}
		v, err := convertValue(in.Type, raw)
		if err != nil {
			errs = append(errs, FieldError{Field: name, Code: InputType, Message: err.Error()})
			continue
		}
		if len(in.Enum) > 0 {
			if ok, err := inEnum(in, v); err != nil || !ok {
				errs = append(errs, FieldError{Field: name, Code: InputEnum,
					Message: fmt.Sprintf("value %s is not one of %s", compactOr(raw), enumList(in.Enum))})
				continue
			}
		}
		out[name] = v
	}
	slices.SortFunc(errs, func(a, b FieldError) int {
		if a.Field != b.Field {
			if a.Field < b.Field {
				return -1
			}
			return 1
		}
		return 0
	})
	if len(errs) > 0 {
		return nil, errs
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

func enumList(enum []json.RawMessage) string {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, e := range enum {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(compactOr(e))
	}
	b.WriteByte(']')
	return b.String()
}

// inEnum compares the canonical JSON of v with each enum value converted to
// the input's type, so 0.95 and 9.5e-1 match.
func inEnum(in Input, v any) (bool, error) {
	want, err := marshalCompact(v)
	if err != nil {
		return false, err
	}
	for _, e := range in.Enum {
		ev, err := convertValue(in.Type, e)
		if err != nil {
			continue
		}
		got, err := marshalCompact(ev)
		if err == nil && bytes.Equal(got, want) {
			return true, nil
		}
	}
	return false, nil
}

// convertValue checks raw against an input type and converts it.
func convertValue(typ string, raw json.RawMessage) (any, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	want := func() error { return fmt.Errorf("want %s, got %s", typeNoun(typ), describeValue(v)) }
	switch typ {
	case TypeString:
		s, ok := v.(string)
		if !ok {
			return nil, want()
		}
		return s, nil
	case TypeUUID:
		s, ok := v.(string)
		if !ok {
			return nil, want()
		}
		u, err := uuid.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("want a UUID, got %q: %w", s, err)
		}
		return u.String(), nil
	case TypeDate:
		s, ok := v.(string)
		if !ok {
			return nil, want()
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil || len(s) != len(time.DateOnly) {
			return nil, fmt.Errorf("want a date as YYYY-MM-DD, got %q", s)
		}
		return s, nil
	case TypeBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, want()
		}
		return b, nil
	case TypeInteger:
		n, ok := v.(json.Number)
		if !ok {
			return nil, want()
		}
		return parseInteger(n)
	case TypeNumber:
		n, ok := v.(json.Number)
		if !ok {
			return nil, want()
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return nil, fmt.Errorf("number %s is out of range", n)
		}
		return f, nil
	case TypeArray:
		if _, ok := v.([]any); !ok {
			return nil, want()
		}
		return celValue(v)
	case TypeObject:
		if _, ok := v.(map[string]any); !ok {
			return nil, want()
		}
		return celValue(v)
	}
	return nil, fmt.Errorf("unknown input type %q", typ)
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

func typeNoun(t string) string {
	switch t {
	case TypeInteger:
		return "an integer"
	case TypeArray, TypeObject:
		return "an " + t
	}
	return "a " + t
}
