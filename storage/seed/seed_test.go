package seed_test

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/dawsos/dawsos/quant"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
	"github.com/dawsos/dawsos/storage/seed"
)

func TestMain(m *testing.M) { pgtest.MainWithLeakCheck(m) }

// shortEnd is the fixed end of the short test windows, a Monday.
var shortEnd = time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)

// shortOpts is a window of about 60 business days.
func shortOpts(s int64) seed.Options {
	return seed.Options{Seed: s, Start: shortEnd.AddDate(0, 0, -85), End: shortEnd,
		Passwords: map[string]string{seed.RoleAdmin: "admin-pw", seed.RoleManager: "manager-pw", seed.RoleViewer: "viewer-pw"}}
}

// contentColumns are, per table, the columns that hold the dataset: every
// column except creation and update times, the random bcrypt salt and the
// random ids the ledger gives cash-flow rows.
var contentColumns = map[string]string{
	"users":                  "id, email, role, active",
	"securities":             "id, symbol, name, type, exchange, currency, sector, industry, country, active",
	"portfolios":             "id, owner_id, name, base_currency, benchmark_security_id, cost_basis_method, active",
	"pricing_packs":          "id, pack_date, revision, policy, status, content_hash, superseded_by, error_detail",
	"prices":                 "pack_id, security_id, pack_date, close, open, high, low, volume, currency",
	"fx_rates":               "pack_id, from_ccy, to_ccy, pack_date, rate",
	"transactions":           "id, seq, portfolio_id, security_id, type, trade_date, settle_date, quantity, price, amount, currency, fees, split_ratio, lot_id, source, source_ref, notes, realized_pl, cash_amount, cash_currency, fx_rate, fx_pack_id",
	"lots":                   "id, portfolio_id, security_id, acquired_date, quantity_original, quantity_open, cost_basis_original, cost_basis_open, cost_per_share, currency, closed_date",
	"lot_reliefs":            "transaction_id, lot_id, portfolio_id, relief_date, quantity, cost_relieved, proceeds, realized_pl",
	"portfolio_cash_flows":   "portfolio_id, transaction_id, flow_date, type, amount, currency",
	"portfolio_daily_values": "portfolio_id, value_date, pack_id, base_currency, total_value, cash_value, positions_value, net_external_flow, ledger_hash",
	"macro_indicators":       "series_id, obs_date, value, source",
	"fundamentals":           "security_id, fiscal_year, period_end, currency, revenue, gross_profit, operating_income, net_income, interest_expense, total_assets, intangible_assets, total_debt, total_equity, current_assets, current_liabilities, operating_cash_flow, capital_expenditure, dividends_paid, shares_outstanding, dividend_per_share, cash_and_equivalents, source",
	"news_items":             "id, security_id, published_at, title, summary, url, source, sentiment",
	"corporate_actions":      "id, security_id, action_type, event_date, record_date, pay_date, amount, ratio, currency, source",
	"scenario_shocks":        "id, name, category, description, shock_real_rates, shock_inflation, shock_credit, shock_usd, shock_equity, shock_commodity, shock_volatility, probability, historical, period_start, period_end, source",
	"rating_rubrics":         "name, version, rubric, description, active",
}

// touchColumns are the write times a re-run must leave alone (securities
// are upserted by storage.UpsertSecurity, which always stamps updated_at).
var touchColumns = map[string]string{
	"users":                  "email, password_hash, updated_at",
	"pricing_packs":          "id, created_at, finalized_at",
	"lots":                   "id, updated_at",
	"portfolio_daily_values": "portfolio_id, value_date, updated_at",
	"macro_indicators":       "series_id, obs_date, updated_at",
	"fundamentals":           "security_id, fiscal_year, updated_at",
	"news_items":             "id, created_at",
	"corporate_actions":      "id, updated_at",
	"scenario_shocks":        "id, updated_at",
	"rating_rubrics":         "name, version, created_at",
}

// checksums is the md5 of each table's rows (as text, sorted) over cols.
func checksums(t *testing.T, db *storage.DB, cols map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for table, c := range cols {
		var sum string
		q := `SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM (SELECT ` + c + ` FROM ` +
			pgx.Identifier{table}.Sanitize() + `) r`
		if err := db.QueryRow(context.Background(), q, nil, &sum); err != nil {
			t.Fatalf("checksum %s: %v", table, err)
		}
		out[table] = sum
	}
	return out
}

