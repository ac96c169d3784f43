package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Why a session was revoked (auth_sessions.revoked_reason).
const (
	SessionLoggedOut   = "logout"
	SessionReused      = "reuse"
	SessionDeactivated = "deactivated"
)

// CreateSession starts a login session for a user with its first refresh
// token (stored by hash), until expires.
func CreateSession(ctx context.Context, q Querier, id, userID uuid.UUID, expires time.Time, refreshHash []byte) error {
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO auth_sessions (id, user_id, expires_at) VALUES ($1, $2, $3)`, id, userID, expires)
	b.Queue(`INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)`, refreshHash, id)
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("create session for user %s: %w", userID, err)
	}
	return nil
}

// RefreshUse is a refresh token presented for rotation, with its session
// and user as they are now.
type RefreshUse struct {
	SessionID uuid.UUID
	UserID    uuid.UUID
	Email     string
	Role      string
	Active    bool
	// Used says the token was rotated before: presenting it again is a
	// reuse.
	Used      bool
	Revoked   bool
	ExpiresAt time.Time
}

// LockRefreshToken finds a refresh token by hash and locks it, so that two
// concurrent rotations of one token are serialised and the second sees it
// used; ErrNotFound when no token has the hash.
func LockRefreshToken(ctx context.Context, q Querier, hash []byte) (RefreshUse, error) {
	var r RefreshUse
	err := q.QueryRow(ctx, `SELECT s.id, u.id, u.email, u.role, u.active, t.used_at IS NOT NULL, s.revoked_at IS NOT NULL, s.expires_at
		FROM refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id JOIN users u ON u.id = s.user_id
		WHERE t.token_hash = $1 FOR UPDATE OF t`, hash).
		Scan(&r.SessionID, &r.UserID, &r.Email, &r.Role, &r.Active, &r.Used, &r.Revoked, &r.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("refresh token: %w", ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("look up refresh token: %w", err)
	}
	return r, nil
}

// RotateRefreshToken marks a token used and stores its successor in the
// same session.
func RotateRefreshToken(ctx context.Context, q Querier, oldHash, newHash []byte, sessionID uuid.UUID) error {
	b := &pgx.Batch{}
	b.Queue(`UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1`, oldHash)
	b.Queue(`INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)`, newHash, sessionID)
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("rotate refresh token of session %s: %w", sessionID, err)
	}
	return nil
}

// SessionOfRefreshToken returns the session and user of a refresh token;
// ErrNotFound when no token has the hash.
func SessionOfRefreshToken(ctx context.Context, q Querier, hash []byte) (session, user uuid.UUID, err error) {
	err = q.QueryRow(ctx, `SELECT s.id, s.user_id FROM refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id
		WHERE t.token_hash = $1`, hash).Scan(&session, &user)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, uuid.Nil, fmt.Errorf("refresh token: %w", ErrNotFound)
	}
	if err != nil {
		return uuid.Nil, uuid.Nil, fmt.Errorf("look up refresh token: %w", err)
	}
	return session, user, nil
}

// RevokeSession revokes one session (and so every refresh token of its
// family); it reports whether the session was live.
func RevokeSession(ctx context.Context, q Querier, id uuid.UUID, reason string) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $2
		WHERE id = $1 AND revoked_at IS NULL`, id, reason)
	if err != nil {
		return false, fmt.Errorf("revoke session %s: %w", id, err)
	}
	return tag.RowsAffected() > 0, nil
}

// RevokeUserSessions revokes every live session of a user and returns how
// many there were.
func RevokeUserSessions(ctx context.Context, q Querier, userID uuid.UUID, reason string) (int64, error) {
	tag, err := q.Exec(ctx, `UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $2
		WHERE user_id = $1 AND revoked_at IS NULL`, userID, reason)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions of user %s: %w", userID, err)
	}
	return tag.RowsAffected(), nil
}

