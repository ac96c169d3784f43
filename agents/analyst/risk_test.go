package analyst_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/agenttest"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/orchestrator/enginetest"
	"github.com/dawsos/dawsos/quant"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
	"github.com/dawsos/dawsos/storage/seed"
)

// riskDemo is a demo dataset for the risk and position tests, with the
// securities' ids by symbol and a harness on it.
type riskDemo struct {
	agenttest.Demo
	h     *enginetest.Harness
	secID map[string]uuid.UUID
}

// loadRiskDemo seeds a window of the given months ending on 2026-06-30 and
// returns a harness whose run context is that day and its pack.
func loadRiskDemo(t *testing.T, months int) riskDemo {
	t.Helper()
	dm := riskDemo{Demo: agenttest.SeedDemo(t, time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC), months), secID: map[string]uuid.UUID{}}
	err := dm.DB.Query(context.Background(), func(rows pgx.Rows) error {
		for rows.Next() {
			var s string
			var id uuid.UUID
			if err := rows.Scan(&s, &id); err != nil {
				return err
			}
			dm.secID[s] = id
		}
		return rows.Err()
	}, `SELECT symbol, id FROM securities`)
	if err != nil {
		t.Fatal(err)
	}
	dm.h = newHarness(t, dm.DB)
	dm.h.Run = agents.RunContext{PricingPackID: dm.PackID, AsOfDate: dm.End.Format(time.DateOnly)}
	return dm
}