func diffSums(t *testing.T, what string, a, b map[string]string) {
	t.Helper()
	for table := range a {
		if a[table] != b[table] {
			t.Errorf("%s: table %s differs: %s vs %s", what, table, a[table], b[table])
		}
	}
}

func TestSameSeedSameTables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db1, db2 := pgtest.NewDB(t), pgtest.NewDB(t)
	r1, err := seed.Run(ctx, db1, shortOpts(7))
	if err != nil {
		t.Fatalf("run 1: %v", err)
	}
	r2, err := seed.Run(ctx, db2, shortOpts(7))
	if err != nil {
		t.Fatalf("run 2: %v", err)
	}
	diffSums(t, "same seed, two databases", checksums(t, db1, contentColumns), checksums(t, db2, contentColumns))
	for table, n := range r1.Counts {
		if r2.Counts[table] != n {
			t.Errorf("count of %s: %d vs %d", table, n, r2.Counts[table])
		}
		if n == 0 {
			t.Errorf("table %s is empty after the seed", table)
		}
	}
}

func TestRunTwiceChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	opts := shortOpts(3)
	first, err := seed.Run(ctx, db, opts)
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	content, touched := checksums(t, db, contentColumns), checksums(t, db, touchColumns)
	// The second run gives no passwords: the stored hashes must stay.
	opts.Passwords = nil
	second, err := seed.Run(ctx, db, opts)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	diffSums(t, "content after a second run", content, checksums(t, db, contentColumns))
	diffSums(t, "write times after a second run", touched, checksums(t, db, touchColumns))
	if len(second.Passwords) != 0 {
		t.Errorf("second run generated passwords for existing users: %v", second.Passwords)
	}
	for i, p := range second.Portfolios {
		if p.Inserted != 0 || first.Portfolios[i].Inserted != p.Transactions {
			t.Errorf("portfolio %s: first run inserted %d of %d, second %d; want all, then none",
				p.Name, first.Portfolios[i].Inserted, p.Transactions, p.Inserted)
		}
	}
	var hash string
	if err := db.QueryRow(ctx, `SELECT password_hash FROM users WHERE email = $1`, []any{seed.UserEmail(seed.RoleViewer)}, &hash); err != nil {
		t.Fatal(err)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("viewer-pw")); err != nil {
		t.Errorf("viewer's stored hash does not match the first run's password: %v", err)
	}
	// A third run with a new password replaces that hash only.
	opts.Passwords = map[string]string{seed.RoleViewer: "new-viewer-pw"}
	if _, err := seed.Run(ctx, db, opts); err != nil {
		t.Fatalf("third run: %v", err)
	}
	if err := db.QueryRow(ctx, `SELECT password_hash FROM users WHERE email = $1`, []any{seed.UserEmail(seed.RoleViewer)}, &hash); err != nil {
		t.Fatal(err)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("new-viewer-pw")); err != nil {
		t.Errorf("viewer's hash after a new password: %v", err)
	}
}

func TestLaterRunKeepsWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	opts := shortOpts(5)
	first, err := seed.Run(ctx, db, opts)
	if err != nil {
		t.Fatal(err)
	}
	// A month later, without an explicit end: the stored window is kept.
	opts.End, opts.Passwords = time.Time{}, nil
	opts.Now = func() time.Time { return shortEnd.AddDate(0, 1, 0) }
	later, err := seed.Run(ctx, db, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !later.WindowReused || !later.Start.Equal(first.Start) || !later.End.Equal(first.End) || later.PackDays != first.PackDays {
		t.Errorf("later run: window %s..%s (reused %v, %d packs), want %s..%s (%d packs)", later.Start.Format(time.DateOnly),
			later.End.Format(time.DateOnly), later.WindowReused, later.PackDays, first.Start.Format(time.DateOnly),
			first.End.Format(time.DateOnly), first.PackDays)
	}
	for _, p := range later.Portfolios {
		if p.Inserted != 0 {
			t.Errorf("later run inserted %d transactions into %s, want 0", p.Inserted, p.Name)
		}
	}
}

