package analyst

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/quant"
	"github.com/dawsos/dawsos/storage"
)

func (a *Analyst) computeMetrics() agents.Def {
	return agents.Write(agents.Meta{
		Name: "metrics.compute",
		Description: "The whole portfolio_metrics row (TWR and MWR over calendar periods, volatility, Sharpe, Sortino, drawdowns, " +
			"α, β, tracking error and information ratio against the portfolio's benchmark, win rate) from the daily values up to " +
			"the pack's date, upserted on (portfolio, as-of date, pack); a figure whose window the history does not cover is null " +
			"with the reason in details.",
		Reads:  []string{"portfolios", "portfolio_daily_values", "pricing_packs", "securities", "prices", "fx_rates"},
		Writes: []string{"portfolio_metrics"},
		Codes:  []string{agents.CodeNotFound, agents.CodeInsufficientData, agents.CodePricingPackWarming},
	}, a.ComputeMetrics)
}

// MetricsInput names the portfolio and the pack whose row is computed.
type MetricsInput struct {
	PortfolioID   uuid.UUID `json:"portfolio_id" doc:"The portfolio."`
	PricingPackID string    `json:"pricing_pack_id" jsonschema:"minLength=1" doc:"The pack of the row, normally {{ctx.pricing_pack_id}}; the daily values must reach its date."`
}

// MetricFigures are the figures of a portfolio_metrics row, named as its
// columns. Each is a decimal, or null when it cannot be computed (the
// reason is in details.figures).
type MetricFigures struct {
	TWR1D              *float64 `json:"twr_1d" doc:"Return of the last valued day."`
	TWRMTD             *float64 `json:"twr_mtd" doc:"Month to date, from the close of the previous month's last day."`
	TWRQTD             *float64 `json:"twr_qtd" doc:"Quarter to date."`
	TWRYTD             *float64 `json:"twr_ytd" doc:"Year to date."`
	TWR1Y              *float64 `json:"twr_1y" doc:"From the same date a year earlier; not annualised."`
	TWR3YAnn           *float64 `json:"twr_3y_ann" doc:"Three years, annualised (365-day years)."`
	TWR5YAnn           *float64 `json:"twr_5y_ann" doc:"Five years, annualised."`
	TWRInceptionAnn    *float64 `json:"twr_inception_ann" doc:"Since the first valued day; annualised only when the history is longer than one calendar year (details.figures.twr_inception_ann.annualized)."`
	MWRYTD             *float64 `json:"mwr_ytd" doc:"Money-weighted, year to date; not annualised."`
	MWR1Y              *float64 `json:"mwr_1y" doc:"Money-weighted over the last year."`
	MWRInception       *float64 `json:"mwr_inception" doc:"Money-weighted since the first valued day; annual when the history is longer than one calendar year."`
	Volatility30D      *float64 `json:"volatility_30d" doc:"Annualised volatility of the last 30 daily returns."`
	Volatility60D      *float64 `json:"volatility_60d"`
	Volatility90D      *float64 `json:"volatility_90d"`
	Volatility1Y       *float64 `json:"volatility_1y" doc:"Of the last 252 daily returns."`
	Sharpe30D          *float64 `json:"sharpe_30d"`
	Sharpe60D          *float64 `json:"sharpe_60d"`
	Sharpe90D          *float64 `json:"sharpe_90d"`
	Sharpe1Y           *float64 `json:"sharpe_1y"`
	Sortino1Y          *float64 `json:"sortino_1y"`
	MaxDrawdown1Y      *float64 `json:"max_drawdown_1y" doc:"Deepest fall of the wealth index over the last 252 daily returns, a negative fraction."`
	MaxDrawdown3Y      *float64 `json:"max_drawdown_3y" doc:"Over the last 756 daily returns."`
	CurrentDrawdown    *float64 `json:"current_drawdown" doc:"The wealth index's fall from its highest value since inception."`
	Alpha1Y            *float64 `json:"alpha_1y" doc:"Jensen's α against the benchmark, annualised by compounding."`
	Beta1Y             *float64 `json:"beta_1y"`
	TrackingError1Y    *float64 `json:"tracking_error_1y"`
	InformationRatio1Y *float64 `json:"information_ratio_1y"`
	WinRate            *float64 `json:"win_rate" doc:"Share of the last 252 daily returns that are strictly positive."`
}

