package patterns

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"
)

// ConditionCostLimit caps the CEL runtime cost of one condition evaluation.
// A condition is a guard over a few fields; the limit stops an expression
// that iterates over a huge step output from stalling the orchestrator.
const ConditionCostLimit uint64 = 1_000_000

// conditionInterruptEvery is how many comprehension iterations pass between
// checks of the context, so a cancelled run stops a long evaluation.
const conditionInterruptEvery = 100

// conditionMaxSize bounds the source of a condition, in code points.
const conditionMaxSize = 4096

var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	dyn := cel.MapType(cel.StringType, cel.DynType)
	return cel.NewEnv(
		cel.Variable(RootInputs, dyn),
		cel.Variable(RootCtx, dyn),
		cel.Variable(RootSteps, dyn),
		cel.ParserExpressionSizeLimit(conditionMaxSize),
	)
})

// Condition is a compiled CEL guard of a step. Its variables are inputs,
// ctx and steps (step outputs keyed by `as`); it must yield a bool.
type Condition struct {
	Source string

	prog    cel.Program
	steps   []string // `as` names selected as steps.<as> or steps["<as>"]
	inputs  []string // names selected as inputs.<name>
	ctxKeys []string // keys selected as ctx.<key>
}

// ConditionError is a condition that cannot be used, with a Code* constant.
type ConditionError struct {
	Source string
	Code   string
	Msg    string
}

func (e *ConditionError) Error() string {
	return fmt.Sprintf("condition %q: %s", e.Source, e.Msg)
}

// CompileCondition parses and type-checks a condition and works out which
// steps it depends on. It rejects conditions that are not boolean and
// conditions that use `steps` other than by naming a step literally
// (steps.x or steps["x"]), because then their dependencies are unknown.
func CompileCondition(src string) (*Condition, error) {
	env, err := celEnv()
	if err != nil {
		return nil, fmt.Errorf("build condition environment: %w", err)
	}
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, &ConditionError{Source: src, Code: CodeConditionCompile, Msg: strings.TrimSpace(iss.Err().Error())}
	}
	if ot := ast.OutputType(); !ot.IsExactType(cel.BoolType) && !ot.IsExactType(cel.DynType) {
		return nil, &ConditionError{Source: src, Code: CodeConditionNotBool, Msg: fmt.Sprintf("yields %s, not bool", ot)}
	}
	c := &Condition{Source: src}
	var w condWalker
	w.walk(ast.NativeRep().Expr(), nil)
	if w.dynamic {
		return nil, &ConditionError{Source: src, Code: CodeConditionDynamicSteps,
			Msg: `uses "steps" other than as steps.<name> or steps["<name>"], so its dependencies cannot be known`}
	}
	c.steps, c.inputs, c.ctxKeys = w.steps, w.inputs, w.ctx
	c.prog, err = env.Program(ast,
		cel.CostLimit(ConditionCostLimit),
		cel.InterruptCheckFrequency(conditionInterruptEvery),
	)
	if err != nil {
		return nil, &ConditionError{Source: src, Code: CodeConditionCompile, Msg: err.Error()}
	}
	return c, nil
}

// Steps lists the `as` names of the steps the condition reads, in order of
// first mention.
func (c *Condition) Steps() []string { return append([]string(nil), c.steps...) }

// Eval runs the condition against scope. Only the outputs of the steps the
// condition names are decoded; a step without output is absent from
// `steps`, so has(steps.x) is false for a skipped step.
func (c *Condition) Eval(ctx context.Context, scope Scope) (bool, error) {
	inputs, err := celValue(mapAny(scope.Inputs))
	if err != nil {
		return false, fmt.Errorf("evaluate condition %q: inputs: %w", c.Source, err)
	}
	rc, err := celValue(mapAny(scope.Ctx))
	if err != nil {
		return false, fmt.Errorf("evaluate condition %q: ctx: %w", c.Source, err)
	}
	steps := make(map[string]any, len(c.steps))
	for _, as := range c.steps {
		raw, ok := scope.Steps[as]
		if !ok {
			continue
		}
		v, err := decodeJSON(raw)
		if err != nil {
			return false, fmt.Errorf("evaluate condition %q: output of step %q: %w", c.Source, as, err)
		}
		if steps[as], err = celValue(v); err != nil {
			return false, fmt.Errorf("evaluate condition %q: output of step %q: %w", c.Source, as, err)
		}
	}
	out, _, err := c.prog.ContextEval(ctx, map[string]any{RootInputs: inputs, RootCtx: rc, RootSteps: steps})
	if err != nil {
		return false, fmt.Errorf("evaluate condition %q: %w", c.Source, err)
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("evaluate condition %q: result is %s, not bool", c.Source, out.Type().TypeName())
	}
	return bool(b), nil
}

