package claude

import (
	"context"
	"encoding/json"

	"github.com/dawsos/dawsos/agents"
)

func (a *Claude) aiExplain() agents.Def {
	return agents.Stage(agents.Meta{
		Name: "ai.explain",
		Description: "Explains a security's quality ratings (ratings.aggregate and, when given, ratings.dividend_safety, ratings.moat_strength " +
			"and ratings.resilience) with the Anthropic Messages API: what drives the score and grade, component by component, from their figures sent as path = value lines.",
		Reads:  answerReads,
		Writes: answerWrites,
		Codes:  answerCodes,
	}, a.AIExplain)
}

// AIExplainInput is the rating outputs, taken whole.
type AIExplainInput struct {
	Aggregate  json.RawMessage `json:"aggregate" doc:"The output of ratings.aggregate (\"{{aggregate}}\"); its figures are sent under paths starting aggregate."`
	Dividend   json.RawMessage `json:"dividend,omitempty" doc:"The output of ratings.dividend_safety, under paths starting dividend."`
	Moat       json.RawMessage `json:"moat,omitempty" doc:"The output of ratings.moat_strength, under paths starting moat."`
	Resilience json.RawMessage `json:"resilience,omitempty" doc:"The output of ratings.resilience, under paths starting resilience."`
	Question   string          `json:"question,omitempty" jsonschema:"maxLength=2000" doc:"What to explain; by default what drives the score and the grade, and the weakest component."`
	MaxTokens  int             `json:"max_tokens,omitempty" jsonschema:"minimum=1,maximum=8192,default=1024" doc:"The most tokens the answer may take; an answer cut there is reported as truncated."`
}

// Validate refuses a null aggregate.
func (in AIExplainInput) Validate() error {
	if !present(in.Aggregate) {
		return agents.FieldError("aggregate", "aggregate is null: pass the output of ratings.aggregate")
	}
	return nil
}

// AIExplain implements ai.explain.
func (a *Claude) AIExplain(ctx context.Context, c *agents.Call, in AIExplainInput) (AnswerOutput, error) {
	inputs := []namedInput{{Name: "aggregate", Field: "aggregate", Raw: in.Aggregate}}
	for _, o := range []namedInput{{"dividend", "dividend", in.Dividend}, {"moat", "moat", in.Moat}, {"resilience", "resilience", in.Resilience}} {
		if present(o.Raw) {
			inputs = append(inputs, o)
		}
	}
	q := in.Question
	if q == "" {
		q = "What drives the aggregate score and grade? Go through the ratings and their components, and name the weakest."
	}
	return a.answer(ctx, c, ask{capability: "ai.explain", maxTokens: in.MaxTokens,
		role: "Task: explain a security's quality ratings (a Buffett-style checklist of moat strength, dividend safety and resilience, " +
			"each scored against a rubric from its financial statements, and their weighted aggregate) to an investor: what each component measured, " +
			"the band it met, and how the scores add up.",
		instruction: "Explain these ratings. Question: " + q, inputs: inputs})
}