// columns maps the figures to their portfolio_metrics columns.
func (f *MetricFigures) columns() map[string]**float64 {
	return map[string]**float64{
		"twr_1d": &f.TWR1D, "twr_mtd": &f.TWRMTD, "twr_qtd": &f.TWRQTD, "twr_ytd": &f.TWRYTD, "twr_1y": &f.TWR1Y,
		"twr_3y_ann": &f.TWR3YAnn, "twr_5y_ann": &f.TWR5YAnn, "twr_inception_ann": &f.TWRInceptionAnn,
		"mwr_ytd": &f.MWRYTD, "mwr_1y": &f.MWR1Y, "mwr_inception": &f.MWRInception,
		"volatility_30d": &f.Volatility30D, "volatility_60d": &f.Volatility60D, "volatility_90d": &f.Volatility90D,
		"volatility_1y": &f.Volatility1Y, "sharpe_30d": &f.Sharpe30D, "sharpe_60d": &f.Sharpe60D, "sharpe_90d": &f.Sharpe90D,
		"sharpe_1y": &f.Sharpe1Y, "sortino_1y": &f.Sortino1Y, "max_drawdown_1y": &f.MaxDrawdown1Y,
		"max_drawdown_3y": &f.MaxDrawdown3Y, "current_drawdown": &f.CurrentDrawdown, "alpha_1y": &f.Alpha1Y,
		"beta_1y": &f.Beta1Y, "tracking_error_1y": &f.TrackingError1Y, "information_ratio_1y": &f.InformationRatio1Y,
		"win_rate": &f.WinRate,
	}
}

// FigureDetail says how one figure was computed, or why it is null.
type FigureDetail struct {
	From         string `json:"from,omitempty" doc:"The close the figure's window starts from, YYYY-MM-DD."`
	To           string `json:"to,omitempty" doc:"The window's last valued day."`
	Observations int    `json:"observations" doc:"Daily returns (or for MWR, cash flows) used; 0 for a null figure."`
	Annualized   bool   `json:"annualized,omitempty" doc:"Whether the figure is annualised."`
	NullReason   string `json:"null_reason,omitempty" doc:"Why the figure is null."`
	// Drawdown dates.
	PeakDate     string `json:"peak_date,omitempty"`
	TroughDate   string `json:"trough_date,omitempty"`
	RecoveryDate string `json:"recovery_date,omitempty" doc:"Absent when the wealth index has not recovered."`
}

// BenchmarkDetail names the benchmark of α, β, tracking error and IR.
type BenchmarkDetail struct {
	SecurityID uuid.UUID `json:"security_id"`
	Symbol     string    `json:"symbol"`
	Currency   string    `json:"currency" doc:"The currency of its closes."`
	// ConvertedFX says whether its closes were converted to the base
	// currency with each day's pack rate.
	ConvertedFX bool `json:"converted_fx" doc:"Whether the closes were converted to the base currency at each pack's rate."`
}

// MetricsDetails is the details column: conventions, windows, observation
// counts and the reasons for null figures.
type MetricsDetails struct {
	SeriesStart  string                  `json:"series_start" doc:"The first valued day of the portfolio (inception)."`
	SeriesEnd    string                  `json:"series_end" doc:"The last valued day used."`
	DailyReturns int                     `json:"daily_returns" doc:"Daily TWR returns since inception."`
	RiskFreeRate float64                 `json:"risk_free_rate" doc:"The annual risk-free rate of Sharpe."`
	Benchmark    *BenchmarkDetail        `json:"benchmark" doc:"Null when the portfolio has no benchmark security."`
	Conventions  map[string]string       `json:"conventions" doc:"The convention of each family of figures."`
	Figures      map[string]FigureDetail `json:"figures" doc:"Per figure (by column name): window, observations, annualisation, or why it is null."`
}

