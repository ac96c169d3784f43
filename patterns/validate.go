package patterns

import (
	"encoding/json"
	"fmt"
)

// Catalog gives the capability specs a pattern is checked against; the
// agents registry implements it (through the orchestrator). Defined here,
// by its consumer, so this package imports nothing of ours.
type Catalog interface {
	Capability(name string) (CapabilitySpec, bool)
	// Context is the schema of the run context, which {{ctx.<key>}}
	// references are checked against.
	Context() *Schema
}

// CapabilitySpec is what validation needs to know of a capability: the
// schema of its arguments and of its output.
type CapabilitySpec struct {
	Name   string
	Input  *Schema
	Output *Schema
}

// Validate returns every problem of the pattern: those found by Parse
// without a catalog, plus, when cat is not nil, unknown capabilities,
// references that do not resolve against the producing capability's
// output schema (or the run context's), and arguments that the consuming
// capability does not accept, lacks, or gets with the wrong type, at any
// depth. An empty result means the pattern can run.
func Validate(p *Pattern, cat Catalog) []Problem {
	probs := make([]Problem, 0, len(p.problems))
	for _, pr := range p.problems {
		pr.File = p.file
		probs = append(probs, pr)
	}
	if cat == nil {
		return probs
	}
	c := &typeChecker{p: p, cat: cat, out: map[string]*schemaNode{}, probs: &probs}
	if cs := cat.Context(); cs != nil {
		c.ctx = cs.node
	}
	specs := make([]*CapabilitySpec, len(p.Steps))
	for i, s := range p.Steps {
		at := pathIndex("$.steps", i)
		if s.Capability == "" || !capabilityRe.MatchString(s.Capability) {
			continue // already reported
		}
		spec, ok := cat.Capability(s.Capability)
		if !ok {
			c.add(at+".capability", CodeUnknownCapability, "no agent provides capability %q", s.Capability)
			continue
		}
		specs[i] = &spec
		if spec.Output != nil && s.As != "" && p.byAs[s.As] == s {
			c.out[s.As] = spec.Output.node
		}
	}
	for i, s := range p.Steps {
		at := pathIndex("$.steps", i)
		if specs[i] == nil || specs[i].Input == nil {
			// Unknown capability: its references are still resolved.
			for _, r := range s.refs {
				c.refNode(r.ref, r.path)
			}
			continue
		}
		if len(s.Args) > 0 && s.Args[0] != '{' {
			continue // already reported
		}
		c.checkArgs(s, at, specs[i].Input.node)
	}
	for i, s := range p.Steps {
		if s.cond == nil || c.ctx == nil {
			continue
		}
		for _, k := range s.cond.ctxKeys {
			if c.ctx.field(k) == nil {
				c.add(pathIndex("$.steps", i)+".condition", CodeUnknownCtxKey, "condition reads ctx.%s, which is not a run-context key%s", k, fieldList(c.ctx))
			}
		}
	}
	for _, o := range p.outputs {
		if len(o.ref.Segments) > 0 {
			c.refNode(o.ref, o.path)
		}
	}
	return probs
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
