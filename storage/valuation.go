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

// ValuedPosition is a position priced from a pack.
type ValuedPosition struct {
	Position
	Close decimal.Decimal
	// PriceCurrency is the currency of Close (normally the trading
	// currency).
	PriceCurrency string
	// FXRate converts PriceCurrency into the base currency (1 when equal).
	FXRate decimal.Decimal
	// LocalValue = Quantity x Close, in PriceCurrency.
	LocalValue decimal.Decimal
	// MarketValue = LocalValue x FXRate, in the base currency.
	MarketValue decimal.Decimal
	// UnrealizedPLLocal = LocalValue - CostBasis, in the lots' currency;
	// invalid when the close is quoted in another currency than the lots.
	UnrealizedPLLocal decimal.NullDecimal
	// Weight = MarketValue / Valuation.Total to 10 places (0 when the total
	// is 0); a decimal fraction.
	Weight decimal.Decimal
}

// CashHolding is the cash of one currency valued in the base currency.
type CashHolding struct {
	Currency  string
	Amount    decimal.Decimal
	FXRate    decimal.Decimal
	BaseValue decimal.Decimal
}

// Valuation is a portfolio valued with one pack: positions as of the pack
// date at its closes, converted at its rates, plus cash.
type Valuation struct {
	PortfolioID    uuid.UUID
	PackID         string
	AsOf           time.Time
	BaseCurrency   string
	Positions      []ValuedPosition
	Cash           []CashHolding
	PositionsValue decimal.Decimal
	CashValue      decimal.Decimal
	Total          decimal.Decimal
}

// ValuePortfolio values a portfolio's holdings at the end of the pack's date
// with the pack's closes and FX rates: value = quantity x close x
// rate(close currency -> base), plus cash per currency x rate. A missing
// close or rate is an error naming the security or pair (ErrMissingPrice,
// ErrMissingFX).
func ValuePortfolio(ctx context.Context, q Querier, portfolioID uuid.UUID, packID string) (Valuation, error) {
	p, err := GetPortfolio(ctx, q, portfolioID)
	if err != nil {
		return Valuation{}, err
	}
	pack, err := GetPack(ctx, q, packID)
	if err != nil {
		return Valuation{}, err
	}
	if pack.Status == PackWarming {
		return Valuation{}, fmt.Errorf("value portfolio %s with pack %s: %w", portfolioID, packID, ErrPackNotFinal)
	}
	positions, err := OpenPositions(ctx, q, portfolioID, pack.Date)
	if err != nil {
		return Valuation{}, err
	}
	ids := make([]uuid.UUID, len(positions))
	for i, pos := range positions {
		ids[i] = pos.SecurityID
	}
	prices, err := PricesInPack(ctx, q, packID, ids)
	if err != nil {
		return Valuation{}, fmt.Errorf("value portfolio %s: %w", portfolioID, err)
	}
	rates, err := loadPackRates(ctx, q, []string{packID})
	if err != nil {
		return Valuation{}, err
	}
	cash, err := CashBalances(ctx, q, portfolioID, pack.Date)
	if err != nil {
		return Valuation{}, err
	}
	v := Valuation{PortfolioID: portfolioID, PackID: packID, AsOf: pack.Date, BaseCurrency: p.BaseCurrency}
	for _, pos := range positions {
		pr := prices[pos.SecurityID]
		rate, err := rates[packID].rate(packID, pr.Currency, p.BaseCurrency)
		if err != nil {
			return Valuation{}, fmt.Errorf("value %s in portfolio %s: %w", pos.Symbol, portfolioID, err)
		}
		vp := ValuedPosition{Position: pos, Close: pr.Close, PriceCurrency: pr.Currency, FXRate: rate}
		vp.LocalValue = pos.Quantity.Mul(pr.Close)
		vp.MarketValue = vp.LocalValue.Mul(rate)
		if pr.Currency == pos.Currency {
			vp.UnrealizedPLLocal = decimal.NewNullDecimal(vp.LocalValue.Sub(pos.CostBasis))
		}
		v.PositionsValue = v.PositionsValue.Add(vp.MarketValue)
		v.Positions = append(v.Positions, vp)
	}
	for _, c := range cash {
		rate, err := rates[packID].rate(packID, c.Currency, p.BaseCurrency)
		if err != nil {
			return Valuation{}, fmt.Errorf("value %s cash in portfolio %s: %w", c.Currency, portfolioID, err)
		}
		h := CashHolding{Currency: c.Currency, Amount: c.Amount, FXRate: rate, BaseValue: c.Amount.Mul(rate)}
		v.CashValue = v.CashValue.Add(h.BaseValue)
		v.Cash = append(v.Cash, h)
	}
	v.Total = v.PositionsValue.Add(v.CashValue)
	if !v.Total.IsZero() {
		for i := range v.Positions {
			v.Positions[i].Weight = v.Positions[i].MarketValue.DivRound(v.Total, ledgerScale)
		}
	}
	return v, nil
}

