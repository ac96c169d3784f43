package ingress

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/storage"
)

// getFile is GET /v1/files/{id}: the bytes of a report file a run
// produced, with its media type, as an attachment under its name. The
// ETag is the content's SHA-256, so a client that has the file gets 304
// Not Modified for If-None-Match.
func (s *Server) getFile(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	var f storage.File
	err = s.deps.DB.Snapshot(ctx, func(tx pgx.Tx) error {
		var err error
		f, err = storage.GetFile(ctx, tx, uuid.MustParse(id))
		return err
	})
	if err != nil {
		return err
	}
	etag := `"` + f.SHA256 + `"`
	c.Set(fiber.HeaderETag, etag)
	// The id's content can be replaced by a replay of its step: clients
	// revalidate with the ETag instead of caching blindly.
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), etag) {
		c.Status(fiber.StatusNotModified)
		return nil
	}
	c.Set(fiber.HeaderContentType, f.MediaType)
	c.Set(fiber.HeaderContentDisposition, contentDisposition(f.Name))
	c.Status(fiber.StatusOK)
	c.Response().SetBodyRaw(f.Content)
	return nil
}

// contentDisposition is attachment with the name twice: plain (the files
// table admits no quote, backslash or control character in a name) for
// old clients, and RFC 5987 encoded for names beyond ASCII.
func contentDisposition(name string) string {
	plain := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	return `attachment; filename="` + plain + `"; filename*=UTF-8''` + extValue(name)
}

// extValue percent-encodes every byte of s outside RFC 5987's attr-char.
func extValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.IndexByte("!#$&+-.^_`|~", ch) >= 0 {
			b.WriteByte(ch)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", ch)
	}
	return b.String()
}

// etagMatches implements If-None-Match's weak comparison for one ETag.
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
