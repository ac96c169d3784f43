-- The answers of the claude agent (Anthropic Messages API), stored with
-- what produced them: the model, a hash of the exact request, the token
-- counts and the stop reason. A step stores one answer: the natural key
-- (run, step) makes a replayed or redelivered step update its row instead
-- of adding another, and a redelivery with the same prompt reuses it
-- instead of asking the model again.

-- +goose Up
CREATE TABLE ai_answers (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- NULL for an answer given outside a run (a capability called on its
    -- own); such rows have no natural key, as NULLs never conflict.
    run_id        uuid        REFERENCES runs (id) ON DELETE CASCADE,
    step_id       text        NOT NULL DEFAULT '',
    capability    text        NOT NULL CHECK (capability ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
    provider      text        NOT NULL CHECK (provider ~ '^[a-z][a-z0-9_]*$'),
    -- The model that answered, as the API names it in its response.
    model         text        NOT NULL CHECK (model <> ''),
    message_id    text        NOT NULL CHECK (message_id <> ''),
    -- sha256 (hex) of the request body sent: model, max_tokens, system
    -- prompt and messages, so the prompt of an answer can be recognised.
    prompt_hash   text        NOT NULL CHECK (prompt_hash ~ '^[0-9a-f]{64}$'),
    max_tokens    int         NOT NULL CHECK (max_tokens > 0),
    -- The text the model returned, also when it is cut off or a refusal.
    answer        text        NOT NULL,
    status        text        NOT NULL CHECK (status IN ('complete', 'truncated', 'refused')),
    stop_reason   text        NOT NULL,
    input_tokens  int         NOT NULL CHECK (input_tokens >= 0),
    output_tokens int         NOT NULL CHECK (output_tokens >= 0),
    answered_at   timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_id, step_id),
    -- The status is the stop reason's verdict, never chosen apart from it.
    CONSTRAINT ai_answers_status_follows_stop_reason CHECK (
        (status = 'complete' AND stop_reason IN ('end_turn', 'stop_sequence')) OR
        (status = 'truncated' AND stop_reason IN ('max_tokens', 'model_context_window_exceeded')) OR
        (status = 'refused' AND stop_reason = 'refusal'))
);
CREATE INDEX ai_answers_capability_created ON ai_answers (capability, created_at DESC);
