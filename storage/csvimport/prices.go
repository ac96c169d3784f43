package csvimport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/storage"
)

// PriceColumns are the columns of a price file.
var PriceColumns = []string{"date", "symbol", "close", "currency", "open", "high", "low", "volume"}

var priceRequiredColumns = []string{"date", "symbol", "close"}

// PackPolicy is the policy label of the pack revisions an import creates.
const PackPolicy = "import"

// pairRE is what makes a symbol an FX pair: two three-letter codes and a
// slash.
var pairRE = regexp.MustCompile(`^([A-Za-z]{3})/([A-Za-z]{3})$`)

type priceRow struct {
	line   int
	date   time.Time
	symbol string
	fx     bool
	quote  storage.FXQuote
	price  storage.Price
	ok     bool
}

type pair [2]string

// ImportPrices imports a price file (layout in the package doc): it merges
// the rows of each date into that date's current pricing pack as a new
// revision and finalises it. Bad rows come back as an *ImportError (also in
// Result.Errors) and nothing is written.
func ImportPrices(ctx context.Context, db *storage.DB, r io.Reader, opts Options) (Result, error) {
	res := Result{DryRun: opts.DryRun}
	data, err := io.ReadAll(r)
	if err != nil {
		return res, fmt.Errorf("read price file: %w", err)
	}
	recs, n, errs := readTable(data, PriceColumns, priceRequiredColumns)
	res.Rows = n
	if recs == nil && len(errs) > 0 {
		return reject(res, errs)
	}
	today := opts.today()
	rows := make([]priceRow, 0, len(recs))
	firstLine := map[string]int{}
	for _, rec := range recs {
		row, rerrs := parsePriceRecord(rec, today)
		if row.ok {
			k := row.date.Format(time.DateOnly) + "|" + row.symbol
			if prev, dup := firstLine[k]; dup {
				rerrs = append(rerrs, RowError{Line: rec.line, Field: "symbol", Code: CodeDuplicateRow,
					Message: fmt.Sprintf("%s on %s is already given on line %d", row.symbol, row.date.Format(time.DateOnly), prev)})
				row.ok = false
			} else {
				firstLine[k] = rec.line
			}
		}
		errs = append(errs, rerrs...)
		rows = append(rows, row)
	}
	var rejected *ImportError
	var packs []PackResult
	err = db.Tx(ctx, func(tx pgx.Tx) error {
		rerrs, err := resolvePriceRows(ctx, tx, rows)
		if err != nil {
			return err
		}
		errs = append(errs, rerrs...)
		if len(errs) > 0 {
			rejected = &ImportError{Rows: sortErrors(errs)}
			return rejected
		}
		// Restated packs change the daily values of every portfolio that
		// held something on those dates; they are recomputed below, in this
		// transaction, under locks taken before any pack is written (see
		// storage.LockPortfolios).
		portfolios, err := storage.LockPortfolios(ctx, tx)
		if err != nil {
			return fmt.Errorf("import prices: %w", err)
		}
		byDate := map[time.Time][]priceRow{}
		var dates []time.Time
		for _, row := range rows {
			if _, ok := byDate[row.date]; !ok {
				dates = append(dates, row.date)
			}
			byDate[row.date] = append(byDate[row.date], row)
		}
		slices.SortFunc(dates, time.Time.Compare)
		for _, d := range dates {
			pr, applied, dups, err := importPackDate(ctx, tx, d, byDate[d])
			if err != nil {
				return err
			}
			res.Applied += applied
			res.Duplicates += dups
			packs = append(packs, pr)
		}
		if res.Applied > 0 {
			for _, id := range portfolios {
				dv, err := storage.ComputeDailyValuesTx(ctx, tx, id, dates[0], dates[len(dates)-1], false)
				if err != nil {
					return fmt.Errorf("import prices: %w", err)
				}
				res.DailyValuesWritten += dv.Written
			}
		}
		if opts.DryRun {
			return errDryRun
		}
		return storage.Audit(ctx, tx, "")
	})
	switch {
	case rejected != nil && errors.Is(err, rejected):
		return reject(res, rejected.Rows)
	case errors.Is(err, errDryRun):
	case err != nil:
		return Result{DryRun: opts.DryRun, Rows: n}, err
	}
	res.Packs = packs
	return res, nil
}

