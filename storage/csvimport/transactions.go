package csvimport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/storage"
)

// TransactionColumns are the columns of a transaction file, in the order
// the docs list them.
var TransactionColumns = []string{"trade_date", "type", "symbol", "quantity", "price", "amount", "currency",
	"fees", "settle_date", "lot_id", "split_ratio", "notes"}

var txRequiredColumns = []string{"trade_date", "type"}

var txTypes = []string{storage.TxBuy, storage.TxSell, storage.TxDividend, storage.TxSplit, storage.TxDeposit,
	storage.TxWithdrawal, storage.TxTransferIn, storage.TxTransferOut, storage.TxFee, storage.TxInterest}

// errDryRun rolls back a dry run's transaction.
var errDryRun = errors.New("dry run: roll back")

// txRow is one parsed transaction row.
type txRow struct {
	line   int
	symbol string
	// ok is false when the row had a parse problem; it is still checked
	// for an unknown symbol so that every problem is reported at once.
	ok bool
	t  storage.Transaction
}

// ImportTransactions imports a transaction file (layout in the package doc)
// into a portfolio. Bad rows come back as an *ImportError (also in
// Result.Errors) and nothing is written; a missing portfolio is an error
// wrapping storage.ErrNotFound.
func ImportTransactions(ctx context.Context, db *storage.DB, portfolioID uuid.UUID, r io.Reader, opts Options) (Result, error) {
	res := Result{DryRun: opts.DryRun}
	data, err := io.ReadAll(r)
	if err != nil {
		return res, fmt.Errorf("read transaction file: %w", err)
	}
	recs, n, errs := readTable(data, TransactionColumns, txRequiredColumns)
	res.Rows = n
	if recs == nil && len(errs) > 0 {
		return reject(res, errs)
	}
	today := opts.today()
	rows := make([]txRow, 0, len(recs))
	for _, rec := range recs {
		row, rerrs := parseTxRecord(rec, today)
		errs = append(errs, rerrs...)
		rows = append(rows, row)
	}
	var rejected *ImportError
	err = db.Tx(ctx, func(tx pgx.Tx) error {
		p, err := storage.GetPortfolio(ctx, tx, portfolioID)
		if err != nil {
			return fmt.Errorf("import transactions: %w", err)
		}
		rerrs, err := resolveTxRows(ctx, tx, p, rows)
		if err != nil {
			return err
		}
		errs = append(errs, rerrs...)
		if len(errs) > 0 {
			rejected = &ImportError{Rows: sortErrors(errs)}
			return rejected
		}
		// Apply in ledger order so that no row triggers a replay of the
		// rows before it; within a date the file's order is kept.
		order := slices.Clone(rows)
		slices.SortStableFunc(order, func(a, b txRow) int { return a.t.TradeDate.Compare(b.t.TradeDate) })
		for _, row := range order {
			a, err := storage.ApplyTransaction(ctx, tx, row.t)
			if err != nil {
				if re, ok := LedgerRowError(row.line, row.symbol, err); ok {
					rejected = &ImportError{Rows: []RowError{re}}
					return rejected
				}
				return fmt.Errorf("import line %d: %w", row.line, err)
			}
			if a.Duplicate {
				res.Duplicates++
			} else {
				res.Applied++
			}
		}
		if res.Applied > 0 {
			// The daily values change from the earliest imported date on
			// (the sort put it first); they commit with the rows.
			dv, err := storage.ComputeDailyValuesTx(ctx, tx, portfolioID, order[0].t.TradeDate, today, false)
			if err != nil {
				return fmt.Errorf("import transactions: %w", err)
			}
			res.DailyValuesWritten = dv.Written
		}
		if opts.DryRun {
			return errDryRun
		}
		return storage.Audit(ctx, tx, "")
	})
	switch {
	case rejected != nil && errors.Is(err, rejected):
		res.Applied, res.Duplicates = 0, 0
		return reject(res, rejected.Rows)
	case errors.Is(err, errDryRun):
		return res, nil
	case err != nil:
		return Result{DryRun: opts.DryRun, Rows: n}, err
	}
	return res, nil
}

