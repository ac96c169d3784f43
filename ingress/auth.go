package ingress

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// Principal is who a request acts for.
type Principal struct {
	UserID uuid.UUID
	Email  string
	// Role is the role in force: the user's current role, capped by the
	// API key's when the request came with one.
	Role Role
	// SessionID is the login session of an access token (uuid.Nil for a
	// key, or a token minted without one).
	SessionID uuid.UUID
	// KeyID is the API key the request came with, if any.
	KeyID uuid.UUID
}

// isAdmin reports whether the principal sees every user's objects.
func (p *Principal) isAdmin() bool { return p.Role >= RoleAdmin }

// owns reports whether the principal may see an object owned by owner
// (a user id as text, "" for nobody).
func (p *Principal) owns(owner string) bool {
	return p.isAdmin() || (owner != "" && owner == p.UserID.String())
}

const localPrincipal = "principal"

// principalOf returns the request's principal; nil on public routes
// called without credentials.
func principalOf(c *fiber.Ctx) *Principal {
	p, _ := c.Locals(localPrincipal).(*Principal)
	return p
}

// unauthenticated is the 401 of every credential problem.
func unauthenticated(format string, args ...any) error {
	return agents.Errorf(agents.CodeUnauthenticated, format, args...)
}

// authenticator turns a request's credential into a principal. The state
// behind a credential (the user's role and whether they are active, the
// session, the key) is read from PostgreSQL and kept for cacheTTL, so a
// role change, a deactivation, a logout or a revoked key takes effect on
// every process within that time, and at once on the process that made
// the change.
type authenticator struct {
	signer   *Signer
	db       *storage.DB
	cacheTTL time.Duration

	mu    sync.Mutex
	cache map[string]cachedState
}

type cachedState struct {
	st      storage.CredentialState
	expires time.Time
}

// maxCachedStates bounds the cache; when full it is emptied, which costs
// one lookup per active credential.
const maxCachedStates = 10000

func newAuthenticator(signer *Signer, db *storage.DB, ttl time.Duration) *authenticator {
	if ttl <= 0 {
		ttl = 2 * time.Second
	}
	return &authenticator{signer: signer, db: db, cacheTTL: ttl, cache: map[string]cachedState{}}
}

// authenticate reads the Authorization header: nil without one, a
// principal for a usable credential, an unauthenticated error otherwise.
func (a *authenticator) authenticate(ctx context.Context, header string) (*Principal, error) {
	if header == "" {
		return nil, nil
	}
	scheme, cred, _ := strings.Cut(header, " ")
	cred = strings.TrimSpace(cred)
	if !strings.EqualFold(scheme, "Bearer") || cred == "" {
		return nil, unauthenticated("the Authorization header must be \"Bearer\" followed by an access token or an API key")
	}
	if strings.HasPrefix(cred, apiKeyPrefix) {
		return a.keyPrincipal(ctx, cred)
	}
	return a.tokenPrincipal(ctx, cred)
}

func (a *authenticator) tokenPrincipal(ctx context.Context, token string) (*Principal, error) {
	user, session, err := a.signer.parse(token)
	if errors.Is(err, errTokenExpired) {
		return nil, unauthenticated("the access token has expired; get a new one with POST /v1/auth/refresh or log in again")
	}
	if err != nil {
		return nil, unauthenticated("the access token is not valid")
	}
	key := "t:" + user.String() + "/" + session.String()
	st, err := a.state(ctx, key, func(ctx context.Context, q storage.Querier) (storage.CredentialState, error) {
		return storage.TokenState(ctx, q, user, session)
	})
	if err != nil {
		return nil, err
	}
	if !st.Usable {
		return nil, unauthenticated("the access token's user is inactive or its session has ended; log in again")
	}
	r, ok := ParseRole(st.Role)
	if !ok {
		return nil, unauthenticated("the access token's user has no known role")
	}
	return &Principal{UserID: st.UserID, Email: st.Email, Role: r, SessionID: session}, nil
}

func (a *authenticator) keyPrincipal(ctx context.Context, secret string) (*Principal, error) {
	hash := hashSecret(secret)
	st, err := a.state(ctx, "k:"+hex.EncodeToString(hash), func(ctx context.Context, q storage.Querier) (storage.CredentialState, error) {
		return storage.KeyState(ctx, q, hash)
	})
	if err != nil {
		return nil, err
	}
	if !st.Usable {
		return nil, unauthenticated("the API key was revoked or has expired, or its owner is inactive")
	}
	userRole, ok1 := ParseRole(st.Role)
	keyRole, ok2 := ParseRole(st.KeyRole)
	if !ok1 || !ok2 {
		return nil, unauthenticated("the API key has no known role")
	}
	return &Principal{UserID: st.UserID, Email: st.Email, Role: min(userRole, keyRole), KeyID: st.KeyID}, nil
}

// state returns the cached state under key, or loads it. A credential
// that names nothing (a deleted user, an unknown key) is unauthenticated;
// the database's own failures pass through, so an outage answers 503.
func (a *authenticator) state(ctx context.Context, key string, load func(context.Context, storage.Querier) (storage.CredentialState, error)) (storage.CredentialState, error) {
	now := time.Now()
	a.mu.Lock()
	c, ok := a.cache[key]
	a.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.st, nil
	}
	if a.db == nil {
		return storage.CredentialState{}, agents.Errorf(agents.CodeUnavailable, "this process has no database to check credentials against")
	}
	var st storage.CredentialState
	err := onConn(ctx, a.db, func(q storage.Querier) error {
		var err error
		st, err = load(ctx, q)
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return st, unauthenticated("the credential names no user or key")
	}
	if err != nil {
		return st, err
	}
	a.mu.Lock()
	if len(a.cache) >= maxCachedStates {
		a.cache = map[string]cachedState{}
	}
	a.cache[key] = cachedState{st: st, expires: now.Add(a.cacheTTL)}
	a.mu.Unlock()
	return st, nil
}

// forget drops every cached state, after a change that ends credentials
// (a logout, a revoked key, a changed user), so it takes effect here at
// once.
func (a *authenticator) forget() {
	a.mu.Lock()
	a.cache = map[string]cachedState{}
	a.mu.Unlock()
}

// onConn runs fn on one pooled connection outside a transaction: a single
// read costs one round trip instead of three.
func onConn(ctx context.Context, db *storage.DB, fn func(storage.Querier) error) error {
	c, err := db.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	return fn(c)
}
