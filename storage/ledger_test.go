package storage_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

// fixture is one test's database with a user, a few securities and one
// portfolio.
type fixture struct {
	t    *testing.T
	ctx  context.Context
	db   *storage.DB
	user uuid.UUID
	pf   storage.Portfolio
	sec  map[string]storage.Security
}

var fixtureSecurities = []storage.Security{
	{Symbol: "CNR", Name: "Canadian National Railway", Type: storage.SecurityEquity, Currency: "CAD", Sector: "Industrials", Exchange: "TSX"},
	{Symbol: "NKE", Name: "Nike", Type: storage.SecurityEquity, Currency: "USD", Sector: "Consumer Discretionary", Exchange: "NYSE"},
	{Symbol: "EVO", Name: "Evolution", Type: storage.SecurityEquity, Currency: "EUR", Sector: "Consumer Discretionary"},
	{Symbol: "XYZ", Name: "Example Corp", Type: storage.SecurityEquity, Currency: "CAD"},
}

func setup(t *testing.T, method, base string) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	f := &fixture{t: t, ctx: ctx, db: pgtest.NewDB(t), sec: map[string]storage.Security{}}
	if err := f.db.QueryRow(ctx, `INSERT INTO users (email, password_hash, role) VALUES ('owner@example.com', 'x', 'USER') RETURNING id`,
		nil, &f.user); err != nil {
		t.Fatalf("insert user: %v", err)
	}
	for _, s := range fixtureSecurities {
		s.Active = true
		got, err := storage.UpsertSecurity(ctx, f.db.Pool(), s)
		if err != nil {
			t.Fatalf("upsert security %s: %v", s.Symbol, err)
		}
		f.sec[s.Symbol] = got
	}
	f.pf = f.portfolio("Main", method, base)
	return f
}

// sub gives a subtest its own portfolio in the parent's database:
// ledgers are per portfolio, so subtests need not pay for a database each.
func (f *fixture) sub(t *testing.T, method string) *fixture {
	t.Helper()
	g := *f
	g.t = t
	g.pf = g.portfolio(t.Name(), method, f.pf.BaseCurrency)
	return &g
}

func (f *fixture) portfolio(name, method, base string) storage.Portfolio {
	f.t.Helper()
	p, err := storage.CreatePortfolio(f.ctx, f.db.Pool(), storage.Portfolio{OwnerID: f.user, Name: name, BaseCurrency: base, CostBasisMethod: method, Active: true})
	if err != nil {
		f.t.Fatalf("create portfolio: %v", err)
	}
	return p
}

// apply applies one transaction in its own database transaction.
func (f *fixture) apply(tx storage.Transaction) (storage.Applied, error) {
	if tx.PortfolioID == uuid.Nil {
		tx.PortfolioID = f.pf.ID
	}
	var a storage.Applied
	err := f.db.Tx(f.ctx, func(t pgx.Tx) error {
		var err error
		a, err = storage.ApplyTransaction(f.ctx, t, tx)
		return err
	})
	return a, err
}

func (f *fixture) mustApply(tx storage.Transaction) storage.Applied {
	f.t.Helper()
	a, err := f.apply(tx)
	if err != nil {
		f.t.Fatalf("apply %s %s on %s: %v", tx.Type, tx.Quantity, tx.TradeDate.Format(time.DateOnly), err)
	}
	return a
}

func (f *fixture) buy(date, symbol, qty, price, fees string) storage.Applied {
	f.t.Helper()
	return f.mustApply(storage.Transaction{Type: storage.TxBuy, TradeDate: day(date), SecurityID: f.sec[symbol].ID,
		Quantity: dec(qty), Price: dec(price), Fees: dec(fees)})
}

