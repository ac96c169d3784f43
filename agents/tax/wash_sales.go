package tax

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/lots"
)

func (a *Tax) washSales() agents.Def {
	return agents.Read(agents.Meta{
		Name: "tax.wash_sales",
		Description: "Loss sales of a tax year with a purchase of the same security within 30 days before or after (IRS Publication 550): " +
			"the disallowed loss, the basis adjustment of the replacement lot and the holding period carried over to it.",
		Reads: []string{"portfolios", "transactions", "lot_reliefs", "lots", "securities", "pricing_packs", "fx_rates"},
		Codes: []string{agents.CodeNotFound, agents.CodeMissingFX, agents.CodePricingPackWarming},
	}, a.WashSales)
}

// WashSalesInput asks for the wash sales of a tax year.
type WashSalesInput struct {
	PortfolioID   uuid.UUID      `json:"portfolio_id" doc:"The portfolio."`
	TaxYear       *int           `json:"tax_year,omitempty" jsonschema:"minimum=1900,maximum=2200" doc:"The calendar year; the as-of date's year when absent."`
	Method        string         `json:"method,omitempty" jsonschema:"enum=FIFO|LIFO|HIFO|SPECIFIC_LOT|AVERAGE_COST|fifo|lifo|hifo|specific_lot|average_cost" doc:"The lot-relief method the sales are taken under, either case; the portfolio's own when absent."`
	LotSelections []LotSelection `json:"lot_selections,omitempty" doc:"As for tax.realized_gains."`
}

// WashMatch pairs sold shares with replacement shares.
type WashMatch struct {
	SoldLotID            uuid.UUID       `json:"sold_lot_id"`
	SoldTerm             string          `json:"sold_term" doc:"The term of the sold lot's loss."`
	ReplacementLotID     uuid.UUID       `json:"replacement_lot_id" doc:"The purchase (its lot id is the BUY's id; a generated id for a planned purchase)."`
	ReplacementPlanned   bool            `json:"replacement_planned" doc:"The replacement is a planned purchase, not in the ledger."`
	ReplacementAcquired  string          `json:"replacement_acquired" doc:"The purchase date."`
	DaysFromSale         int             `json:"days_from_sale" doc:"Calendar days from the sale to the purchase (negative: before)."`
	Part                 int             `json:"part" doc:"0: the whole purchase; 1, 2, ...: the part of it split out for this match."`
	Quantity             decimal.Decimal `json:"quantity" doc:"Replacement shares matched, in shares as of the sale date."`
	DisallowedLoss       decimal.Decimal `json:"disallowed_loss" doc:"Positive; the sold lot's loss × matched / sold shares, trading currency."`
	DisallowedLossBase   decimal.Decimal `json:"disallowed_loss_base" doc:"Base currency at the sale-date rate."`
	BasisAdjustment      decimal.Decimal `json:"basis_adjustment" doc:"Added to the replacement's basis: the disallowed loss."`
	AdjustedBasis        decimal.Decimal `json:"adjusted_basis" doc:"The matched replacement shares' cost plus the disallowed loss."`
	AdjustedCostPerShare decimal.Decimal `json:"adjusted_cost_per_share"`
	TackedDays           int             `json:"tacked_days" doc:"The sold lot's holding period, added to the replacement's."`
	HoldingPeriodStart   string          `json:"holding_period_start" doc:"The replacement's acquisition date moved back by tacked_days: its holding period runs from here."`
}

// WashSale is one loss sale that a purchase makes a wash sale.
type WashSale struct {
	TransactionID  uuid.UUID       `json:"transaction_id"`
	SecurityID     uuid.UUID       `json:"security_id"`
	Symbol         string          `json:"symbol"`
	Date           string          `json:"date"`
	Currency       string          `json:"currency"`
	Quantity       decimal.Decimal `json:"quantity"`
	Loss           decimal.Decimal `json:"loss" doc:"Σ of the sale's loss lines, positive, trading currency."`
	Disallowed     decimal.Decimal `json:"disallowed" doc:"Positive, trading currency."`
	Allowed        decimal.Decimal `json:"allowed" doc:"loss − disallowed: deductible now."`
	FXRate         decimal.Decimal `json:"fx_rate" doc:"Sale-date rate to the base currency."`
	LossBase       decimal.Decimal `json:"loss_base"`
	DisallowedBase decimal.Decimal `json:"disallowed_base"`
	AllowedBase    decimal.Decimal `json:"allowed_base"`
	WindowStart    string          `json:"window_start" doc:"30 days before the sale."`
	WindowEnd      string          `json:"window_end" doc:"30 days after the sale."`
	WindowOpen     bool            `json:"window_open" doc:"window_end is after the as-of date: a later purchase could still disallow more."`
	Matches        []WashMatch     `json:"matches"`
}

