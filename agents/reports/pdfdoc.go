package reports

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// pdfDoc lays out a report on A4 portrait pages with fpdf: a running
// header and footer (page n of N), headings, key-value blocks, tables whose
// header repeats after a page break, and charts drawn with fpdf's vector
// primitives from the figures themselves (no raster images), so a PDF text
// extractor reads every label and value.
type pdfDoc struct {
	p  *fpdf.Fpdf
	tr func(string) string
	// sectionPage is the first page of each section, by section name.
	sectionPage map[string]int
	sections    []string
}

const (
	pageW, pageH = 210.0, 297.0
	margin       = 15.0
	contentW     = pageW - 2*margin
	bodyFont     = "Helvetica"
)

// pageAlias is replaced by the page count when the document is written.
const pageAlias = "{nb}"

// textReplacer spells the symbols that the PDF core fonts' code page
// (Windows-1252) lacks; the capabilities' conventions use some of them.
var textReplacer = strings.NewReplacer("→", "->", "←", "<-", "Π", "prod", "Σ", "sum", "√", "sqrt", "−", "-", "≤", "<=",
	"≥", ">=", "≈", "~", "α", "alpha", "β", "beta", "σ", "sigma", "ₜ", "t", "ᵢ", "i", "₋", "-", "₊", "+",
	"₀", "0", "₁", "1", "₂", "2", "₃", "3", "₄", "4", "₅", "5", "₆", "6", "₇", "7", "₈", "8", "₉", "9", "²", "^2", "³", "^3")

func newPDFDoc(title, header string, date time.Time) *pdfDoc {
	p := fpdf.New("P", "mm", "A4", "")
	d := &pdfDoc{p: p, sectionPage: map[string]int{}}
	cp := p.UnicodeTranslatorFromDescriptor("")
	d.tr = func(s string) string { return cp(textReplacer.Replace(s)) }
	p.SetMargins(margin, margin+8, margin)
	p.SetAutoPageBreak(true, margin+8)
	p.AliasNbPages(pageAlias)
	// Dated by the figures, not the clock: the same figures give the same
	// bytes, so a replayed step stores the same file with the same hash.
	p.SetCreationDate(date)
	p.SetModificationDate(date)
	p.SetCatalogSort(true)
	p.SetTitle(d.tr(title), false)
	p.SetSubject(d.tr(header), false)
	p.SetAuthor("DawsOS", false)
	p.SetCreator("DawsOS reports.render_pdf", false)
	p.SetHeaderFuncMode(func() {
		if p.PageNo() == 1 {
			return
		}
		p.SetFont(bodyFont, "", 8)
		p.SetTextColor(110, 110, 110)
		p.SetXY(margin, 8)
		p.CellFormat(contentW, 5, d.tr(header), "B", 0, "L", false, 0, "")
		p.SetTextColor(0, 0, 0)
		p.SetY(margin + 8)
	}, false)
	p.SetFooterFunc(func() {
		p.SetY(-margin)
		p.SetFont(bodyFont, "", 8)
		p.SetTextColor(110, 110, 110)
		p.CellFormat(contentW/2, 5, "DawsOS portfolio report", "T", 0, "L", false, 0, "")
		p.CellFormat(contentW/2, 5, fmt.Sprintf("Page %d of %s", p.PageNo(), pageAlias), "T", 0, "R", false, 0, "")
		p.SetTextColor(0, 0, 0)
	})
	return d
}

// bytes closes the document and returns it.
func (d *pdfDoc) bytes() ([]byte, error) {
	for name, page := range d.sectionPage {
		d.p.RegisterAlias(tocAlias(name), fmt.Sprint(page))
	}
	var buf bytes.Buffer
	if err := d.p.Output(&buf); err != nil {
		return nil, fmt.Errorf("write pdf: %w", err)
	}
	return buf.Bytes(), nil
}

// tocAlias is the placeholder of a section's page number on the cover.
func tocAlias(section string) string { return "{toc:" + section + "}" }

// section starts a section on a new page.
func (d *pdfDoc) section(name string) {
	d.p.AddPage()
	d.sections = append(d.sections, name)
	d.sectionPage[name] = d.p.PageNo()
	d.heading(name, 16)
}