// count counts the rows of the fixture's portfolio in a table.
func (f *fixture) count(table string) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRow(f.ctx, `SELECT count(*) FROM `+table+` WHERE portfolio_id = $1`, []any{f.pf.ID}, &n); err != nil {
		f.t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func dec(s string) decimal.Decimal {
	if s == "" {
		return decimal.Zero
	}
	return decimal.RequireFromString(s)
}

func decEq(got decimal.Decimal, want string) bool { return got.Equal(dec(want)) }

// TestLotRelief sells from three lots by each method. Hand computation
// (no fees): L1 100 @ 10 = 1000 (2024-01-02), L2 50 @ 14 = 700
// (2024-02-01), L3 80 @ 12 = 960 (2024-03-01); sell at 15 on 2024-04-01.
//
//	FIFO 120: L1 100 (1000) + L2 20 (280) = 1280; P&L 1800 - 1280 = 520.
//	LIFO 120: L3 80 (960) + L2 40 (560) = 1520; P&L 1800 - 1520 = 280.
//	HIFO 120: L2 50 @ 14 (700) + L3 70 @ 12 (840) = 1540; P&L 260.
//	SPECIFIC_LOT 60 of L3: cost 720; P&L 900 - 720 = 180.
//	AVERAGE_COST 120: pool 230 sh, 2660; cost 2660 x 120/230 =
//	  1387.826086956521739... -> 1387.8260869565 (10 places); P&L
//	  412.1739130435. Quantity FIFO (L1 100, L2 20); the 110 left share
//	  1272.1739130435: L2 30 x 1272.1739130435/110 = 346.9565217391, L3 the
//	  rest, 925.2173913044.
func TestLotRelief(t *testing.T) {
	t.Parallel()
	type open struct{ qty, cost string }
	cases := []struct {
		method   string
		qty      string
		lot      int // 1-based lot named by the sale, 0 for none
		realized string
		open     [3]open
		reliefs  int
	}{
		{storage.CostBasisFIFO, "120", 0, "520", [3]open{{"0", "0"}, {"30", "420"}, {"80", "960"}}, 2},
		{storage.CostBasisLIFO, "120", 0, "280", [3]open{{"100", "1000"}, {"10", "140"}, {"0", "0"}}, 2},
		{storage.CostBasisHIFO, "120", 0, "260", [3]open{{"100", "1000"}, {"0", "0"}, {"10", "120"}}, 2},
		{storage.CostBasisSpecificLot, "60", 3, "180", [3]open{{"100", "1000"}, {"50", "700"}, {"20", "240"}}, 1},
		{storage.CostBasisAverageCost, "120", 0, "412.1739130435", [3]open{{"0", "0"}, {"30", "346.9565217391"}, {"80", "925.2173913044"}}, 2},
	}
	shared := setup(t, storage.CostBasisFIFO, "CAD")
	for _, c := range cases {
		t.Run(c.method, func(t *testing.T) {
			t.Parallel()
			f := shared.sub(t, c.method)
			lots := []uuid.UUID{
				f.buy("2024-01-02", "XYZ", "100", "10", "").OpenedLot,
				f.buy("2024-02-01", "XYZ", "50", "14", "").OpenedLot,
				f.buy("2024-03-01", "XYZ", "80", "12", "").OpenedLot,
			}
			sell := storage.Transaction{Type: storage.TxSell, TradeDate: day("2024-04-01"), SecurityID: f.sec["XYZ"].ID,
				Quantity: dec(c.qty), Price: dec("15")}
			if c.lot > 0 {
				sell.LotID = lots[c.lot-1]
			}
			a := f.mustApply(sell)
			if !a.Transaction.RealizedPL.Valid || !decEq(a.Transaction.RealizedPL.Decimal, c.realized) {
				t.Errorf("realised P&L = %v, want %s", a.Transaction.RealizedPL, c.realized)
			}
			if len(a.Reliefs) != c.reliefs {
				t.Errorf("reliefs = %d, want %d: %+v", len(a.Reliefs), c.reliefs, a.Reliefs)
			}
			sumPL := decimal.Zero
			for _, r := range a.Reliefs {
				sumPL = sumPL.Add(r.RealizedPL.Decimal)
			}
			if !decEq(sumPL, c.realized) {
				t.Errorf("sum of relief P&L = %s, want %s", sumPL, c.realized)
			}
			for i, id := range lots {
				var qty, cost decimal.Decimal
				if err := f.db.QueryRow(f.ctx, `SELECT quantity_open, cost_basis_open FROM lots WHERE id = $1`, []any{id}, &qty, &cost); err != nil {
					t.Fatal(err)
				}
				if !decEq(qty, c.open[i].qty) || !decEq(cost, c.open[i].cost) {
					t.Errorf("lot L%d open = %s (cost %s), want %s (cost %s)", i+1, qty, cost, c.open[i].qty, c.open[i].cost)
				}
			}
			// Cash: -(1000 + 700 + 960) + qty x 15.
			bal, err := storage.CashBalances(f.ctx, f.db.Pool(), f.pf.ID, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			wantCash := dec(c.qty).Mul(dec("15")).Sub(dec("2660"))
			if len(bal) != 1 || bal[0].Currency != "CAD" || !bal[0].Amount.Equal(wantCash) {
				t.Errorf("cash = %+v, want CAD %s", bal, wantCash)
			}
		})
	}
}

// TestPublishedAverageVersusFIFO checks gains against published
// adjusted-cost-base (average cost) examples; the FIFO figures on the same
// trades are hand computations, labelled as such.
func TestPublishedAverageVersusFIFO(t *testing.T) {
	t.Parallel()
	type trade struct{ date, qty, price, fees string }
	cases := []struct {
		name   string
		source string
		buys   []trade
		sell   trade
		// want gains under AVERAGE_COST (published) and FIFO (hand).
		avg, fifo string
		avgCost   string // published ACB per share before the sale
	}{
		{
			name:   "canadianfinanceblog",
			source: "https://canadianfinanceblog.com/how-to-calculate-your-adjusted-cost-base-acb/: 500 @ $15 and 200 @ $12 with $20 commission each, ACB $9,940 / 700 = $14.20; sell 100 @ $15 less $20 = $1,480; gain $60",
			buys:   []trade{{"2023-01-10", "500", "15", "20"}, {"2023-06-10", "200", "12", "20"}},
			sell:   trade{"2023-09-01", "100", "15", "20"},
			avg:    "60",
			// FIFO (hand): 100 of the first lot, 7,520 x 100/500 = 1,504;
			// 1,480 - 1,504 = -24.
			fifo:    "-24",
			avgCost: "14.2",
		},
		{
			name:   "pellrides",
			source: "http://www.pellrides.com/2017/05/adjusted-cost-base-explanation.html: 10 @ $50 + $7 = $507 and 10 @ $55 + $7 = $557, ACB $1,064 / 20 = $53.20; sell 5 @ $65 less $7 = $318; gain $318 - $266 = $52",
			buys:   []trade{{"2016-06-01", "10", "50", "7"}, {"2016-07-01", "10", "55", "7"}},
			sell:   trade{"2016-09-01", "5", "65", "7"},
			avg:    "52",
			// FIFO (hand): 507 x 5/10 = 253.50; 318 - 253.50 = 64.50.
			fifo:    "64.5",
			avgCost: "53.2",
		},
		{
			name:   "cscexams",
			source: "https://cscexams.ca/ (24.3.1 Disposition of shares): 100 ABC @ $6 + $17 commission, sold @ $10 with $25 commission: gain $358",
			buys:   []trade{{"2020-03-02", "100", "6", "17"}},
			sell:   trade{"2022-03-02", "100", "10", "25"},
			avg:    "358",
			// One lot: FIFO and average agree.
			fifo:    "358",
			avgCost: "6.17",
		},
	}
	shared := setup(t, storage.CostBasisFIFO, "CAD")
	for _, c := range cases {
		for _, m := range []struct{ method, want string }{{storage.CostBasisAverageCost, c.avg}, {storage.CostBasisFIFO, c.fifo}} {
			t.Run(c.name+"/"+m.method, func(t *testing.T) {
				t.Parallel()
				f := shared.sub(t, m.method)
				for _, b := range c.buys {
					f.buy(b.date, "XYZ", b.qty, b.price, b.fees)
				}
				pos, err := storage.OpenPositions(f.ctx, f.db.Pool(), f.pf.ID, time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				if len(pos) != 1 || !decEq(pos[0].AvgCost, c.avgCost) {
					t.Errorf("average cost before the sale = %+v, want %s (source: %s)", pos, c.avgCost, c.source)
				}
				a := f.mustApply(storage.Transaction{Type: storage.TxSell, TradeDate: day(c.sell.date), SecurityID: f.sec["XYZ"].ID,
					Quantity: dec(c.sell.qty), Price: dec(c.sell.price), Fees: dec(c.sell.fees)})
				if !decEq(a.Transaction.RealizedPL.Decimal, m.want) {
					t.Errorf("gain = %s, want %s (source: %s)", a.Transaction.RealizedPL.Decimal, m.want, c.source)
				}
			})
		}
	}
}

func TestSellMoreThanHeld(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		method    string
		qty       string
		namedLot  bool
		held      string
		requested string
	}{
		{"fifo", storage.CostBasisFIFO, "151", false, "150", "151"},
		{"average", storage.CostBasisAverageCost, "150.0001", false, "150", "150.0001"},
		{"specific lot", storage.CostBasisSpecificLot, "51", true, "50", "51"},
	}
	shared := setup(t, storage.CostBasisFIFO, "CAD")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := shared.sub(t, c.method)
			f.buy("2024-01-02", "XYZ", "100", "10", "")
			second := f.buy("2024-01-03", "XYZ", "50", "11", "")
			before := map[string]int{}
			for _, tb := range []string{"transactions", "lots", "lot_reliefs", "portfolio_cash_flows"} {
				before[tb] = f.count(tb)
			}
			sell := storage.Transaction{PortfolioID: f.pf.ID, Type: storage.TxSell, TradeDate: day("2024-02-01"),
				SecurityID: f.sec["XYZ"].ID, Quantity: dec(c.qty), Price: dec("12")}
			if c.namedLot {
				sell.LotID = second.OpenedLot
			}
			// The failed sale happens inside a larger transaction that
			// goes on and commits a deposit: the savepoint keeps the
			// sale out and the rest in.
			var sellErr error
			err := f.db.Tx(f.ctx, func(tx pgx.Tx) error {
				_, sellErr = storage.ApplyTransaction(f.ctx, tx, sell)
				_, err := storage.ApplyTransaction(f.ctx, tx, storage.Transaction{PortfolioID: f.pf.ID, Type: storage.TxDeposit,
					TradeDate: day("2024-02-02"), Amount: dec("5")})
				return err
			})
			if err != nil {
				t.Fatalf("deposit after the failed sale: %v", err)
			}
			var qe *storage.InsufficientQuantityError
			if !errors.Is(sellErr, storage.ErrInsufficientQuantity) || !errors.As(sellErr, &qe) {
				t.Fatalf("sell %s: err = %v, want ErrInsufficientQuantity", c.qty, sellErr)
			}
			if !decEq(qe.Held, c.held) || !decEq(qe.Requested, c.requested) || qe.Symbol != "XYZ" {
				t.Errorf("error = %+v, want XYZ held %s requested %s", qe, c.held, c.requested)
			}
			for _, s := range []string{"XYZ", c.held, c.requested} {
				if !strings.Contains(sellErr.Error(), s) {
					t.Errorf("error %q does not name %s", sellErr, s)
				}
			}
			before["transactions"]++ // the deposit
			before["portfolio_cash_flows"]++
			for tb, n := range before {
				if got := f.count(tb); got != n {
					t.Errorf("%s rows = %d, want %d", tb, got, n)
				}
			}
		})
	}
}

