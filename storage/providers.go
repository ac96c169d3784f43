package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Queries of the data harvester: what it fetched from outside providers,
// stored with the provider and the fetch time (prices, fundamentals,
// fundamental_ratios, news_items, corporate_actions, macro_indicators), and
// the log of fetches (provider_fetches) that decides whether stored data
// are fresh. Every write is an upsert on the table's natural key, so a
// replayed step stores the same rows again.

// LastFetches returns when each subject of a provider's dataset was last
// fetched; a subject never fetched is absent.
func LastFetches(ctx context.Context, q Querier, provider, dataset string, subjects []string) (map[string]time.Time, error) {
	rows, err := q.Query(ctx, `SELECT subject, fetched_at FROM provider_fetches
		WHERE provider = $1 AND dataset = $2 AND subject = ANY($3)`, provider, dataset, subjects)
	if err != nil {
		return nil, fmt.Errorf("read last %s %s fetches: %w", provider, dataset, err)
	}
	out := map[string]time.Time{}
	var s string
	var at time.Time
	if _, err := pgx.ForEachRow(rows, []any{&s, &at}, func() error { out[s] = at; return nil }); err != nil {
		return nil, fmt.Errorf("read last %s %s fetches: %w", provider, dataset, err)
	}
	return out, nil
}

// RecordFetch logs that a subject of a provider's dataset was fetched at
// at, storing n rows (0 for an answer with nothing in it, which is
// recorded too: the provider had nothing, and asking again before the data
// go stale would only repeat that).
func RecordFetch(ctx context.Context, q Querier, provider, dataset, subject string, at time.Time, n int) error {
	_, err := q.Exec(ctx, `INSERT INTO provider_fetches (provider, dataset, subject, fetched_at, row_count)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (provider, dataset, subject) DO UPDATE SET fetched_at = EXCLUDED.fetched_at,
			row_count = EXCLUDED.row_count, updated_at = now()`, provider, dataset, subject, at, n)
	if err != nil {
		return fmt.Errorf("record %s %s fetch of %s: %w", provider, dataset, subject, err)
	}
	return nil
}

// FetchedPrice is a close a provider gave, as stored in a pack.
type FetchedPrice struct {
	PackID     string
	PackStatus string
	SecurityID uuid.UUID
	Date       time.Time
	Close      decimal.Decimal
	Open       decimal.NullDecimal
	High       decimal.NullDecimal
	Low        decimal.NullDecimal
	Volume     decimal.NullDecimal
	Currency   string
	Source     string
	FetchedAt  time.Time
}

// StageFetchedPrice stores a fetched close in the warming pack of its date
// (creating revision 0 when the date has no pack), marked with its source
// and fetch time, where the pack builder finds it when it finalises the
// pack. A finalised pack is immutable: when the date's newest pack is
// final, nothing is written and its id is returned with staged false; so
// is a close the pack builder already staged (source NULL), which the
// fetched one never replaces.
func StageFetchedPrice(ctx context.Context, q Querier, date time.Time, p Price, source string, at time.Time) (packID string, staged bool, err error) {
	d := civilDate(date)
	newest := func() (string, string, error) {
		var id, status string
		err := q.QueryRow(ctx, `SELECT id, status FROM pricing_packs WHERE pack_date = $1
			ORDER BY revision DESC LIMIT 1 FOR UPDATE`, d).Scan(&id, &status)
		return id, status, err
	}
	id, status, err := newest()
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := q.Exec(ctx, `INSERT INTO pricing_packs (id, pack_date, revision, policy)
			VALUES ($1, $2, 0, 'close') ON CONFLICT (id) DO NOTHING`, PackID(d, 0), d); err != nil {
			return "", false, fmt.Errorf("begin pricing pack %s for a fetched close: %w", PackID(d, 0), err)
		}
		id, status, err = newest()
	}
	if err != nil {
		return "", false, fmt.Errorf("find the pricing pack of %s: %w", d.Format(time.DateOnly), err)
	}
	if status != PackWarming {
		return id, false, nil
	}
	var ccy *string
	if p.Currency != "" {
		ccy = &p.Currency
	}
	tag, err := q.Exec(ctx, `
		INSERT INTO prices (pack_id, security_id, pack_date, close, open, high, low, volume, currency, source, fetched_at)
		SELECT $1, s.id, $2, $3::numeric, $4::numeric, $5::numeric, $6::numeric, $7::numeric, coalesce($8, s.currency), $9, $10
		FROM securities s WHERE s.id = $11
		ON CONFLICT (pack_id, security_id) DO UPDATE SET close = EXCLUDED.close, open = EXCLUDED.open,
			high = EXCLUDED.high, low = EXCLUDED.low, volume = EXCLUDED.volume, currency = EXCLUDED.currency,
			source = EXCLUDED.source, fetched_at = EXCLUDED.fetched_at
		WHERE prices.source IS NOT NULL`,
		id, d, p.Close.String(), nullDecimalText(p.Open), nullDecimalText(p.High), nullDecimalText(p.Low), nullDecimalText(p.Volume),
		ccy, source, at, p.SecurityID)
	if err != nil {
		return "", false, fmt.Errorf("stage the fetched close of %s in pack %s: %w", p.SecurityID, id, err)
	}
	return id, tag.RowsAffected() == 1, nil
}

