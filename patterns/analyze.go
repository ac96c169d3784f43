package patterns

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

var (
	patternIDRe  = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	capabilityRe = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)
)

func isReserved(name string) bool {
	return name == RootInputs || name == RootCtx || name == RootSteps
}

// analyze finds every problem that needs no capability catalog, compiles
// the conditions and builds the step graph.
func analyze(p *Pattern) {
	a := &analysis{p: p}
	a.header()
	a.inputs()
	a.steps()
	a.references()
	a.graph()
	a.outputs()
	p.problems = a.probs
}

type analysis struct {
	p     *Pattern
	probs []Problem
}

func (a *analysis) add(path, code, format string, args ...any) {
	a.probs = append(a.probs, Problem{File: a.p.file, Path: path, Code: code, Message: fmt.Sprintf(format, args...)})
}

func (a *analysis) header() {
	switch {
	case a.p.ID == "":
		a.add("$.id", CodeMissingID, "pattern has no id")
	case !patternIDRe.MatchString(a.p.ID):
		a.add("$.id", CodeInvalidName, "id %q must match %s", a.p.ID, patternIDRe)
	}
}

func (a *analysis) inputs() {
	for _, name := range a.p.inputOrder {
		in := a.p.Inputs[name]
		at := pathKey("$.inputs", name)
		if !isIdent(name) {
			a.add(at, CodeInvalidName, "input name %q must be an identifier (letters, digits, underscores)", name)
		}
		if !knownType(in.Type) {
			if in.Type == "" {
				a.add(at+".type", CodeUnknownInputType, "input %q has no type", name)
			} else {
				a.add(at+".type", CodeUnknownInputType, "unknown type %q; want one of uuid, string, integer, number, boolean, date, array, object", in.Type)
			}
			continue
		}
		// Enum values and the default are checked with the input's own
		// schema: enum values against the type, the default against the
		// type and the enum.
		plain, err := CompileSchema("input "+name, mustMarshal(inputProperty(in, false)))
		if err != nil {
			a.add(at, CodeUnknownInputType, "input %q does not form a valid schema: %v", name, err)
			continue
		}
		for i, e := range in.Enum {
			if errs := plain.Validate(e); len(errs) > 0 {
				a.add(pathIndex(at+".enum", i), CodeEnumType, "enum value %s does not match type %s: %s", compactOr(e), in.Type, errs[0].Message)
			}
		}
		if in.Default == nil {
			continue
		}
		if in.Required {
			a.add(at+".default", CodeRequiredWithDefault, "required input %q has a default, which would never be used", name)
		}
		if errs := plain.Validate(in.Default); len(errs) > 0 {
			a.add(at+".default", CodeDefaultType, "default %s does not match type %s: %s", compactOr(in.Default), in.Type, errs[0].Message)
			continue
		}
		if len(in.Enum) > 0 {
			full, err := CompileSchema("input "+name, mustMarshal(inputProperty(in, true)))
			if err == nil && len(full.Validate(in.Default)) > 0 {
				a.add(at+".default", CodeDefaultNotInEnum, "default %s is not one of %s", compactOr(in.Default), enumList(in.Enum))
			}
		}
	}
	a.compileInputs()
}

func mustMarshal(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("patterns: encode %T: %v", v, err))
	}
	return b
}

