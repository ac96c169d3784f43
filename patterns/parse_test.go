package patterns

import (
	"errors"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name               string
		doc                string
		code, path         string
		line, col          int
		wantMsgContains    string
		wantNumberOfErrors int
	}{
		{"syntax", "{\n  \"id\": \"x\",\n  \"steps\": [}\n", CodeSyntax, "$", 3, 13, "invalid character", 1},
		{"truncated", `{"id": "x"`, CodeSyntax, "$", 1, 11, "unexpected end", 1},
		{"trailing data", `{"id": "x"} {}`, CodeSyntax, "$", 1, 13, "after the top-level value", 1},
		{"not an object", `[]`, CodeWrongJSONType, "$", 1, 1, "want object, got array", 1},
		{"unknown top field", "{\n \"id\": \"x\",\n \"stepz\": []\n}", CodeUnknownField, "$.stepz", 3, 2, `unknown field "stepz"`, 1},
		{"unknown step field", `{"steps": [{"as": "a", "capabilty": "x.y"}]}`, CodeUnknownField, "$.steps[0].capabilty", 1, 24, "unknown field", 1},
		{"unknown input field", `{"inputs": {"x": {"type": "string", "requird": true}}}`, CodeUnknownField, "$.inputs.x.requird", 1, 37, "unknown field", 1},
		{"odd key quoted in path", `{"inputs": {"a b": {"tipe": "string"}}}`, CodeUnknownField, `$.inputs["a b"].tipe`, 1, 21, "unknown field", 1},
		{"duplicate key", `{"id": "x", "id": "y"}`, CodeDuplicateKey, "$.id", 1, 13, `duplicate key "id"`, 1},
		{"wrong type id", `{"id": 5}`, CodeWrongJSONType, "$.id", 1, 8, "want string, got number", 1},
		{"wrong type required", `{"inputs": {"x": {"type": "string", "required": "yes"}}}`, CodeWrongJSONType, "$.inputs.x.required", 1, 49, "want boolean, got string", 1},
		{"wrong type output", `{"outputs": ["a", 3]}`, CodeWrongJSONType, "$.outputs[1]", 1, 19, "want string", 1},
		{"every error reported", `{"idd": 1, "steps": [{"ass": "a"}], "outputs": {}}`, CodeUnknownField, "$.idd", 1, 2, "unknown field", 3},
		{"too deep", `{"display": ` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}`, CodeTooDeep, "$", 1, 213, // 12-byte prefix, brackets at depths 1..200 pass, the 201st is byte 212
			"nesting deeper", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("f.json", []byte(tc.doc))
			var pes ParseErrors
			if !errors.As(err, &pes) {
				t.Fatalf("Parse(%q) error = %v, want ParseErrors", tc.doc, err)
			}
			if len(pes) != tc.wantNumberOfErrors {
				t.Errorf("Parse(%q) gave %d errors, want %d: %v", tc.doc, len(pes), tc.wantNumberOfErrors, err)
			}
			e := pes[0]
			if e.Code != tc.code || e.Path != tc.path || e.Line != tc.line || e.Column != tc.col || !strings.Contains(e.Message, tc.wantMsgContains) {
				t.Errorf("Parse(%q) first error = {code %s path %s at %d:%d %q}, want {code %s path %s at %d:%d containing %q}",
					tc.doc, e.Code, e.Path, e.Line, e.Column, e.Message, tc.code, tc.path, tc.line, tc.col, tc.wantMsgContains)
			}
			if e.File != "f.json" || !strings.HasPrefix(e.Error(), "f.json:") {
				t.Errorf("error %q does not name the file", e.Error())
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	t.Parallel()
	p := mustParse(t, `{
	  "id": "demo", "name": "Demo", "description": "d", "version": "2", "category": "c",
	  "inputs": {"pid": {"type": "uuid", "required": true}, "n": {"type": "integer", "default": 5, "enum": [5, 10]}},
	  "steps": [
	    {"capability": "test.echo", "as": "one", "args": {"a": "{{inputs.pid}}"}},
	    {"id": "second", "capability": "test.echo", "as": "two", "args": {"a": "{{one.x}}"}, "condition": "inputs.n > 3"},
	    {"capability": "test.echo", "as": "three"}
	  ],
	  "outputs": ["two", "one.x"],
	  "display": {"title": "A <b>", "order": [2, 1]},
	  "presentation": [1, {"z": 1}]
	}`)
	if probs := Validate(p, testCatalog); len(probs) != 0 {
		t.Fatalf("Validate = %v, want none", probs)
	}
	if p.ID != "demo" || p.Name != "Demo" || p.Version != "2" || p.Category != "c" {
		t.Errorf("header = %q %q %q %q", p.ID, p.Name, p.Version, p.Category)
	}
	if got := strings.Join(p.InputNames(), ","); got != "pid,n" {
		t.Errorf("InputNames = %s, want pid,n", got)
	}
	if s := p.Steps[0]; s.ID != "one" {
		t.Errorf("step 0 id = %q, want it to default to as (one)", s.ID)
	}
	if s := p.Steps[1]; s.ID != "second" || s.As != "two" || s.Compiled() == nil {
		t.Errorf("step 1 = id %q as %q compiled %v", s.ID, s.As, s.Compiled())
	}
	if got := string(p.Steps[2].Args); got != "{}" {
		t.Errorf("absent args = %s, want {}", got)
	}
	if got := string(p.Display); got != `{"title": "A <b>", "order": [2, 1]}` {
		t.Errorf("display = %s, want the original bytes", got)
	}
	if got := string(p.Presentation); got != `[1, {"z": 1}]` {
		t.Errorf("presentation = %s, want the original bytes", got)
	}
}

// TestEmbeddedPatterns loads every built-in pattern without a catalog
// (their references and arguments are checked against the real registry
// by cmd/dawsos's catalogue and lint tests) and checks the step graph of
// portfolio_overview.
func TestEmbeddedPatterns(t *testing.T) {
	t.Parallel()
	s := NewSet(nil)
	if probs := s.LoadEmbedded(); len(probs) != 0 {
		t.Fatalf("LoadEmbedded problems: %v", probs)
	}
	p, ok := s.Get("portfolio_overview")
	if !ok {
		t.Fatal("portfolio_overview not loaded")
	}
	var order []string
	for _, st := range p.Order() {
		order = append(order, st.As)
	}
	// File order where nothing forces another; charts reads every other.
	if got := strings.Join(order, ","); got != "valued,sectors,twr,attribution,nav,metrics,charts" {
		t.Errorf("order = %s", got)
	}
	if st, _ := p.Step("sectors"); strings.Join(st.Deps, ",") != "valued" {
		t.Errorf("sectors deps = %v, want [valued]", st.Deps)
	}
	if st, _ := p.Step("charts"); strings.Join(st.Deps, ",") != "valued,sectors,twr,attribution,nav,metrics" {
		t.Errorf("charts deps = %v, want every earlier step", st.Deps)
	}
}
