package analyst

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// What the position deep dive (position.*) and the risk capabilities share:
// the run's pack, the held position, the window of pack dates and a
// security's split-adjusted daily returns in its own and the base
// currency.

// runPack returns the run's pricing pack; a run without one, or with a
// pack still warming, cannot value anything.
func runPack(ctx context.Context, c *agents.Call) (storage.Pack, error) {
	if c.Run.PricingPackID == "" {
		return storage.Pack{}, agents.FieldError("ctx.pricing_pack_id", "the run has no pricing pack")
	}
	p, err := storage.GetPack(ctx, c.DB, c.Run.PricingPackID)
	if err != nil {
		return storage.Pack{}, fmt.Errorf("pricing pack of the run: %w", err)
	}
	if p.Status == storage.PackWarming {
		return storage.Pack{}, fmt.Errorf("pricing pack %s of the run: %w", p.ID, storage.ErrPackNotFinal)
	}
	return p, nil
}

// held is one open position of a portfolio with its portfolio and security.
type held struct {
	Portfolio storage.Portfolio
	Security  storage.Security
	Position  storage.Position
}

// heldPosition loads the position of a security in a portfolio at the end
// of date. An unknown portfolio or security is not_found naming it; a
// security that exists but is not held is not_found saying so.
func heldPosition(ctx context.Context, q storage.Querier, portfolioID, securityID uuid.UUID, date time.Time) (held, error) {
	p, err := storage.GetPortfolio(ctx, q, portfolioID)
	if err != nil {
		return held{}, err
	}
	s, err := storage.GetSecurity(ctx, q, securityID)
	if err != nil {
		return held{}, fmt.Errorf("unknown security: %w", err)
	}
	ps, err := storage.OpenPositions(ctx, q, portfolioID, date)
	if err != nil {
		return held{}, err
	}
	for _, pos := range ps {
		if pos.SecurityID == securityID {
			return held{Portfolio: p, Security: s, Position: pos}, nil
		}
	}
	return held{}, agents.Errorf(agents.CodeNotFound, "position not held: portfolio %q (%s) holds no %s (%s) at the end of %s; the security exists",
		p.Name, p.ID, s.Symbol, s.ID, date.Format(time.DateOnly))
}

// windowDates returns the dates of the last n+1 fresh packs up to end,
// oldest first: n daily returns. Fewer is insufficient_data.
func windowDates(ctx context.Context, q storage.Querier, end time.Time, n int) ([]time.Time, error) {
	// Packs are business days: 2n + 31 calendar days hold n+1 of them with
	// room for holidays and gaps.
	packs, err := storage.ListFreshPacks(ctx, q, end.AddDate(0, 0, -(2*n+31)), end)
	if err != nil {
		return nil, err
	}
	if len(packs) < n+1 {
		return nil, agents.InsufficientData(fmt.Sprintf("fresh pricing packs up to %s for a %d-day lookback", end.Format(time.DateOnly), n), len(packs), n+1)
	}
	out := make([]time.Time, n+1)
	for i, p := range packs[len(packs)-n-1:] {
		out[i] = p.Date
	}
	return out, nil
}

// unitSeries is one unit of a security held over a window of dates: its
// closes, the rates of its price currency into the base currency and the
// splits between the dates, with the daily returns they give. Index i of
// the returns is the return of Dates[i+1].
type unitSeries struct {
	Security      storage.Security
	PriceCurrency string
	Dates         []time.Time
	Closes        []decimal.Decimal
	Rates         []decimal.Decimal
	// Split[i] is the product of the split ratios effective after
	// Dates[i-1] up to Dates[i] (1 without a split; Split[0] is 1).
	Split []decimal.Decimal
	// Local, FX and Base are the daily returns: the split-adjusted close
	// return P_t·s_t/P_t−1 − 1, the rate return X_t/X_t−1 − 1 and
	// (1+local)(1+fx) − 1.
	Local, FX, Base []float64
}

// SplitFactor is the product of the splits after Dates[0] up to Dates[i]:
// the shares one share held at the start has become.
func (u unitSeries) SplitFactor(i int) decimal.Decimal {
	f := decimal.NewFromInt(1)
	for _, s := range u.Split[1 : i+1] {
		f = f.Mul(s)
	}
	return f
}

