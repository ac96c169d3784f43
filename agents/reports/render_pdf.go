package reports

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Reports) renderPDF() agents.Def {
	return agents.Write(agents.Meta{
		Name: "reports.render_pdf",
		Description: "Renders the figures of earlier steps (valued holdings, and when given the sector allocation, TWR, NAV " +
			"history, currency attribution and macro regime) into a multi-page PDF with a cover, tables, vector charts, " +
			"page numbers and provider attribution lines; stores it in files and answers its download link.",
		Reads:  []string{"portfolios", "pricing_packs"},
		Writes: []string{"files"},
		Codes:  []string{agents.CodeNotFound},
	}, a.RenderPDF)
}

// RenderPDFInput is the figures and what to print of them.
type RenderPDFInput struct {
	Figures
	IncludeHoldings bool   `json:"include_holdings,omitempty" jsonschema:"default=true" doc:"Print the holdings section: the positions and cash tables and the allocation chart."`
	Title           string `json:"title,omitempty" jsonschema:"maxLength=120" doc:"The cover's title; \"Portfolio report\" when absent."`
	FileName        string `json:"file_name,omitempty" jsonschema:"maxLength=100,pattern=^[A-Za-z0-9][A-Za-z0-9._ -]*$" doc:"The download name (.pdf is added); portfolio-report-<portfolio>-<as-of date>.pdf when absent."`
}

// Validate checks that the figures belong to one portfolio.
func (in RenderPDFInput) Validate() error { return in.check() }

// RenderPDF implements reports.render_pdf.
func (a *Reports) RenderPDF(ctx context.Context, c *agents.Call, in RenderPDFInput) (FileOutput, error) {
	v := in.Valued
	p, err := storage.GetPortfolio(ctx, c.DB, v.PortfolioID)
	if err != nil {
		return FileOutput{}, fmt.Errorf("report of portfolio %s: %w", v.PortfolioID, err)
	}
	pack, err := storage.GetPack(ctx, c.DB, v.PricingPackID)
	if err != nil {
		return FileOutput{}, fmt.Errorf("report of portfolio %s: pricing pack %s: %w", v.PortfolioID, v.PricingPackID, err)
	}
	title := in.Title
	if title == "" {
		title = "Portfolio report"
	}
	doc := newPDFDoc(title+": "+p.Name, fmt.Sprintf("%s - %s - as of %s", title, p.Name, v.AsOfDate), asOfTime(v.AsOfDate))
	r := pdfReport{doc: doc, in: in, name: p.Name, ccy: v.BaseCurrency,
		packLine: fmt.Sprintf("policy %s, content hash %s", pack.Policy, short(pack.ContentHash))}

	planned := []string{}
	if in.IncludeHoldings {
		planned = append(planned, secHoldings)
	}
	if in.TWR != nil || in.NAV != nil {
		planned = append(planned, secPerformance)
	}
	if in.Attribution != nil {
		planned = append(planned, secAttribution)
	}
	if in.Macro != nil {
		planned = append(planned, secMacro)
	}
	planned = append(planned, secSources)
	r.cover(title, planned)
	steps := map[string]func(){secHoldings: r.holdings, secPerformance: r.performance, secAttribution: r.attribution,
		secMacro: r.macro, secSources: r.sourcesPage}
	for _, s := range planned {
		// Rendering is CPU work without I/O: the step's deadline is
		// checked between sections.
		if err := ctx.Err(); err != nil {
			return FileOutput{}, fmt.Errorf("render the %s section: %w", s, err)
		}
		steps[s]()
	}
	if err := doc.p.Error(); err != nil {
		return FileOutput{}, agents.Wrap(agents.CodeInternal, err, "lay out the report of portfolio %s", p.ID)
	}
	pages := doc.p.PageCount()
	content, err := doc.bytes()
	if err != nil {
		return FileOutput{}, agents.Wrap(agents.CodeInternal, err, "write the report of portfolio %s", p.ID)
	}
	out, err := a.store(ctx, c, fileName(in.FileName, "portfolio-report", p.Name, v.AsOfDate, ".pdf"), MediaPDF, content)
	if err != nil {
		return out, err
	}
	out.Sections = append([]string{secCover}, doc.sections...)
	out.Pages = pages
	out.Provenance = reportProvenance(c, v, fmt.Sprintf("fpdf layout of %s on %d A4 pages; charts drawn as vectors from the figures",
		strings.Join(out.Sections, ", "), pages))
	return out, nil
}

