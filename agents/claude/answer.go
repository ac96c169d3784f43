package claude

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// Tables and codes every capability of the agent declares: they all take
// the one path below.
var (
	answerReads  = []string{"ai_answers"}
	answerWrites = []string{"ai_answers"}
	answerCodes  = []string{agents.CodeProviderNotConfigured}
)

// Answer statuses, the stop reason's verdict (see the package doc).
const (
	StatusComplete  = storage.AIComplete
	StatusTruncated = storage.AITruncated
	StatusRefused   = storage.AIRefused
)

// max_tokens bounds: the tag of every input's MaxTokens says the same.
const (
	DefaultMaxTokens = 1024
	MaxMaxTokens     = 8192
)

// AnswerOutput is what every capability of the agent returns: the model's
// answer with how it ended, what it cost, what was sent and how the answer
// stands against it.
type AnswerOutput struct {
	Answer          string `json:"answer" doc:"The model's text; empty when it refused. When truncated, the text up to the cut."`
	Status          string `json:"status" doc:"complete, truncated or refused: the verdict of the stop reason."`
	Truncated       bool   `json:"truncated" doc:"True when the answer was cut off (max_tokens or the context window): it is not whole."`
	TruncatedReason string `json:"truncated_reason,omitempty"`
	Refused         bool   `json:"refused" doc:"True when the model declined to answer."`
	RefusedReason   string `json:"refused_reason,omitempty"`
	RefusalText     string `json:"refusal_text,omitempty" doc:"What the model wrote when it refused, if anything."`
	Model           string `json:"model" doc:"The model that answered, as the API names it."`
	MessageID       string `json:"message_id"`
	StopReason      string `json:"stop_reason"`
	InputTokens     int    `json:"input_tokens"`
	OutputTokens    int    `json:"output_tokens"`
	MaxTokens       int    `json:"max_tokens"`
	PromptHash      string `json:"prompt_hash" doc:"sha256 (hex) of the request body sent."`
	// Reused is true when a stored answer of this run's step to the same
	// prompt was returned instead of asking again (a redelivery).
	Reused     bool        `json:"reused" doc:"True when the answer stored for this run's step with the same prompt hash was returned without asking the model again."`
	InputsUsed []InputUsed `json:"inputs_used" doc:"Every input sent, with the paths of its figures."`
	Citations  []Citation  `json:"citations" doc:"Paths the answer cites that were sent, with the values sent."`
	// UnsentCitations are cited paths that the prompt did not carry.
	UnsentCitations []string `json:"unsent_citations" doc:"Paths the answer cites that were not sent: claims without a source."`
	// UngroundedNumbers are numbers written that match no figure sent.
	UngroundedNumbers []string          `json:"ungrounded_numbers" doc:"Numbers (and dates) in the answer, as written, that match no figure sent at the precision written (percentages, bp, thousands to trillions scaled; signs ignored)."`
	Provenance        agents.Provenance `json:"provenance"`
}

// ask is one question of a capability: the role of its system prompt,
// the instruction that opens the user message, and the inputs whose
// figures follow it.
type ask struct {
	capability  string
	role        string
	instruction string
	inputs      []namedInput
	maxTokens   int
}

// answer is the one path of every capability: build the request, hash it,
// reuse the stored answer of this run's step to the same prompt, else ask
// the model, judge the stop reason, store, and report.
func (a *Claude) answer(ctx context.Context, c *agents.Call, q ask) (AnswerOutput, error) {
	p, err := buildPrompt(c.Run, q.role, q.instruction, q.inputs)
	if err != nil {
		return AnswerOutput{}, err
	}
	if err := a.client.Ready(); err != nil {
		return AnswerOutput{}, err
	}
	model := a.client.Model()
	if model == "" {
		return AnswerOutput{}, agents.Errorf(agents.CodeProviderNotConfigured,
			"provider %s has no model: set providers.%s.model", a.client.Name(), a.client.Name())
	}
	body, err := encodeRequest(messagesRequest{Model: model, MaxTokens: q.maxTokens, System: p.system,
		Messages: []message{{Role: "user", Content: p.user}}})
	if err != nil {
		return AnswerOutput{}, agents.Wrap(agents.CodeInternal, err, "encode the %s request", q.capability)
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])

	var runID uuid.UUID
	if c.Run.RunID != "" {
		if runID, err = uuid.Parse(c.Run.RunID); err != nil {
			return AnswerOutput{}, agents.Errorf(agents.CodeInternal, "run id %q is not a uuid", c.Run.RunID)
		}
	}
	if runID != uuid.Nil {
		var stored storage.AIAnswer
		var ok bool
		if err := c.Read(ctx, func(db storage.Querier) error {
			var err error
			stored, ok, err = storage.GetAIAnswer(ctx, db, runID, c.StepID)
			return err
		}); err != nil {
			return AnswerOutput{}, err
		}
		if ok && stored.PromptHash == hash {
			out := a.output(c, p, stored)
			out.Reused = true
			return out, nil
		}
	}

	var mr messagesResponse
	resp, err := a.client.GetJSON(ctx, agents.ProviderRequest{Method: http.MethodPost, Path: messagesPath, Header: requestHeader(),
		Body: body, KeyHeader: keyHeader}, &mr)
	if err != nil {
		var ae *agents.Error
		if errors.As(err, &ae) && ae.Code == agents.CodeNotFound {
			// The API answers 404 for an unknown model or a wrong path:
			// fixed in the configuration, not by asking again.
			return AnswerOutput{}, agents.Errorf(agents.CodeProviderNotConfigured,
				"%s (check providers.%s.model %q and base_url)", ae.Message, a.client.Name(), model)
		}
		return AnswerOutput{}, err
	}
	row, err := verdict(a.client.Name(), &mr)
	if err != nil {
		return AnswerOutput{}, err
	}
	row.RunID, row.StepID, row.Capability, row.Provider = runID, c.StepID, q.capability, a.client.Name()
	row.PromptHash, row.MaxTokens, row.AnsweredAt = hash, q.maxTokens, resp.FetchedAt
	if err := c.Write(ctx, func(db storage.Querier) error {
		var err error
		row, err = storage.UpsertAIAnswer(ctx, db, row)
		return err
	}); err != nil {
		return AnswerOutput{}, err
	}
	return a.output(c, p, row), nil
}

