package tax

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
	"github.com/dawsos/dawsos/storage/lots"
)

func (a *Tax) identifyLosses() agents.Def {
	return agents.Read(agents.Meta{
		Name: "tax.identify_losses",
		Description: "Harvesting candidates: open lots whose sale at the pack's close would realise a loss above a threshold in the base currency, " +
			"with the loss split short and long term and the days held (whole positions under AVERAGE_COST, where a sale relieves at the pooled average).",
		Reads: []string{"portfolios", "lots", "transactions", "securities", "pricing_packs", "prices", "fx_rates"},
		Codes: []string{agents.CodeNotFound, agents.CodeMissingPrice, agents.CodeMissingFX, agents.CodePricingPackWarming},
	}, a.IdentifyLosses)
}

// IdentifyLossesInput names the portfolio, the pack and the threshold.
type IdentifyLossesInput struct {
	PortfolioID   uuid.UUID       `json:"portfolio_id" doc:"The portfolio."`
	PricingPackID string          `json:"pricing_pack_id" jsonschema:"minLength=1" doc:"The pack whose closes the sales are priced at, normally {{ctx.pricing_pack_id}}."`
	MinLoss       decimal.Decimal `json:"min_loss,omitempty" jsonschema:"default=0" doc:"A candidate's loss in the base currency must be above this (≥ 0)."`
	SecurityID    *uuid.UUID      `json:"security_id,omitempty" doc:"Only this security; it must be held."`
}

// Validate checks what the schema cannot: a decimal string's sign.
func (in IdentifyLossesInput) Validate() error {
	if in.MinLoss.IsNegative() {
		return agents.FieldError("min_loss", "min_loss %s is negative", in.MinLoss)
	}
	return nil
}

// Candidate scopes.
const (
	ScopeLot      = "lot"
	ScopePosition = "position"
)

// LossLine is one lot of a candidate.
type LossLine struct {
	LotID          uuid.UUID       `json:"lot_id"`
	Acquired       string          `json:"acquired"`
	HoldingDays    int             `json:"holding_days" doc:"Calendar days held at the as-of date."`
	Term           string          `json:"term"`
	DaysToLongTerm int             `json:"days_to_long_term" doc:"Days until a sale would be long term; 0 when it already is."`
	Quantity       decimal.Decimal `json:"quantity"`
	Cost           decimal.Decimal `json:"cost" doc:"Basis the sale would relieve, trading currency."`
	Proceeds       decimal.Decimal `json:"proceeds" doc:"quantity × close, trading currency."`
	LossLocal      decimal.Decimal `json:"loss_local" doc:"cost − proceeds, positive for a loss."`
	Loss           decimal.Decimal `json:"loss" doc:"loss_local × fx_rate, base currency."`
}

// LossCandidate is one harvestable sale: a lot, or a whole position under
// AVERAGE_COST. Its fields are those tax.wash_sale_check reads of a
// proposed sale, so the candidates can be passed to it whole.
type LossCandidate struct {
	Scope            string          `json:"scope" doc:"lot: sell this lot (a sale can name it); position: sell the whole position (AVERAGE_COST)."`
	SecurityID       uuid.UUID       `json:"security_id"`
	Symbol           string          `json:"symbol"`
	LotIDs           []uuid.UUID     `json:"lot_ids" doc:"The lot to name in the sale; empty for a position."`
	Acquired         string          `json:"acquired" doc:"The earliest acquisition."`
	HoldingDays      int             `json:"holding_days" doc:"Days held by the earliest lot."`
	Term             string          `json:"term" doc:"short, long or mixed."`
	Quantity         decimal.Decimal `json:"quantity"`
	Price            decimal.Decimal `json:"price" doc:"The pack's close, in currency: the sale price assumed."`
	Currency         string          `json:"currency"`
	FXRate           decimal.Decimal `json:"fx_rate" doc:"1 currency in the base currency, from the pack."`
	CostBasis        decimal.Decimal `json:"cost_basis" doc:"Basis relieved, trading currency."`
	MarketValueLocal decimal.Decimal `json:"market_value_local"`
	MarketValue      decimal.Decimal `json:"market_value" doc:"Base currency."`
	LossLocal        decimal.Decimal `json:"loss_local" doc:"Positive, trading currency."`
	Loss             decimal.Decimal `json:"loss" doc:"Positive, base currency."`
	ShortTermLoss    decimal.Decimal `json:"short_term_loss" doc:"Part of loss on short-term lots."`
	LongTermLoss     decimal.Decimal `json:"long_term_loss" doc:"Part of loss on long-term lots."`
	Lines            []LossLine      `json:"lines"`
}

