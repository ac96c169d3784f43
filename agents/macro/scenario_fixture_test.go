package macro_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/agents/macro"
	"github.com/dawsos/dawsos/agents/optimizer"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

// scenHarness is a harness whose run context names a run, a step and a
// user, with the clock its macro agent reads, which the alert tests move.
type scenHarness struct {
	*enginetest.Harness
	now time.Time
}

func newScenHarness(t *testing.T, db *storage.DB) *scenHarness {
	h := &scenHarness{}
	h.Harness = enginetest.NewHarness(t, db, macro.New(agents.Deps{DB: db, Now: func() time.Time { return h.now }}),
		analyst.New(agents.Deps{DB: db, RiskFreeRate: 0.04}), optimizer.New(agents.Deps{DB: db}))
	h.Step = "step"
	return h
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// scenAsOf is the as-of date of the hand-built book; its pack is dated the
// same day.
var scenAsOf = day("2025-06-30")

// scenBook is a small dataset built by hand, every figure of which can be
// worked out on paper. One USD pack on 2025-06-30 with closes
//
//	SCA  EQUITY  Technology    100
//	SCB  ETF     Commodities    50
//	SCH  EQUITY  Health Care    40
//	SCU  EQUITY  Unclassified   10  (no heuristic class)
//
// and USD portfolios, each funded with exactly the cost of its buys on
// 2025-06-02 (no fees, so no cash is left):
//
//	one      100 SCA                    = 10,000
//	two      100 SCA + 200 SCB          = 20,000
//	heur     50 SCA + 100 SCH           =  9,000 (no betas rows: heuristic)
//	noclass  100 SCU                    =  1,000
//	cash     a deposit of 1,000 only
//	empty    nothing
//
// Regression betas (position_factor_betas):
//
//	one/SCA  2025-06-27  real_rates −3, equity 1.2, others 0
//	one/SCA  2025-07-15  equity 9    (after the as-of date: ignored)
//	one/SCA  2025-06-29  equity 5    (method heuristic: ignored)
//	two/SCA  2025-06-27  equity 1, others 0
//	two/SCB  2025-06-27  commodity 1, others 0
//
// The library (scenario_shocks) holds seven hand-made scenarios, listed in
// scenLibrary.
type scenBook struct {
	db                                   *storage.DB
	owner                                uuid.UUID
	packID                               string
	one, two, heur, noclass, cash, empty uuid.UUID
	sca, scb, sch, scu                   uuid.UUID
}

// scenLibraryRow is one hand-made scenario.
type scenLibraryRow struct {
	id          string
	shocks      [7]float64
	probability float64
}

// scenLibrary is the hand-made library, shocks in model order (real
// rates, inflation, credit, usd, equity, commodity, volatility).
var scenLibrary = []scenLibraryRow{
	{"equities_down_20pct", [7]float64{0, 0, 0, 0, -0.20, 0, 0}, 0.12},
	{"t_eq_down_30", [7]float64{0, 0, 0, 0, -0.30, 0, 0}, 0.05},
	{"t_eq_com_down", [7]float64{0, 0, 0, 0, -0.10, -0.10, 0}, 0.10},
	{"t_eq_up_5", [7]float64{0, 0, 0, 0, 0.05, 0, 0}, 0.30},
	{"t_eq_com_up", [7]float64{0, 0, 0, 0, 0.20, 0.10, 0}, 0.10},
	{"t_com_down_40", [7]float64{0, 0, 0, 0, 0, -0.40, 0}, 0.10},
	{"t_rates_up_100", [7]float64{0.01, 0, 0, 0, 0, 0, 0}, 0.15},
}

func buildScenBook(t *testing.T) scenBook {
	t.Helper()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	b := scenBook{db: db}
	if err := db.QueryRow(ctx, `INSERT INTO users (email, password_hash) VALUES ('scen@example.com', 'x') RETURNING id`, nil, &b.owner); err != nil {
		t.Fatal(err)
	}
	buyDay := day("2025-06-02")
	err := db.Tx(ctx, func(tx pgx.Tx) error {
		for _, s := range []struct {
			id           *uuid.UUID
			sym, typ, sc string
		}{{&b.sca, "SCA", "EQUITY", "Technology"}, {&b.scb, "SCB", "ETF", "Commodities"}, {&b.sch, "SCH", "EQUITY", "Health Care"},
			{&b.scu, "SCU", "EQUITY", "Unclassified"}} {
			sec, err := storage.UpsertSecurity(ctx, tx, storage.Security{Symbol: s.sym, Name: s.sym + " Inc", Type: s.typ, Currency: "USD",
				Sector: s.sc, Active: true})
			if err != nil {
				return err
			}
			*s.id = sec.ID
		}
		pk, err := storage.BuildPricingPack(ctx, tx, scenAsOf, "close", []storage.Price{
			{SecurityID: b.sca, Close: dec("100"), Currency: "USD"}, {SecurityID: b.scb, Close: dec("50"), Currency: "USD"},
			{SecurityID: b.sch, Close: dec("40"), Currency: "USD"}, {SecurityID: b.scu, Close: dec("10"), Currency: "USD"},
		}, nil)
		if err != nil {
			return err
		}
		b.packID = pk.ID
		for _, p := range []struct {
			id   *uuid.UUID
			name string
		}{{&b.one, "one"}, {&b.two, "two"}, {&b.heur, "heur"}, {&b.noclass, "noclass"}, {&b.cash, "cash"}, {&b.empty, "empty"}} {
			pf, err := storage.CreatePortfolio(ctx, tx, storage.Portfolio{OwnerID: b.owner, Name: p.name, BaseCurrency: "USD", Active: true})
			if err != nil {
				return err
			}
			*p.id = pf.ID
		}
		buy := func(p, s uuid.UUID, q, px string) storage.Transaction {
			return storage.Transaction{PortfolioID: p, Type: storage.TxBuy, SecurityID: s, TradeDate: buyDay, Quantity: dec(q), Price: dec(px), Currency: "USD"}
		}
		dep := func(p uuid.UUID, amt string) storage.Transaction {
			return storage.Transaction{PortfolioID: p, Type: storage.TxDeposit, TradeDate: buyDay, Amount: dec(amt), Currency: "USD"}
		}
		for _, tr := range []storage.Transaction{
			dep(b.one, "10000"), buy(b.one, b.sca, "100", "100"),
			dep(b.two, "20000"), buy(b.two, b.sca, "100", "100"), buy(b.two, b.scb, "200", "50"),
			dep(b.heur, "9000"), buy(b.heur, b.sca, "50", "100"), buy(b.heur, b.sch, "100", "40"),
			dep(b.noclass, "1000"), buy(b.noclass, b.scu, "100", "10"),
			dep(b.cash, "1000"),
		} {
			if _, err := storage.ApplyTransaction(ctx, tx, tr); err != nil {
				return err
			}
		}
		for _, r := range []struct {
			p, s   uuid.UUID
			date   string
			betas  [7]float64
			method string
		}{
			{b.one, b.sca, "2025-06-27", [7]float64{-3, 0, 0, 0, 1.2, 0, 0}, "regression"},
			{b.one, b.sca, "2025-07-15", [7]float64{0, 0, 0, 0, 9, 0, 0}, "regression"},
			{b.one, b.sca, "2025-06-29", [7]float64{0, 0, 0, 0, 5, 0, 0}, "heuristic"},
			{b.two, b.sca, "2025-06-27", [7]float64{0, 0, 0, 0, 1, 0, 0}, "regression"},
			{b.two, b.scb, "2025-06-27", [7]float64{0, 0, 0, 0, 0, 1, 0}, "regression"},
		} {
			var obs any
			if r.method == "regression" {
				obs = 250
			}
			if _, err := tx.Exec(ctx, `INSERT INTO position_factor_betas (portfolio_id, security_id, as_of_date, beta_real_rates,
					beta_inflation, beta_credit, beta_usd, beta_equity, beta_commodity, beta_volatility, method, r_squared, observations)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0.5, $12)`, r.p, r.s, day(r.date), r.betas[0], r.betas[1],
				r.betas[2], r.betas[3], r.betas[4], r.betas[5], r.betas[6], r.method, obs); err != nil {
				return err
			}
		}
		for _, s := range scenLibrary {
			sh := s.shocks
			if _, err := tx.Exec(ctx, `INSERT INTO scenario_shocks (id, name, category, shock_real_rates, shock_inflation, shock_credit,
					shock_usd, shock_equity, shock_commodity, shock_volatility, probability, source)
				VALUES ($1, $1, 'test', $2, $3, $4, $5, $6, $7, $8, $9, 'hand-made for the test')`,
				s.id, sh[0], sh[1], sh[2], sh[3], sh[4], sh[5], sh[6], s.probability); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// harness returns a harness on the book as of its date, with its pack.
func (b scenBook) harness(t *testing.T) *scenHarness {
	h := newScenHarness(t, b.db)
	h.Run = agents.RunContext{RunID: "run-1", PricingPackID: b.packID, AsOfDate: scenAsOf.Format(time.DateOnly), UserID: b.owner.String()}
	return h
}

// insertRegime writes a regime_history row by hand.
func insertRegime(t *testing.T, db *storage.DB, date, regime string, confidence float64) {
	t.Helper()
	if _, err := db.Exec(context.Background(), `INSERT INTO regime_history (as_of_date, regime, confidence) VALUES ($1, $2, $3)
		ON CONFLICT (as_of_date) DO UPDATE SET regime = EXCLUDED.regime, confidence = EXCLUDED.confidence`, day(date), regime, confidence); err != nil {
		t.Fatal(err)
	}
}

// Daily volatilities of the hand-made factor paths, in model order, and
// the correlation of equity and commodity moves.
var (
	scenFactorVol = [7]float64{0.0006, 0.0004, 0.0003, 0.004, 0.01, 0.02, 0.05}
	scenEqComCorr = 0.3
)

// insertFactorPaths writes the seven factor series for the n business days
// ending on end, plus the day before (so the first day has a change):
// independent normal moves with scenFactorVol, equity and commodity
// correlated, drawn from a fixed PCG seed. Rates are levels in percent
// (level += 100 × move), the others index levels (level × (1 + move)).
func insertFactorPaths(t *testing.T, db *storage.DB, end time.Time, n int) {
	t.Helper()
	days := businessDays(end, n+1)
	rng := rand.New(rand.NewPCG(11, 12))
	ids := []string{"DFII10", "T10YIE", "BAMLC0A0CM", "DTWEXBGS", "SP500", "DCOILWTICO", "VIXCLS"}
	level := []float64{1.5, 2.3, 1.2, 120, 5000, 70, 15}
	var rows []obs
	for i, d := range days {
		if i > 0 {
			var z [7]float64
			for f := range z {
				z[f] = rng.NormFloat64()
			}
			z[5] = scenEqComCorr*z[4] + math.Sqrt(1-scenEqComCorr*scenEqComCorr)*z[5]
			for f := range level {
				m := scenFactorVol[f] * z[f]
				if f < 3 {
					level[f] += 100 * m
				} else {
					level[f] *= 1 + m
				}
			}
		}
		for f, id := range ids {
			rows = append(rows, obs{series: id, date: d, value: level[f]})
		}
	}
	insertObs(t, db, rows)
}

// sqlReturns reads the daily returns of a level series (value / previous
// value − 1) with plain SQL, by date, for dates from..to.
func sqlReturns(t *testing.T, db *storage.DB, series string, from, to time.Time) map[time.Time]float64 {
	t.Helper()
	out := map[time.Time]float64{}
	err := db.Query(context.Background(), func(rows pgx.Rows) error {
		for rows.Next() {
			var d time.Time
			var r float64
			if err := rows.Scan(&d, &r); err != nil {
				return err
			}
			out[d] = r
		}
		return rows.Err()
	}, `SELECT obs_date, r FROM (SELECT obs_date, value / lag(value) OVER (ORDER BY obs_date) - 1 AS r
		FROM macro_indicators WHERE series_id = $1) s WHERE r IS NOT NULL AND obs_date BETWEEN $2 AND $3`, series, from, to)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// scenWantCode fails unless err is an *agents.Error with code, whose
// message names every one of names and, when field is not empty, whose
// field (or one of whose fields) is field.
func scenWantCode(t *testing.T, what string, err error, code, field string, names ...string) {
	t.Helper()
	var ae *agents.Error
	if !errors.As(err, &ae) || ae.Code != code {
		t.Fatalf("%s: %v; want code %s", what, err, code)
	}
	if field != "" {
		ok := ae.Field == field
		for _, f := range ae.Fields {
			ok = ok || f.Field == field
		}
		if !ok {
			t.Errorf("%s: error %+v does not name field %s", what, ae, field)
		}
	}
	for _, n := range names {
		if !strings.Contains(ae.Message, n) {
			t.Errorf("%s: error %q does not name %s", what, ae.Message, n)
		}
	}
}