// MetricsOutput is the upserted row.
type MetricsOutput struct {
	PortfolioID         uuid.UUID  `json:"portfolio_id"`
	AsOfDate            string     `json:"asof_date" doc:"The row's as_of_date: the run's as-of date."`
	PricingPackID       string     `json:"pricing_pack_id" doc:"The row's pack."`
	BaseCurrency        string     `json:"base_currency"`
	BenchmarkSecurityID *uuid.UUID `json:"benchmark_security_id" doc:"Null when the portfolio has no benchmark."`
	MetricFigures
	Details    MetricsDetails    `json:"details"`
	Provenance agents.Provenance `json:"provenance"`
}

// Windows of the return-series figures, in trading days.
const (
	tradingYear      = quant.PeriodsPerYear
	tradingThreeYear = 3 * quant.PeriodsPerYear
)

var metricsConventions = map[string]string{
	"windows": "30d, 60d, 90d, 1y and 3y return-series figures use the last 30, 60, 90, 252 and 756 daily returns; calendar " +
		"periods (MTD, QTD, YTD, 1y, 3y, 5y) end on the as-of date and start at the close of the last valued day on or before " +
		"the period's base date (the previous month's, quarter's or year's last day, or the same date 1, 3 or 5 years earlier)",
	"twr":        twrConvention,
	"mwr":        mwrConvention + "; flows: " + mwrFlowSource,
	"volatility": "sample standard deviation (ddof 1) of the daily TWR returns × √252",
	"sharpe":     sharpeConvention,
	"sortino":    "mean × 252 / (DD × √252), DD = sqrt(Σ min(rᵢ,0)² / n) over all observations, target 0",
	"drawdown": "on the wealth index of the daily TWR returns (external flows neutralised); the window's starting value counts " +
		"as a peak; a negative fraction; current_drawdown from the highest wealth since inception",
	"benchmark": "the benchmark's daily returns between the same valued days, from its closes in those days' packs, converted " +
		"to the base currency at each pack's rate when quoted in another currency; β = cov(p,b)/var(b) (ddof 1); " +
		"α = (1 + mean(p − β·b))^252 − 1; tracking error = std(p − b) × √252; information ratio = (annual return of p − " +
		"annual return of b) / tracking error",
	"win_rate": "share of the daily returns that are strictly positive; zero returns are not wins",
}

