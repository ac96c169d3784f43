package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"math"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/storage"
)

// view is one analyst view of a portfolio: a pattern whose only input is
// the portfolio.
type view struct {
	Key, Title, Pattern string
	// Inputs are the pattern's inputs besides the portfolio that the view
	// submits.
	Inputs map[string]any
}

// views are the analyst's views, the overview first. Each is a run of its
// pattern; the overview has its own layout, the others show their
// outputs' figures generically, still linked to their steps.
var views = []view{
	{Key: "overview", Title: "Overview", Pattern: "portfolio_overview"},
	{Key: "risk", Title: "Macro risk", Pattern: "portfolio_macro_overview"},
	{Key: "scenarios", Title: "Scenario: equities −20 %", Pattern: "portfolio_scenario_analysis",
		Inputs: map[string]any{"scenario_id": "equities_down_20pct"}},
	{Key: "cycle_risk", Title: "Cycle risk", Pattern: "portfolio_cycle_risk"},
	{Key: "tax", Title: "Tax lots and gains", Pattern: "portfolio_tax_report"},
	{Key: "harvest", Title: "Tax-loss harvesting", Pattern: "tax_harvesting_opportunities"},
}

// SubmitInputs is the view's inputs for portfolio, as the page's script
// sends them to POST /v1/runs.
func (v view) SubmitInputs(portfolio string) string {
	in := map[string]any{"portfolio_id": portfolio}
	for k, x := range v.Inputs {
		in[k] = x
	}
	b, _ := json.Marshal(in)
	return string(b)
}

// reuseFor is how recent a run of the same pattern and inputs must be to
// be shown instead of a new one.
const reuseFor = time.Hour

type portfoliosPage struct {
	Portfolios []storage.Portfolio
	Views      []view
}

func (c *Console) portfolios(ctx *fiber.Ctx, who Caller) error {
	ps, err := c.ownPortfolios(ctx, who)
	if err != nil {
		return err
	}
	return c.render(ctx, http.StatusOK, "portfolios", "Portfolios", "portfolios", who, portfoliosPage{Portfolios: ps, Views: c.availableViews()})
}

func (c *Console) availableViews() []view {
	var out []view
	for _, v := range views {
		if _, ok := c.deps.Patterns.Get(v.Pattern); ok {
			out = append(out, v)
		}
	}
	return out
}

// portfolioPage is one view of one portfolio.
type portfolioPage struct {
	Portfolio storage.Portfolio
	View      view
	Views     []view
	// Run is the run shown; nil when none exists yet.
	Run     *runPage
	Running bool
	// Submit is the request the page's script sends to POST /v1/runs when
	// there is no recent run and the caller may submit one.
	Submit   string
	Missing  string
	Overview *overview
	Generic  []genericSection
	Age      string
}

// portfolio shows one analyst view: the recent run of its pattern for this
// portfolio, or (for a USER and up) a new one the page submits through the
// API, whose progress it follows over SSE.
func (c *Console) portfolio(ctx *fiber.Ctx, who Caller) error {
	id, err := uuid.Parse(ctx.Params("id"))
	if err != nil {
		return badParam("id", "the portfolio id must be a uuid")
	}
	uctx := ctx.UserContext()
	var pf storage.Portfolio
	err = c.deps.DB.Tx(uctx, func(tx pgx.Tx) error {
		var err error
		pf, err = storage.GetPortfolio(uctx, tx, id)
		return err
	})
	if err != nil {
		return err
	}
	data := portfolioPage{Portfolio: pf, Views: c.availableViews()}
	key := ctx.Query("view", "overview")
	for _, v := range views {
		if v.Key == key {
			data.View = v
		}
	}
	if data.View.Key == "" {
		return badParam("view", "no such view: "+key)
	}
	if _, ok := c.deps.Patterns.Get(data.View.Pattern); !ok {
		data.Missing = fmt.Sprintf("pattern %s is not loaded in this process", data.View.Pattern)
		return c.render(ctx, http.StatusOK, "portfolio", pf.Name, "portfolios", who, data)
	}
	runID, err := c.findRun(uctx, who, data.View, id.String(), ctx.Query("run"))
	if err != nil {
		return err
	}
	if runID == "" {
		if who.CanSubmit() {
			data.Submit = data.View.SubmitInputs(id.String())
		}
		return c.render(ctx, http.StatusOK, "portfolio", pf.Name, "portfolios", who, data)
	}
	rp, err := c.loadRun(uctx, runID)
	if err != nil {
		return err
	}
	data.Run, data.Running = rp, rp.Live
	data.Age = time.Since(rp.Doc.CreatedAt).Round(time.Second).String()
	if !rp.Live {
		if data.View.Key == "overview" {
			data.Overview = buildOverview(rp)
		} else {
			data.Generic = genericSections(rp)
		}
	}
	return c.render(ctx, http.StatusOK, "portfolio", pf.Name+" · "+data.View.Title, "portfolios", who, data)
}

