package harvester_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/agenttest"
	"github.com/dawsos/dawsos/agents/harvester"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

func TestMain(m *testing.M) { pgtest.MainWithLeakCheck(m) }

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// demoEnd is the last day of the demo data; now is the clock of every
// test: the evening of that day.
var (
	demoEnd = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	now     = time.Date(2026, 6, 30, 20, 0, 0, 0, time.UTC)
)

// newHarness calls the harvester's capabilities, with the checks a step
// gets, on a clock stopped at at, in a run as of at's date. Providers and
// clock reach the agent through its constructor.
func newHarness(t *testing.T, db *storage.DB, providers map[string]agents.Provider, at time.Time) *enginetest.Harness {
	return enginetest.NewHarness(t, db, harvester.New(agents.Deps{DB: db, Now: func() time.Time { return at }, Providers: providers})).
		At(at.Format(time.DateOnly))
}

// wantCode fails unless err is an *agents.Error with code, retryable as
// the table says, whose message mentions every one of contains and shows
// none of the providers' keys.
func wantCode(t *testing.T, what string, err error, code string, contains ...string) {
	t.Helper()
	var ae *agents.Error
	if !errors.As(err, &ae) || ae.Code != code {
		t.Fatalf("%s: %v; want code %s", what, err, code)
	}
	for _, c := range contains {
		if !strings.Contains(ae.Message, c) {
			t.Errorf("%s: %q does not mention %q", what, ae.Message, c)
		}
	}
	if agents.Retryable(code) != ae.Retryable {
		t.Errorf("%s: retryable %v; the table says %v", what, ae.Retryable, agents.Retryable(code))
	}
	for _, k := range testKeys {
		if strings.Contains(ae.Message, k) {
			t.Errorf("%s: the error shows a key", what)
		}
	}
}

// demo is the demo dataset with three months of prices, with readings of
// it by symbol and portfolio.
type demo struct{ agenttest.Demo }

func seedDemo(t *testing.T) demo { return demo{agenttest.SeedDemo(t, demoEnd, 3)} }

func (dm demo) security(t *testing.T, symbol string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := dm.DB.QueryRow(context.Background(), `SELECT id FROM securities WHERE symbol = $1`, []any{symbol}, &id); err != nil {
		t.Fatalf("security %s: %v", symbol, err)
	}
	return id
}

// heldRefs lists a portfolio's open positions with plain SQL.
func (dm demo) heldRefs(t *testing.T, portfolio uuid.UUID) []map[string]any {
	t.Helper()
	var ids []uuid.UUID
	if err := dm.DB.QueryRow(context.Background(), `SELECT coalesce(array_agg(DISTINCT security_id), '{}') FROM lots
		WHERE portfolio_id = $1 AND quantity_open > 0`, []any{portfolio}, &ids); err != nil {
		t.Fatal(err)
	}
	out := []map[string]any{}
	for _, id := range ids {
		out = append(out, map[string]any{"security_id": id})
	}
	return out
}

