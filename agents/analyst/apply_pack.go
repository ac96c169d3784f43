package analyst

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dawsos/dawsos/agents"
	"github.com/dawsos/dawsos/storage"
)

func (a *Analyst) applyPack() agents.Def {
	return agents.Read(agents.Meta{
		Name:        "pricing.apply_pack",
		Description: "Values given positions with a pricing pack's closes and FX rates: local value, market value in the base currency, unrealised P&L, weight, total.",
		Reads:       []string{"prices", "fx_rates", "pricing_packs", "securities"},
		Codes:       []string{agents.CodeNotFound, agents.CodeMissingPrice, agents.CodeMissingFX},
	}, a.ApplyPack)
}

// ApplyPackInput values given positions with a pack.
type ApplyPackInput struct {
	Positions     []Position `json:"positions" doc:"Positions, as ledger.positions returns them."`
	PricingPackID string     `json:"pricing_pack_id" jsonschema:"minLength=1" doc:"The pack to value with."`
	BaseCurrency  string     `json:"base_currency" jsonschema:"pattern=^[A-Z]{3}$" doc:"The currency to value in."`
}

// ApplyPack implements pricing.apply_pack: value = quantity × close ×
// rate(close currency → base); a missing close or rate is an error naming
// the security or the pair, never a 0 or a 1.
func (a *Analyst) ApplyPack(ctx context.Context, c *agents.Call, in ApplyPackInput) (ValuedPositionsOutput, error) {
	out := ValuedPositionsOutput{PricingPackID: in.PricingPackID, AsOfDate: c.Run.AsOfDate, BaseCurrency: in.BaseCurrency,
		Positions: []ValuedPosition{}, Cash: []CashLine{}}
	ids := make([]uuid.UUID, len(in.Positions))
	for i, p := range in.Positions {
		ids[i] = p.SecurityID
	}
	prices, err := storage.PricesInPack(ctx, c.DB, in.PricingPackID, ids)
	if err != nil {
		return out, fmt.Errorf("apply pack %s: %w", in.PricingPackID, err)
	}
	rates := map[string]decimal.Decimal{}
	for _, p := range in.Positions {
		pr := prices[p.SecurityID]
		rate, ok := rates[pr.Currency]
		if !ok {
			rate, err = storage.FXRate(ctx, c.DB, in.PricingPackID, pr.Currency, in.BaseCurrency)
			if err != nil {
				return out, fmt.Errorf("value %s with pack %s: %w", p.Symbol, in.PricingPackID, err)
			}
			rates[pr.Currency] = rate
		}
		out.Positions = append(out.Positions, valuePosition(p, pr.Close, pr.Currency, rate))
	}
	for _, p := range out.Positions {
		out.PositionsValue = out.PositionsValue.Add(p.MarketValue)
	}
	out.TotalValue = out.PositionsValue
	setWeights(&out)
	out.Provenance = c.Provenance("the given positions valued with the pack", valuationConvention)
	out.Provenance.PricingPackID = in.PricingPackID
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