// loadUnitSeries builds the unit series of each security over dates (its
// closes on every date, the rates on every date): splits come from
// storage.Splits (corporate actions, else the portfolio's SPLIT
// transactions). A security without closes before some date of the window
// is insufficient_data; a gap inside its history is missing_price; a
// missing rate is missing_fx; both name the security or pair and the date.
func loadUnitSeries(ctx context.Context, q storage.Querier, portfolioID uuid.UUID, secs []storage.Security, base string, dates []time.Time) (map[uuid.UUID]unitSeries, error) {
	ids := make([]uuid.UUID, len(secs))
	for i, s := range secs {
		ids[i] = s.ID
	}
	first, last := dates[0], dates[len(dates)-1]
	hist, err := storage.PriceHistory(ctx, q, ids, first, last)
	if err != nil {
		return nil, err
	}
	splits, err := storage.Splits(ctx, q, portfolioID, ids, first, last)
	if err != nil {
		return nil, err
	}
	rates := map[string]map[time.Time]decimal.Decimal{}
	out := make(map[uuid.UUID]unitSeries, len(secs))
	for _, s := range secs {
		byDate := map[time.Time]storage.DatedPrice{}
		for _, p := range hist[s.ID] {
			byDate[p.Date] = p
		}
		u := unitSeries{Security: s, Dates: dates, Closes: make([]decimal.Decimal, len(dates)), Rates: make([]decimal.Decimal, len(dates)),
			Split: make([]decimal.Decimal, len(dates))}
		for i, d := range dates {
			p, ok := byDate[d]
			if !ok {
				if len(hist[s.ID]) > 0 && d.Before(hist[s.ID][0].Date) || len(hist[s.ID]) == 0 {
					return nil, agents.InsufficientData(fmt.Sprintf("closes of %s from %s to %s", s.Symbol, first.Format(time.DateOnly), last.Format(time.DateOnly)),
						len(hist[s.ID]), len(dates))
				}
				return nil, fmt.Errorf("no close of %s (%s) on %s: %w", s.Symbol, s.ID, d.Format(time.DateOnly), storage.ErrMissingPrice)
			}
			if i == 0 {
				u.PriceCurrency = p.Currency
			} else if p.Currency != u.PriceCurrency {
				return nil, agents.Errorf(agents.CodeInsufficientData, "closes of %s change currency from %s to %s on %s, so they have no return across it",
					s.Symbol, u.PriceCurrency, p.Currency, d.Format(time.DateOnly))
			}
			u.Closes[i] = p.Close
		}
		if u.Closes[0].Sign() <= 0 {
			return nil, agents.Errorf(agents.CodeInsufficientData, "close of %s on %s is %s, so it has no return", s.Symbol, first.Format(time.DateOnly), u.Closes[0])
		}
		r, ok := rates[u.PriceCurrency]
		if !ok {
			h, err := storage.FXHistory(ctx, q, u.PriceCurrency, base, first, last)
			if err != nil {
				return nil, err
			}
			r = map[time.Time]decimal.Decimal{}
			for _, x := range h {
				r[x.Date] = x.Rate
			}
			rates[u.PriceCurrency] = r
		}
		for i, d := range dates {
			x, ok := r[d]
			if !ok {
				return nil, fmt.Errorf("no rate %s/%s on %s (for %s): %w", u.PriceCurrency, base, d.Format(time.DateOnly), s.Symbol, storage.ErrMissingFX)
			}
			u.Rates[i] = x
		}
		sp := splits[s.ID]
		k := 0
		for i, d := range dates {
			u.Split[i] = decimal.NewFromInt(1)
			for k < len(sp) && !sp[k].Date.After(d) {
				if i > 0 {
					u.Split[i] = u.Split[i].Mul(sp[k].Ratio)
				}
				k++
			}
		}
		n := len(dates) - 1
		u.Local, u.FX, u.Base = make([]float64, n), make([]float64, n), make([]float64, n)
		for i := 1; i <= n; i++ {
			prev := u.Closes[i-1].InexactFloat64()
			if prev <= 0 {
				return nil, agents.Errorf(agents.CodeInsufficientData, "close of %s on %s is %s, so it has no return", s.Symbol, dates[i-1].Format(time.DateOnly), u.Closes[i-1])
			}
			l := u.Closes[i].Mul(u.Split[i]).InexactFloat64()/prev - 1
			f := u.Rates[i].InexactFloat64()/u.Rates[i-1].InexactFloat64() - 1
			u.Local[i-1], u.FX[i-1], u.Base[i-1] = l, f, (1+l)*(1+f)-1
		}
		out[s.ID] = u
	}
	return out, nil
}

// quantityHeld replays a security's transactions in a portfolio (ledger
// order) and returns the quantity held at the end of each date: buys and
// in-kind transfers in add, sales and in-kind transfers out subtract, a
// split multiplies.
func quantityHeld(txs []storage.Transaction, dates []time.Time) []decimal.Decimal {
	out := make([]decimal.Decimal, len(dates))
	q := decimal.Zero
	k := 0
	for i, d := range dates {
		for k < len(txs) && !txs[k].TradeDate.After(d) {
			t := txs[k]
			switch t.Type {
			case storage.TxBuy, storage.TxTransferIn:
				q = q.Add(t.Quantity)
			case storage.TxSell, storage.TxTransferOut:
				q = q.Sub(t.Quantity)
			case storage.TxSplit:
				q = q.Mul(t.SplitRatio)
			}
			k++
		}
		out[i] = q
	}
	return out
}

// securityTxs lists the transactions of one security in a portfolio up to
// to (zero: all), in ledger order.
func securityTxs(ctx context.Context, q storage.Querier, portfolioID, securityID uuid.UUID, to time.Time) ([]storage.Transaction, error) {
	txs, err := storage.ListTransactions(ctx, q, portfolioID, storage.TransactionFilter{SecurityID: securityID, To: to})
	if err != nil {
		return nil, fmt.Errorf("transactions of security %s: %w", securityID, err)
	}
	return txs, nil
}

// dateRange parses optional from_date and to_date arguments (YYYY-MM-DD);
// an absent one is the zero time.
func dateRange(fromDate, toDate string) (time.Time, time.Time, error) {
	var from, to time.Time
	var err error
	if fromDate != "" {
		if from, err = time.Parse(time.DateOnly, fromDate); err != nil {
			return from, to, agents.FieldError("from_date", "from_date %q is not YYYY-MM-DD", fromDate)
		}
	}
	if toDate != "" {
		if to, err = time.Parse(time.DateOnly, toDate); err != nil {
			return from, to, agents.FieldError("to_date", "to_date %q is not YYYY-MM-DD", toDate)
		}
	}
	return from, to, nil
}
