package reports_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/reports"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
)

// TestRenderPDFOnTheDemoData renders the report of the CAD demo portfolio
// from the analyst's outputs, reads the stored file back with a PDF text
// extractor and finds every figure of those outputs in it, as the report
// prints them: the totals and each holding's value, the TWR, the four
// parts of the currency attribution, page numbers on every page.
func TestRenderPDFOnTheDemoData(t *testing.T) {
	t.Parallel()
	dm := seedDemo(t)
	h := newHarness(t, dm.DB, agents.Deps{})
	p := dm.Ports["CAD"]
	h.Run = agents.RunContext{PricingPackID: dm.PackID, AsOfDate: demoEnd.Format(time.DateOnly), LedgerCommitHash: "abc123"}
	f := computeFigures(t, h, p.ID, dm.PackID)

	var out fileOut
	args := map[string]any{"valued": f.raw["valued"], "twr": f.raw["twr"], "attribution": f.raw["attribution"],
		"nav": f.raw["nav"], "sectors": f.raw["sectors"]}
	if err := h.Call("reports.render_pdf", args, &out); err != nil {
		t.Fatal(err)
	}
	content, media, name := storedFile(t, dm.DB, out.FileID)
	if media != "application/pdf" || out.MediaType != media || !strings.HasSuffix(name, ".pdf") || name != out.Name {
		t.Errorf("stored %q as %s; output says %q as %s", name, media, out.Name, out.MediaType)
	}
	if out.Download != "/v1/files/"+out.FileID.String() || out.Size != int64(len(content)) || !bytes.HasPrefix(content, []byte("%PDF-")) {
		t.Errorf("output %+v for %d bytes starting %q", out, len(content), content[:8])
	}
	wantSections := []string{"Cover", "Holdings", "Performance", "Currency attribution", "Sources and methods"}
	if strings.Join(out.Sections, "|") != strings.Join(wantSections, "|") {
		t.Errorf("sections %v; want %v", out.Sections, wantSections)
	}

	pages := pdfPages(t, content)
	if len(pages) != out.Pages || len(pages) < len(wantSections) {
		t.Fatalf("the PDF has %d pages; the output says %d, and there are %d sections", len(pages), out.Pages, len(wantSections))
	}
	for i, pg := range pages {
		if want := fmt.Sprintf("Page %d of %d", i+1, len(pages)); !strings.Contains(pg, want) {
			t.Errorf("page %d lacks %q", i+1, want)
		}
	}
	all := strings.Join(pages, "\n")
	v := f.valued
	cover := pages[0]
	for _, want := range []string{p.Name, "CAD", dm.PackID, v.AsOfDate, groupThousands(v.TotalValue) + " CAD",
		groupThousands(v.PositionsValue) + " CAD", groupThousands(v.CashValue) + " CAD"} {
		if !strings.Contains(cover, want) {
			t.Errorf("the cover lacks %q", want)
		}
	}
	// The contents give each section's page; the section's heading is on it.
	for _, s := range wantSections[1:] {
		i := strings.Index(cover, s)
		if i < 0 {
			t.Errorf("the contents lack %s", s)
			continue
		}
		rest := cover[i+len(s):]
		j := strings.Index(rest, "page ")
		n, err := strconv.Atoi(strings.Fields(rest[j+5:])[0])
		if j < 0 || err != nil || n < 2 || n > len(pages) || !strings.HasPrefix(strings.TrimSpace(pages[n-1][strings.Index(pages[n-1], s):]), s) {
			t.Errorf("the contents give %s on page %q; the page does not start it", s, rest[:min(len(rest), 12)])
		}
	}
	if len(v.Positions) == 0 {
		t.Fatal("the demo portfolio holds nothing")
	}
	for _, pos := range v.Positions {
		if !strings.Contains(all, pos.Symbol) || !strings.Contains(all, groupThousands(pos.MarketValue)) {
			t.Errorf("holding %s valued %s (%s) is not in the PDF", pos.Symbol, pos.MarketValue, groupThousands(pos.MarketValue))
		}
	}
	for _, s := range f.sectors.Sectors {
		if !strings.Contains(all, s.Sector) || !strings.Contains(all, s.Weight.Mul(decimal.NewFromInt(100)).StringFixed(2)+"%") {
			t.Errorf("sector %s at %s is not in the allocation chart", s.Sector, s.Weight)
		}
	}
	ann := "not annualised"
	if f.twr.Annualized {
		ann = "annualised"
	}
	a := f.attribution
	for label, want := range map[string]string{
		"TWR":                pct(f.twr.TWR) + " (" + ann + ")",
		"total return":       pct(f.twr.TotalReturn),
		"local effect":       pct(a.LocalReturn),
		"currency effect":    pct(a.FXReturn),
		"interaction":        pct(a.InteractionReturn),
		"attribution total":  pct(a.TotalReturn),
		"first NAV":          groupThousands(f.nav.Values[0].TotalValue),
		"last NAV":           groupThousands(f.nav.Values[len(f.nav.Values)-1].TotalValue),
		"TWR source":         "Source: metrics.compute_twr",
		"attribution source": "Source: attribution.currency",
		"method line":        "Holdings: computed by portfolio.get_valued_positions",
		"pack line":          "Prices and FX rates: pricing pack " + dm.PackID,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("%s: %q is not in the PDF", label, want)
		}
	}
	for _, l := range a.ByCurrency {
		if !strings.Contains(all, l.Currency) || !strings.Contains(all, pct(l.Total)) {
			t.Errorf("currency %s with total %s is not in the attribution", l.Currency, pct(l.Total))
		}
	}
	// The four parts the report prints add up to the total it prints,
	// within the rounding of four figures shown at 0.01 %.
	sum := a.LocalReturn + a.FXReturn + a.InteractionReturn
	if math.Abs(sum-a.TotalReturn) > 1e-5 {
		t.Errorf("local %v + fx %v + interaction %v = %v; total %v", a.LocalReturn, a.FXReturn, a.InteractionReturn, sum, a.TotalReturn)
	}

	// The same figures give the same bytes: the step can be replayed.
	var again fileOut
	if err := h.Call("reports.render_pdf", args, &again); err != nil {
		t.Fatal(err)
	}
	if again.SHA256 != out.SHA256 || again.Size != out.Size {
		t.Errorf("a second rendering hashes to %s (%d bytes), the first to %s (%d bytes)", again.SHA256, again.Size, out.SHA256, out.Size)
	}

	// Without holdings and performance: the cover, the holdings skipped.
	var brief fileOut
	if err := h.Call("reports.render_pdf", map[string]any{"valued": f.raw["valued"], "include_holdings": false}, &brief); err != nil {
		t.Fatal(err)
	}
	bp := pdfPages(t, storedContent(t, h, brief.FileID))
	if len(bp) != 2 || brief.Pages != 2 || strings.Join(brief.Sections, "|") != "Cover|Sources and methods" {
		t.Errorf("cover-only report: %d pages, sections %v; want 2 pages, the cover and the sources", len(bp), brief.Sections)
	}
	if strings.Contains(strings.Join(bp, ""), "Time-weighted return") {
		t.Error("a report without performance prints a TWR")
	}
}

