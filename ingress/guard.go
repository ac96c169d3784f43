package ingress

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// Settings of Config.Metrics: who may scrape /metrics without a token.
const (
	// MetricsLoopback opens /metrics to clients on a loopback address;
	// others need a MANAGER's token (the default).
	MetricsLoopback = "loopback"
	// MetricsOpen opens /metrics to everyone.
	MetricsOpen = "open"
	// MetricsToken asks everyone for a MANAGER's token.
	MetricsToken = "token"
)

// guardedRouter is how routes are added: each one gets the guard of its
// rule in routeAccess, and one without a rule is refused (New then
// fails), so no route is served unguarded.
type guardedRouter struct {
	s      *Server
	r      fiber.Router
	prefix string
}

func (s *Server) guarded(r fiber.Router, prefix string) guardedRouter {
	return guardedRouter{s: s, r: r, prefix: prefix}
}

// Get registers a GET route (and HEAD, as Fiber's own Get does).
func (g guardedRouter) Get(path string, h fiber.Handler) { g.add(fiber.MethodGet, path, h) }

// Post registers a POST route.
func (g guardedRouter) Post(path string, h fiber.Handler) { g.add(fiber.MethodPost, path, h) }

// Patch registers a PATCH route.
func (g guardedRouter) Patch(path string, h fiber.Handler) { g.add(fiber.MethodPatch, path, h) }

// Delete registers a DELETE route.
func (g guardedRouter) Delete(path string, h fiber.Handler) { g.add(fiber.MethodDelete, path, h) }

func (g guardedRouter) add(method, path string, h fiber.Handler) {
	key := method + " " + g.prefix + path
	rule, ok := routeAccess[key]
	if !ok {
		g.s.routeErrs = append(g.s.routeErrs, key)
		return
	}
	g.s.guardedKeys[key] = true
	if method == fiber.MethodGet {
		g.r.Get(path, g.s.guard(rule), h)
		return
	}
	g.r.Add(method, path, g.s.guard(rule), h)
}

// guard authenticates the request, checks the caller's role against the
// rule and the object in the path against the caller, and audits the
// routes that change something. A missing or bad credential is 401 and
// nothing else happens; a role too low is 403; another user's object, or
// none, is 404, with the same answer either way.
func (s *Server) guard(rule access) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if rule.role == rolePublic || (rule.metrics && s.metricsOpen(c)) {
			// A public route reads no credential: logging in with a stale
			// token in the header works, and a probe costs no lookup.
			return s.audited(c, rule, nil, nil)
		}
		cred, err := credentialOf(c)
		if err != nil {
			return err
		}
		p, err := s.auth.authenticate(c.UserContext(), cred)
		if err != nil {
			return err
		}
		if p == nil {
			return unauthenticated("%s %s needs credentials: log in with POST /v1/auth/login and send Authorization: Bearer <access_token>, or send an API key the same way",
				c.Method(), c.Path())
		}
		c.Locals(localPrincipal, p)
		if p.Role < rule.role {
			return s.audited(c, rule, p, agents.Errorf(agents.CodeForbidden, "%s %s needs the role %s or higher; yours is %s",
				c.Method(), c.Route().Path, rule.role, p.Role))
		}
		if rule.object != nil && !p.isAdmin() {
			if err := s.checkOwner(c, p, rule.object); err != nil {
				return s.audited(c, rule, p, err)
			}
		}
		return s.audited(c, rule, p, nil)
	}
}

// metricsOpen reports whether this request may scrape /metrics without a
// token.
func (s *Server) metricsOpen(c *fiber.Ctx) bool {
	switch s.cfg.Metrics {
	case MetricsOpen:
		return true
	case MetricsToken:
		return false
	}
	return c.Context().RemoteIP().IsLoopback()
}

// checkOwner refuses, as not found, an object in the path that is not the
// caller's. An id that is not a uuid is refused as the handlers refuse
// it, so no id form reaches a handler unchecked.
func (s *Server) checkOwner(c *fiber.Ctx, p *Principal, o *ownedParam) error {
	raw, err := uuidParam(c, o.param)
	if err != nil {
		return err
	}
	id := uuid.MustParse(raw)
	owner, found, err := s.ownerOf(c.UserContext(), o.kind, id)
	if err != nil {
		return err
	}
	if !found || !p.owns(owner) {
		return notFound(o.kind, id)
	}
	return nil
}