// findRun picks the run a view shows: the one named by ?run= when it is
// the caller's run of the view's pattern for this portfolio, else the
// caller's newest run of it with the view's inputs within reuseFor that
// did not fail.
func (c *Console) findRun(ctx context.Context, who Caller, v view, portfolio, named string) (string, error) {
	var found string
	err := c.deps.DB.Tx(ctx, func(tx pgx.Tx) error {
		if named != "" {
			if _, err := uuid.Parse(named); err != nil {
				return badParam("run", "run must be a uuid")
			}
			r, err := storage.GetRun(ctx, tx, named, false)
			if err != nil {
				return err
			}
			mine := who.Admin() || (r.UserID != nil && *r.UserID == who.UserID)
			if mine && r.Pattern == v.Pattern && inputPortfolio(r.Inputs) == portfolio {
				found = r.ID
			}
			return nil
		}
		since := time.Now().Add(-reuseFor)
		rows, err := storage.ListRuns(ctx, tx, storage.RunFilter{Pattern: v.Pattern, UserID: who.UserID, Portfolio: portfolio, Since: &since, Limit: 20})
		if err != nil {
			return err
		}
		for _, r := range rows {
			if hasInputs(r.Inputs, v.Inputs) && (r.Status == storage.RunSucceeded || r.Status == storage.RunPartial || r.Status == storage.RunRunning) {
				found = r.ID
				return nil
			}
		}
		return nil
	})
	return found, err
}

// hasInputs reports whether a run's inputs hold each of want's values.
func hasInputs(inputs json.RawMessage, want map[string]any) bool {
	var in map[string]any
	if json.Unmarshal(inputs, &in) != nil {
		return false
	}
	for k, v := range want {
		if !reflect.DeepEqual(in[k], v) {
			return false
		}
	}
	return true
}

// source is where a figure comes from: the run, the step and its
// capability, and the run context's pricing pack and ledger hash.
type source struct {
	Run, Step, Capability, Pack, Ledger, Convention string
}

// Href links the figure to its step on the run's page.
func (s source) Href() string { return "/runs/" + s.Run + "#step-" + s.Step }

// Title says all of the provenance in one line, for the link's tooltip.
func (s source) Title() string {
	t := fmt.Sprintf("run %s · step %s (%s) · pricing pack %s · ledger %s", shortID(s.Run), s.Step, s.Capability, s.Pack, shortID(s.Ledger))
	if s.Convention != "" {
		t += " · " + s.Convention
	}
	return t
}

// figure is one number on a page with its provenance; Path and Raw let a
// test find the same value in the API's run document.
type figure struct {
	Label, Shown, Path, Raw string
	Src                     source
}

type provenance struct {
	Method, Convention, PricingPackID, LedgerCommitHash, AsOfDate string
}

