package claude

import (
	"context"
	"encoding/json"

	"github.com/dawsos/dawsos/agents"
)

func (a *Claude) scenarioAnalysis() agents.Def {
	return agents.Stage(agents.Meta{
		Name: "claude.scenario_analysis",
		Description: "Interprets a scenario's outcome for a portfolio (macro.run_scenario or a deleveraging scenario, and optionally the hedges suggested for it) " +
			"with the Anthropic Messages API: what moves the value, the winners and losers, and what the hedges change, from the figures sent as path = value lines.",
		Reads:  answerReads,
		Writes: answerWrites,
		Codes:  answerCodes,
	}, a.ScenarioAnalysis)
}

// ScenarioAnalysisInput is the scenario's output and what else to weigh.
type ScenarioAnalysisInput struct {
	Scenario  json.RawMessage `json:"scenario" doc:"The output of macro.run_scenario or a scenarios.* capability (\"{{scenario}}\"), under paths starting scenario."`
	Hedges    json.RawMessage `json:"hedges,omitempty" doc:"The output of optimizer.suggest_hedges for the scenario, under paths starting hedges."`
	Regime    json.RawMessage `json:"regime,omitempty" doc:"The output of macro.detect_regime, under paths starting regime."`
	Question  string          `json:"question,omitempty" jsonschema:"maxLength=2000" doc:"What to ask about the scenario; by default what drives the loss or gain and which positions matter."`
	MaxTokens int             `json:"max_tokens,omitempty" jsonschema:"minimum=1,maximum=8192,default=1024" doc:"The most tokens the answer may take; an answer cut there is reported as truncated."`
}

// Validate refuses a null scenario.
func (in ScenarioAnalysisInput) Validate() error {
	if !present(in.Scenario) {
		return agents.FieldError("scenario", "scenario is null: pass the scenario's output")
	}
	return nil
}

// ScenarioAnalysis implements claude.scenario_analysis.
func (a *Claude) ScenarioAnalysis(ctx context.Context, c *agents.Call, in ScenarioAnalysisInput) (AnswerOutput, error) {
	inputs := []namedInput{{Name: "scenario", Field: "scenario", Raw: in.Scenario}}
	for _, o := range []namedInput{{"hedges", "hedges", in.Hedges}, {"regime", "regime", in.Regime}} {
		if present(o.Raw) {
			inputs = append(inputs, o)
		}
	}
	q := in.Question
	if q == "" {
		q = "What drives the portfolio's change in value under this scenario, which positions gain and lose most, and what would the hedges change?"
	}
	return a.answer(ctx, c, ask{capability: "claude.scenario_analysis", maxTokens: in.MaxTokens,
		role: "Task: interpret a stress scenario's outcome for a portfolio: the shocks applied, the factor contributions, the winners and " +
			"losers, and (when listed) the suggested hedges and the current regime. Say which figures rest on heuristic betas when the figures say so.",
		instruction: "Interpret this scenario. Question: " + q, inputs: inputs})
}