// WashSalesOutput lists the year's wash sales.
type WashSalesOutput struct {
	PortfolioID         uuid.UUID         `json:"portfolio_id"`
	BaseCurrency        string            `json:"base_currency"`
	TaxYear             int               `json:"tax_year"`
	From                string            `json:"from"`
	To                  string            `json:"to"`
	Method              string            `json:"method"`
	Source              string            `json:"source" doc:"recorded or replayed, as for tax.realized_gains."`
	LossSales           int               `json:"loss_sales" doc:"Sales of the year with at least one loss line."`
	WashSales           []WashSale        `json:"wash_sales" doc:"The loss sales with a replacement purchase, by date."`
	Disallowed          decimal.Decimal   `json:"disallowed" doc:"Σ disallowed_base, base currency, positive."`
	DisallowedShortTerm decimal.Decimal   `json:"disallowed_short_term" doc:"Part of disallowed on short-term lots."`
	DisallowedLongTerm  decimal.Decimal   `json:"disallowed_long_term" doc:"Part of disallowed on long-term lots."`
	OpenWindows         int               `json:"open_windows" doc:"Loss sales of the year whose window ends after the as-of date."`
	Notes               []string          `json:"notes"`
	Provenance          agents.Provenance `json:"provenance"`
}

const washConvention = "IRS Publication 550, Wash Sales: a loss on a sale is disallowed when the same security is bought within " +
	"30 calendar days before or after it (day 30 counts); replacement shares are matched in purchase order with sold shares in the " +
	"sale's lot order, and a purchase used as a replacement is not used again; the disallowed loss is added to the replacement's basis " +
	"and the sold lot's holding period to the replacement's; only BUY transactions up to the as-of date count as purchases; the sold " +
	"lots themselves never count; gains before the adjustment (the ledger does not apply it to later sales); base currency at the " +
	"rate of the newest fresh pack on or before the sale date"

// washYear applies the wash-sale rule to the sales of a year.
type washYear struct {
	sales    salesResult
	outcomes []washOutcome // of the year's sales with a loss
	rates    map[storage.DatedCurrency]storage.RateOnDate
}

func loadWashYear(ctx context.Context, db storage.Querier, q salesQuery, asOf time.Time, base string) (washYear, error) {
	// Every earlier sale may have used replacements that a sale of the
	// year would otherwise match, so the sales are applied from inception.
	from := q.From
	q.From = time.Time{}
	sr, err := loadSales(ctx, db, q)
	if err != nil {
		return washYear{}, err
	}
	cutoff := q.To.AddDate(0, 0, lots.WashSaleWindowDays)
	if cutoff.After(asOf) {
		cutoff = asOf
	}
	txs, err := storage.ListTransactions(ctx, db, q.Portfolio.ID, storage.TransactionFilter{To: cutoff})
	if err != nil {
		return washYear{}, err
	}
	w := newWashEngine(txs)
	wy := washYear{sales: sr}
	var keys []storage.DatedCurrency
	for _, s := range sr.Sales {
		o, err := w.apply(s)
		if err != nil {
			return washYear{}, fmt.Errorf("wash sales of %s on %s: %w", s.Symbol, day(s.Date), err)
		}
		if s.Date.Before(from) || !o.Result.Loss.IsPositive() {
			continue
		}
		wy.outcomes = append(wy.outcomes, o)
		keys = append(keys, storage.DatedCurrency{Date: s.Date, Currency: s.Currency})
	}
	wy.rates, err = storage.FXRatesOnDates(ctx, db, base, keys)
	if err != nil {
		return washYear{}, err
	}
	return wy, nil
}