// encodeRequest writes the body without HTML escaping (the prompt's <, >
// and & stay as written) and without a trailing newline.
func encodeRequest(r messagesRequest) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// verdict judges a message by its stop reason (see the package doc) and
// returns the row to store, or unavailable for an answer that is none.
func verdict(provider string, mr *messagesResponse) (storage.AIAnswer, error) {
	var text strings.Builder
	for i, b := range mr.Content {
		switch b.Type {
		case blockText:
			text.WriteString(b.Text)
		case blockThinking, blockRedactedThink:
			// Reasoning blocks are not the answer.
		default:
			return storage.AIAnswer{}, agents.Errorf(agents.CodeUnavailable,
				"provider %s answered a %s block (content[%d]), which the request did not ask for; message %s", provider, b.Type, i, mr.ID)
		}
	}
	row := storage.AIAnswer{Model: mr.Model, MessageID: mr.ID, Answer: text.String(), StopReason: *mr.StopReason,
		InputTokens: *mr.Usage.InputTokens, OutputTokens: *mr.Usage.OutputTokens}
	switch row.StopReason {
	case stopEndTurn, stopSequence:
		if strings.TrimSpace(row.Answer) == "" {
			return storage.AIAnswer{}, agents.Errorf(agents.CodeUnavailable, "provider %s answered %s with no text; message %s", provider, row.StopReason, mr.ID)
		}
		row.Status = StatusComplete
	case stopMaxTokens, stopContextWindow:
		row.Status = StatusTruncated
	case stopRefusal:
		row.Status = StatusRefused
	case stopToolUse, stopPauseTurn:
		return storage.AIAnswer{}, agents.Errorf(agents.CodeUnavailable,
			"provider %s stopped with %s, but the request declares no tools: not an answer; message %s", provider, row.StopReason, mr.ID)
	default:
		return storage.AIAnswer{}, agents.Errorf(agents.CodeUnavailable,
			"provider %s stopped with %q, which its documentation does not list; message %s", provider, row.StopReason, mr.ID)
	}
	return row, nil
}

// output reports a stored (or just stored) answer against its prompt.
func (a *Claude) output(c *agents.Call, p *prompt, row storage.AIAnswer) AnswerOutput {
	out := AnswerOutput{Answer: row.Answer, Status: row.Status, Model: row.Model, MessageID: row.MessageID, StopReason: row.StopReason,
		InputTokens: row.InputTokens, OutputTokens: row.OutputTokens, MaxTokens: row.MaxTokens, PromptHash: row.PromptHash,
		InputsUsed: p.used}
	switch row.Status {
	case StatusTruncated:
		out.Truncated = true
		out.TruncatedReason = fmt.Sprintf("the answer stopped with %s after %d output tokens (max_tokens %d): it is cut off; raise max_tokens or pass fewer inputs",
			row.StopReason, row.OutputTokens, row.MaxTokens)
	case StatusRefused:
		out.Refused = true
		out.RefusedReason = "the model declined to answer (stop reason refusal); nothing it wrote is reported as an answer"
		out.RefusalText, out.Answer = row.Answer, ""
	}
	g := p.ground(out.Answer)
	out.Citations, out.UnsentCitations, out.UngroundedNumbers = g.citations, g.unsent, g.ungrounded
	out.Provenance = c.Provenance(
		"answer of the model over the Anthropic Messages API to a prompt carrying the inputs' figures as path = value lines, told to use only those and cite each by its path",
		"figures are the inputs' as sent; the answer's citations are checked against the paths sent, and its numbers against the figures sent at the precision written (percentages, bp and thousands to trillions scaled, signs ignored)")
	out.Provenance.Source = fmt.Sprintf("%s model %s, message %s", a.client.Name(), row.Model, row.MessageID)
	return out
}