// APIKey is a row of api_keys without its hash.
type APIKey struct {
	ID         uuid.UUID  `json:"id"`
	UserID     uuid.UUID  `json:"user_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Role       string     `json:"role"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

const apiKeyColumns = `id, user_id, name, prefix, role, created_at, expires_at, last_used_at, revoked_at`

func scanAPIKey(row pgx.Row) (APIKey, error) {
	var k APIKey
	err := row.Scan(&k.ID, &k.UserID, &k.Name, &k.Prefix, &k.Role, &k.CreatedAt, &k.ExpiresAt, &k.LastUsedAt, &k.RevokedAt)
	return k, err
}

// CreateAPIKey stores a key by the hash of its secret and returns it as
// stored.
func CreateAPIKey(ctx context.Context, q Querier, k APIKey, hash []byte) (APIKey, error) {
	if k.ID == uuid.Nil {
		k.ID = uuid.New()
	}
	out, err := scanAPIKey(q.QueryRow(ctx, `INSERT INTO api_keys (id, user_id, name, prefix, key_hash, role, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+apiKeyColumns, k.ID, k.UserID, k.Name, k.Prefix, hash, k.Role, k.ExpiresAt))
	if err != nil {
		return APIKey{}, fmt.Errorf("create api key %q of user %s: %w", k.Name, k.UserID, err)
	}
	return out, nil
}

// ListAPIKeys returns a user's keys, newest first, revoked ones included.
func ListAPIKeys(ctx context.Context, q Querier, userID uuid.UUID) ([]APIKey, error) {
	rows, err := q.Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list api keys of user %s: %w", userID, err)
	}
	out, err := collect(rows, scanAPIKey)
	if err != nil {
		return nil, fmt.Errorf("list api keys of user %s: %w", userID, err)
	}
	return out, nil
}

// RevokeAPIKey revokes a key (again is a no-op) and returns it;
// ErrNotFound when there is no such key.
func RevokeAPIKey(ctx context.Context, q Querier, id uuid.UUID) (APIKey, error) {
	k, err := scanAPIKey(q.QueryRow(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
		WHERE id = $1 RETURNING `+apiKeyColumns, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return APIKey{}, fmt.Errorf("api key %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("revoke api key %s: %w", id, err)
	}
	return k, nil
}

// CredentialState is what a request's credential says about its caller
// now: the user's current role and whether they may still act, and for an
// API key its own role and whether it is still valid.
type CredentialState struct {
	UserID uuid.UUID
	Email  string
	// Role is the user's current role.
	Role string
	// Usable is false when the user is inactive, the token's session was
	// revoked or has expired, or the key was revoked or has expired.
	Usable bool
	// KeyID and KeyRole are set for an API key.
	KeyID   uuid.UUID
	KeyRole string
}

// TokenState reads the state behind an access token: its user and, when
// the token belongs to a login session, that session. ErrNotFound when the
// user does not exist.
func TokenState(ctx context.Context, q Querier, userID, sessionID uuid.UUID) (CredentialState, error) {
	var sid *uuid.UUID
	if sessionID != uuid.Nil {
		sid = &sessionID
	}
	st := CredentialState{UserID: userID}
	err := q.QueryRow(ctx, `SELECT u.email, u.role,
			u.active AND ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM auth_sessions s
				WHERE s.id = $2 AND s.user_id = u.id AND s.revoked_at IS NULL AND s.expires_at > now()))
		FROM users u WHERE u.id = $1`, userID, sid).Scan(&st.Email, &st.Role, &st.Usable)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, fmt.Errorf("user %s: %w", userID, ErrNotFound)
	}
	if err != nil {
		return st, fmt.Errorf("read the state of user %s: %w", userID, err)
	}
	return st, nil
}

// KeyState reads the state behind an API key by the hash of its secret,
// and notes its use (at most once a minute, so a busy key does not write
// on every request). ErrNotFound when no key has the hash.
func KeyState(ctx context.Context, q Querier, hash []byte) (CredentialState, error) {
	var st CredentialState
	err := q.QueryRow(ctx, `WITH k AS (
			SELECT id, user_id, role, revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) AS live
			FROM api_keys WHERE key_hash = $1
		), touched AS (
			UPDATE api_keys SET last_used_at = now()
			WHERE key_hash = $1 AND revoked_at IS NULL AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
		)
		SELECT k.id, k.role, u.id, u.email, u.role, k.live AND u.active FROM k JOIN users u ON u.id = k.user_id`, hash).
		Scan(&st.KeyID, &st.KeyRole, &st.UserID, &st.Email, &st.Role, &st.Usable)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, fmt.Errorf("api key: %w", ErrNotFound)
	}
	if err != nil {
		return st, fmt.Errorf("read the state of an api key: %w", err)
	}
	return st, nil
}

// Kinds of owned object, for OwnerOf.
const (
	OwnedPortfolio  = "portfolio"
	OwnedRun        = "run"
	OwnedDeadLetter = "dead_letter"
	OwnedFile       = "file"
	OwnedAPIKey     = "api_key"
)

// ownerQueries find who owns an object: a portfolio's owner, the user who
// submitted a run, the submitter of a dead letter's or a file's run (a
// file made outside a run belongs to its owner), an API key's user. ""
// means nobody (a run submitted before users existed, the dead letter of
// a message that named no run): only an ADMIN sees such objects.
var ownerQueries = map[string]string{
	OwnedPortfolio:  `SELECT owner_id::text FROM portfolios WHERE id = $1`,
	OwnedRun:        `SELECT coalesce(user_id, '') FROM runs WHERE id = $1`,
	OwnedDeadLetter: `SELECT coalesce(r.user_id, '') FROM dead_letters d LEFT JOIN runs r ON r.id = d.run_id WHERE d.id = $1`,
	OwnedFile:       `SELECT coalesce(r.user_id, f.owner_id::text, '') FROM files f LEFT JOIN runs r ON r.id = f.run_id WHERE f.id = $1`,
	OwnedAPIKey:     `SELECT user_id::text FROM api_keys WHERE id = $1`,
}

// OwnerOf returns the id of the user who owns the object of a kind, "" for
// nobody; found is false when there is no such object.
func OwnerOf(ctx context.Context, q Querier, kind string, id uuid.UUID) (owner string, found bool, err error) {
	sql, ok := ownerQueries[kind]
	if !ok {
		return "", false, fmt.Errorf("owner of %s %s: no such kind of object", kind, id)
	}
	err = q.QueryRow(ctx, sql, id).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("look up the owner of %s %s: %w", kind, id, err)
	}
	return owner, true, nil
}
