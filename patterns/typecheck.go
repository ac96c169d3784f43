package patterns

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// The static type checks of a pattern against a catalog: every reference
// {{step.path[0].field}} is resolved against the producing capability's
// output schema, every input and ctx reference against its declaration,
// and every argument (literal or reference, at any depth) against the
// consuming capability's input schema. A pattern that passes them cannot
// fail at run time for a misspelt field or a value of the wrong type.

// typeChecker checks one pattern.
type typeChecker struct {
	p     *Pattern
	cat   Catalog
	ctx   *schemaNode
	out   map[string]*schemaNode // output schema by step `as`
	probs *[]Problem
}

func (c *typeChecker) add(path, code, format string, a ...any) {
	*c.probs = append(*c.probs, Problem{File: c.p.file, Path: path, Code: code, Message: fmt.Sprintf(format, a...)})
}

// refNode returns the schema a reference resolves to, or nil after
// reporting why it cannot resolve.
func (c *typeChecker) refNode(r Path, at string) *schemaNode {
	var cur *schemaNode
	segs := r.Segments
	shown := "{{" + r.String() + "}}"
	switch r.Root {
	case RootInputs:
		if len(segs) == 0 {
			return nil // reported by analyze
		}
		in, ok := c.p.Inputs[segs[0].Field]
		if !ok || !knownType(in.Type) {
			return nil // reported by analyze
		}
		if len(segs) > 1 {
			// The parts of an object or array input have no declared type.
			return &schemaNode{}
		}
		return inputNode(in)
	case RootCtx:
		if len(segs) == 0 || c.ctx == nil {
			return &schemaNode{}
		}
		if len(segs) > 1 {
			return nil // ctx values have no parts; reported by analyze
		}
		cur = c.ctx
	default:
		o, ok := c.out[r.Root]
		if !ok {
			return &schemaNode{} // unknown step, reported by analyze; or an unknown capability
		}
		cur = o
	}
	for i, s := range segs {
		if cur.any() {
			return cur
		}
		if s.IsIndex {
			if !cur.allows("array") {
				c.add(at, CodeBadReference, "%s: %s is %s, not an array", shown, r.prefix(i), cur.describe())
				return nil
			}
			if cur.items == nil {
				return &schemaNode{}
			}
			cur = cur.items
			continue
		}
		if !cur.allows("object") {
			c.add(at, CodeBadReference, "%s: %s is %s, not an object", shown, r.prefix(i), cur.describe())
			return nil
		}
		next := cur.field(s.Field)
		if next == nil {
			code, what := CodeUnknownReferenceField, "output"
			if r.Root == RootCtx {
				code, what = CodeUnknownCtxKey, "run context"
			}
			c.add(at, code, "%s: %s has no field %q in its %s schema%s", shown, r.prefix(i), s.Field, what, fieldList(cur))
			return nil
		}
		cur = next
	}
	return cur
}

func fieldList(n *schemaNode) string {
	if len(n.order) == 0 {
		return ""
	}
	return "; it has " + strings.Join(n.order, ", ")
}

// inputNode is the schema of a declared pattern input.
func inputNode(in Input) *schemaNode {
	n := &schemaNode{types: []string{jsonSchemaType(in.Type)}}
	switch in.Type {
	case TypeUUID:
		n.format = "uuid"
	case TypeDate:
		n.format = "date"
	}
	if in.Default == nil && !in.Required {
		// An optional input without a default is null when absent.
		n.types = append(n.types, "null")
	}
	return n
}

// checkArgs checks a step's arguments against the capability's input
// schema: unknown and missing arguments, and the type of each value.
func (c *typeChecker) checkArgs(s *Step, at string, want *schemaNode) {
	v, err := decodeJSON(s.Args)
	if err != nil {
		return // reported by Parse
	}
	args, ok := v.(map[string]any)
	if !ok {
		return // reported by analyze
	}
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ap := pathKey(at+".args", k)
		w := want.field(k)
		if w == nil {
			c.add(ap, CodeUnknownArgument, "capability %s has no argument %q%s", s.Capability, k, argList(want))
			continue
		}
		if args[k] == nil && want.isRequired(k) {
			continue // reported below as missing
		}
		c.checkValue(args[k], w, ap, s.Capability)
	}
	for _, r := range want.required {
		if v, ok := args[r]; !ok || v == nil {
			c.add(at+".args", CodeMissingArgument, "capability %s requires argument %q", s.Capability, r)
		}
	}
}

func argList(n *schemaNode) string {
	if len(n.order) == 0 {
		return "; it takes no arguments"
	}
	return "; it takes " + strings.Join(n.order, ", ")
}

