package analyst_test

import (
	"context"
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
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

// posLookback is the window of the deep-dive tests on the short demo data:
// it contains NVDA's 2-for-1 split, halfway through the seed's window.
const posLookback = 40

// sqlWindow is the last n+1 fresh pack dates up to end, oldest first.
func sqlWindow(t *testing.T, db *storage.DB, end time.Time, n int) []time.Time {
	t.Helper()
	var dates []time.Time
	sqlRow(t, db, `SELECT array_agg(pack_date ORDER BY pack_date) FROM (SELECT pack_date FROM pricing_packs
		WHERE status = 'fresh' AND superseded_by IS NULL AND pack_date <= $1 ORDER BY pack_date DESC LIMIT $2) x`, []any{end, n + 1}, &dates)
	return dates
}

// sqlLine is one security over a window read with SQL: closes, the rates
// of its close currency into base (the stored pair or the inverse of the
// reverse one), and each day's split ratio from corporate_actions.
type sqlLine struct {
	closes, rates, split []float64
	currency             string
}

func readSQLLine(t *testing.T, db *storage.DB, sec uuid.UUID, base string, dates []time.Time) sqlLine {
	t.Helper()
	var l sqlLine
	var ccys []string
	sqlRow(t, db, `SELECT array_agg(p.close::float8 ORDER BY pp.pack_date), array_agg(p.currency ORDER BY pp.pack_date),
			array_agg(CASE WHEN p.currency = $3 THEN 1 ELSE coalesce(
				(SELECT rate FROM fx_rates WHERE pack_id = pp.id AND from_ccy = p.currency AND to_ccy = $3),
				1 / (SELECT rate FROM fx_rates WHERE pack_id = pp.id AND from_ccy = $3 AND to_ccy = p.currency)) END::float8 ORDER BY pp.pack_date)
		FROM prices p JOIN pricing_packs pp ON pp.id = p.pack_id AND pp.status = 'fresh' AND pp.superseded_by IS NULL
		WHERE p.security_id = $1 AND pp.pack_date = ANY($2)`, []any{sec, dates, base}, &l.closes, &ccys, &l.rates)
	if len(l.closes) != len(dates) {
		t.Fatalf("security %s: %d closes on %d dates", sec, len(l.closes), len(dates))
	}
	l.currency = ccys[0]
	l.split = make([]float64, len(dates))
	for i := range dates {
		l.split[i] = 1
		if i > 0 {
			sqlRow(t, db, `SELECT coalesce(exp(sum(ln(ratio))), 1)::float8 FROM corporate_actions WHERE security_id = $1 AND action_type = 'SPLIT'
				AND event_date > $2 AND event_date <= $3`, []any{sec, dates[i-1], dates[i]}, &l.split[i])
		}
	}
	return l
}

// baseReturns are the split-adjusted daily returns in the base currency.
func (l sqlLine) baseReturns() []float64 {
	out := make([]float64, len(l.closes)-1)
	for i := 1; i < len(l.closes); i++ {
		out[i-1] = l.closes[i]*l.split[i]/l.closes[i-1]*(l.rates[i]/l.rates[i-1]) - 1
	}
	return out
}

func (l sqlLine) splitFactor() float64 {
	f := 1.0
	for _, s := range l.split {
		f *= s
	}
	return f
}

// handVaR sorts the returns and interpolates the (1−c) quantile at
// (n−1)(1−c) by hand; ES averages the ⌊(n−1)(1−c)⌋+1 worst.
func handVaR(r []float64, c float64) (float64, float64) {
	s := append([]float64(nil), r...)
	sort.Float64s(s)
	h := float64(len(s)-1) * (1 - c)
	if math.Abs(h-math.Round(h)) < 1e-9 {
		h = math.Round(h)
	}
	lo := int(h)
	q := s[lo]
	if lo+1 < len(s) {
		q += (h - float64(lo)) * (s[lo+1] - s[lo])
	}
	es := 0.0
	for _, x := range s[:lo+1] {
		es += x
	}
	return -q, -es / float64(lo+1)
}

func relNear(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

// TestPositionDeepDiveOnTheDemoData runs the eight position capabilities
// on the short demo dataset and checks each figure against SQL over the
// raw tables (lots, prices, fx_rates, corporate_actions, transactions,
// portfolio_daily_values, fundamentals, securities).
func TestPositionDeepDiveOnTheDemoData(t *testing.T) {
	t.Parallel()
	dm := loadRiskDemo(t, 3)
	usd, cad := dm.portfolio(t, "USD Growth"), dm.portfolio(t, "CAD Demo Portfolio")
	dates := sqlWindow(t, dm.DB, dm.End, posLookback)
	var splitIn int
	sqlRow(t, dm.DB, `SELECT count(*) FROM corporate_actions WHERE action_type = 'SPLIT' AND event_date > $1 AND event_date <= $2`, []any{dates[0], dates[len(dates)-1]}, &splitIn)
	if splitIn == 0 {
		t.Fatalf("no split in the window %s..%s: the test would not cover split adjustment", dates[0].Format(time.DateOnly), dates[len(dates)-1].Format(time.DateOnly))
	}
	cases := []struct {
		p   uuid.UUID
		sym string
	}{{usd.ID, "NVDA"}, {usd.ID, "7203.T"}, {usd.ID, "AAPL"}, {usd.ID, "IEF"}, {cad.ID, "EVO"}, {cad.ID, "CNR"}, {cad.ID, "BRK.B"}}
	for _, c := range cases {
		t.Run(c.sym, func(t *testing.T) {
			sec := dm.secID[c.sym]
			args := map[string]any{"portfolio_id": c.p, "security_id": sec, "lookback_days": posLookback}
			details := checkDetails(t, dm, c.p, sec)
			ret := checkReturn(t, dm, c.p, sec, details.BaseCurrency, dates, args)
			checkCurrencyAttribution(t, dm, sec, details.BaseCurrency, dates, args, ret)
			checkContribution(t, dm, c.p, sec, details.BaseCurrency, args)
			checkTransactions(t, dm, c.p, sec)
		})
	}
	checkRiskOnDemo(t, dm, usd.ID, dm.secID["NVDA"], dates)
	checkFundamentals(t, dm)
	checkComparables(t, dm)

	// Bad input, the same for every position capability.
	var owner uuid.UUID
	sqlRow(t, dm.DB, `SELECT owner_id FROM portfolios WHERE id = $1`, []any{usd.ID}, &owner)
	cashOnly, err := storage.CreatePortfolio(context.Background(), dm.DB.Pool(), storage.Portfolio{OwnerID: owner, Name: "Cash only", BaseCurrency: "USD", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dm.DB.Exec(context.Background(), `SELECT 1`); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"position.get_details", "position.compute_return", "position.compute_contribution",
		"position.compute_currency_attribution", "position.compute_risk"} {
		var out map[string]any
		args := map[string]any{"portfolio_id": uuid.New(), "security_id": dm.secID["AAPL"]}
		expectCode(t, name+" unknown portfolio", dm.h.Call(name, args, &out), agents.CodeNotFound, "portfolio")
		args = map[string]any{"portfolio_id": usd.ID, "security_id": uuid.New()}
		expectCode(t, name+" unknown security", dm.h.Call(name, args, &out), agents.CodeNotFound, "unknown security")
		args = map[string]any{"portfolio_id": usd.ID, "security_id": dm.secID["SPY"]}
		expectCode(t, name+" security not held", dm.h.Call(name, args, &out), agents.CodeNotFound, "not held", "SPY", "the security exists")
		args = map[string]any{"portfolio_id": cashOnly.ID, "security_id": dm.secID["AAPL"]}
		expectCode(t, name+" empty portfolio", dm.h.Call(name, args, &out), agents.CodeNotFound, "not held")
		if name != "position.get_details" {
			var packs int
			sqlRow(t, dm.DB, `SELECT count(*) FROM pricing_packs WHERE status = 'fresh' AND superseded_by IS NULL AND pack_date <= $1`, []any{dm.End}, &packs)
			args = map[string]any{"portfolio_id": usd.ID, "security_id": dm.secID["AAPL"], "lookback_days": 200}
			err := dm.h.Call(name, args, &out)
			ae := expectCode(t, name+" lookback longer than the history", err, agents.CodeInsufficientData, "found", "need at least")
			t.Logf("%s: %s", name, ae.Message)
		}
	}
}

func checkDetails(t *testing.T, dm riskDemo, pid, sec uuid.UUID) analyst.PositionDetailsOutput {
	t.Helper()
	var out analyst.PositionDetailsOutput
	if err := dm.h.Call("position.get_details", map[string]any{"portfolio_id": pid, "security_id": sec}, &out); err != nil {
		t.Fatal(err)
	}
	var qty, mv decimal.Decimal
	var lots int
	var typ string
	sqlRow(t, dm.DB, `SELECT sum(l.quantity_open), count(*), s.type,
			sum(l.quantity_open) * (SELECT close FROM prices WHERE pack_id = $3 AND security_id = $2) *
			CASE WHEN pr.currency = pf.base_currency THEN 1 ELSE coalesce(
				(SELECT rate FROM fx_rates WHERE pack_id = $3 AND from_ccy = pr.currency AND to_ccy = pf.base_currency),
				1 / (SELECT rate FROM fx_rates WHERE pack_id = $3 AND from_ccy = pf.base_currency AND to_ccy = pr.currency)) END
		FROM lots l JOIN securities s ON s.id = l.security_id JOIN portfolios pf ON pf.id = l.portfolio_id
		JOIN prices pr ON pr.pack_id = $3 AND pr.security_id = l.security_id
		WHERE l.portfolio_id = $1 AND l.security_id = $2 AND l.quantity_open > 0
		GROUP BY s.type, pr.currency, pf.base_currency`, []any{pid, sec, dm.PackID}, &qty, &lots, &typ, &mv)
	total, _ := agenttest.PortfolioValue(t, dm.DB, pid, dm.PackID)
	if !out.Position.Quantity.Equal(qty) || len(out.Lots) != lots || out.SecurityType != typ || out.IsEquity != (typ == "EQUITY") || out.Security.Type != typ {
		t.Errorf("details: quantity %s, %d lots, type %s (equity %v); SQL %s, %d, %s", out.Position.Quantity, len(out.Lots), out.SecurityType, out.IsEquity, qty, lots, typ)
	}
	if out.Position.MarketValue.Sub(mv).Abs().GreaterThan(d("0.000001")) || out.PortfolioValue.Sub(total).Abs().GreaterThan(d("0.01")) {
		t.Errorf("details: market value %s of %s; SQL %s of %s", out.Position.MarketValue, out.PortfolioValue, mv, total)
	}
	if w := mv.DivRound(total, 10); out.Position.Weight.Sub(w).Abs().GreaterThan(d("0.0000001")) {
		t.Errorf("details: weight %s, SQL %s", out.Position.Weight, w)
	}
	if out.Provenance.PricingPackID != dm.PackID || out.ValuedOn != dm.End.Format(time.DateOnly) {
		t.Errorf("details: provenance %+v valued on %s", out.Provenance, out.ValuedOn)
	}
	return out
}

func checkReturn(t *testing.T, dm riskDemo, pid, sec uuid.UUID, base string, dates []time.Time, args map[string]any) analyst.PositionReturnOutput {
	t.Helper()
	var out analyst.PositionReturnOutput
	if err := dm.h.Call("position.compute_return", args, &out); err != nil {
		t.Fatal(err)
	}
	l := readSQLLine(t, dm.DB, sec, base, dates)
	n := len(dates) - 1
	price := l.closes[n]*l.splitFactor()/l.closes[0] - 1
	fx := l.rates[n]/l.rates[0] - 1
	if out.StartDate != dates[0].Format(time.DateOnly) || out.EndDate != dates[n].Format(time.DateOnly) || out.Days != posLookback ||
		!relNear(out.PriceReturnLocal, price, 1e-12) || !relNear(out.FXReturn, fx, 1e-12) || !relNear(out.TotalReturnBase, (1+price)*(1+fx)-1, 1e-12) ||
		out.LocalCurrency != l.currency || out.TotalReturnBaseAnnual != nil {
		t.Errorf("return %s..%s (%d days): price %.12f fx %.12f total %.12f %s; SQL %s..%s price %.12f fx %.12f",
			out.StartDate, out.EndDate, out.Days, out.PriceReturnLocal, out.FXReturn, out.TotalReturnBase, out.LocalCurrency,
			dates[0].Format(time.DateOnly), dates[n].Format(time.DateOnly), price, fx)
	}
	if sf, _ := out.SplitFactor.Float64(); sf != l.splitFactor() {
		t.Errorf("split factor %s, SQL %g", out.SplitFactor, l.splitFactor())
	}
	// Income from the DIVIDEND transactions in the window, by hand.
	type div struct {
		Date           time.Time
		Net, Qty, Cash float64
	}
	rows, err := dm.DB.Pool().Query(context.Background(), `SELECT trade_date, (amount - fees)::float8, quantity::float8, cash_amount::float8 FROM transactions
		WHERE portfolio_id = $1 AND security_id = $2 AND type = 'DIVIDEND' AND trade_date > $3 AND trade_date <= $4 ORDER BY trade_date, seq`,
		pid, sec, dates[0], dates[n])
	if err != nil {
		t.Fatal(err)
	}
	divs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[div])
	if err != nil {
		t.Fatal(err)
	}
	income, netBase := 0.0, 0.0
	for _, dv := range divs {
		f := 1.0
		for i, dt := range dates {
			if i > 0 && !dt.After(dv.Date) {
				f *= l.split[i]
			}
		}
		income += dv.Net / dv.Qty * f / l.closes[0]
		netBase += dv.Cash
	}
	nb, _ := out.Income.NetBase.Float64()
	if out.Income.Dividends != len(divs) || !relNear(out.Income.IncomeReturn, income, 1e-12) || math.Abs(nb-netBase) > 1e-6 ||
		!relNear(out.TotalReturnWithIncomeLocal, price+income, 1e-12) || !relNear(out.TotalReturnWithIncomeBase, (1+price+income)*(1+fx)-1, 1e-12) {
		t.Errorf("income: %d dividends, return %.12f, net base %s, with income %.12f / %.12f; SQL %d, %.12f, %.4f",
			out.Income.Dividends, out.Income.IncomeReturn, out.Income.NetBase, out.TotalReturnWithIncomeLocal, out.TotalReturnWithIncomeBase, len(divs), income, netBase)
	}
	return out
}

func checkCurrencyAttribution(t *testing.T, dm riskDemo, sec uuid.UUID, base string, dates []time.Time, args map[string]any, ret analyst.PositionReturnOutput) {
	t.Helper()
	var out analyst.PositionCurrencyAttributionOutput
	if err := dm.h.Call("position.compute_currency_attribution", args, &out); err != nil {
		t.Fatal(err)
	}
	l := readSQLLine(t, dm.DB, sec, base, dates)
	n := len(dates) - 1
	local := l.closes[n]*l.splitFactor()/l.closes[0] - 1
	fx := l.rates[n]/l.rates[0] - 1
	if !relNear(out.Local, local, 1e-12) || !relNear(out.FX, fx, 1e-12) || !relNear(out.Interaction, local*fx, 1e-12) ||
		!relNear(out.Total, (1+local)*(1+fx)-1, 1e-12) {
		t.Errorf("attribution local %.12f fx %.12f interaction %.12g total %.12f; SQL %.12f %.12f %.12g", out.Local, out.FX, out.Interaction, out.Total, local, fx, local*fx)
	}
	if res := out.Total - (out.Local + out.FX + out.Interaction); math.Abs(res) > 1e-5 || math.Abs(out.ResidualBP-res*1e4) > 1e-9 || !out.WithinTolerance {
		t.Errorf("attribution residual %g bp (parts miss by %g)", out.ResidualBP, res)
	}
	if l.currency == base && out.FX != 0 {
		t.Errorf("base-currency security with FX return %g", out.FX)
	}
	if !relNear(out.Total, ret.TotalReturnBase, 1e-15) {
		t.Errorf("attribution total %.15f, compute_return total %.15f", out.Total, ret.TotalReturnBase)
	}
}

// checkContribution recomputes Σₜ wₜ₋₁·rₜ from SQL: daily values, the
// quantity held at the end of each day from the transactions, closes,
// rates and splits.
func checkContribution(t *testing.T, dm riskDemo, pid, sec uuid.UUID, base string, args map[string]any) {
	t.Helper()
	var out analyst.PositionContributionOutput
	if err := dm.h.Call("position.compute_contribution", args, &out); err != nil {
		t.Fatal(err)
	}
	var dates []time.Time
	var totals, flows, qty []float64
	sqlRow(t, dm.DB, `SELECT array_agg(d ORDER BY d), array_agg(tv ORDER BY d), array_agg(fl ORDER BY d), array_agg(q ORDER BY d) FROM (
			SELECT v.value_date AS d, v.total_value::float8 AS tv, v.net_external_flow::float8 AS fl,
			       coalesce((SELECT sum(CASE t.type WHEN 'SELL' THEN -t.quantity ELSE t.quantity END *
			                 coalesce((SELECT exp(sum(ln(sp.split_ratio))) FROM transactions sp WHERE sp.portfolio_id = $1 AND sp.security_id = $2
			                           AND sp.type = 'SPLIT' AND sp.trade_date > t.trade_date AND sp.trade_date <= v.value_date), 1))
			                 FROM transactions t WHERE t.portfolio_id = $1 AND t.security_id = $2 AND t.type IN ('BUY', 'SELL')
			                 AND t.trade_date <= v.value_date), 0)::float8 AS q
			FROM portfolio_daily_values v WHERE v.portfolio_id = $1 AND v.value_date <= $3 ORDER BY v.value_date DESC LIMIT $4) x`,
		[]any{pid, sec, dm.End, posLookback + 1}, &dates, &totals, &flows, &qty)
	l := readSQLLine(t, dm.DB, sec, base, dates)
	r := l.baseReturns()
	contrib, twr, arith := 0.0, 1.0, 0.0
	for i := 1; i < len(dates); i++ {
		den := totals[i-1]
		if flows[i] > 0 {
			den += flows[i]
		}
		contrib += qty[i-1] * l.closes[i-1] * l.rates[i-1] / den * r[i-1]
		num := totals[i]
		if flows[i] < 0 {
			num -= flows[i]
		}
		pr := num/den - 1
		twr *= 1 + pr
		arith += pr
	}
	if !relNear(out.Contribution, contrib, 1e-9) || !relNear(out.PortfolioReturn, twr-1, 1e-9) || !relNear(out.PortfolioReturnArithmetic, arith, 1e-9) ||
		out.Days != posLookback || out.StartDate != dates[0].Format(time.DateOnly) {
		t.Errorf("contribution %.12f, portfolio %.12f (Σ %.12f) over %d days from %s; SQL %.12f, %.12f (Σ %.12f) from %s",
			out.Contribution, out.PortfolioReturn, out.PortfolioReturnArithmetic, out.Days, out.StartDate, contrib, twr-1, arith, dates[0].Format(time.DateOnly))
	}
	n := len(dates) - 1
	if w := qty[n] * l.closes[n] * l.rates[n] / totals[n]; !relNear(out.EndWeight, w, 1e-9) {
		t.Errorf("end weight %.12f, SQL %.12f", out.EndWeight, w)
	}
}

func checkTransactions(t *testing.T, dm riskDemo, pid, sec uuid.UUID) {
	t.Helper()
	var out analyst.PositionTransactionsOutput
	if err := dm.h.Call("position.get_transactions", map[string]any{"portfolio_id": pid, "security_id": sec}, &out); err != nil {
		t.Fatal(err)
	}
	var ids []uuid.UUID
	var realized decimal.NullDecimal
	sqlRow(t, dm.DB, `SELECT array_agg(id ORDER BY trade_date DESC, seq DESC), sum(realized_pl) FROM transactions
		WHERE portfolio_id = $1 AND security_id = $2 AND trade_date <= $3`, []any{pid, sec, dm.End}, &ids, &realized)
	if out.Count != len(ids) || len(out.Transactions) != len(ids) {
		t.Fatalf("transactions: %d, SQL %d", out.Count, len(ids))
	}
	for i, id := range ids {
		if out.Transactions[i].ID != id {
			t.Fatalf("transaction %d is %s, SQL newest-first order has %s", i, out.Transactions[i].ID, id)
		}
	}
	sum := decimal.Zero
	for _, r := range out.Realized {
		sum = sum.Add(r.RealizedPL)
	}
	if !sum.Equal(realized.Decimal) {
		t.Errorf("realised P&L %s, SQL %s", sum, realized.Decimal)
	}
	for _, tl := range out.Transactions {
		if (tl.RealizedPL != nil) != (tl.Type == "SELL") {
			t.Errorf("%s %s: realised %v; recorded for sales only", tl.Type, tl.TradeDate, tl.RealizedPL)
		}
	}
	// A range: the SQL count of the same range.
	from, to := dm.End.AddDate(0, -1, 0).Format(time.DateOnly), dm.End.AddDate(0, 0, -5).Format(time.DateOnly)
	var n int
	sqlRow(t, dm.DB, `SELECT count(*) FROM transactions WHERE portfolio_id = $1 AND security_id = $2 AND trade_date BETWEEN $3::date AND $4::date`, []any{pid, sec, from, to}, &n)
	if err := dm.h.Call("position.get_transactions", map[string]any{"portfolio_id": pid, "security_id": sec, "from_date": from, "to_date": to}, &out); err != nil || out.Count != n {
		t.Errorf("transactions %s..%s: %d (%v), SQL %d", from, to, out.Count, err, n)
	}
}

// checkRiskOnDemo recomputes position.compute_risk from SQL: every line of
// the portfolio (positions at the pack's quantities, cash per currency)
// with its base value and daily base returns; the portfolio series; the
// VaRs by hand sorting.
func checkRiskOnDemo(t *testing.T, dm riskDemo, pid, sec uuid.UUID, dates []time.Time) {
	t.Helper()
	var out analyst.PositionRiskOutput
	if err := dm.h.Call("position.compute_risk", map[string]any{"portfolio_id": pid, "security_id": sec, "lookback_days": posLookback}, &out); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var base string
	sqlRow(t, dm.DB, `SELECT base_currency FROM portfolios WHERE id = $1`, []any{pid}, &base)
	n := len(dates) - 1
	type line struct {
		value float64
		r     []float64
	}
	var lines []line
	var mine line
	rows, err := dm.DB.Pool().Query(ctx, `SELECT security_id, sum(quantity_open)::float8 FROM lots WHERE portfolio_id = $1 AND quantity_open > 0 GROUP BY 1`, pid)
	if err != nil {
		t.Fatal(err)
	}
	type held struct {
		ID  uuid.UUID
		Qty float64
	}
	hs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[held])
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		l := readSQLLine(t, dm.DB, h.ID, base, dates)
		ln := line{value: h.Qty * l.closes[n] * l.rates[n], r: l.baseReturns()}
		if h.ID == sec {
			mine = ln
		}
		lines = append(lines, ln)
	}
	rows, err = dm.DB.Pool().Query(ctx, `SELECT cash_currency, sum(cash_amount)::float8 FROM transactions WHERE portfolio_id = $1 AND trade_date <= $2
		GROUP BY 1 HAVING sum(cash_amount) <> 0`, pid, dm.End)
	if err != nil {
		t.Fatal(err)
	}
	type cash struct {
		Ccy    string
		Amount float64
	}
	cs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[cash])
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		var rates []float64
		sqlRow(t, dm.DB, `SELECT array_agg(CASE WHEN $1 = $2 THEN 1 ELSE coalesce(
				(SELECT rate FROM fx_rates WHERE pack_id = pp.id AND from_ccy = $1 AND to_ccy = $2),
				1 / (SELECT rate FROM fx_rates WHERE pack_id = pp.id AND from_ccy = $2 AND to_ccy = $1)) END::float8 ORDER BY pp.pack_date)
			FROM pricing_packs pp WHERE pp.status = 'fresh' AND pp.superseded_by IS NULL AND pp.pack_date = ANY($3)`, []any{c.Ccy, base, dates}, &rates)
		r := make([]float64, n)
		for i := 1; i <= n; i++ {
			r[i-1] = rates[i]/rates[i-1] - 1
		}
		lines = append(lines, line{value: c.Amount * rates[n], r: r})
	}
	total := 0.0
	for _, l := range lines {
		total += l.value
	}
	port := make([]float64, n)
	standalone := 0.0
	for _, l := range lines {
		for i, x := range l.r {
			port[i] += l.value / total * x
		}
		signed := l.r
		if l.value < 0 {
			signed = make([]float64, n)
			for i, x := range l.r {
				signed[i] = -x
			}
		}
		v, _ := handVaR(signed, 0.95)
		standalone += v * math.Abs(l.value)
	}
	pVaR, pES := handVaR(port, 0.95)
	myVaR, myES := handVaR(mine.r, 0.95)
	if !relNear(out.VaR, myVaR, 1e-10) || !relNear(out.ES, myES, 1e-10) || !relNear(out.PortfolioVaR, pVaR, 1e-10) || !relNear(out.PortfolioES, pES, 1e-10) {
		t.Errorf("risk: VaR %.10f ES %.10f, portfolio %.10f %.10f; by hand %.10f %.10f, %.10f %.10f", out.VaR, out.ES, out.PortfolioVaR, out.PortfolioES, myVaR, myES, pVaR, pES)
	}
	if !relNear(out.StandaloneVaRSum, standalone, 1e-9) || !relNear(out.DiversificationBenefit, standalone-pVaR*total, 1e-9) ||
		!relNear(out.Weight, mine.value/total, 1e-9) || out.Lines != len(lines) {
		t.Errorf("risk: stand-alone %.4f benefit %.4f weight %.6f over %d lines; by hand %.4f %.4f %.6f %d",
			out.StandaloneVaRSum, out.DiversificationBenefit, out.Weight, out.Lines, standalone, standalone-pVaR*total, mine.value/total, len(lines))
	}
	// β by hand, cov/var with ddof 1 (it cancels).
	mp, mm := 0.0, 0.0
	for i := range port {
		mp += port[i] / float64(n)
		mm += mine.r[i] / float64(n)
	}
	cov, v := 0.0, 0.0
	for i := range port {
		cov += (mine.r[i] - mm) * (port[i] - mp)
		v += (port[i] - mp) * (port[i] - mp)
	}
	if beta := cov / v; !relNear(out.BetaToPortfolio, beta, 1e-9) || !relNear(out.MarginalVaRBeta, beta*pVaR, 1e-9) {
		t.Errorf("beta %.10f, by hand %.10f", out.BetaToPortfolio, beta)
	}
	if !relNear(out.ComponentVaR, out.Weight*out.MarginalVaR, 1e-12) || !relNear(out.PositionDiversification, out.VaRAmount-out.ComponentVaRAmount, 1e-9) {
		t.Errorf("component %g = weight %g × marginal %g?", out.ComponentVaR, out.Weight, out.MarginalVaR)
	}
	// The historical delta is the derivative of the portfolio VaR: adding a
	// little of the position (funded from nothing, weights re-summed) moves
	// the hand-computed VaR by marginal × the change in weight.
	const eps = 1e-6
	bumped := make([]float64, n)
	for i := range port {
		bumped[i] = port[i] + eps*mine.r[i]
	}
	up, _ := handVaR(bumped, 0.95)
	if fd := (up - pVaR) / eps; math.Abs(fd-out.MarginalVaR) > 1e-4 {
		t.Errorf("marginal VaR %.8f, finite difference %.8f", out.MarginalVaR, fd)
	}
}

