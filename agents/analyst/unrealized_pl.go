package analyst

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/lots"
)

func (a *Analyst) unrealizedPL() agents.Def {
	return agents.Read(agents.Meta{
		Name: "metrics.unrealized_pl",
		Description: "Unrealised P&L of every open lot and position at a pack's closes: market value in the local and base " +
			"currency, cost basis, gain or loss and its share of the cost, holding days and short or long term.",
		Reads: []string{"portfolios", "lots", "transactions", "securities", "pricing_packs", "prices", "fx_rates"},
		Codes: []string{agents.CodeNotFound, agents.CodeMissingPrice, agents.CodeMissingFX, agents.CodePricingPackWarming},
	}, a.UnrealizedPL)
}

// UnrealizedPLInput names the portfolio and the pack to value with.
type UnrealizedPLInput struct {
	PortfolioID   uuid.UUID `json:"portfolio_id" doc:"The portfolio."`
	PricingPackID string    `json:"pricing_pack_id" jsonschema:"minLength=1" doc:"The pack to value with, normally {{ctx.pricing_pack_id}}; lots are those open at the end of its date."`
}

// Holding-period terms.
const (
	TermShort = "short"
	TermLong  = "long"
)

// UnrealizedLot is one open lot valued with the pack.
type UnrealizedLot struct {
	LotID        uuid.UUID       `json:"lot_id"`
	SecurityID   uuid.UUID       `json:"security_id"`
	Symbol       string          `json:"symbol"`
	Acquired     string          `json:"acquired" doc:"YYYY-MM-DD."`
	HoldingDays  int             `json:"holding_days" doc:"Calendar days from acquired to the pack's date."`
	Term         string          `json:"term" doc:"long when held more than 365 days, else short."`
	Quantity     decimal.Decimal `json:"quantity" doc:"The open quantity."`
	CostBasis    decimal.Decimal `json:"cost_basis" doc:"Cost of the open quantity, fees included, in cost_currency."`
	CostPerShare decimal.Decimal `json:"cost_per_share"`
	CostCurrency string          `json:"cost_currency"`
	Close        decimal.Decimal `json:"close" doc:"The pack's close, in price_currency."`
	// PriceCurrency is the currency of the close.
	PriceCurrency    string          `json:"price_currency"`
	FXRate           decimal.Decimal `json:"fx_rate" doc:"1 price_currency in the base currency, from the pack."`
	MarketValueLocal decimal.Decimal `json:"market_value_local" doc:"quantity × close, in price_currency."`
	MarketValue      decimal.Decimal `json:"market_value" doc:"market_value_local × fx_rate, base currency."`
	// The P&L is null when the close and the cost are in different
	// currencies (NullReason says so).
	UnrealizedPLLocal *decimal.Decimal `json:"unrealized_pl_local" doc:"market_value_local − cost_basis, in cost_currency; null when the close is quoted in another currency."`
	UnrealizedPL      *decimal.Decimal `json:"unrealized_pl" doc:"unrealized_pl_local × fx_rate, base currency (the cost's historical rate is not applied); null as above."`
	UnrealizedReturn  *decimal.Decimal `json:"unrealized_return" doc:"unrealized_pl_local / cost_basis, a decimal fraction (0.15 = 15 %); null as above or without cost."`
	NullReason        string           `json:"null_reason,omitempty" doc:"Why the P&L figures are null."`
}

// UnrealizedPosition is the open lots of one security summed.
type UnrealizedPosition struct {
	SecurityID        uuid.UUID        `json:"security_id"`
	Symbol            string           `json:"symbol"`
	CostCurrency      string           `json:"cost_currency"`
	PriceCurrency     string           `json:"price_currency"`
	Lots              int              `json:"lots"`
	Quantity          decimal.Decimal  `json:"quantity"`
	CostBasis         decimal.Decimal  `json:"cost_basis" doc:"In cost_currency."`
	MarketValueLocal  decimal.Decimal  `json:"market_value_local" doc:"In price_currency."`
	MarketValue       decimal.Decimal  `json:"market_value" doc:"Base currency."`
	UnrealizedPLLocal *decimal.Decimal `json:"unrealized_pl_local" doc:"In cost_currency; null when any lot's is."`
	UnrealizedPL      *decimal.Decimal `json:"unrealized_pl" doc:"Base currency; null when any lot's is."`
	UnrealizedReturn  *decimal.Decimal `json:"unrealized_return" doc:"unrealized_pl_local / cost_basis, a decimal fraction."`
	// Split by holding period, base currency.
	ShortTermQuantity decimal.Decimal  `json:"short_term_quantity"`
	LongTermQuantity  decimal.Decimal  `json:"long_term_quantity"`
	ShortTermPL       *decimal.Decimal `json:"short_term_pl" doc:"Unrealised P&L of the short-term lots, base currency."`
	LongTermPL        *decimal.Decimal `json:"long_term_pl" doc:"Unrealised P&L of the long-term lots, base currency."`
	NullReason        string           `json:"null_reason,omitempty"`
}

