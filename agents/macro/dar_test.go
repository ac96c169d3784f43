package macro_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/macro"
)

// z95 is the standard normal 0.95 quantile, Φ⁻¹(0.95) (Abramowitz and
// Stegun, table 26.5; 1.6448536269514722 to double precision).
const z95 = 1.6448536269514722

// handCov is the sample covariance (ddof 1) of the equity and commodity
// returns on the given days, written out: var_e, var_c and cov_ec.
func handCov(eq, com map[time.Time]float64, days []time.Time) (ve, vc, cec float64) {
	n := float64(len(days))
	me, mc := 0.0, 0.0
	for _, d := range days {
		me += eq[d]
		mc += com[d]
	}
	me, mc = me/n, mc/n
	for _, d := range days {
		ve += (eq[d] - me) * (eq[d] - me)
		vc += (com[d] - mc) * (com[d] - mc)
		cec += (eq[d] - me) * (com[d] - mc)
	}
	return ve / (n - 1), vc / (n - 1), cec / (n - 1)
}

// closedFormDaR is the drawdown-at-risk of portfolio two (weights ½ and ½
// on SCA, β equity 1, and SCB, β commodity 1) for zero-mean normal factor
// moves: the two assets' h-day returns are normal with the covariance h ×
// the daily one, so the portfolio return is N(0, σ²) with
//
//	σ² = h × (¼ var_e + ¼ var_c + ½ cov_ec)
//
// and DaR at 95 % = z₀.₉₅ × σ. The Monte Carlo 5 % quantile of N draws
// has a standard error of √(p(1 − p)/N) / φ(z) × σ (the asymptotic
// variance of a sample quantile), φ(z) = e^(−z²/2)/√(2π).
func closedFormDaR(ve, vc, cec float64, h, n int) (dar, se float64) {
	sigma := math.Sqrt(float64(h) * (0.25*ve + 0.25*vc + 0.5*cec))
	phi := math.Exp(-z95*z95/2) / math.Sqrt(2*math.Pi)
	return z95 * sigma, math.Sqrt(0.05*0.95/float64(n)) / phi * sigma
}

// darRow is the dar_history row of a figure, read with plain SQL.
type darRow struct {
	regime      string
	simulations int
	seed        *int64
	fraction    float64
	amount      decimal.Decimal
	value       decimal.Decimal
	updatedAt   time.Time
}

func readDaRRow(t *testing.T, b scenBook, method string, confidence float64, horizon int) darRow {
	t.Helper()
	var r darRow
	if err := b.db.QueryRow(context.Background(), `SELECT regime, simulations, seed, dar_fraction, dar_amount, portfolio_value, updated_at
		FROM dar_history WHERE portfolio_id = $1 AND method = $2 AND confidence = $3 AND horizon_days = $4`,
		[]any{b.two, method, confidence, horizon}, &r.regime, &r.simulations, &r.seed, &r.fraction, &r.amount, &r.value, &r.updatedAt); err != nil {
		t.Fatalf("read dar_history: %v", err)
	}
	return r
}