// ComputeMetrics implements metrics.compute.
func (a *Analyst) ComputeMetrics(ctx context.Context, c *agents.Call, in MetricsInput) (MetricsOutput, error) {
	out := MetricsOutput{PortfolioID: in.PortfolioID, PricingPackID: in.PricingPackID}
	asOf, err := c.AsOfOrToday(a.deps.Now)
	if err != nil {
		return out, err
	}
	out.AsOfDate = day(asOf)
	p, err := storage.GetPortfolio(ctx, c.DB, in.PortfolioID)
	if err != nil {
		return out, fmt.Errorf("metrics: %w", err)
	}
	out.BaseCurrency = p.BaseCurrency
	pack, err := agents.ValuationPack(ctx, c.DB, in.PricingPackID, asOf)
	if err != nil {
		return out, err
	}
	s, err := portfolioReturns(ctx, c.DB, in.PortfolioID, asOf, wholeHistory, 1)
	if err != nil {
		return out, err
	}
	if err := seriesReachesPack(s, pack); err != nil {
		return out, err
	}
	b := &metricsBuilder{details: MetricsDetails{
		SeriesStart: day(s.Values[0].Date), SeriesEnd: day(s.Values[len(s.Values)-1].Date), DailyReturns: len(s.Returns),
		RiskFreeRate: a.deps.RiskFreeRate, Conventions: metricsConventions, Figures: map[string]FigureDetail{},
	}}
	b.periodReturns(s, asOf)
	b.moneyWeighted(s, asOf)
	b.riskFigures(s, a.deps.RiskFreeRate)
	if p.BenchmarkSecurityID == uuid.Nil {
		for _, f := range benchmarkFigures {
			b.null(f, FigureDetail{}, "the portfolio has no benchmark security (portfolios.benchmark_security_id)")
		}
	} else {
		bench, err := benchmarkReturns(ctx, c.DB, p, s, tradingYear)
		if err != nil {
			return out, err
		}
		id := p.BenchmarkSecurityID
		out.BenchmarkSecurityID = &id
		b.details.Benchmark = &bench.detail
		b.benchmarkFigures(bench)
	}
	out.MetricFigures = *b.result()
	out.Details = b.details
	details, err := json.Marshal(out.Details)
	if err != nil {
		return out, agents.Wrap(agents.CodeInternal, err, "encode metrics details")
	}
	figures := map[string]*float64{}
	for col, f := range out.MetricFigures.columns() {
		figures[col] = *f
	}
	if err := storage.UpsertPortfolioMetrics(ctx, c.DB, storage.PortfolioMetrics{PortfolioID: in.PortfolioID, AsOf: asOf,
		PackID: pack.ID, BenchmarkSecurityID: p.BenchmarkSecurityID, Figures: figures, Details: details}); err != nil {
		return out, err
	}
	out.Provenance = c.ProvenanceAt(pack.ID, asOf, fmt.Sprintf("quant period returns, XIRR, volatility, Sharpe, Sortino, drawdown "+
		"and benchmark statistics over the daily TWR series of portfolio_daily_values from %s to %s; upserted into portfolio_metrics",
		out.Details.SeriesStart, out.Details.SeriesEnd), "see details.conventions")
	return out, nil
}

// seriesReachesPack checks that the daily values end on the pack's date,
// so the row's figures are those of the pack: an older last value means
// the daily values lag behind the packs; a newer one that the pack is not
// the newest the values were computed with.
func seriesReachesPack(s returnSeries, pack storage.Pack) error {
	last := s.Values[len(s.Values)-1].Date
	weekend := pack.Date.Weekday() == time.Saturday || pack.Date.Weekday() == time.Sunday
	switch {
	case last.After(pack.Date):
		return agents.FieldError("pricing_pack_id", "the daily values reach %s, after pack %s of %s: pass the run's pack (the newest on or before the as-of date)",
			day(last), pack.ID, day(pack.Date))
	case last.Before(pack.Date) && !weekend:
		return agents.Errorf(agents.CodeInsufficientData, "the daily values end on %s, before pack %s of %s: the daily values must be computed up to the pack's date",
			day(last), pack.ID, day(pack.Date))
	}
	return nil
}

// metricsBuilder collects the figures and their details.
type metricsBuilder struct {
	vals    map[string]float64
	details MetricsDetails
}

func (b *metricsBuilder) set(name string, v float64, d FigureDetail) {
	if b.vals == nil {
		b.vals = map[string]float64{}
	}
	b.vals[name] = v
	b.details.Figures[name] = d
}

func (b *metricsBuilder) null(name string, d FigureDetail, format string, args ...any) {
	d.Observations = 0
	d.NullReason = fmt.Sprintf(format, args...)
	b.details.Figures[name] = d
}

// try sets a figure from fn, or makes it null with the reason when the
// data do not support it (a quant error, or an insufficient_data error).
func (b *metricsBuilder) try(name string, d FigureDetail, fn func() (float64, error)) {
	v, err := fn()
	if err != nil {
		b.null(name, d, "%s", err.Error())
		return
	}
	b.set(name, v, d)
}

// result fills the figures from the values set.
func (b *metricsBuilder) result() *MetricFigures {
	var f MetricFigures
	for col, ptr := range f.columns() {
		if v, ok := b.vals[col]; ok {
			*ptr = &v
		} else if _, ok := b.details.Figures[col]; !ok {
			b.details.Figures[col] = FigureDetail{NullReason: "not computed"}
		}
	}
	return &f
}