// ErrPackNotFinal means a valuation was asked of a pack still warming.
var ErrPackNotFinal = errors.New("pricing pack is still warming")

// loadPackRates loads every rate of the given packs.
func loadPackRates(ctx context.Context, q Querier, packIDs []string) (map[string]packRates, error) {
	out := make(map[string]packRates, len(packIDs))
	for _, id := range packIDs {
		out[id] = packRates{}
	}
	rows, err := q.Query(ctx, `SELECT pack_id, from_ccy, to_ccy, rate FROM fx_rates WHERE pack_id = ANY($1)`, packIDs)
	if err != nil {
		return nil, fmt.Errorf("load fx rates of %d packs: %w", len(packIDs), err)
	}
	var id, from, to string
	var rate decimal.Decimal
	if _, err := pgx.ForEachRow(rows, []any{&id, &from, &to, &rate}, func() error {
		out[id][[2]string{from, to}] = rate
		return nil
	}); err != nil {
		return nil, fmt.Errorf("load fx rates of %d packs: %w", len(packIDs), err)
	}
	return out, nil
}

// DailyValue is one row of portfolio_daily_values.
type DailyValue struct {
	PortfolioID  uuid.UUID
	Date         time.Time
	PackID       string
	BaseCurrency string
	Total        decimal.Decimal
	Cash         decimal.Decimal
	Positions    decimal.Decimal
	// NetExternalFlow is the sum of external flows (base currency, signed,
	// positive in) dated after the previous valued day up to this one.
	NetExternalFlow decimal.Decimal
	// LedgerHash is the ledger hash over the transactions up to Date.
	LedgerHash string
}

// DailyValuesResult says what ComputeDailyValues did.
type DailyValuesResult struct {
	// Days is the number of valued days in the range (business days with a
	// fresh pack, on or after the first transaction).
	Days int
	// Written rows were missing or stale (another pack or ledger hash) or
	// forced; Skipped rows were current.
	Written int
	Skipped int
}

type daySnapshot struct {
	date   time.Time
	packID string
	qty    map[uuid.UUID]decimal.Decimal
	cash   map[string]decimal.Decimal
	flows  map[string]decimal.Decimal
	hash   string
}

// ComputeDailyValues writes portfolio_daily_values for every business day
// (Monday to Friday) from..to that has a fresh, current pack, from the
// first transaction on: positions (replayed from the transactions up to
// that day) at that day's closes and rates, cash per currency, and the net
// external flow since the previous valued day. It is incremental: a day
// whose row has the same pack and ledger hash is skipped unless force; a
// back-dated transaction or a restated pack therefore recomputes exactly the
// days it changes. Re-running changes nothing. It runs in a transaction of
// its own; a change to transactions or prices uses ComputeDailyValuesTx
// instead, so that the change and its daily values commit together.
func ComputeDailyValues(ctx context.Context, db *DB, portfolioID uuid.UUID, from, to time.Time, force bool) (DailyValuesResult, error) {
	var res DailyValuesResult
	err := db.Tx(ctx, func(tx pgx.Tx) error {
		var err error
		res, err = ComputeDailyValuesTx(ctx, tx, portfolioID, from, to, force)
		return err
	})
	return res, err
}

// ComputeDailyValuesTx is ComputeDailyValues in the caller's transaction:
// a trade or an import calls it before committing, so its daily values are
// never left stale by a failure between two commits; when it fails, the
// caller rolls the change back with it. It locks the portfolio's row (as
// ApplyTransaction does), so two changes to one portfolio revalue one after
// the other, each seeing the other's committed rows.
func ComputeDailyValuesTx(ctx context.Context, tx pgx.Tx, portfolioID uuid.UUID, from, to time.Time, force bool) (DailyValuesResult, error) {
	res, err := computeDailyValues(ctx, tx, portfolioID, civilDate(from), civilDate(to), force)
	if err != nil {
		return DailyValuesResult{}, fmt.Errorf("compute daily values of portfolio %s from %s to %s: %w",
			portfolioID, from.Format(time.DateOnly), to.Format(time.DateOnly), err)
	}
	return res, nil
}

