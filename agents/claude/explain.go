package claude

import (
	"context"
	"encoding/json"

	"github.com/dawsos/dawsos/agents"
)

func (a *Claude) explain() agents.Def {
	return agents.Stage(agents.Meta{
		Name: "claude.explain",
		Description: "Explains one output of an earlier step (or a part of one) in plain words with the Anthropic Messages API; " +
			"the prompt carries its figures as path = value lines, and the answer is reported with the figures it cites and the numbers it writes that were not sent.",
		Reads:  answerReads,
		Writes: answerWrites,
		Codes:  answerCodes,
	}, a.Explain)
}

// ExplainInput is the output to explain and, optionally, what about it.
type ExplainInput struct {
	Subject   json.RawMessage `json:"subject" doc:"The output to explain, taken whole (\"{{aggregate}}\") or a part of one (\"{{valued.positions[0]}}\"); any JSON value. Its figures are sent under paths starting subject."`
	Question  string          `json:"question,omitempty" jsonschema:"maxLength=2000" doc:"What to explain about it; by default what the figures say and what drives them."`
	MaxTokens int             `json:"max_tokens,omitempty" jsonschema:"minimum=1,maximum=8192,default=1024" doc:"The most tokens the answer may take; an answer cut there is reported as truncated."`
}

// Validate refuses a null subject: there would be nothing to explain.
func (in ExplainInput) Validate() error {
	if !present(in.Subject) {
		return agents.FieldError("subject", "subject is null: pass the output to explain")
	}
	return nil
}

// Explain implements claude.explain.
func (a *Claude) Explain(ctx context.Context, c *agents.Call, in ExplainInput) (AnswerOutput, error) {
	q := in.Question
	if q == "" {
		q = "What do these figures say, and what drives them?"
	}
	return a.answer(ctx, c, ask{capability: "claude.explain", maxTokens: in.MaxTokens,
		role:        "Task: explain the figures of one output of the engine to an investor who is not a specialist: what they measure, what they say, and what drives them.",
		instruction: "Explain the output under subject. Question: " + q,
		inputs:      []namedInput{{Name: "subject", Field: "subject", Raw: in.Subject}}})
}