func (d *pdfDoc) heading(text string, size float64) {
	d.p.SetFont(bodyFont, "B", size)
	d.p.CellFormat(contentW, size*0.55, d.tr(text), "", 1, "L", false, 0, "")
	d.p.Ln(2)
}

// subheading keeps at least need millimetres of room below it.
func (d *pdfDoc) subheading(text string, need float64) {
	d.ensure(need + 10)
	d.p.Ln(2)
	d.heading(text, 11)
}

func (d *pdfDoc) para(text string, size float64) {
	d.p.SetFont(bodyFont, "", size)
	d.p.MultiCell(contentW, size*0.45, d.tr(text), "", "L", false)
	d.p.Ln(1)
}

// ensure starts a new page when less than h millimetres are left.
func (d *pdfDoc) ensure(h float64) {
	if d.p.GetY()+h > pageH-margin-8 {
		d.p.AddPage()
	}
}

// keyValues prints label: value lines, the values in bold.
func (d *pdfDoc) keyValues(rows [][2]string, labelW float64) {
	for _, r := range rows {
		d.ensure(6)
		d.p.SetFont(bodyFont, "", 10)
		d.p.CellFormat(labelW, 6, d.tr(r[0]), "", 0, "L", false, 0, "")
		d.p.SetFont(bodyFont, "B", 10)
		d.p.MultiCell(contentW-labelW, 6, d.tr(r[1]), "", "L", false)
	}
	d.p.Ln(2)
}

// column is one table column.
type column struct {
	title string
	width float64
	right bool
}

// table prints rows under a header that repeats after every page break;
// rows marked in bold (a total) are printed in bold. Text that does not
// fit its column is shortened with an ellipsis.
func (d *pdfDoc) table(cols []column, rows [][]string, bold map[int]bool, size float64) {
	h := size * 0.55
	header := func() {
		d.p.SetFont(bodyFont, "B", size)
		d.p.SetFillColor(230, 234, 240)
		for _, c := range cols {
			d.p.CellFormat(c.width, h+1, d.tr(c.title), "B", 0, align(c), true, 0, "")
		}
		d.p.Ln(-1)
	}
	d.ensure(3 * h)
	header()
	for i, r := range rows {
		if d.p.GetY()+h > pageH-margin-8 {
			d.p.AddPage()
			header()
		}
		style := ""
		if bold[i] {
			style = "B"
		}
		d.p.SetFont(bodyFont, style, size)
		border := ""
		if bold[i] {
			border = "T"
		}
		for j, c := range cols {
			text := ""
			if j < len(r) {
				text = d.fit(d.tr(r[j]), c.width-1)
			}
			d.p.CellFormat(c.width, h, text, border, 0, align(c), false, 0, "")
		}
		d.p.Ln(-1)
	}
	d.p.Ln(2)
}

func align(c column) string {
	if c.right {
		return "R"
	}
	return "L"
}

// fit shortens s (already translated) to width w in the current font.
func (d *pdfDoc) fit(s string, w float64) string {
	if d.p.GetStringWidth(s) <= w {
		return s
	}
	ell := "\x85" // an ellipsis in Windows-1252
	for len(s) > 0 && d.p.GetStringWidth(s+ell) > w {
		s = s[:len(s)-1]
	}
	return s + ell
}

// bar is one bar of a horizontal bar chart.
type bar struct {
	label string
	value float64
	text  string // the value as printed
}