func storedContent(t *testing.T, h *enginetest.Harness, id uuid.UUID) []byte {
	t.Helper()
	c, _, _ := storedFile(t, h.DB, id)
	return c
}

// TestExportExcelOnTheDemoData reads the workbook back with excelize: one
// sheet per section, numbers as numeric cells with number formats, and
// the figures of the analyst's outputs in them.
func TestExportExcelOnTheDemoData(t *testing.T) {
	t.Parallel()
	dm := seedDemo(t)
	h := newHarness(t, dm.DB, agents.Deps{})
	p := dm.Ports["EUR"]
	if p.ID == uuid.Nil {
		p = dm.Ports["USD"]
	}
	h.Run = agents.RunContext{PricingPackID: dm.PackID, AsOfDate: demoEnd.Format(time.DateOnly)}
	f := computeFigures(t, h, p.ID, dm.PackID)
	var out fileOut
	if err := h.Call("reports.export_excel", map[string]any{"valued": f.raw["valued"], "twr": f.raw["twr"],
		"attribution": f.raw["attribution"], "nav": f.raw["nav"], "sectors": f.raw["sectors"],
		"macro": map[string]any{"regime": "MID_EXPANSION", "confidence": 0.61, "z_scores": map[string]any{"UNRATE": -0.8}}}, &out); err != nil {
		t.Fatal(err)
	}
	content, media, name := storedFile(t, dm.DB, out.FileID)
	if media != reports.MediaXLSX || !strings.HasSuffix(name, ".xlsx") {
		t.Errorf("stored %q as %s", name, media)
	}
	var again fileOut
	if err := h.Call("reports.export_excel", map[string]any{"valued": f.raw["valued"], "twr": f.raw["twr"],
		"attribution": f.raw["attribution"], "nav": f.raw["nav"], "sectors": f.raw["sectors"],
		"macro": map[string]any{"regime": "MID_EXPANSION", "confidence": 0.61, "z_scores": map[string]any{"UNRATE": -0.8}}}, &again); err != nil {
		t.Fatal(err)
	}
	if again.SHA256 != out.SHA256 {
		t.Errorf("the same figures give workbooks hashing to %s and %s", out.SHA256, again.SHA256)
	}
	x, err := excelize.OpenReader(bytes.NewReader(content))
	if err != nil {
		t.Fatalf("open the workbook: %v", err)
	}
	defer x.Close()
	wantSheets := []string{"Summary", "Holdings", "Allocation", "Performance", "NAV", "Attribution", "Macro", "Sources"}
	if got := x.GetSheetList(); strings.Join(got, "|") != strings.Join(wantSheets, "|") || strings.Join(out.Sections, "|") != strings.Join(wantSheets, "|") {
		t.Fatalf("sheets %v (output says %v); want %v", got, out.Sections, wantSheets)
	}
	// number reads a cell that must be a typed number with the format.
	number := func(sheet, ref, format string) float64 {
		t.Helper()
		typ, err := x.GetCellType(sheet, ref)
		if err != nil {
			t.Fatal(err)
		}
		if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("%s!%s is of type %v, not a number", sheet, ref, typ)
		}
		raw, err := x.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			t.Errorf("%s!%s holds %q, not a number", sheet, ref, raw)
		}
		styleID, err := x.GetCellStyle(sheet, ref)
		if err != nil {
			t.Fatal(err)
		}
		st, err := x.GetStyle(styleID)
		if err != nil {
			t.Fatal(err)
		}
		if st.CustomNumFmt == nil || *st.CustomNumFmt != format {
			got := "none"
			if st.CustomNumFmt != nil {
				got = *st.CustomNumFmt
			}
			t.Errorf("%s!%s has number format %s (built-in %d); want %s", sheet, ref, got, st.NumFmt, format)
		}
		return n
	}
	near := func(what string, got float64, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %v; the run's output says %v", what, got, want)
		}
	}
	// Summary: the total, then the holdings row by row, in output order.
	cellText := func(sheet, ref string) string {
		s, err := x.GetCellValue(sheet, ref)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	rows, err := x.GetRows("Summary")
	if err != nil {
		t.Fatal(err)
	}
	totalRow := 0
	for i, r := range rows {
		if len(r) > 0 && r[0] == "Total value" {
			totalRow = i + 1
		}
	}
	near("Summary total value", number("Summary", fmt.Sprintf("B%d", totalRow), "#,##0.00"), f.valued.TotalValue.InexactFloat64())
	if typ, _ := x.GetCellType("Summary", "B2"); typ != excelize.CellTypeSharedString && typ != excelize.CellTypeInlineString {
		t.Errorf("the portfolio's name is of type %v, not text", typ)
	}
	for i, pos := range f.valued.Positions {
		r := i + 2
		if got := cellText("Holdings", fmt.Sprintf("A%d", r)); got != pos.Symbol {
			t.Fatalf("Holdings!A%d = %q; want %s", r, got, pos.Symbol)
		}
		near(pos.Symbol+" market value", number("Holdings", fmt.Sprintf("H%d", r), "#,##0.00"), pos.MarketValue.InexactFloat64())
		near(pos.Symbol+" weight", number("Holdings", fmt.Sprintf("I%d", r), "0.00%"), pos.Weight.InexactFloat64())
		near(pos.Symbol+" fx rate", number("Holdings", fmt.Sprintf("G%d", r), "0.000000"), pos.FXRate.InexactFloat64())
	}
	hr, _ := x.GetRows("Holdings")
	last := len(hr)
	if cellText("Holdings", fmt.Sprintf("A%d", last)) != "Total value" {
		t.Fatalf("the last holdings row is %v; want the total", hr[last-1])
	}
	near("Holdings total", number("Holdings", fmt.Sprintf("H%d", last), "#,##0.00"), f.valued.TotalValue.InexactFloat64())
	// Performance: the TWR as a percentage-formatted fraction.
	near("TWR", number("Performance", "B2", "0.00%"), f.twr.TWR)
	near("total return", number("Performance", "B4", "0.00%"), f.twr.TotalReturn)
	if d := number("Performance", "B5", "yyyy-mm-dd"); d < 40000 {
		t.Errorf("the start date is serial %v, not a date", d)
	}
	// Attribution: the portfolio row's four parts and the residual.
	a := f.attribution
	near("local", number("Attribution", "E2", "0.00%"), a.LocalReturn)
	near("fx", number("Attribution", "F2", "0.00%"), a.FXReturn)
	near("interaction", number("Attribution", "G2", "0.00%"), a.InteractionReturn)
	near("total", number("Attribution", "H2", "0.00%"), a.TotalReturn)
	near("residual", number("Attribution", "I2", "0.0000"), a.ResidualBP)
	// NAV: one row per value, the last one the output's last.
	nr, _ := x.GetRows("NAV")
	if len(nr) != len(f.nav.Values)+1 {
		t.Errorf("NAV sheet has %d rows; want %d values and the header", len(nr), len(f.nav.Values))
	}
	near("last NAV", number("NAV", fmt.Sprintf("B%d", len(nr)), "#,##0.00"), f.nav.Values[len(f.nav.Values)-1].TotalValue.InexactFloat64())
	// Macro: a number stays a number.
	mr, _ := x.GetRows("Macro")
	for i, r := range mr {
		if len(r) > 0 && r[0] == "confidence" {
			raw, _ := x.GetCellValue("Macro", fmt.Sprintf("B%d", i+1), excelize.Options{RawCellValue: true})
			if typ, _ := x.GetCellType("Macro", fmt.Sprintf("B%d", i+1)); raw != "0.61" || (typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber) {
				t.Errorf("macro confidence cell = %q of type %v; want the number 0.61", raw, typ)
			}
		}
	}
}