// washSaleOut renders one outcome; rate converts to the base currency.
func washSaleOut(o washOutcome, rate decimal.Decimal, asOf time.Time) WashSale {
	s, r := o.Sale, o.Result
	ws := WashSale{TransactionID: s.TxID, SecurityID: s.SecurityID, Symbol: s.Symbol, Date: day(s.Date), Currency: s.Currency,
		Quantity: s.Quantity, Loss: r.Loss, Disallowed: r.Disallowed, Allowed: r.Allowed, FXRate: rate,
		LossBase: r.Loss.Mul(rate), DisallowedBase: r.Disallowed.Mul(rate), AllowedBase: r.Allowed.Mul(rate),
		WindowStart: day(s.Date.AddDate(0, 0, -lots.WashSaleWindowDays)), WindowEnd: day(s.Date.AddDate(0, 0, lots.WashSaleWindowDays)),
		Matches: []WashMatch{}}
	ws.WindowOpen = s.Date.AddDate(0, 0, lots.WashSaleWindowDays).After(asOf)
	terms := map[uuid.UUID]string{}
	for _, l := range s.Gains.Lines {
		terms[l.LotID] = termOf(l.HoldingDays)
	}
	purchases := map[uuid.UUID]considered{}
	for _, c := range o.Considered {
		purchases[c.Purchase.ID] = c
	}
	for _, m := range r.Matches {
		var adj lots.Replacement
		for _, rp := range r.Replacements {
			if rp.ID == m.ReplacementLotID && rp.Part == m.Part && rp.Adjusted {
				adj = rp
			}
		}
		pc := purchases[m.ReplacementLotID]
		ws.Matches = append(ws.Matches, WashMatch{SoldLotID: m.SoldLotID, SoldTerm: terms[m.SoldLotID], ReplacementLotID: m.ReplacementLotID,
			ReplacementPlanned: pc.Purchase != nil && pc.Purchase.Planned, ReplacementAcquired: day(pc.Purchase.Date), DaysFromSale: pc.Days,
			Part: m.Part, Quantity: m.Quantity, DisallowedLoss: m.DisallowedLoss, DisallowedLossBase: m.DisallowedLoss.Mul(rate),
			BasisAdjustment: m.DisallowedLoss, AdjustedBasis: adj.Cost, AdjustedCostPerShare: adj.CostPerShare, TackedDays: m.TackedDays,
			HoldingPeriodStart: day(adj.Acquired)})
	}
	return ws
}

// WashSales implements tax.wash_sales.
func (a *Tax) WashSales(ctx context.Context, c *agents.Call, in WashSalesInput) (WashSalesOutput, error) {
	out := WashSalesOutput{PortfolioID: in.PortfolioID, WashSales: []WashSale{}, Notes: []string{}}
	asOf, err := c.AsOfOrToday(a.deps.Now)
	if err != nil {
		return out, err
	}
	p, err := storage.GetPortfolio(ctx, c.DB, in.PortfolioID)
	if err != nil {
		return out, fmt.Errorf("wash sales: %w", err)
	}
	ty, err := yearOf(in.TaxYear, asOf)
	if err != nil {
		return out, err
	}
	wy, err := loadWashYear(ctx, c.DB, salesQuery{Portfolio: p, Method: methodOf(in.Method, p), Selections: in.LotSelections,
		From: ty.From, To: ty.To}, asOf, p.BaseCurrency)
	if err != nil {
		return out, fmt.Errorf("wash sales of portfolio %s in %d: %w", p.ID, ty.Year, err)
	}
	out.BaseCurrency, out.TaxYear, out.From, out.To = p.BaseCurrency, ty.Year, day(ty.From), day(ty.To)
	out.Method, out.Source = string(wy.sales.Method), wy.sales.Source
	out.Notes = append(out.Notes, wy.sales.Notes...)
	out.LossSales = len(wy.outcomes)
	for _, o := range wy.outcomes {
		ws := washSaleOut(o, wy.rates[storage.DatedCurrency{Date: o.Sale.Date, Currency: o.Sale.Currency}].Rate, asOf)
		if ws.WindowOpen {
			out.OpenWindows++
		}
		if len(ws.Matches) == 0 {
			continue
		}
		for _, m := range ws.Matches {
			if m.SoldTerm == TermLong {
				out.DisallowedLongTerm = out.DisallowedLongTerm.Add(m.DisallowedLossBase)
			} else {
				out.DisallowedShortTerm = out.DisallowedShortTerm.Add(m.DisallowedLossBase)
			}
		}
		out.Disallowed = out.Disallowed.Add(ws.DisallowedBase)
		out.WashSales = append(out.WashSales, ws)
	}
	if out.OpenWindows > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%d loss sale(s) have a window that ends after the as-of date %s", out.OpenWindows, day(asOf)))
	}
	out.Provenance = c.ProvenanceAt("", asOf, gainsMethod(wy.sales)+"; storage/lots.WashSales per sale, in ledger order", washConvention)
	return out, nil
}