// LatestFetchedPrice returns the newest close a provider gave for a
// security (by date, then fetch time); false when there is none.
func LatestFetchedPrice(ctx context.Context, q Querier, securityID uuid.UUID, source string) (FetchedPrice, bool, error) {
	var p FetchedPrice
	err := q.QueryRow(ctx, `SELECT pr.pack_id, pk.status, pr.security_id, pr.pack_date, pr.close, pr.open, pr.high, pr.low,
			pr.volume, pr.currency, pr.source, pr.fetched_at
		FROM prices pr JOIN pricing_packs pk ON pk.id = pr.pack_id
		WHERE pr.security_id = $1 AND pr.source = $2 AND pr.fetched_at IS NOT NULL
		ORDER BY pr.pack_date DESC, pr.fetched_at DESC LIMIT 1`, securityID, source).
		Scan(&p.PackID, &p.PackStatus, &p.SecurityID, &p.Date, &p.Close, &p.Open, &p.High, &p.Low, &p.Volume, &p.Currency, &p.Source, &p.FetchedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return FetchedPrice{}, false, nil
	}
	if err != nil {
		return FetchedPrice{}, false, fmt.Errorf("read the latest %s close of %s: %w", source, securityID, err)
	}
	return p, true, nil
}

// StoredFundamentals is a fundamentals row with its fetch time (nil for a
// row that was loaded, not fetched).
type StoredFundamentals struct {
	Fundamentals
	FetchedAt *time.Time
}

