package csvimport_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/csvimport"
	"github.com/dawsos/dawsos/storage/pgtest"
)

func TestMain(m *testing.M) { pgtest.MainWithLeakCheck(m) }

// today is the injected clock of every test: 2024-06-28 10:00 UTC.
var today = time.Date(2024, 6, 28, 10, 0, 0, 0, time.UTC)

func opts() csvimport.Options {
	return csvimport.Options{Now: func() time.Time { return today }}
}

type fixture struct {
	t    *testing.T
	ctx  context.Context
	db   *storage.DB
	user uuid.UUID
	sec  map[string]storage.Security
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	f := &fixture{t: t, ctx: ctx, db: pgtest.NewDB(t), sec: map[string]storage.Security{}}
	if err := f.db.QueryRow(ctx, `INSERT INTO users (email, password_hash, role) VALUES ('owner@example.com', 'x', 'USER') RETURNING id`,
		nil, &f.user); err != nil {
		t.Fatalf("insert user: %v", err)
	}
	for _, s := range []storage.Security{
		{Symbol: "NKE", Name: "Nike", Type: storage.SecurityEquity, Currency: "USD"},
		{Symbol: "CNR", Name: "Canadian National Railway", Type: storage.SecurityEquity, Currency: "CAD"},
		{Symbol: "EVO", Name: "Evolution", Type: storage.SecurityEquity, Currency: "EUR"},
	} {
		s.Active = true
		got, err := storage.UpsertSecurity(ctx, f.db.Pool(), s)
		if err != nil {
			t.Fatalf("upsert security %s: %v", s.Symbol, err)
		}
		f.sec[s.Symbol] = got
	}
	return f
}

func (f *fixture) portfolio(t *testing.T, name, method string) storage.Portfolio {
	t.Helper()
	p, err := storage.CreatePortfolio(f.ctx, f.db.Pool(), storage.Portfolio{OwnerID: f.user, Name: name, BaseCurrency: "USD",
		CostBasisMethod: method, Active: true})
	if err != nil {
		t.Fatalf("create portfolio %s: %v", name, err)
	}
	return p
}

// ledgerCounts counts a portfolio's rows in every ledger table.
func (f *fixture) ledgerCounts(t *testing.T, pid uuid.UUID) string {
	t.Helper()
	var parts []string
	for _, table := range []string{"transactions", "lots", "lot_reliefs", "portfolio_cash_flows"} {
		var n int
		if err := f.db.QueryRow(f.ctx, `SELECT count(*) FROM `+table+` WHERE portfolio_id = $1`, []any{pid}, &n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		parts = append(parts, fmt.Sprintf("%s=%d", table, n))
	}
	return strings.Join(parts, " ")
}

// packCounts counts the rows of the pricing tables.
func (f *fixture) packCounts(t *testing.T) string {
	t.Helper()
	var parts []string
	for _, table := range []string{"pricing_packs", "prices", "fx_rates"} {
		var n int
		if err := f.db.QueryRow(f.ctx, `SELECT count(*) FROM `+table, nil, &n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		parts = append(parts, fmt.Sprintf("%s=%d", table, n))
	}
	return strings.Join(parts, " ")
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// problems renders row errors as "line:field:code" for comparison.
func problems(rows []csvimport.RowError) string {
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%d:%s:%s", r.Line, r.Field, r.Code))
	}
	return strings.Join(out, " ")
}

func mustDay(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}