// TestExportCSVOnTheDemoData parses each CSV section with encoding/csv and
// checks it against the analyst's outputs: the holdings' values add up to
// the total exactly, the attribution's parts are the output's.
func TestExportCSVOnTheDemoData(t *testing.T) {
	t.Parallel()
	dm := seedDemo(t)
	h := newHarness(t, dm.DB, agents.Deps{})
	p := dm.Ports["CAD"]
	h.Run = agents.RunContext{PricingPackID: dm.PackID, AsOfDate: demoEnd.Format(time.DateOnly)}
	f := computeFigures(t, h, p.ID, dm.PackID)
	export := func(section string) [][]string {
		t.Helper()
		var out fileOut
		if err := h.Call("reports.export_csv", map[string]any{"valued": f.raw["valued"], "twr": f.raw["twr"],
			"attribution": f.raw["attribution"], "nav": f.raw["nav"], "sectors": f.raw["sectors"], "section": section}, &out); err != nil {
			t.Fatalf("export %s: %v", section, err)
		}
		content, media, name := storedFile(t, dm.DB, out.FileID)
		if media != "text/csv; charset=utf-8" || name != "portfolio-"+section+"-"+demoEnd.Format(time.DateOnly)+".csv" {
			t.Errorf("section %s stored as %q, %s", section, name, media)
		}
		r := csv.NewReader(bytes.NewReader(content))
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatalf("parse the %s CSV: %v", section, err)
		}
		if len(recs)-1 != out.Rows {
			t.Errorf("%s: %d data rows; the output says %d", section, len(recs)-1, out.Rows)
		}
		return recs
	}
	dec := func(s string) decimal.Decimal {
		t.Helper()
		d, err := decimal.NewFromString(s)
		if err != nil {
			t.Fatalf("%q is not a decimal: %v", s, err)
		}
		return d
	}
	hold := export("holdings")
	if strings.Join(hold[0], ",") != "kind,symbol,name,sector,currency,quantity,close,fx_rate,market_value,weight,unrealized_pl" {
		t.Fatalf("holdings header %v", hold[0])
	}
	sum, positions := decimal.Zero, 0
	var total decimal.Decimal
	for _, r := range hold[1:] {
		switch r[0] {
		case "position":
			if !dec(r[8]).Equal(f.valued.Positions[positions].MarketValue) || r[1] != f.valued.Positions[positions].Symbol {
				t.Errorf("row %v; want %s at %s", r, f.valued.Positions[positions].Symbol, f.valued.Positions[positions].MarketValue)
			}
			positions++
			sum = sum.Add(dec(r[8]))
		case "cash":
			sum = sum.Add(dec(r[8]))
		case "total":
			total = dec(r[8])
		}
	}
	if positions != len(f.valued.Positions) || !total.Equal(f.valued.TotalValue) || !sum.Equal(total) {
		t.Errorf("%d position rows (want %d); rows add up to %s, total row %s, output total %s", positions, len(f.valued.Positions), sum, total, f.valued.TotalValue)
	}
	att := export("attribution")
	row := att[1]
	for i, want := range []float64{f.attribution.LocalReturn, f.attribution.FXReturn, f.attribution.InteractionReturn, f.attribution.TotalReturn, f.attribution.ResidualBP} {
		got, err := strconv.ParseFloat(row[4+i], 64)
		if err != nil || got != want {
			t.Errorf("attribution column %s = %q; the output says %v (exactly)", att[0][4+i], row[4+i], want)
		}
	}
	if row[0] != "portfolio" || len(att)-2 != len(f.attribution.ByCurrency)+len(f.attribution.Positions) {
		t.Errorf("attribution rows %d; want the portfolio, %d currencies and %d positions", len(att)-1, len(f.attribution.ByCurrency), len(f.attribution.Positions))
	}
	nav := export("nav")
	if len(nav)-1 != len(f.nav.Values) || !dec(nav[len(nav)-1][1]).Equal(f.nav.Values[len(f.nav.Values)-1].TotalValue) {
		t.Errorf("nav CSV has %d rows ending %v; the output %d values", len(nav)-1, nav[len(nav)-1], len(f.nav.Values))
	}
	perf := export("performance")
	if perf[1][0] != "twr" || perf[1][1] != strconv.FormatFloat(f.twr.TWR, 'g', -1, 64) {
		t.Errorf("performance CSV %v; want twr %v", perf, f.twr.TWR)
	}
	alloc := export("allocation")
	if len(alloc)-1 != len(f.sectors.Sectors) || !dec(alloc[1][2]).Equal(f.sectors.Sectors[0].Weight) {
		t.Errorf("allocation CSV %v; want %d sectors", alloc, len(f.sectors.Sectors))
	}
}

