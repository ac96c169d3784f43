-- Dead letters of messages that name no run in the database, and of
-- messages too large to keep whole: whatever arrives on a subject the engine
-- consumes is either applied or recorded, never lost silently.

-- +goose Up
-- The run id a message claimed when it names no run here (or is not a
-- uuid); run_id stays NULL for such a row, so its foreign key holds.
ALTER TABLE dead_letters ADD COLUMN claimed_run_id text;

ALTER TABLE dead_letters DROP CONSTRAINT dead_letters_reason_check;
ALTER TABLE dead_letters ADD CONSTRAINT dead_letters_reason_check
    CHECK (reason IN ('exhausted', 'final_error', 'circuit_open', 'undecodable', 'oversized', 'unknown_run'));

ALTER TABLE dead_letters DROP CONSTRAINT dead_letters_check;
ALTER TABLE dead_letters ADD CONSTRAINT dead_letters_run_or_reason
    CHECK (run_id IS NOT NULL OR claimed_run_id IS NOT NULL OR reason IN ('undecodable', 'oversized'));

-- At-least-once delivery may dead-letter an orphan twice; it is one row.
CREATE UNIQUE INDEX dead_letters_orphan_attempt ON dead_letters (claimed_run_id, step_id, attempt, source)
    WHERE run_id IS NULL AND claimed_run_id IS NOT NULL;
