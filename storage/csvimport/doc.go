// Package csvimport loads a user's own data from CSV files: transactions
// into a portfolio's ledger and closes and FX rates into pricing packs. The
// layouts are documented here and in docs/import.md; keep the two alike.
//
// # Common rules
//
// A file is UTF-8 CSV (RFC 4180, a leading byte-order mark is ignored) with
// a header row. Columns are found by name, case-insensitive, in any order;
// a column the layout does not know, a repeated column or a missing required
// column rejects the file. Cells are trimmed. A row whose cells are all
// empty is skipped. Line numbers are the file's own (1-based, the header is
// line 1; a quoted cell spanning lines counts its lines), and every problem
// is reported as a RowError naming the line, the column and a code.
//
// Numbers are plain decimals ("1234.5", "-0.25"; no thousands separators,
// no exponent). Dates are YYYY-MM-DD. Currencies are ISO 4217 codes (any
// case). A date after today (Options.Now) is rejected.
//
// A file with any bad row imports nothing: every row is parsed and checked
// first, every bad row is reported, and only then are the rows applied, all
// in one database transaction; the first row the ledger refuses (a sale of
// more than is held, say) rolls the whole file back and is reported with its
// line.
//
// # Transactions
//
// Columns: trade_date, type (required in the header) and symbol, quantity,
// price, amount, currency, fees, settle_date, lot_id, split_ratio, notes.
// What each type needs (a "-" column must be empty):
//
//	BUY           symbol, quantity, price; amount (default quantity x price),
//	              fees, currency (default and only allowed value: the
//	              security's trading currency), settle_date; - lot_id, split_ratio
//	SELL          as BUY; lot_id names the lot to relieve (required when the
//	              portfolio's method is SPECIFIC_LOT)
//	DIVIDEND      symbol, amount; fees (withholding tax), currency (default
//	              the security's), settle_date (pay date), quantity
//	              (informative); - lot_id, split_ratio
//	SPLIT         symbol, split_ratio (new shares per old share); - lot_id
//	DEPOSIT, WITHDRAWAL, INTEREST
//	              amount, currency; fees; - symbol, lot_id, split_ratio
//	FEE           amount, currency; symbol (optional); - lot_id, split_ratio
//	TRANSFER_IN, TRANSFER_OUT
//	              in kind: symbol, quantity, price (the transfer value per
//	              share), lot_id for TRANSFER_OUT; in cash: amount, currency,
//	              no symbol; - split_ratio
//
// quantity and split_ratio must be > 0, amount > 0 when given, price and
// fees >= 0, settle_date on or after trade_date, lot_id a uuid.
//
// Rows are applied in (trade_date, line) order, which is the order the
// ledger keeps them in anyway; a row dated before transactions already in
// the portfolio makes the ledger replay, as any back-dated entry does.
//
// Idempotency. Each row is stored with source "import" and a source_ref
// that is the sha256 of the row's normalised content (date, type, symbol,
// exact numbers, effective currency, settle date, lot, split ratio; not the
// notes) followed by ":" and the occurrence of that content in the file (1
// for the first identical row, 2 for the second, ...). So:
//
//   - importing the same file again changes nothing (every row is a
//     duplicate);
//   - a file extended with new rows (a newer broker export overlapping an
//     older one) adds only the new rows;
//   - a row whose content was edited is a new row, and the old one stays:
//     correcting a wrong trade is a correcting transaction, never an edit;
//   - two identical trades on one day in one file are both kept (occurrences
//     1 and 2), but the same content in two different files counts once per
//     occurrence number: it is treated as the same trade exported twice;
//   - a changed note alone does not make a row new (and is not updated).
//
// Keying on the file's hash and the line instead would make a file with one
// appended row import every earlier row a second time, which is why it is
// not done.
//
// # Prices and FX rates
//
// Columns: date, symbol, close (required in the header) and currency, open,
// high, low, volume. A security row gives the close of symbol on date in
// currency (default the security's trading currency); close, open, high,
// low and volume are >= 0 and high >= low. A row whose symbol is a currency
// pair such as USD/CAD is an FX rate: 1 USD = close CAD, close > 0, currency
// empty or the quote currency (CAD), no open/high/low/volume. A date and
// symbol may appear once per file.
//
// For each date of the file, the rows are merged into the date's current
// pricing pack: its closes and rates are copied into a new revision, the
// file's rows replace or add to them, and the revision is finalised (fresh,
// or error naming the held securities without a close and the pairs without
// a rate). Result.Packs lists every date with the resulting pack and status.
// A row equal to what the current pack already holds is a duplicate; when
// every row of a date is a duplicate the pack is left as it is, so
// importing the same price file twice changes nothing.
package csvimport
