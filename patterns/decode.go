package patterns

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxDepth bounds the nesting of a pattern document; real patterns nest a
// handful of levels, and the bound keeps the recursive decoder safe on
// hostile input.
const maxDepth = 200

// ParseError is one decoding defect with its position, so an author can jump
// to it.
type ParseError struct {
	File    string
	Path    string // JSON path, $ for the document itself
	Line    int    // 1-based
	Column  int    // 1-based, in bytes
	Code    string // one of the Code* constants
	Message string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Column, e.Path, e.Message)
}

// ParseErrors lists every decoding defect of one document; Parse returns it
// so that all of them are shown at once.
type ParseErrors []*ParseError

func (es ParseErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Problems converts decoding errors into validation problems.
func (es ParseErrors) Problems() []Problem {
	out := make([]Problem, len(es))
	for i, e := range es {
		out[i] = Problem{File: e.File, Path: e.Path, Code: e.Code,
			Message: fmt.Sprintf("line %d column %d: %s", e.Line, e.Column, e.Message)}
	}
	return out
}

type jsonKind uint8

const (
	kindNull jsonKind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k jsonKind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

// node is a decoded JSON value that remembers where it came from, which
// encoding/json does not.
type node struct {
	kind  jsonKind
	start int64
	end   int64
	b     bool
	num   json.Number
	str   string
	arr   []*node
	obj   []member
}

type member struct {
	key    string
	keyOff int64
	val    *node
}

// syntaxFailure carries the offset of a syntax error out of the recursion.
type syntaxFailure struct {
	off  int64
	code string
	msg  string
}

func (s *syntaxFailure) Error() string { return s.msg }

type treeReader struct {
	data []byte
	dec  *json.Decoder
}

// parseTree decodes data into a node tree, rejecting trailing data.
func parseTree(data []byte) (*node, *syntaxFailure) {
	r := &treeReader{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	r.dec.UseNumber()
	n, err := r.value(0)
	if err != nil {
		return nil, err
	}
	off := skipSpace(data, r.dec.InputOffset())
	if off < int64(len(data)) {
		return nil, &syntaxFailure{off: off, code: CodeSyntax, msg: "unexpected data after the top-level value"}
	}
	return n, nil
}

func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ':', ',':
			off++
		default:
			return off
		}
	}
	return off
}

func (r *treeReader) fail(err error) *syntaxFailure {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return &syntaxFailure{off: se.Offset, code: CodeSyntax, msg: strings.TrimPrefix(se.Error(), "json: ")}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &syntaxFailure{off: int64(len(r.data)), code: CodeSyntax, msg: "unexpected end of document"}
	default:
		return &syntaxFailure{off: r.dec.InputOffset(), code: CodeSyntax, msg: err.Error()}
	}
}

func (r *treeReader) value(depth int) (*node, *syntaxFailure) {
	start := skipSpace(r.data, r.dec.InputOffset())
	if depth > maxDepth {
		return nil, &syntaxFailure{off: start, code: CodeTooDeep, msg: fmt.Sprintf("nesting deeper than %d levels", maxDepth)}
	}
	tok, err := r.dec.Token()
	if err != nil {
		return nil, r.fail(err)
	}
	n := &node{start: start}
	switch t := tok.(type) {
	case nil:
		n.kind = kindNull
	case bool:
		n.kind, n.b = kindBool, t
	case json.Number:
		n.kind, n.num = kindNumber, t
	case string:
		n.kind, n.str = kindString, t
	case json.Delim:
		switch t {
		case '{':
			n.kind = kindObject
			for r.dec.More() {
				koff := skipSpace(r.data, r.dec.InputOffset())
				ktok, err := r.dec.Token()
				if err != nil {
					return nil, r.fail(err)
				}
				key, ok := ktok.(string)
				if !ok {
					return nil, &syntaxFailure{off: koff, code: CodeSyntax, msg: "object key is not a string"}
				}
				v, f := r.value(depth + 1)
				if f != nil {
					return nil, f
				}
				n.obj = append(n.obj, member{key: key, keyOff: koff, val: v})
			}
		case '[':
			n.kind = kindArray
			for r.dec.More() {
				v, f := r.value(depth + 1)
				if f != nil {
					return nil, f
				}
				n.arr = append(n.arr, v)
			}
		default:
			return nil, &syntaxFailure{off: start, code: CodeSyntax, msg: fmt.Sprintf("unexpected %q", string(t))}
		}
		if _, err := r.dec.Token(); err != nil { // the closing delimiter
			return nil, r.fail(err)
		}
	}
	n.end = r.dec.InputOffset()
	return n, nil
}

// raw returns the bytes of n in the original document.
func (n *node) raw(data []byte) json.RawMessage {
	return json.RawMessage(bytes.Clone(data[n.start:n.end]))
}

// lineCol converts a byte offset into a 1-based line and column.
func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// pathKey appends an object key to a JSON path, quoting keys that are not
// plain identifiers.
func pathKey(base, key string) string {
	if isIdent(key) {
		return base + "." + key
	}
	return base + "[" + strconv.Quote(key) + "]"
}

func pathIndex(base string, i int) string {
	return base + "[" + strconv.Itoa(i) + "]"
}

// isIdent reports whether s is an ASCII identifier: a letter or underscore,
// then letters, digits or underscores.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}
