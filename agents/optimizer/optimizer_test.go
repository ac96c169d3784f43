package optimizer_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/agents/optimizer"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

func TestMain(m *testing.M) { pgtest.MainWithLeakCheck(m) }

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// newHarness calls capabilities with the checks a step gets. The analyst
// agent is there for the valuation and the factor betas the optimizer's
// tests start from.
func newHarness(t *testing.T, db *storage.DB) *enginetest.Harness {
	deps := agents.Deps{DB: db, RiskFreeRate: 0.04}
	return enginetest.NewHarness(t, db, optimizer.New(deps), analyst.New(deps))
}

func asError(err error) *agents.Error {
	var ae *agents.Error
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}

// handBook is a hand-made market of two USD equities, AAA (Technology)
// and BBB (Energy), over n+1 business days, and a USD portfolio without a
// benchmark that deposited 100 000 and bought 300 AAA and 200 BBB at 100
// on the first day. The daily returns are
//
//	r_AAA,t = 0.01·xₜ,  r_BBB,t = 0.005·xₜ + 0.01·yₜ,
//
// xₜ = +1, −1, +1, −1, ... and yₜ = +1, +1, −1, −1, ... (t = 1..n): over a
// multiple of four days both have mean 0 and Σxy = 0, so the sample
// covariances (ddof 1) are, with k = n/(n−1),
//
//	σ²_AAA = 1e-4·k,  σ²_BBB = (0.005² + 0.01²)·k = 1.25e-4·k,  σ_AAA,BBB = 0.01·0.005·k = 5e-5·k.
type handBook struct {
	db        *storage.DB
	portfolio uuid.UUID
	aaa, bbb  uuid.UUID
	dates     []time.Time
	r1, r2    []float64
	closes    [2][]decimal.Decimal
}

