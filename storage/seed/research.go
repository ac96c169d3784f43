package seed

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// upcomingSplit is a split announced for after the end of the history.
type upcomingSplit struct {
	sec   int
	ex    time.Time
	ratio float64
}

// upcomingSplits: MSFT splits 2-for-1 about six weeks after end.
func upcomingSplits(end time.Time) []upcomingSplit {
	return []upcomingSplit{{sec: secIndex("MSFT"), ex: nextBusinessDay(end.AddDate(0, 0, 42)), ratio: 2}}
}

// sectorProfile holds the round figures the fundamentals of a sector are
// drawn around.
type sectorProfile struct {
	netMargin, grossMargin, assetTurnover, debtToAssets, intangibles, capexToRevenue, growth, divGrowth float64
}

var sectorProfiles = map[string]sectorProfile{
	"Technology":             {0.22, 0.62, 0.7, 0.15, 0.15, 0.05, 0.10, 0.07},
	"Financials":             {0.18, 0.55, 0.12, 0.35, 0.05, 0.02, 0.05, 0.06},
	"Energy":                 {0.09, 0.30, 0.7, 0.28, 0.02, 0.12, 0.03, 0.04},
	"Industrials":            {0.15, 0.38, 0.45, 0.30, 0.10, 0.10, 0.04, 0.06},
	"Consumer Discretionary": {0.10, 0.45, 0.9, 0.25, 0.10, 0.04, 0.05, 0.05},
	"Consumer Staples":       {0.12, 0.50, 0.6, 0.35, 0.35, 0.04, 0.02, 0.03},
	"Health Care":            {0.17, 0.70, 0.5, 0.25, 0.30, 0.05, 0.05, 0.05},
	"Real Estate":            {0.08, 0.35, 0.2, 0.50, 0.01, 0.08, 0.03, 0.02},
}

// fundamentalsRow is one fundamentals row, money in whole currency units.
type fundamentalsRow struct {
	sec                                                                        int
	year                                                                       int
	periodEnd                                                                  time.Time
	revenue, gross, opInc, netInc, interest, assets, intangibles, debt, equity float64
	curAssets, curLiab, ocf, capex, divPaid, shares, dps, cash                 float64
}

// fundamentals draws five fiscal years (end's year - 5 .. - 1) per equity:
// net income from the starting market value and P/E, the other lines from
// the sector's margins and balance-sheet shares with noise, earlier years
// discounted by the growth rates.
func fundamentals(seed int64, end time.Time) []fundamentalsRow {
	r := newRand(seed, "fundamentals")
	var out []fundamentalsRow
	jit := func(x, rel float64) float64 { return x * (1 + rel*r.NormFloat64()) }
	for i, s := range universe {
		if s.Type != "EQUITY" {
			continue
		}
		pf := sectorProfiles[s.Sector]
		shares := s.SharesM * 1e6
		ni := s.Price * shares / s.PE
		nm := math.Max(0.02, jit(pf.netMargin, 0.15))
		rev := ni / nm
		gm := math.Min(0.9, jit(pf.grossMargin, 0.1))
		assets := rev / math.Max(0.05, jit(pf.assetTurnover, 0.15))
		dta := math.Min(0.7, math.Max(0.02, jit(pf.debtToAssets, 0.25)))
		intang := math.Min(0.6, math.Max(0, jit(pf.intangibles, 0.3)))
		cr := 0.9 + 1.1*r.Float64()
		growth := jit(pf.growth, 0.3)
		dps := s.DivYield * s.Price
		divGrowth := jit(pf.divGrowth, 0.3)
		if s.Symbol == "BBUC" {
			divGrowth = 0 // a flat payer: no growth streak
		}
		years := make([]fundamentalsRow, 5)
		for k := 4; k >= 0; k-- {
			fy := end.Year() - 5 + k
			pe := time.Date(fy, 12, 31, 0, 0, 0, 0, time.UTC)
			if s.Country == "JP" {
				pe = time.Date(fy+1, 3, 31, 0, 0, 0, 0, time.UTC)
			}
			margin := math.Max(0.01, nm*(1+0.08*r.NormFloat64()))
			debt := assets * dta
			interest := debt * 0.045
			netInc := rev * margin
			opInc := netInc/0.78 + interest
			equity := assets * (1 - dta - 0.25)
			row := fundamentalsRow{sec: i, year: fy, periodEnd: pe,
				revenue: rev, gross: rev * math.Min(0.95, gm*(1+0.03*r.NormFloat64())), opInc: opInc, netInc: netInc,
				interest: interest, assets: assets, intangibles: assets * intang, debt: debt, equity: equity,
				curAssets: assets * 0.3, curLiab: assets * 0.3 / cr, ocf: netInc * (1.15 + 0.15*r.Float64()),
				capex: rev * pf.capexToRevenue * (1 + 0.1*r.NormFloat64()), shares: shares, dps: dps, cash: assets * 0.08}
			row.divPaid = dps * shares
			years[k] = row
			g := growth + 0.03*r.NormFloat64()
			rev /= 1 + g
			assets /= 1 + 0.7*g
			dps /= 1 + divGrowth
		}
		out = append(out, years...)
	}
	return out
}