// TestDaRMonteCarloAgainstClosedForm: portfolio two on 300 hand-made
// factor days; the regime (LATE_EXPANSION since 2025-04-01) has too few
// days, so the covariance is estimated on all of them. The Monte Carlo
// figure lies within four standard errors of the closed form.
func TestDaRMonteCarloAgainstClosedForm(t *testing.T) {
	t.Parallel()
	b := buildScenBook(t)
	insertFactorPaths(t, b.db, scenAsOf, 400)
	insertRegime(t, b.db, "2024-01-01", "MID_EXPANSION", 0.6)
	insertRegime(t, b.db, "2025-04-01", "LATE_EXPANSION", 0.7)
	h := b.harness(t)
	var out macro.DaROutput
	args := map[string]any{"portfolio_id": b.two, "confidence": 0.95, "horizon_days": 10, "lookback_days": 300, "seed": 42}
	h.MustCall("macro.compute_dar", args, &out)

	days := businessDays(scenAsOf, 300)
	eq := sqlReturns(t, b.db, "SP500", days[0], scenAsOf)
	com := sqlReturns(t, b.db, "DCOILWTICO", days[0], scenAsOf)
	ve, vc, cec := handCov(eq, com, days)
	want, se := closedFormDaR(ve, vc, cec, 10, 10000)
	t.Logf("monte carlo %.6f, closed form %.6f, standard error %.6f", out.DaRFraction, want, se)
	if math.Abs(out.DaRFraction-want) > 4*se {
		t.Errorf("monte carlo DaR %v; closed form %v ± %v (4 standard errors %v)", out.DaRFraction, want, se, 4*se)
	}
	regimeDays := 0
	for _, d := range days {
		if !d.Before(day("2025-04-01")) {
			regimeDays++
		}
	}
	cv := out.Covariance
	if cv == nil || cv.Basis != "all_days" || cv.DaysUsed != 300 || cv.RegimeDays != regimeDays || cv.StartDate != days[0].Format(time.DateOnly) {
		t.Fatalf("covariance %+v; want all 300 days (%d in the regime, fewer than 126)", cv, regimeDays)
	}
	if out.Method != "monte_carlo" || out.Simulations != 10000 || out.Seed == nil || *out.Seed != 42 || out.SeedSource != "input" ||
		out.Regime.Regime != "LATE_EXPANSION" || out.Regime.Source != "regime_history" || out.QuantileReturn != -out.DaRFraction {
		t.Errorf("output %+v", out)
	}
	if !out.PortfolioValue.Equal(dec("20000")) || !out.DaRAmount.Equal(dec("20000").Mul(decimal.NewFromFloat(out.DaRFraction)).Round(4)) {
		t.Errorf("amount %s of %s; want dar_fraction × 20000", out.DaRAmount, out.PortfolioValue)
	}
	for _, e := range out.Exposures {
		want := 0.0
		if e.Factor == "equity" || e.Factor == "commodity" {
			want = 0.5
		}
		if e.Exposure != want {
			t.Errorf("exposure to %s %v; want %v", e.Factor, e.Exposure, want)
		}
	}
	row := readDaRRow(t, b, "monte_carlo", 0.95, 10)
	if row.regime != "LATE_EXPANSION" || row.simulations != 10000 || row.seed == nil || *row.seed != 42 || row.fraction != out.DaRFraction ||
		!row.amount.Equal(out.DaRAmount) || !row.value.Equal(dec("20000")) {
		t.Errorf("dar_history %+v; want the figure, seed 42, 10000 simulations", row)
	}
	// A replay upserts the same figure and changes nothing.
	var again macro.DaROutput
	h.MustCall("macro.compute_dar", args, &again)
	if r2 := readDaRRow(t, b, "monte_carlo", 0.95, 10); again.DaRFraction != out.DaRFraction || !r2.updatedAt.Equal(row.updatedAt) {
		t.Errorf("replay: %v (was %v), updated %v (was %v); want the same row untouched", again.DaRFraction, out.DaRFraction, r2.updatedAt, row.updatedAt)
	}
}

// TestDaRRegimeConditioned: LATE_EXPANSION up to 2024-08-30 and again from
// 2025-01-02, MID_EXPANSION between; of the last 300 days, those in the
// current regime (LATE) are enough, so only they are used, and the figure
// matches the closed form on their covariance. The regime can also come
// from the run's macro.detect_regime output.
func TestDaRRegimeConditioned(t *testing.T) {
	t.Parallel()
	b := buildScenBook(t)
	insertFactorPaths(t, b.db, scenAsOf, 400)
	insertRegime(t, b.db, "2023-01-02", "LATE_EXPANSION", 0.6)
	insertRegime(t, b.db, "2024-09-02", "MID_EXPANSION", 0.6)
	insertRegime(t, b.db, "2025-01-02", "LATE_EXPANSION", 0.8)
	h := b.harness(t)
	var out macro.DaROutput
	h.MustCall("macro.compute_dar", map[string]any{"portfolio_id": b.two, "horizon_days": 5, "lookback_days": 300, "seed": 7}, &out)
	all := businessDays(scenAsOf, 300)
	var late []time.Time
	for _, d := range all {
		if d.Before(day("2024-09-02")) || !d.Before(day("2025-01-02")) {
			late = append(late, d)
		}
	}
	if len(late) < 126 {
		t.Fatalf("fixture: %d LATE days; the test needs at least 126", len(late))
	}
	cv := out.Covariance
	if cv.Basis != "regime_days" || cv.DaysUsed != len(late) || cv.RegimeDays != len(late) || cv.DaysAvailable != 300 {
		t.Fatalf("covariance %+v; want the %d LATE_EXPANSION days", cv, len(late))
	}
	eq := sqlReturns(t, b.db, "SP500", all[0], scenAsOf)
	com := sqlReturns(t, b.db, "DCOILWTICO", all[0], scenAsOf)
	ve, vc, cec := handCov(eq, com, late)
	want, se := closedFormDaR(ve, vc, cec, 5, 10000)
	t.Logf("regime days: monte carlo %.6f, closed form %.6f, standard error %.6f", out.DaRFraction, want, se)
	if math.Abs(out.DaRFraction-want) > 4*se || out.Confidence != 0.95 || out.HorizonDays != 5 {
		t.Errorf("DaR %v at %v/%d; closed form on the regime's days %v ± %v", out.DaRFraction, out.Confidence, out.HorizonDays, want, se)
	}
	// The regime passed in wins over the stored one: MID_EXPANSION has
	// too few days, so all days are used.
	h.MustCall("macro.compute_dar", map[string]any{"portfolio_id": b.two, "horizon_days": 5, "lookback_days": 300, "seed": 7,
		"regime": map[string]any{"regime": "MID_EXPANSION", "confidence": 0.55, "asof_date": "2025-06-30", "runner_up": "LATE_EXPANSION"}}, &out)
	if out.Regime.Source != "input" || out.Regime.Regime != "MID_EXPANSION" || out.Covariance.Basis != "all_days" ||
		out.Covariance.RegimeDays != 300-len(late) {
		t.Errorf("regime input: %+v, covariance %+v", out.Regime, out.Covariance)
	}
}