func enumList(enum []json.RawMessage) string {
	var b strings.Builder
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

func (a *analysis) steps() {
	p := a.p
	if len(p.Steps) == 0 {
		a.add("$.steps", CodeNoSteps, "pattern has no steps")
	}
	p.byAs = map[string]*Step{}
	ids := map[string]int{}
	for i, s := range p.Steps {
		at := pathIndex("$.steps", i)
		switch {
		case s.Capability == "":
			a.add(at+".capability", CodeMissingCapability, "step has no capability")
		case !capabilityRe.MatchString(s.Capability):
			a.add(at+".capability", CodeInvalidCapabilityName, "capability %q must match %s", s.Capability, capabilityRe)
		}
		dupAs := false
		switch {
		case s.As == "":
			a.add(at+".as", CodeMissingAs, "step has no \"as\" name")
		case !isIdent(s.As):
			a.add(at+".as", CodeInvalidName, "as %q must be an identifier (letters, digits, underscores)", s.As)
		case isReserved(s.As):
			a.add(at+".as", CodeReservedName, "as %q is reserved", s.As)
		default:
			if prev, dup := p.byAs[s.As]; dup {
				dupAs = true
				a.add(at+".as", CodeDuplicateAs, "as %q is already used by $.steps[%d]", s.As, prev.index)
			} else {
				p.byAs[s.As] = s
			}
		}
		if s.ID != "" && s.ID != s.As && !isIdent(s.ID) {
			a.add(at+".id", CodeInvalidName, "id %q must be an identifier (letters, digits, underscores)", s.ID)
		}
		if s.ID != "" {
			// An id that defaults to a duplicate as is the same defect,
			// reported once.
			if prev, dup := ids[s.ID]; dup && !(dupAs && s.ID == s.As) {
				a.add(at+".id", CodeDuplicateStepID, "step id %q is already used by $.steps[%d]", s.ID, prev)
			} else {
				ids[s.ID] = i
			}
		}
		if len(s.Args) > 0 && s.Args[0] != '{' {
			a.add(at+".args", CodeArgsNotObject, "args must be an object")
		}
		if s.Condition != "" {
			c, err := CompileCondition(s.Condition)
			var ce *ConditionError
			switch {
			case errors.As(err, &ce):
				a.add(at+".condition", ce.Code, "%s", ce.Msg)
			case err != nil:
				a.add(at+".condition", CodeConditionCompile, "%v", err)
			default:
				s.cond = c
			}
		}
	}
}

// references checks every reference in arguments and conditions and
// records the dependencies of each step.
func (a *analysis) references() {
	p := a.p
	for i, s := range p.Steps {
		for _, b := range s.badRefs {
			a.add(b.path, CodeBadReference, "%v", b.err)
		}
		for _, r := range s.refs {
			a.reference(s, r.path, r.ref)
		}
		if s.cond != nil {
			at := pathIndex("$.steps", i) + ".condition"
			for _, name := range s.cond.inputs {
				if _, ok := p.Inputs[name]; !ok {
					a.add(at, CodeUnknownInput, "condition reads inputs.%s, but the pattern has no input %q", name, name)
				}
			}
			for _, as := range s.cond.steps {
				a.stepRef(s, at, "steps."+as, as)
			}
		}
	}
}

func (a *analysis) reference(s *Step, at string, r Path) {
	p := a.p
	switch r.Root {
	case RootInputs:
		if len(r.Segments) == 0 || r.Segments[0].IsIndex {
			a.add(at, CodeBadReference, "{{%s}}: inputs must be followed by .<input name>", r)
			return
		}
		name := r.Segments[0].Field
		in, ok := p.Inputs[name]
		if !ok {
			a.add(at, CodeUnknownInput, "{{%s}}: the pattern has no input %q", r, name)
			return
		}
		if len(r.Segments) > 1 && knownType(in.Type) && in.Type != TypeArray && in.Type != TypeObject {
			a.add(at, CodeBadReference, "{{%s}}: input %q is a %s and has no parts", r, name, in.Type)
		}
	case RootCtx:
		if len(r.Segments) == 0 || r.Segments[0].IsIndex {
			a.add(at, CodeBadReference, "{{%s}}: ctx must be followed by .<key>", r)
			return
		}
		if len(r.Segments) > 1 {
			a.add(at, CodeBadReference, "{{%s}}: ctx values are strings and have no parts", r)
		}
	default:
		a.stepRef(s, at, "{{"+r.String()+"}}", r.Root)
	}
}

// stepRef checks a reference from step s to the step named as and records
// the dependency.
func (a *analysis) stepRef(s *Step, at, shown, as string) {
	t, ok := a.p.byAs[as]
	if !ok {
		hint := ""
		if as == RootSteps {
			hint = "; in arguments a step is referenced by its as name, as {{<as>.field}}"
		}
		a.add(at, CodeUnknownStep, "%s: no step has as %q%s", shown, as, hint)
		return
	}
	if t.index > s.index {
		a.add(at, CodeForwardReference, "%s: step %q is defined later in the file ($.steps[%d]); steps may only use earlier steps", shown, as, t.index)
	}
	for _, d := range s.Deps {
		if d == as {
			return
		}
	}
	s.Deps = append(s.Deps, as)
}

// graph orders the steps (Kahn's algorithm, ties by file order) and reports
// every cycle once, naming its steps.
func (a *analysis) graph() {
	p := a.p
	for _, s := range p.Steps {
		// Keep Deps in file order whatever the order of mention.
		deps := make([]string, 0, len(s.Deps))
		for _, t := range p.Steps {
			for _, d := range s.Deps {
				if d == t.As && p.byAs[d] == t {
					deps = append(deps, d)
				}
			}
		}
		s.Deps = deps
	}
	indeg := map[*Step]int{}
	users := map[*Step][]*Step{}
	for _, s := range p.Steps {
		for _, d := range s.Deps {
			t := p.byAs[d]
			indeg[s]++
			users[t] = append(users[t], s)
		}
	}
	done := map[*Step]bool{}
	for {
		progressed := false
		for _, s := range p.Steps {
			if done[s] || indeg[s] > 0 {
				continue
			}
			done[s] = true
			p.order = append(p.order, s)
			for _, u := range users[s] {
				indeg[u]--
			}
			progressed = true
			break
		}
		if !progressed {
			break
		}
	}
	if len(p.order) == len(p.Steps) {
		return
	}
	// Find the cycles among the remaining steps by depth-first search;
	// each back edge closes one cycle.
	const (
		white = iota
		grey
		black
	)
	color := map[*Step]int{}
	reported := map[string]bool{}
	var stack []*Step
	var visit func(s *Step)
	visit = func(s *Step) {
		color[s] = grey
		stack = append(stack, s)
		for _, d := range s.Deps {
			t := p.byAs[d]
			switch color[t] {
			case white:
				visit(t)
			case grey:
				start := 0
				for i, x := range stack {
					if x == t {
						start = i
					}
				}
				cyc := stack[start:]
				names := make([]string, 0, len(cyc)+1)
				minIdx := 0
				for i, x := range cyc {
					if x.index < cyc[minIdx].index {
						minIdx = i
					}
				}
				// Rotate so the cycle starts at its earliest step: one
				// cycle has one name however it is reached. Edges point
				// from a step to what it reads.
				for i := range cyc {
					names = append(names, cyc[(minIdx+i)%len(cyc)].As)
				}
				names = append(names, names[0])
				key := strings.Join(names, " -> ")
				if !reported[key] {
					reported[key] = true
					a.add(pathIndex("$.steps", cyc[minIdx].index), CodeCycle, "steps depend on each other in a cycle: %s (each reads the next)", key)
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[s] = black
	}
	for _, s := range p.Steps {
		if !done[s] && color[s] == white && s.As != "" && p.byAs[s.As] == s {
			visit(s)
		}
	}
}

func (a *analysis) outputs() {
	p := a.p
	if len(p.Outputs) == 0 {
		a.add("$.outputs", CodeNoOutputs, "pattern has no outputs")
	}
	seen := map[string]bool{}
	for i, o := range p.Outputs {
		at := pathIndex("$.outputs", i)
		if seen[o] {
			a.add(at, CodeDuplicateOutput, "output %q is listed twice", o)
			continue
		}
		seen[o] = true
		r, err := ParsePath(o)
		if err != nil {
			a.add(at, CodeUnknownOutput, "output %q is not <as> or <as>.path: %v", o, err)
			continue
		}
		if _, ok := p.byAs[r.Root]; !ok {
			a.add(at, CodeUnknownOutput, "output %q names no step (no step has as %q)", o, r.Root)
			continue
		}
		p.outputs = append(p.outputs, outputRef{path: at, ref: r})
	}
}