func (dm riskDemo) portfolio(t *testing.T, name string) seed.PortfolioInfo {
	t.Helper()
	for _, p := range dm.Report.Portfolios {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no demo portfolio %q", name)
	return seed.PortfolioInfo{}
}

func sqlRow(t *testing.T, db *storage.DB, q string, args []any, dest ...any) {
	t.Helper()
	if err := db.QueryRow(context.Background(), q, args, dest...); err != nil {
		t.Fatalf("%s: %v", strings.Fields(q)[0:3], err)
	}
}

// expectCode fails unless err is an *agents.Error with the code whose
// message contains every given fragment.
func expectCode(t *testing.T, what string, err error, code string, contains ...string) *agents.Error {
	t.Helper()
	var ae *agents.Error
	if !errors.As(err, &ae) || ae.Code != code {
		t.Fatalf("%s: got %v, want code %s", what, err, code)
	}
	for _, c := range contains {
		if !strings.Contains(ae.Message, c) {
			t.Errorf("%s: message %q does not say %q", what, ae.Message, c)
		}
	}
	return ae
}

// sqlFactorSeries reads the seven factors from macro_indicators with SQL
// and derives them as storage.Factors says (diff_pct: Δ/100, return: ratio
// − 1), by date, independently of storage.FactorSeries.
func sqlFactorSeries(t *testing.T, db *storage.DB) map[time.Time][]float64 {
	t.Helper()
	out := map[time.Time][]float64{}
	for f, def := range storage.Factors {
		var dates []time.Time
		var vals []float64
		sqlRow(t, db, `SELECT array_agg(obs_date ORDER BY obs_date), array_agg(value ORDER BY obs_date) FROM macro_indicators WHERE series_id = $1`,
			[]any{def.SeriesID}, &dates, &vals)
		for i := 1; i < len(dates); i++ {
			v := vals[i]/vals[i-1] - 1
			if def.Transform == storage.TransformDiffPct {
				v = (vals[i] - vals[i-1]) / 100
			}
			if out[dates[i]] == nil {
				out[dates[i]] = make([]float64, len(storage.Factors))
			}
			out[dates[i]][f] = v
		}
	}
	return out
}

// TestFactorExposuresOnTheDemoData regresses the demo portfolios on the
// seed's factor model (39 months of packs). Over 750 days the position
// betas must recover the seed's true betas within the tolerance the noise
// allows, judged as the seed's own test does: every beta within 5 OLS
// standard errors, the mean squared z-score over all of them near its
// expectation of 1, and, so that the bound is not vacuous, every equity's
// equity beta with a standard error under 0.15 and an RMS error of the
// equity betas under 0.1. Over the default 252 days the betas are again
// within 5 standard errors; the USD Growth portfolio's betas must be close
// to what the true model implies for what it held (see
// checkPortfolioBetas); the upserted rows are read back with SQL; a replay
// changes nothing; the history and the cycle overlay read the rows.
func TestFactorExposuresOnTheDemoData(t *testing.T) {
	t.Parallel()
	dm := loadRiskDemo(t, 39)
	ctx := context.Background()
	truth := map[string]seed.SecurityTruth{}
	for _, s := range dm.Report.Securities {
		truth[s.Symbol] = s
	}
	// A long sample first: the position betas must recover the truth.
	var z2, eqErr2 float64
	var nz, neq int
	for _, p := range dm.Report.Portfolios {
		var out analyst.FactorExposuresOutput
		if err := dm.h.Call("risk.compute_factor_exposures", map[string]any{"portfolio_id": p.ID, "lookback_days": 750}, &out); err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		if out.Observations != 750 {
			t.Fatalf("%s: %d observations, want 750", p.Name, out.Observations)
		}
		var held int
		sqlRow(t, dm.DB, `SELECT count(DISTINCT security_id) FROM lots WHERE portfolio_id = $1 AND quantity_open > 0`, []any{p.ID}, &held)
		if len(out.Positions)+len(out.Skipped) != held || len(out.Positions) == 0 {
			t.Fatalf("%s: %d positions regressed and %d skipped (%+v); the lots hold %d securities", p.Name, len(out.Positions), len(out.Skipped), out.Skipped, held)
		}
		for _, pe := range out.Positions {
			tr, ok := truth[pe.Symbol]
			if !ok {
				t.Fatalf("%s: no truth for %s", p.Name, pe.Symbol)
			}
			for _, f := range pe.Factors {
				want := tr.Betas[f.Factor]
				if math.Abs(f.Beta-want) > 5*f.StdError {
					t.Errorf("%s %s beta to %s: %.4f (se %.4f), true %.4f", p.Name, pe.Symbol, f.Factor, f.Beta, f.StdError, want)
				}
				if f.Factor == storage.FactorEquity && tr.Type == "EQUITY" {
					eqErr2 += (f.Beta - want) * (f.Beta - want)
					neq++
					if f.StdError > 0.15 {
						t.Errorf("%s %s equity beta %.4f has standard error %.4f; 750 days should pin it within 0.15", p.Name, pe.Symbol, f.Beta, f.StdError)
					}
				}
				z2 += (f.Beta - want) * (f.Beta - want) / (f.StdError * f.StdError)
				nz++
			}
		}
	}
	if mz := z2 / float64(nz); mz < 0.5 || mz > 2 {
		t.Errorf("mean squared z-score of %d position betas: %.3f, want 0.5..2", nz, mz)
	} else {
		t.Logf("mean squared z-score of %d position betas: %.3f", nz, mz)
	}
	if rms := math.Sqrt(eqErr2 / float64(neq)); rms > 0.1 {
		t.Errorf("equity betas of %d equities miss the truth by %.3f (RMS), want under 0.1", neq, rms)
	} else {
		t.Logf("equity betas of %d equities: RMS error %.3f", neq, rms)
	}

	// The default lookback: stored rows, portfolio betas, replay, history.
	outs := map[string]analyst.FactorExposuresOutput{}
	for _, p := range dm.Report.Portfolios {
		var out analyst.FactorExposuresOutput
		if err := dm.h.Call("risk.compute_factor_exposures", map[string]any{"portfolio_id": p.ID}, &out); err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		outs[p.Name] = out
		if out.Observations != 252 || out.LookbackDays != 252 || len(out.Factors) != 7 {
			t.Fatalf("%s: %d observations over lookback %d, %d factors; want 252, 252, 7", p.Name, out.Observations, out.LookbackDays, len(out.Factors))
		}
		for _, pe := range out.Positions {
			for _, f := range pe.Factors {
				if want := truth[pe.Symbol].Betas[f.Factor]; math.Abs(f.Beta-want) > 5*f.StdError {
					t.Errorf("%s %s beta to %s over 252 days: %.4f (se %.4f), true %.4f", p.Name, pe.Symbol, f.Factor, f.Beta, f.StdError, want)
				}
			}
		}
		checkStoredExposures(t, dm, p, out)
	}

	checkPortfolioBetas(t, dm, dm.portfolio(t, "USD Growth"), outs["USD Growth"], truth)
	checkReplayChangesNothing(t, dm, dm.portfolio(t, "USD Growth"))
	checkExposureHistory(t, dm, dm.portfolio(t, "USD Growth"), outs["USD Growth"])
	checkCycleOverlay(t, dm, outs["USD Growth"])

	// Bad input: an unknown portfolio; a portfolio without daily values.
	var out analyst.FactorExposuresOutput
	err := dm.h.Call("risk.compute_factor_exposures", map[string]any{"portfolio_id": uuid.New()}, &out)
	expectCode(t, "unknown portfolio", err, agents.CodeNotFound)
	var owner uuid.UUID
	sqlRow(t, dm.DB, `SELECT owner_id FROM portfolios WHERE id = $1`, []any{dm.Report.Portfolios[0].ID}, &owner)
	empty, err := storage.CreatePortfolio(ctx, dm.DB.Pool(), storage.Portfolio{OwnerID: owner, Name: "Empty", BaseCurrency: "USD", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	err = dm.h.Call("risk.compute_factor_exposures", map[string]any{"portfolio_id": empty.ID}, &out)
	expectCode(t, "portfolio without history", err, agents.CodeInsufficientData, "found 0", "need at least 60")
	err = dm.h.Call("risk.compute_factor_exposures", map[string]any{"portfolio_id": empty.ID, "lookback_days": 30}, &out)
	expectCode(t, "lookback below the minimum", err, agents.CodeInvalidInput)
}

// checkStoredExposures reads the upserted rows back with SQL.
func checkStoredExposures(t *testing.T, dm riskDemo, p seed.PortfolioInfo, out analyst.FactorExposuresOutput) {
	t.Helper()
	var factors []byte
	var alpha, r2, rv float64
	var lookback, obs int
	sqlRow(t, dm.DB, `SELECT factors, alpha, r_squared, residual_vol, lookback_days, observations FROM factor_exposures
		WHERE portfolio_id = $1 AND as_of_date = $2 AND pack_id = $3`, []any{p.ID, dm.End, dm.PackID}, &factors, &alpha, &r2, &rv, &lookback, &obs)
	var stored map[string]struct {
		Beta, TStat, Contribution float64
		StdError                  float64 `json:"std_error"`
	}
	if err := json.Unmarshal(factors, &stored); err != nil {
		t.Fatal(err)
	}
	for _, f := range out.Factors {
		s := stored[f.Factor]
		if s.Beta != f.Beta || s.StdError != f.StdError || s.Contribution != f.Contribution {
			t.Errorf("%s: stored %s = %+v, output %+v", p.Name, f.Factor, s, f)
		}
		if math.Abs(f.Beta/f.StdError-f.TStat) > 1e-9*math.Abs(f.TStat) {
			t.Errorf("%s %s: t %.6f, β/se %.6f", p.Name, f.Factor, f.TStat, f.Beta/f.StdError)
		}
	}
	if alpha != out.Alpha || r2 != out.RSquared || rv != out.ResidualVol || lookback != 252 || obs != out.Observations {
		t.Errorf("%s: stored α %g R² %g vol %g lookback %d obs %d; output %g %g %g %d", p.Name, alpha, r2, rv, lookback, obs, out.Alpha, out.RSquared, out.ResidualVol, out.Observations)
	}
	if want := math.Pow(1+out.AlphaDaily, 252) - 1; math.Abs(out.Alpha-want) > 1e-12 || math.Abs(out.ResidualVol-out.ResidualVolDaily*math.Sqrt(252)) > 1e-12 {
		t.Errorf("%s: α %g (daily %g), residual vol %g (daily %g): conventions broken", p.Name, out.Alpha, out.AlphaDaily, out.ResidualVol, out.ResidualVolDaily)
	}
	// The mean daily return is α plus the factors' contributions.
	sum := out.AlphaDaily
	for _, f := range out.Factors {
		sum += f.Contribution
	}
	if math.Abs(sum-out.MeanDailyReturn) > 1e-12 {
		t.Errorf("%s: α + Σ contributions = %g, mean daily return %g", p.Name, sum, out.MeanDailyReturn)
	}
	for _, pe := range out.Positions {
		var b [7]float64
		var method string
		var pr2 float64
		var pobs int
		sqlRow(t, dm.DB, `SELECT beta_real_rates, beta_inflation, beta_credit, beta_usd, beta_equity, beta_commodity, beta_volatility,
				method, r_squared, observations FROM position_factor_betas WHERE portfolio_id = $1 AND security_id = $2 AND as_of_date = $3`,
			[]any{p.ID, pe.SecurityID, dm.End}, &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6], &method, &pr2, &pobs)
		for j, f := range pe.Factors {
			if b[j] != f.Beta {
				t.Errorf("%s %s: stored beta %s %g, output %g", p.Name, pe.Symbol, f.Factor, b[j], f.Beta)
			}
		}
		if method != "regression" || pr2 != pe.RSquared || pobs != pe.Observations {
			t.Errorf("%s %s: stored %s R² %g obs %d; output R² %g obs %d", p.Name, pe.Symbol, method, pr2, pobs, pe.RSquared, pe.Observations)
		}
	}
}

// checkPortfolioBetas compares the portfolio's betas with what the true
// model implies. On day t the portfolio's systematic return is Σᵢ wᵢ,ₜ₋₁·
// (βᵢ + β_fx(i))·fₜ: wᵢ,ₜ₋₁ the holding's base value over the previous
// day's total (quantities from the transactions, closes and rates from
// prices and fx_rates, all in SQL), βᵢ the seed's true betas and β_fx the
// betas of the currency's rate into the base currency, estimated by OLS of
// the stored rates on the factors. Weights drift (tranche buys, sales,
// cash building up) while the equity and credit shocks scale with the
// VIX, so OLS weights the days unevenly: the expected betas are those of
// the regression of that systematic series on the factors, not the
// average weights times the betas. Tolerance: 5 standard errors of the
// portfolio beta plus 2 % of the factor's largest true beta (dividends,
// fees and the interaction of local and FX returns are left out of the
// systematic series).
func checkPortfolioBetas(t *testing.T, dm riskDemo, p seed.PortfolioInfo, out analyst.FactorExposuresOutput, truth map[string]seed.SecurityTruth) {
	t.Helper()
	ctx := context.Background()
	start, _ := time.Parse(time.DateOnly, out.StartDate)
	type wrow struct {
		Date     time.Time
		Symbol   string
		Currency string
		Weight   float64
	}
	rows, err := dm.DB.Pool().Query(ctx, `
		WITH days AS (
			SELECT value_date AS d, lag(value_date) OVER (ORDER BY value_date) AS prev,
			       lag(total_value) OVER (ORDER BY value_date) AS prev_total, net_external_flow AS flow
			FROM portfolio_daily_values WHERE portfolio_id = $1 AND value_date <= $3),
		sample AS (SELECT * FROM days WHERE d >= $2 AND prev IS NOT NULL),
		secs AS (SELECT DISTINCT security_id FROM transactions WHERE portfolio_id = $1 AND type IN ('BUY', 'SELL')),
		qty AS (
			SELECT s.d, s.prev, s.prev_total + greatest(s.flow, 0) AS base, x.security_id,
			       coalesce((SELECT sum(CASE t.type WHEN 'BUY' THEN t.quantity ELSE -t.quantity END *
			                 coalesce((SELECT exp(sum(ln(sp.split_ratio))) FROM transactions sp WHERE sp.portfolio_id = $1
			                           AND sp.security_id = t.security_id AND sp.type = 'SPLIT' AND sp.trade_date > t.trade_date
			                           AND sp.trade_date <= s.prev), 1))
			                 FROM transactions t WHERE t.portfolio_id = $1 AND t.security_id = x.security_id
			                 AND t.type IN ('BUY', 'SELL') AND t.trade_date <= s.prev), 0) AS q
			FROM sample s CROSS JOIN secs x)
		SELECT q.d, sec.symbol, pr.currency,
		       (q.q * pr.close * CASE WHEN pr.currency = pf.base_currency THEN 1 ELSE
		           coalesce((SELECT rate FROM fx_rates WHERE pack_id = pr.pack_id AND from_ccy = pr.currency AND to_ccy = pf.base_currency),
		                    1 / (SELECT rate FROM fx_rates WHERE pack_id = pr.pack_id AND from_ccy = pf.base_currency AND to_ccy = pr.currency)) END
		           / q.base)::float8
		FROM qty q JOIN securities sec ON sec.id = q.security_id
		JOIN portfolios pf ON pf.id = $1
		JOIN prices pr ON pr.security_id = q.security_id AND pr.pack_date = q.prev
		JOIN pricing_packs pp ON pp.id = pr.pack_id AND pp.status = 'fresh' AND pp.superseded_by IS NULL
		ORDER BY q.d`, p.ID, start, dm.End)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := pgx.CollectRows(rows, pgx.RowToStructByPos[wrow])
	if err != nil {
		t.Fatal(err)
	}
	factors := sqlFactorSeries(t, dm.DB)
	fxBeta := map[string][]float64{}
	systematic := map[time.Time]float64{}
	var days []time.Time
	for _, w := range ws {
		if _, ok := systematic[w.Date]; !ok {
			days = append(days, w.Date)
		}
		f, ok := factors[w.Date]
		if !ok {
			t.Fatalf("no factors on %s", w.Date.Format(time.DateOnly))
		}
		beta := make([]float64, 7)
		for j, def := range storage.Factors {
			beta[j] = truth[w.Symbol].Betas[def.Name]
		}
		if w.Currency != p.BaseCurrency {
			b, ok := fxBeta[w.Currency]
			if !ok {
				b = sqlFXBetas(t, dm, w.Currency, p.BaseCurrency, start, factors)
				fxBeta[w.Currency] = b
			}
			for j := range beta {
				beta[j] += b[j]
			}
		}
		for j := range beta {
			systematic[w.Date] += w.Weight * beta[j] * f[j]
		}
	}
	if len(days) != out.Observations {
		t.Fatalf("%s: %d sample days in SQL, %d in the regression", p.Name, len(days), out.Observations)
	}
	y := make([]float64, len(days))
	x := make([][]float64, 7)
	for i, d := range days {
		y[i] = systematic[d]
		for j := range x {
			x[j] = append(x[j], factors[d][j])
		}
	}
	res, err := quant.OLS(y, x)
	if err != nil {
		t.Fatal(err)
	}
	scale := map[string]float64{}
	for _, tr := range truth {
		for f, b := range tr.Betas {
			scale[f] = math.Max(scale[f], math.Abs(b))
		}
	}
	for j, f := range out.Factors {
		want := res.Coefficients[j+1]
		tol := 5*f.StdError + 0.02*scale[f.Factor]
		if math.Abs(f.Beta-want) > tol {
			t.Errorf("%s beta to %s: %.4f (se %.4f), true model %.4f, want within %.4f", p.Name, f.Factor, f.Beta, f.StdError, want, tol)
		}
		t.Logf("%s beta to %s: %.4f (se %.4f), true model %.4f", p.Name, f.Factor, f.Beta, f.StdError, want)
	}
	if out.RSquared < 0.5 {
		t.Errorf("%s: R² %.3f; a diversified portfolio of factor-driven prices explains far more", p.Name, out.RSquared)
	}
}

// sqlFXBetas regresses the daily returns of the stored rate from→to on
// the factors from start on.
func sqlFXBetas(t *testing.T, dm riskDemo, from, to string, start time.Time, factors map[time.Time][]float64) []float64 {
	t.Helper()
	var dates []time.Time
	var rates []float64
	sqlRow(t, dm.DB, `SELECT array_agg(pp.pack_date ORDER BY pp.pack_date),
			array_agg(coalesce((SELECT rate FROM fx_rates WHERE pack_id = pp.id AND from_ccy = $1 AND to_ccy = $2),
			                   1 / (SELECT rate FROM fx_rates WHERE pack_id = pp.id AND from_ccy = $2 AND to_ccy = $1))::float8 ORDER BY pp.pack_date)
		FROM pricing_packs pp WHERE pp.status = 'fresh' AND pp.superseded_by IS NULL AND pp.pack_date >= $3::date - 7 AND pp.pack_date <= $4`,
		[]any{from, to, start, dm.End}, &dates, &rates)
	var y []float64
	x := make([][]float64, 7)
	for i := 1; i < len(dates); i++ {
		f, ok := factors[dates[i]]
		if !ok || dates[i].Before(start) {
			continue
		}
		y = append(y, rates[i]/rates[i-1]-1)
		for j := range x {
			x[j] = append(x[j], f[j])
		}
	}
	res, err := quant.OLS(y, x)
	if err != nil {
		t.Fatalf("fx betas of %s/%s: %v", from, to, err)
	}
	return res.Coefficients[1:]
}

// checkReplayChangesNothing runs the capability again: the rows keep their
// content, their updated_at and their row version (xmin).
func checkReplayChangesNothing(t *testing.T, dm riskDemo, p seed.PortfolioInfo) {
	t.Helper()
	snapshot := func() string {
		var s string
		sqlRow(t, dm.DB, `SELECT (SELECT string_agg(xmin::text || updated_at::text || factors::text, ',') FROM factor_exposures WHERE portfolio_id = $1)
			|| '|' || (SELECT string_agg(xmin::text || updated_at::text || beta_equity::text, ',' ORDER BY security_id) FROM position_factor_betas WHERE portfolio_id = $1)`,
			[]any{p.ID}, &s)
		return s
	}
	before := snapshot()
	var out analyst.FactorExposuresOutput
	if err := dm.h.Call("risk.compute_factor_exposures", map[string]any{"portfolio_id": p.ID}, &out); err != nil {
		t.Fatal(err)
	}
	if after := snapshot(); after != before {
		t.Errorf("replay changed the stored rows:\n before %s\n after  %s", before, after)
	}
}

// checkExposureHistory reads the stored row back through the history
// capability, with each kind of bound, and an empty history.
func checkExposureHistory(t *testing.T, dm riskDemo, p seed.PortfolioInfo, out analyst.FactorExposuresOutput) {
	t.Helper()
	ctx := context.Background()
	// A second, older row written by hand so that order and bounds show.
	older := storage.FactorExposure{PortfolioID: p.ID, AsOfDate: dm.End.AddDate(0, 0, -14), PackID: dm.PackID, LookbackDays: 252, Observations: 200,
		Factors: map[string]storage.FactorLoading{storage.FactorEquity: {Beta: 0.5, StdError: 0.1, TStat: 5}}}
	if err := storage.UpsertFactorExposure(ctx, dm.DB.Pool(), older); err != nil {
		t.Fatal(err)
	}
	var hist analyst.FactorExposureHistoryOutput
	if err := dm.h.Call("risk.get_factor_exposure_history", map[string]any{"portfolio_id": p.ID}, &hist); err != nil {
		t.Fatal(err)
	}
	if hist.Count != 2 || hist.History[0].AsOfDate != older.AsOfDate.Format(time.DateOnly) || hist.History[1].AsOfDate != out.AsOfDate {
		t.Fatalf("history %+v; want the hand row then the computed one", hist.History)
	}
	last := hist.History[1]
	if len(last.Factors) != 7 || last.Factors[4].Beta != out.Factors[4].Beta || *last.Alpha != out.Alpha || last.Observations != out.Observations {
		t.Errorf("history row %+v differs from the computed %+v", last, out)
	}
	if h0 := hist.History[0]; h0.Alpha != nil || len(h0.Factors) != 1 || h0.Factors[0].Factor != storage.FactorEquity {
		t.Errorf("hand row %+v: want a null alpha and only the equity factor", h0)
	}
	for _, c := range []struct {
		args map[string]any
		want int
	}{
		{map[string]any{"last_n": 1}, 1},
		{map[string]any{"lookback_weeks": 1}, 1},
		{map[string]any{"lookback_weeks": 3}, 2},
		{map[string]any{"from_date": dm.End.AddDate(0, 0, -14).Format(time.DateOnly)}, 2},
		{map[string]any{"to_date": dm.End.AddDate(0, 0, -1).Format(time.DateOnly)}, 1},
	} {
		c.args["portfolio_id"] = p.ID
		if err := dm.h.Call("risk.get_factor_exposure_history", c.args, &hist); err != nil || hist.Count != c.want {
			t.Errorf("history %v: %d rows (%v), want %d", c.args, hist.Count, err, c.want)
		}
	}
	err := dm.h.Call("risk.get_factor_exposure_history", map[string]any{"portfolio_id": p.ID, "last_n": 2, "lookback_weeks": 2}, &hist)
	expectCode(t, "two bounds", err, agents.CodeInvalidInput, "at most one")
	err = dm.h.Call("risk.get_factor_exposure_history", map[string]any{"portfolio_id": p.ID, "from_date": "2026-06-30", "to_date": "2026-06-01"}, &hist)
	expectCode(t, "reversed range", err, agents.CodeInvalidInput)
	if err := dm.h.Call("risk.get_factor_exposure_history", map[string]any{"portfolio_id": dm.portfolio(t, "EUR Income").ID, "to_date": "2020-01-01"}, &hist); err != nil {
		t.Fatal(err)
	}
	if hist.Count != 0 || hist.History == nil || hist.Note == "" {
		t.Errorf("empty history: %+v; want [] with a note", hist)
	}
	err = dm.h.Call("risk.get_factor_exposure_history", map[string]any{"portfolio_id": uuid.New()}, &hist)
	expectCode(t, "unknown portfolio", err, agents.CodeNotFound)
	if _, err := dm.DB.Exec(ctx, `DELETE FROM factor_exposures WHERE portfolio_id = $1 AND as_of_date = $2`, p.ID, older.AsOfDate); err != nil {
		t.Fatal(err)
	}
}

// checkCycleOverlay inserts cycle phases by hand: none is insufficient_data
// naming the cycle; STDC "EARLY_EXPANSION" (0.8) and LTDC "deep
// contraction" (2.0) multiply every beta by 1.6; the newest row on or
// before the as-of date counts; an unknown phase name is refused.
func checkCycleOverlay(t *testing.T, dm riskDemo, exp analyst.FactorExposuresOutput) {
	t.Helper()
	ctx := context.Background()
	var out analyst.CycleOverlayOutput
	err := dm.h.Call("risk.overlay_cycle_phases", map[string]any{"exposures": exp}, &out)
	expectCode(t, "no cycle rows", err, agents.CodeInsufficientData, "STDC")
	insert := func(cycle, date, phase string, score float64) {
		t.Helper()
		if _, err := dm.DB.Exec(ctx, `INSERT INTO cycle_phases (cycle, as_of_date, phase, score) VALUES ($1, $2, $3, $4)
			ON CONFLICT (cycle, as_of_date) DO UPDATE SET phase = EXCLUDED.phase, score = EXCLUDED.score`, cycle, date, phase, score); err != nil {
			t.Fatal(err)
		}
	}
	insert("STDC", "2026-05-01", "late_expansion", 0.3)
	err = dm.h.Call("risk.overlay_cycle_phases", map[string]any{"exposures": exp}, &out)
	expectCode(t, "no LTDC row", err, agents.CodeInsufficientData, "LTDC")
	insert("STDC", "2026-06-15", "EARLY_EXPANSION", 0.6)
	insert("STDC", "2026-07-15", "deep contraction", 0.9) // after the as-of date: ignored
	insert("LTDC", "2026-01-01", "Deep-Contraction", -0.4)
	if err := dm.h.Call("risk.overlay_cycle_phases", map[string]any{"exposures": exp}, &out); err != nil {
		t.Fatal(err)
	}
	if out.ShortTerm.Multiplier != 0.8 || out.ShortTerm.AsOfDate != "2026-06-15" || out.LongTerm.Multiplier != 2.0 || math.Abs(out.Multiplier-1.6) > 1e-15 {
		t.Fatalf("overlay phases %+v %+v multiplier %g; want STDC 0.8 of 2026-06-15, LTDC 2.0, product 1.6", out.ShortTerm, out.LongTerm, out.Multiplier)
	}
	for i, f := range out.Factors {
		in := exp.Factors[i]
		if f.Factor != in.Factor || math.Abs(f.AmplifiedBeta-1.6*in.Beta) > 1e-12 || f.AmplifiedContributionAnnual == nil ||
			math.Abs(*f.AmplifiedContributionAnnual-1.6*in.ContributionAnnual) > 1e-15 {
			t.Errorf("factor %d: %+v; want 1.6 × %+v", i, f, in)
		}
	}
	// Each accepted name and its multiplier (DOMAIN.md §4).
	for phase, m := range map[string]float64{"early expansion": 0.8, "MID_EXPANSION": 1.0, "mid": 1.0, "Late Expansion": 1.2,
		"early-contraction": 1.5, "DEEP_CONTRACTION": 2.0, "recovery": 0.9} {
		insert("LTDC", "2026-06-30", phase, 0)
		if err := dm.h.Call("risk.overlay_cycle_phases", map[string]any{"exposures": map[string]any{
			"factors": []map[string]any{{"factor": "equity", "beta": 1}}}}, &out); err != nil {
			t.Fatalf("%s: %v", phase, err)
		}
		if out.LongTerm.Multiplier != m || out.Factors[0].AmplifiedContributionAnnual != nil {
			t.Errorf("phase %q: multiplier %g, want %g", phase, out.LongTerm.Multiplier, m)
		}
	}
	insert("LTDC", "2026-06-30", "beautiful deleveraging", 0)
	err = dm.h.Call("risk.overlay_cycle_phases", map[string]any{"exposures": exp}, &out)
	expectCode(t, "unknown phase", err, agents.CodeInsufficientData, "beautiful deleveraging", "accepted phases")
	err = dm.h.Call("risk.overlay_cycle_phases", map[string]any{"exposures": map[string]any{"factors": []any{}}}, &out)
	expectCode(t, "no factors", err, agents.CodeInvalidInput)
}

// TestFactorExposuresExactFit builds a portfolio by hand whose daily
// values follow y = 2·real_rates − credit exactly, stored to the cent on a
// million, over 80 days of hand-made factor series: the regression must
// give β = (2, 0, −1, 0, 0, 0, 0), α = 0 and R² = 1 to within what the cent
// rounding leaves (about 5e-9 a day). quant.OLS refuses a bit-exact fit
// (no residual variance for standard errors); values stored as money are
// never bit-exact.
func TestFactorExposuresExactFit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	var owner uuid.UUID
	sqlRow(t, db, `INSERT INTO users (email, password_hash, role) VALUES ('fit@example.com', 'x', 'USER') RETURNING id`, nil, &owner)
	pf, err := storage.CreatePortfolio(ctx, db.Pool(), storage.Portfolio{OwnerID: owner, Name: "Fit", BaseCurrency: "USD", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	short, err := storage.CreatePortfolio(ctx, db.Pool(), storage.Portfolio{OwnerID: owner, Name: "Short", BaseCurrency: "USD", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 81
	day := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	var dates []time.Time
	for len(dates) < n {
		if day.Weekday() != time.Saturday && day.Weekday() != time.Sunday {
			dates = append(dates, day)
		}
		day = day.AddDate(0, 0, 1)
	}
	levels := make([][]float64, 7)
	for j, def := range storage.Factors {
		lv := 2.0
		if def.Transform == storage.TransformReturn {
			lv = 100
		}
		for i := range dates {
			if i > 0 {
				if def.Transform == storage.TransformReturn {
					lv *= 1 + 0.01*rng.NormFloat64()
				} else {
					lv += 0.05 * rng.NormFloat64()
				}
			}
			levels[j] = append(levels[j], lv)
		}
	}
	value := 1e6
	for i, dt := range dates {
		pack := storage.PackID(dt, 0)
		if _, err := db.Exec(ctx, `INSERT INTO pricing_packs (id, pack_date, status, content_hash, finalized_at) VALUES ($1, $2, 'fresh', $3, now())`,
			pack, dt, strings.Repeat("0", 64)); err != nil {
			t.Fatal(err)
		}
		for j, def := range storage.Factors {
			if _, err := db.Exec(ctx, `INSERT INTO macro_indicators (series_id, obs_date, value, source) VALUES ($1, $2, $3, 'test')`, def.SeriesID, dt, levels[j][i]); err != nil {
				t.Fatal(err)
			}
		}
		if i > 0 {
			f1 := (levels[0][i] - levels[0][i-1]) / 100
			f3 := (levels[2][i] - levels[2][i-1]) / 100
			value = math.Round(value*(1+2*f1-f3)*100) / 100
		}
		v := fmt.Sprintf("%.2f", value)
		for k, p := range []uuid.UUID{pf.ID, short.ID} {
			if k == 1 && i < n-31 {
				continue
			}
			if _, err := db.Exec(ctx, `INSERT INTO portfolio_daily_values (portfolio_id, value_date, pack_id, base_currency, total_value, cash_value,
					positions_value, ledger_hash) VALUES ($1, $2, $3, 'USD', $4, $4, 0, $5)`, p, dt, pack, v, strings.Repeat("a", 64)); err != nil {
				t.Fatal(err)
			}
		}
	}
	h := newHarness(t, db)
	last := dates[n-1]
	h.Run = agents.RunContext{PricingPackID: storage.PackID(last, 0), AsOfDate: last.Format(time.DateOnly)}
	var out analyst.FactorExposuresOutput
	if err := h.Call("risk.compute_factor_exposures", map[string]any{"portfolio_id": pf.ID}, &out); err != nil {
		t.Fatal(err)
	}
	wantBeta := []float64{2, 0, -1, 0, 0, 0, 0}
	for j, f := range out.Factors {
		if math.Abs(f.Beta-wantBeta[j]) > 1e-4 {
			t.Errorf("beta to %s: %.8f, want %g", f.Factor, f.Beta, wantBeta[j])
		}
	}
	if out.Observations != n-1 || math.Abs(out.AlphaDaily) > 1e-8 || out.RSquared < 1-1e-8 || out.ResidualVolDaily > 1e-7 || len(out.Positions) != 0 {
		t.Errorf("fit: %d observations, α %g, R² %.12f, residual %g, %d positions; want %d, 0, 1, ~0, none",
			out.Observations, out.AlphaDaily, out.RSquared, out.ResidualVolDaily, len(out.Positions), n-1)
	}
	// Hand check of the factor means: contribution = β × mean factor.
	m1 := (levels[0][n-1] - levels[0][0]) / 100 / float64(n-1)
	if math.Abs(out.Factors[0].FactorMean-m1) > 1e-15 || math.Abs(out.Factors[0].ContributionAnnual-out.Factors[0].Beta*m1*252) > 1e-12 {
		t.Errorf("real rates mean %g (hand %g), annual contribution %g", out.Factors[0].FactorMean, m1, out.Factors[0].ContributionAnnual)
	}
	if err := h.Call("risk.compute_factor_exposures", map[string]any{"portfolio_id": pf.ID, "lookback_days": 60}, &out); err != nil || out.Observations != 60 {
		t.Errorf("lookback 60: %d observations (%v), want 60", out.Observations, err)
	}
	err = h.Call("risk.compute_factor_exposures", map[string]any{"portfolio_id": short.ID}, &out)
	expectCode(t, "30 days of history", err, agents.CodeInsufficientData, "found 30", "need at least 60")
}