// NotEvaluated is a lot whose loss cannot be stated.
type NotEvaluated struct {
	LotID  uuid.UUID `json:"lot_id"`
	Symbol string    `json:"symbol"`
	Reason string    `json:"reason"`
}

// IdentifyLossesOutput lists the candidates, largest loss first.
type IdentifyLossesOutput struct {
	PortfolioID     uuid.UUID         `json:"portfolio_id"`
	BaseCurrency    string            `json:"base_currency"`
	CostBasisMethod string            `json:"cost_basis_method"`
	AsOfDate        string            `json:"asof_date"`
	PricingPackID   string            `json:"pricing_pack_id"`
	MinLoss         decimal.Decimal   `json:"min_loss"`
	Candidates      []LossCandidate   `json:"candidates" doc:"By loss, largest first."`
	TotalLoss       decimal.Decimal   `json:"total_loss" doc:"Σ loss of the candidates, base currency."`
	ShortTermLoss   decimal.Decimal   `json:"short_term_loss"`
	LongTermLoss    decimal.Decimal   `json:"long_term_loss"`
	Evaluated       int               `json:"evaluated" doc:"Lots or positions priced."`
	BelowThreshold  int               `json:"below_threshold" doc:"Losses not above min_loss."`
	NotEvaluated    []NotEvaluated    `json:"not_evaluated"`
	Provenance      agents.Provenance `json:"provenance"`
}

// IdentifyLosses implements tax.identify_losses.
func (a *Tax) IdentifyLosses(ctx context.Context, c *agents.Call, in IdentifyLossesInput) (IdentifyLossesOutput, error) {
	out := IdentifyLossesOutput{PortfolioID: in.PortfolioID, PricingPackID: in.PricingPackID, MinLoss: in.MinLoss,
		Candidates: []LossCandidate{}, NotEvaluated: []NotEvaluated{}}
	asOf, err := c.AsOfOrToday(a.deps.Now)
	if err != nil {
		return out, err
	}
	p, err := storage.GetPortfolio(ctx, c.DB, in.PortfolioID)
	if err != nil {
		return out, fmt.Errorf("identify losses: %w", err)
	}
	out.BaseCurrency, out.CostBasisMethod, out.AsOfDate = p.BaseCurrency, p.CostBasisMethod, day(asOf)
	pack, err := agents.ValuationPack(ctx, c.DB, in.PricingPackID, asOf)
	if err != nil {
		return out, err
	}
	open, err := heldLots(ctx, c.DB, p, in.SecurityID, asOf)
	if err != nil {
		return out, err
	}
	bySec, ids := bySecurity(open)
	prices, err := storage.PricesInPack(ctx, c.DB, pack.ID, ids)
	if err != nil {
		return out, fmt.Errorf("identify losses in portfolio %s: %w", p.ID, err)
	}
	rates := newPackRates(c.DB, pack.ID, p.BaseCurrency)
	method := lots.Method(p.CostBasisMethod)
	for _, sec := range ids {
		ls, pr := bySec[sec], prices[sec]
		if pr.Currency != ls[0].Currency {
			for _, l := range ls {
				out.NotEvaluated = append(out.NotEvaluated, NotEvaluated{LotID: l.ID, Symbol: l.Symbol,
					Reason: fmt.Sprintf("the close is quoted in %s and the cost in %s", pr.Currency, l.Currency)})
			}
			continue
		}
		rate, err := rates.rate(ctx, pr.Currency)
		if err != nil {
			return out, fmt.Errorf("value %s in portfolio %s: %w", ls[0].Symbol, p.ID, err)
		}
		engine := toLots(ls)
		type sale struct {
			qty   decimal.Decimal
			named []uuid.UUID
			scope string
		}
		var sales []sale
		if method == lots.AverageCost {
			q := decimal.Zero
			for _, l := range ls {
				q = q.Add(l.QuantityOpen)
			}
			sales = append(sales, sale{q, nil, ScopePosition})
		} else {
			for _, l := range ls {
				sales = append(sales, sale{l.QuantityOpen, []uuid.UUID{l.ID}, ScopeLot})
			}
		}
		for _, s := range sales {
			out.Evaluated++
			g, err := simulateSale(engine, s.qty, method, s.named, asOf, s.qty.Mul(pr.Close))
			if err != nil {
				return out, fmt.Errorf("price a sale of %s %s: %w", s.qty, ls[0].Symbol, err)
			}
			if !g.Total.IsNegative() {
				continue
			}
			cand := candidateOf(ls[0], s.scope, s.named, s.qty, pr.Close, rate, g, asOf)
			if !cand.Loss.GreaterThan(in.MinLoss) {
				out.BelowThreshold++
				continue
			}
			out.Candidates = append(out.Candidates, cand)
			out.TotalLoss = out.TotalLoss.Add(cand.Loss)
			out.ShortTermLoss = out.ShortTermLoss.Add(cand.ShortTermLoss)
			out.LongTermLoss = out.LongTermLoss.Add(cand.LongTermLoss)
		}
	}
	sort.SliceStable(out.Candidates, func(i, j int) bool {
		if c := out.Candidates[i].Loss.Cmp(out.Candidates[j].Loss); c != 0 {
			return c > 0
		}
		return out.Candidates[i].Symbol < out.Candidates[j].Symbol
	})
	out.Provenance = c.ProvenanceAt(pack.ID, asOf,
		"a sale of each open lot (under AVERAGE_COST each whole position) at the pack's close on the as-of date, relieved by storage/lots as the ledger would",
		"loss = basis relieved − quantity × close (before commissions), base currency at the pack's rate; a candidate has a loss above min_loss; "+
			"long term when held more than 365 days")
	return out, nil
}

