package tax

import (
	"context"
	"fmt"
	"sort"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Tax) realizedGains() agents.Def {
	return agents.Read(agents.Meta{
		Name: "tax.realized_gains",
		Description: "Realised gains of a calendar tax year per sale and per lot, short and long term, under a relief method: " +
			"the ledger's recorded reliefs for the portfolio's own method, or its transactions replayed in memory through storage/lots for another.",
		Reads: []string{"portfolios", "transactions", "lot_reliefs", "lots", "securities", "pricing_packs", "fx_rates"},
		Codes: []string{agents.CodeNotFound, agents.CodeMissingFX, agents.CodePricingPackWarming},
	}, a.RealizedGains)
}

// RealizedGainsInput asks for the realised gains of a tax year.
type RealizedGainsInput struct {
	PortfolioID uuid.UUID `json:"portfolio_id" doc:"The portfolio."`
	TaxYear     *int      `json:"tax_year,omitempty" jsonschema:"minimum=1900,maximum=2200" doc:"The calendar year; the as-of date's year when absent. A year that runs past the as-of date ends at it."`
	Method      string    `json:"method,omitempty" jsonschema:"enum=FIFO|LIFO|HIFO|SPECIFIC_LOT|AVERAGE_COST|fifo|lifo|hifo|specific_lot|average_cost" doc:"The lot-relief method, either case; the portfolio's own when absent."`
	// LotSelections name the lots of sales under SPECIFIC_LOT.
	LotSelections []LotSelection `json:"lot_selections,omitempty" doc:"Lots to relieve per sale, for a replay: required under SPECIFIC_LOT for every sale (since inception up to the year's end) that names no lot itself; under FIFO, LIFO and HIFO a selection overrides the method as a broker's lot instruction does; not allowed under AVERAGE_COST."`
}

// GainLot is what one lot relieved by a sale realised.
type GainLot struct {
	LotID       uuid.UUID       `json:"lot_id"`
	Acquired    string          `json:"acquired" doc:"YYYY-MM-DD."`
	Quantity    decimal.Decimal `json:"quantity"`
	Proceeds    decimal.Decimal `json:"proceeds" doc:"This lot's share of the sale's net proceeds (pro rata to quantity), trading currency."`
	Cost        decimal.Decimal `json:"cost" doc:"Basis relieved, fees included, trading currency."`
	Gain        decimal.Decimal `json:"gain" doc:"proceeds − cost; negative is a loss."`
	HoldingDays int             `json:"holding_days" doc:"Calendar days from acquired to the sale."`
	Term        string          `json:"term" doc:"long when held more than 365 days, else short."`
	GainBase    decimal.Decimal `json:"gain_base" doc:"gain × fx_rate, base currency."`
}

// GainSale is one sale and what it realised.
type GainSale struct {
	TransactionID uuid.UUID       `json:"transaction_id"`
	SecurityID    uuid.UUID       `json:"security_id"`
	Symbol        string          `json:"symbol"`
	Date          string          `json:"date" doc:"YYYY-MM-DD."`
	Currency      string          `json:"currency" doc:"The trading currency of the figures below."`
	Quantity      decimal.Decimal `json:"quantity"`
	Price         decimal.Decimal `json:"price"`
	Fees          decimal.Decimal `json:"fees"`
	Proceeds      decimal.Decimal `json:"proceeds" doc:"Gross amount − fees."`
	Cost          decimal.Decimal `json:"cost"`
	Gain          decimal.Decimal `json:"gain"`
	ShortTerm     decimal.Decimal `json:"short_term" doc:"Gain of the short-term lots."`
	LongTerm      decimal.Decimal `json:"long_term" doc:"Gain of the long-term lots."`
	FXRate        decimal.Decimal `json:"fx_rate" doc:"1 currency in the base currency, from the newest fresh pack on or before the sale date (exactly 1 in the base currency)."`
	FXPackID      string          `json:"fx_pack_id" doc:"The pack of fx_rate; empty in the base currency."`
	GainBase      decimal.Decimal `json:"gain_base"`
	ShortTermBase decimal.Decimal `json:"short_term_base"`
	LongTermBase  decimal.Decimal `json:"long_term_base"`
	NamedLots     []uuid.UUID     `json:"named_lots" doc:"The lots the sale was told to relieve (its lot instruction or a selection); empty when the method chose."`
	Lots          []GainLot       `json:"lots" doc:"In the order the relief took them."`
}

