package csvimport

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzReadTransactions feeds arbitrary bytes to the CSV reader and the row
// parser of transaction files: they never panic, every problem names a
// line, and every cell they keep is text PostgreSQL can store.
func FuzzReadTransactions(f *testing.F) {
	f.Add([]byte("trade_date,type,symbol,quantity,price\n2024-02-01,BUY,NKE,1,10\n"))
	f.Add([]byte("trade_date,type,amount,currency,notes\n2024-02-01,DEPOSIT,100,USD,a\x00b\n"))
	f.Add([]byte("\xef\xbb\xbftrade_date,type\n\"unclosed,BUY\n"))
	f.Add([]byte("trade_date,type,amount,currency\n2024-02-01,DEPOSIT,1" + strings.Repeat("0", 100) + ",USD\n"))
	today := time.Date(2024, 6, 28, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, _, errs := readTable(data, TransactionColumns, txRequiredColumns)
		for _, e := range errs {
			if e.Line < 1 {
				t.Fatalf("row error without a line: %+v", e)
			}
		}
		for _, rec := range recs {
			for col, cell := range rec.cells {
				if !utf8.ValidString(cell) || strings.IndexByte(cell, 0) >= 0 {
					t.Fatalf("kept cell %s = %q, which PostgreSQL cannot store", col, cell)
				}
			}
			_, _ = parseTxRecord(rec, today)
		}
	})
}

// FuzzNumberCell: a number cell is either refused with a row error or a
// decimal within the bounds.
func FuzzNumberCell(f *testing.F) {
	for _, s := range []string{"1", "-0.5", "1e3", "", "9" + strings.Repeat("9", 30), ".5", "1.", "+-1", "0.0000000000000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := rowErrs{line: 2}
		d, ok := r.number(record{line: 2, cells: map[string]string{"x": s}}, "x", 0)
		if !ok {
			return
		}
		if whole, frac := digitsOf(d.String()); whole > MaxIntegerDigits || frac > MaxFractionDigits {
			t.Fatalf("number(%q) = %s, beyond the bounds", s, d)
		}
	})
}
