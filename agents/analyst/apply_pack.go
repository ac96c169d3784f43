package analyst

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

// ApplyPackInput values given positions with a pack.
type ApplyPackInput struct {
	Positions     []Position `json:"positions"`
	PricingPackID string     `json:"pricing_pack_id"`
	BaseCurrency  string     `json:"base_currency"`
}

// Validate checks the arguments before any query.
func (in ApplyPackInput) Validate() error {
	if in.PricingPackID == "" {
		return agents.FieldError("pricing_pack_id", "pricing_pack_id is empty")
	}
	if len(in.BaseCurrency) != 3 {
		return agents.FieldError("base_currency", "base_currency %q is not a 3-letter code", in.BaseCurrency)
	}
	for i, p := range in.Positions {
		if p.SecurityID == uuid.Nil {
			return agents.FieldError(fmt.Sprintf("positions[%d].security_id", i), "security_id is missing")
		}
	}
	return nil
}

// ApplyPack implements pricing.apply_pack: value = quantity × close ×
// rate(close currency → base); a missing close or rate is an error naming
// the security or the pair, never a 0 or a 1.
func (a *Analyst) ApplyPack(ctx context.Context, rc agents.RunContext, in ApplyPackInput) (ValuedPositionsOutput, error) {
	out := ValuedPositionsOutput{PricingPackID: in.PricingPackID, AsOfDate: rc.AsOfDate, BaseCurrency: in.BaseCurrency,
		Positions: []ValuedPosition{}, Cash: []CashLine{}}
	err := a.db.Tx(ctx, func(tx pgx.Tx) error {
		ids := make([]uuid.UUID, len(in.Positions))
		for i, p := range in.Positions {
			ids[i] = p.SecurityID
		}
		prices, err := storage.PricesInPack(ctx, tx, in.PricingPackID, ids)
		if err != nil {
			return err
		}
		rates := map[string]decimal.Decimal{}
		for _, p := range in.Positions {
			pr := prices[p.SecurityID]
			rate, ok := rates[pr.Currency]
			if !ok {
				rate, err = storage.FXRate(ctx, tx, in.PricingPackID, pr.Currency, in.BaseCurrency)
				if err != nil {
					return fmt.Errorf("value %s: %w", p.Symbol, err)
				}
				rates[pr.Currency] = rate
			}
			out.Positions = append(out.Positions, valuePosition(p, pr.Close, pr.Currency, rate))
		}
		return nil
	})
	if err != nil {
		return ValuedPositionsOutput{}, agents.FromStorage(err, "apply pack %s", in.PricingPackID)
	}
	for _, p := range out.Positions {
		out.PositionsValue = out.PositionsValue.Add(p.MarketValue)
	}
	out.TotalValue = out.PositionsValue
	setWeights(&out)
	return out, nil
}

func valuePosition(p Position, closePrice decimal.Decimal, ccy string, rate decimal.Decimal) ValuedPosition {
	vp := ValuedPosition{Position: p, Close: closePrice, PriceCurrency: ccy, FXRate: rate}
	vp.LocalValue = p.Quantity.Mul(closePrice)
	vp.MarketValue = vp.LocalValue.Mul(rate)
	if ccy == p.Currency {
		local := vp.LocalValue.Sub(p.CostBasis)
		base := local.Mul(rate)
		vp.UnrealizedPLLocal, vp.UnrealizedPL = &local, &base
	}
	return vp
}

func setWeights(out *ValuedPositionsOutput) {
	if out.TotalValue.IsZero() {
		return
	}
	for i := range out.Positions {
		out.Positions[i].Weight = out.Positions[i].MarketValue.DivRound(out.TotalValue, weightScale)
	}
}
