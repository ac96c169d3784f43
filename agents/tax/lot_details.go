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

func (a *Tax) lotDetails() agents.Def {
	return agents.Read(agents.Meta{
		Name: "tax.lot_details",
		Description: "Open tax lots of a portfolio (or of one security) at the run's date: acquisition date, quantity, cost per share and in total, " +
			"market value at the pack's close, unrealised gain, days held and short or long term.",
		Reads: []string{"portfolios", "lots", "transactions", "securities", "pricing_packs", "prices", "fx_rates"},
		Codes: []string{agents.CodeNotFound, agents.CodeMissingPrice, agents.CodeMissingFX, agents.CodePricingPackWarming},
	}, a.LotDetails)
}

// LotDetailsInput names the portfolio, the pack and optionally a security.
type LotDetailsInput struct {
	PortfolioID   uuid.UUID  `json:"portfolio_id" doc:"The portfolio."`
	PricingPackID string     `json:"pricing_pack_id" jsonschema:"minLength=1" doc:"The pack to value with, normally {{ctx.pricing_pack_id}}."`
	SecurityID    *uuid.UUID `json:"security_id,omitempty" doc:"Only this security's lots; it must be held."`
}

// TaxLot is one open lot.
type TaxLot struct {
	LotID            uuid.UUID        `json:"lot_id" doc:"The id of the BUY (or transfer in) that opened it."`
	SecurityID       uuid.UUID        `json:"security_id"`
	Symbol           string           `json:"symbol"`
	Acquired         string           `json:"acquired" doc:"YYYY-MM-DD."`
	HoldingDays      int              `json:"holding_days" doc:"Calendar days from acquired to the as-of date."`
	Term             string           `json:"term" doc:"long when held more than 365 days, else short."`
	LongTermFrom     string           `json:"long_term_from" doc:"The first day on which a sale is long term: acquired + 366 days."`
	DaysToLongTerm   int              `json:"days_to_long_term" doc:"Days from the as-of date to long_term_from; 0 when already long term."`
	QuantityOriginal decimal.Decimal  `json:"quantity_original" doc:"Bought, after any splits."`
	Quantity         decimal.Decimal  `json:"quantity" doc:"Still open."`
	CostPerShare     decimal.Decimal  `json:"cost_per_share"`
	CostBasis        decimal.Decimal  `json:"cost_basis" doc:"Cost of the open quantity, fees included, in currency."`
	Currency         string           `json:"currency" doc:"The lot's (trading) currency."`
	Close            decimal.Decimal  `json:"close" doc:"The pack's close, in price_currency."`
	PriceCurrency    string           `json:"price_currency"`
	FXRate           decimal.Decimal  `json:"fx_rate" doc:"1 price_currency in the base currency, from the pack."`
	MarketValueLocal decimal.Decimal  `json:"market_value_local" doc:"quantity × close, price_currency."`
	MarketValue      decimal.Decimal  `json:"market_value" doc:"market_value_local × fx_rate, base currency."`
	GainLocal        *decimal.Decimal `json:"unrealized_gain_local" doc:"market_value_local − cost_basis; null when the close is quoted in another currency than the cost."`
	Gain             *decimal.Decimal `json:"unrealized_gain" doc:"unrealized_gain_local × fx_rate, base currency; null as above."`
	NullReason       string           `json:"null_reason,omitempty" doc:"Why the gain is null."`
}

// LotTotals sums the lots in the base currency.
type LotTotals struct {
	Lots             int             `json:"lots"`
	MarketValue      decimal.Decimal `json:"market_value"`
	UnrealizedGains  decimal.Decimal `json:"unrealized_gains" doc:"Σ of the positive gains."`
	UnrealizedLosses decimal.Decimal `json:"unrealized_losses" doc:"Σ of the negative gains (≤ 0)."`
	ShortTerm        decimal.Decimal `json:"short_term" doc:"Net unrealised gain of the short-term lots."`
	LongTerm         decimal.Decimal `json:"long_term" doc:"Net unrealised gain of the long-term lots."`
	Net              decimal.Decimal `json:"net" doc:"short_term + long_term (lots with a null gain left out)."`
	LotsWithoutGain  int             `json:"lots_without_gain"`
}

// LotDetailsOutput lists the open lots.
type LotDetailsOutput struct {
	PortfolioID     uuid.UUID         `json:"portfolio_id"`
	BaseCurrency    string            `json:"base_currency"`
	CostBasisMethod string            `json:"cost_basis_method" doc:"The portfolio's relief method."`
	AsOfDate        string            `json:"asof_date" doc:"The date lots and holding periods are taken at."`
	PricingPackID   string            `json:"pricing_pack_id"`
	PackDate        string            `json:"pack_date"`
	Lots            []TaxLot          `json:"lots" doc:"By symbol, then acquisition."`
	Totals          LotTotals         `json:"totals"`
	Provenance      agents.Provenance `json:"provenance"`
}

