package patterns

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
)

// Pattern is a parsed pattern file. Its exported fields mirror the file, so
// json.Marshal of a Pattern gives back an equivalent document; the derived
// facts (dependencies, order, compiled conditions, hash) are computed by
// Parse and read through methods.
type Pattern struct {
	ID          string           `json:"id"`
	Name        string           `json:"name,omitempty"`
	Description string           `json:"description,omitempty"`
	Version     string           `json:"version,omitempty"`
	Category    string           `json:"category,omitempty"`
	Inputs      map[string]Input `json:"inputs,omitempty"`
	Steps       []*Step          `json:"steps"`
	// Outputs names the steps (by `as`, or `as.path` for a part of one)
	// whose outputs form the run's result.
	Outputs []string `json:"outputs"`
	// Display and Presentation are hints for clients, returned untouched.
	Display      json.RawMessage `json:"display,omitempty"`
	Presentation json.RawMessage `json:"presentation,omitempty"`

	file       string
	inputOrder []string
	outputs    []outputRef
	hash       string
	byAs       map[string]*Step
	order      []*Step
	problems   []Problem // catalog-independent, found by Parse
	// inputSchema checks the inputs of every run.
	inputSchema *Schema
}

// Input declares one input of a pattern.
type Input struct {
	Type        string            `json:"type"`
	Required    bool              `json:"required,omitempty"`
	Default     json.RawMessage   `json:"default,omitempty"`
	Enum        []json.RawMessage `json:"enum,omitempty"`
	Description string            `json:"description,omitempty"`
}

// Step invokes one capability. ID defaults to As; As is the name other
// steps, conditions and outputs use to reach this step's output.
type Step struct {
	ID         string          `json:"id"`
	Capability string          `json:"capability"`
	As         string          `json:"as"`
	Args       json.RawMessage `json:"args"`
	Condition  string          `json:"condition,omitempty"`

	// Deps lists the `as` names of the steps this one reads, through its
	// arguments or its condition, in file order.
	Deps []string `json:"-"`

	index   int
	cond    *Condition
	refs    []refSite
	argTops []argTop
	badRefs []badRef
}

// refSite is one reference found in the arguments, with its JSON path.
type refSite struct {
	path string // $.steps[i].args...
	ref  Path
}

// argTop describes a top-level argument for checks against a capability.
type argTop struct {
	key   string
	path  string
	kind  jsonKind
	whole *Path // set when the value is a string that is one reference
	num   json.Number
}

type outputRef struct {
	path string
	ref  Path
}

// File is the name the pattern was parsed under.
func (p *Pattern) File() string { return p.file }

// Hash is the hex SHA-256 of a canonical encoding of the pattern, so
// changes of whitespace or key order do not change it.
func (p *Pattern) Hash() string { return p.hash }

// Step returns the step with the given `as` name.
func (p *Pattern) Step(as string) (*Step, bool) {
	s, ok := p.byAs[as]
	return s, ok
}

// Order returns the steps in a topological order of their dependencies,
// ties broken by file order. For a pattern with a cycle it omits the steps
// on or behind the cycle; such a pattern never passes Validate.
func (p *Pattern) Order() []*Step { return append([]*Step(nil), p.order...) }

// InputNames lists the declared inputs in file order.
func (p *Pattern) InputNames() []string { return append([]string(nil), p.inputOrder...) }

// Compiled returns the compiled condition, or nil when the step has none or
// its condition does not compile.
func (s *Step) Compiled() *Condition { return s.cond }

// EvalCondition reports whether the step should run: true when it has no
// condition.
func (s *Step) EvalCondition(ctx context.Context, scope Scope) (bool, error) {
	if s.Condition == "" {
		return true, nil
	}
	if s.cond == nil {
		return false, fmt.Errorf("step %s: condition %q did not compile", s.ID, s.Condition)
	}
	return s.cond.Eval(ctx, scope)
}

// ResolveArgs resolves the step's arguments against scope.
func (s *Step) ResolveArgs(scope Scope) (json.RawMessage, error) {
	out, err := Resolve(s.Args, scope)
	if err != nil {
		return nil, fmt.Errorf("step %s: %w", s.ID, err)
	}
	return out, nil
}

