package patterns

import (
	"fmt"
	"strconv"
	"strings"
)

// Reference roots other than step names.
const (
	RootInputs = "inputs"
	RootCtx    = "ctx"
	// RootSteps is the name under which conditions see step outputs; it is
	// not a valid root inside arguments, where a step is named directly.
	RootSteps = "steps"
)

// maxIndex bounds array indexes in references; larger ones are typos.
const maxIndex = 1 << 30

// Segment is one step of a reference path after its root: a field name or
// an array index.
type Segment struct {
	Field   string
	Index   int
	IsIndex bool
}

// Path is a parsed reference such as valued.positions[0].symbol: Root is
// inputs, ctx or a step's `as` name.
type Path struct {
	Root     string
	Segments []Segment
}

// String renders the path in the syntax ParsePath accepts.
func (p Path) String() string {
	var b strings.Builder
	b.WriteString(p.Root)
	writeSegments(&b, p.Segments)
	return b.String()
}

func writeSegments(b *strings.Builder, segs []Segment) {
	for _, s := range segs {
		if s.IsIndex {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.Index))
			b.WriteByte(']')
		} else {
			b.WriteByte('.')
			b.WriteString(s.Field)
		}
	}
}

// prefix renders the root and the first n segments, for error messages.
func (p Path) prefix(n int) string {
	var b strings.Builder
	b.WriteString(p.Root)
	writeSegments(&b, p.Segments[:n])
	return b.String()
}

// IsStep reports whether the path names a step's output.
func (p Path) IsStep() bool { return p.Root != RootInputs && p.Root != RootCtx }

// PathError is a syntax error in a reference, with the byte offset of the
// fault inside Input.
type PathError struct {
	Input  string
	Offset int
	Msg    string
}

func (e *PathError) Error() string {
	return fmt.Sprintf("reference %q at offset %d: %s", e.Input, e.Offset, e.Msg)
}

// ParsePath parses a reference path: an identifier, then any number of
// `.field` or `[index]` segments, without spaces. Fields are identifiers
// (letters, digits, underscores; not starting with a digit) and indexes are
// non-negative decimal integers.
func ParsePath(s string) (Path, error) {
	fail := func(off int, format string, a ...any) (Path, error) {
		return Path{}, &PathError{Input: s, Offset: off, Msg: fmt.Sprintf(format, a...)}
	}
	if s == "" {
		return fail(0, "empty reference")
	}
	i := identEnd(s, 0)
	if i == 0 {
		return fail(0, "expected a name, found %s", describeAt(s, 0))
	}
	p := Path{Root: s[:i]}
	for i < len(s) {
		switch s[i] {
		case '.':
			j := identEnd(s, i+1)
			if j == i+1 {
				return fail(i+1, "expected a field name after '.', found %s", describeAt(s, i+1))
			}
			p.Segments = append(p.Segments, Segment{Field: s[i+1 : j]})
			i = j
		case '[':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j == i+1 {
				return fail(i+1, "expected a non-negative integer index after '[', found %s", describeAt(s, i+1))
			}
			if j >= len(s) || s[j] != ']' {
				return fail(j, "expected ']' after the index, found %s", describeAt(s, j))
			}
			if j-(i+1) > 1 && s[i+1] == '0' {
				return fail(i+1, "index %s has a leading zero", s[i+1:j])
			}
			n, err := strconv.Atoi(s[i+1 : j])
			if err != nil || n > maxIndex {
				return fail(i+1, "index %s is too large", s[i+1:j])
			}
			p.Segments = append(p.Segments, Segment{Index: n, IsIndex: true})
			i = j + 1
		default:
			return fail(i, "expected '.' or '[', found %s", describeAt(s, i))
		}
	}
	return p, nil
}

func identEnd(s string, i int) int {
	j := i
	for j < len(s) {
		c := s[j]
		if c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (j > i && c >= '0' && c <= '9') {
			j++
			continue
		}
		break
	}
	return j
}

func describeAt(s string, i int) string {
	if i >= len(s) {
		return "end of reference"
	}
	return strconv.QuoteRune(rune(s[i]))
}

// tmplPart is either literal text or a reference.
type tmplPart struct {
	lit string
	ref *Path
}

// template is a string argument split into literal text and references.
type template struct {
	parts []tmplPart
}

// whole reports whether the string is exactly one reference, which keeps the
// referenced JSON type when resolved.
func (t template) whole() *Path {
	if len(t.parts) == 1 && t.parts[0].ref != nil {
		return t.parts[0].ref
	}
	return nil
}

func (t template) refs() []Path {
	var out []Path
	for _, p := range t.parts {
		if p.ref != nil {
			out = append(out, *p.ref)
		}
	}
	return out
}

// parseTemplate splits s at {{...}} references. Spaces just inside the
// braces are allowed; an unclosed "{{" is an error.
func parseTemplate(s string) (template, error) {
	var t template
	rest, base := s, 0
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				t.parts = append(t.parts, tmplPart{lit: rest})
			}
			return t, nil
		}
		if i > 0 {
			t.parts = append(t.parts, tmplPart{lit: rest[:i]})
		}
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			return template{}, &PathError{Input: s, Offset: base + i, Msg: `"{{" is not closed by "}}"`}
		}
		inner := rest[i+2 : i+2+j]
		lead := len(inner) - len(strings.TrimLeft(inner, " \t"))
		p, err := ParsePath(strings.TrimSpace(inner))
		if err != nil {
			pe := err.(*PathError)
			return template{}, &PathError{Input: s, Offset: base + i + 2 + lead + pe.Offset, Msg: pe.Msg}
		}
		t.parts = append(t.parts, tmplPart{ref: &p})
		base += i + 2 + j + 2
		rest = rest[i+2+j+2:]
	}
}
