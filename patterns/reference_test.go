package patterns

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		want    string // String() of the parsed path, or "" for an error
		segs    int
		errOff  int
		errText string
	}{
		{in: "inputs.portfolio_id", want: "inputs.portfolio_id", segs: 1},
		{in: "valued", want: "valued", segs: 0},
		{in: "valued.positions[0].symbol", want: "valued.positions[0].symbol", segs: 3},
		{in: "a[10][2]._x9", want: "a[10][2]._x9", segs: 3},
		{in: "", errOff: 0, errText: "empty reference"},
		{in: "9a", errOff: 0, errText: "expected a name"},
		{in: "a.", errOff: 2, errText: "after '.', found end"},
		{in: "a..b", errOff: 2, errText: "after '.', found '.'"},
		{in: "a[", errOff: 2, errText: "integer index"},
		{in: "a[-1]", errOff: 2, errText: "integer index after '[', found '-'"},
		{in: "a[1", errOff: 3, errText: "expected ']'"},
		{in: "a[01]", errOff: 2, errText: "leading zero"},
		{in: "a[99999999999999999999]", errOff: 2, errText: "too large"},
		{in: "a b", errOff: 1, errText: "expected '.' or '['"},
		{in: "a.b-c", errOff: 3, errText: "found '-'"},
		{in: "a.1", errOff: 2, errText: "field name"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			p, err := ParsePath(tc.in)
			if tc.want != "" {
				if err != nil || p.String() != tc.want || len(p.Segments) != tc.segs {
					t.Errorf("ParsePath(%q) = %q (%d segments), %v; want %q (%d segments)", tc.in, p.String(), len(p.Segments), err, tc.want, tc.segs)
				}
				return
			}
			var pe *PathError
			if !errors.As(err, &pe) || pe.Offset != tc.errOff || !strings.Contains(pe.Msg, tc.errText) {
				t.Errorf("ParsePath(%q) error = %v, want offset %d containing %q", tc.in, err, tc.errOff, tc.errText)
			}
		})
	}
}

func TestParseTemplateOffsets(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in     string
		refs   string
		whole  bool
		errOff int
	}{
		{in: "{{ inputs.x }}", refs: "inputs.x", whole: true},
		{in: "a {{b}} c {{d.e}}", refs: "b,d.e"},
		{in: " {{b}}", refs: "b"},
		{in: "plain", refs: ""},
		{in: "ok {{b}} {{c", errOff: 9},
		{in: "x {{ a..b }}", errOff: 7},
	}
	for _, tc := range cases {
		tm, err := parseTemplate(tc.in)
		if tc.errOff != 0 {
			var pe *PathError
			if !errors.As(err, &pe) || pe.Offset != tc.errOff {
				t.Errorf("parseTemplate(%q) error = %v, want offset %d", tc.in, err, tc.errOff)
			}
			continue
		}
		var names []string
		for _, r := range tm.refs() {
			names = append(names, r.String())
		}
		if err != nil || strings.Join(names, ",") != tc.refs || (tm.whole() != nil) != tc.whole {
			t.Errorf("parseTemplate(%q) = refs %v whole %v err %v; want %s whole %v", tc.in, names, tm.whole() != nil, err, tc.refs, tc.whole)
		}
	}
}

