package analyst_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

// testRiskFree is the annual risk-free rate the performance tests run with.
const testRiskFree = 0.04

// newPerfHarness is newHarness with a risk-free rate and a run context.
func newPerfHarness(t *testing.T, db *storage.DB, rc agents.RunContext) *enginetest.Harness {
	h := enginetest.NewHarness(t, db, analyst.New(agents.Deps{DB: db, RiskFreeRate: testRiskFree}))
	h.Run = rc
	return h
}

// wantCode fails unless err is an *agents.Error with code and, when
// contains is not empty, a message containing it.
func wantCode(t *testing.T, what string, err error, code, contains string) {
	t.Helper()
	var ae *agents.Error
	if !errors.As(err, &ae) || ae.Code != code || !strings.Contains(ae.Message, contains) {
		t.Fatalf("%s: %v; want %s containing %q", what, err, code, contains)
	}
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

func date(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }

// handBook is a small dataset built by hand: three packs and five USD
// portfolios whose every figure can be worked out on paper.
//
// Packs (closes; 1 EUR and 1 CAD in USD):
//
//	            X (USD)  Z (EUR)  Y (trades in USD)  EUR/USD  CAD/USD
//	2024-01-02    100      50        20 USD           1.10     0.75
//	2024-07-01    110      52        20 USD           1.05     0.75
//	2025-03-03    121      55        30 CAD           1.00     0.75
//
// P: deposit 1000, buy 10 X at 100 on day 0; deposit 500 on 2024-07-01.
// R: deposit 1000 USD and 500 EUR, buy 10 X at 100 and 10 Z at 50 on day 0.
// Q: deposit 200, buy 10 Y at 20 on day 0 (Y is later quoted in CAD).
// C: deposit 1000 on day 0, nothing else (cash only). E: no transactions.
type handBook struct {
	db            *storage.DB
	p, r, q, c, e uuid.UUID
	packs         []string
	x, y, z       uuid.UUID
}

var handDays = []string{"2024-01-02", "2024-07-01", "2025-03-03"}

func buildHandBook(t *testing.T) handBook {
	t.Helper()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	hb := handBook{db: db}
	var owner uuid.UUID
	if err := db.QueryRow(ctx, `INSERT INTO users (email, password_hash) VALUES ('perf@example.com', 'x') RETURNING id`, nil, &owner); err != nil {
		t.Fatal(err)
	}
	err := db.Tx(ctx, func(tx pgx.Tx) error {
		for _, s := range []struct {
			id  *uuid.UUID
			sym string
			ccy string
		}{{&hb.x, "XHAND", "USD"}, {&hb.y, "YHAND", "USD"}, {&hb.z, "ZHAND", "EUR"}} {
			sec, err := storage.UpsertSecurity(ctx, tx, storage.Security{Symbol: s.sym, Name: s.sym, Type: "EQUITY", Currency: s.ccy,
				Sector: "Technology", Active: true})
			if err != nil {
				return err
			}
			*s.id = sec.ID
		}
		xs, zs := []string{"100", "110", "121"}, []string{"50", "52", "55"}
		ys := []struct{ c, ccy string }{{"20", "USD"}, {"20", "USD"}, {"30", "CAD"}}
		eur := []string{"1.10", "1.05", "1.00"}
		for i, dd := range handDays {
			pk, err := storage.BuildPricingPack(ctx, tx, date(dd), "close", []storage.Price{
				{SecurityID: hb.x, Close: d(xs[i]), Currency: "USD"},
				{SecurityID: hb.z, Close: d(zs[i]), Currency: "EUR"},
				{SecurityID: hb.y, Close: d(ys[i].c), Currency: ys[i].ccy},
			}, []storage.FXQuote{{From: "EUR", To: "USD", Rate: d(eur[i])}, {From: "CAD", To: "USD", Rate: d("0.75")}})
			if err != nil {
				return err
			}
			hb.packs = append(hb.packs, pk.ID)
		}
		for _, pf := range []struct {
			id   *uuid.UUID
			name string
		}{{&hb.p, "P"}, {&hb.r, "R"}, {&hb.q, "Q"}, {&hb.c, "C"}, {&hb.e, "E"}} {
			p, err := storage.CreatePortfolio(ctx, tx, storage.Portfolio{OwnerID: owner, Name: pf.name, BaseCurrency: "USD", Active: true})
			if err != nil {
				return err
			}
			*pf.id = p.ID
		}
		d0, d1 := date(handDays[0]), date(handDays[1])
		for _, tr := range []storage.Transaction{
			{PortfolioID: hb.p, Type: storage.TxDeposit, TradeDate: d0, Amount: d("1000"), Currency: "USD"},
			{PortfolioID: hb.p, Type: storage.TxBuy, SecurityID: hb.x, TradeDate: d0, Quantity: d("10"), Price: d("100"), Currency: "USD"},
			{PortfolioID: hb.p, Type: storage.TxDeposit, TradeDate: d1, Amount: d("500"), Currency: "USD"},
			{PortfolioID: hb.r, Type: storage.TxDeposit, TradeDate: d0, Amount: d("1000"), Currency: "USD"},
			{PortfolioID: hb.r, Type: storage.TxDeposit, TradeDate: d0, Amount: d("500"), Currency: "EUR"},
			{PortfolioID: hb.r, Type: storage.TxBuy, SecurityID: hb.x, TradeDate: d0, Quantity: d("10"), Price: d("100"), Currency: "USD"},
			{PortfolioID: hb.r, Type: storage.TxBuy, SecurityID: hb.z, TradeDate: d0, Quantity: d("10"), Price: d("50"), Currency: "EUR"},
			{PortfolioID: hb.q, Type: storage.TxDeposit, TradeDate: d0, Amount: d("200"), Currency: "USD"},
			{PortfolioID: hb.q, Type: storage.TxBuy, SecurityID: hb.y, TradeDate: d0, Quantity: d("10"), Price: d("20"), Currency: "USD"},
			{PortfolioID: hb.c, Type: storage.TxDeposit, TradeDate: d0, Amount: d("1000"), Currency: "USD"},
		} {
			if _, err := storage.ApplyTransaction(ctx, tx, tr); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []uuid.UUID{hb.p, hb.r, hb.q, hb.c, hb.e} {
		if _, err := storage.ComputeDailyValues(ctx, db, id, date(handDays[0]), date(handDays[2]), false); err != nil {
			t.Fatal(err)
		}
	}
	return hb
}

// TestPerformanceHandBuilt checks the capabilities on figures worked out by
// hand, and their answers on an empty and a cash-only portfolio.
func TestPerformanceHandBuilt(t *testing.T) {
	t.Parallel()
	hb := buildHandBook(t)
	h := newPerfHarness(t, hb.db, agents.RunContext{PricingPackID: hb.packs[2], AsOfDate: handDays[2]})

	// P's values: 1000 on day 0; 10 × 110 + 500 = 1600 with a 500 deposit;
	// 10 × 121 + 500 = 1710. Deposits count at the start of the day:
	// 1 + r₁ = 1600 / (1000 + 500), 1 + r₂ = 1710 / 1600, so the TWR is
	// 1710 / 1500 − 1 = 0.14 over 426 calendar days, more than a year:
	// annualised 1.14^(365/426) − 1 = 0.118810424058...
	var twr analyst.TWROutput
	if err := h.Call("metrics.compute_twr", map[string]any{"portfolio_id": hb.p, "lookback_days": 2, "include_series": true}, &twr); err != nil {
		t.Fatal(err)
	}
	if !near(twr.TotalReturn, 0.14, 1e-12) || !twr.Annualized || !near(twr.TWR, math.Pow(1.14, 365.0/426)-1, 1e-12) ||
		twr.Days != 2 || !twr.Complete || twr.StartDate != handDays[0] || twr.EndDate != handDays[2] || twr.CalendarDays != 426 {
		t.Fatalf("twr of P = %+v; want total 0.14, annualised 0.1188104, 2 days from %s to %s (426 calendar days)", twr, handDays[0], handDays[2])
	}
	if len(twr.Series) != 2 || !near(twr.Series[0].Return, 1600.0/1500-1, 1e-12) || !near(twr.Series[1].Cumulative, 0.14, 1e-12) {
		t.Fatalf("twr series %+v", twr.Series)
	}
	// One day: 1710/1600 − 1 over 245 days, not annualised.
	if err := h.Call("metrics.compute_twr", map[string]any{"portfolio_id": hb.p, "lookback_days": 1}, &twr); err != nil {
		t.Fatal(err)
	}
	if twr.Annualized || !near(twr.TWR, 1710.0/1600-1, 1e-12) || twr.TWR != twr.TotalReturn {
		t.Fatalf("one-day twr %+v; want 0.06875, not annualised", twr)
	}

	// P's money-weighted return: −1000 on 2024-01-02, −500 on 2024-07-01
	// (day 181), +1710 on 2025-03-03 (day 426). The IRR is
	// 0.139203689192975 (bisection to 1e-15; the NPV at it is checked
	// below); the span is longer than a year, so it stays annual.
	const statedIRR = 0.139203689192975
	npv := -1000 - 500/math.Pow(1+statedIRR, 181.0/365) + 1710/math.Pow(1+statedIRR, 426.0/365)
	if math.Abs(npv) > 1e-9 {
		t.Fatalf("the stated IRR leaves an NPV of %g", npv)
	}
	var mwr analyst.MWROutput
	if err := h.Call("metrics.compute_mwr", map[string]any{"portfolio_id": hb.p, "lookback_days": 2}, &mwr); err != nil {
		t.Fatal(err)
	}
	if !near(mwr.XIRR, statedIRR, 1e-9) || !near(mwr.MWR, statedIRR, 1e-9) || !mwr.Annualized || len(mwr.CashFlows) != 3 ||
		!mwr.CashFlows[1].Amount.Equal(d("-500")) || !mwr.OpeningValue.Equal(d("1000")) || !mwr.ClosingValue.Equal(d("1710")) ||
		!mwr.NetExternalFlows.Equal(d("500")) {
		t.Fatalf("mwr of P = %+v; want xirr %v over the schedule -1000, -500, +1710", mwr, statedIRR)
	}
	// Over the last day only: −1600 then +1710 245 days later, within a
	// year, so the period return 1710/1600 − 1 (de-annualised XIRR).
	if err := h.Call("metrics.compute_mwr", map[string]any{"portfolio_id": hb.p, "lookback_days": 1}, &mwr); err != nil {
		t.Fatal(err)
	}
	if mwr.Annualized || !near(mwr.MWR, 1710.0/1600-1, 1e-9) || !near(mwr.XIRR, math.Pow(1710.0/1600, 365.0/245)-1, 1e-9) {
		t.Fatalf("one-day mwr %+v; want 0.06875 (xirr %v)", mwr, math.Pow(1710.0/1600, 365.0/245)-1)
	}

	// The NAV: three values, exactly as computed above.
	var nav analyst.HistoricalNAVOutput
	if err := h.Call("portfolio.historical_nav", map[string]any{"portfolio_id": hb.p, "lookback_days": 10}, &nav); err != nil {
		t.Fatal(err)
	}
	if len(nav.Values) != 3 || nav.Complete || nav.Days != 2 || !nav.Values[1].TotalValue.Equal(d("1600")) ||
		!nav.Values[1].NetExternalFlow.Equal(d("500")) || !nav.Values[2].CashValue.Equal(d("500")) || nav.Values[2].PricingPackID != hb.packs[2] {
		t.Fatalf("nav of P = %+v", nav)
	}
	err := h.Call("portfolio.historical_nav", map[string]any{"portfolio_id": hb.p, "lookback_days": 10, "require_full": true}, &nav)
	wantCode(t, "nav longer than the history", err, agents.CodeInsufficientData, "found 2, need at least 10")

	// R's attribution, start-of-window base values X 10 × 100 × 1 = 1000,
	// Z 10 × 50 × 1.10 = 550, total 1550:
	//   X: local 0.21, fx 0;  Z: local 55/50 − 1 = 0.1, fx 1.00/1.10 − 1 = −1/11,
	//   interaction −1/110, total 1.1 × 10/11 − 1 = 0.
	//   Portfolio: local (210 + 55)/1550, fx −50/1550, interaction −5/1550,
	//   total (1210 + 550)/1550 − 1 = 210/1550.
	var att analyst.CurrencyAttributionOutput
	if err := h.Call("attribution.currency", map[string]any{"portfolio_id": hb.r, "pricing_pack_id": hb.packs[2], "lookback_days": 2}, &att); err != nil {
		t.Fatal(err)
	}
	if att.StartDate != handDays[0] || !att.Complete || len(att.Positions) != 2 || len(att.ByCurrency) != 2 ||
		!near(att.LocalReturn, 265.0/1550, 1e-12) || !near(att.FXReturn, -50.0/1550, 1e-12) ||
		!near(att.InteractionReturn, -5.0/1550, 1e-12) || !near(att.TotalReturn, 210.0/1550, 1e-12) || math.Abs(att.ResidualBP) > 1e-6 {
		t.Fatalf("attribution of R = %+v", att)
	}
	eur := att.ByCurrency[0]
	if eur.Currency != "EUR" || !near(eur.Weight, 550.0/1550, 1e-12) || !near(eur.CurrencyReturn, -1.0/11, 1e-12) ||
		!near(eur.Total, 0, 1e-12) || !att.StartValue.Equal(d("1550")) || !att.EndValue.Equal(d("1760")) {
		t.Fatalf("EUR line %+v, start %s, end %s; want weight 550/1550, currency return -1/11, total 0, 1550 → 1760", eur, att.StartValue, att.EndValue)
	}
	err = h.Call("attribution.currency", map[string]any{"portfolio_id": hb.r, "pricing_pack_id": hb.packs[2], "lookback_days": 5, "require_full": true}, &att)
	wantCode(t, "attribution longer than the history", err, agents.CodeInsufficientData, "found 2, need at least 5")

	// Unrealised P&L of P: 10 X cost 1000 at 121: 1210, +210, 0.21, held
	// 426 days (long term).
	var upl analyst.UnrealizedPLOutput
	if err := h.Call("metrics.unrealized_pl", map[string]any{"portfolio_id": hb.p, "pricing_pack_id": hb.packs[2]}, &upl); err != nil {
		t.Fatal(err)
	}
	if len(upl.Lots) != 1 || !upl.Lots[0].MarketValue.Equal(d("1210")) || !upl.Lots[0].UnrealizedPL.Equal(d("210")) ||
		!upl.Lots[0].UnrealizedReturn.Equal(d("0.21")) || upl.Lots[0].HoldingDays != 426 || upl.Lots[0].Term != analyst.TermLong ||
		!upl.UnrealizedPL.Equal(d("210")) || !upl.LongTermPL.Equal(d("210")) || !upl.ShortTermPL.IsZero() {
		t.Fatalf("unrealised p&l of P = %+v", upl)
	}
	// At the middle pack the same lot is 181 days old: short term, +100.
	if err := h.Call("metrics.unrealized_pl", map[string]any{"portfolio_id": hb.p, "pricing_pack_id": hb.packs[1]}, &upl); err != nil {
		t.Fatal(err)
	}
	if upl.Lots[0].Term != analyst.TermShort || upl.Lots[0].HoldingDays != 181 || !upl.Lots[0].UnrealizedPL.Equal(d("100")) {
		t.Fatalf("unrealised p&l of P at %s = %+v", handDays[1], upl.Lots[0])
	}
	// Q's Y is bought in USD and quoted in CAD at the last pack: valued
	// (10 × 30 CAD × 0.75 = 225 USD) but without a P&L, never converted
	// at a made-up rate.
	if err := h.Call("metrics.unrealized_pl", map[string]any{"portfolio_id": hb.q, "pricing_pack_id": hb.packs[2]}, &upl); err != nil {
		t.Fatal(err)
	}
	if l := upl.Lots[0]; !l.MarketValue.Equal(d("225")) || l.UnrealizedPL != nil || l.UnrealizedReturn != nil || l.NullReason == "" ||
		upl.UnrealizedPL != nil || upl.LotsWithoutPL != 1 || upl.Positions[0].UnrealizedPL != nil {
		t.Fatalf("unrealised p&l of Q = %+v; want a null P&L with its reason", upl)
	}

	// The cash-only portfolio: TWR 0 exactly (nothing moves), no Sharpe (no
	// variation), no attribution (no position), no lots.
	if err := h.Call("metrics.compute_twr", map[string]any{"portfolio_id": hb.c}, &twr); err != nil {
		t.Fatal(err)
	}
	if twr.TotalReturn != 0 || twr.Days != 2 || twr.Complete {
		t.Fatalf("twr of the cash-only portfolio %+v", twr)
	}
	var sh analyst.SharpeOutput
	err = h.Call("metrics.compute_sharpe", map[string]any{"portfolio_id": hb.c}, &sh)
	wantCode(t, "sharpe of cash", err, agents.CodeInsufficientData, "")
	err = h.Call("attribution.currency", map[string]any{"portfolio_id": hb.c, "pricing_pack_id": hb.packs[2]}, &att)
	wantCode(t, "attribution of cash", err, agents.CodeInsufficientData, "no position")
	if err := h.Call("metrics.unrealized_pl", map[string]any{"portfolio_id": hb.c, "pricing_pack_id": hb.packs[2]}, &upl); err != nil {
		t.Fatal(err)
	}
	if len(upl.Lots) != 0 || !upl.MarketValue.IsZero() || upl.UnrealizedPL == nil || !upl.UnrealizedPL.IsZero() {
		t.Fatalf("unrealised p&l of cash %+v", upl)
	}
	var m analyst.MetricsOutput
	if err := h.Call("metrics.compute", map[string]any{"portfolio_id": hb.c, "pricing_pack_id": hb.packs[2]}, &m); err != nil {
		t.Fatal(err)
	}
	if m.TWR1D == nil || *m.TWR1D != 0 || m.Volatility30D != nil || m.Details.Figures["volatility_30d"].NullReason == "" ||
		m.MWRInception == nil || !near(*m.MWRInception, 0, 1e-12) || m.BenchmarkSecurityID != nil || m.Beta1Y != nil {
		t.Fatalf("metrics of cash %+v", m)
	}

	// The empty portfolio has no history: every series figure is
	// insufficient_data, its NAV is empty, it has no lots.
	for _, name := range []string{"metrics.compute_twr", "metrics.compute_mwr", "metrics.compute_sharpe"} {
		var out map[string]any
		err := h.Call(name, map[string]any{"portfolio_id": hb.e}, &out)
		wantCode(t, name+" of an empty portfolio", err, agents.CodeInsufficientData, "found 0")
	}
	err = h.Call("metrics.compute", map[string]any{"portfolio_id": hb.e, "pricing_pack_id": hb.packs[2]}, &m)
	wantCode(t, "metrics of an empty portfolio", err, agents.CodeInsufficientData, "found 0")
	if err := h.Call("portfolio.historical_nav", map[string]any{"portfolio_id": hb.e}, &nav); err != nil {
		t.Fatal(err)
	}
	if len(nav.Values) != 0 || nav.StartDate != nil || nav.Complete {
		t.Fatalf("nav of an empty portfolio %+v", nav)
	}

	// A pack after the run's as-of date, and a warming pack.
	h.Run.AsOfDate = handDays[1]
	err = h.Call("metrics.unrealized_pl", map[string]any{"portfolio_id": hb.p, "pricing_pack_id": hb.packs[2]}, &upl)
	wantCode(t, "a pack after the as-of date", err, agents.CodeInvalidInput, "after the run's as-of date")
	// metrics.compute with the older pack while the daily values go on:
	// the row would not be the pack's.
	h.Run.AsOfDate = handDays[2]
	err = h.Call("metrics.compute", map[string]any{"portfolio_id": hb.p, "pricing_pack_id": hb.packs[1]}, &m)
	wantCode(t, "metrics with an older pack", err, agents.CodeInvalidInput, "pass the run's pack")
	ctx := context.Background()
	// Daily values that stop before the pack: the row would be stale.
	if _, err := hb.db.Exec(ctx, `DELETE FROM portfolio_daily_values WHERE portfolio_id = $1 AND value_date = $2`, hb.c, date(handDays[2])); err != nil {
		t.Fatal(err)
	}
	err = h.Call("metrics.compute", map[string]any{"portfolio_id": hb.c, "pricing_pack_id": hb.packs[2]}, &m)
	wantCode(t, "metrics with lagging daily values", err, agents.CodeInsufficientData, "before pack "+hb.packs[2])
	var warming string
	err = hb.db.Tx(ctx, func(tx pgx.Tx) error {
		pk, err := storage.BeginPack(ctx, tx, date("2025-03-04"), "close")
		warming = pk.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	h.Run.AsOfDate = "2025-03-04"
	err = h.Call("attribution.currency", map[string]any{"portfolio_id": hb.r, "pricing_pack_id": warming}, &att)
	wantCode(t, "a warming pack", err, agents.CodePricingPackWarming, "")
}
