package tax

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/lots"
)

func (a *Tax) washSaleCheck() agents.Def {
	return agents.Read(agents.Meta{
		Name: "tax.wash_sale_check",
		Description: "For proposed sales (security, quantity, optional lots and price, on the as-of date or a given date), whether each would be a wash " +
			"sale given the purchases within 30 days before it (and planned purchases after), and the loss that would be disallowed.",
		Reads: []string{"portfolios", "lots", "transactions", "lot_reliefs", "securities", "pricing_packs", "prices", "fx_rates"},
		Codes: []string{agents.CodeNotFound, agents.CodeMissingPrice, agents.CodeMissingFX, agents.CodePricingPackWarming},
	}, a.WashSaleCheck)
}

// ProposedSale is one sale to check. tax.identify_losses candidates have
// these fields, so its candidates can be passed whole.
type ProposedSale struct {
	SecurityID uuid.UUID           `json:"security_id"`
	Quantity   decimal.Decimal     `json:"quantity" doc:"Shares to sell (> 0)."`
	LotIDs     []uuid.UUID         `json:"lot_ids,omitempty" doc:"The lots the sale names, in order; required under SPECIFIC_LOT, ignored under AVERAGE_COST; the portfolio's method chooses when empty."`
	Price      decimal.NullDecimal `json:"price,omitempty" doc:"Sale price in the trading currency; the pack's close when absent."`
	Fees       decimal.Decimal     `json:"fees,omitempty" doc:"Commission, deducted from the proceeds; 0 when absent."`
}

// PlannedPurchase is a purchase intended after the sale.
type PlannedPurchase struct {
	SecurityID uuid.UUID           `json:"security_id"`
	Date       string              `json:"date" jsonschema:"format=date" doc:"YYYY-MM-DD."`
	Quantity   decimal.Decimal     `json:"quantity" doc:"> 0."`
	Price      decimal.NullDecimal `json:"price,omitempty" doc:"Price per share including costs; the pack's close when absent."`
}

// WashSaleCheckInput asks about proposed sales.
type WashSaleCheckInput struct {
	PortfolioID      uuid.UUID         `json:"portfolio_id" doc:"The portfolio."`
	PricingPackID    string            `json:"pricing_pack_id" jsonschema:"minLength=1" doc:"The pack that prices sales without a price and converts to the base currency, normally {{ctx.pricing_pack_id}}."`
	Sales            []ProposedSale    `json:"sales" doc:"The sales, each checked on its own (as alternatives, not one after the other)."`
	Date             string            `json:"date,omitempty" jsonschema:"format=date" doc:"The sale date; the as-of date when absent."`
	PlannedPurchases []PlannedPurchase `json:"planned_purchases,omitempty" doc:"Purchases planned after the sale date, which a wash sale counts as replacements."`
}

// Validate checks the signs the schema cannot state for decimal strings.
func (in WashSaleCheckInput) Validate() error {
	for i, s := range in.Sales {
		if !s.Quantity.IsPositive() {
			return agents.FieldError(fmt.Sprintf("sales[%d].quantity", i), "quantity %s is not positive", s.Quantity)
		}
		if s.Price.Valid && s.Price.Decimal.IsNegative() {
			return agents.FieldError(fmt.Sprintf("sales[%d].price", i), "price %s is negative", s.Price.Decimal)
		}
		if s.Fees.IsNegative() {
			return agents.FieldError(fmt.Sprintf("sales[%d].fees", i), "fees %s are negative", s.Fees)
		}
	}
	for i, p := range in.PlannedPurchases {
		if !p.Quantity.IsPositive() {
			return agents.FieldError(fmt.Sprintf("planned_purchases[%d].quantity", i), "quantity %s is not positive", p.Quantity)
		}
		if p.Price.Valid && p.Price.Decimal.IsNegative() {
			return agents.FieldError(fmt.Sprintf("planned_purchases[%d].price", i), "price %s is negative", p.Price.Decimal)
		}
	}
	return nil
}

// WindowPurchase is a purchase inside a sale's window.
type WindowPurchase struct {
	LotID        uuid.UUID       `json:"lot_id"`
	Date         string          `json:"date"`
	DaysFromSale int             `json:"days_from_sale" doc:"Negative: before the sale."`
	Available    decimal.Decimal `json:"available" doc:"Shares not yet used as replacements by an earlier wash sale, in shares at the sale date."`
	Planned      bool            `json:"planned"`
}