// Section names, as the cover's contents and the output list them.
const (
	secCover       = "Cover"
	secHoldings    = "Holdings"
	secPerformance = "Performance"
	secAttribution = "Currency attribution"
	secMacro       = "Macro regime"
	secSources     = "Sources and methods"
)

// maxWeightBars bounds the position-weight chart drawn when no sector
// allocation is given.
const maxWeightBars = 20

type pdfReport struct {
	doc      *pdfDoc
	in       RenderPDFInput
	name     string
	ccy      string
	packLine string
}

func (r *pdfReport) cover(title string, sections []string) {
	d, v := r.doc, r.in.Valued
	d.p.AddPage()
	d.p.SetY(50)
	d.p.SetFont(bodyFont, "B", 26)
	d.p.CellFormat(contentW, 12, d.tr(title), "", 1, "L", false, 0, "")
	d.p.SetFont(bodyFont, "", 16)
	d.p.CellFormat(contentW, 10, d.tr(r.name), "", 1, "L", false, 0, "")
	d.p.Ln(8)
	ledger := v.Provenance.LedgerCommitHash
	rows := [][2]string{
		{"Portfolio", r.name},
		{"Portfolio id", v.PortfolioID.String()},
		{"Base currency", v.BaseCurrency},
		{"Pricing pack", v.PricingPackID},
		{"As-of date", v.AsOfDate},
	}
	if ledger != "" {
		rows = append(rows, [2]string{"Ledger state", short(ledger)})
	}
	rows = append(rows,
		[2]string{"Total value", money(v.TotalValue) + " " + r.ccy},
		[2]string{"Positions value", money(v.PositionsValue) + " " + r.ccy},
		[2]string{"Cash value", money(v.CashValue) + " " + r.ccy},
		[2]string{"Positions held", strconv.Itoa(len(v.Positions))})
	d.keyValues(rows, 45)
	d.p.Ln(6)
	d.heading("Contents", 12)
	d.p.SetFont(bodyFont, "", 10)
	for _, s := range sections {
		d.p.CellFormat(120, 6, d.tr(s), "", 0, "L", false, 0, "")
		d.p.CellFormat(30, 6, "page "+tocAlias(s), "", 1, "L", false, 0, "")
	}
	d.p.Ln(10)
	d.para("Every figure in this report was computed by DawsOS from the portfolio's ledger and the pricing pack named above, "+
		"by the capabilities listed under Sources and methods. Figures are rounded for display only.", 8)
}