// ListStoredFundamentals returns a security's annual statements with their
// fetch times, newest fiscal year first.
func ListStoredFundamentals(ctx context.Context, q Querier, securityID uuid.UUID) ([]StoredFundamentals, error) {
	rows, err := q.Query(ctx, `SELECT `+fundamentalsColumns+`, fetched_at FROM fundamentals WHERE security_id = $1
		ORDER BY fiscal_year DESC`, securityID)
	if err != nil {
		return nil, fmt.Errorf("read fundamentals of security %s: %w", securityID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[StoredFundamentals])
	if err != nil {
		return nil, fmt.Errorf("read fundamentals of security %s: %w", securityID, err)
	}
	return out, nil
}

// UpsertFetchedFundamentals writes fetched statements on (security, fiscal
// year), each with its Source and the fetch time.
func UpsertFetchedFundamentals(ctx context.Context, q Querier, rows []Fundamentals, at time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, f := range rows {
		b.Queue(`INSERT INTO fundamentals (security_id, fiscal_year, period_end, currency, revenue, gross_profit,
				operating_income, net_income, interest_expense, total_assets, intangible_assets, total_debt, total_equity,
				current_assets, current_liabilities, operating_cash_flow, capital_expenditure, dividends_paid,
				shares_outstanding, dividend_per_share, cash_and_equivalents, source, fetched_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)
			ON CONFLICT (security_id, fiscal_year) DO UPDATE SET period_end = EXCLUDED.period_end, currency = EXCLUDED.currency,
				revenue = EXCLUDED.revenue, gross_profit = EXCLUDED.gross_profit, operating_income = EXCLUDED.operating_income,
				net_income = EXCLUDED.net_income, interest_expense = EXCLUDED.interest_expense,
				total_assets = EXCLUDED.total_assets, intangible_assets = EXCLUDED.intangible_assets,
				total_debt = EXCLUDED.total_debt, total_equity = EXCLUDED.total_equity,
				current_assets = EXCLUDED.current_assets, current_liabilities = EXCLUDED.current_liabilities,
				operating_cash_flow = EXCLUDED.operating_cash_flow, capital_expenditure = EXCLUDED.capital_expenditure,
				dividends_paid = EXCLUDED.dividends_paid, shares_outstanding = EXCLUDED.shares_outstanding,
				dividend_per_share = EXCLUDED.dividend_per_share, cash_and_equivalents = EXCLUDED.cash_and_equivalents,
				source = EXCLUDED.source, fetched_at = EXCLUDED.fetched_at, updated_at = now()`,
			f.SecurityID, f.FiscalYear, civilDate(f.PeriodEnd), f.Currency, optDecimal(f.Revenue), optDecimal(f.GrossProfit),
			optDecimal(f.OperatingIncome), optDecimal(f.NetIncome), optDecimal(f.InterestExpense), optDecimal(f.TotalAssets),
			optDecimal(f.IntangibleAssets), optDecimal(f.TotalDebt), optDecimal(f.TotalEquity), optDecimal(f.CurrentAssets),
			optDecimal(f.CurrentLiabilities), optDecimal(f.OperatingCashFlow), optDecimal(f.CapitalExpenditure),
			optDecimal(f.DividendsPaid), optDecimal(f.SharesOutstanding), optDecimal(f.DividendPerShare),
			optDecimal(f.CashAndEquivalents), f.Source, at)
	}
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write %d fetched fundamentals rows: %w", len(rows), err)
	}
	return nil
}

// FundamentalRatios is one fundamental_ratios row; a nil ratio was not
// reported.
type FundamentalRatios struct {
	SecurityID       uuid.UUID
	FiscalYear       int
	PeriodEnd        time.Time
	Currency         *string
	GrossMargin      *float64
	OperatingMargin  *float64
	NetMargin        *float64
	CurrentRatio     *float64
	DebtToEquity     *float64
	InterestCoverage *float64
	PayoutRatio      *float64
	DividendYield    *float64
	Source           string
	FetchedAt        time.Time
}

// UpsertFundamentalRatios writes fetched ratios on (security, fiscal year).
func UpsertFundamentalRatios(ctx context.Context, q Querier, rows []FundamentalRatios) error {
	if len(rows) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, r := range rows {
		b.Queue(`INSERT INTO fundamental_ratios (security_id, fiscal_year, period_end, currency, gross_margin,
				operating_margin, net_margin, current_ratio, debt_to_equity, interest_coverage, payout_ratio,
				dividend_yield, source, fetched_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
			ON CONFLICT (security_id, fiscal_year) DO UPDATE SET period_end = EXCLUDED.period_end,
				currency = EXCLUDED.currency, gross_margin = EXCLUDED.gross_margin,
				operating_margin = EXCLUDED.operating_margin, net_margin = EXCLUDED.net_margin,
				current_ratio = EXCLUDED.current_ratio, debt_to_equity = EXCLUDED.debt_to_equity,
				interest_coverage = EXCLUDED.interest_coverage, payout_ratio = EXCLUDED.payout_ratio,
				dividend_yield = EXCLUDED.dividend_yield, source = EXCLUDED.source, fetched_at = EXCLUDED.fetched_at,
				updated_at = now()`,
			r.SecurityID, r.FiscalYear, civilDate(r.PeriodEnd), r.Currency, r.GrossMargin, r.OperatingMargin, r.NetMargin,
			r.CurrentRatio, r.DebtToEquity, r.InterestCoverage, r.PayoutRatio, r.DividendYield, r.Source, r.FetchedAt)
	}
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write %d fundamental ratios rows: %w", len(rows), err)
	}
	return nil
}