// LotDetails implements tax.lot_details.
func (a *Tax) LotDetails(ctx context.Context, c *agents.Call, in LotDetailsInput) (LotDetailsOutput, error) {
	out := LotDetailsOutput{PortfolioID: in.PortfolioID, PricingPackID: in.PricingPackID, Lots: []TaxLot{}}
	asOf, err := c.AsOfOrToday(a.deps.Now)
	if err != nil {
		return out, err
	}
	p, err := storage.GetPortfolio(ctx, c.DB, in.PortfolioID)
	if err != nil {
		return out, fmt.Errorf("lot details: %w", err)
	}
	out.BaseCurrency, out.CostBasisMethod, out.AsOfDate = p.BaseCurrency, p.CostBasisMethod, day(asOf)
	pack, err := agents.ValuationPack(ctx, c.DB, in.PricingPackID, asOf)
	if err != nil {
		return out, err
	}
	out.PackDate = day(pack.Date)
	open, err := heldLots(ctx, c.DB, p, in.SecurityID, asOf)
	if err != nil {
		return out, err
	}
	_, ids := bySecurity(open)
	prices, err := storage.PricesInPack(ctx, c.DB, pack.ID, ids)
	if err != nil {
		return out, fmt.Errorf("lot details of portfolio %s: %w", p.ID, err)
	}
	rates := newPackRates(c.DB, pack.ID, p.BaseCurrency)
	for _, l := range open {
		pr := prices[l.SecurityID]
		rate, err := rates.rate(ctx, pr.Currency)
		if err != nil {
			return out, fmt.Errorf("value %s in portfolio %s: %w", l.Symbol, p.ID, err)
		}
		days := lots.CalendarDays(l.AcquiredDate, asOf)
		longFrom := l.AcquiredDate.AddDate(0, 0, lots.LongTermHoldingDays+1)
		tl := TaxLot{LotID: l.ID, SecurityID: l.SecurityID, Symbol: l.Symbol, Acquired: day(l.AcquiredDate), HoldingDays: days,
			Term: termOf(days), LongTermFrom: day(longFrom), DaysToLongTerm: max(0, lots.CalendarDays(asOf, longFrom)),
			QuantityOriginal: l.QuantityOriginal, Quantity: l.QuantityOpen, CostPerShare: l.CostPerShare, CostBasis: l.CostBasisOpen,
			Currency: l.Currency, Close: pr.Close, PriceCurrency: pr.Currency, FXRate: rate}
		tl.MarketValueLocal = l.QuantityOpen.Mul(pr.Close)
		tl.MarketValue = tl.MarketValueLocal.Mul(rate)
		out.Totals.Lots++
		out.Totals.MarketValue = out.Totals.MarketValue.Add(tl.MarketValue)
		if pr.Currency != l.Currency {
			tl.NullReason = fmt.Sprintf("the close is quoted in %s and the cost in %s", pr.Currency, l.Currency)
			out.Totals.LotsWithoutGain++
		} else {
			local := tl.MarketValueLocal.Sub(l.CostBasisOpen)
			base := local.Mul(rate)
			tl.GainLocal, tl.Gain = &local, &base
			if base.IsNegative() {
				out.Totals.UnrealizedLosses = out.Totals.UnrealizedLosses.Add(base)
			} else {
				out.Totals.UnrealizedGains = out.Totals.UnrealizedGains.Add(base)
			}
			if tl.Term == TermLong {
				out.Totals.LongTerm = out.Totals.LongTerm.Add(base)
			} else {
				out.Totals.ShortTerm = out.Totals.ShortTerm.Add(base)
			}
			out.Totals.Net = out.Totals.Net.Add(base)
		}
		out.Lots = append(out.Lots, tl)
	}
	out.Provenance = c.ProvenanceAt(pack.ID, asOf, "open lots at the end of the as-of date (storage.LotsAsOf) valued at the pack's closes and rates",
		"long term when held more than 365 days (calendar days from acquisition to the as-of date); cost includes fees; "+
			"base-currency gain = local gain × the pack's rate; money in exact decimals")
	return out, nil
}

// heldLots returns the lots open at the end of date, those of one security
// when it is given (not_found when it is not held).
func heldLots(ctx context.Context, db storage.Querier, p storage.Portfolio, securityID *uuid.UUID, date time.Time) ([]storage.Lot, error) {
	all, err := storage.LotsAsOf(ctx, db, p.ID, date)
	if err != nil {
		return nil, fmt.Errorf("lots of portfolio %s: %w", p.ID, err)
	}
	if securityID == nil {
		return all, nil
	}
	var out []storage.Lot
	for _, l := range all {
		if l.SecurityID == *securityID {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return nil, notHeld(ctx, db, p, *securityID, date)
	}
	return out, nil
}