// WashCheck is the verdict on one proposed sale.
type WashCheck struct {
	SecurityID              uuid.UUID        `json:"security_id"`
	Symbol                  string           `json:"symbol"`
	LotIDs                  []uuid.UUID      `json:"lot_ids" doc:"The lots the sale named (as given)."`
	Date                    string           `json:"date"`
	Quantity                decimal.Decimal  `json:"quantity"`
	Price                   decimal.Decimal  `json:"price"`
	Fees                    decimal.Decimal  `json:"fees"`
	Currency                string           `json:"currency"`
	FXRate                  decimal.Decimal  `json:"fx_rate" doc:"The pack's rate to the base currency."`
	Proceeds                decimal.Decimal  `json:"proceeds" doc:"quantity × price − fees, trading currency."`
	Cost                    decimal.Decimal  `json:"cost"`
	Gain                    decimal.Decimal  `json:"gain" doc:"proceeds − cost."`
	Loss                    decimal.Decimal  `json:"loss" doc:"Σ of the loss lines, positive (0 without a loss), trading currency."`
	LossBase                decimal.Decimal  `json:"loss_base"`
	WashSale                bool             `json:"wash_sale" doc:"A replacement purchase disallows part of the loss."`
	Disallowed              decimal.Decimal  `json:"disallowed" doc:"Loss that would be disallowed, trading currency."`
	DisallowedBase          decimal.Decimal  `json:"disallowed_base"`
	DisallowedShortTermBase decimal.Decimal  `json:"disallowed_short_term_base" doc:"Part of disallowed_base on short-term lots."`
	DisallowedLongTermBase  decimal.Decimal  `json:"disallowed_long_term_base"`
	Allowed                 decimal.Decimal  `json:"allowed" doc:"loss − disallowed."`
	AllowedBase             decimal.Decimal  `json:"allowed_base"`
	WindowStart             string           `json:"window_start"`
	WindowEnd               string           `json:"window_end" doc:"Buying the security on or before this date would make the loss a wash sale."`
	Purchases               []WindowPurchase `json:"purchases" doc:"Purchases within the window that could replace the sold shares."`
	Matches                 []WashMatch      `json:"matches"`
	Reason                  string           `json:"reason"`
}

// WashSaleCheckOutput lists the verdicts in the order of the sales.
type WashSaleCheckOutput struct {
	PortfolioID     uuid.UUID         `json:"portfolio_id"`
	BaseCurrency    string            `json:"base_currency"`
	CostBasisMethod string            `json:"cost_basis_method"`
	Date            string            `json:"date" doc:"The sale date."`
	Checks          []WashCheck       `json:"checks"`
	WashSales       int               `json:"wash_sales"`
	DisallowedBase  decimal.Decimal   `json:"disallowed_base" doc:"Σ disallowed_base of the checks."`
	Notes           []string          `json:"notes"`
	Provenance      agents.Provenance `json:"provenance"`
}

// plannedNS names the ids given to planned purchases.
var plannedNS = uuid.MustParse("6f1c2f5e-3b1a-4d0e-9a57-1d6b0c3e7a10")