func (r *pdfReport) holdings() {
	d, v := r.doc, r.in.Valued
	d.section(secHoldings)
	cols := []column{{"Symbol", 15, false}, {"Name", 33, false}, {"Sector", 20, false}, {"Quantity", 16, true},
		{"Close", 21, true}, {"FX rate", 13, true}, {"Value (" + r.ccy + ")", 24, true}, {"Weight", 13, true},
		{"Unreal. P&L", 25, true}}
	rows := make([][]string, 0, len(v.Positions)+1)
	for _, h := range v.Positions {
		pl := "n/a"
		if h.UnrealizedPL != nil {
			pl = money(*h.UnrealizedPL)
		}
		rows = append(rows, []string{h.Symbol, h.Name, h.Sector, quantity(h.Quantity), price(h.Close) + " " + h.PriceCurrency,
			rate(h.FXRate), money(h.MarketValue), percentDec(h.Weight), pl})
	}
	rows = append(rows, []string{"", "Positions value", "", "", "", "", money(v.PositionsValue), "", ""})
	d.table(cols, rows, map[int]bool{len(rows) - 1: true}, 7.5)

	if len(v.Cash) > 0 {
		d.subheading("Cash", 20)
		ccols := []column{{"Currency", 30, false}, {"Amount", 45, true}, {"FX rate", 30, true}, {"Value (" + r.ccy + ")", 45, true}}
		crows := [][]string{}
		for _, cl := range v.Cash {
			crows = append(crows, []string{cl.Currency, money(cl.Amount), rate(cl.FXRate), money(cl.BaseValue)})
		}
		crows = append(crows, []string{"Cash value", "", "", money(v.CashValue)})
		d.table(ccols, crows, map[int]bool{len(crows) - 1: true}, 9)
	}
	d.subheading("Totals", 20)
	d.keyValues([][2]string{{"Positions value", money(v.PositionsValue) + " " + r.ccy},
		{"Cash value", money(v.CashValue) + " " + r.ccy}, {"Total value", money(v.TotalValue) + " " + r.ccy}}, 45)

	if s := r.in.Sectors; s != nil {
		bars := make([]bar, 0, len(s.Sectors))
		for _, l := range s.Sectors {
			w := l.Weight.InexactFloat64()
			bars = append(bars, bar{label: l.Sector, value: w, text: percentDec(l.Weight)})
		}
		d.barChart("Allocation by sector (weight of the total value)", bars)
	} else if len(v.Positions) > 0 {
		ps := append([]HoldingFigures(nil), v.Positions...)
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Weight.GreaterThan(ps[j].Weight) })
		title := "Weights of the positions"
		if len(ps) > maxWeightBars {
			title = fmt.Sprintf("Weights of the %d largest of %d positions", maxWeightBars, len(ps))
			ps = ps[:maxWeightBars]
		}
		bars := make([]bar, 0, len(ps))
		for _, h := range ps {
			bars = append(bars, bar{label: h.Symbol, value: h.Weight.InexactFloat64(), text: percentDec(h.Weight)})
		}
		d.barChart(title, bars)
	}
	r.sourceNote("portfolio.get_valued_positions", v.Provenance.PricingPackID, v.AsOfDate)
}

func (r *pdfReport) performance() {
	d := r.doc
	d.section(secPerformance)
	if t := r.in.TWR; t != nil {
		ann := "not annualised"
		if t.Annualized {
			ann = "annualised"
		}
		d.keyValues([][2]string{
			{"Time-weighted return", percent(t.TWR) + " (" + ann + ")"},
			{"Total return of the window", percent(t.TotalReturn)},
			{"Window", fmt.Sprintf("%s to %s, %d trading days", t.StartDate, t.EndDate, t.Days)},
		}, 55)
		if len(t.Series) > 0 {
			dates, vals := make([]string, len(t.Series)), make([]float64, len(t.Series))
			for i, pt := range t.Series {
				dates[i], vals[i] = pt.Date, pt.Cumulative
			}
			d.lineChart("Cumulative time-weighted return", dates, vals, percent)
		}
		r.sourceNote("metrics.compute_twr", provPack(t.Provenance), t.EndDate)
	}
	if n := r.in.NAV; n != nil && len(n.Values) > 0 {
		dates, vals := make([]string, len(n.Values)), make([]float64, len(n.Values))
		for i, pt := range n.Values {
			dates[i], vals[i] = pt.Date, pt.TotalValue.InexactFloat64()
		}
		d.lineChart("NAV history ("+r.ccy+")", dates, vals, func(f float64) string { return money(decimal.NewFromFloat(f)) })
		first, last := n.Values[0], n.Values[len(n.Values)-1]
		d.keyValues([][2]string{
			{"First value", first.Date + ": " + money(first.TotalValue) + " " + r.ccy},
			{"Last value", last.Date + ": " + money(last.TotalValue) + " " + r.ccy},
			{"Valued days", strconv.Itoa(len(n.Values))},
		}, 55)
		r.sourceNote("portfolio.historical_nav", provPack(n.Provenance), last.Date)
	}
}