func newHandBook(t *testing.T, n int) handBook {
	t.Helper()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	hb := handBook{db: db}
	day := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for len(hb.dates) < n+1 {
		if wd := day.Weekday(); wd != time.Saturday && wd != time.Sunday {
			hb.dates = append(hb.dates, day)
		}
		day = day.AddDate(0, 0, 1)
	}
	for t := 1; t <= n; t++ {
		x := 1.0
		if t%2 == 0 {
			x = -1
		}
		y := 1.0
		if t%4 == 3 || t%4 == 0 {
			y = -1
		}
		hb.r1 = append(hb.r1, 0.01*x)
		hb.r2 = append(hb.r2, 0.005*x+0.01*y)
	}
	p1, p2 := d("100"), d("100")
	hb.closes[0], hb.closes[1] = []decimal.Decimal{p1}, []decimal.Decimal{p2}
	for t := range n {
		p1 = p1.Mul(decimal.NewFromFloat(1 + hb.r1[t])).Round(8)
		p2 = p2.Mul(decimal.NewFromFloat(1 + hb.r2[t])).Round(8)
		hb.closes[0], hb.closes[1] = append(hb.closes[0], p1), append(hb.closes[1], p2)
	}
	err := db.Tx(ctx, func(tx pgx.Tx) error {
		var owner uuid.UUID
		if err := tx.QueryRow(ctx, `INSERT INTO users (email, password_hash) VALUES ('hand@example.com', 'x') RETURNING id`).Scan(&owner); err != nil {
			return err
		}
		a, err := storage.UpsertSecurity(ctx, tx, storage.Security{Symbol: "AAA", Name: "Aaa", Type: storage.SecurityEquity, Currency: "USD", Sector: "Technology", Active: true})
		if err != nil {
			return err
		}
		b, err := storage.UpsertSecurity(ctx, tx, storage.Security{Symbol: "BBB", Name: "Bbb", Type: storage.SecurityEquity, Currency: "USD", Sector: "Energy", Active: true})
		if err != nil {
			return err
		}
		hb.aaa, hb.bbb = a.ID, b.ID
		for i, dt := range hb.dates {
			if _, err := storage.BuildPricingPack(ctx, tx, dt, "", []storage.Price{
				{SecurityID: a.ID, Close: hb.closes[0][i], Currency: "USD"}, {SecurityID: b.ID, Close: hb.closes[1][i], Currency: "USD"}}, nil); err != nil {
				return err
			}
		}
		p, err := storage.CreatePortfolio(ctx, tx, storage.Portfolio{OwnerID: owner, Name: "Hand", BaseCurrency: "USD", Active: true})
		if err != nil {
			return err
		}
		hb.portfolio = p.ID
		for _, tr := range []storage.Transaction{
			{PortfolioID: p.ID, Type: storage.TxDeposit, TradeDate: hb.dates[0], Amount: d("100000"), Currency: "USD"},
			{PortfolioID: p.ID, Type: storage.TxBuy, SecurityID: a.ID, TradeDate: hb.dates[0], Quantity: d("300"), Price: d("100"), Currency: "USD"},
			{PortfolioID: p.ID, Type: storage.TxBuy, SecurityID: b.ID, TradeDate: hb.dates[0], Quantity: d("200"), Price: d("100"), Currency: "USD"},
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
	return hb
}

// at runs as of the i-th pack date.
func (hb handBook) at(i int) agents.RunContext {
	return agents.RunContext{PricingPackID: storage.PackID(hb.dates[i], 0), AsOfDate: hb.dates[i].Format(time.DateOnly)}
}

// sampleCov is the sample covariance (ddof 1), written out.
func sampleCov(x, y []float64) float64 {
	mx, my := 0.0, 0.0
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(len(x))
	my /= float64(len(y))
	s := 0.0
	for i := range x {
		s += (x[i] - mx) * (y[i] - my)
	}
	return s / float64(len(x)-1)
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func position(t *testing.T, out optimizer.ProposeTradesOutput, symbol string) optimizer.ProposedPosition {
	t.Helper()
	for _, p := range out.Positions {
		if p.Symbol == symbol {
			return p
		}
	}
	t.Fatalf("no position %s in %+v", symbol, out.Positions)
	return optimizer.ProposedPosition{}
}

// TestMinVarianceClosedForm: min_variance of the hand book has the
// two-asset closed form w_AAA = (σ²_BBB − σ_AAA,BBB) / (σ²_AAA + σ²_BBB − 2σ_AAA,BBB)
// = (1.25 − 0.5) / (1 + 1.25 − 1) = 0.75 / 1.25 = 0.6 (k cancels).
func TestMinVarianceClosedForm(t *testing.T) {
	t.Parallel()
	hb := newHandBook(t, 60)
	k := 60.0 / 59
	s11, s22, s12 := sampleCov(hb.r1, hb.r1), sampleCov(hb.r2, hb.r2), sampleCov(hb.r1, hb.r2)
	if !near(s11, 1e-4*k, 1e-15) || !near(s22, 1.25e-4*k, 1e-15) || !near(s12, 5e-5*k, 1e-15) {
		t.Fatalf("the hand-made returns have covariances %g %g %g; the construction says %g %g %g", s11, s22, s12, 1e-4*k, 1.25e-4*k, 5e-5*k)
	}
	w1 := (s22 - s12) / (s11 + s22 - 2*s12)
	if !near(w1, 0.6, 1e-12) {
		t.Fatalf("closed form %v", w1)
	}
	h := newHarness(t, hb.db)
	h.Run = hb.at(60)
	var out optimizer.ProposeTradesOutput
	if err := h.Call("optimizer.propose_trades", map[string]any{"portfolio_id": hb.portfolio, "method": "min_variance", "lookback_days": 60}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Observations != 60 || out.Method != "min_variance" {
		t.Errorf("%d observations, method %s; want 60, min_variance", out.Observations, out.Method)
	}
	a, b := position(t, out, "AAA"), position(t, out, "BBB")
	if !near(a.WeightTarget, 0.6, 1e-6) || !near(b.WeightTarget, 0.4, 1e-6) {
		t.Errorf("min_variance weights AAA %.9f BBB %.9f; closed form 0.6 and 0.4", a.WeightTarget, b.WeightTarget)
	}
	// Volatility of the target: √(wᵀΣw) × √252 with the hand covariance.
	want := math.Sqrt((0.36*s11+0.16*s22+2*0.24*s12)*252) * 1
	if !near(out.Volatility, want, 1e-6) {
		t.Errorf("target volatility %v; by hand %v", out.Volatility, want)
	}
	if out.TrackingError.Status != "no_benchmark" || out.TrackingError.After != nil {
		t.Errorf("a portfolio without a benchmark: tracking error %+v; want no_benchmark and no figure", out.TrackingError)
	}
	// Current weights: 300·100 and 200·100 of 100 000 at the first pack;
	// here at the last pack's closes.
	vA := d("300").Mul(hb.closes[0][60])
	if !a.ValueBefore.Equal(vA) || !near(a.WeightBefore, vA.Div(out.ValueBefore).InexactFloat64(), 1e-12) {
		t.Errorf("AAA before: value %s weight %v; want %s of %s", a.ValueBefore, a.WeightBefore, vA, out.ValueBefore)
	}
}

// checkBook checks a proposal's decimals by hand: whole shares, each
// order's notional, commission and impact, the cash and the values.
func checkBook(t *testing.T, out optimizer.ProposeTradesOutput, commission decimal.Decimal, impactBps float64) {
	t.Helper()
	rate := decimal.NewFromFloat(impactBps).Div(decimal.NewFromInt(10000))
	cash := out.CashBefore
	costs := decimal.Zero
	shares := map[string]decimal.Decimal{}
	for _, p := range out.Positions {
		shares[p.Symbol] = p.SharesBefore
	}
	for _, tr := range out.Trades {
		if !tr.Quantity.IsInteger() || !tr.Quantity.IsPositive() {
			t.Errorf("%s: order of %s shares; want a positive whole number", tr.Symbol, tr.Quantity)
		}
		notional := tr.Quantity.Mul(tr.Close).Mul(tr.FXRate)
		impact := notional.Mul(rate)
		if !tr.Notional.Equal(notional) || !tr.Commission.Equal(commission) || !tr.Impact.Equal(impact) || !tr.Cost.Equal(commission.Add(impact)) {
			t.Errorf("%s: notional %s commission %s impact %s cost %s; by hand %s, %s, %s", tr.Symbol, tr.Notional, tr.Commission, tr.Impact, tr.Cost, notional, commission, impact)
		}
		switch tr.Side {
		case "buy":
			cash = cash.Sub(notional)
			shares[tr.Symbol] = shares[tr.Symbol].Add(tr.Quantity)
		case "sell":
			cash = cash.Add(notional)
			shares[tr.Symbol] = shares[tr.Symbol].Sub(tr.Quantity)
		default:
			t.Errorf("%s: side %q", tr.Symbol, tr.Side)
		}
		cash = cash.Sub(commission.Add(impact))
		costs = costs.Add(commission.Add(impact))
	}
	if !out.CashAfter.Equal(cash) || out.CashAfter.IsNegative() {
		t.Errorf("cash after %s; by hand %s, and it must not be negative", out.CashAfter, cash)
	}
	if !out.Costs.Total.Equal(costs) || !out.ValueAfter.Equal(out.ValueBefore.Sub(costs)) {
		t.Errorf("costs %s, value after %s; by hand %s and %s", out.Costs.Total, out.ValueAfter, costs, out.ValueBefore.Sub(costs))
	}
	value := cash
	for _, p := range out.Positions {
		if !p.SharesAfter.Equal(shares[p.Symbol]) {
			t.Errorf("%s: %s shares after; the orders give %s", p.Symbol, p.SharesAfter, shares[p.Symbol])
		}
		mv := p.SharesAfter.Mul(p.Close).Mul(p.FXRate)
		if !p.ValueAfter.Equal(mv) {
			t.Errorf("%s: value after %s; by hand %s", p.Symbol, p.ValueAfter, mv)
		}
		value = value.Add(mv)
	}
	if !value.Equal(out.ValueAfter) {
		t.Errorf("positions and cash after sum to %s, value_after is %s", value, out.ValueAfter)
	}
}

// checkLimits checks the weights against the limits, at the target
// (exactly, within the optimiser's tolerance 1e-7) and after rounding (max
// weights and sector caps within 1e-9; min weights may drift by a share).
func checkLimits(t *testing.T, out optimizer.ProposeTradesOutput, sectorCap map[string]float64, turnoverCap float64) {
	t.Helper()
	const tol = 1e-7
	sum, turnover := 0.0, 0.0
	target, after := map[string]float64{}, map[string]float64{}
	for _, p := range out.Positions {
		sum += p.WeightTarget
		turnover += math.Abs(p.WeightTarget - p.WeightBefore)
		if p.WeightTarget < p.MinWeight-tol || p.WeightTarget > p.MaxWeight+tol || p.WeightTarget < 0 {
			t.Errorf("%s: target weight %v outside [%v, %v]", p.Symbol, p.WeightTarget, p.MinWeight, p.MaxWeight)
		}
		if p.WeightAfter > p.MaxWeight+1e-9 {
			t.Errorf("%s: weight after rounding %v above its max %v", p.Symbol, p.WeightAfter, p.MaxWeight)
		}
		if w := p.ValueAfter.DivRound(out.ValueAfter, 20).InexactFloat64(); !near(w, p.WeightAfter, 1e-12) {
			t.Errorf("%s: weight after %v; value after / value after gives %v", p.Symbol, p.WeightAfter, w)
		}
		target[p.Sector] += p.WeightTarget
		after[p.Sector] += p.WeightAfter
	}
	if !near(sum, 1, 1e-6) {
		t.Errorf("target weights sum to %v; want 1", sum)
	}
	for s, c := range sectorCap {
		if target[s] > c+tol || after[s] > c+1e-9 {
			t.Errorf("sector %s: target %v after %v above its cap %v", s, target[s], after[s], c)
		}
	}
	if turnoverCap > 0 && turnover > turnoverCap+tol {
		t.Errorf("turnover %v above the cap %v", turnover, turnoverCap)
	}
	if !near(turnover, out.Turnover, 1e-6) {
		t.Errorf("reported turnover %v; Σ|target − before| = %v", out.Turnover, turnover)
	}
	for _, c := range out.Constraints {
		if (c.Constraint == "max_weight" || c.Constraint == "sector_cap") && !c.Held {
			t.Errorf("constraint %s[%s] reported not held after rounding: %+v", c.Constraint, c.Subject, c)
		}
	}
}

// TestConstraintsHoldInTheResult: the hand book under limits. Technology
// (AAA) capped at 0.5 stops min_variance's 0.6, so AAA = BBB = 0.5 and the
// cap binds; turnover |0.5 − w0_AAA| + |0.5 − w0_BBB| stays under 0.55.
// With a turnover cap at the least turnover any fully invested portfolio
// needs (the cash, 1 − Σw0), the cap binds instead.
func TestConstraintsHoldInTheResult(t *testing.T) {
	t.Parallel()
	hb := newHandBook(t, 60)
	h := newHarness(t, hb.db)
	h.Run = hb.at(60)
	var out optimizer.ProposeTradesOutput
	caps := map[string]float64{"Technology": 0.5}
	err := h.Call("optimizer.propose_trades", map[string]any{"portfolio_id": hb.portfolio, "method": "min_variance", "lookback_days": 60,
		"commission_per_trade": "1.50", "impact_bps": 10,
		"constraints": map[string]any{"min_weight": 0.05, "max_weight": 0.9, "sector_caps": caps, "turnover_cap": 0.55, "te_limit": 0.1}}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := position(t, out, "AAA"), position(t, out, "BBB"); !near(a.WeightTarget, 0.5, 1e-6) || !near(b.WeightTarget, 0.5, 1e-6) {
		t.Errorf("weights AAA %v BBB %v; want 0.5 each under the Technology cap", a.WeightTarget, b.WeightTarget)
	}
	if strings.Join(out.Binding, ",") != "sector_cap[Technology]" {
		t.Errorf("binding %v; want only sector_cap[Technology]", out.Binding)
	}
	checkLimits(t, out, caps, 0.55)
	checkBook(t, out, d("1.50"), 10)
	if len(out.Trades) != 2 || out.Costs.Orders != 2 {
		t.Errorf("%d trades; want a buy of each", len(out.Trades))
	}

	// The least turnover: every weight at least its current one.
	cash := out.CashBefore.DivRound(out.ValueBefore, 20).InexactFloat64()
	err = h.Call("optimizer.propose_trades", map[string]any{"portfolio_id": hb.portfolio, "method": "min_variance", "lookback_days": 60,
		"constraints": map[string]any{"turnover_cap": cash + 1e-9}}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(out.Binding, ","), "turnover[portfolio]") {
		t.Errorf("binding %v; want turnover at its least possible cap %v", out.Binding, cash)
	}
	checkLimits(t, out, nil, cash+1e-9)

	// Limits no portfolio meets are invalid input, never a silent relaxation.
	err = h.Call("optimizer.propose_trades", map[string]any{"portfolio_id": hb.portfolio, "method": "min_variance", "lookback_days": 60,
		"constraints": map[string]any{"max_weight": 0.6, "sector_caps": map[string]float64{"Technology": 0.3}}}, &out)
	if ae := asError(err); ae == nil || ae.Code != agents.CodeInvalidInput || !strings.Contains(ae.Message, "sector caps and max weights allow at most") {
		t.Errorf("caps summing below 1: %v; want invalid_input saying so", err)
	}
	err = h.Call("optimizer.propose_trades", map[string]any{"portfolio_id": hb.portfolio, "lookback_days": 60,
		"constraints": map[string]any{"min_weight": 0.6, "max_weight": 0.5}}, &out)
	if ae := asError(err); ae == nil || ae.Code != agents.CodeInvalidInput || ae.Field != "constraints.min_weight" {
		t.Errorf("min above max: %v; want invalid_input on constraints.min_weight", err)
	}
}

// TestRoundingKeepsCashNonNegative: a fully invested target with large
// costs; quant.RoundToShares picks the orders, the decimal book keeps the
// cash at or above zero and every amount exact.
func TestRoundingKeepsCashNonNegative(t *testing.T) {
	t.Parallel()
	hb := newHandBook(t, 60)
	h := newHarness(t, hb.db)
	h.Run = hb.at(60)
	for _, c := range []struct {
		method     string
		commission string
		bps        float64
	}{{"min_variance", "25", 50}, {"risk_parity", "0", 0}, {"min_cvar", "9.99", 100}, {"max_sharpe", "3", 5}} {
		var out optimizer.ProposeTradesOutput
		err := h.Call("optimizer.propose_trades", map[string]any{"portfolio_id": hb.portfolio, "method": c.method, "lookback_days": 60,
			"commission_per_trade": c.commission, "impact_bps": c.bps, "constraints": map[string]any{"max_weight": 0.7}}, &out)
		if c.method == "max_sharpe" {
			// Both assets have a mean daily return near 0, below the
			// risk-free rate: no portfolio has a positive Sharpe ratio.
			if ae := asError(err); ae == nil || ae.Code != agents.CodeInvalidInput || !strings.Contains(ae.Message, "risk-free") {
				t.Errorf("max_sharpe without a return above the risk-free rate: %v; want invalid_input saying so", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.method, err)
		}
		checkBook(t, out, d(c.commission), c.bps)
		checkLimits(t, out, nil, 0)
		if out.CashAfter.GreaterThan(out.ValueAfter.Mul(d("0.01"))) {
			t.Errorf("%s: %s left in cash of %s; a fully invested target leaves less than a share of each", c.method, out.CashAfter, out.ValueAfter)
		}
	}
}

// TestFewerThanSixtyRows: as of the 50th pack the hand book has 50 daily
// returns: insufficient_data with found and needed, never equal weights.
func TestFewerThanSixtyRows(t *testing.T) {
	t.Parallel()
	hb := newHandBook(t, 60)
	h := newHarness(t, hb.db)
	h.Run = hb.at(50)
	var out optimizer.ProposeTradesOutput
	err := h.Call("optimizer.propose_trades", map[string]any{"portfolio_id": hb.portfolio, "method": "min_variance"}, &out)
	if ae := asError(err); ae == nil || ae.Code != agents.CodeInsufficientData || !strings.Contains(ae.Message, "found 50, need at least 60") {
		t.Fatalf("50 return rows: %v; want insufficient_data found 50, need at least 60", err)
	}
	err = h.Call("optimizer.propose_trades", map[string]any{"portfolio_id": hb.portfolio, "lookback_days": 30}, &out)
	if ae := asError(err); ae == nil || ae.Code != agents.CodeInvalidInput {
		t.Errorf("lookback_days 30: %v; want invalid_input (at least 60)", err)
	}
	h.Run = hb.at(60)
	err = h.Call("optimizer.propose_trades", map[string]any{"portfolio_id": uuid.New()}, &out)
	if ae := asError(err); ae == nil || ae.Code != agents.CodeNotFound {
		t.Errorf("unknown portfolio: %v; want not_found", err)
	}
	err = h.Call("optimizer.propose_trades", map[string]any{"portfolio_id": hb.portfolio, "universe": []uuid.UUID{hb.aaa, uuid.New()}}, &out)
	if ae := asError(err); ae == nil || ae.Code != agents.CodeNotFound {
		t.Errorf("a universe naming an unknown security: %v; want not_found", err)
	}
	// A portfolio holding only cash has nothing to optimise over.
	ctx := context.Background()
	var cashOnly uuid.UUID
	err = hb.db.Tx(ctx, func(tx pgx.Tx) error {
		var owner uuid.UUID
		if err := tx.QueryRow(ctx, `SELECT owner_id FROM portfolios WHERE id = $1`, hb.portfolio).Scan(&owner); err != nil {
			return err
		}
		p, err := storage.CreatePortfolio(ctx, tx, storage.Portfolio{OwnerID: owner, Name: "Cash only", BaseCurrency: "USD", Active: true})
		if err != nil {
			return err
		}
		cashOnly = p.ID
		_, err = storage.ApplyTransaction(ctx, tx, storage.Transaction{PortfolioID: p.ID, Type: storage.TxDeposit, TradeDate: hb.dates[0], Amount: d("5000"), Currency: "USD"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = h.Call("optimizer.propose_trades", map[string]any{"portfolio_id": cashOnly}, &out)
	if ae := asError(err); ae == nil || ae.Code != agents.CodeInsufficientData || !strings.Contains(ae.Message, "holds none") {
		t.Errorf("a cash-only portfolio: %v; want insufficient_data (nothing to optimise over)", err)
	}
	// With a universe it is allocated: only buys.
	if err := h.Call("optimizer.propose_trades", map[string]any{"portfolio_id": cashOnly, "method": "min_variance", "lookback_days": 60,
		"universe": []uuid.UUID{hb.aaa, hb.bbb}}, &out); err != nil {
		t.Fatal(err)
	}
	checkBook(t, out, decimal.Zero, 5)
	for _, tr := range out.Trades {
		if tr.Side != "buy" {
			t.Errorf("cash-only portfolio sells %s", tr.Symbol)
		}
	}
	// A universe without BBB sells it.
	if err := h.Call("optimizer.propose_trades", map[string]any{"portfolio_id": hb.portfolio, "method": "min_variance", "lookback_days": 60,
		"universe": []uuid.UUID{hb.aaa}}, &out); err != nil {
		t.Fatal(err)
	}
	if b := position(t, out, "BBB"); b.MaxWeight != 0 || !b.SharesAfter.IsZero() || !near(position(t, out, "AAA").WeightTarget, 1, 1e-6) {
		t.Errorf("BBB outside the universe: max %v, %s shares after; AAA target %v; want it sold and AAA at 1", b.MaxWeight, b.SharesAfter, position(t, out, "AAA").WeightTarget)
	}
}

// TestAnalyzeImpactByHand feeds a hand-made proposal over the hand book.
//
// Before: AAA 30 000, BBB 20 000, cash 50 000 of 100 000: weights 0.3 and
// 0.2, HHI 0.3² + 0.2² = 0.13, effective positions 0.5²/0.13 = 1.9231.
// After (costs 10): AAA 60 000, BBB 39 990, cash 0 of 99 990: weights
// 60000/99990 and 39990/99990, HHI their squares' sum.
func TestAnalyzeImpactByHand(t *testing.T) {
	t.Parallel()
	hb := newHandBook(t, 60)
	h := newHarness(t, hb.db)
	h.Run = hb.at(60)
	proposal := map[string]any{
		"portfolio_id": hb.portfolio, "base_currency": "USD", "asof_date": hb.dates[60].Format(time.DateOnly), "lookback_days": 60,
		"method": "min_variance", "value_before": "100000", "value_after": "99990", "cash_before": "50000", "cash_after": "0",
		"buy_notional": "49990", "sell_notional": "0", "costs": map[string]any{"commission": "4", "impact": "6", "total": "10"},
		"positions": []map[string]any{
			{"security_id": hb.aaa, "symbol": "AAA", "value_before": "30000", "value_after": "60000", "weight_target": 0.6},
			{"security_id": hb.bbb, "symbol": "BBB", "value_before": "20000", "value_after": "39990"},
		},
	}
	var out optimizer.AnalyzeImpactOutput
	if err := h.Call("optimizer.analyze_impact", map[string]any{"proposal": proposal}, &out); err != nil {
		t.Fatal(err)
	}
	a1, b1 := 60000.0/99990, 39990.0/99990
	if !near(out.Before.HHI, 0.13, 1e-12) || !near(out.Before.EffectivePositions, 0.25/0.13, 1e-9) {
		t.Errorf("HHI before %v (effective %v); by hand 0.13 (%v)", out.Before.HHI, out.Before.EffectivePositions, 0.25/0.13)
	}
	if !near(out.After.HHI, a1*a1+b1*b1, 1e-12) || !near(out.Change.HHI, a1*a1+b1*b1-0.13, 1e-12) {
		t.Errorf("HHI after %v; by hand %v", out.After.HHI, a1*a1+b1*b1)
	}
	if out.After.LargestSymbol != "AAA" || !near(out.After.LargestWeight, a1, 1e-12) || !near(out.Turnover, (a1-0.3)+(b1-0.2), 1e-12) {
		t.Errorf("largest %s %v, turnover %v; by hand AAA %v, %v", out.After.LargestSymbol, out.After.LargestWeight, out.Turnover, a1, (a1-0.3)+(b1-0.2))
	}
	// Volatility: the deviation of Σ w r over the hand-made returns × √252.
	vol := func(w1, w2 float64) float64 {
		p := make([]float64, len(hb.r1))
		for i := range p {
			p[i] = w1*hb.r1[i] + w2*hb.r2[i]
		}
		return math.Sqrt(sampleCov(p, p) * 252)
	}
	if !near(out.Before.Volatility, vol(0.3, 0.2), 1e-7) || !near(out.After.Volatility, vol(a1, b1), 1e-7) {
		t.Errorf("volatility before %v after %v; by hand %v and %v", out.Before.Volatility, out.After.Volatility, vol(0.3, 0.2), vol(a1, b1))
	}
	if !near(out.CostFraction, 10.0/100000, 1e-15) || !out.Change.Value.Equal(d("-10")) || out.Before.TrackingError != nil {
		t.Errorf("cost fraction %v, value change %s, TE %v; want 0.0001, -10, none", out.CostFraction, out.Change.Value, out.Before.TrackingError)
	}
	// A proposal that does not add up is refused.
	proposal["cash_after"] = "5"
	err := h.Call("optimizer.analyze_impact", map[string]any{"proposal": proposal}, &out)
	if ae := asError(err); ae == nil || ae.Code != agents.CodeInvalidInput || ae.Field != "proposal.value_after" {
		t.Errorf("a proposal whose after side does not add up: %v; want invalid_input on proposal.value_after", err)
	}
}
