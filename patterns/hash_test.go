package patterns

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestHashStability(t *testing.T) {
	t.Parallel()
	base := `{"id": "h", "inputs": {"a": {"type": "integer", "default": 1}, "b": {"type": "string"}},
		"steps": [{"capability": "test.echo", "as": "s", "args": {"a": "{{inputs.a}}", "b": {"x": 1, "y": [1, 2]}}}],
		"outputs": ["s"], "display": {"k": 1, "j": 2}}`
	reordered := `{
	  "outputs" : [ "s" ],
	  "display": {"j": 2, "k": 1},
	  "steps": [ { "args": { "b": { "y": [1,2], "x": 1 }, "a": "{{inputs.a}}" }, "as": "s", "id": "s", "capability": "test.echo" } ],
	  "inputs": {"b": {"type": "string"}, "a": {"default": 1, "type": "integer"}},
	  "id": "h"
	}`
	h := mustParse(t, base).Hash()
	if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		t.Fatalf("Hash = %q, want 64 hex digits", h)
	}
	if got := mustParse(t, reordered).Hash(); got != h {
		t.Errorf("Hash after reordering keys, whitespace and spelling out the default id = %s, want %s", got, h)
	}
	changes := map[string]string{
		"arg value":     strings.Replace(base, `"x": 1`, `"x": 2`, 1),
		"array order":   strings.Replace(base, `[1, 2]`, `[2, 1]`, 1),
		"default":       strings.Replace(base, `"default": 1`, `"default": 2`, 1),
		"display":       strings.Replace(base, `"j": 2`, `"j": 3`, 1),
		"step id":       strings.Replace(base, `"as": "s"`, `"as": "s", "id": "t"`, 1),
		"required flag": strings.Replace(base, `"type": "string"`, `"type": "string", "required": true`, 1),
	}
	for name, d := range changes {
		if got := mustParse(t, d).Hash(); got == h {
			t.Errorf("Hash unchanged after changing the %s", name)
		}
	}
}

// TestHashIsTheCanonicalEncoding pins the hash to a canonical encoding
// written out by hand: runs are pinned to pattern versions by this hash
// (pattern_versions), so it must not change between releases for the same
// pattern. The expected hash is the SHA-256 of the text below (computed
// with sha256sum), not of anything this package produces.
func TestHashIsTheCanonicalEncoding(t *testing.T) {
	t.Parallel()
	p := mustParse(t, `{"id": "h", "version": "2", "inputs": {"a": {"type": "integer", "default": 1}},
		"steps": [{"capability": "test.echo", "as": "s", "args": {"b": [1], "a": "{{inputs.a}}"}}], "outputs": ["s"]}`)
	// The canonical text, for reference:
	// {"ID":"h","Name":"","Description":"","Version":"2","Category":"","Inputs":{"a":{"type":"integer","required":false,
	// "default":1,"has_default":true,"enum":null,"description":""}},"Steps":[{"ID":"s","Capability":"test.echo","As":"s",
	// "Condition":"","Args":{"a":"{{inputs.a}}","b":[1]}}],"Outputs":["s"],"Display":null,"Presentation":null}
	const want = "587482e00cfddaaa175ace0e206985784c4c6ebcb578dd5b02f4b46fb22ebac7"
	if got := p.Hash(); got != want {
		t.Errorf("Hash = %s, want %s (sha256 of the canonical text in the comment)", got, want)
	}
}

// TestStoredDocumentKeepsTheHash checks what pattern_versions relies on: a
// pattern encoded with json.Marshal parses back to the same hash.
func TestStoredDocumentKeepsTheHash(t *testing.T) {
	t.Parallel()
	s := NewSet(nil)
	if probs := s.LoadEmbedded(); len(probs) != 0 {
		t.Fatal(probs)
	}
	for _, p := range s.List() {
		doc, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := mustParse(t, string(doc)).Hash(); got != p.Hash() {
			t.Errorf("%s: hash after encoding and parsing = %s, want %s", p.ID, got, p.Hash())
		}
	}
}

func TestInputSchema(t *testing.T) {
	t.Parallel()
	s := NewSet(nil)
	if probs := s.LoadEmbedded(); len(probs) != 0 {
		t.Fatal(probs)
	}
	p, _ := s.Get("portfolio_overview")
	raw, err := marshalCompact(p.InputSchema())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"additionalProperties":false,"properties":{"lookback_days":{"default":252,"description":"Trading days of history for performance figures (252 = one year).",` +
		`"maximum":9223372036854775807,"minimum":-9223372036854775808,"type":"integer"},` +
		`"portfolio_id":{"description":"The portfolio to analyse.","format":"uuid","type":"string"}},"required":["portfolio_id"],"type":"object"}`
	if string(raw) != want {
		t.Errorf("InputSchema = %s\nwant %s", raw, want)
	}
}
