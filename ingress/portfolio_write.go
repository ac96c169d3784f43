package ingress

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/patterns"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/csvimport"
)

// The write side of portfolios: create one, read one with its positions,
// post a trade, import transaction and price files. Kept apart from
// portfolios.go so the two can change independently.

// registerPortfolioWriteRoutes adds the portfolio write routes under r
// (/v1). Fiber v2 reads ':' in a path as a parameter, so the custom
// methods (transactions:import, prices:import) escape it.
func (s *Server) registerPortfolioWriteRoutes(r guardedRouter) {
	h := portfolioWriteHandlers{db: s.deps.DB, reg: s.deps.Registry, now: time.Now}
	r.Post("/portfolios", h.create)
	r.Get("/portfolios/:id", h.get)
	r.Post("/portfolios/:id/transactions", h.addTransaction)
	r.Post("/portfolios/:id/transactions\\:import", h.importTransactions)
	r.Post("/prices\\:import", h.importPrices)
}

type portfolioWriteHandlers struct {
	db *storage.DB
	// reg runs the capabilities GET /v1/portfolios/{id} answers with.
	reg *agents.Registry
	now func() time.Time
}

// invalid is a 422 invalid_input listing fields.
func invalid(detail string, fields []agents.FieldIssue) error {
	return &agents.Error{Code: agents.CodeInvalidInput, Message: detail, Fields: fields}
}

type createPortfolioRequest struct {
	Name            string `json:"name"`
	OwnerID         string `json:"owner_id"`
	BaseCurrency    string `json:"base_currency"`
	CostBasisMethod string `json:"cost_basis_method"`
	// Benchmark is a security's symbol or id; "" for none.
	Benchmark string `json:"benchmark"`
}

var costBasisMethods = []string{storage.CostBasisFIFO, storage.CostBasisLIFO, storage.CostBasisHIFO,
	storage.CostBasisSpecificLot, storage.CostBasisAverageCost}

