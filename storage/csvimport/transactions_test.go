package csvimport_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/csvimport"
)

// seedFile gives every rejection case's portfolio a ledger to protect:
// 1000 USD deposited, 10 NKE bought.
const seedFile = `trade_date,type,symbol,quantity,price,amount,currency
2024-01-02,DEPOSIT,,,,1000,USD
2024-01-03,BUY,NKE,10,90,,
`

func TestImportTransactionsRejectsBadFiles(t *testing.T) {
	t.Parallel()
	f := setup(t)
	cases := []struct {
		name string
		file string
		// want lists line:field:code of every problem, by line.
		want string
	}{
		{"malformed csv: bare quote", "trade_date,type,symbol,quantity,price\n2024-02-01,BUY,NKE,1,10\n2024-02-02,BUY,NKE,1,1\"0\n", "3::malformed_csv"},
		{"malformed csv: field count", "trade_date,type,symbol,quantity,price\n2024-02-01,BUY,NKE,1\n2024-02-02,BUY,NKE,1,10\n", "2::malformed_csv"},
		{"empty file", "", "1::empty_file"},
		{"unknown column", "trade_date,type,symbol,qty,price\n2024-02-01,BUY,NKE,1,10\n", "1:qty:unknown_column"},
		{"missing required column", "type,symbol,quantity,price\nBUY,NKE,1,10\n", "1:trade_date:missing_column"},
		{"duplicate column", "trade_date,type,symbol,quantity,price,price\n2024-02-01,BUY,NKE,1,10,10\n", "1:price:duplicate_column"},
		{"unknown security", "trade_date,type,symbol,quantity,price\n2024-02-01,BUY,NKE,1,10\n2024-02-02,BUY,NOPE,1,10\n", "3:symbol:unknown_security"},
		{"negative quantity", "trade_date,type,symbol,quantity,price\n2024-02-01,BUY,NKE,-5,10\n", "2:quantity:not_positive"},
		{"zero quantity", "trade_date,type,symbol,quantity,price\n2024-02-01,SELL,NKE,0,10\n", "2:quantity:not_positive"},
		{"date in the future", "trade_date,type,symbol,quantity,price\n2024-06-28,BUY,NKE,1,10\n2024-06-29,BUY,NKE,1,10\n", "3:trade_date:future_date"},
		{"bad date", "trade_date,type,symbol,quantity,price\n02/01/2024,BUY,NKE,1,10\n", "2:trade_date:bad_date"},
		{"bad number", "trade_date,type,symbol,quantity,price\n2024-02-01,BUY,NKE,1,\"1,000\"\n", "2:price:bad_number"},
		{"unknown type", "trade_date,type,symbol,quantity,price\n2024-02-01,PURCHASE,NKE,1,10\n", "2:type:unknown_type"},
		{"wrong currency code", "trade_date,type,amount,currency\n2024-02-01,DEPOSIT,100,US$\n2024-02-01,DEPOSIT,100,XYZ\n", "2:currency:bad_currency 3:currency:bad_currency"},
		{"currency differs from the trading currency", "trade_date,type,symbol,quantity,price,currency\n2024-02-01,BUY,NKE,1,10,CAD\n", "2:currency:currency_mismatch"},
		{"missing values per type", "trade_date,type,symbol,quantity,price,amount,currency,split_ratio\n2024-02-01,BUY,NKE,,10,,,\n2024-02-01,DEPOSIT,,,,100,,\n2024-02-01,SPLIT,NKE,,,,,\n2024-02-01,DEPOSIT,NKE,,,100,USD,\n",
			"2:quantity:missing 3:currency:missing 4:split_ratio:missing 5:symbol:not_allowed"},
		{"every bad row reported, good rows not written", "trade_date,type,symbol,quantity,price\n2024-02-01,BUY,NKE,1,10\n2024-02-02,BUY,NOPE,1,10\n2024-02-03,BUY,NKE,1,10\n2024-02-04,BUY,NKE,-1,abc\n",
			"3:symbol:unknown_security 5:quantity:not_positive 5:price:bad_number"},
		{"NUL byte in a cell", "trade_date,type,amount,currency,notes\n2024-02-01,DEPOSIT,100,USD,a\x00b\n", "2:notes:bad_text"},
		{"invalid UTF-8 in a cell", "trade_date,type,amount,currency,notes\n2024-02-01,DEPOSIT,100,USD,\xff\xfe\n", "2:notes:bad_text"},
		{"number of thousands of digits", "trade_date,type,amount,currency\n2024-02-01,DEPOSIT," + strings.Repeat("9", 5000) + ",USD\n", "2:amount:bad_number"},
		{"more fraction digits than money has", "trade_date,type,amount,currency\n2024-02-01,DEPOSIT,0.0000000000000000001,USD\n", "2:amount:bad_number"},
		{"sell of more than held", "trade_date,type,symbol,quantity,price\n2024-02-01,BUY,NKE,5,100\n2024-02-02,SELL,NKE,16,110\n", "3:quantity:insufficient_quantity"},
		{"sell of more than held, file out of date order", "trade_date,type,symbol,quantity,price\n2024-03-01,SELL,NKE,12,110\n2024-02-01,BUY,NKE,1,100\n", "2:quantity:insufficient_quantity"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := f.portfolio(t, c.name, storage.CostBasisFIFO)
			if _, err := csvimport.ImportTransactions(f.ctx, f.db, p.ID, strings.NewReader(seedFile), opts()); err != nil {
				t.Fatalf("seed: %v", err)
			}
			before := f.ledgerCounts(t, p.ID)
			res, err := csvimport.ImportTransactions(f.ctx, f.db, p.ID, strings.NewReader(c.file), opts())
			var ie *csvimport.ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("import %q: err = %v, want an *ImportError", c.file, err)
			}
			if got := problems(ie.Rows); got != c.want {
				t.Errorf("problems = %q, want %q; rows %+v", got, c.want, ie.Rows)
			}
			if got := problems(res.Errors); got != c.want {
				t.Errorf("Result.Errors = %q, want %q", got, c.want)
			}
			if res.Applied != 0 || res.Duplicates != 0 {
				t.Errorf("rejected import says applied %d, duplicates %d; want 0, 0", res.Applied, res.Duplicates)
			}
			if after := f.ledgerCounts(t, p.ID); after != before {
				t.Errorf("rows after a rejected import: %s, before: %s", after, before)
			}
			for _, r := range ie.Rows {
				if r.Message == "" {
					t.Errorf("row error %+v has no message", r)
				}
			}
		})
	}
}