func testScope() Scope {
	return Scope{
		Inputs: map[string]any{"pid": "6f1c2a9e-2f4b-4c8e-9d3a-1b2c3d4e5f60", "n": int64(252), "rate": 0.32, "flag": true,
			"obj": map[string]any{"k": []any{int64(1), "two"}}, "none": nil},
		Ctx: map[string]any{"pricing_pack_id": "PP_2025-10-21", "asof_date": "2025-10-21"},
		Steps: map[string]json.RawMessage{
			"valued": json.RawMessage(`{"positions": [{"symbol": "AAPL", "qty": 10.50}, {"symbol": "<M&S>", "qty": 3}], "total_value": 123456.789012345678, "meta": {"ok": true}, "nothing": null}`),
		},
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, args, want string
	}{
		{"string input", `{"p": "{{inputs.pid}}"}`, `{"p":"6f1c2a9e-2f4b-4c8e-9d3a-1b2c3d4e5f60"}`},
		{"integer keeps type", `{"n": "{{inputs.n}}"}`, `{"n":252}`},
		{"float keeps type", `{"r": "{{ inputs.rate }}"}`, `{"r":0.32}`},
		{"bool keeps type", `{"f": "{{inputs.flag}}"}`, `{"f":true}`},
		{"null input", `{"x": "{{inputs.none}}"}`, `{"x":null}`},
		{"object input part", `{"x": "{{inputs.obj.k[1]}}"}`, `{"x":"two"}`},
		{"ctx", `{"pp": "{{ctx.pricing_pack_id}}"}`, `{"pp":"PP_2025-10-21"}`},
		{"step array keeps type", `{"pos": "{{valued.positions}}"}`, `{"pos":[{"qty":10.50,"symbol":"AAPL"},{"qty":3,"symbol":"<M&S>"}]}`},
		{"step number exact", `{"v": "{{valued.total_value}}"}`, `{"v":123456.789012345678}`},
		{"step whole output", `{"v": "{{valued.meta}}"}`, `{"v":{"ok":true}}`},
		{"step null field", `{"v": "{{valued.nothing}}"}`, `{"v":null}`},
		{"index", `{"s": "{{valued.positions[1].symbol}}"}`, `{"s":"<M&S>"}`},
		{"interpolated string raw", `{"s": "sym={{valued.positions[0].symbol}}!"}`, `{"s":"sym=AAPL!"}`},
		{"interpolated number text", `{"s": "n={{inputs.n}}, q={{valued.positions[0].qty}}"}`, `{"s":"n=252, q=10.50"}`},
		{"interpolated object compact", `{"s": "m: {{valued.meta}} {{inputs.none}}"}`, `{"s":"m: {\"ok\":true} null"}`},
		{"nested and arrays", `{"a": [{"b": ["{{inputs.n}}", "x"]}], "c": 1.0, "d": null}`, `{"a":[{"b":[252,"x"]}],"c":1.0,"d":null}`},
		{"keys are not resolved", `{"{{inputs.n}}": 1}`, `{"{{inputs.n}}":1}`},
		{"top-level array", `["{{inputs.flag}}"]`, `[true]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Resolve(json.RawMessage(tc.args), testScope())
			if err != nil || string(got) != tc.want {
				t.Errorf("Resolve(%s) = %s, %v; want %s", tc.args, got, err, tc.want)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, args, at, contains string
	}{
		{"missing input", `{"x": "{{inputs.nope}}"}`, "$.x", `no input "nope"`},
		{"missing ctx", `{"x": "{{ctx.user_id}}"}`, "$.x", `no context key "user_id"`},
		{"missing step", `{"x": ["{{ghost.a}}"]}`, "$.x[0]", `step "ghost" has no output`},
		{"missing field", `{"x": "{{valued.meta.nope}}"}`, "$.x", `valued.meta has no field "nope"`},
		{"out of range", `{"x": "{{valued.positions[2]}}"}`, "$.x", "index 2 out of range: valued.positions has 2 elements"},
		{"index into object", `{"x": "{{valued.meta[0]}}"}`, "$.x", "valued.meta is an object, not an array"},
		{"field of scalar", `{"x": "{{inputs.n.k}}"}`, "$.x", "inputs.n is a number, not an object"},
		{"field of null", `{"x": "{{valued.nothing.k}}"}`, "$.x", "valued.nothing is null"},
		{"bad syntax", `{"x": "{{a[}}"}`, "$.x", "integer index"},
		{"odd key path", `{"a b": "{{zz}}"}`, `$["a b"]`, "no output"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Resolve(json.RawMessage(tc.args), testScope())
			var re *ResolveError
			if !errors.As(err, &re) || re.At != tc.at || !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("Resolve(%s) error = %v, want at %s containing %q", tc.args, err, tc.at, tc.contains)
			}
		})
	}
}

func TestCollect(t *testing.T) {
	t.Parallel()
	p := mustParse(t, doc("", `{"capability": "test.echo", "as": "valued"}, {"capability": "test.echo", "as": "sectors"}`, `"valued", "valued.total_value", "sectors"`))
	out, errs := p.Collect(testScope().Steps)
	if len(out) != 2 || string(out["valued.total_value"]) != "123456.789012345678" || out["valued"] == nil {
		t.Errorf("Collect outputs = %v", out)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `"sectors" has no output`) {
		t.Errorf("Collect errors = %v, want one naming sectors", errs)
	}
}
