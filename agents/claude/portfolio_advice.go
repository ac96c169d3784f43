package claude

import (
	"context"
	"encoding/json"

	"github.com/dawsos/dawsos/agents"
)

func (a *Claude) portfolioAdvice() agents.Def {
	return agents.Stage(agents.Meta{
		Name: "claude.portfolio_advice",
		Description: "Observations on a portfolio (concentration, currency and sector exposure, performance and risk) from its valued positions " +
			"and, when given, its metrics and other outputs, with the Anthropic Messages API; considerations for a manager, from the figures sent, not trade instructions.",
		Reads:  answerReads,
		Writes: answerWrites,
		Codes:  answerCodes,
	}, a.PortfolioAdvice)
}

// PortfolioAdviceInput is the portfolio's outputs.
type PortfolioAdviceInput struct {
	Valued    json.RawMessage            `json:"valued" doc:"The output of portfolio.get_valued_positions or pricing.apply_pack (\"{{valued}}\"), under paths starting valued."`
	Metrics   json.RawMessage            `json:"metrics,omitempty" doc:"The output of metrics.compute (or another metrics output), under paths starting metrics."`
	Context   map[string]json.RawMessage `json:"context,omitempty" doc:"Other outputs by name (sectors, attribution, factors, ...); each name (a lower-case identifier other than ctx, valued, metrics) roots its paths. Up to 20."`
	Goal      string                     `json:"goal,omitempty" jsonschema:"maxLength=2000" doc:"The manager's goal or constraint to weigh the portfolio against."`
	MaxTokens int                        `json:"max_tokens,omitempty" jsonschema:"minimum=1,maximum=8192,default=1024" doc:"The most tokens the answer may take; an answer cut there is reported as truncated."`
}

// Validate refuses null positions and checks the names of the others.
func (in PortfolioAdviceInput) Validate() error {
	if !present(in.Valued) {
		return agents.FieldError("valued", "valued is null: pass the valued positions")
	}
	if len(in.Context) > 0 {
		return checkNamed("context", in.Context, 0, "valued", "metrics")
	}
	return nil
}

// PortfolioAdvice implements claude.portfolio_advice.
func (a *Claude) PortfolioAdvice(ctx context.Context, c *agents.Call, in PortfolioAdviceInput) (AnswerOutput, error) {
	inputs := []namedInput{{Name: "valued", Field: "valued", Raw: in.Valued}}
	if present(in.Metrics) {
		inputs = append(inputs, namedInput{Name: "metrics", Field: "metrics", Raw: in.Metrics})
	}
	inputs = append(inputs, named("context", in.Context)...)
	instr := "Give the three to five considerations that matter most for this portfolio, each with the figures behind it."
	if in.Goal != "" {
		instr += " The manager's goal: " + in.Goal
	}
	return a.answer(ctx, c, ask{capability: "claude.portfolio_advice", maxTokens: in.MaxTokens,
		role: "Task: review a portfolio for its manager: concentration, currency and sector exposure, performance and risk. " +
			"Frame each point as a consideration with its figures, not as an instruction to trade; name no security that is not among the figures.",
		instruction: instr, inputs: inputs})
}