// periodBases are the base dates of the calendar periods as of asOf: the
// close the period starts from.
func periodBases(asOf time.Time) map[string]time.Time {
	y, m, _ := asOf.Date()
	q := time.Month((int(m)-1)/3*3 + 1)
	return map[string]time.Time{
		"mtd": time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1),
		"qtd": time.Date(y, q, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1),
		"ytd": time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1),
		"1y":  asOf.AddDate(-1, 0, 0),
		"3y":  asOf.AddDate(-3, 0, 0),
		"5y":  asOf.AddDate(-5, 0, 0),
	}
}

// periodDetail describes the period (base, asOf] over the series.
func periodDetail(s returnSeries, base, asOf time.Time) FigureDetail {
	d := FigureDetail{From: day(base), To: day(s.Values[len(s.Values)-1].Date)}
	for _, v := range s.Values {
		if !v.Date.After(base) {
			d.From = day(v.Date)
		}
	}
	for _, r := range s.Returns {
		if r.Date.After(base) && !r.Date.After(asOf) {
			d.Observations++
		}
	}
	return d
}

func (b *metricsBuilder) periodReturns(s returnSeries, asOf time.Time) {
	n := len(s.Returns)
	b.set("twr_1d", s.Returns[n-1].Return, FigureDetail{From: day(s.Values[n-1].Date), To: day(s.Values[n].Date), Observations: 1})
	inception := s.Values[0].Date
	pr, err := quant.ComputePeriodReturns(inception, s.Returns, asOf)
	if err != nil {
		for _, f := range []string{"twr_mtd", "twr_qtd", "twr_ytd", "twr_1y", "twr_3y_ann", "twr_5y_ann", "twr_inception_ann"} {
			b.null(f, FigureDetail{}, "%s", err.Error())
		}
		return
	}
	bases := periodBases(asOf)
	for _, p := range []struct {
		name, base string
		v          *float64
		annualized bool
	}{
		{"twr_mtd", "mtd", pr.MTD, false}, {"twr_qtd", "qtd", pr.QTD, false}, {"twr_ytd", "ytd", pr.YTD, false},
		{"twr_1y", "1y", pr.OneYear, false}, {"twr_3y_ann", "3y", pr.ThreeYearAnn, true}, {"twr_5y_ann", "5y", pr.FiveYearAnn, true},
	} {
		base := bases[p.base]
		d := periodDetail(s, base, asOf)
		d.Annualized = p.annualized
		if p.v == nil {
			b.null(p.name, FigureDetail{From: day(base), To: day(asOf)}, "the history starts on %s, after the period's base date %s",
				day(inception), day(base))
			continue
		}
		b.set(p.name, *p.v, d)
	}
	d := periodDetail(s, inception, asOf)
	d.Annualized = pr.SinceInceptionAnnualised
	if pr.SinceInception == nil {
		b.null("twr_inception_ann", d, "no daily return after the inception %s", day(inception))
		return
	}
	b.set("twr_inception_ann", *pr.SinceInception, d)
}

func (b *metricsBuilder) moneyWeighted(s returnSeries, asOf time.Time) {
	inception := s.Values[0].Date
	bases := periodBases(asOf)
	for _, p := range []struct {
		name string
		base time.Time
	}{{"mwr_ytd", bases["ytd"]}, {"mwr_1y", bases["1y"]}, {"mwr_inception", inception}} {
		if p.base.Before(inception) {
			b.null(p.name, FigureDetail{From: day(p.base), To: day(asOf)}, "the history starts on %s, after the period's base date %s",
				day(inception), day(p.base))
			continue
		}
		k := 0
		for i, v := range s.Values {
			if !v.Date.After(p.base) {
				k = i
			}
		}
		vals := s.Values[k:]
		d := FigureDetail{From: day(vals[0].Date), To: day(vals[len(vals)-1].Date)}
		if len(vals) < 2 {
			b.null(p.name, d, "no valued day after %s", day(vals[0].Date))
			continue
		}
		m, err := moneyWeighted(vals)
		if err != nil {
			b.null(p.name, d, "%s", err.Error())
			continue
		}
		d.Observations, d.Annualized = len(m.Flows), m.Annualized
		b.set(p.name, m.Return, d)
	}
}