// checkValue checks one value of the arguments (a literal, a template or
// a reference) against the schema the capability wants there.
func (c *typeChecker) checkValue(v any, want *schemaNode, at, capability string) {
	if want.any() {
		c.walkRefs(v, at)
		return
	}
	switch x := v.(type) {
	case nil:
		if !want.allows("null") {
			c.add(at, CodeArgumentType, "%s wants %s here, got null", capability, want.describe())
		}
	case bool:
		c.literal("boolean", want, at, capability)
	case json.Number:
		t := "number"
		if _, err := parseInteger(x); err == nil {
			t = "integer"
		}
		c.literal(t, want, at, capability)
	case string:
		if !containsRef(x) {
			c.literal("string", want, at, capability)
			return
		}
		t, err := parseTemplate(x)
		if err != nil {
			return // reported by analyze
		}
		if r := t.whole(); r != nil {
			if got := c.refNode(*r, at); got != nil {
				c.assignable(got, want, at, "{{"+r.String()+"}}", capability)
			}
			return
		}
		c.refsIn(x, at)
		c.literal("string", want, at, capability)
	case map[string]any:
		if !want.allows("object") {
			c.add(at, CodeArgumentType, "%s wants %s here, got an object", capability, want.describe())
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			w := want.field(k)
			if w == nil {
				c.add(pathKey(at, k), CodeUnknownArgument, "%s has no field %q here%s", capability, k, fieldList(want))
				continue
			}
			c.checkValue(x[k], w, pathKey(at, k), capability)
		}
		var missing []string
		for _, r := range want.required {
			if _, ok := x[r]; !ok {
				missing = append(missing, r)
			}
		}
		if len(missing) > 0 {
			c.add(at, CodeMissingArgument, "%s requires %s here", capability, quoteList(missing))
		}
	case []any:
		if !want.allows("array") {
			c.add(at, CodeArgumentType, "%s wants %s here, got an array", capability, want.describe())
			return
		}
		items := want.items
		if items == nil {
			items = &schemaNode{}
		}
		for i, e := range x {
			c.checkValue(e, items, pathIndex(at, i), capability)
		}
	}
}

// walkRefs resolves every reference inside a value the capability accepts
// whatever its type, for their errors alone.
func (c *typeChecker) walkRefs(v any, at string) {
	switch x := v.(type) {
	case string:
		c.refsIn(x, at)
	case map[string]any:
		for k, e := range x {
			c.walkRefs(e, pathKey(at, k))
		}
	case []any:
		for i, e := range x {
			c.walkRefs(e, pathIndex(at, i))
		}
	}
}

// refsIn resolves every reference inside a template string, for their
// errors alone: the result is text.
func (c *typeChecker) refsIn(s, at string) {
	t, err := parseTemplate(s)
	if err != nil {
		return
	}
	for _, r := range t.refs() {
		c.refNode(r, at)
	}
}

func (c *typeChecker) literal(got string, want *schemaNode, at, capability string) {
	if !want.allows(got) {
		c.add(at, CodeArgumentType, "%s wants %s here, got a literal %s", capability, want.describe(), got)
	}
}

// assignable checks that every value the schema got describes is one the
// schema want accepts, and reports each way it is not.
func (c *typeChecker) assignable(got, want *schemaNode, at, shown, capability string) {
	if got.any() || want.any() {
		return
	}
	fits := false
	for _, t := range got.types {
		if t == "null" {
			continue
		}
		if want.allows(t) {
			fits = true
		}
	}
	nonNull := 0
	for _, t := range got.types {
		if t != "null" {
			nonNull++
		}
	}
	if nonNull > 0 && !fits {
		c.add(at, CodeArgumentType, "%s is %s, and %s wants %s here", shown, got.describe(), capability, want.describe())
		return
	}
	if got.allows("null") && !got.any() && !want.allows("null") {
		c.add(at, CodeArgumentType, "%s may be null, and %s does not accept null here", shown, capability)
	}
	if got.allows("object") && want.allows("object") && got.props != nil {
		for _, r := range want.required {
			p, ok := got.props[r]
			switch {
			case !ok:
				c.add(at, CodeArgumentType, "%s has no field %q, which %s requires here", shown, r, capability)
			case !got.isRequired(r):
				c.add(at, CodeArgumentType, "%s may leave out field %q, which %s requires here", shown, r, capability)
			default:
				_ = p
			}
		}
		for _, name := range got.order {
			w := want.field(name)
			if w == nil {
				if want.noAdditional {
					c.add(at, CodeArgumentType, "%s has field %q, which %s does not accept here", shown, name, capability)
				}
				continue
			}
			c.assignable(got.props[name], w, at, shown+"."+name, capability)
		}
	}
	if got.allows("array") && want.allows("array") && got.items != nil && want.items != nil {
		c.assignable(got.items, want.items, at, shown+"[]", capability)
	}
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(q) == 1 {
		return "field " + q[0]
	}
	return "fields " + strings.Join(q, ", ")
}
