package claude

import (
	"context"
	"encoding/json"

	"github.com/dawsos/dawsos/agents"
)

func (a *Claude) summarize() agents.Def {
	return agents.Stage(agents.Meta{
		Name: "claude.summarize",
		Description: "Summarises the outputs of earlier steps, given by name, in a short paragraph with the Anthropic Messages API; " +
			"the prompt carries their figures as path = value lines under each name, and the answer is reported with its citations and any number not sent.",
		Reads:  answerReads,
		Writes: answerWrites,
		Codes:  answerCodes,
	}, a.Summarize)
}

// SummarizeInput names the outputs to summarise.
type SummarizeInput struct {
	Outputs   map[string]json.RawMessage `json:"outputs" doc:"The outputs by name, e.g. {\"twr\": \"{{twr}}\", \"sectors\": \"{{sectors}}\"}: each taken whole or in part; the name (a lower-case identifier, not ctx) roots the paths of its figures. 1 to 20 entries."`
	Focus     string                     `json:"focus,omitempty" jsonschema:"maxLength=2000" doc:"What the summary should dwell on."`
	MaxTokens int                        `json:"max_tokens,omitempty" jsonschema:"minimum=1,maximum=8192,default=1024" doc:"The most tokens the answer may take; an answer cut there is reported as truncated."`
}

// Validate checks the names of the outputs.
func (in SummarizeInput) Validate() error { return checkNamed("outputs", in.Outputs, 1) }

// Summarize implements claude.summarize.
func (a *Claude) Summarize(ctx context.Context, c *agents.Call, in SummarizeInput) (AnswerOutput, error) {
	instr := "Summarise these outputs in one short paragraph, the most important figures first."
	if in.Focus != "" {
		instr += " Focus: " + in.Focus
	}
	return a.answer(ctx, c, ask{capability: "claude.summarize", maxTokens: in.MaxTokens,
		role:        "Task: summarise outputs of the engine for a portfolio manager: what matters most, in a few sentences.",
		instruction: instr, inputs: named("outputs", in.Outputs)})
}