func checkFundamentals(t *testing.T, dm riskDemo) {
	t.Helper()
	ctx := context.Background()
	var out analyst.FundamentalsOutput
	if err := dm.h.Call("position.get_fundamentals", map[string]any{"security_id": dm.secID["AAPL"]}, &out); err != nil {
		t.Fatal(err)
	}
	var years []int
	var revenue decimal.Decimal
	sqlRow(t, dm.DB, `SELECT array_agg(fiscal_year ORDER BY fiscal_year DESC), (SELECT revenue FROM fundamentals WHERE security_id = $1 ORDER BY fiscal_year DESC LIMIT 1)
		FROM fundamentals WHERE security_id = $1`, []any{dm.secID["AAPL"]}, &years, &revenue)
	if len(out.Years) != len(years) || len(years) == 0 || !out.Years[0].Revenue.Decimal.Equal(revenue) {
		t.Fatalf("fundamentals: %d years, newest revenue %v; SQL %v, %s", len(out.Years), out.Years[0].Revenue, years, revenue)
	}
	for i, y := range years {
		if out.Years[i].FiscalYear != y {
			t.Errorf("fundamentals year %d is %d, SQL newest first %d", i, out.Years[i].FiscalYear, y)
		}
	}
	if err := dm.h.Call("position.get_fundamentals", map[string]any{"security_id": dm.secID["AAPL"], "years": 2}, &out); err != nil || len(out.Years) != 2 {
		t.Errorf("two years: %d (%v)", len(out.Years), err)
	}
	err := dm.h.Call("position.get_fundamentals", map[string]any{"security_id": dm.secID["IEF"]}, &out)
	if ae := expectCode(t, "fundamentals of an ETF", err, agents.CodeInvalidInput, "only for equities"); ae.Field != "security_id" {
		t.Errorf("ETF: field %q, want security_id", ae.Field)
	}
	bare, err := storage.UpsertSecurity(ctx, dm.DB.Pool(), storage.Security{Symbol: "BARE", Name: "Bare Equity", Type: "EQUITY", Currency: "USD", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	err = dm.h.Call("position.get_fundamentals", map[string]any{"security_id": bare.ID}, &out)
	expectCode(t, "equity without fundamentals", err, agents.CodeInsufficientData, "BARE", "found 0")
	err = dm.h.Call("position.get_fundamentals", map[string]any{"security_id": uuid.New()}, &out)
	expectCode(t, "unknown security", err, agents.CodeNotFound)
}

func checkComparables(t *testing.T, dm riskDemo) {
	t.Helper()
	var out analyst.ComparablesOutput
	if err := dm.h.Call("position.get_comparables", map[string]any{"security_id": dm.secID["AAPL"]}, &out); err != nil {
		t.Fatal(err)
	}
	var want []string
	sqlRow(t, dm.DB, `SELECT array_agg(symbol ORDER BY symbol) FROM securities WHERE sector = (SELECT sector FROM securities WHERE symbol = 'AAPL') AND symbol <> 'AAPL'`, nil, &want)
	if out.Count != len(want) || len(out.Peers) != len(want) || len(want) < 3 {
		t.Fatalf("comparables: %d peers, SQL %v", len(out.Peers), want)
	}
	for i, p := range out.Peers {
		if p.Security.Symbol != want[i] || p.Security.Sector != out.Sector {
			t.Errorf("peer %d: %s (%s), SQL %s", i, p.Security.Symbol, p.Security.Sector, want[i])
		}
		if p.Security.Symbol == "AAPL" {
			t.Error("the security itself is among its comparables")
		}
		// P/E and net margin against SQL on the newest fiscal year.
		var pe, margin *float64
		var close decimal.Decimal
		sqlRow(t, dm.DB, `SELECT (SELECT close FROM prices WHERE pack_id = $2 AND security_id = $1),
				(SELECT CASE WHEN net_income > 0 THEN ((SELECT close FROM prices WHERE pack_id = $2 AND security_id = $1) * shares_outstanding / net_income)::float8 END
				 FROM fundamentals WHERE security_id = $1 ORDER BY fiscal_year DESC LIMIT 1),
				(SELECT (net_income / revenue)::float8 FROM fundamentals WHERE security_id = $1 ORDER BY fiscal_year DESC LIMIT 1)`,
			[]any{p.Security.ID, dm.PackID}, &close, &pe, &margin)
		if p.Close == nil || !p.Close.Equal(close) {
			t.Errorf("%s close %v, SQL %s", p.Security.Symbol, p.Close, close)
		}
		if (pe == nil) != (p.PE == nil) || pe != nil && !relNear(*p.PE, *pe, 1e-9) || (margin == nil) != (p.NetMargin == nil) || margin != nil && !relNear(*p.NetMargin, *margin, 1e-9) {
			t.Errorf("%s P/E %v margin %v; SQL %v %v (notes %v)", p.Security.Symbol, p.PE, p.NetMargin, pe, margin, p.Notes)
		}
	}
	noSector, err := storage.UpsertSecurity(context.Background(), dm.DB.Pool(), storage.Security{Symbol: "NOSECT", Name: "No Sector", Type: "EQUITY", Currency: "USD", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	err = dm.h.Call("position.get_comparables", map[string]any{"security_id": noSector.ID}, &out)
	expectCode(t, "security without a sector", err, agents.CodeInsufficientData, "no sector")
}

// TestPositionRiskHandSorted builds a portfolio by hand: 10,000 USD
// deposited, 50 shares of a USD security bought at 100 on the first of 11
// business days, whose closes make the daily returns
//
//	+0.02, −0.05, +0.03, −0.01, +0.04, −0.03, +0.01, −0.02, +0.05, −0.04.
//
// Sorted: −0.05, −0.04, −0.03, −0.02, −0.01, 0.01, 0.02, 0.03, 0.04, 0.05.
// At 90 % the quantile sits at 9 × 0.1 = 0.9: −0.05 + 0.9 × 0.01 = −0.041,
// so VaR 0.041, and ES is the worst one, 0.05. At 80 %: 9 × 0.2 = 1.8,
// −0.04 + 0.8 × 0.01 = −0.032, ES (0.05 + 0.04)/2 = 0.045. With the rest in
// base cash, the portfolio's return is w·r (w the position's weight), so
// its VaR is w × 0.041, β = 1/w, the marginal VaR is 0.041, the component
// is the whole portfolio VaR and there is no diversification benefit.
func TestPositionRiskHandSorted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	var owner uuid.UUID
	sqlRow(t, db, `INSERT INTO users (email, password_hash, role) VALUES ('var@example.com', 'x', 'USER') RETURNING id`, nil, &owner)
	sec, err := storage.UpsertSecurity(ctx, db.Pool(), storage.Security{Symbol: "HAND", Name: "Hand", Type: "EQUITY", Currency: "USD", Sector: "Technology", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	pf, err := storage.CreatePortfolio(ctx, db.Pool(), storage.Portfolio{OwnerID: owner, Name: "Hand", BaseCurrency: "USD", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	cash, err := storage.CreatePortfolio(ctx, db.Pool(), storage.Portfolio{OwnerID: owner, Name: "Cash", BaseCurrency: "USD", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	returns := []string{"0.02", "-0.05", "0.03", "-0.01", "0.04", "-0.03", "0.01", "-0.02", "0.05", "-0.04"}
	day := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC) // a Monday
	var dates []time.Time
	for len(dates) < len(returns)+1 {
		if day.Weekday() != time.Saturday && day.Weekday() != time.Sunday {
			dates = append(dates, day)
		}
		day = day.AddDate(0, 0, 1)
	}
	closes := []decimal.Decimal{d("100")}
	for _, r := range returns {
		closes = append(closes, closes[len(closes)-1].Mul(decimal.NewFromInt(1).Add(d(r))))
	}
	apply := func(tx storage.Transaction) {
		t.Helper()
		if err := db.Tx(ctx, func(q pgx.Tx) error { _, err := storage.ApplyTransaction(ctx, q, tx); return err }); err != nil {
			t.Fatal(err)
		}
	}
	apply(storage.Transaction{PortfolioID: pf.ID, Type: storage.TxDeposit, TradeDate: dates[0], Amount: d("10000")})
	apply(storage.Transaction{PortfolioID: pf.ID, Type: storage.TxBuy, SecurityID: sec.ID, TradeDate: dates[0], Quantity: d("50"), Price: d("100")})
	apply(storage.Transaction{PortfolioID: cash.ID, Type: storage.TxDeposit, TradeDate: dates[0], Amount: d("1000")})
	for i, dt := range dates {
		if err := db.Tx(ctx, func(q pgx.Tx) error {
			_, err := storage.BuildPricingPack(ctx, q, dt, "close", []storage.Price{{SecurityID: sec.ID, Close: closes[i]}}, nil)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []uuid.UUID{pf.ID, cash.ID} {
		if _, err := storage.ComputeDailyValues(ctx, db, p, dates[0], dates[len(dates)-1], false); err != nil {
			t.Fatal(err)
		}
	}
	h := newHarness(t, db)
	last := dates[len(dates)-1]
	h.Run = agents.RunContext{PricingPackID: storage.PackID(last, 0), AsOfDate: last.Format(time.DateOnly)}
	mv := closes[10].Mul(d("50")).InexactFloat64()
	total := 5000 + mv
	w := mv / total
	for _, c := range []struct{ conf, v, es float64 }{{0.9, 0.041, 0.05}, {0.8, 0.032, 0.045}} {
		var out analyst.PositionRiskOutput
		if err := h.Call("position.compute_risk", map[string]any{"portfolio_id": pf.ID, "security_id": sec.ID, "lookback_days": 10, "confidence": c.conf}, &out); err != nil {
			t.Fatal(err)
		}
		checks := []struct {
			what      string
			got, want float64
		}{
			{"var", out.VaR, c.v}, {"es", out.ES, c.es}, {"var amount", out.VaRAmount, c.v * mv},
			{"weight", out.Weight, w}, {"portfolio var", out.PortfolioVaR, w * c.v}, {"portfolio es", out.PortfolioES, w * c.es},
			{"portfolio var amount", out.PortfolioVaRAmount, c.v * mv}, {"beta", out.BetaToPortfolio, 1 / w},
			{"marginal var", out.MarginalVaR, c.v}, {"marginal var beta", out.MarginalVaRBeta, c.v},
			{"component var", out.ComponentVaR, w * c.v}, {"component share", *out.ComponentShare, 1},
			{"stand-alone sum", out.StandaloneVaRSum, c.v * mv}, {"diversification", out.DiversificationBenefit, 0},
			{"position diversification", out.PositionDiversification, 0},
		}
		for _, ck := range checks {
			if math.Abs(ck.got-ck.want) > 1e-9*math.Max(1, math.Abs(ck.want)) {
				t.Errorf("confidence %g: %s = %.12g, want %.12g (hand computation)", c.conf, ck.what, ck.got, ck.want)
			}
		}
	}
	// The same closes give the price return Π(1+r) − 1 = 100·Π / 100 − 1.
	var ret analyst.PositionReturnOutput
	if err := h.Call("position.compute_return", map[string]any{"portfolio_id": pf.ID, "security_id": sec.ID, "lookback_days": 10}, &ret); err != nil {
		t.Fatal(err)
	}
	want := closes[10].InexactFloat64()/100 - 1
	if math.Abs(ret.PriceReturnLocal-want) > 1e-15 || ret.FXReturn != 0 || ret.TotalReturnBase != ret.PriceReturnLocal || ret.Income.Dividends != 0 {
		t.Errorf("return %+v; want price %.15f, no FX, no income", ret, want)
	}
	// Bad input on the hand data.
	var out analyst.PositionRiskOutput
	err = h.Call("position.compute_risk", map[string]any{"portfolio_id": pf.ID, "security_id": sec.ID, "lookback_days": 20}, &out)
	expectCode(t, "lookback longer than the history", err, agents.CodeInsufficientData, "found 11", "need at least 21")
	err = h.Call("position.compute_risk", map[string]any{"portfolio_id": cash.ID, "security_id": sec.ID, "lookback_days": 10}, &out)
	expectCode(t, "portfolio of only cash", err, agents.CodeNotFound, "not held")
	err = h.Call("position.compute_risk", map[string]any{"portfolio_id": pf.ID, "security_id": sec.ID, "lookback_days": 5}, &out)
	expectCode(t, "lookback below the minimum", err, agents.CodeInvalidInput)
	h.Run.PricingPackID = ""
	err = h.Call("position.compute_risk", map[string]any{"portfolio_id": pf.ID, "security_id": sec.ID, "lookback_days": 10}, &out)
	expectCode(t, "run without a pack", err, agents.CodeInvalidInput, "no pricing pack")
}
