package ingress

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/agents/analyst"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/pgtest"
)

// writeEnv is a minimal app with only the portfolio write routes, built the
// way New builds the real one (error handler, correlation middleware), so
// these tests do not depend on the rest of the ingress.
type writeEnv struct {
	app  *fiber.App
	db   *storage.DB
	ctx  context.Context
	user uuid.UUID
	// token acts as user.
	token string
}

func setupWrite(t *testing.T) *writeEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	db := pgtest.NewDB(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// The portfolio route answers through the analyst's capabilities, run
	// with their contracts checked, as in every test.
	reg := agents.NewRegistry(agents.Options{DB: db, Logger: log, CheckContracts: true})
	reg.Add(analyst.New(agents.Deps{DB: db, Logger: log}))
	signer, err := NewHS256Signer([]byte("portfolio-write-tests-secret-32-bytes!"))
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{deps: Deps{DB: db, Registry: reg}, log: log, stopping: make(chan struct{}),
		auth: newAuthenticator(signer, db, 0), guardedKeys: map[string]bool{}}
	app := fiber.New(fiber.Config{ErrorHandler: s.handleError, DisableStartupMessage: true, Immutable: true})
	app.Use(s.correlation)
	s.registerPortfolioWriteRoutes(s.guarded(app.Group("/v1"), "/v1"))
	e := &writeEnv{app: app, db: db, ctx: ctx}
	// An ADMIN, so the validation of owner_id for any user can be tested;
	// the ownership rules have their own tests.
	if err := db.QueryRow(ctx, `INSERT INTO users (email, password_hash, role) VALUES ('owner@example.com', 'x', 'ADMIN') RETURNING id`, nil, &e.user); err != nil {
		t.Fatalf("insert user: %v", err)
	}
	if e.token, _, err = signer.Mint(e.user, "ADMIN", uuid.Nil, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, sec := range []storage.Security{
		{Symbol: "NKE", Name: "Nike", Type: storage.SecurityEquity, Currency: "USD", Active: true},
		{Symbol: "SPY", Name: "SPDR S&P 500", Type: storage.SecurityETF, Currency: "USD", Active: true},
	} {
		if _, err := storage.UpsertSecurity(ctx, db.Pool(), sec); err != nil {
			t.Fatalf("upsert %s: %v", sec.Symbol, err)
		}
	}
	return e
}

func (e *writeEnv) do(t *testing.T, method, path, contentType, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := e.app.Test(req, 30000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func (e *writeEnv) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(e.ctx, `SELECT count(*) FROM `+table, nil, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func mustDecode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, b, err)
	}
	return v
}

// fieldList renders problem fields as "field=code" joined by "|".
func fieldList(p Problem) string {
	var out []string
	for _, f := range p.Fields {
		out = append(out, f.Field+"="+f.Code)
	}
	return strings.Join(out, "|")
}

// detail is GET /v1/portfolios/{id} as a client reads it.
type detail struct {
	Valuation *struct {
		PackID         string          `json:"pack_id"`
		AsOf           string          `json:"as_of"`
		PositionsValue decimal.Decimal `json:"positions_value"`
		CashValue      decimal.Decimal `json:"cash_value"`
		Total          decimal.Decimal `json:"total"`
	} `json:"valuation"`
	ValuationNote string `json:"valuation_note"`
	Positions     []struct {
		Symbol        string           `json:"symbol"`
		Type          string           `json:"type"`
		Quantity      decimal.Decimal  `json:"quantity"`
		CostBasis     decimal.Decimal  `json:"cost_basis"`
		Lots          int              `json:"lots"`
		FirstAcquired string           `json:"first_acquired"`
		Close         *decimal.Decimal `json:"close"`
		MarketValue   *decimal.Decimal `json:"market_value"`
		UnrealizedPL  *decimal.Decimal `json:"unrealized_pl"`
		Weight        *decimal.Decimal `json:"weight"`
	} `json:"positions"`
	Cash []struct {
		Currency  string           `json:"currency"`
		Amount    decimal.Decimal  `json:"amount"`
		BaseValue *decimal.Decimal `json:"base_value"`
	} `json:"cash"`
	LedgerCommitHash string `json:"ledger_commit_hash"`
}

func (e *writeEnv) createPortfolio(t *testing.T, name string) portfolioView {
	t.Helper()
	st, b := e.do(t, "POST", "/v1/portfolios", "application/json",
		`{"name":"`+name+`","owner_id":"`+e.user.String()+`","base_currency":"usd","benchmark":"spy"}`)
	if st != http.StatusCreated {
		t.Fatalf("create portfolio %s: status %d, want 201; body %s", name, st, b)
	}
	return mustDecode[portfolioView](t, b)
}

func TestCreatePortfolio(t *testing.T) {
	t.Parallel()
	e := setupWrite(t)
	p := e.createPortfolio(t, "Main")
	if p.Name != "Main" || p.BaseCurrency != "USD" || p.CostBasisMethod != "FIFO" || !p.Active || p.BenchmarkSecurityID == nil || p.OwnerID != e.user.String() {
		t.Errorf("created %+v; want Main, USD, FIFO, active, with a benchmark", p)
	}

	st, b := e.do(t, "POST", "/v1/portfolios", "application/json",
		`{"name":"Main","owner_id":"`+e.user.String()+`","base_currency":"CAD"}`)
	prob := mustDecode[Problem](t, b)
	if st != http.StatusConflict || prob.Code != "conflict" || fieldList(prob) != "name=conflict" {
		t.Errorf("duplicate name: status %d, problem %+v; want 409 conflict on name", st, prob)
	}

	st, b = e.do(t, "POST", "/v1/portfolios", "application/json",
		`{"name":" ","owner_id":"`+uuid.NewString()+`","base_currency":"dollars","cost_basis_method":"MAGIC","benchmark":"NOPE"}`)
	prob = mustDecode[Problem](t, b)
	want := "name=missing|base_currency=invalid_value|cost_basis_method=invalid_value|owner_id=not_found|benchmark=not_found"
	if st != http.StatusUnprocessableEntity || fieldList(prob) != want {
		t.Errorf("invalid portfolio: status %d, fields %s; want 422 with %s", st, fieldList(prob), want)
	}
	if n := e.count(t, "portfolios"); n != 1 {
		t.Errorf("portfolios = %d after one good and two bad creates, want 1", n)
	}
}

func TestTradesAndPortfolioDetail(t *testing.T) {
	t.Parallel()
	e := setupWrite(t)
	p := e.createPortfolio(t, "Main")
	base := "/v1/portfolios/" + p.ID

	st, b := e.do(t, "POST", base+"/transactions", "application/json",
		`{"trade_date":"2024-01-02","type":"BUY","symbol":"NKE","quantity":"10","price":100}`)
	if st != http.StatusCreated {
		t.Fatalf("buy: status %d; body %s", st, b)
	}
	// By hand: SELL 4 @ 120, fees 2: proceeds 480 - 2 = 478; FIFO cost
	// 4/10 x 1000 = 400; realised 78.
	sell := `{"trade_date":"2024-01-05","type":"SELL","symbol":"NKE","quantity":4,"price":"120","fees":"2","idempotency_key":"broker-77"}`
	st, b = e.do(t, "POST", base+"/transactions", "application/json", sell)
	a := mustDecode[appliedView](t, b)
	if st != http.StatusCreated || !a.Transaction.RealizedPL.Valid || !a.Transaction.RealizedPL.Decimal.Equal(wdec("78")) || len(a.Reliefs) != 1 {
		t.Fatalf("sell: status %d, %+v; want 201 with realised P&L 78 from one lot; body %s", st, a, b)
	}
	st, b = e.do(t, "POST", base+"/transactions", "application/json", sell)
	if a2 := mustDecode[appliedView](t, b); st != http.StatusOK || !a2.Duplicate || a2.Transaction.ID != a.Transaction.ID {
		t.Errorf("retried sell: status %d, duplicate %v; want 200 with the stored transaction", st, a2.Duplicate)
	}

	cases := []struct {
		name, body, want string
	}{
		{"sell of more than held", `{"trade_date":"2024-01-06","type":"SELL","symbol":"NKE","quantity":"7","price":"120"}`, "quantity=insufficient_quantity"},
		{"invalid fields", `{"trade_date":"2099-01-01","type":"BUY","symbol":"NOPE","quantity":"-1","price":"1"}`,
			"quantity=not_positive|symbol=unknown_security|trade_date=future_date"},
		{"unknown field", `{"trade_date":"2024-01-06","type":"BUY","ticker":"NKE"}`, "ticker=unknown_field"},
		{"number of the wrong type", `{"trade_date":"2024-01-06","type":"BUY","symbol":"NKE","quantity":true,"price":"1"}`, "quantity=wrong_type"},
	}
	for _, c := range cases {
		st, b := e.do(t, "POST", base+"/transactions", "application/json", c.body)
		prob := mustDecode[Problem](t, b)
		if st != http.StatusUnprocessableEntity || fieldList(prob) != c.want {
			t.Errorf("%s: status %d, fields %s; want 422 with %s; body %s", c.name, st, fieldList(prob), c.want, b)
		}
	}
	if n := e.count(t, "transactions"); n != 2 {
		t.Errorf("transactions = %d, want 2 (the buy and the sell)", n)
	}

	// No pack yet: positions at cost (ledger.positions). Cash by hand:
	// -1000 + 478 = -522.
	st, b = e.do(t, "GET", base, "", "")
	d := mustDecode[detail](t, b)
	if st != http.StatusOK || d.Valuation != nil || d.ValuationNote == "" || len(d.Positions) != 1 || !d.Positions[0].Quantity.Equal(wdec("6")) ||
		!d.Positions[0].CostBasis.Equal(wdec("600")) || d.Positions[0].Type != "EQUITY" || d.Positions[0].FirstAcquired != "2024-01-02" ||
		d.Positions[0].MarketValue != nil || len(d.Cash) != 1 || !d.Cash[0].Amount.Equal(wdec("-522")) || d.Cash[0].BaseValue != nil || len(d.LedgerCommitHash) != 64 {
		t.Errorf("detail at cost: status %d, %+v; body %s", st, d, b)
	}

	// A close of 110 on 2024-01-10 values 6 NKE at 660 (portfolio.
	// get_valued_positions): unrealised 660 - 600 = 60; total 660 - 522 =
	// 138; weight 660/138 = 4.7826086957 (10 places).
	st, b = e.do(t, "POST", "/v1/prices:import", "text/csv; charset=utf-8", "date,symbol,close\n2024-01-10,NKE,110\n")
	if st != http.StatusOK || !strings.Contains(string(b), `"status":"fresh"`) {
		t.Fatalf("prices:import: status %d; body %s", st, b)
	}
	st, b = e.do(t, "GET", base, "", "")
	d = mustDecode[detail](t, b)
	if st != http.StatusOK || d.Valuation == nil || d.Valuation.PackID != "PP_2024-01-10" || d.Valuation.AsOf != "2024-01-10" ||
		!d.Valuation.Total.Equal(wdec("138")) || !d.Valuation.PositionsValue.Equal(wdec("660")) || !d.Valuation.CashValue.Equal(wdec("-522")) ||
		len(d.Positions) != 1 || d.Positions[0].MarketValue == nil || !d.Positions[0].MarketValue.Equal(wdec("660")) ||
		d.Positions[0].UnrealizedPL == nil || !d.Positions[0].UnrealizedPL.Equal(wdec("60")) ||
		d.Positions[0].Weight == nil || !d.Positions[0].Weight.Equal(wdec("4.7826086957")) ||
		len(d.Cash) != 1 || d.Cash[0].BaseValue == nil || !d.Cash[0].BaseValue.Equal(wdec("-522")) {
		t.Errorf("valued detail: status %d, %+v; want pack PP_2024-01-10, total 138, NKE 660; body %s", st, d, b)
	}

	st, b = e.do(t, "GET", "/v1/portfolios/"+uuid.NewString(), "", "")
	if prob := mustDecode[Problem](t, b); st != http.StatusNotFound || prob.Code != "not_found" {
		t.Errorf("missing portfolio: status %d, %+v; want 404", st, prob)
	}
}

func TestImportEndpoints(t *testing.T) {
	t.Parallel()
	e := setupWrite(t)
	p := e.createPortfolio(t, "Main")
	path := "/v1/portfolios/" + p.ID + "/transactions:import"

	bad := "trade_date,type,symbol,quantity,price\n" +
		"2024-01-02,BUY,NKE,10,100\n" +
		"2024-01-03,BUY,NOPE,1,10\n" +
		"2024-01-04,BUY,NKE,5,100\n" +
		"2024-01-05,BUY,NKE,-5,100\n" +
		"2099-01-01,BUY,NKE,1,1\n"
	st, b := e.do(t, "POST", path, "text/csv", bad)
	prob := mustDecode[Problem](t, b)
	want := "line 3: symbol=unknown_security|line 5: quantity=not_positive|line 6: trade_date=future_date"
	if st != http.StatusUnprocessableEntity || prob.Code != "invalid_input" || fieldList(prob) != want {
		t.Errorf("bad file: status %d, fields %s; want 422 with %s; body %s", st, fieldList(prob), want, b)
	}
	if n := e.count(t, "transactions"); n != 0 {
		t.Errorf("transactions after a rejected file = %d, want 0", n)
	}

	good := "trade_date,type,symbol,quantity,price\n2024-01-02,BUY,NKE,10,100\n2024-01-04,SELL,NKE,5,110\n"
	for i, want := range []string{`"applied":2,"duplicates":0`, `"applied":0,"duplicates":2`} {
		st, b = e.do(t, "POST", path, "text/csv", good)
		if st != http.StatusOK || !strings.Contains(string(b), want) {
			t.Errorf("good file, import %d: status %d, body %s; want 200 with %s", i+1, st, b, want)
		}
	}
	st, b = e.do(t, "POST", path, "text/csv", "trade_date,type,symbol,quantity,price\n2024-01-05,SELL,NKE,6,110\n")
	if prob := mustDecode[Problem](t, b); st != http.StatusUnprocessableEntity || fieldList(prob) != "line 2: quantity=insufficient_quantity" {
		t.Errorf("oversell file: status %d, fields %s; body %s", st, fieldList(prob), b)
	}
	st, b = e.do(t, "POST", path, "application/json", good)
	if st != http.StatusUnsupportedMediaType {
		t.Errorf("JSON body to :import: status %d, want 415; body %s", st, b)
	}
	if n := e.count(t, "transactions"); n != 2 {
		t.Errorf("transactions = %d, want 2", n)
	}

	st, b = e.do(t, "POST", "/v1/prices:import", "text/csv", "date,symbol,close\n2024-01-02,NKE,1\n2024-01-02,NOPE,1\n2024-01-02,USD/USD,1\n")
	if prob := mustDecode[Problem](t, b); st != http.StatusUnprocessableEntity || fieldList(prob) != "line 3: symbol=unknown_security|line 4: symbol=bad_currency" {
		t.Errorf("bad price file: status %d, fields %s; body %s", st, fieldList(prob), b)
	}
	if n := e.count(t, "pricing_packs"); n != 0 {
		t.Errorf("packs after a rejected price file = %d, want 0", n)
	}
	st, b = e.do(t, "POST", "/v1/prices:import?dry_run=true", "text/csv", "date,symbol,close\n2024-01-02,NKE,100\n2024-01-02,USD/CAD,1.35\n")
	if st != http.StatusOK || !strings.Contains(string(b), `"dry_run":true`) || e.count(t, "pricing_packs") != 0 {
		t.Errorf("dry run: status %d, body %s, packs %d; want 200, nothing written", st, b, e.count(t, "pricing_packs"))
	}
}

func wdec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// TestTradeAndItsDailyValuesCommitTogether: when the daily values a trade
// changes cannot be written (the table refuses every write here, as a
// lost connection would after the trade was written), the trade is rolled
// back with them: the answer is 500, and nothing of the trade nor a stale
// daily value is left. Once writes are allowed the same trade commits with
// its daily value. By hand, in USD: 10 NKE at 100 (cash -1000), NKE closes
// at 110 on 2024-01-03: 1100 - 1000 = 100; selling 4 at 120 that day:
// 6 x 110 + (-1000 + 480) = 140.
func TestTradeAndItsDailyValuesCommitTogether(t *testing.T) {
	t.Parallel()
	e := setupWrite(t)
	p := e.createPortfolio(t, "Main")
	base := "/v1/portfolios/" + p.ID
	if st, b := e.do(t, "POST", base+"/transactions", "application/json",
		`{"trade_date":"2024-01-02","type":"BUY","symbol":"NKE","quantity":"10","price":"100"}`); st != http.StatusCreated {
		t.Fatalf("buy: status %d; body %s", st, b)
	}
	if st, b := e.do(t, "POST", "/v1/prices:import", "text/csv", "date,symbol,close\n2024-01-03,NKE,110\n"); st != http.StatusOK {
		t.Fatalf("prices:import: status %d; body %s", st, b)
	}
	// state is what the database holds: the transactions, and the day's
	// value with whether its ledger hash is that of all the transactions.
	state := func() string {
		t.Helper()
		var n int
		var total string
		var current bool
		err := e.db.QueryRow(e.ctx, `SELECT (SELECT count(*) FROM transactions), v.total_value::text,
				v.ledger_hash = $2
			FROM portfolio_daily_values v WHERE v.portfolio_id = $1 AND v.value_date = '2024-01-03'`,
			[]any{p.ID, e.ledgerHash(t, p.ID)}, &n, &total, &current)
		if err != nil {
			t.Fatalf("read state: %v", err)
		}
		return fmt.Sprintf("transactions=%d total=%s current=%v", n, total, current)
	}
	if got, want := state(), "transactions=1 total=100 current=true"; got != want {
		t.Fatalf("before the sale: %s, want %s", got, want)
	}

	for _, sql := range []string{
		`CREATE FUNCTION refuse_daily_values() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'daily values refused by the test'; END $$`,
		`CREATE TRIGGER refuse_daily_values BEFORE INSERT OR UPDATE ON portfolio_daily_values
			FOR EACH ROW EXECUTE FUNCTION refuse_daily_values()`,
	} {
		if _, err := e.db.Exec(e.ctx, sql); err != nil {
			t.Fatalf("install the refusal: %v", err)
		}
	}
	sell := `{"trade_date":"2024-01-03","type":"SELL","symbol":"NKE","quantity":"4","price":"120","idempotency_key":"k1"}`
	st, b := e.do(t, "POST", base+"/transactions", "application/json", sell)
	if prob := mustDecode[Problem](t, b); st != http.StatusInternalServerError || prob.Code != "internal" {
		t.Errorf("sale with daily values refused: status %d, %+v; want 500 internal", st, prob)
	}
	if got, want := state(), "transactions=1 total=100 current=true"; got != want {
		t.Errorf("after the refused sale: %s, want %s", got, want)
	}

	if _, err := e.db.Exec(e.ctx, `DROP TRIGGER refuse_daily_values ON portfolio_daily_values; DROP FUNCTION refuse_daily_values()`); err != nil {
		t.Fatalf("lift the refusal: %v", err)
	}
	if st, b := e.do(t, "POST", base+"/transactions", "application/json", sell); st != http.StatusCreated {
		t.Fatalf("sale retried: status %d, want 201; body %s", st, b)
	}
	if got, want := state(), "transactions=2 total=140 current=true"; got != want {
		t.Errorf("after the sale: %s, want %s", got, want)
	}
}

func (e *writeEnv) ledgerHash(t *testing.T, pid string) string {
	t.Helper()
	h, err := storage.LedgerCommitHash(e.ctx, e.db.Pool(), uuid.MustParse(pid))
	if err != nil {
		t.Fatal(err)
	}
	return h
}
