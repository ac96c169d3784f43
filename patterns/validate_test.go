package patterns

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// doc builds a small pattern document from its inputs, steps and outputs.
func doc(inputs, steps, outputs string) string {
	return fmt.Sprintf(`{"id": "t", "inputs": {%s}, "steps": [%s], "outputs": [%s]}`, inputs, steps, outputs)
}

const (
	pidInput = `"pid": {"type": "uuid", "required": true}`
	echoA    = `{"capability": "test.echo", "as": "a", "args": {"a": "{{inputs.pid}}"}}`
	valued   = `{"capability": "portfolio.get_valued_positions", "as": "v", "args": {"portfolio_id": "{{inputs.pid}}", "pricing_pack_id": "{{ctx.pricing_pack_id}}"}}`
)

func TestValidateProblems(t *testing.T) {
	t.Parallel()
	type want struct{ code, path string }
	cases := []struct {
		name string
		doc  string
		want []want
	}{
		{"valid", doc(pidInput, echoA, `"a"`), nil},
		{"missing id", `{"steps": [` + echoA + `], "inputs": {` + pidInput + `}, "outputs": ["a"]}`, []want{{CodeMissingID, "$.id"}}},
		{"invalid id", `{"id": "Bad-Id", "steps": [` + echoA + `], "inputs": {` + pidInput + `}, "outputs": ["a"]}`, []want{{CodeInvalidName, "$.id"}}},
		{"unknown capability", doc("", `{"capability": "nobody.home", "as": "a"}`, `"a"`), []want{{CodeUnknownCapability, "$.steps[0].capability"}}},
		{"invalid capability name", doc("", `{"capability": "Echo", "as": "a"}`, `"a"`), []want{{CodeInvalidCapabilityName, "$.steps[0].capability"}}},
		{"missing capability", doc("", `{"as": "a"}`, `"a"`), []want{{CodeMissingCapability, "$.steps[0].capability"}}},
		{"missing as", doc("", `{"capability": "test.echo"}`, ``), []want{{CodeMissingAs, "$.steps[0].as"}, {CodeNoOutputs, "$.outputs"}}},
		{"reserved as", doc("", `{"capability": "test.echo", "as": "inputs"}`, `"inputs"`), []want{{CodeReservedName, "$.steps[0].as"}, {CodeUnknownOutput, "$.outputs[0]"}}},
		{"no steps", doc("", ``, `"a"`), []want{{CodeNoSteps, "$.steps"}, {CodeUnknownOutput, "$.outputs[0]"}}},
		{"unknown input ref", doc("", `{"capability": "test.echo", "as": "a", "args": {"a": "{{inputs.nope}}"}}`, `"a"`), []want{{CodeUnknownInput, "$.steps[0].args.a"}}},
		{"inputs without name", doc("", `{"capability": "test.echo", "as": "a", "args": {"a": "{{inputs}}"}}`, `"a"`), []want{{CodeBadReference, "$.steps[0].args.a"}}},
		{"part of a scalar input", doc(pidInput, `{"capability": "test.echo", "as": "a", "args": {"a": "{{inputs.pid.x}}"}}`, `"a"`), []want{{CodeBadReference, "$.steps[0].args.a"}}},
		{"unknown ctx key deep in args", doc("", `{"capability": "test.echo", "as": "a", "args": {"a": {"list": [1, "x {{ctx.pricing_pak_id}}"]}}}`, `"a"`), []want{{CodeUnknownCtxKey, "$.steps[0].args.a.list[1]"}}},
		{"part of a ctx value", doc("", `{"capability": "test.echo", "as": "a", "args": {"a": "{{ctx.user_id.name}}"}}`, `"a"`), []want{{CodeBadReference, "$.steps[0].args.a"}}},
		{"unknown step ref", doc("", `{"capability": "test.echo", "as": "a", "args": {"a": "{{ghost.x}}"}}`, `"a"`), []want{{CodeUnknownStep, "$.steps[0].args.a"}}},
		{"steps root in args", doc("", `{"capability": "test.echo", "as": "a", "args": {"a": "{{steps.a}}"}}`, `"a"`), []want{{CodeUnknownStep, "$.steps[0].args.a"}}},
		{"bad reference syntax", doc("", `{"capability": "test.echo", "as": "a", "args": {"a": "{{x[1}}"}}`, `"a"`), []want{{CodeBadReference, "$.steps[0].args.a"}}},
		{"unclosed braces", doc("", `{"capability": "test.echo", "as": "a", "args": {"a": "{{x"}}`, `"a"`), []want{{CodeBadReference, "$.steps[0].args.a"}}},
		{"forward reference", doc("", `{"capability": "test.echo", "as": "a", "args": {"a": "{{b.x}}"}}, {"capability": "test.echo", "as": "b"}`, `"a"`),
			[]want{{CodeForwardReference, "$.steps[0].args.a"}}},
		{"self cycle", doc("", `{"capability": "test.echo", "as": "a", "args": {"a": "{{a.x}}"}}`, `"a"`), []want{{CodeCycle, "$.steps[0]"}}},
		{"two-step cycle", doc("", `{"capability": "test.echo", "as": "a", "args": {"a": "{{b.x}}"}}, {"capability": "test.echo", "as": "b", "args": {"a": "{{a.y}}"}}`, `"a"`),
			[]want{{CodeForwardReference, "$.steps[0].args.a"}, {CodeCycle, "$.steps[0]"}}},
		{"cycle through a condition", doc("", `{"capability": "test.echo", "as": "a", "condition": "steps.b.ok == true"}, {"capability": "test.echo", "as": "b", "args": {"a": "{{a}}"}}`, `"a"`),
			[]want{{CodeForwardReference, "$.steps[0].condition"}, {CodeCycle, "$.steps[0]"}}},
		{"duplicate as", doc("", `{"capability": "test.echo", "as": "a"}, {"capability": "test.echo", "as": "a", "id": "a2"}`, `"a"`), []want{{CodeDuplicateAs, "$.steps[1].as"}}},
		{"duplicate id", doc("", `{"capability": "test.echo", "as": "a", "id": "s"}, {"capability": "test.echo", "as": "b", "id": "s"}`, `"a"`), []want{{CodeDuplicateStepID, "$.steps[1].id"}}},
		{"unknown argument", doc("", `{"capability": "test.echo", "as": "a", "args": {"zz": 1}}`, `"a"`), []want{{CodeUnknownArgument, "$.steps[0].args.zz"}}},
		{"missing required argument", doc(pidInput, `{"capability": "portfolio.get_valued_positions", "as": "a", "args": {"portfolio_id": "{{inputs.pid}}"}}`, `"a"`),
			[]want{{CodeMissingArgument, "$.steps[0].args"}}},
		{"required argument null", doc("", `{"capability": "portfolio.get_valued_positions", "as": "a", "args": {"portfolio_id": null, "pricing_pack_id": "{{ctx.pricing_pack_id}}"}}`, `"a"`),
			[]want{{CodeMissingArgument, "$.steps[0].args"}}},
		{"args not object", doc("", `{"capability": "test.echo", "as": "a", "args": [1]}`, `"a"`), []want{{CodeArgsNotObject, "$.steps[0].args"}}},
		{"literal argument type", doc("", `{"capability": "metrics.compute_twr", "as": "a", "args": {"portfolio_id": 7, "lookback_days": 2.5}}`, `"a"`),
			[]want{{CodeArgumentType, "$.steps[0].args.lookback_days"}, {CodeArgumentType, "$.steps[0].args.portfolio_id"}}},
		{"integral literal fits integer", doc("", `{"capability": "metrics.compute_twr", "as": "a", "args": {"portfolio_id": "x", "lookback_days": 252.0, "note": [1]}}`, `"a"`), nil},
		{"input reference type", doc(`"n": {"type": "number", "default": 1.5}, "d": {"type": "date", "required": true}`, `{"capability": "metrics.compute_twr", "as": "a", "args": {"portfolio_id": "{{inputs.d}}", "lookback_days": "{{inputs.n}}"}}`, `"a"`),
			[]want{{CodeArgumentType, "$.steps[0].args.lookback_days"}}},
		{"optional input without default may be null", doc(`"d": {"type": "date"}`, `{"capability": "metrics.compute_twr", "as": "a", "args": {"portfolio_id": "{{inputs.d}}"}}`, `"a"`),
			[]want{{CodeArgumentType, "$.steps[0].args.portfolio_id"}}},
		{"ctx reference into a number", doc("", `{"capability": "metrics.compute_twr", "as": "a", "args": {"portfolio_id": "x", "lookback_days": "{{ctx.run_id}}"}}`, `"a"`),
			[]want{{CodeArgumentType, "$.steps[0].args.lookback_days"}}},
		{"interpolated string into a number", doc("", `{"capability": "metrics.compute_twr", "as": "a", "args": {"portfolio_id": "x", "lookback_days": "v{{ctx.run_id}}"}}`, `"a"`),
			[]want{{CodeArgumentType, "$.steps[0].args.lookback_days"}}},
		{"decimal string into a decimal", doc("", `{"capability": "portfolio.sector_allocation", "as": "a", "args": {"positions": [], "total_value": "12.5"}}`, `"a"`), nil},
		{"misspelt output field", doc(pidInput, valued+`, {"capability": "portfolio.sector_allocation", "as": "s", "args": {"positions": "{{v.positions}}", "total_value": "{{v.total_valu}}"}}`, `"s"`),
			[]want{{CodeUnknownReferenceField, "$.steps[1].args.total_value"}}},
		{"reference into an array item", doc(pidInput, valued+`, {"capability": "test.echo", "as": "e", "args": {"a": "{{v.positions[0].symbol}}", "b": "{{v.positions[0].symbl}}"}}`, `"e"`),
			[]want{{CodeUnknownReferenceField, "$.steps[1].args.b"}}},
		{"index into an object", doc(pidInput, valued+`, {"capability": "test.echo", "as": "e", "args": {"a": "{{v.total_value[0]}}"}}`, `"e"`),
			[]want{{CodeBadReference, "$.steps[1].args.a"}}},
		{"output field of the wrong type", doc(pidInput, valued+`, {"capability": "metrics.compute_twr", "as": "t", "args": {"portfolio_id": "x", "lookback_days": "{{v.base_currency}}"}}`, `"t"`),
			[]want{{CodeArgumentType, "$.steps[1].args.lookback_days"}}},
		{"nullable output into a required value", doc(pidInput, valued+`, {"capability": "portfolio.sector_allocation", "as": "s", "args": {"positions": [], "total_value": "{{v.unrealized}}"}}`, `"s"`),
			[]want{{CodeArgumentType, "$.steps[1].args.total_value"}}},
		{"array of objects checked item by item", doc(pidInput, valued+`, {"capability": "portfolio.sector_allocation", "as": "s", "args": {"positions": [{"symbol": "A", "sector": "X", "market_value": 1, "colour": "red"}, {"symbol": "B"}]}}`, `"s"`),
			[]want{{CodeUnknownArgument, "$.steps[1].args.positions[0].colour"}, {CodeMissingArgument, "$.steps[1].args.positions[1]"}}},
		{"whole output passes when its fields fit", doc(pidInput, valued+`, {"capability": "portfolio.sector_allocation", "as": "s", "args": {"positions": "{{v.positions}}", "total_value": "{{v.total_value}}"}}`, `"s"`), nil},
		{"misspelt output path", doc(pidInput, valued, `"v", "v.total_valu"`), []want{{CodeUnknownReferenceField, "$.outputs[1]"}}},
		{"required input with default", doc(`"x": {"type": "integer", "required": true, "default": 3}`, echoA, `"a"`),
			[]want{{CodeRequiredWithDefault, "$.inputs.x.default"}, {CodeUnknownInput, "$.steps[0].args.a"}}},
		{"default of wrong type", doc(pidInput+`, "x": {"type": "integer", "default": "3"}, "d": {"type": "date", "default": "2024-1-5"}`, echoA, `"a"`),
			[]want{{CodeDefaultType, "$.inputs.x.default"}, {CodeDefaultType, "$.inputs.d.default"}}},
		{"default not in enum", doc(pidInput+`, "m": {"type": "string", "enum": ["fifo", "lifo"], "default": "hifo"}`, echoA, `"a"`),
			[]want{{CodeDefaultNotInEnum, "$.inputs.m.default"}}},
		{"enum value of wrong type", doc(pidInput+`, "m": {"type": "number", "enum": [0.9, "x"]}`, echoA, `"a"`),
			[]want{{CodeEnumType, "$.inputs.m.enum[1]"}}},
		{"bad input type", doc(pidInput+`, "x": {"type": "int"}, "y": {}`, echoA, `"a"`),
			[]want{{CodeUnknownInputType, "$.inputs.x.type"}, {CodeUnknownInputType, "$.inputs.y.type"}}},
		{"bad input name", doc(pidInput+`, "a-b": {"type": "string"}`, echoA, `"a"`), []want{{CodeInvalidName, `$.inputs["a-b"]`}}},
		{"outputs name nothing", doc(pidInput, echoA, `"a", "zz", "a.x", "a..", "a"`),
			[]want{{CodeUnknownOutput, "$.outputs[1]"}, {CodeUnknownOutput, "$.outputs[3]"}, {CodeDuplicateOutput, "$.outputs[4]"}}},
		{"no outputs", doc(pidInput, echoA, ``), []want{{CodeNoOutputs, "$.outputs"}}},
		{"condition does not compile", doc(pidInput, `{"capability": "test.echo", "as": "a", "condition": "inputs.pid =="}`, `"a"`), []want{{CodeConditionCompile, "$.steps[0].condition"}}},
		{"condition type error", doc(pidInput, `{"capability": "test.echo", "as": "a", "condition": "1 + 'x' == 2"}`, `"a"`), []want{{CodeConditionCompile, "$.steps[0].condition"}}},
		{"condition not bool", doc(pidInput, `{"capability": "test.echo", "as": "a", "condition": "1 + 2"}`, `"a"`), []want{{CodeConditionNotBool, "$.steps[0].condition"}}},
		{"condition dynamic steps", doc(pidInput, echoA+`, {"capability": "test.echo", "as": "b", "condition": "size(steps) > 0"}`, `"a"`), []want{{CodeConditionDynamicSteps, "$.steps[1].condition"}}},
		{"condition unknown names", doc(pidInput, echoA+`, {"capability": "test.echo", "as": "b", "condition": "inputs.nope == 1 || ctx.day == 'x' || steps.ghost.ok"}`, `"a"`),
			[]want{{CodeUnknownInput, "$.steps[1].condition"}, {CodeUnknownStep, "$.steps[1].condition"}, {CodeUnknownCtxKey, "$.steps[1].condition"}}},
		{"every problem at once", doc(`"x": {"type": "int"}`, `{"capability": "nobody.home", "as": "a", "args": {"a": "{{inputs.nope}}"}}, {"capability": "test.echo", "as": "a"}`, `"q"`),
			[]want{{CodeUnknownInputType, "$.inputs.x.type"}, {CodeDuplicateAs, "$.steps[1].as"}, {CodeUnknownInput, "$.steps[0].args.a"},
				{CodeUnknownOutput, "$.outputs[0]"}, {CodeUnknownCapability, "$.steps[0].capability"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := mustParse(t, tc.doc)
			probs := Validate(p, testCatalog)
			var got []want
			for _, pr := range probs {
				got = append(got, want{pr.Code, pr.Path})
				if pr.File != "test.json" || pr.Message == "" {
					t.Errorf("problem %+v lacks file or message", pr)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("Validate problems = %v\nwant %v\ninput: %s\nfull: %v", got, tc.want, tc.doc, probs)
			}
		})
	}
}

func TestCycleMessageNamesSteps(t *testing.T) {
	t.Parallel()
	p := mustParse(t, doc("", `{"capability": "test.echo", "as": "first", "args": {"a": "{{third.x}}"}},
		{"capability": "test.echo", "as": "second", "args": {"a": "{{first.x}}"}},
		{"capability": "test.echo", "as": "third", "args": {"a": "{{second.x}}"}},
		{"capability": "test.echo", "as": "free"}`, `"free"`))
	var cycles []string
	for _, pr := range Validate(p, nil) {
		if pr.Code == CodeCycle {
			cycles = append(cycles, pr.Message)
		}
	}
	if len(cycles) != 1 || !strings.Contains(cycles[0], "first -> third -> second -> first") {
		t.Errorf("cycle problems = %q, want one naming first -> third -> second -> first", cycles)
	}
	if o := p.Order(); len(o) != 1 || o[0].As != "free" {
		t.Errorf("Order with a cycle = %v, want only the free step", o)
	}
}

func TestOrderAndDeps(t *testing.T) {
	t.Parallel()
	// d reads b and a; c reads nothing; b's condition reads a. Kahn's order
	// with file-order ties: a, b, c, d? No: d comes before c in the file,
	// but needs b; after a and b, d (index 2) precedes c (index 3).
	p := mustParse(t, doc(`"f": {"type": "boolean", "default": true}`, `
		{"capability": "test.echo", "as": "a"},
		{"capability": "test.echo", "as": "b", "condition": "inputs.f && steps[\"a\"].n > 1"},
		{"capability": "test.echo", "as": "d", "args": {"a": ["{{b}}", {"k": "{{a.v[0]}}"}]}},
		{"capability": "test.echo", "as": "c"}`, `"d"`))
	if probs := Validate(p, testCatalog); len(probs) != 0 {
		t.Fatalf("Validate = %v", probs)
	}
	var order []string
	for _, s := range p.Order() {
		order = append(order, s.As+"("+strings.Join(s.Deps, ",")+")")
	}
	if got, want := strings.Join(order, " "), "a() b(a) d(a,b) c()"; got != want {
		t.Errorf("order = %s, want %s", got, want)
	}
}

func TestSetCollisionsAndLint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	overview, err := os.ReadFile("portfolio_overview.json")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("copy.json", string(overview))
	write("broken.json", `{"id": "broken", "steps": [`)
	write("other.json", doc(pidInput, echoA, `"a"`))
	write("ignored.txt", "not a pattern")
	probs := Lint(nil, dir)
	var got []string
	for _, p := range probs {
		got = append(got, filepath.Base(p.File)+":"+p.Code)
	}
	want := "[broken.json:syntax_error copy.json:duplicate_pattern_id]"
	if fmt.Sprint(got) != want {
		t.Errorf("Lint = %v, want %s\n%v", got, want, probs)
	}
	if probs := NewSet(nil).LoadDir(filepath.Join(dir, "missing")); len(probs) != 1 || probs[0].Code != CodeReadError {
		t.Errorf("LoadDir(missing) = %v, want one read_error", probs)
	}
}