// TestWithoutProviders runs every capability on the demo data with no
// provider configured: the ones that must fetch fail with the final
// provider_not_configured naming the variable to set; the ones that can
// answer from loaded data do, and say it was not refreshed.
func TestWithoutProviders(t *testing.T) {
	t.Parallel()
	dm := seedDemo(t)
	ctx := context.Background()
	h := newHarness(t, dm.DB, nil, now)
	cnr, xiu := dm.security(t, "CNR"), dm.security(t, "XIU")
	musts := []struct {
		name string
		args map[string]any
		env  string
	}{
		{"provider.fetch_quote", map[string]any{"security_id": cnr}, "DAWSOS_PROVIDERS_FMP_KEY"},
		{"provider.fetch_quote", map[string]any{"security_id": cnr, "provider": "polygon"}, "DAWSOS_PROVIDERS_POLYGON_KEY"},
		{"provider.fetch_fundamentals", map[string]any{"security_id": cnr}, "DAWSOS_PROVIDERS_FMP_KEY"},
		{"provider.fetch_ratios", map[string]any{"security_id": cnr}, "DAWSOS_PROVIDERS_FMP_KEY"},
		{"provider.fetch_news", map[string]any{"positions": []map[string]any{{"security_id": cnr}}}, "DAWSOS_PROVIDERS_NEWSAPI_KEY"},
		{"provider.fetch_macro", map[string]any{"series_ids": []string{"DGS10"}}, "DAWSOS_PROVIDERS_FRED_KEY"},
		{"news.search", map[string]any{"positions": []map[string]any{{"security_id": cnr}}}, "DAWSOS_PROVIDERS_NEWSAPI_KEY"},
		{"fundamentals.load", map[string]any{"security_id": xiu}, "DAWSOS_PROVIDERS_FMP_KEY"},
	}
	for _, m := range musts {
		err := h.Call(m.name, m.args, nil)
		wantCode(t, m.name, err, agents.CodeProviderNotConfigured, m.env)
		if ae := agents.Classify(err); ae.Retryable || agents.Info(ae.Code).Counted {
			t.Errorf("%s: provider_not_configured must be final and not counted", m.name)
		}
	}
	var n int
	if err := dm.DB.QueryRow(ctx, `SELECT count(*) FROM provider_fetches`, nil, &n); err != nil || n != 0 {
		t.Errorf("provider_fetches has %d rows (%v); nothing was fetched", n, err)
	}

	// fundamentals.load answers from the seeded statements, marked stale.
	var fl harvester.FundamentalsOutput
	h.MustCall("fundamentals.load", map[string]any{"security_id": cnr}, &fl)
	var years int
	var newestRevenue decimal.Decimal
	if err := dm.DB.QueryRow(ctx, `SELECT count(*), (SELECT revenue FROM fundamentals WHERE security_id = $1 ORDER BY fiscal_year DESC LIMIT 1)
		FROM fundamentals WHERE security_id = $1`, []any{cnr}, &years, &newestRevenue); err != nil {
		t.Fatal(err)
	}
	if len(fl.Statements) != min(years, 5) || !fl.Stale || fl.Refreshed || fl.Statements[0].Source != "seed" ||
		!fl.Statements[0].Revenue.Decimal.Equal(newestRevenue) || !strings.Contains(fl.Note, "DAWSOS_PROVIDERS_FMP_KEY") {
		t.Errorf("fundamentals.load of CNR: %d statements (SQL %d), stale %v refreshed %v, revenue %v (SQL %s), note %q",
			len(fl.Statements), years, fl.Stale, fl.Refreshed, fl.Statements[0].Revenue, newestRevenue, fl.Note)
	}
	wantCode(t, "unknown security", h.Call("fundamentals.load", map[string]any{"security_id": uuid.New()}, nil), agents.CodeNotFound)

	// Corporate actions come from the loaded calendar.
	cad := dm.Ports["CAD"].ID
	refs := dm.heldRefs(t, cad)
	var divs harvester.ActionsOutput
	h.MustCall("corporate_actions.dividends", map[string]any{"positions": refs}, &divs)
	var sqlDivs int
	if err := dm.DB.QueryRow(ctx, `SELECT count(*) FROM corporate_actions WHERE action_type = 'DIVIDEND'
		AND security_id IN (SELECT security_id FROM lots WHERE portfolio_id = $1 AND quantity_open > 0)
		AND event_date BETWEEN $2::date - interval '1 year' AND $2::date + 90`, []any{cad, demoEnd}, &sqlDivs); err != nil {
		t.Fatal(err)
	}
	if len(divs.Actions) != sqlDivs || sqlDivs == 0 || len(divs.Refreshed) != 0 || !strings.Contains(divs.Note, "not refreshed") {
		t.Errorf("dividends: %d actions (SQL %d), refreshed %v, note %q", len(divs.Actions), sqlDivs, divs.Refreshed, divs.Note)
	}
	for _, a := range divs.Actions {
		if a.Type != storage.ActionDividend || !a.Amount.Valid || a.Source != "seed" {
			t.Errorf("dividend row %+v", a)
		}
	}
	var splits harvester.ActionsOutput
	h.MustCall("corporate_actions.splits", map[string]any{"positions": []map[string]any{{"security_id": dm.security(t, "MSFT")}},
		"from": "2026-01-01", "to": "2026-12-31"}, &splits)
	if len(splits.Actions) != 1 || !splits.Actions[0].Ratio.Decimal.Equal(d("2")) {
		t.Errorf("MSFT's announced 2-for-1 split: %+v", splits.Actions)
	}
	wantCode(t, "to before from", h.Call("corporate_actions.earnings", map[string]any{"positions": refs, "from": "2026-02-01", "to": "2026-01-01"}, nil),
		agents.CodeInvalidInput, "before")
	checkUpcomingAndImpact(t, dm, h, cad)
}