// lastWindow is the detail of the last w daily returns, or ok false when
// the history is shorter.
func lastWindow(s returnSeries, w int) (FigureDetail, []float64, bool) {
	n := len(s.Returns)
	if n < w {
		return FigureDetail{}, nil, false
	}
	return FigureDetail{From: day(s.Values[n-w].Date), To: day(s.Values[n].Date), Observations: w}, s.Floats()[n-w:], true
}

func (b *metricsBuilder) riskFigures(s returnSeries, rf float64) {
	short := func(name string, w int) {
		b.null(name, FigureDetail{}, "needs %d daily returns, the history has %d (since %s)", w, len(s.Returns), day(s.Values[0].Date))
	}
	for _, w := range []struct {
		days            int
		vol, sharpe, dd string
	}{{30, "volatility_30d", "sharpe_30d", ""}, {60, "volatility_60d", "sharpe_60d", ""}, {90, "volatility_90d", "sharpe_90d", ""},
		{tradingYear, "volatility_1y", "sharpe_1y", "max_drawdown_1y"}, {tradingThreeYear, "", "", "max_drawdown_3y"}} {
		d, r, ok := lastWindow(s, w.days)
		for _, name := range []string{w.vol, w.sharpe, w.dd} {
			if name != "" && !ok {
				short(name, w.days)
			}
		}
		if !ok {
			continue
		}
		if w.vol != "" {
			b.try(w.vol, d, func() (float64, error) { return quant.AnnualVolatility(r) })
			b.try(w.sharpe, d, func() (float64, error) { return quant.Sharpe(r, rf) })
		}
		if w.dd != "" {
			b.drawdown(w.dd, s, w.days, d, r)
		}
	}
	if d, r, ok := lastWindow(s, tradingYear); ok {
		b.try("sortino_1y", d, func() (float64, error) { return quant.Sortino(r) })
		b.try("win_rate", d, func() (float64, error) { return quant.WinRate(r) })
	} else {
		short("sortino_1y", tradingYear)
		short("win_rate", tradingYear)
	}
	d := FigureDetail{From: day(s.Values[0].Date), To: day(s.Values[len(s.Values)-1].Date), Observations: len(s.Returns)}
	b.try("current_drawdown", d, func() (float64, error) {
		w, err := quant.WealthIndex(s.Floats())
		if err != nil {
			return 0, err
		}
		return quant.CurrentDrawdown(w)
	})
}

// drawdown sets a max drawdown over the last w returns with its dates:
// wealth index i is the close of s.Values[n−w+i].
func (b *metricsBuilder) drawdown(name string, s returnSeries, w int, d FigureDetail, r []float64) {
	dd, err := quant.MaxDrawdownOfReturns(r)
	if err != nil {
		b.null(name, d, "%s", err.Error())
		return
	}
	at := func(i int) string { return day(s.Values[len(s.Returns)-w+i].Date) }
	if dd.Depth < 0 {
		d.PeakDate, d.TroughDate = at(dd.Peak), at(dd.Trough)
		if dd.Recovery != nil {
			d.RecoveryDate = at(*dd.Recovery)
		}
	}
	b.set(name, dd.Depth, d)
}

var benchmarkFigures = []string{"alpha_1y", "beta_1y", "tracking_error_1y", "information_ratio_1y"}

// benchmarkSeries is the benchmark's daily returns aligned with the
// portfolio's last returns, or the reason there are none.
type benchmarkSeries struct {
	detail    BenchmarkDetail
	portfolio []float64
	benchmark []float64
	window    FigureDetail
	reason    string
}