// TestDaRScenarioMethodHandComputed: portfolio two's return in each library
// scenario is ½ equity shock + ½ commodity shock:
//
//	t_com_down_40 −0.20, t_eq_down_30 −0.15, equities_down_20pct −0.10,
//	t_eq_com_down −0.10, t_rates_up_100 0, t_eq_up_5 0.025, t_eq_com_up 0.15
//
// At 90 % the type-7 quantile sits at (7 − 1) × 0.1 = 0.6 between the two
// worst: −0.20 + 0.6 × (−0.15 + 0.20) = −0.17, so DaR = 0.17 and the
// amount 0.17 × 20,000 = 3,400.
func TestDaRScenarioMethodHandComputed(t *testing.T) {
	t.Parallel()
	b := buildScenBook(t)
	insertRegime(t, b.db, "2025-06-01", "EARLY_CONTRACTION", 0.6)
	h := b.harness(t)
	var out macro.DaROutput
	h.MustCall("macro.compute_dar", map[string]any{"portfolio_id": b.two, "method": "scenarios", "confidence": 0.9}, &out)
	if !near(out.DaRFraction, 0.17, 1e-12) || !out.DaRAmount.Equal(dec("3400")) || out.Simulations != 7 || out.Seed != nil ||
		out.Covariance != nil || out.QuantileMethod != "type7_linear" {
		t.Fatalf("scenario DaR %v (%s) over %d, seed %v; want 0.17 (3400) over 7, no seed", out.DaRFraction, out.DaRAmount, out.Simulations, out.Seed)
	}
	if len(out.Outcomes) != 7 || out.Outcomes[0].ScenarioID != "t_com_down_40" || !near(out.Outcomes[0].Return, -0.2, 1e-15) ||
		!near(out.Outcomes[6].Return, 0.15, 1e-15) {
		t.Errorf("outcomes %+v", out.Outcomes)
	}
	row := readDaRRow(t, b, "scenarios", 0.9, 21)
	if row.seed != nil || row.simulations != 7 || row.regime != "EARLY_CONTRACTION" || !near(row.fraction, 0.17, 1e-12) {
		t.Errorf("dar_history %+v", row)
	}
}

// TestDaRSeedReproduces: without a seed the seed is the first 53 bits of
// sha256("dawsos.compute_dar/" + run id), recorded; the same run id (a
// replay) gives the same figure, another run id another seed, and giving
// the first seed explicitly reproduces the first figure.
func TestDaRSeedReproduces(t *testing.T) {
	t.Parallel()
	b := buildScenBook(t)
	insertFactorPaths(t, b.db, scenAsOf, 200)
	insertRegime(t, b.db, "2024-01-01", "MID_EXPANSION", 0.6)
	h := b.harness(t)
	args := map[string]any{"portfolio_id": b.two, "lookback_days": 150}
	var first, replay, other, given macro.DaROutput
	h.MustCall("macro.compute_dar", args, &first)
	sum := sha256.Sum256([]byte("dawsos.compute_dar/run-1"))
	want := int64(binary.BigEndian.Uint64(sum[:8]) & (1<<53 - 1))
	if first.Seed == nil || *first.Seed != want || first.SeedSource != "run_id" {
		t.Fatalf("seed %v (%s); want %d derived from run-1", first.Seed, first.SeedSource, want)
	}
	h.MustCall("macro.compute_dar", args, &replay)
	if replay.DaRFraction != first.DaRFraction || *replay.Seed != *first.Seed {
		t.Errorf("same run: %v seed %d; first %v seed %d", replay.DaRFraction, *replay.Seed, first.DaRFraction, *first.Seed)
	}
	h.Run.RunID = "run-2"
	h.MustCall("macro.compute_dar", args, &other)
	if *other.Seed == *first.Seed || other.DaRFraction == first.DaRFraction {
		t.Errorf("another run: seed %d, DaR %v; want another seed and figure than %d, %v", *other.Seed, other.DaRFraction, *first.Seed, first.DaRFraction)
	}
	h.MustCall("macro.compute_dar", map[string]any{"portfolio_id": b.two, "lookback_days": 150, "seed": *first.Seed}, &given)
	if given.DaRFraction != first.DaRFraction || given.SeedSource != "input" {
		t.Errorf("seed %d given: %v; want %v", *first.Seed, given.DaRFraction, first.DaRFraction)
	}
	if row := readDaRRow(t, b, "monte_carlo", 0.95, 21); row.seed == nil || *row.seed != *first.Seed || row.fraction != first.DaRFraction {
		t.Errorf("dar_history holds seed %v, %v; want the last call's %d, %v", row.seed, row.fraction, *first.Seed, first.DaRFraction)
	}
}

