package claude

import (
	"context"
	"encoding/json"

	"github.com/dawsos/dawsos/agents"
)

func (a *Claude) financialQA() agents.Def {
	return agents.Stage(agents.Meta{
		Name: "claude.financial_qa",
		Description: "Answers a financial question with the Anthropic Messages API, over the outputs of earlier steps given as context " +
			"(their figures sent as path = value lines); concepts may be explained in words, every figure must come from the context.",
		Reads:  answerReads,
		Writes: answerWrites,
		Codes:  answerCodes,
	}, a.FinancialQA)
}

// FinancialQAInput is the question and its context.
type FinancialQAInput struct {
	Question  string                     `json:"question" jsonschema:"minLength=3,maxLength=2000" doc:"The question."`
	Context   map[string]json.RawMessage `json:"context,omitempty" doc:"Outputs the question is about, by name (e.g. {\"twr\": \"{{twr}}\"}); each name (a lower-case identifier other than ctx) roots its paths. Up to 20; none for a question of concepts."`
	MaxTokens int                        `json:"max_tokens,omitempty" jsonschema:"minimum=1,maximum=8192,default=1024" doc:"The most tokens the answer may take; an answer cut there is reported as truncated."`
}

// Validate checks the names of the context.
func (in FinancialQAInput) Validate() error {
	if len(in.Context) > 0 {
		return checkNamed("context", in.Context, 0)
	}
	return nil
}

// FinancialQA implements claude.financial_qa.
func (a *Claude) FinancialQA(ctx context.Context, c *agents.Call, in FinancialQAInput) (AnswerOutput, error) {
	return a.answer(ctx, c, ask{capability: "claude.financial_qa", maxTokens: in.MaxTokens,
		role: "Task: answer a financial question. You may explain concepts and methods in words; any figure about the portfolio, " +
			"a security or the market must be one of the figures listed, and if none answers the question, say so.",
		instruction: "Question: " + in.Question, inputs: named("context", in.Context)})
}
