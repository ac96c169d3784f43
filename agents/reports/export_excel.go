package reports

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Reports) exportExcel() agents.Def {
	return agents.Write(agents.Meta{
		Name: "reports.export_excel",
		Description: "Writes the figures of earlier steps into an .xlsx workbook with one sheet per section (summary, holdings, " +
			"allocation, performance, NAV, attribution, macro, sources), numbers as typed numeric cells with number formats; " +
			"stores it in files and answers its download link.",
		Reads:  []string{"portfolios", "pricing_packs"},
		Writes: []string{"files"},
		Codes:  []string{agents.CodeNotFound},
	}, a.ExportExcel)
}

// ExportExcelInput is the figures and what to write of them.
type ExportExcelInput struct {
	Figures
	IncludeHoldings bool   `json:"include_holdings,omitempty" jsonschema:"default=true" doc:"Write the Holdings sheet."`
	FileName        string `json:"file_name,omitempty" jsonschema:"maxLength=100,pattern=^[A-Za-z0-9][A-Za-z0-9._ -]*$" doc:"The download name (.xlsx is added); portfolio-report-<portfolio>-<as-of date>.xlsx when absent."`
}

// Validate checks that the figures belong to one portfolio.
func (in ExportExcelInput) Validate() error { return in.check() }

// Sheet names, one per section.
const (
	sheetSummary     = "Summary"
	sheetHoldings    = "Holdings"
	sheetAllocation  = "Allocation"
	sheetPerformance = "Performance"
	sheetNAV         = "NAV"
	sheetAttribution = "Attribution"
	sheetMacro       = "Macro"
	sheetSources     = "Sources"
)

// ExportExcel implements reports.export_excel.
func (a *Reports) ExportExcel(ctx context.Context, c *agents.Call, in ExportExcelInput) (FileOutput, error) {
	v := in.Valued
	p, err := storage.GetPortfolio(ctx, c.DB, v.PortfolioID)
	if err != nil {
		return FileOutput{}, fmt.Errorf("workbook of portfolio %s: %w", v.PortfolioID, err)
	}
	pack, err := storage.GetPack(ctx, c.DB, v.PricingPackID)
	if err != nil {
		return FileOutput{}, fmt.Errorf("workbook of portfolio %s: pricing pack %s: %w", v.PortfolioID, v.PricingPackID, err)
	}
	wb, err := newWorkbook(asOfTime(v.AsOfDate), "Portfolio report: "+p.Name)
	if err != nil {
		return FileOutput{}, err
	}
	defer wb.f.Close()
	sheets := []struct {
		name string
		want bool
		fill func(*sheet)
	}{
		{sheetSummary, true, func(s *sheet) { summarySheet(s, p.Name, v) }},
		{sheetHoldings, in.IncludeHoldings, func(s *sheet) { holdingsSheet(s, v) }},
		{sheetAllocation, in.Sectors != nil, func(s *sheet) { allocationSheet(s, in.Sectors) }},
		{sheetPerformance, in.TWR != nil, func(s *sheet) { performanceSheet(s, in.TWR) }},
		{sheetNAV, in.NAV != nil, func(s *sheet) { navSheet(s, in.NAV) }},
		{sheetAttribution, in.Attribution != nil, func(s *sheet) { attributionSheet(s, in.Attribution) }},
		{sheetMacro, in.Macro != nil, func(s *sheet) { macroSheet(s, in.Macro) }},
		{sheetSources, true, func(s *sheet) {
			sourcesSheet(s, in.Figures, fmt.Sprintf("Prices and FX rates: pricing pack %s (policy %s, content hash %s), as of %s.",
				v.PricingPackID, pack.Policy, short(pack.ContentHash), v.AsOfDate))
		}},
	}
	var names []string
	for _, sh := range sheets {
		if !sh.want {
			continue
		}
		if err := ctx.Err(); err != nil {
			return FileOutput{}, fmt.Errorf("write the %s sheet: %w", sh.name, err)
		}
		s, err := wb.sheet(sh.name)
		if err != nil {
			return FileOutput{}, err
		}
		sh.fill(s)
		if s.err != nil {
			return FileOutput{}, agents.Wrap(agents.CodeInternal, s.err, "write the %s sheet", sh.name)
		}
		names = append(names, sh.name)
	}
	buf, err := wb.f.WriteToBuffer()
	if err != nil {
		return FileOutput{}, agents.Wrap(agents.CodeInternal, err, "write the workbook of portfolio %s", p.ID)
	}
	out, err := a.store(ctx, c, fileName(in.FileName, "portfolio-report", p.Name, v.AsOfDate, ".xlsx"), MediaXLSX, buf.Bytes())
	if err != nil {
		return out, err
	}
	out.Sections = names
	out.Provenance = reportProvenance(c, v, "excelize workbook, one sheet per section: "+strings.Join(names, ", "))
	out.Provenance.Convention = "numbers are numeric cells at full precision with number formats: money #,##0.00 in " + v.BaseCurrency +
		" unless a currency column names another, returns and weights as fractions formatted 0.00% (0.05 shows as 5.00%), dates as dates"
	return out, nil
}