func (p *provenance) UnmarshalJSON(b []byte) error {
	var raw struct {
		Method           string `json:"method"`
		Convention       string `json:"convention"`
		PricingPackID    string `json:"pricing_pack_id"`
		LedgerCommitHash string `json:"ledger_commit_hash"`
		AsOfDate         string `json:"asof_date"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*p = provenance(raw)
	return nil
}

// overview is the portfolio_overview run laid out for an analyst.
type overview struct {
	Base      string
	Headline  []figure
	Returns   []figure
	Risk      []figure
	Benchmark string
	Holdings  []holding
	HoldSrc   source
	Sectors   []figure
	SectorSVG template.HTML
	Currency  []figure
	CurSVG    template.HTML
	NavSVG    template.HTML
	CumSVG    template.HTML
	NavSrc    source
	TWRSrc    source
	Effect    []figure
	EffectCur []currencyEffect
	EffectSVG template.HTML
	EffectSrc source
	Heat      template.HTML
	HeatRows  []heatRow
	Conv      map[string]string
	Notes     []string
}

type holding struct {
	Symbol, Name, Currency, Sector string
	Quantity, Close, Value, Weight figure
	PL                             figure
	Lots                           int
}

type currencyEffect struct {
	Currency                  string
	Local, FX, Inter, Total   figure
	Weight                    string
	LocalPlusFXPlusInterTotal bool
}

type heatRow struct {
	Year   int
	Months [12]string
	Year12 string
}

// buildOverview reads the outputs of a portfolio_overview run.
func buildOverview(rp *runPage) *overview {
	d := rp.Doc
	src := func(step string, prov provenance) source {
		s := source{Run: d.RunID, Step: step, Pack: rp.Context.PricingPackID, Ledger: rp.Context.LedgerCommitHash, Convention: prov.Convention}
		for _, st := range d.Steps {
			if st.ID == step {
				s.Capability = st.Capability
			}
		}
		if prov.PricingPackID != "" {
			s.Pack = prov.PricingPackID
		}
		if prov.LedgerCommitHash != "" {
			s.Ledger = prov.LedgerCommitHash
		}
		return s
	}
	o := &overview{Conv: map[string]string{}}
	var valued struct {
		BaseCurrency   string      `json:"base_currency"`
		TotalValue     json.Number `json:"total_value"`
		PositionsValue json.Number `json:"positions_value"`
		CashValue      json.Number `json:"cash_value"`
		Positions      []struct {
			Symbol, Name, Currency, Sector string
			Quantity, Close, Weight        json.Number
			UnrealizedPL                   json.Number `json:"unrealized_pl"`
			Lots                           int
			MarketValueJSON                json.Number `json:"market_value"`
		} `json:"positions"`
		Cash []struct {
			Currency  string      `json:"currency"`
			BaseValue json.Number `json:"base_value"`
		} `json:"cash"`
		Provenance provenance `json:"provenance"`
	}
	decode(d.Outputs["valued"], &valued)
	vs := src("valued", valued.Provenance)
	o.Base, o.HoldSrc = valued.BaseCurrency, vs
	fig := func(label, shown, path string, raw any, s source) figure {
		return figure{Label: label, Shown: shown, Path: path, Raw: fmt.Sprint(raw), Src: s}
	}
	o.Headline = append(o.Headline,
		fig("Total value ("+o.Base+")", money(valued.TotalValue), "valued.total_value", valued.TotalValue, vs),
		fig("Positions ("+o.Base+")", money(valued.PositionsValue), "valued.positions_value", valued.PositionsValue, vs),
		fig("Cash ("+o.Base+")", money(valued.CashValue), "valued.cash_value", valued.CashValue, vs))
	byCurrency := map[string]float64{}
	for i, p := range valued.Positions {
		at := fmt.Sprintf("valued.positions[%d].", i)
		o.Holdings = append(o.Holdings, holding{Symbol: p.Symbol, Name: p.Name, Currency: p.Currency, Sector: p.Sector, Lots: p.Lots,
			Quantity: fig("Quantity", num(p.Quantity), at+"quantity", p.Quantity, vs),
			Close:    fig("Close", num(p.Close), at+"close", p.Close, vs),
			Value:    fig("Market value", money(p.MarketValueJSON), at+"market_value", p.MarketValueJSON, vs),
			Weight:   fig("Weight", pct(p.Weight), at+"weight", p.Weight, vs),
			PL:       fig("Unrealised P&L", money(p.UnrealizedPL), at+"unrealized_pl", p.UnrealizedPL, vs)})
		f, _ := toFloat(p.MarketValueJSON)
		byCurrency[p.Currency] += f
	}
	for _, cash := range valued.Cash {
		f, _ := toFloat(cash.BaseValue)
		byCurrency[cash.Currency] += f
	}
	total, _ := toFloat(valued.TotalValue)
	var curParts []slice
	for k, v := range byCurrency {
		curParts = append(curParts, slice{Label: k, Value: v})
	}
	sort.Slice(curParts, func(i, j int) bool { return curParts[i].Value > curParts[j].Value })
	for _, p := range curParts {
		w := 0.0
		if total != 0 {
			w = p.Value / total
		}
		f := fig(p.Label, pct(w), "", w, vs)
		f.Src.Convention = "derived here from step valued: the positions' market values and the cash's base values by currency over total_value"
		o.Currency = append(o.Currency, f)
	}
	o.CurSVG = donutSVG("Allocation by currency", curParts)

	var sectors struct {
		Sectors []struct {
			Sector string      `json:"sector"`
			Value  json.Number `json:"value"`
			Weight json.Number `json:"weight"`
		} `json:"sectors"`
		Convention string `json:"convention"`
	}
	decode(d.Outputs["sectors"], &sectors)
	ss := src("sectors", provenance{Convention: sectors.Convention})
	var secParts []slice
	for i, s := range sectors.Sectors {
		o.Sectors = append(o.Sectors, fig(s.Sector, pct(s.Weight), fmt.Sprintf("sectors.sectors[%d].weight", i), s.Weight, ss))
		f, _ := toFloat(s.Value)
		secParts = append(secParts, slice{Label: s.Sector, Value: f})
	}
	o.SectorSVG = donutSVG("Allocation by sector", secParts)

	var twr struct {
		TWR        json.Number `json:"twr"`
		Annualized bool        `json:"annualized"`
		StartDate  string      `json:"start_date"`
		EndDate    string      `json:"end_date"`
		Series     []struct {
			Date       string  `json:"date"`
			Return     float64 `json:"return"`
			Cumulative float64 `json:"cumulative"`
		} `json:"series"`
		Provenance provenance `json:"provenance"`
	}
	decode(d.Outputs["twr"], &twr)
	ts := src("twr", twr.Provenance)
	o.TWRSrc = ts
	label := "TWR " + twr.StartDate + " – " + twr.EndDate
	if twr.Annualized {
		label += " (annualised)"
	}
	o.Returns = append(o.Returns, fig(label, pct(twr.TWR), "twr.twr", twr.TWR, ts))

	var metrics map[string]json.RawMessage
	decode(d.Outputs["metrics"], &metrics)
	var mprov provenance
	decode(metrics["provenance"], &mprov)
	var details struct {
		Conventions map[string]string `json:"conventions"`
		Benchmark   struct {
			Symbol string `json:"symbol"`
		} `json:"benchmark"`
	}
	decode(metrics["details"], &details)
	o.Conv = details.Conventions
	o.Benchmark = details.Benchmark.Symbol
	ms := func(conv string) source {
		s := src("metrics", mprov)
		s.Convention = conv
		return s
	}
	mfig := func(label, key, kind, conv string) figure {
		var n json.Number
		decode(metrics[key], &n)
		shown := "–"
		if n != "" {
			switch kind {
			case "pct":
				shown = pct(n)
			default:
				shown = ratio(n)
			}
		}
		raw := string(n)
		if raw == "" {
			raw = "null"
		}
		return figure{Label: label, Shown: shown, Path: "metrics." + key, Raw: raw, Src: ms(conv)}
	}
	o.Returns = append(o.Returns,
		mfig("TWR year to date", "twr_ytd", "pct", details.Conventions["twr"]),
		mfig("TWR 1 year", "twr_1y", "pct", details.Conventions["twr"]),
		mfig("TWR 3 years, annualised", "twr_3y_ann", "pct", details.Conventions["twr"]),
		mfig("MWR 1 year", "mwr_1y", "pct", details.Conventions["mwr"]),
		mfig("MWR year to date", "mwr_ytd", "pct", details.Conventions["mwr"]),
		mfig("MWR since inception", "mwr_inception", "pct", details.Conventions["mwr"]))
	o.Risk = append(o.Risk,
		mfig("Volatility 1 year", "volatility_1y", "pct", details.Conventions["volatility"]),
		mfig("Volatility 90 days", "volatility_90d", "pct", details.Conventions["volatility"]),
		mfig("Max drawdown 1 year", "max_drawdown_1y", "pct", details.Conventions["drawdown"]),
		mfig("Max drawdown 3 years", "max_drawdown_3y", "pct", details.Conventions["drawdown"]),
		mfig("Current drawdown", "current_drawdown", "pct", details.Conventions["drawdown"]),
		mfig("Sharpe 1 year", "sharpe_1y", "ratio", details.Conventions["sharpe"]),
		mfig("Sortino 1 year", "sortino_1y", "ratio", details.Conventions["sortino"]),
		mfig("Beta 1 year vs "+o.Benchmark, "beta_1y", "ratio", details.Conventions["benchmark"]),
		mfig("Alpha 1 year vs "+o.Benchmark, "alpha_1y", "pct", details.Conventions["benchmark"]),
		mfig("Tracking error 1 year", "tracking_error_1y", "pct", details.Conventions["benchmark"]),
		mfig("Information ratio 1 year", "information_ratio_1y", "ratio", details.Conventions["benchmark"]))

	var nav struct {
		Values []struct {
			Date       string      `json:"date"`
			TotalValue json.Number `json:"total_value"`
		} `json:"values"`
		Provenance provenance `json:"provenance"`
	}
	decode(d.Outputs["nav"], &nav)
	o.NavSrc = src("nav", nav.Provenance)
	if len(nav.Values) > 1 {
		pts := make([]float64, len(nav.Values))
		for i, v := range nav.Values {
			pts[i], _ = toFloat(v.TotalValue)
		}
		o.NavSVG = lineSVG("Portfolio value ("+o.Base+")", nav.Values[0].Date, nav.Values[len(nav.Values)-1].Date,
			[]series{{Name: "Total value", Points: pts}}, func(f float64) string { return money(math.Round(f)) })
	}
	if len(twr.Series) > 1 {
		pts := make([]float64, len(twr.Series))
		for i, s := range twr.Series {
			pts[i] = s.Cumulative
		}
		o.CumSVG = lineSVG("Cumulative time-weighted return", twr.Series[0].Date, twr.Series[len(twr.Series)-1].Date,
			[]series{{Name: "Cumulative TWR", Points: pts}}, func(f float64) string { return pct(f) })
	}
	o.HeatRows = monthly(twr.Series)
	o.Heat = heatSVG(o.HeatRows, twr.Series)

	var attr struct {
		LocalReturn       json.Number `json:"local_return"`
		FXReturn          json.Number `json:"fx_return"`
		InteractionReturn json.Number `json:"interaction_return"`
		TotalReturn       json.Number `json:"total_return"`
		StartDate         string      `json:"start_date"`
		EndDate           string      `json:"end_date"`
		ByCurrency        []struct {
			Currency    string      `json:"currency"`
			Local       json.Number `json:"local"`
			FX          json.Number `json:"fx"`
			Interaction json.Number `json:"interaction"`
			Total       json.Number `json:"total"`
			Weight      json.Number `json:"weight"`
		} `json:"by_currency"`
		Provenance provenance `json:"provenance"`
	}
	decode(d.Outputs["attribution"], &attr)
	as := src("attribution", attr.Provenance)
	o.EffectSrc = as
	o.Effect = append(o.Effect,
		fig("Local", pct(attr.LocalReturn), "attribution.local_return", attr.LocalReturn, as),
		fig("Currency (FX)", pct(attr.FXReturn), "attribution.fx_return", attr.FXReturn, as),
		fig("Interaction", pct(attr.InteractionReturn), "attribution.interaction_return", attr.InteractionReturn, as),
		fig("Total", pct(attr.TotalReturn), "attribution.total_return", attr.TotalReturn, as))
	var effParts []slice
	for i, bc := range attr.ByCurrency {
		at := fmt.Sprintf("attribution.by_currency[%d].", i)
		o.EffectCur = append(o.EffectCur, currencyEffect{Currency: bc.Currency, Weight: pct(bc.Weight),
			Local: fig("Local", pct(bc.Local), at+"local", bc.Local, as), FX: fig("FX", pct(bc.FX), at+"fx", bc.FX, as),
			Inter: fig("Interaction", pct(bc.Interaction), at+"interaction", bc.Interaction, as),
			Total: fig("Total", pct(bc.Total), at+"total", bc.Total, as)})
		f, _ := toFloat(bc.Total)
		effParts = append(effParts, slice{Label: bc.Currency, Value: f})
	}
	o.EffectSVG = barsSVG("Total return by currency", effParts, func(f float64) string { return pct(f) })
	return o
}

func decode(raw json.RawMessage, v any) {
	if len(raw) == 0 {
		return
	}
	_ = json.Unmarshal(raw, v)
}

// monthly chains the daily returns of each calendar month:
// (1+r₁)(1+r₂)…−1, and each year's months likewise.
func monthly(days []struct {
	Date       string  `json:"date"`
	Return     float64 `json:"return"`
	Cumulative float64 `json:"cumulative"`
}) []heatRow {
	type ym struct{ y, m int }
	growth := map[ym]float64{}
	years := map[int]float64{}
	for _, d := range days {
		t, err := time.Parse(time.DateOnly, d.Date)
		if err != nil {
			continue
		}
		k := ym{t.Year(), int(t.Month())}
		if _, ok := growth[k]; !ok {
			growth[k] = 1
		}
		growth[k] *= 1 + d.Return
		if _, ok := years[t.Year()]; !ok {
			years[t.Year()] = 1
		}
		years[t.Year()] *= 1 + d.Return
	}
	var ys []int
	for y := range years {
		ys = append(ys, y)
	}
	sort.Ints(ys)
	var out []heatRow
	for _, y := range ys {
		r := heatRow{Year: y, Year12: pct(years[y] - 1)}
		for m := 1; m <= 12; m++ {
			if g, ok := growth[ym{y, m}]; ok {
				r.Months[m-1] = pct(g - 1)
			}
		}
		out = append(out, r)
	}
	return out
}

var monthNames = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// heatSVG draws the monthly returns as a grid of coloured cells.
func heatSVG(rows []heatRow, days []struct {
	Date       string  `json:"date"`
	Return     float64 `json:"return"`
	Cumulative float64 `json:"cumulative"`
}) template.HTML {
	if len(rows) == 0 {
		return ""
	}
	const cellW, cellH, labelW = 52.0, 26.0, 48.0
	w, h := labelW+cellW*12, cellH*float64(len(rows)+1)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart heat" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="Monthly returns"><title>Monthly returns</title>`, w, h, w, h)
	for i, m := range monthNames {
		fmt.Fprintf(&b, `<text x="%g" y="17" font-size="12" fill="#1a1a1a" text-anchor="middle">%s</text>`, labelW+cellW*float64(i)+cellW/2, m)
	}
	for ri, r := range rows {
		y := cellH * float64(ri+1)
		fmt.Fprintf(&b, `<text x="4" y="%g" font-size="12" fill="#1a1a1a">%d</text>`, y+17, r.Year)
		for mi, v := range r.Months {
			if v == "" {
				continue
			}
			f := 0.0
			fmt.Sscanf(strings.TrimSuffix(v, " %"), "%g", &f)
			x := labelW + cellW*float64(mi)
			fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="%g" fill="%s" stroke="#fff"><title>%s %d: %s</title></rect>`,
				x, y, cellW, cellH, heatColour(f/100), monthNames[mi], r.Year, html.EscapeString(v))
			fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="11" fill="#1a1a1a" text-anchor="middle">%s</text>`, x+cellW/2, y+17, html.EscapeString(strings.TrimSuffix(v, " %")))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// genericSection is one output of a view without a layout of its own:
// its scalar figures as cards, each object of scalars as a group of
// cards, each list of objects as a table, every number linked to its
// step; and the whole output.
type genericSection struct {
	Name    string
	Src     source
	Figures []figure
	Groups  []figureGroup
	Tables  []figureTable
	JSON    string
}

// figureGroup is an object's scalar members.
type figureGroup struct {
	Name    string
	Figures []figure
}

// figureTable is a list of objects: one row per object, one column per
// scalar member.
type figureTable struct {
	Name    string
	Columns []string
	Rows    [][]cell
	// More counts the rows left out.
	More int
}

// cell is one table cell: a figure when the value is a number, text
// otherwise.
type cell struct {
	Fig  *figure
	Text string
}

// maxTableRows bounds a table; the whole output stays in the JSON.
const maxTableRows = 200

func genericSections(rp *runPage) []genericSection {
	var out []genericSection
	for _, o := range rp.Outputs {
		raw := rp.Doc.Outputs[o.Name]
		var m map[string]json.RawMessage
		decode(raw, &m)
		var prov provenance
		decode(m["provenance"], &prov)
		s := source{Run: rp.Doc.RunID, Step: o.Name, Pack: rp.Context.PricingPackID, Ledger: rp.Context.LedgerCommitHash, Convention: prov.Convention}
		for _, st := range rp.Doc.Steps {
			if st.ID == o.Name {
				s.Capability = st.Capability
			}
		}
		sec := genericSection{Name: o.Name, Src: s, JSON: prettyJSON(raw)}
		for _, k := range sortedKeys(m) {
			if k == "provenance" {
				continue
			}
			path := o.Name + "." + k
			if f, ok := numberFigure(k, path, m[k], s); ok {
				sec.Figures = append(sec.Figures, f)
				continue
			}
			var obj map[string]json.RawMessage
			if json.Unmarshal(m[k], &obj) == nil && obj != nil {
				g := figureGroup{Name: k}
				for _, kk := range sortedKeys(obj) {
					if f, ok := numberFigure(kk, path+"."+kk, obj[kk], s); ok {
						g.Figures = append(g.Figures, f)
					}
				}
				if len(g.Figures) > 0 {
					sec.Groups = append(sec.Groups, g)
				}
				continue
			}
			var list []map[string]json.RawMessage
			if json.Unmarshal(m[k], &list) == nil && len(list) > 0 {
				if t, ok := tableOf(k, path, list, s); ok {
					sec.Tables = append(sec.Tables, t)
				}
			}
		}
		out = append(out, sec)
	}
	return out
}

// numberFigure is raw as a figure when it is a JSON number.
func numberFigure(label, path string, raw json.RawMessage, s source) (figure, bool) {
	var n json.Number
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] == '"' || string(raw) == "null" || json.Unmarshal(raw, &n) != nil {
		return figure{}, false
	}
	return figure{Label: label, Shown: string(n), Path: path, Raw: string(n), Src: s}, true
}

// tableOf lays out a list of objects: the columns are the scalar members,
// in the order the first rows have them sorted by name.
func tableOf(name, path string, list []map[string]json.RawMessage, s source) (figureTable, bool) {
	t := figureTable{Name: name}
	seen := map[string]bool{}
	for _, row := range list[:min(len(list), 20)] {
		for _, k := range sortedKeys(row) {
			v := bytes.TrimSpace(row[k])
			if seen[k] || len(v) == 0 || v[0] == '{' || v[0] == '[' {
				continue
			}
			seen[k] = true
			t.Columns = append(t.Columns, k)
		}
	}
	if len(t.Columns) == 0 {
		return t, false
	}
	for i, row := range list {
		if i == maxTableRows {
			t.More = len(list) - i
			break
		}
		cells := make([]cell, len(t.Columns))
		for j, k := range t.Columns {
			if f, ok := numberFigure(k, fmt.Sprintf("%s[%d].%s", path, i, k), row[k], s); ok {
				cells[j].Fig = &f
				continue
			}
			var str string
			switch {
			case row[k] == nil || string(row[k]) == "null":
			case json.Unmarshal(row[k], &str) == nil:
				cells[j].Text = str
			default:
				cells[j].Text = string(row[k])
			}
		}
		t.Rows = append(t.Rows, cells)
	}
	return t, true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
