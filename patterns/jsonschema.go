package patterns

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"github.com/shopspring/decimal"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Field codes of schema validation; wire names, shared by every part that
// reports a field at fault (pattern inputs, step arguments, replays,
// request bodies).
const (
	FieldMissing       = "missing"
	FieldUnknown       = "unknown_field"
	FieldType          = "wrong_type"
	FieldNotInEnum     = "not_in_enum"
	FieldOutOfRange    = "out_of_range"
	FieldInvalidFormat = "invalid_format"
	FieldInvalid       = "invalid_value"
)

// FormatDecimal is the format of decimal strings in capability schemas
// (agents.SchemaFormatDecimal names the same format).
const FormatDecimal = "decimal"

var decimalRe = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$`)

// Bounds of every decimal the engine accepts: PostgreSQL's numeric takes
// far more, but money and quantities beyond these are typos or attacks,
// and a value of thousands of digits must not reach the database.
const (
	MaxDecimalIntegerDigits  = 24
	MaxDecimalFractionDigits = 18
)

// CheckDecimal validates a decimal a client sends, as a string or a JSON
// number:
// plain or exponent notation, at most MaxDecimalIntegerDigits digits
// before the point and MaxDecimalFractionDigits after it.
func CheckDecimal(v any) error {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		s = string(x)
	default:
		return nil
	}
	if len(s) > 200 || !decimalRe.MatchString(s) {
		return fmt.Errorf("%q is not a decimal number", truncateFor(s, 40))
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return fmt.Errorf("%q is not a decimal number", truncateFor(s, 40))
	}
	digits := len(strings.TrimLeft(d.Coefficient().String(), "-"))
	exp := int(d.Exponent())
	intDigits, fracDigits := digits+exp, 0
	if exp < 0 {
		fracDigits = -exp
	}
	if d.IsZero() {
		intDigits = 0
	}
	if intDigits > MaxDecimalIntegerDigits || fracDigits > MaxDecimalFractionDigits {
		return fmt.Errorf("%s has more than %d digits before the point or %d after it", truncateFor(s, 40), MaxDecimalIntegerDigits, MaxDecimalFractionDigits)
	}
	return nil
}

func truncateFor(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Schema is a compiled JSON Schema (2020-12), the one validator of the
// engine: pattern inputs, the resolved arguments of every step, edited
// replay arguments and, in tests, capability outputs are checked with it.
// It also keeps a simplified model of the schema for the static checks of
// pattern references.
type Schema struct {
	raw      json.RawMessage
	compiled *jsonschema.Schema
	node     *schemaNode
}

var printer = message.NewPrinter(language.English)

// CompileSchema compiles a schema document; name identifies it in errors.
// Decimals in it are checked for their form only: figures passed between
// steps carry whatever precision their arithmetic gave them. What clients
// send is bounded at the HTTP edge (CheckDecimal).
func CompileSchema(name string, raw json.RawMessage) (*Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.RegisterFormat(&jsonschema.Format{Name: FormatDecimal, Validate: func(v any) error {
		if s, ok := v.(string); ok && !decimalRe.MatchString(s) {
			return fmt.Errorf("%q is not a decimal number", truncateFor(s, 40))
		}
		return nil
	}})
	url := "dawsos:///" + strings.ReplaceAll(name, " ", "_") + ".json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	compiled, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	node, err := parseSchemaNode(raw)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	return &Schema{raw: raw, compiled: compiled, node: node}, nil
}

// Raw returns the schema document.
func (s *Schema) Raw() json.RawMessage { return s.raw }

// Validate checks a JSON document and returns every field at fault, sorted
// by field. A document that is not JSON is one problem at the root.
func (s *Schema) Validate(doc json.RawMessage) []FieldError {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return []FieldError{{Field: "", Code: FieldType, Message: "not a JSON value: " + err.Error()}}
	}
	return s.ValidateValue(v)
}

// ValidateValue checks a decoded value (numbers as json.Number).
func (s *Schema) ValidateValue(v any) []FieldError {
	err := s.compiled.Validate(v)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []FieldError{{Code: FieldInvalid, Message: err.Error()}}
	}
	var out []FieldError
	collectLeaves(ve, &out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	// The same field can fail in several branches; report each once.
	dedup := out[:0]
	seen := map[string]bool{}
	for _, f := range out {
		k := f.Field + "\x00" + f.Code + "\x00" + f.Message
		if !seen[k] {
			seen[k] = true
			dedup = append(dedup, f)
		}
	}
	return dedup
}

func collectLeaves(ve *jsonschema.ValidationError, out *[]FieldError) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			collectLeaves(c, out)
		}
		return
	}
	at := fieldPath(ve.InstanceLocation)
	msg := ve.ErrorKind.LocalizedString(printer)
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			*out = append(*out, FieldError{Field: joinField(at, m), Code: FieldMissing, Message: "is required"})
		}
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			*out = append(*out, FieldError{Field: joinField(at, p), Code: FieldUnknown, Message: "is not a known field"})
		}
	case *kind.Type:
		*out = append(*out, FieldError{Field: at, Code: FieldType, Message: msg})
	case *kind.Enum, *kind.Const:
		*out = append(*out, FieldError{Field: at, Code: FieldNotInEnum, Message: msg})
	case *kind.Format:
		*out = append(*out, FieldError{Field: at, Code: FieldInvalidFormat, Message: msg})
	case *kind.Minimum, *kind.Maximum, *kind.ExclusiveMinimum, *kind.ExclusiveMaximum,
		*kind.MinLength, *kind.MaxLength, *kind.MinItems, *kind.MaxItems:
		*out = append(*out, FieldError{Field: at, Code: FieldOutOfRange, Message: msg})
	default:
		*out = append(*out, FieldError{Field: at, Code: FieldInvalid, Message: msg})
	}
}

// fieldPath renders an instance location as positions[0].sector.
func fieldPath(loc []string) string {
	var b strings.Builder
	for _, tok := range loc {
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

func joinField(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// schemaNode is the part of a schema the static checks read: types,
// properties, items, and whether unknown properties are refused.
type schemaNode struct {
	types        []string // empty: any type
	format       string
	props        map[string]*schemaNode
	order        []string
	required     []string
	noAdditional bool
	additional   *schemaNode
	items        *schemaNode
	enum         []any
}

func parseSchemaNode(raw json.RawMessage) (*schemaNode, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	return nodeOf(v), nil
}

func nodeOf(v any) *schemaNode {
	m, ok := v.(map[string]any)
	if !ok {
		return &schemaNode{} // true, or a form not modelled: any value
	}
	n := &schemaNode{}
	switch t := m["type"].(type) {
	case string:
		n.types = []string{t}
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				n.types = append(n.types, s)
			}
		}
	}
	n.format, _ = m["format"].(string)
	if props, ok := m["properties"].(map[string]any); ok {
		n.props = map[string]*schemaNode{}
		for k, pv := range props {
			n.props[k] = nodeOf(pv)
			n.order = append(n.order, k)
		}
		sort.Strings(n.order)
	}
	if req, ok := m["required"].([]any); ok {
		for _, r := range req {
			if s, ok := r.(string); ok {
				n.required = append(n.required, s)
			}
		}
	}
	switch ap := m["additionalProperties"].(type) {
	case bool:
		n.noAdditional = !ap
	case map[string]any:
		n.additional = nodeOf(ap)
	}
	if it, ok := m["items"]; ok {
		n.items = nodeOf(it)
	}
	if e, ok := m["enum"].([]any); ok {
		n.enum = e
	}
	return n
}

func (n *schemaNode) any() bool { return len(n.types) == 0 }

func (n *schemaNode) allows(t string) bool {
	if n.any() {
		return true
	}
	for _, x := range n.types {
		if x == t || (t == "integer" && x == "number") {
			return true
		}
	}
	return false
}

// describe names the node's type for messages.
func (n *schemaNode) describe() string {
	if n.any() {
		return "any value"
	}
	ts := append([]string(nil), n.types...)
	if n.format != "" && len(ts) > 0 {
		ts[0] += " (" + n.format + ")"
	}
	return strings.Join(ts, " or ")
}

// field returns the schema of property name: its own, or the schema of
// additional properties; nil when the object refuses it.
func (n *schemaNode) field(name string) *schemaNode {
	if n.any() {
		return &schemaNode{}
	}
	if p, ok := n.props[name]; ok {
		return p
	}
	if n.additional != nil {
		return n.additional
	}
	if n.noAdditional || n.props != nil {
		return nil
	}
	return &schemaNode{}
}

func (n *schemaNode) isRequired(name string) bool {
	for _, r := range n.required {
		if r == name {
			return true
		}
	}
	return false
}
