package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Roles of users and API keys, lowest first; each may do what the ones
// before it may.
const (
	RoleViewer  = "VIEWER"
	RoleUser    = "USER"
	RoleManager = "MANAGER"
	RoleAdmin   = "ADMIN"
)

// ErrLastAdmin refuses a change that would leave no active ADMIN, after
// which nobody could manage users any more.
var ErrLastAdmin = errors.New("storage: the change would leave no active ADMIN")

// User is a row of users. PasswordHash is a bcrypt hash and never leaves
// the process.
type User struct {
	ID           uuid.UUID `json:"id"`
	Email        string    `json:"email"`
	PasswordHash string    `json:"-"`
	Role         string    `json:"role"`
	Active       bool      `json:"active"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

const userColumns = `id, email, password_hash, role, active, created_at, updated_at`

func scanUser(row pgx.Row) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Role, &u.Active, &u.CreatedAt, &u.UpdatedAt)
	return u, err
}

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

// CreateUser inserts a user; an email already taken is ErrAlreadyExists.
// The email must already be in lower case (the table checks it).
func CreateUser(ctx context.Context, q Querier, email, passwordHash, role string) (User, error) {
	u, err := scanUser(q.QueryRow(ctx, `INSERT INTO users (id, email, password_hash, role, active)
		VALUES ($1, $2, $3, $4, true) RETURNING `+userColumns, uuid.New(), email, passwordHash, role))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return User{}, fmt.Errorf("create user %s: %w", email, ErrAlreadyExists)
	}
	if err != nil {
		return User{}, fmt.Errorf("create user %s: %w", email, err)
	}
	return u, nil
}

// UserByEmail finds a user by email, active or not; ErrNotFound when none
// has it.
func UserByEmail(ctx context.Context, q Querier, email string) (User, error) {
	u, err := scanUser(q.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, email))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("user %s: %w", email, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("look up user %s: %w", email, err)
	}
	return u, nil
}

// ListUsers returns every user by email.
func ListUsers(ctx context.Context, q Querier) ([]User, error) {
	rows, err := q.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out, err := collect(rows, scanUser)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// UserChange is what an administrator may change of a user; nil fields
// stay as they are.
type UserChange struct {
	Role         *string
	Active       *bool
	PasswordHash *string
}

// UpdateUser applies ch and returns the user as stored: ErrNotFound when
// there is no such user, ErrLastAdmin when the change would leave no
// active ADMIN. Deactivating a user revokes their sessions in the same
// transaction, so their refresh tokens stop working with them.
func UpdateUser(ctx context.Context, q Querier, id uuid.UUID, ch UserChange) (User, error) {
	// Locking the active admins first serialises concurrent changes to
	// them, so two demotions cannot each count the other as the last.
	if _, err := q.Exec(ctx, `SELECT 1 FROM users WHERE role = 'ADMIN' AND active FOR UPDATE`); err != nil {
		return User{}, fmt.Errorf("lock active admins: %w", err)
	}
	u, err := scanUser(q.QueryRow(ctx, `UPDATE users SET role = coalesce($2, role), active = coalesce($3, active),
			password_hash = coalesce($4, password_hash), updated_at = now()
		WHERE id = $1 RETURNING `+userColumns, id, ch.Role, ch.Active, ch.PasswordHash))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("user %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("update user %s: %w", id, err)
	}
	var admins int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = 'ADMIN' AND active`).Scan(&admins); err != nil {
		return User{}, fmt.Errorf("count active admins: %w", err)
	}
	if admins == 0 {
		return User{}, fmt.Errorf("update user %s: %w", id, ErrLastAdmin)
	}
	if !u.Active {
		if _, err := RevokeUserSessions(ctx, q, id, SessionDeactivated); err != nil {
			return User{}, err
		}
	}
	return u, nil
}
