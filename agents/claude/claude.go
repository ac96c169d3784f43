// Package claude is the claude agent: it asks a model over the Anthropic
// Messages API to explain, summarise or analyse the outputs of earlier
// steps, and reports what the model said with where every figure came
// from. Each capability is one file; register.go lists them; messages.go
// holds the API's documented request and answer formats, prompt.go the
// prompt and the checks of the answer against it, answer.go the one path
// every capability takes.
//
// Figures are never the agent's own. A capability takes other
// capabilities' outputs whole as its inputs, writes each of their leaves
// into the prompt as `path = value`, and tells the model to use only
// those figures and to cite each one by its path. The output names every
// input, the figures the answer cites (with the values sent), citations of
// paths that were not sent, and the numbers in the answer that match no
// figure sent at the precision written, so a reader can see what is
// grounded and what is not.
//
// Verdicts of the stop reason (documented once here, stored with every
// answer in ai_answers.status):
//   - end_turn, stop_sequence: complete; the answer is reported.
//   - max_tokens, model_context_window_exceeded: truncated; the text up to
//     the cut is reported with truncated true and the reason. The step
//     succeeds: what was said is grounded like any answer, and the flag
//     keeps it from being read as whole. Raising max_tokens (an argument)
//     or passing fewer inputs is the remedy, not a retry.
//   - refusal: refused; answer is empty, the model's text (if any) is in
//     refusal_text, refused is true with the reason. The step succeeds, so
//     the run's other outputs stand and the refusal is visible as such.
//   - tool_use, pause_turn (the request declares no tools) and anything
//     undocumented: not an answer; the step fails with unavailable.
//
// API errors go through the guarded client of package agents: no key, or
// 401/403, is provider_not_configured (final, before any traffic when the
// key is missing); 404 (an unknown model or a wrong base URL) is
// provider_not_configured too, fixed in configuration; 429 and 5xx are
// retried honouring Retry-After and end unavailable; another 4xx is
// invalid_input; a body that is not the documented JSON is unavailable.
package claude

import (
	"time"

	"github.com/dawsos/dawsos/agents"
)

// Agent is the agent's wire name.
const Agent = "claude"

// Claude holds the dependencies every capability of the agent shares: one
// guarded client for Anthropic, so the provider has one rate limiter in
// the process.
type Claude struct {
	deps   agents.Deps
	client *agents.ProviderClient
}

func (a *Claude) now() time.Time {
	if a.deps.Now != nil {
		return a.deps.Now()
	}
	return time.Now()
}
