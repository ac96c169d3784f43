package agents

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// The JSON Schemas of capability inputs and outputs are derived from their
// Go types here. The derivation is the engine's own rather than a
// library's because the schemas carry three decisions the engine relies on:
//
//   - nullability follows Go: pointers, slices, maps and json.RawMessage
//     may be null (encoding/json writes a nil slice as null);
//   - a decimal is a string in an output (shopspring/decimal writes it
//     quoted) and a string or a number in an input (it reads both);
//   - only the top level of an input rejects unknown properties, so a
//     capability can take another's output whole and read the fields it
//     needs, while a misspelt argument is still an error.
//
// Struct tags: `json` names fields as encoding/json does (omitempty makes a
// field optional); `doc:"..."` describes it; `jsonschema:"..."` adds
// comma-separated constraints: minimum=, maximum=, exclusiveMinimum=,
// exclusiveMaximum=, minLength=, maxLength=, minItems=, maxItems=,
// pattern=, format=, enum=a|b|c, default= (inputs only; applied before
// the capability runs) and required (for a field with omitempty that must
// still be given).

// SchemaFormatDecimal marks decimal strings; the validator checks them.
const SchemaFormatDecimal = "decimal"

// Schema is the subset of JSON Schema (2020-12) this package writes.
// Properties keep the struct's field order.
type Schema struct {
	Type                 []string
	Format               string
	Description          string
	Properties           []Property
	Required             []string
	AdditionalProperties *Schema // nil: unconstrained
	NoAdditional         bool    // additionalProperties: false
	Items                *Schema
	Enum                 []any
	Default              any
	Minimum, Maximum     *json.Number
	ExclusiveMinimum     *json.Number
	ExclusiveMaximum     *json.Number
	MinLength, MaxLength *int
	MinItems, MaxItems   *int
	Pattern              string
}

// Property is one named property of an object schema.
type Property struct {
	Name   string
	Schema *Schema
}

// Property returns a property's schema by name.
func (s *Schema) Property(name string) (*Schema, bool) {
	for _, p := range s.Properties {
		if p.Name == name {
			return p.Schema, true
		}
	}
	return nil, false
}

// MarshalJSON writes the schema with its properties in order.
func (s *Schema) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	field := func(k string, v any) {
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(v)
		if err != nil {
			panic(fmt.Sprintf("agents: encode schema %s: %v", k, err))
		}
		b.Write(vb)
	}
	switch len(s.Type) {
	case 0:
	case 1:
		field("type", s.Type[0])
	default:
		field("type", s.Type)
	}
	if s.Format != "" {
		field("format", s.Format)
	}
	if s.Description != "" {
		field("description", s.Description)
	}
	if s.Properties != nil {
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.WriteString(`"properties":{`)
		for i, p := range s.Properties {
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(p.Name)
			b.Write(kb)
			b.WriteByte(':')
			vb, err := p.Schema.MarshalJSON()
			if err != nil {
				return nil, err
			}
			b.Write(vb)
		}
		b.WriteByte('}')
	}
	if len(s.Required) > 0 {
		field("required", s.Required)
	}
	switch {
	case s.NoAdditional:
		field("additionalProperties", false)
	case s.AdditionalProperties != nil:
		field("additionalProperties", s.AdditionalProperties)
	}
	if s.Items != nil {
		field("items", s.Items)
	}
	if len(s.Enum) > 0 {
		field("enum", s.Enum)
	}
	if s.Default != nil {
		field("default", s.Default)
	}
	for _, c := range []struct {
		k string
		v *json.Number
	}{{"minimum", s.Minimum}, {"maximum", s.Maximum}, {"exclusiveMinimum", s.ExclusiveMinimum}, {"exclusiveMaximum", s.ExclusiveMaximum}} {
		if c.v != nil {
			field(c.k, *c.v)
		}
	}
	for _, c := range []struct {
		k string
		v *int
	}{{"minLength", s.MinLength}, {"maxLength", s.MaxLength}, {"minItems", s.MinItems}, {"maxItems", s.MaxItems}} {
		if c.v != nil {
			field(c.k, *c.v)
		}
	}
	if s.Pattern != "" {
		field("pattern", s.Pattern)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type schemaMode int

const (
	inputSchema schemaMode = iota
	outputSchema
)

var (
	uuidType    = reflect.TypeFor[uuid.UUID]()
	decimalType = reflect.TypeFor[decimal.Decimal]()
	nullDecType = reflect.TypeFor[decimal.NullDecimal]()
	rawType     = reflect.TypeFor[json.RawMessage]()
	timeType    = reflect.TypeFor[time.Time]()
)

// reflectSchema derives the schema of t. The top level of an input rejects
// unknown properties; nothing else does.
func reflectSchema(t reflect.Type, mode schemaMode) *Schema {
	s := (&reflector{mode: mode, seen: map[reflect.Type]bool{}}).schema(t)
	if mode == inputSchema && s.Properties != nil {
		s.NoAdditional = true
	}
	return s
}

type reflector struct {
	mode schemaMode
	seen map[reflect.Type]bool
}

func nullable(s *Schema) *Schema {
	for _, t := range s.Type {
		if t == "null" {
			return s
		}
	}
	if len(s.Type) > 0 {
		s.Type = append(s.Type, "null")
	}
	return s
}

func (r *reflector) schema(t reflect.Type) *Schema {
	switch t {
	case uuidType:
		return &Schema{Type: []string{"string"}, Format: "uuid"}
	case decimalType:
		if r.mode == inputSchema {
			return &Schema{Type: []string{"string", "number"}, Format: SchemaFormatDecimal}
		}
		return &Schema{Type: []string{"string"}, Format: SchemaFormatDecimal}
	case nullDecType:
		s := r.schema(decimalType)
		return nullable(s)
	case rawType:
		return &Schema{}
	case timeType:
		return &Schema{Type: []string{"string"}, Format: "date-time"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(r.schema(t.Elem()))
	case reflect.Bool:
		return &Schema{Type: []string{"boolean"}}
	case reflect.String:
		return &Schema{Type: []string{"string"}}
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Int16, reflect.Int8:
		bits := uint(t.Bits())
		return intSchema(strconv.FormatInt(-1<<(bits-1), 10), strconv.FormatInt(1<<(bits-1)-1, 10))
	case reflect.Uint, reflect.Uint64, reflect.Uint32, reflect.Uint16, reflect.Uint8:
		return intSchema("0", strconv.FormatUint(math.MaxUint64>>(64-uint(t.Bits())), 10))
	case reflect.Float32, reflect.Float64:
		return &Schema{Type: []string{"number"}}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			// encoding/json writes []byte as base64.
			return nullable(&Schema{Type: []string{"string"}, Format: "byte"})
		}
		return nullable(&Schema{Type: []string{"array"}, Items: r.schema(t.Elem())})
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			panic(fmt.Sprintf("agents: schema of %s: map keys must be strings", t))
		}
		return nullable(&Schema{Type: []string{"object"}, AdditionalProperties: r.schema(t.Elem())})
	case reflect.Interface:
		return &Schema{}
	case reflect.Struct:
		return r.object(t)
	}
	panic(fmt.Sprintf("agents: schema of %s: kind %s has no JSON form", t, t.Kind()))
}

