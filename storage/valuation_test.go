package storage_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dawsos/dawsos/storage"
)

// valuationFixture: a CAD portfolio deposits 10,000 CAD and buys 10 CNR @
// 150 CAD, 20 NKE @ 100 USD and 30 EVO @ 10 EUR on 2024-03-01 (cash per
// currency: CAD 8,500, USD -2,000, EUR -300).
func valuationFixture(t *testing.T) *fixture {
	f := setup(t, storage.CostBasisFIFO, "CAD")
	f.mustApply(storage.Transaction{Type: storage.TxDeposit, TradeDate: day("2024-03-01"), Amount: dec("10000")})
	f.buy("2024-03-01", "CNR", "10", "150", "")
	f.buy("2024-03-01", "NKE", "20", "100", "")
	f.buy("2024-03-01", "EVO", "30", "10", "")
	return f
}

// TestValuePortfolio, hand computation with closes CNR 160 CAD, NKE 110
// USD, EVO 12 EUR and USD/CAD 1.35, EUR/CAD 1.5:
//
//	CNR 10 x 160 x 1     = 1,600
//	NKE 20 x 110 x 1.35  = 2,970
//	EVO 30 x 12 x 1.5    =   540      positions 5,110
//	cash 8,500 - 2,000 x 1.35 - 300 x 1.5 = 5,350; total 10,460.
func TestValuePortfolio(t *testing.T) {
	t.Parallel()
	f := valuationFixture(t)
	p := f.buildPack("2024-03-04", map[string]string{"CNR": "160", "NKE": "110", "EVO": "12"},
		[]storage.FXQuote{fx("USD", "CAD", "1.35"), fx("EUR", "CAD", "1.5")})
	if p.Status != storage.PackFresh {
		t.Fatalf("pack status %s, missing %v %v", p.Status, p.MissingPrices, p.MissingFX)
	}
	v, err := storage.ValuePortfolio(f.ctx, f.db.Pool(), f.pf.ID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !decEq(v.PositionsValue, "5110") || !decEq(v.CashValue, "5350") || !decEq(v.Total, "10460") || v.BaseCurrency != "CAD" {
		t.Errorf("valuation positions %s cash %s total %s %s, want 5110, 5350, 10460 CAD", v.PositionsValue, v.CashValue, v.Total, v.BaseCurrency)
	}
	want := map[string]struct{ local, market, rate, upl string }{
		"CNR": {"1600", "1600", "1", "100"},
		"EVO": {"360", "540", "1.5", "60"},
		"NKE": {"2200", "2970", "1.35", "200"},
	}
	if len(v.Positions) != len(want) {
		t.Fatalf("positions = %+v", v.Positions)
	}
	for _, vp := range v.Positions {
		w := want[vp.Symbol]
		if !decEq(vp.LocalValue, w.local) || !decEq(vp.MarketValue, w.market) || !decEq(vp.FXRate, w.rate) || !decEq(vp.UnrealizedPLLocal.Decimal, w.upl) {
			t.Errorf("%s: local %s market %s rate %s unrealised %s, want %+v", vp.Symbol, vp.LocalValue, vp.MarketValue, vp.FXRate, vp.UnrealizedPLLocal.Decimal, w)
		}
		if wantW := vp.MarketValue.DivRound(v.Total, 10); !vp.Weight.Equal(wantW) {
			t.Errorf("%s weight %s, want %s", vp.Symbol, vp.Weight, wantW)
		}
	}

	// Without the EUR rate the pack is in error and valuing with it fails
	// naming the pair; without EVO's close, naming EVO.
	noEUR := f.buildPack("2024-03-05", map[string]string{"CNR": "160", "NKE": "110", "EVO": "12"}, []storage.FXQuote{fx("USD", "CAD", "1.35")})
	if _, err := storage.ValuePortfolio(f.ctx, f.db.Pool(), f.pf.ID, noEUR.ID); !errors.Is(err, storage.ErrMissingFX) || !strings.Contains(err.Error(), "EUR/CAD") {
		t.Errorf("value without EUR/CAD: err = %v", err)
	}
	noEVO := f.buildPack("2024-03-06", map[string]string{"CNR": "160", "NKE": "110"}, []storage.FXQuote{fx("USD", "CAD", "1.35"), fx("EUR", "CAD", "1.5")})
	if _, err := storage.ValuePortfolio(f.ctx, f.db.Pool(), f.pf.ID, noEVO.ID); !errors.Is(err, storage.ErrMissingPrice) || !strings.Contains(err.Error(), "EVO") {
		t.Errorf("value without EVO: err = %v", err)
	}
}

func (f *fixture) dailyValues(from, to string, force bool) storage.DailyValuesResult {
	f.t.Helper()
	r, err := storage.ComputeDailyValues(f.ctx, f.db, f.pf.ID, day(from), day(to), force)
	if err != nil {
		f.t.Fatalf("compute daily values: %v", err)
	}
	return r
}

func (f *fixture) storedDailyValues() []storage.DailyValue {
	f.t.Helper()
	vs, err := storage.ListDailyValues(f.ctx, f.db.Pool(), f.pf.ID, time.Time{}, time.Time{})
	if err != nil {
		f.t.Fatal(err)
	}
	return vs
}

// TestComputeDailyValues: packs Friday 2024-03-01 to Friday 2024-03-08
// plus a Saturday pack (ignored: not a business day). Hand computation for
// Monday 03-04 with the valuationFixture holdings and closes CNR 160, NKE
// 110, EVO 12, USD/CAD 1.35, EUR/CAD 1.5: total 10,460 (as in
// TestValuePortfolio); Friday 03-01 values the same holdings at the buy
// prices and rates 1.35/1.5: positions 1,500 + 2,700 + 450 = 4,650, cash
// 8,500 - 2,700 - 450 = 5,350, total 10,000, flow +10,000 (the deposit).
// A deposit of 500 CAD on Sunday 03-03 is Monday's flow.
func TestComputeDailyValues(t *testing.T) {
	t.Parallel()
	f := valuationFixture(t)
	rates := []storage.FXQuote{fx("USD", "CAD", "1.35"), fx("EUR", "CAD", "1.5")}
	f.buildPack("2024-03-01", map[string]string{"CNR": "150", "NKE": "100", "EVO": "10"}, rates)
	f.buildPack("2024-03-02", map[string]string{"CNR": "1", "NKE": "1", "EVO": "1"}, rates) // Saturday
	for _, d := range []string{"2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07", "2024-03-08"} {
		f.buildPack(d, map[string]string{"CNR": "160", "NKE": "110", "EVO": "12"}, rates)
	}
	f.mustApply(storage.Transaction{Type: storage.TxDeposit, TradeDate: day("2024-03-03"), Amount: dec("500")})

	r := f.dailyValues("2024-02-26", "2024-03-08", false)
	if r.Days != 6 || r.Written != 6 || r.Skipped != 0 {
		t.Errorf("first run = %+v, want 6 days written", r)
	}
	first := f.storedDailyValues()
	want := map[string]struct{ total, cash, pos, flow string }{
		"2024-03-01": {"10000", "5350", "4650", "10000"},
		"2024-03-04": {"10960", "5850", "5110", "500"},
		"2024-03-05": {"10960", "5850", "5110", "0"},
	}
	for _, v := range first {
		w, ok := want[v.Date.Format(time.DateOnly)]
		if !ok {
			continue
		}
		if !decEq(v.Total, w.total) || !decEq(v.Cash, w.cash) || !decEq(v.Positions, w.pos) || !decEq(v.NetExternalFlow, w.flow) {
			t.Errorf("%s: total %s cash %s positions %s flow %s, want %+v", v.Date.Format(time.DateOnly), v.Total, v.Cash, v.Positions, v.NetExternalFlow, w)
		}
	}

	// Re-running changes nothing; forcing rewrites the same values.
	if r := f.dailyValues("2024-02-26", "2024-03-08", false); r.Written != 0 || r.Skipped != 6 {
		t.Errorf("second run = %+v, want 0 written, 6 skipped", r)
	}
	if r := f.dailyValues("2024-02-26", "2024-03-08", true); r.Written != 6 {
		t.Errorf("forced run = %+v, want 6 written", r)
	}
	if got := f.storedDailyValues(); !sameValues(got, first) {
		t.Errorf("values changed on re-run\n got %+v\nwant %+v", got, first)
	}

	// A restated pack recomputes its day only; a back-dated fee every day
	// from its date on.
	f.buildPack("2024-03-06", map[string]string{"CNR": "170", "NKE": "110", "EVO": "12"}, rates)
	if r := f.dailyValues("2024-02-26", "2024-03-08", false); r.Written != 1 {
		t.Errorf("after restating 03-06: %+v, want 1 written", r)
	}
	f.mustApply(storage.Transaction{Type: storage.TxFee, TradeDate: day("2024-03-07"), Amount: dec("10")})
	if r := f.dailyValues("2024-02-26", "2024-03-08", false); r.Written != 2 {
		t.Errorf("after a fee on 03-07: %+v, want 2 written", r)
	}
	for _, v := range f.storedDailyValues() {
		if v.Date.Equal(day("2024-03-06")) && !decEq(v.Total, "11060") { // +10 x 10 on CNR
			t.Errorf("restated 03-06 total = %s, want 11060", v.Total)
		}
		if v.Date.Equal(day("2024-03-08")) && !decEq(v.Total, "10950") {
			t.Errorf("03-08 total after fee = %s, want 10950", v.Total)
		}
	}
	// The newest row's hash is the ledger's hash.
	vs := f.storedDailyValues()
	if got := vs[len(vs)-1].LedgerHash; got != f.ledgerHash() {
		t.Errorf("last row ledger hash %s, want %s", got, f.ledgerHash())
	}
}

func sameValues(a, b []storage.DailyValue) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if !x.Total.Equal(y.Total) || !x.Cash.Equal(y.Cash) || !x.Positions.Equal(y.Positions) || !x.NetExternalFlow.Equal(y.NetExternalFlow) ||
			!reflect.DeepEqual([]any{x.Date, x.PackID, x.LedgerHash}, []any{y.Date, y.PackID, y.LedgerHash}) {
			return false
		}
	}
	return true
}

// TestComputeDailyValuesMissingPrice: a fresh pack made before the lots
// existed lacks a close the replayed holdings need; the error names it.
func TestComputeDailyValuesMissingPrice(t *testing.T) {
	t.Parallel()
	f := setup(t, storage.CostBasisFIFO, "CAD")
	f.buildPack("2024-03-04", map[string]string{}, nil) // nothing held yet: fresh
	f.buy("2024-03-01", "XYZ", "1", "10", "")
	_, err := storage.ComputeDailyValues(f.ctx, f.db, f.pf.ID, day("2024-03-01"), day("2024-03-04"), false)
	if !errors.Is(err, storage.ErrMissingPrice) || !strings.Contains(err.Error(), "XYZ") {
		t.Errorf("err = %v, want ErrMissingPrice naming XYZ", err)
	}
	if n := f.count("portfolio_daily_values"); n != 0 {
		t.Errorf("rows = %d, want 0", n)
	}
}