// TestReplayStoresOneFile: the same step of the same run stores its file
// once, keeping its id, whether the content changes or not.
func TestReplayStoresOneFile(t *testing.T) {
	t.Parallel()
	dm := seedDemo(t)
	h := newHarness(t, dm.DB, agents.Deps{})
	ctx := context.Background()
	runID := uuid.New()
	// A run row to hang the files on, with the pattern version its
	// foreign key names.
	hash := strings.Repeat("ab", 32)
	if _, err := dm.DB.Exec(ctx, `INSERT INTO pattern_versions (hash, pattern_id, document) VALUES ($1, 'export_portfolio_report', '{}')`, hash); err != nil {
		t.Fatal(err)
	}
	if _, err := dm.DB.Exec(ctx, `INSERT INTO runs (id, pattern, pattern_hash, correlation_id) VALUES ($1, 'export_portfolio_report', $2, 'c')`, runID, hash); err != nil {
		t.Fatal(err)
	}
	h.Run = agents.RunContext{RunID: runID.String(), PricingPackID: dm.PackID, AsOfDate: demoEnd.Format(time.DateOnly)}
	h.Step = "report"
	f := computeFigures(t, h, dm.Ports["CAD"].ID, dm.PackID)
	var first, second, retitled fileOut
	args := map[string]any{"valued": f.raw["valued"], "twr": f.raw["twr"]}
	if err := h.Call("reports.render_pdf", args, &first); err != nil {
		t.Fatal(err)
	}
	if err := h.Call("reports.render_pdf", args, &second); err != nil {
		t.Fatal(err)
	}
	args["title"] = "Quarterly report"
	if err := h.Call("reports.render_pdf", args, &retitled); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := dm.DB.QueryRow(ctx, `SELECT count(*) FROM files WHERE run_id = $1`, []any{runID}, &n); err != nil {
		t.Fatal(err)
	}
	if n != 1 || second.FileID != first.FileID || retitled.FileID != first.FileID || second.SHA256 != first.SHA256 {
		t.Fatalf("three renderings of one step stored %d files (ids %s %s %s, hashes %s %s); want one file, one id",
			n, first.FileID, second.FileID, retitled.FileID, first.SHA256, second.SHA256)
	}
	content := storedContent(t, h, first.FileID)
	if retitled.SHA256 == first.SHA256 || !strings.Contains(pdfPages(t, content)[0], "Quarterly report") {
		t.Errorf("the replay with a new title did not replace the content (hash %s)", retitled.SHA256)
	}
	// Another step of the run stores its own file.
	h.Step = "workbook"
	delete(args, "title")
	var wb fileOut
	if err := h.Call("reports.export_excel", args, &wb); err != nil {
		t.Fatal(err)
	}
	if err := dm.DB.QueryRow(ctx, `SELECT count(*) FROM files WHERE run_id = $1`, []any{runID}, &n); err != nil {
		t.Fatal(err)
	}
	if n != 2 || wb.FileID == first.FileID {
		t.Errorf("a second step stored %d files in all (id %s); want 2", n, wb.FileID)
	}
}

