package csvimport

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"golang.org/x/text/currency"

	"github.com/dawsos/dawsos/storage"
)

// Source is the transactions.source of imported rows; with the source_ref
// (see the package doc) it makes a re-import a no-op.
const Source = "import"

// APISource is the transactions.source of a transaction posted alone with
// an idempotency key (PostTransaction); the key is its source_ref.
const APISource = "api"

// Codes of RowError: wire names, shown to users and mapped into HTTP
// problem fields, so they do not change once published.
const (
	CodeMalformedCSV         = "malformed_csv"
	CodeEmptyFile            = "empty_file"
	CodeUnknownColumn        = "unknown_column"
	CodeDuplicateColumn      = "duplicate_column"
	CodeMissingColumn        = "missing_column"
	CodeMissing              = "missing"
	CodeNotAllowed           = "not_allowed"
	CodeUnknownType          = "unknown_type"
	CodeUnknownSecurity      = "unknown_security"
	CodeBadNumber            = "bad_number"
	CodeBadText              = "bad_text"
	CodeNotPositive          = "not_positive"
	CodeNegative             = "negative"
	CodeBadDate              = "bad_date"
	CodeFutureDate           = "future_date"
	CodeBadCurrency          = "bad_currency"
	CodeCurrencyMismatch     = "currency_mismatch"
	CodeBadUUID              = "bad_uuid"
	CodeSettleBeforeTrade    = "settle_before_trade"
	CodeHighBelowLow         = "high_below_low"
	CodeDuplicateRow         = "duplicate_row"
	CodeInsufficientQuantity = "insufficient_quantity"
	CodeInvalidTransaction   = "invalid_transaction"
	CodeMissingFX            = "missing_fx"
)

// Options tune an import.
type Options struct {
	// Now decides which dates are in the future (a date after the civil
	// date of Now() in its location); time.Now when nil. Tests inject a
	// fixed clock.
	Now func() time.Time
	// DryRun checks and applies everything inside the database
	// transaction and then rolls it back: the Result says what an import
	// would do, nothing is written.
	DryRun bool
}