// UnrealizedPLOutput is every open lot and position valued with the pack.
type UnrealizedPLOutput struct {
	PortfolioID   uuid.UUID            `json:"portfolio_id"`
	BaseCurrency  string               `json:"base_currency"`
	PricingPackID string               `json:"pricing_pack_id"`
	PackDate      string               `json:"pack_date" doc:"The date lots and holding periods are taken at."`
	Lots          []UnrealizedLot      `json:"lots" doc:"By symbol, then acquisition."`
	Positions     []UnrealizedPosition `json:"positions" doc:"By symbol."`
	// Totals in the base currency.
	MarketValue      decimal.Decimal   `json:"market_value" doc:"Σ market_value of the lots, base currency."`
	UnrealizedPL     *decimal.Decimal  `json:"unrealized_pl" doc:"Σ unrealized_pl, base currency; null when any lot's is null."`
	UnrealizedGains  decimal.Decimal   `json:"unrealized_gains" doc:"Σ of the lots' positive unrealized_pl, base currency (lots with a null P&L left out)."`
	UnrealizedLosses decimal.Decimal   `json:"unrealized_losses" doc:"Σ of the lots' negative unrealized_pl (≤ 0), base currency (lots with a null P&L left out)."`
	ShortTermPL      decimal.Decimal   `json:"short_term_pl" doc:"Σ unrealized_pl of the short-term lots with a figure."`
	LongTermPL       decimal.Decimal   `json:"long_term_pl" doc:"Σ unrealized_pl of the long-term lots with a figure."`
	LotsWithoutPL    int               `json:"lots_without_pl" doc:"Lots whose P&L is null."`
	Provenance       agents.Provenance `json:"provenance"`
}

// returnScale is the number of decimals of a P&L fraction.
const returnScale = 10

// UnrealizedPL implements metrics.unrealized_pl.
func (a *Analyst) UnrealizedPL(ctx context.Context, c *agents.Call, in UnrealizedPLInput) (UnrealizedPLOutput, error) {
	out := UnrealizedPLOutput{PortfolioID: in.PortfolioID, PricingPackID: in.PricingPackID, Lots: []UnrealizedLot{},
		Positions: []UnrealizedPosition{}}
	asOf, err := c.AsOfOrToday(a.deps.Now)
	if err != nil {
		return out, err
	}
	p, err := storage.GetPortfolio(ctx, c.DB, in.PortfolioID)
	if err != nil {
		return out, fmt.Errorf("unrealised p&l: %w", err)
	}
	out.BaseCurrency = p.BaseCurrency
	pack, err := agents.ValuationPack(ctx, c.DB, in.PricingPackID, asOf)
	if err != nil {
		return out, err
	}
	out.PackDate = day(pack.Date)
	open, err := storage.LotsAsOf(ctx, c.DB, p.ID, pack.Date)
	if err != nil {
		return out, fmt.Errorf("unrealised p&l of portfolio %s: %w", p.ID, err)
	}
	var ids []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, l := range open {
		if !seen[l.SecurityID] {
			seen[l.SecurityID] = true
			ids = append(ids, l.SecurityID)
		}
	}
	prices, err := storage.PricesInPack(ctx, c.DB, pack.ID, ids)
	if err != nil {
		return out, fmt.Errorf("unrealised p&l of portfolio %s: %w", p.ID, err)
	}
	rates := map[string]decimal.Decimal{}
	posIdx := map[uuid.UUID]int{}
	allPL := true
	for _, l := range open {
		pr := prices[l.SecurityID]
		rate, ok := rates[pr.Currency]
		if !ok {
			if rate, err = storage.FXRate(ctx, c.DB, pack.ID, pr.Currency, p.BaseCurrency); err != nil {
				return out, fmt.Errorf("value %s in portfolio %s: %w", l.Symbol, p.ID, err)
			}
			rates[pr.Currency] = rate
		}
		ul := valueLot(l, pr, rate, pack)
		out.Lots = append(out.Lots, ul)
		out.MarketValue = out.MarketValue.Add(ul.MarketValue)
		if ul.UnrealizedPL == nil {
			allPL = false
			out.LotsWithoutPL++
		} else {
			pl := *ul.UnrealizedPL
			if pl.IsPositive() {
				out.UnrealizedGains = out.UnrealizedGains.Add(pl)
			} else {
				out.UnrealizedLosses = out.UnrealizedLosses.Add(pl)
			}
			if ul.Term == TermLong {
				out.LongTermPL = out.LongTermPL.Add(pl)
			} else {
				out.ShortTermPL = out.ShortTermPL.Add(pl)
			}
		}
		i, ok := posIdx[l.SecurityID]
		if !ok {
			i = len(out.Positions)
			posIdx[l.SecurityID] = i
			zero := decimal.Zero
			out.Positions = append(out.Positions, UnrealizedPosition{SecurityID: l.SecurityID, Symbol: l.Symbol,
				CostCurrency: l.Currency, PriceCurrency: pr.Currency, UnrealizedPLLocal: &zero, UnrealizedPL: &zero,
				ShortTermPL: &zero, LongTermPL: &zero})
		}
		addLot(&out.Positions[i], ul)
	}
	for i := range out.Positions {
		ps := &out.Positions[i]
		if ps.UnrealizedPLLocal != nil && !ps.CostBasis.IsZero() {
			r := ps.UnrealizedPLLocal.DivRound(ps.CostBasis, returnScale)
			ps.UnrealizedReturn = &r
		}
	}
	if allPL {
		total := out.UnrealizedGains.Add(out.UnrealizedLosses)
		out.UnrealizedPL = &total
	}
	out.Provenance = c.ProvenanceAt(pack.ID, asOf, "open lots at the end of the pack's date valued at the pack's closes and FX rates",
		"money in exact decimals; base-currency P&L = local P&L × the pack's rate; return = P&L / cost basis, a decimal fraction; "+
			"long term when held more than 365 days")
	return out, nil
}

