package ingress_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/ingress"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/storage"
)

// TestFilesDownload: a file a run stored is listed in the run's document
// and served by GET /v1/files/{id} with its media type, as an attachment
// under its name, with its hash as ETag (304 when the client has it); an
// unknown id is a 404 problem and a malformed one a 400.
func TestFilesDownload(t *testing.T) {
	t.Parallel()
	e := setup(t)
	resp, body := e.do(t, "POST", "/v1/runs?wait=15s", `{"pattern":"test_chain","inputs":{"n":1}}`, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /v1/runs?wait: %d %s", resp.StatusCode, body)
	}
	run := decode[orchestrator.RunDocument](t, body)
	content := []byte("%PDF-1.4\n% a small test file\n%%EOF\n")
	sum := sha256.Sum256(content)
	hash := hex.EncodeToString(sum[:])
	var f storage.File
	err := e.db.Tx(context.Background(), func(tx pgx.Tx) error {
		var err error
		f, err = storage.UpsertFile(context.Background(), tx, storage.File{RunID: uuid.MustParse(run.RunID), StepID: "report",
			Name: "portfolio report 2026-06-30.pdf", MediaType: "application/pdf", SHA256: hash, Content: content})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	resp, body = e.do(t, "GET", "/v1/runs/"+run.RunID, "", nil)
	doc := decode[orchestrator.RunDocument](t, body)
	if resp.StatusCode != http.StatusOK || len(doc.Files) != 1 {
		t.Fatalf("GET run: %d, files %+v; want the one stored file", resp.StatusCode, doc.Files)
	}
	link := doc.Files[0]
	if link.ID != f.ID.String() || link.Download != "/v1/files/"+f.ID.String() || link.Size != int64(len(content)) ||
		link.SHA256 != hash || link.MediaType != "application/pdf" || link.StepID != "report" || link.Name != f.Name {
		t.Errorf("run file link %+v; want id %s, %d bytes, sha256 %s", link, f.ID, len(content), hash)
	}

	resp, body = e.do(t, "GET", link.Download, "", nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, content) {
		t.Fatalf("GET %s: %d, %d bytes; want 200 with the %d stored bytes", link.Download, resp.StatusCode, len(body), len(content))
	}
	for h, want := range map[string]string{
		"Content-Type":           "application/pdf",
		"Content-Disposition":    `attachment; filename="portfolio report 2026-06-30.pdf"; filename*=UTF-8''portfolio%20report%202026-06-30.pdf`,
		"ETag":                   `"` + hash + `"`,
		"X-Content-Type-Options": "nosniff",
		"Content-Length":         strconv.Itoa(len(content)),
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q; want %q", h, got, want)
		}
	}
	if resp.Header.Get(ingress.HeaderCorrelationID) == "" {
		t.Error("no correlation id on the download")
	}
	resp, body = e.do(t, "GET", link.Download, "", map[string]string{"If-None-Match": `W/"other", "` + hash + `"`})
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("GET with If-None-Match of the hash: %d with %d bytes; want 304 and no body", resp.StatusCode, len(body))
	}
	resp, _ = e.do(t, "GET", link.Download, "", map[string]string{"If-None-Match": `"` + hash[1:] + `0"`})
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET with another ETag: %d; want 200", resp.StatusCode)
	}

	for _, c := range []struct {
		path   string
		status int
		code   string
	}{
		{"/v1/files/" + uuid.NewString(), http.StatusNotFound, "not_found"},
		{"/v1/files/not-a-uuid", http.StatusBadRequest, "bad_request"},
	} {
		resp, body := e.do(t, "GET", c.path, "", nil)
		p := decode[ingress.Problem](t, body)
		if resp.StatusCode != c.status || p.Code != c.code || resp.Header.Get("Content-Type") != ingress.ContentTypeProblem || p.CorrelationID == "" {
			t.Errorf("GET %s: %d %s (%s); want %d %s as problem+json", c.path, resp.StatusCode, p.Code, resp.Header.Get("Content-Type"), c.status, c.code)
		}
	}
}
