package claude

import (
	"errors"
	"fmt"
	"net/http"
)

// The Anthropic Messages API as documented (docs.anthropic.com, "Messages"):
// POST {base}/v1/messages with the headers x-api-key (the key),
// anthropic-version: 2023-06-01 and content-type: application/json, and a
// JSON body naming the model, max_tokens, an optional system prompt and the
// conversation. The answer is one JSON message object. Only the fields the
// agent reads are declared; the API adds fields without notice, and
// DecodeProviderJSON ignores the others.

const (
	messagesPath = "/v1/messages"
	// apiVersion is the anthropic-version header the body follows.
	apiVersion = "2023-06-01"
	keyHeader  = "x-api-key"
)

// messagesRequest is the body of POST /v1/messages. Field order is the
// order of the JSON, so the body (and its hash) is the same for the same
// prompt.
type messagesRequest struct {
	Model     string    `json:"model"`
	MaxTokens int       `json:"max_tokens"`
	System    string    `json:"system,omitempty"`
	Messages  []message `json:"messages"`
}

// message is one turn; content is a plain string (the API also takes an
// array of blocks, which the agent does not need).
type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// messagesResponse is the documented answer: a message object.
type messagesResponse struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	Role       string         `json:"role"`
	Model      string         `json:"model"`
	Content    []contentBlock `json:"content"`
	StopReason *string        `json:"stop_reason"`
	Usage      *usage         `json:"usage"`
}

// contentBlock is one block of the answer; text blocks carry Text.
type contentBlock struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type usage struct {
	InputTokens  *int `json:"input_tokens"`
	OutputTokens *int `json:"output_tokens"`
}

// Check is what the documentation promises of every message object.
func (r *messagesResponse) Check() error {
	var errs []error
	if r.Type != "message" {
		errs = append(errs, fmt.Errorf("type is %q, not message", r.Type))
	}
	if r.Role != "assistant" {
		errs = append(errs, fmt.Errorf("role is %q, not assistant", r.Role))
	}
	if r.ID == "" || r.Model == "" {
		errs = append(errs, errors.New("id or model is missing"))
	}
	if r.Content == nil {
		errs = append(errs, errors.New("content is missing"))
	}
	if r.StopReason == nil || *r.StopReason == "" {
		errs = append(errs, errors.New("stop_reason is missing"))
	}
	if r.Usage == nil || r.Usage.InputTokens == nil || r.Usage.OutputTokens == nil || *r.Usage.InputTokens < 0 || *r.Usage.OutputTokens < 0 {
		errs = append(errs, errors.New("usage.input_tokens or usage.output_tokens is missing or negative"))
	}
	for i, b := range r.Content {
		if b.Type == "" {
			errs = append(errs, fmt.Errorf("content[%d] has no type", i))
		}
	}
	return errors.Join(errs...)
}

// Stop reasons the API documents.
const (
	stopEndTurn        = "end_turn"
	stopSequence       = "stop_sequence"
	stopMaxTokens      = "max_tokens"
	stopContextWindow  = "model_context_window_exceeded"
	stopRefusal        = "refusal"
	stopToolUse        = "tool_use"
	stopPauseTurn      = "pause_turn"
	blockText          = "text"
	blockThinking      = "thinking"
	blockRedactedThink = "redacted_thinking"
)

// requestHeader is the header of every request besides the key.
func requestHeader() http.Header {
	return http.Header{"Anthropic-Version": {apiVersion}, "Content-Type": {"application/json"}}
}
