package patterns

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Scope holds what references can see while a run is resolved: the checked
// inputs, the run context and the outputs of finished steps keyed by `as`.
type Scope struct {
	Inputs map[string]any
	Ctx    map[string]any
	Steps  map[string]json.RawMessage
}

// ResolveError says which reference could not be resolved and where in the
// arguments it sits. The orchestrator treats it as a final (non-retryable)
// step failure.
type ResolveError struct {
	Ref string // the reference, such as valued.positions[3]
	At  string // JSON path inside the arguments, such as $.positions
	Msg string
}

func (e *ResolveError) Error() string {
	return fmt.Sprintf("resolve {{%s}} at %s: %s", e.Ref, e.At, e.Msg)
}

// Resolve replaces every reference in args (at any depth, inside objects,
// arrays and strings; never in object keys) with its value from scope. A
// string that is exactly one reference takes the referenced JSON value and
// type; a reference inside longer text is interpolated as text (strings as
// they are, other values as compact JSON).
func Resolve(args json.RawMessage, scope Scope) (json.RawMessage, error) {
	if len(bytes.TrimSpace(args)) == 0 {
		return args, nil
	}
	v, err := decodeJSON(args)
	if err != nil {
		return nil, fmt.Errorf("resolve arguments: %w", err)
	}
	r := &resolver{scope: scope, steps: map[string]any{}}
	out, err := r.walk(v, "$")
	if err != nil {
		return nil, err
	}
	return marshalCompact(out)
}

type resolver struct {
	scope Scope
	steps map[string]any // decoded step outputs, by `as`
}

func (r *resolver) walk(v any, at string) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			rv, err := r.walk(e, pathKey(at, k))
			if err != nil {
				return nil, err
			}
			out[k] = rv
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			rv, err := r.walk(e, pathIndex(at, i))
			if err != nil {
				return nil, err
			}
			out[i] = rv
		}
		return out, nil
	case string:
		if !strings.Contains(x, "{{") {
			return x, nil
		}
		t, err := parseTemplate(x)
		if err != nil {
			return nil, &ResolveError{Ref: x, At: at, Msg: err.Error()}
		}
		if p := t.whole(); p != nil {
			return r.lookup(*p, at)
		}
		var b strings.Builder
		for _, part := range t.parts {
			if part.ref == nil {
				b.WriteString(part.lit)
				continue
			}
			val, err := r.lookup(*part.ref, at)
			if err != nil {
				return nil, err
			}
			if err := writeText(&b, val); err != nil {
				return nil, &ResolveError{Ref: part.ref.String(), At: at, Msg: err.Error()}
			}
		}
		return b.String(), nil
	default:
		return v, nil
	}
}

// writeText interpolates a value into text: strings raw, the rest as
// compact JSON.
func writeText(b *strings.Builder, v any) error {
	if s, ok := v.(string); ok {
		b.WriteString(s)
		return nil
	}
	raw, err := marshalCompact(v)
	if err != nil {
		return err
	}
	b.Write(raw)
	return nil
}

func (r *resolver) lookup(p Path, at string) (any, error) {
	fail := func(format string, a ...any) error {
		return &ResolveError{Ref: p.String(), At: at, Msg: fmt.Sprintf(format, a...)}
	}
	var cur any
	segs := p.Segments
	done := 0
	switch p.Root {
	case RootInputs, RootCtx:
		if len(segs) == 0 || segs[0].IsIndex {
			return nil, fail("%s must be followed by .name", p.Root)
		}
		m := r.scope.Inputs
		what := "input"
		if p.Root == RootCtx {
			m, what = r.scope.Ctx, "context key"
		}
		v, ok := m[segs[0].Field]
		if !ok {
			return nil, fail("no %s %q", what, segs[0].Field)
		}
		jv, err := toJSONValue(v)
		if err != nil {
			return nil, fail("%s %q: %v", what, segs[0].Field, err)
		}
		cur, done = jv, 1
	default:
		v, ok := r.steps[p.Root]
		if !ok {
			raw, found := r.scope.Steps[p.Root]
			if !found {
				return nil, fail("step %q has no output (it has not run, was skipped or failed)", p.Root)
			}
			dv, err := decodeJSON(raw)
			if err != nil {
				return nil, fail("output of step %q: %v", p.Root, err)
			}
			r.steps[p.Root], v = dv, dv
		}
		cur = v
	}
	for i := done; i < len(segs); i++ {
		s := segs[i]
		if s.IsIndex {
			arr, ok := cur.([]any)
			if !ok {
				return nil, fail("%s is %s, not an array", p.prefix(i), describeValue(cur))
			}
			if s.Index >= len(arr) {
				return nil, fail("index %d out of range: %s has %d elements", s.Index, p.prefix(i), len(arr))
			}
			cur = arr[s.Index]
			continue
		}
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, fail("%s is %s, not an object", p.prefix(i), describeValue(cur))
		}
		v, ok := obj[s.Field]
		if !ok {
			return nil, fail("%s has no field %q", p.prefix(i), s.Field)
		}
		cur = v
	}
	return cur, nil
}

func describeValue(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64, int64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}

// decodeJSON decodes exactly one JSON value, keeping numbers exact.
func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return v, nil
}

// marshalCompact encodes v without HTML escaping and without the trailing
// newline json.Encoder adds.
func marshalCompact(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.TrimRight(buf.Bytes(), "\n")), nil
}

// toJSONValue turns a Go value from inputs or the run context into the
// generic JSON form (map[string]any, []any, json.Number, string, bool, nil).
func toJSONValue(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string, json.Number:
		return x, nil
	case int:
		return json.Number(strconv.Itoa(x)), nil
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%v is not a JSON number", x)
		}
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64)), nil
	case json.RawMessage:
		return decodeJSON(x)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return decodeJSON(raw)
}
