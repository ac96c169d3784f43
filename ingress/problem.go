package ingress

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/dawsos/dawsos/agents"
)

// ProblemTypeBase prefixes every problem's type: the code completes it, so
// clients can switch on either.
const ProblemTypeBase = "https://dawsos.dev/problems/"

// ContentTypeProblem is the media type of every error response (RFC 9457).
const ContentTypeProblem = "application/problem+json"

// Problem is an RFC 9457 problem document with the DawsOS extensions.
type Problem struct {
	Type          string              `json:"type"`
	Title         string              `json:"title"`
	Status        int                 `json:"status"`
	Detail        string              `json:"detail"`
	Code          string              `json:"code"`
	CorrelationID string              `json:"correlation_id"`
	Fields        []agents.FieldIssue `json:"fields,omitempty"`
	Capability    string              `json:"capability,omitempty"`
	Retryable     *bool               `json:"retryable,omitempty"`
	// Checks lists the readiness checks, on /readyz.
	Checks map[string]string `json:"checks,omitempty"`
}

// paramError is a 400 bad_request naming one path or query parameter. It
// has its own code because invalid_input, for the body's content, maps to
// 422 in the codes table and a code has one status.
func paramError(field, code, detail string) error {
	return &agents.Error{Code: agents.CodeBadRequest, Message: detail,
		Fields: []agents.FieldIssue{{Field: field, Code: code, Message: detail}}}
}

// capabilityError attaches the capability a problem is about.
type capabilityError struct {
	capability string
	err        error
}

func (e *capabilityError) Error() string { return e.capability + ": " + e.err.Error() }
func (e *capabilityError) Unwrap() error { return e.err }

// problemOf is the one mapping from errors to problems: the code comes from
// agents.Classify, the status and title from the table of codes. internal
// reports whether the error was unexpected (500 internal), which the
// caller logs.
func problemOf(err error) (p Problem, internal bool) {
	var (
		fe *fiber.Error
		ce *capabilityError
	)
	var ae *agents.Error
	switch {
	case errors.As(err, &fe) && !errors.As(err, &ae):
		ae = fiberError(fe)
	default:
		ae = agents.Classify(err)
	}
	if ae.Code == agents.CodeInternal || ae.Code == agents.CodePanic {
		return internalProblem(), true
	}
	if _, known := agents.Codes[ae.Code]; !known {
		return internalProblem(), true
	}
	info := agents.Info(ae.Code)
	p = Problem{Status: info.Status, Code: ae.Code, Title: info.Title, Detail: ae.Message, Fields: ae.Fields}
	if len(p.Fields) == 0 && ae.Field != "" {
		p.Fields = []agents.FieldIssue{{Field: ae.Field, Code: ae.Code, Message: ae.Message}}
	}
	if info.Status >= 500 || ae.Retryable {
		r := ae.Retryable
		p.Retryable = &r
	}
	if errors.As(err, &ce) {
		p.Capability = ce.capability
	}
	return p, false
}

func internalProblem() Problem {
	return Problem{Status: http.StatusInternalServerError, Code: agents.CodeInternal, Title: agents.Info(agents.CodeInternal).Title,
		Detail: "an unexpected error occurred; the correlation id identifies it in the server log"}
}

// fiberError maps the router's and the HTTP server's own errors to codes.
func fiberError(fe *fiber.Error) *agents.Error {
	switch fe.Code {
	case http.StatusNotFound:
		return &agents.Error{Code: agents.CodeNotFound, Message: "no such resource: " + fe.Message}
	case http.StatusMethodNotAllowed:
		return &agents.Error{Code: agents.CodeMethodNotAllowed, Message: "this resource does not accept the method"}
	case http.StatusRequestEntityTooLarge:
		return &agents.Error{Code: agents.CodeBodyTooLarge, Message: "the request body exceeds the configured limit"}
	}
	if fe.Code >= 500 {
		return &agents.Error{Code: agents.CodeInternal, Message: fe.Message}
	}
	return &agents.Error{Code: agents.CodeBadRequest, Message: fe.Message}
}

// retryAfter is the Retry-After, in seconds, of a 503 with this code: a
// database outage is often a restart of a few seconds.
func retryAfter(code string) string {
	if code == agents.CodeDatabaseUnavailable {
		return "2"
	}
	return "5"
}

// handleError is the app's error handler: it writes the problem document.
// It also runs for errors the HTTP server finds before any middleware
// (an oversized body), so it sets the correlation header itself.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	cid := correlationOf(c)
	p, internal := problemOf(err)
	if internal && !errors.Is(err, errPanicked) {
		s.log.Error("request failed", "err", err, "correlation_id", cid, "method", c.Method(), "path", c.Path())
	}
	p.CorrelationID = cid
	if s.consoleError(c, p) {
		return nil
	}
	s.writeProblem(c, p)
	return nil
}

func (s *Server) writeProblem(c *fiber.Ctx, p Problem) {
	if p.Type == "" {
		p.Type = ProblemTypeBase + p.Code
	}
	if p.Title == "" {
		p.Title = agents.Info(p.Code).Title
	}
	if p.CorrelationID == "" {
		p.CorrelationID = correlationOf(c)
	}
	body, err := json.Marshal(p)
	if err != nil {
		// A Problem always encodes; keep the status even so.
		body = []byte(`{"type":"about:blank","status":500}`)
	}
	c.Set(fiber.HeaderContentType, ContentTypeProblem)
	if p.Status == http.StatusUnauthorized {
		// RFC 6750: say which scheme the credential must use.
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="dawsos"`)
	}
	if p.Status == http.StatusServiceUnavailable {
		// Every 503 is worth another try; say when.
		c.Set(fiber.HeaderRetryAfter, retryAfter(p.Code))
	}
	c.Status(p.Status)
	c.Response().SetBodyRaw(body)
}