// WashSaleCheck implements tax.wash_sale_check.
func (a *Tax) WashSaleCheck(ctx context.Context, c *agents.Call, in WashSaleCheckInput) (WashSaleCheckOutput, error) {
	out := WashSaleCheckOutput{PortfolioID: in.PortfolioID, Checks: []WashCheck{}, Notes: []string{}}
	asOf, err := c.AsOfOrToday(a.deps.Now)
	if err != nil {
		return out, err
	}
	date := asOf
	if in.Date != "" {
		if date, err = time.Parse(time.DateOnly, in.Date); err != nil {
			return out, agents.FieldError("date", "date %q is not YYYY-MM-DD", in.Date)
		}
	}
	out.Date = day(date)
	p, err := storage.GetPortfolio(ctx, c.DB, in.PortfolioID)
	if err != nil {
		return out, fmt.Errorf("wash-sale check: %w", err)
	}
	out.BaseCurrency, out.CostBasisMethod = p.BaseCurrency, p.CostBasisMethod
	pack, err := agents.ValuationPack(ctx, c.DB, in.PricingPackID, asOf)
	if err != nil {
		return out, err
	}
	if len(in.Sales) == 0 {
		out.Provenance = c.ProvenanceAt(pack.ID, asOf, "no sale to check", washConvention)
		return out, nil
	}
	// Lots as the ledger holds them at the sale date, or at the as-of date
	// for a later sale (nothing after the as-of date is known).
	lotsDate := date
	if lotsDate.After(asOf) {
		lotsDate = asOf
	}
	open, err := storage.LotsAsOf(ctx, c.DB, p.ID, lotsDate)
	if err != nil {
		return out, fmt.Errorf("wash-sale check of portfolio %s: %w", p.ID, err)
	}
	bySec, _ := bySecurity(open)
	var ids []uuid.UUID
	for i, s := range in.Sales {
		if len(bySec[s.SecurityID]) == 0 {
			err := notHeld(ctx, c.DB, p, s.SecurityID, lotsDate)
			return out, fmt.Errorf("sales[%d]: %w", i, err)
		}
		ids = append(ids, s.SecurityID)
	}
	for _, pp := range in.PlannedPurchases {
		if !pp.Price.Valid {
			ids = append(ids, pp.SecurityID)
		}
	}
	prices, err := storage.PricesInPack(ctx, c.DB, pack.ID, ids)
	if err != nil {
		return out, fmt.Errorf("wash-sale check of portfolio %s: %w", p.ID, err)
	}
	rates := newPackRates(c.DB, pack.ID, p.BaseCurrency)
	txs, err := storage.ListTransactions(ctx, c.DB, p.ID, storage.TransactionFilter{To: asOf})
	if err != nil {
		return out, err
	}
	histTo := date.AddDate(0, 0, -1)
	if histTo.After(asOf) {
		histTo = asOf
	}
	history, err := recordedSales(ctx, c.DB, p, time.Time{}, histTo)
	if err != nil {
		return out, err
	}
	var planned []*purchase
	for i, pp := range in.PlannedPurchases {
		d, err := time.Parse(time.DateOnly, pp.Date)
		if err != nil {
			return out, agents.FieldError(fmt.Sprintf("planned_purchases[%d].date", i), "date %q is not YYYY-MM-DD", pp.Date)
		}
		price := pp.Price.Decimal
		if !pp.Price.Valid {
			price = prices[pp.SecurityID].Close
		}
		planned = append(planned, &purchase{ID: uuid.NewSHA1(plannedNS, []byte(fmt.Sprintf("planned:%d", i))), SecurityID: pp.SecurityID,
			Date: d, Seq: laterSeq, Quantity: pp.Quantity, Cost: pp.Quantity.Mul(price), Planned: true})
	}
	method := lots.Method(p.CostBasisMethod)
	ignored := 0
	for i, s := range in.Sales {
		ls := bySec[s.SecurityID]
		sym, ccy := ls[0].Symbol, ls[0].Currency
		price := s.Price.Decimal
		if !s.Price.Valid {
			pr := prices[s.SecurityID]
			if pr.Currency != ccy {
				return out, agents.FieldError(fmt.Sprintf("sales[%d].price", i), "%s closes in %s and trades in %s: give the sale price in %s", sym, pr.Currency, ccy, ccy)
			}
			price = pr.Close
		}
		named := s.LotIDs
		if method == lots.AverageCost && len(named) > 0 {
			named = nil
			ignored++
		}
		if method == lots.SpecificLot && len(named) == 0 {
			return out, agents.FieldError(fmt.Sprintf("sales[%d].lot_ids", i), "the portfolio relieves SPECIFIC_LOT: name the lots of the sale of %s", sym)
		}
		g, err := simulateSale(toLots(ls), s.Quantity, method, named, date, s.Quantity.Mul(price).Sub(s.Fees))
		if err != nil {
			var short *lots.InsufficientError
			if errors.As(err, &short) {
				return out, agents.FieldError(fmt.Sprintf("sales[%d].quantity", i), "the lots of %s it may take hold %s on %s, the sale asks for %s", sym, short.Held, day(lotsDate), short.Requested)
			}
			return out, agents.FieldError(fmt.Sprintf("sales[%d]", i), "sale of %s %s: %v", s.Quantity, sym, err)
		}
		w := newWashEngine(txs)
		for _, pl := range planned {
			cp := *pl
			w.add(&cp)
		}
		for _, h := range history {
			if h.SecurityID != s.SecurityID {
				continue
			}
			if _, err := w.apply(h); err != nil {
				return out, fmt.Errorf("wash sales of %s on %s: %w", h.Symbol, day(h.Date), err)
			}
		}
		o, err := w.apply(saleRec{Seq: laterSeq, SecurityID: s.SecurityID, Symbol: sym, Currency: ccy, Date: date,
			Quantity: s.Quantity, Price: price, Fees: s.Fees, Named: named, Gains: g})
		if err != nil {
			return out, fmt.Errorf("wash-sale check of %s: %w", sym, err)
		}
		rate, err := rates.rate(ctx, ccy)
		if err != nil {
			return out, fmt.Errorf("wash-sale check of %s: %w", sym, err)
		}
		chk := checkOut(o, s, rate, asOf)
		if chk.WashSale {
			out.WashSales++
			out.DisallowedBase = out.DisallowedBase.Add(chk.DisallowedBase)
		}
		out.Checks = append(out.Checks, chk)
	}
	if ignored > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("the portfolio relieves AVERAGE_COST: the lots named by %d sale(s) were ignored and each sale relieves at the pooled average", ignored))
	}
	out.Provenance = c.ProvenanceAt(pack.ID, asOf, "each sale relieved by storage/lots as the ledger would, then storage/lots.WashSales against the BUY transactions "+
		"up to the as-of date and the planned purchases, after every earlier recorded sale used its replacements", washConvention)
	return out, nil
}

