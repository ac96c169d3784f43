// Package patterns parses, validates and evaluates DawsOS pattern files: JSON
// workflows that name capabilities, wire their arguments together with
// {{...}} references and guard steps with CEL conditions.
//
// The package is pure (no I/O beyond reading pattern files, no project
// imports) so that the parser, the reference paths and the conditions can be
// tested and fuzzed in isolation. The orchestrator uses it to check inputs
// (CheckInputs), order steps (Pattern.Order, Step.Deps), resolve arguments
// (Resolve) and decide whether a step runs (Step.EvalCondition).
package patterns
