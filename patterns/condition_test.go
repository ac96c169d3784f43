package patterns

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestConditionEval(t *testing.T) {
	t.Parallel()
	scope := Scope{
		Inputs: map[string]any{"include_macro": true, "n": int64(252), "rate": 0.32, "none": nil, "tags": []any{"a", "b"}},
		Ctx:    map[string]any{"asof_date": "2025-10-21"},
		Steps: map[string]json.RawMessage{
			"position": json.RawMessage(`{"security_type": "EQUITY", "qty": 10, "weights": [0.25, 0.75]}`),
			"bond":     json.RawMessage(`{"security_type": "BOND"}`),
		},
	}
	cases := []struct {
		expr  string
		want  bool
		steps string
	}{
		{`inputs.include_macro == true`, true, ""},
		{`steps.position.security_type == "EQUITY"`, true, "position"},
		{`steps["bond"].security_type == "EQUITY"`, false, "bond"},
		{`steps.position.qty > 5 && inputs.n == 252`, true, "position"},
		{`steps.position.qty == 10.0`, true, "position"},
		{`inputs.rate > 0.3 && inputs.rate < 0.33`, true, ""},
		{`inputs.none == null`, true, ""},
		{`"b" in inputs.tags`, true, ""},
		{`ctx.asof_date >= "2025-01-01"`, true, ""},
		{`has(steps.skipped)`, false, "skipped"},
		{`has(steps.position.weights) && steps.position.weights.all(w, w > 0.2)`, true, "position"},
		// A comprehension variable called steps shadows the variable, so
		// no dependency and no dynamic use.
		{`[1, 2].exists(steps, steps == 2)`, true, ""},
		{`steps.position.weights.exists(x, x > 0.5) || steps.bond.security_type == "X"`, true, "position,bond"},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			t.Parallel()
			c, err := CompileCondition(tc.expr)
			if err != nil {
				t.Fatalf("CompileCondition(%q): %v", tc.expr, err)
			}
			if got := strings.Join(c.Steps(), ","); got != tc.steps {
				t.Errorf("CompileCondition(%q).Steps() = %q, want %q", tc.expr, got, tc.steps)
			}
			got, err := c.Eval(context.Background(), scope)
			if err != nil || got != tc.want {
				t.Errorf("Eval(%q) = %v, %v; want %v", tc.expr, got, err, tc.want)
			}
		})
	}
}

func TestConditionEvalErrors(t *testing.T) {
	t.Parallel()
	big := make([]int, 300)
	raw, _ := json.Marshal(map[string]any{"items": big})
	scope := Scope{Inputs: map[string]any{"x": "s"}, Steps: map[string]json.RawMessage{"big": raw}}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name, expr string
		ctx        context.Context
		contains   string
	}{
		{"not bool at run time", `inputs.x`, context.Background(), "not bool"},
		{"missing step output", `steps.gone.ok == true`, context.Background(), "no such key"},
		// 300 x 300 x 300 = 27 million iterations; the limit stops it after
		// about ConditionCostLimit units.
		{"cost limit", `steps.big.items.all(a, steps.big.items.all(b, steps.big.items.all(c, a + b + c >= 0)))`, context.Background(), "cost limit exceeded"},
		{"cancelled context", `steps.big.items.all(a, steps.big.items.all(b, a + b >= 0))`, cancelled, "interrupted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := CompileCondition(tc.expr)
			if err != nil {
				t.Fatalf("CompileCondition(%q): %v", tc.expr, err)
			}
			_, err = c.Eval(tc.ctx, scope)
			if err == nil || !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("Eval(%q) error = %v, want one containing %q", tc.expr, err, tc.contains)
			}
		})
	}
}

func TestCompileConditionErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ expr, code string }{
		{`inputs.x ==`, CodeConditionCompile},
		{`nosuchvar == 1`, CodeConditionCompile},
		{`1 + "a" == 2`, CodeConditionCompile},
		{`"text"`, CodeConditionNotBool},
		{`[true]`, CodeConditionNotBool},
		{`size(steps) > 0`, CodeConditionDynamicSteps},
		{`steps[inputs.name].ok`, CodeConditionDynamicSteps},
		{`steps.exists(k, k == "a")`, CodeConditionDynamicSteps},
		{`[steps].size() == 1`, CodeConditionDynamicSteps},
		{strings.Repeat("true && ", 600) + "true", CodeConditionCompile},
	}
	for _, tc := range cases {
		_, err := CompileCondition(tc.expr)
		var ce *ConditionError
		if !errors.As(err, &ce) || ce.Code != tc.code {
			t.Errorf("CompileCondition(%.60q) error = %v, want code %s", tc.expr, err, tc.code)
		}
	}
}

func TestStepEvalCondition(t *testing.T) {
	t.Parallel()
	p := mustParse(t, doc(`"m": {"type": "boolean", "default": false}`, `{"capability": "test.echo", "as": "a"}, {"capability": "test.echo", "as": "b", "condition": "inputs.m"}`, `"a"`))
	a, _ := p.Step("a")
	b, _ := p.Step("b")
	for _, tc := range []struct {
		s    *Step
		m    bool
		want bool
	}{{a, false, true}, {b, false, false}, {b, true, true}} {
		got, err := tc.s.EvalCondition(context.Background(), Scope{Inputs: map[string]any{"m": tc.m}})
		if err != nil || got != tc.want {
			t.Errorf("step %s with m=%v: EvalCondition = %v, %v; want %v", tc.s.As, tc.m, got, err, tc.want)
		}
	}
}