// checkUpcomingAndImpact checks corporate_actions.upcoming against SQL and
// calculate_impact against a hand recomputation from the raw tables.
func checkUpcomingAndImpact(t *testing.T, dm demo, h *enginetest.Harness, portfolio uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	refs := dm.heldRefs(t, portfolio)
	var up harvester.UpcomingOutput
	h.MustCall("corporate_actions.upcoming", map[string]any{"positions": refs, "days_ahead": 90}, &up)
	var want int
	if err := dm.DB.QueryRow(ctx, `SELECT count(*) FROM corporate_actions WHERE event_date BETWEEN $2 AND $2::date + 90
		AND security_id IN (SELECT security_id FROM lots WHERE portfolio_id = $1 AND quantity_open > 0)`, []any{portfolio, demoEnd}, &want); err != nil {
		t.Fatal(err)
	}
	if len(up.Actions) != want || want == 0 || up.From != "2026-06-30" || up.To != "2026-09-28" {
		t.Fatalf("upcoming: %d actions from %s to %s; SQL finds %d", len(up.Actions), up.From, up.To, want)
	}
	// Quantities held, by security, with plain SQL.
	var positions []heldQty
	var base string
	if err := dm.DB.QueryRow(ctx, `SELECT base_currency FROM portfolios WHERE id = $1`, []any{portfolio}, &base); err != nil {
		t.Fatal(err)
	}
	for _, r := range refs {
		var p heldQty
		p.ID = r["security_id"].(uuid.UUID)
		if err := dm.DB.QueryRow(ctx, `SELECT s.symbol, sum(l.quantity_open) FROM lots l JOIN securities s ON s.id = l.security_id
			WHERE l.portfolio_id = $1 AND l.security_id = $2 AND l.quantity_open > 0 GROUP BY s.symbol`, []any{portfolio, p.ID}, &p.Sym, &p.Qty); err != nil {
			t.Fatal(err)
		}
		positions = append(positions, p)
	}
	var imp harvester.CalculateImpactOutput
	h.MustCall("corporate_actions.calculate_impact", map[string]any{"positions": positions, "base_currency": base, "actions": up.Actions}, &imp)
	total := handDividendCash(t, dm, base, up.Actions, positions)
	if diff := imp.DividendCashBase.Sub(total).Abs(); diff.GreaterThan(d("0.000001")) || total.IsZero() {
		t.Errorf("dividend cash %s %s; by hand %s", imp.DividendCashBase, base, total)
	}
	for _, l := range imp.Lines {
		if l.Type == storage.ActionDividend && (!l.FXEstimated || l.FXPackID != dm.PackID) {
			t.Errorf("dividend line %+v: a pay date after the as-of date takes the as-of pack's rate, marked estimated", l)
		}
	}
	// A missing rate is missing_fx, never 1.
	err := h.Call("corporate_actions.calculate_impact", map[string]any{"positions": positions, "base_currency": "CHF",
		"actions": []map[string]any{{"security_id": positions[0].ID, "type": "DIVIDEND", "event_date": "2026-07-10", "amount": "1", "currency": "CAD"}}}, nil)
	wantCode(t, "dividend into a currency without rates", err, agents.CodeMissingFX, "CHF")
	err = h.Call("corporate_actions.calculate_impact", map[string]any{"positions": positions, "base_currency": base,
		"actions": []map[string]any{{"security_id": positions[0].ID, "type": "DIVIDEND", "event_date": "2026-07-10"}}}, nil)
	wantCode(t, "dividend without an amount", err, agents.CodeInvalidInput)
}

