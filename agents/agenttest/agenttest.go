// Package agenttest holds the fixtures the agents' tests share: the demo
// dataset on a test's own database, plain-SQL readings of it that do not
// go through the storage package, and the -update flag of the golden
// files. Only tests import it.
//
// Calling one capability with the checks a step gets is
// orchestrator/enginetest's Harness, and running a whole pattern is
// enginetest.Start: both need the orchestrator, which nothing in the
// agents folder may import.
package agenttest

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
	"github.com/dawsos/dawsos/storage/seed"
)

// update is defined here, once per test binary: a second definition of
// the same flag in one binary panics at start-up.
var update = flag.Bool("update", false, "rewrite the golden outputs under testdata/")

// Update reports whether the test binary runs with -update, which
// rewrites the golden files (enginetest.Golden) instead of comparing.
func Update() bool { return *update }

// Demo is the demo dataset of storage/seed (seed 7) on a test's own
// database.
type Demo struct {
	DB     *storage.DB
	Report seed.Report
	// End is the last day with prices; PackID is the newest fresh pack on
	// or before it, the pack a run as of End values with.
	End    time.Time
	PackID string
	// Ports are the demo portfolios by base currency (one each).
	Ports map[string]seed.PortfolioInfo
}

// SeedDemo loads the demo dataset with prices over the months before end
// (the macro series start two years earlier still). The users get fixed
// passwords, so that nothing random enters the data.
func SeedDemo(t testing.TB, end time.Time, months int) Demo {
	t.Helper()
	db := pgtest.NewDB(t)
	rep, err := seed.Run(context.Background(), db, seed.Options{Seed: 7, Start: end.AddDate(0, -months, 0), End: end,
		Passwords: map[string]string{seed.RoleAdmin: "a-pw", seed.RoleManager: "m-pw", seed.RoleViewer: "v-pw"}})
	if err != nil {
		t.Fatal(err)
	}
	dm := Demo{DB: db, Report: rep, End: end, PackID: FreshPack(t, db, end), Ports: map[string]seed.PortfolioInfo{}}
	for _, p := range rep.Portfolios {
		dm.Ports[p.BaseCurrency] = p
	}
	return dm
}

// FreshPack is the id of the newest fresh, not superseded pricing pack
// dated on or before day, read with plain SQL.
func FreshPack(t testing.TB, db *storage.DB, day time.Time) string {
	t.Helper()
	var id string
	if err := db.QueryRow(context.Background(), `SELECT id FROM pricing_packs WHERE pack_date <= $1 AND status = 'fresh' AND superseded_by IS NULL
		ORDER BY pack_date DESC LIMIT 1`, []any{day}, &id); err != nil {
		t.Fatalf("the fresh pack on or before %s: %v", day.Format(time.DateOnly), err)
	}
	return id
}

// portfolioValue values a portfolio from the raw tables in one SQL
// statement: open lots × the pack's closes × the pack's rate to the base
// currency (inverted where only the other direction is stored), plus the
// cash of every transaction up to the pack's date at the same rates.
const portfolioValue = `
WITH p AS (SELECT base_currency AS b FROM portfolios WHERE id = $1),
pk AS (SELECT pack_date FROM pricing_packs WHERE id = $2),
ccys AS (SELECT DISTINCT currency AS c FROM prices WHERE pack_id = $2
         UNION SELECT DISTINCT cash_currency FROM transactions WHERE portfolio_id = $1),
rate AS (SELECT c, CASE WHEN c = (SELECT b FROM p) THEN 1::numeric ELSE coalesce(
           (SELECT rate FROM fx_rates WHERE pack_id = $2 AND from_ccy = c AND to_ccy = (SELECT b FROM p)),
           1 / (SELECT rate FROM fx_rates WHERE pack_id = $2 AND from_ccy = (SELECT b FROM p) AND to_ccy = c)) END AS r
         FROM ccys),
held AS (SELECT security_id, sum(quantity_open) AS q FROM lots WHERE portfolio_id = $1 AND quantity_open > 0 GROUP BY security_id)
SELECT coalesce((SELECT sum(h.q * pr.close * r.r) FROM held h
                 JOIN prices pr ON pr.pack_id = $2 AND pr.security_id = h.security_id JOIN rate r ON r.c = pr.currency), 0)
     + coalesce((SELECT sum(t.cash_amount * r.r) FROM transactions t JOIN rate r ON r.c = t.cash_currency
                 WHERE t.portfolio_id = $1 AND t.trade_date <= (SELECT pack_date FROM pk)), 0),
       (SELECT count(*) FROM held)`

// PortfolioValue is the total value of a portfolio with a pack and the
// number of securities it holds, recomputed from the raw tables with no
// code of the storage package, for checking valuations against.
func PortfolioValue(t testing.TB, db *storage.DB, portfolio uuid.UUID, packID string) (total decimal.Decimal, held int) {
	t.Helper()
	if err := db.QueryRow(context.Background(), portfolioValue, []any{portfolio, packID}, &total, &held); err != nil {
		t.Fatalf("value portfolio %s with pack %s by SQL: %v", portfolio, packID, err)
	}
	return total, held
}