func intSchema(lo, hi string) *Schema {
	l, h := json.Number(lo), json.Number(hi)
	return &Schema{Type: []string{"integer"}, Minimum: &l, Maximum: &h}
}

func (r *reflector) object(t reflect.Type) *Schema {
	if r.seen[t] {
		panic(fmt.Sprintf("agents: schema of %s: recursive types are not supported", t))
	}
	r.seen[t] = true
	defer delete(r.seen, t)
	s := &Schema{Type: []string{"object"}, Properties: []Property{}}
	r.fields(t, s)
	return s
}

// fields adds t's exported fields to s, flattening embedded structs as
// encoding/json does.
func (r *reflector) fields(t reflect.Type, s *Schema) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				r.fields(et, s)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		ps := r.schema(f.Type)
		ps.Description = f.Tag.Get("doc")
		required := !strings.Contains(","+opts+",", ",omitempty,") && !strings.Contains(","+opts+",", ",omitzero,")
		if err := applyConstraints(ps, f.Tag.Get("jsonschema"), &required); err != nil {
			panic(fmt.Sprintf("agents: schema of %s.%s: %v", t, f.Name, err))
		}
		if ps.Default != nil && r.mode == inputSchema {
			required = false
		}
		if r.mode == outputSchema {
			ps.Default = nil
		}
		s.Properties = append(s.Properties, Property{Name: name, Schema: ps})
		if required {
			s.Required = append(s.Required, name)
		}
	}
}

// applyConstraints reads a `jsonschema` tag into s.
func applyConstraints(s *Schema, tag string, required *bool) error {
	if tag == "" {
		return nil
	}
	for _, part := range strings.Split(tag, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		num := func() (*json.Number, error) {
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				return nil, fmt.Errorf("%s=%q is not a number", k, v)
			}
			n := json.Number(v)
			return &n, nil
		}
		count := func() (*int, error) {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%s=%q is not a count", k, v)
			}
			return &n, nil
		}
		var err error
		switch k {
		case "required":
			*required = true
		case "minimum":
			s.Minimum, err = num()
		case "maximum":
			s.Maximum, err = num()
		case "exclusiveMinimum":
			s.ExclusiveMinimum, err = num()
		case "exclusiveMaximum":
			s.ExclusiveMaximum, err = num()
		case "minLength":
			s.MinLength, err = count()
		case "maxLength":
			s.MaxLength, err = count()
		case "minItems":
			s.MinItems, err = count()
		case "maxItems":
			s.MaxItems, err = count()
		case "pattern":
			s.Pattern = v
		case "format":
			s.Format = v
		case "enum":
			for _, e := range strings.Split(v, "|") {
				ev, err := typedValue(s, e)
				if err != nil {
					return fmt.Errorf("enum value %q: %w", e, err)
				}
				s.Enum = append(s.Enum, ev)
			}
		case "default":
			s.Default, err = typedValue(s, v)
		case "":
		default:
			return fmt.Errorf("unknown constraint %q", k)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// typedValue reads a tag value as the JSON type of s.
func typedValue(s *Schema, v string) (any, error) {
	if len(s.Type) == 0 {
		return v, nil
	}
	switch s.Type[0] {
	case "integer":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, err
		}
		return n, nil
	case "number":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, err
		}
		return f, nil
	case "boolean":
		return strconv.ParseBool(v)
	}
	return v, nil
}

// schemaJSON encodes a schema; schemas this package builds always encode.
func schemaJSON(s *Schema) json.RawMessage {
	b, err := s.MarshalJSON()
	if err != nil {
		panic(fmt.Sprintf("agents: encode schema: %v", err))
	}
	return b
}
