package analyst_test

import (
	"context"
	"encoding/json"
	"math"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/agenttest"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/seed"
)

// demoEnd is the last day of the demo data of these tests; the window is
// 14 months, so one-year figures exist and three-year ones do not.
var demoEnd = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

func seedDemo(t *testing.T) agenttest.Demo { return agenttest.SeedDemo(t, demoEnd, 14) }

// sqlDay is one portfolio_daily_values row read with plain SQL.
type sqlDay struct {
	date        time.Time
	total, flow float64
	totalExact  decimal.Decimal
}

// sqlDays reads the last n daily values up to asOf, oldest first.
func sqlDays(t *testing.T, db *storage.DB, id uuid.UUID, asOf time.Time, n int) []sqlDay {
	t.Helper()
	var out []sqlDay
	err := db.Query(context.Background(), func(rows pgx.Rows) error {
		for rows.Next() {
			var s sqlDay
			if err := rows.Scan(&s.date, &s.total, &s.flow, &s.totalExact); err != nil {
				return err
			}
			out = append(out, s)
		}
		return rows.Err()
	}, `SELECT value_date, total_value::float8, net_external_flow::float8, total_value FROM portfolio_daily_values
		WHERE portfolio_id = $1 AND value_date <= $2 ORDER BY value_date DESC LIMIT $3`, id, asOf, n)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// handReturns is the TWR of each day written out: 1 + r = (V + out) /
// (V₋₁ + in), inflows at the start of the day, outflows at its end.
func handReturns(days []sqlDay) []float64 {
	out := make([]float64, 0, len(days)-1)
	for i := 1; i < len(days); i++ {
		in, outflow := math.Max(days[i].flow, 0), math.Max(-days[i].flow, 0)
		out = append(out, (days[i].total+outflow)/(days[i-1].total+in)-1)
	}
	return out
}

func chain(r []float64) float64 {
	g := 1.0
	for _, x := range r {
		g *= 1 + x
	}
	return g - 1
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// sampleStd is the standard deviation with ddof 1.
func sampleStd(x []float64) float64 {
	m, s := mean(x), 0.0
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(len(x)-1))
}

func handSharpe(r []float64, rfAnnual float64) float64 {
	rf := math.Pow(1+rfAnnual, 1.0/252) - 1
	ex := make([]float64, len(r))
	for i, x := range r {
		ex[i] = x - rf
	}
	return mean(ex) / sampleStd(ex) * math.Sqrt(252)
}

// handXIRR solves Σ aᵢ (1+r)^(−dᵢ/365) = 0 by bisection on (−0.99, 10).
func handXIRR(t *testing.T, dates []time.Time, amounts []float64) float64 {
	t.Helper()
	npv := func(r float64) float64 {
		s := 0.0
		for i, a := range amounts {
			s += a / math.Pow(1+r, dates[i].Sub(dates[0]).Hours()/24/365)
		}
		return s
	}
	lo, hi := -0.99, 10.0
	if npv(lo)*npv(hi) > 0 {
		t.Fatalf("no sign change of the npv on (-0.99, 10): %g, %g", npv(lo), npv(hi))
	}
	for range 300 {
		m := (lo + hi) / 2
		if (npv(m) > 0) == (npv(lo) > 0) {
			lo = m
		} else {
			hi = m
		}
	}
	return (lo + hi) / 2
}

// handMWR is the MWR of a window of SQL rows under the calendar rule.
func handMWR(t *testing.T, days []sqlDay) (float64, bool) {
	t.Helper()
	dates := []time.Time{days[0].date}
	amounts := []float64{-days[0].total}
	for _, dd := range days[1:] {
		if dd.flow != 0 {
			dates, amounts = append(dates, dd.date), append(amounts, -dd.flow)
		}
	}
	last := days[len(days)-1]
	dates, amounts = append(dates, last.date), append(amounts, last.total)
	x := handXIRR(t, dates, amounts)
	if last.date.After(days[0].date.AddDate(1, 0, 0)) {
		return x, true
	}
	return math.Pow(1+x, last.date.Sub(days[0].date).Hours()/24/365) - 1, false
}

// maxDrawdown of the wealth index of r, the start counting as a peak.
func maxDrawdown(r []float64) float64 {
	w, peak, worst := 1.0, 1.0, 0.0
	for _, x := range r {
		w *= 1 + x
		peak = math.Max(peak, w)
		worst = math.Min(worst, w/peak-1)
	}
	return worst
}

func TestPerformanceOnTheDemoData(t *testing.T) {
	t.Parallel()
	dm := seedDemo(t)
	ctx := context.Background()
	h := newPerfHarness(t, dm.DB, agents.RunContext{PricingPackID: dm.PackID, AsOfDate: demoEnd.Format(time.DateOnly)})

	t.Run("historical_nav", func(t *testing.T) {
		for _, p := range dm.Report.Portfolios {
			var nav analyst.HistoricalNAVOutput
			if err := h.Call("portfolio.historical_nav", map[string]any{"portfolio_id": p.ID}, &nav); err != nil {
				t.Fatal(err)
			}
			rows := sqlDays(t, dm.DB, p.ID, demoEnd, 253)
			if len(nav.Values) != 253 || nav.Days != 252 || !nav.Complete || nav.BaseCurrency != p.BaseCurrency {
				t.Fatalf("%s: %d values, %d days, complete %v; want 253 values", p.Name, len(nav.Values), nav.Days, nav.Complete)
			}
			for i, v := range nav.Values {
				if v.Date != rows[i].date.Format(time.DateOnly) || !v.TotalValue.Equal(rows[i].totalExact) ||
					!v.TotalValue.Equal(v.CashValue.Add(v.PositionsValue)) || v.PricingPackID != "PP_"+v.Date {
					t.Fatalf("%s: value %d = %+v; SQL has %s %s", p.Name, i, v, rows[i].date, rows[i].totalExact)
				}
			}
			var count int
			if err := dm.DB.QueryRow(ctx, `SELECT count(*) FROM portfolio_daily_values WHERE portfolio_id = $1`, []any{p.ID}, &count); err != nil {
				t.Fatal(err)
			}
			if err := h.Call("portfolio.historical_nav", map[string]any{"portfolio_id": p.ID, "lookback_days": 2520}, &nav); err != nil {
				t.Fatal(err)
			}
			if len(nav.Values) != count || nav.Complete || nav.Days != count-1 {
				t.Fatalf("%s: the whole history is %d rows; got %d values, complete %v", p.Name, count, len(nav.Values), nav.Complete)
			}
			err := h.Call("portfolio.historical_nav", map[string]any{"portfolio_id": p.ID, "lookback_days": 2520, "require_full": true}, &nav)
			wantCode(t, "nav longer than the history", err, agents.CodeInsufficientData, "need at least 2520")
		}
	})

	t.Run("compute_twr", func(t *testing.T) {
		for _, p := range dm.Report.Portfolios {
			for _, lb := range []int{252, 280} {
				var out analyst.TWROutput
				if err := h.Call("metrics.compute_twr", map[string]any{"portfolio_id": p.ID, "lookback_days": lb}, &out); err != nil {
					t.Fatal(err)
				}
				rows := sqlDays(t, dm.DB, p.ID, demoEnd, lb+1)
				total := chain(handReturns(rows))
				first, last := rows[0].date, rows[len(rows)-1].date
				want, annual := total, last.After(first.AddDate(1, 0, 0))
				if annual {
					want = math.Pow(1+total, 365/(last.Sub(first).Hours()/24)) - 1
				}
				if !near(out.TotalReturn, total, 1e-10) || !near(out.TWR, want, 1e-10) || out.Annualized != annual ||
					out.Days != lb || out.StartDate != first.Format(time.DateOnly) || out.EndDate != last.Format(time.DateOnly) {
					t.Fatalf("%s lookback %d: %+v; by hand total %v, twr %v (annualised %v) from %s", p.Name, lb, out, total, want, annual, first)
				}
			}
			err := h.Call("metrics.compute_twr", map[string]any{"portfolio_id": p.ID, "lookback_days": 2000, "require_full": true}, &analyst.TWROutput{})
			wantCode(t, "twr longer than the history", err, agents.CodeInsufficientData, "need at least 2000")
		}
	})

	t.Run("compute_mwr", func(t *testing.T) {
		for _, p := range dm.Report.Portfolios {
			for _, lb := range []int{60, 300} {
				var out analyst.MWROutput
				if err := h.Call("metrics.compute_mwr", map[string]any{"portfolio_id": p.ID, "lookback_days": lb}, &out); err != nil {
					t.Fatal(err)
				}
				rows := sqlDays(t, dm.DB, p.ID, demoEnd, lb+1)
				want, annual := handMWR(t, rows)
				if !near(out.MWR, want, 1e-8) || out.Annualized != annual || out.CashFlows[0].Kind != analyst.FlowOpeningValue {
					t.Fatalf("%s lookback %d: mwr %v (annual %v); by hand %v (annual %v)", p.Name, lb, out.MWR, out.Annualized, want, annual)
				}
			}
		}
	})

	t.Run("compute_sharpe", func(t *testing.T) {
		for _, p := range dm.Report.Portfolios {
			var out analyst.SharpeOutput
			if err := h.Call("metrics.compute_sharpe", map[string]any{"portfolio_id": p.ID}, &out); err != nil {
				t.Fatal(err)
			}
			r := handReturns(sqlDays(t, dm.DB, p.ID, demoEnd, 253))
			if !near(out.Sharpe, handSharpe(r, testRiskFree), 1e-9) || !near(out.Volatility, sampleStd(r)*math.Sqrt(252), 1e-12) ||
				out.Observations != 252 || out.RiskFreeRate != testRiskFree {
				t.Fatalf("%s: sharpe %v vol %v over %d; by hand %v, %v", p.Name, out.Sharpe, out.Volatility, out.Observations,
					handSharpe(r, testRiskFree), sampleStd(r)*math.Sqrt(252))
			}
		}
	})

	t.Run("metrics.compute", func(t *testing.T) {
		for _, p := range dm.Report.Portfolios {
			checkMetrics(t, h, dm, p)
		}
		// A benchmark quoted in another currency: the USD portfolio against
		// the CAD-traded XIU, converted at each pack's rate.
		usd := dm.Ports["USD"]
		if _, err := dm.DB.Exec(ctx, `UPDATE portfolios SET benchmark_security_id = (SELECT id FROM securities WHERE symbol = 'XIU') WHERE id = $1`, usd.ID); err != nil {
			t.Fatal(err)
		}
		m := checkMetrics(t, h, dm, usd)
		if m.Details.Benchmark == nil || m.Details.Benchmark.Symbol != "XIU" || !m.Details.Benchmark.ConvertedFX || m.Details.Benchmark.Currency != "CAD" {
			t.Fatalf("benchmark detail %+v; want XIU converted from CAD", m.Details.Benchmark)
		}
	})

	t.Run("unrealized_pl", func(t *testing.T) {
		for _, p := range dm.Report.Portfolios {
			checkUnrealized(t, h, dm, p)
		}
	})

	t.Run("attribution.currency", func(t *testing.T) {
		for _, p := range dm.Report.Portfolios {
			checkAttribution(t, h, dm, p)
		}
	})

	t.Run("charts.overview", func(t *testing.T) {
		// The portfolio_overview chain: every output passed in whole.
		p := dm.Ports["CAD"]
		var valued analyst.ValuedPositionsOutput
		var sectors analyst.SectorAllocationOutput
		var nav analyst.HistoricalNAVOutput
		var twr analyst.TWROutput
		var metrics analyst.MetricsOutput
		var att analyst.CurrencyAttributionOutput
		for _, st := range []struct {
			name string
			args map[string]any
			out  any
		}{
			{"portfolio.get_valued_positions", map[string]any{"portfolio_id": p.ID, "pricing_pack_id": dm.PackID}, &valued},
			{"portfolio.historical_nav", map[string]any{"portfolio_id": p.ID}, &nav},
			{"metrics.compute_twr", map[string]any{"portfolio_id": p.ID, "include_series": true}, &twr},
			{"metrics.compute", map[string]any{"portfolio_id": p.ID, "pricing_pack_id": dm.PackID}, &metrics},
			{"attribution.currency", map[string]any{"portfolio_id": p.ID, "pricing_pack_id": dm.PackID}, &att},
		} {
			if err := h.Call(st.name, st.args, st.out); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		if err := h.Call("portfolio.sector_allocation", map[string]any{"positions": valued.Positions, "total_value": valued.TotalValue}, &sectors); err != nil {
			t.Fatal(err)
		}
		var charts analyst.ChartsOverviewOutput
		if err := h.Call("charts.overview", map[string]any{"valued": valued, "sectors": sectors, "nav": nav, "twr": twr,
			"metrics": metrics, "attribution": att}, &charts); err != nil {
			t.Fatal(err)
		}
		byID := map[string]analyst.Chart{}
		for _, c := range charts.Charts {
			byID[c.ID] = c
		}
		want := map[string]struct {
			typ    string
			points int
		}{
			"nav": {analyst.ChartLine, len(nav.Values)}, "cumulative_return": {analyst.ChartLine, len(twr.Series)},
			"position_allocation": {analyst.ChartDonut, len(valued.Positions) + 1}, "sector_allocation": {analyst.ChartDonut, len(sectors.Sectors)},
			"currency_attribution": {analyst.ChartBar, len(att.ByCurrency) + 1}, "holdings": {analyst.ChartTable, 0}, "metrics": {analyst.ChartTable, 0},
		}
		if len(charts.Charts) != len(want) {
			t.Fatalf("%d charts; want %d", len(charts.Charts), len(want))
		}
		for id, w := range want {
			c, ok := byID[id]
			if !ok || c.Type != w.typ {
				t.Fatalf("chart %s = %+v; want type %s", id, c, w.typ)
			}
			if w.typ != analyst.ChartTable && (len(c.Series) == 0 || len(c.Series[0].Points) != w.points) {
				t.Fatalf("chart %s: series %+v; want %d points", id, c.Series, w.points)
			}
		}
		navChart := byID["nav"]
		if navChart.YAxis.Unit != "CAD" || navChart.XAxis.Scale != analyst.ScaleTime ||
			navChart.Series[0].Points[len(nav.Values)-1].Y != nav.Values[len(nav.Values)-1].TotalValue.InexactFloat64() {
			t.Fatalf("nav chart %+v", navChart)
		}
		if got := byID["cumulative_return"].Series[0].Points; got[len(got)-1].Y != twr.TotalReturn && !near(got[len(got)-1].Y, twr.TotalReturn, 1e-12) {
			t.Fatalf("cumulative return ends at %v; twr total %v", got[len(got)-1].Y, twr.TotalReturn)
		}
		if rows := byID["holdings"].Rows; len(rows) != len(valued.Positions) || *rows[0]["market_value"] != valued.Positions[0].MarketValue.String() {
			t.Fatalf("holdings rows %v", rows)
		}
		if rows := byID["metrics"].Rows; len(rows) != 28 || rows[6]["value"] != nil || rows[6]["note"] == nil {
			t.Fatalf("metrics rows: %d, 5y row %v; want 28 rows, the 5y figure null with its reason", len(rows), rows[6])
		}
		err := h.Call("charts.overview", map[string]any{}, &charts)
		wantCode(t, "charts without inputs", err, agents.CodeInvalidInput, "at least one")
	})

	t.Run("unknown portfolio", func(t *testing.T) {
		id := uuid.New()
		for _, st := range []struct {
			name string
			args map[string]any
		}{
			{"portfolio.historical_nav", map[string]any{"portfolio_id": id}},
			{"metrics.compute_twr", map[string]any{"portfolio_id": id}},
			{"metrics.compute_mwr", map[string]any{"portfolio_id": id}},
			{"metrics.compute_sharpe", map[string]any{"portfolio_id": id}},
			{"metrics.compute", map[string]any{"portfolio_id": id, "pricing_pack_id": dm.PackID}},
			{"metrics.unrealized_pl", map[string]any{"portfolio_id": id, "pricing_pack_id": dm.PackID}},
			{"attribution.currency", map[string]any{"portfolio_id": id, "pricing_pack_id": dm.PackID}},
		} {
			var out map[string]any
			err := h.Call(st.name, st.args, &out)
			wantCode(t, st.name+" of an unknown portfolio", err, agents.CodeNotFound, id.String())
		}
		var out map[string]any
		err := h.Call("metrics.unrealized_pl", map[string]any{"portfolio_id": dm.Ports["CAD"].ID, "pricing_pack_id": "PP_1999-01-04"}, &out)
		wantCode(t, "an unknown pack", err, agents.CodeNotFound, "PP_1999-01-04")
		err = h.Call("metrics.compute_twr", map[string]any{"portfolio_id": dm.Ports["CAD"].ID, "lookback_days": 0}, &out)
		wantCode(t, "lookback 0", err, agents.CodeInvalidInput, "")
	})
}

// metricsRow is the stored row read back with SQL.
type metricsRow struct {
	twr1d, twrYTD, twr1y, twr3y, vol30, sharpe1y, mdd1y, mdd3y, beta, winRate, mwrInception *float64
	details                                                                                 []byte
	count                                                                                   int
	created                                                                                 time.Time
}

func readMetricsRow(t *testing.T, db *storage.DB, id uuid.UUID, packID string) metricsRow {
	t.Helper()
	var r metricsRow
	if err := db.QueryRow(context.Background(), `SELECT twr_1d, twr_ytd, twr_1y, twr_3y_ann, volatility_30d, sharpe_1y, max_drawdown_1y,
			max_drawdown_3y, beta_1y, win_rate, mwr_inception, details::text, (SELECT count(*) FROM portfolio_metrics WHERE portfolio_id = $1),
			created_at
		FROM portfolio_metrics WHERE portfolio_id = $1 AND as_of_date = $2 AND pack_id = $3`, []any{id, demoEnd, packID},
		&r.twr1d, &r.twrYTD, &r.twr1y, &r.twr3y, &r.vol30, &r.sharpe1y, &r.mdd1y, &r.mdd3y, &r.beta, &r.winRate, &r.mwrInception,
		&r.details, &r.count, &r.created); err != nil {
		t.Fatal(err)
	}
	return r
}

// sqlBenchmark reads the portfolio's benchmark closes in its base currency
// on the given dates with plain SQL (the pack's direct rate, or the
// inverse of the reverse one).
func sqlBenchmark(t *testing.T, db *storage.DB, id uuid.UUID, dates []time.Time) []float64 {
	t.Helper()
	out := make([]float64, len(dates))
	for i, dt := range dates {
		if err := db.QueryRow(context.Background(), `
			SELECT pr.close::float8 * CASE WHEN pr.currency = p.base_currency THEN 1 ELSE coalesce(
				(SELECT rate FROM fx_rates WHERE pack_id = pk.id AND from_ccy = pr.currency AND to_ccy = p.base_currency),
				1 / (SELECT rate FROM fx_rates WHERE pack_id = pk.id AND from_ccy = p.base_currency AND to_ccy = pr.currency)) END::float8
			FROM portfolios p JOIN prices pr ON pr.security_id = p.benchmark_security_id
			JOIN pricing_packs pk ON pk.id = pr.pack_id AND pk.status = 'fresh' AND pk.superseded_by IS NULL
			WHERE p.id = $1 AND pk.pack_date = $2`, []any{id, dt}, &out[i]); err != nil {
			t.Fatalf("benchmark on %s: %v", dt, err)
		}
	}
	return out
}

// checkMetrics runs metrics.compute twice and checks the stored row
// against independent computations over the SQL rows.
func checkMetrics(t *testing.T, h *enginetest.Harness, dm agenttest.Demo, p seed.PortfolioInfo) analyst.MetricsOutput {
	t.Helper()
	var m analyst.MetricsOutput
	args := map[string]any{"portfolio_id": p.ID, "pricing_pack_id": dm.PackID}
	if err := h.Call("metrics.compute", args, &m); err != nil {
		t.Fatal(err)
	}
	row := readMetricsRow(t, dm.DB, p.ID, dm.PackID)
	all := sqlDays(t, dm.DB, p.ID, demoEnd, 100000)
	r := handReturns(all)
	n := len(r)
	if row.count != 1 || row.twr1d == nil || *row.twr1d != *m.TWR1D || !near(*row.twr1d, r[n-1], 1e-12) {
		t.Fatalf("%s: stored twr_1d %v (%d rows), output %v; by hand %v", p.Name, row.twr1d, row.count, m.TWR1D, r[n-1])
	}
	// YTD: the returns dated in 2026.
	var ytd []float64
	for i := 1; i < len(all); i++ {
		if all[i].date.Year() == 2026 {
			ytd = append(ytd, r[i-1])
		}
	}
	last252 := r[n-252:]
	for _, c := range []struct {
		name      string
		got       *float64
		want, tol float64
	}{
		{"twr_ytd", row.twrYTD, chain(ytd), 1e-10},
		{"volatility_30d", row.vol30, sampleStd(r[n-30:]) * math.Sqrt(252), 1e-12},
		{"sharpe_1y", row.sharpe1y, handSharpe(last252, testRiskFree), 1e-9},
		{"max_drawdown_1y", row.mdd1y, maxDrawdown(last252), 1e-12},
		{"win_rate", row.winRate, func() float64 {
			w := 0
			for _, x := range last252 {
				if x > 0 {
					w++
				}
			}
			return float64(w) / 252
		}(), 0},
	} {
		if c.got == nil || !near(*c.got, c.want, c.tol) {
			t.Fatalf("%s: stored %s = %v; by hand %v", p.Name, c.name, c.got, c.want)
		}
	}
	wantMWR, annual := handMWR(t, all)
	if row.mwrInception == nil || !near(*row.mwrInception, wantMWR, 1e-8) || !annual {
		t.Fatalf("%s: mwr_inception %v; by hand %v", p.Name, row.mwrInception, wantMWR)
	}
	// β over the last 252 days against the benchmark's closes from SQL.
	dates := make([]time.Time, 253)
	for i := range dates {
		dates[i] = all[len(all)-253+i].date
	}
	bv := sqlBenchmark(t, dm.DB, p.ID, dates)
	b := make([]float64, 252)
	for i := range b {
		b[i] = bv[i+1]/bv[i] - 1
	}
	mp, mb, cov, vb := mean(last252), mean(b), 0.0, 0.0
	for i := range b {
		cov += (last252[i] - mp) * (b[i] - mb)
		vb += (b[i] - mb) * (b[i] - mb)
	}
	if row.beta == nil || !near(*row.beta, cov/vb, 1e-9) {
		t.Fatalf("%s: beta_1y %v; by hand %v", p.Name, row.beta, cov/vb)
	}
	// No three-year figures on 14 months: null, with the reason stored.
	var det analyst.MetricsDetails
	if err := json.Unmarshal(row.details, &det); err != nil {
		t.Fatal(err)
	}
	if row.twr3y != nil || row.mdd3y != nil || det.Figures["twr_3y_ann"].NullReason == "" || det.Figures["max_drawdown_3y"].NullReason == "" ||
		det.Figures["sharpe_1y"].Observations != 252 || det.Conventions["twr"] == "" {
		t.Fatalf("%s: 3y figures %v %v, details %+v", p.Name, row.twr3y, row.mdd3y, det.Figures)
	}
	// A replay writes the same row again, and only that row.
	var again analyst.MetricsOutput
	if err := h.Call("metrics.compute", args, &again); err != nil {
		t.Fatal(err)
	}
	row2 := readMetricsRow(t, dm.DB, p.ID, dm.PackID)
	if row2.count != 1 || *row2.twr1d != *row.twr1d || *row2.sharpe1y != *row.sharpe1y || *row2.beta != *row.beta ||
		string(row2.details) != string(row.details) || !row2.created.Equal(row.created) {
		t.Fatalf("%s: the replay changed the row: %d rows, details equal %v", p.Name, row2.count, string(row2.details) == string(row.details))
	}
	return m
}

// checkUnrealized compares every lot with SQL over lots and prices.
func checkUnrealized(t *testing.T, h *enginetest.Harness, dm agenttest.Demo, p seed.PortfolioInfo) {
	t.Helper()
	var out analyst.UnrealizedPLOutput
	if err := h.Call("metrics.unrealized_pl", map[string]any{"portfolio_id": p.ID, "pricing_pack_id": dm.PackID}, &out); err != nil {
		t.Fatal(err)
	}
	type lot struct {
		mvLocal, plLocal, plBase decimal.Decimal
		days                     int
	}
	want := map[uuid.UUID]lot{}
	err := dm.DB.Query(context.Background(), func(rows pgx.Rows) error {
		for rows.Next() {
			var id uuid.UUID
			var l lot
			if err := rows.Scan(&id, &l.mvLocal, &l.plLocal, &l.plBase, &l.days); err != nil {
				return err
			}
			want[id] = l
		}
		return rows.Err()
	}, `SELECT l.id, l.quantity_open * pr.close, l.quantity_open * pr.close - l.cost_basis_open,
			(l.quantity_open * pr.close - l.cost_basis_open) * CASE WHEN pr.currency = p.base_currency THEN 1 ELSE coalesce(
				(SELECT rate FROM fx_rates WHERE pack_id = $2 AND from_ccy = pr.currency AND to_ccy = p.base_currency),
				1 / (SELECT rate FROM fx_rates WHERE pack_id = $2 AND from_ccy = p.base_currency AND to_ccy = pr.currency)) END,
			pk.pack_date - l.acquired_date
		FROM lots l JOIN portfolios p ON p.id = l.portfolio_id
		JOIN prices pr ON pr.pack_id = $2 AND pr.security_id = l.security_id JOIN pricing_packs pk ON pk.id = $2
		WHERE l.portfolio_id = $1 AND l.is_open`, p.ID, dm.PackID)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Lots) != len(want) || len(want) == 0 {
		t.Fatalf("%s: %d lots; SQL has %d open", p.Name, len(out.Lots), len(want))
	}
	total := decimal.Zero
	for _, l := range out.Lots {
		w := want[l.LotID]
		term := analyst.TermShort
		if w.days > 365 {
			term = analyst.TermLong
		}
		if !l.MarketValueLocal.Equal(w.mvLocal) || l.UnrealizedPLLocal == nil || !l.UnrealizedPLLocal.Equal(w.plLocal) ||
			l.UnrealizedPL.Sub(w.plBase).Abs().GreaterThan(d("0.000001")) || l.HoldingDays != w.days || l.Term != term {
			t.Fatalf("%s: lot %s %+v; SQL says %+v", p.Name, l.Symbol, l, w)
		}
		total = total.Add(*l.UnrealizedPL)
	}
	if out.UnrealizedPL == nil || !out.UnrealizedPL.Equal(total) || !out.UnrealizedGains.Add(out.UnrealizedLosses).Equal(total) {
		t.Fatalf("%s: total %v; lots add to %s", p.Name, out.UnrealizedPL, total)
	}
}

// checkAttribution recomputes the attribution from SQL over prices,
// fx_rates and transactions, then replays it.
func checkAttribution(t *testing.T, h *enginetest.Harness, dm agenttest.Demo, p seed.PortfolioInfo) {
	t.Helper()
	ctx := context.Background()
	var out analyst.CurrencyAttributionOutput
	args := map[string]any{"portfolio_id": p.ID, "pricing_pack_id": dm.PackID}
	if err := h.Call("attribution.currency", args, &out); err != nil {
		t.Fatal(err)
	}
	// The start: 252 weekday packs before the end pack.
	var startPack string
	var start time.Time
	if err := dm.DB.QueryRow(ctx, `SELECT id, pack_date FROM pricing_packs WHERE status = 'fresh' AND superseded_by IS NULL
		AND pack_date < (SELECT pack_date FROM pricing_packs WHERE id = $1) ORDER BY pack_date DESC OFFSET 251 LIMIT 1`,
		[]any{dm.PackID}, &startPack, &start); err != nil {
		t.Fatal(err)
	}
	if out.StartPackID != startPack || out.Days != 252 || !out.Complete {
		t.Fatalf("%s: start %s over %d days; SQL says %s", p.Name, out.StartPackID, out.Days, startPack)
	}
	// Each security's quantity at the start and whether it is sold out
	// inside, walking its transactions; the split factor inside.
	type walk struct {
		q0, q, split float64
		q0set        bool
		soldOut      bool
		symbol       string
	}
	ws := map[uuid.UUID]*walk{}
	err := dm.DB.Query(ctx, func(rows pgx.Rows) error {
		for rows.Next() {
			var sec uuid.UUID
			var typ, sym string
			var day time.Time
			var qty, ratio *float64
			if err := rows.Scan(&sec, &sym, &typ, &day, &qty, &ratio); err != nil {
				return err
			}
			w := ws[sec]
			if w == nil {
				w = &walk{split: 1, symbol: sym}
				ws[sec] = w
			}
			inside := day.After(start)
			if inside && !w.q0set {
				w.q0, w.q0set = w.q, true
			}
			switch typ {
			case "BUY", "TRANSFER_IN":
				w.q += *qty
			case "SELL", "TRANSFER_OUT":
				w.q -= *qty
			case "SPLIT":
				w.q *= *ratio
				if inside {
					w.split *= *ratio
				}
			}
			if inside && w.q <= 0 {
				w.soldOut = true
			}
		}
		return rows.Err()
	}, `SELECT t.security_id, s.symbol, t.type, t.trade_date, t.quantity::float8, t.split_ratio::float8
		FROM transactions t JOIN securities s ON s.id = t.security_id
		WHERE t.portfolio_id = $1 AND t.trade_date <= (SELECT pack_date FROM pricing_packs WHERE id = $2)
		  AND t.type IN ('BUY', 'SELL', 'SPLIT', 'TRANSFER_IN', 'TRANSFER_OUT')
		ORDER BY t.trade_date, t.seq`, p.ID, dm.PackID)
	if err != nil {
		t.Fatal(err)
	}
	rate := func(pack, ccy string) float64 {
		var r float64
		if err := dm.DB.QueryRow(ctx, `SELECT CASE WHEN $2 = $3 THEN 1 ELSE coalesce(
				(SELECT rate FROM fx_rates WHERE pack_id = $1 AND from_ccy = $2 AND to_ccy = $3),
				1 / (SELECT rate FROM fx_rates WHERE pack_id = $1 AND from_ccy = $3 AND to_ccy = $2)) END::float8`,
			[]any{pack, ccy, p.BaseCurrency}, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	closeOf := func(pack string, sec uuid.UUID) (float64, string) {
		var c float64
		var ccy string
		if err := dm.DB.QueryRow(ctx, `SELECT close::float8, currency FROM prices WHERE pack_id = $1 AND security_id = $2`,
			[]any{pack, sec}, &c, &ccy); err != nil {
			t.Fatal(err)
		}
		return c, ccy
	}
	got := map[uuid.UUID]analyst.PositionAttribution{}
	for _, pa := range out.Positions {
		got[pa.SecurityID] = pa
	}
	v0, v1, local, fx := 0.0, 0.0, 0.0, 0.0
	var included, excluded []string
	splitSeen := false
	for _, w := range ws {
		if !w.q0set {
			w.q0 = w.q
		}
	}
	for sec, w := range ws {
		if w.q0 <= 0 || w.soldOut {
			if w.q > 0 || w.q0 > 0 {
				excluded = append(excluded, w.symbol)
			}
			continue
		}
		included = append(included, w.symbol)
		c0, ccy := closeOf(startPack, sec)
		c1, _ := closeOf(dm.PackID, sec)
		x0, x1 := rate(startPack, ccy), rate(dm.PackID, ccy)
		l, f := c1*w.split/c0-1, x1/x0-1
		pa, ok := got[sec]
		if !ok || !near(pa.Local, l, 1e-9) || !near(pa.FX, f, 1e-9) || pa.SplitFactor.InexactFloat64() != w.split {
			t.Fatalf("%s: %s attributed %+v; SQL says local %v, fx %v, split %v", p.Name, w.symbol, pa, l, f, w.split)
		}
		splitSeen = splitSeen || w.split != 1
		v0 += w.q0 * c0 * x0
		v1 += w.q0 * w.split * c1 * x1
		local += w.q0 * c0 * x0 * l
		fx += w.q0 * c0 * x0 * f
	}
	if len(out.Positions) != len(included) || len(out.Excluded) != len(excluded) {
		sort.Strings(included)
		t.Fatalf("%s: %d attributed, %d excluded %+v; SQL says %v and %v", p.Name, len(out.Positions), len(out.Excluded), out.Excluded, included, excluded)
	}
	if p.BaseCurrency == "USD" && !splitSeen {
		t.Fatalf("%s: the NVDA split inside the window was not seen", p.Name)
	}
	if !near(out.TotalReturn, v1/v0-1, 1e-9) || !near(out.LocalReturn, local/v0, 1e-9) || !near(out.FXReturn, fx/v0, 1e-9) ||
		math.Abs(out.ResidualBP) > 0.1 || !near(out.LocalReturn+out.FXReturn+out.InteractionReturn, out.TotalReturn, 1e-5) {
		t.Fatalf("%s: %+v; SQL says total %v, local %v, fx %v", p.Name, out, v1/v0-1, local/v0, fx/v0)
	}
	sumW := 0.0
	for _, l := range out.ByCurrency {
		sumW += l.Weight
	}
	if !near(sumW, 1, 1e-12) || (p.BaseCurrency != "USD" && len(out.ByCurrency) < 2) {
		t.Fatalf("%s: by currency %+v", p.Name, out.ByCurrency)
	}
	// The row, and a replay that leaves it as it was.
	read := func() (float64, string, int) {
		var total float64
		var by string
		var count int
		if err := dm.DB.QueryRow(ctx, `SELECT total_return, by_currency::text, (SELECT count(*) FROM currency_attribution WHERE portfolio_id = $1)
			FROM currency_attribution WHERE portfolio_id = $1 AND as_of_date = $2 AND pack_id = $3 AND start_date = $4`,
			[]any{p.ID, demoEnd, dm.PackID, start}, &total, &by, &count); err != nil {
			t.Fatal(err)
		}
		return total, by, count
	}
	total, by, count := read()
	if count != 1 || total != out.TotalReturn {
		t.Fatalf("%s: stored total %v (%d rows); output %v", p.Name, total, count, out.TotalReturn)
	}
	if err := h.Call("attribution.currency", args, &out); err != nil {
		t.Fatal(err)
	}
	if total2, by2, count2 := read(); count2 != 1 || total2 != total || by2 != by {
		t.Fatalf("%s: the replay changed the row (%d rows)", p.Name, count2)
	}
}