// Parse decodes a pattern document strictly: unknown fields, duplicate keys
// and values of the wrong JSON type are errors naming their JSON path and
// position (returned as ParseErrors). A document that decodes yields a
// Pattern even if it has semantic problems; Validate reports those.
func Parse(name string, data []byte) (*Pattern, error) {
	root, sf := parseTree(data)
	if sf != nil {
		line, col := lineCol(data, sf.off)
		return nil, ParseErrors{{File: name, Path: "$", Line: line, Column: col, Code: sf.code, Message: sf.msg}}
	}
	d := &docDecoder{file: name, data: data}
	p := d.pattern(root)
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	p.file = name
	// Empty rather than nil, so that json.Marshal writes [] and the output
	// parses again.
	if p.Steps == nil {
		p.Steps = []*Step{}
	}
	if p.Outputs == nil {
		p.Outputs = []string{}
	}
	analyze(p)
	h, err := canonicalHash(p)
	if err != nil {
		return nil, fmt.Errorf("hash pattern %s: %w", name, err)
	}
	p.hash = h
	return p, nil
}

// docDecoder maps the node tree onto the pattern types, collecting every
// decoding error.
type docDecoder struct {
	file string
	data []byte
	errs ParseErrors
}

func (d *docDecoder) errAt(off int64, path, code, format string, a ...any) {
	line, col := lineCol(d.data, off)
	d.errs = append(d.errs, &ParseError{File: d.file, Path: path, Line: line, Column: col, Code: code, Message: fmt.Sprintf(format, a...)})
}

// fields walks an object's members, rejecting duplicates and calling set
// for each; set returns false for an unknown key.
func (d *docDecoder) fields(n *node, path string, set func(m member, at string) bool) {
	if !d.expect(n, path, kindObject) {
		return
	}
	seen := map[string]bool{}
	for _, m := range n.obj {
		at := pathKey(path, m.key)
		if seen[m.key] {
			d.errAt(m.keyOff, at, CodeDuplicateKey, "duplicate key %q", m.key)
			continue
		}
		seen[m.key] = true
		if !set(m, at) {
			d.errAt(m.keyOff, at, CodeUnknownField, "unknown field %q", m.key)
		}
	}
}

func (d *docDecoder) expect(n *node, path string, k jsonKind) bool {
	if n.kind != k {
		d.errAt(n.start, path, CodeWrongJSONType, "want %s, got %s", k, n.kind)
		return false
	}
	return true
}

func (d *docDecoder) str(n *node, path string, dst *string) {
	if d.expect(n, path, kindString) {
		*dst = n.str
	}
}

func (d *docDecoder) pattern(n *node) *Pattern {
	p := &Pattern{}
	d.fields(n, "$", func(m member, at string) bool {
		switch m.key {
		case "id":
			d.str(m.val, at, &p.ID)
		case "name":
			d.str(m.val, at, &p.Name)
		case "description":
			d.str(m.val, at, &p.Description)
		case "version":
			d.str(m.val, at, &p.Version)
		case "category":
			d.str(m.val, at, &p.Category)
		case "inputs":
			p.Inputs = map[string]Input{}
			d.fields(m.val, at, func(im member, iat string) bool {
				p.Inputs[im.key] = d.input(im.val, iat)
				p.inputOrder = append(p.inputOrder, im.key)
				return true
			})
		case "steps":
			if d.expect(m.val, at, kindArray) {
				for i, sn := range m.val.arr {
					s := d.step(sn, pathIndex(at, i))
					s.index = i
					p.Steps = append(p.Steps, s)
				}
			}
		case "outputs":
			if d.expect(m.val, at, kindArray) {
				for i, on := range m.val.arr {
					var o string
					d.str(on, pathIndex(at, i), &o)
					p.Outputs = append(p.Outputs, o)
				}
			}
		case "display":
			p.Display = m.val.raw(d.data)
		case "presentation":
			p.Presentation = m.val.raw(d.data)
		default:
			return false
		}
		return true
	})
	return p
}

func (d *docDecoder) input(n *node, path string) Input {
	var in Input
	d.fields(n, path, func(m member, at string) bool {
		switch m.key {
		case "type":
			d.str(m.val, at, &in.Type)
		case "required":
			if d.expect(m.val, at, kindBool) {
				in.Required = m.val.b
			}
		case "default":
			in.Default = m.val.raw(d.data)
		case "enum":
			if d.expect(m.val, at, kindArray) {
				in.Enum = []json.RawMessage{}
				for _, e := range m.val.arr {
					in.Enum = append(in.Enum, e.raw(d.data))
				}
			}
		case "description":
			d.str(m.val, at, &in.Description)
		default:
			return false
		}
		return true
	})
	return in
}

