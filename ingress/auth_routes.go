package ingress

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/patterns"
	"github.com/dawsos/dawsos/storage"
)

// The authentication routes: log in, rotate the refresh token, log out,
// say who the caller is, and manage the caller's API keys.
func (s *Server) registerAuthRoutes(r guardedRouter) {
	r.Post("/auth/login", s.login)
	r.Post("/auth/refresh", s.refresh)
	r.Post("/auth/logout", s.logout)
	r.Get("/auth/me", s.me)
	r.Post("/auth/keys", s.createKey)
	r.Get("/auth/keys", s.listKeys)
	r.Delete("/auth/keys/:id", s.revokeKey)
}

type loginBody struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// Bounds of what a login may send: longer values cannot be an email or a
// password of this server, and bcrypt reads only 72 bytes anyway.
const (
	maxEmailBytes    = 254
	maxPasswordBytes = 1024
)

// userView is a user as the API shows it.
type userView struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Role   string `json:"role"`
	Active *bool  `json:"active,omitempty"`
}

// tokenAnswer is the answer to a login or a refresh.
type tokenAnswer struct {
	AccessToken      string    `json:"access_token"`
	TokenType        string    `json:"token_type"`
	ExpiresIn        int       `json:"expires_in"`
	ExpiresAt        time.Time `json:"expires_at"`
	RefreshToken     string    `json:"refresh_token"`
	RefreshExpiresAt time.Time `json:"refresh_expires_at"`
	User             userView  `json:"user"`
}

func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// errBadLogin is the one answer to a wrong email or a wrong password, so
// the answer never says whether an email has an account.
var errBadLogin = &agents.Error{Code: agents.CodeUnauthenticated, Message: "the email or the password is wrong"}

// login is POST /v1/auth/login {email, password}: an access token and a
// refresh token. An unknown email costs the same bcrypt comparison as a
// known one (against a hash of nothing anyone knows), so neither the
// answer nor its time tells them apart. Failures are counted per email
// and per address; past the limit the answer is 429 with Retry-After.
func (s *Server) login(c *fiber.Ctx) error {
	var body loginBody
	if err := decodeBody(c, &body, false); err != nil {
		return err
	}
	u, err := s.checkLogin(c, body.Email, body.Password)
	if err != nil {
		return err
	}
	return s.startSession(c, u)
}

// checkLogin is the password check of every login, the API's and the
// console's: it returns the user whose email and password these are, or
// the one answer for a wrong pair (or the limiter's 429).
func (s *Server) checkLogin(c *fiber.Ctx, rawEmail, password string) (storage.User, error) {
	email := normalizeEmail(rawEmail)
	if err := checkCredentials(email, password); err != nil {
		return storage.User{}, err
	}
	addr := c.IP()
	if wait, blocked := s.limiter.blocked(email, addr); blocked {
		secs := int(wait.Round(time.Second) / time.Second)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(max(secs, 1)))
		return storage.User{}, agents.Errorf(agents.CodeRateLimited, "too many failed logins for this account or from this address; retry in %d s", max(secs, 1))
	}
	setAuditDetails(c, map[string]any{"email": email})
	ctx := c.UserContext()
	var u storage.User
	err := onConn(ctx, s.deps.DB, func(q storage.Querier) error {
		var err error
		u, err = storage.UserByEmail(ctx, q, email)
		return err
	})
	known := err == nil
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return storage.User{}, err
	}
	hash := s.dummyHash
	if known && u.Active {
		hash = []byte(u.PasswordHash)
	}
	matched := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	if !matched || !known || !u.Active {
		s.limiter.failed(email, addr)
		if known {
			setAuditUser(c, u.ID)
		}
		return storage.User{}, errBadLogin
	}
	s.limiter.succeeded(email)
	setAuditUser(c, u.ID)
	return u, nil
}