// goodFile is out of date order on purpose and holds two identical
// deposits on 2024-01-05 (two real deposits, both kept).
const goodFile = "\xef\xbb\xbfTrade_Date, Type ,Symbol,Quantity,Price,Amount,Currency,Fees,Settle_Date,Notes\n" +
	"2024-02-01,SELL,nke,15,130,,,1.5,2024-02-03,trim\n" +
	"2024-01-02,DEPOSIT,,,,5000,usd,,,\n" +
	"2024-01-03,BUY,NKE,10,100,,USD,1,,\n" +
	"\n" +
	"2024-01-04,BUY,NKE,10.00,120,,,0,,\n" +
	"2024-01-05,DEPOSIT,,,,100,USD,,,\n" +
	"2024-01-05,DEPOSIT,,,,100,USD,,,\n" +
	"2024-03-01,DIVIDEND,NKE,5,,20,,3,2024-03-05,\"withholding,\nmulti-line note\"\n" +
	"2024-03-02,FEE,,,,10,USD,,,\n"

func TestImportTransactionsAppliesOnceAndDeduplicates(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.portfolio(t, "Main", storage.CostBasisFIFO)

	dry := opts()
	dry.DryRun = true
	res, err := csvimport.ImportTransactions(f.ctx, f.db, p.ID, strings.NewReader(goodFile), dry)
	if err != nil || res.Rows != 8 || res.Applied != 8 || !res.DryRun {
		t.Fatalf("dry run = %+v, %v; want 8 rows, 8 applied", res, err)
	}
	if got := f.ledgerCounts(t, p.ID); got != "transactions=0 lots=0 lot_reliefs=0 portfolio_cash_flows=0" {
		t.Fatalf("after a dry run: %s, want nothing", got)
	}

	res, err = csvimport.ImportTransactions(f.ctx, f.db, p.ID, strings.NewReader(goodFile), opts())
	if err != nil || res.Rows != 8 || res.Applied != 8 || res.Duplicates != 0 {
		t.Fatalf("first import = %+v, %v; want 8 rows, 8 applied", res, err)
	}
	// Two lots, two reliefs (FIFO takes lot 1 whole and 5 of lot 2), three
	// deposits as external flows.
	counts := f.ledgerCounts(t, p.ID)
	if want := "transactions=8 lots=2 lot_reliefs=2 portfolio_cash_flows=3"; counts != want {
		t.Errorf("after import: %s, want %s", counts, want)
	}
	hash, err := storage.LedgerCommitHash(f.ctx, f.db.Pool(), p.ID)
	if err != nil {
		t.Fatal(err)
	}

	// By hand: lot 1 costs 10 x 100 + 1 = 1001, lot 2 10 x 120 = 1200.
	// SELL 15 @ 130, fees 1.5: proceeds 1950 - 1.5 = 1948.5; FIFO cost
	// 1001 + 5/10 x 1200 = 1601; realised 347.5.
	var realized string
	if err := f.db.QueryRow(f.ctx, `SELECT realized_pl::text FROM transactions WHERE portfolio_id = $1 AND type = 'SELL'`, []any{p.ID}, &realized); err != nil {
		t.Fatal(err)
	}
	if !dec(realized).Equal(dec("347.5")) {
		t.Errorf("realised P&L = %s, want 347.5 (1948.5 - 1601, by hand)", realized)
	}
	// Cash by hand: 5000 + 100 + 100 - 1001 - 1200 + 1948.5 + (20 - 3) - 10 = 4954.5.
	cash, err := storage.CashBalances(f.ctx, f.db.Pool(), p.ID, today)
	if err != nil || len(cash) != 1 || cash[0].Currency != "USD" || !cash[0].Amount.Equal(dec("4954.5")) {
		t.Errorf("cash = %+v, %v; want USD 4954.5", cash, err)
	}
	pos, err := storage.OpenPositions(f.ctx, f.db.Pool(), p.ID, today)
	if err != nil || len(pos) != 1 || !pos[0].Quantity.Equal(dec("5")) || !pos[0].CostBasis.Equal(dec("600")) {
		t.Errorf("positions = %+v, %v; want 5 NKE costing 600", pos, err)
	}
	var note string
	if err := f.db.QueryRow(f.ctx, `SELECT notes FROM transactions WHERE portfolio_id = $1 AND type = 'DIVIDEND'`, []any{p.ID}, &note); err != nil || note != "withholding,\nmulti-line note" {
		t.Errorf("dividend note = %q, %v", note, err)
	}

	// The same file again changes nothing.
	res, err = csvimport.ImportTransactions(f.ctx, f.db, p.ID, strings.NewReader(goodFile), opts())
	if err != nil || res.Applied != 0 || res.Duplicates != 8 {
		t.Fatalf("second import = %+v, %v; want 0 applied, 8 duplicates", res, err)
	}
	if got := f.ledgerCounts(t, p.ID); got != counts {
		t.Errorf("after re-import: %s, want %s", got, counts)
	}
	if h, err := storage.LedgerCommitHash(f.ctx, f.db.Pool(), p.ID); err != nil || h != hash {
		t.Errorf("ledger hash after re-import = %s, %v; want %s", h, err, hash)
	}

	// An extended export: the old rows (reordered, reformatted numbers, an
	// edited note) are duplicates, the new row and a third identical
	// deposit are new.
	extended := "trade_date,type,symbol,quantity,price,amount,currency,fees,notes\n" +
		"2024-01-04,BUY,NKE,10,120.0,1200,USD,,\n" +
		"2024-01-03,BUY,NKE,10,100,1000,USD,1.00,edited note\n" +
		"2024-01-05,DEPOSIT,,,,100,USD,,\n" +
		"2024-01-05,DEPOSIT,,,,100,USD,,\n" +
		"2024-01-05,DEPOSIT,,,,100,USD,,\n" +
		"2024-04-01,BUY,NKE,1,110,,,,\n"
	res, err = csvimport.ImportTransactions(f.ctx, f.db, p.ID, strings.NewReader(extended), opts())
	if err != nil || res.Applied != 2 || res.Duplicates != 4 {
		t.Fatalf("extended import = %+v, %v; want 2 applied, 4 duplicates", res, err)
	}
	if got, want := f.ledgerCounts(t, p.ID), "transactions=10 lots=3 lot_reliefs=2 portfolio_cash_flows=4"; got != want {
		t.Errorf("after the extended import: %s, want %s", got, want)
	}
}