// TestCalculateImpactByHand: 100 shares, a 3-for-2 split on 10 July, then
// a 0.50 USD dividend on 20 July paid 1 August: 150 × 0.50 = 75 USD; an
// earnings date has no cash; a dividend of a security not held is left
// out.
func TestCalculateImpactByHand(t *testing.T) {
	t.Parallel()
	dm := seedDemo(t)
	h := newHarness(t, dm.DB, nil, now)
	a, b := uuid.New(), uuid.New()
	var out harvester.CalculateImpactOutput
	h.MustCall("corporate_actions.calculate_impact", map[string]any{
		"positions": []map[string]any{{"security_id": a, "symbol": "AAA", "quantity": "100"}}, "base_currency": "USD",
		"actions": []map[string]any{
			{"security_id": a, "type": "DIVIDEND", "event_date": "2026-07-20", "pay_date": "2026-08-01", "amount": "0.5", "currency": "USD"},
			{"security_id": a, "type": "SPLIT", "event_date": "2026-07-10", "ratio": "1.5"},
			{"security_id": a, "type": "EARNINGS", "event_date": "2026-07-25"},
			{"security_id": b, "type": "DIVIDEND", "event_date": "2026-07-20", "amount": "9", "currency": "USD"},
		}}, &out)
	if !out.DividendCashBase.Equal(d("75")) || out.NotHeld != 1 || out.Earnings != 1 || len(out.SplitAdjusted) != 1 ||
		!out.SplitAdjusted[0].QuantityAfter.Equal(d("150")) || len(out.Lines) != 3 || out.Lines[0].Type != "SPLIT" {
		t.Fatalf("impact %+v; want 75 USD on 150 split-adjusted shares", out)
	}
}

// TestPortfolioImpactByHand: weights 0.5 and 0.25; A has two scored items
// (0.8 × 1.0 and −0.2 × 0.5) and an unscored one, B one (−0.6 × 0.5):
// signal A = (0.8 − 0.1) / 2 = 0.35, impact 0.175; B = −0.3 × 0.25 =
// −0.075; portfolio 0.1.
func TestPortfolioImpactByHand(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil, now)
	a, b, c := uuid.New(), uuid.New(), uuid.New()
	f := func(v float64) *float64 { return &v }
	var out harvester.ImpactOutput
	h.MustCall("news.compute_portfolio_impact", map[string]any{
		"positions": []map[string]any{{"security_id": a, "symbol": "A", "weight": "0.5"}, {"security_id": b, "symbol": "B", "weight": 0.25}},
		"items": []map[string]any{
			{"security_id": a, "title": "a1", "url": "u1", "sentiment": f(0.8), "relevance": 1.0},
			{"security_id": a, "title": "a2", "url": "u2", "sentiment": f(-0.2), "relevance": 0.5},
			{"security_id": a, "title": "a3", "url": "u3", "sentiment": nil, "relevance": 0.9},
			{"security_id": b, "title": "b1", "url": "u4", "sentiment": f(-0.6), "relevance": 0.5},
			{"security_id": c, "title": "c1", "url": "u5", "sentiment": f(1), "relevance": 1},
		}, "min_impact_threshold": 0.1}, &out)
	if math.Abs(out.PortfolioImpact-0.1) > 1e-12 || !out.ExceedsThreshold || out.Direction != "positive" || out.ItemsUnscored != 1 ||
		out.ItemsNotHeld != 1 || out.ItemsScored != 3 || len(out.Significant) != 1 || out.Significant[0] != "A" {
		t.Fatalf("impact %+v; want 0.1, positive, A significant", out)
	}
	if math.Abs(out.Securities[0].Impact-0.175) > 1e-12 || math.Abs(out.Securities[1].Impact+0.075) > 1e-12 {
		t.Errorf("per security %+v; want A 0.175, B −0.075", out.Securities)
	}
	// News without a single score is no figure at all.
	err := h.Call("news.compute_portfolio_impact", map[string]any{
		"positions": []map[string]any{{"security_id": a, "symbol": "A", "weight": "1"}},
		"items":     []map[string]any{{"security_id": a, "title": "x", "url": "u", "sentiment": nil, "relevance": 1}}}, nil)
	wantCode(t, "only unscored items", err, agents.CodeInsufficientData, "need at least 1")
	// No news is an impact of 0.
	h.MustCall("news.compute_portfolio_impact", map[string]any{"positions": []map[string]any{{"security_id": a, "symbol": "A", "weight": "1"}},
		"items": []map[string]any{}}, &out)
	if out.PortfolioImpact != 0 || out.Direction != "neutral" || out.ExceedsThreshold {
		t.Errorf("no news: %+v", out)
	}
}

