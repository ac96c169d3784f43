-- Authentication and the audit trail: login sessions with their rotating
-- refresh tokens, personal API keys, and what audit_log needs to say who
-- did what with which outcome. Refresh tokens and API keys are stored as
-- the SHA-256 of a 256-bit random secret, never the secret itself;
-- passwords stay bcrypt hashes in users.

-- +goose Up
-- Every audited request has an outcome, and its correlation id leads to
-- the request in the logs.
ALTER TABLE audit_log ADD COLUMN outcome text NOT NULL DEFAULT 'ok'
    CHECK (outcome IN ('ok', 'denied', 'failed'));
ALTER TABLE audit_log ADD COLUMN correlation_id text;
CREATE INDEX audit_log_action_at ON audit_log (action, at DESC);

-- A session is one login; its refresh tokens form a family. A refresh
-- token is used once: using it gives the next one, and using a used one
-- again revokes the whole session (a stolen token and its thief's copies
-- die together).
CREATE TABLE auth_sessions (
    id             uuid        PRIMARY KEY,
    user_id        uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoked_reason text        CHECK (revoked_reason IN ('logout', 'reuse', 'deactivated')),
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
    token_hash bytea       PRIMARY KEY CHECK (length(token_hash) = 32),
    session_id uuid        NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at    timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- API keys for machines: shown once, scoped to a role no higher than their
-- owner's (checked again at every use, so a demoted owner's keys shrink
-- with them), revocable.
CREATE TABLE api_keys (
    id           uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL CHECK (name <> '' AND length(name) <= 100),
    -- The key's first characters, so its owner can tell keys apart.
    prefix       text        NOT NULL,
    key_hash     bytea       NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    role         text        NOT NULL CHECK (role IN ('VIEWER', 'USER', 'MANAGER', 'ADMIN')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_user_created ON api_keys (user_id, created_at DESC);

-- Runs and dead letters are listed per submitter.
CREATE INDEX runs_user_created ON runs (user_id, created_at DESC) WHERE user_id IS NOT NULL;