// PostTransaction applies one transaction, given as column name -> text
// (the names and rules of a file row, see BuildTransaction), to a portfolio
// and brings its daily values up to date from the trade date, all in one
// database transaction: the trade and its daily values commit together or
// not at all. A non-empty idempotencyKey becomes the transaction's source
// reference (source APISource), so posting the same key again returns the
// stored transaction as a duplicate and changes nothing. Problems of the
// trade, and the ledger's refusal of it, come back as an *ImportError whose
// rows have line 0; a missing portfolio is an error wrapping
// storage.ErrNotFound.
func PostTransaction(ctx context.Context, db *storage.DB, portfolioID uuid.UUID, fields map[string]string, idempotencyKey string, opts Options) (storage.Applied, error) {
	var applied storage.Applied
	err := db.Tx(ctx, func(tx pgx.Tx) error {
		t, rows, err := BuildTransaction(ctx, tx, portfolioID, fields, opts)
		if err != nil {
			return err
		}
		if len(rows) > 0 {
			return &ImportError{Rows: rows}
		}
		if idempotencyKey != "" {
			t.Source, t.SourceRef = APISource, idempotencyKey
		}
		applied, err = storage.ApplyTransaction(ctx, tx, t)
		if err != nil {
			if re, ok := LedgerRowError(0, strings.ToUpper(strings.TrimSpace(fields["symbol"])), err); ok {
				return &ImportError{Rows: []RowError{re}}
			}
			return err
		}
		if applied.Duplicate {
			return nil
		}
		if _, err = storage.ComputeDailyValuesTx(ctx, tx, portfolioID, applied.Transaction.TradeDate, opts.today(), false); err != nil {
			return err
		}
		return storage.Audit(ctx, tx, "transaction:"+applied.Transaction.ID.String())
	})
	if err != nil {
		return storage.Applied{}, err
	}
	return applied, nil
}

func reject(res Result, errs []RowError) (Result, error) {
	errs = sortErrors(errs)
	res.Errors = errs
	return res, &ImportError{Rows: errs}
}

func sortErrors(errs []RowError) []RowError {
	slices.SortStableFunc(errs, func(a, b RowError) int { return a.Line - b.Line })
	return errs
}

// BuildTransaction checks one transaction given as column name -> text
// (the names and rules of a file row; Line 0 in its problems), resolves its
// symbol in the portfolio's context and returns it ready for
// storage.ApplyTransaction, without Source. The HTTP API uses it for a
// single trade so that a trade posted alone and one in a file are judged
// alike. A missing portfolio is an error wrapping storage.ErrNotFound.
func BuildTransaction(ctx context.Context, q storage.Querier, portfolioID uuid.UUID, fields map[string]string, opts Options) (storage.Transaction, []RowError, error) {
	rec := record{cells: map[string]string{}}
	var errs []RowError
	for k, v := range fields {
		name := strings.ToLower(strings.TrimSpace(k))
		if !contains(TransactionColumns, name) {
			errs = append(errs, RowError{Field: k, Code: CodeUnknownColumn, Message: fmt.Sprintf("unknown field %q", k)})
			continue
		}
		rec.cells[name] = strings.TrimSpace(v)
	}
	for _, c := range txRequiredColumns {
		if rec.get(c) == "" {
			errs = append(errs, RowError{Field: c, Code: CodeMissing, Message: "is required"})
		}
	}
	if len(errs) > 0 {
		return storage.Transaction{}, sortFields(errs), nil
	}
	row, rerrs := parseTxRecord(rec, opts.today())
	p, err := storage.GetPortfolio(ctx, q, portfolioID)
	if err != nil {
		return storage.Transaction{}, nil, err
	}
	rows := []txRow{row}
	serrs, err := resolveTxRows(ctx, q, p, rows)
	if err != nil {
		return storage.Transaction{}, nil, err
	}
	errs = append(rerrs, serrs...)
	if len(errs) > 0 {
		return storage.Transaction{}, sortFields(errs), nil
	}
	t := rows[0].t
	t.Source, t.SourceRef = "", ""
	return t, nil, nil
}

func sortFields(errs []RowError) []RowError {
	slices.SortStableFunc(errs, func(a, b RowError) int { return strings.Compare(a.Field, b.Field) })
	return errs
}