func computeDailyValues(ctx context.Context, q Querier, portfolioID uuid.UUID, from, to time.Time, force bool) (DailyValuesResult, error) {
	var res DailyValuesResult
	p, err := lockPortfolio(ctx, q, portfolioID)
	if err != nil {
		return res, err
	}
	txs, err := loadTransactions(ctx, q, `t.portfolio_id = $1 AND t.trade_date <= $2`, portfolioID, to)
	if err != nil || len(txs) == 0 {
		return res, err
	}
	syms, err := symbolsOf(ctx, q, txs)
	if err != nil {
		return res, err
	}
	packs, err := ListFreshPacks(ctx, q, txs[0].TradeDate, to)
	if err != nil {
		return res, err
	}
	type flow struct {
		Date   time.Time
		Amount decimal.Decimal
		Ccy    string
	}
	rows, err := q.Query(ctx, `SELECT flow_date, amount, currency FROM portfolio_cash_flows
		WHERE portfolio_id = $1 AND flow_date <= $2 ORDER BY flow_date`, portfolioID, to)
	if err != nil {
		return res, fmt.Errorf("load cash flows: %w", err)
	}
	flows, err := pgx.CollectRows(rows, pgx.RowToStructByPos[flow])
	if err != nil {
		return res, fmt.Errorf("load cash flows: %w", err)
	}
	type stored struct{ pack, hash string }
	existing := map[time.Time]stored{}
	rows, err = q.Query(ctx, `SELECT value_date, pack_id, ledger_hash FROM portfolio_daily_values
		WHERE portfolio_id = $1 AND value_date BETWEEN $2 AND $3`, portfolioID, from, to)
	if err != nil {
		return res, fmt.Errorf("load stored daily values: %w", err)
	}
	var day time.Time
	var row stored
	if _, err := pgx.ForEachRow(rows, []any{&day, &row.pack, &row.hash}, func() error {
		existing[day] = row
		return nil
	}); err != nil {
		return res, fmt.Errorf("load stored daily values: %w", err)
	}

	b := newBook(p.CostBasisMethod)
	h := newLedgerHasher()
	cash := map[string]decimal.Decimal{}
	var todo []daySnapshot
	ti, fi := 0, 0
	for _, pk := range packs {
		d := pk.Date
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		for ; ti < len(txs) && !txs[ti].TradeDate.After(d); ti++ {
			t := &txs[ti]
			if _, err := b.apply(t, syms[t.SecurityID]); err != nil {
				return res, fmt.Errorf("replay transaction %s: %w", t.ID, err)
			}
			cash[t.CashCurrency] = cash[t.CashCurrency].Add(t.CashAmount)
			h.add(*t, syms[t.SecurityID])
		}
		dayFlows := map[string]decimal.Decimal{}
		for ; fi < len(flows) && !flows[fi].Date.After(d); fi++ {
			dayFlows[flows[fi].Ccy] = dayFlows[flows[fi].Ccy].Add(flows[fi].Amount)
		}
		if d.Before(from) {
			continue
		}
		res.Days++
		hash := h.hex()
		if s, ok := existing[d]; ok && !force && s.pack == pk.ID && s.hash == hash {
			res.Skipped++
			continue
		}
		snap := daySnapshot{date: d, packID: pk.ID, qty: map[uuid.UUID]decimal.Decimal{}, cash: map[string]decimal.Decimal{}, flows: dayFlows, hash: hash}
		for _, l := range b.order {
			if l.Quantity.IsPositive() {
				snap.qty[l.securityID] = snap.qty[l.securityID].Add(l.Quantity)
			}
		}
		for c, a := range cash {
			snap.cash[c] = a
		}
		todo = append(todo, snap)
	}
	if len(todo) == 0 {
		return res, nil
	}
	values, err := valueSnapshots(ctx, q, p, todo, syms)
	if err != nil {
		return res, err
	}
	if err := upsertDailyValues(ctx, q, values); err != nil {
		return res, err
	}
	res.Written = len(values)
	return res, nil
}

