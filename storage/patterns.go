package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ErrPatternVersionNotFound means no stored pattern version has the hash;
// it is an ErrNotFound.
var ErrPatternVersionNotFound = fmt.Errorf("pattern version %w", ErrNotFound)

// GetPatternVersion returns the document of a stored pattern version.
func GetPatternVersion(ctx context.Context, q Querier, hash string) ([]byte, error) {
	var doc []byte
	err := q.QueryRow(ctx, `SELECT document::text FROM pattern_versions WHERE hash = $1`, hash).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", hash, ErrPatternVersionNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read pattern version %s: %w", hash, err)
	}
	return doc, nil
}
