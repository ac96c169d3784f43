package ingress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/valyala/fasthttp"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/patterns"
)

// The edge refuses what no route can use before Fiber sees it, so that
// every answer the server gives is problem+json with a correlation id:
// Fiber itself answers an unknown method with plain text, and fasthttp
// keeps the last of two different Content-Length headers, which is how
// request smuggling starts.

// knownMethods are the methods of RFC 9110 (and PATCH); method names are
// case-sensitive, so "get" is not one of them.
var knownMethods = map[string]bool{
	fiber.MethodGet: true, fiber.MethodHead: true, fiber.MethodPost: true, fiber.MethodPut: true,
	fiber.MethodPatch: true, fiber.MethodDelete: true, fiber.MethodConnect: true,
	fiber.MethodOptions: true, fiber.MethodTrace: true,
}

// guardEdge wraps the server's handler.
func (s *Server) guardEdge(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(rctx *fasthttp.RequestCtx) {
		method := string(rctx.Method())
		switch {
		case !knownMethods[method]:
			s.rawProblem(rctx, agents.CodeBadRequest, fmt.Sprintf("%q is not an HTTP method this server knows (methods are case-sensitive)", truncateText(method, 32)))
			return
		case conflictingLengths(rctx.Request.Header.RawHeaders()):
			s.rawProblem(rctx, agents.CodeBadRequest, "the request has more than one Content-Length header with different values")
			rctx.SetConnectionClose()
			return
		}
		next(rctx)
	}
}

// headerReceived runs once a request's header is read, before its body:
// a request with two different Content-Length headers is given none, so
// the server does not wait for a body whose length is unknown, and
// guardEdge then refuses it and closes the connection.
func headerReceived(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	if conflictingLengths(h.RawHeaders()) {
		h.SetContentLength(0)
	}
	return fasthttp.RequestConfig{}
}

// conflictingLengths reports two Content-Length headers that differ.
func conflictingLengths(raw []byte) bool {
	var seen string
	for _, line := range bytes.Split(raw, []byte("\n")) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || !strings.EqualFold(string(bytes.TrimSpace(name)), fiber.HeaderContentLength) {
			continue
		}
		v := string(bytes.TrimSpace(value))
		if seen != "" && v != seen {
			return true
		}
		seen = v
	}
	return false
}

// rawProblem answers with a problem document from outside Fiber.
func (s *Server) rawProblem(rctx *fasthttp.RequestCtx, code, detail string) {
	cid := string(rctx.Request.Header.Peek(HeaderCorrelationID))
	if !validCorrelation(cid) {
		cid = uuid.NewString()
	}
	info := agents.Info(code)
	body, _ := json.Marshal(Problem{Type: ProblemTypeBase + code, Title: info.Title, Status: info.Status, Detail: detail, Code: code, CorrelationID: cid})
	rctx.Response.Reset()
	rctx.SetStatusCode(info.Status)
	rctx.Response.Header.Set(fiber.HeaderContentType, ContentTypeProblem)
	rctx.Response.Header.Set(HeaderCorrelationID, cid)
	rctx.SetBody(body)
}

// checkText refuses, in every route, query parameters and path segments
// that PostgreSQL cannot store as text: invalid UTF-8 or a NUL byte.
func (s *Server) checkText(c *fiber.Ctx) error {
	var bad error
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		if bad == nil && !storableText(v) {
			bad = paramError(string(k), patterns.FieldInvalid, fmt.Sprintf("query parameter %s holds a NUL byte or invalid UTF-8", truncateText(string(k), 64)))
		}
	})
	if bad == nil && !storableText([]byte(c.Path())) {
		bad = paramError("path", patterns.FieldInvalid, "the path holds a NUL byte or invalid UTF-8")
	}
	if bad != nil {
		return bad
	}
	return c.Next()
}

// storableText reports whether PostgreSQL can store b as text.
func storableText(b []byte) bool {
	return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0
}

// badText finds the first string (or object key) of a decoded JSON value
// that PostgreSQL cannot store and returns its path, or "".
func badText(v any, at string) string {
	switch x := v.(type) {
	case string:
		if !storableText([]byte(x)) {
			return at
		}
	case map[string]any:
		for k, e := range x {
			p := k
			if at != "" {
				p = at + "." + k
			}
			if !storableText([]byte(k)) {
				return p
			}
			if f := badText(e, p); f != "" {
				return f
			}
		}
	case []any:
		for i, e := range x {
			if f := badText(e, fmt.Sprintf("%s[%d]", at, i)); f != "" {
				return f
			}
		}
	}
	return ""
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