// ListFundamentalRatios returns a security's stored ratios, newest fiscal
// year first.
func ListFundamentalRatios(ctx context.Context, q Querier, securityID uuid.UUID) ([]FundamentalRatios, error) {
	rows, err := q.Query(ctx, `SELECT security_id, fiscal_year, period_end, currency, gross_margin, operating_margin,
			net_margin, current_ratio, debt_to_equity, interest_coverage, payout_ratio, dividend_yield, source, fetched_at
		FROM fundamental_ratios WHERE security_id = $1 ORDER BY fiscal_year DESC`, securityID)
	if err != nil {
		return nil, fmt.Errorf("read fundamental ratios of %s: %w", securityID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[FundamentalRatios])
	if err != nil {
		return nil, fmt.Errorf("read fundamental ratios of %s: %w", securityID, err)
	}
	return out, nil
}

// NewsItem is one news_items row. Source is the publisher; Provider and
// FetchedAt are set for fetched items and empty/nil for loaded ones;
// Sentiment is nil when the item is not scored.
type NewsItem struct {
	ID          uuid.UUID
	SecurityID  uuid.UUID
	PublishedAt time.Time
	Title       string
	Summary     string
	URL         string
	Source      string
	Sentiment   *float64
	Provider    string
	FetchedAt   *time.Time
}

// UpsertFetchedNews writes fetched items on (security, url). A stored
// sentiment is kept when the new fetch brings none.
func UpsertFetchedNews(ctx context.Context, q Querier, items []NewsItem) error {
	if len(items) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, it := range items {
		b.Queue(`INSERT INTO news_items (security_id, published_at, title, summary, url, source, sentiment, provider, fetched_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (security_id, url) DO UPDATE SET published_at = EXCLUDED.published_at, title = EXCLUDED.title,
				summary = EXCLUDED.summary, source = EXCLUDED.source,
				sentiment = coalesce(EXCLUDED.sentiment, news_items.sentiment),
				provider = EXCLUDED.provider, fetched_at = EXCLUDED.fetched_at`,
			it.SecurityID, it.PublishedAt, it.Title, optText(it.Summary), it.URL, it.Source, it.Sentiment, it.Provider, it.FetchedAt)
	}
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write %d fetched news items: %w", len(items), err)
	}
	return nil
}