func (s *Server) ownerOf(ctx context.Context, kind string, id uuid.UUID) (owner string, found bool, err error) {
	if s.deps.DB == nil {
		return "", false, agents.Errorf(agents.CodeUnavailable, "this process has no database to check %s %s against", kind, id)
	}
	err = onConn(ctx, s.deps.DB, func(q storage.Querier) error {
		owner, found, err = storage.OwnerOf(ctx, q, kind, id)
		return err
	})
	return owner, found, err
}

// notFound is the answer for an object the caller may not see and for one
// that does not exist alike.
func notFound(kind string, id uuid.UUID) error {
	return &agents.Error{Code: agents.CodeNotFound, Message: fmt.Sprintf("%s %s does not exist", kindName(kind), id)}
}

func kindName(kind string) string {
	switch kind {
	case storage.OwnedDeadLetter:
		return "dead letter"
	case storage.OwnedAPIKey:
		return "API key"
	}
	return kind
}

// audited runs the rest of the chain (unless refused is set) and, for a
// route with an audit action, records the request in audit_log when no
// transaction of it did: a refused or failed request, or one that changes
// nothing in the database. The handler records successful changes itself,
// in their own transaction (storage.Audit).
func (s *Server) audited(c *fiber.Ctx, rule access, p *Principal, refused error) error {
	if rule.action == "" {
		if refused != nil {
			return refused
		}
		return c.Next()
	}
	actor := &storage.AuditActor{Action: rule.action, Resource: rule.resourceOf(func(k string) string { return c.Params(k) }),
		Address: c.IP(), CorrelationID: correlationOf(c)}
	if p != nil {
		id := p.UserID
		actor.UserID = &id
	}
	if refused != nil {
		s.writeAudit(c.UserContext(), actor, storage.AuditDenied)
		return refused
	}
	c.SetUserContext(storage.WithAuditActor(c.UserContext(), actor))
	err := c.Next()
	if !actor.Committed() && !rateLimited(err) {
		// Refusals of the rate limiter are not written: they would let a
		// flood of logins fill the table.
		s.writeAudit(c.UserContext(), actor, auditOutcome(err))
	}
	return err
}

func rateLimited(err error) bool {
	return err != nil && agents.Classify(err).Code == agents.CodeRateLimited
}

// auditOutcome names what became of a request that passed the guard and
// committed no audited change: a refused login is denied, any other error
// failed.
func auditOutcome(err error) string {
	if err == nil {
		return storage.AuditOK
	}
	switch agents.Classify(err).Code {
	case agents.CodeUnauthenticated, agents.CodeForbidden:
		return storage.AuditDenied
	}
	return storage.AuditFailed
}

// writeAudit records a request that changed nothing in its own short
// transaction. The request's answer does not depend on it: a failure is
// logged.
func (s *Server) writeAudit(ctx context.Context, actor *storage.AuditActor, outcome string) {
	if s.deps.DB == nil {
		return
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := onConn(wctx, s.deps.DB, func(q storage.Querier) error {
		return storage.InsertAudit(wctx, q, actor.Entry("", outcome))
	})
	if err != nil {
		s.log.Warn("write audit entry", "action", actor.Action, "resource", actor.Resource, "outcome", outcome,
			"correlation_id", actor.CorrelationID, "err", err)
	}
}

// setAuditDetails attaches details to the request's audit row(s); call it
// before the change's transaction.
func setAuditDetails(c *fiber.Ctx, details map[string]any) {
	a := storage.AuditActorFrom(c.UserContext())
	if a == nil {
		return
	}
	if b, err := json.Marshal(details); err == nil {
		a.Details = b
	}
}

// setAuditUser names the user a public route (login, refresh) acts for,
// once the handler knows it.
func setAuditUser(c *fiber.Ctx, id uuid.UUID) {
	if a := storage.AuditActorFrom(c.UserContext()); a != nil {
		a.UserID = &id
	}
}
