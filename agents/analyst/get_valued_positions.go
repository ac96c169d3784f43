package analyst

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Analyst) getValuedPositions() agents.Def {
	return agents.Read(agents.Meta{
		Name:        "portfolio.get_valued_positions",
		Description: "Positions and cash of a portfolio valued with the run's pricing pack, in one step.",
		Reads:       []string{"portfolios", "lots", "transactions", "securities", "prices", "fx_rates", "pricing_packs"},
		Codes:       []string{agents.CodeNotFound, agents.CodeMissingPrice, agents.CodeMissingFX, agents.CodePricingPackWarming},
	}, a.GetValuedPositions)
}

// ValuedPositionsInput names a portfolio and the pack to value it with.
type ValuedPositionsInput struct {
	PortfolioID   uuid.UUID `json:"portfolio_id" doc:"The portfolio."`
	PricingPackID string    `json:"pricing_pack_id" jsonschema:"minLength=1" doc:"The pack to value with, normally {{ctx.pricing_pack_id}}."`
}

// GetValuedPositions implements portfolio.get_valued_positions: the
// positions held at the pack's date and the cash, valued with the pack.
func (a *Analyst) GetValuedPositions(ctx context.Context, c *agents.Call, in ValuedPositionsInput) (ValuedPositionsOutput, error) {
	v, err := storage.ValuePortfolio(ctx, c.DB, in.PortfolioID, in.PricingPackID)
	if err != nil {
		return ValuedPositionsOutput{}, fmt.Errorf("value portfolio %s with pack %s: %w", in.PortfolioID, in.PricingPackID, err)
	}
	out := ValuedPositionsOutput{
		PortfolioID: in.PortfolioID, PricingPackID: v.PackID, AsOfDate: v.AsOf.Format(time.DateOnly),
		BaseCurrency: v.BaseCurrency, Positions: []ValuedPosition{}, Cash: []CashLine{},
		PositionsValue: v.PositionsValue, CashValue: v.CashValue, TotalValue: v.Total,
	}
	for _, p := range v.Positions {
		vp := valuePosition(positionOut(p.Position), p.Close, p.PriceCurrency, p.FXRate)
		vp.Weight = p.Weight
		out.Positions = append(out.Positions, vp)
	}
	for _, c := range v.Cash {
		out.Cash = append(out.Cash, CashLine{Currency: c.Currency, Amount: c.Amount, FXRate: c.FXRate, BaseValue: c.BaseValue})
	}
	out.Provenance = c.Provenance("storage.ValuePortfolio: open lots as of the pack's date, valued with the pack", valuationConvention)
	out.Provenance.PricingPackID, out.Provenance.AsOfDate = v.PackID, v.AsOf.Format(time.DateOnly)
	return out, nil
}
