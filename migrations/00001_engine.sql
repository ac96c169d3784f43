-- The engine's own tables: runs, their steps and events, dead letters and
-- replays. PostgreSQL is the system of record; the bus is transport only.

-- +goose Up
CREATE TABLE runs (
    id              uuid PRIMARY KEY,
    pattern         text        NOT NULL,
    pattern_hash    text        NOT NULL,
    status          text        NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'canceled')),
    inputs          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    context         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    correlation_id  text        NOT NULL,
    idempotency_key text,
    user_id         text,
    event_seq       bigint      NOT NULL DEFAULT 0 CHECK (event_seq >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE UNIQUE INDEX runs_idempotency_key ON runs (idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX runs_status_created ON runs (status, created_at DESC);
CREATE INDEX runs_pattern_created ON runs (pattern, created_at DESC);
CREATE INDEX runs_created ON runs (created_at DESC);

CREATE TABLE run_steps (
    run_id      uuid        NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_id     text        NOT NULL,
    seq         int         NOT NULL CHECK (seq >= 0),
    capability  text        NOT NULL,
    status      text        NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'queued', 'succeeded', 'failed', 'dead_lettered', 'skipped', 'canceled')),
    deps        text[]      NOT NULL DEFAULT '{}',
    -- attempt is the dispatch generation: a redispatch after a lost message
    -- or a replay increments it, and a result for an older one is ignored.
    attempt     int         NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    -- tries counts executions of the capability over all attempts,
    -- including retries inside the handler.
    tries       int         NOT NULL DEFAULT 0 CHECK (tries >= 0),
    args        jsonb,
    output      jsonb,
    error       jsonb,
    agent       text,
    provenance  jsonb,
    dispatched_at timestamptz,
    deadline    timestamptz,
    started_at  timestamptz,
    finished_at timestamptz,
    duration_ms double precision CHECK (duration_ms >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, step_id),
    UNIQUE (run_id, seq)
);
-- The recovery loop looks for queued steps whose deadline has passed.
CREATE INDEX run_steps_queued_deadline ON run_steps (deadline) WHERE status = 'queued';

-- run_events is the ordered, gap-free log that SSE streams; an event is
-- written in the same transaction as the state change it reports, so
-- Last-Event-ID resumes exactly.
CREATE TABLE run_events (
    run_id     uuid        NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq        bigint      NOT NULL CHECK (seq > 0),
    type       text        NOT NULL,
    step_id    text,
    data       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE dead_letters (
    id             uuid        PRIMARY KEY,
    run_id         uuid        REFERENCES runs (id) ON DELETE CASCADE,
    step_id        text,
    attempt        int         CHECK (attempt >= 0),
    capability     text        NOT NULL,
    reason         text        NOT NULL
                   CHECK (reason IN ('exhausted', 'final_error', 'circuit_open', 'undecodable')),
    request        jsonb,
    raw_payload    bytea,
    error          jsonb       NOT NULL,
    tries          int         NOT NULL DEFAULT 0 CHECK (tries >= 0),
    correlation_id text,
    status         text        NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'replayed', 'discarded')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    replayed_at    timestamptz,
    CHECK (run_id IS NOT NULL OR reason = 'undecodable'),
    CHECK (request IS NOT NULL OR raw_payload IS NOT NULL)
);
-- At-least-once delivery may dead-letter the same attempt twice; it is one row.
CREATE UNIQUE INDEX dead_letters_step_attempt ON dead_letters (run_id, step_id, attempt) WHERE run_id IS NOT NULL;
CREATE INDEX dead_letters_capability_status ON dead_letters (capability, status, created_at DESC);
CREATE INDEX dead_letters_created ON dead_letters (created_at DESC);

CREATE TABLE replays (
    id             uuid        PRIMARY KEY,
    dead_letter_id uuid        NOT NULL REFERENCES dead_letters (id) ON DELETE CASCADE,
    token          text,
    requested_by   text        NOT NULL,
    args           jsonb,
    attempt        int         NOT NULL CHECK (attempt > 0),
    outcome        text        NOT NULL DEFAULT 'dispatched'
                   CHECK (outcome IN ('dispatched', 'succeeded', 'failed', 'dead_lettered')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz
);
-- A client token makes a replay request idempotent.
CREATE UNIQUE INDEX replays_token ON replays (token) WHERE token IS NOT NULL;
CREATE INDEX replays_dead_letter ON replays (dead_letter_id);

-- No Down section: migrations are additive and never drop user data.