// valueSnapshots prices the holdings of each day with that day's pack.
func valueSnapshots(ctx context.Context, q Querier, p Portfolio, days []daySnapshot, syms map[uuid.UUID]string) ([]DailyValue, error) {
	packIDs := make([]string, len(days))
	secSet := map[uuid.UUID]bool{}
	var secIDs []uuid.UUID
	for i, d := range days {
		packIDs[i] = d.packID
		for s := range d.qty {
			if !secSet[s] {
				secSet[s] = true
				secIDs = append(secIDs, s)
			}
		}
	}
	type key struct {
		pack string
		sec  uuid.UUID
	}
	prices := map[key]Price{}
	if len(secIDs) > 0 {
		rows, err := q.Query(ctx, `SELECT pack_id, security_id, close, currency FROM prices
			WHERE pack_id = ANY($1) AND security_id = ANY($2)`, packIDs, secIDs)
		if err != nil {
			return nil, fmt.Errorf("load closes: %w", err)
		}
		var id string
		var pr Price
		if _, err := pgx.ForEachRow(rows, []any{&id, &pr.SecurityID, &pr.Close, &pr.Currency}, func() error {
			prices[key{id, pr.SecurityID}] = pr
			return nil
		}); err != nil {
			return nil, fmt.Errorf("load closes of %d packs: %w", len(packIDs), err)
		}
	}
	rates, err := loadPackRates(ctx, q, packIDs)
	if err != nil {
		return nil, err
	}
	out := make([]DailyValue, 0, len(days))
	for _, d := range days {
		dv := DailyValue{PortfolioID: p.ID, Date: d.date, PackID: d.packID, BaseCurrency: p.BaseCurrency, LedgerHash: d.hash}
		for sec, qty := range d.qty {
			pr, ok := prices[key{d.packID, sec}]
			if !ok {
				return nil, fmt.Errorf("value %s on %s: pack %s has no close for %s: %w",
					syms[sec], d.date.Format(time.DateOnly), d.packID, syms[sec], ErrMissingPrice)
			}
			r, err := rates[d.packID].rate(d.packID, pr.Currency, p.BaseCurrency)
			if err != nil {
				return nil, fmt.Errorf("value %s on %s: %w", syms[sec], d.date.Format(time.DateOnly), err)
			}
			dv.Positions = dv.Positions.Add(qty.Mul(pr.Close).Mul(r))
		}
		for c, a := range d.cash {
			r, err := rates[d.packID].rate(d.packID, c, p.BaseCurrency)
			if err != nil {
				return nil, fmt.Errorf("value %s cash on %s: %w", c, d.date.Format(time.DateOnly), err)
			}
			dv.Cash = dv.Cash.Add(a.Mul(r))
		}
		for c, a := range d.flows {
			r, err := rates[d.packID].rate(d.packID, c, p.BaseCurrency)
			if err != nil {
				return nil, fmt.Errorf("value %s flow on %s: %w", c, d.date.Format(time.DateOnly), err)
			}
			dv.NetExternalFlow = dv.NetExternalFlow.Add(a.Mul(r))
		}
		dv.Total = dv.Cash.Add(dv.Positions)
		out = append(out, dv)
	}
	return out, nil
}

func upsertDailyValues(ctx context.Context, q Querier, values []DailyValue) error {
	n := len(values)
	dates, packs, totals, cash, pos, flows, hashes := make([]time.Time, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, v := range values {
		dates[i], packs[i], totals[i], cash[i], pos[i], flows[i], hashes[i] = v.Date, v.PackID, v.Total.String(),
			v.Cash.String(), v.Positions.String(), v.NetExternalFlow.String(), v.LedgerHash
	}
	_, err := q.Exec(ctx, `INSERT INTO portfolio_daily_values (portfolio_id, value_date, pack_id, base_currency,
			total_value, cash_value, positions_value, net_external_flow, ledger_hash)
		SELECT $1, d, p, $2, t::numeric, c::numeric, v::numeric, f::numeric, h
		FROM unnest($3::date[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) AS u(d, p, t, c, v, f, h)
		ON CONFLICT (portfolio_id, value_date) DO UPDATE SET pack_id = EXCLUDED.pack_id,
			base_currency = EXCLUDED.base_currency, total_value = EXCLUDED.total_value, cash_value = EXCLUDED.cash_value,
			positions_value = EXCLUDED.positions_value, net_external_flow = EXCLUDED.net_external_flow,
			ledger_hash = EXCLUDED.ledger_hash, updated_at = now()`,
		values[0].PortfolioID, values[0].BaseCurrency, dates, packs, totals, cash, pos, flows, hashes)
	if err != nil {
		return fmt.Errorf("upsert %d daily values: %w", n, err)
	}
	return nil
}

// ListDailyValues returns the stored daily values of a portfolio dated
// from..to (zero bounds are open), oldest first.
func ListDailyValues(ctx context.Context, q Querier, portfolioID uuid.UUID, from, to time.Time) ([]DailyValue, error) {
	rows, err := q.Query(ctx, `SELECT portfolio_id, value_date, pack_id, base_currency, total_value, cash_value,
			positions_value, net_external_flow, ledger_hash
		FROM portfolio_daily_values
		WHERE portfolio_id = $1 AND ($2::date IS NULL OR value_date >= $2) AND ($3::date IS NULL OR value_date <= $3)
		ORDER BY value_date`, portfolioID, optDate(from), optDate(to))
	if err != nil {
		return nil, fmt.Errorf("list daily values of portfolio %s: %w", portfolioID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[DailyValue])
	if err != nil {
		return nil, fmt.Errorf("list daily values of portfolio %s: %w", portfolioID, err)
	}
	return out, nil
}
