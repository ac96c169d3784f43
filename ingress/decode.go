package ingress

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/patterns"
)

// decodeBody decodes a JSON object body strictly into dst: unknown fields,
// wrong types and trailing data are errors naming what is wrong. An empty
// body is allowed only when optional is true (dst then stays as it is).
func decodeBody(c *fiber.Ctx, dst any, optional bool) error {
	body := bytes.TrimSpace(c.Body())
	if len(body) == 0 {
		if optional {
			return nil
		}
		return &agents.Error{Code: agents.CodeMalformedJSON, Message: "the request body is empty; a JSON object is required"}
	}
	if !utf8.Valid(body) {
		return &agents.Error{Code: agents.CodeMalformedJSON, Message: "the request body is not valid UTF-8"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	// A \u0000 in any string reaches PostgreSQL, which cannot store it.
	var generic any
	gdec := json.NewDecoder(bytes.NewReader(body))
	gdec.UseNumber()
	if err := gdec.Decode(&generic); err == nil {
		if f := badText(generic, ""); f != "" {
			msg := fmt.Sprintf("field %s holds a NUL character or invalid UTF-8, which cannot be stored", f)
			return &agents.Error{Code: agents.CodeInvalidInput, Message: msg, Field: f,
				Fields: []agents.FieldIssue{{Field: f, Code: patterns.FieldInvalid, Message: msg}}}
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &agents.Error{Code: agents.CodeMalformedJSON, Message: "the request body holds data after its JSON value"}
	}
	return nil
}

func decodeError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return &agents.Error{Code: agents.CodeMalformedJSON,
			Message: fmt.Sprintf("the request body is not valid JSON at byte %d: %v", syn.Offset, syn)}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &agents.Error{Code: agents.CodeMalformedJSON, Message: "the request body ends inside a JSON value"}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			// The body itself has the wrong type (an array, say).
			return &agents.Error{Code: agents.CodeMalformedJSON,
				Message: fmt.Sprintf("the request body must be a JSON object, not %s", typ.Value)}
		}
		msg := fmt.Sprintf("field %s must be %s, not %s", field, jsonTypeName(typ.Type.Kind().String()), typ.Value)
		return &agents.Error{Code: agents.CodeInvalidInput, Message: msg,
			Fields: []agents.FieldIssue{{Field: field, Code: patterns.FieldType, Message: msg}}}
	}
	// encoding/json reports unknown fields only as text.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		msg := fmt.Sprintf("the request has no field %q", name)
		return &agents.Error{Code: agents.CodeInvalidInput, Message: msg,
			Fields: []agents.FieldIssue{{Field: name, Code: patterns.FieldUnknown, Message: msg}}}
	}
	return &agents.Error{Code: agents.CodeMalformedJSON, Message: err.Error()}
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	case "int", "int64", "int32", "uint", "uint64", "uint32", "float64", "float32":
		return "a number"
	}
	return "of another type"
}

// uuidParam returns the path parameter name as a canonical uuid.
func uuidParam(c *fiber.Ctx, name string) (string, error) {
	v := c.Params(name)
	u, err := uuid.Parse(v)
	if err != nil {
		return "", paramError(name, patterns.FieldInvalidFormat, fmt.Sprintf("path parameter %s must be a uuid, got %q", name, v))
	}
	return u.String(), nil
}

// limitQuery parses ?limit within [1, max]; def when absent.
func limitQuery(c *fiber.Ctx, def, max int) (int, error) {
	v := c.Query("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, paramError("limit", patterns.FieldInvalid, fmt.Sprintf("query parameter limit must be an integer from 1 to %d, got %q", max, v))
	}
	return n, nil
}

// timeQuery parses an RFC 3339 query parameter; nil when absent.
func timeQuery(c *fiber.Ctx, name string) (*time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, paramError(name, patterns.FieldInvalid, fmt.Sprintf("query parameter %s must be an RFC 3339 time, got %q", name, v))
	}
	return &t, nil
}

// writeJSON answers with a JSON document.
func writeJSON(c *fiber.Ctx, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Status(status)
	c.Response().SetBodyRaw(b)
	return nil
}