func writeFundamentals(ctx context.Context, tx pgx.Tx, rows []fundamentalsRow, secIDs []uuid.UUID) error {
	b := &pgx.Batch{}
	money := func(x float64) string { return decimal.NewFromFloat(math.Max(0, math.Round(x))).String() }
	signed := func(x float64) string { return decimal.NewFromFloat(math.Round(x)).String() }
	for _, f := range rows {
		s := universe[f.sec]
		b.Queue(`INSERT INTO fundamentals (security_id, fiscal_year, period_end, currency, revenue, gross_profit,
				operating_income, net_income, interest_expense, total_assets, intangible_assets, total_debt, total_equity,
				current_assets, current_liabilities, operating_cash_flow, capital_expenditure, dividends_paid,
				shares_outstanding, dividend_per_share, cash_and_equivalents, source)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, 'seed')
			ON CONFLICT (security_id, fiscal_year) DO UPDATE SET period_end = EXCLUDED.period_end, currency = EXCLUDED.currency,
				revenue = EXCLUDED.revenue, gross_profit = EXCLUDED.gross_profit, operating_income = EXCLUDED.operating_income,
				net_income = EXCLUDED.net_income, interest_expense = EXCLUDED.interest_expense, total_assets = EXCLUDED.total_assets,
				intangible_assets = EXCLUDED.intangible_assets, total_debt = EXCLUDED.total_debt, total_equity = EXCLUDED.total_equity,
				current_assets = EXCLUDED.current_assets, current_liabilities = EXCLUDED.current_liabilities,
				operating_cash_flow = EXCLUDED.operating_cash_flow, capital_expenditure = EXCLUDED.capital_expenditure,
				dividends_paid = EXCLUDED.dividends_paid, shares_outstanding = EXCLUDED.shares_outstanding,
				dividend_per_share = EXCLUDED.dividend_per_share, cash_and_equivalents = EXCLUDED.cash_and_equivalents,
				source = EXCLUDED.source, updated_at = now()
			WHERE (fundamentals.period_end, fundamentals.currency, fundamentals.revenue, fundamentals.gross_profit,
				fundamentals.operating_income, fundamentals.net_income, fundamentals.interest_expense, fundamentals.total_assets,
				fundamentals.intangible_assets, fundamentals.total_debt, fundamentals.total_equity, fundamentals.current_assets,
				fundamentals.current_liabilities, fundamentals.operating_cash_flow, fundamentals.capital_expenditure,
				fundamentals.dividends_paid, fundamentals.shares_outstanding, fundamentals.dividend_per_share,
				fundamentals.cash_and_equivalents, fundamentals.source)
			IS DISTINCT FROM (EXCLUDED.period_end, EXCLUDED.currency, EXCLUDED.revenue, EXCLUDED.gross_profit,
				EXCLUDED.operating_income, EXCLUDED.net_income, EXCLUDED.interest_expense, EXCLUDED.total_assets,
				EXCLUDED.intangible_assets, EXCLUDED.total_debt, EXCLUDED.total_equity, EXCLUDED.current_assets,
				EXCLUDED.current_liabilities, EXCLUDED.operating_cash_flow, EXCLUDED.capital_expenditure,
				EXCLUDED.dividends_paid, EXCLUDED.shares_outstanding, EXCLUDED.dividend_per_share,
				EXCLUDED.cash_and_equivalents, EXCLUDED.source)`,
			secIDs[f.sec], f.year, f.periodEnd, s.Currency, money(f.revenue), money(f.gross), signed(f.opInc), signed(f.netInc),
			money(f.interest), money(f.assets), money(f.intangibles), money(f.debt), signed(f.equity), money(f.curAssets),
			money(f.curLiab), signed(f.ocf), money(f.capex), money(f.divPaid), money(f.shares),
			decimal.NewFromFloat(round(f.dps, 4)).String(), money(f.cash))
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write %d fundamentals rows: %w", len(rows), err)
	}
	return nil
}

