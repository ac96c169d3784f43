-- Report files (PDF, xlsx, CSV) that runs produce, stored whole and served
-- by GET /v1/files/{id}. A step stores each of its files once: the natural
-- key (run, step, name) makes a replayed or redelivered step update its
-- row instead of adding another.

-- +goose Up
CREATE TABLE files (
    id         uuid        PRIMARY KEY,
    -- NULL for a file stored outside a run (a capability called on its
    -- own); such files have no natural key, as NULLs never conflict.
    run_id     uuid        REFERENCES runs (id) ON DELETE CASCADE,
    step_id    text        NOT NULL DEFAULT '',
    owner_id   uuid        REFERENCES users (id) ON DELETE SET NULL,
    -- The download name: no path separator, quote or control character, so
    -- it goes into Content-Disposition as it is.
    name       text        NOT NULL CHECK (name <> '' AND length(name) <= 255 AND name !~ '[/\\"[:cntrl:]]'),
    media_type text        NOT NULL CHECK (media_type ~ '^[a-z]+/[a-z0-9.+-]+(; ?[a-z]+=[a-z0-9-]+)*$'),
    size       bigint      NOT NULL CHECK (size = octet_length(content)),
    sha256     text        NOT NULL CHECK (sha256 = encode(sha256(content), 'hex')),
    content    bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_id, step_id, name)
);
CREATE INDEX files_owner_created ON files (owner_id, created_at DESC) WHERE owner_id IS NOT NULL;
