-- The fingerprint of the request a run's idempotency key was first used
-- with, so a key reused with other inputs is refused instead of answered
-- with the first run.

-- +goose Up
ALTER TABLE runs ADD COLUMN request_hash text CHECK (request_hash ~ '^[0-9a-f]{64}$');