// LedgerRowError turns a refusal of storage.ApplyTransaction into the
// problem of the row at line (0 for a single transaction) whose symbol is
// given; ok is false for errors that are not the row's fault (the
// database). The HTTP API uses it for single trades.
func LedgerRowError(line int, symbol string, err error) (RowError, bool) {
	var iq *storage.InsufficientQuantityError
	switch {
	case errors.As(err, &iq):
		field, msg := "quantity", fmt.Sprintf("sells or transfers %s %s but the portfolio holds %s then", iq.Requested, symbol, iq.Held)
		if iq.LotID != uuid.Nil {
			field, msg = "lot_id", fmt.Sprintf("asks %s %s of lot %s, which holds %s then", iq.Requested, symbol, iq.LotID, iq.Held)
		}
		return RowError{Line: line, Field: field, Code: CodeInsufficientQuantity, Message: msg}, true
	case errors.Is(err, storage.ErrInvalidTransaction):
		return RowError{Line: line, Code: CodeInvalidTransaction, Message: err.Error()}, true
	case errors.Is(err, storage.ErrMissingFX), errors.Is(err, storage.ErrNoFreshPack):
		return RowError{Line: line, Field: "currency", Code: CodeMissingFX,
			Message: "no fresh pricing pack rate converts it into the portfolio's base currency on the pay date: " + err.Error()}, true
	}
	return RowError{}, false
}

// parseTxRecord checks one row on its own (no database).
func parseTxRecord(rec record, today time.Time) (txRow, []RowError) {
	re := &rowErrs{line: rec.line}
	row := txRow{line: rec.line, symbol: strings.ToUpper(rec.get("symbol"))}
	t := &row.t
	t.Notes = rec.get("notes")

	if d, ok := re.date(rec, "trade_date", today); ok {
		t.TradeDate = d
	} else if rec.get("trade_date") == "" {
		re.add("trade_date", CodeMissing, "is required")
	}
	if d, ok := re.date(rec, "settle_date", time.Time{}); ok {
		t.SettleDate = d
		if !t.TradeDate.IsZero() && d.Before(t.TradeDate) {
			re.add("settle_date", CodeSettleBeforeTrade, "%s is before the trade date %s", d.Format(time.DateOnly), t.TradeDate.Format(time.DateOnly))
		}
	}
	t.Type = strings.ToUpper(rec.get("type"))
	switch {
	case t.Type == "":
		re.add("type", CodeMissing, "is required")
	case !contains(txTypes, t.Type):
		re.add("type", CodeUnknownType, "unknown type %q; the types are %s", rec.get("type"), strings.Join(txTypes, ", "))
	}
	if q, ok := re.number(rec, "quantity", positive); ok {
		t.Quantity = q
	}
	if v, ok := re.number(rec, "price", nonNegative); ok {
		t.Price = v
	}
	if v, ok := re.number(rec, "amount", positive); ok {
		t.Amount = v
	}
	if v, ok := re.number(rec, "fees", nonNegative); ok {
		t.Fees = v
	}
	if v, ok := re.number(rec, "split_ratio", positive); ok {
		t.SplitRatio = v
	}
	if c, ok := re.currencyCode(rec, "currency"); ok {
		t.Currency = c
	}
	if v := rec.get("lot_id"); v != "" {
		if id, err := uuid.Parse(v); err != nil {
			re.add("lot_id", CodeBadUUID, "%q is not a uuid", v)
		} else {
			t.LotID = id
		}
	}

	inKind := row.symbol != ""
	switch t.Type {
	case storage.TxBuy:
		re.required(rec, "symbol", "quantity", "price")
		re.forbidden(rec, "on a BUY", "lot_id", "split_ratio")
	case storage.TxSell:
		re.required(rec, "symbol", "quantity", "price")
		re.forbidden(rec, "on a SELL", "split_ratio")
	case storage.TxDividend:
		re.required(rec, "symbol", "amount")
		re.forbidden(rec, "on a DIVIDEND", "lot_id", "split_ratio")
	case storage.TxSplit:
		re.required(rec, "symbol", "split_ratio")
		re.forbidden(rec, "on a SPLIT", "lot_id")
	case storage.TxDeposit, storage.TxWithdrawal, storage.TxInterest:
		re.required(rec, "amount", "currency")
		re.forbidden(rec, "on a "+t.Type, "symbol", "lot_id", "split_ratio")
	case storage.TxFee:
		re.required(rec, "amount", "currency")
		re.forbidden(rec, "on a FEE", "lot_id", "split_ratio")
	case storage.TxTransferIn, storage.TxTransferOut:
		re.forbidden(rec, "on a "+t.Type, "split_ratio")
		if inKind {
			re.required(rec, "quantity", "price")
			if t.Type == storage.TxTransferIn {
				re.forbidden(rec, "on a TRANSFER_IN", "lot_id")
			}
		} else {
			re.required(rec, "amount", "currency")
			re.forbidden(rec, "on a cash transfer (no symbol)", "lot_id")
		}
	}
	row.ok = len(re.errs) == 0
	return row, re.errs
}