// TestDaRBadInput: every way a DaR call can be wrong.
func TestDaRBadInput(t *testing.T) {
	t.Parallel()
	b := buildScenBook(t)
	h := b.harness(t)
	// No factor series and no regime yet.
	err := h.Call("macro.compute_dar", map[string]any{"portfolio_id": b.two}, nil)
	scenWantCode(t, "no regime", err, agents.CodeInsufficientData, "", "regime_history")
	insertRegime(t, b.db, "2025-06-01", "MID_EXPANSION", 0.6)
	err = h.Call("macro.compute_dar", map[string]any{"portfolio_id": b.two}, nil)
	scenWantCode(t, "no factor series", err, agents.CodeInsufficientData, "", "found 0, need at least 756")
	insertFactorPaths(t, b.db, scenAsOf, 100)
	for _, c := range []struct {
		what        string
		args        map[string]any
		code, field string
		names       []string
	}{
		{"confidence 1", map[string]any{"portfolio_id": b.two, "confidence": 1}, agents.CodeInvalidInput, "args.confidence", nil},
		{"confidence 0", map[string]any{"portfolio_id": b.two, "confidence": 0}, agents.CodeInvalidInput, "args.confidence", nil},
		{"confidence 1.5", map[string]any{"portfolio_id": b.two, "confidence": 1.5}, agents.CodeInvalidInput, "args.confidence", nil},
		{"confidence −0.1", map[string]any{"portfolio_id": b.two, "confidence": -0.1}, agents.CodeInvalidInput, "args.confidence", nil},
		{"horizon 0", map[string]any{"portfolio_id": b.two, "horizon_days": 0}, agents.CodeInvalidInput, "args.horizon_days", nil},
		{"unknown method", map[string]any{"portfolio_id": b.two, "method": "historical"}, agents.CodeInvalidInput, "args.method", nil},
		{"lookback longer than the history", map[string]any{"portfolio_id": b.two, "lookback_days": 500}, agents.CodeInsufficientData, "",
			[]string{"found 100, need at least 500"}},
		{"no betas and no heuristic class", map[string]any{"portfolio_id": b.noclass}, agents.CodeInsufficientData, "", []string{"SCU"}},
		{"empty portfolio", map[string]any{"portfolio_id": b.empty}, agents.CodeInsufficientData, "", []string{"found 0"}},
		{"cash only", map[string]any{"portfolio_id": b.cash}, agents.CodeInsufficientData, "", []string{"found 0"}},
		{"unknown portfolio", map[string]any{"portfolio_id": "00000000-0000-4000-8000-000000000001"}, agents.CodeNotFound, "", nil},
		{"exposures of another portfolio", map[string]any{"portfolio_id": b.two, "factor_exposures": map[string]any{"portfolio_id": b.one, "positions": []any{}}},
			agents.CodeInvalidInput, "factor_exposures.portfolio_id", nil},
		{"exposures missing a factor", map[string]any{"portfolio_id": b.two, "factor_exposures": map[string]any{"positions": []any{
			map[string]any{"security_id": b.sca, "factors": []any{map[string]any{"factor": "equity", "beta": 1}}}}}},
			agents.CodeInvalidInput, "factor_exposures.positions[0].factors", nil},
	} {
		err := h.Call("macro.compute_dar", c.args, nil)
		scenWantCode(t, c.what, err, c.code, c.field, c.names...)
	}
	// 100 days are enough for a lookback of 100.
	err = h.Call("macro.compute_dar", map[string]any{"portfolio_id": b.two, "lookback_days": 100}, nil)
	if err != nil {
		t.Fatalf("lookback 100 on 100 days: %v", err)
	}
	var n int
	if err := b.db.QueryRow(context.Background(), `SELECT count(*) FROM dar_history`, nil, &n); err != nil || n != 1 {
		t.Errorf("dar_history rows %d (%v); want only the successful call's", n, err)
	}
}
