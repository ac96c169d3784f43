package analyst

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Analyst) positionDetails() agents.Def {
	return agents.Read(agents.Meta{
		Name: "position.get_details",
		Description: "One position of a portfolio at the run's pricing pack: the security's row, quantity, cost, open lots, " +
			"close, FX rate, market value, unrealised P&L and weight. not_found for an unknown portfolio or security, " +
			"and, with a message saying so, for a security that exists but is not held.",
		Reads: []string{"portfolios", "securities", "lots", "transactions", "pricing_packs", "prices", "fx_rates"},
		Codes: []string{agents.CodeNotFound, agents.CodeMissingPrice, agents.CodeMissingFX, agents.CodePricingPackWarming},
	}, a.PositionDetails)
}

// PositionInput names one position: a portfolio and a security.
type PositionInput struct {
	PortfolioID uuid.UUID `json:"portfolio_id" doc:"The portfolio."`
	SecurityID  uuid.UUID `json:"security_id" doc:"The security held."`
}

// SecurityInfo is a security's row.
type SecurityInfo struct {
	ID       uuid.UUID `json:"id"`
	Symbol   string    `json:"symbol"`
	Name     string    `json:"name"`
	Type     string    `json:"type" doc:"EQUITY, ETF, BOND, FUND or CASH."`
	Exchange string    `json:"exchange"`
	Currency string    `json:"currency" doc:"The trading currency: lots, trades and closes are in it."`
	Sector   string    `json:"sector" doc:"From securities.sector; empty when unknown."`
	Industry string    `json:"industry"`
	Country  string    `json:"country"`
	Active   bool      `json:"active"`
}

func securityInfo(s storage.Security) SecurityInfo {
	return SecurityInfo{ID: s.ID, Symbol: s.Symbol, Name: s.Name, Type: s.Type, Exchange: s.Exchange, Currency: s.Currency,
		Sector: s.Sector, Industry: s.Industry, Country: s.Country, Active: s.Active}
}

// PositionDetailsOutput is one valued position with its lots.
type PositionDetailsOutput struct {
	PortfolioID  uuid.UUID    `json:"portfolio_id"`
	BaseCurrency string       `json:"base_currency"`
	Security     SecurityInfo `json:"security"`
	// SecurityType and IsEquity repeat security.type at the top level for
	// pattern conditions (fundamentals and comparables are for equities).
	SecurityType string `json:"security_type" doc:"The security's type (EQUITY, ETF, BOND, FUND, CASH), for pattern conditions."`
	IsEquity     bool   `json:"is_equity" doc:"security_type == EQUITY: whether fundamentals and comparables apply."`
	// Position is the position valued with the run's pack (the same figures
	// as a line of portfolio.get_valued_positions).
	Position       ValuedPosition    `json:"position"`
	Lots           []LotDetail       `json:"lots" doc:"The open lots behind the position, oldest first."`
	PortfolioValue decimal.Decimal   `json:"portfolio_value" doc:"The portfolio's total value (positions and cash) in the base currency; weight = market_value / portfolio_value."`
	ValuedOn       string            `json:"valued_on" doc:"The pack's date: lots are those open at its end."`
	Provenance     agents.Provenance `json:"provenance"`
}

// PositionDetails implements position.get_details.
func (a *Analyst) PositionDetails(ctx context.Context, c *agents.Call, in PositionInput) (PositionDetailsOutput, error) {
	pack, err := runPack(ctx, c)
	if err != nil {
		return PositionDetailsOutput{}, err
	}
	h, err := heldPosition(ctx, c.DB, in.PortfolioID, in.SecurityID, pack.Date)
	if err != nil {
		return PositionDetailsOutput{}, err
	}
	v, err := storage.ValuePortfolio(ctx, c.DB, in.PortfolioID, pack.ID)
	if err != nil {
		return PositionDetailsOutput{}, fmt.Errorf("value portfolio %s with pack %s: %w", in.PortfolioID, pack.ID, err)
	}
	out := PositionDetailsOutput{
		PortfolioID: in.PortfolioID, BaseCurrency: v.BaseCurrency, Security: securityInfo(h.Security),
		SecurityType: h.Security.Type, IsEquity: h.Security.Type == storage.SecurityEquity, Lots: []LotDetail{},
		PortfolioValue: v.Total, ValuedOn: pack.Date.Format(time.DateOnly),
		Provenance: c.Provenance("open lots at the end of the pack's date valued with the pack's close and FX rate",
			"market value = quantity × close × rate(close currency → base); weight = market value / portfolio total (cash included), decimal fraction; "+
				"unrealised P&L = local value − cost, translated at the pack's rate; lots in the trading currency"),
	}
	found := false
	for _, p := range v.Positions {
		if p.SecurityID == in.SecurityID {
			out.Position = valuePosition(positionOut(p.Position), p.Close, p.PriceCurrency, p.FXRate)
			out.Position.Weight = p.Weight
			found = true
		}
	}
	if !found {
		return PositionDetailsOutput{}, agents.Errorf(agents.CodeNotFound, "position not held: the valuation of portfolio %s with pack %s has no %s",
			in.PortfolioID, pack.ID, h.Security.Symbol)
	}
	lots, err := storage.LotsAsOf(ctx, c.DB, in.PortfolioID, pack.Date)
	if err != nil {
		return PositionDetailsOutput{}, err
	}
	for _, l := range lots {
		if l.SecurityID != in.SecurityID {
			continue
		}
		out.Lots = append(out.Lots, LotDetail{
			LotID: l.ID, SecurityID: l.SecurityID, Symbol: l.Symbol, Acquired: l.AcquiredDate.Format(time.DateOnly),
			QuantityOpen: l.QuantityOpen, CostPerShare: l.CostPerShare, CostBasis: l.CostBasisOpen, Currency: l.Currency,
		})
	}
	return out, nil
}
