// Package reports is the reports agent: it renders the figures of earlier
// steps into files (a multi-page PDF, an .xlsx workbook, CSV tables),
// stores them in the files table and answers with a download link. It
// computes no figure of its own: every number it prints is one of its
// arguments. Each capability is one file; register.go lists them.
package reports

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// Agent is the agent's wire name.
const Agent = "reports"

// Reports holds the dependencies every capability of the agent shares.
type Reports struct {
	deps agents.Deps
}

// DefaultMaxBytes bounds one stored file when agents.Deps.ReportMaxBytes is
// zero: far above any report of a real portfolio (tens of kilobytes), low
// enough that a runaway input cannot fill the database.
const DefaultMaxBytes = 16 << 20

// Media types of the files.
const (
	MediaPDF  = "application/pdf"
	MediaXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	MediaCSV  = "text/csv; charset=utf-8"
)

// maxBytes is the size limit of one file.
func (a *Reports) maxBytes() int {
	if a.deps.ReportMaxBytes > 0 {
		return a.deps.ReportMaxBytes
	}
	return DefaultMaxBytes
}

// FileOutput is what every capability of the agent answers: the stored
// file and where to download it.
type FileOutput struct {
	FileID    uuid.UUID `json:"file_id" doc:"The stored file's id; the same id when the step runs again for the same run."`
	Name      string    `json:"name" doc:"The download name."`
	MediaType string    `json:"media_type"`
	Size      int64     `json:"size" doc:"Bytes."`
	SHA256    string    `json:"sha256" doc:"Hex SHA-256 of the content (the download's ETag)."`
	Download  string    `json:"download" doc:"The path that serves the file: /v1/files/<file_id>."`
	// Sections lists what the file holds, in order.
	Sections   []string          `json:"sections" doc:"The sections the file holds, in order (for a PDF, from the cover to the sources page)."`
	Pages      int               `json:"pages,omitempty" doc:"Pages of a PDF."`
	Rows       int               `json:"rows,omitempty" doc:"Data rows of a CSV, the header excluded."`
	Provenance agents.Provenance `json:"provenance"`
}

// DownloadPath is the ingress path that serves a file.
func DownloadPath(id uuid.UUID) string { return "/v1/files/" + id.String() }

// store checks the size limit and the step's deadline, then upserts the
// file on (run, step, name), so a replayed step stores one file.
func (a *Reports) store(ctx context.Context, c *agents.Call, name, mediaType string, content []byte) (FileOutput, error) {
	if limit := a.maxBytes(); len(content) > limit {
		return FileOutput{}, agents.Errorf(agents.CodeInvalidInput,
			"%s would be %d bytes, over the report size limit of %d bytes: ask for fewer sections or raise the limit", name, len(content), limit)
	}
	if err := ctx.Err(); err != nil {
		return FileOutput{}, fmt.Errorf("render %s: %w", name, err)
	}
	var runID, owner uuid.UUID
	if c.Run.RunID != "" {
		id, err := uuid.Parse(c.Run.RunID)
		if err != nil {
			return FileOutput{}, agents.Errorf(agents.CodeInternal, "run id %q of the step is not a uuid", c.Run.RunID)
		}
		runID = id
	}
	if id, err := uuid.Parse(c.Run.UserID); err == nil {
		owner = id
	}
	sum := sha256.Sum256(content)
	f, err := storage.UpsertFile(ctx, c.DB, storage.File{RunID: runID, StepID: c.StepID, OwnerID: owner, Name: name,
		MediaType: mediaType, SHA256: hex.EncodeToString(sum[:]), Content: content})
	if err != nil {
		return FileOutput{}, err
	}
	return FileOutput{FileID: f.ID, Name: f.Name, MediaType: f.MediaType, Size: f.Size, SHA256: f.SHA256,
		Download: DownloadPath(f.ID), Sections: []string{}}, nil
}

// FileNamePattern is what a caller's file_name may look like: a plain name
// that needs no quoting in Content-Disposition.
const FileNamePattern = `^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$`

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// fileName is the caller's name with the extension added, or
// <prefix>-<portfolio slug>-<as-of date><ext>.
func fileName(given, prefix, portfolio, asOf, ext string) string {
	if given != "" {
		if !strings.HasSuffix(strings.ToLower(given), ext) {
			given += ext
		}
		return given
	}
	slug := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(portfolio), "-"), "-")
	if len(slug) > 60 {
		slug = strings.Trim(slug[:60], "-")
	}
	parts := []string{prefix}
	if slug != "" {
		parts = append(parts, slug)
	}
	if asOf != "" {
		parts = append(parts, asOf)
	}
	return strings.Join(parts, "-") + ext
}

// asOfTime is the figures' date as a time, for the documents' metadata:
// the same figures give the same bytes.
func asOfTime(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return t
}

// reportProvenance is the provenance of a rendered file: the run's, with
// the method saying what was rendered from what.
func reportProvenance(c *agents.Call, v ValuedFigures, method string) agents.Provenance {
	p := c.Provenance(method, "figures printed as given by the steps named, rounded for display only "+
		"(money 2 decimals, rates and returns as percentages with 2 decimals); the file stores them, it computes none")
	if p.PricingPackID == "" {
		p.PricingPackID = v.PricingPackID
	}
	if p.AsOfDate == "" {
		p.AsOfDate = v.AsOfDate
	}
	return p
}