// benchmarkReturns reads the benchmark's closes on the valued days of the
// portfolio's last w returns and turns them into returns in the base
// currency. A missing close or rate leaves the figures null with the
// reason; nothing is filled in.
func benchmarkReturns(ctx context.Context, q storage.Querier, p storage.Portfolio, s returnSeries, w int) (benchmarkSeries, error) {
	sec, err := storage.GetSecurity(ctx, q, p.BenchmarkSecurityID)
	if err != nil {
		return benchmarkSeries{}, fmt.Errorf("benchmark of portfolio %s: %w", p.ID, err)
	}
	out := benchmarkSeries{detail: BenchmarkDetail{SecurityID: sec.ID, Symbol: sec.Symbol, Currency: sec.Currency}}
	d, r, ok := lastWindow(s, w)
	if !ok {
		out.reason = fmt.Sprintf("needs %d daily returns, the history has %d (since %s)", w, len(s.Returns), day(s.Values[0].Date))
		return out, nil
	}
	out.window, out.portfolio = d, r
	days := s.Values[len(s.Values)-w-1:]
	from, to := days[0].Date, days[len(days)-1].Date
	hist, err := storage.PriceHistory(ctx, q, []uuid.UUID{sec.ID}, from, to)
	if err != nil {
		return out, fmt.Errorf("benchmark %s of portfolio %s: %w", sec.Symbol, p.ID, err)
	}
	closes := map[time.Time]storage.DatedPrice{}
	for _, c := range hist[sec.ID] {
		closes[c.Date] = c
	}
	rates := map[string]map[time.Time]decimal.Decimal{}
	// value is the benchmark's close on dt in the base currency, or why
	// there is none.
	value := func(dt time.Time) (float64, string, error) {
		c, ok := closes[dt]
		if !ok {
			return 0, fmt.Sprintf("benchmark %s has no close in the pack of %s", sec.Symbol, day(dt)), nil
		}
		out.detail.Currency = c.Currency
		if c.Currency == p.BaseCurrency {
			return c.Close.InexactFloat64(), "", nil
		}
		out.detail.ConvertedFX = true
		byDate, ok := rates[c.Currency]
		if !ok {
			hist, err := storage.FXHistory(ctx, q, c.Currency, p.BaseCurrency, from, to)
			if err != nil {
				return 0, "", fmt.Errorf("benchmark %s of portfolio %s: %w", sec.Symbol, p.ID, err)
			}
			byDate = map[time.Time]decimal.Decimal{}
			for _, r := range hist {
				byDate[r.Date] = r.Rate
			}
			rates[c.Currency] = byDate
		}
		rate, ok := byDate[dt]
		if !ok {
			return 0, fmt.Sprintf("the pack of %s has no %s/%s rate to convert benchmark %s", day(dt), c.Currency, p.BaseCurrency, sec.Symbol), nil
		}
		return c.Close.Mul(rate).InexactFloat64(), "", nil
	}
	vals := make([]float64, len(days))
	for i, dv := range days {
		v, reason, err := value(dv.Date)
		if err != nil {
			return out, err
		}
		if reason != "" {
			out.reason = reason
			return out, nil
		}
		vals[i] = v
	}
	if out.benchmark, err = quant.SimpleReturns(vals); err != nil {
		out.reason = fmt.Sprintf("benchmark %s returns: %v", sec.Symbol, err)
	}
	return out, nil
}

func (b *metricsBuilder) benchmarkFigures(bs benchmarkSeries) {
	if bs.reason != "" {
		for _, f := range benchmarkFigures {
			b.null(f, bs.window, "%s", bs.reason)
		}
		return
	}
	p, r := bs.portfolio, bs.benchmark
	b.try("beta_1y", bs.window, func() (float64, error) { return quant.Beta(p, r) })
	b.try("alpha_1y", bs.window, func() (float64, error) { return quant.Alpha(p, r) })
	b.try("tracking_error_1y", bs.window, func() (float64, error) { return quant.TrackingError(p, r) })
	b.try("information_ratio_1y", bs.window, func() (float64, error) { return quant.InformationRatio(p, r) })
}