// importPackDate merges one date's rows into the date's current pack (as a
// new revision) and finalises it.
func importPackDate(ctx context.Context, tx pgx.Tx, date time.Time, rows []priceRow) (PackResult, int, int, error) {
	day := date.Format(time.DateOnly)
	var curID string
	err := tx.QueryRow(ctx, `SELECT id FROM pricing_packs
		WHERE pack_date = $1 AND superseded_by IS NULL AND status <> 'warming'`, date).Scan(&curID)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return PackResult{}, 0, 0, fmt.Errorf("find current pack of %s: %w", day, err)
	}
	prices := map[uuid.UUID]storage.Price{}
	rates := map[pair]decimal.Decimal{}
	if curID != "" {
		if prices, rates, err = loadPackContent(ctx, tx, curID); err != nil {
			return PackResult{}, 0, 0, err
		}
	}
	applied, dups := 0, 0
	for _, r := range rows {
		if r.fx {
			k := pair{r.quote.From, r.quote.To}
			if old, ok := rates[k]; ok && old.Equal(r.quote.Rate) {
				dups++
				continue
			}
			rates[k] = r.quote.Rate
		} else {
			if old, ok := prices[r.price.SecurityID]; ok && samePrice(old, r.price) {
				dups++
				continue
			}
			prices[r.price.SecurityID] = r.price
		}
		applied++
	}
	if curID != "" && applied == 0 {
		cur, err := storage.GetPack(ctx, tx, curID)
		if err != nil {
			return PackResult{}, 0, 0, err
		}
		return packResult(cur, true), 0, dups, nil
	}
	pk, err := storage.BeginPack(ctx, tx, date, PackPolicy)
	if err != nil {
		return PackResult{}, 0, 0, err
	}
	pl := make([]storage.Price, 0, len(prices))
	for _, p := range prices {
		pl = append(pl, p)
	}
	ql := make([]storage.FXQuote, 0, len(rates))
	for k, v := range rates {
		ql = append(ql, storage.FXQuote{From: k[0], To: k[1], Rate: v})
	}
	if err := storage.UpsertPrices(ctx, tx, pk.ID, pl); err != nil {
		return PackResult{}, 0, 0, err
	}
	if err := storage.UpsertFXRates(ctx, tx, pk.ID, ql); err != nil {
		return PackResult{}, 0, 0, err
	}
	fin, err := storage.FinalizePack(ctx, tx, pk.ID)
	if err != nil {
		return PackResult{}, 0, 0, err
	}
	// FinalizePack drops a restatement whose content equals the current
	// pack's and returns that pack.
	return packResult(fin, fin.ID != pk.ID), applied, dups, nil
}

func packResult(p storage.Pack, unchanged bool) PackResult {
	return PackResult{Date: p.Date.Format(time.DateOnly), PackID: p.ID, Status: p.Status, Unchanged: unchanged,
		MissingPrices: p.MissingPrices, MissingFX: p.MissingFX}
}

func samePrice(a, b storage.Price) bool {
	eq := func(x, y decimal.NullDecimal) bool {
		return x.Valid == y.Valid && (!x.Valid || x.Decimal.Equal(y.Decimal))
	}
	return a.Close.Equal(b.Close) && eq(a.Open, b.Open) && eq(a.High, b.High) && eq(a.Low, b.Low) &&
		eq(a.Volume, b.Volume) && a.Currency == b.Currency
}