// resolveTxRows looks up the rows' symbols, fills the ledger's defaults
// (currency, trade value) so that the content key sees effective values,
// and sets Source and SourceRef. Problems are returned; only database
// failures are errors.
func resolveTxRows(ctx context.Context, q storage.Querier, p storage.Portfolio, rows []txRow) ([]RowError, error) {
	symbols := make([]string, 0, len(rows))
	for _, r := range rows {
		symbols = append(symbols, r.symbol)
	}
	secs, err := securitiesBySymbol(ctx, q, symbols)
	if err != nil {
		return nil, err
	}
	var errs []RowError
	occurrence := map[string]int{}
	for i := range rows {
		r := &rows[i]
		t := &r.t
		t.PortfolioID = p.ID
		if r.symbol != "" {
			s, ok := secs[r.symbol]
			if !ok {
				errs = append(errs, RowError{Line: r.line, Field: "symbol", Code: CodeUnknownSecurity,
					Message: fmt.Sprintf("no security has the symbol %q", r.symbol)})
				continue
			}
			t.SecurityID = s.ID
			inKind := t.Type == storage.TxBuy || t.Type == storage.TxSell || t.Type == storage.TxTransferIn || t.Type == storage.TxTransferOut
			if t.Currency == "" {
				t.Currency = s.Currency
			} else if inKind && t.Currency != s.Currency {
				errs = append(errs, RowError{Line: r.line, Field: "currency", Code: CodeCurrencyMismatch,
					Message: fmt.Sprintf("%s trades in %s, not %s", s.Symbol, s.Currency, t.Currency)})
				continue
			}
		}
		if !r.ok {
			continue
		}
		if t.Currency == "" {
			t.Currency = p.BaseCurrency
		}
		if t.LotID != uuid.Nil && p.CostBasisMethod == storage.CostBasisAverageCost {
			errs = append(errs, RowError{Line: r.line, Field: "lot_id", Code: CodeNotAllowed,
				Message: "must be empty: the portfolio uses AVERAGE_COST, which relieves no named lot"})
			continue
		}
		if t.LotID == uuid.Nil && t.Type == storage.TxSell && p.CostBasisMethod == storage.CostBasisSpecificLot {
			errs = append(errs, RowError{Line: r.line, Field: "lot_id", Code: CodeMissing,
				Message: "is required: the portfolio uses SPECIFIC_LOT"})
			continue
		}
		if t.Amount.IsZero() && !t.Quantity.IsZero() && (t.Type == storage.TxBuy || t.Type == storage.TxSell || t.SecurityID != uuid.Nil && (t.Type == storage.TxTransferIn || t.Type == storage.TxTransferOut)) {
			t.Amount = t.Quantity.Mul(t.Price)
		}
		key := contentKey(*t, r.symbol)
		occurrence[key]++
		t.Source, t.SourceRef = Source, fmt.Sprintf("%s:%d", key, occurrence[key])
	}
	return errs, nil
}

// contentKey is the hex sha256 of a transaction's normalised content: what
// makes two rows the same trade. Numbers are in their shortest exact form,
// so 10, 10.0 and 10.00 are alike. Notes are left out.
func contentKey(t storage.Transaction, symbol string) string {
	date := func(d time.Time) string {
		if d.IsZero() {
			return ""
		}
		return d.Format(time.DateOnly)
	}
	lot := ""
	if t.LotID != uuid.Nil {
		lot = t.LotID.String()
	}
	num := func(d decimal.Decimal) string { return d.String() }
	line := strings.Join([]string{"dawsos import v1", date(t.TradeDate), t.Type, symbol, num(t.Quantity), num(t.Price),
		num(t.Amount), t.Currency, num(t.Fees), date(t.SettleDate), lot, num(t.SplitRatio)}, "|")
	sum := sha256.Sum256([]byte(line))
	return hex.EncodeToString(sum[:])
}