func TestDifferentSeedDifferentPrices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db1, db2 := pgtest.NewDB(t), pgtest.NewDB(t)
	opts := shortOpts(11)
	opts.Passwords = nil // generated ones
	r1, err := seed.Run(ctx, db1, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(r1.Passwords) != 3 {
		t.Errorf("generated passwords: got %d roles, want 3", len(r1.Passwords))
	}
	if _, err := seed.Run(ctx, db2, shortOpts(12)); err != nil {
		t.Fatal(err)
	}
	var s1, s2 string
	q := `SELECT md5(string_agg(s.symbol || p.pack_date || p.close, '|' ORDER BY s.symbol, p.pack_date))
		FROM prices p JOIN securities s ON s.id = p.security_id`
	if err := db1.QueryRow(ctx, q, nil, &s1); err != nil {
		t.Fatal(err)
	}
	if err := db2.QueryRow(ctx, q, nil, &s2); err != nil {
		t.Fatal(err)
	}
	if s1 == s2 {
		t.Errorf("seeds 11 and 12 gave identical prices (checksum %s)", s1)
	}
	// Every generated password logs in.
	for role, pw := range r1.Passwords {
		var hash string
		if err := db1.QueryRow(ctx, `SELECT password_hash FROM users WHERE email = $1`, []any{seed.UserEmail(role)}, &hash); err != nil {
			t.Fatal(err)
		}
		if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)); err != nil {
			t.Errorf("role %s: generated password does not match its hash: %v", role, err)
		}
	}
}

func TestWindow(t *testing.T) {
	t.Parallel()
	sunday := time.Date(2025, 6, 29, 15, 0, 0, 0, time.UTC)
	tuesday := time.Date(2025, 7, 1, 9, 0, 0, 0, time.UTC)
	friday := time.Date(2025, 6, 27, 0, 0, 0, 0, time.UTC)
	monday := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name       string
		opts       seed.Options
		start, end time.Time
		wantErr    bool
	}{
		{"today Tuesday ends Monday", seed.Options{Now: func() time.Time { return tuesday }}, time.Date(2022, 3, 30, 0, 0, 0, 0, time.UTC), monday, false},
		{"today Sunday ends Friday", seed.Options{Now: func() time.Time { return sunday }}, time.Date(2022, 3, 28, 0, 0, 0, 0, time.UTC), friday, false},
		{"explicit Sunday end moves to Friday", seed.Options{End: sunday, Start: friday.AddDate(0, 0, -100)}, friday.AddDate(0, 0, -100), friday, false},
		{"too short", seed.Options{End: friday, Start: friday.AddDate(0, 0, -20)}, time.Time{}, time.Time{}, true},
	}
	for _, c := range cases {
		start, end, err := seed.Window(c.opts)
		if c.wantErr {
			if err == nil {
				t.Errorf("%s: no error, want one", c.name)
			}
			continue
		}
		if err != nil || !start.Equal(c.start) || !end.Equal(c.end) {
			t.Errorf("%s: got %s..%s (%v), want %s..%s", c.name, start.Format(time.DateOnly), end.Format(time.DateOnly), err,
				c.start.Format(time.DateOnly), c.end.Format(time.DateOnly))
		}
	}
}

// TestFullRun loads the default-size dataset once and checks that every
// pattern input exists and that the factor betas can be recovered.
func TestFullRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	rep, err := seed.Run(ctx, db, seed.Options{Seed: 1, End: shortEnd})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	t.Logf("full seed took %s: %v; counts %v", rep.Elapsed, rep.Timings, rep.Counts)
	if rep.PackDays < 756 {
		t.Errorf("pack days: got %d, want >= 756", rep.PackDays)
	}
	nSec := int64(len(rep.Securities))
	if nSec < 25 {
		t.Errorf("securities: got %d, want >= 25", nSec)
	}
	var fresh int64
	mustRow(t, db, `SELECT count(*) FROM pricing_packs WHERE status = 'fresh' AND superseded_by IS NULL`, nil, &fresh)
	if fresh != int64(rep.PackDays) {
		t.Errorf("fresh packs: got %d, want %d", fresh, rep.PackDays)
	}
	// Every pack has a close for every security and a rate for every
	// ordered pair of the five currencies.
	var badPrices, badFX int64
	mustRow(t, db, `SELECT count(*) FROM pricing_packs pp WHERE (SELECT count(*) FROM prices p WHERE p.pack_id = pp.id) <> $1`, []any{nSec}, &badPrices)
	mustRow(t, db, `SELECT count(*) FROM pricing_packs pp WHERE (SELECT count(*) FROM fx_rates x WHERE x.pack_id = pp.id) <> 20`, nil, &badFX)
	if badPrices != 0 || badFX != 0 {
		t.Errorf("packs without every close: %d, without every rate: %d", badPrices, badFX)
	}
	checkPortfolios(t, db, rep)
	checkLibrary(t, db, rep)
	checkBetas(t, db, rep)
}

