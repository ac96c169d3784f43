package csvimport_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/csvimport"
)

// priceFile: two dates, NKE in USD, CNR in CAD, and the CAD/USD rate a USD
// portfolio holding CNR needs.
const priceFile = `date,symbol,close,currency,open,high,low,volume
2024-01-03,NKE,101,USD,100,102,99.5,1200000
2024-01-03,CNR,150,,,,,
2024-01-03,CAD/USD,0.75,,,,,
2024-01-04,NKE,103.25,,,,,
2024-01-04,cnr,151,CAD,,,,
2024-01-04,cad/usd,0.7400,usd,,,,
`

func summary(packs []csvimport.PackResult) string {
	var out []string
	for _, p := range packs {
		s := fmt.Sprintf("%s:%s:%s", p.Date, p.PackID, p.Status)
		if p.Unchanged {
			s += ":unchanged"
		}
		if len(p.MissingPrices) > 0 || len(p.MissingFX) > 0 {
			s += fmt.Sprintf(":missing%v%v", p.MissingPrices, p.MissingFX)
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func TestImportPricesBuildsPacks(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.portfolio(t, "Main", storage.CostBasisFIFO)
	// The portfolio holds 10 NKE and 20 CNR from 2024-01-02, so packs of
	// later dates need both closes and a CAD/USD rate to be fresh.
	holdings := "trade_date,type,symbol,quantity,price\n2024-01-02,BUY,NKE,10,90\n2024-01-02,BUY,CNR,20,140\n"
	if _, err := csvimport.ImportTransactions(f.ctx, f.db, p.ID, strings.NewReader(holdings), opts()); err != nil {
		t.Fatal(err)
	}

	res, err := csvimport.ImportPrices(f.ctx, f.db, strings.NewReader(priceFile), opts())
	if err != nil || res.Rows != 6 || res.Applied != 6 || res.Duplicates != 0 {
		t.Fatalf("import prices = %+v, %v; want 6 rows, 6 applied", res, err)
	}
	if got, want := summary(res.Packs), "2024-01-03:PP_2024-01-03:fresh 2024-01-04:PP_2024-01-04:fresh"; got != want {
		t.Errorf("packs = %s, want %s", got, want)
	}
	// The two new fresh packs give the portfolio its first two daily values.
	if res.DailyValuesWritten != 2 {
		t.Errorf("daily values written %d; want 2, one per new pack", res.DailyValuesWritten)
	}
	// By hand: NKE 10 x 101 = 1010 USD; CNR 20 x 150 = 3000 CAD x 0.75 = 2250 USD.
	v, err := storage.ValuePortfolio(f.ctx, f.db.Pool(), p.ID, "PP_2024-01-03")
	if err != nil {
		t.Fatalf("value with PP_2024-01-03: %v", err)
	}
	got := map[string]string{}
	for _, vp := range v.Positions {
		got[vp.Symbol] = vp.MarketValue.String()
	}
	if got["NKE"] != "1010" || got["CNR"] != "2250" {
		t.Errorf("market values = %v, want NKE 1010, CNR 2250 (by hand)", got)
	}
	pr, err := storage.PricesInPack(f.ctx, f.db.Pool(), "PP_2024-01-03", []uuid.UUID{f.sec["NKE"].ID})
	if n := pr[f.sec["NKE"].ID]; err != nil || !n.High.Valid || !n.High.Decimal.Equal(dec("102")) || !n.Volume.Decimal.Equal(dec("1200000")) || n.Currency != "USD" {
		t.Errorf("NKE in PP_2024-01-03 = %+v, %v; want high 102, volume 1200000", n, err)
	}
	if r, err := storage.FXRate(f.ctx, f.db.Pool(), "PP_2024-01-04", "CAD", "USD"); err != nil || !r.Equal(dec("0.74")) {
		t.Errorf("CAD/USD in PP_2024-01-04 = %s, %v; want 0.74", r, err)
	}
	counts := f.packCounts(t)
	if want := "pricing_packs=2 prices=4 fx_rates=2"; counts != want {
		t.Errorf("after import: %s, want %s", counts, want)
	}

	// The same file again changes nothing.
	res, err = csvimport.ImportPrices(f.ctx, f.db, strings.NewReader(priceFile), opts())
	if err != nil || res.Applied != 0 || res.Duplicates != 6 {
		t.Fatalf("re-import = %+v, %v; want 0 applied, 6 duplicates", res, err)
	}
	if got, want := summary(res.Packs), "2024-01-03:PP_2024-01-03:fresh:unchanged 2024-01-04:PP_2024-01-04:fresh:unchanged"; got != want {
		t.Errorf("re-import packs = %s, want %s", got, want)
	}
	if got := f.packCounts(t); got != counts {
		t.Errorf("after re-import: %s, want %s", got, counts)
	}

	// A correction of one close restates the date; the other close and the
	// rate are carried over, so the restatement is fresh.
	res, err = csvimport.ImportPrices(f.ctx, f.db, strings.NewReader("symbol,date,close\nNKE,2024-01-04,104\n"), opts())
	if err != nil || res.Applied != 1 {
		t.Fatalf("correction = %+v, %v; want 1 applied", res, err)
	}
	if got, want := summary(res.Packs), "2024-01-04:PP_2024-01-04_r1:fresh"; got != want {
		t.Errorf("correction packs = %s, want %s", got, want)
	}
	pr, err = storage.PricesInPack(f.ctx, f.db.Pool(), "PP_2024-01-04_r1", []uuid.UUID{f.sec["NKE"].ID, f.sec["CNR"].ID})
	if err != nil || !pr[f.sec["NKE"].ID].Close.Equal(dec("104")) || !pr[f.sec["CNR"].ID].Close.Equal(dec("151")) {
		t.Errorf("restated closes = %+v, %v; want NKE 104, CNR 151", pr, err)
	}
	if cur, err := storage.PackForDate(f.ctx, f.db.Pool(), mustDay("2024-01-04")); err != nil || cur.ID != "PP_2024-01-04_r1" {
		t.Errorf("current pack of 2024-01-04 = %+v, %v; want the restatement", cur, err)
	}

	// A date without CNR's close is finalised in error, naming CNR.
	res, err = csvimport.ImportPrices(f.ctx, f.db, strings.NewReader("date,symbol,close\n2024-01-05,NKE,104\n"), opts())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := summary(res.Packs), "2024-01-05:PP_2024-01-05:error:missing[CNR][]"; got != want {
		t.Errorf("incomplete date packs = %s, want %s", got, want)
	}
}

func TestImportPricesRejectsBadFiles(t *testing.T) {
	t.Parallel()
	f := setup(t)
	if _, err := csvimport.ImportPrices(f.ctx, f.db, strings.NewReader(priceFile), opts()); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, file, want string
	}{
		{"unknown security", "date,symbol,close\n2024-02-01,NKE,1\n2024-02-01,NOPE,1\n", "3:symbol:unknown_security"},
		{"future date", "date,symbol,close\n2024-06-29,NKE,1\n", "2:date:future_date"},
		{"negative close", "date,symbol,close\n2024-02-01,NKE,-1\n", "2:close:negative"},
		{"zero fx rate", "date,symbol,close\n2024-02-01,USD/CAD,0\n", "2:close:not_positive"},
		{"pair of one currency", "date,symbol,close\n2024-02-01,USD/USD,1\n", "2:symbol:bad_currency"},
		{"pair of unknown codes", "date,symbol,close\n2024-02-01,ABC/USD,1\n", "2:symbol:bad_currency"},
		{"fx quoted in another currency", "date,symbol,close,currency\n2024-02-01,USD/CAD,1.35,EUR\n", "2:currency:currency_mismatch"},
		{"fx with ohlc", "date,symbol,close,high\n2024-02-01,USD/CAD,1.35,1.4\n", "2:high:not_allowed"},
		{"high below low", "date,symbol,close,high,low\n2024-02-01,NKE,10,9,11\n", "2:high:high_below_low"},
		{"duplicate row", "date,symbol,close\n2024-02-01,NKE,10\n2024-02-01,nke,11\n", "3:symbol:duplicate_row"},
		{"missing close", "date,symbol,close\n2024-02-01,NKE,\n", "2:close:missing"},
		{"unknown column", "date,symbol,close,adj_close\n2024-02-01,NKE,10,9\n", "1:adj_close:unknown_column"},
		{"missing column", "date,close\n2024-02-01,10\n", "1:symbol:missing_column"},
		{"malformed", "date,symbol,close\n2024-02-01,\"NKE,10\n", "2::malformed_csv"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Not parallel: the counts are of the whole database.
			before := f.packCounts(t)
			res, err := csvimport.ImportPrices(f.ctx, f.db, strings.NewReader(c.file), opts())
			var ie *csvimport.ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("import %q: err = %v, want an *ImportError", c.file, err)
			}
			if got := problems(ie.Rows); got != c.want {
				t.Errorf("problems = %q, want %q; rows %+v", got, c.want, ie.Rows)
			}
			if len(res.Packs) != 0 || res.Applied != 0 {
				t.Errorf("rejected import result %+v; want no packs, nothing applied", res)
			}
			if after := f.packCounts(t); after != before {
				t.Errorf("rows after a rejected import: %s, before: %s", after, before)
			}
		})
	}
}