func TestImportTransactionsUnknownPortfolio(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.portfolio(t, "Main", storage.CostBasisFIFO)
	_, err := csvimport.ImportTransactions(f.ctx, f.db, p.ID, strings.NewReader(seedFile), opts())
	if err != nil {
		t.Fatal(err)
	}
	missing := p.ID
	missing[0] ^= 0xff
	if _, err := csvimport.ImportTransactions(f.ctx, f.db, missing, strings.NewReader(seedFile), opts()); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("import into a missing portfolio: err = %v, want ErrNotFound", err)
	}
}

func TestBuildTransaction(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.portfolio(t, "Main", storage.CostBasisFIFO)
	cases := []struct {
		name   string
		fields map[string]string
		want   string // problems, or "" when valid
	}{
		{"valid buy", map[string]string{"trade_date": "2024-02-01", "type": "buy", "symbol": "nke", "quantity": "2", "price": "50"}, ""},
		{"unknown field", map[string]string{"trade_date": "2024-02-01", "type": "BUY", "ticker": "NKE"}, "0:ticker:unknown_column"},
		{"missing type", map[string]string{"trade_date": "2024-02-01"}, "0:type:missing"},
		{"several problems", map[string]string{"trade_date": "2099-01-01", "type": "BUY", "symbol": "NOPE", "quantity": "-1", "price": "1"},
			"0:quantity:not_positive 0:symbol:unknown_security 0:trade_date:future_date"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tx, rows, err := csvimport.BuildTransaction(f.ctx, f.db.Pool(), p.ID, c.fields, opts())
			if err != nil {
				t.Fatalf("BuildTransaction(%v): %v", c.fields, err)
			}
			if got := problems(rows); got != c.want {
				t.Errorf("BuildTransaction(%v) problems = %q, want %q", c.fields, got, c.want)
			}
			if c.want == "" && (tx.SecurityID != f.sec["NKE"].ID || tx.Currency != "USD" || !tx.Amount.Equal(dec("100")) || tx.Source != "") {
				t.Errorf("BuildTransaction(%v) = %+v; want NKE in USD, amount 100 (2 x 50), no source", c.fields, tx)
			}
		})
	}
}