// candidateOf renders a simulated losing sale of l's security.
func candidateOf(l storage.Lot, scope string, named []uuid.UUID, qty, price, rate decimal.Decimal, g lots.Sale, asOf time.Time) LossCandidate {
	c := LossCandidate{Scope: scope, SecurityID: l.SecurityID, Symbol: l.Symbol, LotIDs: append([]uuid.UUID{}, named...),
		Quantity: qty, Price: price, Currency: l.Currency, FXRate: rate, CostBasis: g.Cost, MarketValueLocal: g.Proceeds,
		MarketValue: g.Proceeds.Mul(rate), LossLocal: g.Total.Neg(), Loss: g.Total.Neg().Mul(rate), Lines: []LossLine{}}
	terms := map[string]bool{}
	for _, ln := range g.Lines {
		longFrom := ln.Acquired.AddDate(0, 0, lots.LongTermHoldingDays+1)
		line := LossLine{LotID: ln.LotID, Acquired: day(ln.Acquired), HoldingDays: ln.HoldingDays, Term: termOf(ln.HoldingDays),
			DaysToLongTerm: max(0, lots.CalendarDays(asOf, longFrom)), Quantity: ln.Quantity, Cost: ln.Cost, Proceeds: ln.Proceeds,
			LossLocal: ln.Gain.Neg(), Loss: ln.Gain.Neg().Mul(rate)}
		terms[line.Term] = true
		if line.Term == TermLong {
			c.LongTermLoss = c.LongTermLoss.Add(line.Loss)
		} else {
			c.ShortTermLoss = c.ShortTermLoss.Add(line.Loss)
		}
		if c.Acquired == "" || line.HoldingDays > c.HoldingDays {
			c.Acquired, c.HoldingDays = line.Acquired, line.HoldingDays
		}
		c.Lines = append(c.Lines, line)
	}
	switch {
	case len(terms) > 1:
		c.Term = TermMixed
	case terms[TermLong]:
		c.Term = TermLong
	default:
		c.Term = TermShort
	}
	return c
}
