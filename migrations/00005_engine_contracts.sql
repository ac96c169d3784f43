-- Pinned pattern versions and dead letters of step results.

-- +goose Up
-- Every pattern version a run was accepted with, by content hash, so that
-- every later decision of the run (after a restart with edited pattern
-- files, a replay, another process of a rolling deploy) uses that version.
CREATE TABLE pattern_versions (
    hash       text        PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
    pattern_id text        NOT NULL,
    version    text        NOT NULL DEFAULT '',
    document   jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pattern_versions_pattern ON pattern_versions (pattern_id, created_at DESC);

-- Runs accepted before this migration name versions that were never
-- stored; the key holds for every run from now on.
ALTER TABLE runs ADD CONSTRAINT runs_pattern_version
    FOREIGN KEY (pattern_hash) REFERENCES pattern_versions (hash) NOT VALID;

-- A dead letter is of a step request, or of a step result the
-- orchestrator could not read (which may name no capability).
ALTER TABLE dead_letters ADD COLUMN source text NOT NULL DEFAULT 'step'
    CHECK (source IN ('step', 'result'));
ALTER TABLE dead_letters ADD CONSTRAINT dead_letters_capability_of_steps
    CHECK (source = 'result' OR capability <> '');
