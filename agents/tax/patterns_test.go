package tax_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/agenttest"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/agents/tax"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/storage"
)

// demoEnd is the last day of the demo data of the pattern tests: 14 months
// of packs, so the demo's sales fall in 2025 and 2026.
var demoEnd = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

// near fails unless got is within tol of want (figures that SQL converts
// with its own division of inverted rates).
func near(t *testing.T, what string, got, want decimal.Decimal, tol string) {
	t.Helper()
	if got.Sub(want).Abs().GreaterThan(d(tol)) {
		t.Errorf("%s = %s; SQL over the raw tables says %s", what, got, want)
	}
}

// sqlRate is the rate of currency ccy into the portfolio's base currency
// in the newest fresh pack on or before day, from fx_rates alone.
const sqlRate = `CASE WHEN %[1]s = p.base_currency THEN 1::numeric ELSE (SELECT coalesce(
	(SELECT rate FROM fx_rates f WHERE f.pack_id = pk.id AND f.from_ccy = %[1]s AND f.to_ccy = p.base_currency),
	1 / (SELECT rate FROM fx_rates f WHERE f.pack_id = pk.id AND f.from_ccy = p.base_currency AND f.to_ccy = %[1]s))
	FROM (SELECT id FROM pricing_packs WHERE status = 'fresh' AND superseded_by IS NULL AND pack_date <= %[2]s
	      ORDER BY pack_date DESC LIMIT 1) pk) END`

// sqlGains sums the year's recorded reliefs by term in the base currency
// at the sale-date rate: long term when relief_date − acquired_date > 365.
var sqlGains = `WITH r AS (
	SELECT r.transaction_id, r.realized_pl AS pl, (r.relief_date - l.acquired_date) > 365 AS long,
	       ` + fmt.Sprintf(sqlRate, "t.currency", "r.relief_date") + ` AS rate
	FROM lot_reliefs r JOIN lots l ON l.id = r.lot_id JOIN transactions t ON t.id = r.transaction_id
	JOIN portfolios p ON p.id = r.portfolio_id
	WHERE r.portfolio_id = $1 AND t.type = 'SELL' AND r.relief_date BETWEEN $2 AND $3)
SELECT count(DISTINCT transaction_id), count(*),
	coalesce(sum(pl * rate) FILTER (WHERE NOT long), 0), coalesce(sum(pl * rate) FILTER (WHERE long), 0),
	coalesce(sum(pl * rate) FILTER (WHERE pl < 0), 0)
FROM r`

// sqlLossSales lists the year's sales with a loss line: the shares and
// the loss of those lines, and the shares of the same security bought
// within 30 days either side (up to the as-of date), the sold lots left
// out.
const sqlLossSales = `WITH s AS (
	SELECT t.id, t.security_id, t.trade_date, sum(r.quantity) FILTER (WHERE r.realized_pl < 0) AS loss_qty,
	       -sum(r.realized_pl) FILTER (WHERE r.realized_pl < 0) AS loss
	FROM transactions t JOIN lot_reliefs r ON r.transaction_id = t.id
	WHERE t.portfolio_id = $1 AND t.type = 'SELL' AND t.trade_date BETWEEN $2 AND $3
	GROUP BY t.id HAVING bool_or(r.realized_pl < 0))
SELECT s.id, s.loss_qty, s.loss, coalesce((SELECT sum(b.quantity) FROM transactions b
	WHERE b.portfolio_id = $1 AND b.type = 'BUY' AND b.security_id = s.security_id
	  AND b.trade_date BETWEEN s.trade_date - 30 AND s.trade_date + 30 AND b.trade_date <= $4
	  AND b.id NOT IN (SELECT lot_id FROM lot_reliefs WHERE transaction_id = s.id)), 0)
FROM s ORDER BY s.trade_date, s.id`