// TestReportsRefuseBadInput: an unknown portfolio is not_found; figures of
// another portfolio, a CSV section without its figures and a file over
// the size limit are invalid_input naming the field; nothing is stored.
func TestReportsRefuseBadInput(t *testing.T) {
	t.Parallel()
	dm := seedDemo(t)
	h := newHarness(t, dm.DB, agents.Deps{})
	h.Run = agents.RunContext{PricingPackID: dm.PackID, AsOfDate: demoEnd.Format(time.DateOnly)}
	cad := computeFigures(t, h, dm.Ports["CAD"].ID, dm.PackID)
	usd := computeFigures(t, h, dm.Ports["USD"].ID, dm.PackID)
	var out fileOut
	code := func(err error) (string, string) {
		var ae *agents.Error
		if !errors.As(err, &ae) {
			return fmt.Sprint(err), ""
		}
		return ae.Code, ae.Field
	}
	var valued map[string]any
	if err := json.Unmarshal(cad.raw["valued"], &valued); err != nil {
		t.Fatal(err)
	}
	valued["portfolio_id"] = uuid.NewString()
	cases := []struct {
		name, capability  string
		args              map[string]any
		wantCode, wantFld string
	}{
		{"unknown portfolio", "reports.render_pdf", map[string]any{"valued": valued}, agents.CodeNotFound, ""},
		{"unknown portfolio (xlsx)", "reports.export_excel", map[string]any{"valued": valued}, agents.CodeNotFound, ""},
		{"twr of another portfolio", "reports.render_pdf", map[string]any{"valued": cad.raw["valued"], "twr": usd.raw["twr"]}, agents.CodeInvalidInput, "twr.portfolio_id"},
		{"attribution of another portfolio", "reports.export_excel", map[string]any{"valued": cad.raw["valued"], "attribution": usd.raw["attribution"]}, agents.CodeInvalidInput, "attribution.portfolio_id"},
		{"nav section without nav", "reports.export_csv", map[string]any{"valued": cad.raw["valued"], "section": "nav"}, agents.CodeInvalidInput, "nav"},
		{"unknown section", "reports.export_csv", map[string]any{"valued": cad.raw["valued"], "section": "taxes"}, agents.CodeInvalidInput, "args.section"},
		{"no holdings", "reports.render_pdf", map[string]any{"twr": cad.raw["twr"]}, agents.CodeInvalidInput, ""},
		{"file name with a path", "reports.render_pdf", map[string]any{"valued": cad.raw["valued"], "file_name": "../etc/passwd"}, agents.CodeInvalidInput, "args.file_name"},
	}
	for _, c := range cases {
		err := h.Call(c.capability, c.args, &out)
		gotCode, gotField := code(err)
		if gotCode != c.wantCode || (c.wantFld != "" && gotField != c.wantFld && !fieldsContain(err, c.wantFld)) {
			t.Errorf("%s: %v; want %s on %q", c.name, err, c.wantCode, c.wantFld)
		}
	}
	small := newHarness(t, dm.DB, agents.Deps{ReportMaxBytes: 2000})
	small.Run = h.Run
	err := small.Call("reports.render_pdf", map[string]any{"valued": cad.raw["valued"]}, &out)
	if c, _ := code(err); c != agents.CodeInvalidInput || !strings.Contains(err.Error(), "size limit of 2000 bytes") {
		t.Errorf("a PDF over a 2,000-byte limit: %v; want invalid_input naming the limit", err)
	}
	// A step whose deadline has passed stops with timeout.
	ctx, cancel := context.WithTimeout(context.Background(), -time.Second)
	defer cancel()
	err = h.CallContext(ctx, "reports.render_pdf", map[string]any{"valued": cad.raw["valued"]}, &out)
	if c, _ := code(err); c != agents.CodeTimeout {
		t.Errorf("past its deadline: %v; want timeout", err)
	}
	var n int
	if err := dm.DB.QueryRow(context.Background(), `SELECT count(*) FROM files`, nil, &n); err != nil || n != 0 {
		t.Errorf("%d files stored by refused calls (%v); want none", n, err)
	}
}