// NewsInWindow returns the stored items of the securities published from
// from to to (inclusive), newest first.
func NewsInWindow(ctx context.Context, q Querier, securityIDs []uuid.UUID, from, to time.Time) ([]NewsItem, error) {
	rows, err := q.Query(ctx, `SELECT id, security_id, published_at, title, coalesce(summary, ''), url, source, sentiment,
			coalesce(provider, ''), fetched_at
		FROM news_items WHERE security_id = ANY($1) AND published_at BETWEEN $2 AND $3
		ORDER BY published_at DESC, url`, securityIDs, from, to)
	if err != nil {
		return nil, fmt.Errorf("read news of %d securities: %w", len(securityIDs), err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[NewsItem])
	if err != nil {
		return nil, fmt.Errorf("read news of %d securities: %w", len(securityIDs), err)
	}
	return out, nil
}

// UpsertFetchedMacro writes fetched observations of one series on (series,
// date) with their source and fetch time.
func UpsertFetchedMacro(ctx context.Context, q Querier, seriesID string, obs []MacroObservation, source string, at time.Time) error {
	if len(obs) == 0 {
		return nil
	}
	dates := make([]time.Time, len(obs))
	values := make([]float64, len(obs))
	for i, o := range obs {
		dates[i], values[i] = civilDate(o.Date), o.Value
	}
	_, err := q.Exec(ctx, `INSERT INTO macro_indicators (series_id, obs_date, value, source, fetched_at)
		SELECT $1, u.d, u.v, $4, $5 FROM unnest($2::date[], $3::float8[]) AS u(d, v)
		ON CONFLICT (series_id, obs_date) DO UPDATE SET value = EXCLUDED.value, source = EXCLUDED.source,
			fetched_at = EXCLUDED.fetched_at, updated_at = now()`, seriesID, dates, values, source, at)
	if err != nil {
		return fmt.Errorf("write %d fetched observations of %s: %w", len(obs), seriesID, err)
	}
	return nil
}

// MacroSeriesSummary is what is stored of one series.
type MacroSeriesSummary struct {
	SeriesID     string
	Observations int
	First, Last  time.Time
	LastValue    float64
	// Sources lists the sources of the stored observations.
	Sources []string
	// FetchedAt is the newest fetch time, nil when nothing was fetched.
	FetchedAt *time.Time
}

// SummarizeMacroSeries summarises the stored observations of each series;
// a series without any is absent.
func SummarizeMacroSeries(ctx context.Context, q Querier, ids []string) (map[string]MacroSeriesSummary, error) {
	rows, err := q.Query(ctx, `SELECT series_id, count(*)::int, min(obs_date), max(obs_date),
			(array_agg(value ORDER BY obs_date DESC))[1], array_agg(DISTINCT source ORDER BY source), max(fetched_at)
		FROM macro_indicators WHERE series_id = ANY($1) GROUP BY series_id`, ids)
	if err != nil {
		return nil, fmt.Errorf("summarise macro series %v: %w", ids, err)
	}
	all, err := pgx.CollectRows(rows, pgx.RowToStructByPos[MacroSeriesSummary])
	if err != nil {
		return nil, fmt.Errorf("summarise macro series %v: %w", ids, err)
	}
	out := make(map[string]MacroSeriesSummary, len(all))
	for _, s := range all {
		out[s.SeriesID] = s
	}
	return out, nil
}

// Corporate-action types (corporate_actions.action_type).
const (
	ActionDividend = "DIVIDEND"
	ActionSplit    = "SPLIT"
	ActionEarnings = "EARNINGS"
)

// CorporateAction is one corporate_actions row with its security's symbol.
// EventDate is the ex-date of a dividend or split and the report date of
// earnings; Amount is per share, Ratio new shares per old share.
type CorporateAction struct {
	ID         uuid.UUID
	SecurityID uuid.UUID
	Symbol     string
	Type       string
	EventDate  time.Time
	RecordDate *time.Time
	PayDate    *time.Time
	Amount     decimal.NullDecimal
	Ratio      decimal.NullDecimal
	Currency   string
	Source     string
	FetchedAt  *time.Time
}

// UpsertFetchedCorporateActions writes fetched actions on (security, type,
// event date) with their source and fetch time.
func UpsertFetchedCorporateActions(ctx context.Context, q Querier, acts []CorporateAction, at time.Time) error {
	if len(acts) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, a := range acts {
		b.Queue(`INSERT INTO corporate_actions (security_id, action_type, event_date, record_date, pay_date, amount, ratio,
				currency, source, fetched_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (security_id, action_type, event_date) DO UPDATE SET record_date = EXCLUDED.record_date,
				pay_date = EXCLUDED.pay_date, amount = EXCLUDED.amount, ratio = EXCLUDED.ratio,
				currency = EXCLUDED.currency, source = EXCLUDED.source, fetched_at = EXCLUDED.fetched_at,
				updated_at = now()`,
			a.SecurityID, a.Type, civilDate(a.EventDate), optDatePtr(a.RecordDate), optDatePtr(a.PayDate), optDecimal(a.Amount),
			optDecimal(a.Ratio), optText(a.Currency), a.Source, at)
	}
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write %d fetched corporate actions: %w", len(acts), err)
	}
	return nil
}

func optDatePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return civilDate(*t)
}

// ListCorporateActions returns the actions of the given types of the
// securities whose event date is from from to to (inclusive), by event
// date, symbol and type.
func ListCorporateActions(ctx context.Context, q Querier, securityIDs []uuid.UUID, types []string, from, to time.Time) ([]CorporateAction, error) {
	rows, err := q.Query(ctx, `SELECT ca.id, ca.security_id, s.symbol, ca.action_type, ca.event_date, ca.record_date,
			ca.pay_date, ca.amount, ca.ratio, coalesce(ca.currency, ''), ca.source, ca.fetched_at
		FROM corporate_actions ca JOIN securities s ON s.id = ca.security_id
		WHERE ca.security_id = ANY($1) AND ca.action_type = ANY($2) AND ca.event_date BETWEEN $3 AND $4
		ORDER BY ca.event_date, s.symbol, ca.action_type`, securityIDs, types, civilDate(from), civilDate(to))
	if err != nil {
		return nil, fmt.Errorf("read corporate actions of %d securities: %w", len(securityIDs), err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[CorporateAction])
	if err != nil {
		return nil, fmt.Errorf("read corporate actions of %d securities: %w", len(securityIDs), err)
	}
	return out, nil
}