// TestWithProviders runs the fetching capabilities against the local
// providers: what they fetch is stored with source and fetch time, and a
// second call within the staleness answers from the store.
func TestWithProviders(t *testing.T) {
	t.Parallel()
	dm := seedDemo(t)
	ctx := context.Background()
	fp := newFakeProviders(t, now)
	h := newHarness(t, dm.DB, fp.providers(), now)
	cnr, msft := dm.security(t, "CNR"), dm.security(t, "MSFT")

	// provider.fetch_quote: FMP's ticker of a TSX listing has .TO.
	var q harvester.QuoteOutput
	h.MustCall("provider.fetch_quote", map[string]any{"security_id": cnr}, &q)
	if q.ProviderSymbol != "CNR.TO" || !q.Close.Equal(d("123.45")) || q.Date != "2026-06-30" || q.FromStore || !q.FetchedAt.Equal(now) {
		t.Fatalf("quote %+v", q)
	}
	// The demo's pack of 30 June is final: the quote is not written into
	// it (packs are immutable), and says so.
	if q.PackID != dm.PackID || q.Staged {
		t.Errorf("quote of a date with a final pack: pack %s staged %v; want %s, not staged", q.PackID, q.Staged, dm.PackID)
	}
	var close decimal.Decimal
	var source, status string
	var fetched time.Time
	// Two days on, the dates have no pack yet: a warming one is begun and
	// the close staged in it.
	fp.setNow(now.Add(48 * time.Hour))
	later := newHarness(t, dm.DB, fp.providers(), now.Add(48*time.Hour))
	var pq harvester.QuoteOutput
	later.MustCall("provider.fetch_quote", map[string]any{"security_id": msft, "provider": "fmp"}, &pq)
	if !pq.Staged || pq.Date != "2026-07-02" {
		t.Fatalf("quote on a date without a pack: %+v", pq)
	}
	if err := dm.DB.QueryRow(ctx, `SELECT pr.close, pr.source, pr.fetched_at, pk.status FROM prices pr JOIN pricing_packs pk ON pk.id = pr.pack_id
		WHERE pr.pack_id = $1 AND pr.security_id = $2`, []any{pq.PackID, msft}, &close, &source, &fetched, &status); err != nil {
		t.Fatalf("read the stored quote: %v", err)
	}
	if !close.Equal(d("123.45")) || source != "fmp" || !fetched.Equal(now.Add(48*time.Hour)) || status != storage.PackWarming {
		t.Errorf("stored quote: close %s source %s fetched %s pack %s", close, source, fetched, status)
	}
	calls := fp.calls("fmp")
	later.MustCall("provider.fetch_quote", map[string]any{"security_id": msft}, &pq)
	if !pq.FromStore || fp.calls("fmp") != calls {
		t.Errorf("a fresh stored quote was fetched again (from_store %v, calls %d → %d)", pq.FromStore, calls, fp.calls("fmp"))
	}
	later.MustCall("provider.fetch_quote", map[string]any{"security_id": msft, "provider": "polygon"}, &pq)
	if !pq.Close.Equal(d("201.25")) || pq.Date != "2026-07-01" || !pq.Staged {
		t.Errorf("polygon previous close %+v", pq)
	}
	fp.setNow(now)

	// provider.fetch_fundamentals replaces the seeded statements of the
	// years FMP reports; capital expenditure and dividends are stored as
	// positive amounts; dividend per share = 60,000,000 / 100,000,000.
	var f harvester.FundamentalsOutput
	h.MustCall("provider.fetch_fundamentals", map[string]any{"security_id": cnr, "years": 5}, &f)
	if !f.Refreshed || len(f.Statements) != 5 || f.Statements[0].FiscalYear != 2025 {
		t.Fatalf("fetched statements %+v", f)
	}
	var rev, capex, div, dps decimal.Decimal
	if err := dm.DB.QueryRow(ctx, `SELECT revenue, capital_expenditure, dividends_paid, dividend_per_share, source, fetched_at
		FROM fundamentals WHERE security_id = $1 AND fiscal_year = 2024`, []any{cnr}, &rev, &capex, &div, &dps, &source, &fetched); err != nil {
		t.Fatal(err)
	}
	if !rev.Equal(d("950000000")) || !capex.Equal(d("80000000")) || !div.Equal(d("60000000")) || !dps.Equal(d("0.6")) ||
		source != "fmp" || !fetched.Equal(now) {
		t.Errorf("stored 2024: revenue %s capex %s dividends %s dps %s source %s fetched %s", rev, capex, div, dps, source, fetched)
	}
	calls = fp.calls("fmp")
	var fl harvester.FundamentalsOutput
	h.MustCall("fundamentals.load", map[string]any{"security_id": cnr}, &fl)
	if fl.Refreshed || fl.Stale || fp.calls("fmp") != calls || fl.Statements[0].Source != "fmp" {
		t.Errorf("fundamentals.load right after a fetch called FMP %d times: %+v", fp.calls("fmp")-calls, fl)
	}

	var r harvester.RatiosOutput
	h.MustCall("provider.fetch_ratios", map[string]any{"security_id": cnr, "years": 3}, &r)
	var gm, cov float64
	if err := dm.DB.QueryRow(ctx, `SELECT gross_margin, interest_coverage FROM fundamental_ratios WHERE security_id = $1 AND fiscal_year = 2025`,
		[]any{cnr}, &gm, &cov); err != nil || gm != 0.4 || cov != 20 || len(r.Ratios) != 3 {
		t.Errorf("stored ratios: gross margin %v coverage %v (%v), %d returned", gm, cov, err, len(r.Ratios))
	}

	// provider.fetch_macro: FRED's "." is skipped; values stored with
	// source fred; a second call within the staleness is from the store.
	var m harvester.FetchMacroOutput
	h.MustCall("provider.fetch_macro", map[string]any{"series_ids": []string{"ZZTEST"}, "start": "2026-01-01"}, &m)
	if s := m.Series[0]; !s.Refreshed || s.Fetched != 3 || s.MissingValues != 1 || s.Stored != 3 || *s.LastValue != 4.3 || *s.Last != "2026-06-01" {
		t.Errorf("macro series %+v", s)
	}
	var mv float64
	if err := dm.DB.QueryRow(ctx, `SELECT value, source FROM macro_indicators WHERE series_id = 'ZZTEST' AND obs_date = '2026-05-01'`,
		nil, &mv, &source); err != nil || mv != 4.25 || source != "fred" {
		t.Errorf("stored observation %v %s (%v)", mv, source, err)
	}
	calls = fp.calls("fred")
	h.MustCall("provider.fetch_macro", map[string]any{"series_ids": []string{"ZZTEST"}}, &m)
	if m.Series[0].Refreshed || fp.calls("fred") != calls {
		t.Errorf("a fresh series was fetched again")
	}
	wantCode(t, "unknown FRED series", h.Call("provider.fetch_macro", map[string]any{"series_ids": []string{"NOSUCHSERIES"}}, nil),
		agents.CodeInvalidInput, "does not exist")

	// provider.fetch_news (NewsAPI): articles naming a security are stored
	// against it, unscored; the one naming none is counted and dropped;
	// "[Removed]" is skipped.
	var fn harvester.FetchNewsOutput
	h.MustCall("provider.fetch_news", map[string]any{"positions": []map[string]any{{"security_id": cnr}, {"security_id": msft}}}, &fn)
	if fn.Unattributed != 1 || len(fn.Items) != 4 || !fn.Securities[0].Refreshed || fn.Securities[0].Fetched != 2 {
		t.Fatalf("fetched news: %d items, %d unattributed, %+v", len(fn.Items), fn.Unattributed, fn.Securities)
	}
	var stored int
	if err := dm.DB.QueryRow(ctx, `SELECT count(*) FROM news_items WHERE provider = 'newsapi' AND sentiment IS NULL AND fetched_at = $1`,
		[]any{now}, &stored); err != nil || stored != 4 {
		t.Errorf("stored NewsAPI items: %d (%v)", stored, err)
	}
	// Polygon: the per-ticker sentiment label becomes 1.
	h.MustCall("provider.fetch_news", map[string]any{"positions": []map[string]any{{"security_id": msft}}, "provider": "polygon"}, &fn)
	if len(fn.Items) != 1 || fn.Items[0].Sentiment == nil || *fn.Items[0].Sentiment != 1 {
		t.Errorf("polygon news %+v", fn.Items)
	}

	// news.search scores relevance: title mention 1 × (1 − 0.5 × 6/24) =
	// 0.875; summary mention 0.6 × (1 − 0.5 × 12/24) = 0.45.
	var ns harvester.SearchNewsOutput
	calls = fp.calls("newsapi")
	h.MustCall("news.search", map[string]any{"positions": []map[string]any{{"security_id": cnr}}}, &ns)
	if fp.calls("newsapi") != calls {
		t.Errorf("news.search fetched news fetched a moment ago")
	}
	got := map[string]float64{}
	for _, it := range ns.Items {
		if it.Provider == "newsapi" {
			got[it.Mention] = it.Relevance
		}
	}
	if got["title"] != 0.875 || got["summary"] != 0.45 {
		t.Errorf("relevance by mention %v; want title 0.875, summary 0.45", got)
	}
	for i := 1; i < len(ns.Items); i++ {
		if ns.Items[i].Relevance > ns.Items[i-1].Relevance {
			t.Errorf("items not sorted by relevance")
		}
	}

	// Corporate actions fetched from FMP are stored with source fmp.
	var ca harvester.ActionsOutput
	h.MustCall("corporate_actions.dividends", map[string]any{"positions": []map[string]any{{"security_id": msft}}, "from": "2026-01-01", "to": "2026-12-31"}, &ca)
	if len(ca.Refreshed) != 1 {
		t.Fatalf("dividends were not fetched: %+v", ca)
	}
	var n int
	if err := dm.DB.QueryRow(ctx, `SELECT count(*) FROM corporate_actions WHERE security_id = $1 AND source = 'fmp' AND fetched_at IS NOT NULL
		AND action_type = 'DIVIDEND'`, []any{msft}, &n); err != nil || n != 2 {
		t.Errorf("stored FMP dividends: %d (%v)", n, err)
	}

	// A provider that keeps failing: unavailable after the client's
	// retries (the engine's breaker counts it; see the patterns test).
	fp.fail[agents.ProviderFMP].Store(503)
	later2 := newHarness(t, dm.DB, fp.providers(), now.Add(72*time.Hour))
	calls = fp.calls("fmp")
	wantCode(t, "FMP answering 503", later2.Call("provider.fetch_quote", map[string]any{"security_id": cnr}, nil), agents.CodeUnavailable, "503", "after 3 attempts")
	if fp.calls("fmp")-calls != 3 {
		t.Errorf("%d calls; want 3 attempts", fp.calls("fmp")-calls)
	}
	// A wrong key is provider_not_configured, naming the variable.
	bad := fp.providers()
	p := bad[agents.ProviderNewsAPI]
	p.Key = "wrong"
	bad[agents.ProviderNewsAPI] = p
	wh := newHarness(t, dm.DB, bad, now.Add(72*time.Hour))
	wantCode(t, "a rejected key", wh.Call("provider.fetch_news", map[string]any{"positions": []map[string]any{{"security_id": cnr}}}, nil),
		agents.CodeProviderNotConfigured, "DAWSOS_PROVIDERS_NEWSAPI_KEY")
}

