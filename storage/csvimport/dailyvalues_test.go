package csvimport_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/csvimport"
)

// refuseDailyValues makes every write to portfolio_daily_values fail, as a
// lost connection or a full disk would after the change itself was
// written; allowDailyValues lifts it. The database is the test's own.
func (f *fixture) refuseDailyValues(t *testing.T) {
	t.Helper()
	for _, sql := range []string{
		`CREATE FUNCTION refuse_daily_values() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'daily values refused by the test'; END $$`,
		`CREATE TRIGGER refuse_daily_values BEFORE INSERT OR UPDATE ON portfolio_daily_values
			FOR EACH ROW EXECUTE FUNCTION refuse_daily_values()`,
	} {
		if _, err := f.db.Exec(f.ctx, sql); err != nil {
			t.Fatalf("install the refusal: %v", err)
		}
	}
}

func (f *fixture) allowDailyValues(t *testing.T) {
	t.Helper()
	if _, err := f.db.Exec(f.ctx, `DROP TRIGGER refuse_daily_values ON portfolio_daily_values; DROP FUNCTION refuse_daily_values()`); err != nil {
		t.Fatalf("lift the refusal: %v", err)
	}
}

// dailyValue is the stored row of one day, read from the table.
type dailyValue struct{ pack, total, hash string }

func (f *fixture) dailyValue(t *testing.T, pid uuid.UUID, date string) dailyValue {
	t.Helper()
	var v dailyValue
	if err := f.db.QueryRow(f.ctx, `SELECT pack_id, total_value::text, ledger_hash FROM portfolio_daily_values
		WHERE portfolio_id = $1 AND value_date = $2`, []any{pid, mustDay(date)}, &v.pack, &v.total, &v.hash); err != nil {
		t.Fatalf("daily value of %s: %v", date, err)
	}
	return v
}

