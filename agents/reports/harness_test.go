package reports_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ledongthuc/pdf"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/agenttest"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/agents/reports"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

func TestMain(m *testing.M) { pgtest.MainWithLeakCheck(m) }

// newHarness calls capabilities with the checks a step gets. It hosts the
// analyst too, whose outputs are the figures the reports render.
func newHarness(t *testing.T, db *storage.DB, deps agents.Deps) *enginetest.Harness {
	deps.DB = db
	return enginetest.NewHarness(t, db, analyst.New(deps), reports.New(deps))
}

// demoEnd is the last day of the demo data; the window is three months,
// so a 252-day lookback runs over the shorter history.
var demoEnd = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

func seedDemo(t *testing.T) agenttest.Demo { return agenttest.SeedDemo(t, demoEnd, 3) }

// figures are the outputs of the analyst steps a report is made of, as
// raw JSON (what a pattern passes on) and decoded.
type figures struct {
	raw         map[string]json.RawMessage
	valued      analyst.ValuedPositionsOutput
	twr         analyst.TWROutput
	attribution analyst.CurrencyAttributionOutput
	nav         analyst.HistoricalNAVOutput
	sectors     analyst.SectorAllocationOutput
}

// computeFigures runs the five analyst capabilities a report renders.
func computeFigures(t *testing.T, h *enginetest.Harness, portfolio uuid.UUID, packID string) figures {
	t.Helper()
	f := figures{raw: map[string]json.RawMessage{}}
	run := func(as, name string, args map[string]any, out any) {
		var raw json.RawMessage
		if err := h.Call(name, args, &raw); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatal(err)
		}
		f.raw[as] = raw
	}
	run("valued", "portfolio.get_valued_positions", map[string]any{"portfolio_id": portfolio, "pricing_pack_id": packID}, &f.valued)
	run("twr", "metrics.compute_twr", map[string]any{"portfolio_id": portfolio, "include_series": true}, &f.twr)
	run("attribution", "attribution.currency", map[string]any{"portfolio_id": portfolio, "pricing_pack_id": packID}, &f.attribution)
	run("nav", "portfolio.historical_nav", map[string]any{"portfolio_id": portfolio}, &f.nav)
	run("sectors", "portfolio.sector_allocation", map[string]any{"positions": f.valued.Positions, "total_value": f.valued.TotalValue}, &f.sectors)
	return f
}

// storedFile reads a file row with plain SQL (no code of the storage
// package) and checks its hash and size against the content.
func storedFile(t *testing.T, db *storage.DB, id uuid.UUID) (content []byte, mediaType, name string) {
	t.Helper()
	var sum string
	var size int64
	if err := db.QueryRow(context.Background(), `SELECT content, media_type, name, sha256, size FROM files WHERE id = $1`,
		[]any{id}, &content, &mediaType, &name, &sum, &size); err != nil {
		t.Fatalf("read file %s: %v", id, err)
	}
	got := sha256.Sum256(content)
	if hex.EncodeToString(got[:]) != sum || int64(len(content)) != size {
		t.Fatalf("file %s: stored sha256 %s size %d; the content hashes to %x and is %d bytes", id, sum, size, got, len(content))
	}
	return content, mediaType, name
}

// pdfPages extracts the text of every page with a PDF reader.
func pdfPages(t *testing.T, content []byte) []string {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(content), int64(len(content)))
	if err != nil {
		t.Fatalf("open the PDF: %v", err)
	}
	pages := make([]string, r.NumPage())
	for i := range pages {
		txt, err := r.Page(i + 1).GetPlainText(nil)
		if err != nil {
			t.Fatalf("text of page %d: %v", i+1, err)
		}
		pages[i] = txt
	}
	return pages
}

// groupThousands writes a decimal at 2 places with thousands separators,
// independently of the package's own formatting: 1234567.891 is
// "1,234,567.89".
func groupThousands(d decimal.Decimal) string {
	s := d.Round(2).StringFixed(2)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	var parts []string
	for len(whole) > 3 {
		parts = append([]string{whole[len(whole)-3:]}, parts...)
		whole = whole[:len(whole)-3]
	}
	parts = append([]string{whole}, parts...)
	return sign + strings.Join(parts, ",") + "." + frac
}

// pct writes a fraction as a percentage at 2 places: 0.12345 is "12.35%".
func pct(f float64) string {
	return decimal.NewFromFloat(f).Mul(decimal.NewFromInt(100)).Round(2).StringFixed(2) + "%"
}

// fileOut is what every capability of the agent answers.
type fileOut struct {
	FileID    uuid.UUID `json:"file_id"`
	Name      string    `json:"name"`
	MediaType string    `json:"media_type"`
	Size      int64     `json:"size"`
	SHA256    string    `json:"sha256"`
	Download  string    `json:"download"`
	Sections  []string  `json:"sections"`
	Pages     int       `json:"pages"`
	Rows      int       `json:"rows"`
}