// barChart draws labelled horizontal bars from a zero line: positive to
// the right in blue, negative to the left in red, scaled to the largest
// magnitude, with each value printed beside its bar.
func (d *pdfDoc) barChart(title string, bars []bar) {
	if len(bars) == 0 {
		return
	}
	const rowH, labelW, valueW = 6.0, 42.0, 24.0
	d.subheading(title, math.Min(float64(len(bars))*rowH+6, 120))
	lo, hi := 0.0, 0.0
	for _, b := range bars {
		lo, hi = math.Min(lo, b.value), math.Max(hi, b.value)
	}
	if hi == lo {
		hi = lo + 1
	}
	areaX, areaW := margin+labelW, contentW-labelW-valueW
	zero := areaX + (-lo)/(hi-lo)*areaW
	top := d.p.GetY()
	for _, b := range bars {
		if d.p.GetY()+rowH > pageH-margin-8 {
			d.axis(zero, top, d.p.GetY())
			d.p.AddPage()
			top = d.p.GetY()
		}
		y := d.p.GetY()
		d.p.SetFont(bodyFont, "", 8)
		d.p.SetXY(margin, y)
		d.p.CellFormat(labelW-2, rowH, d.fit(d.tr(b.label), labelW-3), "", 0, "R", false, 0, "")
		w := b.value / (hi - lo) * areaW
		if b.value >= 0 {
			d.p.SetFillColor(70, 110, 170)
			d.p.Rect(zero, y+1, w, rowH-2, "F")
		} else {
			d.p.SetFillColor(190, 70, 70)
			d.p.Rect(zero+w, y+1, -w, rowH-2, "F")
		}
		d.p.SetXY(areaX+areaW+1, y)
		d.p.CellFormat(valueW-1, rowH, d.tr(b.text), "", 0, "R", false, 0, "")
		d.p.SetXY(margin, y+rowH)
	}
	d.axis(zero, top, d.p.GetY())
	d.p.Ln(3)
}

// axis draws the zero line of a bar chart.
func (d *pdfDoc) axis(x, top, bottom float64) {
	d.p.SetDrawColor(60, 60, 60)
	d.p.SetLineWidth(0.3)
	d.p.Line(x, top, x, bottom)
	d.p.SetDrawColor(0, 0, 0)
	d.p.SetLineWidth(0.2)
}

// lineChart draws a series over time: a frame with four value grid lines
// labelled on the left, the first, middle and last dates under it, and the
// series as one polyline.
func (d *pdfDoc) lineChart(title string, dates []string, values []float64, label func(float64) string) {
	if len(values) == 0 {
		return
	}
	const h, labelW = 70.0, 26.0
	d.subheading(title, h+8)
	lo, hi := values[0], values[0]
	for _, v := range values {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if hi == lo {
		pad := math.Max(math.Abs(hi)*0.01, 1e-6)
		lo, hi = lo-pad, hi+pad
	}
	x0, y0 := margin+labelW, d.p.GetY()+2
	w := contentW - labelW - 2
	d.p.SetDrawColor(200, 200, 200)
	d.p.SetLineWidth(0.1)
	d.p.SetFont(bodyFont, "", 7)
	for i := 0; i <= 4; i++ {
		v := lo + (hi-lo)*float64(i)/4
		y := y0 + h - h*float64(i)/4
		d.p.Line(x0, y, x0+w, y)
		d.p.SetXY(margin, y-2)
		d.p.CellFormat(labelW-2, 4, d.tr(label(v)), "", 0, "R", false, 0, "")
	}
	d.p.SetDrawColor(60, 60, 60)
	d.p.Rect(x0, y0, w, h, "D")
	px := func(i int) float64 {
		if len(values) == 1 {
			return x0 + w/2
		}
		return x0 + w*float64(i)/float64(len(values)-1)
	}
	py := func(v float64) float64 { return y0 + h - (v-lo)/(hi-lo)*h }
	d.p.SetDrawColor(40, 90, 160)
	d.p.SetLineWidth(0.5)
	d.p.MoveTo(px(0), py(values[0]))
	for i := 1; i < len(values); i++ {
		d.p.LineTo(px(i), py(values[i]))
	}
	if len(values) == 1 {
		d.p.Circle(px(0), py(values[0]), 0.8, "D")
	} else {
		d.p.DrawPath("D")
	}
	d.p.SetDrawColor(0, 0, 0)
	d.p.SetLineWidth(0.2)
	shown := map[int]bool{}
	for _, i := range []int{0, len(dates) / 2, len(dates) - 1} {
		if i < 0 || i >= len(dates) || shown[i] {
			continue
		}
		shown[i] = true
		d.p.SetXY(px(i)-15, y0+h+1)
		d.p.CellFormat(30, 4, d.tr(dates[i]), "", 0, "C", false, 0, "")
	}
	d.p.SetXY(margin, y0+h+7)
}