// TestSplit: 100 @ 50 with 10 fees = 5,010; a 2-for-1 split gives 200 at
// 25.05, total unchanged; a 1-for-4 reverse split then gives 50 at 100.20.
// Selling 20 FIFO relieves 5,010 x 20/50 = 2,004 (hand computation).
func TestSplit(t *testing.T) {
	t.Parallel()
	f := setup(t, storage.CostBasisFIFO, "CAD")
	f.buy("2024-01-02", "XYZ", "100", "50", "10")
	steps := []struct {
		tx             storage.Transaction
		qty, cost, per string
		original       string
	}{
		{storage.Transaction{Type: storage.TxSplit, TradeDate: day("2024-02-01"), SecurityID: f.sec["XYZ"].ID, SplitRatio: dec("2")}, "200", "5010", "25.05", "200"},
		{storage.Transaction{Type: storage.TxSplit, TradeDate: day("2024-03-01"), SecurityID: f.sec["XYZ"].ID, SplitRatio: dec("0.25")}, "50", "5010", "100.2", "50"},
		{storage.Transaction{Type: storage.TxSell, TradeDate: day("2024-04-01"), SecurityID: f.sec["XYZ"].ID, Quantity: dec("20"), Price: dec("110")}, "30", "3006", "100.2", "50"},
	}
	for _, s := range steps {
		a := f.mustApply(s.tx)
		lots, err := storage.OpenLots(f.ctx, f.db.Pool(), f.pf.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(lots) != 1 || !decEq(lots[0].QuantityOpen, s.qty) || !decEq(lots[0].CostBasisOpen, s.cost) ||
			!decEq(lots[0].CostPerShare, s.per) || !decEq(lots[0].QuantityOriginal, s.original) {
			t.Errorf("after %s: lots = %+v, want open %s cost %s per share %s original %s", s.tx.Type, lots, s.qty, s.cost, s.per, s.original)
		}
		if s.tx.Type == storage.TxSell && !decEq(a.Transaction.RealizedPL.Decimal, "196") { // 2,200 - 2,004
			t.Errorf("realised = %s, want 196", a.Transaction.RealizedPL.Decimal)
		}
	}
}

// buildPack builds and finalises one pack in its own transaction.
func (f *fixture) buildPack(date string, prices map[string]string, rates []storage.FXQuote) storage.Pack {
	f.t.Helper()
	var ps []storage.Price
	for sym, c := range prices {
		ps = append(ps, storage.Price{SecurityID: f.sec[sym].ID, Close: dec(c)})
	}
	var p storage.Pack
	err := f.db.Tx(f.ctx, func(tx pgx.Tx) error {
		var err error
		p, err = storage.BuildPricingPack(f.ctx, tx, day(date), "close", ps, rates)
		return err
	})
	if err != nil {
		f.t.Fatalf("build pack %s: %v", date, err)
	}
	return p
}

func fx(from, to, rate string) storage.FXQuote {
	return storage.FXQuote{From: from, To: to, Rate: dec(rate)}
}

// TestDividendForeignCurrency: a CAD portfolio receives a USD dividend of
// 100 less 15 withholding, paid 2024-03-15 (a Friday). At that day's pack
// USD/CAD 1.36 the cash is 85 x 1.36 = 115.60 CAD (hand computation); paid
// on Saturday 16th it takes Friday's pack; paid on Thursday 14th, 1.35 ->
// 114.75.
func TestDividendForeignCurrency(t *testing.T) {
	t.Parallel()
	f := setup(t, storage.CostBasisFIFO, "CAD")
	f.buy("2024-03-01", "NKE", "10", "100", "")
	f.buildPack("2024-03-14", map[string]string{"NKE": "101"}, []storage.FXQuote{fx("USD", "CAD", "1.35")})
	f.buildPack("2024-03-15", map[string]string{"NKE": "102"}, []storage.FXQuote{fx("USD", "CAD", "1.36")})
	cases := []struct {
		pay      string
		currency string
		cash     string
		pack     string
		rate     string
	}{
		{"2024-03-15", "USD", "115.6", "PP_2024-03-15", "1.36"},
		{"2024-03-16", "USD", "115.6", "PP_2024-03-15", "1.36"},
		{"2024-03-14", "USD", "114.75", "PP_2024-03-14", "1.35"},
	}
	for _, c := range cases {
		a := f.mustApply(storage.Transaction{Type: storage.TxDividend, TradeDate: day("2024-03-10"), SettleDate: day(c.pay),
			SecurityID: f.sec["NKE"].ID, Amount: dec("100"), Fees: dec("15")})
		got := a.Transaction
		if got.CashCurrency != "CAD" || !decEq(got.CashAmount, c.cash) || got.FXPackID != c.pack || !decEq(got.FXRate.Decimal, c.rate) {
			t.Errorf("dividend paid %s: cash %s %s at %s from %s, want CAD %s at %s from %s",
				c.pay, got.CashAmount, got.CashCurrency, got.FXRate.Decimal, got.FXPackID, c.cash, c.rate, c.pack)
		}
	}
	// A dividend in a currency the pack has no rate for, and one paid
	// before any pack: errors naming the pair and the date, nothing
	// written.
	before := f.count("transactions")
	_, err := f.apply(storage.Transaction{Type: storage.TxDividend, TradeDate: day("2024-03-15"), SecurityID: f.sec["EVO"].ID, Amount: dec("10")})
	if !errors.Is(err, storage.ErrMissingFX) || !strings.Contains(err.Error(), "EUR/CAD") || !strings.Contains(err.Error(), "2024-03-15") {
		t.Errorf("EUR dividend without EUR/CAD: err = %v, want ErrMissingFX naming EUR/CAD and 2024-03-15", err)
	}
	_, err = f.apply(storage.Transaction{Type: storage.TxDividend, TradeDate: day("2024-03-13"), SecurityID: f.sec["NKE"].ID, Amount: dec("10")})
	if !errors.Is(err, storage.ErrNoFreshPack) || !strings.Contains(err.Error(), "USD/CAD") {
		t.Errorf("dividend before any pack: err = %v, want ErrNoFreshPack naming USD/CAD", err)
	}
	if got := f.count("transactions"); got != before {
		t.Errorf("transactions = %d after failed dividends, want %d", got, before)
	}
}

// ledgerState is everything the ledger derives, in a stable order.
type ledgerState struct {
	Lots    []string
	Reliefs []string
	Flows   []string
	Derived []string
}

func (f *fixture) ledgerState() ledgerState {
	f.t.Helper()
	var s ledgerState
	read := func(dst *[]string, sql string) {
		err := f.db.Query(f.ctx, func(rows pgx.Rows) error {
			for rows.Next() {
				vals, err := rows.Values()
				if err != nil {
					return err
				}
				*dst = append(*dst, fmt.Sprint(vals...))
			}
			return nil
		}, sql, f.pf.ID)
		if err != nil {
			f.t.Fatalf("read ledger state: %v", err)
		}
	}
	read(&s.Lots, `SELECT id::text, security_id::text, acquired_date::text, quantity_original::text, quantity_open::text,
		cost_basis_original::text, cost_basis_open::text, cost_per_share::text, currency, coalesce(closed_date::text, '-')
		FROM lots WHERE portfolio_id = $1 ORDER BY id`)
	read(&s.Reliefs, `SELECT transaction_id::text, lot_id::text, relief_date::text, quantity::text, cost_relieved::text,
		coalesce(proceeds::text, '-'), coalesce(realized_pl::text, '-') FROM lot_reliefs WHERE portfolio_id = $1 ORDER BY 1, 2`)
	read(&s.Flows, `SELECT transaction_id::text, flow_date::text, type, amount::text, currency
		FROM portfolio_cash_flows WHERE portfolio_id = $1 ORDER BY 1`)
	read(&s.Derived, `SELECT id::text, coalesce(realized_pl::text, '-'), cash_amount::text, cash_currency,
		coalesce(fx_rate::text, '-'), coalesce(fx_pack_id, '-') FROM transactions WHERE portfolio_id = $1 ORDER BY seq`)
	return s
}

func (f *fixture) replay() {
	f.t.Helper()
	if err := f.db.Tx(f.ctx, func(tx pgx.Tx) error { return storage.ReplayLedger(f.ctx, tx, f.pf.ID) }); err != nil {
		f.t.Fatalf("replay: %v", err)
	}
}

func (f *fixture) ledgerHash() string {
	f.t.Helper()
	h, err := storage.LedgerCommitHash(f.ctx, f.db.Pool(), f.pf.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

// TestReplayRoundTrip: the lots, reliefs, flows and derived fields that
// ApplyTransaction wrote one by one equal those ReplayLedger rebuilds from
// the transactions alone, for every method; a back-dated transaction gives
// the same state as replaying with it in place.
func TestReplayRoundTrip(t *testing.T) {
	t.Parallel()
	shared := setup(t, storage.CostBasisFIFO, "CAD")
	shared.buildPack("2024-01-31", map[string]string{"NKE": "100", "XYZ": "11"}, []storage.FXQuote{fx("USD", "CAD", "1.34")})
	for _, method := range []string{storage.CostBasisFIFO, storage.CostBasisLIFO, storage.CostBasisHIFO, storage.CostBasisAverageCost, storage.CostBasisSpecificLot} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			f := shared.sub(t, method)
			f.mustApply(storage.Transaction{Type: storage.TxDeposit, TradeDate: day("2024-01-02"), Amount: dec("20000")})
			l1 := f.buy("2024-01-03", "XYZ", "100", "10", "5").OpenedLot
			f.buy("2024-01-04", "XYZ", "60", "12.5", "5")
			f.buy("2024-01-05", "NKE", "30", "98.25", "1")
			l4 := f.buy("2024-01-08", "XYZ", "40", "9.75", "0").OpenedLot
			f.mustApply(storage.Transaction{Type: storage.TxSplit, TradeDate: day("2024-01-15"), SecurityID: f.sec["XYZ"].ID, SplitRatio: dec("3")})
			sell := storage.Transaction{Type: storage.TxSell, TradeDate: day("2024-02-01"), SecurityID: f.sec["XYZ"].ID, Quantity: dec("250"), Price: dec("4.1"), Fees: dec("7")}
			if method == storage.CostBasisSpecificLot {
				sell.LotID, sell.Quantity = l1, dec("250")
			}
			f.mustApply(sell)
			f.mustApply(storage.Transaction{Type: storage.TxDividend, TradeDate: day("2024-02-05"), SettleDate: day("2024-02-09"), SecurityID: f.sec["NKE"].ID, Amount: dec("12.3"), Fees: dec("1.85")})
			f.mustApply(storage.Transaction{Type: storage.TxFee, TradeDate: day("2024-02-10"), Amount: dec("25")})
			f.mustApply(storage.Transaction{Type: storage.TxWithdrawal, TradeDate: day("2024-02-12"), Amount: dec("1000")})
			sell2 := storage.Transaction{Type: storage.TxSell, TradeDate: day("2024-02-13"), SecurityID: f.sec["XYZ"].ID, Quantity: dec("35"), Price: dec("4.3")}
			if method == storage.CostBasisSpecificLot {
				sell2.LotID = l4
			}
			f.mustApply(sell2)

			applied, hash := f.ledgerState(), f.ledgerHash()
			f.replay()
			if got := f.ledgerState(); !reflect.DeepEqual(got, applied) {
				t.Errorf("replayed state differs\n got: %+v\nwant: %+v", got, applied)
			}
			if got := f.ledgerHash(); got != hash {
				t.Errorf("ledger hash after replay = %s, want %s", got, hash)
			}

			// Back-dated buy: ApplyTransaction replays; the state then
			// equals a replay from scratch, and the hash changes.
			a := f.buy("2024-01-04", "XYZ", "10", "11", "0")
			if !a.Replayed {
				t.Errorf("back-dated buy: Replayed = false")
			}
			backdated := f.ledgerState()
			f.replay()
			if got := f.ledgerState(); !reflect.DeepEqual(got, backdated) {
				t.Errorf("state after back-dated buy differs from a replay\n got: %+v\nwant: %+v", backdated, got)
			}
			if f.ledgerHash() == hash {
				t.Errorf("ledger hash unchanged by a new transaction")
			}
			// As-of positions replayed in memory agree with the lots
			// table at the last date.
			last, err := storage.OpenPositions(f.ctx, f.db.Pool(), f.pf.ID, day("2024-12-31"))
			if err != nil {
				t.Fatal(err)
			}
			replayed, err := storage.OpenPositions(f.ctx, f.db.Pool(), f.pf.ID, day("2024-02-12"))
			if err != nil {
				t.Fatal(err)
			}
			if len(last) != len(replayed) {
				t.Fatalf("positions now %+v, as of 2024-02-12 %+v", last, replayed)
			}
		})
	}
}