// Number formats of the workbook's numeric cells.
const (
	fmtMoney    = "#,##0.00"
	fmtQuantity = "#,##0.####"
	fmtPrice    = "#,##0.00##"
	fmtRate     = "0.000000"
	fmtPercent  = "0.00%"
	fmtBP       = "0.0000"
	fmtInteger  = "0"
	fmtWhole    = "#,##0"
	fmtDate     = "yyyy-mm-dd"
)

type workbook struct {
	f      *excelize.File
	styles map[string]int
	header int
	bold   int
	first  bool
}

func newWorkbook(date time.Time, title string) (*workbook, error) {
	f := excelize.NewFile()
	stamp := date.UTC().Format(time.RFC3339)
	// Dated by the figures, not the clock, so the same figures give the
	// same bytes.
	if err := f.SetDocProps(&excelize.DocProperties{Title: title, Creator: "DawsOS reports.export_excel",
		Created: stamp, Modified: stamp, LastModifiedBy: "DawsOS"}); err != nil {
		return nil, agents.Wrap(agents.CodeInternal, err, "set workbook properties")
	}
	wb := &workbook{f: f, styles: map[string]int{}, first: true}
	for _, nf := range []string{fmtMoney, fmtQuantity, fmtPrice, fmtRate, fmtPercent, fmtBP, fmtInteger, fmtWhole, fmtDate} {
		code := nf
		id, err := f.NewStyle(&excelize.Style{CustomNumFmt: &code})
		if err != nil {
			return nil, agents.Wrap(agents.CodeInternal, err, "workbook style %s", nf)
		}
		wb.styles[nf] = id
	}
	var err error
	if wb.header, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill:   excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E6EAF0"}},
		Border: []excelize.Border{{Type: "bottom", Color: "808080", Style: 1}}}); err != nil {
		return nil, agents.Wrap(agents.CodeInternal, err, "workbook header style")
	}
	if wb.bold, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err != nil {
		return nil, agents.Wrap(agents.CodeInternal, err, "workbook bold style")
	}
	return wb, nil
}

// sheet adds a sheet (the first renames the workbook's default one).
func (wb *workbook) sheet(name string) (*sheet, error) {
	var err error
	if wb.first {
		err = wb.f.SetSheetName("Sheet1", name)
		wb.first = false
	} else {
		_, err = wb.f.NewSheet(name)
	}
	if err != nil {
		return nil, agents.Wrap(agents.CodeInternal, err, "add sheet %s", name)
	}
	return &sheet{wb: wb, name: name}, nil
}

// sheet writes rows one after the other, keeping the first error.
type sheet struct {
	wb   *workbook
	name string
	row  int
	err  error
}

// cell is one value with its number format ("" for text and none).
type cell struct {
	v   any
	fmt string
}

func txt(s string) cell { return cell{v: s} }
func mon(d decimal.Decimal) cell {
	return cell{v: d.InexactFloat64(), fmt: fmtMoney}
}
func qty(d decimal.Decimal) cell {
	if d.IsInteger() {
		return cell{v: d.InexactFloat64(), fmt: fmtWhole}
	}
	return cell{v: d.InexactFloat64(), fmt: fmtQuantity}
}
func pct(f float64) cell            { return cell{v: f, fmt: fmtPercent} }
func pctDec(d decimal.Decimal) cell { return cell{v: d.InexactFloat64(), fmt: fmtPercent} }
func integer(n int) cell            { return cell{v: n, fmt: fmtInteger} }