// create is POST /v1/portfolios: 201 with the portfolio, 409 when the owner
// already has one of that name, 422 listing every invalid field.
func (h portfolioWriteHandlers) create(c *fiber.Ctx) error {
	var req createPortfolioRequest
	if err := decodeBody(c, &req, false); err != nil {
		return err
	}
	ctx := c.UserContext()
	var issues []agents.FieldIssue
	issue := func(field, code, msg string) {
		issues = append(issues, agents.FieldIssue{Field: field, Code: code, Message: msg})
	}
	p := storage.Portfolio{Name: strings.TrimSpace(req.Name), Active: true}
	switch {
	case p.Name == "":
		issue("name", patterns.FieldMissing, "name is required")
	case len(p.Name) > 200:
		issue("name", patterns.FieldInvalid, "name is longer than 200 bytes")
	}
	caller := principalOf(c)
	if req.OwnerID == "" {
		// A portfolio belongs to whoever creates it unless an ADMIN
		// creates it for someone.
		p.OwnerID = caller.UserID
	} else if u, err := uuid.Parse(req.OwnerID); err != nil {
		issue("owner_id", patterns.FieldInvalidFormat, fmt.Sprintf("owner_id must be a uuid, got %q", req.OwnerID))
	} else if u != caller.UserID && !caller.isAdmin() {
		return agents.Errorf(agents.CodeForbidden, "only an ADMIN may create a portfolio for another user")
	} else {
		p.OwnerID = u
	}
	if req.BaseCurrency == "" {
		issue("base_currency", patterns.FieldMissing, "base_currency is required")
	} else if code, ok := csvimport.ValidCurrency(req.BaseCurrency); !ok {
		issue("base_currency", patterns.FieldInvalid, fmt.Sprintf("%q is not an ISO 4217 currency code", req.BaseCurrency))
	} else {
		p.BaseCurrency = code
	}
	p.CostBasisMethod = strings.ToUpper(strings.TrimSpace(req.CostBasisMethod))
	if p.CostBasisMethod == "" {
		p.CostBasisMethod = storage.CostBasisFIFO
	} else if !contains(costBasisMethods, p.CostBasisMethod) {
		issue("cost_basis_method", patterns.FieldInvalid, fmt.Sprintf("cost_basis_method must be one of %s, got %q", strings.Join(costBasisMethods, ", "), req.CostBasisMethod))
	}
	var created storage.Portfolio
	err := h.db.Tx(ctx, func(tx pgx.Tx) error {
		if p.OwnerID != uuid.Nil {
			exists, err := storage.UserExists(ctx, tx, p.OwnerID)
			if err != nil {
				return err
			}
			if !exists {
				issue("owner_id", agents.CodeNotFound, fmt.Sprintf("no user has the id %s", p.OwnerID))
			}
		}
		if b := strings.TrimSpace(req.Benchmark); b != "" {
			var sec storage.Security
			var err error
			if id, perr := uuid.Parse(b); perr == nil {
				sec, err = storage.GetSecurity(ctx, tx, id)
			} else {
				sec, err = storage.GetSecurityBySymbol(ctx, tx, b)
			}
			switch {
			case errors.Is(err, storage.ErrNotFound):
				issue("benchmark", agents.CodeNotFound, fmt.Sprintf("no security has the symbol or id %q", b))
			case err != nil:
				return err
			default:
				p.BenchmarkSecurityID = sec.ID
			}
		}
		if len(issues) > 0 {
			return invalid("the portfolio is invalid", issues)
		}
		var err error
		if created, err = storage.CreatePortfolio(ctx, tx, p); err != nil {
			return err
		}
		return storage.Audit(ctx, tx, "portfolio:"+created.ID.String())
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		msg := fmt.Sprintf("owner %s already has a portfolio named %q", p.OwnerID, p.Name)
		return &agents.Error{Code: agents.CodeConflict, Message: msg,
			Fields: []agents.FieldIssue{{Field: "name", Code: agents.CodeConflict, Message: msg}}}
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderLocation, "/v1/portfolios/"+created.ID.String())
	return writeJSON(c, http.StatusCreated, viewPortfolio(created))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The capabilities GET /v1/portfolios/{id} answers with: the route shows
// the positions exactly as patterns see them, computed by the one
// valuation there is.
const (
	capValuedPositions = "portfolio.get_valued_positions"
	capPositions       = "ledger.positions"
)

// valuationView sums up the valuation; null in portfolioDetail when the
// positions are at cost.
type valuationView struct {
	PackID         string          `json:"pack_id"`
	AsOf           string          `json:"as_of"`
	PositionsValue json.RawMessage `json:"positions_value"`
	CashValue      json.RawMessage `json:"cash_value"`
	Total          json.RawMessage `json:"total"`
}

// cashAtCost is one currency's cash when no pack values it; valued cash
// is the capability's own.
type cashAtCost struct {
	Currency string          `json:"currency"`
	Amount   decimal.Decimal `json:"amount"`
}

type portfolioDetail struct {
	Portfolio portfolioView `json:"portfolio"`
	// Valuation is null when no fresh pack exists or it cannot value the
	// holdings; ValuationNote then says why and positions are at cost.
	Valuation     *valuationView `json:"valuation"`
	ValuationNote string         `json:"valuation_note,omitempty"`
	// Positions are the positions of portfolio.get_valued_positions, or of
	// ledger.positions when at cost; Cash likewise, or cashAtCost.
	Positions        json.RawMessage `json:"positions"`
	Cash             json.RawMessage `json:"cash"`
	LedgerCommitHash string          `json:"ledger_commit_hash"`
}

// valuedAnswer is what the route reads of portfolio.get_valued_positions;
// positions and cash pass through as the capability wrote them.
type valuedAnswer struct {
	PricingPackID  string          `json:"pricing_pack_id"`
	AsOfDate       string          `json:"asof_date"`
	Positions      json.RawMessage `json:"positions"`
	Cash           json.RawMessage `json:"cash"`
	PositionsValue json.RawMessage `json:"positions_value"`
	CashValue      json.RawMessage `json:"cash_value"`
	TotalValue     json.RawMessage `json:"total_value"`
}

// get is GET /v1/portfolios/{id}: the portfolio, its positions and cash
// valued by portfolio.get_valued_positions with the newest fresh pack (as
// of that pack's date), or, when there is none or it cannot value the
// holdings, ledger.positions at cost (as of now) and the cash per
// currency; and its ledger commit hash.
func (h portfolioWriteHandlers) get(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	pid := uuid.MustParse(id)
	ctx := c.UserContext()
	var out portfolioDetail
	var pack storage.Pack
	var cash []storage.CashBalance
	err = h.db.Snapshot(ctx, func(tx pgx.Tx) error {
		p, err := storage.GetPortfolio(ctx, tx, pid)
		if err != nil {
			return err
		}
		out.Portfolio = viewPortfolio(p)
		if out.LedgerCommitHash, err = storage.LedgerCommitHash(ctx, tx, pid); err != nil {
			return err
		}
		if cash, err = storage.CashBalances(ctx, tx, pid, time.Time{}); err != nil {
			return err
		}
		pack, err = storage.PackForDate(ctx, tx, h.now())
		if errors.Is(err, storage.ErrNoFreshPack) {
			out.ValuationNote = "no fresh pricing pack exists; positions are at cost"
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	if pack.ID != "" {
		run := agents.RunContext{PricingPackID: pack.ID, AsOfDate: pack.Date.Format(time.DateOnly)}
		var v valuedAnswer
		err := h.invoke(c, capValuedPositions, run, map[string]any{"portfolio_id": pid, "pricing_pack_id": pack.ID}, &v)
		var ae *agents.Error
		switch {
		case errors.As(err, &ae) && (ae.Code == agents.CodeMissingPrice || ae.Code == agents.CodeMissingFX):
			out.ValuationNote = "pack " + pack.ID + " cannot value the holdings (" + ae.Message + "); positions are at cost"
		case err != nil:
			return err
		default:
			out.Valuation = &valuationView{PackID: v.PricingPackID, AsOf: v.AsOfDate,
				PositionsValue: v.PositionsValue, CashValue: v.CashValue, Total: v.TotalValue}
			out.Positions, out.Cash = v.Positions, v.Cash
			return writeJSON(c, http.StatusOK, out)
		}
	}
	var atCost struct {
		Positions json.RawMessage `json:"positions"`
	}
	if err := h.invoke(c, capPositions, agents.RunContext{}, map[string]any{"portfolio_id": pid}, &atCost); err != nil {
		return err
	}
	out.Positions = atCost.Positions
	lines := make([]cashAtCost, 0, len(cash))
	for _, ch := range cash {
		lines = append(lines, cashAtCost{Currency: ch.Currency, Amount: ch.Amount})
	}
	if out.Cash, err = json.Marshal(lines); err != nil {
		return fmt.Errorf("encode cash of portfolio %s: %w", pid, err)
	}
	return writeJSON(c, http.StatusOK, out)
}

// invoke runs a registered capability in this process and decodes its
// output into out. Its errors name the capability.
func (h portfolioWriteHandlers) invoke(c *fiber.Ctx, name string, run agents.RunContext, args map[string]any, out any) error {
	if h.reg == nil {
		return &capabilityError{capability: name, err: agents.Errorf(agents.CodeUnavailable, "this process has no capability registry")}
	}
	spec, ok := h.reg.Get(name)
	if !ok {
		return &capabilityError{capability: name, err: agents.Errorf(agents.CodeUnavailable, "capability %s is not registered in this process", name)}
	}
	in, err := json.Marshal(args)
	if err != nil {
		return fmt.Errorf("encode arguments of %s: %w", name, err)
	}
	raw, err := spec.Invoke(c.UserContext(), agents.Call{Run: run, CorrelationID: correlationOf(c)}, in)
	if err != nil {
		return &capabilityError{capability: name, err: err}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode output of %s: %w", name, err)
	}
	return nil
}

// numText is a JSON number or a string holding one, kept as text so that no
// float rounding touches money.
type numText string

func (n *numText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*n = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*n = numText(s)
	default:
		var num json.Number
		if err := json.Unmarshal(b, &num); err != nil {
			return &json.UnmarshalTypeError{Value: "non-number", Type: jsonNumberType}
		}
		*n = numText(num.String())
	}
	return nil
}

var jsonNumberType = reflect.TypeFor[float64]()

// tradeRequest is one transaction; the names and rules are those of a row
// of an import file (docs/import.md).
type tradeRequest struct {
	TradeDate  string  `json:"trade_date"`
	Type       string  `json:"type"`
	Symbol     string  `json:"symbol"`
	Quantity   numText `json:"quantity"`
	Price      numText `json:"price"`
	Amount     numText `json:"amount"`
	Currency   string  `json:"currency"`
	Fees       numText `json:"fees"`
	SettleDate string  `json:"settle_date"`
	LotID      string  `json:"lot_id"`
	SplitRatio numText `json:"split_ratio"`
	Notes      string  `json:"notes"`
	// IdempotencyKey makes a retry of the same trade a no-op (200 with the
	// stored transaction instead of 201).
	IdempotencyKey string `json:"idempotency_key"`
}

func (r tradeRequest) fields() map[string]string {
	m := map[string]string{}
	for k, v := range map[string]string{"trade_date": r.TradeDate, "type": r.Type, "symbol": r.Symbol,
		"quantity": string(r.Quantity), "price": string(r.Price), "amount": string(r.Amount), "currency": r.Currency,
		"fees": string(r.Fees), "settle_date": r.SettleDate, "lot_id": r.LotID, "split_ratio": string(r.SplitRatio), "notes": r.Notes} {
		if strings.TrimSpace(v) != "" {
			m[k] = v
		}
	}
	return m
}

type reliefView struct {
	LotID        string              `json:"lot_id"`
	AcquiredDate string              `json:"acquired_date"`
	Quantity     decimal.Decimal     `json:"quantity"`
	CostRelieved decimal.Decimal     `json:"cost_relieved"`
	Proceeds     decimal.NullDecimal `json:"proceeds"`
	RealizedPL   decimal.NullDecimal `json:"realized_pl"`
}

type transactionView struct {
	ID           string              `json:"id"`
	PortfolioID  string              `json:"portfolio_id"`
	SecurityID   *string             `json:"security_id"`
	Symbol       string              `json:"symbol,omitempty"`
	Type         string              `json:"type"`
	TradeDate    string              `json:"trade_date"`
	SettleDate   *string             `json:"settle_date"`
	Quantity     decimal.Decimal     `json:"quantity"`
	Price        decimal.Decimal     `json:"price"`
	Amount       decimal.Decimal     `json:"amount"`
	Currency     string              `json:"currency"`
	Fees         decimal.Decimal     `json:"fees"`
	SplitRatio   decimal.Decimal     `json:"split_ratio"`
	LotID        *string             `json:"lot_id"`
	Source       string              `json:"source,omitempty"`
	SourceRef    string              `json:"source_ref,omitempty"`
	Notes        string              `json:"notes,omitempty"`
	RealizedPL   decimal.NullDecimal `json:"realized_pl"`
	CashAmount   decimal.Decimal     `json:"cash_amount"`
	CashCurrency string              `json:"cash_currency"`
	FXRate       decimal.NullDecimal `json:"fx_rate"`
	FXPackID     string              `json:"fx_pack_id,omitempty"`
}

type appliedView struct {
	Transaction transactionView `json:"transaction"`
	Duplicate   bool            `json:"duplicate"`
	Replayed    bool            `json:"replayed"`
	OpenedLot   *string         `json:"opened_lot"`
	Reliefs     []reliefView    `json:"reliefs"`
}

func optID(u uuid.UUID) *string {
	if u == uuid.Nil {
		return nil
	}
	s := u.String()
	return &s
}

func viewApplied(a storage.Applied, symbol string) appliedView {
	t := a.Transaction
	tv := transactionView{ID: t.ID.String(), PortfolioID: t.PortfolioID.String(), SecurityID: optID(t.SecurityID), Symbol: symbol,
		Type: t.Type, TradeDate: t.TradeDate.Format(time.DateOnly), Quantity: t.Quantity, Price: t.Price, Amount: t.Amount,
		Currency: t.Currency, Fees: t.Fees, SplitRatio: t.SplitRatio, LotID: optID(t.LotID), Source: t.Source, SourceRef: t.SourceRef,
		Notes: t.Notes, RealizedPL: t.RealizedPL, CashAmount: t.CashAmount, CashCurrency: t.CashCurrency, FXRate: t.FXRate, FXPackID: t.FXPackID}
	if !t.SettleDate.IsZero() {
		s := t.SettleDate.Format(time.DateOnly)
		tv.SettleDate = &s
	}
	v := appliedView{Transaction: tv, Duplicate: a.Duplicate, Replayed: a.Replayed, OpenedLot: optID(a.OpenedLot), Reliefs: []reliefView{}}
	for _, r := range a.Reliefs {
		v.Reliefs = append(v.Reliefs, reliefView{LotID: r.LotID.String(), AcquiredDate: r.AcquiredDate.Format(time.DateOnly),
			Quantity: r.Quantity, CostRelieved: r.CostRelieved, Proceeds: r.Proceeds, RealizedPL: r.RealizedPL})
	}
	return v
}

// addTransaction is POST /v1/portfolios/{id}/transactions: one trade, 201
// with the applied transaction (realised P&L included); 200 when its
// idempotency key was seen before; 422 naming the field when the trade is
// invalid or sells more than is held, or when the daily values it changes
// cannot be computed (missing_price, missing_fx). The trade and its daily
// values commit together or not at all (csvimport.PostTransaction).
func (h portfolioWriteHandlers) addTransaction(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	var req tradeRequest
	if err := decodeBody(c, &req, false); err != nil {
		return err
	}
	if len(req.IdempotencyKey) > 200 {
		return invalid("idempotency_key is too long", []agents.FieldIssue{{Field: "idempotency_key", Code: patterns.FieldInvalid, Message: "idempotency_key is longer than 200 bytes"}})
	}
	applied, err := csvimport.PostTransaction(c.UserContext(), h.db, uuid.MustParse(id), req.fields(), req.IdempotencyKey, csvimport.Options{Now: h.now})
	var ie *csvimport.ImportError
	if errors.As(err, &ie) {
		return tradeProblem(ie)
	}
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if applied.Duplicate {
		status = http.StatusOK
	} else {
		c.Set(fiber.HeaderLocation, "/v1/portfolios/"+id)
	}
	return writeJSON(c, status, viewApplied(applied, strings.ToUpper(strings.TrimSpace(req.Symbol))))
}

// tradeProblem is the 422 of a refused trade: one field per problem.
func tradeProblem(ie *csvimport.ImportError) error {
	fields := make([]agents.FieldIssue, 0, len(ie.Rows))
	for _, r := range ie.Rows {
		fields = append(fields, agents.FieldIssue{Field: r.Field, Code: r.Code, Message: r.Message})
	}
	detail := "the transaction is invalid"
	if len(ie.Rows) == 1 {
		detail += ": " + ie.Rows[0].String()
	}
	return invalid(detail, fields)
}

// requireCSV accepts a text/csv body (any parameters, such as charset).
func requireCSV(c *fiber.Ctx) error {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(c.Get(fiber.HeaderContentType), ";", 2)[0]))
	if ct != "text/csv" {
		return &agents.Error{Code: agents.CodeUnsupportedMedia,
			Message: fmt.Sprintf("the body must be a CSV file with Content-Type text/csv, not %q", c.Get(fiber.HeaderContentType))}
	}
	return nil
}

func dryRunQuery(c *fiber.Ctx) (bool, error) {
	v := c.Query("dry_run")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, paramError("dry_run", patterns.FieldInvalid, fmt.Sprintf("query parameter dry_run must be true or false, got %q", v))
	}
	return b, nil
}

// importProblem is the 422 of a rejected file: one field per problem,
// named "line N: column".
func importProblem(ie *csvimport.ImportError) error {
	fields := make([]agents.FieldIssue, 0, len(ie.Rows))
	for _, r := range ie.Rows {
		f := fmt.Sprintf("line %d", r.Line)
		if r.Field != "" {
			f += ": " + r.Field
		}
		fields = append(fields, agents.FieldIssue{Field: f, Code: r.Code, Message: r.Message})
	}
	return invalid(fmt.Sprintf("the file has %d problem(s); nothing was imported", len(ie.Rows)), fields)
}

// importTransactions is POST /v1/portfolios/{id}/transactions:import with a
// text/csv body (layout in docs/import.md); ?dry_run=true rolls back.
func (h portfolioWriteHandlers) importTransactions(c *fiber.Ctx) error {
	id, err := uuidParam(c, "id")
	if err != nil {
		return err
	}
	if err := requireCSV(c); err != nil {
		return err
	}
	dry, err := dryRunQuery(c)
	if err != nil {
		return err
	}
	res, err := csvimport.ImportTransactions(c.UserContext(), h.db, uuid.MustParse(id), bytes.NewReader(c.Body()),
		csvimport.Options{Now: h.now, DryRun: dry})
	return h.importAnswer(c, res, err)
}

// importPrices is POST /v1/prices:import with a text/csv body.
func (h portfolioWriteHandlers) importPrices(c *fiber.Ctx) error {
	if err := requireCSV(c); err != nil {
		return err
	}
	dry, err := dryRunQuery(c)
	if err != nil {
		return err
	}
	res, err := csvimport.ImportPrices(c.UserContext(), h.db, bytes.NewReader(c.Body()), csvimport.Options{Now: h.now, DryRun: dry})
	return h.importAnswer(c, res, err)
}

func (h portfolioWriteHandlers) importAnswer(c *fiber.Ctx, res csvimport.Result, err error) error {
	var ie *csvimport.ImportError
	if errors.As(err, &ie) {
		return importProblem(ie)
	}
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, res)
}
