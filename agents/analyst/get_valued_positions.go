package analyst

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// ValuedPositionsInput names a portfolio and the pack to value it with.
type ValuedPositionsInput struct {
	PortfolioID   uuid.UUID `json:"portfolio_id"`
	PricingPackID string    `json:"pricing_pack_id"`
}

// GetValuedPositions implements portfolio.get_valued_positions: the
// positions held at the pack's date and the cash, valued with the pack.
func (a *Analyst) GetValuedPositions(ctx context.Context, rc agents.RunContext, in ValuedPositionsInput) (ValuedPositionsOutput, error) {
	if in.PricingPackID == "" {
		return ValuedPositionsOutput{}, agents.FieldError("pricing_pack_id", "pricing_pack_id is empty")
	}
	var v storage.Valuation
	err := a.db.Tx(ctx, func(tx pgx.Tx) error {
		var err error
		v, err = storage.ValuePortfolio(ctx, tx, in.PortfolioID, in.PricingPackID)
		return err
	})
	if err != nil {
		return ValuedPositionsOutput{}, agents.FromStorage(err, "value portfolio %s with pack %s", in.PortfolioID, in.PricingPackID)
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
	return out, nil
}