// checkCredentials refuses what cannot be a login before any lookup.
func checkCredentials(email, password string) error {
	var issues []agents.FieldIssue
	switch {
	case email == "":
		issues = append(issues, agents.FieldIssue{Field: "email", Code: patterns.FieldMissing, Message: "email is required"})
	case len(email) > maxEmailBytes:
		issues = append(issues, agents.FieldIssue{Field: "email", Code: patterns.FieldInvalid, Message: fmt.Sprintf("email is longer than %d bytes", maxEmailBytes)})
	}
	switch {
	case password == "":
		issues = append(issues, agents.FieldIssue{Field: "password", Code: patterns.FieldMissing, Message: "password is required"})
	case len(password) > maxPasswordBytes:
		issues = append(issues, agents.FieldIssue{Field: "password", Code: patterns.FieldInvalid, Message: fmt.Sprintf("password is longer than %d bytes", maxPasswordBytes)})
	}
	if len(issues) > 0 {
		return invalid("the login is incomplete", issues)
	}
	return nil
}

// startSession opens a login session for u, with its first refresh token,
// and answers both tokens.
func (s *Server) startSession(c *fiber.Ctx, u storage.User) error {
	sessionID, refresh, expires, err := s.openSession(c, u)
	if err != nil {
		return err
	}
	return s.answerTokens(c, u.ID, u.Email, u.Role, sessionID, refresh, expires)
}

// openSession records a login session for u with its first refresh token,
// audited in the same transaction.
func (s *Server) openSession(c *fiber.Ctx, u storage.User) (sessionID uuid.UUID, refresh string, expires time.Time, err error) {
	ctx := c.UserContext()
	sessionID = uuid.New()
	refresh, hash, err := newSecret(refreshTokenPrefix)
	if err != nil {
		return uuid.Nil, "", time.Time{}, err
	}
	expires = time.Now().Add(s.cfg.Auth.RefreshTTL).UTC()
	err = s.deps.DB.Tx(ctx, func(tx pgx.Tx) error {
		if err := storage.CreateSession(ctx, tx, sessionID, u.ID, expires, hash); err != nil {
			return err
		}
		return storage.Audit(ctx, tx, "session:"+sessionID.String())
	})
	if err != nil {
		return uuid.Nil, "", time.Time{}, err
	}
	return sessionID, refresh, expires, nil
}

func (s *Server) answerTokens(c *fiber.Ctx, user uuid.UUID, email, role string, session uuid.UUID, refresh string, refreshExpires time.Time) error {
	access, exp, err := s.cfg.Auth.Signer.Mint(user, role, session, s.cfg.Auth.AccessTTL)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return writeJSON(c, http.StatusOK, tokenAnswer{
		AccessToken: access, TokenType: "Bearer", ExpiresIn: int(s.cfg.Auth.AccessTTL / time.Second), ExpiresAt: exp.UTC(),
		RefreshToken: refresh, RefreshExpiresAt: refreshExpires, User: userView{ID: user.String(), Email: email, Role: role},
	})
}

type refreshBody struct {
	RefreshToken string `json:"refresh_token"`
}

var errBadRefresh = &agents.Error{Code: agents.CodeUnauthenticated, Message: "the refresh token is not valid, was revoked or has expired; log in again"}

// refresh is POST /v1/auth/refresh {refresh_token}: the token is used up
// and answered with a new access token and the next refresh token of the
// same session. A refresh token used a second time means two parties hold
// it: the session is revoked, so the thief's copy and the owner's die
// together, and the owner logs in again.
func (s *Server) refresh(c *fiber.Ctx) error {
	var body refreshBody
	if err := decodeBody(c, &body, false); err != nil {
		return err
	}
	if !strings.HasPrefix(body.RefreshToken, refreshTokenPrefix) {
		return errBadRefresh
	}
	ctx := c.UserContext()
	oldHash := hashSecret(body.RefreshToken)
	next, nextHash, err := newSecret(refreshTokenPrefix)
	if err != nil {
		return err
	}
	var use storage.RefreshUse
	reused := false
	err = s.deps.DB.Tx(ctx, func(tx pgx.Tx) error {
		var err error
		use, err = storage.LockRefreshToken(ctx, tx, oldHash)
		if errors.Is(err, storage.ErrNotFound) {
			return errBadRefresh
		}
		if err != nil {
			return err
		}
		setAuditUser(c, use.UserID)
		resource := "session:" + use.SessionID.String()
		switch {
		case use.Used:
			reused = true
			if _, err := storage.RevokeSession(ctx, tx, use.SessionID, storage.SessionReused); err != nil {
				return err
			}
			setAuditDetails(c, map[string]any{"reuse": true})
			return storage.AuditOutcome(ctx, tx, resource, storage.AuditDenied)
		case use.Revoked || !use.Active || !time.Now().Before(use.ExpiresAt):
			return errBadRefresh
		}
		if err := storage.RotateRefreshToken(ctx, tx, oldHash, nextHash, use.SessionID); err != nil {
			return err
		}
		return storage.Audit(ctx, tx, resource)
	})
	if err != nil {
		return err
	}
	if reused {
		s.auth.forget()
		return unauthenticated("the refresh token was used before, so its session is revoked; log in again")
	}
	return s.answerTokens(c, use.UserID, use.Email, use.Role, use.SessionID, next, use.ExpiresAt.UTC())
}

