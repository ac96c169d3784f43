package patterns

import (
	"os"
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

func TestEmbeddedFileHashMatchesDir(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("portfolio_overview.json")
	if err != nil {
		t.Fatal(err)
	}
	s := NewSet(nil)
	if probs := s.LoadEmbedded(); len(probs) != 0 {
		t.Fatal(probs)
	}
	p, _ := s.Get("portfolio_overview")
	if got := mustParse(t, string(data)).Hash(); got != p.Hash() {
		t.Errorf("hash of file = %s, embedded = %s", got, p.Hash())
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
	want := `{"additionalProperties":false,"properties":{"lookback_days":{"default":252,"description":"Trading days of history for performance figures (252 = one year).","type":"integer"},` +
		`"portfolio_id":{"description":"The portfolio to analyse.","format":"uuid","type":"string"}},"required":["portfolio_id"],"type":"object"}`
	if string(raw) != want {
		t.Errorf("InputSchema = %s\nwant %s", raw, want)
	}
}
