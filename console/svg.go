package console

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// Charts are SVG drawn here, so a page needs no chart library and no
// script to show them. Colours come from one palette chosen for contrast
// on white; every chart has a text equivalent (a title and a table next
// to it) for screen readers.

var palette = []string{"#1f5fa8", "#c2541b", "#2e7d32", "#7b3fa0", "#a8861f", "#00838f", "#ad1457", "#5d4037", "#455a64", "#6d8f00"}

// slice is one part of a whole.
type slice struct {
	Label string
	Value float64
}

// donutSVG draws parts of a whole as a ring, largest first as given.
func donutSVG(title string, parts []slice) template.HTML {
	total := 0.0
	for _, p := range parts {
		if p.Value > 0 {
			total += p.Value
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart donut" viewBox="0 0 200 200" width="200" height="200" role="img" aria-label="%s"><title>%s</title>`,
		html.EscapeString(title), html.EscapeString(title))
	if total <= 0 {
		b.WriteString(`</svg>`)
		return template.HTML(b.String())
	}
	const cx, cy, r, w = 100.0, 100.0, 80.0, 34.0
	angle := -math.Pi / 2
	for i, p := range parts {
		if p.Value <= 0 {
			continue
		}
		frac := p.Value / total
		end := angle + frac*2*math.Pi
		if frac >= 0.9999 {
			fmt.Fprintf(&b, `<circle cx="%g" cy="%g" r="%g" fill="none" stroke="%s" stroke-width="%g"><title>%s: %.2f %%</title></circle>`,
				cx, cy, r, palette[i%len(palette)], w, html.EscapeString(p.Label), frac*100)
			break
		}
		large := 0
		if end-angle > math.Pi {
			large = 1
		}
		x0, y0 := cx+r*math.Cos(angle), cy+r*math.Sin(angle)
		x1, y1 := cx+r*math.Cos(end), cy+r*math.Sin(end)
		fmt.Fprintf(&b, `<path d="M%.2f %.2f A%g %g 0 %d 1 %.2f %.2f" fill="none" stroke="%s" stroke-width="%g"><title>%s: %.2f %%</title></path>`,
			x0, y0, r, r, large, x1, y1, palette[i%len(palette)], w, html.EscapeString(p.Label), frac*100)
		angle = end
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// barsSVG draws signed values as horizontal bars around zero.
func barsSVG(title string, parts []slice, format func(float64) string) template.HTML {
	const rowH, labelW, width = 22.0, 110.0, 460.0
	h := rowH*float64(len(parts)) + 10
	maxAbs := 0.0
	for _, p := range parts {
		maxAbs = math.Max(maxAbs, math.Abs(p.Value))
	}
	if maxAbs == 0 {
		maxAbs = 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart bars" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="%s"><title>%s</title>`,
		width, h, width, h, html.EscapeString(title), html.EscapeString(title))
	plotW := width - labelW - 80
	zero := labelW + plotW/2
	fmt.Fprintf(&b, `<line x1="%g" y1="0" x2="%g" y2="%g" stroke="#555" stroke-width="1"/>`, zero, zero, h)
	for i, p := range parts {
		y := 5 + float64(i)*rowH
		bw := math.Abs(p.Value) / maxAbs * plotW / 2
		x := zero
		colour := palette[0]
		if p.Value < 0 {
			x = zero - bw
			colour = palette[1]
		}
		fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="12" fill="#1a1a1a" text-anchor="end">%s</text>`, labelW-6, y+14, html.EscapeString(p.Label))
		fmt.Fprintf(&b, `<rect x="%.2f" y="%g" width="%.2f" height="%g" fill="%s"><title>%s: %s</title></rect>`, x, y+3, bw, rowH-8, colour,
			html.EscapeString(p.Label), html.EscapeString(format(p.Value)))
		fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="12" fill="#1a1a1a">%s</text>`, labelW+plotW+6, y+14, html.EscapeString(format(p.Value)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// series is one line of a line chart.
type series struct {
	Name   string
	Points []float64
}

// lineSVG draws lines over the same x positions (dates), labelled at both
// ends of the axis.
func lineSVG(title string, first, last string, lines []series, format func(float64) string) template.HTML {
	const width, height, padL, padR, padT, padB = 640.0, 220.0, 70.0, 10.0, 10.0, 24.0
	lo, hi := math.Inf(1), math.Inf(-1)
	n := 0
	for _, s := range lines {
		for _, v := range s.Points {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		n = max(n, len(s.Points))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart line" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="%s"><title>%s</title>`,
		width, height, width, height, html.EscapeString(title), html.EscapeString(title))
	if n < 2 || math.IsInf(lo, 0) {
		b.WriteString(`</svg>`)
		return template.HTML(b.String())
	}
	if hi == lo {
		hi, lo = hi+1, lo-1
	}
	plotW, plotH := width-padL-padR, height-padT-padB
	x := func(i int) float64 { return padL + float64(i)/float64(n-1)*plotW }
	y := func(v float64) float64 { return padT + (hi-v)/(hi-lo)*plotH }
	for _, v := range []float64{lo, (lo + hi) / 2, hi} {
		fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#ddd"/><text x="%g" y="%.1f" font-size="11" fill="#333" text-anchor="end">%s</text>`,
			padL, y(v), width-padR, y(v), padL-4, y(v)+4, html.EscapeString(format(v)))
	}
	if lo < 0 && hi > 0 {
		fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#777"/>`, padL, y(0), width-padR, y(0))
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="11" fill="#333">%s</text><text x="%g" y="%g" font-size="11" fill="#333" text-anchor="end">%s</text>`,
		padL, height-6, html.EscapeString(first), width-padR, height-6, html.EscapeString(last))
	for i, s := range lines {
		var d strings.Builder
		// At most ~600 vertices: a page stays light whatever the history.
		step := max(1, len(s.Points)/600)
		for j := 0; j < len(s.Points); j += step {
			cmd := "L"
			if j == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%.1f %.1f", cmd, x(j), y(s.Points[j]))
		}
		if (len(s.Points)-1)%step != 0 {
			j := len(s.Points) - 1
			fmt.Fprintf(&d, "L%.1f %.1f", x(j), y(s.Points[j]))
		}
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="1.6"><title>%s</title></path>`, d.String(), palette[i%len(palette)], html.EscapeString(s.Name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// heatColour maps a monthly return to a diverging colour with dark text
// legible on every shade (red for losses, green for gains).
func heatColour(v float64) string {
	t := math.Min(math.Abs(v)/0.08, 1)
	if v < 0 {
		return fmt.Sprintf("#%02x%02x%02x", 255, int(255-t*120), int(255-t*120))
	}
	return fmt.Sprintf("#%02x%02x%02x", int(255-t*120), 255, int(255-t*120))
}