// GainTotals sums realised gains by term. Losses are ≤ 0.
type GainTotals struct {
	Sales           int             `json:"sales"`
	Lots            int             `json:"lots" doc:"Lot lines."`
	Proceeds        decimal.Decimal `json:"proceeds"`
	Cost            decimal.Decimal `json:"cost"`
	ShortTermGains  decimal.Decimal `json:"short_term_gains" doc:"Σ of the short-term lines' positive gains."`
	ShortTermLosses decimal.Decimal `json:"short_term_losses" doc:"Σ of the short-term lines' negative gains (≤ 0)."`
	ShortTerm       decimal.Decimal `json:"short_term" doc:"Net short term."`
	LongTermGains   decimal.Decimal `json:"long_term_gains"`
	LongTermLosses  decimal.Decimal `json:"long_term_losses" doc:"≤ 0."`
	LongTerm        decimal.Decimal `json:"long_term" doc:"Net long term."`
	Net             decimal.Decimal `json:"net" doc:"short_term + long_term."`
}

func (t *GainTotals) add(proceeds, cost, gain decimal.Decimal, term string) {
	t.Lots++
	t.Proceeds, t.Cost = t.Proceeds.Add(proceeds), t.Cost.Add(cost)
	t.Net = t.Net.Add(gain)
	pos, neg := gain, decimal.Zero
	if gain.IsNegative() {
		pos, neg = decimal.Zero, gain
	}
	if term == TermLong {
		t.LongTermGains, t.LongTermLosses, t.LongTerm = t.LongTermGains.Add(pos), t.LongTermLosses.Add(neg), t.LongTerm.Add(gain)
	} else {
		t.ShortTermGains, t.ShortTermLosses, t.ShortTerm = t.ShortTermGains.Add(pos), t.ShortTermLosses.Add(neg), t.ShortTerm.Add(gain)
	}
}

// CurrencyGains are the totals of the sales in one trading currency, in it.
type CurrencyGains struct {
	Currency string `json:"currency"`
	GainTotals
}

// RealizedGainsOutput is the year's realised gains.
type RealizedGainsOutput struct {
	PortfolioID     uuid.UUID         `json:"portfolio_id"`
	BaseCurrency    string            `json:"base_currency"`
	TaxYear         int               `json:"tax_year"`
	From            string            `json:"from" doc:"First day covered, YYYY-MM-DD."`
	To              string            `json:"to" doc:"Last day covered: 31 December, or the as-of date for the current year."`
	Partial         bool              `json:"partial" doc:"The year runs past the as-of date."`
	Method          string            `json:"method" doc:"The relief method of the figures."`
	PortfolioMethod string            `json:"portfolio_method" doc:"The portfolio's own cost-basis method, which the ledger records."`
	Source          string            `json:"source" doc:"recorded: the ledger's lot_reliefs; replayed: the transactions replayed in memory under method (nothing written)."`
	Sales           []GainSale        `json:"sales" doc:"By date, in ledger order."`
	Totals          GainTotals        `json:"totals" doc:"Base currency."`
	ByCurrency      []CurrencyGains   `json:"by_currency" doc:"Per trading currency, in it."`
	Notes           []string          `json:"notes"`
	Provenance      agents.Provenance `json:"provenance"`
}

// gainsConvention states how every realised figure is computed.
const gainsConvention = "long term when held more than 365 days (calendar days from acquisition to sale); proceeds net of fees, " +
	"cost including fees; a sale's proceeds shared among its lots pro rata to quantity; gains in the trading currency, base-currency " +
	"figures = gain × the rate of the newest fresh pack on or before the sale date; losses ≤ 0; before wash-sale adjustments (tax.wash_sales)"

func gainsMethod(sr salesResult) string {
	if sr.Source == SourceRecorded {
		return fmt.Sprintf("recorded: the ledger's lot_reliefs rows of each sale (the portfolio's method %s)", sr.Method)
	}
	return fmt.Sprintf("replayed: the portfolio's transactions since inception applied in ledger order to lots in memory through storage/lots by %s; nothing written", sr.Method)
}