func (r *pdfReport) attribution() {
	d, a := r.doc, r.in.Attribution
	d.section(secAttribution)
	d.keyValues([][2]string{
		{"Window", fmt.Sprintf("%s to %s, %d trading days", a.StartDate, a.EndDate, a.Days)},
		{"Local price effect", percent(a.LocalReturn)},
		{"Currency effect", percent(a.FXReturn)},
		{"Interaction", percent(a.InteractionReturn)},
		{"Total return", percent(a.TotalReturn)},
		{"Residual", bp(a.ResidualBP)},
	}, 55)
	d.barChart("Attribution of the total return", []bar{
		{"Local price", a.LocalReturn, percent(a.LocalReturn)},
		{"Currency", a.FXReturn, percent(a.FXReturn)},
		{"Interaction", a.InteractionReturn, percent(a.InteractionReturn)},
		{"Total", a.TotalReturn, percent(a.TotalReturn)},
	})
	if len(a.ByCurrency) > 0 {
		d.subheading("By currency", 30)
		cols := []column{{"Currency", 20, false}, {"Positions", 18, true}, {"Weight", 20, true}, {"FX move", 22, true},
			{"Local", 25, true}, {"Currency", 25, true}, {"Interaction", 25, true}, {"Total", 25, true}}
		rows := [][]string{}
		bars := []bar{}
		for _, l := range a.ByCurrency {
			rows = append(rows, []string{l.Currency, strconv.Itoa(l.Positions), percent(l.Weight), percent(l.CurrencyReturn),
				percent(l.Local), percent(l.FX), percent(l.Interaction), percent(l.Total)})
			bars = append(bars, bar{l.Currency, l.Total, percent(l.Total)})
		}
		d.table(cols, rows, nil, 8.5)
		d.barChart("Contribution to the total return by currency", bars)
	}
	if len(a.Positions) > 0 {
		d.subheading("By position (own returns, weight at the start)", 30)
		cols := []column{{"Symbol", 25, false}, {"Currency", 20, false}, {"Weight", 25, true}, {"Local", 27, true},
			{"Currency", 27, true}, {"Interaction", 28, true}, {"Total", 28, true}}
		rows := [][]string{}
		for _, pa := range a.Positions {
			rows = append(rows, []string{pa.Symbol, pa.Currency, percent(pa.Weight), percent(pa.Local), percent(pa.FX),
				percent(pa.Interaction), percent(pa.Total)})
		}
		d.table(cols, rows, nil, 8)
	}
	if len(a.Excluded) > 0 {
		d.subheading("Not attributed", 15)
		for _, e := range a.Excluded {
			d.para(e.Symbol+": "+e.Reason, 8)
		}
	}
	r.sourceNote("attribution.currency", provPack(a.Provenance), a.EndDate)
}

// maxMacroRows bounds the lines printed of a macro output.
const maxMacroRows = 80

func (r *pdfReport) macro() {
	d, m := r.doc, r.in.Macro
	d.section(secMacro)
	lines := flatten(m, maxMacroRows)
	if len(lines) == 0 {
		d.para("The macro step returned no figures.", 10)
	} else {
		rows := make([][2]string, len(lines))
		for i, l := range lines {
			rows[i] = [2]string{l.label, scalarText(l.value)}
		}
		d.keyValues(rows, 70)
	}
	p := macroProvenance(m)
	r.sourceNote("macro.detect_regime", p.PricingPackID, p.AsOfDate)
}

func (r *pdfReport) sourcesPage() {
	d := r.doc
	d.section(secSources)
	d.para(fmt.Sprintf("Prices and FX rates: pricing pack %s (%s), as of %s.", r.in.Valued.PricingPackID, r.packLine, r.in.Valued.AsOfDate), 9)
	for _, s := range r.in.sources() {
		d.para(describe(s, ""), 9)
	}
	d.para("Report: laid out by reports.render_pdf from the figures above; it computes none of them. Charts are drawn from the "+
		"same figures. Money is in "+r.ccy+" unless a currency is named; returns and weights are decimal fractions shown as "+
		"percentages.", 9)
}

// sourceNote is a section's provider attribution line.
func (r *pdfReport) sourceNote(capability, pack, asOf string) {
	d := r.doc
	parts := []string{"Source: " + capability}
	if pack != "" {
		parts = append(parts, "pricing pack "+pack)
	}
	if asOf != "" {
		parts = append(parts, "as of "+asOf)
	}
	d.ensure(8)
	d.p.Ln(2)
	d.p.SetTextColor(110, 110, 110)
	d.para(strings.Join(parts, ", ")+". See Sources and methods.", 7.5)
	d.p.SetTextColor(0, 0, 0)
}

func provPack(p *agents.Provenance) string {
	if p == nil {
		return ""
	}
	return p.PricingPackID
}
