package claude

import (
	"context"
	"encoding/json"

	"github.com/dawsos/dawsos/agents"
)

func (a *Claude) analyze() agents.Def {
	return agents.Stage(agents.Meta{
		Name: "claude.analyze",
		Description: "Answers an analytical question over the outputs of earlier steps, given by name, with the Anthropic Messages API: " +
			"comparisons, tensions and what stands out, from their figures sent as path = value lines; the answer is reported with its citations and any number not sent.",
		Reads:  answerReads,
		Writes: answerWrites,
		Codes:  answerCodes,
	}, a.Analyze)
}

// AnalyzeInput is the question and the outputs it is asked over.
type AnalyzeInput struct {
	Outputs   map[string]json.RawMessage `json:"outputs" doc:"The outputs by name, e.g. {\"metrics\": \"{{metrics}}\", \"factors\": \"{{factors}}\"}; the name (a lower-case identifier, not ctx) roots the paths of its figures. 1 to 20 entries."`
	Question  string                     `json:"question" jsonschema:"minLength=3,maxLength=2000" doc:"What to analyse."`
	MaxTokens int                        `json:"max_tokens,omitempty" jsonschema:"minimum=1,maximum=8192,default=1024" doc:"The most tokens the answer may take; an answer cut there is reported as truncated."`
}

// Validate checks the names of the outputs.
func (in AnalyzeInput) Validate() error { return checkNamed("outputs", in.Outputs, 1) }

// Analyze implements claude.analyze.
func (a *Claude) Analyze(ctx context.Context, c *agents.Call, in AnalyzeInput) (AnswerOutput, error) {
	return a.answer(ctx, c, ask{capability: "claude.analyze", maxTokens: in.MaxTokens,
		role: "Task: analyse outputs of the engine for a portfolio manager: compare the figures, point out what stands out or " +
			"contradicts, and say what the figures cannot tell.",
		instruction: "Question: " + in.Question, inputs: named("outputs", in.Outputs)})
}