// valueLot values one lot; its P&L is null when the close is quoted in
// another currency than the lot's cost, never converted at a made-up rate.
func valueLot(l storage.Lot, pr storage.Price, rate decimal.Decimal, pack storage.Pack) UnrealizedLot {
	days := lots.CalendarDays(l.AcquiredDate, pack.Date)
	ul := UnrealizedLot{LotID: l.ID, SecurityID: l.SecurityID, Symbol: l.Symbol, Acquired: day(l.AcquiredDate), HoldingDays: days,
		Term: TermShort, Quantity: l.QuantityOpen, CostBasis: l.CostBasisOpen, CostPerShare: l.CostPerShare, CostCurrency: l.Currency,
		Close: pr.Close, PriceCurrency: pr.Currency, FXRate: rate}
	if days > lots.LongTermHoldingDays {
		ul.Term = TermLong
	}
	ul.MarketValueLocal = l.QuantityOpen.Mul(pr.Close)
	ul.MarketValue = ul.MarketValueLocal.Mul(rate)
	if pr.Currency != l.Currency {
		ul.NullReason = fmt.Sprintf("the close is quoted in %s and the cost in %s", pr.Currency, l.Currency)
		return ul
	}
	local := ul.MarketValueLocal.Sub(l.CostBasisOpen)
	base := local.Mul(rate)
	ul.UnrealizedPLLocal, ul.UnrealizedPL = &local, &base
	if !l.CostBasisOpen.IsZero() {
		r := local.DivRound(l.CostBasisOpen, returnScale)
		ul.UnrealizedReturn = &r
	}
	return ul
}

// addLot adds a lot to its position's sums; a lot without a P&L makes the
// position's P&L null.
func addLot(ps *UnrealizedPosition, ul UnrealizedLot) {
	ps.Lots++
	ps.Quantity = ps.Quantity.Add(ul.Quantity)
	ps.CostBasis = ps.CostBasis.Add(ul.CostBasis)
	ps.MarketValueLocal = ps.MarketValueLocal.Add(ul.MarketValueLocal)
	ps.MarketValue = ps.MarketValue.Add(ul.MarketValue)
	if ul.Term == TermLong {
		ps.LongTermQuantity = ps.LongTermQuantity.Add(ul.Quantity)
	} else {
		ps.ShortTermQuantity = ps.ShortTermQuantity.Add(ul.Quantity)
	}
	if ul.UnrealizedPL == nil {
		ps.UnrealizedPLLocal, ps.UnrealizedPL, ps.ShortTermPL, ps.LongTermPL = nil, nil, nil, nil
		ps.NullReason = ul.NullReason
		return
	}
	if ps.UnrealizedPL == nil {
		return
	}
	l, b := ps.UnrealizedPLLocal.Add(*ul.UnrealizedPLLocal), ps.UnrealizedPL.Add(*ul.UnrealizedPL)
	ps.UnrealizedPLLocal, ps.UnrealizedPL = &l, &b
	if ul.Term == TermLong {
		v := ps.LongTermPL.Add(*ul.UnrealizedPL)
		ps.LongTermPL = &v
	} else {
		v := ps.ShortTermPL.Add(*ul.UnrealizedPL)
		ps.ShortTermPL = &v
	}
}
