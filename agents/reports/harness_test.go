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
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/agents/reports"
	"github.com/dawsos/dawsos/orchestrator"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
	"github.com/dawsos/dawsos/storage/seed"
)

func TestMain(m *testing.M) { pgtest.MainWithLeakCheck(m) }

// harness calls capabilities the way a step handler does: arguments
// checked against the input schema, the capability run in the registry
// with contract checks on, the output checked against the output schema.
// It hosts the analyst too, whose outputs are the figures the reports
// render.
type harness struct {
	t   *testing.T
	db  *storage.DB
	reg *agents.Registry
	cat *orchestrator.Catalog
	rc  agents.RunContext
	// step is the step id of the next call.
	step string
}

func newHarness(t *testing.T, db *storage.DB, deps agents.Deps) *harness {
	deps.DB = db
	r := agents.NewRegistry(agents.Options{DB: db, CheckContracts: true})
	r.Add(analyst.New(deps))
	r.Add(reports.New(deps))
	return &harness{t: t, db: db, reg: r, cat: orchestrator.MustCatalog(r)}
}

func (h *harness) call(name string, args any, out any) error {
	h.t.Helper()
	return h.callCtx(context.Background(), name, args, out)
}

func (h *harness) callCtx(ctx context.Context, name string, args any, out any) error {
	h.t.Helper()
	s, ok := h.reg.Get(name)
	if !ok {
		h.t.Fatalf("%s not registered", name)
	}
	raw, err := json.Marshal(args)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.cat.CheckArgs(name, raw, "args"); err != nil {
		return err
	}
	res, err := s.Invoke(ctx, agents.Call{Run: h.rc, StepID: h.step}, raw)
	if err != nil {
		return err
	}
	spec, _ := h.cat.Capability(name)
	if errs := spec.Output.Validate(res); len(errs) > 0 {
		h.t.Fatalf("%s: output breaks its schema: %v", name, errs)
	}
	return json.Unmarshal(res, out)
}

// demoEnd is the last day of the demo data; the window is three months,
// so a 252-day lookback runs over the shorter history.
var demoEnd = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

type demo struct {
	db     *storage.DB
	packID string
	ports  map[string]seed.PortfolioInfo
	users  map[string]uuid.UUID
}

func seedDemo(t *testing.T) demo { return seedDemoMonths(t, 3) }

// seedDemoMonths seeds the demo data with prices over the months before
// demoEnd (the macro series start two years earlier still).
func seedDemoMonths(t *testing.T, months int) demo {
	t.Helper()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	rep, err := seed.Run(ctx, db, seed.Options{Seed: 7, Start: demoEnd.AddDate(0, -months, 0), End: demoEnd,
		Passwords: map[string]string{seed.RoleAdmin: "a-pw", seed.RoleManager: "m-pw", seed.RoleViewer: "v-pw"}})
	if err != nil {
		t.Fatal(err)
	}
	dm := demo{db: db, ports: map[string]seed.PortfolioInfo{}, users: map[string]uuid.UUID{}}
	if err := db.QueryRow(ctx, `SELECT id FROM pricing_packs WHERE pack_date <= $1 AND status = 'fresh' AND superseded_by IS NULL
		ORDER BY pack_date DESC LIMIT 1`, []any{demoEnd}, &dm.packID); err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Portfolios {
		dm.ports[p.BaseCurrency] = p
	}
	return dm
}

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
func computeFigures(t *testing.T, h *harness, portfolio uuid.UUID, packID string) figures {
	t.Helper()
	f := figures{raw: map[string]json.RawMessage{}}
	run := func(as, name string, args map[string]any, out any) {
		var raw json.RawMessage
		if err := h.call(name, args, &raw); err != nil {
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