func (o Options) today() time.Time {
	now := time.Now()
	if o.Now != nil {
		now = o.Now()
	}
	y, m, d := now.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// RowError is one problem of one row (or of the header, line 1).
type RowError struct {
	// Line is 1-based and counts the header; 0 for a single transaction
	// that did not come from a file.
	Line int `json:"line"`
	// Field is the column at fault; "" when the row as a whole is.
	Field   string `json:"field,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// String is the form the CLI prints: "line N: field: message".
func (e RowError) String() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// ImportError rejects a whole file: Rows lists every bad row found (or the
// one row the ledger refused). Nothing was written. The HTTP layer maps it
// to 422 with one problem field per row.
type ImportError struct {
	Rows []RowError
}

func (e *ImportError) Error() string {
	if len(e.Rows) == 0 {
		return "import rejected"
	}
	return fmt.Sprintf("import rejected, nothing written: %d problem(s); first: %s", len(e.Rows), e.Rows[0])
}

// Result is what an import did (or, with DryRun, would do).
type Result struct {
	// Rows is the number of data rows read (blank rows not counted).
	Rows int `json:"rows"`
	// Applied rows were new; Duplicates were already there (see the
	// package doc) and changed nothing.
	Applied    int  `json:"applied"`
	Duplicates int  `json:"duplicates"`
	DryRun     bool `json:"dry_run,omitempty"`
	// Errors repeats the rows of an *ImportError.
	Errors []RowError `json:"errors,omitempty"`
	// Packs are the pricing packs of the dates a price import touched.
	Packs []PackResult `json:"packs,omitempty"`
	// DailyValuesWritten counts the portfolio_daily_values rows the import
	// recomputed. They are written in the import's own database
	// transaction, so an import that commits has its daily values up to
	// date, and one whose daily values cannot be computed (a fresh pack
	// without a close or rate they need) is refused with that error.
	DailyValuesWritten int `json:"daily_values_written"`
}

// PackResult is the state of one date's pricing pack after a price import.
type PackResult struct {
	Date   string `json:"date"`
	PackID string `json:"pack_id"`
	// Status is fresh or error (storage.PackFresh, storage.PackError).
	Status string `json:"status"`
	// Unchanged: the file held nothing new for the date, so its current
	// pack was kept.
	Unchanged     bool     `json:"unchanged"`
	MissingPrices []string `json:"missing_prices,omitempty"`
	MissingFX     []string `json:"missing_fx,omitempty"`
}

// record is one data row with its line.
type record struct {
	line  int
	cells map[string]string
}

func (r record) get(col string) string { return r.cells[col] }

// readTable parses a CSV file with a header. Header problems and malformed
// CSV stop the parse; the returned errors are then the only result.
func readTable(data []byte, known, required []string) (recs []record, rows int, errs []RowError) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, 0, []RowError{{Line: 1, Code: CodeEmptyFile, Message: "the file is empty; a header row is required"}}
	}
	if err != nil {
		return nil, 0, []RowError{csvError(err)}
	}
	cols := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		cols[i] = name
		switch {
		case name == "":
			errs = append(errs, RowError{Line: 1, Code: CodeUnknownColumn, Message: fmt.Sprintf("column %d has no name", i+1)})
		case !contains(known, name):
			errs = append(errs, RowError{Line: 1, Field: name, Code: CodeUnknownColumn,
				Message: fmt.Sprintf("unknown column %q; the columns are %s", name, strings.Join(known, ", "))})
		case seen[name]:
			errs = append(errs, RowError{Line: 1, Field: name, Code: CodeDuplicateColumn, Message: fmt.Sprintf("column %q appears twice", name)})
		}
		seen[name] = true
	}
	for _, r := range required {
		if !seen[r] {
			errs = append(errs, RowError{Line: 1, Field: r, Code: CodeMissingColumn, Message: fmt.Sprintf("required column %q is missing", r)})
		}
	}
	if len(errs) > 0 {
		return nil, 0, errs
	}
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, rows + 1, append(errs, csvError(err))
		}
		line, _ := cr.FieldPos(0)
		if allEmpty(fields) {
			continue
		}
		rows++
		if len(fields) != len(cols) {
			errs = append(errs, RowError{Line: line, Code: CodeMalformedCSV,
				Message: fmt.Sprintf("the row has %d fields, the header has %d", len(fields), len(cols))})
			continue
		}
		rec := record{line: line, cells: make(map[string]string, len(cols))}
		bad := ""
		for i, c := range cols {
			rec.cells[c] = strings.TrimSpace(fields[i])
			if bad == "" && (!utf8.ValidString(fields[i]) || strings.IndexByte(fields[i], 0) >= 0) {
				bad = c
			}
		}
		if bad != "" {
			// PostgreSQL cannot store a NUL or invalid UTF-8 as text.
			errs = append(errs, RowError{Line: line, Field: bad, Code: CodeBadText,
				Message: "the cell holds a NUL byte or invalid UTF-8"})
			continue
		}
		recs = append(recs, rec)
	}
	return recs, rows, errs
}

func csvError(err error) RowError {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return RowError{Line: pe.StartLine, Code: CodeMalformedCSV, Message: fmt.Sprintf("malformed CSV at line %d, column %d: %v", pe.Line, pe.Column, pe.Err)}
	}
	return RowError{Line: 1, Code: CodeMalformedCSV, Message: err.Error()}
}

func allEmpty(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// rowErrs collects the problems of one row.
type rowErrs struct {
	line int
	errs []RowError
}

func (r *rowErrs) add(field, code, format string, args ...any) {
	r.errs = append(r.errs, RowError{Line: r.line, Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// Bounds of every number an import or a trade accepts (the HTTP API's
// decimals have the same ones): money and quantities beyond them are typos
// or attacks, and thousands of digits must not reach the database.
const (
	MaxIntegerDigits  = 24
	MaxFractionDigits = 18
)

// digitsOf counts the significant digits before and the digits after the
// point of a plain decimal.
func digitsOf(v string) (whole, frac int) {
	v = strings.TrimLeft(v, "+-")
	w, f, _ := strings.Cut(v, ".")
	return len(strings.TrimLeft(w, "0")), len(f)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

var numberRE = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)

// sign constraints of a number cell.
type sign int

const (
	anySign sign = iota
	nonNegative
	positive
)

// number parses an optional decimal cell; ok is false when the cell is empty
// or bad (a bad cell is recorded).
func (r *rowErrs) number(rec record, col string, s sign) (decimal.Decimal, bool) {
	v := rec.get(col)
	if v == "" {
		return decimal.Decimal{}, false
	}
	if !numberRE.MatchString(v) {
		r.add(col, CodeBadNumber, "%q is not a number (plain decimal, like 1234.56)", truncate(v, 40))
		return decimal.Decimal{}, false
	}
	if whole, frac := digitsOf(v); whole > MaxIntegerDigits || frac > MaxFractionDigits {
		r.add(col, CodeBadNumber, "%s has more than %d digits before the point or %d after it", truncate(v, 40), MaxIntegerDigits, MaxFractionDigits)
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(v)
	if err != nil {
		r.add(col, CodeBadNumber, "%q is not a number: %v", v, err)
		return decimal.Decimal{}, false
	}
	switch {
	case s == positive && !d.IsPositive():
		r.add(col, CodeNotPositive, "must be greater than 0, got %s", v)
		return decimal.Decimal{}, false
	case s == nonNegative && d.IsNegative():
		r.add(col, CodeNegative, "must not be negative, got %s", v)
		return decimal.Decimal{}, false
	}
	return d, true
}

// date parses an optional YYYY-MM-DD cell; future dates after today are
// recorded as errors when today is not zero.
func (r *rowErrs) date(rec record, col string, today time.Time) (time.Time, bool) {
	v := rec.get(col)
	if v == "" {
		return time.Time{}, false
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		r.add(col, CodeBadDate, "%q is not a date (YYYY-MM-DD)", v)
		return time.Time{}, false
	}
	if !today.IsZero() && d.After(today) {
		r.add(col, CodeFutureDate, "%s is in the future (today is %s)", v, today.Format(time.DateOnly))
		return time.Time{}, false
	}
	return d, true
}

// currencyCode checks an optional ISO 4217 code and returns it upper-cased.
func (r *rowErrs) currencyCode(rec record, col string) (string, bool) {
	v := rec.get(col)
	if v == "" {
		return "", false
	}
	code, ok := ValidCurrency(v)
	if !ok {
		r.add(col, CodeBadCurrency, "%q is not an ISO 4217 currency code", v)
		return "", false
	}
	return code, true
}

// ValidCurrency accepts the three-letter ISO 4217 codes known to
// golang.org/x/text/currency, in any case, and returns the code in upper
// case; the HTTP API checks currencies with it too, so that a file and a
// request agree on what a currency is.
func ValidCurrency(v string) (string, bool) {
	if len(v) != 3 {
		return "", false
	}
	u, err := currency.ParseISO(v)
	if err != nil {
		return "", false
	}
	return u.String(), true
}

func (r *rowErrs) required(rec record, cols ...string) bool {
	ok := true
	for _, c := range cols {
		if rec.get(c) == "" {
			r.add(c, CodeMissing, "is required")
			ok = false
		}
	}
	return ok
}

func (r *rowErrs) forbidden(rec record, why string, cols ...string) {
	for _, c := range cols {
		if rec.get(c) != "" {
			r.add(c, CodeNotAllowed, "must be empty %s", why)
		}
	}
}

// securitiesBySymbol looks up the distinct non-empty symbols in one query.
func securitiesBySymbol(ctx context.Context, q storage.Querier, symbols []string) (map[string]storage.Security, error) {
	seen := map[string]bool{}
	var distinct []string
	for _, s := range symbols {
		if s != "" && !seen[s] {
			seen[s] = true
			distinct = append(distinct, s)
		}
	}
	secs := map[string]storage.Security{}
	if len(distinct) == 0 {
		return secs, nil
	}
	list, err := storage.ListSecurities(ctx, q, storage.SecurityFilter{Symbols: distinct})
	if err != nil {
		return nil, fmt.Errorf("look up %d symbols: %w", len(distinct), err)
	}
	for _, s := range list {
		secs[s.Symbol] = s
	}
	return secs, nil
}