// checkOut renders the verdict on one proposed sale.
func checkOut(o washOutcome, s ProposedSale, rate decimal.Decimal, asOf time.Time) WashCheck {
	ws := washSaleOut(o, rate, asOf)
	g := o.Sale.Gains
	c := WashCheck{SecurityID: s.SecurityID, Symbol: o.Sale.Symbol, LotIDs: append([]uuid.UUID{}, s.LotIDs...), Date: ws.Date,
		Quantity: s.Quantity, Price: o.Sale.Price, Fees: s.Fees, Currency: o.Sale.Currency, FXRate: rate, Proceeds: g.Proceeds,
		Cost: g.Cost, Gain: g.Total, Loss: ws.Loss, LossBase: ws.LossBase, WashSale: len(ws.Matches) > 0, Disallowed: ws.Disallowed,
		DisallowedBase: ws.DisallowedBase, Allowed: ws.Allowed, AllowedBase: ws.AllowedBase, WindowStart: ws.WindowStart,
		WindowEnd: ws.WindowEnd, Purchases: []WindowPurchase{}, Matches: ws.Matches}
	for _, m := range ws.Matches {
		if m.SoldTerm == TermLong {
			c.DisallowedLongTermBase = c.DisallowedLongTermBase.Add(m.DisallowedLossBase)
		} else {
			c.DisallowedShortTermBase = c.DisallowedShortTermBase.Add(m.DisallowedLossBase)
		}
	}
	for _, p := range o.Considered {
		c.Purchases = append(c.Purchases, WindowPurchase{LotID: p.Purchase.ID, Date: day(p.Purchase.Date), DaysFromSale: p.Days,
			Available: p.Available, Planned: p.Purchase.Planned})
	}
	switch {
	case !c.Loss.IsPositive():
		c.Reason = fmt.Sprintf("no loss: the sale would realise %s %s, so the wash-sale rule does not apply", g.Total, c.Currency)
	case c.WashSale:
		var buys []string
		for _, m := range ws.Matches {
			when := "after"
			if m.DaysFromSale < 0 {
				when = "before"
			}
			what := "bought"
			if m.ReplacementPlanned {
				what = "planned"
			}
			buys = append(buys, fmt.Sprintf("%s shares %s on %s (%d days %s)", m.Quantity, what, m.ReplacementAcquired, abs(m.DaysFromSale), when))
		}
		c.Reason = fmt.Sprintf("wash sale: %s replace the sold shares; %s of the %s %s loss would be disallowed and added to the replacement's basis",
			strings.Join(buys, ", "), c.Disallowed, c.Loss, c.Currency)
	default:
		c.Reason = fmt.Sprintf("no purchase of %s within 30 days of the sale is left to replace the sold shares; buying it on or before %s would disallow the loss",
			c.Symbol, c.WindowEnd)
	}
	return c
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