// RealizedGains implements tax.realized_gains.
func (a *Tax) RealizedGains(ctx context.Context, c *agents.Call, in RealizedGainsInput) (RealizedGainsOutput, error) {
	out := RealizedGainsOutput{PortfolioID: in.PortfolioID, Sales: []GainSale{}, ByCurrency: []CurrencyGains{}, Notes: []string{}}
	asOf, err := c.AsOfOrToday(a.deps.Now)
	if err != nil {
		return out, err
	}
	p, err := storage.GetPortfolio(ctx, c.DB, in.PortfolioID)
	if err != nil {
		return out, fmt.Errorf("realised gains: %w", err)
	}
	ty, err := yearOf(in.TaxYear, asOf)
	if err != nil {
		return out, err
	}
	sr, err := loadSales(ctx, c.DB, salesQuery{Portfolio: p, Method: methodOf(in.Method, p), Selections: in.LotSelections, From: ty.From, To: ty.To})
	if err != nil {
		return out, fmt.Errorf("realised gains of portfolio %s in %d: %w", p.ID, ty.Year, err)
	}
	out.BaseCurrency, out.TaxYear, out.From, out.To, out.Partial = p.BaseCurrency, ty.Year, day(ty.From), day(ty.To), ty.Partial
	out.Method, out.PortfolioMethod, out.Source = string(sr.Method), p.CostBasisMethod, sr.Source
	out.Notes = append(out.Notes, sr.Notes...)
	rep, err := gainsReport(ctx, c.DB, p.BaseCurrency, sr.Sales)
	if err != nil {
		return out, fmt.Errorf("realised gains of portfolio %s in %d: %w", p.ID, ty.Year, err)
	}
	out.Sales, out.Totals, out.ByCurrency = rep.sales, rep.totals, rep.byCurrency
	out.Provenance = c.ProvenanceAt("", asOf, gainsMethod(sr), gainsConvention)
	return out, nil
}

type gainsRep struct {
	sales      []GainSale
	totals     GainTotals
	byCurrency []CurrencyGains
}

// gainsReport turns sales into the output lines, converting to the base
// currency at the sale-date rates.
func gainsReport(ctx context.Context, db storage.Querier, base string, sales []saleRec) (gainsRep, error) {
	rep := gainsRep{sales: []GainSale{}, byCurrency: []CurrencyGains{}}
	keys := make([]storage.DatedCurrency, len(sales))
	for i, s := range sales {
		keys[i] = storage.DatedCurrency{Date: s.Date, Currency: s.Currency}
	}
	rates, err := storage.FXRatesOnDates(ctx, db, base, keys)
	if err != nil {
		return rep, err
	}
	byCcy := map[string]*CurrencyGains{}
	for i, s := range sales {
		r := rates[keys[i]]
		g := GainSale{TransactionID: s.TxID, SecurityID: s.SecurityID, Symbol: s.Symbol, Date: day(s.Date), Currency: s.Currency,
			Quantity: s.Quantity, Price: s.Price, Fees: s.Fees, Proceeds: s.Gains.Proceeds, Cost: s.Gains.Cost, Gain: s.Gains.Total,
			ShortTerm: s.Gains.ShortTerm, LongTerm: s.Gains.LongTerm, FXRate: r.Rate, FXPackID: r.PackID,
			NamedLots: append([]uuid.UUID{}, s.Named...), Lots: []GainLot{}}
		cg, ok := byCcy[s.Currency]
		if !ok {
			cg = &CurrencyGains{Currency: s.Currency}
			byCcy[s.Currency] = cg
		}
		for _, l := range s.Gains.Lines {
			gl := GainLot{LotID: l.LotID, Acquired: day(l.Acquired), Quantity: l.Quantity, Proceeds: l.Proceeds, Cost: l.Cost,
				Gain: l.Gain, HoldingDays: l.HoldingDays, Term: termOf(l.HoldingDays), GainBase: l.Gain.Mul(r.Rate)}
			g.Lots = append(g.Lots, gl)
			g.GainBase = g.GainBase.Add(gl.GainBase)
			if gl.Term == TermLong {
				g.LongTermBase = g.LongTermBase.Add(gl.GainBase)
			} else {
				g.ShortTermBase = g.ShortTermBase.Add(gl.GainBase)
			}
			rep.totals.add(l.Proceeds.Mul(r.Rate), l.Cost.Mul(r.Rate), gl.GainBase, gl.Term)
			cg.add(l.Proceeds, l.Cost, l.Gain, gl.Term)
		}
		rep.totals.Sales++
		cg.Sales++
		rep.sales = append(rep.sales, g)
	}
	for _, cg := range byCcy {
		rep.byCurrency = append(rep.byCurrency, *cg)
	}
	sort.Slice(rep.byCurrency, func(i, j int) bool { return rep.byCurrency[i].Currency < rep.byCurrency[j].Currency })
	return rep, nil
}