// heldQty is a held quantity read with plain SQL.
type heldQty struct {
	ID  uuid.UUID       `json:"security_id"`
	Sym string          `json:"symbol"`
	Qty decimal.Decimal `json:"quantity"`
}

// handDividendCash recomputes the dividend cash of upcoming actions by hand.
func handDividendCash(t *testing.T, dm demo, base string, actions []harvester.ActionOut, positions []heldQty) decimal.Decimal {
	t.Helper()
	ctx := context.Background()
	// By hand: for each upcoming dividend, held quantity (times the ratio
	// of any listed split of the security strictly before the ex-date)
	// × amount × the rate of the as-of pack (every pay date is after the
	// as-of date here), 1 for the base currency itself.
	total := decimal.Zero
	for _, a := range actions {
		if a.Type != storage.ActionDividend {
			continue
		}
		var q decimal.Decimal
		for _, p := range positions {
			if p.ID == a.SecurityID {
				q = p.Qty
			}
		}
		for _, s := range actions {
			if s.Type == storage.ActionSplit && s.SecurityID == a.SecurityID && s.EventDate < a.EventDate {
				q = q.Mul(s.Ratio.Decimal)
			}
		}
		rate := decimal.NewFromInt(1)
		if a.Currency != base {
			var r decimal.Decimal
			err := dm.DB.QueryRow(ctx, `SELECT CASE WHEN from_ccy = $2 THEN rate ELSE 1 / rate END FROM fx_rates
				WHERE pack_id = $1 AND ((from_ccy = $2 AND to_ccy = $3) OR (from_ccy = $3 AND to_ccy = $2)) ORDER BY from_ccy = $2 DESC LIMIT 1`,
				[]any{dm.PackID, a.Currency, base}, &r)
			if err != nil {
				t.Fatalf("rate %s/%s: %v", a.Currency, base, err)
			}
			rate = r
		}
		total = total.Add(q.Mul(a.Amount.Decimal).Mul(rate))
	}
	return total
}