// newsSources are the publishers of the demo news; every URL is on
// example.com hosts, so nothing links to a real article.
var newsSources = []string{"Example Markets Wire", "Demo Business Daily", "Sample Investor Journal"}

// newsItem is one news_items row.
type newsItem struct {
	id        uuid.UUID
	sec       int
	published time.Time
	title     string
	summary   string
	url       string
	source    string
	sentiment float64
}

// news writes three to five items per security over the three weeks up to
// end; each item's sentiment follows the security's simulated return over
// the five sessions before it, and its summary states that move.
func (m *market) news(seed int64, ns uuid.UUID) []newsItem {
	r := newRand(seed, "news")
	n := len(m.days) - m.first
	var out []newsItem
	up := []string{"%s shares rise after upbeat trading update", "Analysts lift targets on %s", "%s gains as demand holds up"}
	down := []string{"%s shares slide on margin worries", "%s falls as guidance disappoints", "Investors trim %s after weak week"}
	flat := []string{"%s steady ahead of results", "%s holds range as markets wait", "What to watch at %s this quarter"}
	for i, s := range universe {
		count := 3 + r.IntN(3)
		for j := range count {
			back := r.IntN(min(15, n-6))
			k := n - 1 - back
			ret := m.bars[i][k].close/m.bars[i][k-5].close - 1
			if i == m.split.sec && m.first+k >= m.split.day && m.first+k-5 < m.split.day {
				ret = m.bars[i][k].close*m.split.ratio/m.bars[i][k-5].close - 1
			}
			sent := round(math.Tanh(10*ret+0.2*r.NormFloat64()), 3)
			tpl := flat
			switch {
			case sent > 0.2:
				tpl = up
			case sent < -0.2:
				tpl = down
			}
			title := fmt.Sprintf(tpl[r.IntN(len(tpl))], s.Name)
			day := m.days[m.first+k]
			pub := day.Add(time.Duration(12+r.IntN(10))*time.Hour + time.Duration(r.IntN(60))*time.Minute)
			slug := strings.ToLower(strings.NewReplacer(".", "-", " ", "-").Replace(s.Symbol))
			url := fmt.Sprintf("https://news.example.com/%s/%s-%d", slug, day.Format("20060102"), j)
			out = append(out, newsItem{
				id: uuid.NewSHA1(ns, []byte("news:"+url)), sec: i, published: pub, title: title,
				summary: fmt.Sprintf("Demo item from the DawsOS seed: %s (%s) moved %+.1f %% over the five sessions to %s.",
					s.Name, s.Symbol, 100*ret, day.Format(time.DateOnly)),
				url: url, source: newsSources[r.IntN(len(newsSources))], sentiment: sent,
			})
		}
	}
	return out
}