func mustRow(t *testing.T, db *storage.DB, q string, args []any, dest ...any) {
	t.Helper()
	if err := db.QueryRow(context.Background(), q, args, dest...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func checkPortfolios(t *testing.T, db *storage.DB, rep seed.Report) {
	ctx := context.Background()
	if len(rep.Portfolios) < 3 {
		t.Fatalf("portfolios: got %d, want >= 3", len(rep.Portfolios))
	}
	bases, methods := map[string]bool{}, map[string]bool{}
	for _, p := range rep.Portfolios {
		bases[p.BaseCurrency], methods[p.Method] = true, true
		lots, err := storage.OpenLots(ctx, db.Pool(), p.ID)
		if err != nil || len(lots) == 0 {
			t.Errorf("%s: open lots %d (%v), want some", p.Name, len(lots), err)
		}
		var multiLot, spanning int64
		mustRow(t, db, `SELECT count(*) FROM (SELECT security_id FROM lots WHERE portfolio_id = $1 GROUP BY security_id HAVING count(*) > 1) x`, []any{p.ID}, &multiLot)
		mustRow(t, db, `SELECT count(*) FROM (SELECT transaction_id FROM lot_reliefs WHERE portfolio_id = $1 GROUP BY transaction_id HAVING count(*) > 1) x`, []any{p.ID}, &spanning)
		if multiLot == 0 || spanning == 0 {
			t.Errorf("%s: securities with several lots %d, sales across several lots %d; want both > 0", p.Name, multiLot, spanning)
		}
		var types []string
		mustRow(t, db, `SELECT array_agg(DISTINCT type ORDER BY type) FROM transactions WHERE portfolio_id = $1`, []any{p.ID}, &types)
		for _, want := range []string{"BUY", "SELL", "DIVIDEND", "DEPOSIT", "WITHDRAWAL", "FEE"} {
			if !slices.Contains(types, want) {
				t.Errorf("%s: no %s transaction (types %v)", p.Name, want, types)
			}
		}
		// Value with the first, a middle and the last pack after the
		// first trade: no missing close or rate.
		var packs []string
		mustRow(t, db, `SELECT array_agg(id ORDER BY pack_date) FROM pricing_packs
			WHERE pack_date >= (SELECT min(trade_date) FROM transactions WHERE portfolio_id = $1)`, []any{p.ID}, &packs)
		for _, id := range []string{packs[0], packs[len(packs)/3], packs[len(packs)/2], packs[len(packs)-1]} {
			v, err := storage.ValuePortfolio(ctx, db.Pool(), p.ID, id)
			if err != nil || !v.Total.IsPositive() {
				t.Errorf("%s: value with %s: total %s, err %v", p.Name, id, v.Total, err)
			}
		}
		var days int64
		mustRow(t, db, `SELECT count(*) FROM portfolio_daily_values WHERE portfolio_id = $1`, []any{p.ID}, &days)
		if days != int64(len(packs)) {
			t.Errorf("%s: daily values %d, want one per pack from the first trade (%d)", p.Name, days, len(packs))
		}
	}
	if len(bases) < 2 || len(methods) < 3 {
		t.Errorf("base currencies %v and cost-basis methods %v: want >= 2 and >= 3", bases, methods)
	}
	// Seed 1 has a loss sale bought back within 30 days (a wash sale).
	var wash int64
	mustRow(t, db, `SELECT count(*) FROM transactions s JOIN transactions b ON b.portfolio_id = s.portfolio_id
		AND b.security_id = s.security_id AND b.type = 'BUY' AND b.trade_date > s.trade_date AND b.trade_date <= s.trade_date + 30
		WHERE s.type = 'SELL' AND s.realized_pl < 0`, nil, &wash)
	if wash == 0 {
		t.Errorf("no loss sale followed by a purchase within 30 days")
	}
	var splits int64
	mustRow(t, db, `SELECT count(*) FROM transactions WHERE type = 'SPLIT'`, nil, &splits)
	if splits != 1 {
		t.Errorf("split transactions: got %d, want 1", splits)
	}
}

func checkLibrary(t *testing.T, db *storage.DB, rep seed.Report) {
	var builtin, historical int64
	mustRow(t, db, `SELECT count(*) FILTER (WHERE NOT historical), count(*) FILTER (WHERE historical) FROM scenario_shocks`, nil, &builtin, &historical)
	if builtin < 12 || historical < 20 {
		t.Errorf("scenarios: %d built-in, %d historical; want >= 12 and >= 20", builtin, historical)
	}
	var rubrics int64
	mustRow(t, db, `SELECT count(*) FROM rating_rubrics WHERE active AND name IN ('aggregate', 'dividend_safety', 'moat_strength', 'resilience')`, nil, &rubrics)
	if rubrics != 4 {
		t.Errorf("active rubrics: got %d, want 4", rubrics)
	}
	var w float64
	mustRow(t, db, `SELECT (rubric->'weights'->>'moat_strength')::float8 FROM rating_rubrics WHERE name = 'aggregate'`, nil, &w)
	if w != 0.40 {
		t.Errorf("aggregate moat weight: got %v, want 0.40 (DOMAIN.md ratings.aggregate)", w)
	}
	var badFund int64
	mustRow(t, db, `SELECT count(*) FROM securities s WHERE s.type = 'EQUITY' AND (SELECT count(*) FROM fundamentals f WHERE f.security_id = s.id) <> 5`, nil, &badFund)
	if badFund != 0 {
		t.Errorf("equities without five fiscal years of fundamentals: %d", badFund)
	}
	var fewNews int64
	mustRow(t, db, `SELECT count(*) FROM securities s WHERE (SELECT count(*) FROM news_items n WHERE n.security_id = s.id) < 3`, nil, &fewNews)
	if fewNews != 0 {
		t.Errorf("securities with fewer than three news items: %d", fewNews)
	}
	var futDiv, futSplit, futEarn int64
	mustRow(t, db, `SELECT count(*) FILTER (WHERE action_type = 'DIVIDEND'), count(*) FILTER (WHERE action_type = 'SPLIT'),
		count(*) FILTER (WHERE action_type = 'EARNINGS') FROM corporate_actions WHERE event_date > $1`, []any{rep.End}, &futDiv, &futSplit, &futEarn)
	if futDiv == 0 || futSplit == 0 || futEarn == 0 {
		t.Errorf("upcoming dividends %d, splits %d, earnings %d; want each > 0", futDiv, futSplit, futEarn)
	}
	// Daily series cover every pack day; monthly ones every month.
	for _, id := range []string{"T10Y2Y", "BAA10Y", "DFII10", "T10YIE", "BAMLC0A0CM", "DTWEXBGS", "SP500", "VIXCLS", "DCOILWTICO"} {
		var missing int64
		mustRow(t, db, `SELECT count(*) FROM pricing_packs p WHERE NOT EXISTS
			(SELECT 1 FROM macro_indicators m WHERE m.series_id = $1 AND m.obs_date = p.pack_date)`, []any{id}, &missing)
		if missing != 0 {
			t.Errorf("series %s misses %d pack days", id, missing)
		}
	}
	for _, id := range []string{"UNRATE", "CPIAUCSL", "FEDFUNDS", "INDPRO"} {
		var first, last time.Time
		var n int64
		mustRow(t, db, `SELECT min(obs_date), max(obs_date), count(*) FROM macro_indicators WHERE series_id = $1`, []any{id}, &first, &last, &n)
		months := (last.Year()-first.Year())*12 + int(last.Month()-first.Month()) + 1
		if first.After(rep.Start.AddDate(-1, 0, 0)) || last.Before(rep.End.AddDate(0, -2, 0)) || int64(months) != n {
			t.Errorf("series %s: %s..%s with %d observations; want a gapless monthly series from a year before %s to within two months of %s",
				id, first.Format(time.DateOnly), last.Format(time.DateOnly), n, rep.Start.Format(time.DateOnly), rep.End.Format(time.DateOnly))
		}
	}
}

// checkBetas regresses each security's daily returns (split-adjusted) on
// the seven factor series read back from macro_indicators and checks the
// true betas. Under the model the estimation error of each beta is normal
// with the OLS standard error, so the true value lies within 5 standard
// errors but with probability 1 - 5.7e-7 per coefficient (about 1e-4 over
// the 217 checked); to make sure the bound is not vacuous, the equity
// beta of every equity must also be estimated to within 0.15, every beta
// of the low-noise funds (idiosyncratic vol <= 0.1 % a day) to within 0.3,
// and the mean squared z-score over all coefficients must be near its
// expectation of 1 (0.5..2: the z-scores of one regression are
// correlated, so the bounds are wider than for independent draws).
func checkBetas(t *testing.T, db *storage.DB, rep seed.Report) {
	ctx := context.Background()
	var dates []time.Time
	mustRow(t, db, `SELECT array_agg(pack_date ORDER BY pack_date) FROM pricing_packs`, nil, &dates)
	idx := map[time.Time]int{}
	for i, d := range dates {
		idx[d] = i
	}
	factors := make([][]float64, len(seed.Factors))
	for f, def := range seed.Factors {
		levels := make([]float64, len(dates))
		err := db.Query(ctx, func(rows pgx.Rows) error {
			for rows.Next() {
				var d time.Time
				var v float64
				if err := rows.Scan(&d, &v); err != nil {
					return err
				}
				if i, ok := idx[d]; ok {
					levels[i] = v
				}
			}
			return nil
		}, `SELECT obs_date, value FROM macro_indicators WHERE series_id = $1`, def.SeriesID)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(levels); i++ {
			switch def.Transform {
			case "diff_pct":
				factors[f] = append(factors[f], (levels[i]-levels[i-1])/100)
			case "return":
				factors[f] = append(factors[f], levels[i]/levels[i-1]-1)
			default:
				t.Fatalf("factor %s: unknown transform %q", def.Name, def.Transform)
			}
		}
	}
	var z2 float64
	var nz int
	for _, st := range rep.Securities {
		var closes []float64
		mustRow(t, db, `SELECT array_agg(p.close::float8 ORDER BY p.pack_date) FROM prices p JOIN securities s ON s.id = p.security_id
			WHERE s.symbol = $1`, []any{st.Symbol}, &closes)
		adj := map[int]float64{}
		err := db.Query(ctx, func(rows pgx.Rows) error {
			for rows.Next() {
				var d time.Time
				var r float64
				if err := rows.Scan(&d, &r); err != nil {
					return err
				}
				if i, ok := idx[d]; ok {
					adj[i] = r
				}
			}
			return nil
		}, `SELECT c.event_date, c.ratio::float8 FROM corporate_actions c JOIN securities s ON s.id = c.security_id
			WHERE s.symbol = $1 AND c.action_type = 'SPLIT'`, st.Symbol)
		if err != nil {
			t.Fatal(err)
		}
		y := make([]float64, 0, len(closes)-1)
		for i := 1; i < len(closes); i++ {
			ratio := 1.0
			if r, ok := adj[i]; ok {
				ratio = r
			}
			y = append(y, closes[i]*ratio/closes[i-1]-1)
		}
		res, err := quant.OLS(y, factors)
		if err != nil {
			t.Errorf("%s: regression: %v", st.Symbol, err)
			continue
		}
		for f, def := range seed.Factors {
			got, want, se := res.Coefficients[f+1], st.Betas[def.Name], res.StdErrors[f+1]
			if math.Abs(got-want) > 5*se {
				t.Errorf("%s beta to %s: estimated %.4f (se %.4f), true %.4f", st.Symbol, def.Name, got, se, want)
			}
			if st.IdioVol <= 0.001 && math.Abs(got-want) > 0.3 {
				t.Errorf("%s (low noise) beta to %s: estimated %.4f, true %.4f, want within 0.3", st.Symbol, def.Name, got, want)
			}
			z2 += (got - want) * (got - want) / (se * se)
			nz++
		}
		if st.Type == "EQUITY" {
			if got, want := res.Coefficients[5], st.Betas[seed.FactorEquity]; math.Abs(got-want) > 0.15 {
				t.Errorf("%s equity beta: estimated %.4f, true %.4f, want within 0.15", st.Symbol, got, want)
			}
		}
	}
	if mz := z2 / float64(nz); mz < 0.5 || mz > 2 {
		t.Errorf("mean squared z-score of %d betas: %.3f, want 0.5..2", nz, mz)
	} else {
		t.Logf("mean squared z-score of %d betas: %.3f", nz, mz)
	}
}
