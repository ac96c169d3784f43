package storage

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Queries of the tax capabilities: recorded sales with the lots they
// relieved, and exchange rates on the dates of sales and payments.

// TaxSale is one recorded SELL with the lot reliefs the ledger stored for
// it.
type TaxSale struct {
	TransactionID uuid.UUID
	Seq           int64
	SecurityID    uuid.UUID
	Symbol        string
	Date          time.Time
	Quantity      decimal.Decimal
	Price         decimal.Decimal
	// Amount is the gross trade value; Fees the commission, both in
	// Currency.
	Amount   decimal.Decimal
	Fees     decimal.Decimal
	Currency string
	// LotID is the lot the sale named (uuid.Nil when none).
	LotID uuid.UUID
	// RealizedPL is the sale's realised P&L as recorded, in Currency.
	RealizedPL decimal.Decimal
	// Reliefs by acquisition (acquired date, then the order the lots were
	// opened in).
	Reliefs []TaxRelief
}

// TaxRelief is one lot_reliefs row of a sale.
type TaxRelief struct {
	LotID    uuid.UUID
	Acquired time.Time
	// LotSeq is the seq of the transaction that opened the lot.
	LotSeq   int64
	Quantity decimal.Decimal
	Cost     decimal.Decimal
	// Proceeds (net of fees) and RealizedPL are this lot's share, in the
	// lot's currency.
	Proceeds   decimal.Decimal
	RealizedPL decimal.Decimal
}

// ListSales returns the portfolio's SELL transactions dated from..to
// (inclusive) in ledger order, each with its recorded lot reliefs.
func ListSales(ctx context.Context, q Querier, portfolioID uuid.UUID, from, to time.Time) ([]TaxSale, error) {
	rows, err := q.Query(ctx, `SELECT t.id, t.seq, t.security_id, s.symbol, t.trade_date, t.quantity, t.price, t.amount,
			t.fees, t.currency, t.lot_id, t.realized_pl, r.lot_id, l.acquired_date, lt.seq, r.quantity, r.cost_relieved,
			r.proceeds, r.realized_pl
		FROM transactions t
		JOIN securities s ON s.id = t.security_id
		JOIN lot_reliefs r ON r.transaction_id = t.id
		JOIN lots l ON l.id = r.lot_id
		JOIN transactions lt ON lt.id = l.id
		WHERE t.portfolio_id = $1 AND t.type = 'SELL' AND t.trade_date BETWEEN $2 AND $3
		ORDER BY t.trade_date, t.seq, l.acquired_date, lt.seq`, portfolioID, civilDate(from), civilDate(to))
	if err != nil {
		return nil, fmt.Errorf("list sales of portfolio %s: %w", portfolioID, err)
	}
	var out []TaxSale
	var (
		id, sec         uuid.UUID
		seq, lotSeq     int64
		sym, ccy        string
		date, acquired  time.Time
		qty, fees       decimal.Decimal
		named           uuid.NullUUID
		pl              decimal.NullDecimal
		lotID           uuid.UUID
		rq, cost        decimal.Decimal
		proceeds, rpl   decimal.NullDecimal
		price, trAmount decimal.NullDecimal
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &seq, &sec, &sym, &date, &qty, &price, &trAmount, &fees, &ccy, &named, &pl,
		&lotID, &acquired, &lotSeq, &rq, &cost, &proceeds, &rpl}, func() error {
		if len(out) == 0 || out[len(out)-1].TransactionID != id {
			out = append(out, TaxSale{TransactionID: id, Seq: seq, SecurityID: sec, Symbol: sym, Date: date, Quantity: qty,
				Price: price.Decimal, Amount: trAmount.Decimal, Fees: fees, Currency: ccy, LotID: named.UUID, RealizedPL: pl.Decimal})
		}
		if !proceeds.Valid || !rpl.Valid {
			return fmt.Errorf("sale %s: relief of lot %s has no proceeds", id, lotID)
		}
		s := &out[len(out)-1]
		s.Reliefs = append(s.Reliefs, TaxRelief{LotID: lotID, Acquired: acquired, LotSeq: lotSeq, Quantity: rq, Cost: cost,
			Proceeds: proceeds.Decimal, RealizedPL: rpl.Decimal})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list sales of portfolio %s: %w", portfolioID, err)
	}
	return out, nil
}