type logoutBody struct {
	RefreshToken string `json:"refresh_token"`
	// All ends every session of the caller ("log out everywhere").
	All bool `json:"all"`
}

// logout is POST /v1/auth/logout {refresh_token?, all?}: it ends the
// session of the access token used, the session of the refresh token
// given (when it is the caller's), or with all every session of the
// caller. Access tokens of an ended session stop working at once here and
// within the credential cache's lifetime elsewhere.
func (s *Server) logout(c *fiber.Ctx) error {
	var body logoutBody
	if err := decodeBody(c, &body, true); err != nil {
		return err
	}
	if err := s.endSessions(c, principalOf(c), body.RefreshToken, body.All); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// endSessions is every logout's change, the API's and the console's: the
// session of the credential used, the session of refreshToken when it is
// the caller's, and with all every session of the caller.
func (s *Server) endSessions(c *fiber.Ctx, p *Principal, refreshToken string, all bool) error {
	ctx := c.UserContext()
	err := s.deps.DB.Tx(ctx, func(tx pgx.Tx) error {
		if all {
			if _, err := storage.RevokeUserSessions(ctx, tx, p.UserID, storage.SessionLoggedOut); err != nil {
				return err
			}
		}
		if p.SessionID != uuid.Nil {
			if _, err := storage.RevokeSession(ctx, tx, p.SessionID, storage.SessionLoggedOut); err != nil {
				return err
			}
		}
		if refreshToken != "" {
			sid, owner, err := storage.SessionOfRefreshToken(ctx, tx, hashSecret(refreshToken))
			switch {
			case errors.Is(err, storage.ErrNotFound):
				// Nothing to end; the answer does not say so.
			case err != nil:
				return err
			case owner == p.UserID:
				if _, err := storage.RevokeSession(ctx, tx, sid, storage.SessionLoggedOut); err != nil {
					return err
				}
			}
		}
		return storage.Audit(ctx, tx, "")
	})
	if err != nil {
		return err
	}
	s.auth.forget()
	return nil
}

// meView says who the caller is and by which credential.
type meView struct {
	userView
	Via       string `json:"via"`
	KeyID     string `json:"key_id,omitempty"`
	SessionID string `json:"session_id,omitempty"`
}

// me is GET /v1/auth/me.
func (s *Server) me(c *fiber.Ctx) error {
	p := principalOf(c)
	v := meView{userView: userView{ID: p.UserID.String(), Email: p.Email, Role: p.Role.String()}, Via: "access_token"}
	if p.KeyID != uuid.Nil {
		v.Via, v.KeyID = "api_key", p.KeyID.String()
	}
	if p.SessionID != uuid.Nil {
		v.SessionID = p.SessionID.String()
	}
	return writeJSON(c, http.StatusOK, v)
}

type keyBody struct {
	Name string `json:"name"`
	// Role defaults to the caller's; it may not exceed it.
	Role string `json:"role"`
	// ExpiresIn is a duration such as 720h; empty for a key that does
	// not expire.
	ExpiresIn string `json:"expires_in"`
}

// createdKey is the answer to POST /v1/auth/keys: the only time the
// key's secret is shown.
type createdKey struct {
	storage.APIKey
	Key string `json:"key"`
}

// maxKeyLifetime bounds expires_in.
const maxKeyLifetime = 10 * 365 * 24 * time.Hour

// createKey is POST /v1/auth/keys {name?, role?, expires_in?}: 201 with
// the key, shown once; only its hash is stored. Its role is at most the
// caller's (a key cannot mint a stronger key), and it is capped again by
// its owner's role at every use.
func (s *Server) createKey(c *fiber.Ctx) error {
	var body keyBody
	if err := decodeBody(c, &body, true); err != nil {
		return err
	}
	p := principalOf(c)
	k, err := keyFromBody(body, p)
	if err != nil {
		return err
	}
	secret, hash, err := newSecret(apiKeyPrefix)
	if err != nil {
		return err
	}
	k.Prefix = secret[:len(apiKeyPrefix)+8]
	ctx := c.UserContext()
	setAuditDetails(c, map[string]any{"key_id": k.ID, "role": k.Role, "name": k.Name})
	var stored storage.APIKey
	err = s.deps.DB.Tx(ctx, func(tx pgx.Tx) error {
		var err error
		if stored, err = storage.CreateAPIKey(ctx, tx, k, hash); err != nil {
			return err
		}
		return storage.Audit(ctx, tx, "api_key:"+stored.ID.String())
	})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return writeJSON(c, http.StatusCreated, createdKey{APIKey: stored, Key: secret})
}

// keyFromBody checks a key request against the caller.
func keyFromBody(body keyBody, p *Principal) (storage.APIKey, error) {
	k := storage.APIKey{ID: uuid.New(), UserID: p.UserID, Name: strings.TrimSpace(body.Name), Role: p.Role.String()}
	var issues []agents.FieldIssue
	if k.Name == "" {
		k.Name = "api key"
	} else if len(k.Name) > 100 {
		issues = append(issues, agents.FieldIssue{Field: "name", Code: patterns.FieldInvalid, Message: "name is longer than 100 bytes"})
	}
	if body.Role != "" {
		r, ok := ParseRole(strings.ToUpper(body.Role))
		switch {
		case !ok:
			issues = append(issues, agents.FieldIssue{Field: "role", Code: patterns.FieldInvalid, Message: fmt.Sprintf("role must be VIEWER, USER, MANAGER or ADMIN, got %q", body.Role)})
		case r > p.Role:
			return k, agents.Errorf(agents.CodeForbidden, "a key's role cannot exceed yours (%s)", p.Role)
		default:
			k.Role = r.String()
		}
	}
	if body.ExpiresIn != "" {
		d, err := time.ParseDuration(body.ExpiresIn)
		if err != nil || d <= 0 || d > maxKeyLifetime {
			issues = append(issues, agents.FieldIssue{Field: "expires_in", Code: patterns.FieldInvalid,
				Message: fmt.Sprintf("expires_in must be a positive duration up to ten years, such as 720h; got %q", body.ExpiresIn)})
		} else {
			exp := time.Now().Add(d).UTC()
			k.ExpiresAt = &exp
		}
	}
	if len(issues) > 0 {
		return k, invalid("the key request is invalid", issues)
	}
	return k, nil
}

// listKeys is GET /v1/auth/keys: the caller's keys, without secrets.
func (s *Server) listKeys(c *fiber.Ctx) error {
	p := principalOf(c)
	ctx := c.UserContext()
	var keys []storage.APIKey
	err := onConn(ctx, s.deps.DB, func(q storage.Querier) error {
		var err error
		keys, err = storage.ListAPIKeys(ctx, q, p.UserID)
		return err
	})
	if err != nil {
		return err
	}
	if keys == nil {
		keys = []storage.APIKey{}
	}
	return writeJSON(c, http.StatusOK, map[string]any{"keys": keys})
}

// revokeKey is DELETE /v1/auth/keys/{id}: 204, also for a key revoked
// before. The guard has checked that the key is the caller's.
func (s *Server) revokeKey(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	err = s.deps.DB.Tx(ctx, func(tx pgx.Tx) error {
		if _, err := storage.RevokeAPIKey(ctx, tx, uuid.MustParse(id)); err != nil {
			return err
		}
		return storage.Audit(ctx, tx, "")
	})
	if err != nil {
		return err
	}
	s.auth.forget()
	return c.SendStatus(http.StatusNoContent)
}