// TestIdempotentImport: the same source and line applied twice is one
// transaction.
func TestIdempotentImport(t *testing.T) {
	t.Parallel()
	f := setup(t, storage.CostBasisFIFO, "CAD")
	tx := storage.Transaction{Type: storage.TxBuy, TradeDate: day("2024-01-02"), SecurityID: f.sec["XYZ"].ID,
		Quantity: dec("5"), Price: dec("10"), Source: "import:abc123", SourceRef: "line 7"}
	first := f.mustApply(tx)
	second := f.mustApply(tx)
	if first.Duplicate || !second.Duplicate || second.Transaction.ID != first.Transaction.ID {
		t.Errorf("duplicate = %v/%v, ids %s/%s; want false/true and one id", first.Duplicate, second.Duplicate, first.Transaction.ID, second.Transaction.ID)
	}
	if n := f.count("lots"); n != 1 {
		t.Errorf("lots = %d, want 1", n)
	}
}

// TestPositionsAsOf: positions at a past date come from the transactions
// up to it.
func TestPositionsAsOf(t *testing.T) {
	t.Parallel()
	f := setup(t, storage.CostBasisFIFO, "CAD")
	f.buy("2024-01-02", "XYZ", "100", "10", "")
	f.buy("2024-01-10", "XYZ", "50", "12", "")
	f.mustApply(storage.Transaction{Type: storage.TxSplit, TradeDate: day("2024-01-15"), SecurityID: f.sec["XYZ"].ID, SplitRatio: dec("2")})
	f.mustApply(storage.Transaction{Type: storage.TxSell, TradeDate: day("2024-01-20"), SecurityID: f.sec["XYZ"].ID, Quantity: dec("250"), Price: dec("7")})
	cases := []struct {
		asOf      string
		qty, cost string
		lots      int
	}{
		{"2024-01-01", "", "", 0},
		{"2024-01-05", "100", "1000", 1},
		{"2024-01-12", "150", "1600", 2},
		{"2024-01-15", "300", "1600", 2},
		// 250 of 300: lot 1 (200 sh, 1000) and 50 of lot 2 (100 sh, 600):
		// 50 left at 300.
		{"2024-01-20", "50", "300", 1},
		{"", "50", "300", 1},
	}
	for _, c := range cases {
		var asOf time.Time
		if c.asOf != "" {
			asOf = day(c.asOf)
		}
		pos, err := storage.OpenPositions(f.ctx, f.db.Pool(), f.pf.ID, asOf)
		if err != nil {
			t.Fatal(err)
		}
		if c.lots == 0 {
			if len(pos) != 0 {
				t.Errorf("as of %s: positions = %+v, want none", c.asOf, pos)
			}
			continue
		}
		if len(pos) != 1 || !decEq(pos[0].Quantity, c.qty) || !decEq(pos[0].CostBasis, c.cost) || pos[0].Lots != c.lots ||
			pos[0].Symbol != "XYZ" || pos[0].Type != storage.SecurityEquity {
			t.Errorf("as of %s: positions = %+v, want XYZ %s costing %s in %d lots", c.asOf, pos, c.qty, c.cost, c.lots)
		}
	}
}