// DatedCurrency asks for the rate of one currency on one date.
type DatedCurrency struct {
	Date     time.Time
	Currency string
}

// RateOnDate is the rate of a currency into the target currency on a date:
// that of the newest fresh, current pack dated on or before it.
type RateOnDate struct {
	Rate decimal.Decimal
	// PackID is the pack the rate came from; "" when the currencies agree
	// (exactly 1, no pack needed).
	PackID string
}

// FXRatesOnDates returns, for every (date, currency) asked, the rate of
// one unit of the currency in to from the newest fresh pack dated on or
// before the date, as FXRate reads it (a pair stored the other way round
// inverted to 16 places). A date before every fresh pack is an error
// wrapping ErrNoFreshPack, a pack without the pair one wrapping
// ErrMissingFX; each names the date and the pair.
func FXRatesOnDates(ctx context.Context, q Querier, to string, want []DatedCurrency) (map[DatedCurrency]RateOnDate, error) {
	out := make(map[DatedCurrency]RateOnDate, len(want))
	var dates []time.Time
	var ccys []string
	seen := map[DatedCurrency]bool{}
	for _, w := range want {
		k := DatedCurrency{Date: civilDate(w.Date), Currency: w.Currency}
		if k.Currency == to {
			out[k] = RateOnDate{Rate: decimal.NewFromInt(1)}
			continue
		}
		if !seen[k] {
			seen[k] = true
			dates, ccys = append(dates, k.Date), append(ccys, k.Currency)
		}
	}
	if len(dates) == 0 {
		return out, nil
	}
	rows, err := q.Query(ctx, `SELECT k.d, k.ccy, p.id, fx.rate, fx.inverse
		FROM unnest($1::date[], $2::text[]) AS k(d, ccy)
		LEFT JOIN LATERAL (SELECT id FROM pricing_packs WHERE status = 'fresh' AND superseded_by IS NULL AND pack_date <= k.d
			ORDER BY pack_date DESC LIMIT 1) p ON true
		LEFT JOIN LATERAL (SELECT rate, from_ccy <> k.ccy AS inverse FROM fx_rates WHERE pack_id = p.id
			AND ((from_ccy = k.ccy AND to_ccy = $3) OR (from_ccy = $3 AND to_ccy = k.ccy))
			ORDER BY from_ccy = k.ccy DESC LIMIT 1) fx ON true`, dates, ccys, to)
	if err != nil {
		return nil, fmt.Errorf("rates into %s on %d dates: %w", to, len(dates), err)
	}
	var errs []error
	var d time.Time
	var ccy string
	var packID *string
	var rate decimal.NullDecimal
	var inverse *bool
	_, err = pgx.ForEachRow(rows, []any{&d, &ccy, &packID, &rate, &inverse}, func() error {
		k := DatedCurrency{Date: d, Currency: ccy}
		switch {
		case packID == nil:
			errs = append(errs, fmt.Errorf("rate %s/%s on %s: pricing pack on or before %s: %w", ccy, to, d.Format(time.DateOnly),
				d.Format(time.DateOnly), ErrNoFreshPack))
		case !rate.Valid:
			errs = append(errs, fmt.Errorf("rate %s/%s on %s: pack %s has no rate %s/%s: %w", ccy, to, d.Format(time.DateOnly),
				*packID, ccy, to, ErrMissingFX))
		case *inverse:
			out[k] = RateOnDate{Rate: decimal.NewFromInt(1).DivRound(rate.Decimal, 16), PackID: *packID}
		default:
			out[k] = RateOnDate{Rate: rate.Decimal, PackID: *packID}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rates into %s on %d dates: %w", to, len(dates), err)
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
		return nil, errors.Join(errs...)
	}
	return out, nil
}
