package patterns

import "fmt"

// Problem is one defect found in a pattern file. Validation reports every
// problem at once so that an author fixes a file in one pass.
type Problem struct {
	// File is the name the pattern was parsed under.
	File string `json:"file"`
	// Path is a JSON path into the file, such as $.steps[2].args.portfolio_id.
	Path string `json:"path"`
	// Code is one of the Code* constants; it is a stable wire name.
	Code string `json:"code"`
	// Message explains the problem for a person.
	Message string `json:"message"`
}

// String renders the problem as one line, file first, as linters do.
func (p Problem) String() string {
	return fmt.Sprintf("%s: %s: %s (%s)", p.File, p.Path, p.Message, p.Code)
}

// Problem codes. They are wire names (shown by `dawsos patterns lint` and
// POST /v1/patterns/validate), so they never change once published.
const (
	// Decoding (Parse) problems.
	CodeSyntax        = "syntax_error"
	CodeUnknownField  = "unknown_field"
	CodeDuplicateKey  = "duplicate_key"
	CodeWrongJSONType = "wrong_json_type"
	CodeTooDeep       = "nesting_too_deep"
	CodeReadError     = "read_error"

	// Pattern-level problems.
	CodeMissingID          = "missing_id"
	CodeInvalidName        = "invalid_name"
	CodeDuplicatePatternID = "duplicate_pattern_id"
	CodeNoSteps            = "no_steps"
	CodeNoOutputs          = "no_outputs"
	CodeUnknownOutput      = "unknown_output"
	CodeDuplicateOutput    = "duplicate_output"

	// Input declarations.
	CodeUnknownInputType    = "unknown_input_type"
	CodeRequiredWithDefault = "required_input_has_default"
	CodeDefaultType         = "default_type_mismatch"
	CodeDefaultNotInEnum    = "default_not_in_enum"
	CodeEnumType            = "enum_type_mismatch"

	// Steps.
	CodeMissingCapability     = "missing_capability"
	CodeInvalidCapabilityName = "invalid_capability_name"
	CodeUnknownCapability     = "unknown_capability"
	CodeMissingAs             = "missing_as"
	CodeReservedName          = "reserved_name"
	CodeDuplicateAs           = "duplicate_as"
	CodeDuplicateStepID       = "duplicate_step_id"
	CodeArgsNotObject         = "args_not_object"
	CodeUnknownArgument       = "unknown_argument"
	CodeMissingArgument       = "missing_argument"
	CodeArgumentType          = "argument_type_mismatch"

	// References and the step graph.
	CodeBadReference  = "bad_reference"
	CodeUnknownInput  = "unknown_input"
	CodeUnknownCtxKey = "unknown_ctx_key"
	// CodeUnknownReferenceField: a reference names a field the producing
	// capability's output schema does not have.
	CodeUnknownReferenceField = "unknown_reference_field"
	CodeUnknownStep           = "unknown_step"
	CodeForwardReference      = "forward_reference"
	CodeCycle                 = "cycle"

	// Conditions.
	CodeConditionCompile      = "condition_compile_error"
	CodeConditionNotBool      = "condition_not_bool"
	CodeConditionDynamicSteps = "condition_dynamic_steps"
)
