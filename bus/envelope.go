package bus

import (
	"encoding/json"
	"strconv"
	"time"
)

// EnvelopeVersion is the version of every envelope this code writes.
const EnvelopeVersion = 1

// Header and metadata keys, declared once.
const (
	HeaderCorrelationID = "X-Correlation-ID"
	HeaderTraceparent   = "traceparent"
	HeaderMsgID         = "Nats-Msg-Id"
	metaRunID           = "run_id"
	// metaDelivered carries JetStream's delivery count of a message.
	metaDelivered = "delivered"
)

// StepRequest asks a capability's handler to run one step of a run.
type StepRequest struct {
	Version    int             `json:"version"`
	RunID      string          `json:"run_id"`
	StepID     string          `json:"step_id"`
	Attempt    int             `json:"attempt"`
	Capability string          `json:"capability"`
	Args       json.RawMessage `json:"args"`
	// Context is the run's context (pack, as-of date, ledger hash, user),
	// carried as the orchestrator stored it; the bus does not read it.
	Context       json.RawMessage `json:"context"`
	CorrelationID string          `json:"correlation_id"`
	Deadline      time.Time       `json:"deadline"`
}

// MsgID is the JetStream de-duplication id of a request or its result.
func (r StepRequest) MsgID() string { return r.RunID + "/" + r.StepID + "/" + strconv.Itoa(r.Attempt) }

// StepError is a failure as it travels on the bus.
type StepError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Retryable bool   `json:"retryable"`
	Field     string `json:"field,omitempty"`
	// Counted says whether the failure counts towards the breaker; it is
	// decided where the error is classified and does not travel.
	Counted bool `json:"-"`
}

func (e *StepError) Error() string { return e.Code + ": " + e.Message }

// StepResult answers a StepRequest.
type StepResult struct {
	Version    int             `json:"version"`
	RunID      string          `json:"run_id"`
	StepID     string          `json:"step_id"`
	Attempt    int             `json:"attempt"`
	Capability string          `json:"capability"`
	OK         bool            `json:"ok"`
	Output     json.RawMessage `json:"output,omitempty"`
	Error      *StepError      `json:"error,omitempty"`
	// DeadLetterID is set when the step was dead-lettered.
	DeadLetterID string          `json:"dead_letter_id,omitempty"`
	Tries        int             `json:"tries"`
	StartedAt    time.Time       `json:"started_at"`
	DurationMS   float64         `json:"duration_ms"`
	Agent        string          `json:"agent"`
	Provenance   json.RawMessage `json:"provenance,omitempty"`
}

// DeadLetter is what the dead-letter middleware records and publishes.
type DeadLetter struct {
	Version    int    `json:"version"`
	ID         string `json:"id"`
	Capability string `json:"capability,omitempty"`
	// ClaimedRunID is the run id a message named when no such run exists.
	ClaimedRunID string `json:"claimed_run_id,omitempty"`
	// Source says what was dead-lettered: a step request, or a step result
	// the orchestrator could not read.
	Source        string          `json:"source"`
	Reason        string          `json:"reason"`
	Request       *StepRequest    `json:"request,omitempty"`
	RawPayload    []byte          `json:"raw_payload,omitempty"`
	Error         StepError       `json:"error"`
	Tries         int             `json:"tries"`
	CorrelationID string          `json:"correlation_id,omitempty"`
	CreatedAt     time.Time       `json:"created_at"`
	Extra         json.RawMessage `json:"extra,omitempty"`
}

// Dead-letter sources, matching the dead_letters.source check constraint.
const (
	SourceStep   = "step"
	SourceResult = "result"
)

// dlqToken is the subject token a dead letter is published under: its
// capability, or "results" for a result that names none. Capability names
// have a dot, so "results" cannot be one.
func (d DeadLetter) dlqToken() string {
	if d.Capability != "" {
		return d.Capability
	}
	return "results"
}

// Dead-letter reasons, matching the dead_letters.reason check constraint.
const (
	ReasonExhausted   = "exhausted"
	ReasonFinalError  = "final_error"
	ReasonCircuitOpen = "circuit_open"
	ReasonUndecodable = "undecodable"
	// ReasonOversized: the message was larger than the configured limit;
	// the dead letter keeps its size and a bounded prefix.
	ReasonOversized = "oversized"
	// ReasonUnknownRun: a result for a run the database does not hold.
	ReasonUnknownRun = "unknown_run"
)

// RunEvent is published on dawsos.run.<run_id>.<type> for every state change.
type RunEvent struct {
	Version int             `json:"version"`
	RunID   string          `json:"run_id"`
	Seq     int64           `json:"seq"`
	Type    string          `json:"type"`
	StepID  string          `json:"step_id,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
	At      time.Time       `json:"at"`
}
