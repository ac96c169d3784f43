package patterns

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("portfolio_overview.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(doc(pidInput, echoA, `"a"`)))
	f.Add([]byte(doc(`"x": {"type": "integer", "default": 1, "enum": [1, 2]}`,
		`{"capability": "test.echo", "as": "a", "args": {"a": "v {{inputs.x}}"}, "condition": "steps.b.ok"}, {"capability": "test.echo", "as": "b", "args": {"a": "{{a.q[0]}}"}}`, `"a", "b.q"`)))
	f.Add([]byte(`{"id": "x", "id": 1, "steps": {}}`))
	f.Add([]byte(`{"display": [[[{"a": null}]]], "presentation": "\u00e9"}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.json", data)
		if err != nil {
			var pes ParseErrors
			if !errors.As(err, &pes) || len(pes) == 0 {
				t.Fatalf("Parse error %v is not ParseErrors", err)
			}
			for _, e := range pes {
				if e.Line < 1 || e.Column < 1 || e.Path == "" || e.Code == "" {
					t.Fatalf("Parse error without a position: %+v", e)
				}
			}
			return
		}
		_ = Validate(p, testCatalog)
		_ = p.Order()
		_, _ = CheckInputs(p, nil)
		if !utf8.Valid(data) {
			return // json.Marshal replaces invalid UTF-8, so the hash differs
		}
		// A pattern written back out parses to the same content hash.
		out, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("Marshal parsed pattern: %v", err)
		}
		q, err := Parse("again.json", out)
		if err != nil {
			t.Fatalf("re-Parse of %s: %v", out, err)
		}
		if q.Hash() != p.Hash() {
			t.Fatalf("hash changed after a round trip:\nin:  %s\nout: %s", data, out)
		}
	})
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"inputs.portfolio_id", "valued.positions[0].symbol", "a[10][2]", "a..b", "a[01]", "x[", "", "ctx.asof_date", "a.b.c.d[99999999999]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			var pe *PathError
			if !errors.As(err, &pe) || pe.Offset < 0 || pe.Offset > len(s) {
				t.Fatalf("ParsePath(%q) error %v has a bad offset", s, err)
			}
		} else if p.String() != s {
			t.Fatalf("ParsePath(%q).String() = %q, want the input back", s, p.String())
		}
		// The same text inside an argument string must never panic the
		// template parser or the resolver.
		tm, err := parseTemplate("x {{" + s + "}} y")
		if err == nil && len(tm.refs()) == 0 {
			t.Fatalf("parseTemplate found no reference in %q", s)
		}
		arg, _ := json.Marshal(map[string]string{"a": "{{" + s + "}}", "b": s})
		_, _ = Resolve(arg, testScope())
	})
}

func FuzzCondition(f *testing.F) {
	for _, s := range []string{
		`inputs.include_macro == true`,
		`steps.position.security_type == "EQUITY"`,
		`has(steps.valued.positions) && size(steps.valued.positions) > 1`,
		`steps["valued"].total_value > 100.0 || inputs.n in [1, 2]`,
		`[1, 2, 3].all(x, [1, 2, 3].exists(y, x * y > 2))`,
		`ctx.asof_date.startsWith("2025")`,
		`size(steps) == 0`,
		`1 / 0 == 1`,
		`inputs.none.x == null`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := CompileCondition(s)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = c.Eval(ctx, testScope())
	})
}