// sqlOpenLots values the open lots at a pack from lots, prices and
// fx_rates: count, market value and unrealised gain in the base currency,
// and the count and sum of the losses above $3.
var sqlOpenLots = `WITH v AS (
	SELECT l.quantity_open * pr.close * ` + fmt.Sprintf(sqlRate, "pr.currency", "(SELECT pack_date FROM pricing_packs WHERE id = $2)") + ` AS mv,
	       (l.quantity_open * pr.close - l.cost_basis_open) * ` + fmt.Sprintf(sqlRate, "pr.currency", "(SELECT pack_date FROM pricing_packs WHERE id = $2)") + ` AS gain
	FROM lots l JOIN prices pr ON pr.pack_id = $2 AND pr.security_id = l.security_id JOIN portfolios p ON p.id = l.portfolio_id
	WHERE l.portfolio_id = $1 AND l.quantity_open > 0)
SELECT count(*), coalesce(sum(mv), 0), coalesce(sum(gain), 0),
	count(*) FILTER (WHERE -gain > $3), coalesce(sum(-gain) FILTER (WHERE -gain > $3), 0)
FROM v`

func seedDemo(t *testing.T) agenttest.Demo { return agenttest.SeedDemo(t, demoEnd, 14) }

// TestPatternsEndToEnd runs portfolio_tax_report and
// tax_harvesting_opportunities through the real engine on the demo data
// and checks their outputs against SQL over lots, lot_reliefs,
// transactions, prices and fx_rates.
func TestPatternsEndToEnd(t *testing.T) {
	t.Parallel()
	dm := seedDemo(t)
	reg := enginetest.Registry(dm.DB, tax.New(agents.Deps{DB: dm.DB}), analyst.New(agents.Deps{DB: dm.DB, RiskFreeRate: 0.04}))
	e := enginetest.Start(t, dm.DB, reg, "portfolio_tax_report.json", "tax_harvesting_opportunities.json")
	ctx := context.Background()
	asOf := demoEnd.Format(time.DateOnly)

	t.Run("portfolio_tax_report", func(t *testing.T) {
		// USD Growth relieves HIFO; the demo has a wash sale in it.
		p := dm.Ports["USD"]
		from, to := date("2026-01-01"), demoEnd
		run := e.Run(t, "portfolio_tax_report", asOf, map[string]any{"portfolio_id": p.ID, "tax_year": 2026, "lot_selection_method": "hifo"})
		if run.Status != storage.RunSucceeded {
			t.Fatalf("portfolio_tax_report ended %s: %+v", run.Status, run.Errors)
		}
		gains := enginetest.Output[tax.RealizedGainsOutput](t, run, "gains")
		if gains.Source != tax.SourceRecorded || gains.Method != "HIFO" || gains.To != asOf || !gains.Partial {
			t.Errorf("gains: source %s, method %s, to %s, partial %v; want recorded HIFO to %s, partial", gains.Source, gains.Method, gains.To, gains.Partial, asOf)
		}
		var sales, lines int
		var short, long, losses decimal.Decimal
		if err := dm.DB.QueryRow(ctx, sqlGains, []any{p.ID, from, to}, &sales, &lines, &short, &long, &losses); err != nil {
			t.Fatal(err)
		}
		if gains.Totals.Sales != sales || gains.Totals.Lots != lines || sales == 0 {
			t.Errorf("%d sales over %d lots; SQL says %d over %d", gains.Totals.Sales, gains.Totals.Lots, sales, lines)
		}
		near(t, "short term", gains.Totals.ShortTerm, short, "0.0001")
		near(t, "long term", gains.Totals.LongTerm, long, "0.0001")
		near(t, "losses", gains.Totals.ShortTermLosses.Add(gains.Totals.LongTermLosses), losses, "0.0001")
		// Per trading currency the figures are the stored ones, exactly.
		err := dm.DB.Query(ctx, func(rows pgx.Rows) error {
			i := 0
			for rows.Next() {
				var ccy string
				var pl decimal.Decimal
				if err := rows.Scan(&ccy, &pl); err != nil {
					return err
				}
				if i >= len(gains.ByCurrency) || gains.ByCurrency[i].Currency != ccy || !gains.ByCurrency[i].Net.Equal(pl) {
					t.Errorf("by currency %+v; SQL: %s %s", gains.ByCurrency, ccy, pl)
				}
				i++
			}
			return rows.Err()
		}, `SELECT t.currency, sum(r.realized_pl) FROM lot_reliefs r JOIN transactions t ON t.id = r.transaction_id
			WHERE r.portfolio_id = $1 AND t.type = 'SELL' AND r.relief_date BETWEEN $2 AND $3 GROUP BY 1 ORDER BY 1`, p.ID, from, to)
		if err != nil {
			t.Fatal(err)
		}

		ws := enginetest.Output[tax.WashSalesOutput](t, run, "wash_sales")
		type lossSale struct {
			id             uuid.UUID
			qty, loss, buy decimal.Decimal
		}
		var ls []lossSale
		err = dm.DB.Query(ctx, func(rows pgx.Rows) error {
			for rows.Next() {
				var s lossSale
				if err := rows.Scan(&s.id, &s.qty, &s.loss, &s.buy); err != nil {
					return err
				}
				ls = append(ls, s)
			}
			return rows.Err()
		}, sqlLossSales, p.ID, from, to, demoEnd)
		if err != nil {
			t.Fatal(err)
		}
		if ws.LossSales != len(ls) {
			t.Errorf("%d loss sales; SQL says %d", ws.LossSales, len(ls))
		}
		found := map[uuid.UUID]tax.WashSale{}
		for _, w := range ws.WashSales {
			found[w.TransactionID] = w
		}
		washes := 0
		for _, s := range ls {
			w, ok := found[s.id]
			if ok != s.buy.IsPositive() {
				t.Errorf("sale %s: wash sale %v; SQL finds %s shares bought within 30 days", s.id, ok, s.buy)
				continue
			}
			if !ok {
				continue
			}
			washes++
			if !w.Loss.Equal(s.loss) {
				t.Errorf("sale %s: loss %s; SQL %s", s.id, w.Loss, s.loss)
			}
			// Enough replacement shares disallow the whole loss; fewer
			// disallow the part they match.
			if s.buy.GreaterThanOrEqual(s.qty) && !w.Disallowed.Equal(s.loss) {
				t.Errorf("sale %s: %s of %s disallowed with %s replacement shares for %s sold at a loss", s.id, w.Disallowed, s.loss, s.buy, s.qty)
			}
			matched := decimal.Zero
			for _, m := range w.Matches {
				matched = matched.Add(m.Quantity)
				if !m.AdjustedBasis.GreaterThan(m.DisallowedLoss) || m.TackedDays <= 0 {
					t.Errorf("sale %s: match %+v", s.id, m)
				}
			}
			if !matched.Equal(decimal.Min(s.buy, s.qty)) || w.Disallowed.GreaterThan(s.loss) || !w.Disallowed.IsPositive() {
				t.Errorf("sale %s: %s shares matched, %s of %s disallowed; SQL: %s bought, %s sold at a loss", s.id, matched, w.Disallowed, s.loss, s.buy, s.qty)
			}
		}
		if washes == 0 {
			t.Errorf("the demo's wash sale is missing: %+v", ws)
		}

		lots := enginetest.Output[tax.LotDetailsOutput](t, run, "lots")
		var n, nLoss int
		var mv, gain, lossSum decimal.Decimal
		if err := dm.DB.QueryRow(ctx, sqlOpenLots, []any{p.ID, dm.PackID, "0"}, &n, &mv, &gain, &nLoss, &lossSum); err != nil {
			t.Fatal(err)
		}
		if lots.Totals.Lots != n || n == 0 {
			t.Errorf("%d open lots; SQL says %d", lots.Totals.Lots, n)
		}
		near(t, "market value of the lots", lots.Totals.MarketValue, mv, "0.01")
		near(t, "unrealised gain of the lots", lots.Totals.Net, gain, "0.01")

		sum := enginetest.Output[tax.SummaryOutput](t, run, "summary")
		if !sum.Gains.Net.Equal(gains.Totals.Net) || sum.WashSales == nil || !sum.WashSales.Disallowed.Equal(ws.Disallowed) {
			t.Errorf("summary net %s, wash sales %+v; gains say %s, wash sales %s", sum.Gains.Net, sum.WashSales, gains.Totals.Net, ws.Disallowed)
		}
		var divNet decimal.Decimal
		var divs int
		if err := dm.DB.QueryRow(ctx, `SELECT count(*), coalesce(sum(cash_amount), 0) FROM transactions
			WHERE portfolio_id = $1 AND type = 'DIVIDEND' AND trade_date BETWEEN $2 AND $3`, []any{p.ID, from, to}, &divs, &divNet); err != nil {
			t.Fatal(err)
		}
		if sum.Income.Dividends != divs || !sum.Income.DividendsNet.Equal(divNet) {
			t.Errorf("dividends %d net %s; SQL %d net %s", sum.Income.Dividends, sum.Income.DividendsNet, divs, divNet)
		}
		var fees decimal.Decimal
		if err := dm.DB.QueryRow(ctx, `SELECT coalesce(sum(t.fees * `+fmt.Sprintf(sqlRate, "t.currency", "t.trade_date")+`), 0)
			FROM transactions t JOIN portfolios p ON p.id = t.portfolio_id
			WHERE t.portfolio_id = $1 AND t.type IN ('BUY', 'SELL') AND t.trade_date BETWEEN $2 AND $3`, []any{p.ID, from, to}, &fees); err != nil {
			t.Fatal(err)
		}
		near(t, "commissions", sum.Fees.Commissions, fees, "0.0001")
		enginetest.Golden(t, run, "portfolio_tax_report", agenttest.Update())

		// Without wash sales the step is skipped by its condition.
		skip := e.Run(t, "portfolio_tax_report", asOf, map[string]any{"portfolio_id": p.ID, "tax_year": 2026, "include_wash_sales": false})
		for _, s := range skip.Steps {
			if s.ID == "wash_sales" && s.Status != storage.StepSkipped {
				t.Errorf("wash_sales step %s; want skipped", s.Status)
			}
		}
		if skip.Status != storage.RunSucceeded {
			t.Errorf("without wash sales: %s %+v", skip.Status, skip.Errors)
		}
	})

	t.Run("tax_harvesting_opportunities", func(t *testing.T) {
		p := dm.Ports["USD"]
		run := e.Run(t, "tax_harvesting_opportunities", asOf, map[string]any{"portfolio_id": p.ID})
		if run.Status != storage.RunSucceeded {
			t.Fatalf("tax_harvesting_opportunities ended %s: %+v", run.Status, run.Errors)
		}
		losses := enginetest.Output[tax.IdentifyLossesOutput](t, run, "losses")
		var n, nLoss int
		var mv, gain, lossSum decimal.Decimal
		if err := dm.DB.QueryRow(ctx, sqlOpenLots, []any{p.ID, dm.PackID, "1000"}, &n, &mv, &gain, &nLoss, &lossSum); err != nil {
			t.Fatal(err)
		}
		if len(losses.Candidates) != nLoss || nLoss == 0 {
			t.Fatalf("%d candidates above 1000; SQL finds %d", len(losses.Candidates), nLoss)
		}
		near(t, "candidate losses", losses.TotalLoss, lossSum, "0.01")
		// The analyst's unrealised P&L of the same lots agrees.
		unreal := enginetest.Output[analyst.UnrealizedPLOutput](t, run, "unrealized")
		pl := map[uuid.UUID]decimal.Decimal{}
		for _, l := range unreal.Lots {
			if l.UnrealizedPL != nil {
				pl[l.LotID] = *l.UnrealizedPL
			}
		}
		for _, c := range losses.Candidates {
			if got, ok := pl[c.LotIDs[0]]; !ok || !got.Neg().Equal(c.Loss) {
				t.Errorf("candidate %s lot %s: loss %s; metrics.unrealized_pl says %s", c.Symbol, c.LotIDs[0], c.Loss, got)
			}
		}
		checks := enginetest.Output[tax.WashSaleCheckOutput](t, run, "wash_check")
		if len(checks.Checks) != len(losses.Candidates) {
			t.Fatalf("%d checks of %d candidates", len(checks.Checks), len(losses.Candidates))
		}
		washes := 0
		for i, c := range losses.Candidates {
			var recent int
			if err := dm.DB.QueryRow(ctx, `SELECT count(*) FROM transactions WHERE portfolio_id = $1 AND type = 'BUY' AND security_id = $2
				AND id <> $3 AND trade_date BETWEEN $4::date - 30 AND $4`, []any{p.ID, c.SecurityID, c.LotIDs[0], demoEnd}, &recent); err != nil {
				t.Fatal(err)
			}
			if checks.Checks[i].WashSale != (recent > 0) {
				t.Errorf("%s: wash sale %v; SQL finds %d purchases in the 30 days before", c.Symbol, checks.Checks[i].WashSale, recent)
			}
			if checks.Checks[i].WashSale {
				washes++
			}
		}
		benefit := enginetest.Output[tax.CalculateBenefitOutput](t, run, "benefit")
		if !benefit.TotalBenefit.Equal(losses.TotalLoss.Mul(d("0.32"))) {
			t.Errorf("benefit %s; want 0.32 × %s", benefit.TotalBenefit, losses.TotalLoss)
		}
		ranking := enginetest.Output[tax.RankOpportunitiesOutput](t, run, "ranking")
		if len(ranking.Opportunities) != len(losses.Candidates)-washes || len(ranking.Excluded) != washes {
			t.Errorf("%d opportunities, %d excluded; want %d and %d", len(ranking.Opportunities), len(ranking.Excluded), len(losses.Candidates)-washes, washes)
		}
		for i := 1; i < len(ranking.Opportunities); i++ {
			if ranking.Opportunities[i].BenefitNow.GreaterThan(ranking.Opportunities[i-1].BenefitNow) {
				t.Errorf("opportunity %d is worth more than %d", i+1, i)
			}
		}
		enginetest.Golden(t, run, "tax_harvesting_opportunities", agenttest.Update())

		// Inside a window: on 2026-01-05 the purchases of the previous 30
		// days make wash-sale conflicts, flagged when avoid_wash_sales is
		// off.
		early := date("2026-01-05")
		run = e.Run(t, "tax_harvesting_opportunities", "2026-01-05", map[string]any{"portfolio_id": p.ID, "avoid_wash_sales": false,
			"min_loss_threshold": 0})
		if run.Status != storage.RunSucceeded {
			t.Fatalf("tax_harvesting_opportunities on 2026-01-05 ended %s: %+v", run.Status, run.Errors)
		}
		losses = enginetest.Output[tax.IdentifyLossesOutput](t, run, "losses")
		checks = enginetest.Output[tax.WashSaleCheckOutput](t, run, "wash_check")
		washes = 0
		for i, c := range losses.Candidates {
			var recent int
			if err := dm.DB.QueryRow(ctx, `SELECT count(*) FROM transactions WHERE portfolio_id = $1 AND type = 'BUY' AND security_id = $2
				AND id <> $3 AND trade_date BETWEEN $4::date - 30 AND $4`, []any{p.ID, c.SecurityID, c.LotIDs[0], early}, &recent); err != nil {
				t.Fatal(err)
			}
			if checks.Checks[i].WashSale != (recent > 0) {
				t.Errorf("2026-01-05 %s: wash sale %v; SQL finds %d purchases in the 30 days before", c.Symbol, checks.Checks[i].WashSale, recent)
			}
			if checks.Checks[i].WashSale {
				washes++
			}
		}
		ranking = enginetest.Output[tax.RankOpportunitiesOutput](t, run, "ranking")
		flagged := 0
		for _, o := range ranking.Opportunities {
			if o.WashSale {
				flagged++
				if !o.BenefitNow.Add(o.DeferredBenefit).Equal(o.Benefit) && o.BenefitNow.IsPositive() {
					t.Errorf("%s: benefit now %s + deferred %s is not %s", o.Symbol, o.BenefitNow, o.DeferredBenefit, o.Benefit)
				}
			}
		}
		if washes == 0 || flagged != washes || len(ranking.Excluded) != 0 {
			t.Errorf("2026-01-05: %d wash-sale conflicts, %d flagged, %d excluded; want some, all flagged, none excluded", washes, flagged, len(ranking.Excluded))
		}
	})
}
