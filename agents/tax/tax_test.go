package tax_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/tax"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

func TestMain(m *testing.M) { pgtest.MainWithLeakCheck(m) }

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// newHarness calls the tax capabilities, with the checks a step gets, in
// a run as of asOf.
func newHarness(t *testing.T, db *storage.DB, asOf string) *enginetest.Harness {
	return enginetest.NewHarness(t, db, tax.New(agents.Deps{DB: db})).At(asOf)
}

// wantCode fails unless err is an *agents.Error with code whose message
// contains every one of contains.
func wantCode(t *testing.T, what string, err error, code string, contains ...string) {
	t.Helper()
	var ae *agents.Error
	if !errors.As(err, &ae) || ae.Code != code {
		t.Fatalf("%s: %v; want code %s", what, err, code)
	}
	for _, c := range contains {
		if !strings.Contains(ae.Error(), c) {
			t.Fatalf("%s: %v; want a message containing %q", what, err, c)
		}
	}
}

// eq fails unless got equals want exactly (decimals, compared as numbers).
func eq(t *testing.T, what string, got decimal.Decimal, want string) {
	t.Helper()
	if !got.Equal(d(want)) {
		t.Errorf("%s = %s; want %s", what, got, want)
	}
}

// book builds portfolios by hand through the ledger.
type book struct {
	t     *testing.T
	db    *storage.DB
	owner uuid.UUID
	sec   map[string]storage.Security
}

func newBook(t *testing.T) *book {
	t.Helper()
	db := pgtest.NewDB(t)
	b := &book{t: t, db: db, sec: map[string]storage.Security{}}
	if err := db.QueryRow(context.Background(), `INSERT INTO users (email, password_hash) VALUES ('tax@example.com', 'x') RETURNING id`,
		nil, &b.owner); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *book) tx(fn func(tx pgx.Tx) error) {
	b.t.Helper()
	if err := b.db.Tx(context.Background(), fn); err != nil {
		b.t.Fatal(err)
	}
}

func (b *book) security(sym, ccy string) uuid.UUID {
	b.t.Helper()
	b.tx(func(tx pgx.Tx) error {
		s, err := storage.UpsertSecurity(context.Background(), tx, storage.Security{Symbol: sym, Name: sym, Type: "EQUITY", Currency: ccy,
			Sector: "Technology", Active: true})
		b.sec[sym] = s
		return err
	})
	return b.sec[sym].ID
}

func (b *book) portfolio(name, base, method string) uuid.UUID {
	b.t.Helper()
	var id uuid.UUID
	b.tx(func(tx pgx.Tx) error {
		p, err := storage.CreatePortfolio(context.Background(), tx, storage.Portfolio{OwnerID: b.owner, Name: name, BaseCurrency: base,
			CostBasisMethod: method, Active: true})
		id = p.ID
		return err
	})
	return id
}

// apply posts transactions through storage.ApplyTransaction and returns
// their ids.
func (b *book) apply(txs ...storage.Transaction) []uuid.UUID {
	b.t.Helper()
	var ids []uuid.UUID
	b.tx(func(tx pgx.Tx) error {
		for _, t := range txs {
			a, err := storage.ApplyTransaction(context.Background(), tx, t)
			if err != nil {
				return err
			}
			ids = append(ids, a.Transaction.ID)
		}
		return nil
	})
	return ids
}

// pack builds a fresh pricing pack of closes by symbol (in each security's
// currency) and rates.
func (b *book) pack(day string, closes map[string]string, fx ...storage.FXQuote) string {
	b.t.Helper()
	var id string
	b.tx(func(tx pgx.Tx) error {
		var prices []storage.Price
		for sym, c := range closes {
			s := b.sec[sym]
			prices = append(prices, storage.Price{SecurityID: s.ID, Close: d(c), Currency: s.Currency})
		}
		p, err := storage.BuildPricingPack(context.Background(), tx, date(day), "close", prices, fx)
		id = p.ID
		return err
	})
	return id
}

func buy(p, sec uuid.UUID, day, qty, price, fees string) storage.Transaction {
	return storage.Transaction{PortfolioID: p, SecurityID: sec, Type: storage.TxBuy, TradeDate: date(day), Quantity: d(qty), Price: d(price), Fees: d(fees)}
}

func sell(p, sec uuid.UUID, day, qty, price, fees string) storage.Transaction {
	return storage.Transaction{PortfolioID: p, SecurityID: sec, Type: storage.TxSell, TradeDate: date(day), Quantity: d(qty), Price: d(price), Fees: d(fees)}
}

func deposit(p uuid.UUID, day, amount, ccy string) storage.Transaction {
	return storage.Transaction{PortfolioID: p, Type: storage.TxDeposit, TradeDate: date(day), Amount: d(amount), Currency: ccy}
}