// date is a date cell; text that is not a date stays text.
func date(s string) cell {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return txt(s)
	}
	return cell{v: t, fmt: fmtDate}
}

func optMon(d *decimal.Decimal) cell {
	if d == nil {
		return cell{}
	}
	return mon(*d)
}

func (s *sheet) write(cells ...cell) {
	s.row++
	for i, c := range cells {
		if s.err != nil || c.v == nil {
			continue
		}
		ref, err := excelize.CoordinatesToCellName(i+1, s.row)
		if err != nil {
			s.err = err
			return
		}
		if str, ok := c.v.(string); ok {
			s.err = s.wb.f.SetCellStr(s.name, ref, str)
		} else {
			s.err = s.wb.f.SetCellValue(s.name, ref, c.v)
		}
		if s.err == nil && c.fmt != "" {
			s.err = s.wb.f.SetCellStyle(s.name, ref, ref, s.wb.styles[c.fmt])
		}
	}
}

// header writes a header row in the header style and freezes it when it
// is the first row.
func (s *sheet) header(titles ...string) {
	cells := make([]cell, len(titles))
	for i, t := range titles {
		cells[i] = txt(t)
	}
	s.write(cells...)
	s.style(s.wb.header, len(titles))
	if s.err == nil && s.row == 1 {
		s.err = s.wb.f.SetPanes(s.name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
	}
}

// style sets a style on the first n cells of the current row.
func (s *sheet) style(id, n int) {
	if s.err != nil || n == 0 {
		return
	}
	from, _ := excelize.CoordinatesToCellName(1, s.row)
	to, _ := excelize.CoordinatesToCellName(n, s.row)
	s.err = s.wb.f.SetCellStyle(s.name, from, to, id)
}

func (s *sheet) widths(ws ...float64) {
	for i, w := range ws {
		if s.err != nil {
			return
		}
		col, _ := excelize.ColumnNumberToName(i + 1)
		s.err = s.wb.f.SetColWidth(s.name, col, col, w)
	}
}

func summarySheet(s *sheet, name string, v ValuedFigures) {
	s.header("Field", "Value")
	s.write(txt("Portfolio"), txt(name))
	s.write(txt("Portfolio id"), txt(v.PortfolioID.String()))
	s.write(txt("Base currency"), txt(v.BaseCurrency))
	s.write(txt("Pricing pack"), txt(v.PricingPackID))
	s.write(txt("As-of date"), date(v.AsOfDate))
	if v.Provenance.LedgerCommitHash != "" {
		s.write(txt("Ledger state"), txt(v.Provenance.LedgerCommitHash))
	}
	s.write(txt("Total value"), mon(v.TotalValue))
	s.write(txt("Positions value"), mon(v.PositionsValue))
	s.write(txt("Cash value"), mon(v.CashValue))
	s.write(txt("Positions held"), integer(len(v.Positions)))
	s.widths(20, 70)
}

func holdingsSheet(s *sheet, v ValuedFigures) {
	s.header("Symbol", "Name", "Sector", "Quantity", "Close", "Price currency", "FX rate", "Market value ("+v.BaseCurrency+")",
		"Weight", "Unrealised P&L ("+v.BaseCurrency+")")
	for _, h := range v.Positions {
		s.write(txt(h.Symbol), txt(h.Name), txt(h.Sector), qty(h.Quantity), cell{h.Close.InexactFloat64(), fmtPrice},
			txt(h.PriceCurrency), cell{h.FXRate.InexactFloat64(), fmtRate}, mon(h.MarketValue), pctDec(h.Weight), optMon(h.UnrealizedPL))
	}
	for _, c := range v.Cash {
		s.write(txt("Cash "+c.Currency), txt(""), txt("Cash"), mon(c.Amount), cell{}, txt(c.Currency),
			cell{c.FXRate.InexactFloat64(), fmtRate}, mon(c.BaseValue))
	}
	s.write(txt("Positions value"), cell{}, cell{}, cell{}, cell{}, cell{}, cell{}, mon(v.PositionsValue))
	s.write(txt("Cash value"), cell{}, cell{}, cell{}, cell{}, cell{}, cell{}, mon(v.CashValue))
	s.write(txt("Total value"), cell{}, cell{}, cell{}, cell{}, cell{}, cell{}, mon(v.TotalValue))
	s.style(s.wb.bold, 1)
	s.widths(12, 34, 22, 14, 12, 10, 12, 20, 10, 20)
}

func allocationSheet(s *sheet, a *SectorFigures) {
	s.header("Sector", "Value", "Weight", "Positions")
	for _, l := range a.Sectors {
		s.write(txt(l.Sector), mon(l.Value), pctDec(l.Weight), integer(l.Positions))
	}
	s.write(txt("Total value"), mon(a.TotalValue))
	s.style(s.wb.bold, 1)
	s.widths(26, 18, 10, 10)
}

func performanceSheet(s *sheet, t *TWRFigures) {
	s.header("Metric", "Value")
	s.write(txt("Time-weighted return"), pct(t.TWR))
	s.write(txt("Annualised"), cell{v: t.Annualized})
	s.write(txt("Total return of the window"), pct(t.TotalReturn))
	s.write(txt("Start date"), date(t.StartDate))
	s.write(txt("End date"), date(t.EndDate))
	s.write(txt("Trading days"), integer(t.Days))
	if len(t.Series) > 0 {
		s.write()
		s.write(txt("Date"), txt("Daily return"), txt("Cumulative return"))
		s.style(s.wb.header, 3)
		for _, p := range t.Series {
			s.write(date(p.Date), pct(p.Return), pct(p.Cumulative))
		}
	}
	s.widths(28, 16, 18)
}

func navSheet(s *sheet, n *NAVFigures) {
	s.header("Date", "Total value ("+n.BaseCurrency+")", "Cash value", "Positions value", "Net external flow")
	for _, p := range n.Values {
		s.write(date(p.Date), mon(p.TotalValue), optMon(p.CashValue), optMon(p.PositionsValue), optMon(p.NetExternalFlow))
	}
	s.widths(12, 20, 16, 18, 18)
}

func attributionSheet(s *sheet, a *AttributionFigures) {
	s.header("Level", "Currency", "Symbol", "Weight", "Local", "Currency effect", "Interaction", "Total", "Residual (bp)")
	s.write(txt("Portfolio"), txt(a.BaseCurrency), cell{}, cell{}, pct(a.LocalReturn), pct(a.FXReturn), pct(a.InteractionReturn),
		pct(a.TotalReturn), cell{a.ResidualBP, fmtBP})
	for _, l := range a.ByCurrency {
		s.write(txt("Currency"), txt(l.Currency), cell{}, pct(l.Weight), pct(l.Local), pct(l.FX), pct(l.Interaction), pct(l.Total))
	}
	for _, p := range a.Positions {
		s.write(txt("Position"), txt(p.Currency), txt(p.Symbol), pct(p.Weight), pct(p.Local), pct(p.FX), pct(p.Interaction), pct(p.Total))
	}
	s.write()
	s.write(txt("Window"), date(a.StartDate), date(a.EndDate), integer(a.Days))
	for _, e := range a.Excluded {
		s.write(txt("Not attributed"), cell{}, txt(e.Symbol), txt(e.Reason))
	}
	s.widths(14, 10, 12, 10, 10, 14, 12, 10, 12)
}

// maxMacroCells bounds the rows of the Macro sheet.
const maxMacroCells = 1000

func macroSheet(s *sheet, m map[string]any) {
	s.header("Field", "Value")
	for _, l := range flatten(m, maxMacroCells) {
		switch x := l.value.(type) {
		case float64, bool:
			s.write(txt(l.label), cell{v: x})
		default:
			s.write(txt(l.label), txt(scalarText(x)))
		}
	}
	s.widths(36, 40)
}

func sourcesSheet(s *sheet, f Figures, packLine string) {
	s.header("Section", "Capability", "Attribution")
	s.write(txt("Prices and FX"), txt(""), txt(packLine))
	for _, l := range f.sources() {
		s.write(txt(l.Section), txt(l.Capability), txt(describe(l, "")))
	}
	s.widths(22, 32, 120)
}