// TestDailyValuesCommitWithTheChange: a trade, a transaction file and a
// price file each write their daily values in their own database
// transaction; when that write fails, the change is rolled back with it,
// so what is stored never describes another ledger or pack than the
// current one. By hand, in USD: 10 NKE bought at 90 (cash -900); the pack
// of 2024-01-03 closes NKE at 101: 1010 - 900 = 110. Selling 4 at 100
// that day: 6 x 101 + (-900 + 400) = 106. NKE restated at 102:
// 6 x 102 - 500 = 112.
func TestDailyValuesCommitWithTheChange(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.portfolio(t, "Main", storage.CostBasisFIFO)
	if _, err := csvimport.ImportTransactions(f.ctx, f.db, p.ID, strings.NewReader("trade_date,type,symbol,quantity,price\n2024-01-02,BUY,NKE,10,90\n"), opts()); err != nil {
		t.Fatal(err)
	}
	res, err := csvimport.ImportPrices(f.ctx, f.db, strings.NewReader("date,symbol,close\n2024-01-03,NKE,101\n"), opts())
	if err != nil || res.DailyValuesWritten != 1 {
		t.Fatalf("import prices = %+v, %v; want one daily value written", res, err)
	}
	hash := func() string {
		t.Helper()
		h, err := storage.LedgerCommitHash(f.ctx, f.db.Pool(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	want := dailyValue{"PP_2024-01-03", "110", hash()}
	if got := f.dailyValue(t, p.ID, "2024-01-03"); got != want {
		t.Fatalf("daily value after the price import = %+v, want %+v", got, want)
	}
	ledger := f.ledgerCounts(t, p.ID)
	packs := f.packCounts(t)

	sell := "trade_date,type,symbol,quantity,price\n2024-01-03,SELL,NKE,4,100\n"
	sellFields := map[string]string{"trade_date": "2024-01-03", "type": "SELL", "symbol": "NKE", "quantity": "4", "price": "100"}
	f.refuseDailyValues(t)
	failures := []struct {
		name string
		do   func() error
	}{
		{"transaction file", func() error {
			_, err := csvimport.ImportTransactions(f.ctx, f.db, p.ID, strings.NewReader(sell), opts())
			return err
		}},
		{"single trade", func() error {
			_, err := csvimport.PostTransaction(f.ctx, f.db, p.ID, sellFields, "key-1", opts())
			return err
		}},
		{"price file", func() error {
			_, err := csvimport.ImportPrices(f.ctx, f.db, strings.NewReader("date,symbol,close\n2024-01-03,NKE,102\n"), opts())
			return err
		}},
	}
	for _, c := range failures {
		err := c.do()
		if err == nil || !strings.Contains(err.Error(), "daily values refused by the test") {
			t.Errorf("%s with daily values refused: err = %v, want the refusal", c.name, err)
		}
		if got := f.ledgerCounts(t, p.ID); got != ledger {
			t.Errorf("%s: ledger after the refusal %s, want it unchanged: %s", c.name, got, ledger)
		}
		if got := f.packCounts(t); got != packs {
			t.Errorf("%s: packs after the refusal %s, want them unchanged: %s", c.name, got, packs)
		}
		if got := f.dailyValue(t, p.ID, "2024-01-03"); got != want || got.hash != hash() {
			t.Errorf("%s: daily value after the refusal %+v, want %+v, of the current ledger", c.name, got, want)
		}
	}

	f.allowDailyValues(t)
	if _, err := csvimport.PostTransaction(f.ctx, f.db, p.ID, sellFields, "key-1", opts()); err != nil {
		t.Fatalf("sell once daily values may be written: %v", err)
	}
	want = dailyValue{"PP_2024-01-03", "106", hash()}
	if got := f.dailyValue(t, p.ID, "2024-01-03"); got != want {
		t.Errorf("daily value after the sale = %+v, want %+v", got, want)
	}
	res, err = csvimport.ImportPrices(f.ctx, f.db, strings.NewReader("date,symbol,close\n2024-01-03,NKE,102\n"), opts())
	if err != nil || res.DailyValuesWritten != 1 {
		t.Fatalf("restate NKE = %+v, %v; want one daily value written", res, err)
	}
	want = dailyValue{"PP_2024-01-03_r1", "112", hash()}
	if got := f.dailyValue(t, p.ID, "2024-01-03"); got != want {
		t.Errorf("daily value after the restatement = %+v, want %+v", got, want)
	}
}

// TestTradeThatCannotBeValuedIsRefused: a back-dated buy of CNR, which the
// fresh pack of 2024-01-03 has no close for, would leave that day's value
// uncomputable; the trade is refused naming CNR, and nothing is written.
func TestTradeThatCannotBeValuedIsRefused(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.portfolio(t, "Main", storage.CostBasisFIFO)
	if _, err := csvimport.ImportTransactions(f.ctx, f.db, p.ID, strings.NewReader("trade_date,type,symbol,quantity,price\n2024-01-02,BUY,NKE,10,90\n"), opts()); err != nil {
		t.Fatal(err)
	}
	if _, err := csvimport.ImportPrices(f.ctx, f.db, strings.NewReader("date,symbol,close\n2024-01-03,NKE,101\n"), opts()); err != nil {
		t.Fatal(err)
	}
	before := f.ledgerCounts(t, p.ID)
	_, err := csvimport.PostTransaction(f.ctx, f.db, p.ID,
		map[string]string{"trade_date": "2024-01-02", "type": "BUY", "symbol": "CNR", "quantity": "1", "price": "140"}, "", opts())
	if !errors.Is(err, storage.ErrMissingPrice) || !strings.Contains(err.Error(), "CNR") {
		t.Errorf("buy of CNR before a pack without it: err = %v, want ErrMissingPrice naming CNR", err)
	}
	if got := f.ledgerCounts(t, p.ID); got != before {
		t.Errorf("ledger after the refused buy %s, want %s", got, before)
	}
}

// TestPostTransaction: problems of a single trade come back as an
// *ImportError with line 0, like a file row's; a repeated idempotency key
// is a duplicate.
func TestPostTransaction(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.portfolio(t, "Main", storage.CostBasisFIFO)
	buy := map[string]string{"trade_date": "2024-01-02", "type": "BUY", "symbol": "nke", "quantity": "10", "price": "90"}
	a, err := csvimport.PostTransaction(f.ctx, f.db, p.ID, buy, "broker-1", opts())
	if err != nil || a.Duplicate || a.Transaction.Source != csvimport.APISource || a.Transaction.SourceRef != "broker-1" {
		t.Fatalf("buy = %+v, %v; want a new transaction from the api with the key", a, err)
	}
	again, err := csvimport.PostTransaction(f.ctx, f.db, p.ID, buy, "broker-1", opts())
	if err != nil || !again.Duplicate || again.Transaction.ID != a.Transaction.ID {
		t.Errorf("same key again = %+v, %v; want the stored transaction as a duplicate", again, err)
	}
	cases := []struct {
		name   string
		fields map[string]string
		want   string
	}{
		{"sell of more than held", map[string]string{"trade_date": "2024-01-03", "type": "SELL", "symbol": "NKE", "quantity": "11", "price": "1"}, "0:quantity:insufficient_quantity"},
		{"invalid fields", map[string]string{"trade_date": "2099-01-01", "type": "BUY", "symbol": "NOPE", "quantity": "-1", "price": "1"},
			"0:quantity:not_positive 0:symbol:unknown_security 0:trade_date:future_date"},
	}
	for _, c := range cases {
		_, err := csvimport.PostTransaction(f.ctx, f.db, p.ID, c.fields, "", opts())
		var ie *csvimport.ImportError
		if !errors.As(err, &ie) || problems(ie.Rows) != c.want {
			t.Errorf("%s: err = %v, want problems %s", c.name, err, c.want)
		}
	}
	if got, want := f.ledgerCounts(t, p.ID), "transactions=1 lots=1 lot_reliefs=0 portfolio_cash_flows=0"; got != want {
		t.Errorf("ledger = %s, want %s", got, want)
	}
}
