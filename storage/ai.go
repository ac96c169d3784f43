package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Queries of the claude agent's answers (the ai_answers table): each
// answer of a model provider stored with its model, prompt hash, token
// counts and stop reason, one per run step.

// AI answer statuses, the verdict of the stop reason.
const (
	AIComplete  = "complete"
	AITruncated = "truncated"
	AIRefused   = "refused"
)

// AIAnswer is one ai_answers row.
type AIAnswer struct {
	ID int64
	// RunID is uuid.Nil for an answer given outside a run.
	RunID        uuid.UUID
	StepID       string
	Capability   string
	Provider     string
	Model        string
	MessageID    string
	PromptHash   string
	MaxTokens    int
	Answer       string
	Status       string
	StopReason   string
	InputTokens  int
	OutputTokens int
	AnsweredAt   time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// UpsertAIAnswer stores an answer on its natural key (run, step): a step
// that runs again for the same run (a replay, a redelivery) replaces its
// answer and keeps the row's id. An answer outside a run (RunID uuid.Nil)
// is always a new row. The id and times of the row are returned.
func UpsertAIAnswer(ctx context.Context, q Querier, a AIAnswer) (AIAnswer, error) {
	err := q.QueryRow(ctx, `INSERT INTO ai_answers (run_id, step_id, capability, provider, model, message_id, prompt_hash,
			max_tokens, answer, status, stop_reason, input_tokens, output_tokens, answered_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (run_id, step_id) DO UPDATE SET capability = EXCLUDED.capability, provider = EXCLUDED.provider,
			model = EXCLUDED.model, message_id = EXCLUDED.message_id, prompt_hash = EXCLUDED.prompt_hash,
			max_tokens = EXCLUDED.max_tokens, answer = EXCLUDED.answer, status = EXCLUDED.status,
			stop_reason = EXCLUDED.stop_reason, input_tokens = EXCLUDED.input_tokens,
			output_tokens = EXCLUDED.output_tokens, answered_at = EXCLUDED.answered_at, updated_at = now()
		RETURNING id, created_at, updated_at`,
		optUUID(a.RunID), a.StepID, a.Capability, a.Provider, a.Model, a.MessageID, a.PromptHash,
		a.MaxTokens, a.Answer, a.Status, a.StopReason, a.InputTokens, a.OutputTokens, a.AnsweredAt,
	).Scan(&a.ID, &a.CreatedAt, &a.UpdatedAt)
	if err != nil {
		return AIAnswer{}, fmt.Errorf("store the %s answer of run %s step %s: %w", a.Capability, a.RunID, a.StepID, err)
	}
	return a, nil
}

// GetAIAnswer reads the answer stored for a run's step; ok is false when
// there is none.
func GetAIAnswer(ctx context.Context, q Querier, runID uuid.UUID, stepID string) (a AIAnswer, ok bool, err error) {
	err = q.QueryRow(ctx, `SELECT id, run_id, step_id, capability, provider, model, message_id, prompt_hash, max_tokens,
			answer, status, stop_reason, input_tokens, output_tokens, answered_at, created_at, updated_at
		FROM ai_answers WHERE run_id = $1 AND step_id = $2`, runID, stepID,
	).Scan(&a.ID, &a.RunID, &a.StepID, &a.Capability, &a.Provider, &a.Model, &a.MessageID, &a.PromptHash, &a.MaxTokens,
		&a.Answer, &a.Status, &a.StopReason, &a.InputTokens, &a.OutputTokens, &a.AnsweredAt, &a.CreatedAt, &a.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return AIAnswer{}, false, nil
	}
	if err != nil {
		return AIAnswer{}, false, fmt.Errorf("read the answer of run %s step %s: %w", runID, stepID, err)
	}
	return a, true, nil
}