func fieldsContain(err error, field string) bool {
	var ae *agents.Error
	if !errors.As(err, &ae) {
		return false
	}
	for _, f := range ae.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// TestCashOnlyPortfolio: a portfolio that holds only cash gets a report
// with an empty holdings table, its cash and its total (hand-made figures:
// 2,500 CAD and 1,000 USD at 1.35, so 3,850 CAD in all).
func TestCashOnlyPortfolio(t *testing.T) {
	t.Parallel()
	dm := seedDemo(t)
	h := newHarness(t, dm.DB, agents.Deps{})
	h.Run = agents.RunContext{PricingPackID: dm.PackID, AsOfDate: demoEnd.Format(time.DateOnly)}
	valued := map[string]any{
		"portfolio_id": dm.Ports["CAD"].ID, "pricing_pack_id": dm.PackID, "asof_date": demoEnd.Format(time.DateOnly),
		"base_currency": "CAD", "positions": []any{},
		"cash": []map[string]any{{"currency": "CAD", "amount": "2500", "fx_rate": "1", "base_value": "2500"},
			{"currency": "USD", "amount": "1000", "fx_rate": "1.35", "base_value": "1350"}},
		"positions_value": "0", "cash_value": "3850", "total_value": "3850", "provenance": map[string]any{},
	}
	var out fileOut
	if err := h.Call("reports.render_pdf", map[string]any{"valued": valued}, &out); err != nil {
		t.Fatal(err)
	}
	pages := pdfPages(t, storedContent(t, h, out.FileID))
	all := strings.Join(pages, "\n")
	for _, want := range []string{"3,850.00 CAD", "1,350.00", "1.3500", "Positions held", "Cash value"} {
		if !strings.Contains(all, want) {
			t.Errorf("the cash-only report lacks %q", want)
		}
	}
	var csvOut fileOut
	if err := h.Call("reports.export_csv", map[string]any{"valued": valued}, &csvOut); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(storedContent(t, h, csvOut.FileID))).ReadAll()
	if err != nil || len(recs) != 4 || recs[3][0] != "total" || recs[3][8] != "3850" {
		t.Errorf("cash-only CSV %v (%v); want two cash rows and the total 3850", recs, err)
	}
}

