package ingress

import (
	"errors"
	"fmt"
	"net/http"
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

// User management (ADMIN) and the audit log.
func (s *Server) registerAdminRoutes(r guardedRouter) {
	r.Get("/users", s.listUsers)
	r.Post("/users", s.createUser)
	r.Patch("/users/:id", s.updateUser)
	r.Get("/audit", s.listAudit)
}

// Password rules: long enough that guessing is pointless under the login
// limit, and within what bcrypt reads (72 bytes).
const (
	minPasswordBytes = 12
	maxBcryptBytes   = 72
)

type newUserBody struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	// Role defaults to USER.
	Role string `json:"role"`
}

func viewUser(u storage.User) userView {
	active := u.Active
	return userView{ID: u.ID.String(), Email: u.Email, Role: u.Role, Active: &active}
}

// createUser is POST /v1/users {email, password, role?}: 201 with the
// user; 409 when the email is taken.
func (s *Server) createUser(c *fiber.Ctx) error {
	var body newUserBody
	if err := decodeBody(c, &body, false); err != nil {
		return err
	}
	email := normalizeEmail(body.Email)
	role := strings.ToUpper(strings.TrimSpace(body.Role))
	if role == "" {
		role = storage.RoleUser
	}
	var issues []agents.FieldIssue
	if msg := emailProblem(email); msg != "" {
		issues = append(issues, agents.FieldIssue{Field: "email", Code: patterns.FieldInvalid, Message: msg})
	}
	if msg := passwordProblem(body.Password); msg != "" {
		issues = append(issues, agents.FieldIssue{Field: "password", Code: patterns.FieldInvalid, Message: msg})
	}
	if _, ok := ParseRole(role); !ok {
		issues = append(issues, agents.FieldIssue{Field: "role", Code: patterns.FieldInvalid, Message: fmt.Sprintf("role must be VIEWER, USER, MANAGER or ADMIN, got %q", body.Role)})
	}
	if len(issues) > 0 {
		return invalid("the user is invalid", issues)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(body.Password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("hash the password of %s: %w", email, err)
	}
	setAuditDetails(c, map[string]any{"email": email, "role": role})
	ctx := c.UserContext()
	var u storage.User
	err = s.deps.DB.Tx(ctx, func(tx pgx.Tx) error {
		var err error
		if u, err = storage.CreateUser(ctx, tx, email, string(hash), role); err != nil {
			return err
		}
		return storage.Audit(ctx, tx, "user:"+u.ID.String())
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		return &agents.Error{Code: agents.CodeConflict, Message: "a user has this email", Field: "email"}
	}
	if err != nil {
		return err
	}
	c.Location("/v1/users/" + u.ID.String())
	return writeJSON(c, http.StatusCreated, viewUser(u))
}

func emailProblem(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	switch {
	case email == "":
		return "email is required"
	case len(email) > maxEmailBytes:
		return fmt.Sprintf("email is longer than %d bytes", maxEmailBytes)
	case !ok || local == "" || domain == "" || strings.ContainsAny(email, " \t\r\n<>\"") || strings.Contains(domain, "@"):
		return fmt.Sprintf("%q is not an email address", email)
	}
	return ""
}

func passwordProblem(pw string) string {
	switch {
	case len(pw) < minPasswordBytes:
		return fmt.Sprintf("password must have at least %d bytes", minPasswordBytes)
	case len(pw) > maxBcryptBytes:
		return fmt.Sprintf("password must have at most %d bytes", maxBcryptBytes)
	}
	return ""
}

// listUsers is GET /v1/users.
func (s *Server) listUsers(c *fiber.Ctx) error {
	ctx := c.UserContext()
	var us []storage.User
	err := onConn(ctx, s.deps.DB, func(q storage.Querier) error {
		var err error
		us, err = storage.ListUsers(ctx, q)
		return err
	})
	if err != nil {
		return err
	}
	out := make([]userView, 0, len(us))
	for _, u := range us {
		out = append(out, viewUser(u))
	}
	return writeJSON(c, http.StatusOK, map[string]any{"users": out})
}

// userPatch is the body of PATCH /v1/users/{id}; absent fields stay.
type userPatch struct {
	Role     *string `json:"role"`
	Active   *bool   `json:"active"`
	Password *string `json:"password"`
}

// updateUser is PATCH /v1/users/{id} {role?, active?, password?}: 200 with
// the user; 409 when the change would leave no active ADMIN. A
// deactivated user's sessions end with the change, and their tokens and
// keys stop working.
func (s *Server) updateUser(c *fiber.Ctx) error {
	raw, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	var body userPatch
	if err := decodeBody(c, &body, false); err != nil {
		return err
	}
	ch, details, err := userChange(body)
	if err != nil {
		return err
	}
	setAuditDetails(c, details)
	ctx := c.UserContext()
	id := uuid.MustParse(raw)
	var u storage.User
	err = s.deps.DB.Tx(ctx, func(tx pgx.Tx) error {
		var err error
		if u, err = storage.UpdateUser(ctx, tx, id, ch); err != nil {
			return err
		}
		return storage.Audit(ctx, tx, "")
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return notFound("user", id)
	case errors.Is(err, storage.ErrLastAdmin):
		return agents.Errorf(agents.CodeConflict, "the change would leave no active ADMIN")
	case err != nil:
		return err
	}
	s.auth.forget()
	return writeJSON(c, http.StatusOK, viewUser(u))
}

// userChange checks a patch and says, for the audit log, what it changes
// (never the password itself).
func userChange(body userPatch) (storage.UserChange, map[string]any, error) {
	var ch storage.UserChange
	details := map[string]any{}
	var issues []agents.FieldIssue
	if body.Role != nil {
		r := strings.ToUpper(strings.TrimSpace(*body.Role))
		if _, ok := ParseRole(r); !ok {
			issues = append(issues, agents.FieldIssue{Field: "role", Code: patterns.FieldInvalid, Message: fmt.Sprintf("role must be VIEWER, USER, MANAGER or ADMIN, got %q", *body.Role)})
		}
		ch.Role, details["role"] = &r, r
	}
	if body.Active != nil {
		ch.Active, details["active"] = body.Active, *body.Active
	}
	if body.Password != nil {
		if msg := passwordProblem(*body.Password); msg != "" {
			issues = append(issues, agents.FieldIssue{Field: "password", Code: patterns.FieldInvalid, Message: msg})
		} else {
			h, err := bcrypt.GenerateFromPassword([]byte(*body.Password), bcrypt.DefaultCost)
			if err != nil {
				return ch, nil, fmt.Errorf("hash a password: %w", err)
			}
			hs := string(h)
			ch.PasswordHash, details["password_changed"] = &hs, true
		}
	}
	if len(issues) > 0 {
		return ch, nil, invalid("the change is invalid", issues)
	}
	if len(details) == 0 {
		return ch, nil, invalid("the change is empty", []agents.FieldIssue{{Field: "role", Code: patterns.FieldMissing, Message: "give role, active or password"}})
	}
	return ch, details, nil
}

// listAudit is GET /v1/audit?user_id=&action=&outcome=&before=&limit=:
// newest first; next_before pages on.
func (s *Server) listAudit(c *fiber.Ctx) error {
	limit, err := limitQuery(c, 100, 1000)
	if err != nil {
		return err
	}
	before, err := timeQuery(c, "before")
	if err != nil {
		return err
	}
	f := storage.AuditFilter{Action: c.Query("action"), Outcome: c.Query("outcome"), Before: before, Limit: limit}
	switch f.Outcome {
	case "", storage.AuditOK, storage.AuditDenied, storage.AuditFailed:
	default:
		return paramError("outcome", patterns.FieldInvalid, fmt.Sprintf("query parameter outcome must be ok, denied or failed, got %q", f.Outcome))
	}
	if v := c.Query("user_id"); v != "" {
		u, err := uuid.Parse(v)
		if err != nil {
			return paramError("user_id", patterns.FieldInvalidFormat, fmt.Sprintf("query parameter user_id must be a uuid, got %q", v))
		}
		f.UserID = u
	}
	ctx := c.UserContext()
	var rows []storage.AuditEntry
	err = onConn(ctx, s.deps.DB, func(q storage.Querier) error {
		var err error
		rows, err = storage.ListAudit(ctx, q, f)
		return err
	})
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []storage.AuditEntry{}
	}
	out := map[string]any{"entries": rows}
	if len(rows) == limit {
		out["next_before"] = rows[len(rows)-1].At.Format(time.RFC3339Nano)
	}
	return writeJSON(c, http.StatusOK, out)
}