func mapAny(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// celValue converts generic values into the plain types CEL adapts: int64
// for integral JSON numbers, float64 for the rest.
func celValue(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string, int64, float64:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		f, err := x.Float64()
		if err != nil {
			return nil, fmt.Errorf("number %s: %w", x, err)
		}
		return f, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := celValue(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			c, err := celValue(e)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	}
	jv, err := toJSONValue(v)
	if err != nil {
		return nil, err
	}
	return celValue(jv)
}

// condWalker collects the literal selections of steps, inputs and ctx in a
// checked expression, honouring comprehension variables that shadow them.
type condWalker struct {
	steps, inputs, ctx []string
	dynamic            bool
}

func addOnce(list []string, s string) []string {
	for _, e := range list {
		if e == s {
			return list
		}
	}
	return append(list, s)
}

// rootIdent returns the name of e if it is an unshadowed identifier.
func rootIdent(e celast.Expr, shadow map[string]bool) (string, bool) {
	if e.Kind() != celast.IdentKind {
		return "", false
	}
	name := e.AsIdent()
	if shadow[name] {
		return "", false
	}
	return name, true
}

func (w *condWalker) record(root, name string) bool {
	switch root {
	case RootSteps:
		w.steps = addOnce(w.steps, name)
	case RootInputs:
		w.inputs = addOnce(w.inputs, name)
	case RootCtx:
		w.ctx = addOnce(w.ctx, name)
	default:
		return false
	}
	return true
}

func (w *condWalker) walk(e celast.Expr, shadow map[string]bool) {
	switch e.Kind() {
	case celast.IdentKind:
		if name, ok := rootIdent(e, shadow); ok && name == RootSteps {
			w.dynamic = true
		}
	case celast.SelectKind:
		s := e.AsSelect()
		if root, ok := rootIdent(s.Operand(), shadow); ok && w.record(root, s.FieldName()) {
			return
		}
		w.walk(s.Operand(), shadow)
	case celast.CallKind:
		c := e.AsCall()
		args := c.Args()
		if (c.FunctionName() == operators.Index || c.FunctionName() == operators.OptIndex) && len(args) == 2 &&
			args[1].Kind() == celast.LiteralKind {
			if key, isStr := args[1].AsLiteral().(types.String); isStr {
				if root, ok := rootIdent(args[0], shadow); ok && w.record(root, string(key)) {
					return
				}
			}
		}
		if c.IsMemberFunction() {
			w.walk(c.Target(), shadow)
		}
		for _, a := range args {
			w.walk(a, shadow)
		}
	case celast.ListKind:
		for _, el := range e.AsList().Elements() {
			w.walk(el, shadow)
		}
	case celast.MapKind:
		for _, en := range e.AsMap().Entries() {
			me := en.AsMapEntry()
			w.walk(me.Key(), shadow)
			w.walk(me.Value(), shadow)
		}
	case celast.StructKind:
		for _, f := range e.AsStruct().Fields() {
			w.walk(f.AsStructField().Value(), shadow)
		}
	case celast.ComprehensionKind:
		c := e.AsComprehension()
		w.walk(c.IterRange(), shadow)
		w.walk(c.AccuInit(), shadow)
		inner := withShadow(shadow, c.IterVar(), c.AccuVar())
		if c.HasIterVar2() {
			inner = withShadow(inner, c.IterVar2())
		}
		w.walk(c.LoopCondition(), inner)
		w.walk(c.LoopStep(), inner)
		w.walk(c.Result(), withShadow(shadow, c.AccuVar()))
	}
}

func withShadow(shadow map[string]bool, names ...string) map[string]bool {
	out := make(map[string]bool, len(shadow)+len(names))
	for k, v := range shadow {
		out[k] = v
	}
	for _, n := range names {
		out[n] = true
	}
	return out
}