// TestLongHoldingsTableBreaksPages: 150 hand-made positions of 1,000 CAD
// each (150,000 CAD, weights 1/150) run over several pages; the table's
// header repeats on each, every page is numbered, every holding printed.
func TestLongHoldingsTableBreaksPages(t *testing.T) {
	t.Parallel()
	dm := seedDemo(t)
	h := newHarness(t, dm.DB, agents.Deps{})
	h.Run = agents.RunContext{PricingPackID: dm.PackID, AsOfDate: demoEnd.Format(time.DateOnly)}
	positions := []map[string]any{}
	for i := range 150 {
		positions = append(positions, map[string]any{"symbol": fmt.Sprintf("S%03d", i), "name": fmt.Sprintf("Security %d", i),
			"sector": "Industrials", "quantity": "10", "close": "100", "price_currency": "CAD", "fx_rate": "1",
			"market_value": "1000", "weight": "0.0066666667"})
	}
	valued := map[string]any{
		"portfolio_id": dm.Ports["CAD"].ID, "pricing_pack_id": dm.PackID, "asof_date": demoEnd.Format(time.DateOnly),
		"base_currency": "CAD", "positions": positions, "cash": []any{},
		"positions_value": "150000", "cash_value": "0", "total_value": "150000", "provenance": map[string]any{},
	}
	var out fileOut
	if err := h.Call("reports.render_pdf", map[string]any{"valued": valued}, &out); err != nil {
		t.Fatal(err)
	}
	pages := pdfPages(t, storedContent(t, h, out.FileID))
	if len(pages) < 5 || out.Pages != len(pages) {
		t.Fatalf("150 holdings on %d pages (output says %d); want the cover, at least three pages of holdings and the sources", len(pages), out.Pages)
	}
	all := strings.Join(pages, "\n")
	for i := range 150 {
		if !strings.Contains(all, fmt.Sprintf("S%03d", i)) {
			t.Errorf("holding S%03d is missing", i)
		}
	}
	if !strings.Contains(all, "150,000.00 CAD") || !strings.Contains(all, "0.67%") || !strings.Contains(all, "Weights of the 20 largest of 150 positions") {
		t.Error("the total 150,000.00 CAD, a weight of 0.67% or the chart of the 20 largest weights is missing")
	}
	for i, pg := range pages {
		if !strings.Contains(pg, fmt.Sprintf("Page %d of %d", i+1, len(pages))) {
			t.Errorf("page %d is not numbered", i+1)
		}
		if strings.Contains(pg, "Security ") && !strings.Contains(pg, "Unreal. P&L") {
			t.Errorf("page %d lists holdings without the table's header", i+1)
		}
	}
}