func TestInvalidTransactions(t *testing.T) {
	t.Parallel()
	f := setup(t, storage.CostBasisFIFO, "CAD")
	xyz := f.sec["XYZ"].ID
	cases := []struct {
		name string
		tx   storage.Transaction
	}{
		{"buy without quantity", storage.Transaction{Type: storage.TxBuy, TradeDate: day("2024-01-02"), SecurityID: xyz, Price: dec("1")}},
		{"buy without security", storage.Transaction{Type: storage.TxBuy, TradeDate: day("2024-01-02"), Quantity: dec("1"), Price: dec("1")}},
		{"buy in another currency", storage.Transaction{Type: storage.TxBuy, TradeDate: day("2024-01-02"), SecurityID: xyz, Quantity: dec("1"), Price: dec("1"), Currency: "USD"}},
		{"split without ratio", storage.Transaction{Type: storage.TxSplit, TradeDate: day("2024-01-02"), SecurityID: xyz}},
		{"deposit of nothing", storage.Transaction{Type: storage.TxDeposit, TradeDate: day("2024-01-02")}},
		{"negative fees", storage.Transaction{Type: storage.TxDeposit, TradeDate: day("2024-01-02"), Amount: dec("1"), Fees: dec("-1")}},
		{"unknown type", storage.Transaction{Type: "GIFT", TradeDate: day("2024-01-02"), Amount: dec("1")}},
		{"no date", storage.Transaction{Type: storage.TxDeposit, Amount: dec("1")}},
		{"source without ref", storage.Transaction{Type: storage.TxDeposit, TradeDate: day("2024-01-02"), Amount: dec("1"), Source: "x"}},
	}
	for _, c := range cases {
		if _, err := f.apply(c.tx); !errors.Is(err, storage.ErrInvalidTransaction) {
			t.Errorf("%s: err = %v, want ErrInvalidTransaction", c.name, err)
		}
	}
	if n := f.count("transactions"); n != 0 {
		t.Errorf("transactions = %d, want 0", n)
	}
}
