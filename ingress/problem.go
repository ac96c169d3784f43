package ingress

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/patterns"
	"github.com/dawsos/dawsos/storage"
)

// ProblemTypeBase prefixes every problem's type: the code completes it, so
// clients can switch on either.
const ProblemTypeBase = "https://dawsos.dev/problems/"

// ContentTypeProblem is the media type of every error response (RFC 9457).
const ContentTypeProblem = "application/problem+json"

// Codes of the HTTP edge itself. Capability and orchestrator errors carry
// the codes of agents.Codes.
const (
	CodeMalformedJSON    = "malformed_json"
	CodeBodyTooLarge     = "body_too_large"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeBadRequest       = "bad_request"
)

// Problem is an RFC 9457 problem document with the DawsOS extensions.
type Problem struct {
	Type          string       `json:"type"`
	Title         string       `json:"title"`
	Status        int          `json:"status"`
	Detail        string       `json:"detail"`
	Code          string       `json:"code"`
	CorrelationID string       `json:"correlation_id"`
	Fields        []FieldIssue `json:"fields,omitempty"`
	Capability    string       `json:"capability,omitempty"`
	Retryable     *bool        `json:"retryable,omitempty"`
	// Checks lists the readiness checks, on /readyz.
	Checks map[string]string `json:"checks,omitempty"`
}

// FieldIssue names one field of a request at fault.
type FieldIssue struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// requestError is an error of the request itself (body, path, query),
// found by the ingress before anything else runs.
type requestError struct {
	status int
	code   string
	detail string
	fields []FieldIssue
}

func (e *requestError) Error() string { return e.code + ": " + e.detail }

// paramError is a 400 bad_request naming one path or query parameter. It
// has its own code because invalid_input, for the body's content, maps to
// 422 in the codes table and a code has one status.
func paramError(field, code, detail string) error {
	return &requestError{status: http.StatusBadRequest, code: CodeBadRequest, detail: detail,
		fields: []FieldIssue{{Field: field, Code: code, Message: detail}}}
}

// capabilityError attaches the capability a problem is about.
type capabilityError struct {
	capability string
	err        error
}

func (e *capabilityError) Error() string { return e.capability + ": " + e.err.Error() }
func (e *capabilityError) Unwrap() error { return e.err }

var edgeTitles = map[string]string{
	CodeMalformedJSON:    "The request body is not valid JSON",
	CodeBodyTooLarge:     "The request body is too large",
	CodeMethodNotAllowed: "The method is not allowed on this resource",
	CodeBadRequest:       "The request is malformed",
}

func titleOf(code string) string {
	if t, ok := edgeTitles[code]; ok {
		return t
	}
	if ci, ok := agents.Codes[code]; ok && ci.Description != "" {
		return upperFirst(ci.Description)
	}
	return http.StatusText(http.StatusInternalServerError)
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// problemOf is the one mapping from errors to problems. internal reports
// whether the error was unexpected (500 internal), which the caller logs.
func problemOf(err error) (p Problem, internal bool) {
	var (
		re *requestError
		fe *fiber.Error
		ie *orchestrator.InputError
		ae *agents.Error
		ce *capabilityError
	)
	capability := ""
	if errors.As(err, &ce) {
		capability = ce.capability
	}
	switch {
	case errors.As(err, &re):
		p = Problem{Status: re.status, Code: re.code, Detail: re.detail, Fields: re.fields}
	case errors.As(err, &ie):
		p = Problem{Status: agents.Codes[agents.CodeInvalidInput].Status, Code: agents.CodeInvalidInput,
			Detail: "the inputs of pattern " + ie.Pattern + " are invalid"}
		for _, f := range ie.Fields {
			p.Fields = append(p.Fields, inputIssue(f))
		}
	case errors.Is(err, storage.ErrRunNotFound), errors.Is(err, storage.ErrDeadLetterNotFound), errors.Is(err, storage.ErrNotFound):
		p = Problem{Status: agents.Codes[agents.CodeNotFound].Status, Code: agents.CodeNotFound, Detail: err.Error()}
	case errors.Is(err, storage.ErrAcquireTimeout):
		p = Problem{Status: agents.Codes[agents.CodeUnavailable].Status, Code: agents.CodeUnavailable,
			Detail: "the database is busy; try again"}
	case errors.As(err, &ae):
		info, known := agents.Codes[ae.Code]
		if !known {
			return internalProblem(), true
		}
		if ae.Code == agents.CodeInternal || ae.Code == agents.CodePanic {
			return internalProblem(), true
		}
		p = Problem{Status: info.Status, Code: ae.Code, Detail: ae.Message}
		if ae.Field != "" {
			p.Fields = []FieldIssue{{Field: ae.Field, Code: ae.Code, Message: ae.Message}}
		}
		r := ae.Retryable
		p.Retryable = &r
	case errors.As(err, &fe):
		p = fiberProblem(fe)
		if p.Status >= 500 {
			return internalProblem(), true
		}
	default:
		return internalProblem(), true
	}
	p.Capability = capability
	return p, false
}

func inputIssue(f patterns.FieldError) FieldIssue {
	return FieldIssue{Field: "inputs." + f.Field, Code: f.Code, Message: f.Message}
}

func internalProblem() Problem {
	return Problem{Status: http.StatusInternalServerError, Code: agents.CodeInternal,
		Detail: "an unexpected error occurred; the correlation id identifies it in the server log"}
}

// fiberProblem maps the router's and the HTTP server's own errors.
func fiberProblem(fe *fiber.Error) Problem {
	switch fe.Code {
	case http.StatusNotFound:
		return Problem{Status: fe.Code, Code: agents.CodeNotFound, Detail: "no such resource: " + fe.Message}
	case http.StatusMethodNotAllowed:
		return Problem{Status: fe.Code, Code: CodeMethodNotAllowed, Detail: "this resource does not accept the method"}
	case http.StatusRequestEntityTooLarge:
		return Problem{Status: fe.Code, Code: CodeBodyTooLarge, Detail: "the request body exceeds the configured limit"}
	}
	return Problem{Status: fe.Code, Code: CodeBadRequest, Detail: fe.Message}
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
	s.writeProblem(c, p)
	return nil
}

func (s *Server) writeProblem(c *fiber.Ctx, p Problem) {
	if p.Type == "" {
		p.Type = ProblemTypeBase + p.Code
	}
	if p.Title == "" {
		p.Title = titleOf(p.Code)
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
	c.Status(p.Status)
	c.Response().SetBodyRaw(body)
}
