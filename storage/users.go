package storage

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// UserExists reports whether a user has the id, active or not: a portfolio
// may be created for any user, and the HTTP layer answers a missing owner
// with a field problem rather than a foreign-key error.
func UserExists(ctx context.Context, q Querier, id uuid.UUID) (bool, error) {
	var ok bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, id).Scan(&ok); err != nil {
		return false, fmt.Errorf("look up user %s: %w", id, err)
	}
	return ok, nil
}
