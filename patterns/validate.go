package patterns

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Catalog gives the capability specs a pattern is checked against; the
// agents registry implements it. Defined here, by its consumer, so this
// package imports nothing of ours.
type Catalog interface {
	Capability(name string) (CapabilitySpec, bool)
}

// CapabilitySpec is what validation needs to know of a capability's input.
// Args lists every argument the capability accepts: a nil or empty map
// means it takes none.
type CapabilitySpec struct {
	Name     string
	Args     map[string]ArgSpec
	Required []string
}

// ArgSpec is one argument of a capability.
type ArgSpec struct {
	// Type is a JSON Schema type: string, integer, number, boolean, array,
	// object, or "" for any.
	Type string
}

// Validate returns every problem of the pattern: those found by Parse
// without a catalog, plus, when cat is not nil, unknown capabilities and
// arguments that the capability does not accept, lacks, or gets with the
// wrong JSON type. An empty result means the pattern can run.
func Validate(p *Pattern, cat Catalog) []Problem {
	probs := make([]Problem, 0, len(p.problems))
	for _, pr := range p.problems {
		pr.File = p.file
		probs = append(probs, pr)
	}
	if cat == nil {
		return probs
	}
	add := func(path, code, format string, a ...any) {
		probs = append(probs, Problem{File: p.file, Path: path, Code: code, Message: fmt.Sprintf(format, a...)})
	}
	for i, s := range p.Steps {
		at := pathIndex("$.steps", i)
		if s.Capability == "" || !capabilityRe.MatchString(s.Capability) {
			continue // already reported
		}
		spec, ok := cat.Capability(s.Capability)
		if !ok {
			add(at+".capability", CodeUnknownCapability, "no agent provides capability %q", s.Capability)
			continue
		}
		if len(s.Args) > 0 && s.Args[0] != '{' {
			continue // already reported
		}
		given := map[string]argTop{}
		for _, t := range s.argTops {
			given[t.key] = t
			as, ok := spec.Args[t.key]
			if !ok {
				add(t.path, CodeUnknownArgument, "capability %s has no argument %q%s", s.Capability, t.key, knownArgs(spec))
				continue
			}
			if got := argJSONType(p, t); got != "" && !typeFits(as.Type, got) {
				add(t.path, CodeArgumentType, "argument %q of %s wants %s, got %s", t.key, s.Capability, as.Type, got)
			}
		}
		for _, r := range spec.Required {
			if t, ok := given[r]; !ok || t.kind == kindNull {
				add(at+".args", CodeMissingArgument, "capability %s requires argument %q", s.Capability, r)
			}
		}
	}
	return probs
}

func knownArgs(spec CapabilitySpec) string {
	if len(spec.Args) == 0 {
		return "; it takes no arguments"
	}
	return "; it takes " + strings.Join(sortedKeys(spec.Args), ", ")
}

// argJSONType is the JSON type a top-level argument will have after
// resolution, or "" when that is not known before the run (a step output,
// a part of an object input, or null).
func argJSONType(p *Pattern, t argTop) string {
	switch t.kind {
	case kindNull:
		return ""
	case kindBool:
		return "boolean"
	case kindNumber:
		if _, err := parseInteger(t.num); err == nil {
			return "integer"
		}
		return "number"
	case kindArray:
		return "array"
	case kindObject:
		return "object"
	}
	if t.whole == nil {
		return "string"
	}
	r := t.whole
	switch r.Root {
	case RootCtx:
		if len(r.Segments) == 1 {
			return "string"
		}
	case RootInputs:
		if len(r.Segments) == 1 && !r.Segments[0].IsIndex {
			if in, ok := p.Inputs[r.Segments[0].Field]; ok && knownType(in.Type) {
				return jsonSchemaType(in.Type)
			}
		}
	}
	return ""
}

// typeFits reports whether a value of JSON type got is acceptable where
// want is declared; integers are numbers.
func typeFits(want, got string) bool {
	switch want {
	case "", got:
		return true
	case "number":
		return got == "integer"
	case "string", "integer", "boolean", "array", "object":
		return false
	}
	return true // a schema type this check does not model
}

// ValidateDocument parses data and validates it, turning decoding errors
// into problems, for POST /v1/patterns/validate and `dawsos patterns lint`.
// The pattern is nil when the document does not decode.
func ValidateDocument(name string, data []byte, cat Catalog) (*Pattern, []Problem) {
	p, err := Parse(name, data)
	if err != nil {
		if pe, ok := err.(ParseErrors); ok {
			return nil, pe.Problems()
		}
		return nil, []Problem{{File: name, Path: "$", Code: CodeSyntax, Message: err.Error()}}
	}
	return p, Validate(p, cat)
}

// Collect gathers the run's result from step outputs keyed by `as`: one
// entry per listed output. Outputs whose step has no output (failed or
// skipped) or whose path does not resolve are left out and reported, so a
// partial run keeps what it has.
func (p *Pattern) Collect(steps map[string]json.RawMessage) (map[string]json.RawMessage, []error) {
	out := map[string]json.RawMessage{}
	var errs []error
	r := &resolver{scope: Scope{Steps: steps}, steps: map[string]any{}}
	for _, o := range p.outputs {
		if len(o.ref.Segments) == 0 {
			if raw, ok := steps[o.ref.Root]; ok {
				out[o.ref.String()] = raw
				continue
			}
		}
		v, err := r.lookup(o.ref, o.path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		raw, err := marshalCompact(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("output %s: %w", o.ref, err))
			continue
		}
		out[o.ref.String()] = raw
	}
	return out, errs
}