func writeNews(ctx context.Context, tx pgx.Tx, items []newsItem, secIDs []uuid.UUID) error {
	b := &pgx.Batch{}
	for _, it := range items {
		b.Queue(`INSERT INTO news_items (id, security_id, published_at, title, summary, url, source, sentiment)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (security_id, url) DO UPDATE SET published_at = EXCLUDED.published_at, title = EXCLUDED.title,
				summary = EXCLUDED.summary, source = EXCLUDED.source, sentiment = EXCLUDED.sentiment
			WHERE (news_items.published_at, news_items.title, news_items.summary, news_items.source, news_items.sentiment)
				IS DISTINCT FROM (EXCLUDED.published_at, EXCLUDED.title, EXCLUDED.summary, EXCLUDED.source, EXCLUDED.sentiment)`,
			it.id, secIDs[it.sec], it.published, it.title, it.summary, it.url, it.source, it.sentiment)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write %d news items: %w", len(items), err)
	}
	return nil
}

// corpAction is one corporate_actions row.
type corpAction struct {
	sec                int
	kind               string
	event, record, pay time.Time
	amount, ratio, ccy string
}

// corporateActions lists, for every security, the dividends with an
// ex-date from start to 120 days after end (the past ones are those the
// ledger pays), the past split, the upcoming split, and quarterly earnings
// dates over the same span.
func (m *market) corporateActions(start, end time.Time, upcoming []upcomingSplit) []corpAction {
	horizon := end.AddDate(0, 0, 120)
	var out []corpAction
	for i, s := range universe {
		for _, ev := range m.dividends(i, start, horizon, upcoming) {
			out = append(out, corpAction{sec: i, kind: "DIVIDEND", event: ev.ex, record: ev.record, pay: ev.pay,
				amount: ev.dps.String(), ccy: s.Currency})
		}
		for _, sp := range m.splitsOf(i, upcoming) {
			out = append(out, corpAction{sec: i, kind: "SPLIT", event: sp.ex, ratio: decimal.NewFromFloat(sp.ratio).String()})
		}
		if s.Type != "EQUITY" {
			continue
		}
		for mo := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC); !mo.After(horizon); mo = mo.AddDate(0, 1, 0) {
			if (int(mo.Month())-1)%3 != 0 {
				continue
			}
			d := nextBusinessDay(mo.AddDate(0, 0, 19+i%8))
			if d.Before(start) || d.After(horizon) {
				continue
			}
			out = append(out, corpAction{sec: i, kind: "EARNINGS", event: d})
		}
	}
	return out
}

func writeCorporateActions(ctx context.Context, tx pgx.Tx, acts []corpAction, secIDs []uuid.UUID, ns uuid.UUID) error {
	b := &pgx.Batch{}
	opt := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	optD := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t
	}
	for _, a := range acts {
		id := uuid.NewSHA1(ns, []byte("ca:"+universe[a.sec].Symbol+":"+a.kind+":"+a.event.Format(time.DateOnly)))
		b.Queue(`INSERT INTO corporate_actions (id, security_id, action_type, event_date, record_date, pay_date, amount, ratio, currency, source)
			VALUES ($1, $2, $3, $4, $5, $6, $7::numeric, $8::numeric, $9, 'seed')
			ON CONFLICT (security_id, action_type, event_date) DO UPDATE SET record_date = EXCLUDED.record_date,
				pay_date = EXCLUDED.pay_date, amount = EXCLUDED.amount, ratio = EXCLUDED.ratio, currency = EXCLUDED.currency,
				source = EXCLUDED.source, updated_at = now()
			WHERE (corporate_actions.record_date, corporate_actions.pay_date, corporate_actions.amount, corporate_actions.ratio,
				corporate_actions.currency, corporate_actions.source)
				IS DISTINCT FROM (EXCLUDED.record_date, EXCLUDED.pay_date, EXCLUDED.amount, EXCLUDED.ratio, EXCLUDED.currency, EXCLUDED.source)`,
			id, secIDs[a.sec], a.kind, a.event, optD(a.record), optD(a.pay), opt(a.amount), opt(a.ratio), opt(a.ccy))
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write %d corporate actions: %w", len(acts), err)
	}
	return nil
}
