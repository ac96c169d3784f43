package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Queries of the report files runs produce (the files table): the reports
// agent stores them, GET /v1/files/{id} serves them and a run's document
// lists them.

// File is one stored file. Content is nil when only the metadata was read.
type File struct {
	ID uuid.UUID
	// RunID is uuid.Nil for a file stored outside a run.
	RunID  uuid.UUID
	StepID string
	// OwnerID is uuid.Nil when the file has no owner.
	OwnerID   uuid.UUID
	Name      string
	MediaType string
	Size      int64
	// SHA256 is the hex SHA-256 of the content.
	SHA256    string
	Content   []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// UpsertFile stores a file on its natural key (run, step, name): a step
// that runs again for the same run (a replay, a redelivery) replaces the
// content of its file and keeps the file's id, so it stores one file, not
// two. f.ID is used for a new row only; the id, size and times of the row
// are returned. The size and hash are checked by the table against the
// content, so a mismatch is an error, never a wrong download.
func UpsertFile(ctx context.Context, q Querier, f File) (File, error) {
	if f.ID == uuid.Nil {
		f.ID = uuid.New()
	}
	f.Size = int64(len(f.Content))
	err := q.QueryRow(ctx, `INSERT INTO files (id, run_id, step_id, owner_id, name, media_type, size, sha256, content)
		VALUES ($1, $2, $3, (SELECT id FROM users WHERE id = $4), $5, $6, $7, $8, $9)
		ON CONFLICT (run_id, step_id, name) DO UPDATE SET owner_id = EXCLUDED.owner_id, media_type = EXCLUDED.media_type,
			size = EXCLUDED.size, sha256 = EXCLUDED.sha256, content = EXCLUDED.content, updated_at = now()
		RETURNING id, created_at, updated_at`,
		f.ID, optUUID(f.RunID), f.StepID, optUUID(f.OwnerID), f.Name, f.MediaType, f.Size, f.SHA256, f.Content,
	).Scan(&f.ID, &f.CreatedAt, &f.UpdatedAt)
	if err != nil {
		return File{}, fmt.Errorf("store file %q of run %s step %s: %w", f.Name, f.RunID, f.StepID, err)
	}
	return f, nil
}

// GetFile reads a file with its content; an unknown id is an error
// wrapping ErrNotFound.
func GetFile(ctx context.Context, q Querier, id uuid.UUID) (File, error) {
	f, err := scanFile(q.QueryRow(ctx, `SELECT `+fileColumns+`, content FROM files WHERE id = $1`, id), true)
	if errors.Is(err, pgx.ErrNoRows) {
		return File{}, fmt.Errorf("file %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return File{}, fmt.Errorf("read file %s: %w", id, err)
	}
	return f, nil
}

// RunFiles lists the files of a run without their content, in the order
// they were first stored.
func RunFiles(ctx context.Context, q Querier, runID string) ([]File, error) {
	rows, err := q.Query(ctx, `SELECT `+fileColumns+` FROM files WHERE run_id = $1::uuid ORDER BY created_at, step_id, name`, runID)
	if err != nil {
		return nil, fmt.Errorf("list files of run %s: %w", runID, err)
	}
	fs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (File, error) { return scanFile(r, false) })
	if err != nil {
		return nil, fmt.Errorf("list files of run %s: %w", runID, err)
	}
	return fs, nil
}

const fileColumns = `id, coalesce(run_id, '00000000-0000-0000-0000-000000000000'), step_id,
	coalesce(owner_id, '00000000-0000-0000-0000-000000000000'), name, media_type, size, sha256, created_at, updated_at`

func scanFile(r pgx.Row, content bool) (File, error) {
	var f File
	dst := []any{&f.ID, &f.RunID, &f.StepID, &f.OwnerID, &f.Name, &f.MediaType, &f.Size, &f.SHA256, &f.CreatedAt, &f.UpdatedAt}
	if content {
		dst = append(dst, &f.Content)
	}
	err := r.Scan(dst...)
	return f, err
}