// loadPackContent reads every close and rate of a pack, the base a new
// revision starts from.
func loadPackContent(ctx context.Context, q storage.Querier, packID string) (map[uuid.UUID]storage.Price, map[pair]decimal.Decimal, error) {
	rows, err := q.Query(ctx, `SELECT security_id, close, open, high, low, volume, currency FROM prices WHERE pack_id = $1`, packID)
	if err != nil {
		return nil, nil, fmt.Errorf("load prices of pack %s: %w", packID, err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[storage.Price])
	if err != nil {
		return nil, nil, fmt.Errorf("load prices of pack %s: %w", packID, err)
	}
	prices := make(map[uuid.UUID]storage.Price, len(list))
	for _, p := range list {
		prices[p.SecurityID] = p
	}
	rows, err = q.Query(ctx, `SELECT from_ccy, to_ccy, rate FROM fx_rates WHERE pack_id = $1`, packID)
	if err != nil {
		return nil, nil, fmt.Errorf("load fx rates of pack %s: %w", packID, err)
	}
	quotes, err := pgx.CollectRows(rows, pgx.RowToStructByPos[storage.FXQuote])
	if err != nil {
		return nil, nil, fmt.Errorf("load fx rates of pack %s: %w", packID, err)
	}
	rates := make(map[pair]decimal.Decimal, len(quotes))
	for _, x := range quotes {
		rates[pair{x.From, x.To}] = x.Rate
	}
	return prices, rates, nil
}

// parsePriceRecord checks one row on its own (no database).
func parsePriceRecord(rec record, today time.Time) (priceRow, []RowError) {
	re := &rowErrs{line: rec.line}
	row := priceRow{line: rec.line, symbol: strings.ToUpper(rec.get("symbol"))}
	re.required(rec, "date", "symbol", "close")
	if d, ok := re.date(rec, "date", today); ok {
		row.date = d
	}
	if m := pairRE.FindStringSubmatch(row.symbol); m != nil {
		row.fx = true
		from, okF := ValidCurrency(m[1])
		to, okT := ValidCurrency(m[2])
		switch {
		case !okF || !okT:
			re.add("symbol", CodeBadCurrency, "%q is not a pair of ISO 4217 currency codes", rec.get("symbol"))
		case from == to:
			re.add("symbol", CodeBadCurrency, "%q pairs a currency with itself", rec.get("symbol"))
		}
		row.quote.From, row.quote.To = from, to
		if r, ok := re.number(rec, "close", positive); ok {
			row.quote.Rate = r
		}
		if c, ok := re.currencyCode(rec, "currency"); ok && okT && c != to {
			re.add("currency", CodeCurrencyMismatch, "an FX rate %s is quoted in %s, not %s", row.symbol, to, c)
		}
		re.forbidden(rec, "on an FX rate", "open", "high", "low", "volume")
	} else {
		if c, ok := re.number(rec, "close", nonNegative); ok {
			row.price.Close = c
		}
		if c, ok := re.currencyCode(rec, "currency"); ok {
			row.price.Currency = c
		}
		opt := func(col string) decimal.NullDecimal {
			if v, ok := re.number(rec, col, nonNegative); ok {
				return decimal.NewNullDecimal(v)
			}
			return decimal.NullDecimal{}
		}
		row.price.Open, row.price.High, row.price.Low, row.price.Volume = opt("open"), opt("high"), opt("low"), opt("volume")
		if row.price.High.Valid && row.price.Low.Valid && row.price.High.Decimal.LessThan(row.price.Low.Decimal) {
			re.add("high", CodeHighBelowLow, "high %s is below low %s", row.price.High.Decimal, row.price.Low.Decimal)
		}
	}
	row.ok = len(re.errs) == 0
	return row, re.errs
}

// resolvePriceRows looks up the securities of the price rows and fills the
// default currency.
func resolvePriceRows(ctx context.Context, q storage.Querier, rows []priceRow) ([]RowError, error) {
	var symbols []string
	for _, r := range rows {
		if !r.fx {
			symbols = append(symbols, r.symbol)
		}
	}
	secs, err := securitiesBySymbol(ctx, q, symbols)
	if err != nil {
		return nil, err
	}
	var errs []RowError
	for i := range rows {
		r := &rows[i]
		if r.fx || r.symbol == "" {
			continue
		}
		s, ok := secs[r.symbol]
		if !ok {
			errs = append(errs, RowError{Line: r.line, Field: "symbol", Code: CodeUnknownSecurity,
				Message: fmt.Sprintf("no security has the symbol %q", r.symbol)})
			continue
		}
		r.price.SecurityID = s.ID
		if r.price.Currency == "" {
			r.price.Currency = s.Currency
		}
	}
	return errs, nil
}