func (d *docDecoder) step(n *node, path string) *Step {
	s := &Step{}
	var argsNode *node
	d.fields(n, path, func(m member, at string) bool {
		switch m.key {
		case "id":
			d.str(m.val, at, &s.ID)
		case "capability":
			d.str(m.val, at, &s.Capability)
		case "as":
			d.str(m.val, at, &s.As)
		case "args":
			argsNode = m.val
			s.Args = m.val.raw(d.data)
		case "condition":
			d.str(m.val, at, &s.Condition)
		default:
			return false
		}
		return true
	})
	if s.ID == "" {
		s.ID = s.As
	}
	if argsNode == nil {
		s.Args = json.RawMessage(`{}`)
		return s
	}
	// References are collected here, where paths into the arguments are
	// known; syntax errors in them are reported by analyze.
	collectRefs(argsNode, pathKey(path, "args"), s)
	if argsNode.kind == kindObject {
		for _, m := range argsNode.obj {
			t := argTop{key: m.key, path: pathKey(pathKey(path, "args"), m.key), kind: m.val.kind, num: m.val.num}
			if m.val.kind == kindString && containsRef(m.val.str) {
				if tm, err := parseTemplate(m.val.str); err == nil {
					t.whole = tm.whole()
				}
			}
			s.argTops = append(s.argTops, t)
		}
	}
	return s
}

func containsRef(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '{' && s[i+1] == '{' {
			return true
		}
	}
	return false
}

// collectRefs records every reference in the argument tree; a string whose
// references do not parse is kept in badRefs.
func collectRefs(n *node, path string, s *Step) {
	switch n.kind {
	case kindString:
		if !containsRef(n.str) {
			return
		}
		t, err := parseTemplate(n.str)
		if err != nil {
			s.badRefs = append(s.badRefs, badRef{path: path, err: err})
			return
		}
		for _, r := range t.refs() {
			s.refs = append(s.refs, refSite{path: path, ref: r})
		}
	case kindArray:
		for i, e := range n.arr {
			collectRefs(e, pathIndex(path, i), s)
		}
	case kindObject:
		for _, m := range n.obj {
			collectRefs(m.val, pathKey(path, m.key), s)
		}
	}
}

type badRef struct {
	path string
	err  error
}

// canonicalHash hashes a canonical JSON encoding: struct fields in fixed
// order, object keys sorted, raw JSON re-encoded without whitespace.
func canonicalHash(p *Pattern) (string, error) {
	canon := func(raw json.RawMessage) (any, error) {
		if raw == nil {
			return nil, nil
		}
		return decodeJSON(raw)
	}
	type cInput struct {
		Type        string `json:"type"`
		Required    bool   `json:"required"`
		Default     any    `json:"default"`
		HasDefault  bool   `json:"has_default"`
		Enum        []any  `json:"enum"`
		Description string `json:"description"`
	}
	type cStep struct {
		ID, Capability, As, Condition string
		Args                          any
	}
	doc := struct {
		ID, Name, Description, Version, Category string
		Inputs                                   map[string]cInput
		Steps                                    []cStep
		Outputs                                  []string
		Display, Presentation                    any
	}{ID: p.ID, Name: p.Name, Description: p.Description, Version: p.Version, Category: p.Category,
		Inputs: map[string]cInput{}, Outputs: p.Outputs}
	var err error
	for name, in := range p.Inputs {
		ci := cInput{Type: in.Type, Required: in.Required, Description: in.Description, HasDefault: in.Default != nil}
		if ci.Default, err = canon(in.Default); err != nil {
			return "", err
		}
		for _, e := range in.Enum {
			v, err := canon(e)
			if err != nil {
				return "", err
			}
			ci.Enum = append(ci.Enum, v)
		}
		doc.Inputs[name] = ci
	}
	for _, s := range p.Steps {
		cs := cStep{ID: s.ID, Capability: s.Capability, As: s.As, Condition: s.Condition}
		if cs.Args, err = canon(s.Args); err != nil {
			return "", err
		}
		doc.Steps = append(doc.Steps, cs)
	}
	if doc.Display, err = canon(p.Display); err != nil {
		return "", err
	}
	if doc.Presentation, err = canon(p.Presentation); err != nil {
		return "", err
	}
	raw, err := marshalCompact(doc)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
